"""Export -> load -> full-resolution inpaint, on real photographs of any size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from model.export import GeneratorMeta, WeightsError, export_generator, read_export
from model.inference import inpaint, load_generator, mask_from_image, plan_windows, prepare
from model.networks import Generator


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


def test_holes_are_clustered_and_windows_batched(photo_path: Path) -> None:
    image = Image.open(photo_path)
    mask = _painted(image.height, image.width)
    windows = plan_windows(mask)
    assert len(windows) == 4
    covered = np.zeros_like(mask)
    for win in windows:
        ys, xs = np.nonzero(win.paste)
        covered[ys + win.top, xs + win.left] = True
    assert np.array_equal(covered, mask)  # every hole pixel pasted by exactly the windows
    job = prepare(image, mask)
    assert job.inputs.shape == (4, 128, 128, 3) and job.holes.shape == (4, 128, 128)
    # two nearby specks share one window
    near = np.zeros((200, 200), bool)
    near[50:55, 50:55] = near[50:55, 58:63] = True
    assert len(plan_windows(near)) == 1


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
