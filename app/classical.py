"""OpenCV's classical inpainting (Telea's fast marching, Navier-Stokes) served beside the
generators, so users can compare; the filling itself is ``model.baselines.opencv_fill``."""

from __future__ import annotations

import numpy as np

from model.baselines import INPAINT_RADIUS, opencv_fill

TITLES = {"telea": "OpenCV Telea", "ns": "OpenCV Navier-Stokes"}
GOOD_AT = {
    "telea": "thin strokes and small specks on smooth backgrounds; fast",
    "ns": "thin strokes along edges; smooth continuation of lines into the hole",
}
DESCRIPTIONS = {
    "telea": f"OpenCV cv2.inpaint, Telea fast marching method (radius {INPAINT_RADIUS}): no learning.",
    "ns": f"OpenCV cv2.inpaint, Navier-Stokes fluid-dynamics method (radius {INPAINT_RADIUS}): no learning.",
}


def methods() -> list[str]:
    """Names of the classical fillers the server offers."""
    return list(DESCRIPTIONS)


def classical_fill(rgb: np.ndarray, hole: np.ndarray, method: str) -> np.ndarray:
    """Fill ``hole`` (True = fill) of an (H, W, 3) uint8 image; pixels outside stay exact."""
    return opencv_fill(rgb[None], hole[None], method)[0]
