"""The native-scale second pass: which hole pixels it repaints, how its windows cover them,
what it may read, and a tiny refiner trained end to end on native tiles."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest
from PIL import Image

from model.eval.methods import build_methods
from model.export import DEFAULT_WEIGHTS, read_export
from model.fillers import RefinedFiller, Runner
from model.inference import MIN_COVER, InpaintModel, finish, load_generator, prepare
from model.refine import coarse_share, plan_refinement, refine, refinement_job
from model.tools.refine_data import photo_examples
from model.tools.train import main

SIZE = 128
T = TypeVar("T")


@pytest.fixture(scope="module")
def photo(photo_path: Path) -> np.ndarray:
    return np.asarray(Image.open(photo_path).convert("RGB"))


@pytest.fixture(scope="module")
def refiner(tiny_weights: Path) -> InpaintModel:
    """The tests' random generator loaded as a refiner (what the export of ``--input coarse``
    records), so its output differs visibly from the coarse fill."""
    model = load_generator(tiny_weights)
    model.meta.training["input"] = "coarse"
    return model


def _blob(shape: tuple[int, int], centre: tuple[int, int], radius: int) -> np.ndarray:
    ys, xs = np.ogrid[: shape[0], : shape[1]]
    return (ys - centre[0]) ** 2 + (xs - centre[1]) ** 2 <= radius**2


def test_only_holes_filled_in_shrunk_windows_are_refined(photo: np.ndarray) -> None:
    big = _blob(photo.shape[:2], (250, 380), 150)  # a 300 px blob: its window is shrunk ~4.7x
    assert coarse_share(prepare(photo, big, SIZE)).sum() > 0.9 * big.sum()
    stroke = np.zeros(photo.shape[:2], bool)
    stroke[200:208, 50:700] = True  # a thin stroke: native windows
    assert not coarse_share(prepare(photo, stroke, SIZE)).any()


def test_refinement_windows_are_native_and_cover_every_pixel() -> None:
    region = _blob((900, 1200), (450, 600), 300)
    windows = plan_refinement(region, SIZE)
    assert windows and all(w.side == SIZE for w in windows)
    cover = np.zeros(region.shape, np.float32)
    for w in windows:
        y0, y1, x0, x1 = w.part
        cover[y0:y1, x0:x1] += w.weight
    assert (cover[region] >= MIN_COVER).all() and not cover[~region].any()


def test_refine_changes_only_the_coarse_part_and_reads_nothing_erased(photo: np.ndarray, refiner: InpaintModel) -> None:
    coarse_model = load_generator(DEFAULT_WEIGHTS)  # fills in the photo's colours; the random refiner in grey
    hole = _blob(photo.shape[:2], (250, 380), 150) | _blob(photo.shape[:2], (60, 60), 6)
    results = []
    for erased in (photo, np.where(hole[..., None], 255 - photo, photo).astype(np.uint8)):
        job = prepare(erased, hole, SIZE)
        coarse = finish(job, coarse_model.fill(job.inputs, job.holes))
        refined = refine(job, coarse, refiner)
        region = coarse_share(job)
        assert np.array_equal(refined[~hole], photo[~hole]), "outside the hole nothing changes"
        assert np.array_equal(refined[hole & ~region], coarse[hole & ~region]), "native fills are kept"
        assert np.abs(refined[region].astype(int) - coarse[region]).mean() > 10, "the refiner repaints"
        results.append(refined)
    assert np.array_equal(*results), "what was under the hole never reaches the fill"


def test_examples_are_native_tiles_of_coarse_fills(photo: np.ndarray, tiny_weights: Path) -> None:
    coarse_model = load_generator(tiny_weights)
    tiles = photo_examples(photo, coarse_model, None, np.random.default_rng(0))
    assert tiles
    for truth, filled, hole in tiles:
        assert truth.shape == (SIZE, SIZE, 3) and filled.shape == (SIZE, SIZE, 7) and hole.shape == (SIZE, SIZE)
        assert hole.any() and np.array_equal(truth[~hole], filled[~hole, :3]), "context is the photo's own"
        assert not np.array_equal(truth[hole], filled[hole, :3])
        assert filled[..., 3].any(), "the fourth channel is the detail hint"
        assert np.array_equal(filled[~hole, 4:], truth[~hole]), "then the mirror fill, the photo where known"


def test_a_tiny_refiner_trains_on_native_photographs(shared_data: Path, tmp_path: Path, tiny_weights: Path) -> None:
    photos = tmp_path / "native"
    photos.mkdir()
    for path in sorted((shared_data / "train-native" / "bsds500").glob("*.jpg"))[:3]:
        shutil.copy(path, photos / path.name)
    out = tmp_path / "run"
    main(["--data", str(photos), "--out", str(out), "--input", "coarse", "--coarse", str(tiny_weights),
          "--batch-size", "4", "--steps", "2", "--val-count", "0", "--device", "cpu", "--no-progress",
          "--adv", "0.1", "--d-arch", "patch", "--d-width", "8", "--fm", "1", "--rec-norm", "l1", "--hint", "--mirror",
          "--detail", "0.5", "--ckpt-every", "2", "--sample-every", "2"])  # fmt: skip
    export = read_export(out / "generator.pt")
    assert export["training"]["input"] == "coarse" and export["training"]["coarse"] == str(tiny_weights)
    assert export["config"]["in_channels"] == 8, "--hint --mirror: the detail hint and the mirror fill follow the mask"
    validation = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert any("val_native_texture" in r for r in validation)
    assert load_generator(out / "generator.pt").refines


def test_a_refiner_joins_the_evaluation_as_a_second_pass_of_the_first_generator(
    photo: np.ndarray, refiner: InpaintModel
) -> None:
    coarse = load_generator(DEFAULT_WEIGHTS)
    methods = build_methods({"ce": coarse, "ce-native": refiner}, ["telea"])
    assert methods.kinds["ce-native"] == "model"
    hole = _blob(photo.shape[:2], (250, 380), 150)
    plain, refined = methods.photos["ce"](photo, hole), methods.photos["ce-native"](photo, hole)
    job = prepare(photo, hole, SIZE)
    assert np.array_equal(refined, refine(job, plain, refiner))
    assert np.abs(refined[hole].astype(int) - plain[hole]).mean() > 10


def test_a_refiner_needs_a_generator_to_refine(refiner: InpaintModel) -> None:
    with pytest.raises(ValueError, match="needs a generator"):
        build_methods({"r": refiner}, [])


class CountingRunner(Runner):
    """Runs each piece in place and counts the pieces."""

    def __init__(self) -> None:
        self.pieces = 0

    def __call__(self, work: Callable[[], T]) -> T:
        self.pieces += 1
        return work()


def test_a_refined_filler_runs_both_passes_through_its_runner(photo: np.ndarray, refiner: InpaintModel) -> None:
    coarse = load_generator(DEFAULT_WEIGHTS)
    filler = RefinedFiller("sharp", coarse, refiner=refiner)
    hole = _blob(photo.shape[:2], (250, 380), 150)
    job = filler.prepare(photo, hole)
    runner = CountingRunner()
    [output] = filler.run([job], runner)
    first_pass = len(coarse.chunks(job.inputs, job.holes))
    assert runner.pieces == first_pass, "run (a server's batcher thread) does the first pass's forward passes only"
    refined = filler.finish(job, output)
    first = finish(job, coarse.fill(job.inputs, job.holes))
    second = refinement_job(first, job.mask, coarse_share(job), SIZE)
    assert runner.pieces == first_pass + len(refiner.chunks(second.inputs, second.holes))
    assert np.array_equal(refined, refine(job, first, refiner))
