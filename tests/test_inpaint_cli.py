"""``ce-inpaint`` on real photographs: folder round trip with masks by file stem, alpha masks,
untouched context, and per-file failures that do not stop the others."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model.holes import grow_hole
from model.tools import inpaint_cli

REPO_ROOT = Path(__file__).resolve().parents[1]


def _rect_mask(size: tuple[int, int], box: tuple[int, int, int, int]) -> Image.Image:
    mask = Image.new("L", size, 0)
    mask.paste(255, box)
    return mask


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


@pytest.fixture
def photos(photo_path: Path, shared_data: Path, tmp_path: Path) -> Path:
    """photos/kodim23.png and photos/more/kodim05.png (real 768x512 Kodak photographs)."""
    folder = tmp_path / "photos"
    (folder / "more").mkdir(parents=True)
    shutil.copy(photo_path, folder / "kodim23.png")
    shutil.copy(shared_data / "test" / "kodak24" / "kodim05.png", folder / "more" / "kodim05.png")
    return folder


def test_folder_round_trip_changes_only_masked_pixels(photos: Path, tiny_weights: Path, tmp_path: Path) -> None:
    masks = tmp_path / "masks"
    masks.mkdir()
    hole = np.asarray(_rect_mask((768, 512), (300, 150, 380, 230))) > 0
    _rect_mask((768, 512), (300, 150, 380, 230)).save(masks / "kodim23.png")
    # a painted RGBA mask, as the editor saves it: opaque = fill, with a different hole
    rgba = Image.new("RGBA", (768, 512), (0, 0, 0, 0))
    rgba.paste((255, 0, 0, 255), (40, 40, 100, 90))
    rgba.save(masks / "kodim05.png")
    out = tmp_path / "out"

    code = inpaint_cli.main([str(photos), "--masks", str(masks), "--out", str(out), "--weights", str(tiny_weights)])
    assert code == 0
    result, original = _pixels(out / "kodim23.png"), _pixels(photos / "kodim23.png")
    assert result.shape == original.shape
    assert np.array_equal(result[~hole], original[~hole])
    assert np.abs(result[hole].astype(int) - original[hole]).mean() > 5  # the hole really was filled
    nested, original5 = _pixels(out / "more" / "kodim05.png"), _pixels(photos / "more" / "kodim05.png")
    hole5 = np.zeros((512, 768), bool)
    hole5[40:90, 40:100] = True
    assert np.array_equal(nested[~hole5], original5[~hole5])
    assert not np.array_equal(nested[hole5], original5[hole5])


def test_classical_filler_with_grown_masks_and_a_progress_bar(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mask = tmp_path / "one.png"
    _rect_mask((768, 512), (300, 150, 380, 230)).save(mask)
    hole = np.asarray(Image.open(mask)) > 0
    out = tmp_path / "out"
    code = inpaint_cli.main([str(photos), "--masks", str(mask), "--out", str(out), "--classical", "ns", "--grow", "4"])
    assert code == 0
    assert "inpainting" in capsys.readouterr().err  # the progress bar
    result, original = _pixels(out / "kodim23.png"), _pixels(photos / "kodim23.png")
    grown = grow_hole(hole, 4)
    changed = np.any(result != original, axis=-1)
    assert not changed[~grown].any() and changed[grown & ~hole].mean() > 0.5
    with pytest.raises(SystemExit, match="grow"):
        inpaint_cli.main([str(photos), "--masks", str(mask), "--out", str(out), "--classical", "ns", "--grow", "99"])


def test_alpha_and_single_mask_for_all(photo_path: Path, tiny_weights: Path, tmp_path: Path) -> None:
    rgba = Image.open(photo_path).convert("RGBA")
    alpha = np.full((512, 768), 255, np.uint8)
    alpha[200:260, 500:580] = 0  # transparent = fill
    rgba.putalpha(Image.fromarray(alpha))
    cutout = tmp_path / "cutout.png"
    rgba.save(cutout)
    out = tmp_path / "out"
    assert inpaint_cli.main([str(cutout), "--alpha", "--out", str(out), "--weights", str(tiny_weights)]) == 0
    result, original = _pixels(out / "cutout.png"), _pixels(photo_path)
    assert np.array_equal(result[alpha > 0], original[alpha > 0])

    mask = tmp_path / "one-mask.png"
    _rect_mask((768, 512), (10, 10, 60, 60)).save(mask)
    out2 = tmp_path / "out2"
    argv = [str(photo_path), str(cutout), "--masks", str(mask), "--out", str(out2), "--weights", str(tiny_weights)]
    assert inpaint_cli.main(argv) == 0
    assert (out2 / "kodim23.png").is_file() and (out2 / "cutout.png").is_file()


def test_size_mismatch_fails_that_file_only_with_nonzero_exit(photos: Path, tiny_weights: Path, tmp_path: Path) -> None:
    with Image.open(photos / "kodim23.png") as im:
        im.resize((384, 256)).save(photos / "small.png")
    masks = tmp_path / "masks"
    (masks / "more").mkdir(parents=True)
    for name in ("kodim23.png", "small.png", "more/kodim05.png"):
        _rect_mask((768, 512), (300, 150, 380, 230)).save(masks / name)
    out = tmp_path / "out"
    argv = [str(photos), "--masks", str(masks), "--out", str(out), "--weights", str(tiny_weights), "--device", "cpu"]
    proc = subprocess.run(
        [sys.executable, "-m", "model.tools.inpaint_cli", *argv],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    assert "mask is 768x512 but the image is 384x256" in proc.stderr
    assert "2 of 3 image(s) inpainted" in proc.stderr
    assert (out / "kodim23.png").is_file() and (out / "more" / "kodim05.png").is_file()
    assert not (out / "small.png").exists()


def test_missing_mask_and_missing_input_are_reported(
    photos: Path, tiny_weights: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    masks = tmp_path / "masks"
    masks.mkdir()
    _rect_mask((768, 512), (0, 0, 50, 50)).save(masks / "kodim23.png")
    out = tmp_path / "out"
    argv = [str(photos), str(tmp_path / "absent.jpg"), "--masks", str(masks), "--out", str(out)]
    assert inpaint_cli.main([*argv, "--weights", str(tiny_weights)]) == 1
    err = capsys.readouterr().err
    assert "no mask named kodim05.png" in err
    assert "absent.jpg: no such file or folder" in err
    assert (out / "kodim23.png").is_file()


def test_missing_default_weights_is_a_clear_error(
    photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inpaint_cli, "DEFAULT_WEIGHTS", tmp_path / "weights" / "ce-region.pt")
    with pytest.raises(SystemExit) as exc:
        inpaint_cli.main([str(photos), "--alpha", "--out", str(tmp_path / "out")])
    assert "default weights" in str(exc.value) and "--weights" in str(exc.value)
