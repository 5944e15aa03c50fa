"""A 48-megapixel phone photo, end to end in Chromium, beside the server's own time.

Makes a phone-like JPEG (8000x6000 stored sideways with EXIF orientation 6, camera and date
tags: shown upright as 6000x8000) from a Kodak photograph, starts the real server
(``uvicorn``, loopback, the shipped generator) and measures, for each hole:

- **server**: ``POST /inpaint/regions`` with the photo's file and the painted rectangle of the
  mask, as the editor sends them (median of ``--rounds``), and the server's peak memory;
- **editor**: headless Chromium driving the editor: open the photo, load the mask, press Fill
  until the fill is applied, then Download; the downloaded JPEG's size and EXIF are checked.

Holes: ``stroke``, a 3,000 px power line 24 px wide; ``blob``, an ellipse over 20 % of the
photo. Prints a Markdown table. A script, not a test: numbers depend on the machine.

    python benchmarks/bench_phone.py
    python benchmarks/bench_phone.py --case stroke --rounds 1
"""

from __future__ import annotations

import argparse
import io
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import cv2
import httpx
import numpy as np
from PIL import Image
from playwright.sync_api import Response, sync_playwright

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from model.export import DEFAULT_WEIGHTS  # noqa: E402
from tests.devserver import serve  # noqa: E402

DEFAULT_PHOTO = REPO_ROOT.parent / "shared" / "data" / "test" / "kodak24" / "kodim05.png"
CHROMIUM = "/usr/bin/chromium"
SHOWN = (6000, 8000)  # width, height as the browser shows the photo (EXIF orientation applied)
CASES = ("stroke", "blob")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS, help="generator export (default: shipped)")
    p.add_argument("--photo", type=Path, default=DEFAULT_PHOTO, help="a photograph to blow up to 48 MP")
    p.add_argument("--case", choices=(*CASES, "all"), default="all")
    p.add_argument("--rounds", type=int, default=3, help="server-only requests per case (median)")
    return p.parse_args()


def phone_jpeg(photo: Path) -> bytes:
    """8000x6000 JPEG (q 90) with film-like grain, stored sideways as phones do (orientation 6)."""
    source = Image.open(photo).convert("RGB").resize((SHOWN[1], SHOWN[0]), Image.Resampling.BICUBIC)
    pixels = np.asarray(source).astype(np.int16)
    grain = np.random.default_rng(0).normal(0, 4, pixels.shape[:2])[..., None]
    stored = Image.fromarray(np.clip(pixels + grain, 0, 255).astype(np.uint8))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0132], exif[0x0112] = "Benchmark", "Phone 48", "2026:12:01 10:00:00", 6
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", quality=90, exif=exif.tobytes())
    return buffer.getvalue()


