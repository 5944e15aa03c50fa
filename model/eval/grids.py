"""Comparison pictures: the input with its hole in white, each method's fill and the truth,
one column each, under a header naming the columns."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from model.eval.schema import GridRecord, GridRow
from model.eval.scores import Evaluation
from model.tools.samples import grid_from_columns

GRID_LINE = 12  # px per header line (Pillow's default bitmap font)


def grid_picks(total: int, count: int) -> list[int]:
    """Which of ``total`` images the grid shows: ``count`` of them spread evenly, first and last included."""
    return np.unique(np.linspace(0, total - 1, min(count, total)).round().astype(int)).tolist()


def show_hole(images: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """The input as a picture: the hole in white."""
    out = images.copy()
    out[holes] = 255
    return out


def wrap_label(name: str, width: int, draw: ImageDraw.ImageDraw) -> list[str]:
    """Break a column name into lines that fit ``width`` px, at spaces when possible, so
    long method names stay readable instead of being cut off."""
    lines: list[str] = []
    for word in name.split():
        joined = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(joined) <= width:
            lines[-1] = joined
            continue
        while len(word) > 1 and draw.textlength(word) > width:  # one word wider than the column
            cut = max((i for i in range(1, len(word)) if draw.textlength(word[:i]) <= width), default=1)
            lines.append(word[:cut])
            word = word[cut:]
        lines.append(word)
    return lines or [""]


def _pad_white(rows: np.ndarray, side: int) -> np.ndarray:
    """(N, S, S, 3) tiles padded with white to (N, side, side, 3)."""
    pad = side - rows.shape[1]
    return rows if pad == 0 else np.pad(rows, ((0, 0), (0, pad), (0, pad), (0, 0)), constant_values=255)


def comparison_grid(evaluations: Sequence[Evaluation], column_names: Sequence[str]) -> Image.Image:
    """All grid rows of all evaluations stacked, under a header naming the columns."""
    parts = [ev.grid_rows for ev in evaluations if ev.grid_rows]
    # 128 px crops and 160 px full-resolution crops in one picture: pad the smaller ones white
    side = max(rows.shape[1] for part in parts for rows in part)
    columns = [np.concatenate([_pad_white(p[c], side) for p in parts]) for c in range(len(parts[0]))]
    body = grid_from_columns(columns)
    width = columns[0].shape[2] + 2
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    labels = [wrap_label(name, width - 4, measure) for name in column_names]
    header = 4 + GRID_LINE * max(len(lines) for lines in labels)
    canvas = Image.new("RGB", (body.width, body.height + header), "white")
    canvas.paste(body, (0, header))
    draw = ImageDraw.Draw(canvas)
    for c, lines in enumerate(labels):
        for i, line in enumerate(lines):
            draw.text((2 + c * width + 2, 2 + i * GRID_LINE), line, fill=(0, 0, 0))
    return canvas


def write_grid(path: Path, evaluations: Sequence[Evaluation], column_names: list[str]) -> GridRecord:
    """``--grid``: every evaluation's rows in one PNG; returns its record for the JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    comparison_grid(evaluations, column_names).save(path)
    rows = [GridRow(set=ev.result.set, mask=ev.result.mask, count=len(ev.grid_rows[0])) for ev in evaluations]
    return GridRecord(path=str(path), columns=column_names, rows=rows)


def write_grids_dir(folder: Path, evaluations: Sequence[Evaluation], column_names: list[str]) -> None:
    """``--grids-dir``: one picture per (set, mask), ``SET-MASK.jpg``."""
    folder.mkdir(parents=True, exist_ok=True)
    for ev in evaluations:
        if ev.grid_rows:
            # JPEG at quality 95 without chroma subsampling: photographs at 1:1, a tenth of a PNG's size
            # in a repository that keeps every picture it ever committed
            picture = folder / f"{ev.result.set}-{ev.result.mask}.jpg"
            comparison_grid([ev], column_names).convert("RGB").save(picture, quality=95, subsampling=0)
