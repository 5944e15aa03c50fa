"""Decode, validate and encode uploads.

Everything here runs on untrusted bytes, so every failure becomes an ``ApiError`` with the
status a client should see: the pixel limit is checked from the header before any pixel is
decoded (no decompression bombs), only PNG, JPEG and WebP decoders are ever tried, and a
truncated or corrupt file is a 422, never a 500. What the mask erases is blanked as soon as
the photo is decoded, so no filler can ever see it.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from app.errors import ApiError
from app.settings import Settings
from model.baselines import erase, erased
from model.holes import grow_hole
from model.mask_images import mask_from_image, transparent_hole

ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP")


@dataclass
class Upload:
    """A decoded request: the photo as RGB, its hole blanked, and the pixels to fill."""

    rgb: np.ndarray  # (H, W, 3) uint8, EXIF orientation applied, black under the hole
    hole: np.ndarray  # (H, W) bool, True = fill
    icc_profile: bytes | None = None  # the photo's colour profile, written back into the result


def open_checked(data: bytes, field: str, max_pixels: int) -> Image.Image:
    """Open the header only and enforce the pixel limit before anything is decoded."""
    if not data:
        raise ApiError(422, f"{field} is empty")
    try:
        img = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except Image.DecompressionBombError as exc:
        raise ApiError(413, f"{field} is too large to decode safely: {exc}") from None
    except UnidentifiedImageError:
        raise ApiError(415, f"{field} is not a PNG, JPEG or WebP image") from None
    except Exception as exc:  # Pillow raises many types on a malformed header
        raise ApiError(422, f"{field} could not be read (corrupt header): {exc}") from None
    width, height = img.size
    if width < 1 or height < 1:
        raise ApiError(422, f"{field} has no pixels ({width}x{height})")
    if width * height > max_pixels:
        raise ApiError(
            413,
            f"{field} is {width}x{height} = {width * height:,} pixels, over the limit of {max_pixels:,} pixels",
        )
    return img


def decode(img: Image.Image, field: str) -> Image.Image:
    """Decode all pixels (truncated or corrupt data -> 422) and apply EXIF orientation, so the
    result matches what a browser shows and a mask painted on it lines up."""
    try:
        img.load()
    except Image.DecompressionBombError as exc:
        raise ApiError(413, f"{field} is too large to decode safely: {exc}") from None
    except MemoryError:
        raise ApiError(413, f"{field} is too large to decode") from None
    except Exception as exc:  # OSError, SyntaxError, ValueError, EOFError, zlib.error, struct.error...
        raise ApiError(422, f"{field} is truncated or corrupt: {exc}") from None
    try:
        return ImageOps.exif_transpose(img)
    except Exception:  # a malformed EXIF block must not lose the photo: keep it unrotated
        return img


# EXIF orientation -> what shows the stored pixels upright, as ImageOps.exif_transpose does
UPRIGHT = {
    2: lambda a: cv2.flip(a, 1),
    3: lambda a: cv2.rotate(a, cv2.ROTATE_180),
    4: lambda a: cv2.flip(a, 0),
    5: cv2.transpose,
    6: lambda a: cv2.rotate(a, cv2.ROTATE_90_CLOCKWISE),
    7: lambda a: cv2.flip(cv2.transpose(a), -1),
    8: lambda a: cv2.rotate(a, cv2.ROTATE_90_COUNTERCLOCKWISE),
}
JPEG_END = b"\xff\xd9"


def decode_jpeg(data: bytes, img: Image.Image) -> np.ndarray | None:
    """An RGB JPEG decoded by OpenCV straight into the (H, W, 3) array the fill works on,
    upright: Pillow holds RGB as 4 bytes a pixel, so decoding, turning and copying a 48 MP
    phone photo out of it costs about twice as long and twice the memory. The pixels are the
    same (both decode with libjpeg-turbo's defaults). None for everything else, which Pillow
    decodes: other formats and modes, and a file that does not end where a JPEG ends (a
    truncated one, which Pillow refuses, or one carrying a trailer such as a motion photo's
    video)."""
    if img.format != "JPEG" or img.mode != "RGB" or not data.endswith(JPEG_END):
        return None
    try:
        orientation = int(img.getexif().get(ExifTags.Base.Orientation, 1))
    except Exception:  # a malformed EXIF block: kept unrotated, as ``decode`` does
        orientation = 1
    rgb = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR_RGB | cv2.IMREAD_IGNORE_ORIENTATION)
    if rgb is None or rgb.shape[:2] != (img.height, img.width):
        return None  # Pillow's decoder says what is wrong with it
    turn = UPRIGHT.get(orientation)
    return rgb if turn is None else turn(rgb)


def to_rgb(img: Image.Image, field: str) -> Image.Image:
    """8-bit RGB from any decoded mode; 16-bit greyscale is scaled, not clipped."""
    try:
        if img.mode.startswith("I;16") or img.mode == "I":
            scaled = np.asarray(img, dtype=np.float64) / 257.0
            img = Image.fromarray(np.clip(np.round(scaled), 0, 255).astype(np.uint8))
        elif img.mode == "F":
            img = Image.fromarray(np.clip(np.round(np.asarray(img)), 0, 255).astype(np.uint8))
        return img if img.mode == "RGB" else img.convert("RGB")
    except Exception as exc:
        raise ApiError(422, f"{field} has an unsupported pixel format ({img.mode}): {exc}") from None


@dataclass
class UploadBytes:
    """A request's fields as they arrived: nothing decoded yet."""

    image: bytes
    mask: bytes | None  # None: the image's transparent pixels are the hole
    grow: int = 0  # px to dilate the hole by
    mask_at: tuple[int, int] | None = None  # (left, top) of a mask smaller than the image


@dataclass(frozen=True)
class DecodeLimits:
    """What an upload may decode to (the settings of the same names)."""

    max_pixels: int
    bomb_check_pixels: int
    bomb_pixels_per_byte: int

    @classmethod
    def of(cls, settings: Settings) -> DecodeLimits:
        return cls(settings.max_pixels, settings.bomb_check_pixels, settings.bomb_pixels_per_byte)


def header_pixels(data: bytes) -> int:
    """The image's pixel count from its header alone (0 if unreadable: decoding says why)."""
    try:
        width, height = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS).size
    except Exception:
        return 0
    return width * height


