"""What routes ask FastAPI for: the loaded server (``ServerDep``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.admission import unavailable
from app.state import ServerState


def get_server(request: Request) -> ServerState:
    """The loaded models (set by the lifespan); 503 while the server starts or stops."""
    server = getattr(request.app.state, "server", None)
    if server is None:
        retry_after_s = request.app.state.settings.retry_after_s
        raise unavailable("server is not ready: models are not loaded", retry_after_s)
    return server


ServerDep = Annotated[ServerState, Depends(get_server)]
