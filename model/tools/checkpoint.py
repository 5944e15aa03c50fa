"""A training run's state and the files that keep it between runs.

``checkpoint.pt`` holds everything ``--resume`` needs to continue exactly (weights, optimisers,
the batch generator's state, the counters, the learning-rate history, the run's ``TrainConfig``
as ``args``);
``generator.pt`` is the fp16 export; ``metrics.jsonl`` holds one record per step and event.
``--init-from`` starts a new run's generator from another run's checkpoint or export.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

from model.export import GeneratorMeta, check_export, export_generator, float32_state_dict
from model.files import atomic_save, atomic_write_text
from model.networks import Generator
from model.tools.schedule import learning_rates, resumed_rates
from model.tools.train_config import TrainConfig

log = logging.getLogger(__name__)

# what a run trains towards; a resumed run keeps them unless --retarget (a run resumed without
# repeating --overlap 0 once trained on another loss, and lost 0.07 dB of validation before it
# was noticed). The rates, length, precision, threads and paths may change.
RUN_DEFINING = (
    "mask", "mix", "input", "adv", "rec", "rec_mean", "rec_norm", "rec_blur", "overlap", "overlap_weight", "d_arch",
    "d_width", "fm", "grid", "spectral", "detail", "d_norm", "d_shift", "ema", "smooth_share", "hole_noise",
    "hint", "mirror", "upsample", "padding", "pooled_code",  # no parameters: a forgotten flag trains another network
    "split_seed",  # another split would train on photographs the run validated on
)  # fmt: skip
# what runs checkpointed before an option existed trained with
BEFORE_OPTION = {
    "hint": False,
    "mirror": False,
    "padding": "zeros",
    "pooled_code": False,
    "rec_mean": "pixels",
    "mix": None,
    "rec_norm": "l2",
    "rec_blur": 0.0,
    "d_arch": "global",
    "d_width": 64,
    "fm": 0.0,
    "grid": 0.0,
    "spectral": 0.0,
    "detail": 0.0,
    "smooth_share": 0.0,
    "hole_noise": 0.0,
}
GROWN_PARTS = ("skips.", "refine.")  # zero-initialised: adding them keeps the generator's function
CHECKPOINT = "checkpoint.pt"
EXPORT = "generator.pt"
METRICS = "metrics.jsonl"


def unwrap(module: nn.Module) -> nn.Module:
    """The network inside a DDP wrapper (torchrun), or the network itself."""
    return module.module if isinstance(module, DDP) else module


@dataclass
class Networks:
    """The generator, the discriminator and both optimisers (joint loss only for D), and the
    generator's moving average (``--ema``)."""

    G: nn.Module  # a Generator, DDP-wrapped under torchrun
    opt_g: torch.optim.Optimizer
    D: nn.Module | None = None  # a Discriminator, DDP-wrapped under torchrun
    opt_d: torch.optim.Optimizer | None = None
    G_ema: Generator | None = None

    @property
    def generator(self) -> Generator:
        return unwrap(self.G)

    @property
    def exported(self) -> Generator:
        """What is validated, sampled and exported: the averaged weights when ``--ema`` is on."""
        return self.G_ema if self.G_ema is not None else self.generator


@dataclass
class Progress:
    """How far a run has come: the counters, the batch generator and the learning-rate history."""

    gen: torch.Generator  # batches, augmentation, hole draws and D shifts, resumed exactly
    lr_schedule: list[dict]  # {"step", "lr_g", "lr_d"} at the start and at each change
    step: int = 0
    images_seen: int = 0
    train_seconds: float = 0.0
    init_source: dict | None = None  # where --init-from took the generator from


def save_checkpoint(out: Path, nets: Networks, progress: Progress, config: TrainConfig, meta: GeneratorMeta) -> None:
    """Write ``checkpoint.pt`` and the export, each atomically (a kill never leaves half a file)."""
    state = {
        "step": progress.step,
        "images_seen": progress.images_seen,
        "train_seconds": progress.train_seconds,
        "G": nets.generator.state_dict(),
        "G_ema": nets.G_ema.state_dict() if nets.G_ema is not None else None,
        "opt_g": nets.opt_g.state_dict(),
        "D": unwrap(nets.D).state_dict() if nets.D is not None else None,
        "opt_d": nets.opt_d.state_dict() if nets.opt_d is not None else None,
        "gen_state": progress.gen.get_state(),
        "init_source": progress.init_source,
        "lr_schedule": progress.lr_schedule,
        "args": config.record(),
    }
    atomic_save(state, out / CHECKPOINT)
    export_generator(nets.exported, meta, out / EXPORT)


def resume(
    out: Path, nets: Networks, progress: Progress, config: TrainConfig, device: torch.device, is_main: bool
) -> bool:
    """Continue from ``out/checkpoint.pt`` if there is one: weights, optimisers, counters and
    the batch generator; metrics logged after it are dropped; the learning rates given now
    apply (recorded in ``lr_schedule``). False when there is nothing to resume."""
    path = out / CHECKPOINT
    if not path.is_file():
        log.info("no checkpoint at %s: starting fresh", path)
        return False
    state = torch.load(path, map_location=device, weights_only=False)
    check_same_run_definition(state.get("args", {}), config)
    grown = load_grown(nets.generator, state["G"])
    if nets.G_ema is not None:
        load_grown(nets.G_ema, state.get("G_ema") or state["G"])
    nets.opt_g.load_state_dict(optimiser_state_grown(state["opt_g"], nets.generator, grown))
    if nets.D is not None and state.get("D") is not None:
        unwrap(nets.D).load_state_dict(state["D"])
        nets.opt_d.load_state_dict(state["opt_d"])
    progress.lr_schedule = state.get("lr_schedule") or [{"step": 0, **learning_rates(nets.opt_g, nets.opt_d)}]
    progress.step = int(state["step"])
    progress.images_seen = int(state["images_seen"])
    progress.train_seconds = float(state.get("train_seconds", 0.0))
    progress.gen.set_state(state["gen_state"].cpu())
    progress.init_source = state.get("init_source")
    log.info("resumed from step %d", progress.step)
    if is_main:
        trim_metrics(out / METRICS, progress.step)
    change = resumed_rates(nets.opt_g, nets.opt_d, config, state.get("args", {}), progress.step)
    if change is not None:
        progress.lr_schedule.append(change)
    return True


