"""Evaluate generators against baselines on held-out photographs: ``python -m model.tools.evaluate``.

The paper's protocol, generalised to other hole shapes: 128x128 images, the hole filled by
the method, the result composited (hole pixels from the method, the rest from the truth) and
measured on the HOLE ONLY (the overlap band is context and never counts). Values in [0, 1];
PSNR is the mean of per-image PSNR (the paper's convention), SSIM the mean of the SSIM map
over hole pixels, sharpness the mean gradient magnitude in the hole next to the truth's own.
Every model and baseline sees the same images and the same holes.

``freeform`` uses real NVIDIA irregular masks when ``--freeform-dir`` is given (resized to
128 with nearest, kept when 5 %-40 % hole) and the procedural sampler otherwise.

``objects``, ``strokes`` and ``blobs`` are full-resolution protocols (``model.tools.fullres``): each
photograph at its own size, filled whole through the server's inference path; the same
hole-only metrics, plus seconds per photograph.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from model.baselines import BASELINES, OPENCV_BASELINES, MissingDependency, opencv_available, run_baseline
from model.data import IMAGE_SUFFIXES, DataError, list_images, load_eval_images
from model.devices import DEVICE_CHOICES, pick_device
from model.export import WeightsError
from model.inference import InpaintModel, inpaint, load_generator
from model.masks import (
    FREEFORM_COVERAGE,
    HOLE_KINDS,
    FreeformMasks,
    ShapeBank,
    mask_batch,
    mask_fn,
    silhouettes_for,
)
from model.metrics import gradient_magnitude, hole_errors, hole_ssim
from model.tools.fullres import FULLRES_KINDS, fullres_mask, hole_crop
from model.tools.samples import grid_from_columns

log = logging.getLogger("model.tools.evaluate")

DEFAULT_MASKS = ("center", "freeform")
METRICS = ("l1", "l2", "psnr", "ssim", "sharpness")

Method = Callable[[np.ndarray, np.ndarray], np.ndarray]
# one whole photograph: (H, W, 3) uint8 and (H, W) bool hole -> (H, W, 3) uint8
PhotoMethod = Callable[[np.ndarray, np.ndarray], np.ndarray]


# ------------------------------------------------------------------ images
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


# ------------------------------------------------------------------- holes
def eval_holes(
    kind: str,
    n: int,
    size: int,
    seed: int,
    freeform: FreeformMasks | None = None,
    shapes: ShapeBank | None = None,
) -> np.ndarray:
    """(n, size, size) bool holes; seeded by (seed, kind), so every method and every rerun
    sees the same holes whatever the order of ``--masks``."""
    rng = np.random.default_rng([seed, zlib.crc32(kind.encode())])
    if kind == "freeform" and freeform is not None:
        return freeform.assign(rng, n)
    return mask_batch(mask_fn(kind, size, shapes), rng, n)


# ----------------------------------------------------------------- scoring
def composite(outputs: np.ndarray, truth: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """Hole pixels from the method, every other pixel from the truth."""
    return np.where(holes[..., None], outputs, truth).astype(np.uint8)


def score(completed: np.ndarray, truth: np.ndarray, holes: np.ndarray) -> dict[str, np.ndarray]:
    """Per-image hole-only L1, L2, PSNR, SSIM and sharpness of (N, H, W, 3) uint8 images."""
    pred = completed.astype(np.float64) / 255.0
    real = truth.astype(np.float64) / 255.0

    def nchw(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a).permute(0, 3, 1, 2)

    hole_t = torch.from_numpy(holes).unsqueeze(1).double()
    errs = {k: v.numpy() for k, v in hole_errors(nchw(pred), nchw(real), hole_t).items()}
    errs["ssim"] = np.array([hole_ssim(p, t, h) for p, t, h in zip(pred, real, holes, strict=True)])
    errs["sharpness"] = np.array([gradient_magnitude(p, h) for p, h in zip(pred, holes, strict=True)])
    return errs


def score_chunked(
    completed: np.ndarray, truth: np.ndarray, holes: np.ndarray, chunk: int = 256
) -> dict[str, np.ndarray]:
    """``score`` a few hundred images at a time, so float64 copies of a big set never pile up."""
    parts = [
        score(completed[i : i + chunk], truth[i : i + chunk], holes[i : i + chunk]) for i in range(0, len(truth), chunk)
    ]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def summarise(per_image: dict[str, np.ndarray]) -> dict[str, float]:
    """Means over images; PSNR is the mean of per-image PSNR, not the PSNR of the mean L2."""
    return {k: float(np.nanmean(per_image[k])) for k in METRICS}


# ----------------------------------------------------------------- methods
def model_method(model: InpaintModel) -> Method:
    return lambda images, holes: model.fill(images, holes)


def baseline_method(name: str, mean_colour: Sequence[float]) -> Method:
    return lambda images, holes: run_baseline(name, images, holes, mean_colour)


def model_photo_method(model: InpaintModel) -> PhotoMethod:
    """The server's path: windows planned on the whole photo, batched, blended back."""
    return lambda image, hole: np.asarray(inpaint(Image.fromarray(image), hole, model))


