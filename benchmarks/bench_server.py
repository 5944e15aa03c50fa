"""Latency and throughput of the real server under 1, 4 and 16 concurrent clients.

Starts ``uvicorn app.main:app`` on a free loopback port, POSTs a 512x512 crop of a Kodak
photograph with one square hole, and prints a Markdown table of p50/p95 latency, requests/s
and how many requests each generator call served (micro-batching), beside OpenCV Telea's
in-process time on the same input. A script, not a test: numbers depend on the machine.

    python benchmarks/bench_server.py --photo ../shared/data/test/kodak24/kodim23.png
    python benchmarks/bench_server.py --random-weights   # no trained export: same compute, random init
    python benchmarks/bench_server.py --case wire --concurrency 1 --requests 6   # 1,536 px photo, a wire
    python benchmarks/bench_server.py --case three         # a 3000x2000 photo with three holes
    python benchmarks/bench_server.py --case overload      # 64 clients: admitted p95, fast 503s, memory
    python benchmarks/bench_server.py --case isolation     # a light request while two heavy ones run
    python benchmarks/bench_server.py --case all           # every case above, one server, one run
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import httpx
import numpy as np
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from model.export import DEFAULT_WEIGHTS  # noqa: E402
from tests.devserver import HOST, ServerFailed, serve  # noqa: E402

DEFAULT_PHOTO = REPO_ROOT.parent / "shared" / "data" / "test" / "kodak24" / "kodim23.png"


CASES = ("square", "wire", "three", "big", "overload", "isolation")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS, help="generator export (default: shipped)")
    p.add_argument("--random-weights", action="store_true", help="export a random-init generator to a temp dir")
    p.add_argument("--photo", type=Path, default=DEFAULT_PHOTO, help="a Kodak photograph; its centre 512x512 is used")
    p.add_argument("--hole", type=int, default=96, help="side of the square hole, px")
    p.add_argument(
        "--case",
        choices=(*CASES, "all"),
        default="square",
        help="square: 512x512 crop, one hole; wire: the photo at 1536x1024 with an 8 px wire across it; "
        "three: a 3000x2000 photo (JPEG) with three holes; big: a 4000x3000 photo (JPEG) with one 400 px hole; "
        "overload: the square case from --overload-clients clients; isolation: the square case alone and "
        "while two clients send 2048x2048 photos with 25 nested 1 px rings; all: each in turn",
    )
    p.add_argument("--overload-clients", type=int, default=64, help="clients of the overload case")
    p.add_argument(
        "--heavy-width",
        type=int,
        default=1,
        help="ring width (px) of the isolation case's heavy requests: 1 = hairlines (no generator windows)",
    )
    p.add_argument("--concurrency", default="1,4,16", help="comma-separated client counts")
    p.add_argument("--requests", type=int, default=32, help="requests per level, at least --per-client per client")
    p.add_argument(
        "--per-client",
        type=int,
        default=8,
        help="requests each client sends at least (with 2 per client, 16 clients' requests/s swung ~15%% between runs)",
    )
    p.add_argument("--no-telea-server", action="store_true", help="skip the model=telea runs through the server")
    p.add_argument("--env", action="append", default=[], metavar="CE_X=V", help="extra server settings")
    return p.parse_args()


def crop_and_mask(photo: Path, side: int = 512, hole: int = 96) -> tuple[np.ndarray, np.ndarray]:
    image = np.asarray(Image.open(photo).convert("RGB"))
    h, w = image.shape[:2]
    if h < side or w < side:
        raise SystemExit(f"{photo} is {w}x{h}, smaller than {side}x{side}")
    top, left = (h - side) // 2, (w - side) // 2
    crop = np.ascontiguousarray(image[top : top + side, left : left + side])
    mask = np.zeros((side, side), bool)
    start = (side - hole) // 2
    mask[start : start + hole, start : start + hole] = True
    return crop, mask


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def random_export(folder: Path) -> Path:
    import torch

    from model.export import GeneratorMeta, export_generator
    from model.networks import Generator, GeneratorConfig

    torch.manual_seed(0)
    path = folder / "ce-random.pt"
    meta = GeneratorMeta(mask_type="mixed", mean_colour=[0.46, 0.45, 0.42], training={"note": "random init (bench)"})
    export_generator(Generator(GeneratorConfig(in_channels=4, residual=True)).eval(), meta, path)
    return path


@contextmanager
def server(weights: Path, extra_env: list[str]) -> Iterator[str]:
    """The real server (uvicorn subprocess, loopback) with extra ``CE_X=V`` settings."""
    try:
        with serve(weights, env=dict(item.split("=", 1) for item in extra_env), log_level="warning") as url:
            yield url
    except ServerFailed as exc:
        raise SystemExit(str(exc)) from exc


def queue_counters(url: str, model: str) -> dict[str, int]:
    """The model's batching counters, both lanes (ordinary and heavy) added up."""
    queues = httpx.get(f"{url}/healthz", timeout=30).json()["queues"]
    lanes = [queues[name] for name in (model, f"{model}:heavy") if name in queues]
    return {key: sum(lane[key] for lane in lanes) for key in ("calls", "jobs")}


