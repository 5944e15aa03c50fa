"""The 128 px protocol (the paper's, generalised to other hole shapes): 128x128 squares of each
photograph (a centre square or five crops), a seeded hole in each, filled by every method in
batches, composited and scored on the hole only.

``freeform`` draws from real NVIDIA irregular masks when a bank of them is given (resized to
128 with nearest, kept when 5 %-40 % hole) and from the procedural sampler otherwise.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Sequence

import numpy as np

from model.baselines import run_baseline
from model.fillers import GeneratorFiller
from model.hole_samplers import ShapeBank, mask_batch, mask_fn
from model.realism import frechet_distance, hole_patch_features
from model.tools.eval_grids import grid_picks, show_hole
from model.tools.eval_masks import FreeformMasks
from model.tools.eval_scores import Evaluation, composite, hole_sharpness, score_chunked, summarise

log = logging.getLogger("model.tools.eval_crops")

# a batch of images: (N, S, S, 3) uint8 and (N, S, S) bool holes -> (N, S, S, 3) uint8
Method = Callable[[np.ndarray, np.ndarray], np.ndarray]


def model_method(filler: GeneratorFiller) -> Method:
    """A generator as ``POST /inpaint`` runs it on a 128 px photo: windows planned per hole
    (each centred on its hole; hairlines by Telea), not the bare network on the crop."""
    return lambda images, holes: np.stack(filler.fill_many(list(images), list(holes)))


def baseline_method(name: str, mean_colour: Sequence[float]) -> Method:
    return lambda images, holes: run_baseline(name, images, holes, mean_colour)


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


def evaluate_images(
    set_name: str,
    mask: str,
    truth: np.ndarray,
    holes: np.ndarray,
    methods: dict[str, Method],
    kinds: dict[str, str],
    grid_count: int = 6,
) -> Evaluation:
    """Fill, composite and score every method on the same images and holes; the grid pictures
    the models and baselines (references are truths, not fills)."""
    rows = np.asarray(grid_picks(len(truth), grid_count), dtype=int)
    columns = [show_hole(truth[rows], holes[rows])]
    truth_patches = hole_patch_features(truth, holes)
    scores = {}
    for name, method in methods.items():
        log.info("%s / %s: %s on %d images", set_name, mask, name, len(truth))
        completed = composite(method(truth, holes), truth, holes)
        scores[name] = summarise(score_chunked(completed, truth, holes))
        scores[name]["patch_fd"] = frechet_distance(hole_patch_features(completed, holes), truth_patches)
        if kinds.get(name) != "reference":
            columns.append(completed[rows])
    columns.append(truth[rows])
    truth_sharp = float(np.mean([hole_sharpness(t, h) for t, h in zip(truth, holes, strict=True)]))
    grid = columns if rows.size else []
    return Evaluation(
        set_name, mask, len(truth), float(holes.mean()), truth_sharp, scores, dict(kinds), grid, len(truth_patches)
    )
