"""Shared fixtures: real photographs from ../shared/data, a small generator exported by the
tests themselves, and a real uvicorn process serving it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import torch

from model.export import GeneratorMeta, export_generator
from model.networks import Generator

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(tiny_weights: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real uvicorn process serving ``app.main:app`` on a free loopback port; yields its URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "uvicorn.log"
    env = {**os.environ, "CE_WEIGHTS": str(tiny_weights), "CE_MODELS_DIR": str(tiny_weights.parent)}
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"uvicorn exited with {proc.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"uvicorn did not become healthy in 60 s:\n{log.read_text()}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
