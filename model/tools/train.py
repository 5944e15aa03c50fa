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

from model.devices import DEVICE_CHOICES
from model.export import GeneratorMeta
from model.hole_samplers import MASK_TYPES, MIXED_SHARES, parse_shares
from model.losses import (
    REC_MEANS,
    REC_NORMS,
    detail_loss,
    discriminator_loss,
    feature_matching_loss,
    gaussian_blur,
    generator_adversarial_loss,
    hinge_discriminator_loss,
    hinge_generator_loss,
    joint_loss,
    masked_reconstruction,
    random_translate,
    spectral_loss,
)
from model.metrics import hole_errors, hole_grid
from model.networks import PADDING_MODES, UPSAMPLE_MODES, Discriminator, Generator, GeneratorConfig, PatchDiscriminator
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
from model.tools.train_config import TrainConfig, flag_defaults
from model.tools.train_data import VALIDATION_CHUNK, TrainingData, generator_inputs, load_data, sample_batch


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
    p.add_argument("--mask", choices=MASK_TYPES, help="hole shapes to train on (default: mixed)")
    p.add_argument(
        "--mix",
        type=_shares,
        metavar="KIND=SHARE,...",
        help="shares of the mixed holes' kinds, e.g. region=3,freeform=4,strokes=1,block=1,center=1 "
        "(normalised; default region .35, freeform .20, strokes, block and center .15 each; "
        "irregular, ragged holes in pieces, only when named)",
    )
    p.add_argument("--masks", type=Path, help="folder of object silhouettes (PNG) for region masks")
    p.add_argument("--steps", type=int, help="optimisation steps (default: from --epochs)")
    p.add_argument("--epochs", type=float, help="passes over the training images when --steps is not given")
    p.add_argument("--batch-size", type=int, help="images per step per process")
    p.add_argument("--lr", type=float, help="generator learning rate (Adam, beta1 0.5)")
    p.add_argument("--lr-d", type=float, help="discriminator learning rate (default: lr / 10, as in the paper)")
    p.add_argument(
        "--input",
        choices=("telea", "mean", "coarse"),
        help="generator input: hole pre-filled by Telea + mask channel, predicting a correction "
        "(default), the paper's mean-colour hole and a whole-image output, or (a native-scale "
        "refiner, with --coarse) the upsampled fill of a generator that filled it in a shrunk window",
    )
    p.add_argument(
        "--coarse",
        type=Path,
        help="with --input coarse: the generator export whose shrunk-window fills the refiner repaints "
        "at native scale (--data: photographs at their own resolution; model.refine)",
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
        "--hint",
        action="store_true",
        help="with --input coarse: a fifth input channel, how much detail the context around the hole holds, "
        "spread into it (model.detail_hint), so a tile inside a big hole knows sky from grass "
        "(--init-from a 4-channel export grows it, starting at zero)",
    )
    p.add_argument(
        "--mirror",
        action="store_true",
        help="with --hint: three more input channels, the context mirrored into the hole across its nearest "
        "edge (model.mirror_fill): the photo's own texture for a tile inside a big hole to take "
        "(--init-from a smaller export grows them, starting at zero)",
    )
    p.add_argument(
        "--upsample",
        choices=UPSAMPLE_MODES,
        help="the decoder's 2x upsampling before each convolution: nearest (the paper's) or bilinear, which "
        "leaves an adversary no pixel phase to paint an 8 px grid on (--init-from a nearest export works)",
    )
    p.add_argument(
        "--padding",
        choices=PADDING_MODES,
        help="what the generator's convolutions read beyond a window's edge: zeros (every export before) or "
        "reflect, which makes a refiner's tile frame no edge it could draw a pattern along",
    )
    p.add_argument(
        "--pooled-code",
        action="store_true",
        help="average the 4x4 bottleneck code over its positions before decoding, so nothing the decoder paints "
        "depends on where in its window it lies (a refiner paints texture; parameters unchanged)",
    )
    p.add_argument(
        "--hole-noise",
        type=float,
        help="std of Gaussian noise added to the hole of the pre-fill (training: fresh; inference: one seeded "
        "pattern): a source of variation an adversary can shape into texture (0 = off)",
    )
    p.add_argument(
        "--lr-decay",
        choices=("none", "cosine"),
        help="cosine: the learning rates fall along a half cosine to 2%% of --lr at --steps",
    )
    p.add_argument(
        "--cosine-from",
        type=int,
        help="step at which the cosine starts at --lr: a warm restart of a resumed run starts it at "
        "the run's step (--resume --cosine-from STEP), so it anneals fully by --steps",
    )
    p.add_argument(
        "--warmup",
        type=int,
        help="with --lr-decay cosine: the rates rise linearly to --lr over this many steps from "
        "--cosine-from (for a restart with a fresh optimiser, e.g. --init-from)",
    )
    p.add_argument("--ema", type=float, help="decay of an exponential moving average of G exported (0 = off)")
    p.add_argument("--adv", type=float, help="adversarial weight lambda_adv (0 = reconstruction only)")
    p.add_argument(
        "--d-arch",
        choices=("global", "patch"),
        help="discriminator: the paper's DCGAN real/fake logit per image (global), or a conditional "
        "70 px patch discriminator (image + hole, spectral norm, hinge loss weighted by each patch's "
        "hole share; --d-norm does not apply)",
    )
    p.add_argument("--d-width", type=int, help="patch discriminator's first width (then 2x, 4x, 8x)")
    p.add_argument(
        "--d-steps",
        type=int,
        help="patch discriminator updates per generator update, each extra one on a fresh batch: "
        "a discriminator that falls behind judges nothing",
    )
    p.add_argument(
        "--d-warmup",
        type=int,
        help="patch discriminator updates against the starting generator before the joint steps "
        "(with --init-from: a fresh discriminator must first learn what the fills look like)",
    )
    p.add_argument(
        "--fm",
        type=float,
        help="weight of feature matching on the patch discriminator's activations (0 = off; needs --d-arch patch)",
    )
    p.add_argument(
        "--grid",
        type=float,
        help="weight of a penalty on the completion's grid: hole differences that fall unevenly on the 8 px "
        "phases, the pattern a patch adversary teaches first (model.metrics.hole_grid; 0 = off)",
    )
    p.add_argument(
        "--spectral",
        type=float,
        help="weight of the distance between the log amplitude spectra of each completion and its photograph: "
        "the photograph's amount of detail at each frequency and orientation, wherever it lies (0 = off)",
    )
    p.add_argument(
        "--detail",
        type=float,
        help="weight of the distance between the completion's and the photograph's local amount of detail "
        "(gradient magnitude over 4 px, wherever it lies within them): detail where the photo has it (0 = off)",
    )
    p.add_argument(
        "--rec-blur",
        type=float,
        help="reconstruct only the completion's low-pass band, blurred by this Gaussian sigma (px): the fine "
        "detail is left to the adversary and the spectral term (0 = the whole fill; needs --d-arch patch)",
    )
    p.add_argument(
        "--d-norm",
        choices=("batch", "spectral"),
        help="discriminator normalisation: DCGAN batch norm (paper) or spectral norm (bounded gradients)",
    )
    p.add_argument(
        "--d-shift",
        type=int,
        help="random translation (px) of real and completed images before the discriminator (0 = off)",
    )
    p.add_argument("--rec", type=float, help="reconstruction weight (default: 1 - adv)")
    p.add_argument(
        "--rec-norm",
        choices=REC_NORMS,
        help="reconstruction error: squared (the paper's; the mean of plausible fills, a blur) or absolute",
    )
    p.add_argument(
        "--rec-mean",
        choices=REC_MEANS,
        help="how the reconstruction error is averaged: over every hole pixel of the batch (the "
        "paper's), or as the mean per-image PSNR the evaluation reports (psnr)",
    )
    p.add_argument("--overlap", type=int, help="overlap band width in pixels")
    p.add_argument("--overlap-weight", type=float, help="loss weight of the overlap band")
    p.add_argument("--image-size", type=int)
    p.add_argument(
        "--min-crop",
        type=float,
        help="smallest side of the random crops, as a share of the cached photo (1: whole photos only; "
        "below 128/144 most crops are enlarged, softer than the photos the evaluation sees)",
    )
    p.add_argument(
        "--smooth-share",
        type=float,
        help="share of training images replaced by synthetic flat or linearly graded ones with faint noise, "
        "so a hole in flat context is filled flat (0 = photographs only)",
    )
    p.add_argument("--val-count", type=int, help="files held out (seeded) for validation")
    p.add_argument("--exclude", type=Path, help="text file of image paths never to train on")
    p.add_argument("--cache", type=Path, help="decoded-image cache folder (default: OUT/../.cache)")
    p.add_argument("--mask-pool", type=int, help="masks drawn once and reused with random flips/rotations")
    p.add_argument("--device", choices=DEVICE_CHOICES)
    p.add_argument(
        "--precision",
        choices=("auto", "bf16", "fp32"),
        help="training steps under bf16 autocast (weights stay fp32); auto: bf16 on CUDA, fp32 on a "
        "CPU, where bf16 pays only with native support (AVX512-BF16: ~1.9x faster steps)",
    )
    p.add_argument("--threads", type=int, help="CPU threads for torch")
    p.add_argument("--seed", type=int, help="the run's draws: holes, crops, batch order")
    p.add_argument(
        "--split-seed",
        type=int,
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
        help="start the generator from this run checkpoint or export (fine-tuning; fresh optimisers and D)",
    )
    p.add_argument("--log-every", type=int)
    p.add_argument("--sample-every", type=int)
    p.add_argument("--ckpt-every", type=int)
    p.add_argument("--no-progress", action="store_true", help="no tqdm bar (logs only)")
    p.set_defaults(**flag_defaults())  # the config's defaults: one source for both
    return p


