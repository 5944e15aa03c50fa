"""The full-resolution protocols: holes as people paint them on whole photographs.

The 128 px protocol (``model.eval.crops``) measures the network; these measure the product.
Each photograph is used at its own size with a seeded hole of its own (``model.eval.holes``:
objects, strokes, blobs), and every method fills the whole photograph through the same path
the server uses: its filler (``model.fillers``: a generator's windows, or ``cv2.inpaint`` on
the whole image).

The same hole-only metrics as the 128 px protocol (patch FD over all photographs' holes), plus
seconds per photograph.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import numpy as np

from model.eval.grids import grid_picks, show_hole
from model.eval.holes import fullres_mask
from model.eval.methods import PhotoMethod
from model.eval.schema import MethodKind, ProtocolResult, Scores
from model.eval.scores import Evaluation, concat_scores, hole_sharpness, score, summarise
from model.hole_samplers import ShapeBank
from model.realism import frechet_distance, patch_features, patch_grid

log = logging.getLogger(__name__)

CROP = 160  # px: the grid shows the fill at 1:1 around the hole


def hole_crop(image: np.ndarray, mask: np.ndarray, side: int = CROP) -> np.ndarray:
    """A ``side`` x ``side`` 1:1 crop centred on the hole's centre of mass (clipped to the image;
    padded white when the photo is smaller), for the comparison grid."""
    ys, xs = np.nonzero(mask)
    h, w = mask.shape
    cy, cx = (int(ys.mean()), int(xs.mean())) if len(ys) else (h // 2, w // 2)
    top = int(np.clip(cy - side // 2, 0, max(0, h - side)))
    left = int(np.clip(cx - side // 2, 0, max(0, w - side)))
    crop = image[top : top + side, left : left + side]
    out = np.full((side, side, 3), 255, np.uint8)
    out[: crop.shape[0], : crop.shape[1]] = crop
    return out


def evaluate_photos(
    set_name: str,
    kind: str,
    photos: Sequence[np.ndarray],
    methods: dict[str, PhotoMethod],
    kinds: dict[str, MethodKind],
    seed: int,
    shapes: ShapeBank | None,
    grid_count: int = 6,
) -> Evaluation:
    """A full-resolution protocol: every method fills each whole photo's seeded hole. The grid
    pictures the models and baselines (references are truths, not fills)."""
    rows = set(grid_picks(len(photos), grid_count))
    per_method: dict[str, list[dict[str, np.ndarray]]] = {name: [] for name in methods}
    patches: dict[str, list[np.ndarray]] = {name: [] for name in methods}
    seconds = dict.fromkeys(methods, 0.0)
    pictured = [name for name in methods if kinds.get(name) != "reference"]
    columns: list[list[np.ndarray]] = [[] for _ in range(len(pictured) + 2)]
    fractions, truth_sharp, truth_patches = [], [], []
    log.info("%s / %s: %d methods on %d photos", set_name, kind, len(methods), len(photos))
    for i, photo in enumerate(photos):
        hole = fullres_mask(kind, i, photo.shape[0], photo.shape[1], seed, shapes)
        grid_of_patches = patch_grid(hole)
        fractions.append(hole.mean())
        truth_sharp.append(hole_sharpness(photo, hole))
        truth_patches.append(patch_features(photo, grid_of_patches))
        if i in rows:
            columns[0].append(hole_crop(show_hole(photo[None], hole[None])[0], hole))
            columns[-1].append(hole_crop(photo, hole))
        for name, method in methods.items():
            t0 = time.perf_counter()
            out = method(photo, hole)
            seconds[name] += time.perf_counter() - t0
            if not np.array_equal(out[~hole], photo[~hole]):
                raise RuntimeError(f"{name} changed pixels outside the hole")
            per_method[name].append(score(out[None], photo[None], hole[None]))
            patches[name].append(patch_features(out, grid_of_patches))
            if i in rows and name in pictured:
                columns[1 + pictured.index(name)].append(hole_crop(out, hole))
    truth_features = np.concatenate(truth_patches)
    scores = {
        name: Scores(
            **summarise(concat_scores(parts)),
            patch_fd=frechet_distance(np.concatenate(patches[name]), truth_features),
            seconds=seconds[name] / len(photos),
        )
        for name, parts in per_method.items()
    }
    result = ProtocolResult(
        set=set_name,
        mask=kind,
        images=len(photos),
        hole_fraction=float(np.mean(fractions)),
        truth_sharpness=float(np.mean(truth_sharp)),
        methods=scores,
        kinds=kinds,
        patches=len(truth_features),
    )
    return Evaluation(result, [np.stack(col) for col in columns] if rows else [])
