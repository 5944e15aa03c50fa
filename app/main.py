"""Routes and the app factory: ``uvicorn app.main:app`` or the ``ce-serve`` console script.

Models are loaded once in the lifespan (the server refuses to start without its default
weights), every refusal is JSON ``{"detail": "..."}`` with a specific 4xx, and anything
unexpected is logged and still answered as JSON.
"""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

import anyio.to_thread
import uvicorn
from fastapi import Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from app.errors import ApiError
from app.limits import BodySizeLimit
from app.registry import Runtime, StartupError, load_runtime
from app.schemas import ErrorResponse, Health, Limits, ModelInfo, QueueStats
from app.service import inpaint_bytes
from app.settings import Settings
from model.masks import MAX_GROW

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent


def asset_folder(name: str) -> Path:
    """``static/`` or ``templates/``: top level in the checkout (the design card's layout),
    inside the ``app`` package once installed from a wheel or in the Docker image."""
    packaged = HERE / name
    return packaged if packaged.is_dir() else HERE.parent / name


TEMPLATES = Jinja2Templates(directory=asset_folder("templates"))
STATIC_DIR = asset_folder("static")
# The editor is ES modules, which browsers run only when served with a JavaScript type; StaticFiles
# takes the type from mimetypes, which reads the host's tables (on Windows the registry, where .js
# can be text/plain), so pin it.
mimetypes.add_type("text/javascript", ".js")

OutputFormat = Literal["png", "jpeg"]
SAFE_HEADER_CHARS = " -_.+()[]@"

DESCRIPTION = """
Fill holes in photographs with a Context Encoder (Pathak et al., CVPR 2016) or, for
comparison, OpenCV's classical Telea / Navier-Stokes inpainting.

* `POST /inpaint` takes a photo and a mask and returns the filled photo.
* `GET /api/models` lists the models with their training and evaluation numbers.
* Every refusal is JSON `{"detail": "<what is wrong>"}` with a specific status code.
"""

INPAINT_DESCRIPTION = """
Fill the masked pixels of `image` and return an image of the **same size** in which only
the masked pixels differ (bit-exact elsewhere).

* **Mask**: a PNG/WebP/JPEG of the same size; **white** pixels (or **opaque** ones, if the
  mask has transparency) are filled.
* **No mask**: the image's own **transparent** pixels are filled (alpha <= 127); the result
  is opaque RGB. An image without transparency and without a mask is a 422.
* **Empty mask** (nothing to fill): 200 with the image returned unchanged (as RGB, in the
  requested format) and `X-Inpaint-Holes: 0`; no model runs.
* EXIF orientation is applied first, so the mask must match the image as browsers show it.
* Limits: request body `CE_MAX_UPLOAD_MB` (413), `CE_MAX_PIXELS` per image (413, checked
  before decoding), `CE_MAX_HOLES` separate holes for context encoders (422). When the
  model's queue is full the answer is 503 with `Retry-After`.
"""

_ERROR_TEXT = {
    400: "Malformed multipart body.",
    413: "Request body over CE_MAX_UPLOAD_MB, image over CE_MAX_PIXELS, or a decompression bomb.",
    415: "The image or mask is not a PNG, JPEG or WebP file.",
    422: (
        "Invalid request: missing image, truncated or corrupt file, mask size differs from the image, "
        "no mask and no transparency, too many holes, unknown model or unsupported format."
    ),
    500: "Unexpected server error (logged).",
    503: "The model's queue is full or the server is starting / stopping; retry after Retry-After seconds.",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorResponse, "description": _ERROR_TEXT[code]} for code in codes}


def get_runtime(request: Request) -> Runtime:
    """The loaded models (set by the lifespan)."""
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is None:
        raise ApiError(503, "server is not ready: models are not loaded", headers={"Retry-After": "1"})
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def describe_validation(exc: RequestValidationError) -> str:
    """FastAPI's error list as one readable sentence, e.g. ``format: Input should be 'png' or 'jpeg'``."""
    parts = []
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "header")]
        where = ".".join(loc)
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg", "invalid")))
    return "; ".join(parts) or "invalid request"


