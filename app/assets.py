"""Where the editor's files are: ``static/`` and ``templates/`` sit at the top level of the
checkout (the design card's layout); a wheel and the Docker image carry them inside the
``app`` package, which is looked at first."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.responses import Response
from starlette.types import Scope

HERE = Path(__file__).resolve().parent


def asset_folder(name: str) -> Path:
    packaged = HERE / name
    return packaged if packaged.is_dir() else HERE.parent / name


STATIC_DIR = asset_folder("static")
# The editor is ES modules, which browsers run only when served with a JavaScript type; StaticFiles
# takes the type from mimetypes, which reads the host's tables (on Windows the registry, where .js
# can be text/plain), so pin it.
mimetypes.add_type("text/javascript", ".js")
TEMPLATES = Jinja2Templates(directory=asset_folder("templates"))
# The modules main.js imports, named in the page as modulepreload links: the browser fetches
# them all at once instead of discovering them one import level at a time.
EDITOR_MODULES = sorted(path.name for path in (STATIC_DIR / "editor").glob("*.js") if path.name != "main.js")


class RevalidatedStaticFiles(StaticFiles):
    """Static files that browsers revalidate on every load (``Cache-Control: no-cache``; an
    unchanged file costs a 304). The editor is a set of ES modules: after an upgrade, a cache
    that kept some old modules beside new ones would run a mix that was never tested."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.setdefault("Cache-Control", "no-cache")
        return response
