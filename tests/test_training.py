"""The training loop for real: an adversarial step, and a tiny run that learns."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from model.data import load_eval_images
from model.export import read_export
from model.hole_samplers import MIXED_SHARES, center_mask, mixed_mask
from model.inference import load_generator
from model.metrics import hole_grid
from model.networks import Generator, GeneratorConfig
from model.tools import distributed
from model.tools.checkpoint import optimiser_state_grown
from model.tools.schedule import apply_cosine, cosine_factor, resumed_rates
from model.tools.train import (
    main,
    parse_config,
    reconstruction_loss,
    run_meta,
    save_samples,
    setup,
    train_step,
    validate,
    warm_up_discriminator,
)
from model.tools.train_config import TrainConfig
from model.tools.train_data import MaskPool, sample_batch

CPU = distributed.Runtime(torch.device("cpu"))


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    folder = tmp_path_factory.mktemp("photos")
    for path in sorted((shared_data / "train" / "bsds500").glob("*.jpg"))[:6]:
        shutil.copy(path, folder / path.name)
    return folder


def _argv(photo_folder: Path, out: Path) -> list[str]:
    """A tiny run's arguments: 64 px, four photographs a step, on the CPU."""
    return ["--data", str(photo_folder), "--out", str(out), "--image-size", "64", "--batch-size", "4",
            "--mask-pool", "64", "--val-count", "0", "--device", "cpu", "--no-progress"]  # fmt: skip


def _config(photo_folder: Path, out: Path, *extra: str) -> TrainConfig:
    return parse_config([*_argv(photo_folder, out), *extra])


def _step(config: TrainConfig, data, nets, progress) -> dict[str, float]:
    """One pass of the training loop's body: a batch, then the optimisation step."""
    real, hole, _ = sample_batch(data, config.batch_size, config.image_size, progress.gen)
    return train_step(nets, config, real, hole, data.mean_input, progress.gen)


@pytest.mark.parametrize("d_norm", ["batch", "spectral"])
def test_one_adversarial_step_changes_both_networks(photo_folder: Path, tmp_path: Path, d_norm: str) -> None:
    config = _config(photo_folder, tmp_path, "--mask", "mixed", "--d-norm", d_norm, "--d-shift", "4")
    data, nets, progress = setup(config, CPU)
    assert run_meta(config, CPU, data, nets, progress).training["d_norm"] == d_norm
    g_before = [p.detach().clone() for p in nets.G.parameters()]
    d_before = [p.detach().clone() for p in nets.D.parameters()]
    stats = _step(config, data, nets, progress)
    assert {"rec", "adv", "d", "loss"} <= set(stats)
    assert any(not torch.equal(a, b) for a, b in zip(g_before, nets.G.parameters(), strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(d_before, nets.D.parameters(), strict=True))


def test_patch_adversary_with_feature_matching_trains_both_networks(photo_folder: Path, tmp_path: Path) -> None:
    config = _config(photo_folder, tmp_path, "--mask", "mixed", "--d-arch", "patch", "--d-width", "8", "--adv", "0.5",
                 "--rec", "1", "--rec-norm", "l1", "--fm", "10", "--d-shift", "4", "--image-size", "128",
                 "--grid", "1", "--spectral", "1", "--rec-blur", "2", "--detail", "1")  # fmt: skip
    data, nets, progress = setup(config, CPU)
    training = run_meta(config, CPU, data, nets, progress).training
    assert (training["d_arch"], training["d_width"], training["d_norm"]) == ("patch", 8, "spectral")
    assert (training["lambda_adv"], training["lambda_fm"], training["rec_norm"]) == (0.5, 10, "l1")
    assert training["lambda_grid"] == training["lambda_spectral"] == training["lambda_detail"] == 1
    assert training["rec_blur"] == 2
    g_before = [p.detach().clone() for p in nets.G.parameters()]
    d_before = [p.detach().clone() for p in nets.D.parameters()]
    stats = _step(config, data, nets, progress)
    assert {"rec", "adv", "d", "fm", "grid", "spectral", "detail", "loss"} <= set(stats)
    assert stats["fm"] > 0 and stats["grid"] > 0 and stats["spectral"] > 0 and stats["detail"] > 0
    scores = validate(nets, data)  # the evaluation's texture measure, and the grid score, per hole kind
    assert 0 < scores["val_mixed_texture"] < 5 and 0 < scores["val_mixed_grid"] < 5
    assert any(not torch.equal(a, b) for a, b in zip(g_before, nets.G.parameters(), strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(d_before, nets.D.parameters(), strict=True))


def test_a_low_pass_reconstruction_is_blind_to_detail_but_not_to_colour(photo_folder: Path, tmp_path: Path) -> None:
    """``--rec-blur``: a fill with the truth's colours under a fine pattern it lacks costs almost
    nothing, while the same pattern costs the plain reconstruction; a colour shift costs both."""
    config = _config(photo_folder, tmp_path, "--d-arch", "patch", "--adv", "0.1", "--rec", "1", "--rec-norm", "l1",
                     "--overlap", "0")  # fmt: skip
    low_pass = replace(config, rec_blur=2.0)
    real = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0)) * 0.5 + 0.25
    hole = torch.zeros(2, 1, 64, 64)
    hole[..., 16:48, 16:48] = 1
    patterned = real.clone()
    patterned[..., ::2] += 0.2
    patterned[..., 1::2] -= 0.2
    shifted = real + 0.2
    assert float(reconstruction_loss(low_pass, real, patterned, hole)) < 0.01
    assert float(reconstruction_loss(config, real, patterned, hole)) > 0.15
    assert float(reconstruction_loss(low_pass, real, shifted, hole)) > 0.1


