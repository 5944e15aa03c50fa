"""Realism of a fill without learned weights: how detailed it is (``texture``) and how far its
patches' statistics lie from the photographs' (``patch FD``).

PSNR and SSIM reward the smooth average of the plausible fills: an L2-trained generator scores
well with a smear. These two measures say so instead.

- ``texture``: the hole's mean gradient magnitude over the truth's, per image (1.0 = as
  detailed as the photo; a smear scores well below 1, a flat fill 0). The hole's one-pixel rim
  is left out: there the differences straddle the seam with the context, which is no texture.
  Images whose truth is flat in the hole are skipped (NaN): the ratio says nothing there.
- ``invented``: detail a fill adds where the photo has the least: over the quarter of the
  hole's interior where the truth's local detail (its gradient magnitude averaged over
  ``LOCAL_DETAIL_SIGMA`` px) is lowest, the fill's mean gradient magnitude less the truth's,
  in units of the truth's mean over the whole interior. 0 = no more detail than the photo
  where it is flat; a smear scores slightly below 0; a fill that paints one texture
  everywhere (a hatching over the sky) scores well above. Texture alone cannot tell a fill
  that places detail where the photo has it from one that spreads the same amount evenly.
- ``patch FD``: the Fréchet distance (FID's formula) between two Gaussians fitted to fixed,
  hand-designed features of 16x16 patches inside the hole, one over the fills and one over the
  truth at the same patch positions, across a whole image set. 0 = the same statistics; blur,
  compression and flat fills move it up. A distance between sets, not per image: it needs a
  few hundred patches or more.

The features describe texture, not content: local contrast (log standard deviation of L, a and
b), oriented derivative-of-Gaussian energies of L at three scales and four orientations divided
by the patch's contrast (the shape of the local spectrum), and how much fine detail the
lightness and the two colour channels hold next to their coarse detail. The patches' mean
colour and gradient-orientation histogram were tried and left out: they describe content, and
two disjoint halves of Kodak differ more there (FD 0.24 and 0.68 on those features alone) than
a JPEG at quality 75 differs from its photo (0.00 and 0.09); colour errors are what L1 and PSNR
measure. Features are standardised with the truth's own mean and spread,
so none dominates by its units.

numpy, scipy and OpenCV only: nothing is downloaded, nothing is learned.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import scipy.linalg
import scipy.ndimage

from model.metrics import gradient_magnitude, gradient_map

PATCH = 16  # px: patch side
STRIDE = 8  # px: patch grid step (PATCH is a multiple of it: patches are averages of blocks)
MIN_HOLE = 0.75  # a patch counts when at least this share of its pixels is hole
SCALES = (1.0, 2.0, 4.0)  # derivative-of-Gaussian sigmas, px
ORIENTATIONS = 4  # 0, 45, 90, 135 degrees
MARGIN = 16  # px of context filtered around the patches: more than the widest filter's 3 sigma
FLOOR = 0.5  # Lab units (L in 0-100; ~1.3 grey levels): contrasts and energies below it count as flat
FLAT_TRUTH = 1e-3  # mean gradient per px in [0, 1] units: a truth this flat has no texture to match
# px: the neighbourhood whose detail counts as one amount: where the photo is flat for ``invented``,
# and how far detail may move before training's ``detail_loss`` counts it as misplaced
LOCAL_DETAIL_SIGMA = 4.0
FLAT_SHARE = 0.25  # the flattest quarter of the hole's interior
FD_EPS = 1e-6  # added to the covariances' diagonals so sqrtm stays finite on singular ones

FEATURE_NAMES = (
    *(f"log_std_{c}" for c in "Lab"),
    *(f"energy_L_s{s:g}_o{o * 180 // ORIENTATIONS}" for s in SCALES for o in range(ORIENTATIONS)),
    f"detail_L_s{SCALES[0]:g}_over_s{SCALES[-1]:g}",
    *(f"detail_{c}_s{SCALES[0]:g}_over_s{SCALES[-1]:g}" for c in "ab"),
    *(f"detail_{c}_s{SCALES[0]:g}_over_s{SCALES[1]:g}" for c in "ab"),
)


def hole_interior(hole: np.ndarray) -> np.ndarray:
    """The hole less its one-pixel rim: the pixels whose central differences see only the fill.
    On the rim they also see the context, and a flat fill's seam with it is no texture."""
    return scipy.ndimage.binary_erosion(hole, np.ones((3, 3), bool), border_value=1)


