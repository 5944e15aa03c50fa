#!/usr/bin/env bash
# Container smoke test: build the image, run it, wait for /healthz, send one real POST /inpaint
# (a real photograph + a mask PNG made here) and check the answer (HTTP 200, a PNG of the same
# size), check the image's own HEALTHCHECK, then stop the container.
#
# Engine: docker when a docker daemon answers, otherwise podman set up by
# ../shared/tools/container-base.sh (which builds a local stand-in for python:3.11-slim).
# Environment:
#   CE_SMOKE_IMAGE    image tag (default context-encoder-inpaint:smoke)
#   CE_SMOKE_PHOTO    photograph to send (default ../shared/data/test/kodak24/kodim23.png)
#   CE_SMOKE_MODEL    model field of the request (default ce-region; empty: field not sent)
#   CE_SMOKE_WHEEL    a torch CPU wheel to build with offline (default: the one in /opt/wheels, if
#                     any); it is linked into .carry/wheels/ and passed as build argument TORCH_WHEEL
#   CE_SMOKE_TIMEOUT  seconds to wait for health (default 180)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
IMAGE=${CE_SMOKE_IMAGE:-context-encoder-inpaint:smoke}
PHOTO=${CE_SMOKE_PHOTO:-../shared/data/test/kodak24/kodim23.png}
MODEL=${CE_SMOKE_MODEL-ce-region}
TIMEOUT=${CE_SMOKE_TIMEOUT:-180}
NAME=ce-smoke-$$
BASE_TOOL=../shared/tools/container-base.sh
T0=$SECONDS

step() { printf '\n==> [smoke %3ds] %s\n' "$((SECONDS - T0))" "$*"; }
die() {
  printf '\nSMOKE FAILED: %s\n' "$*" >&2
  exit 1
}

# A Python for the HTTP checks: only the standard library is used.
PY=python3
[[ -x .venv/bin/python ]] && PY=.venv/bin/python
command -v "$PY" >/dev/null || die "python3 is needed on the host for the HTTP checks"
[[ -f $PHOTO ]] || die "photograph not found: $PHOTO (set CE_SMOKE_PHOTO)"

step "choosing a container engine"
BUILD_OPTS=()
if command -v docker >/dev/null 2>&1 && timeout 20 docker info >/dev/null 2>&1; then
  ENGINE=(docker)
else
  [[ -x $BASE_TOOL ]] || die "no docker daemon, and $BASE_TOOL (podman setup) is missing"
  echo "no docker daemon answers; using podman via $BASE_TOOL"
  "$BASE_TOOL"
  read -r -a ENGINE <<<"$("$BASE_TOOL" --print-cmd)"
  # podman writes OCI images by default, which drop HEALTHCHECK; the docker format keeps it.
  BUILD_OPTS+=(--format docker)
fi
echo "engine: ${ENGINE[*]}"

CONTAINER_STARTED=0
cleanup() {
  local rc=$?
  if ((CONTAINER_STARTED)); then
    if ((rc != 0)); then
      echo "---- container logs (last 80 lines) ----" >&2
      "${ENGINE[@]}" logs "$NAME" 2>&1 | tail -n 80 >&2 || true
    fi
    "${ENGINE[@]}" rm -f "$NAME" >/dev/null 2>&1 || true
  fi
  exit "$rc"
}
trap cleanup EXIT

WHEEL=${CE_SMOKE_WHEEL:-}
if [[ -z $WHEEL ]]; then
  WHEEL=$(ls /opt/wheels/torch-*+cpu-cp311-*x86_64.whl 2>/dev/null | sort -V | tail -n 1 || true)
fi
if [[ -n $WHEEL ]]; then
  [[ -f $WHEEL ]] || die "torch wheel not found: $WHEEL"
  mkdir -p .carry/wheels
  dest=.carry/wheels/$(basename "$WHEEL")
  [[ -f $dest ]] || ln "$WHEEL" "$dest" 2>/dev/null || cp "$WHEEL" "$dest"
  BUILD_OPTS+=(--build-arg "TORCH_WHEEL=$(basename "$WHEEL")")
  echo "torch from the local wheel $(basename "$WHEEL") (build argument TORCH_WHEEL)"
fi

step "building $IMAGE"
build_start=$SECONDS
nice -n 10 "${ENGINE[@]}" build --network=host "${BUILD_OPTS[@]}" -t "$IMAGE" .
echo "built in $((SECONDS - build_start)) s"

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
step "starting $NAME on port $PORT (CE_PORT, --network=host)"
if [[ ${ENGINE[0]} == podman ]]; then
  echo "(podman without systemd logs 'unable to get systemd connection' for HEALTHCHECK timers: expected;"
  echo " the image's health check is run by hand below)"
fi
"${ENGINE[@]}" run -d --network=host -e "CE_PORT=$PORT" --name "$NAME" "$IMAGE" >/dev/null
CONTAINER_STARTED=1
URL=http://127.0.0.1:$PORT