def test_the_grid_penalty_descends_towards_a_completion_without_a_grid() -> None:
    """``--grid``'s penalty (``hole_grid``) has gradients that flatten an 8 px grid laid over a
    smooth fill, the pattern a patch adversary teaches first."""
    ramp = torch.linspace(0, 1, 64).expand(64, 64)
    lattice = torch.zeros(64, 64)
    lattice[::8] = lattice[:, ::8] = 0.3
    images = (ramp + lattice).expand(2, 3, 64, 64).clone()
    hole = torch.zeros(2, 1, 64, 64)
    hole[:, :, 8:56, 8:56] = 1
    scores = []
    for _ in range(25):
        images.requires_grad_(True)
        score = hole_grid(images, hole).mean()
        score.backward()
        scores.append(score.item())
        images = (images - 0.01 * images.grad / images.grad.abs().max()).detach()
    assert scores[-1] < 0.3 * scores[0]


def test_the_discriminator_warms_up_and_takes_extra_updates_alone(photo_folder: Path, tmp_path: Path) -> None:
    """``--d-warmup`` and ``--d-steps`` move the discriminator only, and its ranking of the
    validation holes (photograph over completion) is logged with them and with validation."""
    flags = ["--mask", "mixed", "--d-arch", "patch", "--d-width", "8", "--adv", "0.5", "--rec", "1", "--image-size",
             "128", "--d-warmup", "3", "--d-steps", "2", "--steps", "1", "--log-every", "2"]  # fmt: skip
    config = _config(photo_folder, tmp_path / "parts", *flags)
    data, nets, progress = setup(config, CPU)
    g_before = [p.detach().clone() for p in nets.G.parameters()]
    d_before = [p.detach().clone() for p in nets.D.parameters()]
    warm_up_discriminator(nets, config, data, progress, tmp_path / "warmup.jsonl")
    assert all(torch.equal(a, b) for a, b in zip(g_before, nets.G.parameters(), strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(d_before, nets.D.parameters(), strict=True))
    logged = [json.loads(line) for line in (tmp_path / "warmup.jsonl").read_text().splitlines()]
    assert [r["d_updates"] for r in logged] == [2, 3] and all(r["event"] == "d_warmup" for r in logged)
    ranks = {k: v for k, v in logged[-1].items() if k.endswith("_d_rank")}
    assert ranks and all(0 <= v <= 1 for v in ranks.values())

    main([*_argv(photo_folder, tmp_path / "run"), *flags])
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r.get("event") for r in records if r.get("event") == "d_warmup"] == ["d_warmup"] * 2
    assert 0 <= records[-1]["val_mixed_d_rank"] <= 1


