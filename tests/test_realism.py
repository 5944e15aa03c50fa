"""Realism measures without learned weights (``model.realism``): texture against hand-made
images, and the patch Fréchet distance ranking known degradations of real photographs."""

from __future__ import annotations

import io
import itertools
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from model import realism
from model.baselines import mean_fill
from model.data import list_images, load_eval_images
from model.hole_samplers import center_mask

SIZE = 128


def _noise(seed: int = 0, size: int = SIZE) -> np.ndarray:
    return np.random.default_rng(seed).integers(30, 220, size=(size, size, 3), dtype=np.uint8)


def test_texture_is_one_for_the_truth_and_lower_for_a_blur() -> None:
    truth = _noise().astype(np.float64) / 255
    hole = center_mask(None, SIZE)
    blurred = cv2.GaussianBlur(truth, (0, 0), 1.0)
    assert realism.texture_ratio(truth, truth, hole) == pytest.approx(1.0)
    assert realism.texture_ratio(blurred, truth, hole) < 0.5
    flat = np.full_like(truth, 0.5)
    assert realism.texture_ratio(np.where(hole[..., None], flat, truth), truth, hole) == 0.0  # the seam is no texture
    # a flat truth has no texture to match, and no hole nothing to measure: skipped, not 0 or inf
    assert math.isnan(realism.texture_ratio(truth, flat, hole))
    hairline = np.zeros_like(hole)
    hairline[:, 40:42] = True  # two pixels wide: no interior
    assert math.isnan(realism.texture_ratio(truth, truth, hairline))


