"""Load every model once at start-up and own the threads that run them.

The default generator (CE_WEIGHTS) must load or the server refuses to start with one clear
message; other exports in CE_MODELS_DIR that fail to load are skipped and reported in
/healthz, so a stray checkpoint in the folder cannot take the service down.
"""

from __future__ import annotations

import logging
import math
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import torch

from app.batching import Batcher, lower_priority
from app.compute import ComputeThread
from app.errors import ApiError
from app.schemas import Measurement, ModelInfo, TrainingSummary
from app.settings import Settings
from model.devices import pick_device
from model.eval.schema import ReleasedEvaluation
from model.fillers import ClassicalFiller, Filler, GeneratorFiller, classical_fillers, load_filler
from model.inference import ChunkRunner

log = logging.getLogger(__name__)

HEAVY_LANE = ":heavy"  # suffix of the heavy lane's name in /healthz queues
HEAVY_NICE = 10  # heavy requests' threads run at this niceness: ordinary requests come first
HEAVY_PIECE = 2  # windows per compute-thread job of a heavy request (an ordinary one waits at most this)


class StartupError(RuntimeError):
    """The server cannot start; the message says why (and names the file)."""


@dataclass
class ModelEntry:
    """A servable model: the filler, its public description and the batchers that run it.

    Two lanes, each with its own thread: a request that needs more than one batch of windows
    (or a photo over ``HEAVY_PIXELS``) runs in ``heavy``, so a few such requests cannot hold
    up the ordinary ones queued in ``batcher``. A generator's lanes hand their torch work to
    the process's one compute thread, chunk by chunk, the ordinary lane's chunks first.
    """

    filler: Filler
    info: ModelInfo
    batcher: Batcher
    heavy: Batcher

    @property
    def name(self) -> str:
        return self.filler.name

    @property
    def batchers(self) -> tuple[Batcher, Batcher]:
        return self.batcher, self.heavy


@dataclass
class Runtime:
    """Everything the routes need, created in the lifespan and stored on ``app.state``."""

    settings: Settings
    device: torch.device
    models: dict[str, ModelEntry]
    default: str
    cpu_limiter: anyio.CapacityLimiter
    heavy_steps: ThreadPoolExecutor  # heavy requests' CPU steps, one at a time, at HEAVY_NICE
    compute: ComputeThread  # every generator's torch work (see app.compute)
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

    def model_infos(self) -> list[ModelInfo]:
        return [entry.info for entry in self.models.values()]

    def close(self) -> None:
        for entry in self.models.values():
            for batcher in entry.batchers:
                batcher.close()
        self.heavy_steps.shutdown(wait=False, cancel_futures=True)
        self.compute.close()


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


SETTING = re.compile(r"[a-z0-9_.-]{1,24}")  # a setting's value (l2, bf16, kodak24), never a sentence
MEASURED = ("psnr", "l1", "l2", "ssim", "sharpness", "truth_sharpness")


def number(value: Any) -> float | None:
    """A finite number from export metadata (a one-element tensor too), else None."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def count(value: Any) -> int | None:
    found = number(value)
    return None if found is None else int(found)


def setting(value: Any) -> str | None:
    """A short setting's value (``l2``, ``bf16``); anything longer or freer (a note) is left out."""
    return value if isinstance(value, str) and SETTING.fullmatch(value) else None


def training_summary(training: Any) -> TrainingSummary:
    """The numbers and settings of an export's training record, for ``GET /api/models``. The
    record's free text (notes, hardware, paths) stays in the file: clients get structured fields."""
    record = training if isinstance(training, dict) else {}
    shares = record.get("mixed_shares")
    shares = {str(k): n for k, v in shares.items() if (n := number(v)) is not None} if isinstance(shares, dict) else {}
    adversarial = number(record.get("lambda_adv"))
    ema = number(record.get("ema"))
    return TrainingSummary(
        steps=count(record.get("total_steps", record.get("steps"))),
        images_seen=count(record.get("total_images_seen", record.get("images_seen"))),
        batch_size=count(record.get("batch_size")),
        train_images=count(record.get("train_images")),
        input=setting(record.get("input")),
        # exports from before --rec-norm were all trained with the paper's squared error
        reconstruction=setting(record.get("rec_norm", "l2" if "lambda_rec" in record else None)),
        reconstruction_weight=number(record.get("lambda_rec")),
        adversarial_weight=adversarial,
        feature_matching_weight=number(record.get("lambda_fm")),
        discriminator=setting(record.get("d_arch", "global")) if adversarial else None,
        hole_shares=shares or None,
        ema=ema or None,  # 0: the last step's weights
        precision=setting(record.get("precision")),
    )


def measurements(evaluation: Any) -> list[Measurement]:
    """The numbers an export's evaluation record holds, per (image set, hole type)."""
    rows = []
    for result in ReleasedEvaluation.read(evaluation).results:
        if not (setting(result.set) and setting(result.mask)):
            continue
        rows.append(
            Measurement(
                set=result.set,
                mask=result.mask,
                images=result.images,
                **{key: getattr(result, key) for key in MEASURED},
                baselines={
                    name: {"psnr": scores.psnr, "l1": scores.l1}
                    for name, scores in result.baselines.items()
                    if setting(name)
                },
            )
        )
    return rows


def headline(evaluation: dict[str, Any]) -> list[dict[str, Any]]:
    """The measured hole PSNR per (image set, hole type) beside the better classical filler's,
    in the order the evaluation recorded them: what a user choosing a model wants to read."""
    rows = []
    for result in ReleasedEvaluation.read(evaluation).results:
        if result.psnr is None:
            continue
        classical = [result.baselines[name].psnr for name in ("telea", "ns") if name in result.baselines]
        classical_psnr = [psnr for psnr in classical if psnr is not None]
        rows.append(
            {
                "set": result.set,
                "mask": result.mask,
                "psnr": round(result.psnr, 2),
                "best_classical_psnr": round(max(classical_psnr), 2) if classical_psnr else None,
            }
        )
    return rows


