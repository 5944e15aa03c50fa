"""Load every model once at start-up and own the threads that run them.

The default generator (CE_WEIGHTS) must load or the server refuses to start with one clear
message; other exports in CE_MODELS_DIR that fail to load are skipped and reported in
/healthz, so a stray checkpoint in the folder cannot take the service down.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import anyio
import numpy as np
import torch

from app import classical
from app.batching import Batcher
from app.errors import ApiError
from app.settings import Settings
from model.inference import InpaintModel, load_generator

log = logging.getLogger(__name__)

Kind = Literal["context-encoder", "classical"]


class StartupError(RuntimeError):
    """The server cannot start; the message says why (and names the file)."""


@dataclass
class ModelEntry:
    """A servable model: its public description and the batcher that runs it."""

    name: str
    kind: Kind
    info: dict[str, Any]
    batcher: Batcher
    generator: InpaintModel | None = None


@dataclass
class Runtime:
    """Everything the routes need, created in the lifespan and stored on ``app.state``."""

    settings: Settings
    device: torch.device
    models: dict[str, ModelEntry]
    default: str
    cpu_limiter: anyio.CapacityLimiter
    skipped: list[str] = field(default_factory=list)
    inflight: int = 0  # inpainting requests admitted and not yet answered
    refused: int = 0  # requests answered 503 by admission

    def resolve(self, name: str | None) -> ModelEntry:
        """The model a request asked for (blank = default); unknown names -> 422 listing valid ones."""
        if name is None or not name.strip():
            return self.models[self.default]
        entry = self.models.get(name.strip())
        if entry is None:
            valid = ", ".join(self.models)
            shown = name if len(name) <= 64 else name[:61] + "..."  # never echo a megabyte back
            raise ApiError(422, f"unknown model {shown!r}; valid names: {valid}")
        return entry

    def model_infos(self) -> list[dict[str, Any]]:
        return [entry.info for entry in self.models.values()]

    def close(self) -> None:
        for entry in self.models.values():
            entry.batcher.close()


def pick_device(choice: str) -> torch.device:
    if choice == "cuda" and not torch.cuda.is_available():
        raise StartupError("CE_DEVICE=cuda but no CUDA device is available")
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(choice)


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def jsonable(value: Any) -> Any:
    """Export metadata as strict JSON: NaN/inf become null, tuples lists, odd types strings."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return jsonable(value.item())
    return str(value)


def headline(evaluation: dict[str, Any]) -> list[dict[str, Any]]:
    """The measured hole PSNR per (image set, hole type) beside the better classical filler's,
    in the order the evaluation recorded them: what a user choosing a model wants to read."""
    rows = []
    for result in evaluation.get("results", []) if isinstance(evaluation, dict) else []:
        classical_psnr = [v.get("psnr") for k, v in result.get("baselines", {}).items() if k in ("telea", "ns")]
        classical_psnr = [p for p in classical_psnr if isinstance(p, int | float) and math.isfinite(p)]
        psnr = result.get("psnr")
        if not isinstance(psnr, int | float) or not math.isfinite(psnr):
            continue
        rows.append(
            {
                "set": result.get("set"),
                "mask": result.get("mask"),
                "psnr": round(float(psnr), 2),
                "best_classical_psnr": round(max(classical_psnr), 2) if classical_psnr else None,
            }
        )
    return rows


# what an export without its own card (released before cards existed) is shown as
CARD_BY_MASK_TYPE = {
    "center": ("Context Encoder, central hole (paper)", "a square hole in the middle of the view, as in the paper"),
    "mixed": ("Context Encoder", "objects, blobs and strokes"),
}


def generator_info(name: str, model: InpaintModel, default: bool) -> dict[str, Any]:
    meta = model.meta
    card = meta.card
    title, good_at = CARD_BY_MASK_TYPE.get(meta.mask_type, (f"Context Encoder ({name})", f"{meta.mask_type} holes"))
    return {
        "name": name,
        "title": card.get("title") or title,
        "good_at": card.get("good_at") or good_at,
        "headline": headline(meta.evaluation),
        "kind": "context-encoder",
        "default": default,
        "description": f"Context Encoder generator trained on {meta.mask_type} holes ({model.path.name}).",
        "mask_type": meta.mask_type,
        "input_size": model.size,
        "parameters": model.parameters,
        "file": model.path.name,
        "training": jsonable(meta.training),
        "evaluation": jsonable(meta.evaluation),
    }


