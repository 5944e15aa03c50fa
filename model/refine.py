"""A second pass at the photo's own scale over the parts of holes filled in shrunk windows.

A big hole is filled in a window shrunk by up to several times and scaled back, so even a sharp
generator returns a soft interior at 100 % zoom. The refiner, a generator of the same design
trained on native-resolution tiles (``model.tools.refine_data``), takes the upsampled coarse
fill as its pre-fill instead of Telea's and paints the detail the shrunk window could not hold.

Only hole pixels whose fill came mostly from windows shrunk by more than ``SHRINK`` are
refined, with native ``size`` px windows tiled over them (``model.inference``'s tiling and
blending); pixels outside that part of the hole keep the coarse fill, pixels outside the hole
never change, and the refiner sees nothing of what was erased, only the coarse fill, a map of
how much detail the context around the hole holds (``model.detail_hint``), which tells a tile
deep inside a big hole whether to paint a sky or grass, and the context mirrored into the hole
(``model.mirror_fill``), whose texture it can take instead of inventing one.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from model.detail_hint import detail_hint
from model.holes import hole_box
from model.inference import (
    MAX_WINDOWS,
    InpaintJob,
    InpaintModel,
    Window,
    _prune,
    _tile,
    _to_network,
    finish,
    label_in_box,
)
from model.mirror_fill import mirror_fill

SHRINK = 1.5  # windows shrunk by more than this fill their holes too coarsely for 100 % zoom
WINDOW_CHANNELS = 7  # coarse fill RGB, detail hint, mirror fill RGB: what training tiles hold


def coarse_share(job: InpaintJob, shrink: float = SHRINK) -> np.ndarray:
    """(H, W) bool: hole pixels whose blend weight came mostly from windows whose side is more
    than ``shrink`` times the network size (``job.inputs``' side). Weights are summed only over
    the windows' parts, not over the whole photo."""
    region = np.zeros(job.mask.shape, bool)
    if not job.windows:
        return region
    size = job.inputs.shape[1]
    oy, ox = min(w.part[0] for w in job.windows), min(w.part[2] for w in job.windows)
    shape = (max(w.part[1] for w in job.windows) - oy, max(w.part[3] for w in job.windows) - ox)
    coarse, total = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
    for win in job.windows:
        y0, y1, x0, x1 = win.part
        total[y0 - oy : y1 - oy, x0 - ox : x1 - ox] += win.weight
        if win.side > shrink * size:
            coarse[y0 - oy : y1 - oy, x0 - ox : x1 - ox] += win.weight
    box = (slice(oy, oy + shape[0]), slice(ox, ox + shape[1]))
    region[box] = (coarse > 0.5 * total) & (total > 0) & job.mask[box]
    return region


def plan_refinement(region: np.ndarray, size: int, max_windows: int = MAX_WINDOWS) -> list[Window]:
    """Native ``size`` px windows tiled over ``region`` (bool), blended with trapezoid weights
    (``model.inference._tile``); coarser only when more than ``max_windows`` are needed. The
    region is labelled only inside its bounding box."""
    crop = hole_box(region)
    if crop is None:
        return []
    count, labels, stats = label_in_box(region[crop].astype(np.uint8), crop, region.shape)
    return _prune(_tile(labels, stats, list(range(1, count)), size, max(region.shape), max_windows))


def refinement_job(
    coarse: np.ndarray,
    mask: np.ndarray,
    region: np.ndarray,
    size: int,
    max_windows: int = MAX_WINDOWS,
    channels: int = WINDOW_CHANNELS,
) -> InpaintJob:
    """The refiner's windows over ``region`` of the coarse result ``coarse`` ((H, W, 3) uint8)
    of filling ``mask``: (N, size, size, ``channels``) inputs, the coarse fill, then the detail
    hint (4) and the mirror fill (7), both from the pixels outside ``mask`` only. A refiner
    that reads fewer gets fewer, and what it does not read is not computed."""
    if channels not in (3, 4, WINDOW_CHANNELS):
        raise ValueError(f"refinement windows hold 3, 4 or {WINDOW_CHANNELS} channels, not {channels}")
    windows = plan_refinement(region, size, max_windows)
    maps = []
    if channels > 3:
        maps.append(detail_hint(coarse, mask, region))
    if channels > 4:
        maps.append(mirror_fill(coarse, mask, region))
    inputs = np.zeros((len(windows), size, size, channels), np.uint8)
    holes = np.zeros((len(windows), size, size), bool)
    for i, win in enumerate(windows):
        inputs[i] = np.dstack([_to_network(m, win, size, cv2.INTER_AREA) for m in (coarse, *maps)])
        holes[i] = _to_network(region, win, size, cv2.INTER_AREA, np.float32) > 0
    return InpaintJob(coarse, region, windows, inputs, holes, separate_holes=0)


def refine(
    job: InpaintJob,
    coarse: np.ndarray,
    refiner: InpaintModel,
    fill: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """``coarse`` (``finish(job, ...)``'s result) with the coarsely filled part of its holes
    painted again at native scale by ``refiner``; everything else unchanged. ``fill`` runs the
    refiner's windows (default ``refiner.fill``, here; a server hands them to its compute thread)."""
    region = coarse_share(job)
    if not region.any():
        return coarse
    second = refinement_job(coarse, job.mask, region, refiner.size, channels=refiner.window_channels)
    return finish(second, (fill or refiner.fill)(second.inputs, second.holes))
