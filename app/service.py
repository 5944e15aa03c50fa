"""One inpainting request from uploaded bytes to encoded result, the same for every filler:
decode -> ``filler.prepare`` -> the model's micro-batcher (``filler.run``) -> ``filler.finish``
-> encode.

CPU-heavy steps (decode, preparation, compositing, encoding) run in worker threads behind a
limiter sized to the cores, so a burst of big uploads cannot pile up unbounded working memory.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio.to_thread

from app.batching import BatcherClosed, Expected, QueueFull
from app.errors import ApiError
from app.imaging import MEDIA_TYPES, Upload, encode, read_upload
from app.registry import ModelEntry, Runtime
from model.fillers import Filler
from model.inference import PlanningError

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_AFTER_S = 1
# a photo over this many pixels, or a mask needing more than one batch of windows, is a heavy
# request: it runs in the model's heavy lane so that it cannot hold up ordinary ones
HEAVY_PIXELS = 2_500_000  # a 1,920 x 1,080 frame is still ordinary


@dataclass
class Result:
    content: bytes
    media_type: str
    holes: int  # separate holes in the mask
    pixels: int  # pixels filled


async def in_thread(runtime: Runtime, fn: Callable[..., T], *args: Any, heavy: bool = False) -> T:
    """``fn`` in a worker thread; heavy requests' steps queue for their own low-priority thread."""
    if heavy:
        return await asyncio.wrap_future(runtime.heavy_steps.submit(fn, *args))
    return await anyio.to_thread.run_sync(fn, *args, limiter=runtime.cpu_limiter)


def prepare_checked(filler: Filler, upload: Upload) -> Any:
    """The filler's preparation; a mask it cannot fill (too many holes, an image too
    elongated to window) is the client's error: 422 with the reason."""
    try:
        return filler.prepare(upload.rgb, upload.hole)
    except PlanningError as exc:
        raise ApiError(422, str(exc)) from None


def finish_and_encode(filler: Filler, work: Any, output: Any, fmt: str, icc_profile: bytes | None) -> bytes:
    return encode(filler.finish(work, output), fmt, icc_profile)


def unavailable(entry: ModelEntry, exc: QueueFull | BatcherClosed) -> ApiError:
    """503 with Retry-After: the model's queue is full, or the server is stopping."""
    if isinstance(exc, BatcherClosed):
        detail = "server is shutting down"
    else:
        detail = f"model {entry.name!r} is busy ({entry.batcher.queue_size} requests already waiting); retry shortly"
    return ApiError(503, detail, headers={"Retry-After": str(RETRY_AFTER_S)})


async def infer(entry: ModelEntry, payload: Any, heavy: bool = False, expected: Expected | None = None) -> Any:
    """Run through one of the model's lanes: full queue -> 503; inference failure -> 500 (logged).
    ``expected``: the ordinary lane's token from ``Batcher.expecting``."""
    try:
        if heavy:
            if expected is not None:
                entry.batcher.withdraw(expected)  # nor is the ordinary lane busy with it
            return await entry.heavy.run(payload)
        return await entry.batcher.run(payload, expected)
    except (QueueFull, BatcherClosed) as exc:
        raise unavailable(entry, exc) from None
    except Exception as exc:
        log.error("inference with %s failed: %r", entry.name, exc)
        raise ApiError(500, f"inpainting with {entry.name!r} failed on the server; see the server log") from None


@contextmanager
def admitted(runtime: Runtime) -> Iterator[None]:
    """Admission before any work: at most ``max_inflight`` requests are decoded, filled and
    encoded at once; one more is answered 503 at once, so under overload the admitted ones keep
    their latency and the rest learn to retry instead of queueing unseen behind the CPU."""
    limit = runtime.settings.max_inflight
    if runtime.inflight >= limit:
        runtime.refused += 1
        raise ApiError(
            503,
            f"server is busy ({runtime.inflight} fills in progress); retry in {RETRY_AFTER_S} s",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    runtime.inflight += 1  # the event loop is single-threaded: no lock needed
    try:
        yield
    finally:
        runtime.inflight -= 1


async def inpaint_bytes(
    runtime: Runtime, entry: ModelEntry, image_data: bytes, mask_data: bytes | None, fmt: str, grow: int = 0
) -> Result:
    """Validate, fill and encode; an empty mask returns the image unchanged (no inference)."""
    with admitted(runtime):
        return await _inpaint_admitted(runtime, entry, image_data, mask_data, fmt, grow)


async def _inpaint_admitted(
    runtime: Runtime, entry: ModelEntry, image_data: bytes, mask_data: bytes | None, fmt: str, grow: int
) -> Result:
    limits = runtime.settings
    try:
        entry.batcher.admit()  # refuse before spending CPU on decoding; submit() still enforces the bound
    except (QueueFull, BatcherClosed) as exc:
        raise unavailable(entry, exc) from None
    with entry.batcher.expecting() as coming:  # a batch being gathered now may wait for this one
        upload = await in_thread(runtime, read_upload, image_data, mask_data, limits.max_pixels, grow)
        pixels, holes, profile = int(upload.hole.sum()), upload.holes, upload.icc_profile
        big = upload.hole.size > HEAVY_PIXELS
        if pixels == 0:
            entry.batcher.withdraw(coming)
            content = await in_thread(runtime, encode, upload.rgb, fmt, profile, heavy=big)
        else:
            filler = entry.filler
            work = await in_thread(runtime, prepare_checked, filler, upload, heavy=big)
            del upload  # the work keeps what it needs while it waits in the queue
            heavy = big or filler.cost(work) > filler.max_batch
            output = await infer(entry, work, heavy, coming)
            content = await in_thread(runtime, finish_and_encode, filler, work, output, fmt, profile, heavy=heavy)
    return Result(content, MEDIA_TYPES[fmt], holes, pixels)
