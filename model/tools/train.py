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
import logging
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel as DDP
from tqdm import tqdm

from model.data import DEFAULT_MIN_CROP
from model.devices import DEVICE_CHOICES
from model.export import GeneratorMeta
from model.losses import (
    DEFAULT_OVERLAP,
    DEFAULT_OVERLAP_WEIGHT,
    REC_MEANS,
    REC_NORMS,
    discriminator_loss,
    feature_matching_loss,
    generator_adversarial_loss,
    hinge_discriminator_loss,
    hinge_generator_loss,
    joint_loss,
    masked_reconstruction,
    random_translate,
)
from model.masks import MASK_TYPES, MIXED_SHARES, parse_shares
from model.metrics import hole_errors, hole_grid
from model.networks import UPSAMPLE_MODES, Discriminator, Generator, GeneratorConfig, PatchDiscriminator
from model.realism import texture_ratios
from model.tools import distributed
from model.tools.checkpoint import (
    EXPORT,
    METRICS,
    Networks,
    Progress,
    append_metrics,
    init_generator,
    resume,
    save_checkpoint,
    unwrap,
)
from model.tools.samples import save_sample_grid
from model.tools.schedule import apply_cosine, cosine_shape, discriminator_lr, learning_rates, total_steps
from model.tools.train_data import VAL_COUNT, VALIDATION_CHUNK, TrainingData, generator_inputs, load_data, sample_batch


