"""Pack the training photographs and silhouettes small enough to travel to a lent GPU machine.

The ``device`` tool sends the checkout and at most 64 MiB in all, the repository included, so
the 200 MB training folder cannot go as it is. This writes what a training run actually reads:
each photograph as the 144 px square its decode cache holds (WebP), in shards of at most
``--shard-mib`` that can travel one per call, and the seeded silhouettes a ShapeBank loads
(downscaled PNGs). Held-out files (``--exclude``) are left out; the seeded validation split is
packed too, so that a run on the pack holds out the same photographs and its validation numbers
compare with the CPU runs' (checked after packing).

``python -m model.tools.pack --data ../shared/data/train --exclude docs/heldout-transfer.txt
--masks ../shared/data/masks/objects --out .carry/pack``, then train with
``--data .carry/pack/images --masks .carry/pack/masks``.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import sys
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from model.data import CACHE_SIDE, DataError, list_images, square_resize
from model.masks import silhouette_files
from model.tools.train_data import VAL_COUNT, training_files, training_split

log = logging.getLogger("model.tools.pack")

MASK_SIDE = 256  # px, long side: silhouettes are drawn at most 128 px (the window) from these
DEFAULT_SHARD_MIB = 33.0  # one shard beside the ~27 MB checkout stays under the 64 MiB a call sends


def encode_photo(path: Path, side: int, quality: int) -> bytes:
    """The photograph as the training cache holds it (a centre square, Lanczos to ``side``), as WebP."""
    with Image.open(path) as im:
        square = square_resize(im, side)
    buf = io.BytesIO()
    Image.fromarray(square).save(buf, "WEBP", quality=quality, method=6)
    return buf.getvalue()


def relative_stem(path: Path, root: Path) -> Path:
    return path.relative_to(root).with_suffix("")


def pack_photos(files: list[Path], root: Path, out: Path, side: int, quality: int, shard_bytes: int) -> list[int]:
    """Write ``files`` (sorted) into ``out/00``, ``out/01``... as contiguous runs, so the packed
    folder lists them in the same order; returns each shard's bytes."""
    shards: list[int] = [0]
    for path in files:
        try:
            data = encode_photo(path, side, quality)
        except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
            log.warning("skipping unreadable image %s: %s", path, exc)
            continue
        if shards[-1] and shards[-1] + len(data) > shard_bytes:
            shards.append(0)
        target = out / f"{len(shards) - 1:02d}" / relative_stem(path, root).with_suffix(".webp")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        shards[-1] += len(data)
    return shards


def pack_silhouettes(folder: Path, out: Path, seed: int) -> int:
    """The silhouettes a ShapeBank of ``folder`` loads, downscaled (nearest) to ``MASK_SIDE``."""
    files = silhouette_files(folder, seed=seed)
    for path in files:
        with Image.open(path) as im:
            shape = im.convert("L")
            shape.thumbnail((MASK_SIDE, MASK_SIDE), Image.Resampling.NEAREST)
            target = out / path.relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            shape.point(lambda v: 255 if v > 127 else 0).convert("1").save(target, optimize=True)
    return len(files)


def check_same_split(
    files: list[Path], packed: Path, val_files: list[Path], root: Path, val_count: int, seed: int
) -> None:
    """A run on the pack (``files`` under ``packed``) must hold out the photographs a run on the
    source holds out."""
    _, packed_val = training_split(files, val_count, seed)
    got = sorted(str(Path(*relative_stem(f, packed).parts[1:])) for f in packed_val)
    want = sorted(str(relative_stem(f, root)) for f in val_files)
    if got != want:
        raise DataError("the pack's validation split differs from the source's (an unreadable photograph?)")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m model.tools.pack", description=__doc__)
    p.add_argument("--data", type=Path, required=True, help="the training photographs")
    p.add_argument("--exclude", type=Path, default=None, help="held-out files never to pack (as train's --exclude)")
    p.add_argument("--masks", type=Path, default=None, help="object silhouettes (as train's --masks)")
    p.add_argument("--out", type=Path, required=True, help="pack folder: images/NN/, masks/, pack.json")
    p.add_argument("--val-count", type=int, default=VAL_COUNT, help="as train's: the split to keep")
    p.add_argument("--seed", type=int, default=0, help="as train's: the silhouettes it loads")
    p.add_argument("--split-seed", type=int, default=0, help="as train's: the validation split")
    p.add_argument("--side", type=int, default=CACHE_SIDE)
    p.add_argument("--quality", type=int, default=85, help="WebP quality (85: ~37 dB against the cache)")
    p.add_argument("--shard-mib", type=float, default=DEFAULT_SHARD_MIB)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        if args.out.exists() and any(args.out.iterdir()):
            raise DataError(f"--out {args.out} is not empty")
        files = training_files(args.data, args.exclude)
        _, val_files = training_split(files, args.val_count, args.split_seed)
        shard_bytes = int(args.shard_mib * 2**20)
        shards = pack_photos(files, args.data, args.out / "images", args.side, args.quality, shard_bytes)
        packed_files = list_images(args.out / "images")
        check_same_split(packed_files, args.out / "images", val_files, args.data, args.val_count, args.split_seed)
        shapes = pack_silhouettes(args.masks, args.out / "masks", args.seed) if args.masks else 0
    except (DataError, FileNotFoundError) as exc:
        sys.exit(f"error: {exc}")
    masks_bytes = sum(f.stat().st_size for f in (args.out / "masks").rglob("*") if f.is_file()) if shapes else 0
    summary = {
        "source": str(args.data),
        "photos": len(packed_files),
        "validation": len(val_files),
        "side": args.side,
        "quality": args.quality,
        "shards_mib": [round(b / 2**20, 1) for b in shards],
        "silhouettes": shapes,
        "silhouettes_mib": round(masks_bytes / 2**20, 1),
    }
    (args.out / "pack.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