def baseline_photo_method(name: str, mean_colour: Sequence[float]) -> PhotoMethod:
    return lambda image, hole: run_baseline(name, image[None], hole[None], mean_colour)[0]


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


def choose_baselines(requested: Sequence[str]) -> list[str]:
    """The requested baselines, minus the OpenCV ones (with a warning) when cv2 is missing."""
    unknown = [b for b in requested if b not in BASELINES]
    if unknown:
        raise ValueError(f"unknown baseline(s) {', '.join(unknown)}; choose from {', '.join(BASELINES)}")
    if any(b in OPENCV_BASELINES for b in requested) and not opencv_available():
        log.warning("OpenCV is not installed: skipping the telea/ns baselines (pip install opencv-python-headless)")
        return [b for b in requested if b not in OPENCV_BASELINES]
    return list(requested)


@dataclass
class Evaluation:
    """Scores of every method on one (image set, mask type), plus the pictures for the grid."""

    set_name: str
    mask: str
    images: int
    hole_fraction: float
    truth_sharpness: float
    methods: dict[str, dict[str, float]]
    kinds: dict[str, str]  # method -> "model" | "baseline"
    grid_rows: list[np.ndarray]  # one (R, H, W, 3) column each: input | methods... | truth

    def to_json(self) -> dict[str, Any]:
        return {
            "set": self.set_name,
            "mask": self.mask,
            "images": self.images,
            "hole_fraction": self.hole_fraction,
            "truth_sharpness": self.truth_sharpness,
            "methods": self.methods,
            "kinds": self.kinds,
        }


