"""Hole geometry shared by serving, the window planner and the CLI: where a hole lies, how many
separate holes a mask holds, and a hole grown to cover an object's soft edge.

A hole is a (H, W) bool array, True = to be filled.
"""

from __future__ import annotations

import cv2
import numpy as np

MAX_GROW = 64  # px: the largest ``grow_hole`` the server and the CLI accept


def hole_box(hole: np.ndarray, margin: int = 0) -> tuple[slice, slice] | None:
    """The bounding box of a (H, W) bool mask's True pixels grown by ``margin`` (clipped to
    the mask), or None without any: labelling and measuring only there is what lets a hole
    on a 12 MP photo cost what the hole costs."""
    rows, cols = np.flatnonzero(hole.any(axis=1)), np.flatnonzero(hole.any(axis=0))
    if not len(rows):
        return None
    h, w = hole.shape
    return (
        slice(max(0, rows[0] - margin), min(h, rows[-1] + 1 + margin)),
        slice(max(0, cols[0] - margin), min(w, cols[-1] + 1 + margin)),
    )


def count_holes(hole: np.ndarray) -> int:
    """Separate holes as a person sees them (8-connected regions), labelled by OpenCV as the
    window planner labels them (7x faster than scipy's label on a 4096x4096 mask)."""
    box = hole_box(hole)
    if box is None:
        return 0
    return cv2.connectedComponents(hole[box].astype(np.uint8), connectivity=8)[0] - 1


def grow_hole(hole: np.ndarray, pixels: int) -> np.ndarray:
    """The hole dilated by ``pixels`` with a round brush: a painted mask must cover an object's
    soft edge and shadow too, or the fill continues them from the rim."""
    if pixels <= 0 or not hole.any():
        return hole
    side = 2 * int(pixels) + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))
    return cv2.dilate(hole.astype(np.uint8), kernel).astype(bool)
