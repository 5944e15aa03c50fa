"""Packing the training data for a lent GPU: small shards, nothing held out, the same split."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from model.data import CACHE_SIDE, list_images
from model.export import read_export
from model.masks import ShapeBank
from model.tools.pack import main as pack
from model.tools.train import main as train

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """30 real photographs in two folders, and 12 real silhouettes."""
    root = tmp_path_factory.mktemp("source")
    for sub in ("bsds500", "urban100"):
        for path in sorted((shared_data / "train" / sub).glob("*.jpg"))[:15]:
            (root / "photos" / sub).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, root / "photos" / sub / path.name)
    shapes = sorted((shared_data / "masks" / "objects").rglob("*.png"))[:12]
    for path in shapes:
        (root / "masks").mkdir(exist_ok=True)
        shutil.copy(path, root / "masks" / path.name)
    return root


def test_pack_writes_small_shards_without_held_out_files_and_trains(source: Path, tmp_path: Path) -> None:
    photos = sorted(list_images(source / "photos"))
    held_out = [str(p.relative_to(source / "photos")) for p in photos[::10]]
    (tmp_path / "exclude.txt").write_text("\n".join(held_out) + "\n")
    out = tmp_path / "pack"
    pack(["--data", str(source / "photos"), "--exclude", str(tmp_path / "exclude.txt"), "--masks",
          str(source / "masks"), "--out", str(out), "--val-count", "4", "--shard-mib", "0.06"])  # fmt: skip

    summary = json.loads((out / "pack.json").read_text())
    assert summary["photos"] == len(photos) - len(held_out) == 27 and summary["silhouettes"] == 12
    shards = sorted((out / "images").iterdir())
    assert len(shards) == len(summary["shards_mib"]) > 1
    for shard in shards:  # each under its budget (a shard holds at least one photograph)
        files = list(shard.rglob("*.webp"))
        assert len(files) == 1 or sum(f.stat().st_size for f in files) <= 0.06 * 2**20
    packed = {str(Path(*p.relative_to(out / "images").with_suffix("").parts[1:])) for p in list_images(out / "images")}
    assert not packed & {str(Path(h).with_suffix("")) for h in held_out}
    with Image.open(next((out / "images").rglob("*.webp"))) as im:
        assert im.size == (CACHE_SIDE, CACHE_SIDE)  # what the decode cache holds
    assert len(ShapeBank(out / "masks")) == len(ShapeBank(source / "masks")) == 12

    # a run on the pack holds out the photographs a run on the source holds out
    runs = {}
    for name, data, masks in (("src", source / "photos", source / "masks"), ("pack", out / "images", out / "masks")):
        runs[name] = tmp_path / name
        train(["--data", str(data), "--masks", str(masks), "--exclude", str(tmp_path / "exclude.txt"), "--out",
               str(runs[name]), "--image-size", "64", "--batch-size", "4", "--steps", "1", "--mask-pool", "8",
               "--val-count", "4", "--device", "cpu", "--no-progress"])  # fmt: skip

    def held(run: Path, root: Path) -> list[str]:
        lines = (run / "val_files.txt").read_text().split()
        return sorted(Path(line).relative_to(root).with_suffix("").parts[-1] for line in lines)

    assert held(runs["pack"], out / "images") == held(runs["src"], source / "photos")
    assert len(held(runs["src"], source / "photos")) == 4


def test_pack_refuses_a_folder_that_is_not_empty(source: Path, tmp_path: Path) -> None:
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "old.txt").write_text("x")
    with pytest.raises(SystemExit, match="not empty"):
        pack(["--data", str(source / "photos"), "--out", str(tmp_path / "pack")])


def test_device_script_probes_then_trains_on_the_pack(source: Path, tmp_path: Path) -> None:
    """scripts/device_train.sh as the two device calls run it, on the CPU with a tiny batch: the
    probe measures a speed, the training run plans its steps from it and leaves an export."""
    pack(["--data", str(source / "photos"), "--masks", str(source / "masks"), "--out", str(tmp_path / "pack"),
          "--val-count", "4"])  # fmt: skip
    env = {**os.environ, "OUT": str(tmp_path / "out"), "PACK": str(tmp_path / "pack"), "RUNS": str(tmp_path),
           "CACHE": str(tmp_path / "cache"), "DEVICE": "cpu", "BATCH": "4", "PROBE_STEPS": "2",
           "PYTHON": sys.executable}  # fmt: skip
    extra = ["--mask-pool", "16", "--threads", "1"]
    script = ROOT / "scripts" / "device_train.sh"
    probe = subprocess.run(["bash", str(script), "probe", *extra], env=env, capture_output=True, text=True, timeout=300)
    assert probe.returncode == 0, probe.stdout[-2000:] + probe.stderr[-3000:]
    assert "photos in the pack here: 30" in probe.stdout and '"img_per_s"' in probe.stdout
    run = subprocess.run(["bash", str(script), "train", "1", "12", *extra], env=env, capture_output=True, text=True,
                         timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert "planned: 3 steps of 4" in run.stdout
    training = read_export(tmp_path / "out" / "generator.pt")["training"]
    assert training["steps"] == 3 and training["initialised_from"]["path"].endswith("ce-region.pt")
    # it goes on with the holes the shipped default last trained on, read from its export
    shipped = read_export(ROOT / "model" / "weights" / "ce-region.pt")["training"]["mixed_shares"]
    assert training["mixed_shares"] == pytest.approx(shipped) and set(shipped) >= {"region", "freeform", "irregular"}
    assert (tmp_path / "out" / "probe-metrics.jsonl").is_file() and (tmp_path / "out" / "val_files.txt").is_file()


def test_device_script_says_what_to_set_when_the_init_export_records_no_hole_shares(tmp_path: Path) -> None:
    """The center model trained on the central square only: its export has no mixed-hole shares
    to go on with, so the script stops with what to set instead of a traceback."""
    env = {**os.environ, "OUT": str(tmp_path / "out"), "INIT": str(ROOT / "model" / "weights" / "ce-center.pt"),
           "PYTHON": sys.executable}  # fmt: skip
    env.pop("MIX", None)
    probe = subprocess.run(["bash", str(ROOT / "scripts" / "device_train.sh"), "probe"], env=env,
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    assert probe.returncode != 0 and "Traceback" not in probe.stderr
    assert "records no mixed-hole shares" in probe.stderr and "MIX=" in probe.stderr
    assert "photos in the pack" not in probe.stdout  # stopped before anything else
