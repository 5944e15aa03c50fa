"""Labelled image folders (one subfolder per class) and their seeded, stratified split.

The held-out split is fixed by (folder, fraction, seed) so pretext training can exclude
exactly the images the feature-transfer study tests on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model.data import DataError, list_images

LabelledFiles = list[tuple[Path, int]]


def class_names(root: str | Path) -> list[str]:
    names = sorted(p.name for p in Path(root).iterdir() if p.is_dir())
    if len(names) < 2:
        raise DataError(f"{root} needs at least two class subfolders")
    return names


def labelled_split(
    root: str | Path, test_fraction: float = 0.2, seed: int = 0
) -> tuple[LabelledFiles, LabelledFiles, list[str]]:
    """Stratified split: ``test_fraction`` of each class (at least one image) is held out."""
    names = class_names(root)
    rng = np.random.default_rng(seed)
    train: LabelledFiles = []
    test: LabelledFiles = []
    for label, name in enumerate(names):
        files = list_images(Path(root) / name)
        order = rng.permutation(len(files))
        n_test = max(1, round(len(files) * test_fraction)) if len(files) > 1 else 0
        test += [(files[i], label) for i in order[:n_test]]
        train += [(files[i], label) for i in order[n_test:]]
    return train, test, names


def write_heldout_list(roots: list[str | Path], out: str | Path, test_fraction: float = 0.2, seed: int = 0) -> int:
    """Write the held-out files of several labelled folders, one path per line (for ``--exclude``)."""
    lines = []
    for root in roots:
        _, test, _ = labelled_split(root, test_fraction, seed)
        lines += [str(p.resolve()) for p, _ in test]
    Path(out).write_text("".join(f"{line}\n" for line in lines))
    return len(lines)