def test_invented_detail_catches_one_texture_spread_over_flat_and_detailed_ground() -> None:
    """A photo half sky, half grass: the truth and a smear invent nothing (a blurred ramp
    keeps its slope); a fill with the photo's own amount of detail spread evenly over both
    halves (texture near 1, so texture alone passes it) invents a lot where the sky is."""
    grass = _noise().astype(np.float64) / 255
    truth = grass.copy()
    truth[:, : SIZE // 2] = np.linspace(0.3, 0.6, SIZE)[:, None, None]  # a smooth sky on the left
    hole = center_mask(None, SIZE)
    even = np.full_like(truth, 0.45) + (grass - 0.5) * 0.6  # half the grass's contrast, everywhere
    smeared = cv2.GaussianBlur(truth, (0, 0), 3.0)
    assert realism.invented_detail(truth, truth, hole) == pytest.approx(0.0)
    assert -0.05 < realism.invented_detail(smeared, truth, hole) <= 1e-9
    assert 0.8 < realism.texture_ratio(even, truth, hole) < 1.2
    assert realism.invented_detail(even, truth, hole) > 0.5
    assert math.isnan(realism.invented_detail(truth, np.full_like(truth, 0.5), hole))  # skipped as texture is


def test_patches_are_the_grid_squares_mostly_inside_the_hole() -> None:
    grid = realism.patch_grid(center_mask(None, SIZE))  # 64 px square at 32..96
    assert grid.shape == (15, 15) and grid.sum() == 49  # 16 px patches at 32, 40, ..., 80
    assert np.argwhere(grid).min() == 4 and np.argwhere(grid).max() == 10
    hole = np.zeros((SIZE, SIZE), bool)
    hole[0:16, 0:12] = True  # 75 % of the first patch
    assert realism.patch_grid(hole)[0, 0] and realism.patch_grid(hole).sum() == 1
    hole[:, 11] = False  # 11/16 of it: too much context
    assert realism.patch_grid(hole).sum() == 0
    assert realism.patch_features(_noise(), realism.patch_grid(center_mask(None, SIZE))).shape == (
        49,
        len(realism.FEATURE_NAMES),
    )


def test_features_of_a_small_hole_in_a_big_image_are_those_of_the_whole_image() -> None:
    """Only the hole's surroundings are filtered: the crop must change no feature."""
    image = _noise(1, 256)
    hole = np.zeros((256, 256), bool)
    hole[100:160, 60:130] = True
    grid = realism.patch_grid(hole)
    whole = realism._patch_means(realism.pixel_features(image))
    assert np.allclose(realism.patch_features(image, grid), realism.features_from_means(whole[grid]))


def test_frechet_distance_of_standardised_features() -> None:
    rng = np.random.default_rng(0)
    truth = rng.normal(size=(4000, 5)) * [1, 2, 3, 4, 5] + 10
    assert realism.frechet_distance(truth, truth) == pytest.approx(0.0, abs=1e-4)
    # shifted by half a standard deviation in two features: |mu1 - mu2|^2 = 2 * 0.25, same covariance
    shifted = truth + np.array([0.5, 1.0, 0, 0, 0])
    assert realism.frechet_distance(shifted, truth) == pytest.approx(0.5, rel=1e-3)
    # a collapsed set (every patch alike): the truth's whole spread is missing
    assert realism.frechet_distance(np.repeat(truth.mean(0, keepdims=True), 10, 0), truth) == pytest.approx(5, rel=1e-2)
    assert math.isnan(realism.frechet_distance(truth[:1], truth))


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB"))


def test_patch_fd_ranks_known_degradations_of_real_photographs(shared_data: Path) -> None:
    """Kodak's 24 photos, five 128 px crops each, the paper's central hole. Twelve photos are
    the truth; the other twelve, as they are, give the distance between two sets of real
    photographs: every degradation of the truth must lie further away than that, in order."""
    crops = load_eval_images(list_images(shared_data / "test" / "kodak24"), SIZE, crops=5)
    assert len(crops) == 120
    truth, other = crops[:60], crops[60:]  # photos 1-12 and 13-24
    holes = np.stack([center_mask(None, SIZE)] * len(truth))

    def filled(fills: np.ndarray) -> np.ndarray:
        return np.where(holes[..., None], fills, truth).astype(np.uint8)

    candidates = {
        "other photos": other,
        "jpeg q75": filled(np.stack([_jpeg(t, 75) for t in truth])),
        "blur sigma 1": filled(np.stack([cv2.GaussianBlur(t, (0, 0), 1.0) for t in truth])),
        "blur sigma 2": filled(np.stack([cv2.GaussianBlur(t, (0, 0), 2.0) for t in truth])),
        "mean colour": mean_fill(truth, holes, [0.46, 0.45, 0.42]),
    }
    truth_features = realism.hole_patch_features(truth, holes)
    assert len(truth_features) == 60 * 49
    fd = {
        name: realism.frechet_distance(realism.hole_patch_features(fills, holes), truth_features)
        for name, fills in candidates.items()
    }
    print({k: round(v, 3) for k, v in fd.items()})
    values = list(fd.values())
    # measured 1.11 < 3.57 < 6.13 < 18.4 < 405: each step at least 1.2x the one before
    assert all(later > 1.2 * earlier for earlier, later in itertools.pairwise(values)), fd
    # the same ranking through the public one-call helper
    assert realism.patch_fd(candidates["jpeg q75"], truth, holes) == pytest.approx(fd["jpeg q75"])


def test_grid_score_finds_blocks_locked_to_the_generators_stride(shared_data: Path) -> None:
    import torch

    from model.metrics import hole_grid

    photos = load_eval_images(sorted(list_images(shared_data / "test" / "kodak24"))[:8], SIZE)
    truth = torch.from_numpy(photos).permute(0, 3, 1, 2).float() / 255
    hole = torch.from_numpy(np.stack([center_mask(None, SIZE)] * len(truth))).unsqueeze(1).float()
    natural = float(hole_grid(truth, hole).mean())
    # the same photographs as 8 px blocks (nearest up-sampling of a 16 px version): every edge on one phase
    blocks = torch.nn.functional.interpolate(torch.nn.functional.avg_pool2d(truth, 8), scale_factor=8)
    blocky = float(hole_grid(blocks, hole).mean())
    blurred = float(hole_grid(torch.from_numpy(np.stack([cv2.GaussianBlur(p, (0, 0), 2) for p in photos]))
                              .permute(0, 3, 1, 2).float() / 255, hole).mean())  # fmt: skip
    assert natural < 0.2 and blurred < 0.2
    assert blocky > 1.0
    assert math.isnan(float(hole_grid(truth[:1], torch.zeros_like(hole[:1]))[0]))
