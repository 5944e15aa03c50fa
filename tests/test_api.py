"""The HTTP API through httpx against the ASGI app (lifespan included): real photographs,
a generator exported by the tests, every kind of bad input, micro-batching and start-up
failures. No timing assertions: waits only poll for a state, with a generous safety limit."""

from __future__ import annotations

import asyncio
import base64
import gc
import io
import re
import shutil
import struct
import threading
import time
import tomllib
import weakref
import zlib
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx
import numpy as np
import pytest
import torch
from fastapi import FastAPI
from PIL import Image, ImageOps

from app import scheduling
from app.batching import Batcher, BatcherClosed, QueueFull
from app.compute import ComputeClosed, ComputeThread, Priority
from app.errors import ApiError
from app.imaging import DecodeLimits, UploadBytes, check_density, decode_jpeg, read_upload
from app.loading import StartupError
from app.main import create_app
from app.presentation import measurements, training_summary
from app.scheduling import PacedRunner
from app.settings import DEFAULT_WEIGHTS, Settings
from app.version import VERSION, checkout_version
from model.fillers import Filler, load_filler
from model.holes import grow_hole

pytestmark = pytest.mark.anyio

UPLOAD_MB = 2.0  # the photo (~0.55 MB) fits; tests of the limit need only a few MB
SAFETY_S = 60.0  # a wait that never ends fails the test instead of hanging it


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


def settings_for(weights: Path, **overrides) -> Settings:
    values = {"weights": weights, "models_dir": weights.parent, "max_upload_mb": UPLOAD_MB, "device": "cpu"}
    return Settings(**{**values, **overrides})


@asynccontextmanager
async def serve(settings: Settings, **client_kwargs) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app with its lifespan running, and a client talking to it in-process."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, **client_kwargs)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=SAFETY_S) as client:
            yield app, client


@pytest.fixture(scope="module")
async def served(tiny_weights: Path) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with serve(settings_for(tiny_weights)) as pair:
        yield pair


@pytest.fixture
def client(served: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    return served[1]


@pytest.fixture
def app(served: tuple[FastAPI, httpx.AsyncClient]) -> FastAPI:
    return served[0]


# --------------------------------------------------------------------------- helpers
def png(array_or_image: np.ndarray | Image.Image, **save) -> bytes:
    image = array_or_image if isinstance(array_or_image, Image.Image) else Image.fromarray(array_or_image)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **save)
    return buffer.getvalue()


def encoded(image: Image.Image, fmt: str, **save) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def painted_mask(height: int, width: int) -> np.ndarray:
    """A rectangle and a round brush dab: two separate holes, like a person paints them."""
    hole = np.zeros((height, width), bool)
    hole[200:296, 300:396] = True
    yy, xx = np.mgrid[:height, :width]
    hole |= (yy - 400) ** 2 + (xx - 150) ** 2 < 30**2
    return hole


def mask_png(hole: np.ndarray) -> bytes:
    return png(hole.astype(np.uint8) * 255)


def decode(content: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(content)))


@pytest.fixture(scope="module")
def photo(photo_path: Path) -> Image.Image:
    return Image.open(photo_path).convert("RGB")


@pytest.fixture(scope="module")
def photo_bytes(photo_path: Path) -> bytes:
    return photo_path.read_bytes()


@pytest.fixture(scope="module")
def hole(photo: Image.Image) -> np.ndarray:
    return painted_mask(photo.height, photo.width)


async def post(
    client: httpx.AsyncClient, image: bytes | None, mask: bytes | None = None, **fields: str
) -> httpx.Response:
    files = {}
    if image is not None:
        files["image"] = ("photo.png", image, "application/octet-stream")
    if mask is not None:
        files["mask"] = ("mask.png", mask, "image/png")
    return await client.post("/inpaint", files=files or None, data=fields or None)


