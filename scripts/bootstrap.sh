#!/usr/bin/env bash
# One-command setup, run and test for the Context Encoder inpainting app (what `make run` and
# `make test` call; usable without make too).
#
#   scripts/bootstrap.sh setup       .venv with the locked runtime dependencies (requirements/lock.txt),
#                                    CPU torch and the app (pip install -e .)
#   scripts/bootstrap.sh setup-dev   the same from requirements/lock-dev.txt (+ the dev and eval
#                                    extras) + Debian's Chromium
#   scripts/bootstrap.sh run         setup, then start the web app on the shipped weights
#   scripts/bootstrap.sh test [ARGS] setup-dev, then the whole suite (pytest ARGS); exit 1 when
#                                    no test ran (pytest's exit 5, or every test skipped)
#
# Every dependency but torch comes from a lock file, pinned with hashes (`make lock`, scripts/lock.sh,
# refreshes them); torch, pinned by version, comes from PyTorch's CPU wheel index.
# Idempotent: a stamp in .venv keyed on the hashes of pyproject.toml and the lock files skips the
# installs on later runs.
# Environment: PYTHON (interpreter for the venv, 3.11+), VENV (default .venv), TORCH_VERSION
# (default 2.13.0), TORCH_INDEX_URL (default PyTorch's CPU wheel index), CE_HOST, CE_PORT.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
VENV=${VENV:-.venv}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
TORCH_INDEX_URL=${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}
JUNIT=test-artifacts/junit.xml
LOCK=requirements/lock.txt
LOCK_DEV=requirements/lock-dev.txt

say() { printf '==> %s\n' "$*"; }
die() {
  printf 'ERROR: %s\n' "$*" >&2
  exit 1
}

find_python() {
  local candidates=("${PYTHON:-}" python3.11 python3 python) c
  for c in "${candidates[@]}"; do
    [[ -n $c ]] && command -v "$c" >/dev/null 2>&1 || continue
    if "$c" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$c"
      return 0
    fi
  done
  return 1
}

ensure_venv() {
  if [[ -x $VENV/bin/python ]] && "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    return 0
  fi
  [[ -e $VENV ]] && die "$VENV exists but holds no working Python 3.11+; remove it (rm -rf $VENV) and run again"
  local py
  py=$(find_python) || die "Python 3.11 or newer not found; install it (Debian/Ubuntu: apt-get install python3.11 python3.11-venv) or set PYTHON=/path/to/python3.11"
  say "creating $VENV with $py ($("$py" --version 2>&1))"
  "$py" -m venv "$VENV" || die "could not create $VENV; on Debian/Ubuntu install the venv module: apt-get install python3-venv (or python3.11-venv)"
}

stamp_key() {
  # Anything that changes what must be installed: the project file, the lock files, the
  # interpreter, the pins, and the checkout's path (an editable install points at it).
  {
    sha256sum pyproject.toml "$LOCK" "$LOCK_DEV"
    "$VENV/bin/python" --version 2>&1
    echo "torch==$TORCH_VERSION $ROOT"
  } | sha256sum | cut -d' ' -f1
}

ensure_torch() {
  if "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
    say "torch $("$VENV/bin/python" -c 'import torch; print(torch.__version__)') already installed"
    return 0
  fi
  # torch's own dependencies are already installed at the locked versions, so pip adds nothing
  # here but torch (and, on the PyPI fallback below, the CUDA libraries of PyPI's default build).
  say "installing torch==$TORCH_VERSION (CPU build) from $TORCH_INDEX_URL"
  if "$VENV/bin/pip" install --retries 1 --timeout 60 "torch==$TORCH_VERSION" --index-url "$TORCH_INDEX_URL"; then
    return 0
  fi
  # The CPU index can be out of reach (offline mirrors, closed networks). pip's own configuration
  # may point at a local CPU wheel (find-links); on plain PyPI this falls back to the default build.
  say "the CPU wheel index failed; falling back to: pip install torch==$TORCH_VERSION (pip's configured sources)"
  "$VENV/bin/pip" install "torch==$TORCH_VERSION"
}

