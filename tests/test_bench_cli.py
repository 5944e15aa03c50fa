"""``ce-bench --quick`` runs the real training step and the generator forward on CPU and
reports them; timings are printed, never asserted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from model.networks import Discriminator, Generator, generator_flops
from model.tools import bench


@pytest.fixture
def one_thread() -> Iterator[None]:
    """The CLIs set torch's process-wide thread count; give it back to the other tests."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_hook_count_matches_generator_flops_and_a_hand_count_of_d() -> None:
    assert bench.count_macs(Generator()) == generator_flops()
    # D: four 4x4 stride-2 convolutions (128 -> 8 px), then an 8x8 convolution to one logit
    by_hand = 3 * 64 * 16 * 64**2 + 64 * 128 * 16 * 32**2 + 128 * 256 * 16 * 16**2 + 256 * 512 * 16 * 8**2 + 512 * 64
    assert bench.count_macs(Discriminator()) == by_hand


def test_quick_bench_prints_the_tables(one_thread: None, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "bench.json"
    assert bench.main(["--quick", "--device", "cpu", "--threads", "1", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| generator | 4,805,251 | 0.590 | 1.181 |" in printed
    assert "| discriminator | 2,790,209 |" in printed
    rows = [line for line in printed.splitlines() if line.startswith("| ") and "| cpu |" in line]
    assert [r.split("|")[1].strip() for r in rows] == [
        "train step, G + D (joint)",
        "train step, reconstruction only",
        "train step, reconstruction only, bf16 autocast",
        "inference forward",
        "inference forward",
    ]
    assert [int(r.split("|")[3]) for r in rows] == [4, 4, 4, 1, 16]
    figures = json.loads(out.read_text())["figures"]
    assert all(f["img_per_s"] > 0 and f["ms"] > 0 for f in figures)
