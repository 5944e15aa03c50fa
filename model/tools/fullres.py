"""Full-resolution evaluation protocols: holes as people paint them on whole photographs.

The 128 px protocol (``model.tools.eval_crops``) measures the network; these measure the
product. Each photograph is used at its own size, a seeded hole is drawn on it, and every
method fills the whole photograph through the same path the server uses: its filler
(``model.fillers``: a generator's windows, or ``cv2.inpaint`` on the whole image).

==========  ================================================================
objects     real object silhouettes (PASCAL VOC / DAVIS), 5 % to 25 % of the photo
strokes     1-3 long thin strokes, 4-16 px wide, across the photo (wires, cables)
blobs       one big blob of overlapping ellipses, 25 % to 35 % of the photo
==========  ================================================================

The same hole-only metrics as the 128 px protocol (patch FD over all photographs' holes), plus
seconds per photograph.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image, ImageDraw

from model.baselines import OPENCV_BASELINES, run_baseline
from model.fillers import ClassicalFiller, Filler
from model.hole_samplers import ShapeBank, ellipse_blob
from model.realism import frechet_distance, patch_features, patch_grid
from model.tools.eval_grids import grid_picks, show_hole
from model.tools.eval_scores import Evaluation, concat_scores, hole_sharpness, score, summarise

log = logging.getLogger("model.tools.fullres")

FULLRES_KINDS = ("objects", "strokes", "blobs")
CROP = 160  # px: the grid shows the fill at 1:1 around the hole

# one whole photograph: (H, W, 3) uint8 and (H, W) bool hole -> (H, W, 3) uint8
PhotoMethod = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _place(piece: np.ndarray, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    ph, pw = min(piece.shape[0], h), min(piece.shape[1], w)
    mask = np.zeros((h, w), bool)
    y, x = int(rng.integers(0, h - ph + 1)), int(rng.integers(0, w - pw + 1))
    mask[y : y + ph, x : x + pw] = piece[:ph, :pw]
    return mask


def _scaled(shape: np.ndarray, area: float) -> np.ndarray:
    factor = np.sqrt(area / max(1, shape.sum()))
    size = (max(2, round(shape.shape[1] * factor)), max(2, round(shape.shape[0] * factor)))
    return np.asarray(Image.fromarray(shape.astype(np.uint8) * 255).resize(size, Image.Resampling.NEAREST)) > 127


def _ellipses(rng: np.random.Generator, side: int) -> np.ndarray:
    return ellipse_blob(rng, side, count=(4, 9), radius=(0.15, 0.32), walk=0.12, keep=(0.3, 0.7))


def objects_mask(rng: np.random.Generator, h: int, w: int, shapes: ShapeBank | None) -> np.ndarray:
    """One object silhouette scaled to a random 5-25 % of the photo."""
    target = rng.uniform(0.05, 0.25) * h * w
    for _ in range(20):
        shape = shapes.shapes[int(rng.integers(len(shapes)))] if shapes is not None else _ellipses(rng, 64)
        piece = _scaled(shape, target)
        if piece.shape[0] <= h and piece.shape[1] <= w:
            return _place(piece, h, w, rng)
    return _place(piece, h, w, rng)


def blobs_mask(rng: np.random.Generator, h: int, w: int, shapes: ShapeBank | None = None) -> np.ndarray:
    """One big blob covering a random 25-35 % of the photo."""
    target = rng.uniform(0.25, 0.35) * h * w
    piece = _scaled(_ellipses(rng, 256), target)
    return _place(piece, h, w, rng)


def strokes_mask(rng: np.random.Generator, h: int, w: int, shapes: ShapeBank | None = None) -> np.ndarray:
    """One to three long gently curved strokes, 4-16 px wide, across the photo."""
    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    span = max(h, w)
    for _ in range(int(rng.integers(1, 4))):
        width = int(rng.integers(4, 17))
        angle = rng.uniform(0, np.pi)
        centre = np.array([rng.uniform(0.25, 0.75) * w, rng.uniform(0.25, 0.75) * h])
        direction = np.array([np.cos(angle), np.sin(angle)])
        normal = np.array([-direction[1], direction[0]])
        bend = rng.normal(0, 0.08 * span)
        points = [tuple(centre + t * span * direction + (1 - t * t) * bend * normal) for t in np.linspace(-1, 1, 17)]
        draw.line([(float(x), float(y)) for x, y in points], fill=255, width=width, joint="curve")
    return np.asarray(img) > 127


MASKERS: dict[str, Callable[..., np.ndarray]] = {
    "objects": objects_mask,
    "strokes": strokes_mask,
    "blobs": blobs_mask,
}


def fullres_mask(kind: str, index: int, h: int, w: int, seed: int, shapes: ShapeBank | None) -> np.ndarray:
    """The hole for image ``index`` of a set: seeded by (seed, kind, index), so every method and
    every rerun sees the same hole."""
    rng = np.random.default_rng([seed, zlib.crc32(kind.encode()), index])
    return MASKERS[kind](rng, h, w, shapes)


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


def model_photo_method(filler: Filler) -> PhotoMethod:
    """The server's path: the filler's prepare / run / finish on the whole photo."""
    return filler.fill


def baseline_photo_method(name: str, mean_colour: Sequence[float]) -> PhotoMethod:
    """OpenCV's cv2.inpaint fillers as the server runs them; the others (the mean fill, the
    xphoto fillers, the blurred-truth reference) directly on the whole photo."""
    if name in OPENCV_BASELINES:
        return model_photo_method(ClassicalFiller(name))
    return lambda image, hole: run_baseline(name, image[None], hole[None], mean_colour)[0]


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
    scores = {}
    for name, parts in per_method.items():
        scores[name] = summarise(concat_scores(parts))
        scores[name]["patch_fd"] = frechet_distance(np.concatenate(patches[name]), truth_features)
        scores[name]["seconds"] = seconds[name] / len(photos)
    grid = [np.stack(col) for col in columns] if rows else []
    return Evaluation(
        set_name,
        kind,
        len(photos),
        float(np.mean(fractions)),
        float(np.mean(truth_sharp)),
        scores,
        dict(kinds),
        grid,
        len(truth_features),
    )
