"""A hole read from an image: a painted mask (uploaded, or a file beside a photo) or the photo's
own transparent pixels. True = to be filled."""

from __future__ import annotations

import numpy as np
from PIL import Image

ALPHA_THRESHOLD = 127  # alpha <= this is transparent


def has_alpha(image: Image.Image) -> bool:
    """Whether the image carries transparency (an alpha channel or a transparent colour)."""
    return image.has_transparency_data


def mask_from_image(mask: Image.Image) -> np.ndarray:
    """A painted mask as bool (True = fill): opaque pixels if it has transparency, else
    white (luminance > 127) pixels.

    Many painting programs export masks as RGBA with every pixel opaque (white strokes on
    black); there the alpha channel says nothing, so the luminance decides.
    """
    if has_alpha(mask):
        rgba = np.asarray(mask.convert("RGBA"))
        opaque = rgba[..., 3] > ALPHA_THRESHOLD
        if not opaque.all():
            return opaque
        return np.asarray(Image.fromarray(rgba[..., :3]).convert("L")) > ALPHA_THRESHOLD
    return np.asarray(mask.convert("L")) > ALPHA_THRESHOLD


def transparent_hole(image: Image.Image) -> np.ndarray | None:
    """An image's own transparent pixels as the hole (True = fill), or None without transparency."""
    if not has_alpha(image):
        return None
    return np.asarray(image.convert("RGBA"))[..., 3] <= ALPHA_THRESHOLD
