"""The filled tiles: pasted over the photo they rebuild the filled photo exactly, and carry
nothing from outside the hole."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageCms

from app.regions import filled_tiles, hole_tiles


def _paste(photo: np.ndarray, tiles: list) -> np.ndarray:
    """What a browser does: draw each RGBA tile at its offset, source-over."""
    canvas = photo.copy()
    for box, png in tiles:
        tile = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))
        assert tile.shape[:2] == (box.height, box.width)
        assert set(np.unique(tile[..., 3])) <= {0, 255}
        opaque = tile[..., 3] == 255
        canvas[box.top : box.top + box.height, box.left : box.left + box.width][opaque] = tile[..., :3][opaque]
    return canvas


def test_pasting_the_tiles_rebuilds_the_filled_photo(photo_path: Path) -> None:
    photo = np.asarray(Image.open(photo_path).convert("RGB"))
    hole = np.zeros(photo.shape[:2], np.uint8)
    cv2.line(hole, (5, 500), (760, 20), 1, 7)  # a wire across every tile row
    cv2.circle(hole, (600, 400), 40, 1, -1)
    hole = hole.astype(bool)
    filled = photo.copy()
    filled[hole] = 255 - photo[hole]  # any fill will do: what matters is where it lands
    tiles = filled_tiles(filled, hole, tile=128)
    assert np.array_equal(_paste(photo, tiles), filled)
    # each tile is one grid cell shrunk to its hole pixels: a wire costs a few cells, not the photo
    boxes = [box for box, _ in tiles]
    assert all(box.width <= 128 and box.height <= 128 for box in boxes)
    assert sum(box.width * box.height for box in boxes) < 0.25 * hole.size
    for box in boxes:
        cell = hole[box.top : box.top + box.height, box.left : box.left + box.width]
        assert cell[0].any() and cell[-1].any() and cell[:, 0].any() and cell[:, -1].any()


def test_nothing_outside_the_hole_travels(photo_path: Path) -> None:
    photo = np.asarray(Image.open(photo_path).convert("RGB"))
    hole = np.zeros(photo.shape[:2], bool)
    hole[100:140, 200:260] = True
    hole[110:130, 220:240] = False  # a ring: the pixels it encloses are not sent either
    (tile,) = filled_tiles(photo, hole)
    rgba = np.asarray(Image.open(io.BytesIO(tile[1])))
    inner = rgba[10:30, 20:40]
    assert (inner == 0).all()


def test_no_hole_no_tiles() -> None:
    assert list(hole_tiles(np.zeros((300, 200), bool))) == []


def test_the_photos_colour_profile_rides_along(photo_path: Path) -> None:
    photo = np.asarray(Image.open(photo_path).convert("RGB"))
    hole = np.zeros(photo.shape[:2], bool)
    hole[10:20, 10:20] = True
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    (tile,) = filled_tiles(photo, hole, icc_profile=profile)
    decoded = Image.open(io.BytesIO(tile[1]))
    assert decoded.info.get("icc_profile") == profile
    assert np.array_equal(np.asarray(decoded)[..., :3], photo[10:20, 10:20])
