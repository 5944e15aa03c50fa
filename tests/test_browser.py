"""The canvas editor in a real browser (Debian's Chromium through Playwright) against the real
server (``live_server``: uvicorn serving ``app.main:app`` with the test generator).

Everything is checked through what a person can see or get: DOM state, the mask canvas's
pixels and the bytes of the downloadable result, compared with numpy against the photograph.
Screenshots land in ``test-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import math
import os
import re
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import torch
from PIL import Image, ImageCms
from playwright.sync_api import Browser, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from model.export import GeneratorMeta, export_generator
from model.holes import grow_hole
from model.networks import Generator
from tests.devserver import CHROMIUM, CHROMIUM_ARGS, serve

REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO_ROOT / "test-artifacts"
DESKTOP = {"width": 1280, "height": 800}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FILL_URL = "**/inpaint/regions"  # where the editor posts a fill
# createImageBitmap made slow for some sources, as a 48 MP photo's decode is: a page script that
# wraps the browser's own function (``kind`` picks the sources: files opened, or blobs fetched)
SLOW_DECODE = """([kind, ms]) => {
    const decode = window.createImageBitmap;
    window.createImageBitmap = (source, ...rest) => {
        const slow = kind === 'file' ? source instanceof File : source instanceof Blob && !(source instanceof File);
        const wait = slow ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
        return wait.then(() => decode.call(window, source, ...rest));
    };
}"""
# every form the page posts, kept with the path it goes to: what a fill sends, the photo's file
# included (Chromium's request interception leaves a File's bytes out of the body it reports)
RECORD_FORMS = """() => {
    window.sentForms = [];
    const { open, send } = XMLHttpRequest.prototype;
    XMLHttpRequest.prototype.open = function (method, url, ...rest) {
        this.path = new URL(url, location.href).pathname;
        return open.call(this, method, url, ...rest);
    };
    XMLHttpRequest.prototype.send = function (body) {
        if (body instanceof FormData) window.sentForms.push({ path: this.path, form: body });
        return send.call(this, body);
    };
}"""
PHONE_CONTROLS = (
    "#open-btn", "#brush-btn", "#eraser-btn", "#brush-size", "#undo-btn", "#redo-btn", "#clear-btn", "#fit-btn",
    "#model-select", "#fill-btn", "#download-btn", "#result-toggle", "#compare-btn", "#grow",
)  # fmt: skip

# Outside CI a missing browser skips these tests (with the reason); in CI, where `make test`
# installs Chromium, a missing browser must fail loudly rather than pass by skipping.
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"), reason=f"no Chromium at {CHROMIUM}"
)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole module (starting it is the slow part)."""
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh desktop page that fails the test on any uncaught script error."""
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.set_default_timeout(20_000)
    yield pg
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture(scope="module")
def two_kinds_server(tiny_weights: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server with two generators: the test one (trained on mixed holes, the default) and
    one whose export says it was trained on the paper's central square only."""
    folder = tmp_path_factory.mktemp("two-kinds")
    default = folder / "ce-test.pt"
    shutil.copy(tiny_weights, default)
    torch.manual_seed(1)
    meta = GeneratorMeta(mask_type="center", mean_colour=[0.46, 0.45, 0.42], training={"note": "test fixture"})
    export_generator(Generator().eval(), meta, folder / "ce-square.pt")
    with serve(default, timeout=60) as url:
        yield url


@pytest.fixture(scope="module")
def photo(photo_path: Path) -> np.ndarray:
    return np.asarray(Image.open(photo_path).convert("RGB"))


# ---------------------------------------------------------------- helpers


def open_photo(page: Page, url: str, photo_path: Path) -> None:
    page.goto(url)
    page.locator("#file-input").set_input_files(photo_path)
    expect(page.locator("#canvas-wrap")).to_be_visible()
    page.wait_for_function("window.editorState.width > 0")


def canvas_point(page: Page, fx: float, fy: float) -> tuple[float, float]:
    """Client coordinates of a point given as fractions of the displayed mask canvas."""
    box = page.locator("#canvas").bounding_box()
    assert box is not None
    return box["x"] + fx * box["width"], box["y"] + fy * box["height"]


def paint(page: Page, points: list[tuple[float, float]], steps: int = 8) -> None:
    """A mouse stroke through points given as fractions of the canvas."""
    page.mouse.move(*canvas_point(page, *points[0]))
    page.mouse.down()
    for fx, fy in points[1:]:
        page.mouse.move(*canvas_point(page, fx, fy), steps=steps)
    page.mouse.up()


def mask(page: Page) -> np.ndarray:
    """The mask canvas at full resolution as bool (alpha > 127: what the server gets)."""
    return canvas_rgba(page, "#canvas")[..., 3] > 127


def image_canvas(page: Page) -> np.ndarray:
    """The displayed image canvas at full resolution, RGB."""
    return canvas_rgba(page, "#image-canvas")[..., :3]


def downloaded(page: Page) -> tuple[str, bytes]:
    """Presses Download and returns the file the browser saves: its suggested name and bytes."""
    with page.expect_download() as info:
        page.locator("#download-btn").click()
    return info.value.suggested_filename, Path(info.value.path()).read_bytes()


def downloaded_rgb(page: Page) -> np.ndarray:
    """The downloaded result's pixels, RGB."""
    return decoded_rgb(downloaded(page)[1])


def press_fill_and_wait(page: Page, fills: int) -> dict:
    """Clicks Fill and reports the busy state seen in the same task as the click (so a fast
    server cannot hide it), then waits until `fills` fills are applied."""
    busy = page.evaluate(
        """() => {
            const button = document.getElementById('fill-btn');
            button.click();
            return {spinner: !document.getElementById('spinner').hidden, disabled: button.disabled,
                    ariaBusy: document.getElementById('stage').getAttribute('aria-busy')};
        }"""
    )
    page.wait_for_function(f"window.editorState.fills === {fills} && !window.editorState.busy", timeout=60_000)
    return busy


def sent_forms(page: Page) -> list[tuple[str, dict[str, tuple[str | None, bytes]]]]:
    """The forms posted since ``RECORD_FORMS`` ran: each one's path, and its parts by name as
    (file name, or None for a plain field; bytes)."""
    sent = page.evaluate(
        """() => Promise.all(window.sentForms.map(async ({ path, form }) => {
            const parts = await Promise.all([...form.entries()].map(async ([name, value]) => {
                if (!(value instanceof Blob)) return [name, null, btoa(value)];
                const url = await new Promise((resolve) => {
                    const reader = new FileReader();
                    reader.onload = () => resolve(reader.result);
                    reader.readAsDataURL(value);
                });
                return [name, value.name ?? null, url.slice(url.indexOf(',') + 1)];
            }));
            return [path, parts];
        }))"""
    )
    return [(path, {name: (file, base64.b64decode(data)) for name, file, data in parts}) for path, parts in sent]


