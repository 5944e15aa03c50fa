"""Photographs for training: folder scan, held-out split, a decoded uint8 cache and
batched GPU/CPU augmentation (random resized crop + horizontal flip).

JPEG decoding is done once into a ``.npy`` cache (N, S, S, 3) so training steps are bound
by the networks, not by the decoder.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from model.files import atomic_open, atomic_write_text, sha256_of

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
CACHE_SIDE = 144
# smallest random crop side, as a share of the cached square (``--min-crop``)
DEFAULT_MIN_CROP = 0.6


class DataError(ValueError):
    """The data folder cannot give any training image."""


def list_images(folder: str | Path) -> list[Path]:
    """Every image file under ``folder`` (recursive), sorted for reproducibility."""
    root = Path(folder)
    if not root.is_dir():
        raise DataError(f"data folder {root} does not exist or is not a folder")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"no images ({', '.join(IMAGE_SUFFIXES)}) under {root}")
    return files


def split_files(files: Sequence[Path], val_count: int, seed: int) -> tuple[list[Path], list[Path]]:
    """Seeded hold-out by file: the same folder and seed always give the same split."""
    files = sorted(files)
    if val_count <= 0:
        return list(files), []
    if val_count >= len(files):
        raise DataError(f"cannot hold out {val_count} of {len(files)} images")
    order = np.random.default_rng(seed).permutation(len(files))
    val_idx = set(order[:val_count].tolist())
    train = [f for i, f in enumerate(files) if i not in val_idx]
    val = [f for i, f in enumerate(files) if i in val_idx]
    return train, val


def square_resize(image: Image.Image, side: int) -> np.ndarray:
    """Centre square crop of the short side, resized (Lanczos) to side x side, RGB uint8."""
    image = ImageOps.exif_transpose(image).convert("RGB")
    w, h = image.size
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    image = image.crop((left, top, left + s, top + s)).resize((side, side), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8)


def five_crops(image: Image.Image, side: int, scale_side: int) -> list[np.ndarray]:
    """Four corners and the centre of the image resized to short side ``scale_side``."""
    image = ImageOps.exif_transpose(image).convert("RGB")
    w, h = image.size
    f = scale_side / min(w, h)
    image = image.resize((max(side, round(w * f)), max(side, round(h * f))), Image.Resampling.LANCZOS)
    w, h = image.size
    boxes = [(0, 0), (w - side, 0), (0, h - side), (w - side, h - side), ((w - side) // 2, (h - side) // 2)]
    return [np.asarray(image.crop((x, y, x + side, y + side)), dtype=np.uint8) for x, y in boxes]


@dataclass
class DecodedImages:
    """Decoded photographs and what happened on the way."""

    pixels: np.ndarray  # (N, S, S, 3) uint8
    files: list[str]
    skipped: list[str]


def decode_images(files: Iterable[Path], side: int) -> DecodedImages:
    """Decode each file once; corrupt or unreadable files are skipped and counted, never fatal."""
    arrays, kept, skipped = [], [], []
    for path in files:
        try:
            with Image.open(path) as im:
                arrays.append(square_resize(im, side))
            kept.append(str(path))
        except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
            log.warning("skipping unreadable image %s: %s", path, exc)
            skipped.append(str(path))
    if not arrays:
        raise DataError(f"none of the {len(skipped)} image files could be decoded")
    return DecodedImages(np.stack(arrays), kept, skipped)


def _cache_key(files: Sequence[Path], side: int) -> str:
    """Path and content of every file, not its mtime: a data folder copied afresh (same photos,
    new timestamps) reuses its cache, an edited photo does not (hashing 200 MB takes ~2 s)."""
    h = hashlib.sha1(str(side).encode())
    for f in files:
        h.update(f"{f.resolve()}|{sha256_of(f)}\n".encode())
    return h.hexdigest()[:16]


def cached_images(files: Sequence[Path], cache_dir: str | Path, side: int = CACHE_SIDE) -> DecodedImages:
    """Decoded images from ``cache_dir`` if this exact file list was decoded before,
    else decode now and store (``images-<key>.npy`` + ``.json``)."""
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    key = _cache_key(files, side)
    arr_path, meta_path = cache / f"images-{key}.npy", cache / f"images-{key}.json"
    if arr_path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        return DecodedImages(np.load(arr_path, mmap_mode="r"), meta["files"], meta["skipped"])
    decoded = decode_images(files, side)
    with atomic_open(arr_path) as fh:
        np.save(fh, decoded.pixels)
    atomic_write_text(json.dumps({"files": decoded.files, "skipped": decoded.skipped}), meta_path)
    return decoded


def mean_colour(pixels: np.ndarray, sample: int = 2048, seed: int = 0) -> list[float]:
    """Dataset mean RGB in [0, 1]: the colour the hole is filled with before encoding."""
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(pixels), size=min(sample, len(pixels)), replace=False)
    return [float(v) for v in np.asarray(pixels[np.sort(idx)], dtype=np.float64).mean(axis=(0, 1, 2)) / 255.0]


def to_unit_range(batch_uint8: torch.Tensor) -> torch.Tensor:
    """(B, H, W, 3) uint8 -> (B, 3, H, W) float in [-1, 1]."""
    return batch_uint8.permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def augment(
    images: torch.Tensor,
    out_size: int,
    generator: torch.Generator,
    min_scale: float = DEFAULT_MIN_CROP,
    flip: bool = True,
) -> torch.Tensor:
    """Batched random resized crop + horizontal flip with one affine grid_sample.

    images: (B, 3, S, S) float. Crop side fraction in [min_scale, 1], aspect 3/4..4/3.
    """
    b = images.shape[0]
    dev = images.device
    rand = torch.rand(b, 5, generator=generator, device=generator.device).to(dev)
    scale = min_scale + (1 - min_scale) * rand[:, 0]
    log_ratio = (rand[:, 1] - 0.5) * 2 * np.log(4 / 3)
    ratio = torch.exp(log_ratio)
    cw = (scale * ratio.sqrt()).clamp(max=1.0)
    ch = (scale / ratio.sqrt()).clamp(max=1.0)
    tx = (rand[:, 2] * 2 - 1) * (1 - cw)
    ty = (rand[:, 3] * 2 - 1) * (1 - ch)
    sign = torch.where(rand[:, 4] < 0.5, -1.0, 1.0) if flip else torch.ones(b, device=dev)
    theta = torch.zeros(b, 2, 3, device=dev, dtype=images.dtype)
    theta[:, 0, 0] = cw * sign
    theta[:, 0, 2] = tx
    theta[:, 1, 1] = ch
    theta[:, 1, 2] = ty
    grid = F.affine_grid(theta, [b, 3, out_size, out_size], align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def center_view(images: torch.Tensor, out_size: int) -> torch.Tensor:
    """Deterministic resize of the cached square to the network size (for fixed samples)."""
    if images.shape[-1] == out_size:
        return images
    return F.interpolate(images, size=(out_size, out_size), mode="bilinear", antialias=True, align_corners=False)


def load_eval_images(sources: Sequence[Path], size: int = 128, crops: int = 1) -> np.ndarray:
    """Evaluation images at size x size: a centre square per file, or five crops per file
    (``crops=5``, from the image scaled to short side 1.25 x size). Unreadable files are skipped."""
    out: list[np.ndarray] = []
    for path in sources:
        try:
            with Image.open(path) as im:
                if crops == 5:
                    out.extend(five_crops(im, size, int(size * 1.25)))
                else:
                    out.append(square_resize(im, size))
        except (OSError, UnidentifiedImageError, ValueError) as exc:
            log.warning("skipping unreadable image %s: %s", path, exc)
    if not out:
        raise DataError("no readable evaluation images")
    return np.stack(out)
