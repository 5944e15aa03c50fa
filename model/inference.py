"""Inpaint full-resolution photographs of any size with a 128x128 generator.

Each connected hole (nearby holes are clustered) gets a square context window about twice
its extent, resized to the network size; all windows of one or several images go through
the generator as one batch; each output is resized back and only the hole pixels are pasted,
with a soft edge that stays inside the hole (pixels outside the mask never change).

The work is split in three phases (``prepare`` -> ``InpaintModel.fill`` -> ``finish``) so the
server can micro-batch windows of concurrent requests into one generator call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from scipy import ndimage

from model.export import GeneratorMeta, build_generator, read_export
from model.networks import Generator, count_parameters

CLUSTER_GAP = 8  # holes closer than this (px) share a window
MIN_WINDOW = 32  # px; tiny holes still get some context
FEATHER = 3  # px of soft edge, inside the hole


@dataclass
class InpaintModel:
    """A loaded generator ready for inference."""

    generator: Generator
    meta: GeneratorMeta
    path: Path
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    max_batch: int = 16

    @property
    def size(self) -> int:
        return self.generator.config.image_size

    @property
    def parameters(self) -> int:
        return count_parameters(self.generator)

    @torch.inference_mode()
    def fill(self, windows: np.ndarray, holes: np.ndarray) -> np.ndarray:
        """Run the generator on (N, S, S, 3) uint8 windows with (N, S, S) bool holes.

        Returns (N, S, S, 3) uint8 generator outputs (the whole window, not yet composited).
        """
        if len(windows) == 0:
            return windows.copy()
        outs = []
        mean = torch.tensor(self.meta.mean_colour, device=self.device).view(1, 3, 1, 1) * 2 - 1
        for i in range(0, len(windows), self.max_batch):
            x = torch.from_numpy(np.ascontiguousarray(windows[i : i + self.max_batch])).to(self.device)
            x = x.permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
            h = torch.from_numpy(np.ascontiguousarray(holes[i : i + self.max_batch])).to(self.device)
            h = h.unsqueeze(1).float()
            x = (x * (1 - h) + mean * h).contiguous(memory_format=torch.channels_last)
            y = self.generator(x).float()
            outs.append(((y.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy())
        return np.concatenate(outs)


def load_generator(path: str | Path, device: str | torch.device = "cpu") -> InpaintModel:
    """Load an fp16 export (``weights_only=True``) as a float32 eval-mode generator."""
    path = Path(path)
    generator, meta = build_generator(read_export(path))
    dev = torch.device(device)
    generator = generator.to(dev).to(memory_format=torch.channels_last)
    return InpaintModel(generator, meta, path, dev)


def mask_from_image(mask: Image.Image) -> np.ndarray:
    """A painted mask as bool (True = fill): opaque pixels if it has transparency,
    else white (luminance > 127) pixels."""
    if mask.mode in ("RGBA", "LA", "PA") or (mask.mode == "P" and "transparency" in mask.info):
        return np.asarray(mask.convert("RGBA"))[..., 3] > 127
    return np.asarray(mask.convert("L")) > 127


@dataclass
class Window:
    """One square context window: where it sits in the image and which holes it fills."""

    top: int
    left: int
    side: int
    paste: np.ndarray  # (side, side) bool: hole pixels of this cluster, in window coordinates


@dataclass
class InpaintJob:
    """An image prepared for the generator: windows resized to the network size."""

    image: np.ndarray  # (H, W, 3) uint8
    mask: np.ndarray  # (H, W) bool
    windows: list[Window]
    inputs: np.ndarray  # (N, S, S, 3) uint8
    holes: np.ndarray  # (N, S, S) bool


def plan_windows(mask: np.ndarray, gap: int = CLUSTER_GAP, min_side: int = MIN_WINDOW) -> list[Window]:
    """Cluster the holes and give each cluster a square window ~2x its extent, centred on it."""
    if not mask.any():
        return []
    grown = ndimage.binary_dilation(mask, iterations=gap) if gap > 0 else mask
    labels, _ = ndimage.label(grown)
    windows = []
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        cluster = mask[box] & (labels[box] == index)
        ys, xs = np.nonzero(cluster)
        y0, y1 = box[0].start + ys.min(), box[0].start + ys.max() + 1
        x0, x1 = box[1].start + xs.min(), box[1].start + xs.max() + 1
        side = max(min_side, 2 * max(y1 - y0, x1 - x0))
        top = (y0 + y1) // 2 - side // 2
        left = (x0 + x1) // 2 - side // 2
        paste = np.zeros((side, side), dtype=bool)
        full = np.zeros_like(mask)
        full[box] = cluster
        paste[:] = _crop(full, top, left, side, fill_mode="constant")
        windows.append(Window(top, left, side, paste))
    return windows


def _crop(array: np.ndarray, top: int, left: int, side: int, fill_mode: str = "edge") -> np.ndarray:
    """A side x side crop that may reach past the image; outside pixels are padded."""
    h, w = array.shape[:2]
    pad_top, pad_left = max(0, -top), max(0, -left)
    pad_bottom, pad_right = max(0, top + side - h), max(0, left + side - w)
    crop = array[max(0, top) : min(h, top + side), max(0, left) : min(w, left + side)]
    if pad_top or pad_left or pad_bottom or pad_right:
        pads = [(pad_top, pad_bottom), (pad_left, pad_right)] + [(0, 0)] * (array.ndim - 2)
        crop = np.pad(crop, pads, mode=fill_mode)
    return crop


def prepare(image: Image.Image, mask: np.ndarray, size: int = 128) -> InpaintJob:
    """Cut and resize the context windows of ``image`` (any size) for a ``size`` generator."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    if mask.shape != rgb.shape[:2]:
        raise ValueError(f"mask is {mask.shape[1]}x{mask.shape[0]}, image is {rgb.shape[1]}x{rgb.shape[0]}")
    windows = plan_windows(mask)
    inputs = np.zeros((len(windows), size, size, 3), np.uint8)
    holes = np.zeros((len(windows), size, size), bool)
    for i, win in enumerate(windows):
        pixels = _crop(rgb, win.top, win.left, win.side)
        # every hole in the window is unknown to the network, not only this cluster's
        hole = _crop(mask, win.top, win.left, win.side, fill_mode="constant")
        inputs[i] = np.asarray(
            Image.fromarray(pixels).resize((size, size), Image.Resampling.BICUBIC, reducing_gap=None)
        )
        # a pixel even partly covered by the hole counts as hole, so no erased colour leaks in
        small = Image.fromarray(hole.astype(np.uint8) * 255).resize((size, size), Image.Resampling.BILINEAR)
        holes[i] = np.asarray(small) > 0
    return InpaintJob(rgb, mask, windows, inputs, holes)