step "waiting for $URL/healthz (up to $TIMEOUT s)"
deadline=$((SECONDS + TIMEOUT))
until "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=3)' "$URL/healthz" 2>/dev/null; do
  running=$("${ENGINE[@]}" inspect -f '{{.State.Running}}' "$NAME" 2>/dev/null || echo false)
  [[ $running == true ]] || die "the container stopped before it became healthy"
  ((SECONDS < deadline)) || die "no healthy answer from $URL/healthz within $TIMEOUT s"
  sleep 2
done
echo "healthy after $((SECONDS - T0)) s since start of the smoke test"

step "checking the image's HEALTHCHECK"
if [[ ${ENGINE[0]} == podman ]]; then
  "${ENGINE[@]}" healthcheck run "$NAME" && echo "podman healthcheck run: healthy"
else
  hc_deadline=$((SECONDS + 120))
  until [[ $("${ENGINE[@]}" inspect -f '{{.State.Health.Status}}' "$NAME") == healthy ]]; do
    ((SECONDS < hc_deadline)) || die "docker never reported the container healthy"
    sleep 3
  done
  echo "docker reports: healthy"
fi

step "POST /inpaint with $(basename "$PHOTO") and a mask made here"
"$PY" - "$URL" "$PHOTO" "$MODEL" <<'EOF' || die "POST /inpaint did not give the expected answer"
import json
import struct
import sys
import time
import urllib.error
import urllib.request
import uuid
import zlib

url, photo_path, model = sys.argv[1:4]


def png_size(data: bytes) -> tuple[int, int]:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise SystemExit(f"not a PNG (starts with {data[:16]!r})")
    return struct.unpack(">II", data[16:24])


def grey_png(width: int, height: int, hole: tuple[int, int, int, int]) -> bytes:
    """8-bit greyscale PNG, 255 inside the hole box (x0, y0, x1, y1), 0 elsewhere."""
    x0, y0, x1, y1 = hole
    rows = b"".join(
        b"\x00" + bytes(255 if (y0 <= y < y1 and x0 <= x < x1) else 0 for x in range(width)) for y in range(height)
    )

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


photo = open(photo_path, "rb").read()
w, h = png_size(photo)
mask = grey_png(w, h, (w // 2 - 48, h // 2 - 48, w // 2 + 48, h // 2 + 48))
print(f"photo {w}x{h}, {len(photo)} bytes; mask {w}x{h} with a 96x96 hole in the middle")

boundary = uuid.uuid4().hex
parts = [("image", "photo.png", "image/png", photo), ("mask", "mask.png", "image/png", mask)]
body = b""
for name, filename, ctype, data in parts:
    body += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        f"Content-Type: {ctype}\r\n\r\n"
    ).encode() + data + b"\r\n"
if model:
    body += f'--{boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\n{model}\r\n'.encode()
body += f"--{boundary}--\r\n".encode()

request = urllib.request.Request(
    f"{url}/inpaint", data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
)
t0 = time.monotonic()
try:
    with urllib.request.urlopen(request, timeout=120) as response:
        status, ctype, out = response.status, response.headers.get("Content-Type", ""), response.read()
except urllib.error.HTTPError as e:
    raise SystemExit(f"POST /inpaint answered HTTP {e.code}: {e.read()[:500]!r}") from None
elapsed = time.monotonic() - t0
print(f"HTTP {status}, {ctype}, {len(out)} bytes in {elapsed:.2f} s")
if status != 200:
    raise SystemExit(f"expected HTTP 200, got {status}")
if not ctype.startswith("image/png"):
    raise SystemExit(f"expected image/png, got {ctype!r}")
ow, oh = png_size(out)
if (ow, oh) != (w, h):
    raise SystemExit(f"answer is {ow}x{oh}, expected {w}x{h}")
print(f"answer is a {ow}x{oh} PNG, same size as the photo")

with urllib.request.urlopen(f"{url}/api/models", timeout=10) as response:
    print("GET /api/models:", json.dumps(json.load(response))[:300])

# the editor: the page (templates/) and its entry module (static/) travel inside the image
with urllib.request.urlopen(f"{url}/", timeout=10) as response:
    page = response.read().decode()
script = "/static/editor/main.js"
if script not in page:
    raise SystemExit(f"the editor page does not load {script}")
with urllib.request.urlopen(f"{url}{script}", timeout=10) as response:
    kind = response.headers.get("Content-Type", "")
    if response.status != 200 or "javascript" not in kind:
        raise SystemExit(f"GET {script}: HTTP {response.status}, {kind}")
print(f"GET / and {script}: the editor is served ({kind})")
EOF

step "stopping $NAME"
"${ENGINE[@]}" stop -t 10 "$NAME" >/dev/null
echo "SMOKE OK: image $IMAGE built, served, healthy, inpainted a ${PHOTO##*/} request ($((SECONDS - T0)) s in all)"
