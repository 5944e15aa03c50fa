"""Mask samplers: seeded, and coverage within each type's bounds over many seeds."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from model.hole_samplers import (
    MAX_FREEFORM_COVERAGE,
    MAX_REGION_COVERAGE,
    MIN_COVERAGE,
    MIXED_SHARES,
    ShapeBank,
    center_mask,
    freeform_mask,
    irregular_mask,
    mask_fn,
    mixed_mask,
    parse_shares,
    silhouettes_for,
)

BOUNDS = {
    "block": (MIN_COVERAGE, MAX_REGION_COVERAGE),
    "region": (MIN_COVERAGE, MAX_REGION_COVERAGE),
    "freeform": (MIN_COVERAGE, MAX_FREEFORM_COVERAGE),
    "strokes": (MIN_COVERAGE, MAX_FREEFORM_COVERAGE),
    "irregular": (MIN_COVERAGE, MAX_FREEFORM_COVERAGE),
    "mixed": (MIN_COVERAGE, MAX_FREEFORM_COVERAGE),
}


def test_center_mask_is_the_central_quarter() -> None:
    m = center_mask(None, 128)
    assert m.sum() == 64 * 64
    assert m[32:96, 32:96].all()


@pytest.mark.parametrize("kind", sorted(BOUNDS))
def test_coverage_stays_within_bounds_over_many_seeds(kind: str) -> None:
    low, high = BOUNDS[kind]
    fn = mask_fn(kind, 128)
    coverages = np.array([fn(np.random.default_rng(seed)).mean() for seed in range(300)])
    assert coverages.min() >= low
    assert coverages.max() <= high
    assert coverages.std() > 0.02  # genuinely random sizes, not one shape


@pytest.mark.parametrize("kind", ["block", "region", "freeform", "strokes", "irregular", "mixed"])
def test_masks_are_reproducible_from_the_seed(kind: str) -> None:
    fn = mask_fn(kind, 128)
    a = fn(np.random.default_rng(7))
    assert np.array_equal(a, fn(np.random.default_rng(7)))
    assert not np.array_equal(a, fn(np.random.default_rng(8)))


def test_region_masks_from_real_object_silhouettes(shared_data: Path) -> None:
    bank = ShapeBank(shared_data / "masks" / "objects" / "davis2016_val", max_shapes=100)
    fn = mask_fn("region", 128, bank)
    coverages = [fn(np.random.default_rng(s)).mean() for s in range(100)]
    assert min(coverages) >= MIN_COVERAGE and max(coverages) <= MAX_REGION_COVERAGE


def test_silhouettes_load_only_for_the_kinds_that_draw_them(tmp_path: Path) -> None:
    """A folder that would fail to load proves it is never read for the other kinds."""
    empty = tmp_path / "no-silhouettes"
    empty.mkdir()
    assert silhouettes_for(["center", "freeform", "strokes"], empty) is None
    assert silhouettes_for(["region"], None) is None
    for kinds in (["region"], ["mixed"], ["center", "objects"]):
        with pytest.raises(FileNotFoundError, match="no PNG silhouettes"):
            silhouettes_for(kinds, empty)


def test_unknown_mask_type_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown mask type"):
        mask_fn("triangle")


def test_freeform_masks_are_painted_mostly_with_thin_brushes_like_real_ones() -> None:
    """Painted masks (the NVIDIA set at 128 px) have ~43 % of their hole at the rim; a sampler
    whose thick strokes dominate (~20 %) under-trains the pixels next to the known ones."""
    rims, depths = [], []
    for seed in range(200):
        hole = freeform_mask(np.random.default_rng(seed), 128)
        depth = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 5)[hole]
        rims.append((depth < 1.5).mean())
        depths.append(depth.max())
    assert np.mean(rims) > 0.3
    assert min(depths) <= 3 and max(depths) >= 8  # hairline brushes and thick ones both drawn


def _pieces_and_rim(hole: np.ndarray) -> tuple[int, float]:
    pieces = cv2.connectedComponents(hole.astype(np.uint8), connectivity=8)[0] - 1
    depth = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 5)[hole]
    return pieces, float((depth < 1.5).mean())


def test_irregular_masks_come_in_many_ragged_pieces_unlike_painted_strokes() -> None:
    """The NVIDIA irregular masks at 128 px come in a median of 8 pieces with ~40 % of the
    hole at the rim; painted strokes in ~2. The irregular sampler must give the many pieces
    without turning into speckle (most of the hole still deeper than the rim)."""
    irregular = [_pieces_and_rim(irregular_mask(np.random.default_rng(seed), 128)) for seed in range(200)]
    painted = [_pieces_and_rim(freeform_mask(np.random.default_rng(seed), 128)) for seed in range(200)]
    assert np.median([p for p, _ in irregular]) >= 6 > np.median([p for p, _ in painted])
    assert 0.25 < np.mean([r for _, r in irregular]) < 0.55


def test_mixed_shares_choose_the_kinds_drawn() -> None:
    rng = np.random.default_rng(0)
    assert all(np.array_equal(mixed_mask(rng, 64, shares={"center": 1.0}), center_mask(rng, 64)) for _ in range(5))
    square = center_mask(rng, 64)
    for shares, expected in ((None, MIXED_SHARES["center"]), ({"center": 3.0, "block": 1.0}, 0.75)):
        drawn = [mixed_mask(rng, 64, shares=shares) for _ in range(300)]
        assert abs(np.mean([np.array_equal(m, square) for m in drawn]) - expected) < 0.07
    assert parse_shares("region=1,center=3") == {"region": 0.25, "center": 0.75}
    assert parse_shares("irregular=1,freeform=1") == {"freeform": 0.5, "irregular": 0.5}
    assert "irregular" not in MIXED_SHARES  # only drawn when --mix names it
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    b.random()  # the draw that picks the kind
    assert np.array_equal(mixed_mask(a, 64, shares={"irregular": 1.0}), irregular_mask(b, 64))