def parse_config(argv: list[str] | None = None) -> TrainConfig:
    """The run's config from ``ce-train``'s flags: the one place flags become a ``TrainConfig``.
    A bad flag or a combination the config refuses exits with the usage (code 2)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return TrainConfig(**vars(args))
    except ValueError as exc:
        parser.error(str(exc))


# ------------------------------------------------------------------ networks
def generator_config(config: TrainConfig) -> GeneratorConfig:
    """``--input telea`` (default) or ``coarse``: a pre-fill plus the mask channel in, a
    correction out; ``mean``: the paper's mean-colour hole in, the whole image out."""
    correction = config.input in ("telea", "coarse")
    return GeneratorConfig(
        image_size=config.image_size,
        in_channels=8 if config.mirror else 5 if config.hint else 4 if correction else 3,
        residual=correction,
        skips=config.skips,
        refine=config.refine,
        upsample=config.upsample,
        padding=config.padding,
        pooled_code=config.pooled_code,
        hole_noise=config.hole_noise,
    )


def rec_weight(config: TrainConfig) -> float:
    """``--rec``, or what ``--adv`` leaves of 1."""
    return config.rec if config.rec is not None else 1.0 - config.adv


def build_discriminator(config: TrainConfig) -> Discriminator | PatchDiscriminator:
    """``--d-arch``: the paper's global discriminator or the conditional patch one."""
    if config.d_arch == "patch":
        w = config.d_width
        return PatchDiscriminator((w, 2 * w, 4 * w, 8 * w))
    return Discriminator(config.image_size, spectral_norm=config.d_norm == "spectral")


