"""Throughput and latency figures: ``python -m model.tools.bench``.

Training images/s runs the real training step (``model.tools.train``: a batch drawn and
augmented with its holes, then ``train_step`` through generator, discriminator and both
optimisers) on synthetic pixels, joint (G + D) and reconstruction-only, and on a CPU the
reconstruction-only step again under ``--precision bf16`` (the ratio says whether this CPU's
bf16 pays); inference is the generator forward at batch 1 and 16, the median of N runs after
warm-up. CPU runs in channels_last; CUDA (when present) adds bf16 autocast, as training and
serving do. Figures are measurements, never asserted.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from model.data import CACHE_SIDE
from model.devices import DEVICE_CHOICES, pick_device
from model.networks import ChannelWiseFC, Discriminator, Generator, count_parameters, generator_flops
from model.tools import distributed
from model.tools.train import autocast, build_networks, generator_config, train_step
from model.tools.train_config import TrainConfig
from model.tools.train_data import MaskPool, TrainingData, sample_batch


@dataclass
class Figure:
    """One measured number with what it measured."""

    what: str
    device: str
    batch: int
    img_per_s: float
    ms: float  # median per step / per forward


# -------------------------------------------------------------------- size
def count_macs(module: nn.Module, image_size: int = 128) -> int:
    """Multiply-accumulates of one image through ``module``, counted by forward hooks on its
    convolutions, linear and channel-wise FC layers (independent of networks.generator_flops)."""
    total = 0

    def conv(m: nn.Conv2d, _inp: tuple, out: torch.Tensor) -> None:
        nonlocal total
        kh, kw = m.kernel_size
        total += out[0].numel() * (m.in_channels // m.groups) * kh * kw

    def linear(m: nn.Linear, _inp: tuple, out: torch.Tensor) -> None:
        nonlocal total
        total += out[0].numel() * m.in_features

    def channel_fc(m: ChannelWiseFC, _inp: tuple, _out: torch.Tensor) -> None:
        nonlocal total
        total += m.channels * (m.size * m.size) ** 2

    hooks = []
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear))
        elif isinstance(m, ChannelWiseFC):
            hooks.append(m.register_forward_hook(channel_fc))
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            module(torch.zeros(1, 3, image_size, image_size))
    finally:
        for h in hooks:
            h.remove()
        module.train(was_training)
    return total


def size_table(image_size: int = 128) -> str:
    g, d = Generator(), Discriminator(image_size)
    rows = [("generator", count_parameters(g), generator_flops(g.config)), ("discriminator", *_d_size(d, image_size))]
    lines = [
        f"| network | parameters | GMACs / image ({image_size}x{image_size}) | GFLOPs / image |",
        "|---|---:|---:|---:|",
    ]
    for name, params, macs in rows:
        lines.append(f"| {name} | {params:,} | {macs / 1e9:.3f} | {2 * macs / 1e9:.3f} |")
    return "\n".join(lines)


def _d_size(d: Discriminator, image_size: int) -> tuple[int, int]:
    return count_parameters(d), count_macs(d, image_size)


# --------------------------------------------------------------- training
def synthetic_data(config: TrainConfig, device: torch.device) -> TrainingData:
    """Random pixels in place of a photo folder (the step costs the same); never validated."""
    n = max(64, config.batch_size)
    pixels = np.random.default_rng(config.seed).integers(0, 256, size=(n, CACHE_SIDE, CACHE_SIDE, 3), dtype=np.uint8)
    return TrainingData(
        pixels=torch.from_numpy(pixels).to(device),
        skipped=0,
        mean=[0.46, 0.45, 0.42],
        masks=MaskPool(config.mask, config.image_size, config.mask_pool, config.seed, None, device),
        val_images=torch.empty(0, 3, config.image_size, config.image_size, device=device),
    )


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_training(
    device: torch.device, batch_size: int, steps: int, warmup: int, adv: float, precision: str = "auto"
) -> Figure:
    """Images/s of ``steps`` real training steps after ``warmup`` untimed ones."""
    config = TrainConfig(
        data=Path("unused"),
        out=Path("unused"),
        batch_size=batch_size,
        adv=adv,
        precision=precision,
        mask="mixed",
        mask_pool=64,
        device=device.type,
    )
    rt = distributed.Runtime(device)
    data = synthetic_data(config, device)
    nets = build_networks(config, generator_config(config), rt)
    gen = torch.Generator(device="cpu").manual_seed(config.seed)
    times = []
    for i in range(warmup + steps):
        _sync(device)
        t0 = time.perf_counter()
        real, hole, _ = sample_batch(data, config.batch_size, config.image_size, gen)
        train_step(nets, config, real, hole, data.mean_input, gen)
        _sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    what = "train step, G + D (joint)" if adv > 0 else "train step, reconstruction only"
    if precision == "bf16":
        what += ", bf16 autocast"
    return Figure(what, device.type, batch_size, batch_size * steps / sum(times), 1000 * statistics.median(times))


# -------------------------------------------------------------- inference
def bench_inference(device: torch.device, batch: int, runs: int, warmup: int) -> Figure:
    """Median latency of the generator forward (eval mode, channels_last; bf16 on CUDA)."""
    g = Generator().to(device).to(memory_format=torch.channels_last).eval()
    x = torch.rand(batch, 3, 128, 128, device=device).mul(2).sub(1).contiguous(memory_format=torch.channels_last)
    times = []
    with torch.inference_mode(), autocast(device):
        for i in range(warmup + runs):
            _sync(device)
            t0 = time.perf_counter()
            g(x)
            _sync(device)
            if i >= warmup:
                times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    return Figure("inference forward", device.type, batch, batch / median, 1000 * median)


# ----------------------------------------------------------------- report
def figures_table(figures: list[Figure]) -> str:
    lines = ["| measurement | device | batch | images/s | median ms |", "|---|---|---:|---:|---:|"]
    for f in figures:
        lines.append(f"| {f.what} | {f.device} | {f.batch} | {f.img_per_s:.1f} | {f.ms:.1f} |")
    return "\n".join(lines)


def devices(choice: str) -> list[torch.device]:
    """``auto``: the CPU, plus CUDA when present."""
    if choice == "auto":
        return [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    return [pick_device(choice)]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ce-bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--batch-size", type=int, default=32, help="training batch (default: training's 32)")
    p.add_argument("--steps", type=int, default=10, help="timed training steps")
    p.add_argument("--runs", type=int, default=20, help="timed inference forwards per batch size")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps/forwards first")
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES, help="auto = CPU, and CUDA if present")
    p.add_argument(
        "--threads", type=int, default=None, help="CPU threads for torch (on a busy machine 1 avoids oversubscription)"
    )
    p.add_argument("--quick", action="store_true", help="tiny batch and few iterations (for tests)")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.quick:
        args.batch_size, args.steps, args.runs, args.warmup = 4, 1, 3, 1
    if min(args.batch_size, args.steps, args.runs) < 1 or args.warmup < 0:
        raise SystemExit("error: --batch-size, --steps and --runs must be at least 1, --warmup at least 0")
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        chosen = devices(args.device)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from exc
    torch.manual_seed(0)
    figures: list[Figure] = []
    for dev in chosen:
        figures.append(bench_training(dev, args.batch_size, args.steps, args.warmup, adv=0.001))
        figures.append(bench_training(dev, args.batch_size, args.steps, args.warmup, adv=0.0))
        if dev.type == "cpu":
            figures.append(bench_training(dev, args.batch_size, args.steps, args.warmup, adv=0.0, precision="bf16"))
        for batch in (1, 16):
            figures.append(bench_inference(dev, batch, args.runs, args.warmup))
    cpu = platform.processor() or platform.machine()
    gpu = f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    print(f"torch {torch.__version__}, CPU {cpu} with {torch.get_num_threads()} threads{gpu}; channels_last")
    print(f"(training: {args.steps} timed steps after {args.warmup} warm-up; inference: median of {args.runs} runs)\n")
    print(size_table() + "\n")
    print(figures_table(figures))
    if args.json is not None:
        args.json.write_text(json.dumps({"figures": [asdict(f) for f in figures]}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
