"""Learning rates of a training run: how long it lasts, the cosine decay, and what a resumed run
trains at (each change is recorded in the run's ``lr_schedule``, which the export carries)."""

from __future__ import annotations

import logging
import math

import torch

from model.tools.train_config import TrainConfig

log = logging.getLogger(__name__)

COSINE_FLOOR = 0.02  # the cosine ends at this fraction of --lr


def total_steps(config: TrainConfig, n_train: int, world: int) -> int:
    """``--steps``, or ``--epochs`` passes over the training images by every process together."""
    if config.steps is not None:
        return config.steps
    return max(1, math.ceil(config.epochs * n_train / (config.batch_size * world)))


def discriminator_lr(config: TrainConfig) -> float:
    """``--lr-d``, or a tenth of the generator's rate as in the paper."""
    return config.lr_d if config.lr_d is not None else config.lr / 10


def cosine_factor(step: int, steps: int, floor: float = COSINE_FLOOR) -> float:
    """Learning-rate multiplier: 1 at step 0 falling along a half cosine to ``floor`` at ``steps``."""
    t = min(1.0, step / max(1, steps))
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * t))


def warmup_factor(step: int, warmup: int) -> float:
    """Learning-rate multiplier rising linearly from 1/warmup at step 0 to 1 at ``warmup`` steps."""
    return min(1.0, (step + 1) / warmup) if warmup > 0 else 1.0


def learning_rates(opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer | None) -> dict[str, float | None]:
    """The rates the optimisers hold now, as ``lr_schedule`` records them."""
    return {
        "lr_g": opt_g.param_groups[0]["lr"],
        "lr_d": opt_d.param_groups[0]["lr"] if opt_d is not None else None,
    }


def set_learning_rates(
    opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer | None, lr_g: float, lr_d: float | None
) -> None:
    for group in opt_g.param_groups:
        group["lr"] = lr_g
    if opt_d is not None:
        for group in opt_d.param_groups:
            group["lr"] = lr_d


def apply_cosine(
    opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer | None, config: TrainConfig, step: int, steps: int
) -> None:
    """``--lr-decay cosine``: both rates follow the half cosine for this step, from ``--lr`` at
    step ``--cosine-from`` (0, or a resumed run's step for a warm restart) to its floor at ``steps``,
    rising linearly over the first ``--warmup`` steps of it: a fresh Adam's first steps are
    taken on a few batches' moments. (Measured: it does not remove the dip that a restart of
    the default from its export shows at 3e-5 and at 7e-5; see MODEL_CARD.md.)"""
    since = step - config.cosine_from
    f = cosine_factor(since, steps - config.cosine_from) * warmup_factor(since, config.warmup)
    set_learning_rates(opt_g, opt_d, config.lr * f, discriminator_lr(config) * f)


def cosine_shape(config: TrainConfig, steps: int) -> dict:
    """What an ``lr_schedule`` entry records of a cosine run's shape: where it ends, and where it
    starts and how long it warms up when not at once from step 0 (empty without a cosine)."""
    if config.lr_decay != "cosine":
        return {}
    shape: dict = {"cosine_to_step": steps}
    shape |= {"cosine_from_step": config.cosine_from} if config.cosine_from else {}
    return shape | ({"warmup_steps": config.warmup} if config.warmup else {})


def resumed_rates(
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer | None,
    config: TrainConfig,
    saved_args: dict,
    step: int,
) -> dict | None:
    """Set the rates a resumed run trains at; returns the ``lr_schedule`` entry recording a
    change, or None when nothing changed."""
    if config.lr_decay == "cosine" and saved_args.get("lr_decay") == "cosine":
        # the schedule sets the rates every step; a change of --lr (or --steps, --cosine-from,
        # --warmup) is still recorded
        now = (config.lr, config.steps, config.cosine_from, config.warmup)
        before = (
            saved_args.get("lr"),
            saved_args.get("steps"),
            saved_args.get("cosine_from", 0),
            saved_args.get("warmup", 0),
        )
        if before != now:
            return {"step": step, "lr_g": config.lr, **cosine_shape(config, config.steps)}
        return None
    # otherwise the rates given now apply (a manual step decay: lower --lr and --resume once
    # validation flattens)
    wanted = {"lr_g": config.lr, "lr_d": discriminator_lr(config) if opt_d is not None else None}
    if wanted == learning_rates(opt_g, opt_d):
        return None
    set_learning_rates(opt_g, opt_d, wanted["lr_g"], wanted["lr_d"])
    log.info("learning rates from step %d: %s", step, wanted)
    return {"step": step, **wanted}
