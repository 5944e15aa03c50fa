"""Holes in smooth surroundings: a flat wall, a clear sky, a studio backdrop, a gradient.

When the known ring around a hole is a smooth surface to within a level or so (a plane, or a
quadratic where the ring encloses the hole), that surface, continued over the hole, is the
fill: there is nothing in the context to invent from. The generator, trained on photographs,
adds its own few levels of error there (4 on flat grey), and over a big hole in a ramp it
inherits the pre-fill's error (Telea's interpolation bends a linear ramp by tens of levels).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

RING = 6  # px of known pixels around a hole that the surface is fitted to
SMOOTH_RMS = 1.0  # levels: the largest root-mean-square distance of the ring from its surface
SMOOTH_PEAK = 4.0  # levels: the largest distance of any ring pixel (a thin edge in a flat ring)
MIN_RING = 32  # ring pixels: fewer say too little about the surface


@dataclass
class SmoothHole:
    """One hole filled with the surface fitted to its ring."""

    box: tuple[int, int, int, int]  # y0, y1, x0, x1 of the hole
    hole: np.ndarray  # (y1 - y0, x1 - x0) bool: the hole's pixels in its box
    coefficients: np.ndarray  # (terms, 3): the surface in ``_terms``
    centre: tuple[float, float]  # y, x the coordinates are taken from
    scale: float

    def pixels(self, width: int) -> np.ndarray:
        """The hole's pixels as row-major indices into an image ``width`` wide (ascending)."""
        ys, xs = np.nonzero(self.hole)
        return (ys + self.box[0]).astype(np.int64) * width + xs + self.box[2]

    def values(self) -> np.ndarray:
        """(n, 3) float32 fill of the hole's pixels, in the order of ``pixels``, in 0..255."""
        ys, xs = np.nonzero(self.hole)
        terms = _terms(ys + self.box[0], xs + self.box[2], self.centre, self.scale, len(self.coefficients))
        return np.clip(terms @ self.coefficients, 0, 255).astype(np.float32)


def _terms(ys: np.ndarray, xs: np.ndarray, centre: tuple[float, float], scale: float, count: int) -> np.ndarray:
    """The surface's terms at pixels (ys, xs): 1, u, v (a plane) and u², uv, v² (a quadratic)."""
    v, u = (ys - centre[0]) / scale, (xs - centre[1]) / scale
    columns = [np.ones_like(u), u, v, u * u, u * v, v * v][:count]
    return np.stack(columns, axis=1)


def smooth_surface(
    image: np.ndarray, mask: np.ndarray, component: np.ndarray, box: tuple[int, int, int, int]
) -> SmoothHole | None:
    """The hole ``component`` ((y1 - y0, x1 - x0) bool in ``box`` of ``image``) as a
    ``SmoothHole`` when the known pixels within ``RING`` px of it lie on one smooth surface;
    None otherwise (most holes: any texture or edge near them)."""
    h, w = mask.shape
    y0, y1, x0, x1 = box
    ey0, ey1, ex0, ex1 = max(0, y0 - RING), min(h, y1 + RING), max(0, x0 - RING), min(w, x1 + RING)
    grown = np.zeros((ey1 - ey0, ex1 - ex0), np.uint8)
    grown[y0 - ey0 : y1 - ey0, x0 - ex0 : x1 - ex0] = component
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * RING + 1, 2 * RING + 1))
    ring = cv2.dilate(grown, kernel).astype(bool) & ~mask[ey0:ey1, ex0:ex1]
    ys, xs = np.nonzero(ring)
    if len(ys) < MIN_RING:
        return None
    ys, xs = ys + ey0, xs + ex0
    known = image[ys, xs].astype(np.float64)
    centre = ((y0 + y1 - 1) / 2, (x0 + x1 - 1) / 2)
    scale = max(y1 - y0, x1 - x0) / 2 + RING
    # a quadratic only where the ring encloses the hole: continued past a one-sided ring it bends away
    encloses = y0 > 0 and x0 > 0 and y1 < h and x1 < w
    terms = _terms(ys, xs, centre, scale, 6 if encloses else 3)
    coefficients = np.linalg.lstsq(terms, known, rcond=None)[0]
    residual = np.abs(known - terms @ coefficients)
    if np.sqrt(np.mean(residual**2)) > SMOOTH_RMS or residual.max() > SMOOTH_PEAK:
        return None
    return SmoothHole(box, component.copy(), coefficients, centre, scale)
