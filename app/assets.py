"""Where the editor's files are: ``static/`` and ``templates/`` sit at the top level of the
checkout (the design card's layout); a wheel and the Docker image carry them inside the
``app`` package, which is looked at first."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi.templating import Jinja2Templates

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
