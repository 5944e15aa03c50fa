"""Image folders: recursive scan, seeded hold-out, cache, and clear errors for bad data."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageOps

from model.data import DataError, augment, cached_images, decode_images, list_images, split_files


def _write_photos(folder: Path, source: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, path in enumerate(sorted(source.glob("*.jpg"))[:n]):
        dest = folder / f"sub{i % 2}" / f"p{i}.{'png' if i % 3 == 0 else 'jpg'}"
        dest.parent.mkdir(exist_ok=True)
        Image.open(path).save(dest)
        out.append(dest)
    return out


def test_recursive_scan_and_seeded_split(tmp_path: Path, shared_data: Path) -> None:
    _write_photos(tmp_path, shared_data / "train" / "bsds500", 10)
    files = list_images(tmp_path)
    assert len(files) == 10
    train, val = split_files(files, 3, seed=1)
    assert len(val) == 3 and not set(train) & set(val)
    assert split_files(files, 3, seed=1) == (train, val)
    assert split_files(files, 3, seed=2)[1] != val


def test_empty_or_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no images"):
        list_images(tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        list_images(tmp_path / "nope")


def test_corrupt_files_are_skipped_and_counted(tmp_path: Path, shared_data: Path) -> None:
    good = _write_photos(tmp_path, shared_data / "train" / "bsds500", 3)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good[0].read_bytes()[:200] if good[0].suffix == ".png" else b"\x89PNG\r\n\x1a\n")
    decoded = decode_images(list_images(tmp_path), 32)
    assert decoded.pixels.shape == (3, 32, 32, 3)
    assert len(decoded.skipped) == 2


def test_unreadable_only_folder_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"nope")
    with pytest.raises(DataError, match="could be decoded"):
        decode_images(list_images(tmp_path), 32)


def test_cache_is_reused(tmp_path: Path, shared_data: Path) -> None:
    files = sorted(_write_photos(tmp_path / "img", shared_data / "train" / "bsds500", 4))
    first = cached_images(files, tmp_path / "cache", side=40)
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 1
    second = cached_images(files, tmp_path / "cache", side=40)
    assert isinstance(second.pixels, np.memmap)
    assert np.array_equal(np.asarray(first.pixels), np.asarray(second.pixels))


def test_cache_follows_content_not_timestamps(tmp_path: Path, shared_data: Path) -> None:
    """A re-copied data folder (new mtimes) reuses the cache; an edited photo is decoded again."""
    files = sorted(_write_photos(tmp_path / "img", shared_data / "train" / "bsds500", 3))
    cached_images(files, tmp_path / "cache", side=40)
    for f in files:
        os.utime(f, (1e9, 1e9))
    cached_images(files, tmp_path / "cache", side=40)
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 1
    with Image.open(files[0]) as im:
        ImageOps.mirror(im).save(files[0])
    edited = cached_images(files, tmp_path / "cache", side=40)
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 2
    assert not isinstance(edited.pixels, np.memmap)


def test_augment_gives_random_crops_and_flips() -> None:
    images = torch.linspace(-1, 1, 2 * 3 * 48 * 48).reshape(2, 3, 48, 48)
    gen = torch.Generator().manual_seed(0)
    a = augment(images, 32, gen)
    b = augment(images, 32, gen)
    assert a.shape == (2, 3, 32, 32)
    assert not torch.allclose(a, b)
    assert a.min() >= -1 and a.max() <= 1
