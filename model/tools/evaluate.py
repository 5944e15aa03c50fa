"""Evaluate generators against baselines on held-out photographs: ``python -m model.tools.evaluate``.

The paper's protocol, generalised to other hole shapes: 128x128 images, the hole filled by
the method (a generator through the server's inference path, as ``POST /inpaint`` fills a
128 px photo), the result composited (hole pixels from the method, the rest from the truth) and
measured on the HOLE ONLY (the overlap band is context and never counts). Values in [0, 1];
PSNR is the mean of per-image PSNR (the paper's convention), SSIM the mean of the SSIM map
over hole pixels, sharpness the mean gradient magnitude in the hole next to the truth's own.
Realism (``model.realism``, no learned weights): texture is that sharpness over the truth's per
image (1 = as detailed as the photo), patch FD the Fréchet distance of the fills' hole patches
to the truth's over the whole set (0 = the same statistics). Every model and baseline sees the
same images and the same holes; the reference ``blur1`` (the truth blurred by 1 px, not a
filler) shows what "slightly soft" scores.

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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from model.baselines import BASELINES, REFERENCES
from model.data import DataError, load_eval_images
from model.devices import DEVICE_CHOICES, pick_device
from model.export import WeightsError
from model.files import sha256_of
from model.fillers import GeneratorFiller
from model.inference import InpaintModel, load_generator
from model.masks import FREEFORM_COVERAGE, HOLE_KINDS, FreeformMasks, silhouettes_for
from model.tools.eval_crops import Method, baseline_method, eval_holes, evaluate_images, model_method
from model.tools.eval_grids import comparison_grid
from model.tools.eval_scores import Evaluation
from model.tools.eval_sets import ImageSet, image_set, load_photos, subset, unique_names
from model.tools.eval_tables import markdown_table
from model.tools.fullres import (
    FULLRES_KINDS,
    PhotoMethod,
    baseline_photo_method,
    evaluate_photos,
    model_photo_method,
)

log = logging.getLogger("model.tools.evaluate")

DEFAULT_MASKS = ("center", "freeform")
PROTOCOL = (
    "generators through the server's inference path (windows centred on each hole); "
    "composited fill, metrics on hole pixels only (no overlap band); values in [0, 1]; "
    "psnr = mean of per-image PSNR; ssim = mean SSIM map over the hole; sharpness = mean gradient "
    "magnitude in the hole; texture = sharpness over the truth's, per image (1 = as detailed as the photo); "
    "patch_fd = Frechet distance of hand-made 16 px hole-patch features, fills vs truth, over the set "
    "(model.realism); blur1 = the truth blurred by 1 px, a reference, not a filler"
)


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
    p.add_argument(
        "--baselines",
        default=",".join(BASELINES),
        help=f"comma-separated, from {','.join(BASELINES)}; '' = none. shiftmap and fsr are slow: about 1 s a "
        "128 px crop, and 22 s and 5 s a 768x512 photo (objects holes, 2 busy cores)",
    )
    p.add_argument(
        "--references",
        default=",".join(REFERENCES),
        help="comma-separated rows made from the truth itself (blur1: blurred by 1 px); '' = none",
    )
    p.add_argument("--json", type=Path, default=None, help="write settings and results here")
    p.add_argument("--grid", type=Path, default=None, help="write a comparison picture (PNG) here")
    p.add_argument("--grid-count", type=int, default=6, help="grid rows per (set, mask)")
    p.add_argument(
        "--grids-dir",
        type=Path,
        default=None,
        help="also write one picture per (set, mask) here: SET-MASK.jpg",
    )
    p.add_argument("--batch-size", type=int, default=64, help="images per generator call")
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    return p


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def check_arguments(args: argparse.Namespace) -> list[str]:
    """The ``--masks`` list, once every argument the parser cannot check is known to be usable."""
    masks = _split(args.masks)
    bad = [m for m in masks if m not in HOLE_KINDS and m not in FULLRES_KINDS]
    if not masks or bad:
        choices = ", ".join([*HOLE_KINDS, *FULLRES_KINDS])
        raise ValueError(f"--masks: unknown or hole-less type(s) {bad}; choose from {choices}")
    if args.limit is not None and args.limit < 1:
        raise ValueError("--limit must be at least 1")
    if args.grid is not None and args.grid_count < 1:
        raise ValueError("--grid-count must be at least 1")
    return masks


# --------------------------------------------------------------- methods
def load_models(args: argparse.Namespace, device: torch.device) -> dict[str, InpaintModel]:
    paths: list[Path] = args.weights
    if args.names is not None and len(args.names) != len(paths):
        raise ValueError(f"--names gives {len(args.names)} labels for {len(paths)} --weights")
    names = args.names or unique_names(paths, [p.stem for p in paths])
    if len(set(names)) != len(names) or set(names) & {*BASELINES, *REFERENCES}:
        raise ValueError(f"model names must be unique and differ from the baselines and references: {names}")
    models = {}
    for name, path in zip(names, paths, strict=True):
        model = load_generator(path, device)
        model.max_batch = args.batch_size
        models[name] = model
    sizes = {m.size for m in models.values()}
    if len(sizes) > 1:
        raise ValueError(f"the generators work at different image sizes {sorted(sizes)}")
    return models


def choose_baselines(requested: Sequence[str]) -> list[str]:
    """The requested baselines, checked by name."""
    unknown = [b for b in requested if b not in BASELINES]
    if unknown:
        raise ValueError(f"unknown baseline(s) {', '.join(unknown)}; choose from {', '.join(BASELINES)}")
    return list(requested)


def choose_references(requested: Sequence[str]) -> list[str]:
    """The requested reference rows (the truth degraded: yardsticks, not fillers)."""
    unknown = [r for r in requested if r not in REFERENCES]
    if unknown:
        raise ValueError(f"unknown reference(s) {', '.join(unknown)}; choose from {', '.join(REFERENCES)}")
    return list(requested)


@dataclass
class Methods:
    """Every model and baseline by name, in the form each protocol calls: batches of 128 px
    images, or whole photographs."""

    images: dict[str, Method]
    photos: dict[str, PhotoMethod]
    kinds: dict[str, str]  # method -> "model" | "baseline" | "reference"

    @property
    def pictured(self) -> list[str]:
        """The methods the comparison grids show: fills, not the truth-derived references."""
        return [name for name, kind in self.kinds.items() if kind != "reference"]


def build_methods(models: dict[str, InpaintModel], baselines: list[str], references: Sequence[str] = ()) -> Methods:
    """The models first, then the baselines, which use the first model's mean colour, then the
    references (the truth degraded, kept apart from the baselines: no filler could make them)."""
    first = next(iter(models.values()))
    fillers = {name: GeneratorFiller(name, m) for name, m in models.items()}
    others = [*baselines, *references]
    images: dict[str, Method] = {name: model_method(f) for name, f in fillers.items()}
    images |= {b: baseline_method(b, first.meta.mean_colour) for b in others}
    photos: dict[str, PhotoMethod] = {name: model_photo_method(f) for name, f in fillers.items()}
    photos |= {b: baseline_photo_method(b, first.meta.mean_colour) for b in others}
    kinds = {name: "model" for name in models} | {b: "baseline" for b in baselines}
    kinds |= {r: "reference" for r in references}
    if "mean" in baselines and any(m.meta.mean_colour != first.meta.mean_colour for m in models.values()):
        log.warning("the generators differ in mean colour; the mean baseline uses that of %s", next(iter(models)))
    return Methods(images, photos, kinds)


# ------------------------------------------------------------------ data
def load_image_sets(sources: Sequence[str]) -> list[ImageSet]:
    """Every ``--images`` source, named uniquely."""
    sets = [image_set(src) for src in sources]
    for s, name in zip(sets, unique_names([Path(x.source) for x in sets], [x.name for x in sets]), strict=True):
        s.name = name
    return sets


def load_freeform(folder: Path | None, masks: list[str], size: int) -> FreeformMasks | None:
    """The real free-form masks when ``--freeform-dir`` is given and ``freeform`` is measured."""
    if not folder or "freeform" not in masks:
        return None
    freeform = FreeformMasks(folder, size)
    log.info("free-form masks: %d of %d in %s within the coverage bounds", len(freeform), freeform.total, folder)
    return freeform


# --------------------------------------------------------------- outputs
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


def document(
    args: argparse.Namespace,
    masks: list[str],
    models: dict[str, InpaintModel],
    baselines: list[str],
    references: list[str],
    freeform: FreeformMasks | None,
    device: torch.device,
    set_records: list[dict[str, Any]],
    evaluations: list[Evaluation],
) -> dict[str, Any]:
    """The ``--json`` document: settings, models, image sets, results and tables."""
    return {
        "protocol": PROTOCOL,
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
            "references": references,
            "image_size": next(iter(models.values())).size,
            "device": str(device),
        },
        "models": {
            name: {
                "path": str(m.path),
                "sha256": sha256_of(m.path),
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


def write_pictures(
    args: argparse.Namespace, evaluations: list[Evaluation], column_names: list[str], doc: dict[str, Any]
) -> None:
    """``--grid`` (recorded in ``doc``) and ``--grids-dir``."""
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
                # JPEG at quality 95 without chroma subsampling: photographs at 1:1, a tenth of a PNG's size
                # in a repository that keeps every picture it ever committed
                picture = args.grids_dir / f"{ev.set_name}-{ev.mask}.jpg"
                comparison_grid([ev], column_names).convert("RGB").save(picture, quality=95, subsampling=0)


# ------------------------------------------------------------------- run
def run(args: argparse.Namespace) -> dict[str, Any]:
    """Evaluate, print the tables, write the JSON and grid; returns the JSON document."""
    masks = check_arguments(args)
    baselines = choose_baselines(_split(args.baselines))
    references = choose_references(_split(args.references))
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    models = load_models(args, device)
    size = next(iter(models.values())).size
    sets = load_image_sets(args.images)
    freeform = load_freeform(args.freeform_dir, masks, size)
    shapes = silhouettes_for(masks, args.shapes, args.seed)
    methods = build_methods(models, baselines, references)

    evaluations, set_records = [], []
    small = [m for m in masks if m not in FULLRES_KINDS]
    for s in sets:
        files = subset(s.files, args.limit, args.seed)
        truth = load_eval_images(files, size, args.crops) if small else None
        photos = load_photos(files) if len(small) < len(masks) else None
        count = len(truth) if truth is not None else len(photos)
        set_records.append({"name": s.name, "source": s.source, "files": len(files), "images": count})
        for kind in masks:
            if kind in FULLRES_KINDS:
                ev = evaluate_photos(
                    s.name, kind, photos, methods.photos, methods.kinds, args.seed, shapes, args.grid_count
                )
            else:
                holes = eval_holes(kind, len(truth), size, args.seed, freeform, shapes)
                ev = evaluate_images(s.name, kind, truth, holes, methods.images, methods.kinds, args.grid_count)
            evaluations.append(ev)
            print(markdown_table(ev) + "\n", flush=True)

    column_names = ["input", *methods.pictured, "truth"]
    doc = document(args, masks, models, baselines, references, freeform, device, set_records, evaluations)
    write_pictures(args, evaluations, column_names, doc)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(doc, indent=2) + "\n")
    return doc


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    args = build_parser().parse_args(argv)
    try:
        run(args)
    except (DataError, WeightsError, ValueError, OSError) as exc:
        raise SystemExit(f"error: {exc}") from exc
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
