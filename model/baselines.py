"""Non-learned hole fillers to measure the Context Encoder against, on the same images and holes.

``mean`` paints the hole in the generator's dataset mean colour: exactly the encoder's input,
so it is the floor a trained network has to beat. ``telea`` and ``ns`` are OpenCV's diffusion
inpainting (Telea 2004, Navier-Stokes), radius 5. ``shiftmap`` (He and Sun 2012: patches of the
photo shifted into the hole, stitched by graph cuts) and ``fsr`` (frequency-selective
reconstruction, fast variant: a sparse Fourier model per block) are the patch- and texture-based
fillers of OpenCV's contrib module ``xphoto`` (opencv-contrib-python-headless, a core
dependency): textured anchors beside the smooth diffusion ones.

``blur1`` is not a filler but a reference: the truth itself blurred by a Gaussian of sigma 1 px.
It tells what "slightly soft" scores on the realism measures (``model.realism``).

All fillers take (N, H, W, 3) uint8 RGB images with (N, H, W) bool holes (True = fill) and
return (N, H, W, 3) uint8 in which only hole pixels differ.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from model.holes import hole_box

BASELINES = ("mean", "telea", "ns", "shiftmap", "fsr")
OPENCV_BASELINES = ("telea", "ns")  # cv2.inpaint, which the server also offers
XPHOTO_BASELINES = ("shiftmap", "fsr")  # cv2.xphoto.inpaint (opencv-contrib)
REFERENCES = ("blur1",)  # the truth degraded: a yardstick, never a filler
REFERENCE_BLUR_SIGMA = 1.0
INPAINT_RADIUS = 5
# the pre-fill a 4-channel residual generator starts from: Telea with a smaller radius, which
# costs ~2.5x less than radius 5 inside the training loop and is only a starting point
PREFILL_RADIUS = 3


def mean_colour_uint8(mean_colour: Sequence[float]) -> np.ndarray:
    """The [0, 1] mean RGB as the uint8 colour the network's input holds in the hole."""
    return np.clip(np.round(np.asarray(mean_colour, np.float64) * 255.0), 0, 255).astype(np.uint8)


def mean_fill(images: np.ndarray, holes: np.ndarray, mean_colour: Sequence[float]) -> np.ndarray:
    """The hole painted in the dataset mean colour (the encoder's input, as a picture)."""
    out = np.array(images, dtype=np.uint8, copy=True)
    out[np.asarray(holes, bool)] = mean_colour_uint8(mean_colour)
    return out


