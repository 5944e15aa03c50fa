"""Screenshots of the editor for the docs: a real server, a real browser, a real photograph.

Starts uvicorn (``app.main:app``) on a free loopback port serving the given generator export,
opens the editor in headless Chromium (Playwright) at 1280x800, opens a photograph, paints a
stroke over one object with the mouse and saves

* ``editor.png``: the photo with the translucent mask over the object, before filling;
* ``result.png``: the editor after Fill, showing the inpainted photo.

Then it stops the server. Run from the repository root with the dev extra installed::

    python scripts/docs_screenshots.py                       # model/weights/ce-region.pt -> docs/
    python scripts/docs_screenshots.py --weights /tmp/ce-test.pt --out-dir /tmp/shots

The default stroke paints over the blue cap on the right of Kodak 3 (the default photo); for
another photo pass ``--stroke`` as image-pixel points ``"x,y x,y ..."`` (a polyline).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from model.export import DEFAULT_WEIGHTS  # noqa: E402
from tests.devserver import CHROMIUM, CHROMIUM_ARGS, ServerFailed, serve  # noqa: E402

VIEWPORT = {"width": 1280, "height": 800}
# The blue cap at the right of kodim03 (768x512): a zigzag that covers cap, brim and a margin.
DEFAULT_STROKE = "636,333 690,335 693,365 636,352 644,392 692,396 682,424 656,418"
DEFAULT_BRUSH = 40
MAX_BYTES = 1_100_000  # keep each screenshot around 1 MB at most


def parse_stroke(text: str) -> list[tuple[float, float]]:
    """``"x,y x,y ..."`` (image pixels; spaces or semicolons between points) -> points."""
    points = []
    for item in text.replace(";", " ").split():
        x, _, y = item.partition(",")
        try:
            points.append((float(x), float(y)))
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad point {item!r}: expected x,y") from None
    if not points:
        raise argparse.ArgumentTypeError("the stroke needs at least one point")
    return points


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--weights",
        type=Path,
        default=DEFAULT_WEIGHTS,
        help="generator export to serve (CE_WEIGHTS; its folder becomes CE_MODELS_DIR)",
    )
    p.add_argument(
        "--photo",
        type=Path,
        default=REPO_ROOT.parent / "shared" / "data" / "test" / "kodak24" / "kodim03.png",
        help="photograph to open (default: Kodak 3, the caps)",
    )
    p.add_argument(
        "--stroke",
        type=parse_stroke,
        default=parse_stroke(DEFAULT_STROKE),
        help=f'polyline in image pixels, "x,y x,y ..." (default, for Kodak 3: "{DEFAULT_STROKE}")',
    )
    p.add_argument("--brush", type=int, default=DEFAULT_BRUSH, help="brush diameter in image pixels (2-200)")
    p.add_argument("--model", help="model to select in the editor (default: the server's default)")
    p.add_argument("--out-dir", type=Path, default=REPO_ROOT / "docs", help="where the PNGs go (default: docs/)")
    p.add_argument("--timeout", type=float, default=180, help="seconds to wait for the server and for the fill")
    return p


@contextmanager
def serve_weights(weights: Path, timeout: float) -> Iterator[str]:
    """The real server (uvicorn subprocess, loopback) serving ``weights``; yields its URL."""
    try:
        with serve(weights, timeout=timeout) as url:
            print(f"server up at {url} serving {weights}")
            yield url
    except ServerFailed as exc:
        raise SystemExit(str(exc)) from exc


def to_client(page: Page, x: float, y: float) -> tuple[float, float]:
    """Client coordinates of image pixel (x, y) on the displayed mask canvas."""
    box = page.locator("#canvas").bounding_box()
    w, h = page.evaluate("[window.editorState.width, window.editorState.height]")
    assert box is not None and w and h
    return box["x"] + x / w * box["width"], box["y"] + y / h * box["height"]


def paint(page: Page, points: list[tuple[float, float]]) -> None:
    """One mouse stroke through image-pixel points."""
    page.mouse.move(*to_client(page, *points[0]))
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(*to_client(page, x, y), steps=12)
    page.mouse.up()


def screenshot(page: Page, path: Path) -> None:
    page.screenshot(path=path)
    size = path.stat().st_size
    print(f"wrote {path} ({size / 1e6:.2f} MB)")
    if size > MAX_BYTES:
        print(f"warning: {path.name} is over {MAX_BYTES / 1e6:.1f} MB", file=sys.stderr)


def take(args: argparse.Namespace, url: str) -> None:
    args.out_dir.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.set_default_timeout(30_000)
            page.goto(url)
            page.wait_for_load_state("networkidle")
            if args.model:
                page.locator("#model-select").select_option(args.model)
            page.locator("#file-input").set_input_files(args.photo)
            expect(page.locator("#canvas-wrap")).to_be_visible()
            page.wait_for_function("window.editorState.width > 0")
            w, h = page.evaluate("[window.editorState.width, window.editorState.height]")
            outside = [(x, y) for x, y in args.stroke if not (0 <= x < w and 0 <= y < h)]
            if outside:
                raise SystemExit(f"stroke points outside the {w}x{h} photo: {outside}")

            page.locator("#brush-size").fill(str(args.brush))
            paint(page, args.stroke)
            expect(page.locator("#fill-btn")).to_be_enabled()
            # Leave the brush ring beside the end of the stroke (it shows what the pointer does),
            # clear of the painted area.
            ex, ey = args.stroke[-1]
            ring = (min(max(ex + 1.6 * args.brush, 0), w - 1), min(max(ey + 0.4 * args.brush, 0), h - 1))
            page.mouse.move(*to_client(page, *ring))
            page.wait_for_timeout(300)
            screenshot(page, args.out_dir / "editor.png")

            page.locator("#fill-btn").click()
            page.wait_for_function(
                "window.editorState.fills === 1 && !window.editorState.busy", timeout=args.timeout * 1000
            )
            expect(page.locator("#spinner")).to_be_hidden()
            if page.locator("#error").is_visible():
                raise SystemExit(f"the fill failed: {page.locator('#error-text').inner_text()}")
            # Pointer off the photo and the buttons, so neither ring nor hover styling shows.
            page.mouse.move(VIEWPORT["width"] / 2, 10)
            page.wait_for_timeout(300)
            screenshot(page, args.out_dir / "result.png")
            if errors:
                raise SystemExit(f"uncaught errors in the page: {errors}")
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.weights = args.weights.resolve()
    args.photo = args.photo.resolve()
    args.out_dir = args.out_dir.resolve()
    for path, what in ((args.weights, "weights"), (args.photo, "photo"), (Path(CHROMIUM), "Chromium")):
        if not path.is_file():
            raise SystemExit(f"{what} not found: {path}")
    if not 2 <= args.brush <= 200:
        raise SystemExit("--brush must be between 2 and 200 (the editor's range)")
    with serve_weights(args.weights, args.timeout) as url:
        take(args, url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