def load(url: str, files: dict, model: str, clients: int, total: int) -> dict[str, float]:
    """``total`` requests from ``clients`` threads, each with its own keep-alive connection."""
    latencies: list[float] = []
    refusals: list[float] = []  # 503 answers (admission or a full queue): how fast they come
    failures = 0
    lock = threading.Lock()
    remaining = [total]

    def client() -> None:
        nonlocal failures
        with httpx.Client(timeout=300) as http:
            while True:
                with lock:
                    if remaining[0] == 0:
                        return
                    remaining[0] -= 1
                start = time.perf_counter()
                response = http.post(f"{url}/inpaint", files=files, data={"model": model})
                elapsed = time.perf_counter() - start
                with lock:
                    if response.status_code == 200:
                        latencies.append(elapsed)
                    elif response.status_code == 503 and "retry-after" in response.headers:
                        refusals.append(elapsed)
                    else:
                        failures += 1

    before = queue_counters(url, model)
    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    after = queue_counters(url, model)
    calls = after["calls"] - before["calls"]
    ms = np.array(latencies) * 1000
    return {
        "ok": len(latencies),
        "refused": len(refusals),
        "refused_p95": float(np.percentile(np.array(refusals) * 1000, 95)) if refusals else float("nan"),
        "failed": failures,
        "p50": float(np.percentile(ms, 50)) if len(ms) else float("nan"),
        "p95": float(np.percentile(ms, 95)) if len(ms) else float("nan"),
        "rps": len(latencies) / wall,
        "per_call": (after["jobs"] - before["jobs"]) / calls if calls else float("nan"),
    }


def in_process_ms(fn, repeats: int = 10) -> float:
    """Median ms of ``fn`` run in a worker thread, as the server's batcher runs it (on an
    oversubscribed CPU, torch in the main thread can be many times slower than in a fresh one)."""
    times: list[float] = []

    def measure() -> None:
        fn()  # warm-up
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1000)

    thread = threading.Thread(target=measure)
    thread.start()
    thread.join()
    return statistics.median(times)


def health(url: str) -> dict:
    return httpx.get(f"{url}/healthz", timeout=30).json()


def heavy_load(
    url: str, model: str, photo: Path, stop: threading.Event, clients: int = 2, width: int = 1
) -> list[threading.Thread]:
    """``clients`` threads sending ``photo`` at 2048x2048 (JPEG) with 25 nested rings ``width``
    px wide until ``stop`` (1 px: hairlines, Telea only; wider: hundreds of generator windows)."""
    from bench_fill import photo_at, rings

    ring_mask = rings(2048, 2048, 25).astype(np.uint8)
    if width > 1:
        ring_mask = cv2.dilate(ring_mask, np.ones((width, width), np.uint8))
    mask = png(ring_mask * 255)
    files = {"image": ("big.jpg", jpeg(photo_at(Image.open(photo), 2048, 2048))), "mask": ("rings.png", mask)}

    def client() -> None:
        with httpx.Client(timeout=600) as http:
            while not stop.is_set():
                http.post(f"{url}/inpaint", files=files, data={"model": model})

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    return threads


