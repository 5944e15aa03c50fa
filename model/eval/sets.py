"""Which photographs an evaluation measures: image sets from folders, lists or single files,
seeded subsets of them, and the photographs decoded at their own size."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from model.data import IMAGE_SUFFIXES, DataError, list_images

log = logging.getLogger(__name__)


@dataclass
class ImageSet:
    """Files evaluated together, reported under one name."""

    name: str
    source: str
    files: list[Path]


def _read_file_list(path: Path) -> list[Path]:
    """Paths listed one per line (a run's ``val_files.txt``); relative ones are tried against
    the current folder, then against the list's own folder."""
    listed = [line.strip() for line in path.read_text().splitlines()]
    listed = [line for line in listed if line and not line.startswith("#")]
    if not listed:
        raise DataError(f"{path} lists no image paths")
    found, missing = [], 0
    for line in listed:
        candidate = Path(line)
        if not candidate.is_absolute() and not candidate.exists():
            candidate = path.parent / line
        if candidate.is_file():
            found.append(candidate)
        else:
            missing += 1
    if not found:
        raise DataError(f"none of the {len(listed)} files listed in {path} exist")
    if missing:
        log.warning("%d of %d files listed in %s do not exist; skipped", missing, len(listed), path)
    return found


def image_set(source: str | Path) -> ImageSet:
    """A folder (recursive), a text file of image paths, or a single image."""
    path = Path(source)
    if path.is_dir():
        return ImageSet(path.name or str(path), str(path), list_images(path))
    if not path.is_file():
        raise DataError(f"--images {path}: no such folder or file")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageSet(path.stem, str(path), [path])
    return ImageSet(path.stem, str(path), _read_file_list(path))


def unique_names(paths: Sequence[Path], names: Sequence[str]) -> list[str]:
    """``names`` with collisions replaced by the parent folder's name (run folders all hold a
    ``generator.pt`` and a ``val_files.txt``: the run's name says more), then by an index."""
    out = list(names)
    for i, name in enumerate(names):
        if names.count(name) > 1:
            out[i] = paths[i].resolve().parent.name or name
    for i, name in enumerate(list(out)):
        if out.count(name) > 1:
            out[i] = f"{name}#{i + 1}"
    return out


def subset(files: Sequence[Path], limit: int | None, seed: int) -> list[Path]:
    """A seeded subset of ``limit`` files (a plain head would take one class folder only)."""
    if limit is None or limit >= len(files):
        return list(files)
    keep = np.random.default_rng(seed).choice(len(files), size=limit, replace=False)
    return [files[i] for i in sorted(keep)]


def load_photos(files: Sequence[Path]) -> list[np.ndarray]:
    """Photographs at their own size (EXIF orientation applied), unreadable ones skipped."""
    photos = []
    for path in files:
        try:
            with Image.open(path) as im:
                photos.append(np.asarray(ImageOps.exif_transpose(im).convert("RGB"), dtype=np.uint8))
        except (OSError, UnidentifiedImageError, ValueError) as exc:
            log.warning("skipping unreadable image %s: %s", path, exc)
    if not photos:
        raise DataError("no readable evaluation images")
    return photos


def load_image_sets(sources: Sequence[str]) -> list[ImageSet]:
    """Every ``--images`` source, named uniquely."""
    sets = [image_set(src) for src in sources]
    for s, name in zip(sets, unique_names([Path(x.source) for x in sets], [x.name for x in sets]), strict=True):
        s.name = name
    return sets
