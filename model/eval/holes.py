"""The seeded holes every method is measured on.

At 128 px a protocol's holes come from ``model.hole_samplers``' samplers, or, for ``freeform`` with a
bank of real NVIDIA irregular masks (resized to 128 with nearest, kept when 5 %-40 % hole),
from that bank. At full resolution each photograph gets one hole of its own size:

==========  ================================================================
objects     real object silhouettes (PASCAL VOC / DAVIS), 5 % to 25 % of the photo
strokes     1-3 long thin strokes, 4-16 px wide, across the photo (wires, cables)
blobs       one big blob of overlapping ellipses, 25 % to 35 % of the photo
==========  ================================================================

Every hole is seeded by the run's seed and the hole type (and the photo's index at full
resolution), so every method and every rerun sees the same holes whatever the order of
``--masks``.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from model.eval.freeform_masks import FreeformMasks
from model.hole_samplers import ShapeBank, ellipse_blob, mask_batch, mask_fn

log = logging.getLogger(__name__)

FULLRES_KINDS = ("objects", "strokes", "blobs")


# ------------------------------------------------------------------ 128 px
def eval_holes(
    kind: str,
    n: int,
    size: int,
    seed: int,
    freeform: FreeformMasks | None = None,
    shapes: ShapeBank | None = None,
) -> np.ndarray:
    """(n, size, size) bool holes; seeded by (seed, kind), so every method and every rerun
    sees the same holes whatever the order of ``--masks``."""
    rng = np.random.default_rng([seed, zlib.crc32(kind.encode())])
    if kind == "freeform" and freeform is not None:
        return freeform.assign(rng, n)
    return mask_batch(mask_fn(kind, size, shapes), rng, n)


def load_freeform(folder: Path | None, masks: list[str], size: int) -> FreeformMasks | None:
    """The real free-form masks when ``--freeform-dir`` is given and ``freeform`` is measured."""
    if not folder or "freeform" not in masks:
        return None
    freeform = FreeformMasks(folder, size)
    log.info("free-form masks: %d of %d in %s within the coverage bounds", len(freeform), freeform.total, folder)
    return freeform


# --------------------------------------------------------- full resolution
def _place(piece: np.ndarray, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    ph, pw = min(piece.shape[0], h), min(piece.shape[1], w)
    mask = np.zeros((h, w), bool)
    y, x = int(rng.integers(0, h - ph + 1)), int(rng.integers(0, w - pw + 1))
    mask[y : y + ph, x : x + pw] = piece[:ph, :pw]
    return mask


def _scaled(shape: np.ndarray, area: float) -> np.ndarray:
    factor = np.sqrt(area / max(1, shape.sum()))
    size = (max(2, round(shape.shape[1] * factor)), max(2, round(shape.shape[0] * factor)))
    return np.asarray(Image.fromarray(shape.astype(np.uint8) * 255).resize(size, Image.Resampling.NEAREST)) > 127


def _ellipses(rng: np.random.Generator, side: int) -> np.ndarray:
    return ellipse_blob(rng, side, count=(4, 9), radius=(0.15, 0.32), walk=0.12, keep=(0.3, 0.7))


def objects_mask(rng: np.random.Generator, h: int, w: int, shapes: ShapeBank | None) -> np.ndarray:
    """One object silhouette scaled to a random 5-25 % of the photo."""
    target = rng.uniform(0.05, 0.25) * h * w
    for _ in range(20):
        shape = shapes.shapes[int(rng.integers(len(shapes)))] if shapes is not None else _ellipses(rng, 64)
        piece = _scaled(shape, target)
        if piece.shape[0] <= h and piece.shape[1] <= w:
            return _place(piece, h, w, rng)
    return _place(piece, h, w, rng)


def blobs_mask(rng: np.random.Generator, h: int, w: int, shapes: ShapeBank | None = None) -> np.ndarray:
    """One big blob covering a random 25-35 % of the photo."""
    target = rng.uniform(0.25, 0.35) * h * w
    piece = _scaled(_ellipses(rng, 256), target)
    return _place(piece, h, w, rng)


def strokes_mask(rng: np.random.Generator, h: int, w: int, shapes: ShapeBank | None = None) -> np.ndarray:
    """One to three long gently curved strokes, 4-16 px wide, across the photo."""
    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    span = max(h, w)
    for _ in range(int(rng.integers(1, 4))):
        width = int(rng.integers(4, 17))
        angle = rng.uniform(0, np.pi)
        centre = np.array([rng.uniform(0.25, 0.75) * w, rng.uniform(0.25, 0.75) * h])
        direction = np.array([np.cos(angle), np.sin(angle)])
        normal = np.array([-direction[1], direction[0]])
        bend = rng.normal(0, 0.08 * span)
        points = [tuple(centre + t * span * direction + (1 - t * t) * bend * normal) for t in np.linspace(-1, 1, 17)]
        draw.line([(float(x), float(y)) for x, y in points], fill=255, width=width, joint="curve")
    return np.asarray(img) > 127


MASKERS: dict[str, Callable[..., np.ndarray]] = {
    "objects": objects_mask,
    "strokes": strokes_mask,
    "blobs": blobs_mask,
}


def fullres_mask(kind: str, index: int, h: int, w: int, seed: int, shapes: ShapeBank | None) -> np.ndarray:
    """The hole for image ``index`` of a set: seeded by (seed, kind, index), so every method and
    every rerun sees the same hole."""
    rng = np.random.default_rng([seed, zlib.crc32(kind.encode()), index])
    return MASKERS[kind](rng, h, w, shapes)
