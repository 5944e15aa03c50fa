"""Hole-only scores of filled images, and what one (image set, mask) evaluation gives.

Values in [0, 1]; only hole pixels count (the overlap band is context the network saw). PSNR is
the mean of per-image PSNR (the paper's convention), SSIM the mean of the SSIM map over the
hole, sharpness the mean gradient magnitude in the hole, texture that sharpness over the
truth's (1 = as detailed as the photo), invented the detail added where the photo is flattest
(``model.realism``). ``patch_fd`` (``model.realism``) is measured on the
whole set, not per image: the Fréchet distance of the fills' hole patches to the truth's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from model.eval.schema import ProtocolResult
from model.metrics import gradient_magnitude, hole_errors, hole_ssim
from model.realism import invented_details, texture_ratios

METRICS = ("l1", "l2", "psnr", "ssim", "sharpness", "texture", "invented")  # per image, then averaged


def composite(outputs: np.ndarray, truth: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """Hole pixels from the method, every other pixel from the truth."""
    return np.where(holes[..., None], outputs, truth).astype(np.uint8)


def score(completed: np.ndarray, truth: np.ndarray, holes: np.ndarray) -> dict[str, np.ndarray]:
    """Per-image hole-only L1, L2, PSNR, SSIM, sharpness, texture and invented detail of (N, H, W, 3) uint8 images."""
    pred = completed.astype(np.float64) / 255.0
    real = truth.astype(np.float64) / 255.0

    def nchw(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a).permute(0, 3, 1, 2)

    hole_t = torch.from_numpy(holes).unsqueeze(1).double()
    errs = {k: v.numpy() for k, v in hole_errors(nchw(pred), nchw(real), hole_t).items()}
    errs["ssim"] = np.array([hole_ssim(p, t, h) for p, t, h in zip(pred, real, holes, strict=True)])
    errs["sharpness"] = np.array([gradient_magnitude(p, h) for p, h in zip(pred, holes, strict=True)])
    errs["texture"] = texture_ratios(pred, real, holes)
    errs["invented"] = invented_details(pred, real, holes)
    return errs


def concat_scores(parts: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Per-image scores of several ``score`` calls as one set."""
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def score_chunked(
    completed: np.ndarray, truth: np.ndarray, holes: np.ndarray, chunk: int = 256
) -> dict[str, np.ndarray]:
    """``score`` a few hundred images at a time, so float64 copies of a big set never pile up."""
    parts = [
        score(completed[i : i + chunk], truth[i : i + chunk], holes[i : i + chunk]) for i in range(0, len(truth), chunk)
    ]
    return concat_scores(parts)


def summarise(per_image: dict[str, np.ndarray]) -> dict[str, float]:
    """Means over images; PSNR is the mean of per-image PSNR, not the PSNR of the mean L2.
    Images a metric skips (NaN: no hole, or a flat truth for texture) do not count; a metric
    that skipped every image is NaN."""
    return {k: _mean_of_finite(per_image[k]) for k in METRICS}


def _mean_of_finite(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float("nan")


def hole_sharpness(image: np.ndarray, hole: np.ndarray) -> float:
    """Sharpness of one uint8 image in its hole: for the truth, what a perfect fill would score."""
    return gradient_magnitude(image.astype(np.float64) / 255.0, hole)


@dataclass
class Evaluation:
    """One (image set, hole type) evaluated: its record, and the pictures for the grid."""

    result: ProtocolResult
    grid_rows: list[np.ndarray]  # one (R, H, W, 3) column each: input | pictured methods... | truth
