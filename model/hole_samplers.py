"""Synthetic hole masks, each drawn from a seeded ``numpy.random.Generator``.

A mask is a (size, size) bool array, True = hole (to be filled). Coverage bounds:

==========  ================================================================
center      exactly the central (size/2)^2 square: 25 %
block       several random rectangles, 3 % to 25 %
region      object silhouettes (or procedural blobs), 3 % to 25 %
freeform    brush strokes as people paint them, one brush per mask (2-18 px at
            128, most of them thin), 3 % to 40 %
strokes     1-3 long thin strokes (2-16 px) crossing the window, as a wire or a
            scratch looks in one window of a tiled full-resolution fill
irregular   ragged blobs, outlines and broken pieces gathered in one part of the
            window, like the occlusion masks of the NVIDIA irregular set, 3 % to 40 %
mixed       what inference windows hold: region 35 %, freeform 20 %, strokes 15 %,
            block 15 %, center 15 % of the draws (``--mix`` reweights them and can
            add irregular)
none        no hole (autoencoder pretext)
==========  ================================================================

Training draws its holes from these samplers (through ``model.tools.train_data.MaskPool``);
the evaluation's synthetic protocols draw from the same ones, so both see the same shapes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

MASK_TYPES = ("center", "block", "region", "freeform", "strokes", "irregular", "mixed", "none")
HOLE_KINDS = tuple(k for k in MASK_TYPES if k != "none")  # every type that has a hole to measure
CONSTANT_KINDS = ("center", "none")  # the same mask at every draw
# kinds drawn from object silhouettes when a folder of them is given ("objects" is the
# full-resolution protocol of model.eval.holes); the others never read it
SILHOUETTE_KINDS = ("region", "mixed", "objects")
MAX_REGION_COVERAGE = 0.25
MAX_FREEFORM_COVERAGE = 0.40
MIN_COVERAGE = 0.03
FREEFORM_STROKES = 20  # at most, until the mask's drawn coverage is reached

MaskFn = Callable[[np.random.Generator], np.ndarray]


def center_mask(rng: np.random.Generator | None = None, size: int = 128) -> np.ndarray:
    """The paper's protocol: the central (size/2)^2 square."""
    mask = np.zeros((size, size), dtype=bool)
    q = size // 4
    mask[q : size - q, q : size - q] = True
    return mask


def empty_mask(rng: np.random.Generator | None = None, size: int = 128) -> np.ndarray:
    return np.zeros((size, size), dtype=bool)


def _target_coverage(rng: np.random.Generator, high: float) -> float:
    return float(rng.uniform(MIN_COVERAGE * 2, high))


