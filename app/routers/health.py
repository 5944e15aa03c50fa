"""Service endpoints: liveness, limits and the per-model batching and admission counters."""

from __future__ import annotations

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
    operator watches to see that memory stays bounded.

    On Linux both come from ``/proc/self/status`` (VmRSS, VmHWM): ``getrusage``'s peak is
    inherited from the process that started the server (a fork copies its resident set, and
    exec keeps the larger peak), so a big launcher would be reported as the server's own peak.
    """
    status = proc_status_kib(("VmRSS", "VmHWM"))
    if status is not None:
        return {"rss_mib": round(status["VmRSS"] / 1024, 1), "peak_rss_mib": round(status["VmHWM"] / 1024, 1)}
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    peak = peak_kib / MIB if sys.platform == "darwin" else peak_kib / 1024
    return {"rss_mib": None, "peak_rss_mib": round(peak, 1)}


def proc_status_kib(keys: tuple[str, ...]) -> dict[str, int] | None:
    """The ``kB`` fields ``keys`` of ``/proc/self/status``; None where there is no procfs."""
    try:
        with open("/proc/self/status") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
        return {key: int(fields[key].split()[0]) for key in keys}
    except (OSError, KeyError, ValueError):
        return None


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
