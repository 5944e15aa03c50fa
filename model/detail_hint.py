"""Where a hole should hold detail: the context's local amount of detail, carried into the hole.

A refiner tile deep inside a big hole holds nothing but the smooth coarse fill, so the refiner
cannot tell whether the photograph was sky or grass there, and paints the same detail on both.
This map tells it: the photograph's local detail (gradient magnitude averaged over a few
pixels, as ``ce-train --detail`` and the evaluation's ``invented`` measure it, here from
Sobel-smoothed differences so that it can be computed in bands) around the hole,
spread into the hole by normalised convolution, the finest scale that reaches known pixels
taking over smoothly from the coarser ones. Only known pixels count; nothing under the mask
reaches it.
"""

from __future__ import annotations

import cv2
import numpy as np

from model.holes import hole_box

STEP = 4  # the map is built on a grid this many px apart (the detail is averaged over as much)
SCALES = (2.0, 8.0, 32.0, 128.0)  # normalised-convolution widths, in grid cells (8-512 px)
ENOUGH = 0.2  # a scale answers alone where at least this share of its weight fell on known pixels
FULL = 0.25  # local detail (grey-level gradient per px, in 0-1 units) that the map's 255 stands for
MARGIN = 256  # context, in px, read around the region's bounding box
BAND = 1 << 21  # pixels of the photo whose gradients are held at once


def local_detail_grid(image: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The grey image's gradient magnitude averaged over ``STEP`` px cells, over known pixels only
    (a difference that touches a hole pixel is left out), and each cell's known share. Works in
    bands of ``BAND`` rows, so a 48-megapixel photo costs a band's floats, not the photo's."""
    h, w = known.shape
    cells_y, cells_x = -(-h // STEP), -(-w // STEP)
    values = np.zeros((cells_y, cells_x), np.float32)
    share = np.zeros((cells_y, cells_x), np.float32)
    rows = max(STEP, BAND // max(1, w) // STEP * STEP)
    for r0 in range(0, h, rows):
        r1 = min(h, r0 + rows)
        a0, a1 = max(0, r0 - 1), min(h, r1 + 1)  # one row of context each side for the differences
        grey = image[a0:a1].astype(np.float32).mean(axis=2) / 255.0
        gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3, scale=0.125)
        gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3, scale=0.125)
        usable = cv2.erode(known[a0:a1].astype(np.uint8), np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)
        usable = usable[r0 - a0 : r1 - a0].astype(np.float32)
        magnitude = np.sqrt(gx * gx + gy * gy)[r0 - a0 : r1 - a0] * usable
        cells = slice(r0 // STEP, r0 // STEP + -(-(r1 - r0) // STEP))
        values[cells], share[cells] = _cell_means(magnitude), _cell_means(usable)
    return values / np.maximum(share, 1e-6), share


def _cell_means(array: np.ndarray) -> np.ndarray:
    """Means over ``STEP`` x ``STEP`` cells (the last row and column of cells may be partial)."""
    h, w = array.shape
    padded = np.pad(array, ((0, -h % STEP), (0, -w % STEP)), mode="edge")
    return padded.reshape(padded.shape[0] // STEP, STEP, -1, STEP).mean(axis=(1, 3))


def spread(values: np.ndarray, share: np.ndarray) -> np.ndarray:
    """``values`` where ``share`` is whole, and elsewhere their weighted averages over Gaussians
    of ``SCALES``, each finer one taking over as its known weight reaches ``ENOUGH``. The blend
    is continuous: a hard switch between scales draws a step along a contour of the hole, and a
    network fed the map paints that step as a line."""
    weighted = values * share
    out = np.full_like(values, weighted.sum() / max(float(share.sum()), 1e-6))  # far from anything known
    for sigma in reversed(SCALES):
        num = cv2.GaussianBlur(weighted, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
        den = cv2.GaussianBlur(share, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
        confident = np.clip(den / ENOUGH, 0.0, 1.0)
        out = confident * (num / np.maximum(den, 1e-6)) + (1 - confident) * out
    return share * values + (1 - share) * out


def detail_hint(image: np.ndarray, mask: np.ndarray, region: np.ndarray | None = None) -> np.ndarray:
    """(H, W) uint8: the expected local detail at every pixel around and inside ``region``
    (default the mask), 255 = ``FULL``; zero outside that area. ``image`` (H, W, 3) uint8 is
    read only where ``mask`` (the erased pixels) is False."""
    hint = np.zeros(mask.shape, np.uint8)
    box = hole_box(mask if region is None else region)
    if box is None:
        return hint
    h, w = mask.shape
    ys = slice(max(0, box[0].start - MARGIN), min(h, box[0].stop + MARGIN))
    xs = slice(max(0, box[1].start - MARGIN), min(w, box[1].stop + MARGIN))
    values, share = local_detail_grid(image[ys, xs], ~mask[ys, xs])
    if share.max() <= 0:
        return hint  # no known pixel near the region: nothing to say
    grid = np.clip(np.round(spread(values, share) * (255.0 / FULL)), 0, 255).astype(np.uint8)
    hint[ys, xs] = cv2.resize(grid, (xs.stop - xs.start, ys.stop - ys.start), interpolation=cv2.INTER_LINEAR)
    return hint