def add_error_handlers(app: FastAPI) -> None:
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": describe_validation(exc)}, status_code=422)

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse({"detail": "internal server error (logged)"}, status_code=500)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; nothing is loaded until the lifespan starts (so importing is cheap and
    a missing weights file is reported by the server that needs it)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            runtime = load_runtime(settings)
        except StartupError as exc:
            log.error("refusing to start: %s", exc)
            raise
        app.state.runtime = runtime
        try:
            yield
        finally:
            app.state.runtime = None
            await anyio.to_thread.run_sync(runtime.close)

    app = FastAPI(
        title="Context Encoder inpainting",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served below from vendored assets instead of a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.runtime = None
    add_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes)
    if not STATIC_DIR.is_dir():
        log.warning("static folder %s is missing; the editor page will lack its assets", STATIC_DIR)
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        """Interactive API docs that work offline: Swagger UI from ``static/vendor``."""
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - API docs",
            swagger_js_url=f"{root}/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{root}/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{root}/static/icon.svg",
        )

    @app.get("/", response_class=HTMLResponse, summary="The inpainting editor", tags=["editor"])
    async def index(request: Request, runtime: RuntimeDep) -> HTMLResponse:
        """Paint over what should go, choose a model, get the filled photo."""
        context = {
            "models": runtime.model_infos(),
            "default_model": runtime.default,
            "max_upload_mb": settings.max_upload_mb,
            "max_pixels": settings.max_pixels,
        }
        return TEMPLATES.TemplateResponse(request, "index.html", context)

    @app.get(
        "/healthz",
        response_model=Health,
        summary="Liveness and loaded models",
        tags=["service"],
        responses=error_responses(503),
    )
    async def healthz(runtime: RuntimeDep) -> Health:
        """200 once the models are loaded; includes per-model micro-batching counters."""
        return Health(
            status="ok",
            device=str(runtime.device),
            default_model=runtime.default,
            models=list(runtime.models),
            skipped=runtime.skipped,
            limits=Limits(
                max_upload_mb=settings.max_upload_mb, max_pixels=settings.max_pixels, max_holes=settings.max_holes
            ),
            queues={name: QueueStats(**entry.batcher.snapshot()) for name, entry in runtime.models.items()},
            admission={
                "inflight": runtime.inflight,
                "max_inflight": settings.max_inflight,
                "refused": runtime.refused,
            },
        )

    @app.get(
        "/api/models",
        response_model=list[ModelInfo],
        summary="Models POST /inpaint accepts",
        tags=["inpainting"],
        responses=error_responses(503),
    )
    async def list_models(runtime: RuntimeDep) -> list[dict[str, Any]]:
        """Generators (from the exports' metadata) first, then the classical OpenCV fillers."""
        return runtime.model_infos()

    @app.post(
        "/inpaint",
        response_class=Response,
        summary="Fill the masked pixels of a photo",
        description=INPAINT_DESCRIPTION,
        tags=["inpainting"],
        responses={
            200: {
                "description": "The filled image, same size as the input.",
                "content": {
                    "image/png": {"schema": {"type": "string", "format": "binary"}},
                    "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                },
                "headers": {
                    "X-Inpaint-Model": {"description": "Model that filled the holes.", "schema": {"type": "string"}},
                    "X-Inpaint-Holes": {
                        "description": "Separate holes in the mask (0: nothing filled, image unchanged).",
                        "schema": {"type": "integer"},
                    },
                    "X-Inpaint-Pixels": {"description": "Pixels filled.", "schema": {"type": "integer"}},
                },
            },
            **error_responses(400, 413, 415, 422, 500, 503),
        },
    )
    async def inpaint(
        runtime: RuntimeDep,
        image: Annotated[UploadFile, File(description="Photo to fill: PNG, JPEG or WebP.")],
        # not "UploadFile | None": that documents a JSON null as a valid mask part, which no
        # multipart client can send as a file (schemathesis did, and got a 422)
        mask: Annotated[
            UploadFile,
            File(
                description=(
                    "Same size as `image`; white (or opaque, if it has alpha) = fill. "
                    "Omit it to fill the image's transparent pixels instead."
                )
            ),
        ] = None,  # optional in the form, never null in the schema
        model: Annotated[
            str | None,
            Form(description="A name from GET /api/models; omitted or blank = the default generator."),
        ] = None,
        output_format: Annotated[
            OutputFormat, Form(alias="format", description="Encoding of the result: `png` (lossless) or `jpeg`.")
        ] = "png",
        grow: Annotated[
            int,
            Form(
                ge=0,
                le=MAX_GROW,
                description="Dilate the mask by this many pixels (round brush) before filling, so it also "
                "covers an object's soft edge and shadow; 0 = as painted.",
            ),
        ] = 0,
    ) -> Response:
        entry = runtime.resolve(model)
        image_data = await image.read()
        mask_data = await mask.read() if mask is not None else None
        if mask_data == b"" and not (mask.filename if mask is not None else ""):
            mask_data = None  # a browser form with no mask file chosen sends an empty unnamed part
        result = await inpaint_bytes(runtime, entry, image_data, mask_data, output_format, grow)
        extension = "jpg" if output_format == "jpeg" else "png"
        return Response(
            result.content,
            media_type=result.media_type,
            headers={
                "X-Inpaint-Model": quote(entry.name, safe=SAFE_HEADER_CHARS),  # file stems may be non-ASCII
                "X-Inpaint-Holes": str(result.holes),
                "X-Inpaint-Pixels": str(result.pixels),
                "Content-Disposition": f'inline; filename="inpainted.{extension}"',
                "Cache-Control": "no-store",
            },
        )

    app.openapi = partial(openapi_with_model_example, app, app.openapi, settings.weights.stem)
    return app


def openapi_with_model_example(app: FastAPI, build: Callable[[], dict], default_model: str) -> dict:
    """The generated schema with a real model name as the ``model`` field's example, so
    Swagger UI's "Try it out" sends a working request instead of the word "string"."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = build()
    for component in schema.get("components", {}).get("schemas", {}).values():
        fields = component.get("properties", {})
        if "model" in fields and "image" in fields:
            fields["model"]["example"] = default_model
    app.openapi_schema = schema
    return schema


app = create_app()


def run() -> None:
    """``ce-serve``: serve on CE_HOST:CE_PORT and print where."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings()
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
        timeout_keep_alive=5,  # idle keep-alive connections are closed after 5 s
    )
