"""Holes in smooth surroundings (flat, a ramp, a vignette) are filled with the surface their
ring lies on, within 3 levels; anything with texture near it goes to the generator."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from model.export import WEIGHTS_DIR
from model.fillers import load_filler
from model.inference import prepare

SIZE = 640
ROWS, COLUMNS = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64) / SIZE


def _surface(kind: str) -> np.ndarray:
    """A (SIZE, SIZE, 3) float photo with no detail: flat, graded or vignetted."""
    if kind == "grey":
        return np.full((SIZE, SIZE, 3), 128.0)
    if kind == "ramp":
        return np.repeat((40 + 180 * COLUMNS)[..., None], 3, axis=-1)
    if kind == "colour-ramp":
        return np.stack([30 + 100 * (ROWS + COLUMNS), 200 - 80 * ROWS, 90 + 60 * COLUMNS], axis=-1)
    if kind == "vignette":
        fall = 1 - 0.5 * ((ROWS - 0.5) ** 2 + (COLUMNS - 0.4) ** 2)
        return np.stack([200 * fall, 170 * fall, 120 * fall], axis=-1)
    raise ValueError(kind)


def _holes(border: bool) -> dict[str, np.ndarray]:
    holes = {}
    for radius in (30, 100, 200):
        hole = np.zeros((SIZE, SIZE), np.uint8)
        cv2.circle(hole, (SIZE // 2, SIZE // 2), radius, 1, -1)
        holes[f"disc of {2 * radius} px"] = hole
    stroke = np.zeros((SIZE, SIZE), np.uint8)
    cv2.line(stroke, (80, 560), (560, 90), 1, 12)
    holes["12 px stroke"] = stroke
    if border:
        edge = np.zeros((SIZE, SIZE), np.uint8)
        cv2.circle(edge, (SIZE - 20, 300), 90, 1, -1)
        holes["disc cut by the border"] = edge
    return {name: hole.astype(bool) for name, hole in holes.items()}


@pytest.fixture(scope="module")
def shipped():
    return load_filler(WEIGHTS_DIR / "ce-region.pt")


@pytest.mark.parametrize(
    ("kind", "noise"), [("grey", 0.0), ("ramp", 0.0), ("colour-ramp", 0.0), ("vignette", 0.0), ("grey", 0.5)]
)
def test_a_hole_in_a_flat_or_graded_photo_fills_within_three_levels(shipped, kind: str, noise: float) -> None:
    truth = _surface(kind)
    grain = np.random.default_rng(0).normal(0, noise, truth.shape[:2])[..., None] if noise else 0
    photo = np.clip(np.rint(truth + grain), 0, 255).astype(np.uint8)
    for name, hole in _holes(border=kind != "vignette").items():
        filled = shipped.fill(photo, hole)
        error = np.abs(filled.astype(np.float64) - truth)[hole].max()
        assert error <= 3, f"{kind} photo, {name}: off by {error:.1f} levels"
        assert np.array_equal(filled[~hole], photo[~hole])


def test_a_photo_with_texture_goes_to_the_generator(photo_path) -> None:
    photo = Image.open(photo_path).convert("RGB")
    hole = np.zeros((photo.height, photo.width), np.uint8)
    cv2.circle(hole, (photo.width // 2, photo.height // 2), 40, 1, -1)
    job = prepare(photo, hole.astype(bool))
    assert job.smooth == [] and len(job.windows) == 1


def test_a_ring_that_encloses_the_hole_fits_a_quadratic_and_a_cut_one_a_plane() -> None:
    photo = np.clip(np.rint(_surface("ramp")), 0, 255).astype(np.uint8)
    holes = _holes(border=True)
    inside = prepare(photo, holes["disc of 60 px"])
    cut = prepare(photo, holes["disc cut by the border"])
    assert [len(s.coefficients) for s in inside.smooth] == [6] and inside.windows == []
    assert [len(s.coefficients) for s in cut.smooth] == [3] and cut.windows == []


def test_nothing_erased_reaches_a_smooth_fill(shipped) -> None:
    photo = np.clip(np.rint(_surface("colour-ramp")), 0, 255).astype(np.uint8)
    hole = _holes(border=False)["disc of 200 px"]
    magenta, green = photo.copy(), photo.copy()
    magenta[hole], green[hole] = (255, 0, 255), (0, 255, 0)
    assert np.array_equal(shipped.fill(magenta, hole), shipped.fill(green, hole))
