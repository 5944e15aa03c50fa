"""Service endpoints: liveness, limits and the per-model batching and admission counters."""

from __future__ import annotations

from fastapi import APIRouter

from app.dependencies import RuntimeDep
from app.openapi import error_responses
from app.schemas import Health, Limits, QueueStats

router = APIRouter(tags=["service"])


@router.get("/healthz", response_model=Health, summary="Liveness and loaded models", responses=error_responses(503))
async def healthz(runtime: RuntimeDep) -> Health:
    """200 once the models are loaded; includes per-model micro-batching counters."""
    settings = runtime.settings
    return Health(
        status="ok",
        device=str(runtime.device),
        default_model=runtime.default,
        models=list(runtime.models),
        skipped=runtime.skipped,
        limits=Limits(
            max_upload_mb=settings.max_upload_mb, max_pixels=settings.max_pixels, max_holes=settings.max_holes
        ),
        queues={
            batcher.name: QueueStats(**batcher.snapshot())
            for entry in runtime.models.values()
            for batcher in entry.batchers
        },
        admission={"inflight": runtime.inflight, "max_inflight": settings.max_inflight, "refused": runtime.refused},
    )
