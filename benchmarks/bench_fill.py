"""In-process cost of one full-resolution fill: the Context Encoder against OpenCV Telea on the
same photo and mask, in the same run (medians of ``--rounds``; ratios, not absolute times, are
what carries over between machines).

Cases are what users paint: one hole on a 512 px photo, a wire across a 1,536 px photo, three
holes on a 3000x2000 photo, one hole on a 4000x3000 photo, and pathological masks on a
4096x4096 photo (a 1 px line across the width, ten nested 1 px square rings). A script, not a
test: numbers depend on the machine.

    python benchmarks/bench_fill.py                          # the shipped default generator
    python benchmarks/bench_fill.py --weights runs/region/generator.pt --threads 2
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from model.export import DEFAULT_WEIGHTS  # noqa: E402
from model.fillers import ClassicalFiller, load_filler  # noqa: E402
from model.inference import plan_windows  # noqa: E402

DEFAULT_PHOTO = REPO_ROOT.parent / "shared" / "data" / "test" / "kodak24" / "kodim23.png"


def photo_at(photo: Image.Image, width: int, height: int) -> np.ndarray:
    return np.asarray(photo.convert("RGB").resize((width, height), Image.Resampling.BICUBIC))


def wire(h: int, w: int, width: int = 8) -> np.ndarray:
    """A gently sagging power line across the photo."""
    mask = np.zeros((h, w), bool)
    xs = np.arange(w)
    ys = (0.3 * h + 0.15 * h * np.sin(np.pi * xs / w)).astype(int)
    for x, y in zip(xs, ys, strict=True):
        mask[max(0, y - width // 2) : y + width - width // 2, x] = True
    return mask


def square(h: int, w: int, cy: int, cx: int, side: int) -> np.ndarray:
    mask = np.zeros((h, w), bool)
    mask[cy - side // 2 : cy + side // 2, cx - side // 2 : cx + side // 2] = True
    return mask


def rings(h: int, w: int, count: int = 10) -> np.ndarray:
    mask = np.zeros((h, w), bool)
    gap = min(190, (min(h, w) // 2 - 100) // count)
    for i in range(count):
        a, b = 100 + gap * i, min(h, w) - 100 - gap * i
        mask[a, a:b] = mask[b - 1, a:b] = mask[a:b, a] = mask[a:b, b - 1] = True
    return mask


def three_holes() -> np.ndarray:
    """Three square holes (200, 300 and 150 px) on a 3000x2000 photo."""
    return square(2000, 3000, 500, 700, 200) | square(2000, 3000, 1200, 2000, 300) | square(2000, 3000, 1600, 600, 150)


def cases(photo: Image.Image) -> list[tuple[str, np.ndarray, np.ndarray]]:
    line = np.zeros((4096, 4096), bool)
    line[2048, :] = True
    return [
        ("512x512, one 100 px hole", photo_at(photo, 512, 512), square(512, 512, 256, 256, 100)),
        ("1536x1024, an 8 px wire across", photo_at(photo, 1536, 1024), wire(1024, 1536)),
        ("3000x2000, three holes", photo_at(photo, 3000, 2000), three_holes()),
        ("4000x3000, one 400 px hole", photo_at(photo, 4000, 3000), square(3000, 4000, 1500, 2000, 400)),
        ("4096x4096, 1 px line across", photo_at(photo, 4096, 4096), line),
        ("4096x4096, ten nested 1 px rings", photo_at(photo, 4096, 4096), rings(4096, 4096)),
    ]


def median_seconds(fn: Callable[[], object], rounds: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def peak_mib(fn: Callable[[], object]) -> float:
    """Peak Python-heap (numpy) allocation of one call, MiB."""
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    p.add_argument("--photo", type=Path, default=DEFAULT_PHOTO)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    generator, telea_filler = load_filler(args.weights), ClassicalFiller("telea")
    photo = Image.open(args.photo)
    print(f"machine: {platform.processor() or platform.machine()}, torch threads {torch.get_num_threads()}")
    print(f"generator: {args.weights}\n")
    print("| case | windows | Context Encoder s | Telea s | ratio | CE peak MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, image, mask in cases(photo):

        def fill(image: np.ndarray = image, mask: np.ndarray = mask) -> np.ndarray:
            return generator.fill(image, mask)

        def telea(image: np.ndarray = image, mask: np.ndarray = mask) -> np.ndarray:
            return telea_filler.fill(image, mask)

        ce, cv = median_seconds(fill, args.rounds), median_seconds(telea, args.rounds)
        windows = len(plan_windows(mask, generator.model.size))
        print(f"| {name} | {windows} | {ce:.3f} | {cv:.3f} | {ce / cv:.2f}x | {peak_mib(fill):.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
