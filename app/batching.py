"""Micro-batching: concurrent requests share one generator call.

A generator call costs far less per window when windows are batched (on CPU, 8 windows cost
about twice one), so each model gets dispatcher threads that take the first waiting job,
wait up to ``wait_s`` for more (up to ``max_batch`` items), run them in one call and hand
each request its own slice. A batch waits only while a request that will join it is still
being decoded and prepared (``announce``): a lone request never waits for company. The
queue is bounded: when it is full ``submit`` refuses at once (the server answers 503)
instead of letting latency grow without limit. A job that fails fails only its own request:
a failed batch is retried one job at a time, and the threads never die on an exception.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

P = TypeVar("P")  # what one request submits
R = TypeVar("R")  # what it gets back


def lower_priority(nice: int) -> None:
    """Make the calling thread (and the torch/OpenMP threads it starts, which inherit it) yield
    the CPU to others: heavy requests then take what ordinary ones leave instead of half of it.
    Linux only (threads have their own nice value there); elsewhere a no-op."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except OSError as exc:
        log.warning("cannot lower the priority of thread %s: %s", threading.current_thread().name, exc)


class Refused(Exception):
    """The batcher takes no more work now; the caller should retry later."""


class QueueFull(Refused):
    """The bounded queue is full."""


class BatcherClosed(Refused):
    """The batcher is shutting down."""


@dataclass
class _Job(Generic[P, R]):
    payload: P
    cost: int
    future: Future[R]


@dataclass
class BatchStats:
    """Counters for /healthz and tests: proof that batching happens, and how much."""

    calls: int = 0  # run() calls
    jobs: int = 0  # requests served
    items: int = 0  # windows (or images) processed
    batched_calls: int = 0  # calls that served more than one request
    max_jobs_per_call: int = 0
    max_items_per_call: int = 0
    failed_jobs: int = 0
    rejected: int = 0  # submits refused because the queue was full


@dataclass
class Announcement:
    """A request being prepared for a batcher (see ``Batcher.announce``)."""

    arrived: bool = False