@functools.cache
def _pool(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(workers, thread_name_prefix="opencv-fill")


def erased(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """A contiguous uint8 copy of ``image`` with its hole painted black. OpenCV's Telea reads the
    values under its mask (two erased colours under a 8 px stroke filled 20-40 pixels a level
    apart): what is erased must never reach a fill, in training (the truth) or in a request."""
    out = np.array(image, dtype=np.uint8, copy=True, order="C")
    erase(out, hole)
    return out


def erase(image: np.ndarray, hole: np.ndarray) -> None:
    """Paint ``image``'s hole black in place, touching only the hole's bounding box: a decoded
    48 MP photo the caller owns is blanked without a second copy."""
    hole = np.asarray(hole, bool)
    box = hole_box(hole)
    if box is not None:
        np.copyto(image[box], 0, where=hole[box][..., None] if image.ndim == 3 else hole[box])


def opencv_fill(
    images: np.ndarray, holes: np.ndarray, method: str, radius: int = INPAINT_RADIUS, workers: int = 1
) -> np.ndarray:
    """``cv2.inpaint`` per image (``method`` 'telea' or 'ns').

    ``workers`` > 1 fills the images on that many threads (OpenCV releases the GIL): inside the
    training loop one core's Telea (~300 images/s at 128 px) would otherwise cap a GPU."""
    flags = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}
    if method not in flags:
        raise ValueError(f"unknown OpenCV inpainting method {method!r}; choose telea or ns")
    out = np.empty_like(images, dtype=np.uint8)

    def fill(i: int) -> None:
        image, hole = images[i], holes[i]
        mask = np.asarray(hole, np.uint8) * 255
        # the algorithms treat channels alike, so RGB order needs no BGR conversion
        filled = cv2.inpaint(erased(image, hole), mask, radius, flags[method])
        out[i] = np.where(hole[..., None], filled, image)

    if workers > 1 and len(images) > 1:
        list(_pool(workers).map(fill, range(len(images))))
    else:
        for i in range(len(images)):
            fill(i)
    return out


def telea_prefill(images: np.ndarray, holes: np.ndarray, workers: int = 1) -> np.ndarray:
    """The classical fill a residual generator corrects (training and inference alike)."""
    return opencv_fill(images, holes, "telea", PREFILL_RADIUS, workers)


def xphoto_fill(images: np.ndarray, holes: np.ndarray, method: str) -> np.ndarray:
    """``cv2.xphoto.inpaint`` per image (``method`` 'shiftmap' or 'fsr'), from opencv-contrib (a core
    dependency).

    Its mask is the opposite of ``cv2.inpaint``'s: non-zero = KNOWN pixel, zero = hole (checked:
    the other way round it rebuilds the photo around an untouched hole). Shift-map wants a
    lightness-first colour space (Lab, as its documentation asks); FSR converts BGR to YCrCb
    itself. Both take uint8, and their colour round trip moves known pixels by a level or so,
    hence the composite."""
    if method == "shiftmap":
        flag, to_space, from_space = cv2.xphoto.INPAINT_SHIFTMAP, cv2.COLOR_RGB2LAB, cv2.COLOR_LAB2RGB
    elif method == "fsr":
        flag, to_space, from_space = cv2.xphoto.INPAINT_FSR_FAST, cv2.COLOR_RGB2BGR, cv2.COLOR_BGR2RGB
    else:
        raise ValueError(f"unknown xphoto inpainting method {method!r}; choose shiftmap or fsr")
    out = np.array(images, dtype=np.uint8, copy=True)
    for i, (image, hole) in enumerate(zip(out, np.asarray(holes, bool), strict=True)):
        if not hole.any():
            continue
        src = cv2.cvtColor(erased(image, hole), to_space)
        dst = np.zeros_like(src)
        cv2.xphoto.inpaint(src, np.where(hole, 0, 255).astype(np.uint8), dst, flag)
        out[i] = np.where(hole[..., None], cv2.cvtColor(dst, from_space), image)
    return out


def blur_reference(images: np.ndarray, holes: np.ndarray, sigma: float = REFERENCE_BLUR_SIGMA) -> np.ndarray:
    """The TRUTH blurred by a Gaussian of ``sigma`` px, in the hole only: not a filler (it reads the
    hole's own pixels) but the yardstick "as detailed as the photo, softened by 1 px"."""
    out = np.array(images, dtype=np.uint8, copy=True)
    for i, (image, hole) in enumerate(zip(out, np.asarray(holes, bool), strict=True)):
        out[i] = np.where(hole[..., None], cv2.GaussianBlur(image, (0, 0), sigma), image)
    return out


def run_baseline(name: str, images: np.ndarray, holes: np.ndarray, mean_colour: Sequence[float]) -> np.ndarray:
    """Fill with the baseline called ``name`` (one of BASELINES), or make the reference ``blur1``."""
    if name == "mean":
        return mean_fill(images, holes, mean_colour)
    if name in OPENCV_BASELINES:
        return opencv_fill(images, holes, name)
    if name in XPHOTO_BASELINES:
        return xphoto_fill(images, holes, name)
    if name == "blur1":
        return blur_reference(images, holes)
    raise ValueError(f"unknown baseline {name!r}; choose from {', '.join(BASELINES)}")