def show_hole(images: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """The input as a picture: the hole in white."""
    out = images.copy()
    out[holes] = 255
    return out


def evaluate_images(
    set_name: str,
    mask: str,
    truth: np.ndarray,
    holes: np.ndarray,
    methods: dict[str, Method],
    kinds: dict[str, str],
    grid_count: int = 6,
) -> Evaluation:
    """Fill, composite and score every method on the same images and holes."""
    rows = np.unique(np.linspace(0, len(truth) - 1, min(grid_count, len(truth))).round().astype(int))
    columns = [show_hole(truth[rows], holes[rows])]
    scores = {}
    for name, method in methods.items():
        log.info("%s / %s: %s on %d images", set_name, mask, name, len(truth))
        completed = composite(method(truth, holes), truth, holes)
        scores[name] = summarise(score_chunked(completed, truth, holes))
        columns.append(completed[rows])
    columns.append(truth[rows])
    real = truth.astype(np.float64) / 255.0
    truth_sharp = float(np.mean([gradient_magnitude(t, h) for t, h in zip(real, holes, strict=True)]))
    return Evaluation(
        set_name, mask, len(truth), float(holes.mean()), truth_sharp, scores, dict(kinds), columns if rows.size else []
    )


def evaluate_photos(
    set_name: str,
    kind: str,
    photos: Sequence[np.ndarray],
    methods: dict[str, PhotoMethod],
    kinds: dict[str, str],
    seed: int,
    shapes: ShapeBank | None,
    grid_count: int = 6,
) -> Evaluation:
    """A full-resolution protocol: every method fills each whole photo's seeded hole."""
    rows = set(np.linspace(0, len(photos) - 1, min(grid_count, len(photos))).round().astype(int).tolist())
    per_method: dict[str, list[dict[str, np.ndarray]]] = {name: [] for name in methods}
    seconds = dict.fromkeys(methods, 0.0)
    columns: list[list[np.ndarray]] = [[] for _ in range(len(methods) + 2)]
    fractions, truth_sharp = [], []
    log.info("%s / %s: %d methods on %d photos", set_name, kind, len(methods), len(photos))
    for i, photo in enumerate(photos):
        hole = fullres_mask(kind, i, photo.shape[0], photo.shape[1], seed, shapes)
        fractions.append(hole.mean())
        truth_sharp.append(gradient_magnitude(photo.astype(np.float64) / 255.0, hole))
        if i in rows:
            columns[0].append(hole_crop(show_hole(photo[None], hole[None])[0], hole))
            columns[-1].append(hole_crop(photo, hole))
        for c, (name, method) in enumerate(methods.items(), start=1):
            t0 = time.perf_counter()
            out = method(photo, hole)
            seconds[name] += time.perf_counter() - t0
            if not np.array_equal(out[~hole], photo[~hole]):
                raise RuntimeError(f"{name} changed pixels outside the hole")
            per_method[name].append(score(out[None], photo[None], hole[None]))
            if i in rows:
                columns[c].append(hole_crop(out, hole))
    scores = {}
    for name, parts in per_method.items():
        scores[name] = summarise({k: np.concatenate([p[k] for p in parts]) for k in parts[0]})
        scores[name]["seconds"] = seconds[name] / len(photos)
    grid = [np.stack(col) for col in columns] if rows else []
    return Evaluation(
        set_name, kind, len(photos), float(np.mean(fractions)), float(np.mean(truth_sharp)), scores, dict(kinds), grid
    )


# ----------------------------------------------------------------- reports
def markdown_table(ev: Evaluation) -> str:
    """One table per (set, mask): rows = methods, L1/L2 in percent as in the paper."""
    lines = [
        f"### {ev.set_name} · {ev.mask} — {ev.images} images, hole {ev.hole_fraction:.1%} of pixels",
        "",
        "| method | L1 % ↓ | L2 % ↓ | PSNR dB ↑ | SSIM ↑ | sharpness |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, m in ev.methods.items():
        label = name if ev.kinds.get(name) == "model" else f"{name} (baseline)"
        lines.append(
            f"| {label} | {m['l1'] * 100:.2f} | {m['l2'] * 100:.2f} | {m['psnr']:.2f} | {m['ssim']:.3f} "
            f"| {m['sharpness']:.4f} |"
        )
    lines.append(f"| truth | – | – | – | – | {ev.truth_sharpness:.4f} |")
    return "\n".join(lines)


GRID_LINE = 12  # px per header line (Pillow's default bitmap font)


def wrap_label(name: str, width: int, draw: ImageDraw.ImageDraw) -> list[str]:
    """Break a column name into lines that fit ``width`` px, at spaces when possible, so
    long method names stay readable instead of being cut off."""
    lines: list[str] = []
    for word in name.split():
        joined = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(joined) <= width:
            lines[-1] = joined
            continue
        while len(word) > 1 and draw.textlength(word) > width:  # one word wider than the column
            cut = max((i for i in range(1, len(word)) if draw.textlength(word[:i]) <= width), default=1)
            lines.append(word[:cut])
            word = word[cut:]
        lines.append(word)
    return lines or [""]


def comparison_grid(evaluations: Sequence[Evaluation], column_names: Sequence[str]) -> Image.Image:
    """All grid rows of all evaluations stacked, under a header naming the columns."""
    parts = [ev.grid_rows for ev in evaluations if ev.grid_rows]
    columns = [np.concatenate([p[c] for p in parts]) for c in range(len(parts[0]))]
    body = grid_from_columns(columns)
    width = columns[0].shape[2] + 2
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    labels = [wrap_label(name, width - 4, measure) for name in column_names]
    header = 4 + GRID_LINE * max(len(lines) for lines in labels)
    canvas = Image.new("RGB", (body.width, body.height + header), "white")
    canvas.paste(body, (0, header))
    draw = ImageDraw.Draw(canvas)
    for c, lines in enumerate(labels):
        for i, line in enumerate(lines):
            draw.text((2 + c * width + 2, 2 + i * GRID_LINE), line, fill=(0, 0, 0))
    return canvas


def code_version() -> str | None:
    """The checkout's commit, so a result file says which code produced it."""
    try:
        res = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() or None


# --------------------------------------------------------------------- CLI
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ce-eval", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--weights", nargs="+", required=True, type=Path, help="generator export(s) to evaluate")
    p.add_argument("--names", nargs="+", default=None, help="labels for --weights (default: file stems)")
    p.add_argument(
        "--images",
        action="append",
        required=True,
        help="folder (recursive), text file of image paths (e.g. a run's val_files.txt) or one image; "
        "repeat for several sets",
    )
    p.add_argument("--crops", type=int, choices=(1, 5), default=1, help="1 centre square or 5 crops per image")
    p.add_argument(
        "--masks",
        default=",".join(DEFAULT_MASKS),
        help=f"comma-separated hole types: at 128 px {', '.join(HOLE_KINDS)}; "
        f"full resolution {', '.join(FULLRES_KINDS)}",
    )
    p.add_argument("--freeform-dir", type=Path, default=None, help="real free-form masks (PNG, 255 = hole)")
    p.add_argument("--shapes", type=Path, default=None, help="object silhouettes (PNG) for region/mixed holes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=None, help="at most N files per set (a seeded subset)")
    p.add_argument("--baselines", default=",".join(BASELINES), help="comma-separated, from mean,telea,ns; '' = none")
    p.add_argument("--json", type=Path, default=None, help="write settings and results here")
    p.add_argument("--grid", type=Path, default=None, help="write a comparison picture (PNG) here")
    p.add_argument("--grid-count", type=int, default=6, help="grid rows per (set, mask)")
    p.add_argument(
        "--grids-dir", type=Path, default=None, help="also write one picture per (set, mask) here: SET-MASK.png"
    )
    p.add_argument("--batch-size", type=int, default=64, help="images per generator call")
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    return p


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def load_models(args: argparse.Namespace, device: torch.device) -> dict[str, InpaintModel]:
    paths: list[Path] = args.weights
    if args.names is not None and len(args.names) != len(paths):
        raise ValueError(f"--names gives {len(args.names)} labels for {len(paths)} --weights")
    names = args.names or unique_names(paths, [p.stem for p in paths])
    if len(set(names)) != len(names) or set(names) & set(BASELINES):
        raise ValueError(f"model names must be unique and differ from the baselines: {names}")
    models = {}
    for name, path in zip(names, paths, strict=True):
        model = load_generator(path, device)
        model.max_batch = args.batch_size
        models[name] = model
    sizes = {m.size for m in models.values()}
    if len(sizes) > 1:
        raise ValueError(f"the generators work at different image sizes {sorted(sizes)}")
    return models


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Evaluate, print the tables, write the JSON and grid; returns the JSON document."""
    masks = _split(args.masks)
    bad = [m for m in masks if m not in HOLE_KINDS and m not in FULLRES_KINDS]
    if not masks or bad:
        choices = ", ".join([*HOLE_KINDS, *FULLRES_KINDS])
        raise ValueError(f"--masks: unknown or hole-less type(s) {bad}; choose from {choices}")
    if args.limit is not None and args.limit < 1:
        raise ValueError("--limit must be at least 1")
    if args.grid is not None and args.grid_count < 1:
        raise ValueError("--grid-count must be at least 1")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    models = load_models(args, device)
    size = next(iter(models.values())).size
    sets = [image_set(src) for src in args.images]
    for s, name in zip(sets, unique_names([Path(x.source) for x in sets], [x.name for x in sets]), strict=True):
        s.name = name
    baselines = choose_baselines(_split(args.baselines))
    freeform = FreeformMasks(args.freeform_dir, size) if args.freeform_dir and "freeform" in masks else None
    if freeform is not None:
        log.info(
            "free-form masks: %d of %d in %s within the coverage bounds",
            len(freeform),
            freeform.total,
            args.freeform_dir,
        )
    shapes = silhouettes_for(masks, args.shapes, args.seed)

    first = next(iter(models.values()))
    methods: dict[str, Method] = {name: model_method(m) for name, m in models.items()}
    methods |= {b: baseline_method(b, first.meta.mean_colour) for b in baselines}
    photo_methods: dict[str, PhotoMethod] = {name: model_photo_method(m) for name, m in models.items()}
    photo_methods |= {b: baseline_photo_method(b, first.meta.mean_colour) for b in baselines}
    kinds = {name: "model" for name in models} | {b: "baseline" for b in baselines}
    if "mean" in baselines and any(m.meta.mean_colour != first.meta.mean_colour for m in models.values()):
        log.warning("the generators differ in mean colour; the mean baseline uses that of %s", next(iter(models)))

    evaluations, set_records = [], []
    for s in sets:
        files = subset(s.files, args.limit, args.seed)
        small = [m for m in masks if m not in FULLRES_KINDS]
        truth = load_eval_images(files, size, args.crops) if small else None
        photos = load_photos(files) if len(small) < len(masks) else None
        count = len(truth) if truth is not None else len(photos)
        set_records.append({"name": s.name, "source": s.source, "files": len(files), "images": count})
        for kind in masks:
            if kind in FULLRES_KINDS:
                ev = evaluate_photos(s.name, kind, photos, photo_methods, kinds, args.seed, shapes, args.grid_count)
            else:
                holes = eval_holes(kind, len(truth), size, args.seed, freeform, shapes)
                ev = evaluate_images(s.name, kind, truth, holes, methods, kinds, args.grid_count)
            evaluations.append(ev)
            print(markdown_table(ev) + "\n", flush=True)

    column_names = ["input", *methods, "truth"]
    doc: dict[str, Any] = {
        "protocol": "composited fill, metrics on hole pixels only (no overlap band); values in [0, 1]; "
        "psnr = mean of per-image PSNR; ssim = mean SSIM map over the hole; sharpness = mean gradient "
        "magnitude in the hole",
        "code_version": code_version(),
        "settings": {
            "weights": [str(p) for p in args.weights],
            "images": list(args.images),
            "crops": args.crops,
            "masks": masks,
            "freeform_dir": str(args.freeform_dir) if args.freeform_dir else None,
            "freeform_masks_used": len(freeform) if freeform is not None else None,
            "freeform_coverage": list(FREEFORM_COVERAGE) if freeform is not None else None,
            "shapes": str(args.shapes) if args.shapes else None,
            "seed": args.seed,
            "limit": args.limit,
            "baselines": baselines,
            "image_size": size,
            "device": str(device),
        },
        "models": {
            name: {
                "path": str(m.path),
                "mask_type": m.meta.mask_type,
                "steps": m.meta.training.get("steps"),
                "parameters": m.parameters,
                "mean_colour": m.meta.mean_colour,
            }
            for name, m in models.items()
        },
        "sets": set_records,
        "results": [ev.to_json() for ev in evaluations],
        "tables": "\n\n".join(markdown_table(ev) for ev in evaluations),
    }
    if args.grid is not None:
        args.grid.parent.mkdir(parents=True, exist_ok=True)
        comparison_grid(evaluations, column_names).save(args.grid)
        doc["grid"] = {
            "path": str(args.grid),
            "columns": column_names,
            "rows": [{"set": ev.set_name, "mask": ev.mask, "count": len(ev.grid_rows[0])} for ev in evaluations],
        }
    if args.grids_dir is not None:
        args.grids_dir.mkdir(parents=True, exist_ok=True)
        for ev in evaluations:
            if ev.grid_rows:
                comparison_grid([ev], column_names).save(args.grids_dir / f"{ev.set_name}-{ev.mask}.png")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(doc, indent=2) + "\n")
    return doc


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    args = build_parser().parse_args(argv)
    try:
        run(args)
    except (DataError, WeightsError, MissingDependency, ValueError, OSError) as exc:
        raise SystemExit(f"error: {exc}") from exc
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
