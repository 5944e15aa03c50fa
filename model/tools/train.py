"""Train a Context Encoder: ``python -m model.tools.train --data DIR --out RUN_DIR``.

Joint objective ``0.999 * masked L2 + 0.001 * adversarial`` (``--adv 0`` for the
reconstruction-only model, ``--mask none --adv 0`` for the autoencoder baseline). The same
code runs on one CPU, one GPU, or several GPUs under ``torchrun`` (DDP).

RUN_DIR gets: ``checkpoint.pt`` (full state, ``--resume``), ``generator.pt`` (fp16
generator-only export), ``metrics.jsonl``, ``samples/step_*.png``, ``val_files.txt``.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import math
import platform
import random
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from tqdm import tqdm

from model.baselines import telea_prefill
from model.data import (
    augment,
    cached_images,
    center_view,
    list_images,
    mean_colour,
    split_files,
    to_unit_range,
)
from model.devices import DEVICE_CHOICES
from model.export import GeneratorMeta, check_export, export_generator, float32_state_dict
from model.files import atomic_save, atomic_write_text
from model.losses import (
    DEFAULT_OVERLAP,
    DEFAULT_OVERLAP_WEIGHT,
    discriminator_loss,
    generator_adversarial_loss,
    joint_loss,
    masked_l2,
    random_translate,
)
from model.masks import CONSTANT_KINDS, MASK_TYPES, MaskPool, center_mask, mask_batch, mask_fn, silhouettes_for
from model.metrics import hole_errors
from model.networks import Discriminator, Generator, GeneratorConfig, generator_input
from model.tools import distributed
from model.tools.samples import save_sample_grid

log = logging.getLogger("model.tools.train")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ce-train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--data", required=True, type=Path, help="folder of photographs (recursive jpg/png/webp)")
    p.add_argument("--out", required=True, type=Path, help="run folder for checkpoints, exports, metrics, samples")
    p.add_argument("--mask", default="mixed", choices=MASK_TYPES, help="hole shapes to train on (default: mixed)")
    p.add_argument("--masks", type=Path, default=None, help="folder of object silhouettes (PNG) for region masks")
    p.add_argument("--steps", type=int, default=None, help="optimisation steps (default: from --epochs)")
    p.add_argument(
        "--epochs", type=float, default=10.0, help="passes over the training images when --steps is not given"
    )
    p.add_argument("--batch-size", type=int, default=32, help="images per step per process")
    p.add_argument("--lr", type=float, default=2e-4, help="generator learning rate (Adam, beta1 0.5)")
    p.add_argument(
        "--lr-d", type=float, default=None, help="discriminator learning rate (default: lr / 10, as in the paper)"
    )
    p.add_argument(
        "--input",
        default="telea",
        choices=("telea", "mean"),
        help="generator input: hole pre-filled by Telea + mask channel, predicting a correction "
        "(default), or the paper's mean-colour hole and a whole-image output",
    )
    p.add_argument(
        "--lr-decay",
        default="none",
        choices=("none", "cosine"),
        help="cosine: the learning rates fall along a half cosine to 2%% of --lr at --steps",
    )
    p.add_argument(
        "--ema", type=float, default=0.0, help="decay of an exponential moving average of G exported (0 = off)"
    )
    p.add_argument("--adv", type=float, default=0.001, help="adversarial weight lambda_adv (0 = reconstruction only)")
    p.add_argument(
        "--d-norm",
        default="batch",
        choices=("batch", "spectral"),
        help="discriminator normalisation: DCGAN batch norm (paper) or spectral norm (bounded gradients)",
    )
    p.add_argument(
        "--d-shift",
        type=int,
        default=0,
        help="random translation (px) of real and completed images before the discriminator (0 = off)",
    )
    p.add_argument("--rec", type=float, default=None, help="reconstruction weight (default: 1 - adv)")
    p.add_argument("--overlap", type=int, default=DEFAULT_OVERLAP, help="overlap band width in pixels")
    p.add_argument(
        "--overlap-weight", type=float, default=DEFAULT_OVERLAP_WEIGHT, help="loss weight of the overlap band"
    )
    p.add_argument("--image-size", type=int, default=128)
    p.add_argument("--val-count", type=int, default=300, help="files held out (seeded) for validation")
    p.add_argument("--exclude", type=Path, default=None, help="text file of image paths never to train on")
    p.add_argument("--cache", type=Path, default=None, help="decoded-image cache folder (default: OUT/../.cache)")
    p.add_argument(
        "--mask-pool", type=int, default=8192, help="masks drawn once and reused with random flips/rotations"
    )
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument(
        "--init-from",
        type=Path,
        default=None,
        help="start the generator from this run checkpoint or export (fine-tuning; fresh optimisers and D)",
    )
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--sample-every", type=int, default=500)
    p.add_argument("--ckpt-every", type=int, default=500)
    p.add_argument("--no-progress", action="store_true", help="no tqdm bar (logs only)")
    return p


def discriminator_lr(args: argparse.Namespace) -> float:
    """``--lr-d``, or a tenth of the generator's rate as in the paper."""
    return args.lr_d if args.lr_d is not None else args.lr / 10


