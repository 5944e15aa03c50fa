"""Export -> load -> full-resolution inpaint, on real photographs of any size."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from model.baselines import telea_prefill
from model.data import to_unit_range
from model.export import GeneratorMeta, WeightsError, build_generator, export_generator, read_export
from model.fillers import GeneratorFiller
from model.inference import (
    MAX_ASPECT,
    MAX_WINDOWS,
    MIN_COVER,
    THICKNESS,
    InpaintModel,
    PlanningError,
    _to_network,
    finish,
    load_generator,
    plan_windows,
    prepare,
)
from model.mask_images import mask_from_image
from model.networks import Generator, GeneratorConfig, generator_input
from tests.test_networks import randomised_generator


def inpaint(image: Image.Image, mask: np.ndarray, model: InpaintModel) -> Image.Image:
    """The server's path (``GeneratorFiller``: prepare, one batch, finish) on a PIL photo."""
    return Image.fromarray(GeneratorFiller("test", model).fill(np.asarray(image.convert("RGB")), mask))


def test_export_is_fp16_and_loads_with_weights_only(tiny_weights: Path) -> None:
    payload = torch.load(tiny_weights, weights_only=True)
    assert payload["format"] == "context-encoder-generator/1"
    assert all(v.dtype == torch.float16 for v in payload["state_dict"].values() if v.is_floating_point())
    model = load_generator(tiny_weights)
    assert model.size == 128 and model.meta.mask_type == "mixed"
    reference = Generator()
    reference.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in payload["state_dict"].items()})
    x = torch.rand(1, 3, 128, 128) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(model.generator(x), reference.eval()(x), atol=1e-5)


def test_bad_weight_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="not found"):
        read_export(tmp_path / "missing.pt")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a torch file")
    with pytest.raises(WeightsError, match="cannot read"):
        read_export(corrupt)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(WeightsError, match="not a Context Encoder"):
        read_export(foreign)


def test_mismatched_config_is_a_clear_error(tmp_path: Path) -> None:
    path = export_generator(Generator(), GeneratorMeta("center", [0.5, 0.5, 0.5]), tmp_path / "g.pt")
    payload = torch.load(path, weights_only=True)
    payload["config"]["image_size"] = 64
    torch.save(payload, path)
    with pytest.raises(WeightsError, match="do not match"):
        load_generator(path)


def _painted(h: int, w: int) -> np.ndarray:
    mask = np.zeros((h, w), bool)
    mask[100:180, 200:330] = True  # a block
    mask[300:312, 20:700] = True  # a long thin stroke
    mask[0:25, w - 40 : w] = True  # touching the corner
    mask[200:203, 50:53] = True  # a speck
    return mask


def test_full_resolution_inpaint_changes_only_masked_pixels(tiny_weights: Path, photo_path: Path) -> None:
    model = load_generator(tiny_weights)
    image = Image.open(photo_path)
    mask = _painted(image.height, image.width)
    out = inpaint(image, mask, model)
    assert out.size == image.size and out.mode == "RGB"
    before, after = np.asarray(image.convert("RGB")), np.asarray(out)
    changed = (before != after).any(axis=2)
    assert not changed[~mask].any()
    assert changed[mask].mean() > 0.9


def _coverage(mask: np.ndarray, windows: list) -> np.ndarray:
    total = np.zeros(mask.shape, np.float64)
    for win in windows:
        y0, y1, x0, x1 = win.box
        assert 0 <= y0 < y1 <= mask.shape[0] and 0 <= x0 < x1 <= mask.shape[1]  # never past the image
        p0, p1, q0, q1 = win.part
        assert y0 <= p0 < p1 <= y1 and x0 <= q0 < q1 <= x1  # the weight lies inside the context box
        assert win.weight.shape == (p1 - p0, q1 - q0)
        total[p0:p1, q0:q1] += win.weight
    return total


def test_windows_follow_hole_thickness_and_cover_every_hole_pixel_once(photo_path: Path) -> None:
    image = Image.open(photo_path)
    mask = _painted(image.height, image.width)
    windows = plan_windows(mask)
    total = _coverage(mask, windows)
    assert (total[mask] >= MIN_COVER - 1e-6).all()  # finish normalises; redundant grid windows dropped
    assert not total[~mask].any()
    # the 12 px stroke is filled at native scale in tiles along it; the speck in one window
    stroke = [w for w in windows if w.part[0] <= 305 < w.part[1] and w.weight[305 - w.part[0]].any()]
    assert len(stroke) >= 680 // 96 and {w.side for w in stroke} == {128}
    speck = [w for w in windows if w.part[0] <= 201 < w.part[1] and w.part[2] <= 51 < w.part[3]]
    speck = [w for w in speck if w.weight[201 - w.part[0], 51 - w.part[2]] > 0]
    assert len(speck) == 1 and speck[0].weight.max() == 1.0
    job = prepare(image, mask)
    assert job.inputs.shape == (len(windows), 128, 128, 3) and job.holes.shape == (len(windows), 128, 128)


