"""The inpainting API: which models there are, POST /inpaint and POST /inpaint/regions."""

from __future__ import annotations

import base64
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response

from app.dependencies import ServerDep
from app.errors import ApiError
from app.imaging import MEDIA_TYPES, UploadBytes
from app.openapi import INPAINT_DESCRIPTION, INPAINT_RESPONSES, REGIONS_DESCRIPTION, error_responses
from app.regions import filled_tiles
from app.scheduling import ServedModel
from app.schemas import FilledRegions, FilledTile, ModelInfo
from app.service import fill_request, whole_photo
from app.state import ServerState

router = APIRouter(tags=["inpainting"])

OutputFormat = Literal["png", "jpeg"]
SAFE_HEADER_CHARS = " -_.+()[]@"
PhotoField = Annotated[UploadFile, File(description="Photo to fill: PNG, JPEG or WebP.")]
ModelField = Annotated[
    str | None, Form(description="A name from GET /api/models; omitted or blank = the default generator.")
]


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
    image: PhotoField,
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
    model: ModelField = None,
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
    served = checked_model(server, model, grow)
    upload = UploadBytes(await image.read(), await mask_bytes(mask), grow)
    result = await fill_request(server, served, upload, whole_photo(output_format))
    extension = "jpg" if output_format == "jpeg" else "png"
    return Response(
        result.answer,
        media_type=MEDIA_TYPES[output_format],
        headers={
            "X-Inpaint-Model": quote(served.name, safe=SAFE_HEADER_CHARS),  # file stems may be non-ASCII
            "X-Inpaint-Holes": str(result.holes),
            "X-Inpaint-Pixels": str(result.pixels),
            "Server-Timing": result.times.header(),
            "Content-Disposition": f'inline; filename="inpainted.{extension}"',
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/inpaint/regions",
    response_model=FilledRegions,
    summary="Fill the masked pixels of a photo; answer only the filled pixels",
    description=REGIONS_DESCRIPTION,
    responses=error_responses(400, 413, 415, 422, 500, 503),
)
async def inpaint_regions(
    server: ServerDep,
    response: Response,
    image: PhotoField,
    mask: Annotated[
        UploadFile,
        File(
            description=(
                "White (or opaque, if it has alpha) = fill: the photo's size, or any rectangle of it "
                "placed with `mask_left` and `mask_top`. Omit it to fill the image's transparent pixels."
            )
        ),
    ] = None,
    model: ModelField = None,
    grow: Annotated[int, Form(ge=0, description="Dilate the mask by this many pixels, as for POST /inpaint.")] = 0,
    mask_left: Annotated[int | None, Form(ge=0, description="Column of the mask's left edge in the photo.")] = None,
    mask_top: Annotated[int | None, Form(ge=0, description="Row of the mask's top edge in the photo.")] = None,
) -> FilledRegions:
    served = checked_model(server, model, grow)
    if (mask_left is None) != (mask_top is None):
        raise ApiError(422, "mask_left and mask_top go together: send both or neither")
    placed = None if mask_left is None or mask_top is None else (mask_left, mask_top)
    upload = UploadBytes(await image.read(), await mask_bytes(mask), grow, placed)
    result = await fill_request(server, served, upload, filled_tiles)
    response.headers["Server-Timing"] = result.times.header()
    height, width = result.shape
    return FilledRegions(
        model=served.name,
        width=width,
        height=height,
        holes=result.holes,
        pixels=result.pixels,
        tiles=[
            FilledTile(
                left=box.left, top=box.top, width=box.width, height=box.height, png=base64.b64encode(png).decode()
            )
            for box, png in result.answer
        ],
    )


def checked_model(server: ServerState, model: str | None, grow: int) -> ServedModel:
    """The requested model (422 if unknown) once ``grow`` is within ``CE_MAX_GROW``."""
    if grow > server.settings.max_grow:  # worded as FastAPI words its own range errors
        raise ApiError(422, f"grow: Input should be less than or equal to {server.settings.max_grow}")
    return server.resolve(model)


async def mask_bytes(mask: UploadFile | None) -> bytes | None:
    """The mask part's bytes; None when there is none (a browser form with no mask file chosen
    sends an empty unnamed part)."""
    data = await mask.read() if mask is not None else None
    return None if data == b"" and not (mask.filename if mask is not None else "") else data
