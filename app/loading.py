"""Load every model once at start-up.

The default generator (CE_WEIGHTS) must load or the server refuses to start with one clear
message; other exports in CE_MODELS_DIR that fail to load are skipped and reported in
/healthz, so a stray checkpoint in the folder cannot take the service down. The classical
fillers come last.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from app.admission import Admission
from app.compute import ComputeThread
from app.memory import limit_arenas
from app.presentation import classical_info, generator_info
from app.scheduling import CpuSteps, ServedModel, cpu_count
from app.settings import Settings
from app.state import ServerState
from model.devices import pick_device
from model.fillers import classical_fillers, load_filler

log = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """The server cannot start; the message says why (and names the file)."""


def find_exports(settings: Settings) -> list[Path]:
    """The default weights first, then every other *.pt in the models folder (sorted)."""
    folder = settings.models_folder
    if settings.models_dir is not None and not folder.is_dir():
        raise StartupError(f"CE_MODELS_DIR is not a folder: {folder}")
    default = settings.weights.resolve()
    others = sorted(p.resolve() for p in folder.glob("*.pt") if p.is_file()) if folder.is_dir() else []
    return [default] + [p for p in others if p != default]


def load_server(settings: Settings) -> ServerState:
    """Load every model once and start its lanes; raise ``StartupError`` if the default weights
    (or the settings) cannot be used. Call it from the event loop (the lifespan): the CPU
    limiter belongs to that loop."""
    limit_arenas(settings.malloc_arenas)
    try:
        device = pick_device(settings.device)
    except ValueError as exc:
        raise StartupError(f"CE_DEVICE={settings.device}: {exc}") from None
    compute = ComputeThread()
    try:
        models, default, skipped = _load_models(settings, device, compute)
    except BaseException:
        compute.close(timeout=1.0)
        raise
    log.info("serving %s on %s (default %s)", ", ".join(models), device, default)
    steps = CpuSteps(settings.heavy_nice)
    admission = Admission(settings.max_inflight, settings.retry_after_s, settings.max_inflight_pixels)
    return ServerState(settings, device, models, default, compute, steps, admission, skipped)


def _load_models(
    settings: Settings, device: torch.device, compute: ComputeThread
) -> tuple[dict[str, ServedModel], str, list[str]]:
    """The served models by name, the default's name and the exports skipped, with why."""
    if device.type == "cpu":
        # all torch work runs in the compute thread, so it gets every core unless told otherwise
        compute.call(torch.set_num_threads, settings.torch_threads or cpu_count())
    paths = find_exports(settings)
    default_path = paths[0]
    models: dict[str, ServedModel] = {}
    skipped: list[str] = []
    try:
        for path in paths:
            is_default = path == default_path
            if path.stem in models:
                skipped.append(f"{path.name}: name {path.stem!r} is taken by the default weights")
                continue
            try:
                filler = compute.call(  # loaded where it will run: no second OpenMP team
                    load_filler,
                    path,
                    device,
                    max_batch=settings.max_batch,
                    max_holes=settings.max_holes,
                    name=path.stem,
                )
            except Exception as exc:  # WeightsError, or a config this code cannot build
                if is_default:
                    raise StartupError(f"cannot load the default weights (CE_WEIGHTS): {_naming(exc, path)}") from None
                log.warning("skipping %s: %s", path, exc)
                skipped.append(f"{path.name}: {exc}")
                continue
            models[path.stem] = ServedModel.start(filler, generator_info(filler, is_default), settings, compute)
        for classical in classical_fillers():
            if classical.name in models:
                skipped.append(f"classical {classical.name}: name taken by a generator export")
                continue
            models[classical.name] = ServedModel.start(classical, classical_info(classical), settings, compute)
    except BaseException:
        for loaded in models.values():
            loaded.close(timeout=1.0)
        raise
    return models, default_path.stem, skipped


def _naming(exc: Exception, path: Path) -> str:
    """The error text, with the path added when the error itself does not name it."""
    text = str(exc)
    return text if str(path) in text else f"{path}: {text}"
