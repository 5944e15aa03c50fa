"""The editor page and offline API docs (Swagger UI from ``static/vendor``, no CDN)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from app.assets import EDITOR_MODULES, TEMPLATES
from app.dependencies import ServerDep

router = APIRouter()


@router.get("/", response_class=HTMLResponse, summary="The inpainting editor", tags=["editor"])
async def index(request: Request, server: ServerDep) -> HTMLResponse:
    """Paint over what should go, choose a model, get the filled photo."""
    settings = server.settings
    context = {
        "models": [info.model_dump() for info in server.model_infos()],
        "default_model": server.default,
        "max_upload_mb": settings.max_upload_mb,
        "max_pixels": settings.max_pixels,
        "max_grow": settings.max_grow,
        "editor_modules": EDITOR_MODULES,
    }
    return TEMPLATES.TemplateResponse(request, "index.html", context)


@router.get("/docs", include_in_schema=False)
async def swagger_ui(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "").rstrip("/")
    return get_swagger_ui_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} - API docs",
        swagger_js_url=f"{root}/static/vendor/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url=f"{root}/static/vendor/swagger-ui/swagger-ui.css",
        swagger_favicon_url=f"{root}/static/icon.svg",
    )
