"""The 128 px protocol (the paper's, generalised to other hole shapes): 128x128 squares of each
photograph (a centre square or five crops), a seeded hole in each (``model.eval.holes``),
filled by every method in batches, composited and scored on the hole only.
"""

from __future__ import annotations

import logging

import numpy as np

from model.eval.grids import grid_picks, show_hole
from model.eval.methods import Method
from model.eval.schema import MethodKind, ProtocolResult, Scores
from model.eval.scores import Evaluation, composite, hole_sharpness, score_chunked, summarise
from model.realism import frechet_distance, hole_patch_features

log = logging.getLogger(__name__)


def evaluate_images(
    set_name: str,
    mask: str,
    truth: np.ndarray,
    holes: np.ndarray,
    methods: dict[str, Method],
    kinds: dict[str, MethodKind],
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
        patch_fd = frechet_distance(hole_patch_features(completed, holes), truth_patches)
        scores[name] = Scores(**summarise(score_chunked(completed, truth, holes)), patch_fd=patch_fd)
        if kinds.get(name) != "reference":
            columns.append(completed[rows])
    columns.append(truth[rows])
    truth_sharp = float(np.mean([hole_sharpness(t, h) for t, h in zip(truth, holes, strict=True)]))
    grid = columns if rows.size else []
    result = ProtocolResult(
        set=set_name,
        mask=mask,
        images=len(truth),
        hole_fraction=float(holes.mean()),
        truth_sharpness=truth_sharp,
        methods=scores,
        kinds=kinds,
        patches=len(truth_patches),
    )
    return Evaluation(result, grid)