class Batcher(Generic[P, R]):
    """Runs ``run(payloads) -> results`` (one result per payload, same order) on batches of
    queued jobs in ``threads`` daemon threads."""

    def __init__(
        self,
        name: str,
        run: Callable[[list[P]], list[R]],
        *,
        max_batch: int,
        wait_s: float,
        queue_size: int,
        threads: int = 1,
        cost: Callable[[P], int] = lambda payload: 1,
        nice: int = 0,
    ) -> None:
        self.name = name
        self.run_batch = run
        self.max_batch = max_batch
        self.wait_s = wait_s
        self.queue_size = queue_size
        self.cost = cost
        self.nice = nice  # added to the threads' scheduling niceness (see lower_priority)
        self.stats = BatchStats()
        self._queue: deque[_Job[P, R]] = deque()
        self._announced = 0  # requests being prepared that will submit here (see announce)
        self._cond = threading.Condition()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._worker, name=f"batcher-{name}-{i}", daemon=True) for i in range(threads)
        ]

    def start(self) -> Batcher[P, R]:
        for thread in self._threads:
            thread.start()
        return self

    @property
    def pending(self) -> int:
        """Jobs waiting in the queue (not yet taken by a thread)."""
        with self._cond:
            return len(self._queue)

    @property
    def busy(self) -> bool:
        """Jobs queued, or requests being prepared for this batcher (see ``announce``)."""
        with self._cond:
            return bool(self._queue) or self._announced > 0

    def snapshot(self) -> dict[str, Any]:
        with self._cond:
            return {**asdict(self.stats), "pending": len(self._queue), "queue_size": self.queue_size}

    def admit(self) -> None:
        """Raise ``QueueFull`` (or ``BatcherClosed``) now if a job submitted now would be refused,
        so callers can refuse before spending CPU on preparing it."""
        with self._cond:
            self._refuse_locked()

    def _refuse_locked(self) -> None:
        """The one admission rule (caller holds the lock): closed or full queues refuse."""
        if self._closed:
            raise BatcherClosed(f"{self.name} is shutting down")
        if len(self._queue) >= self.queue_size:
            self.stats.rejected += 1
            raise QueueFull(f"{self.name} has {len(self._queue)} requests waiting")

    @contextmanager
    def announce(self) -> Iterator[Announcement]:
        """Announce a request that is being decoded and prepared for this batcher: while any
        is announced, a gathering batch waits (up to ``wait_s``) for it. Pass the announcement
        to ``submit`` (or ``run``), which counts it as arrived; leaving without submitting (an
        error, another lane) withdraws it."""
        announcement = Announcement()
        with self._cond:
            self._announced += 1
        try:
            yield announcement
        finally:
            self.withdraw(announcement)

    def withdraw(self, announcement: Announcement) -> None:
        """The announced request will not come here after all (it has no holes, or it runs in
        another lane): batches stop waiting for it. Harmless once it has arrived."""
        with self._cond:
            if not announcement.arrived:
                announcement.arrived = True
                self._announced -= 1
                self._cond.notify_all()  # a batch waiting for it need not wait any longer

    def submit(self, payload: P, announcement: Announcement | None = None) -> Future[R]:
        """Queue one job; raises ``QueueFull`` or ``BatcherClosed`` at once instead of waiting."""
        future: Future[R] = Future()
        job = _Job(payload, max(1, self.cost(payload)), future)
        with self._cond:
            if announcement is not None and not announcement.arrived:
                announcement.arrived = True
                self._announced -= 1
            self._refuse_locked()
            self._queue.append(job)
            self._cond.notify()
        return future

    async def run(self, payload: P, announcement: Announcement | None = None) -> R:
        """Submit and await the result without blocking the event loop."""
        return await asyncio.wrap_future(self.submit(payload, announcement))

    def close(self, timeout: float = 30.0) -> None:
        """Finish what is queued (within ``timeout``), stop the threads, fail any leftovers."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))
        with self._cond:
            leftovers = list(self._queue)
            self._queue.clear()
        for job in leftovers:
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(BatcherClosed(f"{self.name} shut down before this request ran"))

    # ------------------------------------------------------------------ threads
    def _worker(self) -> None:
        lower_priority(self.nice)
        while True:
            jobs = self._take()
            if jobs is None:
                return
            try:
                self._execute(jobs)
            except Exception:  # never let a bug kill the dispatcher; fail only these jobs
                log.exception("batcher %s: unexpected error", self.name)
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(RuntimeError("internal batching error"))
            # not held while waiting for the next batch: a 48 MP photo's work is ~200 MB
            del jobs

    def _take(self) -> list[_Job[P, R]] | None:
        """Block for the first job, then gather more for up to ``wait_s`` while they fit and
        while more are announced."""
        with self._cond:
            while not self._queue:
                if self._closed:
                    return None
                self._cond.wait()
            batch = [self._queue.popleft()]
            items = batch[0].cost
            deadline = time.monotonic() + self.wait_s
            while items < self.max_batch:
                if self._queue:
                    if items + self._queue[0].cost > self.max_batch:
                        break  # the next job starts the next batch
                    job = self._queue.popleft()
                    batch.append(job)
                    items += job.cost
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed or self._announced == 0:
                    break
                self._cond.wait(remaining)
            return batch

    def _execute(self, jobs: list[_Job[P, R]]) -> None:
        live = [job for job in jobs if job.future.set_running_or_notify_cancel()]  # skip cancelled
        if not live:
            return
        try:
            results = self._call(live)
        except Exception as exc:
            if len(live) == 1:
                self._fail(live[0], exc)
                return
            log.warning("batcher %s: a batch of %d jobs failed; retrying one by one", self.name, len(live))
            for job in live:
                try:
                    result = self._call([job])[0]
                except Exception as job_exc:
                    self._fail(job, job_exc)
                else:
                    job.future.set_result(result)
            return
        for job, result in zip(live, results, strict=True):
            job.future.set_result(result)

    def _call(self, jobs: list[_Job[P, R]]) -> list[R]:
        results = self.run_batch([job.payload for job in jobs])
        if len(results) != len(jobs):
            raise RuntimeError(f"batch function returned {len(results)} results for {len(jobs)} jobs")
        items = sum(job.cost for job in jobs)
        with self._cond:
            s = self.stats
            s.calls += 1
            s.jobs += len(jobs)
            s.items += items
            s.batched_calls += len(jobs) > 1
            s.max_jobs_per_call = max(s.max_jobs_per_call, len(jobs))
            s.max_items_per_call = max(s.max_items_per_call, items)
        return results

    def _fail(self, job: _Job[P, R], exc: Exception) -> None:
        log.error("batcher %s: job failed: %r", self.name, exc, exc_info=exc)
        with self._cond:
            self.stats.failed_jobs += 1
        job.future.set_exception(exc)