def _shares(text: str) -> dict[str, float]:
    try:
        return parse_shares(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ce-train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--data", required=True, type=Path, help="folder of photographs (recursive jpg/png/webp)")
    p.add_argument("--out", required=True, type=Path, help="run folder for checkpoints, exports, metrics, samples")
    p.add_argument("--mask", default="mixed", choices=MASK_TYPES, help="hole shapes to train on (default: mixed)")
    p.add_argument(
        "--mix",
        type=_shares,
        default=None,
        metavar="KIND=SHARE,...",
        help="shares of the mixed holes' kinds, e.g. region=3,freeform=4,strokes=1,block=1,center=1 "
        "(normalised; default region .35, freeform .20, strokes, block and center .15 each; "
        "irregular, ragged holes in pieces, only when named)",
    )
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
        "--skips",
        action="store_true",
        help="add the encoder's 8-64 px maps to the decoder (zero-initialised 1x1 projections)",
    )
    p.add_argument(
        "--refine",
        action="store_true",
        help="end with two 3x3 convolutions at full resolution over the input and the output "
        "(zero-initialised; --resume or --init-from may grow them onto a run without)",
    )
    p.add_argument(
        "--upsample",
        default="nearest",
        choices=UPSAMPLE_MODES,
        help="the decoder's 2x upsampling before each convolution: nearest (the paper's) or bilinear, which "
        "leaves an adversary no pixel phase to paint an 8 px grid on (--init-from a nearest export works)",
    )
    p.add_argument(
        "--lr-decay",
        default="none",
        choices=("none", "cosine"),
        help="cosine: the learning rates fall along a half cosine to 2%% of --lr at --steps",
    )
    p.add_argument(
        "--cosine-from",
        type=int,
        default=0,
        help="step at which the cosine starts at --lr: a warm restart of a resumed run starts it at "
        "the run's step (--resume --cosine-from STEP), so it anneals fully by --steps",
    )
    p.add_argument(
        "--warmup",
        type=int,
        default=0,
        help="with --lr-decay cosine: the rates rise linearly to --lr over this many steps from "
        "--cosine-from (for a restart with a fresh optimiser, e.g. --init-from)",
    )
    p.add_argument(
        "--ema", type=float, default=0.0, help="decay of an exponential moving average of G exported (0 = off)"
    )
    p.add_argument("--adv", type=float, default=0.001, help="adversarial weight lambda_adv (0 = reconstruction only)")
    p.add_argument(
        "--d-arch",
        default="global",
        choices=("global", "patch"),
        help="discriminator: the paper's DCGAN real/fake logit per image (global), or a conditional "
        "70 px patch discriminator (image + hole, spectral norm, hinge loss weighted by each patch's "
        "hole share; --d-norm does not apply)",
    )
    p.add_argument("--d-width", type=int, default=64, help="patch discriminator's first width (then 2x, 4x, 8x)")
    p.add_argument(
        "--fm",
        type=float,
        default=0.0,
        help="weight of feature matching on the patch discriminator's activations (0 = off; needs --d-arch patch)",
    )
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
    p.add_argument(
        "--rec-norm",
        default="l2",
        choices=REC_NORMS,
        help="reconstruction error: squared (the paper's; the mean of plausible fills, a blur) or absolute",
    )
    p.add_argument(
        "--rec-mean",
        default="pixels",
        choices=REC_MEANS,
        help="how the reconstruction error is averaged: over every hole pixel of the batch (the "
        "paper's), or as the mean per-image PSNR the evaluation reports (psnr)",
    )
    p.add_argument("--overlap", type=int, default=DEFAULT_OVERLAP, help="overlap band width in pixels")
    p.add_argument(
        "--overlap-weight", type=float, default=DEFAULT_OVERLAP_WEIGHT, help="loss weight of the overlap band"
    )
    p.add_argument("--image-size", type=int, default=128)
    p.add_argument(
        "--min-crop",
        type=float,
        default=DEFAULT_MIN_CROP,
        help="smallest side of the random crops, as a share of the cached photo (1: whole photos only; "
        "below 128/144 most crops are enlarged, softer than the photos the evaluation sees)",
    )
    p.add_argument(
        "--smooth-share",
        type=float,
        default=0.0,
        help="share of training images replaced by synthetic flat or linearly graded ones with faint noise, "
        "so a hole in flat context is filled flat (0 = photographs only)",
    )
    p.add_argument("--val-count", type=int, default=VAL_COUNT, help="files held out (seeded) for validation")
    p.add_argument("--exclude", type=Path, default=None, help="text file of image paths never to train on")
    p.add_argument("--cache", type=Path, default=None, help="decoded-image cache folder (default: OUT/../.cache)")
    p.add_argument(
        "--mask-pool", type=int, default=8192, help="masks drawn once and reused with random flips/rotations"
    )
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
    p.add_argument(
        "--precision",
        default="auto",
        choices=("auto", "bf16", "fp32"),
        help="training steps under bf16 autocast (weights stay fp32); auto: bf16 on CUDA, fp32 on a "
        "CPU, where bf16 pays only with native support (AVX512-BF16: ~1.9x faster steps)",
    )
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    p.add_argument("--seed", type=int, default=0, help="the run's draws: holes, crops, batch order")
    p.add_argument(
        "--split-seed",
        type=int,
        default=0,
        help="seed of the validation split alone, so a run with another --seed holds out the same "
        "photographs (0: docs/heldout-validation.txt, which the held-out evaluation uses)",
    )
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument(
        "--retarget",
        action="store_true",
        help="let --resume change the holes, the loss or the split (--mask, --overlap, --adv, --split-seed, ...) "
        "from here on, keeping the optimiser state (without it such a change is refused)",
    )
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


# ------------------------------------------------------------------ networks
def generator_config(args: argparse.Namespace) -> GeneratorConfig:
    """``--input telea`` (default): a Telea pre-fill plus the mask channel in, a correction out."""
    correction = args.input == "telea"
    return GeneratorConfig(
        image_size=args.image_size,
        in_channels=4 if correction else 3,
        residual=correction,
        skips=args.skips,
        refine=args.refine,
        upsample=args.upsample,
    )


def rec_weight(args: argparse.Namespace) -> float:
    """``--rec``, or what ``--adv`` leaves of 1."""
    return args.rec if args.rec is not None else 1.0 - args.adv


def build_discriminator(args: argparse.Namespace) -> Discriminator | PatchDiscriminator:
    """``--d-arch``: the paper's global discriminator or the conditional patch one."""
    if args.d_arch == "patch":
        w = args.d_width
        return PatchDiscriminator((w, 2 * w, 4 * w, 8 * w))
    return Discriminator(args.image_size, spectral_norm=args.d_norm == "spectral")


