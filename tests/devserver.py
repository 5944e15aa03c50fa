"""Run the real server in a uvicorn subprocess on a free loopback port (and the browser that
talks to it): for the tests, the server benchmark and the documentation screenshots, which all
need the genuine article (separate process, real sockets) rather than an in-process app."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

HOST = "127.0.0.1"
# Debian's Chromium, driven by Playwright, for the browser tests and the documentation screenshots
CHROMIUM = os.environ.get("CE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # the folder that holds `app/`


class ServerFailed(RuntimeError):
    """uvicorn exited or never became healthy; the message carries its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@contextmanager
def serve(
    weights: Path, *, env: Mapping[str, str] | None = None, timeout: float = 120.0, log_level: str = "info"
) -> Iterator[str]:
    """Serve ``app.main:app`` with ``weights`` as the default model and their folder as the
    models folder; yields the base URL once ``/healthz`` answers 200, stops the server after."""
    port = free_port()
    full_env = {**os.environ, "CE_WEIGHTS": str(weights), "CE_MODELS_DIR": str(Path(weights).parent), **(env or {})}
    cmd = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", HOST, "--port", str(port)]
    cmd += ["--log-level", log_level]
    url = f"http://{HOST}:{port}"
    with tempfile.TemporaryFile(mode="w+") as log:
        proc = subprocess.Popen(cmd, cwd=PACKAGE_ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)

        def server_log() -> str:
            log.seek(0)
            return log.read()

        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    raise ServerFailed(f"uvicorn exited with {proc.returncode}:\n{server_log()}")
                try:
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise ServerFailed(f"uvicorn did not become healthy in {timeout:.0f} s:\n{server_log()}")
                time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
