"""The real thing: uvicorn processes on loopback ports, spoken to over TCP."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO_ROOT
from tests.devserver import free_port

TIMEOUT = 120.0


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def photo(photo_path: Path) -> np.ndarray:
    return np.asarray(Image.open(photo_path).convert("RGB"))


def hole_at(photo: np.ndarray, top: int, left: int, side: int = 96) -> np.ndarray:
    hole = np.zeros(photo.shape[:2], bool)
    hole[top : top + side, left : left + side] = True
    return hole


def inpaint(url: str, image: bytes, mask: bytes | None, **fields: str) -> httpx.Response:
    files = {"image": ("photo.png", image, "image/png")}
    if mask is not None:
        files["mask"] = ("mask.png", mask, "image/png")
    return httpx.post(f"{url}/inpaint", files=files, data=fields, timeout=TIMEOUT)


def test_round_trip(live_server: str, photo_path: Path, photo: np.ndarray):
    hole = hole_at(photo, 200, 300)
    response = inpaint(live_server, photo_path.read_bytes(), png(hole.astype(np.uint8) * 255))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    out = np.asarray(Image.open(io.BytesIO(response.content)))
    assert out.shape == photo.shape
    np.testing.assert_array_equal(out[~hole], photo[~hole])
    assert np.any(out[hole] != photo[hole], axis=-1).mean() > 0.5


def test_bad_inputs_get_json_4xx(live_server: str, photo_path: Path, photo: np.ndarray):
    mask = png(hole_at(photo, 10, 10).astype(np.uint8) * 255)
    response = inpaint(live_server, os.urandom(2048), mask)
    assert response.status_code == 415 and "PNG, JPEG or WebP" in response.json()["detail"]
    small = png(np.zeros((64, 64), np.uint8))
    response = inpaint(live_server, photo_path.read_bytes(), small)
    assert response.status_code == 422 and "same size" in response.json()["detail"]
    response = inpaint(live_server, photo_path.read_bytes(), mask, model="nope")
    assert response.status_code == 422 and "ce-test" in response.json()["detail"]


def test_oversized_chunked_upload_is_refused_without_reading_it_all(live_server: str):
    """A 1 GiB chunked body against the 20 MB default: the server answers 413 and hangs up
    long before the client could have sent it all (only socket buffers' worth past 20 MB)."""
    sent = 0
    total = 2**30
    chunk = b"\0" * 2**20

    def body() -> Iterator[bytes]:
        nonlocal sent
        yield b'--b\r\nContent-Disposition: form-data; name="image"; filename="x.png"\r\n\r\n'
        while sent < total:
            sent += len(chunk)
            yield chunk

    headers = {"content-type": "multipart/form-data; boundary=b"}
    try:
        response = httpx.post(f"{live_server}/inpaint", content=body(), headers=headers, timeout=TIMEOUT)
    except httpx.TransportError:  # the server may hang up before the client reads its answer
        response = None
    assert sent < total // 4
    if response is not None:
        assert response.status_code == 413 and "upload limit" in response.json()["detail"]
    assert httpx.get(f"{live_server}/healthz", timeout=TIMEOUT).status_code == 200


def test_concurrent_clients_all_succeed(live_server: str, photo_path: Path, photo: np.ndarray):
    data = photo_path.read_bytes()
    holes = [hole_at(photo, 40 * i, 60 * i, 64) for i in range(6)]
    before = httpx.get(f"{live_server}/healthz", timeout=TIMEOUT).json()["queues"]["ce-test"]["jobs"]
    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(lambda h: inpaint(live_server, data, png(h.astype(np.uint8) * 255)), holes))
    for response, hole in zip(responses, holes, strict=True):
        assert response.status_code == 200, response.text
        out = np.asarray(Image.open(io.BytesIO(response.content)))
        np.testing.assert_array_equal(out[~hole], photo[~hole])
    after = httpx.get(f"{live_server}/healthz", timeout=TIMEOUT).json()["queues"]["ce-test"]["jobs"]
    assert after - before == 6


def run_until_exit(env: dict[str, str], *args: str) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, *args],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    return proc.returncode, proc.stdout + proc.stderr


def test_uvicorn_refuses_to_start_without_weights(tmp_path: Path):
    missing = tmp_path / "no-such" / "ce-region.pt"
    code, output = run_until_exit(
        {"CE_WEIGHTS": str(missing), "CE_MODELS_DIR": str(tmp_path)},
        "-m",
        "uvicorn",
        "app.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(free_port()),
    )
    assert code != 0
    expected = "refusing to start: cannot load the default weights (CE_WEIGHTS): generator weights not found"
    assert f"{expected}: {missing}" in output


