"""Masked reconstruction loss: hole + overlap band only, band weighted 10x."""

from __future__ import annotations

import pytest
import torch

from model.losses import (
    PSNR_MSE_FLOOR,
    detail_loss,
    feature_matching_loss,
    gaussian_blur,
    hinge_discriminator_loss,
    hinge_generator_loss,
    joint_loss,
    masked_reconstruction,
    overlap_band,
    random_translate,
    spectral_loss,
)


def _square_hole(size: int = 32, lo: int = 12, hi: int = 20) -> torch.Tensor:
    hole = torch.zeros(1, 1, size, size)
    hole[..., lo:hi, lo:hi] = 1
    return hole


def test_overlap_band_is_the_ring_around_the_hole() -> None:
    hole = _square_hole()
    band = overlap_band(hole, 4)
    assert band[..., 8:24, 8:24].sum() == 16 * 16 - 8 * 8
    assert band.sum() == 16 * 16 - 8 * 8
    assert (band * hole).sum() == 0


def test_pixels_outside_hole_and_band_are_ignored() -> None:
    hole = _square_hole()
    target = torch.zeros(1, 3, 32, 32)
    pred = torch.zeros(1, 3, 32, 32)
    pred[..., :7, :] = 5.0  # far outside the band
    pred[..., :, 25:] = -3.0
    assert masked_reconstruction(pred, target, hole) == 0


def test_overlap_band_weighs_ten_times_the_hole() -> None:
    hole = _square_hole()
    band = overlap_band(hole, 4)
    target = torch.zeros(1, 3, 32, 32)
    err_in_hole = masked_reconstruction(target + hole, target, hole)
    err_in_band = masked_reconstruction(target + band, target, hole)
    n_hole, n_band = hole.sum(), band.sum()
    total = n_hole + 10 * n_band
    assert torch.isclose(err_in_hole, n_hole / total)
    assert torch.isclose(err_in_band, 10 * n_band / total)
    # per pixel, a band pixel costs exactly 10x a hole pixel
    assert torch.isclose((err_in_band / n_band) / (err_in_hole / n_hole), torch.tensor(10.0))


def test_empty_mask_reconstructs_the_whole_image() -> None:
    target = torch.zeros(1, 3, 8, 8)
    pred = torch.ones(1, 3, 8, 8)
    assert masked_reconstruction(pred, target, torch.zeros(1, 1, 8, 8)) == 1


def test_joint_weights() -> None:
    assert torch.isclose(joint_loss(torch.tensor(1.0), torch.tensor(2.0)), torch.tensor(0.999 + 0.002))


def test_random_translate_shifts_by_whole_pixels_and_passes_gradients() -> None:
    images = torch.rand(2, 3, 32, 32, requires_grad=True)
    gen = torch.Generator().manual_seed(0)
    assert random_translate(images, 0, gen) is images
    seen = set()
    for _ in range(40):
        out = random_translate(images, 3, gen)
        assert out.shape == images.shape
        # the interior is the input moved by one whole-pixel offset within the bound
        matches = [
            (dy, dx)
            for dy in range(-3, 4)
            for dx in range(-3, 4)
            if torch.equal(out[..., 3:-3, 3:-3], images[..., 3 + dy : 29 + dy, 3 + dx : 29 + dx])
        ]
        assert len(matches) == 1
        seen.add(matches[0])
    assert len(seen) > 10  # the offset really varies
    out.sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0


def test_psnr_mean_follows_the_mean_per_image_log_error() -> None:
    """``mean="psnr"``: a batch of a big hole with a large error and a thin stroke with a small
    one. The pixel mean lets the big hole take almost all of the gradient; the psnr mean gives
    the gradient of the mean per-image log-MSE (the evaluation's mean PSNR), up to one factor."""
    target = torch.zeros(2, 3, 32, 32)
    hole = torch.zeros(2, 1, 32, 32)
    hole[0, :, 4:28, 4:28] = 1  # a big hole...
    hole[1, :, 15:17, 2:30] = 1  # ...and a thin stroke
    pred = (torch.rand(2, 3, 32, 32) * torch.tensor([0.3, 0.03]).view(2, 1, 1, 1)).requires_grad_()

    def gradient(loss: torch.Tensor) -> torch.Tensor:
        (g,) = torch.autograd.grad(loss, pred)
        return g.flatten()

    psnr = gradient(masked_reconstruction(pred, target, hole, overlap=0, mean="psnr"))
    per_image = ((pred - target).pow(2).mean(1, keepdim=True) * hole).sum((1, 2, 3)) / hole.sum((1, 2, 3))
    log_mse = gradient(torch.log(per_image + PSNR_MSE_FLOOR).mean())
    assert torch.allclose(psnr / psnr.norm(), log_mse / log_mse.norm(), atol=1e-5)
    pixels = gradient(masked_reconstruction(pred, target, hole, overlap=0)).view(2, -1)
    stroke_share = lambda g: float(g.view(2, -1)[1].norm() / g.view(2, -1).norm())  # noqa: E731
    assert stroke_share(pixels) < 0.2 < stroke_share(psnr)
    # on one image both means are its MSE; unknown means are refused
    assert torch.isclose(
        masked_reconstruction(pred[:1], target[:1], hole[:1], 0, mean="psnr"),
        masked_reconstruction(pred[:1], target[:1], hole[:1], 0),
    )
    with pytest.raises(ValueError, match="mean must be one of"):
        masked_reconstruction(pred, target, hole, mean="median")