def prefill(images: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """Telea fill of a (B, 3, S, S) [-1, 1] batch, on the CPU with OpenCV, as the network's start."""
    pixels = ((images.detach().float().cpu().permute(0, 2, 3, 1) + 1) * 127.5).round().clamp(0, 255).byte().numpy()
    filled = telea_prefill(pixels, hole[:, 0].bool().cpu().numpy())
    out = torch.from_numpy(filled).to(images.device).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
    return out.contiguous(memory_format=torch.channels_last)


def cosine_factor(step: int, steps: int, floor: float = 0.02) -> float:
    """Learning-rate multiplier: 1 at step 0 falling along a half cosine to ``floor`` at ``steps``."""
    t = min(1.0, step / max(1, steps))
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * t))


def _unwrap(module: nn.Module) -> nn.Module:
    return module.module if isinstance(module, DDP) else module


class Trainer:
    """Owns the networks, optimisers, data and state of one training run."""

    def __init__(self, args: argparse.Namespace, rt: distributed.Runtime) -> None:
        self.args = args
        self.rt = rt
        self.dev = rt.device
        self.cuda = self.dev.type == "cuda"
        self.out: Path = args.out
        if rt.is_main:
            (self.out / "samples").mkdir(parents=True, exist_ok=True)
        self._load_data()
        self._build_models()
        # fixed validation inputs, pre-filled once
        self.val_inputs = {name: self.inputs(self.val_images, hole) for name, hole in self.val_holes.items()}
        self.step = 0
        self.images_seen = 0
        self.train_seconds = 0.0
        self.gen = torch.Generator(device="cpu").manual_seed(args.seed * 1000 + rt.rank)
        self.init_source: dict | None = None
        self.lr_schedule: list[dict] = [{"step": 0, **self._current_lrs()}]
        resumed = self._resume() if args.resume else False
        if args.init_from is not None and not resumed:
            self._init_generator(args.init_from)

    # ---------------------------------------------------------------- data
    def _load_data(self) -> None:
        args = self.args
        files = list_images(args.data)
        if args.exclude is not None:
            # one path per line, absolute or relative to --data (docs/heldout-transfer.txt)
            lines = [line.strip() for line in args.exclude.read_text().splitlines() if line.strip()]
            excluded = {str((args.data / line).resolve()) for line in lines}
            files = [f for f in files if str(f.resolve()) not in excluded]
        val_count = min(args.val_count, len(files) // 5)
        train_files, val_files = split_files(files, val_count, args.seed)
        if self.rt.is_main:
            (self.out / "val_files.txt").write_text("".join(f"{f}\n" for f in val_files))
        cache_dir = args.cache or (self.out.parent / ".cache")
        # rank 0 decodes first; the others then read its cache instead of decoding again
        if not self.rt.is_main:
            distributed.barrier(self.rt)
        train = cached_images(train_files, cache_dir)
        val = cached_images(val_files, cache_dir) if val_files else train
        if self.rt.is_main:
            distributed.barrier(self.rt)
            if train.skipped:
                log.warning("skipped %d unreadable training images", len(train.skipped))
        # a writable in-memory copy: the cache is a read-only memmap
        self.train_pixels = torch.from_numpy(np.array(train.pixels)).to(self.dev)
        self.n_train = len(train.files)
        self.n_skipped = len(train.skipped)
        self.mean = mean_colour(train.pixels, seed=args.seed)
        self.mean_t = torch.tensor(self.mean, device=self.dev) * 2 - 1
        fixed = torch.from_numpy(np.array(val.pixels[:256])).to(self.dev)
        self.val_images = center_view(to_unit_range(fixed), args.image_size)
        shapes = silhouettes_for([args.mask], args.masks, args.seed)
        self.masks = MaskPool(args.mask, args.image_size, args.mask_pool, args.seed, shapes, self.dev)
        val_rng = np.random.default_rng(args.seed + 12345)
        n_val = len(self.val_images)
        self.val_holes = {
            "center": torch.from_numpy(np.stack([center_mask(None, args.image_size)] * n_val))
            .unsqueeze(1)
            .float()
            .to(self.dev),
            "mixed": torch.from_numpy(mask_batch(mask_fn("mixed", args.image_size, shapes), val_rng, n_val))
            .unsqueeze(1)
            .float()
            .to(self.dev),
        }
        if args.mask not in ("mixed", *CONSTANT_KINDS):
            self.val_holes[args.mask] = (
                torch.from_numpy(mask_batch(mask_fn(args.mask, args.image_size, shapes), val_rng, n_val))
                .unsqueeze(1)
                .float()
                .to(self.dev)
            )
        self.sample_hole = self.val_holes["center" if args.mask in CONSTANT_KINDS else "mixed"][:8]

    # -------------------------------------------------------------- models
    def _build_models(self) -> None:
        args = self.args
        correction = args.input == "telea"
        config = GeneratorConfig(image_size=args.image_size, in_channels=4 if correction else 3, residual=correction)
        self.G = Generator(config).to(self.dev)
        self.use_adv = args.adv > 0
        self.lambda_adv = args.adv
        self.lambda_rec = args.rec if args.rec is not None else 1.0 - args.adv
        self.D = (
            Discriminator(args.image_size, spectral_norm=args.d_norm == "spectral").to(self.dev)
            if self.use_adv
            else None
        )
        # channels_last is faster on both CPU (oneDNN, ~1.7x measured) and CUDA tensor cores
        self.G = self.G.to(memory_format=torch.channels_last)
        if self.D is not None:
            self.D = self.D.to(memory_format=torch.channels_last)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=args.lr, betas=(0.5, 0.999))
        self.opt_d = (
            torch.optim.Adam(self.D.parameters(), lr=discriminator_lr(args), betas=(0.5, 0.999))
            if self.D is not None
            else None
        )
        # the weights' moving average, exported and validated instead of the noisy last step
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False) if args.ema > 0 else None
        if self.rt.distributed:
            ids = [self.dev.index] if self.cuda else None
            self.G = DDP(self.G, device_ids=ids)
            if self.D is not None:
                self.D = DDP(self.D, device_ids=ids)

    def _autocast(self):
        return torch.autocast("cuda", dtype=torch.bfloat16) if self.cuda else nullcontext()

    def inputs(self, images: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        """The generator's input for a batch (pre-filled by Telea when the design asks for it)."""
        cfg = _unwrap(self.G).config
        filled = prefill(images, hole) if cfg.in_channels == 4 else None
        return generator_input(images, hole, cfg, self.mean_t, filled).contiguous(memory_format=torch.channels_last)

    def exported_generator(self) -> Generator:
        """The averaged weights when ``--ema`` is on, else the trained ones."""
        return self.G_ema if self.G_ema is not None else _unwrap(self.G)

    @torch.no_grad()
    def update_ema(self) -> None:
        if self.G_ema is None:
            return
        decay = self.args.ema
        live = _unwrap(self.G).state_dict()
        for name, value in self.G_ema.state_dict().items():
            if value.is_floating_point():
                value.lerp_(live[name], 1 - decay)
            else:
                value.copy_(live[name])

    def set_learning_rates(self) -> None:
        """Apply ``--lr-decay`` for the current step (a no-op without decay)."""
        if self.args.lr_decay != "cosine":
            return
        f = cosine_factor(self.step, total_steps(self.args, self.n_train, self.rt.world_size))
        for group in self.opt_g.param_groups:
            group["lr"] = self.args.lr * f
        if self.opt_d is not None:
            for group in self.opt_d.param_groups:
                group["lr"] = discriminator_lr(self.args) * f

    # ------------------------------------------------------------ one step
    def batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        bs = self.args.batch_size
        idx = torch.randint(self.n_train, (bs,), generator=self.gen).to(self.dev)
        images = augment(to_unit_range(self.train_pixels[idx]), self.args.image_size, self.gen)
        hole = self.masks.sample(bs, self.gen)
        return images.contiguous(memory_format=torch.channels_last), hole

    def train_step(self) -> dict[str, float]:
        real, hole = self.batch()
        self.G.train()
        inp = self.inputs(real, hole)
        with self._autocast():
            fake = self.G(inp)
        rec = masked_l2(fake, real, hole, self.args.overlap, self.args.overlap_weight)
        stats = {"rec": rec.item()}
        if not self.use_adv:
            loss = rec
        else:
            completed = real * (1 - hole) + fake.float() * hole
            # discriminator: real photographs vs completed ones
            shift = self.args.d_shift
            self.opt_d.zero_grad(set_to_none=True)
            with self._autocast():
                d_loss = discriminator_loss(
                    self.D(random_translate(real, shift, self.gen)),
                    self.D(random_translate(completed.detach(), shift, self.gen)),
                )
            d_loss.backward()
            self.opt_d.step()
            # generator: fool the (frozen) discriminator while reconstructing the hole
            d_plain = _unwrap(self.D)
            d_plain.requires_grad_(False)
            with self._autocast():
                adv = generator_adversarial_loss(d_plain(random_translate(completed, shift, self.gen)))
            d_plain.requires_grad_(True)
            loss = joint_loss(rec, adv, self.lambda_rec, self.lambda_adv)
            stats.update(adv=adv.item(), d=d_loss.item())
        if self.use_adv or self.lambda_rec != 1.0:
            stats["loss"] = loss.item()
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        self.update_ema()
        return stats

    # -------------------------------------------------------- measurement
    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        g = self.exported_generator()
        g.eval()
        out: dict[str, float] = {}
        truth = (self.val_images + 1) / 2
        for name, hole in self.val_holes.items():
            preds = []
            for i in range(0, len(self.val_images), 64):
                with self._autocast():
                    preds.append(g(self.val_inputs[name][i : i + 64]).float())
            pred = (torch.cat(preds) + 1) / 2
            errs = hole_errors(pred.clamp(0, 1), truth, hole)
            out[f"val_{name}_psnr"] = float(errs["psnr"].nanmean())
            out[f"val_{name}_l1"] = float(errs["l1"].nanmean())
        return out

    @torch.no_grad()
    def save_samples(self) -> Path:
        g = self.exported_generator()
        g.eval()
        real = self.val_images[:8]
        hole = self.sample_hole[: len(real)]
        inp = self.inputs(real, hole)
        with self._autocast():
            fake = g(inp).float().clamp(-1, 1)
        completed = real * (1 - hole) + fake * hole
        path = self.out / "samples" / f"step_{self.step:07d}.png"
        save_sample_grid([inp[:, :3], completed, real], path)
        return path

    # --------------------------------------------------------- persistence
    def meta(self) -> GeneratorMeta:
        a = self.args
        return GeneratorMeta(
            mask_type=a.mask,
            mean_colour=self.mean,
            overlap=a.overlap,
            training={
                "data": str(a.data),
                "train_images": self.n_train,
                "skipped_images": self.n_skipped,
                "val_images": len(self.val_images),
                "steps": self.step,
                "images_seen": self.images_seen,
                "batch_size": a.batch_size * self.rt.world_size,
                "lr_g": a.lr,
                "lr_d": discriminator_lr(a),
                "lr_schedule": self.lr_schedule,
                "lr_decay": a.lr_decay,
                "ema": a.ema,
                "input": a.input,
                "lambda_rec": self.lambda_rec,
                "lambda_adv": self.lambda_adv if self.use_adv else 0.0,
                "d_norm": a.d_norm if self.use_adv else None,
                "d_shift": a.d_shift if self.use_adv else None,
                "overlap_weight": a.overlap_weight,
                "masks_folder": str(a.masks) if a.masks else None,
                "seed": a.seed,
                "hardware": self.hardware(),
                "train_seconds": round(self.train_seconds, 1),
                "initialised_from": self.init_source,
            },
        )

    def hardware(self) -> str:
        if self.cuda:
            return f"{self.rt.world_size}x {torch.cuda.get_device_name(self.dev)}"
        return f"CPU {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"

    def save(self) -> None:
        if not self.rt.is_main:
            return
        state = {
            "step": self.step,
            "images_seen": self.images_seen,
            "train_seconds": self.train_seconds,
            "G": _unwrap(self.G).state_dict(),
            "G_ema": self.G_ema.state_dict() if self.G_ema is not None else None,
            "opt_g": self.opt_g.state_dict(),
            "D": _unwrap(self.D).state_dict() if self.D is not None else None,
            "opt_d": self.opt_d.state_dict() if self.opt_d is not None else None,
            "gen_state": self.gen.get_state(),
            "init_source": self.init_source,
            "lr_schedule": self.lr_schedule,
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(self.args).items()},
        }
        atomic_save(state, self.out / "checkpoint.pt")
        export_generator(self.exported_generator(), self.meta(), self.out / "generator.pt")

    def _init_generator(self, path: Path) -> None:
        """Load generator weights from another run (its fp32 checkpoint or its fp16 export), so
        a joint fine-tune starts from a converged reconstruction model instead of from noise."""
        if not path.is_file():
            raise FileNotFoundError(f"--init-from {path} does not exist")
        state = torch.load(path, map_location="cpu", weights_only=True)
        if isinstance(state, dict) and "G" in state:
            weights, steps, seen = state["G"], int(state["step"]), int(state["images_seen"])
        else:
            payload = check_export(state, path)  # loaded once above, validated here
            weights = float32_state_dict(payload)
            steps, seen = int(payload["training"].get("steps", 0)), int(payload["training"].get("images_seen", 0))
        _unwrap(self.G).load_state_dict(weights)
        if self.G_ema is not None:
            self.G_ema.load_state_dict(weights)
        self.init_source = {"path": str(path), "steps": steps, "images_seen": seen}
        log.info("generator initialised from %s (%d steps, %d images)", path, steps, seen)

    def _resume(self) -> bool:
        path = self.out / "checkpoint.pt"
        if not path.is_file():
            log.info("no checkpoint at %s: starting fresh", path)
            return False
        state = torch.load(path, map_location=self.dev, weights_only=False)
        _unwrap(self.G).load_state_dict(state["G"])
        if self.G_ema is not None:
            self.G_ema.load_state_dict(state.get("G_ema") or state["G"])
        self.opt_g.load_state_dict(state["opt_g"])
        if self.D is not None and state.get("D") is not None:
            _unwrap(self.D).load_state_dict(state["D"])
            self.opt_d.load_state_dict(state["opt_d"])
        self.lr_schedule = state.get("lr_schedule") or [{"step": 0, **self._current_lrs()}]
        self.step = int(state["step"])
        self.images_seen = int(state["images_seen"])
        self.train_seconds = float(state.get("train_seconds", 0.0))
        self.gen.set_state(state["gen_state"].cpu())
        self.init_source = state.get("init_source")
        log.info("resumed from step %d", self.step)
        self._drop_metrics_after(self.step)
        saved = state.get("args", {})
        if self.args.lr_decay == "cosine" and saved.get("lr_decay") == "cosine":
            # the schedule sets the rates every step; a change of --lr (or --steps) is still recorded
            if (saved.get("lr"), saved.get("steps")) != (self.args.lr, self.args.steps):
                self.lr_schedule.append({"step": self.step, "lr_g": self.args.lr, "cosine_to_step": self.args.steps})
        else:
            self._apply_command_line_lrs()
        return True

    def _drop_metrics_after(self, step: int) -> None:
        """A run killed between checkpoints logged steps that the resumed run will train and log
        again; keep metrics.jsonl one record per step by dropping those."""
        path = self.out / "metrics.jsonl"
        if not self.rt.is_main or not path.is_file():
            return
        lines = path.read_text().splitlines(keepends=True)
        kept = [line for line in lines if not line.strip() or json.loads(line).get("step", 0) <= step]
        if len(kept) != len(lines):
            atomic_write_text("".join(kept), path)
            log.info("dropped %d metrics records logged after step %d", len(lines) - len(kept), step)

    def _current_lrs(self) -> dict[str, float | None]:
        return {
            "lr_g": self.opt_g.param_groups[0]["lr"],
            "lr_d": self.opt_d.param_groups[0]["lr"] if self.opt_d is not None else None,
        }

    def _apply_command_line_lrs(self) -> None:
        """A resumed run trains at the learning rates given now (a manual step decay: lower
        ``--lr`` and ``--resume`` once validation flattens); each change is recorded."""
        wanted = {"lr_g": self.args.lr, "lr_d": discriminator_lr(self.args) if self.opt_d is not None else None}
        if wanted == self._current_lrs():
            return
        for group in self.opt_g.param_groups:
            group["lr"] = wanted["lr_g"]
        if self.opt_d is not None:
            for group in self.opt_d.param_groups:
                group["lr"] = wanted["lr_d"]
        self.lr_schedule.append({"step": self.step, **wanted})
        log.info("learning rates from step %d: %s", self.step, wanted)

    def log_metrics(self, record: dict) -> None:
        if self.rt.is_main:
            with (self.out / "metrics.jsonl").open("a") as fh:
                fh.write(json.dumps(record) + "\n")