def test_a_thick_blob_is_shrunk_and_a_wire_is_not(monkeypatch: pytest.MonkeyPatch) -> None:
    blob = np.zeros((1000, 1000), bool)
    yy, xx = np.mgrid[:1000, :1000]
    blob[(yy - 500) ** 2 + (xx - 500) ** 2 < 150**2] = True
    (win,) = plan_windows(blob)
    assert win.side >= 150 * 128 / THICKNESS  # 150 px deep -> at most THICKNESS network px deep
    # its weight (and what finish resamples) is the blob's extent, not the window's 4x area
    assert win.part == (351, 650, 351, 650) and win.box == (200, 800, 200, 800)
    wire = np.zeros((1536, 1536), bool)
    for x in range(1536):
        wire[int(300 + 0.6 * x) % 1536 : int(300 + 0.6 * x) % 1536 + 8, x] = True
    windows = plan_windows(wire)
    assert {w.side for w in windows} == {128}
    assert (_coverage(wire, windows)[wire] >= MIN_COVER - 1e-6).all()
    # the grid's second row of centres is dropped where the first already covers the wire
    monkeypatch.setattr("model.inference._prune", lambda windows: windows)
    assert len(windows) <= 0.8 * len(plan_windows(wire))


def test_dropping_grid_windows_leaves_the_fill_seamless() -> None:
    """The weights of the windows left stay continuous: a constant-colour output from every
    window composites to that constant, and a smooth ramp stays smooth across tiles."""
    wire = np.zeros((512, 1536), bool)
    for x in range(1536):
        wire[int(200 + 80 * np.sin(x / 200)) : int(200 + 80 * np.sin(x / 200)) + 10, x] = True
    image = np.random.default_rng(0).integers(0, 256, (512, 1536, 3), dtype=np.uint8)  # texture: windows
    job = prepare(image, wire)
    outputs = np.stack([np.full((128, 128, 3), 100, np.uint8) for _ in job.windows])
    assert (finish(job, outputs)[wire] == 100).all()
    # each window's output: the true image (a horizontal ramp across the whole photo) in its box
    truth = np.tile(np.linspace(0, 255, 1536, dtype=np.float32)[None, :, None], (512, 1, 3))
    outputs = np.stack([_to_network(truth, w, 128, cv2.INTER_AREA) for w in job.windows]).round().astype(np.uint8)
    filled = finish(job, outputs).astype(np.float32)
    assert np.abs(filled[wire] - truth[wire]).max() <= 2.0


@pytest.mark.parametrize("shape", [(1, 16_777_216), (4096, 4096), (64, 4096)])
def test_any_image_shape_is_planned_within_its_bounds_or_refused(shape: tuple[int, int]) -> None:
    mask = np.ones(shape, bool)
    if max(shape) > MAX_ASPECT * min(shape):
        with pytest.raises(PlanningError, match="cannot be inpainted"):
            plan_windows(mask)
        return
    windows = plan_windows(mask)
    assert len(windows) <= MAX_WINDOWS
    assert np.allclose(_coverage(mask, windows), 1.0, atol=1e-5)


def test_many_thin_rings_cost_a_bounded_number_of_windows() -> None:
    mask = np.zeros((4096, 4096), bool)
    for i in range(10):  # 3 px wide: deep enough for the generator
        a, b = 100 + 190 * i, 4096 - 100 - 190 * i
        mask[a : a + 3, a:b] = mask[b - 3 : b, a:b] = mask[a:b, a : a + 3] = mask[a:b, b - 3 : b] = True
    windows = plan_windows(mask)
    assert len(windows) <= MAX_WINDOWS
    assert (_coverage(mask, windows)[mask] >= MIN_COVER - 1e-6).all()


def test_hairlines_are_filled_by_telea_without_windows(tmp_path: Path) -> None:
    """1 px lines need no generator (and would cost hundreds of windows): Telea fills them,
    reading none of the erased pixels."""
    mask = np.zeros((600, 800), bool)
    mask[300, 20:780] = True  # a hairline across
    mask[100:500, 400] = True
    mask[50, 50] = True  # a speck
    assert plan_windows(mask) == []
    rng = np.random.default_rng(0)
    photo = np.clip(128 + rng.normal(0, 6, (600, 800, 1)), 0, 255).repeat(3, axis=2).astype(np.uint8)
    photo[mask] = (230, 20, 20)
    model = load_generator(_untrained_correction(tmp_path))
    out = np.asarray(inpaint(Image.fromarray(photo), mask, model)).astype(int)
    assert np.array_equal(out[~mask], photo[~mask])
    assert np.abs(out[..., 0] - out[..., 1])[mask].max() <= 12  # grey, no red left