def build_networks(config: TrainConfig, g_config: GeneratorConfig, rt: distributed.Runtime) -> Networks:
    """G (and D when ``--adv`` > 0) with Adam (beta1 0.5, as DCGAN), channels_last, DDP-wrapped
    under torchrun."""
    G = Generator(g_config).to(rt.device)
    D = build_discriminator(config).to(rt.device) if config.adv > 0 or config.fm > 0 else None
    # channels_last is faster on both CPU (oneDNN, ~1.7x measured) and CUDA tensor cores
    G = G.to(memory_format=torch.channels_last)
    D = D.to(memory_format=torch.channels_last) if D is not None else None
    opt_g = torch.optim.Adam(G.parameters(), lr=config.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=discriminator_lr(config), betas=(0.5, 0.999)) if D is not None else None
    # the weights' moving average, exported and validated instead of the noisy last step
    G_ema = copy.deepcopy(G).eval().requires_grad_(False) if config.ema > 0 else None
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
    config: TrainConfig,
    real: torch.Tensor,
    hole: torch.Tensor,
    mean: torch.Tensor,
    gen: torch.Generator,
    prefilled: torch.Tensor | None = None,
) -> dict[str, float]:
    """One optimisation step on a batch: D on real against completed photographs (joint loss
    only), then G on the masked reconstruction plus fooling D. Returns the losses."""
    nets.G.train()
    inputs = generator_inputs(real, hole, nets.generator.config, mean, prefilled)
    with autocast(real.device, config.precision):
        fake = nets.G(inputs)
    rec = reconstruction_loss(config, real, fake, hole)
    stats = {"rec": rec.item()}
    loss = rec
    if nets.D is not None and config.d_arch == "patch":
        loss, patch_stats = patch_adversarial_loss(nets, config, real, fake, hole, rec, gen)
        stats.update(patch_stats)
    elif nets.D is not None:
        completed = real * (1 - hole) + fake.float() * hole
        # discriminator: real photographs vs completed ones
        nets.opt_d.zero_grad(set_to_none=True)
        with autocast(real.device, config.precision):
            d_loss = discriminator_loss(
                nets.D(random_translate(real, config.d_shift, gen)),
                nets.D(random_translate(completed.detach(), config.d_shift, gen)),
            )
        d_loss.backward()
        nets.opt_d.step()
        # generator: fool the (frozen) discriminator while reconstructing the hole
        d_plain = unwrap(nets.D).requires_grad_(False)
        with autocast(real.device, config.precision):
            adv = generator_adversarial_loss(d_plain(random_translate(completed, config.d_shift, gen)))
        d_plain.requires_grad_(True)
        loss = joint_loss(rec, adv, rec_weight(config), config.adv)
        stats.update(adv=adv.item(), d=d_loss.item())
    if nets.D is not None or rec_weight(config) != 1.0:
        stats["loss"] = loss.item()
    nets.opt_g.zero_grad(set_to_none=True)
    loss.backward()
    nets.opt_g.step()
    update_ema(nets, config.ema)
    return stats