def png_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def decoded_rgb(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def canvas_rgba(page: Page, selector: str) -> np.ndarray:
    """The pixels of the first canvas matching ``selector``, RGBA."""
    w, h, data = page.locator(selector).first.evaluate(
        """c => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let s = '';
            for (let i = 0; i < d.length; i += 0x8000) s += String.fromCharCode(...d.subarray(i, i + 0x8000));
            return [c.width, c.height, btoa(s)];
        }"""
    )
    return np.frombuffer(base64.b64decode(data), dtype=np.uint8).reshape(h, w, 4)


def sideways_jpeg(photo: np.ndarray, exif: bytes | Image.Exif, **options: object) -> bytes:
    """``photo`` stored as a camera held sideways stores it (turned a quarter anticlockwise),
    with Exif that says so (Orientation 6 turns it back): a JPEG as phones write them."""
    buffer = io.BytesIO()
    Image.fromarray(photo).transpose(Image.Transpose.ROTATE_90).save(buffer, "JPEG", exif=exif, **options)
    return buffer.getvalue()


def exif_with_thumbnail(orientation: int, thumbnail: bytes) -> bytes:
    """An Exif block as cameras write it (little-endian TIFF): IFD0 with the orientation, IFD1
    pointing at a small JPEG thumbnail stored after it."""
    ifd0, ifd1 = 8, 8 + 2 + 12 + 4
    data = ifd1 + 2 + 2 * 12 + 4
    tiff = b"II*\0" + struct.pack("<I", ifd0)
    tiff += struct.pack("<H", 1) + struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack("<I", ifd1)
    tiff += struct.pack("<H", 2) + struct.pack("<HHII", 0x0201, 4, 1, data)
    tiff += struct.pack("<HHII", 0x0202, 4, 1, len(thumbnail)) + struct.pack("<I", 0)
    return b"Exif\0\0" + tiff + thumbnail


def bbox(m: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(m)
    return int(ys.min()), int(ys.max()), int(xs.min()), int(xs.max())


def grow4(m: np.ndarray) -> np.ndarray:
    """Binary dilation by one pixel's 4-neighbours (pixels beyond the edge count as outside)."""
    out = m.copy()
    out[1:] |= m[:-1]
    out[:-1] |= m[1:]
    out[:, 1:] |= m[:, :-1]
    out[:, :-1] |= m[:, 1:]
    return out


def erode4(m: np.ndarray) -> np.ndarray:
    """Binary erosion by one pixel's 4-neighbours (the array's edge does not erode)."""
    out = m.copy()
    out[1:] &= m[:-1]
    out[:-1] &= m[1:]
    out[:, 1:] &= m[:, :-1]
    out[:, :-1] &= m[:, 1:]
    return out


def grow(m: np.ndarray, px: int) -> np.ndarray:
    """Binary dilation by a square of side 2*px+1 (numpy only)."""
    out = m.copy()
    padded = np.pad(m, px)
    h, w = m.shape
    for dy in range(2 * px + 1):
        for dx in range(2 * px + 1):
            out |= padded[dy : dy + h, dx : dx + w]
    return out


# ---------------------------------------------------------------- tests


def test_page_lists_models_and_starts_empty(page: Page, live_server: str) -> None:
    models = httpx.get(f"{live_server}/api/models", timeout=10).json()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(live_server)
    page.wait_for_load_state("networkidle")
    # Self-contained: nothing is fetched from anywhere but this server (no CDN, no fonts).
    assert requested and all(u.startswith((live_server, "data:", "blob:")) for u in requested), requested
    expect(page).to_have_title("Inpaint · Context Encoders")
    options = page.locator("#model-select option")
    assert options.evaluate_all("os => os.map(o => o.value)") == [
        m["name"] for m in models if m["kind"] == "context-encoder"
    ] + [m["name"] for m in models if m["kind"] != "context-encoder"]
    # options show human names (not file stems), the info line what the model is good at
    assert options.evaluate_all("os => os.map(o => o.textContent)") == [
        m["title"] for m in models if m["kind"] == "context-encoder"
    ] + [m["title"] for m in models if m["kind"] != "context-encoder"]
    default = next(m for m in models if m["default"])
    expect(page.locator("#model-select")).to_have_value(default["name"])
    expect(page.locator("#model-info")).to_contain_text(default["good_at"])
    # Nothing to act on yet: the empty state invites a file, the actions wait for one.
    expect(page.locator("#dropzone")).to_be_visible()
    for sel in ("#fill-btn", "#undo-btn", "#redo-btn", "#result-toggle"):
        expect(page.locator(sel)).to_be_disabled()
    expect(page.locator("#download-btn")).to_be_disabled()
    # Every control has an accessible name.
    for name in ("Open", "Brush", "Eraser", "Undo", "Redo", "Clear mask", "Zoom to fit", "Fill", "Keyboard shortcuts"):
        expect(page.get_by_role("button", name=name).first).to_be_attached()
    expect(page.get_by_label("Size")).to_have_attribute("type", "range")
    expect(page.get_by_label("Model")).to_be_visible()
    # The shortcut list opens from the keyboard and closes with Escape.
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_visible()
    expect(page.locator("#shortcuts")).to_contain_text("Ctrl")
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts")).to_be_hidden()


def test_editor_modules_all_load_without_console_errors(page: Page, live_server: str) -> None:
    """The editor is ES modules imported from static/editor/main.js (and preloaded by the
    page): every module file is fetched once with a JavaScript type, all of them before
    main.js has arrived, the page logs no
    error (a module that fails to load shows only on the console, not as an uncaught error)
    and the editor starts."""
    console_errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    loaded: dict[str, str] = {}
    page.on(
        "response",
        lambda r: "/static/editor/" in r.url and loaded.update({r.url.rsplit("/", 1)[-1]: r.headers["content-type"]}),
    )
    page.goto(live_server)
    page.wait_for_load_state("networkidle")
    assert not console_errors, console_errors
    modules = sorted(p.name for p in (REPO_ROOT / "static" / "editor").glob("*.js"))
    assert sorted(loaded) == modules
    assert all(t.split(";")[0] in ("text/javascript", "application/javascript") for t in loaded.values()), loaded
    assert page.evaluate("window.editorState !== undefined"), "the editor's modules ran"
    # every module is fetched once, and the page's modulepreload links start every fetch before
    # main.js has even arrived (all at once, not one import level at a time)
    fetched = page.evaluate(
        "performance.getEntriesByType('resource').filter(e => e.name.includes('/static/editor/'))"
        ".map(e => ({name: e.name.split('/').pop(), start: e.startTime, end: e.responseEnd}))"
    )
    assert sorted(e["name"] for e in fetched) == modules, fetched
    main_arrived = next(e["end"] for e in fetched if e["name"] == "main.js")
    late = [e["name"] for e in fetched if e["start"] > main_arrived]
    assert not late, f"fetched only after main.js arrived (not preloaded): {late}"


def test_paint_fill_compare_iterate_download(
    page: Page, live_server: str, photo_path: Path, photo: np.ndarray, artifacts: Path
) -> None:
    open_photo(page, live_server, photo_path)
    h, w = photo.shape[:2]
    # The canvases hold the photo at full resolution while CSS scales them to the viewport.
    assert page.locator("#canvas").evaluate("c => [c.width, c.height]") == [w, h]
    box = page.locator("#canvas").bounding_box()
    scale = box["width"] / w
    assert abs(box["height"] / h - scale) < 0.01 and abs(scale - 1) > 0.05, "display scale should not be 1:1"
    assert np.array_equal(image_canvas(page), photo)

    # A single click paints one round dot where the pointer is, brush size in image pixels.
    page.locator("#brush-size").fill("30")
    expect(page.locator("#brush-size-value")).to_have_text("30 px")
    page.mouse.click(*canvas_point(page, 0.8, 0.25))
    dot = mask(page)
    y0, y1, x0, x1 = bbox(dot)
    assert abs((x0 + x1) / 2 - 0.8 * w) <= 2 and abs((y0 + y1) / 2 - 0.25 * h) <= 2
    assert abs(dot.sum() - math.pi * 15**2) < 0.1 * math.pi * 15**2
    page.keyboard.press("Control+z")
    assert not mask(page).any()

    # A stroke across the left parrot's head.
    page.locator("#brush-size").fill("24")
    paint(page, [(0.30, 0.40), (0.42, 0.45), (0.50, 0.52)])
    painted = mask(page)
    y0, y1, x0, x1 = bbox(painted)
    assert abs(x0 - (0.30 * w - 12)) <= 3 and abs(x1 - (0.50 * w + 12)) <= 3
    assert abs(y0 - (0.40 * h - 12)) <= 3 and abs(y1 - (0.52 * h + 12)) <= 3
    expect(page.locator("#fill-btn")).to_be_enabled()
    page.mouse.move(*canvas_point(page, 0.75, 0.7))  # brush cursor off the stroke, for the picture
    page.screenshot(path=artifacts / "editor.png")

    # Fill: spinner while busy, button disabled, then the result replaces the working image.
    busy = press_fill_and_wait(page, fills=1)
    assert busy == {"spinner": True, "disabled": True, "ariaBusy": "true"}
    expect(page.locator("#spinner")).to_be_hidden()
    expect(page.locator("#error")).to_be_hidden()
    expect(page.locator("#status")).to_contain_text("Filled")
    result = downloaded_rgb(page)
    assert result.shape == photo.shape
    changed = np.any(result != photo, axis=-1)
    assert changed.any(), "the fill changed nothing"
    assert not (changed & ~painted).any(), "pixels outside the painted mask changed"
    y0, y1, x0, x1 = bbox(painted)
    outside = np.ones_like(painted)
    outside[max(0, y0 - 8) : y1 + 9, max(0, x0 - 8) : x1 + 9] = False
    assert np.array_equal(result[outside], photo[outside])
    assert changed[painted].mean() > 0.5, "most painted pixels should be replaced"
    # The mask is cleared for the next round and the result is what is displayed.
    assert not mask(page).any()
    assert np.array_equal(image_canvas(page), result)
    expect(page.locator("#fill-btn")).to_be_disabled()
    page.screenshot(path=artifacts / "result.png")

    # Before/after toggle.
    toggle = page.locator("#result-toggle")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#before-badge")).to_be_visible()
    assert np.array_equal(image_canvas(page), photo)
    page.keyboard.press("c")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    assert np.array_equal(image_canvas(page), result)

    # Iterate: paint on the result and fill again; only the new area changes.
    paint(page, [(0.70, 0.75), (0.80, 0.80)])
    painted2 = mask(page)
    assert painted2.any() and not (painted2 & grow(painted, 2)).any()
    page.keyboard.press("Control+Enter")
    page.wait_for_function("window.editorState.fills === 2 && !window.editorState.busy", timeout=60_000)
    result2 = downloaded_rgb(page)
    changed2 = np.any(result2 != result, axis=-1)
    assert changed2.any() and not (changed2 & ~painted2).any()

    # Undo takes back the second fill: first result shown again, with the mask that made it.
    page.locator("#undo-btn").click()
    assert np.array_equal(image_canvas(page), result)
    assert np.array_equal(mask(page), painted2)
    page.locator("#redo-btn").click()
    assert np.array_equal(image_canvas(page), result2)
    assert not mask(page).any()

    # Download: a real PNG of the photo's size with a sensible name.
    with page.expect_download() as info:
        page.locator("#download-btn").click()
    download = info.value
    assert download.suggested_filename == "kodim23-inpainted.png"
    data = Path(download.path()).read_bytes()
    assert data[:8] == PNG_SIGNATURE
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "PNG" and img.size == (w, h)
        assert np.array_equal(np.asarray(img.convert("RGB")), result2)


def test_space_drag_pans_after_fill_even_with_a_focused_button(page: Page, live_server: str, photo_path: Path) -> None:
    """Fill, zoom, pan to inspect: after Fill the focus sits on Download, and Space + drag over
    the photo must still pan, not paint (nor press the focused button)."""
    open_photo(page, live_server, photo_path)
    paint(page, [(0.3, 0.4), (0.4, 0.45)])
    press_fill_and_wait(page, fills=1)
    page.locator("#download-btn").focus()
    page.keyboard.press("1")
    for _ in range(5):  # well past the stage's size: there is something to pan
        page.keyboard.press("+")
    stage = page.locator("#stage")
    before = stage.evaluate("s => [s.scrollLeft, s.scrollTop]")
    box = stage.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.locator("#download-btn").focus()
    page.keyboard.down(" ")
    page.mouse.down()
    page.mouse.move(cx - 120, cy - 80, steps=6)
    page.mouse.up()
    page.keyboard.up(" ")
    assert not mask(page).any(), "Space + drag painted"
    after = stage.evaluate("s => [s.scrollLeft, s.scrollTop]")
    assert after != before, "Space + drag did not pan"
    assert page.evaluate("window.editorState.fills") == 1

    # Opening another photo asks before it drops the un-downloaded result; "cancel" keeps it.
    assert page.evaluate("window.editorState.unsaved")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    other = photo_path.parent / "kodim03.png"
    page.locator("#file-input").set_input_files(str(other))
    page.wait_for_timeout(300)
    assert asked and "not been downloaded" in asked[0]
    assert page.evaluate("window.editorState.fills") == 1
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#file-input").set_input_files(str(photo_path))
    page.wait_for_function("window.editorState.fills === 0", timeout=10_000)


def test_a_stroke_may_start_in_the_margin_beside_the_photo(page: Page, live_server: str, photo_path: Path) -> None:
    """Objects at the border: a stroke begun outside the photo paints from the photo's edge."""
    open_photo(page, live_server, photo_path)
    page.locator("#brush-size").fill("20")
    box = page.locator("#canvas").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] - 10, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.2, y, steps=8)
    page.mouse.up()
    painted = mask(page)
    w = page.evaluate("window.editorState.width")
    _, _, x0, x1 = bbox(painted)
    assert x0 == 0 and x1 >= 0.2 * w - 2  # from the left edge, clipped to the photo
    # A mask colour that stands out on red objects: only how the mask shows changes, not the mask.
    page.locator("#mask-colour").select_option("cyan")
    assert "hue-rotate" in page.locator("#canvas").evaluate("c => getComputedStyle(c).filter")
    assert np.array_equal(mask(page), painted)
    page.reload()
    page.locator("#file-input").set_input_files(photo_path)
    page.wait_for_function("window.editorState.width > 0")
    expect(page.locator("#mask-colour")).to_have_value("cyan")  # remembered
    paint(page, [(0.5, 0.5), (0.6, 0.6)])
    page.keyboard.press("Control+z")
    assert not mask(page).any()


