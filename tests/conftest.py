"""Shared fixtures: real photographs from ../shared/data, a small generator exported by the
tests themselves, and a real uvicorn process serving it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from model.export import GeneratorMeta, export_generator
from model.networks import Generator
from tests.devserver import ServerFailed, serve

REPO_ROOT = Path(__file__).resolve().parents[1]


def _shared_data() -> Path | None:
    for candidate in (os.environ.get("CE_DATA"), REPO_ROOT.parent / "shared" / "data"):
        if candidate and (Path(candidate) / "test" / "kodak24").is_dir():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The project's photographs (never committed): ../shared/data or $CE_DATA."""
    path = _shared_data()
    if path is None:
        pytest.fail("real photographs not found: set CE_DATA or place shared/data beside the checkout")
    return path


@pytest.fixture(scope="session")
def photo_path(shared_data: Path) -> Path:
    """A real 768x512 lossless photograph (Kodak 23, parrots)."""
    return shared_data / "test" / "kodak24" / "kodim23.png"


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generator export made by the tests (random init, seeded): enough to exercise the
    whole pipeline without shipping weights."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "ce-test.pt"
    meta = GeneratorMeta(mask_type="mixed", mean_colour=[0.46, 0.45, 0.42], training={"note": "test fixture"})
    export_generator(Generator().eval(), meta, path)
    return path


@pytest.fixture(scope="session")
def live_server(tiny_weights: Path) -> Iterator[str]:
    """A real uvicorn process serving ``app.main:app`` on a free loopback port; yields its URL."""
    try:
        with serve(tiny_weights, timeout=60) as url:
            yield url
    except ServerFailed as exc:
        pytest.fail(str(exc))
