"""Every console script answers --help and refuses unknown flags; ce-serve's flags beat CE_*."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest

from app.main import parse_settings

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]


def _exit_code(script: str, *argv: str) -> int | str | None:
    """Call the console script's entry point as its wrapper would; what it exits with."""
    module, func = SCRIPTS[script].split(":")
    with pytest.raises(SystemExit) as exc:
        getattr(importlib.import_module(module), func)(list(argv))
    return exc.value.code


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_help_prints_usage_and_exits_0(script: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _exit_code(script, "--help") == 0
    assert f"usage: {script}" in capsys.readouterr().out


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_an_unknown_flag_is_refused_with_usage(script: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _exit_code(script, "--no-such-flag") == 2
    err = capsys.readouterr().err
    assert f"usage: {script}" in err and "error:" in err


def test_ce_serve_flags_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CE_PORT", "9000")
    monkeypatch.setenv("CE_MAX_UPLOAD_MB", "7")
    assert parse_settings([]).port == 9000
    flagged = parse_settings(["--port", "8799", "--host", "0.0.0.0", "--workers", "3", "--max-pixels", "1000"])
    assert (flagged.port, flagged.host, flagged.workers, flagged.max_pixels) == (8799, "0.0.0.0", 3, 1000)
    assert flagged.max_upload_mb == 7  # not given as a flag: the environment's


def test_ce_serve_rejects_a_bad_value_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse_settings(["--port", "eighty"])
    assert exc.value.code == 2
    assert "--port" in capsys.readouterr().err
