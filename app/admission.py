"""Admission: which requests the server takes on, and the 503 it answers the others.

At most ``CE_MAX_INFLIGHT`` requests, of at most ``CE_MAX_INFLIGHT_PIXELS`` photo pixels in
all (read from the headers, before anything is decoded), are decoded, filled and encoded at
once; one more is answered 503 with Retry-After at once, so under overload the admitted ones keep their latency
and the rest learn to retry instead of queueing unseen behind the CPU. A model whose queue is
full, or a server shutting down, is answered the same way, before any CPU is spent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from app.batching import BatcherClosed, Refused
from app.errors import ApiError
from app.scheduling import Booking, ServedModel


def unavailable(detail: str, retry_after_s: int) -> ApiError:
    """503 with Retry-After: every "come back shortly" answer has this shape."""
    return ApiError(503, detail, headers={"Retry-After": str(retry_after_s)})


class Admission:
    """The in-flight limit and its counters (``GET /healthz``). Used from the event loop only,
    which runs one thing at a time: the counters need no lock."""

    def __init__(self, max_inflight: int, retry_after_s: int, max_inflight_pixels: int) -> None:
        self.max_inflight = max_inflight
        self.max_inflight_pixels = max_inflight_pixels
        self.retry_after_s = retry_after_s
        self._inflight = 0  # requests admitted and not yet answered
        self._pixels = 0  # their photos' pixels
        self._refused = 0  # requests answered 503 because that many were in flight
        self._refused_pixels = 0  # requests answered 503 because that many pixels were in flight

    def snapshot(self) -> dict[str, int]:
        return {
            "inflight": self._inflight,
            "max_inflight": self.max_inflight,
            "refused": self._refused,
            "inflight_pixels": self._pixels,
            "max_inflight_pixels": self.max_inflight_pixels,
            "refused_pixels": self._refused_pixels,
        }

    @contextmanager
    def admit(self, model: ServedModel, pixels: int = 0) -> Iterator[Booking]:
        """Admit one request for ``model`` whose photo has ``pixels`` and book its place there,
        or refuse it (503). A refusal by the model's lanes while it runs (its queue filled up
        meanwhile, or the server is stopping) is answered the same way."""
        if self._inflight >= self.max_inflight:
            self._refused += 1
            raise unavailable(
                f"server is busy ({self._inflight} fills in progress); retry in {self.retry_after_s} s",
                self.retry_after_s,
            )
        if self._inflight and self._pixels + pixels > self.max_inflight_pixels:
            self._refused_pixels += 1
            raise unavailable(
                f"server is busy with big photos ({self._pixels / 1e6:.0f} MP being filled); "
                f"retry in {self.retry_after_s} s",
                self.retry_after_s,
            )
        self._inflight += 1
        self._pixels += pixels
        try:
            with model.book() as booking:
                yield booking
        except Refused as exc:
            raise self._refusal(model, exc) from None
        finally:
            self._inflight -= 1
            self._pixels -= pixels

    def _refusal(self, model: ServedModel, exc: Refused) -> ApiError:
        if isinstance(exc, BatcherClosed):
            return unavailable("server is shutting down", self.retry_after_s)
        waiting = model.ordinary.queue_size
        return unavailable(
            f"model {model.name!r} is busy ({waiting} requests already waiting); retry shortly", self.retry_after_s
        )
