"""Feature-transfer CLI end to end on a tiny labelled folder made here."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model.export import GeneratorMeta, export_generator
from model.networks import Generator
from model.tools.transfer import main


@pytest.fixture()
def separable_folder(tmp_path: Path) -> Path:
    """Two trivially separable classes: reddish vs bluish noisy images."""
    rng = np.random.default_rng(0)
    for cls, channel in (("red", 0), ("blue", 2)):
        (tmp_path / "data" / cls).mkdir(parents=True)
        for i in range(12):
            pixels = rng.integers(0, 90, (48, 48, 3), dtype=np.uint8)
            pixels[..., channel] += 150
            Image.fromarray(pixels).save(tmp_path / "data" / cls / f"{i}.png")
    return tmp_path / "data"


def test_transfer_cli_separates_a_trivial_set(separable_folder: Path, tmp_path: Path, capsys) -> None:
    weights = export_generator(Generator(), GeneratorMeta("none", [0.5, 0.5, 0.5]), tmp_path / "ae.pt")
    out = tmp_path / "transfer.json"
    main(["--data", str(separable_folder), "--encoders", "random", f"ae={weights}", "--protocols", "linear", "finetune",
          "--seeds", "0", "1", "--epochs", "10", "--batch-size", "8", "--image-size", "64",
          "--cache", str(tmp_path / "cache"), "--json", str(out), "--no-progress"])  # fmt: skip
    table = capsys.readouterr().out
    assert "| random |" in table and "| ae |" in table and "linear top-1" in table
    results = json.loads(out.read_text())
    assert results["classes"] == 2 and results["test_images"] == 4 and results["train_images"] == 20
    assert len(results["runs"]) == 2 * 2 * 2
    for row in results["summary"]:
        assert row["mean"] >= 0.9, row


def test_bad_encoder_source_is_rejected(separable_folder: Path) -> None:
    with pytest.raises(SystemExit):
        main(["--data", str(separable_folder), "--encoders", "not-a-source"])
