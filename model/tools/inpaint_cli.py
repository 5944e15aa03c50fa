"""Inpaint photographs from the command line: ``ce-inpaint INPUT [INPUT ...] --masks M --out DIR``.

INPUT is an image or a folder (recursive). ``--masks`` is one mask for every image or a folder
holding a mask with each image's file stem (white, or opaque where the mask has transparency,
= fill); ``--alpha`` fills each image's own transparent pixels instead. Results are PNGs under
DIR, keeping each file's path below its input folder; pixels outside the mask never change.
``--weights`` picks a generator export, ``--classical telea|ns`` OpenCV's fillers instead;
``--grow N`` dilates every mask by N px first. A file that fails is reported and skipped; the
exit status is then 1.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from tqdm import tqdm

from model.baselines import OPENCV_BASELINES
from model.data import IMAGE_SUFFIXES, DataError, list_images
from model.devices import DEVICE_CHOICES, pick_device
from model.export import DEFAULT_WEIGHTS, WeightsError
from model.fillers import ClassicalFiller, Filler, load_filler
from model.holes import MAX_GROW, grow_hole
from model.mask_images import mask_from_image, transparent_hole

MASK_SUFFIXES = (".png", *(s for s in IMAGE_SUFFIXES if s != ".png"), ".bmp")
FILE_ERRORS = (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError)

# an RGB image and its (H, W) bool hole -> the filled RGB image


@dataclass
class Job:
    """One image to fill: where it comes from and where its result goes."""

    source: Path
    relative: Path  # below its input folder (just the name for a file given directly)

    @property
    def name(self) -> str:
        return str(self.source)


def _inside(path: Path, folder: Path | None) -> bool:
    return folder is not None and folder.resolve() in path.resolve().parents


def collect_jobs(inputs: list[Path], skip: list[Path | None]) -> tuple[list[Job], list[tuple[str, str]]]:
    """Images from files and folders (recursive), minus anything under the ``skip`` folders
    (the output and mask folders may sit inside an input folder). Missing inputs are failures."""
    jobs, failures = [], []
    for path in inputs:
        if path.is_dir():
            try:
                files = list_images(path)
            except DataError as exc:
                failures.append((str(path), str(exc)))
                continue
            jobs += [Job(f, f.relative_to(path)) for f in files if not any(_inside(f, s) for s in skip)]
        elif path.is_file():
            jobs.append(Job(path, Path(path.name)))
        else:
            failures.append((str(path), "no such file or folder"))
    return jobs, failures


def find_mask(masks: Path, job: Job) -> Path:
    """``masks`` itself when it is a file, else the mask with the image's stem in the matching
    subfolder of ``masks`` or at its top."""
    if masks.is_file():
        return masks
    for folder in dict.fromkeys((masks / job.relative.parent, masks)):
        for suffix in MASK_SUFFIXES:
            for candidate in (folder / f"{job.relative.stem}{suffix}", folder / f"{job.relative.stem}{suffix.upper()}"):
                if candidate.is_file():
                    return candidate
    raise FileNotFoundError(f"no mask named {job.relative.stem}.png (or .jpg/.webp/...) in {masks}")


def fill_one(job: Job, filler: Filler, masks: Path | None, out: Path, grow: int = 0) -> Path:
    """Inpaint one file and write its PNG; raises on any problem with this file only."""
    target = (out / job.relative).with_suffix(".png")
    if target.resolve() == job.source.resolve():
        raise ValueError(f"refusing to overwrite the input with its result; choose another --out than {out}")
    with Image.open(job.source) as im:
        image = ImageOps.exif_transpose(im)  # masks are painted on the picture as it is shown
        image.load()
    if masks is None:
        hole = transparent_hole(image)
        if hole is None:
            raise ValueError("--alpha: the image has no transparency")
    else:
        with Image.open(find_mask(masks, job)) as m:
            hole = mask_from_image(ImageOps.exif_transpose(m))
    if hole.shape != (image.height, image.width):
        raise ValueError(f"mask is {hole.shape[1]}x{hole.shape[0]} but the image is {image.width}x{image.height}")
    result = filler.fill(np.asarray(image.convert("RGB")), grow_hole(hole, grow))
    target.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(result).save(target)
    return target


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ce-inpaint", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="image files or folders (recursive)")
    holes = p.add_mutually_exclusive_group(required=True)
    holes.add_argument("--masks", type=Path, help="one mask for all images, or a folder of masks named like them")
    holes.add_argument("--alpha", action="store_true", help="fill each image's transparent pixels")
    p.add_argument("--out", type=Path, required=True, help="folder for the PNG results")
    fillers = p.add_mutually_exclusive_group()
    fillers.add_argument("--weights", type=Path, default=None, help=f"generator export (default: {DEFAULT_WEIGHTS})")
    fillers.add_argument("--classical", choices=OPENCV_BASELINES, default=None, help="OpenCV's filler instead")
    p.add_argument("--grow", type=int, default=0, help=f"dilate each mask by N px (0-{MAX_GROW}) before filling")
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
    return p


def choose_filler(weights: Path | None, classical: str | None, device: str) -> Filler:
    """The generator (through the server's full-resolution path) or an OpenCV filler."""
    if classical is not None:
        return ClassicalFiller(classical)
    if weights is None and not DEFAULT_WEIGHTS.is_file():
        raise WeightsError(
            f"the default weights {DEFAULT_WEIGHTS} are not there; pass --weights PATH to a generator export"
        )
    return load_filler(weights or DEFAULT_WEIGHTS, pick_device(device))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.masks is not None and not args.masks.exists():
        raise SystemExit(f"error: --masks {args.masks}: no such file or folder")
    if not 0 <= args.grow <= MAX_GROW:
        raise SystemExit(f"error: --grow must be between 0 and {MAX_GROW} px")
    try:
        filler = choose_filler(args.weights, args.classical, args.device)
    except ValueError as exc:  # a WeightsError, or --device cuda without CUDA
        raise SystemExit(f"error: {exc}") from exc
    skip = [args.out, args.masks if args.masks is not None and args.masks.is_dir() else None]
    jobs, failures = collect_jobs(args.inputs, skip)
    if not jobs and not failures:
        raise SystemExit("error: no images to inpaint")
    total = len(jobs) + len(failures)
    for name, message in failures:
        print(f"error: {name}: {message}", file=sys.stderr)
    written: dict[Path, str] = {}
    for job in tqdm(jobs, unit="image", desc="inpainting", file=sys.stderr, dynamic_ncols=True):
        target = (args.out / job.relative).with_suffix(".png").resolve()
        try:
            if target in written:
                raise ValueError(f"same output name as {written[target]}")
            fill_one(job, filler, args.masks, args.out, args.grow)
            written[target] = job.name
        except FILE_ERRORS as exc:
            failures.append((job.name, str(exc)))
            tqdm.write(f"error: {job.name}: {exc}", file=sys.stderr)
    print(f"{len(written)} of {total} image(s) inpainted into {args.out}", file=sys.stderr)
    if failures:
        print(f"{len(failures)} failed: {', '.join(name for name, _ in failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
