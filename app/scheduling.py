"""Where a request's work runs: each model's two lanes, the compute thread's runners and the
worker threads for the CPU-heavy steps.

Every model gets two micro-batchers (``app.batching``): its ordinary lane and its heavy lane.
A request that needs more than one batch of windows, or a photo over ``CE_HEAVY_PIXELS``, runs
in the heavy lane, whose threads run at a lower OS priority, so a few such requests cannot hold
up the ordinary ones. A generator's torch work goes to the process's one compute thread
(``app.compute``), the ordinary lane's chunks before the heavy lane's pieces.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from app.batching import Announcement, Batcher, lower_priority
from app.compute import ComputeThread, Priority
from app.schemas import ModelInfo
from app.settings import Settings
from model.fillers import Filler, Runner

T = TypeVar("T")
HEAVY_LANE = ":heavy"  # suffix of the heavy lane's name in /healthz queues


def cpu_count() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class ComputeRunner(Runner):
    """The ordinary lane's runner: each chunk of torch work runs in the compute thread, ahead of
    any heavy piece queued there."""

    def __init__(self, compute: ComputeThread) -> None:
        self.compute = compute

    def __call__(self, work: Callable[[], T]) -> T:
        return self.compute.call(work, priority=Priority.ORDINARY)


class PacedRunner(Runner):
    """The heavy lane's runner: torch work in pieces, queued behind ordinary work one at a time.
    While ordinary requests are being prepared or queued (``ordinary.busy``), pieces are small
    (``piece`` windows), so an ordinary request waits for at most one small piece, and each is
    followed by a pause as long as itself, so heavy work takes at most half the cores from them
    (the compute thread cannot run it at a lower OS priority). With nobody else around, pieces
    of ``idle_piece`` windows waste less on each forward pass."""

    def __init__(self, compute: ComputeThread, piece: int, idle_piece: int, ordinary: Batcher | None = None) -> None:
        self.compute = compute
        self.busy_piece = piece
        self.idle_piece = idle_piece
        self.ordinary = ordinary

    @property
    def piece(self) -> int:  # read before each piece: ordinary requests may come and go meanwhile
        return self.busy_piece if self._others_waiting() else self.idle_piece

    def __call__(self, work: Callable[[], T]) -> T:
        start = time.monotonic()
        result = self.compute.call(work, priority=Priority.HEAVY)
        if self._others_waiting():
            time.sleep(time.monotonic() - start)
        return result

    def _others_waiting(self) -> bool:
        return self.ordinary is not None and self.ordinary.busy


def start_lane(filler: Filler, runner: Runner, settings: Settings, suffix: str = "", nice: int = 0) -> Batcher:
    """The filler's ``run`` behind a bounded queue: concurrent requests share one call, up to
    ``filler.max_batch`` windows (a classical filler takes one image per call)."""

    def run(works: list[Any]) -> list[Any]:
        return filler.run(works, runner)

    return Batcher(
        filler.name + suffix,
        run,
        max_batch=filler.max_batch,
        wait_s=settings.batch_wait_ms / 1000,
        queue_size=settings.queue_size,
        threads=settings.workers,
        cost=filler.cost,
        nice=nice,
    ).start()


@dataclass
class ServedModel:
    """A servable model: its filler, its public description and its two lanes."""

    filler: Filler
    info: ModelInfo
    ordinary: Batcher
    heavy: Batcher
    heavy_pixels: int  # a photo over this many pixels is a heavy request

    @classmethod
    def start(cls, filler: Filler, info: ModelInfo, settings: Settings, compute: ComputeThread) -> ServedModel:
        """The model with both lanes started."""
        ordinary = start_lane(filler, ComputeRunner(compute), settings)
        try:
            paced = PacedRunner(compute, settings.heavy_piece, settings.heavy_piece_idle, ordinary)
            heavy = start_lane(filler, paced, settings, HEAVY_LANE, settings.heavy_nice)
        except BaseException:
            ordinary.close(timeout=1.0)
            raise
        return cls(filler, info, ordinary, heavy, settings.heavy_pixels)

    @property
    def name(self) -> str:
        return self.filler.name

    @property
    def lanes(self) -> tuple[Batcher, Batcher]:
        return self.ordinary, self.heavy

    @contextmanager
    def book(self) -> Iterator[Booking]:
        """A place for one request: ``QueueFull`` (or ``BatcherClosed``) at once if the ordinary
        lane would refuse it, before any CPU is spent on it; else it is announced to that lane
        until it is submitted or leaves."""
        self.ordinary.admit()
        with self.ordinary.announce() as announcement:
            yield Booking(self, announcement)

    def close(self, timeout: float = 30.0) -> None:
        for lane in self.lanes:
            lane.close(timeout)


@dataclass
class Booking:
    """One request's place with a model. It stays announced to the ordinary lane while it is
    decoded and prepared (a batch being gathered may wait for it) and leaves that lane as soon
    as it turns out heavy or has nothing to fill."""

    model: ServedModel
    announcement: Announcement
    heavy: bool = field(default=False, init=False)

    def weigh_photo(self, pixels: int) -> None:
        """A photo over the model's ``heavy_pixels`` makes the request heavy."""
        if pixels > self.model.heavy_pixels:
            self._make_heavy()

    def weigh_work(self, work: Any) -> None:
        """Prepared work that needs more than one batch makes the request heavy."""
        filler = self.model.filler
        if filler.cost(work) > filler.max_batch:
            self._make_heavy()

    def withdraw(self) -> None:
        """The request has nothing to fill: batches stop waiting for it."""
        self.model.ordinary.withdraw(self.announcement)

    async def fill(self, work: Any) -> Any:
        """``filler.run`` for this work in its lane; raises ``QueueFull``/``BatcherClosed`` when
        the lane refuses it and whatever the filler raised."""
        if self.heavy:
            return await self.model.heavy.run(work)
        return await self.model.ordinary.run(work, self.announcement)

    def _make_heavy(self) -> None:
        self.heavy = True
        self.withdraw()  # nor is the ordinary lane busy with it


class CpuSteps:
    """Worker threads for a request's CPU-heavy steps (decoding, preparing, compositing,
    encoding): behind a limiter sized to the cores, so a burst of big uploads cannot pile up
    unbounded working memory; heavy requests' steps queue for one thread of their own at a
    lower OS priority. Create it in the event loop that will use it (the lifespan)."""

    def __init__(self, heavy_nice: int) -> None:
        self.limiter = anyio.CapacityLimiter(max(2, cpu_count()))
        self.heavy = ThreadPoolExecutor(1, "heavy-steps", initializer=lower_priority, initargs=(heavy_nice,))

    async def run(self, fn: Callable[..., T], *args: Any, heavy: bool = False) -> T:
        """``fn(*args)`` in a worker thread, or in the heavy thread for a heavy request."""
        if heavy:
            return await asyncio.wrap_future(self.heavy.submit(fn, *args))
        return await anyio.to_thread.run_sync(fn, *args, limiter=self.limiter)

    def close(self) -> None:
        self.heavy.shutdown(wait=False, cancel_futures=True)
