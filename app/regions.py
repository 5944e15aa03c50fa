"""The filled pixels alone, as tiles a client pastes into its own copy of the photo.

A 48-megapixel photo re-encoded whole costs seconds and tens of megabytes for a hole that
may cover a thousandth of it. ``POST /inpaint/regions`` answers instead with the tiles of a
fixed grid that hold hole pixels, each cropped to its hole pixels and encoded as RGBA PNG:
opaque on the hole, transparent elsewhere. Drawing every tile at its offset over the photo
("source-over") gives exactly ``POST /inpaint``'s result: pixels outside the hole never
travel and never change.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Box:
    """A rectangle of the photo, in pixels from its top-left corner (EXIF orientation applied)."""

    left: int
    top: int
    width: int
    height: int


def hole_tiles(hole: np.ndarray, tile: int = 1024) -> Iterator[Box]:
    """The cells of a ``tile`` grid that hold hole pixels, each shrunk to those pixels' box,
    in reading order: a wire across a photo costs a tile per ``tile`` px of its length, a
    blob its own area."""
    height, width = hole.shape
    for top in range(0, height, tile):
        band = hole[top : top + tile]
        columns = band.any(axis=0)
        for left in range(0, width, tile):
            if not columns[left : left + tile].any():
                continue
            cell = band[:, left : left + tile]
            ys = np.flatnonzero(cell.any(axis=1))
            xs = np.flatnonzero(columns[left : left + tile])
            yield Box(left + int(xs[0]), top + int(ys[0]), int(xs[-1] - xs[0]) + 1, int(ys[-1] - ys[0]) + 1)


def encode_tile(rgb: np.ndarray, hole: np.ndarray, box: Box, icc_profile: bytes | None = None) -> bytes:
    """The box of ``rgb`` as RGBA PNG, alpha 255 on the hole and 0 (with black) elsewhere.

    Transparent pixels are zeroed so their runs compress to almost nothing at zlib level 1
    (OpenCV's masking and encoding: Pillow's boolean indexing is 40 times slower). The photo's
    colour profile rides along, so a browser colour-manages the tile exactly as it does the
    photo it is pasted into; OpenCV cannot embed one, so such a tile goes through Pillow.
    """
    rows = slice(box.top, box.top + box.height)
    cols = slice(box.left, box.left + box.width)
    alpha = hole[rows, cols].astype(np.uint8) * np.uint8(255)
    crop = np.ascontiguousarray(rgb[rows, cols])
    red, green, blue = cv2.split(cv2.bitwise_and(crop, crop, mask=alpha))
    if icc_profile is None:
        ok, data = cv2.imencode(".png", cv2.merge([blue, green, red, alpha]), [cv2.IMWRITE_PNG_COMPRESSION, 1])
        if ok:
            return data.tobytes()
    buffer = io.BytesIO()
    Image.fromarray(cv2.merge([red, green, blue, alpha]), "RGBA").save(
        buffer, "PNG", compress_level=1, icc_profile=icc_profile
    )
    return buffer.getvalue()


def filled_tiles(
    rgb: np.ndarray, hole: np.ndarray, icc_profile: bytes | None = None, tile: int = 1024
) -> list[tuple[Box, bytes]]:
    """Every tile of the filled photo ``rgb`` that holds hole pixels, with its PNG."""
    return [(box, encode_tile(rgb, hole, box, icc_profile)) for box in hole_tiles(hole, tile)]