def print_rows(rows: list[tuple[str, str, int, dict[str, float]]]) -> None:
    print("| model | load | requests | p50 ms | p95 ms | requests/s | requests per call | 503 (p95 ms) | failed |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for model, label, total, r in rows:
        refused = f"{r['refused']} ({r['refused_p95']:.0f})" if r["refused"] else "0"
        print(
            f"| {model} | {label} | {total} | {r['p50']:.0f} | {r['p95']:.0f} | {r['rps']:.1f} "
            f"| {r['per_call']:.2f} | {refused} | {r['failed']} |"
        )


def workload(case: str, args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, str]:
    """The photo, mask and a description of what one request of ``case`` sends."""
    from bench_fill import photo_at, square, three_holes, wire

    if case == "wire":
        return photo_at(Image.open(args.photo), 1536, 1024), wire(1024, 1536), "1536x1024, an 8 px wire across"
    if case == "three":
        return photo_at(Image.open(args.photo), 3000, 2000), three_holes(), "3000x2000 (sent as JPEG), three holes"
    if case == "big":
        photo = photo_at(Image.open(args.photo), 4000, 3000)
        return photo, square(3000, 4000, 1500, 2000, 400), "4000x3000 (sent as JPEG), one 400 px hole"
    crop, mask = crop_and_mask(args.photo, hole=args.hole)
    return crop, mask, f"512x512 crop, one {args.hole}x{args.hole} hole"


def run_case(case: str, args: argparse.Namespace, url: str, fillers: tuple) -> None:
    """Load the running server as ``case`` says and print its table."""
    generator, telea = fillers
    crop, mask, what = workload(case, args)
    files = {"image": ("photo.png", png(crop), "image/png"), "mask": ("mask.png", png(mask.astype(np.uint8) * 255))}
    if case in ("three", "big"):  # a 12 MP PNG is over the default upload limit; phones send JPEG anyway
        files["image"] = ("photo.jpg", jpeg(crop), "image/jpeg")
    levels = [args.overload_clients] if case == "overload" else [int(c) for c in args.concurrency.split(",")]
    if case in ("wire", "three", "big"):
        levels = [1]
    name = health(url)["default_model"]
    models = [name] + ([] if args.no_telea_server or case in ("isolation", "overload") else ["telea"])
    rows = []
    for model in models:
        load(url, files, model, 1, 2)  # warm-up
    per_client = 2 if case == "overload" else args.per_client  # overload measures the first burst
    for clients in levels:  # the models take turns per level, so a drift of the machine hits both alike
        total = max(args.requests, per_client * clients)
        for model in models:
            rows.append((model, f"{clients} clients", total, load(url, files, model, clients, total)))
    if case == "isolation":
        stop = threading.Event()
        heavy = heavy_load(url, name, args.photo, stop, width=args.heavy_width)
        time.sleep(3.0)  # both heavy requests are running
        for clients in levels:
            total = max(args.requests, args.per_client * clients)
            rows.append((name, f"{clients} clients + 2 heavy", total, load(url, files, name, clients, total)))
        stop.set()
        for thread in heavy:
            thread.join()
    print(f"\n### {case}: {what} ({args.photo.name})\n")
    print_rows(rows)
    p50 = {(model, label): r["p50"] for model, label, _, r in rows}
    for model, label, _, r in rows:
        if model == "telea" and (name, label) in p50:
            print(f"\n{name} / telea p50 at {label}: {p50[(name, label)] / r['p50']:.2f}x")
        if "heavy" in label:
            base = p50[(name, label.split(" + ")[0])]
            print(f"\nlight p50 while two heavy requests run: {r['p50'] / base:.2f}x its p50 alone ({label})")
    ce_ms = in_process_ms(lambda: generator.fill(crop, mask))
    telea_ms = in_process_ms(lambda: telea.fill(crop, mask))
    print(f"\nIn process, no HTTP (median): Context Encoder {ce_ms:.0f} ms; OpenCV Telea (radius 5) {telea_ms:.1f} ms.")


def main() -> None:
    args = parse_args()
    cases = CASES if args.case == "all" else (args.case,)
    with tempfile.TemporaryDirectory() as tmp:
        weights = random_export(Path(tmp)) if args.random_weights else args.weights
        if not weights.is_file():
            raise SystemExit(f"weights not found: {weights} (pass --weights PATH or --random-weights)")

        import torch

        from model.fillers import ClassicalFiller, load_filler

        fillers = (load_filler(weights), ClassicalFiller("telea"))
        with server(weights, args.env) as url:
            print(f"server on {HOST}; {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores; "
                  f"torch {torch.__version__}; {weights.name}")  # fmt: skip
            for case in cases:
                run_case(case, args, url, fillers)
            memory = health(url)["memory"]
    print(f"\nserver memory: {memory['rss_mib']} MiB now, {memory['peak_rss_mib']} MiB at its peak")


if __name__ == "__main__":
    main()
