"""One evaluation run: every generator and baseline on the same photographs and the same seeded
holes, per image set and hole type; the tables printed as they come, then the JSON and the
pictures written."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from model.data import load_eval_images
from model.devices import pick_device
from model.eval.crops import evaluate_images
from model.eval.freeform_masks import FREEFORM_COVERAGE
from model.eval.fullres import evaluate_photos
from model.eval.grids import write_grid, write_grids_dir
from model.eval.holes import FULLRES_KINDS, eval_holes, load_freeform
from model.eval.methods import build_methods, choose_baselines, choose_references, load_models
from model.eval.report import document
from model.eval.schema import EvaluationReport, ImageSetRecord, RunSettings
from model.eval.sets import load_image_sets, load_photos, subset
from model.eval.tables import markdown_table
from model.hole_samplers import HOLE_KINDS, silhouettes_for


@dataclass(kw_only=True)
class EvalOptions:
    """What a run measures and where it writes (``ce-eval``'s flags, typed)."""

    weights: list[Path]  # generator exports
    names: list[str] | None  # their labels (None: the file stems)
    images: list[str]  # one image set each: a folder, a list of paths or one image
    crops: int  # 128 px protocol: 1 centre square or 5 crops per photo
    masks: list[str]  # hole types, 128 px and full resolution
    freeform_dir: Path | None  # real free-form masks
    shapes: Path | None  # object silhouettes
    seed: int
    limit: int | None  # at most this many files per set (a seeded subset)
    baselines: list[str]
    references: list[str]
    json_path: Path | None  # the --json document
    grid_path: Path | None  # one comparison picture of every (set, mask)
    grid_count: int  # grid rows per (set, mask)
    grids_dir: Path | None  # one picture per (set, mask)
    batch_size: int  # images per generator call
    device: str
    threads: int | None  # CPU threads for torch


def check_options(options: EvalOptions) -> None:
    """Refuse what the command line cannot check before anything is loaded."""
    masks = options.masks
    bad = [m for m in masks if m not in HOLE_KINDS and m not in FULLRES_KINDS]
    if not masks or bad:
        choices = ", ".join([*HOLE_KINDS, *FULLRES_KINDS])
        raise ValueError(f"--masks: unknown or hole-less type(s) {bad}; choose from {choices}")
    if options.limit is not None and options.limit < 1:
        raise ValueError("--limit must be at least 1")
    if options.grid_path is not None and options.grid_count < 1:
        raise ValueError("--grid-count must be at least 1")


def run(options: EvalOptions) -> EvaluationReport:
    """Evaluate, print the tables, write the JSON and the pictures; returns the JSON document."""
    check_options(options)
    masks = options.masks
    baselines = choose_baselines(options.baselines)
    references = choose_references(options.references)
    if options.threads:
        torch.set_num_threads(options.threads)
    device = pick_device(options.device)
    models = load_models(options.weights, options.names, device, options.batch_size)
    size = next(iter(models.values())).size
    sets = load_image_sets(options.images)
    freeform = load_freeform(options.freeform_dir, masks, size)
    shapes = silhouettes_for(masks, options.shapes, options.seed)
    methods = build_methods(models, baselines, references)

    evaluations, set_records = [], []
    small = [m for m in masks if m not in FULLRES_KINDS]
    for s in sets:
        files = subset(s.files, options.limit, options.seed)
        truth = load_eval_images(files, size, options.crops) if small else None
        photos = load_photos(files) if len(small) < len(masks) else None
        count = len(truth) if truth is not None else len(photos)
        set_records.append(ImageSetRecord(name=s.name, source=s.source, files=len(files), images=count))
        for kind in masks:
            if kind in FULLRES_KINDS:
                ev = evaluate_photos(
                    s.name, kind, photos, methods.photos, methods.kinds, options.seed, shapes, options.grid_count
                )
            else:
                holes = eval_holes(kind, len(truth), size, options.seed, freeform, shapes)
                ev = evaluate_images(s.name, kind, truth, holes, methods.images, methods.kinds, options.grid_count)
            evaluations.append(ev)
            print(markdown_table(ev.result) + "\n", flush=True)

    settings = RunSettings(
        weights=[str(p) for p in options.weights],
        images=list(options.images),
        crops=options.crops,
        masks=masks,
        freeform_dir=str(options.freeform_dir) if options.freeform_dir else None,
        freeform_masks_used=len(freeform) if freeform is not None else None,
        freeform_coverage=list(FREEFORM_COVERAGE) if freeform is not None else None,
        shapes=str(options.shapes) if options.shapes else None,
        seed=options.seed,
        limit=options.limit,
        baselines=baselines,
        references=references,
        image_size=size,
        device=str(device),
    )
    column_names = ["input", *methods.pictured, "truth"]
    grid = write_grid(options.grid_path, evaluations, column_names) if options.grid_path is not None else None
    if options.grids_dir is not None:
        write_grids_dir(options.grids_dir, evaluations, column_names)
    report = document(settings, models, set_records, evaluations, grid)
    if options.json_path is not None:
        options.json_path.parent.mkdir(parents=True, exist_ok=True)
        options.json_path.write_text(json.dumps(report.to_json(), indent=2) + "\n")
    return report
