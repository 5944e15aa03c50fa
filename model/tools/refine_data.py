"""Training examples for the native-scale refiner (``ce-train --input coarse``).

Each example is what ``model.refine`` hands the refiner at inference: a native ``size`` px tile
of a photograph at its own resolution whose hole was filled by the coarse generator in a shrunk
window, with the part of the hole to repaint and the photograph's own pixels as the truth. The
coarse fills are made by the real inference path (``prepare`` -> ``fill`` -> ``finish``) on
object silhouettes and big blobs drawn as the full-resolution evaluation draws them, so the
refiner learns on exactly the fills it will be given. Made once per run folder's cache.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from model.eval.holes import blobs_mask, objects_mask
from model.files import atomic_open, sha256_of
from model.hole_samplers import ShapeBank
from model.inference import InpaintModel, _to_network, finish, prepare
from model.refine import WINDOW_CHANNELS, coarse_share, refinement_job

log = logging.getLogger(__name__)

HOLES_PER_PHOTO = 4  # drawn holes per photograph, alternately an object silhouette and a blob
TILES_PER_HOLE = 4  # refinement windows kept per hole (at random)
LAYOUT = "rgb+hint+mirror v3"  # what a cached tile holds: a new value (a new hint) makes new caches


@dataclass
class RefinementExamples:
    """(N, S, S, 3) uint8 truths, (N, S, S, 7) coarse fills with their detail hint and mirror
    fill (what the refiner's windows hold at inference), (N, S, S) bool holes to repaint."""

    truth: np.ndarray
    coarse: np.ndarray
    hole: np.ndarray

    def __len__(self) -> int:
        return len(self.truth)


def photo_examples(
    photo: np.ndarray, coarse: InpaintModel, shapes: ShapeBank | None, rng: np.random.Generator
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(truth, coarse fill, hole) tiles of ``HOLES_PER_PHOTO`` holes in one (H, W, 3) photo."""
    h, w = photo.shape[:2]
    out = []
    for k in range(HOLES_PER_PHOTO):
        mask = objects_mask(rng, h, w, shapes) if k % 2 == 0 else blobs_mask(rng, h, w)
        job = prepare(photo, mask, coarse.size)
        region = coarse_share(job)
        if not region.any():
            continue  # filled at (almost) native scale already: nothing for the refiner
        filled = finish(job, coarse.fill(job.inputs, job.holes))
        second = refinement_job(filled, mask, region, coarse.size)
        for i in rng.permutation(len(second.windows))[:TILES_PER_HOLE]:
            truth = _to_network(photo, second.windows[i], coarse.size, cv2.INTER_AREA)
            out.append((truth, second.inputs[i], second.holes[i]))
    return out


def refinement_examples(
    files: Sequence[Path], coarse: InpaintModel, shapes: ShapeBank | None, seed: int
) -> RefinementExamples:
    """Examples from every readable photograph in ``files`` (seeded per file)."""
    tiles: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for index, path in enumerate(files):
        try:
            with Image.open(path) as im:
                photo = np.asarray(im.convert("RGB"))
        except OSError as exc:
            log.warning("skipping unreadable photograph %s: %s", path, exc)
            continue
        tiles += photo_examples(photo, coarse, shapes, np.random.default_rng([seed, index]))
    size = coarse.size
    if not tiles:
        empty = np.zeros((0, size, size, 3), np.uint8)
        return RefinementExamples(
            empty, np.zeros((0, size, size, WINDOW_CHANNELS), np.uint8), np.zeros((0, size, size), bool)
        )
    truth, filled, hole = (np.stack(parts) for parts in zip(*tiles, strict=True))
    return RefinementExamples(truth, filled, hole)


def _cache_key(files: Sequence[Path], coarse: InpaintModel, seed: int) -> str:
    """The coarse export's content, and every photograph's path and content (as the photo
    cache's key: ``model.data``), with the draw's settings."""
    digest = hashlib.sha256(sha256_of(coarse.path).encode())
    for f in files:
        digest.update(f"{f.resolve()}|{sha256_of(f)}\n".encode())
    digest.update(f"{seed} {HOLES_PER_PHOTO} {TILES_PER_HOLE} {LAYOUT}".encode())
    return digest.hexdigest()[:16]


def cached_refinement_examples(
    files: Sequence[Path], coarse: InpaintModel, shapes: ShapeBank | None, seed: int, cache_dir: Path
) -> RefinementExamples:
    """``refinement_examples``, made once and kept in ``cache_dir`` (the coarse fills of a few
    hundred photographs take minutes on a CPU)."""
    path = cache_dir / f"refine-{_cache_key(files, coarse, seed)}.npz"
    if path.is_file():
        with np.load(path) as saved:
            return RefinementExamples(saved["truth"], saved["coarse"], saved["hole"])
    examples = refinement_examples(files, coarse, shapes, seed)
    cache_dir.mkdir(parents=True, exist_ok=True)
    with atomic_open(path) as fh:
        np.savez(fh, truth=examples.truth, coarse=examples.coarse, hole=examples.hole)
    log.info("refinement examples: %d tiles from %d photographs -> %s", len(examples), len(files), path)
    return examples
