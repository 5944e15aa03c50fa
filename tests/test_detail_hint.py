"""The refiner's detail hint: detail where the context has it, none where it is flat, nothing
read from under the mask; and a refiner grown to read it starts as the same function."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image
from scipy.stats import spearmanr

import model.detail_hint as detail_hint_module
from model.detail_hint import FULL, detail_hint, local_detail_grid
from model.eval.holes import objects_mask
from model.export import DEFAULT_WEIGHTS, GeneratorMeta, export_generator
from model.hole_samplers import ShapeBank
from model.inference import finish, load_generator, prepare
from model.networks import Generator, GeneratorConfig
from model.refine import coarse_share, refine, refinement_job
from model.tools.checkpoint import load_grown

SIZE = 128


def _sky_over_grass(h: int = 600, w: int = 800) -> tuple[np.ndarray, np.ndarray]:
    """A flat blue top half over a noisy green bottom half, and a tall hole across both."""
    rng = np.random.default_rng(0)
    image = np.empty((h, w, 3), np.uint8)
    image[: h // 2] = (110, 160, 220)
    grass = 90 + rng.normal(0, 30, (h - h // 2, w, 1)) * np.array([0.5, 1.0, 0.4])
    image[h // 2 :] = np.clip(grass, 0, 255).astype(np.uint8)
    hole = np.zeros((h, w), bool)
    hole[h // 6 : h * 5 // 6, w * 5 // 16 : w * 11 // 16] = True
    return image, hole


def test_the_hint_asks_for_detail_where_the_context_has_it() -> None:
    image, hole = _sky_over_grass()
    hint = detail_hint(image, hole).astype(np.float32) * FULL / 255
    sky, grass = hint[100:200, 250:550], hint[400:500, 250:550]  # the hole's parts by each side
    own, _ = local_detail_grid(image[520:], np.ones((80, image.shape[1]), bool))  # the grass outside
    assert sky.mean() < 0.005, "flat context: (almost) no detail asked for"
    assert 0.7 * own.mean() < grass.mean() < 1.3 * own.mean(), "noisy context: as much detail as it has"
    assert grass.mean() > 10 * sky.mean()
    flat = np.full_like(image, 128)
    assert detail_hint(flat, hole).max() == 0


def test_the_hint_reads_nothing_under_the_mask() -> None:
    image, hole = _sky_over_grass()
    erased = image.copy()
    erased[hole] = np.random.default_rng(1).integers(0, 256, (int(hole.sum()), 3))
    assert np.array_equal(detail_hint(image, hole), detail_hint(erased, hole))


def test_a_grown_hint_channel_starts_at_zero() -> None:
    torch.manual_seed(0)
    four = Generator(GeneratorConfig(in_channels=4, residual=True, skips=True)).eval()
    five = Generator(GeneratorConfig(in_channels=5, residual=True, skips=True)).eval()
    load_grown(five, four.state_dict())
    x = torch.rand(2, 4, SIZE, SIZE) * 2 - 1
    hint = torch.rand(2, 1, SIZE, SIZE) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(four(x), five(torch.cat([x, hint], dim=1)), atol=1e-5)


def test_a_hint_refiner_repaints_by_the_hint_and_reads_nothing_erased(photo_path: Path, tmp_path: Path) -> None:
    torch.manual_seed(0)
    path = tmp_path / "refiner.pt"
    meta = GeneratorMeta(mask_type="mixed", mean_colour=[0.5] * 3, training={"input": "coarse"})
    export_generator(Generator(GeneratorConfig(in_channels=5)).eval(), meta, path)  # not residual: not zero
    refiner, coarse_model = load_generator(path), load_generator(DEFAULT_WEIGHTS)
    assert refiner.refines
    photo = np.asarray(Image.open(photo_path).convert("RGB"))
    ys, xs = np.ogrid[: photo.shape[0], : photo.shape[1]]
    hole = (ys - 250) ** 2 + (xs - 380) ** 2 <= 150**2
    results = []
    for erased in (photo, np.where(hole[..., None], 255 - photo, photo).astype(np.uint8)):
        job = prepare(erased, hole, SIZE)
        coarse = finish(job, coarse_model.fill(job.inputs, job.holes))
        refined = refine(job, coarse, refiner)
        assert np.array_equal(refined[~hole], photo[~hole])
        results.append(refined)
    assert np.array_equal(*results), "what was under the hole never reaches the fill"
    second = refinement_job(coarse, hole, coarse_share(job), SIZE, channels=refiner.window_channels)
    assert second.inputs.shape[-1] == 4 and second.inputs[..., 3].any() and refiner.window_channels == 4
    assert refinement_job(coarse, hole, coarse_share(job), SIZE, channels=3).inputs.shape[-1] == 3
    blind = second.inputs.copy()
    blind[..., 3] = 0
    assert not np.array_equal(refiner.fill(second.inputs, second.holes), refiner.fill(blind, second.holes))


def test_the_hint_is_the_same_in_bands(monkeypatch: pytest.MonkeyPatch) -> None:
    image, hole = _sky_over_grass(301, 403)  # sizes that are no multiple of the cell
    whole = detail_hint(image, hole)
    monkeypatch.setattr(detail_hint_module, "BAND", 403 * 10)  # bands of 8 rows
    assert np.array_equal(detail_hint(image, hole), whole)


def test_on_photographs_the_hint_predicts_the_detail_under_the_hole(shared_data: Path) -> None:
    """Kodak with object holes: the hint ranks the truth's local detail inside the hole (its
    rank correlation is positive) and misses it by less than the context's mean detail does."""
    shapes = ShapeBank(shared_data / "masks" / "objects", seed=0)
    correlations, hint_error, mean_error = [], [], []
    for i, path in enumerate(sorted((shared_data / "test" / "kodak24").glob("*.png"))[:8]):
        image = np.asarray(Image.open(path).convert("RGB"))
        hole = objects_mask(np.random.default_rng(i), *image.shape[:2], shapes)
        hint = detail_hint(image, hole)[::4, ::4][hole[::4, ::4]].astype(np.float32) * FULL / 255
        truth, _ = local_detail_grid(image, np.ones_like(hole))
        truth = cv2.resize(truth, image.shape[1::-1], interpolation=cv2.INTER_LINEAR)
        inside, outside = np.log(truth[::4, ::4][hole[::4, ::4]] + 1e-3), truth[~hole].mean()
        correlations.append(spearmanr(inside, np.log(hint + 1e-3))[0])
        hint_error.append(np.mean((inside - np.log(hint + 1e-3)) ** 2))
        mean_error.append(np.mean((inside - np.log(outside + 1e-3)) ** 2))
    assert np.mean(correlations) > 0.2
    assert np.mean(hint_error) < 0.85 * np.mean(mean_error)


def test_the_hint_has_no_steps_inside_a_hole(photo_path: Path) -> None:
    """A step in the map (a hard switch between spreading scales) follows a contour of the hole,
    and a refiner paints it as a line: inside the hole the map changes by a few levels at most
    from one pixel to the next."""
    image = np.asarray(Image.open(photo_path).convert("RGB"))
    ys, xs = np.ogrid[: image.shape[0], : image.shape[1]]
    hole = (ys - 250) ** 2 + ((xs - 380) / 1.5) ** 2 <= 180**2
    hint = detail_hint(image, hole).astype(int)
    inner = cv2.erode(hole.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    steps = np.maximum(np.abs(np.diff(hint, axis=0))[:, :-1], np.abs(np.diff(hint, axis=1))[:-1, :])
    assert steps[inner[:-1, :-1]].max() <= 4, "a hard switch between scales steps by 7 levels a pixel here"