def assert_filled(response: httpx.Response, source: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """200 PNG, same size, bit-exact outside the hole, clearly changed inside."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    out = decode(response.content)
    assert out.shape == source.shape
    np.testing.assert_array_equal(out[~hole], source[~hole])
    changed = np.any(out[hole] != source[hole], axis=-1).mean()
    assert changed > 0.5, f"only {changed:.0%} of the hole changed"
    return out


def assert_error(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    for word in words:
        assert word.lower() in detail.lower(), detail


async def wait_until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + SAFETY_S
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await anyio.sleep(0.01)


def blocking_wait(predicate: Callable[[], bool], what: str) -> None:
    """``wait_until`` for a thread that is not the event loop."""
    deadline = time.monotonic() + SAFETY_S
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.005)


# --------------------------------------------------------------------------- round trips
async def test_round_trip_on_real_photo(client, photo, photo_bytes, hole):
    response = await post(client, photo_bytes, mask_png(hole))
    assert_filled(response, np.asarray(photo), hole)
    assert response.headers["x-inpaint-model"] == "ce-test"
    assert response.headers["x-inpaint-holes"] == "2"
    assert response.headers["x-inpaint-pixels"] == str(int(hole.sum()))
    assert server_timing(response) == ["decode", "prepare", "fill", "finish"]


def server_timing(response: httpx.Response) -> list[str]:
    """The steps a Server-Timing header names, each checked to carry a duration in ms."""
    steps = []
    for entry in response.headers["server-timing"].split(", "):
        name, duration = entry.split(";dur=")
        assert float(duration) >= 0
        steps.append(name)
    return steps


async def test_jpeg_output(client, photo, photo_bytes, hole):
    response = await post(client, photo_bytes, mask_png(hole), format="jpeg")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    out = Image.open(io.BytesIO(response.content))
    assert out.format == "JPEG" and out.size == photo.size


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
async def test_jpeg_and_webp_uploads(client, photo, hole, fmt):
    data = encoded(photo, fmt, quality=90)
    source = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert_filled(await post(client, data, mask_png(hole)), source, hole)


async def test_every_listed_model_fills(client, photo, photo_bytes, hole):
    models = (await client.get("/api/models")).json()
    assert {m["name"] for m in models} >= {"ce-test", "telea", "ns"}
    for info in models:
        response = await post(client, photo_bytes, mask_png(hole), model=info["name"])
        assert_filled(response, np.asarray(photo), hole)
        assert response.headers["x-inpaint-model"] == info["name"]


async def test_nothing_erased_reaches_any_served_models_fill(shared_data):
    """The shipped server's every model (both generators, telea, ns): the same photo erased in
    magenta and in green under a thin wire and a blob comes back identical."""
    photo = np.asarray(Image.open(shared_data / "test" / "kodak24" / "kodim05.png").convert("RGB"))
    hole = np.zeros(photo.shape[:2], bool)
    hole[100:108, 50:700] = True  # the generators' windows pre-fill a wire with Telea
    hole[300:340, 200:260] = True
    magenta, green = photo.copy(), photo.copy()
    magenta[hole], green[hole] = (255, 0, 255), (0, 255, 0)
    async with serve(Settings(max_upload_mb=UPLOAD_MB, device="cpu")) as (_, client):
        names = [m["name"] for m in (await client.get("/api/models")).json()]
        assert names == ["ce-region", "ce-center", "telea", "ns"]
        for name in names:
            filled = [await post(client, png(erased), mask_png(hole), model=name) for erased in (magenta, green)]
            assert_filled(filled[0], magenta, hole)
            assert filled[0].content == filled[1].content, name


def test_the_hole_is_blanked_where_the_upload_is_decoded(photo_bytes, hole):
    upload = read_upload(UploadBytes(photo_bytes, mask_png(hole)), DecodeLimits(4096 * 4096, 4096 * 4096, 256))
    assert (upload.rgb[hole] == 0).all() and (upload.rgb[~hole] != 0).any()
    np.testing.assert_array_equal(upload.rgb[~hole], decode(photo_bytes)[~hole])


async def test_blank_model_means_default(client, photo, photo_bytes, hole):
    response = await post(client, photo_bytes, mask_png(hole), model="")
    assert_filled(response, np.asarray(photo), hole)
    assert response.headers["x-inpaint-model"] == "ce-test"


async def test_transparent_pixels_of_the_image_are_the_mask(client, photo, hole):
    rgba = np.dstack([np.asarray(photo), np.where(hole, 0, 255).astype(np.uint8)])
    response = await post(client, png(rgba))
    out = assert_filled(response, np.asarray(photo), hole)
    assert out.shape[-1] == 3  # opaque RGB out


async def test_mask_with_alpha_fills_its_opaque_pixels(client, photo, photo_bytes, hole):
    """What a canvas editor exports: transparent everywhere except the painted strokes."""
    strokes = np.zeros((*hole.shape, 4), np.uint8)
    strokes[hole] = (255, 0, 0, 255)
    assert_filled(await post(client, photo_bytes, png(strokes)), np.asarray(photo), hole)


async def test_grow_dilates_the_mask_before_filling(client, photo, photo_bytes, hole):
    grown = grow_hole(hole, 6)
    assert grown.sum() > hole.sum()
    out = assert_filled(await post(client, photo_bytes, mask_png(hole), grow="6"), np.asarray(photo), grown)
    assert np.any(out[grown & ~hole] != np.asarray(photo)[grown & ~hole], axis=-1).mean() > 0.5
    assert_error(await post(client, photo_bytes, mask_png(hole), grow="65"), 422, "grow")
    assert_error(await post(client, photo_bytes, mask_png(hole), grow="-1"), 422, "grow")


async def test_an_all_opaque_rgba_mask_is_read_by_its_luminance(client, photo, photo_bytes, hole):
    """White strokes on an opaque black background, as painting programs export them: the
    alpha channel carries nothing, so the photo must not be wiped."""
    painted = np.zeros((*hole.shape, 4), np.uint8)
    painted[..., 3] = 255
    painted[hole] = (255, 255, 255, 255)
    assert_filled(await post(client, photo_bytes, png(painted)), np.asarray(photo), hole)


async def test_mask_file_wins_over_image_alpha(client, photo, hole):
    rgba = np.dstack([np.asarray(photo), np.full(hole.shape, 0, np.uint8)])  # all transparent
    response = await post(client, png(rgba), mask_png(hole))
    assert_filled(response, np.asarray(photo), hole)


async def test_sixteen_bit_greyscale_is_scaled_not_clipped(client, photo, hole):
    grey = np.asarray(photo.convert("L"))
    response = await post(client, png(Image.fromarray(grey.astype(np.uint16) * 257)), mask_png(hole))
    assert_filled(response, np.repeat(grey[..., None], 3, axis=-1), hole)


async def test_exif_orientation_is_applied_before_matching_the_mask(client, photo):
    exif = Image.Exif()
    exif[0x0112] = 6  # shown rotated 90 degrees clockwise
    data = encoded(photo, "JPEG", quality=95, exif=exif)
    shown = np.asarray(Image.open(io.BytesIO(data)).convert("RGB").transpose(Image.Transpose.ROTATE_270))
    hole = painted_mask(*shown.shape[:2])
    assert_filled(await post(client, data, mask_png(hole)), shown, hole)
    raw_sized = painted_mask(photo.height, photo.width)
    assert_error(await post(client, data, mask_png(raw_sized)), 422, "same size")


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_jpeg_decodes_upright_with_the_pixels_pillow_decodes(photo, orientation):
    """OpenCV decodes RGB JPEGs (the fast path for phone photos): every EXIF orientation must
    come out as Pillow's exif_transpose shows it, pixel for pixel."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encoded(photo, "JPEG", quality=92, exif=exif)
    fast = decode_jpeg(data, Image.open(io.BytesIO(data)))
    assert fast is not None and fast.flags.writeable
    np.testing.assert_array_equal(fast, np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data)))))