def texture_ratio(fill: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    """The fill's mean gradient magnitude inside the hole over the truth's (images (H, W, 3) in
    [0, 1]), on ``hole_interior``; NaN where the truth is flat there (below ``FLAT_TRUTH``) or
    the hole has no interior (hairlines)."""
    inside = hole_interior(np.asarray(hole, bool))
    if not inside.any():
        return float("nan")
    reference = gradient_magnitude(truth, inside)
    if reference < FLAT_TRUTH:
        return float("nan")
    return gradient_magnitude(fill, inside) / reference


def texture_ratios(fills: np.ndarray, truths: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """``texture_ratio`` of each image of (N, H, W, 3) fills and truths in [0, 1] with (N, H, W) holes."""
    return np.array([texture_ratio(f, t, h) for f, t, h in zip(fills, truths, holes, strict=True)])


def invented_detail(fill: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    """``invented`` of one fill (images (H, W, 3) in [0, 1]): the fill's mean gradient magnitude
    less the truth's over the ``FLAT_SHARE`` of ``hole_interior`` where the truth's local detail
    is lowest, over the truth's mean gradient magnitude on the whole interior. NaN where
    ``texture_ratio`` is (a flat truth, or no interior)."""
    inside = hole_interior(np.asarray(hole, bool))
    if not inside.any():
        return float("nan")
    truth_grad = gradient_map(truth)
    reference = float(truth_grad[inside].mean())
    if reference < FLAT_TRUTH:
        return float("nan")
    local = cv2.GaussianBlur(truth_grad.astype(np.float32), (0, 0), LOCAL_DETAIL_SIGMA)[inside]
    flattest = local <= np.quantile(local, FLAT_SHARE)
    excess = gradient_map(fill)[inside][flattest].mean() - truth_grad[inside][flattest].mean()
    return float(excess / reference)


def invented_details(fills: np.ndarray, truths: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """``invented_detail`` of each image of (N, H, W, 3) fills and truths in [0, 1] with (N, H, W) holes."""
    return np.array([invented_detail(f, t, h) for f, t, h in zip(fills, truths, holes, strict=True)])


def _patch_means(channels: np.ndarray) -> np.ndarray:
    """(H, W, C) float32, H and W multiples of STRIDE -> (rows, cols, C) float64 means over the
    PATCH x PATCH patches of the STRIDE grid (block means by OpenCV's area resize, then the
    blocks of each patch averaged)."""
    h, w, c = channels.shape
    blocks = cv2.resize(channels, (w // STRIDE, h // STRIDE), interpolation=cv2.INTER_AREA)
    blocks = blocks.reshape(h // STRIDE, w // STRIDE, c).astype(np.float64)
    k = PATCH // STRIDE
    rows, cols = blocks.shape[0] - k + 1, blocks.shape[1] - k + 1
    out = np.zeros((rows, cols, c), np.float64)
    for dy in range(k):
        for dx in range(k):
            out += blocks[dy : dy + rows, dx : dx + cols]
    return out / k**2


def patch_grid(hole: np.ndarray) -> np.ndarray:
    """(rows, cols) bool: which patches of the stride-8 grid (top-left corners at multiples of 8)
    are at least ``MIN_HOLE`` hole. Trailing rows/columns short of a block are never used."""
    h, w = (hole.shape[0] // STRIDE) * STRIDE, (hole.shape[1] // STRIDE) * STRIDE
    if h < PATCH or w < PATCH:
        return np.zeros((0, 0), bool)
    share = _patch_means(hole[:h, :w, None].astype(np.float32))[..., 0]
    return share >= MIN_HOLE


def _dog_kernels(sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """A 1-D Gaussian and its derivative, unit-gain on a ramp, for separable filtering."""
    radius = int(np.ceil(3 * sigma))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    g = np.exp(-(x**2) / (2 * sigma**2))
    g /= g.sum()
    dg = -x / sigma**2 * g
    dg /= -(dg * x).sum()  # a ramp of slope 1 gives response 1
    return g.astype(np.float32), dg.astype(np.float32)


def pixel_features(image: np.ndarray) -> np.ndarray:
    """Per-pixel quantities whose patch means make the features: (H, W, C) float32.

    Channels: Lab less its mean over the image (3) and that squared (3); per scale, the squared
    oriented derivative-of-Gaussian responses of L (ORIENTATIONS) then the squared gradient
    magnitudes of a and b (2)."""
    rgb = np.asarray(image, np.float32) / 255.0
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)  # L in 0-100, a and b about -100..100
    centred = lab - lab.mean(axis=(0, 1))  # the same spread, less float32 cancellation in E[x^2] - E[x]^2
    channels = [centred, centred**2]
    angles = np.pi * np.arange(ORIENTATIONS) / ORIENTATIONS
    for sigma in SCALES:
        g, dg = _dog_kernels(sigma)
        for c in range(3):
            plane = np.ascontiguousarray(lab[..., c])
            gx = cv2.sepFilter2D(plane, cv2.CV_32F, dg, g, borderType=cv2.BORDER_REFLECT)
            gy = cv2.sepFilter2D(plane, cv2.CV_32F, g, dg, borderType=cv2.BORDER_REFLECT)
            if c == 0:
                channels += [((np.cos(t) * gx + np.sin(t) * gy) ** 2)[..., None] for t in angles]
            else:
                channels.append((gx**2 + gy**2)[..., None])
    return np.concatenate(channels, axis=2, dtype=np.float32)


def features_from_means(means: np.ndarray) -> np.ndarray:
    """(P, len(FEATURE_NAMES)) features from the patch means of ``pixel_features``' channels.

    Energies enter as logs of their RMS above ``FLOOR``, so a flat patch sits at a finite
    floor, not at minus infinity."""
    mean, square = means[:, :3], means[:, 3:6]
    log_std = np.log(np.sqrt(np.maximum(square - mean**2, 0.0)) + FLOOR)
    per_scale = ORIENTATIONS + 2
    energy = np.log(np.sqrt(means[:, 6:].reshape(len(means), len(SCALES), per_scale)) + FLOOR)
    lum, colour = energy[:, :, :ORIENTATIONS], energy[:, :, ORIENTATIONS:]
    shape = (lum - log_std[:, None, :1]).reshape(len(means), -1)  # the spectrum's shape, not its level
    detail_lum = lum[:, 0].mean(axis=1, keepdims=True) - lum[:, -1].mean(axis=1, keepdims=True)
    return np.concatenate([log_std, shape, detail_lum, colour[:, 0] - colour[:, -1], colour[:, 0] - colour[:, 1]], 1)


def patch_features(image: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """(P, len(FEATURE_NAMES)) features of ``image``'s (H, W, 3) uint8 RGB patches where
    ``grid`` (from ``patch_grid``) is True, in row-major order."""
    if not grid.any():
        return np.zeros((0, len(FEATURE_NAMES)))
    # filter only the patches' bounding box and a margin wider than the filters reach, on the
    # block grid, so a small hole in a big photo costs little and every response is exact
    rows, cols = np.nonzero(grid)
    k, margin = PATCH // STRIDE, MARGIN // STRIDE
    r0, c0 = max(0, rows.min() - margin), max(0, cols.min() - margin)
    r1, c1 = min(grid.shape[0] + k - 1, rows.max() + k + margin), min(grid.shape[1] + k - 1, cols.max() + k + margin)
    crop = image[r0 * STRIDE : r1 * STRIDE, c0 * STRIDE : c1 * STRIDE]
    return features_from_means(_patch_means(pixel_features(crop))[grid[r0 : r1 - k + 1, c0 : c1 - k + 1]])


def hole_patch_features(images: Sequence[np.ndarray], holes: Sequence[np.ndarray]) -> np.ndarray:
    """Features of every image's hole patches, stacked: (P, F). Fills and truths with the same
    holes give their patches in the same order."""
    pairs = zip(images, holes, strict=True)
    parts = [patch_features(image, patch_grid(np.asarray(hole, bool))) for image, hole in pairs]
    return np.concatenate([np.zeros((0, len(FEATURE_NAMES))), *parts])


def frechet_distance(fill_features: np.ndarray, truth_features: np.ndarray) -> float:
    """FID's formula on standardised features: |mu1 - mu2|^2 + Tr(S1 + S2 - 2 sqrt(S1 S2)).

    Both sets are standardised with the truth's per-feature mean and standard deviation, so
    each feature counts in units of its own natural spread. NaN with fewer than two patches."""
    fill_features, truth_features = np.asarray(fill_features, np.float64), np.asarray(truth_features, np.float64)
    if len(fill_features) < 2 or len(truth_features) < 2:
        return float("nan")
    centre = truth_features.mean(axis=0)
    scale = truth_features.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    a, b = (fill_features - centre) / scale, (truth_features - centre) / scale
    mu1, mu2 = a.mean(axis=0), b.mean(axis=0)
    eye = np.eye(a.shape[1]) * FD_EPS
    s1, s2 = np.cov(a, rowvar=False) + eye, np.cov(b, rowvar=False) + eye
    root = np.real(scipy.linalg.sqrtm(s1 @ s2))  # tiny imaginary parts are rounding
    return max(0.0, float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(root)))


def patch_fd(fills: Sequence[np.ndarray], truths: Sequence[np.ndarray], holes: Sequence[np.ndarray]) -> float:
    """The patch FD of a set of fills against their truths (uint8 (H, W, 3) images, bool holes)."""
    return frechet_distance(hole_patch_features(fills, holes), hole_patch_features(truths, holes))
