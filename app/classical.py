"""OpenCV's classical inpainting (Telea's fast marching, Navier-Stokes) as baselines served
beside the generators, so users can compare; only offered when cv2 is importable."""

from __future__ import annotations

import numpy as np

try:
    import cv2
except ImportError:  # opencv is an optional extra
    cv2 = None

RADIUS = 5  # px of neighbourhood each filled pixel looks at
TITLES = {"telea": "OpenCV Telea", "ns": "OpenCV Navier-Stokes"}
GOOD_AT = {
    "telea": "thin strokes and small specks on smooth backgrounds; fast",
    "ns": "thin strokes along edges; smooth continuation of lines into the hole",
}
DESCRIPTIONS = {
    "telea": "OpenCV cv2.inpaint, Telea fast marching method (radius 5): classical baseline, no learning.",
    "ns": "OpenCV cv2.inpaint, Navier-Stokes fluid-dynamics method (radius 5): classical baseline, no learning.",
}


def available() -> bool:
    return cv2 is not None


def methods() -> list[str]:
    """Names of the classical fillers this installation can serve."""
    return list(DESCRIPTIONS) if available() else []


def classical_fill(rgb: np.ndarray, hole: np.ndarray, method: str) -> np.ndarray:
    """Fill ``hole`` (True = fill) of an (H, W, 3) uint8 image; pixels outside stay exact."""
    if cv2 is None:
        raise RuntimeError("OpenCV is not installed")
    flag = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}[method]
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    out = cv2.inpaint(rgb, hole.astype(np.uint8) * 255, RADIUS, flag)
    out[~hole] = rgb[~hole]
    return out
