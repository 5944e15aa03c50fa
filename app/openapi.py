"""What /docs says: the API's prose, the documented error answers and a real model name as
the example, kept apart from the routes so that they read as code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from app.schemas import ErrorResponse
from app.settings import Settings

DESCRIPTION = """
Fill holes in photographs with a Context Encoder (Pathak et al., CVPR 2016) or, for
comparison, OpenCV's classical Telea / Navier-Stokes inpainting.

* `POST /inpaint` takes a photo and a mask and returns the filled photo.
* `POST /inpaint/regions` takes the same and returns only the filled pixels, as tiles to paste
  into the photo: what a client that already holds a big photo wants.
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
  before decoding), `CE_MAX_HOLES` separate holes for context encoders (422), `grow` up to
  `CE_MAX_GROW` (422). When the model's queue is full the answer is 503 with `Retry-After`.
"""

SERVER_TIMING = (
    "Milliseconds per step of the request (decode, prepare, fill including the queue, finish, release), "
    "as a browser's developer tools show them."
)

REGIONS_DESCRIPTION = """
The same fill as `POST /inpaint`, answered as JSON with the **filled pixels only**: the cells
of a 1,024 px grid that hold hole pixels, each cropped to them and sent as a base64 RGBA PNG,
opaque on the hole and transparent elsewhere. Drawing every tile at its `left`, `top` over the
photo (EXIF orientation applied) gives exactly what `POST /inpaint` returns, without
re-encoding and downloading a 48-megapixel photo for a hole that covers a thousandth of it.

* **`mask_left`, `mask_top`**: the mask may be any rectangle inside the photo, placed at this
  offset (nothing outside it is filled): send the painted area, not a full-size mask.
  Without them the mask must be the photo's size, as for `POST /inpaint`.
* The tiles carry the photo's colour profile, so a browser colour-manages them as it does the
  photo. Limits and errors are those of `POST /inpaint`.
* The `Server-Timing` header says where the server's time went, as for `POST /inpaint`.
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


INPAINT_RESPONSES: dict[int | str, dict[str, Any]] = {
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
            "Server-Timing": {"description": SERVER_TIMING, "schema": {"type": "string"}},
        },
    },
    **error_responses(400, 413, 415, 422, 500, 503),
}


def openapi_with_settings(app: FastAPI, build: Callable[[], dict], settings: Settings) -> dict:
    """The generated schema with what the settings decide: a real model name as the ``model``
    field's example, so Swagger UI's "Try it out" sends a working request instead of the word
    "string", and ``CE_MAX_GROW`` as the ``grow`` field's maximum."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = build()
    for component in schema.get("components", {}).get("schemas", {}).values():
        fields = component.get("properties", {})
        if "model" in fields and "image" in fields and "grow" in fields:
            fields["model"]["example"] = settings.weights.stem
            fields["grow"]["maximum"] = settings.max_grow
    app.openapi_schema = schema
    return schema
