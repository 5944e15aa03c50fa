"""The one thread that runs all of the server's torch work.

libgomp gives every thread that starts a parallel region an OpenMP team of its own. Once the
process holds more team threads than cores, it stops letting idle ones spin between regions
(its throttled spin count), so each of the ~40 operations of a forward pass waits ~60 us for
a sleeping thread to wake. Measured here: a one-window forward took 19 ms in a batcher thread
of a server whose main thread had loaded the model, 10 ms when a single thread does all the
torch work. So one thread loads the generators and runs every chunk of windows of every model
and lane, and ``app/__init__`` lets its team spin briefly (``GOMP_SPINCOUNT``) between the
operations of a pass. Ordinary lanes' chunks go before heavy lanes' queued ones, so an
ordinary request waits at most for the one chunk in progress.
"""

from __future__ import annotations

import itertools
import math
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from enum import IntEnum
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")


class Priority(IntEnum):
    """Which queued job the compute thread runs next: the lowest value first."""

    ORDINARY = 0
    HEAVY = 1


class ComputeClosed(RuntimeError):
    """The compute thread has stopped and takes no more work."""


class ComputeThread:
    """Runs ``call(fn, ...)`` jobs one at a time in a single daemon thread, lowest
    ``priority`` first, in order of arrival among equals; the caller blocks for the result
    (or the exception ``fn`` raised)."""

    def __init__(self, name: str = "torch") -> None:
        self._jobs: queue.PriorityQueue[tuple[float, int, Callable[[], Any] | None, Future | None]] = (
            queue.PriorityQueue()
        )
        self._order = itertools.count()
        self._closed = False
        self._lock = threading.Lock()  # no job can be queued behind the stop marker
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    @property
    def name(self) -> str:
        return self._thread.name

    @property
    def queued(self) -> int:
        """Jobs waiting for the thread (not the one it runs now)."""
        return self._jobs.qsize()

    def call(self, fn: Callable[..., T], *args: Any, priority: int = Priority.ORDINARY, **kwargs: Any) -> T:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise ComputeClosed("the compute thread has stopped")
            self._jobs.put((priority, next(self._order), partial(fn, *args, **kwargs), future))
        return future.result()

    def close(self, timeout: float = 30.0) -> None:
        """Finish the jobs already queued (within ``timeout``), then stop the thread."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._jobs.put((math.inf, next(self._order), None, None))
        self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            _, _, job, future = self._jobs.get()
            if job is None or future is None:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(job())
            except BaseException as exc:  # the caller's to handle; this thread goes on
                future.set_exception(exc)