def classical_info(name: str, default: bool) -> dict[str, Any]:
    return {
        "name": name,
        "title": classical.TITLES[name],
        "good_at": classical.GOOD_AT[name],
        "headline": [],
        "kind": "classical",
        "default": default,
        "description": classical.DESCRIPTIONS[name],
        "mask_type": None,
        "input_size": None,
        "parameters": None,
        "file": None,
        "training": {},
        "evaluation": {},
    }


def generator_batcher(name: str, model: InpaintModel, settings: Settings) -> Batcher:
    """Payload: (inputs (N,S,S,3) uint8, holes (N,S,S) bool) of one request; one fill per batch."""

    def run(payloads: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
        inputs = np.concatenate([p[0] for p in payloads])
        holes = np.concatenate([p[1] for p in payloads])
        outputs = model.fill(inputs, holes)
        bounds = np.cumsum([len(p[0]) for p in payloads])[:-1]
        return np.split(outputs, bounds)

    return Batcher(
        name,
        run,
        max_batch=settings.max_batch,
        wait_s=settings.batch_wait_ms / 1000,
        queue_size=settings.queue_size,
        threads=settings.workers,
        cost=lambda payload: len(payload[0]),
    )


def classical_batcher(name: str, settings: Settings) -> Batcher:
    """Payload: (rgb, hole) of one image; classical fills are per image, so batches of one."""

    def run(payloads: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
        return [classical.classical_fill(rgb, hole, name) for rgb, hole in payloads]

    return Batcher(name, run, max_batch=1, wait_s=0.0, queue_size=settings.queue_size, threads=settings.workers)


def find_exports(settings: Settings) -> list[Path]:
    """The default weights first, then every other *.pt in the models folder (sorted)."""
    folder = settings.models_folder
    if settings.models_dir is not None and not folder.is_dir():
        raise StartupError(f"CE_MODELS_DIR is not a folder: {folder}")
    default = settings.weights.resolve()
    others = sorted(p.resolve() for p in folder.glob("*.pt") if p.is_file()) if folder.is_dir() else []
    return [default] + [p for p in others if p != default]


def load_runtime(settings: Settings) -> Runtime:
    """Load every generator once and start its batcher; raise ``StartupError`` if the default
    weights (or the settings) cannot be used. Call it from the event loop (the lifespan): the
    CPU limiter belongs to that loop."""
    device = pick_device(settings.device)
    if device.type == "cpu":
        # each inference thread runs whole batches; split the cores between them (process-wide)
        torch.set_num_threads(settings.torch_threads or max(1, cpu_count() // settings.workers))
    paths = find_exports(settings)
    default_path = paths[0]
    models: dict[str, ModelEntry] = {}
    skipped: list[str] = []
    try:
        for path in paths:
            is_default = path == default_path
            if path.stem in models:
                skipped.append(f"{path.name}: name {path.stem!r} is taken by the default weights")
                continue
            try:
                generator = load_generator(path, device)
            except Exception as exc:  # WeightsError, or a config this code cannot build
                if is_default:
                    raise StartupError(f"cannot load the default weights (CE_WEIGHTS): {_naming(exc, path)}") from None
                log.warning("skipping %s: %s", path, exc)
                skipped.append(f"{path.name}: {exc}")
                continue
            generator.max_batch = settings.max_batch
            info = generator_info(path.stem, generator, is_default)
            batcher = generator_batcher(path.stem, generator, settings).start()
            models[path.stem] = ModelEntry(path.stem, "context-encoder", info, batcher, generator)
        for name in classical.methods():
            if name in models:
                skipped.append(f"classical {name}: name taken by a generator export")
                continue
            batcher = classical_batcher(name, settings).start()
            models[name] = ModelEntry(name, "classical", classical_info(name, False), batcher)
    except BaseException:
        for entry in models.values():
            entry.batcher.close(timeout=1.0)
        raise
    limiter = anyio.CapacityLimiter(max(2, cpu_count()))
    log.info("serving %s on %s (default %s)", ", ".join(models), device, default_path.stem)
    return Runtime(settings, device, models, default_path.stem, limiter, skipped)


def _naming(exc: Exception, path: Path) -> str:
    """The error text, with the path added when the error itself does not name it."""
    text = str(exc)
    return text if str(path) in text else f"{path}: {text}"
