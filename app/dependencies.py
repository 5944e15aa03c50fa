"""What routes ask FastAPI for: the loaded models (``RuntimeDep``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.errors import ApiError
from app.registry import Runtime


def get_runtime(request: Request) -> Runtime:
    """The loaded models (set by the lifespan); 503 while the server starts or stops."""
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is None:
        raise ApiError(503, "server is not ready: models are not loaded", headers={"Retry-After": "1"})
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