def test_feature_matching_needs_the_patch_discriminator(photo_folder: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main([*_argv(photo_folder, tmp_path), "--fm", "1"])


def test_reconstruction_only_has_no_discriminator(photo_folder: Path, tmp_path: Path) -> None:
    config = _config(photo_folder, tmp_path, "--adv", "0")
    data, nets, progress = setup(config, CPU)
    assert nets.D is None and nets.opt_d is None
    assert set(_step(config, data, nets, progress)) == {"rec"}


def _hole_l2(pred: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    return float(((pred.astype(np.float64) - truth) / 255.0)[:, hole].__pow__(2).mean())


def test_tiny_training_run_beats_mean_fill_and_resumes(photo_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    common = ["--data", str(photo_folder), "--out", str(out), "--image-size", "64", "--batch-size", "8",
              "--mask", "center", "--val-count", "0", "--lr", "1e-3", "--adv", "0.001", "--device", "cpu",
              "--no-progress", "--log-every", "50", "--ckpt-every", "150", "--sample-every", "150"]  # fmt: skip
    main([*common, "--steps", "150"])
    with (out / "metrics.jsonl").open("a") as fh:  # a run killed after logging past its checkpoint
        fh.write(json.dumps({"step": 200, "rec": 1.0, "img_per_s": 1.0, "images_seen": 1600}) + "\n")
    main([*common, "--steps", "300", "--resume"])

    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert max(r["step"] for r in records) == 300
    logged = [(r["step"], r.get("event")) for r in records]
    assert len(logged) == len(set(logged)), "each step logged once, even across a resume"
    assert all(r["rec"] != 1.0 for r in records if r["step"] == 200)
    assert all("img_per_s" in r for r in records if "rec" in r)
    assert sorted(p.name for p in (out / "samples").glob("*.png")) == ["step_0000150.png", "step_0000300.png"]
    assert (out / "checkpoint.pt").is_file()
    export = read_export(out / "generator.pt")
    assert export["training"]["steps"] == 300
    assert all(v.dtype == torch.float16 for v in export["state_dict"].values() if v.is_floating_point())

    model = load_generator(out / "generator.pt")
    truth = load_eval_images(sorted(photo_folder.glob("*.jpg")), size=64)
    hole = center_mask(None, 64)
    holes = np.repeat(hole[None], len(truth), axis=0)
    pred = model.fill(truth, holes)
    mean_fill = np.broadcast_to(np.array(model.meta.mean_colour) * 255, truth.shape)
    model_l2, mean_l2 = _hole_l2(pred, truth, hole), _hole_l2(mean_fill, truth, hole)
    assert model_l2 < 0.6 * mean_l2, (model_l2, mean_l2)


def test_validation_holes_do_not_depend_on_the_trained_holes(photo_folder: Path, tmp_path: Path) -> None:
    """A center run and a mixed run report val_mixed on the same holes, so a fine-tune's numbers
    compare with the run it came from (a center run used to draw blobs where silhouettes go)."""
    shapes = tmp_path / "shapes"
    shapes.mkdir()
    for i in range(3):  # a thin bar a blob never looks like
        bar = np.zeros((40, 40), np.uint8)
        bar[:, 18 + i : 22 + i] = 255
        Image.fromarray(bar).save(shapes / f"bar{i}.png")
    holes = {}
    for kind in ("mixed", "center"):
        config = _config(photo_folder, tmp_path / kind, "--mask", kind, "--masks", str(shapes))
        holes[kind] = setup(config, CPU)[0].val_holes
    assert set(holes["center"]) == set(holes["mixed"]) == {"center", "mixed"}
    for name in ("center", "mixed"):
        assert torch.equal(holes["center"][name], holes["mixed"][name]), name


def test_mix_reweights_the_trained_holes_and_is_recorded_but_not_the_validation_holes(
    photo_folder: Path, tmp_path: Path
) -> None:
    """A run on painted strokes only still validates on the same mixed holes as every run."""
    runs = {}
    for name, extra in (("default", []), ("strokes", ["--mix", "freeform=2,strokes=0"])):
        config = _config(photo_folder, tmp_path / name, "--mask", "mixed", *extra)
        data, nets, progress = setup(config, CPU)
        runs[name] = (data, run_meta(config, CPU, data, nets, progress).training["mixed_shares"])
    assert runs["default"][1] == MIXED_SHARES
    assert runs["strokes"][1] == {"freeform": 1.0, "strokes": 0.0}
    for kind in ("center", "mixed"):
        assert torch.equal(runs["default"][0].val_holes[kind], runs["strokes"][0].val_holes[kind])
    rng = np.random.default_rng(0)  # the pool is the seeded sampler's draws: freeform ones only
    expected = [mixed_mask(rng, 64, shares={"freeform": 1.0}) for _ in range(4)]
    assert all(np.array_equal(a, b) for a, b in zip(runs["strokes"][0].masks.masks[:4].numpy(), expected, strict=True))


def test_mask_pool_draws_flipped_copies_of_its_masks() -> None:
    gen = torch.Generator().manual_seed(0)
    pool = MaskPool("block", 64, 8, seed=0, shapes=None, device=torch.device("cpu"))
    drawn = pool.sample(16, gen)
    assert drawn.shape == (16, 1, 64, 64) and drawn.dtype == torch.float32
    assert drawn.sum(dim=(1, 2, 3)).min() > 0
    assert len(MaskPool("center", 64, 8, seed=0, shapes=None, device=torch.device("cpu")).masks) == 1


def test_missing_data_folder_exits_with_a_message(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="does not exist"):
        main(["--data", str(tmp_path / "nothing"), "--out", str(tmp_path / "o"), "--steps", "1"])


def test_sample_grid_is_an_image(photo_folder: Path, tmp_path: Path) -> None:
    data, nets, _ = setup(_config(photo_folder, tmp_path, "--adv", "0"), CPU)
    path = save_samples(nets, data, tmp_path / "samples" / "step_0000001.png")
    with Image.open(path) as im:
        assert im.width > 3 * 64 and im.height > 64


def test_excluded_files_never_reach_training(photo_folder: Path, tmp_path: Path) -> None:
    names = sorted(p.name for p in photo_folder.glob("*.jpg"))
    exclude = tmp_path / "exclude.txt"
    exclude.write_text(f"{names[0]}\n{photo_folder / names[1]}\n")  # relative to --data, and absolute
    data, _, _ = setup(_config(photo_folder, tmp_path, "--adv", "0", "--exclude", str(exclude)), CPU)
    assert data.n_train == len(names) - 2


def test_another_run_seed_holds_out_the_same_photographs(photo_folder: Path, tmp_path: Path) -> None:
    """The held-out evaluation trusts docs/heldout-validation.txt: a run with another --seed must
    not train on those photographs; only --split-seed moves the split."""
    held = {}
    for seed, split_seed in ((0, 0), (7, 0), (7, 1)):
        out = tmp_path / f"seed{seed}-split{split_seed}"
        config = _config(photo_folder, out, "--adv", "0", "--val-count", "1", "--seed", str(seed), "--split-seed",
                     str(split_seed))  # fmt: skip
        setup(config, CPU)
        held[seed, split_seed] = (out / "val_files.txt").read_text().split()
    assert len(held[0, 0]) == 1
    assert held[7, 0] == held[0, 0] != held[7, 1]


def test_the_same_loop_runs_under_torchrun_ddp(photo_folder: Path, tmp_path: Path) -> None:
    """Two CPU processes (gloo) through torchrun: the multi-GPU path without GPUs."""
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "model.tools.train", "--data", str(photo_folder), "--out", str(out), "--image-size", "64",
           "--batch-size", "4", "--steps", "4", "--mask-pool", "32", "--val-count", "0", "--device", "cpu",
           "--threads", "1", "--no-progress", "--log-every", "2", "--ckpt-every", "4",
           "--sample-every", "4"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    last = [r for r in records if "images_seen" in r][-1]
    assert last["step"] == 4 and last["images_seen"] == 4 * 4 * 2  # both ranks' batches count
    assert read_export(out / "generator.pt")["training"]["batch_size"] == 8


def test_fine_tune_starts_from_another_runs_generator(photo_folder: Path, tmp_path: Path) -> None:
    """--init-from loads a generator (checkpoint or export), records where it came from, and
    the joint fine-tune then trains from it rather than from a fresh initialisation."""
    source = tmp_path / "source"
    main(["--data", str(photo_folder), "--out", str(source), "--image-size", "64", "--batch-size", "4",
          "--mask", "center", "--adv", "0", "--steps", "3", "--mask-pool", "8", "--val-count", "0",
          "--device", "cpu", "--no-progress"])  # fmt: skip
    for init in (source / "checkpoint.pt", source / "generator.pt"):
        config = _config(photo_folder, tmp_path / init.stem, "--init-from", str(init))
        data, nets, progress = setup(config, CPU)
        reference = read_export(source / "generator.pt")["state_dict"]
        for name, value in nets.G.state_dict().items():
            if value.is_floating_point():
                torch.testing.assert_close(value.half(), reference[name], rtol=0, atol=1e-3)
        source_meta = {"path": str(init), "steps": 3, "images_seen": 12}
        if init.name == "generator.pt":  # an export says how it was trained: the release chains the runs
            source_meta["training"] = read_export(init)["training"]
        assert progress.init_source == source_meta
        assert run_meta(config, CPU, data, nets, progress).training["initialised_from"]["steps"] == 3
    with pytest.raises(SystemExit, match="does not exist"):
        main(["--data", str(photo_folder), "--out", str(tmp_path / "x"), "--init-from", str(tmp_path / "nope.pt")])


def test_resuming_with_a_lower_learning_rate_applies_and_records_it(photo_folder: Path, tmp_path: Path) -> None:
    common = ["--data", str(photo_folder), "--out", str(tmp_path), "--image-size", "64", "--batch-size", "4",
              "--mask", "center", "--mask-pool", "8", "--val-count", "0", "--device", "cpu",
              "--no-progress"]  # fmt: skip
    main([*common, "--steps", "2"])
    main([*common, "--steps", "4", "--resume", "--lr", "5e-5"])
    _, nets, progress = setup(parse_config([*common, "--resume", "--lr", "5e-5"]), CPU)
    assert nets.opt_g.param_groups[0]["lr"] == 5e-5 and nets.opt_d.param_groups[0]["lr"] == 5e-6
    assert progress.step == 4
    expected = [{"step": 0, "lr_g": 2e-4, "lr_d": 2e-5}, {"step": 2, "lr_g": 5e-5, "lr_d": 5e-6}]
    assert progress.lr_schedule == expected
    assert read_export(tmp_path / "generator.pt")["training"]["lr_schedule"] == expected


def test_cosine_schedule_and_weight_average(photo_folder: Path, tmp_path: Path) -> None:
    assert cosine_factor(0, 100) == pytest.approx(1.0)
    assert cosine_factor(50, 100) == pytest.approx(0.51)
    assert cosine_factor(100, 100) == pytest.approx(0.02) == cosine_factor(500, 100)
    config = _config(photo_folder, tmp_path, "--adv", "0", "--ema", "0.5", "--lr-decay", "cosine", "--steps", "10")
    data, nets, progress = setup(config, CPU)
    assert nets.G.config.in_channels == 4 and nets.G.config.residual  # the default design
    before = {k: v.clone() for k, v in nets.G_ema.state_dict().items()}
    apply_cosine(nets.opt_g, nets.opt_d, config, step=5, steps=10)
    assert nets.opt_g.param_groups[0]["lr"] == pytest.approx(2e-4 * cosine_factor(5, 10))
    _step(config, data, nets, progress)
    live, averaged = nets.G.state_dict(), nets.G_ema.state_dict()
    name = "decoder.4.1.weight"  # the zero-initialised last layer moves in the first step
    assert not torch.equal(live[name], before[name])
    assert torch.allclose(averaged[name], (before[name] + live[name]) / 2, atol=1e-7)
    assert nets.exported is nets.G_ema
    training = run_meta(config, CPU, data, nets, progress).training
    assert training["ema"] == 0.5 and training["lr_decay"] == "cosine"


def test_a_resumed_cosine_run_records_a_changed_target_and_leaves_the_rates_to_the_schedule() -> None:
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    config = parse_config(["--data", "d", "--out", "o", "--lr-decay", "cosine", "--lr", "1e-4", "--steps", "20"])
    assert resumed_rates(opt, None, config, {"lr_decay": "cosine", "lr": 1e-4, "steps": 20}, step=7) is None
    change = resumed_rates(opt, None, config, {"lr_decay": "cosine", "lr": 2e-4, "steps": 10}, step=7)
    assert change == {"step": 7, "lr_g": 1e-4, "cosine_to_step": 20}
    assert opt.param_groups[0]["lr"] == 1e-3  # the cosine sets it at every step
    # a warm restart: the cosine starts at --lr at the resumed step and anneals fully by --steps
    config = replace(config, cosine_from=7)
    change = resumed_rates(opt, None, config, {"lr_decay": "cosine", "lr": 1e-4, "steps": 20}, step=7)
    assert change == {"step": 7, "lr_g": 1e-4, "cosine_to_step": 20, "cosine_from_step": 7}
    for step, factor in ((7, 1.0), (20, 0.02)):
        apply_cosine(opt, None, config, step=step, steps=20)
        assert opt.param_groups[0]["lr"] == pytest.approx(1e-4 * factor)
    # with a warmup the restart climbs to --lr over its first steps, then follows the cosine;
    # the resumed run's lr_schedule entry records it
    config = replace(config, warmup=4)
    change = resumed_rates(opt, None, config, {"lr_decay": "cosine", "lr": 1e-4, "steps": 20, "cosine_from": 7}, step=7)
    assert change == {"step": 7, "lr_g": 1e-4, "cosine_to_step": 20, "cosine_from_step": 7, "warmup_steps": 4}
    for step, factor in ((7, 0.25), (8, 0.5 * cosine_factor(1, 13)), (10, cosine_factor(3, 13)), (20, 0.02)):
        apply_cosine(opt, None, config, step=step, steps=20)
        assert opt.param_groups[0]["lr"] == pytest.approx(1e-4 * factor)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_a_gpu_is_an_error_exit(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="error: --device cuda asked for, but no CUDA device"):
        main(["--data", str(tmp_path), "--out", str(tmp_path / "o"), "--device", "cuda", "--steps", "1"])


@pytest.mark.parametrize(
    ("precision", "dtype", "recorded"), [("auto", torch.float32, "fp32"), ("bf16", torch.bfloat16, "bf16")]
)
def test_precision_sets_the_dtype_of_cpu_training_steps(
    photo_folder: Path, tmp_path: Path, precision: str, dtype: torch.dtype, recorded: str
) -> None:
    config = _config(photo_folder, tmp_path, "--adv", "0", "--precision", precision)
    data, nets, progress = setup(config, CPU)
    assert run_meta(config, CPU, data, nets, progress).training["precision"] == recorded
    seen: list[torch.dtype] = []
    first_conv = next(m for m in nets.generator.modules() if isinstance(m, torch.nn.Conv2d))
    first_conv.register_forward_hook(lambda _m, _i, out: seen.append(out.dtype))
    before = [p.detach().clone() for p in nets.G.parameters()]
    stats = _step(config, data, nets, progress)
    assert seen == [dtype] and np.isfinite(stats["rec"])
    assert all(p.dtype == torch.float32 for p in nets.G.parameters()), "weights stay fp32 under autocast"
    assert any(not torch.equal(a, b) for a, b in zip(before, nets.G.parameters(), strict=True))


def test_a_resumed_run_may_grow_the_refinement_and_keeps_the_old_weights_adam_moments(
    photo_folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    common = ["--adv", "0", "--skips", "--ckpt-every", "2"]
    main([*_argv(photo_folder, out), *common, "--steps", "2"])
    saved = torch.load(out / "checkpoint.pt", weights_only=False)["opt_g"]
    old = saved["param_groups"][0]["params"]

    config = parse_config([*_argv(photo_folder, out), *common, "--refine", "--steps", "4", "--resume"])
    data, nets, progress = setup(config, CPU)
    assert progress.step == 2
    state = nets.opt_g.state_dict()["state"]
    assert all(torch.equal(state[i]["exp_avg"], saved["state"][i]["exp_avg"]) for i in old)
    assert set(state) == set(old), "the refinement's four parameters start without moments"
    _step(config, data, nets, progress)
    assert nets.generator.refine[-1].weight.abs().sum() > 0, "and train from their first resumed step"
    assert len(nets.opt_g.state_dict()["state"]) == len(old) + 4


def test_an_optimiser_cannot_resume_a_network_grown_in_its_middle() -> None:
    """Adam's state is kept by position: skips grown onto a network that already refines would
    shift the refinement's moments onto the skips."""
    g = Generator(GeneratorConfig(in_channels=4, residual=True, skips=True, refine=True))
    names = [name for name, _ in g.named_parameters()]

    def saved_without(prefix: str) -> dict:
        kept = [i for i, name in enumerate(names) if not name.startswith(prefix)]
        return {"state": {}, "param_groups": [{"lr": 1e-4, "params": kept}]}

    skips = [name for name in names if name.startswith("skips.")]
    with pytest.raises(RuntimeError, match="not its last parameters"):
        optimiser_state_grown(saved_without("skips."), g, skips)
    refine = [name for name in names if name.startswith("refine.")]
    grown = optimiser_state_grown(saved_without("refine."), g, refine)
    assert grown["param_groups"][0]["params"] == list(range(len(names)))


def test_the_checkpoint_stores_the_config_as_the_flags_were_stored_and_such_a_checkpoint_resumes(
    photo_folder: Path, tmp_path: Path
) -> None:
    """``args`` in checkpoint.pt keeps its format (every flag by its name, paths as text), so
    the checkpoints of runs started before the config was typed resume and compare as before."""
    out = tmp_path / "run"
    main([*_argv(photo_folder, out), "--adv", "0", "--mask", "center", "--steps", "1"])
    state = torch.load(out / "checkpoint.pt", weights_only=False)
    flags = {"data": str(photo_folder), "out": str(out), "mask": "center", "mix": None, "masks": None, "steps": 1,
             "epochs": 10.0, "batch_size": 4, "lr": 0.0002, "lr_d": None, "input": "telea", "skips": False,
             "refine": False, "upsample": "nearest", "lr_decay": "none", "cosine_from": 0, "warmup": 0, "ema": 0.0,
             "adv": 0.0, "d_arch": "global", "d_width": 64, "fm": 0.0, "d_norm": "batch", "d_shift": 0, "rec": None,
             "rec_norm": "l2", "rec_mean": "pixels", "overlap": 4, "overlap_weight": 10.0, "image_size": 64,
             "min_crop": 0.6, "smooth_share": 0.0, "val_count": 0, "exclude": None, "cache": None, "mask_pool": 64,
             "device": "cpu", "precision": "auto", "threads": None, "seed": 0, "split_seed": 0, "resume": False,
             "retarget": False, "init_from": None, "log_every": 50, "sample_every": 500, "ckpt_every": 500,
             "no_progress": True}  # fmt: skip
    added_since = {
        "d_steps": 1,
        "d_warmup": 0,
        "coarse": None,
        "hole_noise": 0.0,
        "grid": 0.0,
        "spectral": 0.0,
        "rec_blur": 0.0,
        "detail": 0.0,
        "hint": False,
        "mirror": False,
        "padding": "zeros",
        "pooled_code": False,
    }
    assert state["args"] == flags | added_since
    torch.save({**state, "args": flags}, out / "checkpoint.pt")  # the record a Namespace-era checkpoint holds
    main([*_argv(photo_folder, out), "--adv", "0", "--mask", "center", "--steps", "2", "--resume"])
    assert read_export(out / "generator.pt")["training"]["steps"] == 2
    with pytest.raises(SystemExit, match=r"--mask mixed \(the run's: center\)"):
        main([*_argv(photo_folder, out), "--adv", "0", "--steps", "3", "--resume"])


def test_resuming_with_another_loss_is_refused_with_a_message(photo_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    main([*_argv(photo_folder, out), "--adv", "0", "--overlap", "0", "--steps", "1"])
    with pytest.raises(SystemExit, match=r"--overlap 4 \(the run's: 0\)"):
        main([*_argv(photo_folder, out), "--adv", "0", "--steps", "2", "--resume"])
    main([*_argv(photo_folder, out), "--adv", "0", "--overlap", "0", "--steps", "2", "--resume", "--lr", "1e-4"])
    with pytest.raises(SystemExit, match=r"--split-seed 1 \(the run's: 0\)"):  # other held-out photographs
        main([*_argv(photo_folder, out), "--adv", "0", "--overlap", "0", "--steps", "3", "--resume",
              "--split-seed", "1"])  # fmt: skip
    with pytest.raises(SystemExit, match=r"--mix \{'freeform': 1.0\} \(the run's: None\)"):  # other holes
        main([*_argv(photo_folder, out), "--adv", "0", "--overlap", "0", "--steps", "3", "--resume",
              "--mix", "freeform=1"])  # fmt: skip
    with pytest.raises(SystemExit, match=r"--rec-norm l1 \(the run's: l2\)"):  # another reconstruction loss
        main([*_argv(photo_folder, out), "--adv", "0", "--overlap", "0", "--steps", "3", "--resume",
              "--rec-norm", "l1"])  # fmt: skip
    with pytest.raises(SystemExit, match=r"--padding reflect \(the run's: zeros\)"):  # no parameter, another network
        main([*_argv(photo_folder, out), "--adv", "0", "--overlap", "0", "--steps", "3", "--resume",
              "--padding", "reflect"])  # fmt: skip
    main([*_argv(photo_folder, out), "--adv", "0", "--mask", "center", "--steps", "3", "--resume", "--retarget"])
    assert read_export(out / "generator.pt")["mask_type"] == "center"
    # a run checkpointed before --rec-mean existed averaged over pixels: psnr is a change of loss
    state = torch.load(out / "checkpoint.pt", weights_only=False)
    del state["args"]["rec_mean"]
    torch.save(state, out / "checkpoint.pt")
    base = [*_argv(photo_folder, out), "--adv", "0", "--mask", "center", "--resume"]
    with pytest.raises(SystemExit, match=r"--rec-mean psnr \(the run's: pixels\)"):
        main([*base, "--steps", "4", "--rec-mean", "psnr"])
    main([*base, "--steps", "4", "--rec-mean", "psnr", "--retarget"])
    assert read_export(out / "generator.pt")["training"]["rec_mean"] == "psnr"
    with pytest.raises(SystemExit, match=r"--cosine-from 9 must lie in \[0, --steps 5\)"):
        main([*base, "--steps", "5", "--rec-mean", "psnr", "--lr-decay", "cosine", "--cosine-from", "9"])


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--cosine-from", "2"], "need --lr-decay cosine"),
        (["--warmup", "2"], "need --lr-decay cosine"),
        (["--lr-decay", "cosine", "--warmup", "-1"], "--warmup -1 must not be negative"),
        (["--mask", "center", "--mix", "freeform=1"], "it needs --mask mixed, not --mask center"),
        (["--mix", "triangle=1"], "'triangle' is not a kind of mixed holes"),
        (["--d-steps", "2"], "they need --d-arch patch"),
        (["--d-arch", "patch", "--adv", "0", "--d-warmup", "5"], "they need --d-arch patch and --adv or --fm"),
        (["--d-arch", "patch", "--d-steps", "0"], "--d-steps 0 must be at least 1"),
        (["--mix", "freeform=0,region=0"], "must not all be zero"),
        (["--mix", "freeform=-1"], "a share must be a finite number >= 0"),
        (["--mix", "freeform"], "expected KIND=SHARE with a number"),
    ],
)
def test_argument_errors_are_refused_before_any_data_is_read(
    flags: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Refused before any data is read: ``--data`` need not even exist."""
    with pytest.raises(SystemExit) as exc:
        main(["--data", str(tmp_path / "missing"), "--out", str(tmp_path / "run"), "--steps", "5", *flags])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_a_cosine_run_records_the_schedule_it_starts_on(photo_folder: Path, tmp_path: Path) -> None:
    """The first ``lr_schedule`` entry says where the cosine ends and how it warms up, so an
    export whose end was later brought forward still tells what was planned."""
    main([*_argv(photo_folder, tmp_path), "--adv", "0", "--lr-decay", "cosine", "--warmup", "1", "--steps", "2"])
    first = read_export(tmp_path / "generator.pt")["training"]["lr_schedule"][0]
    assert first == {"step": 0, "lr_g": 2e-4, "lr_d": None, "cosine_to_step": 2, "warmup_steps": 1}


def test_min_crop_bounds_how_much_of_the_photo_each_crop_keeps_and_is_recorded(tmp_path: Path) -> None:
    """Crops smaller than the network's input are enlarged, softer than the photos the evaluation
    scores; ``--min-crop`` bounds them. Photos holding a horizontal ramp show each crop's width."""
    folder = tmp_path / "ramps"
    folder.mkdir()
    ramp = np.repeat(np.linspace(0, 255, 160)[None, :, None], 160, axis=0).repeat(3, axis=2).astype(np.uint8)
    for i in range(4):
        Image.fromarray(ramp).save(folder / f"ramp{i}.png")
    widths = {}
    for share in ("1", "0.6"):
        config = _config(folder, tmp_path / share, "--min-crop", share)
        data, nets, progress = setup(config, CPU)
        assert run_meta(config, CPU, data, nets, progress).training["min_crop"] == float(share)
        images, _, _ = sample_batch(data, 64, config.image_size, progress.gen, config.min_crop)
        red = (images[:, 0] + 1) / 2  # [0, 1] along the photo's width
        widths[share] = (red.amax(dim=(1, 2)) - red.amin(dim=(1, 2))).numpy()
    # aspect jitter (3/4 to 4/3) narrows one side to at least sqrt(3/4) of the crop's
    assert widths["1"].min() > 0.84, widths["1"].min()
    assert widths["0.6"].min() < 0.7, widths["0.6"].min()
    for bad in ("0", "1.5"):
        with pytest.raises(SystemExit):
            main([*_argv(folder, tmp_path / "bad"), "--min-crop", bad])


def test_smooth_share_mixes_flat_and_graded_images_into_the_batch(photo_folder: Path, tmp_path: Path) -> None:
    config = _config(photo_folder, tmp_path, "--adv", "0", "--smooth-share", "1")
    data, nets, progress = setup(config, CPU)
    assert run_meta(config, CPU, data, nets, progress).training["smooth_share"] == 1.0
    images, _, _ = sample_batch(data, 32, config.image_size, progress.gen, smooth_share=1.0)
    assert images.shape == (32, 3, 64, 64) and images.min() >= -1 and images.max() <= 1
    # every image is a plane plus faint noise: a least-squares plane leaves ~nothing
    yy, xx = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")
    design = torch.stack([torch.ones(64 * 64), yy.flatten(), xx.flatten()], dim=1)
    pixels = images.permute(1, 0, 2, 3).reshape(3 * 32, -1).T  # (pixels, image-channels)
    fit = design @ torch.linalg.lstsq(design, pixels).solution
    assert (pixels - fit).std(dim=0).max() < 0.025
    slopes = torch.linalg.lstsq(design, pixels).solution[1:].abs().amax(dim=0)
    assert (slopes < 1e-3).any() and (slopes > 2e-3).any()  # flat ones and ramps
    photos, _, _ = sample_batch(data, 32, config.image_size, progress.gen)
    photo_pixels = photos.permute(1, 0, 2, 3).reshape(3 * 32, -1).T
    assert (photo_pixels - design @ torch.linalg.lstsq(design, photo_pixels).solution).std(dim=0).mean() > 0.05
