"""Service endpoints: liveness, limits and the per-model batching and admission counters."""

from __future__ import annotations

import os
import resource
import sys

from fastapi import APIRouter

from app.dependencies import ServerDep
from app.openapi import error_responses
from app.schemas import Health, Limits, QueueStats
from app.settings import MIB
from app.version import VERSION

router = APIRouter(tags=["service"])


def memory_mib() -> dict[str, float | None]:
    """The server process's resident memory now and at its peak (MiB): what a load test or an
    operator watches to see that memory stays bounded."""
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    peak = peak_kib / MIB if sys.platform == "darwin" else peak_kib / 1024
    try:
        with open("/proc/self/statm") as statm:
            rss = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MIB
    except OSError:
        rss = None
    if rss is None:
        return {"rss_mib": None, "peak_rss_mib": round(peak, 1)}
    return {"rss_mib": round(rss, 1), "peak_rss_mib": round(max(peak, rss), 1)}


@router.get("/healthz", response_model=Health, summary="Liveness and loaded models", responses=error_responses(503))
async def healthz(server: ServerDep) -> Health:
    """200 once the models are loaded; includes per-model micro-batching counters."""
    settings = server.settings
    return Health(
        status="ok",
        version=VERSION,
        device=str(server.device),
        default_model=server.default,
        models=list(server.models),
        skipped=server.skipped,
        limits=Limits(
            max_upload_mb=settings.max_upload_mb, max_pixels=settings.max_pixels, max_holes=settings.max_holes
        ),
        queues={lane.name: QueueStats(**lane.snapshot()) for model in server.models.values() for lane in model.lanes},
        memory=memory_mib(),
        admission=server.admission.snapshot(),
    )