def total_steps(args: argparse.Namespace, n_train: int, world: int) -> int:
    if args.steps is not None:
        return args.steps
    return max(1, math.ceil(args.epochs * n_train / (args.batch_size * world)))


def train(args: argparse.Namespace) -> Path:
    """Run (or resume) training; returns the path of the generator export."""
    rt = distributed.setup(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    seed = args.seed * 1000 + rt.rank
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    try:
        trainer = Trainer(args, rt)
        steps = total_steps(args, trainer.n_train, rt.world_size)
        if rt.is_main and trainer.step == 0:
            trainer.log_metrics(
                {
                    "step": 0,
                    "event": "start",
                    "train_images": trainer.n_train,
                    "mean_colour": trainer.mean,
                    **trainer.validate(),
                }
            )
        bar = tqdm(
            total=steps,
            initial=trainer.step,
            disable=args.no_progress or not rt.is_main,
            mininterval=2.0,
            dynamic_ncols=True,
            file=sys.stderr,
        )
        window_start, window_images = time.perf_counter(), 0
        while trainer.step < steps:
            t0 = time.perf_counter()
            trainer.set_learning_rates()
            stats = trainer.train_step()
            trainer.train_seconds += time.perf_counter() - t0
            trainer.step += 1
            n = args.batch_size * rt.world_size
            trainer.images_seen += n
            window_images += n
            bar.update(1)
            if trainer.step % args.log_every == 0 or trainer.step == steps:
                ips = window_images / (time.perf_counter() - window_start)
                window_start, window_images = time.perf_counter(), 0
                bar.set_postfix({k: f"{v:.4f}" for k, v in stats.items()} | {"img/s": f"{ips:.1f}"})
                trainer.log_metrics(
                    {"step": trainer.step, **stats, "img_per_s": round(ips, 2), "images_seen": trainer.images_seen}
                )
            if rt.is_main and (trainer.step % args.sample_every == 0 or trainer.step == steps):
                trainer.save_samples()
            if trainer.step % args.ckpt_every == 0 or trainer.step == steps:
                if rt.is_main:
                    trainer.log_metrics({"step": trainer.step, "event": "validation", **trainer.validate()})
                trainer.save()
                window_start, window_images = time.perf_counter(), 0
        bar.close()
        return args.out / "generator.pt"
    finally:
        distributed.teardown(rt)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        path = train(args)
    except (ValueError, FileNotFoundError) as exc:
        raise SystemExit(f"error: {exc}") from exc
    print(f"generator export: {path}")


if __name__ == "__main__":
    main()
