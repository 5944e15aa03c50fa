"""Evaluation protocol: hole-only metrics with hand-computed values, the per-image PSNR
convention, the baselines, real free-form masks and the ``ce-eval`` CLI end to end."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw, ImageFilter

from model.baselines import blur_reference, mean_colour_uint8, mean_fill, opencv_fill, run_baseline, xphoto_fill
from model.data import list_images, load_eval_images, to_unit_range
from model.eval import fullres, grids, sets
from model.eval.freeform_masks import FreeformMasks
from model.eval.holes import eval_holes, fullres_mask
from model.eval.methods import build_methods
from model.eval.schema import EvaluationReport, ProtocolResult, Scores
from model.eval.scores import Evaluation, composite, score, summarise
from model.eval.tables import markdown_table
from model.fillers import GeneratorFiller
from model.hole_samplers import center_mask, mask_batch, mask_fn
from model.inference import load_generator
from model.losses import overlap_band
from model.metrics import psnr
from model.networks import GeneratorConfig, generator_input
from model.tools import evaluate

SIZE = 128


def _truth(seed: int = 0) -> np.ndarray:
    """A textured image with headroom, so adding up to 90 never clips."""
    return np.random.default_rng(seed).integers(20, 150, size=(SIZE, SIZE, 3), dtype=np.uint8)


def _band(hole: np.ndarray, overlap: int = 4) -> np.ndarray:
    t = torch.from_numpy(hole)[None, None].float()
    return overlap_band(t, overlap)[0, 0].numpy() > 0


def test_known_error_gives_hand_computed_psnr_on_the_hole_only() -> None:
    truth = _truth()
    hole = center_mask(None, SIZE)
    band = _band(hole)
    output = truth.astype(np.int16)
    output[hole] += 10  # the only error that may count
    output[band] += 60  # overlap band: context the network saw, never counted
    output[~hole & ~band] += 90  # far context
    output = output.astype(np.uint8)

    completed = composite(output[None], truth[None], hole[None])
    assert np.array_equal(completed[0][~hole], truth[~hole])
    for candidate in (completed, output[None]):  # composited or not, only the hole is measured
        s = score(candidate, truth[None], hole[None])
        # hole_errors works in float32, hence the tolerances
        assert s["l1"][0] == pytest.approx(10 / 255, rel=1e-6)
        assert s["l2"][0] == pytest.approx((10 / 255) ** 2, rel=1e-6)
        assert s["psnr"][0] == pytest.approx(20 * math.log10(255 / 10), abs=1e-4)  # 28.1308 dB


def test_perfect_fill_scores_ssim_one_and_truth_sharpness() -> None:
    truth = _truth(1)
    hole = center_mask(None, SIZE)
    s = score(truth[None], truth[None], hole[None])
    assert s["ssim"][0] == pytest.approx(1.0)
    assert s["l1"][0] == 0.0
    assert s["psnr"][0] == pytest.approx(100.0)  # capped
    assert s["sharpness"][0] > 0.01  # a textured hole is not flat


def test_psnr_is_the_mean_of_per_image_psnr() -> None:
    truth = np.stack([_truth(2), _truth(3)])
    holes = np.stack([center_mask(None, SIZE)] * 2)
    pred = truth.copy()
    pred[0][holes[0]] += 5
    pred[1][holes[1]] += 20
    summary = summarise(score(pred, truth, holes))
    per_image = [20 * math.log10(255 / 5), 20 * math.log10(255 / 20)]
    assert summary["psnr"] == pytest.approx(np.mean(per_image), abs=1e-4)
    pooled = 10 * math.log10(1 / np.mean([(5 / 255) ** 2, (20 / 255) ** 2]))
    assert abs(summary["psnr"] - pooled) > 1.0  # the other convention would differ by ~2.6 dB
    assert summary["l1"] == pytest.approx(np.mean([5 / 255, 20 / 255]), rel=1e-6)


def test_mean_fill_is_the_networks_input_colour() -> None:
    mean = [0.46, 0.45, 0.42]
    truth = _truth(4)[None]
    hole = center_mask(None, SIZE)[None]
    out = mean_fill(truth, hole, mean)
    assert mean_colour_uint8(mean).tolist() == [117, 115, 107]  # round(0.46*255 = 117.3) etc.
    assert np.all(out[0][hole[0]] == [117, 115, 107])
    assert np.array_equal(out[0][~hole[0]], truth[0][~hole[0]])
    # the same picture the training code builds, up to uint8 rounding
    hole_t = torch.from_numpy(hole).unsqueeze(1).float()
    seen = generator_input(
        to_unit_range(torch.from_numpy(truth)), hole_t, GeneratorConfig(), torch.tensor(mean) * 2 - 1, None
    )
    assert torch.allclose(to_unit_range(torch.from_numpy(out)), seen, atol=0.5 / 127.5 + 1e-6)


@pytest.mark.parametrize("method", ["telea", "ns"])
def test_opencv_baselines_fill_flat_regions_flat_and_keep_context(method: str) -> None:
    flat = np.zeros((1, SIZE, SIZE, 3), np.uint8) + np.array([90, 140, 200], np.uint8)
    textured = _truth(5)[None]
    hole = center_mask(None, SIZE)[None]
    drift = np.abs(opencv_fill(flat, hole, method).astype(int) - flat)[0][hole[0]]
    assert drift.mean() < 2 and drift.max() <= 8  # Telea drifts ~1 level on flat colour (measured)
    out = opencv_fill(textured, hole, method)
    assert np.array_equal(out[0][~hole[0]], textured[0][~hole[0]])
    assert not np.array_equal(out[0][hole[0]], textured[0][hole[0]])


def test_opencv_fill_on_threads_is_the_serial_fill() -> None:
    """The training loop fills its batch on several threads: each image the same as alone."""
    rng = np.random.default_rng(3)
    images = np.stack([_truth(seed) for seed in range(6)])
    holes = mask_batch(mask_fn("mixed", SIZE), rng, len(images))
    serial = opencv_fill(images, holes, "telea", 3)
    assert np.array_equal(opencv_fill(images, holes, "telea", 3, workers=4), serial)
    assert np.array_equal(opencv_fill(images[:1], holes[:1], "telea", 3, workers=4), serial[:1])


@pytest.mark.parametrize("method", ["shiftmap", "fsr"])
def test_xphoto_baselines_fill_only_the_hole_from_the_context(method: str, photo_path: Path) -> None:
    """xphoto's mask is the reverse of cv2.inpaint's (non-zero = known): the hole is painted
    magenta first, so a fill that took the hole for the known part would keep the magenta."""
    truth = load_eval_images([photo_path], SIZE, crops=5)[:2]
    holes = np.zeros((2, SIZE, SIZE), bool)
    holes[0, 32:96, 32:96] = True
    holes[1, 90:, :40] = holes[1, 10:30, 60:120] = True  # touching the border, and a second hole
    painted = truth.copy()
    painted[holes] = (255, 0, 255)
    out = xphoto_fill(painted, holes, method)
    assert out.dtype == np.uint8 and out.shape == truth.shape
    assert np.array_equal(out[~holes], painted[~holes])  # bit-exact outside
    magenta = (out[holes].astype(int) - [255, 0, 255]) ** 2
    assert np.sqrt(magenta.sum(axis=1)).min() > 60  # no pixel of the hole is left magenta
    assert out[holes].std(axis=0).min() > 10  # textured from the photo, not a flat colour
    assert np.array_equal(run_baseline(method, painted, holes, [0.5] * 3), out)


def test_blur_reference_is_the_truth_blurred_in_the_hole_only() -> None:
    truth = _truth(6)[None]
    hole = center_mask(None, SIZE)[None]
    out = blur_reference(truth, hole)
    assert np.array_equal(out[0][~hole[0]], truth[0][~hole[0]])
    blurred = np.asarray(Image.fromarray(truth[0]).filter(ImageFilter.GaussianBlur(1.0)), np.int16)
    assert np.abs(out[0][hole[0]].astype(np.int16) - blurred[hole[0]]).mean() < 1.5  # OpenCV vs Pillow rounding
    assert np.abs(out[0][hole[0]].astype(np.int16) - truth[0][hole[0]]).mean() > 10


@pytest.fixture(scope="module")
def freeform_dir(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every 40th real NVIDIA irregular test mask (50 files): all hole sizes, loads fast."""
    src = sorted((shared_data / "masks" / "freeform" / "nvidia_irregular_test").glob("*.png"))[::40]
    dst = tmp_path_factory.mktemp("freeform")
    for path in src:
        shutil.copy(path, dst / path.name)
    return dst