def build_networks(args: argparse.Namespace, config: GeneratorConfig, rt: distributed.Runtime) -> Networks:
    """G (and D when ``--adv`` > 0) with Adam (beta1 0.5, as DCGAN), channels_last, DDP-wrapped
    under torchrun."""
    G = Generator(config).to(rt.device)
    D = build_discriminator(args).to(rt.device) if args.adv > 0 or args.fm > 0 else None
    # channels_last is faster on both CPU (oneDNN, ~1.7x measured) and CUDA tensor cores
    G = G.to(memory_format=torch.channels_last)
    D = D.to(memory_format=torch.channels_last) if D is not None else None
    opt_g = torch.optim.Adam(G.parameters(), lr=args.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=discriminator_lr(args), betas=(0.5, 0.999)) if D is not None else None
    # the weights' moving average, exported and validated instead of the noisy last step
    G_ema = copy.deepcopy(G).eval().requires_grad_(False) if args.ema > 0 else None
    if rt.distributed:
        ids = [rt.device.index] if rt.device.type == "cuda" else None
        G = DDP(G, device_ids=ids)
        D = DDP(D, device_ids=ids) if D is not None else None
    return Networks(G, opt_g, D, opt_d, G_ema)


def uses_bf16(device: torch.device, precision: str) -> bool:
    """``--precision``: bf16 when asked, or on CUDA by default."""
    return precision == "bf16" or (precision == "auto" and device.type == "cuda")


def autocast(device: torch.device, precision: str = "auto") -> torch.autocast:
    """bf16 autocast where ``uses_bf16``, full precision otherwise. Validation and samples keep
    ``auto``, so a CPU run measures the fp32 network it exports and serves."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=uses_bf16(device, precision))


# ---------------------------------------------------------------------- step
def train_step(
    nets: Networks,
    args: argparse.Namespace,
    real: torch.Tensor,
    hole: torch.Tensor,
    mean: torch.Tensor,
    gen: torch.Generator,
) -> dict[str, float]:
    """One optimisation step on a batch: D on real against completed photographs (joint loss
    only), then G on the masked reconstruction plus fooling D. Returns the losses."""
    nets.G.train()
    inputs = generator_inputs(real, hole, nets.generator.config, mean)
    with autocast(real.device, args.precision):
        fake = nets.G(inputs)
    rec = masked_reconstruction(fake, real, hole, args.overlap, args.overlap_weight, args.rec_mean, args.rec_norm)
    stats = {"rec": rec.item()}
    loss = rec
    if nets.D is not None and args.d_arch == "patch":
        loss, patch_stats = patch_adversarial_loss(nets, args, real, fake, hole, rec, gen)
        stats.update(patch_stats)
    elif nets.D is not None:
        completed = real * (1 - hole) + fake.float() * hole
        # discriminator: real photographs vs completed ones
        nets.opt_d.zero_grad(set_to_none=True)
        with autocast(real.device, args.precision):
            d_loss = discriminator_loss(
                nets.D(random_translate(real, args.d_shift, gen)),
                nets.D(random_translate(completed.detach(), args.d_shift, gen)),
            )
        d_loss.backward()
        nets.opt_d.step()
        # generator: fool the (frozen) discriminator while reconstructing the hole
        d_plain = unwrap(nets.D).requires_grad_(False)
        with autocast(real.device, args.precision):
            adv = generator_adversarial_loss(d_plain(random_translate(completed, args.d_shift, gen)))
        d_plain.requires_grad_(True)
        loss = joint_loss(rec, adv, rec_weight(args), args.adv)
        stats.update(adv=adv.item(), d=d_loss.item())
    if nets.D is not None or rec_weight(args) != 1.0:
        stats["loss"] = loss.item()
    nets.opt_g.zero_grad(set_to_none=True)
    loss.backward()
    nets.opt_g.step()
    update_ema(nets, args.ema)
    return stats


def _shifted(
    images: list[torch.Tensor], hole: torch.Tensor, max_shift: int, gen: torch.Generator
) -> tuple[list[torch.Tensor], torch.Tensor]:
    """The same random translation of every image and of their hole, so they stay aligned."""
    moved = random_translate(torch.cat([*images, hole], dim=1), max_shift, gen)
    *parts, moved_hole = moved.split([*(t.shape[1] for t in images), hole.shape[1]], dim=1)
    return parts, moved_hole.detach()


def patch_adversarial_loss(
    nets: Networks,
    args: argparse.Namespace,
    real: torch.Tensor,
    fake: torch.Tensor,
    hole: torch.Tensor,
    rec: torch.Tensor,
    gen: torch.Generator,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The patch discriminator's step (hinge, hole-weighted patches), then the generator's loss:
    reconstruction, hinge adversarial term and feature matching. Returns that loss and the stats."""
    completed = real * (1 - hole) + fake.float() * hole
    share = unwrap(nets.D).hole_share
    nets.opt_d.zero_grad(set_to_none=True)
    (real_in,), real_hole = _shifted([real], hole, args.d_shift, gen)
    (fake_in,), fake_hole = _shifted([completed.detach()], hole, args.d_shift, gen)
    with autocast(real.device, args.precision):
        d_real, d_fake = nets.D(real_in, real_hole), nets.D(fake_in, fake_hole)
    d_loss = hinge_discriminator_loss(d_real, d_fake, share(real_hole), share(fake_hole))
    d_loss.backward()
    nets.opt_d.step()
    # the generator's side: the same shift for the completion and the photograph, so their
    # features line up for feature matching
    d_plain = unwrap(nets.D).requires_grad_(False)
    (fake_in, real_in), shifted_hole = _shifted([completed, real], hole, args.d_shift, gen)
    with autocast(real.device, args.precision):
        logits, fake_feats = d_plain.features(fake_in, shifted_hole)
        adv = hinge_generator_loss(logits, share(shifted_hole))
        loss = joint_loss(rec, adv, rec_weight(args), args.adv)
        stats = {"adv": adv.item(), "d": d_loss.item(), "d_real": d_real.float().mean().item()}
        if args.fm > 0:
            with torch.no_grad():
                _, real_feats = d_plain.features(real_in, shifted_hole)
            fm = feature_matching_loss(real_feats, fake_feats)
            loss = loss + args.fm * fm
            stats["fm"] = fm.item()
    d_plain.requires_grad_(True)
    return loss, stats


