"""Real texture for a refiner to work from: the photo's known pixels mirrored into the hole.

A refiner tile deep inside a big hole holds only the smooth coarse fill and the detail hint, so
whatever detail it paints there is a pattern of its own: a maze, ripples. This map holds the
photograph's own texture instead. Each hole pixel p takes the known pixel mirrored across the
hole's nearest edge: with q the known pixel nearest to p, the known pixel nearest to 2q - p (the
mirror point, folded back onto the photo), as reflect padding extends a picture past its border. Its
structure is often wrong (seams where the nearest edge changes, mirrored objects); its texture
is the context's. Only known pixels are read: nothing under the mask reaches the map.
"""

from __future__ import annotations

import cv2
import numpy as np

from model.holes import hole_box

MARGIN = 256  # context, in px, read around the region's bounding box (as the detail hint reads)


def mirror_fill(image: np.ndarray, mask: np.ndarray, region: np.ndarray | None = None) -> np.ndarray:
    """(H, W, 3) uint8: ``image`` with the hole pixels (``mask``) around and inside ``region``
    (default the mask) mirrored in from the known ones, and zero in the hole elsewhere."""
    out = image.copy()
    out[mask] = 0
    box = hole_box(mask if region is None else region)
    if box is None or mask.all():
        return out
    h, w = mask.shape
    ys = slice(max(0, box[0].start - MARGIN), min(h, box[0].stop + MARGIN))
    xs = slice(max(0, box[1].start - MARGIN), min(w, box[1].stop + MARGIN))
    hole = mask[ys, xs]
    if hole.all():
        return out  # no known pixel near the region: nothing to mirror
    nearest = _nearest_known(hole)
    hy, hx = np.nonzero(hole)
    flat = nearest[hy, hx]
    qy, qx = np.divmod(flat, hole.shape[1])
    my, mx = _reflected(2 * qy - hy, hole.shape[0]), _reflected(2 * qx - hx, hole.shape[1])
    sy, sx = np.divmod(nearest[my, mx], hole.shape[1])  # a mirror point in the hole: its nearest known
    crop = out[ys, xs]
    crop[hy, hx] = image[ys, xs][sy, sx]
    return out


def _reflected(coords: np.ndarray, size: int) -> np.ndarray:
    """Coordinates mirrored back at the map's edges (a mirror point past the photo's border
    lands inside it, not on the border row, which is often a dark scan line)."""
    period = 2 * (size - 1)
    folded = np.abs(coords) % period if period else np.zeros_like(coords)
    return np.where(folded < size, folded, period - folded)


def _nearest_known(hole: np.ndarray) -> np.ndarray:
    """(h, w) int64: for every pixel, the flat index of the known (False) pixel nearest to it
    (itself where it is known), by OpenCV's 5x5 distance transform."""
    _, labels = cv2.distanceTransformWithLabels(hole.astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
    known = np.flatnonzero(~hole)
    where = np.zeros(int(labels.max()) + 1, np.int64)
    where[labels.reshape(-1)[known]] = known
    return where[labels]