def feather_alpha(paste: np.ndarray, feather: int = FEATHER) -> np.ndarray:
    """Blend weight: 1 deep inside the hole, ramping down towards its edge, 0 outside."""
    if feather <= 0:
        return paste.astype(np.float32)
    depth = ndimage.distance_transform_edt(paste)
    return np.clip((depth + 1) / (feather + 1), 0, 1).astype(np.float32) * paste


def finish(job: InpaintJob, outputs: np.ndarray, feather: int = FEATHER) -> np.ndarray:
    """Resize each window's output back and paste only its hole pixels; (H, W, 3) uint8."""
    result = job.image.astype(np.float32)
    h, w = job.mask.shape
    for win, out in zip(job.windows, outputs, strict=True):
        big = np.asarray(Image.fromarray(out).resize((win.side, win.side), Image.Resampling.BICUBIC), dtype=np.float32)
        alpha = feather_alpha(win.paste, feather)[..., None]
        y0, x0 = max(0, win.top), max(0, win.left)
        y1, x1 = min(h, win.top + win.side), min(w, win.left + win.side)
        wy, wx = y0 - win.top, x0 - win.left
        a = alpha[wy : wy + y1 - y0, wx : wx + x1 - x0]
        region = result[y0:y1, x0:x1]
        result[y0:y1, x0:x1] = region * (1 - a) + big[wy : wy + y1 - y0, wx : wx + x1 - x0] * a
    out = np.clip(np.round(result), 0, 255).astype(np.uint8)
    out[~job.mask] = job.image[~job.mask]  # exact: outside the mask nothing changes
    return out


def inpaint(
    image: Image.Image, mask: np.ndarray | Image.Image, model: InpaintModel, feather: int = FEATHER
) -> Image.Image:
    """Fill the masked pixels (True / white = fill) of ``image``; returns an RGB image of the
    same size in which only masked pixels differ."""
    hole = mask_from_image(mask) if isinstance(mask, Image.Image) else np.asarray(mask, dtype=bool)
    job = prepare(image, hole, model.size)
    outputs = model.fill(job.inputs, job.holes)
    return Image.fromarray(finish(job, outputs, feather))
