"""Hole-only image metrics, values in [0, 1], per image (the paper averages per-image PSNR).

Only pixels of the hole count: the overlap band is context the model saw, and counting it
would flatter the model by several dB.
"""

from __future__ import annotations

import numpy as np
import torch

PSNR_CAP_DB = 100.0


def hole_errors(prediction: torch.Tensor, truth: torch.Tensor, hole: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-image L1, L2 and PSNR on hole pixels.

    prediction, truth: (B, 3, H, W) in [0, 1]; hole: (B, 1, H, W) 0/1. Images without a
    hole get NaN (they have nothing to measure).
    """
    diff = prediction.float() - truth.float()
    n = hole.float().sum(dim=(1, 2, 3)) * diff.shape[1]
    l1 = (diff.abs() * hole).sum(dim=(1, 2, 3)) / n
    l2 = (diff.pow(2) * hole).sum(dim=(1, 2, 3)) / n
    psnr = (10 * torch.log10(1.0 / l2.clamp_min(10 ** (-PSNR_CAP_DB / 10)))).where(n > 0, torch.nan)
    return {"l1": l1, "l2": l2, "psnr": psnr}


def psnr(prediction: np.ndarray, truth: np.ndarray) -> float:
    """PSNR in dB of two arrays in [0, 1] (capped at 100 dB for identical inputs)."""
    mse = float(np.mean((np.asarray(prediction, np.float64) - np.asarray(truth, np.float64)) ** 2))
    return PSNR_CAP_DB if mse == 0 else min(PSNR_CAP_DB, 10 * np.log10(1.0 / mse))


def hole_ssim(prediction: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    """Mean of the SSIM map (7x7 Gaussian-free window, skimage defaults) over hole pixels.

    prediction, truth: (H, W, 3) in [0, 1]; hole: (H, W) bool.
    """
    from skimage.metrics import structural_similarity

    _, ssim_map = structural_similarity(prediction, truth, channel_axis=2, data_range=1.0, full=True)
    return float(ssim_map.mean(axis=2)[hole].mean())


def gradient_map(image: np.ndarray) -> np.ndarray:
    """(H, W) central-difference gradient magnitude of the grey of an (H, W, 3) image."""
    gy, gx = np.gradient(np.asarray(image, np.float64).mean(axis=2))
    return np.sqrt(gx**2 + gy**2)


def gradient_magnitude(image: np.ndarray, hole: np.ndarray) -> float:
    """Mean finite-difference gradient magnitude inside the hole: a sharpness measure
    (blurry fills score below the truth's)."""
    return float(gradient_map(image)[hole].mean())


def hole_grid(images: torch.Tensor, hole: torch.Tensor, period: int = 8) -> torch.Tensor:
    """Per-image strength of a grid locked to the generator's stride: how unevenly the hole's
    horizontal and vertical differences fall on the ``period`` phases of the pixel grid (the
    spread of the per-phase mean over their mean, averaged over both axes). A photograph has no
    preferred phase (~0.1 from chance); up-sampled blocks put their edges on one phase, the
    pattern an adversary teaches a generator first. images: (B, 3, S, S); hole: (B, 1, S, S) 0/1.
    """
    gray = images.float().mean(dim=1)
    spreads = []
    for axis in (2, 1):  # differences along x (columns), then along y (rows)
        diff = gray.diff(dim=axis).abs()
        inside = hole[:, 0].float().narrow(axis, 1, gray.shape[axis] - 1) * hole[:, 0].float().narrow(
            axis, 0, gray.shape[axis] - 1
        )
        phase = torch.arange(diff.shape[axis], device=diff.device) % period
        shape = [1, 1, 1]
        shape[axis] = -1
        phase = phase.view(shape).expand_as(diff)
        energy = torch.zeros(len(diff), period, device=diff.device).scatter_add_(
            1, phase.flatten(1), (diff * inside).flatten(1)
        )
        count = torch.zeros(len(diff), period, device=diff.device).scatter_add_(1, phase.flatten(1), inside.flatten(1))
        per_phase = energy / count.clamp_min(1)
        spreads.append(per_phase.std(dim=1) / per_phase.mean(dim=1).clamp_min(1e-8))
    return torch.stack(spreads).mean(dim=0).where(hole.flatten(1).sum(1) > 0, torch.nan)