@torch.no_grad()
def update_ema(nets: Networks, decay: float) -> None:
    """Move the averaged weights a step towards the trained ones (``--ema``; a no-op without)."""
    if nets.G_ema is None:
        return
    live = nets.generator.state_dict()
    for name, value in nets.G_ema.state_dict().items():
        if value.is_floating_point():
            value.lerp_(live[name], 1 - decay)
        else:
            value.copy_(live[name])


# --------------------------------------------------------------- measurement
@torch.no_grad()
def validate(nets: Networks, data: TrainingData) -> dict[str, float]:
    """Hole-only PSNR, L1, texture and grid score of the exported weights on the fixed validation holes."""
    g = nets.exported.eval()
    truth = (data.val_images + 1) / 2
    truth_hwc = truth.permute(0, 2, 3, 1).double().cpu().numpy()
    out: dict[str, float] = {}
    for name, hole in data.val_holes.items():
        inputs = data.val_inputs[name]
        preds = []
        for i in range(0, len(inputs), VALIDATION_CHUNK):
            with autocast(inputs.device):
                preds.append(g(inputs[i : i + VALIDATION_CHUNK]).float())
        pred = ((torch.cat(preds) + 1) / 2).clamp(0, 1)
        errs = hole_errors(pred, truth, hole)
        out[f"val_{name}_psnr"] = float(errs["psnr"].nanmean())
        out[f"val_{name}_l1"] = float(errs["l1"].nanmean())
        # the evaluation's measure (the hole's interior, flat truths left out), in numpy on the CPU
        fills = pred.permute(0, 2, 3, 1).double().cpu().numpy()
        textures = texture_ratios(fills, truth_hwc, hole[:, 0].bool().cpu().numpy())
        out[f"val_{name}_texture"] = float(np.nanmean(textures))
        out[f"val_{name}_grid"] = float(hole_grid(pred, hole).nanmean())
    return out