def _untrained_correction(folder: Path) -> Path:
    torch.manual_seed(0)
    path = folder / "residual.pt"
    g = Generator(GeneratorConfig(in_channels=4, residual=True)).eval()  # untrained: the Telea fill
    export_generator(g, GeneratorMeta("mixed", [0.5, 0.5, 0.5]), path)
    return path


def test_nothing_of_an_erased_object_survives_in_the_fill(tmp_path: Path) -> None:
    """A saturated red square on a grey photo: the fill holds no red, not even at its rim,
    whatever the window scale (native and shrunk)."""
    torch.manual_seed(0)
    path = tmp_path / "residual.pt"
    g = Generator(GeneratorConfig(in_channels=4, residual=True)).eval()  # untrained: the Telea fill
    export_generator(g, GeneratorMeta("mixed", [0.5, 0.5, 0.5]), path)
    model = load_generator(path)
    rng = np.random.default_rng(0)
    for side in (40, 400):
        grey = np.clip(128 + rng.normal(0, 6, (800, 900, 1)), 0, 255).repeat(3, axis=2).astype(np.uint8)
        photo = grey.copy()
        mask = np.zeros((800, 900), bool)
        mask[200 : 200 + side, 300 : 300 + side] = True
        photo[mask] = (230, 20, 20)
        out = np.asarray(inpaint(Image.fromarray(photo), mask, model)).astype(int)
        redness = out[..., 0] - out[..., 1]
        assert np.abs(redness[mask]).max() <= 12, side
        assert np.array_equal(out[~mask], photo[~mask])


@pytest.mark.parametrize("refine", [False, True])
def test_a_fill_call_returns_what_the_trained_generator_computes(
    tmp_path: Path, photo_path: Path, refine: bool
) -> None:
    """The server's forward pass (inference form, input built straight from the pre-fill)
    equals the training form run on ``generator_input`` of the same windows."""
    trained = randomised_generator(GeneratorConfig(in_channels=4, residual=True, skips=True, refine=refine))
    path = tmp_path / "generator.pt"
    export_generator(trained, GeneratorMeta("mixed", [0.5, 0.5, 0.5]), path)
    model = load_generator(path)
    reference, meta = build_generator(read_export(path))
    photo = np.asarray(Image.open(photo_path).convert("RGB"))
    windows = np.stack([photo[:128, :128], photo[200:328, 300:428], photo[-128:, -128:]])
    holes = np.zeros((3, 128, 128), bool)
    holes[0, 40:90, 30:100] = holes[1, 60:66, :] = holes[2, 10:120, 50:80] = True
    x = to_unit_range(torch.from_numpy(windows))
    h = torch.from_numpy(holes).unsqueeze(1).float()
    prefill = to_unit_range(torch.from_numpy(telea_prefill(windows, holes)))
    mean = torch.tensor(meta.mean_colour) * 2 - 1
    with torch.no_grad():
        y = reference.eval()(generator_input(x, h, reference.config, mean, prefill))
    expected = ((y.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    assert np.abs(model.fill(windows, holes).astype(int) - expected).max() <= 1


def test_small_and_odd_images_and_whole_image_holes(tiny_weights: Path, photo_path: Path) -> None:
    model = load_generator(tiny_weights)
    image = Image.open(photo_path).convert("RGB").resize((37, 23))
    mask = np.zeros((23, 37), bool)
    mask[5:15, 10:30] = True
    out = np.asarray(inpaint(image, mask, model))
    assert out.shape == (23, 37, 3)
    assert np.array_equal(out[~mask], np.asarray(image)[~mask])
    everything = np.ones((23, 37), bool)
    assert np.asarray(inpaint(image, everything, model)).shape == (23, 37, 3)
    assert np.array_equal(np.asarray(inpaint(image, np.zeros((23, 37), bool), model)), np.asarray(image))


def test_mask_size_mismatch_is_a_clear_error(tiny_weights: Path, photo_path: Path) -> None:
    with pytest.raises(ValueError, match="mask is"):
        inpaint(Image.open(photo_path), np.zeros((10, 10), bool), load_generator(tiny_weights))


def test_mask_images_white_or_opaque_means_fill() -> None:
    grey = Image.fromarray(np.array([[0, 255], [128, 100]], np.uint8))
    assert mask_from_image(grey).tolist() == [[False, True], [True, False]]
    rgba = np.zeros((1, 2, 4), np.uint8)
    rgba[0, 1, 3] = 255  # opaque black still means fill
    assert mask_from_image(Image.fromarray(rgba, "RGBA")).tolist() == [[False, True]]
