"""Hole geometry: where a hole lies, how many holes a mask holds, a hole grown by a round brush."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from model.holes import count_holes, grow_hole, hole_box


def test_holes_are_counted_and_boxed_where_they_are() -> None:
    mask = np.zeros((300, 400), bool)
    assert hole_box(mask) is None and count_holes(mask) == 0
    mask[0, 0] = mask[100:120, 390:400] = mask[200, 50:60] = True
    assert hole_box(mask) == (slice(0, 201), slice(0, 400))
    assert hole_box(mask, margin=2) == (slice(0, 203), slice(0, 400))
    assert count_holes(mask) == 3
    mask[1, 1] = True  # touches the corner pixel diagonally: the same hole
    assert count_holes(mask) == 3


def test_a_hole_grows_by_a_round_brush_and_nothing_grows_from_nothing() -> None:
    hole = np.zeros((41, 41), bool)
    hole[20, 20] = True
    grown = grow_hole(hole, 5)
    assert grown[20, 15] and grown[15, 20] and grown[20, 25] and grown[25, 20]
    assert not grown[15, 15], "a round brush leaves the square's corners"
    assert not grown[20, 14]
    assert grow_hole(hole, 0) is hole
    empty = np.zeros((8, 8), bool)
    assert grow_hole(empty, 3) is empty


def test_the_server_reads_and_measures_holes_without_the_training_and_evaluation_masks() -> None:
    """Masks are split by who uses them: serving imports the geometry and the image reading,
    never the synthetic samplers (training, evaluation) nor any tool."""
    code = "import sys, app.main; print(' '.join(m for m in sys.modules if m.startswith('model')))"
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True)
    loaded = set(done.stdout.split())
    assert {"model.holes", "model.mask_images"} <= loaded
    assert "model.hole_samplers" not in loaded
    assert not [m for m in loaded if m.startswith("model.tools")]