# what an export without its own card (released before cards existed) is shown as
CARD_BY_MASK_TYPE = {
    "center": ("Context Encoder, central hole (paper)", "a square hole in the middle of the view, as in the paper"),
    "mixed": ("Context Encoder", "objects, blobs and strokes"),
}


def generator_info(filler: GeneratorFiller, default: bool) -> ModelInfo:
    model = filler.model
    meta = model.meta
    card = meta.card
    title, good_at = CARD_BY_MASK_TYPE.get(
        meta.mask_type, (f"Context Encoder ({filler.name})", f"{meta.mask_type} holes")
    )
    return ModelInfo(
        name=filler.name,
        title=card.get("title") or title,
        good_at=card.get("good_at") or good_at,
        headline=headline(meta.evaluation),
        kind=filler.kind,
        default=default,
        description=f"Context Encoder generator trained on {meta.mask_type} holes ({model.path.name}).",
        mask_type=meta.mask_type,
        input_size=model.size,
        parameters=model.parameters,
        file=model.path.name,
        training=training_summary(meta.training),
        evaluation=measurements(meta.evaluation),
    )


def classical_info(filler: ClassicalFiller) -> ModelInfo:
    return ModelInfo(
        name=filler.name,
        title=filler.title,
        good_at=filler.good_at,
        kind=filler.kind,
        default=False,
        description=filler.description,
    )


def heavy_chunks(compute: ComputeThread, ordinary: Batcher | None = None, piece: int = HEAVY_PIECE) -> ChunkRunner:
    """The heavy lane's chunks, cut into pieces of ``piece`` windows queued behind ordinary
    work one at a time: an ordinary request then waits for at most one small piece. While
    ordinary requests are being prepared or queued (``ordinary.busy``), each piece is followed
    by a pause as long as itself, so heavy work takes at most half the cores from them (the
    compute thread cannot run it at a lower OS priority)."""

    def run_chunk(
        fn: Callable[[np.ndarray, np.ndarray], np.ndarray], pixels: np.ndarray, hole: np.ndarray
    ) -> np.ndarray:
        parts = []
        for i in range(0, len(pixels), piece):
            start = time.monotonic()
            parts.append(compute.call(fn, pixels[i : i + piece], hole[i : i + piece], priority=1))
            if ordinary is not None and ordinary.busy:
                time.sleep(time.monotonic() - start)
        return np.concatenate(parts)

    return run_chunk


def start_batcher(
    filler: Filler,
    settings: Settings,
    compute: ComputeThread,
    lane: str = "",
    nice: int = 0,
    ordinary: Batcher | None = None,
) -> Batcher:
    """The filler's ``run`` behind a bounded queue: concurrent requests share one call, up to
    ``filler.max_batch`` windows (a classical filler takes one image per call). A generator's
    chunks run in ``compute``, the heavy lane's after the ordinary lane's."""
    run = filler.run
    if isinstance(filler, GeneratorFiller):
        heavy = lane == HEAVY_LANE
        run_chunk = heavy_chunks(compute, ordinary) if heavy else partial(compute.call, priority=0)
        run = partial(filler.run, run_chunk=run_chunk)
    return Batcher(
        filler.name + lane,
        run,
        max_batch=filler.max_batch,
        wait_s=settings.batch_wait_ms / 1000,
        queue_size=settings.queue_size,
        threads=settings.workers,
        cost=filler.cost,
        nice=nice,
    ).start()


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
    try:
        device = pick_device(settings.device)
    except ValueError as exc:
        raise StartupError(f"CE_DEVICE={settings.device}: {exc}") from None
    compute = ComputeThread()
    try:
        return _load_models(settings, device, compute)
    except BaseException:
        compute.close(timeout=1.0)
        raise


def _load_models(settings: Settings, device: torch.device, compute: ComputeThread) -> Runtime:
    if device.type == "cpu":
        # all torch work runs in the compute thread, so it gets every core unless told otherwise
        compute.call(torch.set_num_threads, settings.torch_threads or cpu_count())
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
            models[path.stem] = model_entry(filler, generator_info(filler, is_default), settings, compute)
        for classical in classical_fillers():
            if classical.name in models:
                skipped.append(f"classical {classical.name}: name taken by a generator export")
                continue
            models[classical.name] = model_entry(classical, classical_info(classical), settings, compute)
    except BaseException:
        for loaded in models.values():
            for batcher in loaded.batchers:
                batcher.close(timeout=1.0)
        raise
    limiter = anyio.CapacityLimiter(max(2, cpu_count()))
    heavy_steps = ThreadPoolExecutor(1, "heavy-steps", initializer=lower_priority, initargs=(HEAVY_NICE,))
    log.info("serving %s on %s (default %s)", ", ".join(models), device, default_path.stem)
    return Runtime(settings, device, models, default_path.stem, limiter, heavy_steps, compute, skipped)


def model_entry(filler: Filler, info: ModelInfo, settings: Settings, compute: ComputeThread) -> ModelEntry:
    """A model with its two lanes started."""
    batcher = start_batcher(filler, settings, compute)
    try:
        heavy = start_batcher(filler, settings, compute, HEAVY_LANE, HEAVY_NICE, ordinary=batcher)
    except BaseException:
        batcher.close(timeout=1.0)
        raise
    return ModelEntry(filler, info, batcher, heavy)


def _naming(exc: Exception, path: Path) -> str:
    """The error text, with the path added when the error itself does not name it."""
    text = str(exc)
    return text if str(path) in text else f"{path}: {text}"