def test_l1_reconstruction_is_the_mean_absolute_error_in_the_hole() -> None:
    target = torch.zeros(1, 3, 8, 8)
    hole = torch.zeros(1, 1, 8, 8)
    hole[..., 2:6, 2:6] = 1
    pred = target + 0.5 * hole
    assert torch.isclose(masked_reconstruction(pred, target, hole, overlap=0, norm="l1"), torch.tensor(0.5))
    assert torch.isclose(masked_reconstruction(pred, target, hole, overlap=0), torch.tensor(0.25))
    with pytest.raises(ValueError, match="norm"):
        masked_reconstruction(pred, target, hole, norm="l3")


def test_hinge_losses_count_only_patches_that_hold_hole() -> None:
    weights = torch.tensor([[[[1.0, 0.0]]]])
    confident = hinge_discriminator_loss(
        torch.tensor([[[[1.0, -5.0]]]]), torch.tensor([[[[-1.0, 5.0]]]]), weights, weights
    )
    assert confident == 0  # the wrong patch holds no hole: it does not count
    unsure = hinge_discriminator_loss(torch.zeros(1, 1, 1, 2), torch.zeros(1, 1, 1, 2), weights, weights)
    assert unsure == 2
    assert hinge_generator_loss(torch.tensor([[[[3.0, -100.0]]]]), weights) == -3
    # no hole anywhere: every patch counts alike
    assert hinge_generator_loss(torch.tensor([[[[3.0, 1.0]]]]), torch.zeros(1, 1, 1, 2)) == -2


def test_feature_matching_is_zero_for_the_photograph_and_has_no_gradient_into_it() -> None:
    real = [torch.randn(2, 4, 8, 8, requires_grad=True), torch.randn(2, 8, 4, 4, requires_grad=True)]
    fake = [r.detach().clone().requires_grad_(True) for r in real]
    assert feature_matching_loss(real, fake) == 0
    fake = [f.detach() + 1 for f in fake]
    fake[0].requires_grad_(True)
    loss = feature_matching_loss(real, fake)
    assert torch.isclose(loss, torch.tensor(1.0))
    loss.backward()
    assert real[0].grad is None and fake[0].grad is not None


def test_the_spectral_loss_is_blind_to_where_detail_lies_but_not_to_how_much() -> None:
    """A photograph's texture moved by a few pixels costs nothing; the same area smeared, or
    crossed by a lattice it lacks, costs."""
    photo = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    moved = torch.roll(photo, shifts=(3, 5), dims=(2, 3))  # the same detail elsewhere: amplitudes equal
    smeared = torch.nn.functional.avg_pool2d(photo, 5, stride=1, padding=2, count_include_pad=False)
    lattice = photo.clone()
    lattice[..., ::4, :] = 1.0
    assert spectral_loss(moved, photo) < 1e-4
    assert spectral_loss(smeared, photo) > 0.3 and spectral_loss(lattice, photo) > 0.1


def test_the_gaussian_blur_keeps_flat_colour_and_removes_fine_detail() -> None:
    flat = torch.full((2, 3, 24, 24), 0.3)
    assert torch.allclose(gaussian_blur(flat, 2.0), flat, atol=1e-6)  # mirrored edges: no dark rim
    stripes = torch.zeros(1, 3, 32, 32)
    stripes[..., ::2] = 1.0  # the finest detail a photo can hold
    blurred = gaussian_blur(stripes, 2.0)
    assert blurred.shape == stripes.shape
    assert (blurred - 0.5).abs().max() < 0.01 and abs(float(blurred.mean()) - 0.5) < 1e-4


def test_the_detail_loss_asks_for_detail_where_the_photo_has_it_wherever_it_lies() -> None:
    """Grass on the right half, a flat sky on the left, the hole over both: other grass of the
    same kind costs little, a smear costs, and the same amount of detail spread over the sky
    costs as well."""
    rng = torch.Generator().manual_seed(0)
    photo = torch.full((1, 3, 64, 64), 0.5)
    photo[..., 32:] += (torch.rand(1, 1, 64, 32, generator=rng) - 0.5) * 0.4
    other_grass = photo.clone()
    other_grass[..., 32:] = 0.5 + (torch.rand(1, 1, 64, 32, generator=rng) - 0.5) * 0.4
    spread = torch.full_like(photo, 0.5) + (torch.rand(1, 1, 64, 64, generator=rng) - 0.5) * 0.28
    hole = torch.zeros(1, 1, 64, 64)
    hole[..., 8:56, 8:56] = 1
    assert detail_loss(photo, photo, hole) < 1e-6
    assert detail_loss(other_grass, photo, hole) < 0.1
    assert detail_loss(gaussian_blur(photo, 2.0), photo, hole) > 0.5
    assert detail_loss(spread, photo, hole) > 0.5
