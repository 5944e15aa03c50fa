"""Learning rates of a training run: how long it lasts, the cosine decay, and what a resumed run
trains at (each change is recorded in the run's ``lr_schedule``, which the export carries)."""

from __future__ import annotations

import argparse
import logging
import math

import torch

log = logging.getLogger(__name__)

COSINE_FLOOR = 0.02  # the cosine ends at this fraction of --lr


def total_steps(args: argparse.Namespace, n_train: int, world: int) -> int:
    """``--steps``, or ``--epochs`` passes over the training images by every process together."""
    if args.steps is not None:
        return args.steps
    return max(1, math.ceil(args.epochs * n_train / (args.batch_size * world)))


def discriminator_lr(args: argparse.Namespace) -> float:
    """``--lr-d``, or a tenth of the generator's rate as in the paper."""
    return args.lr_d if args.lr_d is not None else args.lr / 10


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
    opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer | None, args: argparse.Namespace, step: int, steps: int
) -> None:
    """``--lr-decay cosine``: both rates follow the half cosine for this step, from ``--lr`` at
    step ``--cosine-from`` (0, or a resumed run's step for a warm restart) to its floor at ``steps``,
    rising linearly over the first ``--warmup`` steps of it: a fresh Adam's first steps are
    taken on a few batches' moments. (Measured: it does not remove the dip that a restart of
    the default from its export shows at 3e-5 and at 7e-5; see MODEL_CARD.md.)"""
    since = step - args.cosine_from
    f = cosine_factor(since, steps - args.cosine_from) * warmup_factor(since, args.warmup)
    set_learning_rates(opt_g, opt_d, args.lr * f, discriminator_lr(args) * f)


def cosine_shape(args: argparse.Namespace, steps: int) -> dict:
    """What an ``lr_schedule`` entry records of a cosine run's shape: where it ends, and where it
    starts and how long it warms up when not at once from step 0 (empty without a cosine)."""
    if args.lr_decay != "cosine":
        return {}
    shape: dict = {"cosine_to_step": steps}
    shape |= {"cosine_from_step": args.cosine_from} if args.cosine_from else {}
    return shape | ({"warmup_steps": args.warmup} if args.warmup else {})


def resumed_rates(
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer | None,
    args: argparse.Namespace,
    saved_args: dict,
    step: int,
) -> dict | None:
    """Set the rates a resumed run trains at; returns the ``lr_schedule`` entry recording a
    change, or None when nothing changed."""
    if args.lr_decay == "cosine" and saved_args.get("lr_decay") == "cosine":
        # the schedule sets the rates every step; a change of --lr (or --steps, --cosine-from,
        # --warmup) is still recorded
        now = (args.lr, args.steps, args.cosine_from, args.warmup)
        before = (
            saved_args.get("lr"),
            saved_args.get("steps"),
            saved_args.get("cosine_from", 0),
            saved_args.get("warmup", 0),
        )
        if before != now:
            return {"step": step, "lr_g": args.lr, **cosine_shape(args, args.steps)}
        return None
    # otherwise the rates given now apply (a manual step decay: lower --lr and --resume once
    # validation flattens)
    wanted = {"lr_g": args.lr, "lr_d": discriminator_lr(args) if opt_d is not None else None}
    if wanted == learning_rates(opt_g, opt_d):
        return None
    set_learning_rates(opt_g, opt_d, wanted["lr_g"], wanted["lr_d"])
    log.info("learning rates from step %d: %s", step, wanted)
    return {"step": step, **wanted}
