"""Files written whole or not at all: a crash (or a killed run) never leaves a half-written
checkpoint, export, cache or log behind, because readers only ever see the old file or the new."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import torch


@contextmanager
def atomic_open(path: str | Path, mode: str = "wb") -> Iterator[IO]:
    """Open ``PATH.<pid>.tmp`` for writing and move it over ``path`` once the block ends without error.

    The process id keeps two runs that write the same file at once (two trainings building one
    image cache) from sharing, and stealing, one temporary file; the last move wins whole."""
    path = Path(path)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, mode) as fh:
            yield fh
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)  # only still there when the block failed


def atomic_save(obj: object, path: str | Path) -> Path:
    """``torch.save`` through a temporary file."""
    with atomic_open(path) as fh:
        torch.save(obj, fh)
    return Path(path)


def atomic_write_text(text: str, path: str | Path) -> Path:
    """``Path.write_text`` through a temporary file."""
    with atomic_open(path, "w") as fh:
        fh.write(text)
    return Path(path)


def sha256_of(path: str | Path) -> str:
    """Hex SHA-256 of a file: what identifies a set of weights when its path does not (an
    evaluation of ``/tmp/new.pt`` must be traceable to the file that ships)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()
