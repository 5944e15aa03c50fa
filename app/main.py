"""The app factory: ``uvicorn app.main:app`` or the ``ce-serve`` console script.

Models are loaded once in the lifespan (``app.loading``; the server refuses to start without
its default weights); the routes live in ``app/routers``, what they share in ``app/state``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import partial

import anyio.to_thread
import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from app.assets import STATIC_DIR, RevalidatedStaticFiles
from app.errors import add_error_handlers
from app.limits import BodySizeLimit
from app.loading import StartupError, load_server
from app.openapi import DESCRIPTION, openapi_with_settings
from app.protocol import deadline_protocol
from app.routers import health, inpaint, pages
from app.settings import Settings
from app.version import VERSION

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; nothing is loaded until the lifespan starts (so importing is cheap and
    a missing weights file is reported by the server that needs it)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            server = load_server(settings)
        except StartupError as exc:
            log.error("refusing to start: %s", exc)
            raise
        app.state.server = server
        try:
            yield
        finally:
            app.state.server = None
            await anyio.to_thread.run_sync(server.close)

    app = FastAPI(
        title="Context Encoder inpainting",
        version=VERSION,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # pages.swagger_ui serves them from vendored assets instead of a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.server = None
    add_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes)
    if not STATIC_DIR.is_dir():
        log.warning("static folder %s is missing; the editor page will lack its assets", STATIC_DIR)
    app.mount("/static", RevalidatedStaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    for router in (pages.router, health.router, inpaint.router):
        app.include_router(router)
    app.openapi = partial(openapi_with_settings, app, app.openapi, settings)
    return app


app = create_app()


def parse_settings(argv: Sequence[str] | None = None) -> Settings:
    """``ce-serve``'s flags (``--port 8799``, ``--max-upload-mb 50``, ...; one per setting, ``--help``
    lists them) over the ``CE_*`` environment, as uvicorn does: a flag wins. An unknown flag or a
    value of the wrong type stops with a usage message and exit status 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return Settings(_cli_parse_args=args, _cli_prog_name="ce-serve", _cli_kebab_case=True)
    except ValidationError as exc:
        details = "; ".join(f"--{'-'.join(map(str, e['loc'])).replace('_', '-')}: {e['msg']}" for e in exc.errors())
        print(f"ce-serve: error: {details}", file=sys.stderr)
        raise SystemExit(2) from None


def run(argv: Sequence[str] | None = None) -> None:
    """``ce-serve``: serve on the configured host and port and print where."""
    settings = parse_settings(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    host = settings.host
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    print(f"Context Encoder inpainting: http://{shown}:{settings.port}/  (API docs: /docs)", flush=True)
    uvicorn.run(
        create_app(settings),
        host=host,
        port=settings.port,
        limit_concurrency=settings.max_connections,
        timeout_keep_alive=settings.keep_alive_s,  # idle keep-alive connections are closed
        http=deadline_protocol(settings.header_timeout_s, settings.body_timeout_s),  # and slow requests
    )
