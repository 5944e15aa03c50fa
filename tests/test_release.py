"""Shipping an export: evaluation numbers embedded, lineage totals, still a weights_only file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from app.presentation import generator_info
from model.export import read_export
from model.files import sha256_of
from model.fillers import load_filler
from model.tools.release import chain_runs, main


def _evaluation(set_name: str, psnr: float) -> dict:
    scores = {"l1": 0.1, "l2": 0.02, "psnr": psnr, "ssim": 0.4, "sharpness": 0.01}
    return {
        "protocol": "hole only",
        "code_version": "abc123",
        "results": [
            {
                "set": set_name,
                "mask": "center",
                "images": 3,
                "truth_sharpness": 0.05,
                "methods": {"ce-test": scores, "telea": {**scores, "psnr": psnr - 1}},
                "kinds": {"ce-test": "model", "telea": "baseline"},
            }
        ],
    }


def test_release_embeds_every_evaluation_and_the_lineage(tiny_weights: Path, tmp_path: Path) -> None:
    export = tmp_path / "fine-tuned.pt"
    payload = torch.load(tiny_weights, weights_only=True)
    source = {"path": "runs/a/checkpoint.pt", "steps": 500, "images_seen": 16000}
    payload["training"] = {"steps": 100, "images_seen": 3200, "initialised_from": source}
    torch.save(payload, export)
    evals = []
    for set_name, psnr in (("kodak24", 18.0), ("val_files", 15.0)):
        evals.append(tmp_path / f"{set_name}.json")
        evals[-1].write_text(json.dumps(_evaluation(set_name, psnr)))

    main(["--export", str(export), "--name", "ce-new", "--eval", *map(str, evals), "--method", "ce-test",
          "--out-dir", str(tmp_path / "weights"), "--title", "Context Encoder", "--good-at", "objects"])  # fmt: skip

    shipped = read_export(tmp_path / "weights" / "ce-new.pt")  # weights_only=True inside
    assert shipped["training"]["total_steps"] == 600 and shipped["training"]["total_images_seen"] == 19200
    results = shipped["evaluation"]["results"]
    assert [(r["set"], r["psnr"]) for r in results] == [("kodak24", 18.0), ("val_files", 15.0)]
    assert results[0]["baselines"] == {"telea": {"psnr": 17.0, "l1": 0.1}}
    assert shipped["state_dict"].keys() == payload["state_dict"].keys()
    # what the editor shows: a human name, what it is good at, its numbers beside the classical
    info = generator_info(load_filler(tmp_path / "weights" / "ce-new.pt"), default=True)
    assert (info.title, info.good_at) == ("Context Encoder", "objects")
    assert info.headline == [
        {"set": "kodak24", "mask": "center", "psnr": 18.0, "best_classical_psnr": 17.0},
        {"set": "val_files", "mask": "center", "psnr": 15.0, "best_classical_psnr": 14.0},
    ]


def test_release_chains_restarts_from_exports_into_one_training_record(tiny_weights: Path, tmp_path: Path) -> None:
    """A restart from a shipped export (``--init-from``, fresh Adam) ships as one record: the
    step counter and the schedule continue the export's, images and seconds add up, the notes
    join, and the totals still count the checkpoint the first run grew from."""
    shipped = {
        "steps": 1000,
        "images_seen": 32000,
        "train_seconds": 100.0,
        "lr_schedule": [{"step": 0, "lr_g": 1e-4, "cosine_to_step": 1000}],
        "hardware": "CPU x86_64, 2 threads",
        "initialised_from": {"path": "runs/a/checkpoint.pt", "steps": 500, "images_seen": 16000},
        "total_steps": 1500,
        "note": "grown from run a",
    }
    restart = {
        "steps": 100,
        "images_seen": 3200,
        "train_seconds": 10.0,
        "lr_schedule": [
            {"step": 0, "lr_g": 5e-5, "cosine_to_step": 200, "warmup_steps": 10},
            {"step": 50, "lr_g": 5e-5, "cosine_to_step": 100},
        ],
        "hardware": "1x NVIDIA H200",
        "initialised_from": {"path": "w/ce-region.pt", "steps": 1000, "images_seen": 32000, "training": shipped},
    }
    export = tmp_path / "restart.pt"
    payload = torch.load(tiny_weights, weights_only=True)
    payload["training"] = restart
    torch.save(payload, export)

    main(["--export", str(export), "--name", "ce-new", "--out-dir", str(tmp_path / "w"), "--note", "100 steps"])

    training = read_export(tmp_path / "w" / "ce-new.pt")["training"]
    assert (training["steps"], training["images_seen"], training["train_seconds"]) == (1100, 35200, 110.0)
    assert (training["total_steps"], training["total_images_seen"]) == (1600, 51200)
    assert training["lr_schedule"] == [
        {"step": 0, "lr_g": 1e-4, "cosine_to_step": 1000},
        {"step": 1000, "lr_g": 5e-5, "cosine_to_step": 1200, "warmup_steps": 10, "optimiser": "fresh"},
        {"step": 1050, "lr_g": 5e-5, "cosine_to_step": 1100},
    ]
    assert training["initialised_from"] == shipped["initialised_from"]
    assert training["note"] == "grown from run a; then 100 steps"
    assert training["hardware"] == "CPU x86_64, 2 threads; then 1x NVIDIA H200"


def test_chained_hardware_lists_each_change_of_machine_once_in_order() -> None:
    cpu, gpu = "CPU x86_64, 2 threads", "1x NVIDIA H200"
    record = {"hardware": cpu}
    for run_on, expected in (
        (cpu, cpu),  # another CPU restart: the same stage
        (gpu, f"{cpu}; then {gpu}"),
        (cpu, f"{cpu}; then {gpu}; then {cpu}"),  # back on the CPU: a stage of its own
        (cpu, f"{cpu}; then {gpu}; then {cpu}"),
    ):
        record = chain_runs(record, {"hardware": run_on})
        assert record["hardware"] == expected
    # a repeated stage an older release wrote is recorded once from the next release on
    assert (
        chain_runs({"hardware": f"{gpu}; then {cpu}; then {cpu}"}, {"hardware": cpu})["hardware"]
        == f"{gpu}; then {cpu}"
    )


def test_release_refuses_a_method_the_evaluation_lacks(tiny_weights: Path, tmp_path: Path) -> None:
    (tmp_path / "e.json").write_text(json.dumps(_evaluation("kodak24", 18.0)))
    with pytest.raises(KeyError, match="not in the evaluation"):
        main(["--export", str(tiny_weights), "--name", "x", "--eval", str(tmp_path / "e.json"),
              "--method", "ce-other", "--out-dir", str(tmp_path)])  # fmt: skip


def test_release_refuses_numbers_measured_on_other_weights(tiny_weights: Path, tmp_path: Path) -> None:
    """An evaluation records the SHA-256 of each file it measured: releasing one export with
    the numbers of another (a stale JSON, a mixed-up path) fails; the matching one ships."""
    other = tmp_path / "other.pt"
    payload = torch.load(tiny_weights, weights_only=True)
    payload["training"] = {**payload.get("training", {}), "steps": 1}
    torch.save(payload, other)
    argv = ["--export", str(tiny_weights), "--name", "x", "--method", "ce-test", "--out-dir", str(tmp_path / "w")]
    for weights, name in ((other, "stale.json"), (tiny_weights, "fresh.json")):
        doc = {**_evaluation("kodak24", 18.0), "models": {"ce-test": {"sha256": sha256_of(weights)}}}
        (tmp_path / name).write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="other weights"):
        main([*argv, "--eval", str(tmp_path / "stale.json")])
    assert not (tmp_path / "w" / "x.pt").exists()
    main([*argv, "--eval", str(tmp_path / "fresh.json")])
    assert read_export(tmp_path / "w" / "x.pt")["evaluation"]["results"][0]["psnr"] == 18.0