def test_real_freeform_masks_are_resized_filtered_and_seeded(freeform_dir: Path) -> None:
    bank = FreeformMasks(freeform_dir, SIZE)
    assert 0 < len(bank) < bank.total == 50  # some real masks fall outside 5 %-40 %
    fractions = bank.masks.mean(axis=(1, 2))
    assert bank.masks.shape[1:] == (SIZE, SIZE)
    assert fractions.min() >= 0.05 and fractions.max() <= 0.40
    a = eval_holes("freeform", 7, SIZE, seed=3, freeform=bank)
    b = eval_holes("freeform", 7, SIZE, seed=3, freeform=bank)
    c = eval_holes("freeform", 7, SIZE, seed=4, freeform=bank)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert len({m.tobytes() for m in a}) == 7  # no repeats while the bank lasts


@pytest.fixture
def restore_threads() -> Iterator[None]:
    """``--threads`` sets torch's process-wide thread count; give it back to the other tests."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_cli_end_to_end_on_kodak(
    restore_threads: None,
    shared_data: Path,
    tiny_weights: Path,
    freeform_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    kodak = shared_data / "test" / "kodak24"
    listing = tmp_path / "held_out.txt"
    listing.write_text(f"{kodak / 'kodim23.png'}\n\n{kodak / 'kodim05.png'}\n")
    out_json, out_grid = tmp_path / "eval.json", tmp_path / "eval.png"
    argv = ["--weights", str(tiny_weights), "--images", str(kodak), "--images", str(listing), "--limit", "4"]
    argv += ["--masks", "center,freeform", "--freeform-dir", str(freeform_dir), "--grid-count", "3"]
    argv += ["--json", str(out_json), "--grid", str(out_grid), "--device", "cpu", "--threads", "1"]
    argv += ["--baselines", "mean,telea,ns"]  # shiftmap and fsr take ~1 s a crop: see the test below
    assert evaluate.main(argv) == 0

    printed = capsys.readouterr().out
    assert "### kodak24 · center — 4 images, hole 25.0% of pixels, 196 hole patches" in printed
    assert "| mean (baseline) |" in printed and "| ce-test |" in printed and "| truth |" in printed
    assert "| texture →1 | invented →0 | patch FD ↓ |" in printed
    assert "| blur1 (reference: truth blurred σ=1) |" in printed

    doc = json.loads(out_json.read_text())
    assert {"settings", "models", "sets", "results", "tables", "grid", "protocol"} <= set(doc)
    assert EvaluationReport.model_validate(doc).to_json() == doc  # written through the schema
    assert doc["settings"]["crops"] == 1 and doc["settings"]["masks"] == ["center", "freeform"]
    # the weights are identified by content, not only by a path that may be a temporary copy
    assert doc["models"]["ce-test"]["sha256"] == hashlib.sha256(tiny_weights.read_bytes()).hexdigest()
    assert [s["name"] for s in doc["sets"]] == ["kodak24", "held_out"]
    assert [s["images"] for s in doc["sets"]] == [4, 2]
    assert [(r["set"], r["mask"]) for r in doc["results"]] == [
        ("kodak24", "center"),
        ("kodak24", "freeform"),
        ("held_out", "center"),
        ("held_out", "freeform"),
    ]
    methods = ["ce-test", "mean", "telea", "ns"]
    assert doc["settings"]["baselines"] == methods[1:] and doc["settings"]["references"] == ["blur1"]
    for result in doc["results"]:
        assert list(result["methods"]) == [*methods, "blur1"]
        assert result["kinds"]["blur1"] == "reference" and result["kinds"]["telea"] == "baseline"
        for m in result["methods"].values():
            assert set(m) == {"l1", "l2", "psnr", "ssim", "sharpness", "texture", "invented", "patch_fd"}
            assert 0 <= m["l1"] <= 1 and 0 <= m["l2"] <= 1 and 0 < m["psnr"] < 100
            assert 0 <= m["texture"] < 5 and m["patch_fd"] >= 0
        scores = result["methods"]
        # the flat mean fill has no texture (its seam with the context is not counted)
        assert scores["mean"]["texture"] == 0 and 0.3 < scores["blur1"]["texture"] < 1
        assert scores["blur1"]["patch_fd"] < scores["mean"]["patch_fd"]
        assert scores["mean"]["invented"] <= 0 and scores["blur1"]["invented"] <= 0  # neither adds detail
    assert doc["results"][0]["patches"] == 4 * 49
    assert doc["results"][0]["hole_fraction"] == 0.25
    assert 0.05 <= doc["results"][1]["hole_fraction"] <= 0.40

    # the mean baseline's PSNR, recomputed by hand on the same images and holes
    truth = load_eval_images(sets.subset(list_images(kodak), 4, 0), SIZE) / 255.0
    hole = center_mask(None, SIZE)
    mean = np.round(np.array([0.46, 0.45, 0.42]) * 255) / 255
    by_hand = np.mean([psnr(np.broadcast_to(mean, t[hole].shape), t[hole]) for t in truth])
    assert doc["results"][0]["methods"]["mean"]["psnr"] == pytest.approx(by_hand, abs=1e-6)

    # grid: a header, then 3 + 3 + 2 + 2 rows of input | model | 3 baselines | truth (no reference)
    assert doc["grid"]["columns"] == ["input", *methods, "truth"]
    assert [r["count"] for r in doc["grid"]["rows"]] == [3, 3, 2, 2]
    with Image.open(out_grid) as grid:
        assert grid.size == (6 * (SIZE + 2) + 2, header_lines(SIZE) * grids.GRID_LINE + 4 + 10 * (SIZE + 2) + 2)


def test_cli_evaluates_shiftmap_and_fsr_by_default(tiny_weights: Path, photo_path: Path, tmp_path: Path) -> None:
    out_json = tmp_path / "eval.json"
    argv = ["--weights", str(tiny_weights), "--images", str(photo_path), "--masks", "center"]
    assert evaluate.main([*argv, "--json", str(out_json), "--grid", str(tmp_path / "grid.png"), "--device", "cpu"]) == 0
    doc = json.loads(out_json.read_text())
    (result,) = doc["results"]
    assert list(result["methods"]) == ["ce-test", "mean", "telea", "ns", "shiftmap", "fsr", "blur1"]
    assert [k for k, v in result["kinds"].items() if v == "baseline"] == ["mean", "telea", "ns", "shiftmap", "fsr"]
    for name in ("shiftmap", "fsr"):
        assert f"| {name} (baseline) |" in doc["tables"]
        assert 10 < result["methods"][name]["psnr"] < 60 and result["methods"][name]["texture"] > 0.3
    assert doc["grid"]["columns"] == ["input", "ce-test", "mean", "telea", "ns", "shiftmap", "fsr", "truth"]


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (lambda d, w: ["--weights", str(w), "--images", str(d / "absent")], "no such folder or file"),
        (lambda d, w: ["--weights", str(w), "--images", str(d / "empty")], "no images"),
        (lambda d, w: ["--weights", str(d / "bad.pt"), "--images", str(d / "empty")], "cannot read generator weights"),
        (lambda d, w: ["--weights", str(d / "none.pt"), "--images", str(d)], "not found"),
        (lambda d, w: ["--weights", str(w), "--images", str(d), "--masks", "center,triangles"], "unknown"),
        (lambda d, w: ["--weights", str(w), "--images", str(d), "--baselines", "mean,gimp"], "unknown baseline"),
        (lambda d, w: ["--weights", str(w), "--images", str(d), "--references", "blur9"], "unknown reference"),
    ],
)
def test_cli_errors_are_clear(tmp_path: Path, tiny_weights: Path, make_args, message: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad.pt").write_text("not a torch file")
    with pytest.raises(SystemExit) as exc:
        evaluate.main(make_args(tmp_path, tiny_weights))
    assert message in str(exc.value)
    assert str(exc.value).startswith("error:")


def test_run_folders_name_their_colliding_exports() -> None:
    paths = [Path("/runs/center/generator.pt"), Path("/runs/region/generator.pt"), Path("/w/ce-region.pt")]
    assert sets.unique_names(paths, [p.stem for p in paths]) == ["center", "region", "ce-region"]


def header_lines(size: int) -> int:
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    names = ["input", "ce-test", "mean", "telea", "ns", "truth"]
    return max(len(grids.wrap_label(n, size - 2, draw)) for n in names)


def test_long_column_names_wrap_instead_of_being_cut() -> None:
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    name = "center rec-only @1600 steps with-a-very-long-unbroken-hyphenated-word"
    lines = grids.wrap_label(name, 126, draw)
    assert len(lines) > 1
    assert all(draw.textlength(line) <= 126 for line in lines)
    assert "".join(lines).replace(" ", "") == name.replace(" ", "")
    assert grids.wrap_label("ce-region", 126, draw) == ["ce-region"]


def test_full_resolution_protocols_fill_whole_photos_through_the_server_path(
    tmp_path: Path, tiny_weights: Path, shared_data: Path
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("kodim03.png", "kodim23.png"):
        shutil.copy(shared_data / "test" / "kodak24" / name, photos / name)
    out_json, out_grid = tmp_path / "full.json", tmp_path / "full.png"
    shapes = shared_data / "masks" / "objects" / "davis2016_val"
    evaluate.main(
        ["--weights", str(tiny_weights), "--images", str(photos), "--masks", "objects,strokes,blobs",
         "--shapes", str(shapes), "--baselines", "telea", "--json", str(out_json), "--grid", str(out_grid),
         "--grids-dir", str(tmp_path / "grids")]
    )  # fmt: skip
    doc = json.loads(out_json.read_text())
    fractions = {r["mask"]: r["hole_fraction"] for r in doc["results"]}
    assert 0.05 <= fractions["objects"] <= 0.25 and 0.25 <= fractions["blobs"] <= 0.36
    assert 0.003 < fractions["strokes"] < 0.08
    for result in doc["results"]:
        assert result["images"] == 2
        assert list(result["methods"]) == ["ce-test", "telea", "blur1"]
        for scores in result["methods"].values():
            assert scores["seconds"] > 0 and 5 < scores["psnr"] < 60 and scores["texture"] > 0
        assert result["patches"] > 0 or result["mask"] == "strokes"  # 4-16 px wide: patches only where they cross
        assert all((s["patch_fd"] is None) == (result["patches"] < 2) for s in result["methods"].values())
    assert "| blur1 (reference: truth blurred σ=1) |" in doc["tables"]
    with Image.open(out_grid) as grid:  # 1:1 crops around the hole, input | model | telea | truth
        assert grid.width == 4 * (fullres.CROP + 2) + 2
    assert sorted(p.name for p in (tmp_path / "grids").iterdir()) == [
        "photos-blobs.jpg",
        "photos-objects.jpg",
        "photos-strokes.jpg",
    ]


def test_one_grid_holds_128_px_and_full_resolution_rows() -> None:
    """``--grid`` over center (128 px crops) and objects (160 px crops) in one run: the smaller
    tiles are padded white instead of the picture failing to stack."""
    small, large = np.zeros((2, 128, 128, 3), np.uint8), np.zeros((1, fullres.CROP, fullres.CROP, 3), np.uint8)
    evaluations = [
        Evaluation(ProtocolResult(set="kodak", mask=kind, images=1, methods={}, kinds={}), [rows] * 3)
        for kind, rows in (("center", small), ("objects", large))
    ]
    grid = np.asarray(grids.comparison_grid(evaluations, ["input", "model", "truth"]))
    side = fullres.CROP + 2
    assert grid.shape[1] == 3 * side + 2
    body = grid[-(3 * side + 2) :]
    assert (body[2 + 130 : side, 2 : 2 + 128] == 255).all()  # under a 128 px tile: white padding
    assert (body[2 : 2 + 128, 2 : 2 + 128] == 0).all()


def test_a_metric_with_nothing_to_measure_is_a_dash_and_null() -> None:
    """Holes too thin for a 16 px patch have no patch FD: the table shows a dash, the JSON null."""
    scores = {"l1": 0.1, "l2": 0.02, "psnr": 20.0, "ssim": 0.5, "sharpness": 0.01, "texture": float("nan")}
    result = ProtocolResult(
        set="kodak", mask="strokes", images=1, hole_fraction=0.01, truth_sharpness=0.02,
        methods={"m": Scores(**scores, patch_fd=float("nan"))}, kinds={"m": "model"}, patches=0,
    )  # fmt: skip
    assert "| m | 10.00 | 2.00 | 20.00 | 0.500 | 0.0100 | – | – |" in markdown_table(result)
    assert result.to_json()["methods"]["m"]["patch_fd"] is None and result.to_json()["patches"] == 0
    json.dumps(result.to_json(), allow_nan=False)


def test_full_resolution_holes_are_seeded_per_image() -> None:
    a = fullres_mask("strokes", 3, 512, 768, 0, None)
    assert np.array_equal(a, fullres_mask("strokes", 3, 512, 768, 0, None))
    assert not np.array_equal(a, fullres_mask("strokes", 4, 512, 768, 0, None))
    assert a.shape == (512, 768)


def test_128_px_protocol_fills_through_the_server_path(tiny_weights: Path) -> None:
    """A model's 128 px score is what ``POST /inpaint`` returns for that photo (a window
    centred on each hole), not the bare network run once on the crop."""
    model = load_generator(tiny_weights)
    methods = build_methods({"m": model}, [])
    truth = _truth(4)[None]
    hole = np.zeros((1, SIZE, SIZE), bool)
    hole[0, 8:24, 10:26] = hole[0, 90:110, 70:84] = True  # two holes, both off-centre
    got = methods.images["m"](truth, hole)
    assert np.array_equal(got[0], GeneratorFiller("m", model).fill(truth[0], hole[0]))
    bare = composite(model.fill(truth, hole), truth, hole)
    assert not np.array_equal(composite(got, truth, hole), bare)
