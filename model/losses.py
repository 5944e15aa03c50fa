"""Joint loss: masked L2 on the hole (heavier on the overlap band) plus an adversarial term."""

from __future__ import annotations

import torch
import torch.nn.functional as F

DEFAULT_OVERLAP = 4
DEFAULT_OVERLAP_WEIGHT = 10.0


def overlap_band(hole: torch.Tensor, overlap: int = DEFAULT_OVERLAP) -> torch.Tensor:
    """Context pixels within ``overlap`` px (square neighbourhood) of the hole.

    hole: (B, 1, H, W) float 0/1. The generator predicts these too, so its output meets
    the context seamlessly; they are context, never counted as filled in evaluation.
    """
    if overlap <= 0:
        return torch.zeros_like(hole)
    grown = F.max_pool2d(hole, kernel_size=2 * overlap + 1, stride=1, padding=overlap)
    return grown - hole


def reconstruction_weights(
    hole: torch.Tensor, overlap: int = DEFAULT_OVERLAP, overlap_weight: float = DEFAULT_OVERLAP_WEIGHT
) -> torch.Tensor:
    """Per-pixel weights: 1 in the hole, ``overlap_weight`` on the band, 0 elsewhere."""
    return hole + overlap_weight * overlap_band(hole, overlap)


REC_MEANS = ("pixels", "psnr")
# per-image MSE below which ``psnr`` averaging stops raising an image's weight (30 dB): a nearly
# solved image must not take over the batch's gradient
PSNR_MSE_FLOOR = 1e-3


def masked_l2(
    prediction: torch.Tensor,
    target: torch.Tensor,
    hole: torch.Tensor,
    overlap: int = DEFAULT_OVERLAP,
    overlap_weight: float = DEFAULT_OVERLAP_WEIGHT,
    mean: str = "pixels",
) -> torch.Tensor:
    """Weighted mean squared error over hole + overlap band.

    ``mean="pixels"`` (the paper's): normalised by the batch's total weight, so every hole pixel
    counts once and images with big holes dominate. ``mean="psnr"``: the gradient of the mean
    per-image log-MSE, i.e. of the mean per-image PSNR the evaluation reports; each image's MSE
    weighted by ``1 / (its MSE + PSNR_MSE_FLOOR)`` (not differentiated), the weights normalised
    to sum to one, so the loss keeps an MSE's scale while a thin stroke's small error counts as
    much, relatively, as a big hole's large one. An all-empty mask (the autoencoder pretext,
    ``--mask none``) reconstructs every pixel.
    """
    if mean not in REC_MEANS:
        raise ValueError(f"mean must be one of {REC_MEANS}, not {mean!r}")
    weights = reconstruction_weights(hole, overlap, overlap_weight)
    if float(weights.sum()) == 0.0:
        weights = torch.ones_like(hole)
    sq = (prediction.float() - target.float()).pow(2).mean(dim=1, keepdim=True)
    if mean == "pixels":
        return (sq * weights).sum() / weights.sum()
    per_weight = weights.sum(dim=(1, 2, 3))
    has_hole = per_weight > 0
    per_image = (sq * weights).sum(dim=(1, 2, 3))[has_hole] / per_weight[has_hole]
    image_weights = 1.0 / (per_image.detach() + PSNR_MSE_FLOOR)
    return (per_image * image_weights).sum() / image_weights.sum()


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    real = F.binary_cross_entropy_with_logits(real_logits.float(), torch.ones_like(real_logits, dtype=torch.float))
    fake = F.binary_cross_entropy_with_logits(fake_logits.float(), torch.zeros_like(fake_logits, dtype=torch.float))
    return real + fake


def generator_adversarial_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating GAN loss: the generator wants its completions judged real."""
    return F.binary_cross_entropy_with_logits(fake_logits.float(), torch.ones_like(fake_logits, dtype=torch.float))


def joint_loss(
    rec: torch.Tensor, adv: torch.Tensor, lambda_rec: float = 0.999, lambda_adv: float = 0.001
) -> torch.Tensor:
    return lambda_rec * rec + lambda_adv * adv


def random_translate(images: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Shift the whole batch by a random whole-pixel offset in [-max_shift, max_shift] (reflect
    padding), differentiably, before the discriminator sees it (DiffAugment-style, Zhao et al.
    2020). The discriminator's strided convolutions hand the generator a gradient with the
    period of their total stride; shifting real and completed images alike changes its phase
    every step, so the generator cannot answer it with a fixed grid pattern.
    """
    if max_shift <= 0:
        return images
    dy, dx = (int(v) for v in torch.randint(-max_shift, max_shift + 1, (2,), generator=generator))
    padded = F.pad(images, (max_shift,) * 4, mode="reflect")
    h, w = images.shape[-2:]
    top, left = max_shift + dy, max_shift + dx
    return padded[..., top : top + h, left : left + w]