def reconstruction_loss(
    config: TrainConfig, real: torch.Tensor, fake: torch.Tensor, hole: torch.Tensor
) -> torch.Tensor:
    """The masked reconstruction error of the fill, or with ``--rec-blur`` of the completion's
    low-pass band only: a fill is then free to place its fine detail where the adversary and
    the spectral term ask, instead of averaging every placement into a smear."""
    if config.rec_blur > 0:
        completed = real * (1 - hole) + fake.float() * hole
        real, fake = gaussian_blur(real, config.rec_blur), gaussian_blur(completed, config.rec_blur)
    return masked_reconstruction(
        fake, real, hole, config.overlap, config.overlap_weight, config.rec_mean, config.rec_norm
    )


def _shifted(
    images: list[torch.Tensor], hole: torch.Tensor, max_shift: int, gen: torch.Generator
) -> tuple[list[torch.Tensor], torch.Tensor]:
    """The same random translation of every image and of their hole, so they stay aligned."""
    moved = random_translate(torch.cat([*images, hole], dim=1), max_shift, gen)
    *parts, moved_hole = moved.split([*(t.shape[1] for t in images), hole.shape[1]], dim=1)
    return parts, moved_hole.detach()


def patch_discriminator_step(
    nets: Networks,
    config: TrainConfig,
    real: torch.Tensor,
    completed: torch.Tensor,
    hole: torch.Tensor,
    gen: torch.Generator,
) -> float:
    """One update of the patch discriminator: photographs against completed ones (hinge, each
    patch weighted by its hole share), both shifted at random. Returns its loss."""
    share = unwrap(nets.D).hole_share
    nets.opt_d.zero_grad(set_to_none=True)
    (real_in,), real_hole = _shifted([real], hole, config.d_shift, gen)
    (fake_in,), fake_hole = _shifted([completed.detach()], hole, config.d_shift, gen)
    with autocast(real.device, config.precision):
        d_real, d_fake = nets.D(real_in, real_hole), nets.D(fake_in, fake_hole)
    d_loss = hinge_discriminator_loss(d_real, d_fake, share(real_hole), share(fake_hole))
    d_loss.backward()
    nets.opt_d.step()
    return d_loss.item()