def check_density(image: Image.Image, size: int, limits: DecodeLimits) -> None:
    """Refuse a big image whose file is far too small for its pixels: a decompression bomb costs
    an attacker kilobytes and the server a big photo's memory and time."""
    pixels = image.width * image.height
    if pixels > limits.bomb_check_pixels and size * limits.bomb_pixels_per_byte < pixels:
        raise ApiError(
            413,
            f"image is {image.width}x{image.height} in a file of {size:,} bytes: refused as a decompression "
            f"bomb (an image over {limits.bomb_check_pixels:,} pixels needs at least one byte per "
            f"{limits.bomb_pixels_per_byte} pixels)",
        )


def read_upload(upload: UploadBytes, limits: DecodeLimits) -> Upload:
    """Validate and decode a request's image and optional mask.

    Both headers are checked before either is decoded. Without a mask file the image's own
    transparency is the mask (transparent = fill); with one, the image's alpha is ignored. A
    mask placed with ``mask_at`` covers only its rectangle of the photo (nothing outside it is
    hole), so a client sends the painted area of a 48-megapixel photo, not a 48-megapixel
    mask. The pixels under the (grown) hole are blanked here, before anything else sees them.
    """
    image = open_checked(upload.image, "image", limits.max_pixels)
    check_density(image, len(upload.image), limits)
    mask = open_checked(upload.mask, "mask", limits.max_pixels) if upload.mask is not None else None
    photo = decode_jpeg(upload.image, image)
    if photo is None:
        image = decode(image, "image")
    size = image.size if photo is None else (photo.shape[1], photo.shape[0])
    if mask is None:
        hole = transparent_hole(image)  # None for the JPEGs OpenCV decodes: RGB has no alpha
        if hole is None:
            raise ApiError(
                422,
                "no mask: send a mask file (white or opaque = fill), "
                "or an image whose transparent pixels mark what to fill",
            )
    else:
        mask = decode(mask, "mask")
        hole = placed_hole(mask, size, upload.mask_at)
    hole = grow_hole(hole, upload.grow)
    if photo is None:
        photo = erased(np.asarray(to_rgb(image, "image")), hole)
    else:
        erase(photo, hole)
    return Upload(photo, hole, rgb_profile(image))


def placed_hole(mask: Image.Image, size: tuple[int, int], at: tuple[int, int] | None) -> np.ndarray:
    """The (H, W) hole of a photo of ``size`` from its mask image: the same size as the photo,
    or, placed at ``at`` = (left, top), any rectangle inside it."""
    (width, height), (mw, mh) = size, mask.size
    if at is None and mask.size != size:
        raise ApiError(422, f"mask is {mw}x{mh} but image is {width}x{height}; they must be the same size")
    left, top = at or (0, 0)
    if left + mw > width or top + mh > height:
        raise ApiError(
            422,
            f"mask is {mw}x{mh} at ({left}, {top}) but image is {width}x{height}; the mask must lie inside the image",
        )
    try:
        painted = mask_from_image(mask)
    except Exception as exc:
        raise ApiError(422, f"mask has an unsupported pixel format ({mask.mode}): {exc}") from None
    if at is None:
        return painted
    hole = np.zeros((height, width), bool)
    hole[top : top + mh, left : left + mw] = painted
    return hole


def rgb_profile(img: Image.Image) -> bytes | None:
    """The embedded ICC profile when it describes the RGB pixels we return: a Display-P3 or
    Adobe RGB photo must keep its profile or it looks washed out; a CMYK or greyscale
    profile does not fit the converted RGB result and is dropped."""
    profile = img.info.get("icc_profile")
    return profile if profile and img.mode in ("RGB", "RGBA") else None


MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg"}


def encode(rgb: np.ndarray, fmt: str, icc_profile: bytes | None = None) -> bytes:
    """PNG or high-quality 4:4:4 JPEG, carrying the photo's colour profile.

    Encoding is the biggest single CPU cost of a request (a third of the server's time on a
    512 px photo), so PNG uses zlib level 1 with Huffman-only coding: on photos, where
    LZ77 matches are rare, it is smaller than level 1's default strategy and faster. OpenCV's
    encoder does that in 12 ms on a 512 px photo against Pillow's 16-19 ms; it cannot embed a
    colour profile, so a photo that has one goes through Pillow with the same settings.
    """
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    if fmt == "png" and icc_profile is None:
        params = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY]
        ok, data = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params)
        if ok:
            return data.tobytes()
    buffer = io.BytesIO()
    image = Image.fromarray(rgb)
    if fmt == "jpeg":
        image.save(buffer, "JPEG", quality=95, subsampling=0, icc_profile=icc_profile)
    else:
        image.save(buffer, "PNG", compress_level=1, compress_type=zlib.Z_HUFFMAN_ONLY, icc_profile=icc_profile)
    return buffer.getvalue()