def test_ce_serve_prints_its_url_and_serves(tiny_weights: Path, tmp_path: Path):
    port = free_port()
    env = {
        **os.environ,
        "CE_WEIGHTS": str(tiny_weights),
        "CE_MODELS_DIR": str(tiny_weights.parent),
        "CE_HOST": "127.0.0.1",
        "CE_PORT": str(port),
        "CE_MAX_CONNECTIONS": "8",
        "CE_HEADER_TIMEOUT_S": "1.5",
        "CE_BODY_TIMEOUT_S": "3",
    }
    log = tmp_path / "ce-serve.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from app.main import run; run()"],
            cwd=REPO_ROOT,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        # Connections are capped: with 8 idle ones open, a request gets 503 instead of the
        # server running out of file descriptors; once they close, it serves again.
        idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(8)]
        time.sleep(0.5)
        try:
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 503
        finally:
            for sock in idle:
                sock.close()
        time.sleep(0.5)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
        assert_slow_clients_are_dropped(port)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert f"http://127.0.0.1:{port}/" in log.read_text()


def closed_by_server(sock: socket.socket, within: float) -> float | None:
    """Seconds until the server closed ``sock`` (recv gives b"" or a reset), None if it did not."""
    start = time.monotonic()
    sock.settimeout(within)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - start


def assert_slow_clients_are_dropped(port: int) -> None:
    """Half a header line, or a body that stops arriving, does not hold a connection for ever
    (CE_HEADER_TIMEOUT_S=1.5, CE_BODY_TIMEOUT_S=3); a prompt request on the same server is
    answered as usual, and a request that keeps its socket open after the reply is left to the
    keep-alive timer, not dropped mid-request."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as silent:
        assert closed_by_server(silent, within=10) is not None  # connected, sent nothing
    with socket.create_connection(("127.0.0.1", port), timeout=5) as slow_headers:
        slow_headers.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        elapsed = closed_by_server(slow_headers, within=10)
        assert elapsed is not None and elapsed < 5
    with socket.create_connection(("127.0.0.1", port), timeout=5) as slow_body:
        head = b"POST /inpaint HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        slow_body.sendall(head + b"Content-Length: 100000\r\n\r\n--b\r\n")
        started = time.monotonic()
        for _ in range(3):  # trickling bytes does not extend the deadline
            time.sleep(0.8)
            slow_body.sendall(b"x")
        elapsed = closed_by_server(slow_body, within=10)
        assert elapsed is not None and 2 < time.monotonic() - started < 8
    with socket.create_connection(("127.0.0.1", port), timeout=5) as prompt:
        time.sleep(1.0)  # under the header deadline
        prompt.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert prompt.recv(4096).startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize("package", ["app", "model.tools"])
def test_openmp_threads_sleep_unless_the_environment_says_otherwise(package: str):
    """Busy-waiting OpenMP threads took the server from 33-35 to 24.6 requests/s at 16 clients
    (they steal the cores its decoding and encoding threads need): importing the server or the
    tools sets the policy without loading torch (it must be set before torch loads), and keeps
    one the environment already sets."""
    check = f"import os, sys, {package}; print('torch' in sys.modules, os.environ['OMP_WAIT_POLICY'])"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    for given, expected in ((env, "False PASSIVE"), ({**env, "OMP_WAIT_POLICY": "ACTIVE"}, "False ACTIVE")):
        run = subprocess.run([sys.executable, "-c", check], env=given, cwd=REPO_ROOT, capture_output=True, text=True)
        assert run.returncode == 0 and run.stdout.strip() == expected, run.stderr


def test_the_server_lets_its_one_openmp_team_spin_briefly():
    """The server (not the tools) sets a short spin before torch loads: its one compute thread's
    team then waits for the next operation of a pass instead of sleeping after each one."""
    check = "import os, sys, app; print('torch' in sys.modules, os.environ['GOMP_SPINCOUNT'])"
    env = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"}
    for given, expected in ((env, "False 1000"), ({**env, "GOMP_SPINCOUNT": "0"}, "False 0")):
        run = subprocess.run([sys.executable, "-c", check], env=given, cwd=REPO_ROOT, capture_output=True, text=True)
        assert run.returncode == 0 and run.stdout.strip() == expected, run.stderr
    tools = "import os, model.tools; print(os.environ.get('GOMP_SPINCOUNT'))"
    run = subprocess.run([sys.executable, "-c", tools], env=env, cwd=REPO_ROOT, capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip() == "None", run.stderr