def hole(case: str) -> np.ndarray:
    """The hole on the upright photo: a 24 px power line 3,000 px long, or a 20 % ellipse."""
    width, height = SHOWN
    mask = np.zeros((height, width), np.uint8)
    if case == "stroke":
        cv2.line(mask, (1200, 1500), (1200 + 1800, 1500 + 2400), 255, 24)  # 3,000 px
    else:
        axes = (int(width * 0.26), int(height * 0.245))  # pi * a * b = 20 % of the photo
        cv2.ellipse(mask, (width // 2, height // 2), axes, 0, 0, 360, 255, -1)
    return mask > 0


def png(mask: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(mask.astype(np.uint8) * 255).save(buffer, "PNG")
    return buffer.getvalue()


def server_seconds(url: str, photo: bytes, mask: np.ndarray, rounds: int) -> tuple[float, dict[str, float]]:
    """Median wall time of POST /inpaint/regions with the photo and the mask's rectangle, and
    the median of each of its Server-Timing steps."""
    ys, xs = np.nonzero(mask)
    top, left = int(ys.min()), int(xs.min())
    painted = png(mask[top : int(ys.max()) + 1, left : int(xs.max()) + 1])
    times, steps = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        response = httpx.post(
            f"{url}/inpaint/regions",
            files={"image": ("phone.jpg", photo, "image/jpeg"), "mask": ("mask.png", painted, "image/png")},
            data={"mask_left": str(left), "mask_top": str(top)},
            timeout=300,
        )
        times.append(time.perf_counter() - start)
        response.raise_for_status()
        steps.append(server_steps(response.headers.get("server-timing", "")))
    return statistics.median(times), {name: statistics.median(s[name] for s in steps) for name in steps[0]}


def editor_seconds(url: str, photo_file: Path, mask_file: Path) -> dict[str, float | str]:
    """Open, load the mask, Fill until applied, Download: seconds of each, and what came down."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True).new_page()
        page.set_default_timeout(300_000)
        timings: list[str] = []  # the fill's Server-Timing header: the server's part of the editor's time

        def heard(response: Response) -> None:
            if response.url.endswith("/inpaint/regions"):
                timings.append(response.headers.get("server-timing", ""))

        page.on("response", heard)
        page.goto(url)
        start = time.perf_counter()
        page.locator("#file-input").set_input_files(str(photo_file))
        page.wait_for_function("window.editorState.width > 0")
        opened = time.perf_counter() - start
        page.locator("#mask-input").set_input_files(str(mask_file))
        page.wait_for_function("window.editorState.canUndo")
        start = time.perf_counter()
        page.locator("#fill-btn").click()
        page.wait_for_function("window.editorState.fills === 1 && !window.editorState.busy")
        filled = time.perf_counter() - start
        start = time.perf_counter()
        with page.expect_download() as info:
            page.locator("#download-btn").click()
        data = Path(info.value.path()).read_bytes()
        downloaded = time.perf_counter() - start
        browser.close()
    result = Image.open(io.BytesIO(data))
    exif = result.getexif()
    kept = exif.get(0x0110) == "Phone 48" and exif.get(0x0132) == "2026:12:01 10:00:00" and exif.get(0x0112, 1) == 1
    return {
        "open": opened,
        "fill": filled,
        "server_steps": summed([server_steps(header) for header in timings]),
        "download": downloaded,
        "file": f"{result.format} {result.width}x{result.height}, {len(data) / 2**20:.1f} MiB, "
        f"EXIF {'kept' if kept else 'LOST'}",
    }


def server_steps(header: str) -> dict[str, float]:
    """Seconds of each step of a Server-Timing header (``decode;dur=812.4, ...``, milliseconds)."""
    pairs = (step.split(";dur=") for step in header.split(", ") if ";dur=" in step)
    return {name: float(ms) / 1000 for name, ms in pairs}


def summed(steps: list[dict[str, float]]) -> dict[str, float]:
    """The steps of several requests (a fill the editor sent in parts), added up by name."""
    total: Counter[str] = Counter()
    for one in steps:
        total.update(one)
    return dict(total)


def steps_text(steps: dict[str, float]) -> str:
    return ", ".join(f"{name} {seconds:.2f}" for name, seconds in steps.items())


def main() -> None:
    args = parse_args()
    cases = CASES if args.case == "all" else (args.case,)
    photo = phone_jpeg(args.photo)
    cpu = platform.processor() or platform.machine()
    print(f"{cpu}, {len(photo) / 2**20:.1f} MiB JPEG, shown {SHOWN[0]}x{SHOWN[1]}")
    rows = []
    with tempfile.TemporaryDirectory() as folder, serve(args.weights) as url:
        photo_file = Path(folder) / "phone.jpg"
        photo_file.write_bytes(photo)
        for case in cases:
            mask = hole(case)
            mask_file = Path(folder) / f"{case}.png"
            mask_file.write_bytes(png(mask))
            server, steps = server_seconds(url, photo, mask, args.rounds)
            peak = httpx.get(f"{url}/healthz", timeout=30).json()["memory"]["peak_rss_mib"]
            editor = editor_seconds(url, photo_file, mask_file)
            rows.append((case, mask.mean(), server, steps, peak, editor))
    print("\n| hole | share | server fill | server peak memory | editor: open | fill (server's part) ", end="")
    print("| ratio to server | download | downloaded |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for case, share, server, _, peak, e in rows:
        part = sum(e["server_steps"].values())
        print(
            f"| {case} | {share:.1%} | {server:.2f} s | {peak:,.0f} MiB | {e['open']:.2f} s | {e['fill']:.2f} s "
            f"({part:.2f} s) | {e['fill'] / server:.2f}x | {e['download']:.2f} s | {e['file']} |"
        )
    print("\nServer-Timing steps, seconds: the server alone (median) / the editor's fill")
    for case, _, _, steps, _, e in rows:
        print(f"- {case}: {steps_text(steps)} / {steps_text(e['server_steps'])}")


if __name__ == "__main__":
    main()
