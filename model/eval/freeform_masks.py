"""The evaluation's bank of real free-form masks (``--freeform-dir``), the paper's second
protocol: painted holes drawn from files rather than from a sampler."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from model.data import DataError

FREEFORM_COVERAGE = (0.05, 0.40)  # hole fraction a real free-form mask must have to be evaluated on


class FreeformMasks:
    """Real irregular masks (PNG, 255 = hole), resized with nearest and kept when their hole
    fraction lies in ``coverage``."""

    def __init__(self, folder: str | Path, size: int = 128, coverage: tuple[float, float] = FREEFORM_COVERAGE):
        root = Path(folder)
        if not root.is_dir():
            raise DataError(f"--freeform-dir {root}: no such folder")
        files = sorted(root.rglob("*.png"))
        if not files:
            raise DataError(f"no PNG masks under {root}")
        masks = []
        for path in files:
            with Image.open(path) as im:
                small = im.convert("L").resize((size, size), Image.Resampling.NEAREST)
            hole = np.asarray(small) > 127
            if coverage[0] <= hole.mean() <= coverage[1]:
                masks.append(hole)
        if not masks:
            raise DataError(f"no mask under {root} has a hole fraction in {coverage[0]:.0%}-{coverage[1]:.0%}")
        self.masks = np.stack(masks)
        self.folder = root
        self.total = len(files)

    def __len__(self) -> int:
        return len(self.masks)

    def assign(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """(n, S, S) bool: a seeded draw, without repeats while the bank lasts."""
        idx = rng.choice(len(self.masks), size=n, replace=n > len(self.masks))
        return self.masks[idx]
