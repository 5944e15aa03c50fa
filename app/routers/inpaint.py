"""The inpainting API: which models there are, and POST /inpaint."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response

from app.dependencies import ServerDep
from app.errors import ApiError
from app.openapi import INPAINT_DESCRIPTION, INPAINT_RESPONSES, error_responses
from app.schemas import ModelInfo
from app.service import inpaint_bytes

router = APIRouter(tags=["inpainting"])

OutputFormat = Literal["png", "jpeg"]
SAFE_HEADER_CHARS = " -_.+()[]@"


@router.get(
    "/api/models",
    response_model=list[ModelInfo],
    summary="Models POST /inpaint accepts",
    responses=error_responses(503),
)
async def list_models(server: ServerDep) -> list[ModelInfo]:
    """Generators (from the exports' metadata) first, then the classical OpenCV fillers."""
    return server.model_infos()


@router.post(
    "/inpaint",
    response_class=Response,
    summary="Fill the masked pixels of a photo",
    description=INPAINT_DESCRIPTION,
    responses=INPAINT_RESPONSES,
)
async def inpaint(
    server: ServerDep,
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
            ge=0,  # and at most CE_MAX_GROW, checked below and shown in the schema (app.openapi)
            description="Dilate the mask by this many pixels (round brush) before filling, so it also "
            "covers an object's soft edge and shadow; 0 = as painted.",
        ),
    ] = 0,
) -> Response:
    if grow > server.settings.max_grow:  # worded as FastAPI words its own range errors
        raise ApiError(422, f"grow: Input should be less than or equal to {server.settings.max_grow}")
    served = server.resolve(model)
    image_data = await image.read()
    mask_data = await mask.read() if mask is not None else None
    if mask_data == b"" and not (mask.filename if mask is not None else ""):
        mask_data = None  # a browser form with no mask file chosen sends an empty unnamed part
    result = await inpaint_bytes(server, served, image_data, mask_data, output_format, grow)
    extension = "jpg" if output_format == "jpeg" else "png"
    return Response(
        result.content,
        media_type=result.media_type,
        headers={
            "X-Inpaint-Model": quote(served.name, safe=SAFE_HEADER_CHARS),  # file stems may be non-ASCII
            "X-Inpaint-Holes": str(result.holes),
            "X-Inpaint-Pixels": str(result.pixels),
            "Content-Disposition": f'inline; filename="inpainted.{extension}"',
            "Cache-Control": "no-store",
        },
    )