ensure_chromium() {
  if [[ -x /usr/bin/chromium ]]; then
    return 0
  fi
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian's chromium for the browser tests (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
    [[ -x /usr/bin/chromium ]] || die "apt-get install chromium did not provide /usr/bin/chromium"
    return 0
  fi
  cat >&2 <<'EOF'
WARNING: /usr/bin/chromium is missing, so the browser (Playwright) tests cannot run.
         Install Debian's/Ubuntu's Chromium as root:  sudo apt-get install -y chromium
         (Playwright's own browser download is not used by this project.)
EOF
}

installed_here() {
  # The venv imports app and model from this checkout (-I: not merely from the current folder).
  "$VENV/bin/python" -I - "$ROOT" <<'EOF'
import importlib.util
import sys
from pathlib import Path

root = Path(sys.argv[1]).resolve()
for name in ("app", "model"):
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None or root not in Path(spec.origin).resolve().parents:
        sys.exit(1)
EOF
}

replace_plain_opencv() {
  # The project needs opencv-contrib-python-headless (cv2.xphoto); opencv-python-headless ships the
  # same cv2 folder, and the two side by side break it. A venv made before the switch drops
  # both here, so the install below puts the contrib build back whole.
  if "$VENV/bin/pip" show opencv-python-headless >/dev/null 2>&1; then
    say "replacing opencv-python-headless by opencv-contrib-python-headless (both ship cv2)"
    "$VENV/bin/pip" uninstall -y opencv-python-headless opencv-contrib-python-headless
  fi
}

check_installed() {
  # The lock is installed with --no-deps: pip check is what notices a dependency that pyproject.toml
  # (or a newer torch) wants and the lock lacks.
  "$VENV/bin/pip" check || die "the installed packages do not fit together (above); if pyproject.toml or TORCH_VERSION changed, refresh the lock files with 'make lock' (scripts/lock.sh); a venv left from older installs can be removed (rm -rf $VENV) and made again"
}

setup() { # $1: "base" or "dev"
  local level=$1 stamp key lock=$LOCK
  ensure_venv
  stamp="$VENV/.ce-bootstrap-$level"
  key=$(stamp_key)
  [[ $level == dev ]] && lock=$LOCK_DEV
  if [[ -f $stamp && $(<"$stamp") == "$key" ]] && installed_here; then
    say "$VENV is up to date ($level; pyproject.toml and $lock unchanged)"
  else
    replace_plain_opencv
    say "installing the locked dependencies: pip install --require-hashes --no-deps -r $lock"
    "$VENV/bin/pip" install --require-hashes --no-deps -r "$lock"
    ensure_torch
    # --no-build-isolation: the build backend is the locked setuptools just installed (a torch
    # dependency), not whatever release an isolated build would download.
    say "installing the app: pip install --no-deps --no-build-isolation -e ."
    "$VENV/bin/pip" install --no-deps --no-build-isolation -e .
    check_installed
    echo "$key" >"$stamp"
    if [[ $level == dev ]]; then echo "$key" >"$VENV/.ce-bootstrap-base"; fi
  fi
  if [[ $level == dev ]]; then ensure_chromium; fi
}

run_server() {
  setup base
  local port=${CE_PORT:-8000} host=${CE_HOST:-127.0.0.1} shown
  shown=$host
  [[ $host == 0.0.0.0 || $host == "::" ]] && shown=localhost
  if [[ -z ${CE_WEIGHTS:-} && ! -f model/weights/ce-region.pt ]]; then
    printf 'WARNING: model/weights/ce-region.pt is missing (set CE_WEIGHTS=/path/to/export.pt)\n' >&2
  fi
  say "starting the inpainting editor: open http://$shown:$port/ in your browser (API docs: http://$shown:$port/docs); Ctrl-C stops it"
  export CE_HOST=$host CE_PORT=$port
  exec "$VENV/bin/ce-serve"
}

run_tests() {
  setup dev
  mkdir -p "$(dirname "$JUNIT")"
  rm -f "$JUNIT"
  say "running the test suite: pytest $*"
  local rc=0
  "$VENV/bin/python" -m pytest --junitxml="$JUNIT" "$@" || rc=$?
  if ((rc == 5)); then
    die "pytest collected no tests (exit 5): a run with no test is a failure"
  fi
  ((rc == 0)) || die "pytest failed (exit $rc)"
  # Exit 0 with every test skipped or deselected is no green run either.
  "$VENV/bin/python" - "$JUNIT" <<'EOF' || die "no test was executed"
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
ran = sum(int(s.get("tests", 0)) - int(s.get("skipped", 0)) for s in suites)
print(f"==> tests executed: {ran}")
sys.exit(0 if ran > 0 else 1)
EOF
}

cmd=${1:-run}
shift || true
case $cmd in
  setup) setup base ;;
  setup-dev) setup dev ;;
  run) run_server ;;
  test) run_tests "$@" ;;
  *) die "unknown command '$cmd' (use: setup, setup-dev, run, test)" ;;
esac
