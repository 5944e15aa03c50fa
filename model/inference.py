"""Inpaint full-resolution photographs of any size with a 128x128 generator.

Windows are chosen by how *thick* each hole is, not how long: the generator fills holes up to
about ``THICKNESS`` network pixels from their nearest known pixel well, so a hole is shrunk
only as much as its thickness needs.

- A compact hole (a blob, a speck) gets one square window around it, twice its extent,
  shrunk so the hole is at most ``THICKNESS`` px deep in the window.
- An elongated hole (a wire, a scribble, most object silhouettes) is covered by windows of
  that scale tiled along it: one centred on its pixels in each cell of a grid 3/4 of a window
  apart, so a stroke runs through the middle of its windows; each hole pixel is the blend of
  the windows around it with trapezoid weights, normalised, so tiles meet without seams.
  Windows the others already cover are dropped (a wire then costs one window per 3/4 window
  of its length). A thin stroke is therefore filled at native resolution.
- A hole whose surroundings are one smooth surface (flat, a ramp, a vignette) gets no window:
  it is filled with that surface (``model.smooth_holes``).

All windows of one or several images go through the generator as one batch. Only hole pixels
are written, and only from the generator's output: nothing of the erased pixels survives
inside the mask, and pixels outside it never change.

The work is split in three phases (``prepare`` -> ``InpaintModel.fill`` -> ``finish``) so the
server can micro-batch windows of concurrent requests into one generator call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image
from scipy import ndimage

from model.baselines import telea_prefill
from model.data import to_unit_range
from model.export import GeneratorMeta, build_generator, read_export
from model.fused import InferenceGenerator, fuse_for_inference
from model.holes import count_holes, hole_box
from model.networks import count_parameters, generator_input
from model.smooth_holes import SmoothHole, smooth_surface

CLUSTER_GAP = 8  # holes closer than this (px) count as one when limiting holes per request
THICKNESS = 32.0  # deepest hole pixel, in network pixels, a window is shrunk to at most (the central square)
# a hole at most this many thickness-sized windows long gets one window of twice its extent
# (measured on Kodak objects: tiling beats one big window for anything longer); a longer one is tiled
COMPACT = 0.75
CONTEXT = 2.0  # a compact hole's window side, in multiples of its extent
# holes at most this deep (lines and specks 1-2 px wide) are filled by Telea alone: the generator
# has nothing to add there, and a hairline across a big photo would cost hundreds of windows
HAIRLINE_DEPTH = 1.5
MAX_WINDOWS = 384  # per image; beyond it elongated holes are tiled at a coarser scale
MIN_COVER = 0.5  # total window weight every hole pixel keeps when redundant grid windows are dropped
MAX_ASPECT = 64  # images longer than this many times their width (or height) are refused
# windows per forward pass on a CPU: 21 windows (the 1,536 px wire) ran in 305-350 ms as one
# pass of 21 and 250-290 ms in passes of 8-16 (2 cores; the activations of a big pass spill
# out of the caches), so a batcher may gather many windows but the network sees a few at once
CPU_CHUNK = 8
BLEND_BAND = 1 << 20  # pixels of one window that finish resamples and blends at once


class PlanningError(ValueError):
    """The mask or image cannot be planned into generator windows (a client error)."""


@dataclass
class InpaintModel:
    """A loaded generator ready for inference."""

    generator: InferenceGenerator
    meta: GeneratorMeta
    path: Path
    parameters: int  # of the trained network (the inference form stores its decoder 4x)
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    max_batch: int = 16  # windows one fill call should take at most (what a batcher gathers)
    chunk: int = CPU_CHUNK  # windows per forward pass

    @property
    def size(self) -> int:
        return self.generator.config.image_size

    @property
    def refines(self) -> bool:
        """A native-scale refiner (``model.refine``): its windows arrive with the hole already
        filled by a coarse generator, so they are not pre-filled by Telea."""
        return self.meta.training.get("input") == "coarse"

    @property
    def window_channels(self) -> int:
        """Channels of the windows it reads: 3 (RGB); a refiner trained with ``--hint`` also the
        detail hint (4), with ``--mirror`` also the mirror fill's RGB (7)."""
        return max(3, self.generator.config.in_channels - 1) if self.refines else 3

    def fill(self, windows: np.ndarray, holes: np.ndarray) -> np.ndarray:
        """Run the generator on (N, S, S, 3) uint8 windows with (N, S, S) bool holes, chunk by
        chunk in this thread (a refiner's windows may carry more: ``window_channels``).

        Returns (N, S, S, 3) uint8 generator outputs (the whole window, not yet composited).
        What was under the holes is never read: the input is built from the known pixels only.
        """
        if len(windows) == 0:
            return windows[..., :3].copy()
        return np.concatenate([self.fill_chunk(pixels, hole) for pixels, hole in self.chunks(windows, holes)])

    def chunk_size(self, most: int | None = None) -> int:
        """Windows in one forward pass: ``chunk``, or ``most`` when that is smaller (a caller
        that wants shorter passes)."""
        return min(self.chunk, most or self.chunk)

    def chunks(
        self, windows: np.ndarray, holes: np.ndarray, most: int | None = None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """The windows and holes cut into forward passes of ``chunk_size(most)`` windows."""
        size = self.chunk_size(most)
        return [(windows[i : i + size], holes[i : i + size]) for i in range(0, len(windows), size)]

    @torch.inference_mode()
    def fill_chunk(self, pixels: np.ndarray, hole: np.ndarray) -> np.ndarray:
        """One forward pass: ``fill`` for windows that fit one chunk."""
        cfg = self.generator.config
        h = torch.from_numpy(np.ascontiguousarray(hole)).to(self.device).unsqueeze(1).float()
        if cfg.in_channels >= 4:
            # the pre-fill keeps every known pixel, so it already is generator_input's RGB part.
            # It stays here, in the compute thread, though it is OpenCV work: pre-filling in the
            # caller's (batcher) thread instead measured no faster for the wire and slower for a
            # light request beside two heavy ones (p50 62-69 vs 61-62 ms, 130-153 vs 127-129 ms
            # at 4 clients): on 2 cores that thread steals a core from the forward pass's OpenMP
            # team, and the heavy lane's pauses no longer cover its pre-fill.
            # A refiner's windows carry the coarse fill and maybe the detail hint and mirror fill.
            filled = pixels[..., :3] if self.refines else telea_prefill(pixels, hole)
            reads = self.window_channels
            extra = [_to_unit(pixels[..., 3:reads], self.device)] if reads > 3 else []
            inp = torch.cat([_to_unit(filled, self.device), h, *extra], dim=1)
        else:
            mean = torch.tensor(self.meta.mean_colour, device=self.device) * 2 - 1
            inp = generator_input(_to_unit(pixels[..., :3], self.device), h, cfg, mean, None)
        y = self.generator(inp.contiguous(memory_format=torch.channels_last)).float()
        return ((y.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()


def _to_unit(pixels: np.ndarray, device: torch.device) -> torch.Tensor:
    return to_unit_range(torch.from_numpy(np.ascontiguousarray(pixels)).to(device))


def load_generator(path: str | Path, device: str | torch.device = "cpu", max_batch: int = 16) -> InpaintModel:
    """Load an fp16 export (``weights_only=True``) as a float32 eval-mode generator for fill
    calls of at most ``max_batch`` windows, run ``CPU_CHUNK`` at a time on a CPU (all at once on
    a GPU)."""
    path = Path(path)
    generator, meta = build_generator(read_export(path))
    dev = torch.device(device)
    parameters = count_parameters(generator)
    generator = fuse_for_inference(generator).to(dev).to(memory_format=torch.channels_last)
    chunk = min(max_batch, CPU_CHUNK) if dev.type == "cpu" else max_batch
    return InpaintModel(generator, meta, path, parameters, dev, max_batch, chunk)


def _refuse_scattered(mask: np.ndarray, holes: int, max_holes: int) -> None:
    """Refuse (``PlanningError``) a mask whose ``holes`` separate holes are still more than
    ``max_holes`` once holes closer than ``CLUSTER_GAP`` px are merged: each costs windows, and
    a speckle of thousands of dots is almost always a wrong mask (a photo sent as the mask)."""
    clusters = count_holes(ndimage.binary_dilation(mask, iterations=CLUSTER_GAP))
    if clusters > max_holes:
        raise PlanningError(
            f"mask has {holes} separate holes ({clusters} after merging close ones); "
            f"at most {max_holes} per image: merge nearby strokes or fill in several passes"
        )


@dataclass
class Window:
    """One square context window and the hole pixels it fills.

    The square (``top``, ``left``, ``side``) may reach past the image; ``box`` is the part
    inside the image (its context). ``weight`` says how much of each hole pixel this window
    fills and covers only ``part``, the box's rectangle around those pixels: a window twice a
    big hole's extent then holds, and later resamples, the hole's area, not the window's.
    """

    top: int
    left: int
    side: int
    box: tuple[int, int, int, int]  # y0, y1, x0, x1: the square clipped to the image
    part: tuple[int, int, int, int]  # y0, y1, x0, x1 inside box: where weight is
    weight: np.ndarray  # (part's height, part's width) float32, > 0 on the hole pixels it fills


@dataclass
class InpaintJob:
    """An image prepared for the generator: windows resized to the network size."""

    image: np.ndarray  # (H, W, 3) uint8
    mask: np.ndarray  # (H, W) bool
    windows: list[Window]
    inputs: np.ndarray  # (N, S, S, 3) uint8
    holes: np.ndarray  # (N, S, S) bool
    separate_holes: int  # 8-connected holes in ``mask``, counted by the planner's labelling
    smooth: list[SmoothHole] = field(default_factory=list)  # holes in smooth surroundings: no window


def _clipped_box(top: int, left: int, side: int, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """The part of a square window inside an image of ``shape``: (y0, y1, x0, x1)."""
    h, w = shape
    return max(0, top), min(h, top + side), max(0, left), min(w, left + side)


def _ramp(length: int, start: int, centre: float, half: int, ramp: int) -> np.ndarray:
    """Trapezoid weights for pixels start..start+length: 1 within ``half - ramp`` px of
    ``centre``, falling linearly to 0 at ``half`` px. Neighbours ``2 * half - ramp`` apart sum
    to exactly one, so tiles blend without seams while overlapping only by ``ramp``."""
    pos = np.arange(start, start + length, dtype=np.float32) + 0.5
    return np.clip((half - np.abs(pos - centre)) / ramp, 0, 1)


def plan_windows(
    mask: np.ndarray, size: int = 128, max_windows: int = MAX_WINDOWS, max_holes: int | None = None
) -> list[Window]:
    """Windows whose weights total at least ``MIN_COVER`` on every hole pixel and nothing
    outside the holes (see the module docstring); a mask of more than ``max_holes`` separate
    holes, counted on the same labelling, is refused unless close ones merge below it."""
    return _plan(mask, size, max_windows, max_holes)[0]


def _plan(
    mask: np.ndarray, size: int, max_windows: int, max_holes: int | None, image: np.ndarray | None = None
) -> tuple[list[Window], int, list[SmoothHole]]:
    """``plan_windows``'s windows, the number of separate holes its labelling found (so that
    nothing labels the mask a second time to count them) and, given the ``image``, the holes in
    smooth surroundings, which get no window (``model.smooth_holes``)."""
    # label and measure depth only around the holes (1 px of known ring keeps depths exact):
    # a wire across a photo touches a sixth of its rows
    crop = hole_box(mask, margin=1)
    if crop is None:
        return [], 0, []
    h, w = mask.shape
    if max(h, w) > MAX_ASPECT * min(h, w):
        raise PlanningError(f"image is {w}x{h}: sides more than {MAX_ASPECT}:1 apart cannot be inpainted")
    binary = mask[crop].astype(np.uint8)
    count, labels, stats = label_in_box(binary, crop, mask.shape)
    if max_holes is not None and count - 1 > max_holes:
        _refuse_scattered(mask, count - 1, max_holes)
    longest = max(h, w, size)
    depth = np.zeros(mask.shape, np.float32)
    depth[crop] = cv2.distanceTransform(binary, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    windows: list[Window] = []
    smooth: list[SmoothHole] = []
    tiled: dict[int, list[int]] = {}  # grid side -> labels of elongated holes tiled at it
    for index in range(1, count):
        x, y, bw, bh = (int(v) for v in stats[index, :4])
        box = (slice(y, y + bh), slice(x, x + bw))
        component = labels[box] == index
        radius = float(depth[box][component].max())
        if radius <= HAIRLINE_DEPTH:
            continue  # finish fills it with Telea
        if image is not None and (surface := smooth_surface(image, mask, component, (y, y + bh, x, x + bw))):
            smooth.append(surface)
            continue
        # shrink until the deepest pixel is THICKNESS network px from the context (at 128 px)
        thick_side = max(size, radius * 128 / THICKNESS)
        extent = max(bw, bh)
        if extent <= COMPACT * thick_side:
            side = math.ceil(min(longest, max(size, CONTEXT * extent, thick_side)))
            top, left = y + bh // 2 - side // 2, x + bw // 2 - side // 2
            y0, y1, x0, x1 = _clipped_box(top, left, side, mask.shape)
            part = (max(y, y0), min(y + bh, y1), max(x, x0), min(x + bw, x1))  # the hole inside the box
            weight = (labels[part[0] : part[1], part[2] : part[3]] == index).astype(np.float32)
            windows.append(Window(top, left, side, (y0, y1, x0, x1), part, weight))
        else:
            grid = size * 2 ** math.ceil(math.log2(thick_side / size) - 1e-9)
            tiled.setdefault(min(grid, _pow2_at_least(longest, size)), []).append(index)
    for grid, members in sorted(tiled.items()):
        windows += _prune(_tile(labels, stats, members, grid, longest, max_windows - len(windows)))
    return windows, count - 1, smooth


def label_in_box(
    binary: np.ndarray, crop: tuple[slice, slice], shape: tuple[int, int]
) -> tuple[int, np.ndarray, np.ndarray]:
    """8-connected components of ``binary``, the uint8 holes inside ``crop`` of an image of
    ``shape``: their count (background included), (H, W) int32 labels (calloc: pages far from
    the holes are never touched) and cv2's stats in image coordinates."""
    count, labels_crop, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8, ltype=cv2.CV_32S)
    stats[:, 0] += crop[1].start
    stats[:, 1] += crop[0].start
    labels = np.zeros(shape, np.int32)
    labels[crop] = labels_crop
    return count, labels, stats


def _prune(windows: list[Window]) -> list[Window]:
    """Drop windows that the others already cover: a stroke crossing the grid between two rows
    of corner points gets half its weight from each row, and the windows centred on it fill it
    alone as well (``finish`` normalises the weights). A window goes, weakest first (a corner
    window before a centred one of equal weight), when every hole pixel it fills keeps a total
    weight of at least ``MIN_COVER`` from the rest, so each pixel still sits at least a
    quarter-ramp inside some window."""
    if len(windows) < 2:
        return windows
    y0 = min(w.part[0] for w in windows)
    x0 = min(w.part[2] for w in windows)
    cover = np.zeros((max(w.part[1] for w in windows) - y0, max(w.part[3] for w in windows) - x0), np.float32)
    spots = []
    for win in windows:
        ys, xs = np.nonzero(win.weight)
        spots.append((ys + win.part[0] - y0, xs + win.part[2] - x0, win.weight[ys, xs]))
        cover[spots[-1][0], spots[-1][1]] += spots[-1][2]
    keep = [True] * len(windows)
    # weakest first; among equals the later (the grid corners, after the centred windows)
    for i in sorted(range(len(windows)), key=lambda i: (float(spots[i][2].sum()), -i)):
        ys, xs, weight = spots[i]
        if (cover[ys, xs] - weight >= MIN_COVER).all():
            cover[ys, xs] -= weight
            keep[i] = False
    return [win for win, kept in zip(windows, keep, strict=True) if kept]


def _pow2_at_least(length: int, size: int) -> int:
    return size * 2 ** math.ceil(math.log2(max(1.0, length / size)))


def _tile(
    labels: np.ndarray, stats: np.ndarray, members: list[int], side: int, longest: int, budget: int
) -> list[Window]:
    """Windows of ``side`` covering the holes ``members``: one centred on the hole pixels of
    each cell of a grid 3/4 of a window apart (a wire sits in the middle of its windows, one
    per cell along it), plus the grid's own corner points, which cover every hole pixel by
    construction and which ``_prune`` then drops wherever the centred ones suffice. Coarser
    grids while the count exceeds ``budget`` (bounded cost for any mask)."""
    points = []
    for index in members:
        x, y, bw, bh = (int(v) for v in stats[index, :4])
        ys, xs = np.nonzero(labels[y : y + bh, x : x + bw] == index)
        points.append(np.stack([ys + y, xs + x], axis=1))
    pixels = np.concatenate(points)
    wanted = np.array(members, dtype=labels.dtype)
    while True:
        half, step = side // 2, side * 3 // 4
        columns = labels.shape[1] // step + 2  # above any cell's column, corners included
        cells, cell_of = _unique_rows(pixels // step, columns)
        around = np.concatenate([cells + d for d in ((0, 0), (0, 1), (1, 0), (1, 1))])
        corners = _unique_rows(around, columns)[0] * step
        if len(corners) + len(cells) <= max(budget, 4) or side >= 2 * longest:
            break
        side *= 2
    low = np.full((len(cells), 2), np.iinfo(np.int64).max, np.int64)
    high = np.full((len(cells), 2), -1, np.int64)
    np.minimum.at(low, cell_of.ravel(), pixels)
    np.maximum.at(high, cell_of.ravel(), pixels)
    windows = []
    for cy, cx in np.concatenate([(low + high + 1) // 2, corners]):
        top, left = int(cy) - half, int(cx) - half
        y0, y1, x0, x1 = _clipped_box(top, left, side, labels.shape)
        if y0 >= y1 or x0 >= x1:
            continue
        own = np.isin(labels[y0:y1, x0:x1], wanted)
        if not own.any():
            continue
        ramp = side - step
        weight = np.outer(_ramp(y1 - y0, y0, top + half, half, ramp), _ramp(x1 - x0, x0, left + half, half, ramp))
        weight *= own
        rows, columns = np.flatnonzero(weight.any(axis=1)), np.flatnonzero(weight.any(axis=0))
        if len(rows):
            r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(columns[0]), int(columns[-1]) + 1
            part = (y0 + r0, y0 + r1, x0 + c0, x0 + c1)
            windows.append(Window(top, left, side, (y0, y1, x0, x1), part, weight[r0:r1, c0:c1].astype(np.float32)))
    return windows


def _unique_rows(cells: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(cells, axis=0, return_inverse=True)`` for (N, 2) non-negative cells whose
    column is below ``columns``, sorted the same way: one int64 key per row sorts 5x faster."""
    unique, inverse = np.unique(cells[:, 0].astype(np.int64) * columns + cells[:, 1], return_inverse=True)
    return np.stack([unique // columns, unique % columns], axis=1), inverse


def _to_network(array: np.ndarray, win: Window, size: int, interpolation: int, dtype: type | None = None) -> np.ndarray:
    """The window's square of ``array`` at ``size`` x ``size``; past the image, edges repeat.

    Only the part inside the image is resized (memory bounded by the image, not the square),
    converted to ``dtype`` first if given (only the window's crop is ever converted).
    """
    y0, y1, x0, x1 = win.box
    f = size / win.side
    crop = array[y0:y1, x0:x1] if dtype is None else array[y0:y1, x0:x1].astype(dtype)
    hs, ws = max(1, round((y1 - y0) * f)), max(1, round((x1 - x0) * f))
    small = crop if (hs, ws) == crop.shape[:2] else cv2.resize(crop, (ws, hs), interpolation=interpolation)
    oy, ox = min(size - hs, round((y0 - win.top) * f)), min(size - ws, round((x0 - win.left) * f))
    pads = [(oy, size - hs - oy), (ox, size - ws - ox)] + [(0, 0)] * (array.ndim - 2)
    return np.pad(small, pads, mode="edge") if any(p for pair in pads for p in pair) else small


def prepare(
    image: Image.Image | np.ndarray, mask: np.ndarray, size: int = 128, max_holes: int | None = None
) -> InpaintJob:
    """Cut and resize the context windows of ``image`` (any size; (H, W, 3) uint8 RGB or a PIL
    image) for a ``size`` generator; ``max_holes`` as in ``plan_windows``."""
    rgb = np.asarray(image.convert("RGB") if isinstance(image, Image.Image) else image, dtype=np.uint8)
    if mask.shape != rgb.shape[:2]:
        raise PlanningError(f"mask is {mask.shape[1]}x{mask.shape[0]}, image is {rgb.shape[1]}x{rgb.shape[0]}")
    windows, separate_holes, smooth = _plan(mask, size, MAX_WINDOWS, max_holes, rgb)
    inputs = np.zeros((len(windows), size, size, 3), np.uint8)
    holes = np.zeros((len(windows), size, size), bool)
    for i, win in enumerate(windows):
        inputs[i] = _to_network(rgb, win, size, cv2.INTER_AREA)
        # a network pixel even partly over any hole is hole: no erased colour reaches the input
        holes[i] = _to_network(mask, win, size, cv2.INTER_AREA, np.float32) > 0
    return InpaintJob(rgb, mask, windows, inputs, holes, separate_holes, smooth)


def _from_network(out: np.ndarray, win: Window, part: tuple[int, int, int, int]) -> np.ndarray:
    """The generator output resized back over ``part`` (y0, y1, x0, x1, image coordinates inside
    the window's box; float32): only the pixels the window fills are resampled, so a window
    twice a big hole's extent costs the hole's area, not the window's."""
    y0, y1, x0, x1 = part
    if win.side == out.shape[0]:
        return out[y0 - win.top : y1 - win.top, x0 - win.left : x1 - win.left].astype(np.float32)
    f = out.shape[0] / win.side
    # output pixel u covers image pixels around top + (u + 0.5) / f - 0.5
    affine = np.array([[f, 0, (x0 - win.left + 0.5) * f - 0.5], [0, f, (y0 - win.top + 0.5) * f - 0.5]])
    return cv2.warpAffine(
        out.astype(np.float32),
        affine,
        (x1 - x0, y1 - y0),
        flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )


def _telea_at(job: InpaintJob, ys: np.ndarray, xs: np.ndarray, margin: int = 8) -> np.ndarray:
    """Full-resolution Telea values at hole pixels (ys, xs), computed only in their bounding box
    plus a margin (Telea reads a few px of context). The whole mask is unknown to Telea, so no
    erased pixel can leak in."""
    y0, y1 = max(0, ys.min() - margin), ys.max() + 1 + margin
    x0, x1 = max(0, xs.min() - margin), xs.max() + 1 + margin
    crop = telea_prefill(job.image[None, y0:y1, x0:x1], job.mask[None, y0:y1, x0:x1])[0]
    return crop[ys - y0, xs - x0]


def _positions(flat: np.ndarray, pixels: np.ndarray) -> np.ndarray | slice:
    """Where the sorted ``pixels`` (flat indices, all in ``flat``) sit in ``flat``: a slice when
    they are a run of it, as a window over a whole blob gives, which numpy adds to many times
    faster than to a gather of indices."""
    start = int(np.searchsorted(flat, pixels[0]))
    run = flat[start : start + len(pixels)]
    if len(run) == len(pixels) and np.array_equal(run, pixels):
        return slice(start, start + len(pixels))
    return np.searchsorted(flat, pixels)


def finish(job: InpaintJob, outputs: np.ndarray) -> np.ndarray:
    """Blend the windows' outputs into the hole pixels; (H, W, 3) uint8, exact outside the mask.

    Holes in smooth surroundings get their surface; hole pixels nothing else took (hairlines
    and specks) get Telea's fill. Working memory is the hole's pixels plus one band of
    ``BLEND_BAND`` pixels of a window at a time.
    """
    width = job.mask.shape[1]
    flat = np.flatnonzero(job.mask)  # hole pixels in row-major order
    total = np.zeros((len(flat), 3), np.float32)
    weights = np.zeros(len(flat), np.float32)
    for win, out in zip(job.windows, outputs, strict=True):
        py0, py1, px0, px1 = win.part
        rows = max(1, BLEND_BAND // (px1 - px0))
        for r0 in range(py0, py1, rows):
            r1 = min(py1, r0 + rows)
            band = win.weight[r0 - py0 : r1 - py0]
            taken = band != 0
            spots = np.flatnonzero(taken)
            if not len(spots):
                continue
            wy, wx = np.divmod(spots, px1 - px0)
            idx = _positions(flat, (wy + r0) * width + wx + px0)
            w = band[taken]
            total[idx] += _from_network(out, win, (r0, r1, px0, px1))[taken] * w[:, None]
            weights[idx] += w
    for surface in job.smooth:
        idx = _positions(flat, surface.pixels(width))
        total[idx] = surface.values()
        weights[idx] = 1.0
    total /= np.maximum(weights, 1e-6)[:, None]
    np.clip(np.rint(total, out=total), 0, 255, out=total)
    result = job.image.copy()
    result.reshape(-1, 3)[flat] = total
    hairline = weights == 0
    if hairline.any():
        ys, xs = np.divmod(flat[hairline], width)
        result[ys, xs] = _telea_at(job, ys, xs)
    return result