def test_what_opencv_should_not_decode_is_left_to_pillow(photo):
    data = encoded(photo, "JPEG", quality=90)
    truncated, with_trailer = data[: len(data) // 3], data + b"\0\0\0\x18ftypmp42"  # a motion photo's video
    for other in (truncated, with_trailer, encoded(photo.convert("CMYK"), "JPEG"), encoded(photo, "PNG")):
        assert decode_jpeg(other, Image.open(io.BytesIO(other))) is None


async def test_a_jpeg_with_a_trailer_after_the_image_is_filled(client, photo, hole):
    data = encoded(photo, "JPEG", quality=95) + b"\0\0\0\x18ftypmp42" + bytes(200)
    assert_filled(await post(client, data, mask_png(hole)), np.asarray(Image.open(io.BytesIO(data))), hole)


@pytest.mark.parametrize("out_format", ["png", "jpeg"])
async def test_colour_profile_is_carried_into_the_result(client, photo, hole, out_format):
    """A wide-gamut photo keeps its ICC profile, or it would come back looking washed out."""
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()  # any valid, non-sRGB profile
    data = encoded(photo, "JPEG", quality=95, icc_profile=profile)
    for model in ("ce-test", "telea"):
        response = await post(client, data, mask_png(hole), model=model, format=out_format)
        assert response.status_code == 200, response.text
        assert Image.open(io.BytesIO(response.content)).info.get("icc_profile") == profile


async def test_greyscale_profile_is_not_attached_to_rgb_output(client, photo, hole):
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()  # attached to grey pixels
    data = encoded(photo.convert("L"), "PNG", icc_profile=profile)
    response = await post(client, data, mask_png(hole))
    assert response.status_code == 200, response.text
    assert "icc_profile" not in Image.open(io.BytesIO(response.content)).info


async def test_empty_mask_returns_the_image_unchanged(client, photo, photo_bytes):
    response = await post(client, photo_bytes, mask_png(np.zeros((photo.height, photo.width), bool)))
    assert response.status_code == 200, response.text
    assert response.headers["x-inpaint-holes"] == "0"
    assert response.headers["x-inpaint-pixels"] == "0"
    assert server_timing(response) == ["decode", "encode"]
    np.testing.assert_array_equal(decode(response.content), np.asarray(photo))


async def test_fully_opaque_image_without_mask_is_an_empty_mask(client, photo):
    rgba = np.dstack([np.asarray(photo), np.full((photo.height, photo.width), 255, np.uint8)])
    response = await post(client, png(rgba))
    assert response.status_code == 200 and response.headers["x-inpaint-holes"] == "0"


# --------------------------------------------------------------------------- bad input
def png_with_size(width: int, height: int, idat: bytes = b"") -> bytes:
    """A PNG whose header declares any size, followed by ``idat`` (possibly nothing)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


async def test_random_bytes_are_not_an_image(client, hole):
    rng = np.random.default_rng(1)
    response = await post(client, rng.bytes(4096), mask_png(hole))
    assert_error(response, 415, "image", "PNG, JPEG or WebP")


async def test_other_image_formats_are_refused(client, photo, hole):
    response = await post(client, encoded(photo, "BMP"), mask_png(hole))
    assert_error(response, 415, "not a PNG, JPEG or WebP")


async def test_mask_that_is_not_an_image(client, photo_bytes):
    assert_error(await post(client, photo_bytes, b"definitely not a png"), 415, "mask")


async def test_truncated_png(client, photo_bytes, hole):
    response = await post(client, photo_bytes[: len(photo_bytes) // 2], mask_png(hole))
    assert_error(response, 422, "truncated")


async def test_truncated_jpeg(client, photo, hole):
    data = encoded(photo, "JPEG", quality=90)
    assert_error(await post(client, data[: len(data) // 3], mask_png(hole)), 422, "truncated")


async def test_empty_image_file(client, hole):
    assert_error(await post(client, b"", mask_png(hole)), 422, "image is empty")


async def test_missing_image_field(client, hole):
    assert_error(await post(client, None, mask_png(hole)), 422, "image", "required")


async def test_neither_mask_nor_transparency(client, photo_bytes):
    assert_error(await post(client, photo_bytes), 422, "no mask")


async def test_mask_size_must_match(client, photo_bytes, photo):
    small = mask_png(np.ones((photo.height // 2, photo.width // 2), bool))
    response = await post(client, photo_bytes, small)
    assert_error(response, 422, f"{photo.width // 2}x{photo.height // 2}", f"{photo.width}x{photo.height}")


async def test_unknown_model_lists_valid_names(client, photo_bytes, hole):
    response = await post(client, photo_bytes, mask_png(hole), model="gpt-paint")
    assert_error(response, 422, "gpt-paint", "ce-test", "telea", "ns")


async def test_unknown_model_name_is_not_echoed_in_full(client, photo_bytes, hole):
    response = await post(client, photo_bytes, mask_png(hole), model="x" * 100_000)
    assert_error(response, 422, "unknown model", "valid names")
    assert len(response.content) < 1000


async def test_browser_form_without_a_mask_file_uses_the_alpha_channel(client, photo, hole):
    """An empty <input type=file> arrives as an unnamed, empty part: that means 'no mask'."""
    rgba = png(np.dstack([np.asarray(photo), np.where(hole, 0, 255).astype(np.uint8)]))
    files = {"image": ("photo.png", rgba, "image/png"), "mask": ("", b"", "application/octet-stream")}
    assert_filled(await client.post("/inpaint", files=files), np.asarray(photo), hole)


async def test_unsupported_format(client, photo_bytes, hole):
    assert_error(await post(client, photo_bytes, mask_png(hole), format="gif"), 422, "format", "png", "jpeg")


async def test_decompression_bomb_over_the_pixel_limit(client):
    """81 MB of pixels in a 80 kB file: refused from the header, before anything is inflated."""
    side = 9000
    bomb = png_with_size(side, side, zlib.compress(b"\x00" * ((side + 1) * side), 9))
    assert len(bomb) < 100_000
    response = await post(client, bomb, bomb)
    assert_error(response, 413, "9000x9000", "over the limit of 50,331,648 pixels")


async def test_decompression_bomb_beyond_pillows_own_limit(client):
    bomb = png_with_size(60_000, 60_000)
    assert_error(await post(client, bomb), 413, "image")


async def test_a_needle_image_within_the_pixel_limit_is_refused_not_a_500(client):
    """16,777,216 x 1 is within the pixel limit but no window can hold it: a clear 422."""
    needle = png(np.full((1, 4096 * 4096, 3), 120, np.uint8))
    response = await post(client, needle, png(np.full((1, 4096 * 4096), 255, np.uint8)))
    assert_error(response, 422, "cannot be inpainted")


async def test_admission_answers_a_fast_503_beyond_max_inflight(tiny_weights, photo_bytes, hole):
    """Under overload the server refuses at once with Retry-After instead of queueing unseen."""
    async with serve(settings_for(tiny_weights, max_inflight=1)) as (_, client):
        responses = await asyncio.gather(*(post(client, photo_bytes, mask_png(hole)) for _ in range(6)))
        codes = sorted(r.status_code for r in responses)
        assert codes[0] == 200 and codes[-1] == 503, codes
        busy = next(r for r in responses if r.status_code == 503)
        assert busy.headers["Retry-After"] == "1" and "busy" in busy.json()["detail"]
        admission = (await client.get("/healthz")).json()["admission"]
        assert admission["refused"] == codes.count(503) and admission["refused_pixels"] == 0
        assert {admission[key] for key in ("inflight", "inflight_pixels")} == {0}
        assert (await post(client, photo_bytes, mask_png(hole))).status_code == 200  # recovered


async def test_admission_bounds_the_photo_pixels_in_flight(tiny_weights, photo_bytes, hole):
    """A burst of big photos cannot exhaust memory: beyond CE_MAX_INFLIGHT_PIXELS (read from the
    headers), a fast 503; a photo bigger than the budget alone is still filled."""
    async with serve(settings_for(tiny_weights, max_inflight_pixels=768 * 512 + 1)) as (_, client):
        responses = await asyncio.gather(*(post(client, photo_bytes, mask_png(hole)) for _ in range(4)))
        codes = sorted(r.status_code for r in responses)
        assert codes[0] == 200 and codes[-1] == 503, codes
        busy = next(r for r in responses if r.status_code == 503)
        assert busy.headers["Retry-After"] == "1" and "big photos" in busy.json()["detail"]
        admission = (await client.get("/healthz")).json()["admission"]
        assert admission["refused_pixels"] == codes.count(503) and admission["inflight_pixels"] == 0
    async with serve(settings_for(tiny_weights, max_inflight_pixels=1000)) as (_, client):
        assert (await post(client, photo_bytes, mask_png(hole))).status_code == 200


async def test_a_phone_sized_bomb_within_the_pixel_limit_is_refused_by_its_density(client):
    """48 MP of pixels in a few kB: within CE_MAX_PIXELS, refused before decoding because no real
    photo of that size is so small (one byte per 256 pixels at least)."""
    bomb = png_with_size(6000, 8000, zlib.compress(b"\x00" * ((6000 + 1) * 8000), 9))
    assert_error(await post(client, bomb, bomb), 413, "6000x8000", "decompression bomb")


def test_the_density_check_lets_a_real_big_photo_through() -> None:
    """The check reads only the header and the file's size: a 48 MP JPEG of a few megabytes
    passes, the same header in a 100 kB file does not."""
    header = Image.new("1", (6000, 8000))
    limits = DecodeLimits(8192 * 6144, 4096 * 4096, 256)
    check_density(header, 3_000_000, limits)
    with pytest.raises(ApiError) as refused:
        check_density(header, 100_000, limits)
    assert refused.value.status_code == 413


async def test_low_pixel_limit_from_settings(tiny_weights, photo_bytes, hole):
    async with serve(settings_for(tiny_weights, max_pixels=100_000)) as (_, client):
        response = await post(client, photo_bytes, mask_png(hole))
    assert_error(response, 413, "768x512", "100,000 pixels")


async def test_grow_limit_from_settings(tiny_weights, photo, photo_bytes, hole):
    """CE_MAX_GROW bounds the grow field, in the answers, the schema and the editor page."""
    async with serve(settings_for(tiny_weights, max_grow=8)) as (_, client):
        assert_error(await post(client, photo_bytes, mask_png(hole), grow="9"), 422, "grow", "less than or equal to 8")
        grown = grow_hole(hole, 8)
        assert_filled(await post(client, photo_bytes, mask_png(hole), grow="8"), np.asarray(photo), grown)
        schema = (await client.get("/openapi.json")).json()
        form = next(c for c in schema["components"]["schemas"].values() if "grow" in c.get("properties", {}))
        assert form["properties"]["grow"]["maximum"] == 8
        assert 'id="grow" data-testid="grow" min="0" max="8"' in (await client.get("/")).text


async def test_too_many_holes_for_a_generator(tiny_weights, photo_bytes, photo):
    dots = np.zeros((photo.height, photo.width), bool)
    dots[::40, ::40] = True  # far apart: each needs its own window
    async with serve(settings_for(tiny_weights, max_holes=10)) as (_, client):
        assert_error(await post(client, photo_bytes, mask_png(dots)), 422, "holes", "at most 10")
        # the classical fillers have no windows, so no such limit
        response = await post(client, photo_bytes, mask_png(dots), model="telea")
        assert response.status_code == 200, response.text


async def test_malformed_multipart_body(client):
    response = await client.post(
        "/inpaint",
        content=b"--xyz\r\nContent-Disposition: form-data; name=image; filename=a.png\r\n\r\nabc",
        headers={"content-type": "multipart/form-data; boundary=xyz"},
    )
    assert 400 <= response.status_code < 500
    assert isinstance(response.json()["detail"], str)


# --------------------------------------------------------------------------- upload limit
async def test_upload_limit_from_content_length_is_enforced_before_reading(client):
    read = []

    async def body() -> AsyncIterator[bytes]:
        read.append(True)
        yield b"x"

    response = await client.post(
        "/inpaint",
        content=body(),
        headers={"content-type": "multipart/form-data; boundary=xyz", "content-length": str(3 * 2**30)},
    )
    assert_error(response, 413, "upload limit", "2 MiB")
    assert response.headers["connection"] == "close"
    assert not read, "the body was read although Content-Length was over the limit"


async def test_chunked_upload_is_cut_off_while_streaming(client):
    """A 'multi-GB' chunked upload: the server stops reading right after the limit."""
    chunk = b"\0" * 65536
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        preamble = b'--xyz\r\nContent-Disposition: form-data; name="image"; filename="big.png"\r\n\r\n'
        sent += len(preamble)
        yield preamble
        while sent < 4 * 2**30:
            sent += len(chunk)
            yield chunk

    response = await client.post(
        "/inpaint", content=body(), headers={"content-type": "multipart/form-data; boundary=xyz"}
    )
    assert_error(response, 413, "upload limit")
    assert sent <= UPLOAD_MB * 2**20 + 2 * len(chunk)


async def test_ordinary_upload_over_the_limit(client, hole):
    noise = np.random.default_rng(0).integers(0, 256, (1200, 1200, 3), dtype=np.uint8)  # ~4 MB as PNG
    assert_error(await post(client, png(noise), mask_png(hole)), 413, "upload limit")


# --------------------------------------------------------------------------- service endpoints
async def test_healthz(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    health = response.json()
    assert health["status"] == "ok"
    assert health["version"] == VERSION
    assert health["default_model"] == "ce-test"
    assert health["models"] == ["ce-test", "telea", "ns"]
    assert health["device"] == "cpu"
    assert health["limits"] == {"max_upload_mb": UPLOAD_MB, "max_pixels": 8192 * 6144, "max_holes": 256}
    assert 0 < health["memory"]["rss_mib"] <= health["memory"]["peak_rss_mib"]
    lanes = {f"{name}{lane}" for name in health["models"] for lane in ("", ":heavy")}
    assert set(health["queues"]) == lanes


async def test_the_app_reports_the_project_version(app):
    """The version in pyproject.toml (CHANGELOG.md's), in the OpenAPI document and /healthz."""
    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    assert VERSION == checkout_version() == pyproject["project"]["version"]
    assert app.openapi()["info"]["version"] == VERSION != "0+unknown"


def test_the_version_falls_back_to_the_package_metadata(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "someone-else"\nversion = "9.9"\n')
    assert checkout_version(tmp_path / "pyproject.toml") is None  # another project's file
    assert checkout_version(tmp_path / "missing.toml") is None


async def test_api_models_describes_each_model(client, tiny_weights):
    models = {m["name"]: m for m in (await client.get("/api/models")).json()}
    ce = models["ce-test"]
    assert ce["kind"] == "context-encoder" and ce["default"] is True
    assert ce["mask_type"] == "mixed" and ce["input_size"] == 128
    assert ce["parameters"] == 4_805_251 and ce["file"] == tiny_weights.name
    # structured fields only: the export's free-text note ("test fixture") is not served
    assert "note" not in ce["training"] and "test fixture" not in str(ce)
    assert set(ce["training"].values()) == {None} and ce["evaluation"] == []
    for name in ("telea", "ns"):
        assert models[name]["kind"] == "classical" and models[name]["default"] is False
        assert models[name]["parameters"] is None and models[name]["training"] is None


def test_api_models_serves_an_exports_records_as_numbers_and_settings():
    """The export's free text (notes, hardware, paths, the protocol's prose) stays in the file."""
    record = {
        "steps": 100, "total_steps": 600, "images_seen": 3200, "total_images_seen": 19200, "batch_size": 32,
        "train_images": 500, "input": "telea", "lambda_rec": 1.0, "lambda_adv": 0.0, "ema": 0.999,
        "precision": "bf16", "mixed_shares": {"region": 0.75, "center": 0.25}, "note": "a long story",
        "hardware": "CPU x86_64, 2 cores", "initialised_from": {"path": "/somewhere/run/checkpoint.pt"},
    }  # fmt: skip
    assert training_summary(record).model_dump() == {
        "steps": 600, "images_seen": 19200, "batch_size": 32, "train_images": 500, "input": "telea",
        "reconstruction": "l2", "reconstruction_weight": 1.0, "adversarial_weight": 0.0,
        "feature_matching_weight": None, "discriminator": None, "hole_shares": {"region": 0.75, "center": 0.25},
        "ema": 0.999, "precision": "bf16",
    }  # fmt: skip
    adversarial = training_summary({**record, "lambda_adv": 0.1, "lambda_fm": 10, "d_arch": "patch", "rec_norm": "l1"})
    assert (adversarial.discriminator, adversarial.reconstruction, adversarial.feature_matching_weight) == (
        "patch", "l1", 10.0
    )  # fmt: skip
    assert training_summary({"input": "a sentence, not a setting"}).input is None
    evaluation = {
        "protocol": "prose about the protocol",
        "results": [
            {"set": "kodak24", "mask": "center", "images": 120, "psnr": 18.8, "l1": 0.09, "ssim": float("nan"),
             "baselines": {"telea": {"psnr": 17.5, "l1": 0.1}}, "comment": "free text"},
        ],
    }  # fmt: skip
    (row,) = measurements(evaluation)
    assert (row.set, row.mask, row.images, row.psnr, row.ssim) == ("kodak24", "center", 120, 18.8, None)
    assert row.baselines == {"telea": {"psnr": 17.5, "l1": 0.1}} and "prose" not in row.model_dump_json()


async def test_editor_page_and_static_files(client):
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "ce-test" in response.text  # the models are passed to the template
    static = Path(__file__).resolve().parents[1] / "static"
    assets = sorted(p for p in static.iterdir() if p.is_file()) if static.is_dir() else []
    if assets:
        assert (await client.get(f"/static/{assets[0].name}")).status_code == 200
    assert (await client.get("/static/no-such-file.js")).status_code == 404


@pytest.mark.parametrize("root_path", ["", "/ce"])
async def test_editor_modules_are_served_as_javascript(app, root_path):
    """The editor is ES modules (no build step): the page loads static/editor/main.js as a module
    through the static URL, which carries the root path when the app is mounted below one, and
    every module it imports is served with a JavaScript type (browsers refuse to run a module
    served as anything else)."""
    transport = httpx.ASGITransport(app=app, root_path=root_path)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=SAFETY_S) as client:
        page = (await client.get(f"{root_path}/")).text
        assert f'<script type="module" src="{root_path}/static/editor/main.js"></script>' in page
        modules = sorted((Path(__file__).resolve().parents[1] / "static" / "editor").glob("*.js"))
        assert "main.js" in [m.name for m in modules]
        # every other module is preloaded, so the browser fetches them at once, not level by level
        preloaded = re.findall(r'<link rel="modulepreload" href="([^"]+)">', page)
        assert preloaded == [f"{root_path}/static/editor/{m.name}" for m in modules if m.name != "main.js"]
        for module in modules:
            response = await client.get(f"{root_path}/static/editor/{module.name}")
            assert response.status_code == 200, module.name
            assert response.headers["content-type"].split(";")[0] in {"text/javascript", "application/javascript"}
            # revalidated on every load: after an upgrade no browser runs old modules beside new ones
            assert response.headers["cache-control"] == "no-cache"
            again = await client.get(
                f"{root_path}/static/editor/{module.name}", headers={"If-None-Match": response.headers["etag"]}
            )
            assert again.status_code == 304


def test_every_editor_module_is_in_main_js_import_graph():
    """The page preloads every file in static/editor, so a browser fetches even a module that
    nothing imports; here the import graph from main.js must reach them all (a file left out
    of it is dead code the browser would download and never run)."""
    folder = Path(__file__).resolve().parents[1] / "static" / "editor"
    reached, todo = set(), ["main.js"]
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo += re.findall(r"from '\./([\w-]+\.js)'", (folder / name).read_text())
    assert reached == {p.name for p in folder.glob("*.js")}


async def test_openapi_documents_fields_and_errors(client):
    schema = (await client.get("/openapi.json")).json()
    operation = schema["paths"]["/inpaint"]["post"]
    body_ref = operation["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    body = schema["components"]["schemas"][body_ref.rsplit("/", 1)[-1]]
    assert set(body["properties"]) == {"image", "mask", "model", "format", "grow"}
    assert all(prop.get("description") for prop in body["properties"].values())
    assert "anyOf" not in body["properties"]["mask"]  # a file or nothing: never a JSON null
    assert body["properties"]["mask"]["type"] == "string" and "mask" not in body.get("required", [])
    model_field = body["properties"]["model"]
    assert model_field["example"] == (await client.get("/healthz")).json()["default_model"]
    assert {"200", "400", "413", "415", "422", "500", "503"} <= set(operation["responses"])
    assert set(operation["responses"]["200"]["content"]) == {"image/png", "image/jpeg"}
    assert "X-Inpaint-Holes: 0" in operation["description"]
    assert (await client.get("/docs")).status_code == 200


async def test_not_ready_without_lifespan(tiny_weights):
    app = create_app(settings_for(tiny_weights))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/healthz")
    assert_error(response, 503, "not loaded")


async def test_unexpected_errors_are_json(tiny_weights, photo_bytes, hole, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("app.service.read_upload", broken)
    async with serve(settings_for(tiny_weights), raise_app_exceptions=False) as (_, client):
        response = await post(client, photo_bytes, mask_png(hole))
    assert_error(response, 500, "internal server error")


# --------------------------------------------------------------------------- batching
def filler_of(app: FastAPI, name: str = "ce-test") -> Filler:
    return app.state.server.models[name].filler


def batcher_of(app: FastAPI, name: str = "ce-test") -> Batcher:
    return app.state.server.models[name].ordinary


def windows_in(works: list) -> int:
    return sum(len(work.inputs) for work in works)


async def test_concurrent_requests_are_micro_batched(app, client, photo, photo_bytes, monkeypatch):
    """8 requests at once, each with its own hole: all succeed, each gets its own result, and
    one generator call serves several of them."""
    shifted = []
    for i in range(8):
        hole = np.zeros((photo.height, photo.width), bool)
        hole[40 + 50 * i : 90 + 50 * i, 60 + 70 * i : 120 + 70 * i] = True
        shifted.append(hole)
    alone = [decode((await post(client, photo_bytes, mask_png(h))).content) for h in shifted[:2]]

    filler, batcher = filler_of(app), batcher_of(app)
    original = filler.run
    first = threading.Event()

    def gated_run(works, runner):
        if not first.is_set():  # hold the first call until every other request waits in the queue
            first.set()
            # one window per request
            blocking_wait(lambda: windows_in(works) + batcher.pending >= 8, "every request to be queued")
        return original(works, runner)

    monkeypatch.setattr(filler, "run", gated_run)
    before = batcher.snapshot()
    responses = [None] * 8

    async def one(i: int) -> None:
        responses[i] = await post(client, photo_bytes, mask_png(shifted[i]))

    async with anyio.create_task_group() as tg:
        for i in range(8):
            tg.start_soon(one, i)

    for response, hole in zip(responses, shifted, strict=True):
        assert_filled(response, np.asarray(photo), hole)
    after = batcher.snapshot()
    assert after["jobs"] - before["jobs"] == 8
    assert after["batched_calls"] > before["batched_calls"]
    assert after["max_jobs_per_call"] >= 2
    health = (await client.get("/healthz")).json()
    assert health["queues"]["ce-test"]["batched_calls"] == after["batched_calls"]
    # batched results are each request's own (same as served alone, up to float rounding)
    for out, ref in zip((decode(r.content) for r in responses[:2]), alone, strict=True):
        assert np.abs(out.astype(int) - ref.astype(int)).max() <= 2


async def test_failing_inference_fails_only_its_request(app, client, photo, photo_bytes, hole, monkeypatch):
    filler, batcher = filler_of(app), batcher_of(app)
    original = filler.run
    calls = []

    def flaky_run(works, runner):
        calls.append(len(works))
        if len(calls) == 1:
            raise RuntimeError("CUDA error: device-side assert (simulated)")
        return original(works, runner)

    monkeypatch.setattr(filler, "run", flaky_run)
    failed_before = batcher.snapshot()["failed_jobs"]
    assert_error(await post(client, photo_bytes, mask_png(hole)), 500, "failed", "ce-test")
    assert_filled(await post(client, photo_bytes, mask_png(hole)), np.asarray(photo), hole)
    assert batcher.snapshot()["failed_jobs"] == failed_before + 1


async def test_full_queue_answers_503_with_retry_after(tiny_weights, photo, photo_bytes, hole):
    async with serve(settings_for(tiny_weights, queue_size=1, workers=1)) as (app, client):
        filler, batcher = filler_of(app), batcher_of(app)
        original, entered, release = filler.run, threading.Event(), threading.Event()

        def blocked_run(works, runner):
            entered.set()
            release.wait(SAFETY_S)
            return original(works, runner)

        filler.run = blocked_run
        results = {}

        async def send(key: str) -> None:
            results[key] = await post(client, photo_bytes, mask_png(hole))

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(send, "running")
                await wait_until(entered.is_set, "the first request to reach the generator")
                tg.start_soon(send, "queued")
                await wait_until(lambda: batcher.pending == 1, "the second request to wait in the queue")
                refused = await post(client, photo_bytes, mask_png(hole))
                release.set()
        finally:
            release.set()
        assert_error(refused, 503, "busy", "retry")
        assert refused.headers["retry-after"] == "1"
        for key in ("running", "queued"):
            assert_filled(results[key], np.asarray(photo), hole)
        assert batcher.snapshot()["rejected"] == 1


async def test_a_heavy_request_does_not_hold_up_light_ones(tiny_weights, photo, photo_bytes, hole):
    """A mask that needs more than one batch of windows runs in the model's heavy lane: while
    it is held inside the generator, an ordinary request is still served."""
    async with serve(settings_for(tiny_weights, max_batch=4)) as (app, client):
        filler = filler_of(app)
        original, heavy_entered, release = filler.run, threading.Event(), threading.Event()

        def held_when_heavy(works, runner):
            if windows_in(works) > 4:
                heavy_entered.set()
                release.wait(SAFETY_S)
            return original(works, runner)

        filler.run = held_when_heavy
        strokes = np.zeros((photo.height, photo.width), bool)
        strokes[20:28, :] = strokes[200:208, :] = strokes[:, 30:38] = True  # long wires: many windows
        results = {}

        async def send(key: str, mask: np.ndarray) -> None:
            results[key] = await post(client, photo_bytes, mask_png(mask))

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(send, "heavy", strokes)
                await wait_until(heavy_entered.is_set, "the heavy request to reach the generator")
                assert not batcher_of(app).busy  # a heavy request leaves nothing for the ordinary lane to wait for
                await send("light", hole)
                assert not release.is_set()  # the light one was served while the heavy one was held
                release.set()
        finally:
            release.set()
        assert_filled(results["light"], np.asarray(photo), hole)
        assert_filled(results["heavy"], np.asarray(photo), strokes)
        queues = (await client.get("/healthz")).json()["queues"]
        assert queues["ce-test:heavy"]["jobs"] == 1 and queues["ce-test"]["jobs"] == 1


async def test_every_lane_runs_its_torch_work_in_the_one_compute_thread(tiny_weights, photo, photo_bytes, hole):
    """Loading, ordinary and heavy requests alike: one thread runs the generator, so the
    process keeps one OpenMP team (see app.compute)."""
    async with serve(settings_for(tiny_weights, max_batch=4)) as (app, client):
        model = filler_of(app).model
        threads: list[str] = []
        original = model.generator.forward

        def recording(x):
            threads.append(threading.current_thread().name)
            return original(x)

        model.generator.forward = recording
        strokes = np.zeros((photo.height, photo.width), bool)
        strokes[20:28, :] = strokes[200:208, :] = strokes[:, 30:38] = True  # many windows: the heavy lane
        assert_filled(await post(client, photo_bytes, mask_png(hole)), np.asarray(photo), hole)
        assert_filled(await post(client, photo_bytes, mask_png(strokes)), np.asarray(photo), strokes)
        queues = (await client.get("/healthz")).json()["queues"]
        assert queues["ce-test:heavy"]["jobs"] == 1 and queues["ce-test"]["jobs"] == 1
        assert len(threads) >= 3 and set(threads) == {app.state.server.compute.name}


def test_the_compute_thread_runs_ordinary_chunks_before_queued_heavy_ones():
    compute = ComputeThread()
    busy, release, order = threading.Event(), threading.Event(), []

    def hold() -> None:
        busy.set()
        release.wait(SAFETY_S)

    try:
        with ThreadPoolExecutor(3) as pool:
            held = pool.submit(compute.call, hold)
            busy.wait(SAFETY_S)
            heavy = pool.submit(compute.call, order.append, "heavy", priority=1)
            blocking_wait(lambda: compute.queued == 1, "the heavy job to be queued")
            light = pool.submit(compute.call, order.append, "light")
            blocking_wait(lambda: compute.queued == 2, "the light job to be queued")
            release.set()
            for future in (held, heavy, light):
                future.result(SAFETY_S)
        assert order == ["light", "heavy"]
        with pytest.raises(ZeroDivisionError):
            compute.call(lambda: 1 / 0)  # the caller gets the error; the thread goes on
        assert compute.call(sum, [1, 2]) == 3
    finally:
        release.set()
        compute.close()
    with pytest.raises(ComputeClosed):
        compute.call(sum, [1])


def test_a_heavy_request_runs_in_small_pieces_queued_behind_ordinary_work(tiny_weights, photo, monkeypatch):
    """The heavy lane's runner hands the generator's windows to the compute thread behind
    ordinary work: three at a time while no ordinary request is around, two at a time with a
    pause as long as the piece after each while some are on their way, switching as they come
    and go; the pieces fill what one call fills."""
    priorities: list[int] = []
    pauses: list[float] = []

    class Compute:
        def call(self, fn, priority=0):
            priorities.append(priority)
            return fn()

    class Clock:  # each reading a second later than the last: every piece "takes" 1 s
        now = 0.0

        def monotonic(self) -> float:
            self.now += 1.0
            return self.now

        def sleep(self, seconds: float) -> None:
            pauses.append(seconds)

    class Ordinary:
        busy = False

    monkeypatch.setattr(scheduling, "time", Clock())
    filler = load_filler(tiny_weights)
    strokes = np.zeros((photo.height, photo.width), bool)
    strokes[20:28, :] = strokes[:, 30:38] = True
    work = filler.prepare(np.asarray(photo), strokes)
    windows = filler.cost(work)
    pieces: list[int] = []
    fill_chunk = filler.model.fill_chunk
    monkeypatch.setattr(
        filler.model, "fill_chunk", lambda pixels, holes: pieces.append(len(pixels)) or fill_chunk(pixels, holes)
    )
    ordinary = Ordinary()
    (paced,) = filler.run([work], PacedRunner(Compute(), piece=2, idle_piece=3, ordinary=ordinary))
    assert windows > 6 and pieces == [3] * (windows // 3) + [windows % 3] * (windows % 3 > 0)
    assert priorities == [Priority.HEAVY] * len(pieces) and pauses == []  # nobody waiting: no pause
    pieces.clear()
    ordinary.busy = True
    filler.run([work], PacedRunner(Compute(), piece=2, idle_piece=3, ordinary=ordinary))
    assert pieces == [2] * (windows // 2) + [1] * (windows % 2)
    assert pauses == [1.0] * len(pieces)  # after each piece
    pieces.clear()
    pauses.clear()

    def arrives_during_the_first_piece(pixels, holes):
        ordinary.busy = True
        pieces.append(len(pixels))
        return fill_chunk(pixels, holes)

    ordinary.busy = False
    monkeypatch.setattr(filler.model, "fill_chunk", arrives_during_the_first_piece)
    (switched,) = filler.run([work], PacedRunner(Compute(), piece=2, idle_piece=3, ordinary=ordinary))
    assert pieces[:3] == [3, 2, 2] and sum(pieces) == windows
    (alone,) = filler.run([work])  # in place, the model's own chunks
    np.testing.assert_array_equal(paced, alone)
    np.testing.assert_array_equal(switched, alone)


# --------------------------------------------------------------------------- the batcher itself
def test_batcher_failed_batch_fails_only_the_bad_job():
    ran: list[list[int]] = []

    def run(payloads: list[int]) -> list[int]:
        ran.append(payloads)
        if -1 in payloads:
            raise ValueError("bad payload")
        return [p * 10 for p in payloads]

    batcher = Batcher("t", run, max_batch=8, wait_s=0, queue_size=8)
    futures = [batcher.submit(p) for p in (1, -1, 3)]  # queued before the thread starts: one batch
    batcher.start()
    try:
        assert futures[0].result(SAFETY_S) == 10
        assert futures[2].result(SAFETY_S) == 30
        with pytest.raises(ValueError, match="bad payload"):
            futures[1].result(SAFETY_S)
        assert batcher.submit(4).result(SAFETY_S) == 40  # the thread survived
    finally:
        batcher.close()
    assert ran[0] == [1, -1, 3]  # tried together first, then one by one
    assert batcher.stats.failed_jobs == 1


def test_batcher_lets_go_of_a_finished_batch_while_it_waits_for_the_next():
    """A big photo's work (hundreds of MB) must not stay alive in an idle worker thread."""

    class Work:
        pass

    batcher = Batcher("t", lambda payloads: [1 for _ in payloads], max_batch=8, wait_s=0, queue_size=8).start()
    try:
        work = Work()
        done = weakref.ref(work)
        assert batcher.submit(work).result(SAFETY_S) == 1
        del work
        deadline = time.monotonic() + SAFETY_S
        while done() is not None and time.monotonic() < deadline:  # the thread returns to waiting
            gc.collect()
            time.sleep(0.01)
        assert done() is None
    finally:
        batcher.close()


def test_batcher_respects_max_batch_and_queue_bound():
    gate, sizes = threading.Event(), []

    def run(payloads: list[int]) -> list[int]:
        gate.wait(SAFETY_S)
        sizes.append(sum(payloads))
        return payloads

    batcher = Batcher("t", run, max_batch=5, wait_s=0.05, queue_size=3, cost=lambda p: p).start()
    try:
        first = batcher.submit(1)
        blocking_wait(lambda: batcher.pending == 0, "the first job to be taken")  # blocked in run
        queued = [batcher.submit(p) for p in (2, 3, 4)]
        with pytest.raises(QueueFull):
            batcher.submit(1)
        gate.set()
        assert [f.result(SAFETY_S) for f in [first, *queued]] == [1, 2, 3, 4]
    finally:
        batcher.close()
    assert all(size <= 5 for size in sizes)  # 2+3 fit, 4 starts a new batch
    assert batcher.stats.rejected == 1


def test_a_batch_waits_only_for_requests_on_their_way():
    """wait_s is an hour: a lone job runs at once; a job announced by ``announce`` is waited
    for and joins the batch; an announced job that never comes releases the batch."""
    ran: list[list[int]] = []

    def run(payloads: list[int]) -> list[int]:
        ran.append(payloads)
        return payloads

    batcher = Batcher("t", run, max_batch=8, wait_s=3600, queue_size=8).start()
    try:
        assert batcher.submit(1).result(SAFETY_S) == 1  # nobody announced: no wait
        with batcher.announce() as announcement:
            first = batcher.submit(2)
            blocking_wait(lambda: batcher.pending == 0, "the batch to be taken")  # now waits for the announced one
            assert not first.done()
            assert batcher.submit(3, announcement).result(SAFETY_S) == 3
        assert first.result(SAFETY_S) == 2
        with batcher.announce():
            alone = batcher.submit(4)
            blocking_wait(lambda: batcher.pending == 0, "the batch to be taken")
        assert alone.result(SAFETY_S) == 4  # withdrawn (an error, another lane): the batch runs
    finally:
        batcher.close()
    assert ran == [[1], [2, 3], [4]]


def test_batcher_close_finishes_queue_then_refuses():
    batcher = Batcher("t", lambda ps: ps, max_batch=4, wait_s=0, queue_size=4).start()
    future = batcher.submit(7)
    batcher.close()
    assert future.result(SAFETY_S) == 7
    with pytest.raises(BatcherClosed):
        batcher.submit(8)


def test_batcher_skips_cancelled_jobs():
    seen, gate = [], threading.Event()

    def run(payloads):
        gate.wait(SAFETY_S)
        seen.extend(payloads)
        return payloads

    batcher = Batcher("t", run, max_batch=1, wait_s=0, queue_size=4).start()
    try:
        first = batcher.submit(1)
        blocking_wait(lambda: batcher.pending == 0, "the first job to be taken")
        cancelled: Future = batcher.submit(2)
        assert cancelled.cancel()
        gate.set()
        assert first.result(SAFETY_S) == 1 and batcher.submit(3).result(SAFETY_S) == 3
    finally:
        batcher.close()
    assert seen == [1, 3]


# --------------------------------------------------------------------------- start-up
async def expect_refusal(settings: Settings) -> str:
    app = create_app(settings)
    with pytest.raises(StartupError) as caught:
        async with app.router.lifespan_context(app):
            pass
    return str(caught.value)


async def test_missing_weights_refuse_to_start(tmp_path):
    missing = tmp_path / "nowhere" / "ce-region.pt"
    message = await expect_refusal(Settings(weights=missing, models_dir=tmp_path))
    assert str(missing) in message and "not found" in message


async def test_corrupt_weights_refuse_to_start(tmp_path):
    corrupt = tmp_path / "broken.pt"
    corrupt.write_bytes(b"PK\x03\x04 this is not a torch file")
    message = await expect_refusal(Settings(weights=corrupt, models_dir=tmp_path))
    assert str(corrupt) in message


async def test_non_export_weights_refuse_to_start(tmp_path):
    other = tmp_path / "checkpoint.pt"
    torch.save({"step": 3}, other)
    message = await expect_refusal(Settings(weights=other, models_dir=tmp_path))
    assert str(other) in message and "not a Context Encoder generator export" in message


async def test_missing_models_dir_refuses_to_start(tiny_weights, tmp_path):
    message = await expect_refusal(Settings(weights=tiny_weights, models_dir=tmp_path / "typo"))
    assert str(tmp_path / "typo") in message


async def test_extra_exports_are_served_and_broken_ones_skipped(tiny_weights, tmp_path, photo, photo_bytes, hole):
    shutil.copy(tiny_weights, tmp_path / "ce-center.pt")
    shutil.copy(tiny_weights, tmp_path / "модель.pt")
    (tmp_path / "half-written.pt").write_bytes(b"\x80\x02garbage")
    async with serve(Settings(weights=tiny_weights, models_dir=tmp_path, device="cpu")) as (_, client):
        health = (await client.get("/healthz")).json()
        assert health["models"][:2] == ["ce-test", "ce-center"]
        assert len(health["skipped"]) == 1 and "half-written.pt" in health["skipped"][0]
        models = {m["name"]: m for m in (await client.get("/api/models")).json()}
        assert models["ce-test"]["default"] and not models["ce-center"]["default"]
        response = await post(client, photo_bytes, mask_png(hole), model="ce-center")
        assert_filled(response, np.asarray(photo), hole)
        # not latin-1, so it cannot go in a header as is
        response = await post(client, photo_bytes, mask_png(hole), model="модель")
        assert_filled(response, np.asarray(photo), hole)
        assert response.headers["x-inpaint-model"] == "%D0%BC%D0%BE%D0%B4%D0%B5%D0%BB%D1%8C"


def _refiner_export(source: Path, path: Path, coarse: str) -> Path:
    """``source``'s weights recorded as a native-scale refiner of ``coarse`` (what
    ``ce-train --input coarse --coarse runs/.../COARSE.pt`` writes)."""
    payload = torch.load(source, weights_only=True)
    payload["training"] = {**payload["training"], "input": "coarse", "coarse": coarse}
    torch.save(payload, path)
    return path


async def test_a_refiner_is_served_with_the_generator_it_refines(tiny_weights, tmp_path, photo):
    weights = Path(shutil.copy(DEFAULT_WEIGHTS, tmp_path / "ce-region.pt"))
    refiner = _refiner_export(tiny_weights, tmp_path / "ce-sharp.pt", "runs/somewhere/ce-region.pt")
    _refiner_export(tiny_weights, tmp_path / "ce-orphan.pt", "runs/somewhere/ce-missing.pt")
    source = np.asarray(photo)
    ys, xs = np.ogrid[: photo.height, : photo.width]
    big = (ys - 250) ** 2 + (xs - 380) ** 2 <= 150**2  # filled in a window shrunk ~4.7x
    async with serve(settings_for(weights, max_upload_mb=4.0)) as (_, client):
        health = (await client.get("/healthz")).json()
        assert "ce-sharp" in health["models"]
        assert any("ce-orphan.pt" in line and "ce-missing.pt" in line for line in health["skipped"])
        info = {m["name"]: m for m in (await client.get("/api/models")).json()}["ce-sharp"]
        assert "ce-region.pt" in info["description"] and "ce-sharp.pt" in info["description"]
        sharp = assert_filled(await post(client, png(source), mask_png(big), model="ce-sharp"), source, big)
        plain = assert_filled(await post(client, png(source), mask_png(big), model="ce-region"), source, big)
    expected = load_filler(refiner).fill(source, big)  # in process: other threads, last bits may differ
    assert np.abs(sharp.astype(int) - expected).max() <= 2
    assert np.abs(sharp[big].astype(int) - plain[big]).mean() > 10, "the second pass repainted the big hole"


def test_settings_from_environment(monkeypatch):
    monkeypatch.setenv("CE_MAX_UPLOAD_MB", "5")
    monkeypatch.setenv("CE_BATCH_WAIT_MS", "2.5")
    monkeypatch.setenv("CE_DEVICE", "cpu")
    monkeypatch.setenv("CE_PORT", "9001")
    settings = Settings()
    assert settings.max_upload_bytes == 5 * 2**20 and settings.batch_wait_ms == 2.5
    assert settings.device == "cpu" and settings.port == 9001
    assert DEFAULT_WEIGHTS.name == "ce-region.pt" and DEFAULT_WEIGHTS.parent.name == "weights"
    assert settings.models_folder == DEFAULT_WEIGHTS.parent


# --------------------------------------------------------------------------- POST /inpaint/regions
async def regions(client: httpx.AsyncClient, image: bytes, mask: bytes | None, **fields: str) -> httpx.Response:
    files = {"image": ("photo.jpg", image, "application/octet-stream")}
    if mask is not None:
        files["mask"] = ("mask.png", mask, "image/png")
    return await client.post("/inpaint/regions", files=files, data=fields or None)


def pasted(photo: np.ndarray, answer: dict) -> np.ndarray:
    """What the editor does with the answer: each tile drawn at its place, source-over."""
    canvas = photo.copy()
    for tile in answer["tiles"]:
        rgba = np.asarray(Image.open(io.BytesIO(base64.b64decode(tile["png"]))).convert("RGBA"))
        assert rgba.shape[:2] == (tile["height"], tile["width"])
        opaque = rgba[..., 3] == 255
        area = canvas[tile["top"] : tile["top"] + tile["height"], tile["left"] : tile["left"] + tile["width"]]
        area[opaque] = rgba[..., :3][opaque]
    return canvas


@pytest.fixture(scope="module")
def rotated_jpeg(photo_path) -> tuple[bytes, np.ndarray]:
    """A phone-style JPEG stored sideways with EXIF orientation 6, and how a browser shows it."""
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encoded(Image.open(photo_path).convert("RGB"), "JPEG", quality=92, exif=exif)
    shown = np.asarray(Image.open(io.BytesIO(data)).convert("RGB").transpose(Image.Transpose.ROTATE_270))
    return data, shown


async def test_pasted_tiles_are_exactly_the_whole_photo_answer(client, rotated_jpeg):
    data, shown = rotated_jpeg
    hole = np.zeros(shown.shape[:2], bool)
    hole[100:180, 60:150] = True
    hole[600:604, 10:500] = True  # a wire
    whole = await post(client, data, mask_png(hole))
    assert whole.status_code == 200, whole.text
    answer = await regions(client, data, mask_png(hole))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["width"], body["height"]) == (shown.shape[1], shown.shape[0])
    assert body["holes"] == 2 and body["pixels"] == int(hole.sum())
    assert body["model"] == whole.headers["X-Inpaint-Model"]
    assert server_timing(answer) == ["decode", "prepare", "fill", "finish"]
    # the photo as the client holds it (the erased pixels are whatever it shows)
    np.testing.assert_array_equal(pasted(shown, body), np.where(hole[..., None], decode(whole.content), shown))


async def test_a_placed_mask_fills_the_same_as_a_full_size_one(client, rotated_jpeg):
    data, shown = rotated_jpeg
    hole = np.zeros(shown.shape[:2], bool)
    hole[300:340, 200:290] = True
    full = (await regions(client, data, mask_png(hole))).json()
    placed = await regions(client, data, mask_png(hole[290:350, 190:300]), mask_left="190", mask_top="290")
    assert placed.status_code == 200, placed.text
    assert placed.json() == full


async def test_an_empty_mask_answers_no_tiles(client, rotated_jpeg):
    data, shown = rotated_jpeg
    answer = await regions(client, data, mask_png(np.zeros(shown.shape[:2], bool)))
    assert answer.status_code == 200 and answer.json()["tiles"] == [] and answer.json()["holes"] == 0


@pytest.mark.parametrize(
    ("fields", "size", "words"),
    [
        ({"mask_left": "10"}, (20, 20), ("mask_top", "both")),
        ({"mask_left": "500", "mask_top": "0"}, (40, 40), ("inside the image",)),
        ({}, (40, 40), ("same size",)),
        ({"mask_left": "-1", "mask_top": "0"}, (40, 40), ("mask_left",)),
    ],
)
async def test_a_mask_that_does_not_fit_is_a_clear_422(client, rotated_jpeg, fields, size, words):
    data, _ = rotated_jpeg
    mask = mask_png(np.ones(size, bool))
    assert_error(await regions(client, data, mask, **fields), 422, *words)