def discriminator_only_step(
    nets: Networks,
    config: TrainConfig,
    real: torch.Tensor,
    hole: torch.Tensor,
    mean: torch.Tensor,
    gen: torch.Generator,
    prefilled: torch.Tensor | None = None,
) -> float:
    """A patch discriminator update on a batch the generator (unchanged) completes: the extra
    updates of ``--d-steps`` and the warm-up of ``--d-warmup``."""
    with torch.no_grad(), autocast(real.device, config.precision):
        fake = nets.G(generator_inputs(real, hole, nets.generator.config, mean, prefilled)).float()
    return patch_discriminator_step(nets, config, real, real * (1 - hole) + fake * hole, hole, gen)


def patch_adversarial_loss(
    nets: Networks,
    config: TrainConfig,
    real: torch.Tensor,
    fake: torch.Tensor,
    hole: torch.Tensor,
    rec: torch.Tensor,
    gen: torch.Generator,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The patch discriminator's step, then the generator's loss: reconstruction, hinge
    adversarial term and feature matching. Returns that loss and the stats."""
    completed = real * (1 - hole) + fake.float() * hole
    d_loss = patch_discriminator_step(nets, config, real, completed, hole, gen)
    # the generator's side: the same shift for the completion and the photograph, so their
    # features line up for feature matching
    share = unwrap(nets.D).hole_share
    d_plain = unwrap(nets.D).requires_grad_(False)
    (fake_in, real_in), shifted_hole = _shifted([completed, real], hole, config.d_shift, gen)
    with autocast(real.device, config.precision):
        logits, fake_feats = d_plain.features(fake_in, shifted_hole)
        adv = hinge_generator_loss(logits, share(shifted_hole))
        loss = joint_loss(rec, adv, rec_weight(config), config.adv)
        stats = {"adv": adv.item(), "d": d_loss}
        if config.fm > 0:
            with torch.no_grad():
                _, real_feats = d_plain.features(real_in, shifted_hole)
            fm = feature_matching_loss(real_feats, fake_feats)
            loss = loss + config.fm * fm
            stats["fm"] = fm.item()
        if config.grid > 0:
            grid = hole_grid(completed, hole).nanmean()
            loss = loss + config.grid * grid
            stats["grid"] = grid.item()
        if config.spectral > 0:
            spectral = spectral_loss(completed, real)
            loss = loss + config.spectral * spectral
            stats["spectral"] = spectral.item()
        if config.detail > 0:
            detail = detail_loss(completed, real, hole)
            loss = loss + config.detail * detail
            stats["detail"] = detail.item()
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
    return out | discriminator_ranks(nets, data)


@torch.no_grad()
def discriminator_ranks(nets: Networks, data: TrainingData) -> dict[str, float]:
    """For each validation hole kind, the share of hole patches the patch discriminator scores
    higher on the photograph than on its completion (hole-weighted; 0.5 = it cannot tell): a
    discriminator near 0.5 gives the generator nothing to learn from."""
    if nets.D is None or not isinstance(unwrap(nets.D), PatchDiscriminator):
        return {}
    d, g = unwrap(nets.D), nets.exported
    was_training = d.training
    d.eval()
    out = {}
    for name, hole in data.val_holes.items():
        real, inputs = data.val_images, data.val_inputs[name]
        wins = weights = 0.0
        for i in range(0, len(inputs), VALIDATION_CHUNK):
            part = slice(i, i + VALIDATION_CHUNK)
            with autocast(inputs.device):
                fake = g.eval()(inputs[part]).float().clamp(-1, 1)
                completed = real[part] * (1 - hole[part]) + fake * hole[part]
                d_real, d_fake = d(real[part], hole[part]).float(), d(completed, hole[part]).float()
            share = d.hole_share(hole[part])
            wins += float(((d_real > d_fake).float() * share).sum())
            weights += float(share.sum())
        out[f"val_{name}_d_rank"] = wins / weights if weights else float("nan")
    d.train(was_training)
    return out


@torch.no_grad()
def save_samples(nets: Networks, data: TrainingData, path: Path) -> Path:
    """A picture of (input | completed | truth) rows on fixed validation images."""
    g = nets.exported.eval()
    real = data.val_images[:8]
    hole = data.val_holes[data.sample_kind][: len(real)]
    inputs = data.val_inputs[data.sample_kind][: len(real)]
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
    config: TrainConfig, rt: distributed.Runtime, data: TrainingData, nets: Networks, progress: Progress
) -> GeneratorMeta:
    """What the export records about its training."""
    joint = nets.D is not None
    return GeneratorMeta(
        mask_type=config.mask,
        mean_colour=data.mean,
        training={
            "data": str(config.data),
            "train_images": data.n_train,
            "skipped_images": data.skipped,
            "val_images": len(data.val_images),
            "steps": progress.step,
            "images_seen": progress.images_seen,
            "batch_size": config.batch_size * rt.world_size,
            "lr_g": config.lr,
            "lr_d": discriminator_lr(config),
            "lr_schedule": progress.lr_schedule,
            "lr_decay": config.lr_decay,
            "warmup_steps": config.warmup if config.lr_decay == "cosine" else 0,
            "ema": config.ema,
            "input": config.input,
            "coarse": str(config.coarse) if config.coarse else None,
            "lambda_rec": rec_weight(config),
            "lambda_adv": config.adv if joint else 0.0,
            "lambda_fm": config.fm if joint else 0.0,
            "lambda_grid": config.grid if joint else 0.0,
            "lambda_spectral": config.spectral if joint else 0.0,
            "lambda_detail": config.detail if joint else 0.0,
            "rec_norm": config.rec_norm,
            "rec_blur": config.rec_blur if joint else 0.0,
            "d_arch": config.d_arch if joint else None,
            "d_width": config.d_width if joint and config.d_arch == "patch" else None,
            "d_norm": (config.d_norm if config.d_arch == "global" else "spectral") if joint else None,
            "d_shift": config.d_shift if joint else None,
            "overlap": config.overlap,
            "overlap_weight": config.overlap_weight,
            "rec_mean": config.rec_mean,
            "min_crop": config.min_crop,
            "smooth_share": config.smooth_share,
            "masks_folder": str(config.masks) if config.masks else None,
            "mixed_shares": (config.mix or MIXED_SHARES) if config.mask == "mixed" else None,
            "seed": config.seed,
            "split_seed": config.split_seed,
            "hardware": hardware(rt),
            "precision": "bf16" if uses_bf16(rt.device, config.precision) else "fp32",
            "train_seconds": round(progress.train_seconds, 1),
            "initialised_from": progress.init_source,
        },
    )


# ---------------------------------------------------------------------- loop
def setup(config: TrainConfig, rt: distributed.Runtime) -> tuple[TrainingData, Networks, Progress]:
    """Threads and seeds, data and networks, then the state of a resumed (``--resume``) or
    fine-tuned (``--init-from``) run: everything the loop needs."""
    if config.threads:
        torch.set_num_threads(config.threads)
    seed = config.seed * 1000 + rt.rank
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    if rt.is_main:
        (config.out / "samples").mkdir(parents=True, exist_ok=True)
    g_config = generator_config(config)
    data = load_data(config, rt, g_config)
    nets = build_networks(config, g_config, rt)
    progress = Progress(
        gen=torch.Generator(device="cpu").manual_seed(seed),
        # the rates and the schedule the run starts on (a resume replaces it with the run's own)
        lr_schedule=[
            {
                "step": 0,
                **learning_rates(nets.opt_g, nets.opt_d),
                **cosine_shape(config, total_steps(config, data.n_train, rt.world_size)),
            }
        ],
    )
    resumed = config.resume and resume(config.out, nets, progress, config, rt.device, rt.is_main)
    if config.init_from is not None and not resumed:
        progress.init_source = init_generator(config.init_from, nets)
    return data, nets, progress


def train(config: TrainConfig) -> Path:
    """Run (or resume) training; returns the path of the generator export."""
    with distributed.session(config.device) as rt:
        data, nets, progress = setup(config, rt)
        out: Path = config.out
        steps = total_steps(config, data.n_train, rt.world_size)
        if config.lr_decay == "cosine" and not 0 <= config.cosine_from < steps:
            raise ValueError(f"--cosine-from {config.cosine_from} must lie in [0, --steps {steps})")
        images_per_step = config.batch_size * rt.world_size
        metrics = out / METRICS
        if rt.is_main and progress.step == 0:
            start = {"step": 0, "event": "start", "train_images": data.n_train, "mean_colour": data.mean}
            append_metrics(metrics, start | validate(nets, data))

        # ---- the loop: lr schedule, batch, step, then logs, samples, validation and checkpoints
        bar = tqdm(
            total=steps,
            initial=progress.step,
            disable=config.no_progress or not rt.is_main,
            mininterval=2.0,
            dynamic_ncols=True,
            file=sys.stderr,
        )
        if progress.step == 0 and config.d_warmup:
            warm_up_discriminator(nets, config, data, progress, metrics if rt.is_main else None)
        window_start, window_images = time.perf_counter(), 0
        while progress.step < steps:
            t0 = time.perf_counter()
            if config.lr_decay == "cosine":
                apply_cosine(nets.opt_g, nets.opt_d, config, progress.step, steps)
            real, hole, prefilled = sample_batch(
                data, config.batch_size, config.image_size, progress.gen, config.min_crop, config.smooth_share
            )
            stats = train_step(nets, config, real, hole, data.mean_input, progress.gen, prefilled)
            for _ in range(config.d_steps - 1):  # the discriminator's extra updates, on fresh batches
                real, hole, prefilled = sample_batch(
                    data, config.batch_size, config.image_size, progress.gen, config.min_crop, config.smooth_share
                )
                discriminator_only_step(nets, config, real, hole, data.mean_input, progress.gen, prefilled)
            progress.train_seconds += time.perf_counter() - t0
            progress.step += 1
            progress.images_seen += images_per_step
            window_images += images_per_step
            bar.update(1)
            last = progress.step == steps

            if progress.step % config.log_every == 0 or last:
                ips = window_images / (time.perf_counter() - window_start)
                window_start, window_images = time.perf_counter(), 0
                bar.set_postfix({k: f"{v:.4f}" for k, v in stats.items()} | {"img/s": f"{ips:.1f}"})
                if rt.is_main:
                    record = {"step": progress.step, **stats, "img_per_s": round(ips, 2)}
                    append_metrics(metrics, record | {"images_seen": progress.images_seen})
            if rt.is_main and (progress.step % config.sample_every == 0 or last):
                save_samples(nets, data, out / "samples" / f"step_{progress.step:07d}.png")
            if progress.step % config.ckpt_every == 0 or last:
                if rt.is_main:
                    append_metrics(metrics, {"step": progress.step, "event": "validation", **validate(nets, data)})
                    save_checkpoint(out, nets, progress, config, run_meta(config, rt, data, nets, progress))
                window_start, window_images = time.perf_counter(), 0
        bar.close()
    return out / EXPORT


def warm_up_discriminator(
    nets: Networks, config: TrainConfig, data: TrainingData, progress: Progress, metrics: Path | None
) -> None:
    """``--d-warmup`` discriminator updates against the starting generator, so that the joint
    steps begin with a judge that already tells its fills from photographs; logged with how
    well it ranks the validation holes."""
    losses = []
    for i in range(1, config.d_warmup + 1):
        real, hole, prefilled = sample_batch(
            data, config.batch_size, config.image_size, progress.gen, config.min_crop, config.smooth_share
        )
        losses.append(discriminator_only_step(nets, config, real, hole, data.mean_input, progress.gen, prefilled))
        if metrics is not None and (i % config.log_every == 0 or i == config.d_warmup):
            record = {"step": 0, "event": "d_warmup", "d_updates": i, "d": float(np.mean(losses))}
            append_metrics(metrics, record | discriminator_ranks(nets, data))
            losses = []


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = parse_config(argv)
    try:
        path = train(config)
    except (ValueError, FileNotFoundError) as exc:
        raise SystemExit(f"error: {exc}") from exc
    print(f"generator export: {path}")


if __name__ == "__main__":
    main()
