"""One inpainting request from uploaded bytes to encoded result, the same for every filler:
admission -> decode -> ``filler.prepare`` -> the model's lane (``filler.run``) ->
``filler.finish`` -> encode. Each CPU-heavy step runs in a worker thread (``CpuSteps``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from app.batching import Refused
from app.errors import ApiError
from app.imaging import MEDIA_TYPES, Upload, encode, read_upload
from app.scheduling import Booking, ServedModel
from app.state import ServerState
from model.fillers import Filler
from model.inference import PlanningError

log = logging.getLogger(__name__)


@dataclass
class Result:
    content: bytes
    media_type: str
    holes: int  # separate holes in the mask
    pixels: int  # pixels filled


def prepare_checked(filler: Filler, upload: Upload) -> tuple[Any, int]:
    """The filler's work for the upload and the separate holes it fills; a mask it cannot fill
    (too many holes, an image too elongated to window) is the client's error: 422 with the reason."""
    try:
        work = filler.prepare(upload.rgb, upload.hole)
    except PlanningError as exc:
        raise ApiError(422, str(exc)) from None
    return work, filler.holes(work)


def finish_and_encode(filler: Filler, work: Any, output: Any, fmt: str, icc_profile: bytes | None) -> bytes:
    return encode(filler.finish(work, output), fmt, icc_profile)


async def filled(booking: Booking, work: Any) -> Any:
    """The filler's output from the model's lane; an inference failure is a 500 (logged), a
    refusal is admission's to answer."""
    try:
        return await booking.fill(work)
    except Refused:
        raise
    except Exception as exc:
        name = booking.model.name
        log.error("inference with %s failed: %r", name, exc)
        raise ApiError(500, f"inpainting with {name!r} failed on the server; see the server log") from None


async def inpaint_bytes(
    server: ServerState, model: ServedModel, image_data: bytes, mask_data: bytes | None, fmt: str, grow: int = 0
) -> Result:
    """Validate, fill and encode; an empty mask returns the image unchanged (no inference)."""
    steps, filler = server.steps, model.filler
    with server.admission.admit(model) as booking:
        upload = await steps.run(read_upload, image_data, mask_data, server.settings.max_pixels, grow)
        booking.weigh_photo(upload.hole.size)
        pixels, profile = int(upload.hole.sum()), upload.icc_profile
        if pixels == 0:
            booking.withdraw()
            content = await steps.run(encode, upload.rgb, fmt, profile, heavy=booking.heavy)
            return Result(content, MEDIA_TYPES[fmt], 0, 0)
        work, holes = await steps.run(prepare_checked, filler, upload, heavy=booking.heavy)
        del upload  # the work keeps what it needs while it waits in the queue
        booking.weigh_work(work)
        output = await filled(booking, work)
        content = await steps.run(finish_and_encode, filler, work, output, fmt, profile, heavy=booking.heavy)
    return Result(content, MEDIA_TYPES[fmt], holes, pixels)
