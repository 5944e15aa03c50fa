"""The mirror fill: the context's own texture carried into a hole, for a refiner to take."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from model.export import DEFAULT_WEIGHTS, GeneratorMeta, export_generator
from model.inference import finish, load_generator, prepare
from model.mirror_fill import mirror_fill
from model.networks import Generator, GeneratorConfig
from model.refine import coarse_share, refine, refinement_job

SIZE = 128


def test_a_texture_continues_across_the_nearest_edge() -> None:
    """Horizontal stripes with a vertical band erased: every hole pixel's nearest edge is a
    side of the band, mirroring keeps its row, so the stripes come back exactly (where a mirror
    point lies on the photo); the known pixels are untouched."""
    ys = np.arange(96)[:, None, None]
    photo = np.broadcast_to(np.where(ys // 3 % 2, 200, 40), (96, 120, 3)).astype(np.uint8)
    hole = np.zeros((96, 120), bool)
    hole[:, 50:70] = True
    filled = mirror_fill(np.where(hole[..., None], 0, photo).astype(np.uint8), hole)
    assert np.array_equal(filled, photo)


def test_nothing_erased_reaches_it_and_a_hole_far_from_the_region_stays_empty() -> None:
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (200, 900, 3), dtype=np.uint8)
    hole = np.zeros((200, 900), bool)
    hole[60:140, 40:160] = True  # the region's hole
    hole[80:120, 700:760] = True  # another, more than MARGIN px from it
    region = np.zeros_like(hole)
    region[60:140, 40:160] = True
    maps = [mirror_fill(np.where(hole[..., None], v, photo).astype(np.uint8), hole, region) for v in (0, 255)]
    assert np.array_equal(*maps)
    assert np.array_equal(maps[0][~hole], photo[~hole])
    assert maps[0][60:140, 40:160].any() and not maps[0][80:120, 700:760].any()
    known = {tuple(p) for p in photo[~hole]}
    assert all(tuple(p) in known for p in maps[0][60:140, 40:160].reshape(-1, 3)), "every value is a known pixel's"


def test_a_mirror_refiner_reads_its_seven_channel_windows_and_nothing_erased(tmp_path: Path) -> None:
    torch.manual_seed(0)
    path = tmp_path / "refiner.pt"
    meta = GeneratorMeta(mask_type="mixed", mean_colour=[0.5] * 3, training={"input": "coarse"})
    export_generator(Generator(GeneratorConfig(in_channels=8)).eval(), meta, path)  # not residual: not zero
    refiner, coarse_model = load_generator(path), load_generator(DEFAULT_WEIGHTS)
    assert refiner.window_channels == 7
    rng = np.random.default_rng(1)
    photo = np.clip(rng.normal(128, 40, (400, 600, 3)), 0, 255).astype(np.uint8)
    ys, xs = np.ogrid[:400, :600]
    hole = (ys - 200) ** 2 + (xs - 300) ** 2 <= 150**2
    results = []
    for erased in (photo, np.where(hole[..., None], 255 - photo, photo).astype(np.uint8)):
        job = prepare(erased, hole, SIZE)
        coarse = finish(job, coarse_model.fill(job.inputs, job.holes))
        results.append(refine(job, coarse, refiner))
        assert np.array_equal(results[-1][~hole], photo[~hole])
    assert np.array_equal(*results), "what was under the hole never reaches the fill"
    second = refinement_job(coarse, hole, coarse_share(job), SIZE, channels=7)
    assert second.inputs.shape[-1] == 7 and second.inputs[..., 4:][second.holes].any()
    blind = second.inputs.copy()
    blind[..., 4:] = 0
    assert not np.array_equal(refiner.fill(second.inputs, second.holes), refiner.fill(blind, second.holes))
    with pytest.raises(ValueError, match="3, 4 or 7 channels"):
        refinement_job(coarse, hole, coarse_share(job), SIZE, channels=5)
