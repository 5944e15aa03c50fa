"""PNG grids of images for training samples and evaluation comparisons."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(B, 3, H, W) in [-1, 1] -> (B, H, W, 3) uint8."""
    return ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()


def grid_from_columns(columns: Sequence[np.ndarray], pad: int = 2) -> Image.Image:
    """One row per image, one column per array in ``columns`` (each (B, H, W, 3) uint8)."""
    b, h, w, _ = columns[0].shape
    canvas = np.full((b * (h + pad) + pad, len(columns) * (w + pad) + pad, 3), 255, np.uint8)
    for c, col in enumerate(columns):
        for r in range(b):
            y, x = pad + r * (h + pad), pad + c * (w + pad)
            canvas[y : y + h, x : x + w] = col[r]
    return Image.fromarray(canvas)


def save_sample_grid(columns: Sequence[torch.Tensor], path: Path) -> None:
    """Rows of (masked input | output | truth) for tensors in [-1, 1]."""
    grid_from_columns([to_uint8(c) for c in columns]).save(path)
