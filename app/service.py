"""One inpainting request from uploaded bytes to encoded result, the same for every filler:
admission -> decode -> ``filler.prepare`` -> the model's lane (``filler.run``) ->
``filler.finish`` -> encode. Each CPU-heavy step runs in a worker thread (``CpuSteps``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np

from app.batching import Refused
from app.errors import ApiError
from app.imaging import DecodeLimits, Upload, UploadBytes, encode, header_pixels, read_upload
from app.memory import give_back
from app.scheduling import Booking, ServedModel
from app.state import ServerState
from model.fillers import Filler
from model.inference import PlanningError

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class StepTimes:
    """Wall time of each step of one request, sent as its ``Server-Timing`` header: a browser's
    developer tools and the benchmarks read where a slow fill spent its time from it."""

    seconds: dict[str, float] = field(default_factory=dict)
    _last: float = field(default_factory=time.perf_counter)

    def lap(self, step: str) -> None:
        """``step`` took the time since the previous lap (or since the request began)."""
        now = time.perf_counter()
        self.seconds[step] = self.seconds.get(step, 0.0) + now - self._last
        self._last = now

    def header(self) -> str:
        """The Server-Timing value: ``decode;dur=812.4, prepare;dur=150.2, ...`` (milliseconds)."""
        return ", ".join(f"{step};dur={seconds * 1000:.1f}" for step, seconds in self.seconds.items())


@dataclass
class Filled(Generic[T]):
    answer: T  # what ``deliver`` made of the filled photo
    shape: tuple[int, int]  # the photo's height and width, EXIF orientation applied
    holes: int  # separate holes in the mask
    pixels: int  # pixels filled
    times: StepTimes  # where the request's time went


def prepare_checked(filler: Filler, upload: Upload) -> tuple[Any, int]:
    """The filler's work for the upload and the separate holes it fills; a mask it cannot fill
    (too many holes, an image too elongated to window) is the client's error: 422 with the reason."""
    try:
        work = filler.prepare(upload.rgb, upload.hole)
    except PlanningError as exc:
        raise ApiError(422, str(exc)) from None
    return work, filler.holes(work)


# what a request gets back, made in a worker thread from the filled photo (EXIF orientation
# applied), its hole and its colour profile: the whole photo encoded, or only its filled tiles
Deliver = Callable[[np.ndarray, np.ndarray, bytes | None], T]


def whole_photo(fmt: str) -> Deliver[bytes]:
    """The filled photo encoded as PNG or JPEG (``POST /inpaint``)."""
    return lambda rgb, hole, profile: encode(rgb, fmt, profile)


def finish_and_deliver(
    filler: Filler, work: Any, output: Any, hole: np.ndarray, profile: bytes | None, deliver: Deliver[T]
) -> T:
    return deliver(filler.finish(work, output), hole, profile)


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


async def fill_request(server: ServerState, model: ServedModel, request: UploadBytes, deliver: Deliver[T]) -> Filled[T]:
    """Validate and fill one request and make its answer with ``deliver``; an empty mask
    delivers the photo unchanged (no inference)."""
    steps, filler, settings = server.steps, model.filler, server.settings
    times = StepTimes()
    with server.admission.admit(model, header_pixels(request.image)) as booking:
        upload = await steps.run(read_upload, request, DecodeLimits.of(settings))
        times.lap("decode")
        booking.weigh_photo(upload.hole.size)
        hole, pixels, profile = upload.hole, int(upload.hole.sum()), upload.icc_profile
        shape = hole.shape
        if pixels == 0:
            booking.withdraw()
            answer = await steps.run(deliver, upload.rgb, hole, profile, heavy=booking.heavy)
            times.lap("encode")
            return Filled(answer, shape, 0, 0, times)
        work, holes = await steps.run(prepare_checked, filler, upload, heavy=booking.heavy)
        times.lap("prepare")
        del upload  # the work keeps what it needs while it waits in the queue
        booking.weigh_work(work)
        output = await filled(booking, work)
        times.lap("fill")  # waiting in the model's queue included
        answer = await steps.run(finish_and_deliver, filler, work, output, hole, profile, deliver, heavy=booking.heavy)
        times.lap("finish")  # blending the windows in and encoding the answer
        del work, output
        if booking.heavy:
            await steps.run(give_back, heavy=True)  # a big photo's freed pages go back to the system
            times.lap("release")
    return Filled(answer, shape, holes, pixels, times)
