"""Whole-or-nothing writes (model.files) and the device choice (model.devices)."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import numpy as np
import pytest
import torch

from model.devices import pick_device
from model.files import atomic_open, atomic_save, atomic_write_text


def test_atomic_writes_replace_the_file_and_leave_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "state.pt"
    target.write_text("old")
    assert atomic_save({"w": torch.ones(2)}, target) == target
    assert torch.equal(torch.load(target, weights_only=True)["w"], torch.ones(2))
    atomic_write_text("line\n", tmp_path / "log.jsonl")
    assert (tmp_path / "log.jsonl").read_text() == "line\n"
    with atomic_open(tmp_path / "a.npy") as fh:
        np.save(fh, np.arange(3))
    assert np.array_equal(np.load(tmp_path / "a.npy"), np.arange(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy", "log.jsonl", "state.pt"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "metrics.jsonl"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_open(target, "w") as fh:
        fh.write("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.jsonl"]


def _write_while_the_other_writes(target: Path, text: str, both_open: mp.synchronize.Barrier) -> None:
    with atomic_open(target, "w") as fh:
        fh.write(text)
        both_open.wait(timeout=30)  # the other process has its temporary file open too


def test_two_processes_writing_one_file_at_once_both_finish(tmp_path: Path) -> None:
    """Two trainings that build the same image cache at once: each must finish with a whole file
    (one shared temporary name let the first move steal the second's file and crash it)."""
    target = tmp_path / "images.npy"
    ctx = mp.get_context("fork")
    both_open = ctx.Barrier(2)
    writers = [ctx.Process(target=_write_while_the_other_writes, args=(target, t, both_open)) for t in "ab"]
    for w in writers:
        w.start()
    for w in writers:
        w.join(timeout=60)
    assert [w.exitcode for w in writers] == [0, 0]
    assert target.read_text() in {"a", "b"}
    assert [p.name for p in tmp_path.iterdir()] == ["images.npy"]


def test_device_choice() -> None:
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="unknown device"):
        pick_device("abacus")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            pick_device("cuda")