def test_mask_upload_and_grow(
    page: Page, live_server: str, photo_path: Path, photo: np.ndarray, tmp_path: Path
) -> None:
    """A mask file (same rules as the API) becomes the mask in one undoable step, and a fill
    sends the box it marks (here out to the photo's corner); Grow dilates it before filling, so
    the fill also covers a ring around what was painted."""
    open_photo(page, live_server, photo_path)
    page.evaluate(RECORD_FORMS)
    h, w = photo.shape[:2]
    block = np.zeros((h, w), bool)
    block[200:260, 300:380] = True
    block[h - 9 :, w - 12 :] = True
    opaque = np.zeros((h, w, 4), np.uint8)  # what painting programs export: opaque, white strokes
    opaque[..., 3] = 255
    opaque[block] = 255
    Image.fromarray(opaque, "RGBA").save(tmp_path / "mask.png")
    page.locator("#mask-input").set_input_files(str(tmp_path / "mask.png"))
    page.wait_for_function("window.editorState.canUndo")
    assert np.array_equal(mask(page), block)
    page.locator("#grow").fill("5")
    press_fill_and_wait(page, fills=1)
    (form,) = [form for _, form in sent_forms(page)]
    sent = np.asarray(Image.open(io.BytesIO(form["mask"][1])).convert("RGBA"))[..., 3] > 127
    assert np.array_equal(sent, block[200:, 300:])
    assert (form["mask_left"][1], form["mask_top"][1]) == (b"300", b"200")
    result = downloaded_rgb(page)
    changed = np.any(result != photo, axis=-1)
    ring = grow(block, 5) & ~block
    assert not (changed & ~grow(block, 6)).any()
    assert changed[ring].mean() > 0.5, "grow did not fill around the mask"
    # A mask of another size is refused with a message, and changes nothing.
    Image.new("L", (w // 2, h // 2), 255).save(tmp_path / "small.png")
    page.locator("#mask-input").set_input_files(str(tmp_path / "small.png"))
    expect(page.locator("#error")).to_contain_text("must match")
    assert not mask(page).any()


def test_compare_every_model_on_one_mask_and_keep_one(
    page: Page, live_server: str, photo_path: Path, photo: np.ndarray
) -> None:
    """One action fills the same mask with every model that suits it (all three here: the test
    generator is trained on mixed holes); the photo as it was and the results show side by
    side around the mask at 1:1 with the hole outlined, scroll together, and the one kept
    becomes the fill."""
    models = httpx.get(f"{live_server}/api/models", timeout=10).json()
    open_photo(page, live_server, photo_path)
    page.locator("#brush-size").fill("24")
    paint(page, [(0.30, 0.40), (0.45, 0.50)])
    painted = mask(page)
    page.locator("#compare-btn").click()
    dialog = page.locator("#compare-dialog")
    expect(dialog).to_be_visible(timeout=60_000)
    items = dialog.locator(".compare-item")
    expect(items).to_have_count(1 + len(models))
    assert items.evaluate_all("fs => fs.map(f => f.dataset.model ?? 'original')") == ["original"] + [
        page.locator("#model-select option").nth(i).get_attribute("value") for i in range(len(models))
    ]
    y0, y1, x0, x1 = bbox(painted)
    sizes = dialog.locator("canvas").evaluate_all("cs => cs.map(c => [c.width, c.height, c.clientWidth])")
    assert len(sizes) == 2 * (1 + len(models))  # the pixels and the outline over them
    assert all(size == [x1 - x0 + 1 + 96, y1 - y0 + 1 + 96, x1 - x0 + 1 + 96] for size in sizes)  # 1:1 crops
    crop = (slice(max(0, y0 - 48), y1 + 49), slice(max(0, x0 - 48), x1 + 49))
    # the original panel is the photo as it was; the outline runs along the painted hole's edge
    original = canvas_rgba(page, ".compare-item[data-original] canvas:not(.compare-outline)")
    assert np.array_equal(original[..., :3], photo[crop])
    lines = canvas_rgba(page, ".compare-item[data-original] canvas.compare-outline")
    hole = painted[crop]
    inner = hole & ~erode4(hole)
    assert np.array_equal(lines[..., 3] > 0, inner | (grow4(hole) & ~hole))
    assert np.array_equal(np.all(lines[..., :3] == 255, axis=-1) & (lines[..., 3] > 0), inner)
    dialog.locator("#compare-outline").uncheck()
    expect(dialog.locator("canvas.compare-outline").first).to_be_hidden()
    panes = dialog.locator(".compare-pane")
    panes.first.evaluate("p => { p.scrollLeft = 30; p.scrollTop = 20; p.dispatchEvent(new Event('scroll')); }")
    scrolls = panes.evaluate_all("ps => ps.map(p => [p.scrollLeft, p.scrollTop])")
    assert len(set(map(tuple, scrolls))) == 1  # synced
    # keep the Navier-Stokes fill: exactly what the API answers for that model and mask
    dialog.locator('.compare-item[data-model="ns"] button').click()
    expect(dialog).to_be_hidden()
    assert page.evaluate("window.editorState.fills") == 1
    kept = downloaded_rgb(page)
    direct = httpx.post(
        f"{live_server}/inpaint",
        files={"image": photo_path.read_bytes(), "mask": png_bytes(painted.astype(np.uint8) * 255)},
        data={"model": "ns"},
        timeout=60,
    )
    assert np.array_equal(kept, decoded_rgb(direct.content))
    assert not mask(page).any()


def test_compare_runs_only_the_models_that_suit_the_hole_and_centres_it(
    page: Page, two_kinds_server: str, photo_path: Path, tmp_path: Path
) -> None:
    """GET /api/models says which holes each generator is meant for: one trained on the paper's
    central square is left out for a painted stroke (and the dialog says so) and runs on a
    square hole. A hole larger than the panels opens in their middle, not their corner."""
    models = httpx.get(f"{two_kinds_server}/api/models", timeout=10).json()
    square_model = next(m for m in models if m["mask_type"] == "center")
    open_photo(page, two_kinds_server, photo_path)
    page.locator("#brush-size").fill("30")
    paint(page, [(0.05, 0.2), (0.5, 0.5), (0.95, 0.8)])  # a long stroke: larger than any panel
    page.locator("#compare-btn").click()
    dialog = page.locator("#compare-dialog")
    expect(dialog).to_be_visible(timeout=60_000)
    shown = dialog.locator(".compare-item").evaluate_all("fs => fs.map(f => f.dataset.model ?? 'original')")
    assert shown == ["original"] + [m["name"] for m in models if m["mask_type"] != "center"]
    expect(page.locator("#compare-note")).to_contain_text(square_model["title"])
    expect(page.locator("#compare-note")).to_contain_text("square hole")
    y0, y1, x0, x1 = bbox(mask(page))
    centre = ((x0 + x1 + 1) / 2 - max(0, x0 - 48), (y0 + y1 + 1) / 2 - max(0, y0 - 48))
    for pane in dialog.locator(".compare-pane").all():
        left, width, inner_width = pane.evaluate("p => [p.scrollLeft, p.clientWidth, p.scrollWidth]")
        top, height, inner_height = pane.evaluate("p => [p.scrollTop, p.clientHeight, p.scrollHeight]")
        assert inner_width > width  # the hole is wider than the panel
        assert abs(left + width / 2 - centre[0]) <= 1
        assert inner_height <= height or abs(top + height / 2 - centre[1]) <= 1
    page.locator("#compare-close").click()

    # a square hole (a mask file): the central-hole model runs too
    w, h = page.evaluate("[window.editorState.width, window.editorState.height]")
    square = np.zeros((h, w), np.uint8)
    square[200:264, 300:364] = 255
    Image.fromarray(square).save(tmp_path / "square.png")
    page.locator("#clear-btn").click()
    page.locator("#mask-input").set_input_files(str(tmp_path / "square.png"))
    expect(page.locator("#fill-btn")).to_be_enabled()
    page.locator("#compare-btn").click()
    expect(dialog).to_be_visible(timeout=60_000)
    shown = dialog.locator(".compare-item").evaluate_all("fs => fs.map(f => f.dataset.model ?? 'original')")
    assert shown == ["original"] + [m["name"] for m in models]
    expect(page.locator("#compare-note")).to_be_empty()


def test_a_photo_over_the_server_limits_keeps_its_full_resolution_round_after_round(
    page: Page, tiny_weights: Path, photo_path: Path, tmp_path: Path
) -> None:
    """What a phone photo meets: more pixels than the server takes in one request. The editor
    keeps the photo at its full resolution and sends each fill a crop around its mask within
    the limits; only masked pixels change, round after round, and the download has every
    pixel (a lossless PNG on request, over the upload limit itself; a JPEG as it came)."""
    big = tmp_path / "phone.jpg"
    Image.open(photo_path).convert("RGB").resize((1536, 1024), Image.Resampling.BICUBIC).save(big, quality=90)
    assert big.stat().st_size < 2**20
    env = {"CE_MAX_UPLOAD_MB": "1", "CE_MAX_PIXELS": "1000000"}
    with serve(tiny_weights, env=env, timeout=60) as url:
        open_photo(page, url, big)
        w, h = page.evaluate("[window.editorState.width, window.editorState.height]")
        assert (w, h) == (1536, 1024)  # not scaled down to the server's 1 MP
        base = image_canvas(page)
        painted_all = np.zeros((h, w), bool)
        for fills, stroke in enumerate([[(0.2, 0.3), (0.3, 0.35)], [(0.6, 0.7), (0.7, 0.75)]], start=1):
            paint(page, stroke)
            painted_all |= mask(page)
            press_fill_and_wait(page, fills=fills)
            expect(page.locator("#error")).to_be_hidden()
            shown = image_canvas(page)
            changed = np.any(shown != base, axis=-1)
            assert changed.any() and not (changed & ~painted_all).any()
        name, data = downloaded(page)
        assert name == "phone-inpainted.jpg" and Image.open(io.BytesIO(data)).size == (w, h)
        page.locator("#download-format").select_option("png")
        name, data = downloaded(page)
        assert name == "phone-inpainted.png" and len(data) > 2**20  # over the upload limit itself
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")), shown)


def test_a_fill_sends_the_photo_file_or_a_crop_and_only_the_painted_rectangle(
    page: Page, live_server: str, photo_path: Path, photo: np.ndarray
) -> None:
    """POST /inpaint/regions gets the painted rectangle of the mask, placed by mask_left and
    mask_top, and the photo's own file while no earlier fill lies in the area the fill reads
    (the crop around the mask with its full context); next to an earlier fill it gets a PNG
    crop of the current image, and the tiles come back in the crop's coordinates. Either way
    the editor shows exactly what the server fills, and nothing outside the grown hole."""
    open_photo(page, live_server, photo_path)
    page.evaluate(RECORD_FORMS)
    h, w = photo.shape[:2]
    page.locator("#brush-size").fill("20")
    page.locator("#grow").fill("3")

    def fill_stroke(stroke: list[tuple[float, float]], fills: int) -> tuple[np.ndarray, dict, np.ndarray]:
        """Paints ``stroke`` and fills it: the mask, what was posted and the image before."""
        paint(page, stroke)
        painted, before = mask(page), image_canvas(page)
        press_fill_and_wait(page, fills=fills)
        expect(page.locator("#error")).to_be_hidden()
        posts = sent_forms(page)
        assert [path for path, _ in posts] == ["/inpaint/regions"] * fills
        form = posts[-1][1]
        y0, y1, x0, x1 = bbox(painted)
        sent = np.asarray(Image.open(io.BytesIO(form["mask"][1])).convert("RGBA"))[..., 3] > 127
        assert np.array_equal(sent, painted[y0 : y1 + 1, x0 : x1 + 1])  # the painted rectangle alone
        return painted, form, before

    def fields(form: dict) -> list[str]:
        return [form[name][1].decode() for name in ("mask_left", "mask_top", "grow")]

    # unchanged photo: its file, and exactly POST /inpaint's fill of the whole photo
    first, form, _ = fill_stroke([(0.10, 0.15), (0.20, 0.20)], fills=1)
    y0, _, x0, _ = bbox(first)
    assert form["image"] == ("kodim23.png", photo_path.read_bytes())
    assert fields(form) == [str(x0), str(y0), "3"]
    whole = httpx.post(
        f"{live_server}/inpaint",
        files={"image": photo_path.read_bytes(), "mask": png_bytes(first.astype(np.uint8) * 255)},
        data={"grow": "3"},
        timeout=60,
    )
    assert np.array_equal(image_canvas(page), decoded_rgb(whole.content))

    # next to it: a PNG crop of the filled image around the mask, 3 + 128 px of context each side
    second, form, before = fill_stroke([(0.30, 0.30), (0.36, 0.34)], fills=2)
    y0, y1, x0, x1 = bbox(second)
    left, top = max(0, x0 - 131), max(0, y0 - 131)
    right, bottom = min(w, x1 + 1 + 131), min(h, y1 + 1 + 131)
    name, crop = form["image"]
    assert name == "kodim23-region.png" and np.array_equal(decoded_rgb(crop), before[top:bottom, left:right])
    assert fields(form) == [str(x0 - left), str(y0 - top), "3"]
    filled = httpx.post(
        f"{live_server}/inpaint",
        files={"image": crop, "mask": png_bytes(second[top:bottom, left:right].astype(np.uint8) * 255)},
        data={"grow": "3"},
        timeout=60,
    )
    expected = before.copy()
    expected[top:bottom, left:right] = decoded_rgb(filled.content)
    assert np.array_equal(image_canvas(page), expected)

    # far from both: the file again; only the grown hole changes, to what the server fills
    third, form, before = fill_stroke([(0.80, 0.80), (0.88, 0.85)], fills=3)
    assert form["image"] == ("kodim23.png", photo_path.read_bytes())
    filled = httpx.post(
        f"{live_server}/inpaint",
        files={"image": photo_path.read_bytes(), "mask": png_bytes(third.astype(np.uint8) * 255)},
        data={"grow": "3"},
        timeout=60,
    )
    hole = grow_hole(third, 3)
    assert np.array_equal(image_canvas(page), np.where(hole[..., None], decoded_rgb(filled.content), before))


def test_a_busy_server_is_retried_after_its_retry_after(page: Page, live_server: str, photo_path: Path) -> None:
    """503 + Retry-After (admission under overload): the editor says so, waits and retries."""
    refused = []

    def busy_once(route) -> None:
        if not refused:
            refused.append(route.request.url)
            route.fulfill(status=503, headers={"Retry-After": "1"}, json={"detail": "server is busy"})
        else:
            route.continue_()

    page.route(FILL_URL, busy_once)
    open_photo(page, live_server, photo_path)
    paint(page, [(0.3, 0.4), (0.4, 0.45)])
    page.locator("#fill-btn").click()
    expect(page.locator("#status")).to_contain_text("busy", timeout=5_000)
    page.wait_for_function("window.editorState.fills === 1 && !window.editorState.busy", timeout=30_000)
    assert len(refused) == 1
    expect(page.locator("#error")).to_be_hidden()


def test_undo_redo_eraser_clear(page: Page, live_server: str, photo_path: Path) -> None:
    open_photo(page, live_server, photo_path)
    page.locator("#brush-size").fill("40")
    paint(page, [(0.2, 0.3), (0.6, 0.3)])
    painted = mask(page)
    assert painted.sum() > 1000

    # Buttons.
    undo, redo = page.locator("#undo-btn"), page.locator("#redo-btn")
    undo.click()
    assert not mask(page).any()
    expect(undo).to_be_disabled()
    expect(page.locator("#fill-btn")).to_be_disabled()
    redo.click()
    assert np.array_equal(mask(page), painted)
    expect(redo).to_be_disabled()
    # Keyboard: Ctrl+Z, Ctrl+Shift+Z, Ctrl+Y.
    page.keyboard.press("Control+z")
    assert not mask(page).any()
    page.keyboard.press("Control+Shift+z")
    assert np.array_equal(mask(page), painted)
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+y")
    assert np.array_equal(mask(page), painted)

    # Eraser along the middle of the stroke removes it there, and only there.
    page.locator("#eraser-btn").click()
    expect(page.locator("#eraser-btn")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#brush-btn")).to_have_attribute("aria-pressed", "false")
    page.locator("#brush-size").fill("80")
    paint(page, [(0.35, 0.3), (0.45, 0.3)])
    erased = mask(page)
    assert not (erased & ~painted).any(), "erasing must not paint"
    assert 0.3 * painted.sum() < erased.sum() < 0.9 * painted.sum()
    w = erased.shape[1]
    assert not erased[:, int(0.37 * w) : int(0.43 * w)].any()
    assert erased[:, : int(0.25 * w)].any() and erased[:, int(0.55 * w) :].any()
    page.keyboard.press("Control+z")
    assert np.array_equal(mask(page), painted)

    # Clear mask, and undo of the clear.
    page.keyboard.press("b")
    expect(page.locator("#brush-btn")).to_have_attribute("aria-pressed", "true")
    page.locator("#clear-btn").click()
    assert not mask(page).any()
    page.keyboard.press("Control+z")
    assert np.array_equal(mask(page), painted)

    # A new stroke after undo drops the redo branch.
    page.keyboard.press("Control+z")
    paint(page, [(0.5, 0.7), (0.6, 0.7)])
    expect(redo).to_be_disabled()


def test_zoom_keeps_painting_aligned(page: Page, live_server: str, photo_path: Path) -> None:
    open_photo(page, live_server, photo_path)
    fit_zoom = page.evaluate("window.editorState.zoom")
    levels = []
    for _ in range(3):
        page.locator("#zoom-in-btn").click()
        levels.append(page.evaluate("window.editorState.zoom"))
    assert levels[-1] > fit_zoom * 1.5
    if fit_zoom < 1 < levels[-1]:
        assert 1 in levels  # zoom steps stop at exact 1:1 on the way
    page.keyboard.press("1")
    assert page.evaluate("window.editorState.zoom") == 1
    page.locator("#zoom-in-btn").click()
    # Zoomed in, the photo is larger than the stage and scrolls; a click still lands on the
    # image pixel under the pointer.
    stage = page.locator("#stage").bounding_box()
    page.locator("#brush-size").fill("10")
    cx, cy = stage["x"] + stage["width"] / 2, stage["y"] + stage["height"] / 2
    box = page.locator("#canvas").bounding_box()
    w, h = page.evaluate("[window.editorState.width, window.editorState.height]")
    expected = ((cx - box["x"]) / box["width"] * w, (cy - box["y"]) / box["height"] * h)
    page.mouse.click(cx, cy)
    y0, y1, x0, x1 = bbox(mask(page))
    assert abs((x0 + x1) / 2 - expected[0]) <= 1.5 and abs((y0 + y1) / 2 - expected[1]) <= 1.5
    # Zoom to fit brings the whole photo back into view.
    page.keyboard.press("0")
    assert page.evaluate("window.editorState.zoom") == pytest.approx(fit_zoom)
    box = page.locator("#canvas").bounding_box()
    assert box["x"] >= stage["x"] and box["x"] + box["width"] <= stage["x"] + stage["width"] + 1


def test_server_errors_are_shown(page: Page, live_server: str, photo_path: Path) -> None:
    open_photo(page, live_server, photo_path)
    paint(page, [(0.4, 0.4), (0.5, 0.5)])
    error = page.locator("#error")

    # A real refusal from the server: a model it does not serve.
    page.evaluate(
        """() => {
            const s = document.getElementById('model-select');
            s.add(new Option('no-such-model', 'no-such-model'));
            s.value = 'no-such-model';
        }"""
    )
    page.locator("#fill-btn").click()
    expect(error).to_be_visible()
    expect(error).to_contain_text("no-such-model")
    expect(error).to_contain_text("Fill failed")
    expect(page.locator("#fill-btn")).to_be_enabled()
    expect(page.locator("#spinner")).to_be_hidden()
    assert mask(page).any(), "a failed fill keeps the mask"
    page.locator("#error-close").click()
    expect(error).to_be_hidden()

    # A 503 with FastAPI's {"detail": ...}, and a dropped connection.
    page.route(
        FILL_URL,
        lambda route: route.fulfill(
            status=503, content_type="application/json", body=json.dumps({"detail": "Server busy: try again soon"})
        ),
    )
    page.locator("#fill-btn").click()
    # the editor first retries a busy server, waiting 1 s between five attempts
    expect(error).to_contain_text("Server busy: try again soon", timeout=30_000)
    expect(error).to_contain_text("503")
    page.unroute(FILL_URL)
    page.route(FILL_URL, lambda route: route.abort("connectionfailed"))
    page.locator("#fill-btn").click()
    expect(error).to_contain_text("could not reach the server")
    assert page.evaluate("window.editorState.fills") == 0
    page.unroute(FILL_URL)

    # A slow answer shows the spinner and can be cancelled; nothing changes.
    held = []
    page.route(FILL_URL, lambda route: held.append(route))
    page.locator("#fill-btn").click()
    expect(page.locator("#spinner")).to_be_visible()
    expect(page.locator("#fill-btn")).to_be_disabled()
    expect(page.locator("#cancel-btn")).to_be_focused()
    page.locator("#cancel-btn").click()
    expect(page.locator("#spinner")).to_be_hidden()
    expect(page.locator("#status")).to_contain_text("cancelled")
    expect(page.locator("#fill-btn")).to_be_enabled()
    assert page.evaluate("window.editorState.fills") == 0 and mask(page).any()


def test_client_side_checks(page: Page, live_server: str) -> None:
    page.goto(live_server)
    error = page.locator("#error")
    page.locator("#file-input").set_input_files(
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a picture"}
    )
    expect(error).to_contain_text("not an image")
    page.locator("#file-input").set_input_files(
        {"name": "broken.png", "mimeType": "image/png", "buffer": PNG_SIGNATURE + b"\0" * 64}
    )
    expect(error).to_contain_text("could not be read")
    # An empty file (a failed copy, a cloud placeholder) is said to be empty, not unreadable.
    page.locator("#file-input").set_input_files({"name": "IMG_0042.jpg", "mimeType": "image/jpeg", "buffer": b""})
    expect(error).to_contain_text('"IMG_0042.jpg" is empty (0 bytes)')
    # A file over the upload limit, built inside the page (sending megabytes through the driver
    # is slow); it goes through the real file input all the same.
    page.evaluate(
        """() => {
            const config = JSON.parse(document.getElementById('editor-config').textContent);
            const bytes = new Uint8Array(Math.ceil((config.max_upload_mb + 0.5) * 1024 * 1024));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], 'huge.png', {type: 'image/png'}));
            const input = document.getElementById('file-input');
            input.files = dt.files;
            input.dispatchEvent(new Event('change', {bubbles: true}));
        }"""
    )
    expect(error).to_contain_text("MiB; the limit is")  # the unit the server counts in
    expect(page.locator("#dropzone")).to_be_visible()


def test_open_by_paste_and_drop(page: Page, live_server: str, photo_path: Path) -> None:
    """Clipboard paste and drag-and-drop deliver files the same way as the picker."""
    buf = io.BytesIO()
    Image.open(photo_path).crop((0, 0, 200, 120)).save(buf, "PNG")
    b64 = base64.b64encode(buf.getvalue()).decode()
    page.goto(live_server)
    make_transfer = """(b64, name) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], name, {type: 'image/png'}));
        return dt;
    }"""
    page.evaluate(
        f"""([b64]) => {{
            const dt = ({make_transfer})(b64, 'pasted.png');
            document.dispatchEvent(new ClipboardEvent('paste', {{clipboardData: dt, bubbles: true}}));
        }}""",
        [b64],
    )
    page.wait_for_function("window.editorState.width === 200 && window.editorState.height === 120")
    page.evaluate(
        f"""([b64]) => {{
            const dt = ({make_transfer})(b64, 'dropped.png');
            const stage = document.getElementById('stage');
            stage.dispatchEvent(new DragEvent('dragenter', {{dataTransfer: dt, bubbles: true, cancelable: true}}));
            stage.dispatchEvent(new DragEvent('drop', {{dataTransfer: dt, bubbles: true, cancelable: true}}));
        }}""",
        [b64],
    )
    expect(page.locator("#status")).to_contain_text("dropped.png")
    expect(page.locator("#drop-overlay")).to_be_hidden()


def test_phone_layout_and_touch_painting(browser: Browser, live_server: str, photo_path: Path, artifacts: Path) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, device_scale_factor=2
    )
    page = context.new_page()
    try:
        open_photo(page, live_server, photo_path)
        # No horizontal overflow, and every control is on screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        for sel in PHONE_CONTROLS:
            b = page.locator(sel).bounding_box()
            assert b is not None and b["x"] >= 0 and b["x"] + b["width"] <= 390 + 0.5, sel
            assert b["y"] + b["height"] <= 844 + 0.5, sel
        box = page.locator("#canvas").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert page.locator("#canvas").evaluate("c => getComputedStyle(c).touchAction") == "none"
        # Icon-only on a phone, but still named for screen readers.
        expect(page.get_by_label("Model")).to_be_visible()
        for name in ("Open", "Brush", "Eraser", "Undo", "Fill", "Download"):
            expect(page.get_by_role("button", name=name).first).to_be_visible()

        # A tap paints a dot under the finger.
        page.locator("#brush-size").fill("20")
        x, y = canvas_point(page, 0.25, 0.5)
        page.touchscreen.tap(x, y)
        w, h = page.evaluate("[window.editorState.width, window.editorState.height]")
        y0, y1, x0, x1 = bbox(mask(page))
        assert abs((x0 + x1) / 2 - 0.25 * w) <= 3 and abs((y0 + y1) / 2 - 0.5 * h) <= 3

        # A one-finger drag paints a stroke (raw touch events, as a phone sends them).
        cdp = context.new_cdp_session(page)

        def touch(kind: str, points: list[tuple[float, float]]) -> None:
            cdp.send(
                "Input.dispatchTouchEvent",
                {"type": kind, "touchPoints": [{"x": px, "y": py, "id": i} for i, (px, py) in enumerate(points)]},
            )

        start, end = canvas_point(page, 0.5, 0.3), canvas_point(page, 0.8, 0.3)
        touch("touchStart", [start])
        for i in range(1, 11):
            touch("touchMove", [(start[0] + (end[0] - start[0]) * i / 10, start[1])])
        touch("touchEnd", [])
        stroke = mask(page)[:, int(0.45 * w) :]
        y0, y1, x0, x1 = bbox(stroke)
        assert abs(x0 + int(0.45 * w) - (0.5 * w - 10)) <= 3 and abs(x1 + int(0.45 * w) - (0.8 * w + 10)) <= 3
        painted = mask(page).sum()

        # Two fingers pinch-zoom instead of painting.
        zoom = page.evaluate("window.editorState.zoom")
        a, b = canvas_point(page, 0.45, 0.7), canvas_point(page, 0.55, 0.7)
        touch("touchStart", [a])
        touch("touchStart", [a, b])
        for i in range(1, 6):
            touch("touchMove", [(a[0] - 8 * i, a[1]), (b[0] + 8 * i, b[1])])
        touch("touchEnd", [])
        assert page.evaluate("window.editorState.zoom") > zoom * 1.3
        assert mask(page).sum() == painted, "a pinch must not paint"
        expect(page.locator("#fill-btn")).to_be_enabled()
        page.keyboard.press("0")  # back to fit for the picture
        page.screenshot(path=artifacts / "editor-phone.png")
    finally:
        context.close()


def test_api_docs_render_without_internet(page: Page, live_server: str) -> None:
    """/docs is Swagger UI from the server's own static files: it renders the operations with
    no request leaving the server (this machine's browser has no internet, like many demos)."""
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server}/docs")
    operation = page.locator(".opblock-summary-path[data-path='/inpaint']")
    expect(operation).to_be_visible(timeout=15_000)
    expect(page.locator(".opblock-summary-path[data-path='/healthz']")).to_be_visible()
    outside = [url for url in requested if not url.startswith(live_server) and not url.startswith("data:")]
    assert not outside, outside


# ---------------------------------------------------------------- opening, stages, downloads


def test_a_photo_still_opening_is_laid_out_at_once_and_keeps_what_is_painted(
    page: Page, live_server: str, photo: np.ndarray, tmp_path: Path
) -> None:
    """A big JPEG takes seconds to decode: meanwhile the status says so with the time, the
    photo is laid out at its upright size from its header, on its EXIF thumbnail (turned
    upright), strokes painted on it are kept, and Ctrl+Enter fills once the photo is there."""
    h, w = photo.shape[:2]
    thumb = io.BytesIO()
    Image.fromarray(photo).transpose(Image.Transpose.ROTATE_90).resize((32, 48)).save(thumb, "JPEG", quality=90)
    path = tmp_path / "sideways.jpg"
    path.write_bytes(sideways_jpeg(photo, exif_with_thumbnail(6, thumb.getvalue()), quality=92))
    page.goto(live_server)
    page.evaluate(SLOW_DECODE, ["file", 3000])
    page.locator("#file-input").set_input_files(path)
    page.wait_for_function("window.editorState.opening")
    expect(page.locator("#status")).to_contain_text(re.compile(r"Opening sideways\.jpg… \d+\.\d s"))
    expect(page.locator("#opening-badge")).to_be_visible()
    assert page.locator("#canvas").evaluate("c => [c.width, c.height]") == [w, h]  # upright already
    page.wait_for_function(
        "document.getElementById('image-canvas').getContext('2d').getImageData(384, 256, 1, 1).data[3] > 0"
    )
    preview = image_canvas(page).astype(float)

    def coarse(a: np.ndarray) -> np.ndarray:
        return a.reshape(16, h // 16, 24, w // 24, 3).mean(axis=(1, 3))

    unturned = np.asarray(Image.fromarray(photo).transpose(Image.Transpose.ROTATE_90).resize((w, h))).astype(float)
    right, wrong = np.abs(coarse(preview) - coarse(photo)).mean(), np.abs(coarse(preview) - coarse(unturned)).mean()
    assert right < 20 and right < wrong / 2, (right, wrong)

    page.locator("#brush-size").fill("24")
    paint(page, [(0.3, 0.4), (0.45, 0.5)])
    painted = mask(page)
    assert painted.any(), "a stroke painted while the photo opens is kept"
    page.keyboard.press("Control+Enter")
    expect(page.locator("#spinner")).to_contain_text("Opening the photo")
    page.wait_for_function("window.editorState.fills === 1 && !window.editorState.busy", timeout=60_000)
    assert page.evaluate("[window.editorState.width, window.editorState.height]") == [w, h]
    expect(page.locator("#opening-badge")).to_be_hidden()
    after = image_canvas(page)
    page.keyboard.press("c")
    before = image_canvas(page)
    assert np.abs(before.astype(int) - photo).mean() < 3  # the JPEG, decoded upright
    changed = np.any(after != before, axis=-1)
    y0, y1, x0, x1 = bbox(painted)
    assert not changed[: y0 - 2].any() and not changed[y1 + 3 :].any()
    assert not changed[:, : x0 - 2].any() and not changed[:, x1 + 3 :].any()
    assert changed[painted].mean() > 0.5


def test_a_photo_whose_size_is_not_read_ahead_opens_on_a_stage_that_says_so(
    page: Page, live_server: str, photo_path: Path, photo: np.ndarray, tmp_path: Path
) -> None:
    """A WebP's size is not read from its header, so it cannot be laid out before it decodes:
    meanwhile the stage says it is opening, rather than keeping the last photo to paint on in
    vain (what is painted there would be lost) or inviting a drop."""
    path = tmp_path / "photo.webp"
    Image.fromarray(photo).save(path, "WEBP", quality=90)
    open_photo(page, live_server, photo_path)
    page.evaluate(SLOW_DECODE, ["file", 2000])
    page.locator("#file-input").set_input_files(path)
    expect(page.locator("#dropzone")).to_contain_text("Opening photo.webp…")
    expect(page.locator("#canvas-wrap")).to_be_hidden()
    page.wait_for_function("window.editorState.width > 0")
    expect(page.locator("#canvas-wrap")).to_be_visible()
    expect(page.locator("#dropzone")).to_be_hidden()
    expect(page.locator("#status")).to_contain_text("photo.webp · 768 × 512")


def test_a_fill_says_what_it_is_doing_and_cancel_drops_it_even_after_the_answer(
    page: Page, live_server: str, photo_path: Path, photo: np.ndarray
) -> None:
    """The spinner names the stage with the time since Fill; Cancel frees the editor at once
    and the answer never lands, even when it has already arrived (Escape, while applying)."""
    open_photo(page, live_server, photo_path)
    paint(page, [(0.4, 0.4), (0.5, 0.5)])
    spinner, status = page.locator("#spinner"), page.locator("#status")
    held = []
    page.route(FILL_URL, lambda route: held.append(route))
    page.locator("#fill-btn").click()
    expect(spinner).to_contain_text(re.compile(r"Uploading… \d+\.\d s"))
    first = float(page.locator("#busy-time").inner_text().split()[0])
    page.wait_for_timeout(400)
    assert float(page.locator("#busy-time").inner_text().split()[0]) >= first + 0.3  # the time runs
    page.locator("#cancel-btn").click()
    expect(spinner).to_be_hidden(timeout=1_000)
    expect(status).to_contain_text("Fill cancelled")
    expect(page.locator("#fill-btn")).to_be_enabled()
    with contextlib.suppress(PlaywrightError):
        held[0].continue_()  # the request was aborted: nothing may come of it
    page.unroute(FILL_URL)
    page.wait_for_timeout(500)
    assert page.evaluate("window.editorState.fills") == 0

    # The answer arrives, then Escape while it is being applied (its decode made slow).
    page.evaluate(SLOW_DECODE, ["blob", 2000])
    page.locator("#fill-btn").click()
    expect(spinner).to_contain_text("Applying", timeout=30_000)
    page.keyboard.press("Escape")
    expect(spinner).to_be_hidden(timeout=1_000)
    expect(status).to_contain_text("Fill cancelled")
    page.wait_for_timeout(2_500)
    assert page.evaluate("window.editorState.fills") == 0
    assert np.array_equal(image_canvas(page), photo) and mask(page).any()


STILL_STATE = """() => {
    const still = document.querySelector('#canvas-wrap canvas.still');
    const wrap = document.getElementById('canvas-wrap');
    const visibility = (id) => getComputedStyle(document.getElementById(id)).visibility;
    const hidden = ['image-canvas', 'canvas'].map(visibility);
    if (!still) return { hidden };
    const px = still.getContext('2d').getImageData(0, 0, still.width, still.height).data;
    const mean = [0, 1, 2].map((c) => {
        let sum = 0;
        for (let i = c; i < px.length; i += 4) sum += px[i];
        return sum / (px.length / 4);
    });
    return { hidden, width: still.width, shown: Math.round(wrap.clientWidth * devicePixelRatio), mean };
}"""


def test_a_busy_editor_shows_a_still_in_place_of_the_full_size_canvases(
    page: Page, live_server: str, photo: np.ndarray, tmp_path: Path
) -> None:
    """Without GPU compositing a browser scales the full-size photo and mask canvases again for
    every frame of the spinner: while a fill runs, one still at the size shown (the photo with
    its mask) stands in for them, and they are back, filled, when it ends."""
    big = np.asarray(Image.fromarray(photo).resize((photo.shape[1] * 4, photo.shape[0] * 4)))
    Image.fromarray(big).save(tmp_path / "big.png")
    open_photo(page, live_server, tmp_path / "big.png")
    paint(page, [(0.4, 0.4), (0.5, 0.5)])
    held = []
    page.route(FILL_URL, lambda route: held.append(route))
    page.locator("#fill-btn").click()
    expect(page.locator("#spinner")).to_contain_text("Uploading")
    still = page.evaluate(STILL_STATE)
    assert still["hidden"] == ["hidden", "hidden"] and "width" in still, still
    assert still["width"] == still["shown"] < big.shape[1]
    assert np.allclose(still["mean"], big.reshape(-1, 3).mean(0), atol=12)  # the photo (the mask tints it a little)
    held[0].continue_()
    page.wait_for_function("window.editorState.fills === 1 && !window.editorState.busy")
    assert page.locator("#canvas-wrap canvas.still").count() == 0
    visibility = "(id) => getComputedStyle(document.getElementById(id)).visibility"
    assert [page.evaluate(visibility, name) for name in ("image-canvas", "canvas")] == ["visible", "visible"]
    page.unroute(FILL_URL)


def test_a_jpeg_downloads_as_a_jpeg_with_its_camera_data_and_colour_profile(
    page: Page, live_server: str, photo: np.ndarray, tmp_path: Path
) -> None:
    """Results are encoded only when downloaded, at full size and in the photo's format: a
    JPEG gives a high-quality JPEG that keeps the Exif (camera, date; Orientation set to 1, as
    the pixels are upright already) and the ICC colour profile. Lossless PNG on request, with
    the same Exif and profile."""
    h, w = photo.shape[:2]
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: turn a quarter clockwise to show
    exif[0x010F] = "TestCam"  # Make
    exif[0x0110] = "Model 7"  # Model
    exif.get_ifd(0x8769)[0x9003] = "2024:05:06 07:08:09"  # DateTimeOriginal
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = tmp_path / "sideways.jpg"
    path.write_bytes(sideways_jpeg(photo, exif, quality=95, icc_profile=icc))
    open_photo(page, live_server, path)
    assert page.evaluate("[window.editorState.width, window.editorState.height]") == [w, h]
    paint(page, [(0.3, 0.4), (0.45, 0.5)])
    press_fill_and_wait(page, fills=1)
    shown = image_canvas(page)
    expect(page.locator("#download-format")).to_be_visible()
    name, data = downloaded(page)
    assert name == "sideways-inpainted.jpg"
    with Image.open(io.BytesIO(data)) as result:
        assert result.format == "JPEG" and result.size == (w, h)
        meta = result.getexif()
        assert meta[0x0112] == 1 and meta[0x010F] == "TestCam" and meta[0x0110] == "Model 7"
        assert meta.get_ifd(0x8769)[0x9003] == "2024:05:06 07:08:09"
        assert result.info.get("icc_profile") == icc
        pixels = np.asarray(result.convert("RGB")).astype(int)
    assert np.abs(pixels - shown).mean() < 3  # quality 95 %
    assert not page.evaluate("window.editorState.unsaved")
    page.locator("#download-format").select_option("png")
    name, data = downloaded(page)
    assert name == "sideways-inpainted.png"
    with Image.open(io.BytesIO(data)) as result:
        assert result.format == "PNG" and np.array_equal(np.asarray(result.convert("RGB")), shown)
        assert result.info.get("icc_profile") == icc  # the colours hold in the lossless copy too
        meta = result.getexif()
        assert meta[0x0112] == 1 and meta[0x010F] == "TestCam"
        assert meta.get_ifd(0x8769)[0x9003] == "2024:05:06 07:08:09"


# ---------------------------------------------------------------- the smaller things


def test_grow_is_previewed_and_stays_within_its_range(
    page: Page, live_server: str, photo_path: Path, photo: np.ndarray, tmp_path: Path
) -> None:
    """The ring Grow adds shows around the mask, exactly as the server grows it; a value over
    the server's 64 px is set back to 64 in the field, with a word why, before it is sent."""
    open_photo(page, live_server, photo_path)
    h, w = photo.shape[:2]
    block = np.zeros((h, w), bool)
    block[200:260, 300:380] = True
    Image.fromarray(block.astype(np.uint8) * 255).save(tmp_path / "mask.png")
    page.locator("#mask-input").set_input_files(str(tmp_path / "mask.png"))
    page.wait_for_function("window.editorState.canUndo")
    field = page.locator("#grow")

    def preview() -> np.ndarray:
        left, top, width, height = map(int, page.locator("#grow-canvas").get_attribute("data-region").split(","))
        ring = np.zeros((h, w), bool)
        ring[top : top + height, left : left + width] = canvas_rgba(page, "#grow-canvas")[..., 3] > 0
        return ring

    expect(page.locator("#grow-canvas")).to_be_hidden()
    field.fill("5")
    expect(page.locator("#grow-canvas")).to_have_attribute("data-region", "295,195,90,70")
    assert np.array_equal(preview(), grow_hole(block, 5) & ~block)
    field.fill("100")
    field.press("Tab")
    expect(field).to_have_value("64")
    expect(page.locator("#status")).to_contain_text("64 px")
    expect(page.locator("#grow-canvas")).to_have_attribute("data-region", "236,136,208,188")
    assert np.array_equal(preview(), grow_hole(block, 64) & ~block)

    # Ctrl+Enter straight after typing: the field shows what is sent, and the fill covers it.
    field.fill("90")
    page.keyboard.press("Control+Enter")
    expect(field).to_have_value("64")
    page.wait_for_function("window.editorState.fills === 1 && !window.editorState.busy", timeout=60_000)
    changed = np.any(image_canvas(page) != photo, axis=-1)
    grown = grow_hole(block, 64)
    assert not (changed & ~grown).any() and changed[grown & ~grow_hole(block, 48)].mean() > 0.5
    expect(page.locator("#grow-canvas")).to_be_hidden()  # no mask left to grow


def test_grow_stays_within_the_servers_own_limit(page: Page, tiny_weights: Path, photo_path: Path) -> None:
    """The editor takes Grow's limit from the server (CE_MAX_GROW), not from a number of its own."""
    with serve(tiny_weights, env={"CE_MAX_GROW": "8"}, timeout=60) as url:
        open_photo(page, url, photo_path)
        field = page.locator("#grow")
        field.fill("20")
        field.press("Tab")
        expect(field).to_have_value("8")
        expect(page.locator("#status")).to_contain_text("8 px")


def test_fill_status_names_the_model_and_undone_fills_are_not_unsaved(
    page: Page, live_server: str, photo_path: Path
) -> None:
    """The status line says which model filled by its title (not its file stem); undoing every
    fill leaves nothing to lose, so opening another photo does not ask; a downloaded result
    does not ask either."""
    models = httpx.get(f"{live_server}/api/models", timeout=10).json()
    default = next(m for m in models if m["default"])
    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    open_photo(page, live_server, photo_path)
    paint(page, [(0.3, 0.4), (0.4, 0.45)])
    press_fill_and_wait(page, fills=1)
    expect(page.locator("#status")).to_contain_text(f"Filled with {default['title']} in")
    assert default["title"] != default["name"]
    assert page.evaluate("window.editorState.unsaved")
    page.keyboard.press("Control+z")
    assert not page.evaluate("window.editorState.unsaved")
    other = photo_path.parent / "kodim03.png"
    page.locator("#file-input").set_input_files(str(other))
    expect(page.locator("#status")).to_contain_text("kodim03.png ·")
    assert not asked
    paint(page, [(0.3, 0.4), (0.4, 0.45)])
    press_fill_and_wait(page, fills=1)
    downloaded(page)
    page.locator("#file-input").set_input_files(str(photo_path))
    expect(page.locator("#status")).to_contain_text("kodim23.png ·")
    assert not asked


def test_messages_never_move_the_photo(page: Page, live_server: str, photo_path: Path) -> None:
    """An error of several lines, or a long status line, must not resize the stage: the photo
    (fitted to the stage) would jump under the brush."""
    open_photo(page, live_server, photo_path)
    paint(page, [(0.4, 0.4), (0.5, 0.5)])
    box = page.locator("#canvas").bounding_box()
    detail = "The server refused this request for a reason that takes many words to explain. " * 5
    page.route(FILL_URL, lambda route: route.fulfill(status=422, json={"detail": detail}))
    page.locator("#fill-btn").click()
    error = page.locator("#error")
    expect(error).to_be_visible()
    assert error.bounding_box()["height"] > 60  # several lines
    assert page.locator("#canvas").bounding_box() == box
    page.locator("#error-close").click()
    page.evaluate("document.getElementById('status').textContent = 'A long status line. '.repeat(30)")
    assert page.locator("#canvas").bounding_box() == box


def test_phone_names_every_action_and_shows_whole_model_descriptions(
    browser: Browser, live_server: str, photo: np.ndarray, tmp_path: Path
) -> None:
    """On a phone, Grow has a visible label, Before, Download and Compare show their names
    under their icons (the download's format choice beside them, for a JPEG), all within the
    width, and the model's description wraps instead of being cut (its tooltip holds the
    whole of it)."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, device_scale_factor=2
    )
    page = context.new_page()
    path = tmp_path / "phone.jpg"
    Image.fromarray(photo).save(path, quality=90)
    try:
        open_photo(page, live_server, path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        named = ("label[for='grow']", "#result-toggle .label", "#download-btn .label", "#compare-btn .label")
        for selector in (*named, "#download-format"):
            b = page.locator(selector).bounding_box()
            assert b is not None and b["width"] > 20 and b["height"] > 8, selector
            assert b["x"] >= 0 and b["x"] + b["width"] <= 390 + 0.5, selector
        for button in ("#result-toggle", "#download-btn", "#compare-btn"):
            inside, label = page.locator(button).bounding_box(), page.locator(f"{button} .label").bounding_box()
            assert inside["x"] <= label["x"] and label["x"] + label["width"] <= inside["x"] + inside["width"], button
        info = page.locator("#model-info")
        described = httpx.get(f"{live_server}/api/models", timeout=10).json()[0]
        assert described["good_at"] in info.get_attribute("title")
        assert info.evaluate("e => e.scrollWidth <= e.clientWidth && e.scrollHeight <= e.clientHeight")
        expect(info).to_contain_text(described["good_at"])
    finally:
        context.close()
