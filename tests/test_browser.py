"""The canvas editor in a real browser (Debian's Chromium through Playwright) against the real
server (``live_server``: uvicorn serving ``app.main:app`` with the test generator).

Everything is checked through what a person can see or get: DOM state, the mask canvas's
pixels and the bytes of the downloadable result, compared with numpy against the photograph.
Screenshots land in ``test-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.devserver import CHROMIUM, CHROMIUM_ARGS, serve

REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO_ROOT / "test-artifacts"
DESKTOP = {"width": 1280, "height": 800}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PHONE_CONTROLS = (
    "#open-btn", "#brush-btn", "#eraser-btn", "#brush-size", "#undo-btn", "#redo-btn", "#clear-btn", "#fit-btn",
    "#model-select", "#fill-btn", "#download-link", "#result-toggle",
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
    b64 = page.evaluate(
        """() => {
            const c = document.getElementById('canvas');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            const a = new Uint8Array(d.length / 4);
            for (let i = 0; i < a.length; i++) a[i] = d[i * 4 + 3];
            let s = '';
            for (let i = 0; i < a.length; i += 0x8000) s += String.fromCharCode(...a.subarray(i, i + 0x8000));
            return [c.width, c.height, btoa(s)];
        }"""
    )
    w, h, data = b64
    return np.frombuffer(base64.b64decode(data), dtype=np.uint8).reshape(h, w) > 127


def image_canvas(page: Page) -> np.ndarray:
    """The displayed image canvas at full resolution, RGB."""
    w, h, data = page.evaluate(
        """() => {
            const c = document.getElementById('image-canvas');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let s = '';
            for (let i = 0; i < d.length; i += 0x8000) s += String.fromCharCode(...d.subarray(i, i + 0x8000));
            return [c.width, c.height, btoa(s)];
        }"""
    )
    return np.frombuffer(base64.b64decode(data), dtype=np.uint8).reshape(h, w, 4)[..., :3]


def download_link_bytes(page: Page) -> bytes:
    """The bytes behind the download link (a blob: URL), fetched inside the page."""
    b64 = page.evaluate(
        """async () => {
            const href = document.getElementById('download-link').href;
            const buf = new Uint8Array(await (await fetch(href)).arrayBuffer());
            let s = '';
            for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode(...buf.subarray(i, i + 0x8000));
            return btoa(s);
        }"""
    )
    return base64.b64decode(b64)


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


def bbox(m: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(m)
    return int(ys.min()), int(ys.max()), int(xs.min()), int(xs.max())


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
    expect(page.locator("#download-link")).to_have_attribute("aria-disabled", "true")
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
    result = np.asarray(Image.open(io.BytesIO(download_link_bytes(page))).convert("RGB"))
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
    result2 = np.asarray(Image.open(io.BytesIO(download_link_bytes(page))).convert("RGB"))
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
        page.locator("#download-link").click()
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
    page.locator("#download-link").focus()
    page.keyboard.press("1")
    for _ in range(5):  # well past the stage's size: there is something to pan
        page.keyboard.press("+")
    stage = page.locator("#stage")
    before = stage.evaluate("s => [s.scrollLeft, s.scrollTop]")
    box = stage.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.locator("#download-link").focus()
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
    """A mask file (same rules as the API) becomes the mask in one undoable step; Grow dilates
    it before filling, so the fill also covers a ring around what was painted."""
    open_photo(page, live_server, photo_path)
    h, w = photo.shape[:2]
    block = np.zeros((h, w), bool)
    block[200:260, 300:380] = True
    opaque = np.zeros((h, w, 4), np.uint8)  # what painting programs export: opaque, white strokes
    opaque[..., 3] = 255
    opaque[block] = 255
    Image.fromarray(opaque, "RGBA").save(tmp_path / "mask.png")
    page.locator("#mask-input").set_input_files(str(tmp_path / "mask.png"))
    page.wait_for_function("window.editorState.canUndo")
    assert np.array_equal(mask(page), block)
    page.locator("#grow").fill("5")
    press_fill_and_wait(page, fills=1)
    result = np.asarray(Image.open(io.BytesIO(download_link_bytes(page))).convert("RGB"))
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
    """One action fills the same mask with every model; the results show side by side around
    the mask at 1:1, scroll together, and the one kept becomes the fill."""
    models = httpx.get(f"{live_server}/api/models", timeout=10).json()
    open_photo(page, live_server, photo_path)
    page.locator("#brush-size").fill("24")
    paint(page, [(0.30, 0.40), (0.45, 0.50)])
    painted = mask(page)
    page.locator("#compare-btn").click()
    dialog = page.locator("#compare-dialog")
    expect(dialog).to_be_visible(timeout=60_000)
    items = dialog.locator(".compare-item")
    expect(items).to_have_count(len(models))
    assert items.evaluate_all("fs => fs.map(f => f.dataset.model)") == [
        page.locator("#model-select option").nth(i).get_attribute("value") for i in range(len(models))
    ]
    y0, y1, x0, x1 = bbox(painted)
    sizes = dialog.locator("canvas").evaluate_all("cs => cs.map(c => [c.width, c.height, c.clientWidth])")
    assert all(size == [x1 - x0 + 1 + 96, y1 - y0 + 1 + 96, x1 - x0 + 1 + 96] for size in sizes)  # 1:1 crops
    panes = dialog.locator(".compare-pane")
    panes.first.evaluate("p => { p.scrollLeft = 30; p.scrollTop = 20; p.dispatchEvent(new Event('scroll')); }")
    scrolls = panes.evaluate_all("ps => ps.map(p => [p.scrollLeft, p.scrollTop])")
    assert len(set(map(tuple, scrolls))) == 1  # synced
    # keep the Navier-Stokes fill: exactly what the API answers for that model and mask
    dialog.locator('.compare-item[data-model="ns"] button').click()
    expect(dialog).to_be_hidden()
    assert page.evaluate("window.editorState.fills") == 1
    kept = np.asarray(Image.open(io.BytesIO(download_link_bytes(page))).convert("RGB"))
    buffer = io.BytesIO()
    Image.fromarray(painted.astype(np.uint8) * 255).save(buffer, "PNG")
    direct = httpx.post(
        f"{live_server}/inpaint",
        files={"image": photo_path.read_bytes(), "mask": buffer.getvalue()},
        data={"model": "ns"},
        timeout=60,
    )
    assert np.array_equal(kept, np.asarray(Image.open(io.BytesIO(direct.content)).convert("RGB")))
    assert not mask(page).any()


def test_a_photo_larger_than_the_upload_limit_as_png_stays_fillable_round_after_round(
    page: Page, tiny_weights: Path, photo_path: Path, tmp_path: Path
) -> None:
    """What a phone photo meets: over the pixel limit, so the editor resizes it and keeps it
    lossless (a PNG over the upload limit), and every filled result is such a PNG too. Each
    fill then sends a crop around its mask; only masked pixels change, round after round."""
    big = tmp_path / "phone.jpg"
    Image.open(photo_path).convert("RGB").resize((1536, 1024), Image.Resampling.BICUBIC).save(big, quality=90)
    assert big.stat().st_size < 2**20
    env = {"CE_MAX_UPLOAD_MB": "1", "CE_MAX_PIXELS": "1000000"}
    with serve(tiny_weights, env=env, timeout=60) as url:
        open_photo(page, url, big)
        w, h = page.evaluate("[window.editorState.width, window.editorState.height]")
        assert w * h <= 1_000_000 and w > 1000  # resized to fit the pixel limit
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
        result = np.asarray(Image.open(io.BytesIO(download_link_bytes(page))).convert("RGB"))
        assert np.array_equal(result, shown)
        assert len(download_link_bytes(page)) > 2**20  # the result itself is over the upload limit


def test_a_busy_server_is_retried_after_its_retry_after(page: Page, live_server: str, photo_path: Path) -> None:
    """503 + Retry-After (admission under overload): the editor says so, waits and retries."""
    refused = []

    def busy_once(route) -> None:
        if not refused:
            refused.append(route.request.url)
            route.fulfill(status=503, headers={"Retry-After": "1"}, json={"detail": "server is busy"})
        else:
            route.continue_()

    page.route("**/inpaint", busy_once)
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
        "**/inpaint",
        lambda route: route.fulfill(
            status=503, content_type="application/json", body=json.dumps({"detail": "Server busy: try again soon"})
        ),
    )
    page.locator("#fill-btn").click()
    expect(error).to_contain_text("Server busy: try again soon")
    expect(error).to_contain_text("503")
    page.unroute("**/inpaint")
    page.route("**/inpaint", lambda route: route.abort("connectionfailed"))
    page.locator("#fill-btn").click()
    expect(error).to_contain_text("could not reach the server")
    assert page.evaluate("window.editorState.fills") == 0
    page.unroute("**/inpaint")

    # A slow answer shows the spinner and can be cancelled; nothing changes.
    held = []
    page.route("**/inpaint", lambda route: held.append(route))
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