def init_generator(path: Path, nets: Networks) -> dict:
    """Load generator weights from another run (its fp32 checkpoint or its fp16 export), so a
    joint fine-tune starts from a converged reconstruction model instead of from noise; returns
    where they came from (recorded as ``initialised_from``)."""
    if not path.is_file():
        raise FileNotFoundError(f"--init-from {path} does not exist")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "G" in state:
        weights, steps, seen = state["G"], int(state["step"]), int(state["images_seen"])
        lineage = {}
    else:
        payload = check_export(state, path)  # loaded once above, validated here
        weights = float32_state_dict(payload)
        steps, seen = int(payload["training"].get("steps", 0)), int(payload["training"].get("images_seen", 0))
        lineage = {"training": payload["training"]}  # how those weights were trained, for the release
    load_grown(nets.generator, weights)
    if nets.G_ema is not None:
        load_grown(nets.G_ema, weights)
    log.info("generator initialised from %s (%d steps, %d images)", path, steps, seen)
    return {"path": str(path), "steps": steps, "images_seen": seen, **lineage}


def check_same_run_definition(saved: dict, config: TrainConfig) -> None:
    """Refuse to resume with another loss, other holes or another validation split than the
    checkpoint trained on, unless ``--retarget`` says so (then the change is logged)."""
    saved = {**BEFORE_OPTION, **saved}
    changed = [k for k in RUN_DEFINING if k in saved and saved[k] != getattr(config, k)]
    if not changed:
        return
    given = ", ".join(f"--{k.replace('_', '-')} {getattr(config, k)} (the run's: {saved[k]})" for k in changed)
    if not config.retarget:
        raise ValueError(
            f"--resume continues the run in {config.out} as it was set up, but {given}: repeat the run's "
            "own values, or add --retarget to train on from here with the new ones"
        )
    log.warning("retargeted from here on: %s", given)


def load_grown(generator: nn.Module, weights: dict) -> list[str]:
    """Load ``weights`` into ``generator``, which may have grown skips or the refinement since
    (both start at zero, so it is the same function); any other mismatch is an error. Returns
    the grown parameters' names."""
    weights = with_grown_inputs(generator, weights)
    missing, unexpected = generator.load_state_dict(weights, strict=False)
    grown = [k for k in missing if k.startswith(GROWN_PARTS)]
    if unexpected or len(grown) != len(missing):
        raise RuntimeError(f"the generator weights do not fit: missing {missing}, unexpected {unexpected}")
    if grown:
        log.info("grown parts (their output starts at zero): %s", ", ".join(grown))
    parameters = {name for name, _ in generator.named_parameters()}
    return [k for k in grown if k in parameters]


def with_grown_inputs(generator: nn.Module, weights: dict) -> dict:
    """``weights`` with the first convolution's missing input channels (a refiner grown a detail
    hint, ``--hint``) added at zero, so the grown generator starts as the same function."""
    first = "encoder.layers.0.0.weight"
    target = generator.state_dict().get(first)
    saved = weights.get(first)
    if target is None or saved is None or saved.shape[1] >= target.shape[1] or saved.shape[2:] != target.shape[2:]:
        return weights
    pad = saved.new_zeros(saved.shape[0], target.shape[1] - saved.shape[1], *saved.shape[2:])
    log.info("grown input channels (their weights start at zero): %d -> %d", saved.shape[1], target.shape[1])
    return {**weights, first: torch.cat([saved, pad], dim=1)}


def optimiser_state_grown(saved: dict, generator: nn.Module, grown: list[str]) -> dict:
    """A saved single-group optimiser state for ``generator`` after it grew the ``grown``
    parameters: the old ones keep their Adam moments, the new ones start fresh. The state is
    kept by position, so the new parameters must be registered after every old one."""
    if not grown:
        return saved
    names = [name for name, _ in generator.named_parameters()]
    if names[len(names) - len(grown) :] != grown or len(saved["param_groups"]) != 1:
        raise RuntimeError(f"cannot resume the optimiser of a network grown by {grown}: not its last parameters")
    group = saved["param_groups"][0]
    params = list(group["params"])
    first_new = max(params, default=-1) + 1
    return {**saved, "param_groups": [{**group, "params": [*params, *range(first_new, first_new + len(grown))]}]}


def append_metrics(path: Path, record: dict) -> None:
    with path.open("a") as fh:
        fh.write(json.dumps(record) + "\n")


def trim_metrics(path: Path, step: int) -> None:
    """A run killed between checkpoints logged steps that the resumed run will train and log
    again; keep metrics.jsonl one record per step by dropping those."""
    if not path.is_file():
        return
    lines = path.read_text().splitlines(keepends=True)
    kept = [line for line in lines if not line.strip() or json.loads(line).get("step", 0) <= step]
    if len(kept) != len(lines):
        atomic_write_text("".join(kept), path)
        log.info("dropped %d metrics records logged after step %d", len(lines) - len(kept), step)