@torch.no_grad()
def save_samples(nets: Networks, data: TrainingData, path: Path) -> Path:
    """A picture of (input | completed | truth) rows on fixed validation images."""
    g = nets.exported.eval()
    real = data.val_images[:8]
    hole = data.sample_holes[: len(real)]
    inputs = generator_inputs(real, hole, g.config, data.mean_input)
    with autocast(real.device):
        fake = g(inputs).float().clamp(-1, 1)
    completed = real * (1 - hole) + fake * hole
    save_sample_grid([inputs[:, :3], completed, real], path)
    return path


def hardware(rt: distributed.Runtime) -> str:
    if rt.device.type == "cuda":
        return f"{rt.world_size}x {torch.cuda.get_device_name(rt.device)}"
    return f"CPU {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"


def run_meta(
    args: argparse.Namespace, rt: distributed.Runtime, data: TrainingData, nets: Networks, progress: Progress
) -> GeneratorMeta:
    """What the export records about its training."""
    joint = nets.D is not None
    return GeneratorMeta(
        mask_type=args.mask,
        mean_colour=data.mean,
        training={
            "data": str(args.data),
            "train_images": data.n_train,
            "skipped_images": data.skipped,
            "val_images": len(data.val_images),
            "steps": progress.step,
            "images_seen": progress.images_seen,
            "batch_size": args.batch_size * rt.world_size,
            "lr_g": args.lr,
            "lr_d": discriminator_lr(args),
            "lr_schedule": progress.lr_schedule,
            "lr_decay": args.lr_decay,
            "warmup_steps": args.warmup if args.lr_decay == "cosine" else 0,
            "ema": args.ema,
            "input": args.input,
            "lambda_rec": rec_weight(args),
            "lambda_adv": args.adv if joint else 0.0,
            "lambda_fm": args.fm if joint else 0.0,
            "rec_norm": args.rec_norm,
            "d_arch": args.d_arch if joint else None,
            "d_width": args.d_width if joint and args.d_arch == "patch" else None,
            "d_norm": (args.d_norm if args.d_arch == "global" else "spectral") if joint else None,
            "d_shift": args.d_shift if joint else None,
            "overlap": args.overlap,
            "overlap_weight": args.overlap_weight,
            "rec_mean": args.rec_mean,
            "min_crop": args.min_crop,
            "smooth_share": args.smooth_share,
            "masks_folder": str(args.masks) if args.masks else None,
            "mixed_shares": (args.mix or MIXED_SHARES) if args.mask == "mixed" else None,
            "seed": args.seed,
            "split_seed": args.split_seed,
            "hardware": hardware(rt),
            "precision": "bf16" if uses_bf16(rt.device, args.precision) else "fp32",
            "train_seconds": round(progress.train_seconds, 1),
            "initialised_from": progress.init_source,
        },
    )


# ---------------------------------------------------------------------- loop
def setup(args: argparse.Namespace, rt: distributed.Runtime) -> tuple[TrainingData, Networks, Progress]:
    """Threads and seeds, data and networks, then the state of a resumed (``--resume``) or
    fine-tuned (``--init-from``) run: everything the loop needs."""
    if args.threads:
        torch.set_num_threads(args.threads)
    seed = args.seed * 1000 + rt.rank
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    if rt.is_main:
        (args.out / "samples").mkdir(parents=True, exist_ok=True)
    config = generator_config(args)
    data = load_data(args, rt, config)
    nets = build_networks(args, config, rt)
    progress = Progress(
        gen=torch.Generator(device="cpu").manual_seed(seed),
        # the rates and the schedule the run starts on (a resume replaces it with the run's own)
        lr_schedule=[
            {
                "step": 0,
                **learning_rates(nets.opt_g, nets.opt_d),
                **cosine_shape(args, total_steps(args, data.n_train, rt.world_size)),
            }
        ],
    )
    resumed = args.resume and resume(args.out, nets, progress, args, rt.device, rt.is_main)
    if args.init_from is not None and not resumed:
        progress.init_source = init_generator(args.init_from, nets)
    return data, nets, progress


