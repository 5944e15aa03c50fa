"""Joint loss: a masked reconstruction error on the hole (heavier on the overlap band) plus an
adversarial term: the paper's global real/fake loss, or hinge losses on a patch discriminator's
logits weighted by how much hole each patch holds, with feature matching."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from model.realism import LOCAL_DETAIL_SIGMA

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
# l2: the paper's, and what PSNR rewards: the mean of every plausible fill, a blur where the fill
# is uncertain. l1: the median, which pulls less towards the average and leaves the adversary room.
REC_NORMS = ("l2", "l1")
# per-image MSE below which ``psnr`` averaging stops raising an image's weight (30 dB): a nearly
# solved image must not take over the batch's gradient
PSNR_MSE_FLOOR = 1e-3


def masked_reconstruction(
    prediction: torch.Tensor,
    target: torch.Tensor,
    hole: torch.Tensor,
    overlap: int = DEFAULT_OVERLAP,
    overlap_weight: float = DEFAULT_OVERLAP_WEIGHT,
    mean: str = "pixels",
    norm: str = "l2",
) -> torch.Tensor:
    """Weighted mean squared (``norm="l2"``) or absolute (``"l1"``) error over hole + overlap band.

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
    if norm not in REC_NORMS:
        raise ValueError(f"norm must be one of {REC_NORMS}, not {norm!r}")
    weights = reconstruction_weights(hole, overlap, overlap_weight)
    if float(weights.sum()) == 0.0:
        weights = torch.ones_like(hole)
    diff = prediction.float() - target.float()
    sq = (diff.pow(2) if norm == "l2" else diff.abs()).mean(dim=1, keepdim=True)
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


def weighted_mean(values: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` weighted by ``weights`` (same shape); plain mean when they sum to zero."""
    total = weights.sum()
    if float(total) == 0.0:
        return values.mean()
    return (values * weights).sum() / total


def hinge_discriminator_loss(
    real_logits: torch.Tensor, fake_logits: torch.Tensor, real_weights: torch.Tensor, fake_weights: torch.Tensor
) -> torch.Tensor:
    """Hinge loss (Lim & Ye 2017, as in SN-GAN and SN-PatchGAN) on patch logits, each patch
    weighted by its hole share: patches of pure context are the same in a photograph and in its
    completion and teach the discriminator nothing."""
    real = weighted_mean(F.relu(1 - real_logits.float()), real_weights)
    fake = weighted_mean(F.relu(1 + fake_logits.float()), fake_weights)
    return real + fake


def hinge_generator_loss(fake_logits: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """The generator raises the (hole-weighted) logits of its completed patches."""
    return -weighted_mean(fake_logits.float(), weights)


def feature_matching_loss(real_features: list[torch.Tensor], fake_features: list[torch.Tensor]) -> torch.Tensor:
    """Mean L1 distance between the discriminator's activations on the photograph and on its
    completion, averaged over blocks (pix2pixHD). A loss in the discriminator's learned feature
    space: it asks for the photograph's local statistics (edges, texture), not its exact pixels,
    and it stays informative while the adversarial logits are still noise."""
    terms = [(f.float() - r.detach().float()).abs().mean() for r, f in zip(real_features, fake_features, strict=True)]
    return torch.stack(terms).mean()


def spectral_loss(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Mean distance between the log amplitude spectra of each completion and its photograph
    (grey, (B, 3, S, S) in [0, 1]). Blind to phase, it asks for the photograph's amount of detail
    at every frequency and orientation, not for its exact placement: a lattice or a hatching the
    photograph lacks costs as much as a smear."""
    amplitude = [torch.fft.rfft2(x.float().mean(dim=1), norm="ortho").abs() for x in (fake, real)]
    return (torch.log1p(amplitude[0] * 255) - torch.log1p(amplitude[1] * 255)).abs().mean()


def local_detail(images: torch.Tensor, sigma: float = LOCAL_DETAIL_SIGMA) -> torch.Tensor:
    """(B, 1, H-1, W-1): the grey image's gradient magnitude averaged over a Gaussian of ``sigma``
    px: how much detail each neighbourhood holds, whatever its phase."""
    grey = images.float().mean(dim=1, keepdim=True)
    dx, dy = grey[..., :-1, 1:] - grey[..., :-1, :-1], grey[..., 1:, :-1] - grey[..., :-1, :-1]
    return gaussian_blur(torch.sqrt(dx * dx + dy * dy + 1e-8), sigma)


def detail_loss(completed: torch.Tensor, real: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """The hole's distance between the completion's and the photograph's ``local_detail`` maps,
    relative to the photograph's detail there. Blind to where within a few pixels detail lies,
    so its best answer under uncertainty is the likely amount of detail, not a smear; and it
    asks for detail where the photograph has it (grass), not where it is flat (sky)."""
    weight = hole[..., :-1, :-1].float()
    target = local_detail(real)
    gap = (local_detail(completed) - target).abs()
    return (gap * weight).sum() / (target * weight).sum().clamp_min(1e-6)


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """``images`` (B, C, H, W) blurred by a separable Gaussian of ``sigma`` px (radius 3 sigma,
    mirrored edges)."""
    radius = max(1, math.ceil(3 * sigma))
    taps = torch.arange(-radius, radius + 1, device=images.device, dtype=torch.float32)
    kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
    kernel = (kernel / kernel.sum()).to(images.dtype)
    channels = images.shape[1]
    x = F.pad(images, (radius, radius, radius, radius), mode="reflect")
    x = F.conv2d(x, kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)
    return F.conv2d(x, kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)


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