def block_mask(rng: np.random.Generator, size: int = 128) -> np.ndarray:
    """Random axis-aligned rectangles added until a random coverage (<= 1/4) is reached."""

    def add_rectangle(mask: np.ndarray) -> np.ndarray:
        h, w = rng.integers(size // 16, size // 3, size=2)
        y, x = rng.integers(0, size - h), rng.integers(0, size - w)
        trial = mask.copy()
        trial[y : y + h, x : x + w] = True
        return trial

    return _grow(add_rectangle, rng, size, tries=64)


def _grow(add_piece: Callable[[np.ndarray], np.ndarray], rng: np.random.Generator, size: int, tries: int) -> np.ndarray:
    """Add random pieces until a random coverage up to 1/4 is reached; a piece that would
    push the mask past 1/4 is dropped."""
    mask = np.zeros((size, size), dtype=bool)
    target = _target_coverage(rng, MAX_REGION_COVERAGE)
    for _ in range(tries):
        trial = add_piece(mask)
        if trial.mean() > MAX_REGION_COVERAGE:
            continue
        mask = trial
        if mask.mean() >= target:
            break
    return _at_least(mask, rng, size)


def _at_least(mask: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """Guarantee the minimum coverage with one extra square if the draws stayed tiny."""
    if mask.mean() >= MIN_COVERAGE:
        return mask
    side = int(np.ceil(np.sqrt(MIN_COVERAGE * 1.5) * size))
    y, x = rng.integers(0, size - side, size=2)
    mask = mask.copy()
    mask[y : y + side, x : x + side] = True
    return mask


MAX_SHAPES = 4000  # silhouettes a ShapeBank loads


def silhouette_files(folder: str | Path, max_shapes: int = MAX_SHAPES, seed: int = 0) -> list[Path]:
    """The PNGs under ``folder`` a ShapeBank loads: a seeded ``max_shapes`` of them, sorted."""
    files = sorted(p for p in Path(folder).rglob("*.png"))
    if not files:
        raise FileNotFoundError(f"no PNG silhouettes under {folder}")
    if len(files) > max_shapes:
        rng = np.random.default_rng(seed)
        files = [files[i] for i in sorted(rng.choice(len(files), max_shapes, replace=False))]
    return files


class ShapeBank:
    """Object silhouettes (PNG, 255 = object) loaded once, used as random-region holes.

    Loads a seeded subset so start-up stays fast on the 17k-shape VOC folder.
    """

    def __init__(self, folder: str | Path, max_shapes: int = MAX_SHAPES, seed: int = 0) -> None:
        self.shapes: list[np.ndarray] = []
        for path in silhouette_files(folder, max_shapes, seed):
            try:
                with Image.open(path) as im:
                    arr = np.asarray(im.convert("L")) > 127
            except OSError:
                continue
            if arr.sum() >= 16:
                self.shapes.append(arr)
        if not self.shapes:
            raise ValueError(f"no usable silhouettes under {folder}")

    def __len__(self) -> int:
        return len(self.shapes)

    def sample(self, rng: np.random.Generator, size: int, scale: float) -> np.ndarray:
        """One silhouette scaled so its long side is ``scale * size``, flipped half the time."""
        shape = self.shapes[int(rng.integers(len(self.shapes)))]
        h, w = shape.shape
        factor = scale * size / max(h, w)
        nh, nw = max(4, min(size, round(h * factor))), max(4, min(size, round(w * factor)))
        img = Image.fromarray(shape.astype(np.uint8) * 255).resize((nw, nh), Image.Resampling.NEAREST)
        if rng.random() < 0.5:
            img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        return np.asarray(img) > 127


def silhouettes_for(kinds: Iterable[str], folder: str | Path | None, seed: int = 0) -> ShapeBank | None:
    """The silhouettes in ``folder`` when one of ``kinds`` draws from them, else None: loading
    thousands of PNGs is skipped for runs that would never use them."""
    if folder is None or not set(kinds) & set(SILHOUETTE_KINDS):
        return None
    return ShapeBank(folder, seed=seed)


def ellipse_blob(
    rng: np.random.Generator,
    side: int,
    count: tuple[int, int] = (3, 8),
    radius: tuple[float, float] = (0.12, 0.3),
    walk: float = 0.15,
    keep: tuple[float, float] = (0.25, 0.75),
) -> np.ndarray:
    """Procedural object-like shape in a ``side`` square: overlapping ellipses (radii a fraction
    of the side) along a short random walk kept within ``keep`` of the square."""
    img = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(img)
    cx, cy = side / 2, side / 2
    for _ in range(int(rng.integers(*count))):
        rx, ry = rng.uniform(*radius, size=2) * side
        draw.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=255)
        cx = float(np.clip(cx + rng.normal(0, side * walk), side * keep[0], side * keep[1]))
        cy = float(np.clip(cy + rng.normal(0, side * walk), side * keep[0], side * keep[1]))
    return np.asarray(img) > 127


def _blob(rng: np.random.Generator, size: int, scale: float) -> np.ndarray:
    return ellipse_blob(rng, max(8, int(scale * size)))


def region_mask(rng: np.random.Generator, size: int = 128, shapes: ShapeBank | None = None) -> np.ndarray:
    """Object-shaped holes: silhouettes (or procedural blobs), scaled and shifted at random,
    added until a random coverage up to 1/4 of the image."""

    def add_shape(mask: np.ndarray) -> np.ndarray:
        scale = float(rng.uniform(0.2, 0.6))
        piece = shapes.sample(rng, size, scale) if shapes is not None else _blob(rng, size, scale)
        h, w = piece.shape
        y, x = int(rng.integers(0, size - h + 1)), int(rng.integers(0, size - w + 1))
        trial = mask.copy()
        trial[y : y + h, x : x + w] |= piece
        return trial

    return _grow(add_shape, rng, size, tries=24)


def freeform_mask(rng: np.random.Generator, size: int = 128) -> np.ndarray:
    """Brush strokes like the NVIDIA irregular masks: jittery polylines painted with one round
    brush per mask, the way a person paints in the editor (its brush goes down to 2 px).

    The brush is log-uniform in 2 .. size/7 px, each stroke within -30 % / +40 % of it: most
    masks are thin, so ~40 % of the hole lies at the rim (within 1.5 px of a known pixel), as in
    painted masks; drawing each stroke's width independently let the thick ones dominate the
    hole (~20 % at the rim)."""
    target = float(rng.uniform(MIN_COVERAGE * 2, MAX_FREEFORM_COVERAGE))
    brush = float(np.exp(rng.uniform(np.log(2), np.log(max(3, size / 7)))))
    img = Image.new("L", (size, size), 0)
    mask = np.zeros((size, size), dtype=bool)
    for _ in range(FREEFORM_STROKES):
        width = max(2, round(brush * rng.uniform(0.7, 1.4)))
        x, y = rng.uniform(0, size, size=2)
        angle = rng.uniform(0, 2 * np.pi)
        points = [(x, y)]
        for _ in range(int(rng.integers(2, 7))):
            angle += rng.normal(0, 0.8)
            length = rng.uniform(size * 0.08, size * 0.3)
            x = float(np.clip(x + length * np.cos(angle), 0, size - 1))
            y = float(np.clip(y + length * np.sin(angle), 0, size - 1))
            points.append((x, y))
        trial_img = img.copy()
        trial_draw = ImageDraw.Draw(trial_img)
        trial_draw.line(points, fill=255, width=width, joint="curve")
        r = width / 2
        for px, py in points:
            trial_draw.ellipse([px - r, py - r, px + r, py + r], fill=255)
        trial = np.asarray(trial_img) > 127
        if trial.mean() > MAX_FREEFORM_COVERAGE:
            continue
        img, mask = trial_img, trial
        if mask.mean() >= target:
            break
    return _at_least(mask, rng, size)


def strokes_mask(rng: np.random.Generator, size: int = 128) -> np.ndarray:
    """One to three long thin strokes (2-16 px at 128) that run across the whole window, gently
    curved: a wire, a cable or a scratch, which the full-resolution planner fills at native
    scale in windows tiled along it, so each window sees a stroke entering and leaving."""
    mask = np.zeros((size, size), dtype=bool)
    scale = size / 128
    for _ in range(int(rng.integers(1, 4))):
        width = max(2, round(rng.uniform(2, 16) * scale))
        angle = rng.uniform(0, np.pi)
        cx, cy = rng.uniform(size * 0.2, size * 0.8, size=2)
        direction = np.array([np.cos(angle), np.sin(angle)])
        bend = rng.normal(0, 0.15 * size)
        normal = np.array([-direction[1], direction[0]])
        points = []
        for t in np.linspace(-1, 1, 9):
            p = np.array([cx, cy]) + t * size * direction + (1 - t * t) * bend * normal
            points.append((float(p[0]), float(p[1])))
        img = Image.new("L", (size, size), 0)
        ImageDraw.Draw(img).line(points, fill=255, width=width, joint="curve")
        trial = mask | (np.asarray(img) > 127)
        if trial.mean() <= MAX_FREEFORM_COVERAGE:
            mask = trial
    return _at_least(mask, rng, size)


def _smooth_noise(rng: np.random.Generator, size: int, sigma: float) -> np.ndarray:
    """White noise blurred to features ~``sigma`` px across, scaled to unit deviation."""
    field = cv2.GaussianBlur(rng.normal(size=(size, size)).astype(np.float32), (0, 0), sigma)
    return field / max(float(field.std()), 1e-6)


def irregular_mask(rng: np.random.Generator, size: int = 128) -> np.ndarray:
    """Ragged holes in pieces, like the NVIDIA irregular masks (occlusions between video
    frames): level sets of smooth noise, gathered in one part of the window by a coarser
    field; half of them only a band around the level (outlines, winding lines), half of them
    cut into fragments. Painted ``freeform`` strokes come in ~2 pieces per mask, these in ~10
    (the NVIDIA set: ~8 at 128 px), with the same share of hole at the rim (~40 %)."""
    target = float(rng.uniform(MIN_COVERAGE * 2, MAX_FREEFORM_COVERAGE))
    scale = size / 128
    sigma = float(np.exp(rng.uniform(np.log(3), np.log(16)))) * scale
    field = _smooth_noise(rng, size, sigma) + rng.uniform(0.5, 2.5) * _smooth_noise(rng, size, 24 * scale)
    if rng.random() < 0.5:  # a band around one level: outlines and winding lines
        band = np.abs(field - rng.uniform(-0.5, 0.5) * field.std())
        mask = band <= np.quantile(band, target)
    else:
        mask = field >= np.quantile(field, 1 - target)
    if rng.random() < 0.5:  # broken into pieces
        cut = _smooth_noise(rng, size, rng.uniform(1.0, 3.0) * scale)
        mask &= cut >= np.quantile(cut, rng.uniform(0.2, 0.6))
    return _at_least(mask, rng, size)


# what inference windows hold, as shares of the draws of ``mixed`` (``--mix`` reweights them)
MIXED_SHARES = {"region": 0.35, "freeform": 0.20, "strokes": 0.15, "block": 0.15, "center": 0.15}
MIXED_KINDS = (*MIXED_SHARES, "irregular")  # what ``--mix`` may name


def mixed_mask(
    rng: np.random.Generator,
    size: int = 128,
    shapes: ShapeBank | None = None,
    shares: dict[str, float] | None = None,
) -> np.ndarray:
    """What inference windows hold: object silhouettes, painted strokes, wires crossing the
    window, rectangles and the paper's central square, drawn with ``shares`` (normalised;
    ``MIXED_SHARES`` by default)."""
    shares = shares or MIXED_SHARES
    kinds = [kind for kind in MIXED_KINDS if kind in shares]
    weights = np.array([shares[kind] for kind in kinds], dtype=np.float64)
    # one uniform draw against the cumulative shares, as the sampler always drew its kind
    kind = kinds[rng.choice(len(kinds), p=weights / weights.sum())]
    return mask_fn(kind, size, shapes)(rng)


def parse_shares(text: str) -> dict[str, float]:
    """``KIND=SHARE,...`` (kinds of ``MIXED_KINDS``; shares >= 0, normalised, kinds not named
    get none) -> shares summing to one; ``ValueError`` with a message otherwise."""
    shares: dict[str, float] = {}
    for item in text.split(","):
        kind, _, value = item.partition("=")
        kind = kind.strip()
        if kind not in MIXED_KINDS:
            raise ValueError(f"{kind!r} is not a kind of mixed holes; choose from {', '.join(MIXED_KINDS)}")
        try:
            share = float(value)
        except ValueError:
            raise ValueError(f"{item.strip()!r}: expected KIND=SHARE with a number") from None
        if not share >= 0 or not np.isfinite(share):
            raise ValueError(f"{item.strip()!r}: a share must be a finite number >= 0")
        shares[kind] = share
    total = sum(shares.values())
    if total <= 0:
        raise ValueError("the shares of mixed holes must not all be zero")
    return {kind: shares[kind] / total for kind in MIXED_KINDS if kind in shares}


def mask_fn(
    kind: str, size: int = 128, shapes: ShapeBank | None = None, shares: dict[str, float] | None = None
) -> MaskFn:
    """The mask sampler for a ``--mask`` name (``shares`` reweight ``mixed``)."""
    table: dict[str, MaskFn] = {
        "center": lambda rng: center_mask(rng, size),
        "block": lambda rng: block_mask(rng, size),
        "region": lambda rng: region_mask(rng, size, shapes),
        "freeform": lambda rng: freeform_mask(rng, size),
        "strokes": lambda rng: strokes_mask(rng, size),
        "irregular": lambda rng: irregular_mask(rng, size),
        "mixed": lambda rng: mixed_mask(rng, size, shapes, shares),
        "none": lambda rng: empty_mask(rng, size),
    }
    if kind not in table:
        raise ValueError(f"unknown mask type {kind!r}; choose one of {', '.join(MASK_TYPES)}")
    return table[kind]


def mask_batch(fn: MaskFn, rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, size, size) bool masks."""
    return np.stack([fn(rng) for _ in range(n)])