def train(args: argparse.Namespace) -> Path:
    """Run (or resume) training; returns the path of the generator export."""
    with distributed.session(args.device) as rt:
        data, nets, progress = setup(args, rt)
        out: Path = args.out
        steps = total_steps(args, data.n_train, rt.world_size)
        if args.lr_decay == "cosine" and not 0 <= args.cosine_from < steps:
            raise ValueError(f"--cosine-from {args.cosine_from} must lie in [0, --steps {steps})")
        images_per_step = args.batch_size * rt.world_size
        metrics = out / METRICS
        if rt.is_main and progress.step == 0:
            start = {"step": 0, "event": "start", "train_images": data.n_train, "mean_colour": data.mean}
            append_metrics(metrics, start | validate(nets, data))

        # ---- the loop: lr schedule, batch, step, then logs, samples, validation and checkpoints
        bar = tqdm(
            total=steps,
            initial=progress.step,
            disable=args.no_progress or not rt.is_main,
            mininterval=2.0,
            dynamic_ncols=True,
            file=sys.stderr,
        )
        window_start, window_images = time.perf_counter(), 0
        while progress.step < steps:
            t0 = time.perf_counter()
            if args.lr_decay == "cosine":
                apply_cosine(nets.opt_g, nets.opt_d, args, progress.step, steps)
            real, hole = sample_batch(
                data, args.batch_size, args.image_size, progress.gen, args.min_crop, args.smooth_share
            )
            stats = train_step(nets, args, real, hole, data.mean_input, progress.gen)
            progress.train_seconds += time.perf_counter() - t0
            progress.step += 1
            progress.images_seen += images_per_step
            window_images += images_per_step
            bar.update(1)
            last = progress.step == steps

            if progress.step % args.log_every == 0 or last:
                ips = window_images / (time.perf_counter() - window_start)
                window_start, window_images = time.perf_counter(), 0
                bar.set_postfix({k: f"{v:.4f}" for k, v in stats.items()} | {"img/s": f"{ips:.1f}"})
                if rt.is_main:
                    record = {"step": progress.step, **stats, "img_per_s": round(ips, 2)}
                    append_metrics(metrics, record | {"images_seen": progress.images_seen})
            if rt.is_main and (progress.step % args.sample_every == 0 or last):
                save_samples(nets, data, out / "samples" / f"step_{progress.step:07d}.png")
            if progress.step % args.ckpt_every == 0 or last:
                if rt.is_main:
                    append_metrics(metrics, {"step": progress.step, "event": "validation", **validate(nets, data)})
                    save_checkpoint(out, nets, progress, args, run_meta(args, rt, data, nets, progress))
                window_start, window_images = time.perf_counter(), 0
        bar.close()
    return out / EXPORT


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.lr_decay != "cosine" and (args.cosine_from or args.warmup):
        parser.error("--cosine-from and --warmup shape a cosine: they need --lr-decay cosine")
    if args.warmup < 0:
        parser.error(f"--warmup {args.warmup} must not be negative")
    if not 0 <= args.smooth_share <= 1:
        parser.error(f"--smooth-share {args.smooth_share} is a share of the images: from 0 to 1")
    if not 0 < args.min_crop <= 1:
        parser.error(f"--min-crop {args.min_crop} is a share of the photo's side: above 0, at most 1")
    if args.fm > 0 and args.d_arch != "patch":
        parser.error("--fm matches the patch discriminator's features: it needs --d-arch patch")
    if args.mix is not None and args.mask != "mixed":
        parser.error(f"--mix reweights mixed holes: it needs --mask mixed, not --mask {args.mask}")
    try:
        path = train(args)
    except (ValueError, FileNotFoundError) as exc:
        raise SystemExit(f"error: {exc}") from exc
    print(f"generator export: {path}")


if __name__ == "__main__":
    main()
