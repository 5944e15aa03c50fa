"""ce-train's flags become one typed ``TrainConfig``; the library code reads that, never the flags."""

from __future__ import annotations

import inspect
from dataclasses import fields
from pathlib import Path
from types import ModuleType

import pytest

from model.tools import bench, checkpoint, schedule, train, train_data
from model.tools.train import build_parser, parse_config
from model.tools.train_config import TrainConfig


def test_every_flag_is_a_field_and_every_field_a_flag() -> None:
    flags = {action.dest for action in build_parser()._actions if action.dest != "help"}
    assert flags == {f.name for f in fields(TrainConfig)}


def test_the_flags_defaults_are_the_configs() -> None:
    assert parse_config(["--data", "d", "--out", "o"]) == TrainConfig(data=Path("d"), out=Path("o"))
    given = parse_config(["--data", "d", "--out", "o", "--batch-size", "8", "--mix", "freeform=1", "--skips"])
    assert (given.batch_size, given.mix, given.skips) == (8, {"freeform": 1.0}, True)
    assert isinstance(given.data, Path)


def test_a_config_refuses_flags_that_contradict_each_other() -> None:
    """Checked where the config is built, so library callers (ce-bench, tests) get the same rules."""
    with pytest.raises(ValueError, match="it needs --mask mixed, not --mask center"):
        TrainConfig(data=Path("d"), out=Path("o"), mask="center", mix={"freeform": 1.0})
    with pytest.raises(ValueError, match="need --lr-decay cosine"):
        TrainConfig(data=Path("d"), out=Path("o"), warmup=5)
    with pytest.raises(ValueError, match=r"--grid 1\.0 weighs a penalty"):
        TrainConfig(data=Path("d"), out=Path("o"), grid=1.0)  # no adversary, no grid to fight
    with pytest.raises(ValueError, match=r"--rec-blur 2\.0 leaves the fine detail to the patch adversary"):
        TrainConfig(data=Path("d"), out=Path("o"), rec_blur=2.0)  # nothing would shape the detail
    with pytest.raises(ValueError, match=r"--detail 1\.0 joins the patch adversary"):
        TrainConfig(data=Path("d"), out=Path("o"), detail=1.0)
    with pytest.raises(ValueError, match="--mirror adds the mirror fill to the refiner's hint channels"):
        TrainConfig(data=Path("d"), out=Path("o"), input="coarse", coarse=Path("c.pt"), mirror=True)


def test_the_record_is_every_field_with_paths_as_text() -> None:
    config = TrainConfig(data=Path("photos"), out=Path("runs/a"), init_from=Path("x.pt"))
    record = config.record()
    assert list(record) == [f.name for f in fields(TrainConfig)]
    assert (record["data"], record["out"], record["init_from"], record["masks"]) == ("photos", "runs/a", "x.pt", None)


@pytest.mark.parametrize("module", [train, train_data, schedule, checkpoint, bench])
def test_training_library_code_takes_the_config_never_a_namespace(module: ModuleType) -> None:
    """Only the command lines (``build_parser``, ``parse_config``, ``main``) see ``argparse``."""
    for name, func in inspect.getmembers(module, inspect.isfunction):
        if func.__module__ != module.__name__ or name in {"build_parser", "main"}:
            continue
        hints = " ".join(str(a) for a in func.__annotations__.values())
        assert "Namespace" not in hints, f"{module.__name__}.{name} takes a Namespace"
        assert "args" not in inspect.signature(func).parameters, f"{module.__name__}.{name} takes args"


@pytest.mark.parametrize("module", [train_data, schedule, checkpoint])
def test_the_training_library_modules_do_not_import_argparse(module: ModuleType) -> None:
    assert "argparse" not in vars(module)
