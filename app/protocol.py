"""uvicorn's HTTP/1.1 protocol with deadlines for slow clients.

uvicorn closes idle keep-alive connections but waits forever for a request that never
finishes arriving, so a few hundred clients that send half a header line (or a body one byte
a minute) hold sockets and file descriptors until the server cannot accept anyone else. Here
every request must deliver its headers within ``header_timeout`` seconds of its first byte
(or of the connection opening) and its body within ``body_timeout`` seconds of the headers;
otherwise the connection is closed. Once a request has arrived, the server's own work has no
deadline here (admission and the queues bound it).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)


class DeadlineProtocol(H11Protocol):
    """``H11Protocol`` whose connections are dropped when a request arrives too slowly; its
    deadlines are set by ``deadline_protocol`` (from the settings)."""

    header_timeout: float
    body_timeout: float

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._phase: str | None = None  # "headers" or "body" while the client owes us bytes
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._track()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._track()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._track()

    def connection_lost(self, exc: Exception | None) -> None:
        self._set_phase(None)
        super().connection_lost(exc)

    def _track(self) -> None:
        """Arm the deadline of what the client is sending now: a request's headers (waiting
        for them while idle is the keep-alive timer's job), its body, or nothing."""
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            self._set_phase("body")
        elif state is h11.IDLE and (self._phase == "headers" or self.conn.trailing_data[0] or self.cycle is None):
            self._set_phase("headers")
        else:
            self._set_phase(None)

    def _set_phase(self, phase: str | None) -> None:
        if phase == self._phase:
            return
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._phase = phase
        if phase is not None:
            seconds = self.header_timeout if phase == "headers" else self.body_timeout
            self._deadline = self.loop.call_later(seconds, self._expire, phase, seconds)

    def _expire(self, phase: str, seconds: float) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        who = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
        log.warning("closing the connection from %s: request %s not received within %.0f s", who, phase, seconds)
        self.transport.close()


def deadline_protocol(header_timeout: float, body_timeout: float) -> type[DeadlineProtocol]:
    """A ``DeadlineProtocol`` class with these deadlines, for ``uvicorn.run(http=...)``."""
    return type(
        "ConfiguredDeadlineProtocol",
        (DeadlineProtocol,),
        {"header_timeout": header_timeout, "body_timeout": body_timeout},
    )
