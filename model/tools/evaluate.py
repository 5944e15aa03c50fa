"""Evaluate generators against baselines on held-out photographs: ``python -m model.tools.evaluate``.

The paper's protocol, generalised to other hole shapes: 128x128 images, the hole filled by
the method (a generator through the server's inference path, as ``POST /inpaint`` fills a
128 px photo), the result composited (hole pixels from the method, the rest from the truth) and
measured on the HOLE ONLY (the overlap band is context and never counts). Values in [0, 1];
PSNR is the mean of per-image PSNR (the paper's convention), SSIM the mean of the SSIM map
over hole pixels, sharpness the mean gradient magnitude in the hole next to the truth's own.
Realism (``model.realism``, no learned weights): texture is that sharpness over the truth's per
image (1 = as detailed as the photo), invented the detail a fill adds where the photo is flattest
(0 = none; one texture spread evenly scores well above), patch FD the Fréchet distance of the fills' hole patches
to the truth's over the whole set (0 = the same statistics). Every model and baseline sees the
same images and the same holes; the reference ``blur1`` (the truth blurred by 1 px, not a
filler) shows what "slightly soft" scores.

``freeform`` uses real NVIDIA irregular masks when ``--freeform-dir`` is given (resized to
128 with nearest, kept when 5 %-40 % hole) and the procedural sampler otherwise.

``objects``, ``strokes`` and ``blobs`` are full-resolution protocols (``model.eval.fullres``): each
photograph at its own size, filled whole through the server's inference path; the same
hole-only metrics, plus seconds per photograph.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from model.baselines import BASELINES, REFERENCES
from model.data import DataError
from model.devices import DEVICE_CHOICES
from model.eval.holes import FULLRES_KINDS
from model.eval.run import EvalOptions, run
from model.export import WeightsError
from model.hole_samplers import HOLE_KINDS

DEFAULT_MASKS = ("center", "freeform")


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


def options_from(args: argparse.Namespace) -> EvalOptions:
    """The parsed flags as the evaluation's options (comma-separated lists split)."""
    return EvalOptions(
        weights=args.weights,
        names=args.names,
        images=args.images,
        crops=args.crops,
        masks=_split(args.masks),
        freeform_dir=args.freeform_dir,
        shapes=args.shapes,
        seed=args.seed,
        limit=args.limit,
        baselines=_split(args.baselines),
        references=_split(args.references),
        json_path=args.json,
        grid_path=args.grid,
        grid_count=args.grid_count,
        grids_dir=args.grids_dir,
        batch_size=args.batch_size,
        device=args.device,
        threads=args.threads,
    )


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    args = build_parser().parse_args(argv)
    try:
        run(options_from(args))
    except (DataError, WeightsError, ValueError, OSError) as exc:
        raise SystemExit(f"error: {exc}") from exc
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
