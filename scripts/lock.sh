#!/usr/bin/env bash
# Refresh the hashed lock files that scripts/bootstrap.sh and the Dockerfile install from (what
# `make lock` calls; usable without make too).
#
#   scripts/lock.sh                          re-resolve pyproject.toml, keeping every pin that still fits
#   scripts/lock.sh --upgrade                move every pin to the newest release that fits
#   scripts/lock.sh --upgrade-package NAME   move one package (other uv pip compile options pass through)
#
# Writes requirements/lock-dev.txt (the runtime dependencies and the dev and eval extras) and
# requirements/lock.txt (the runtime dependencies alone, at the same versions). Each pin carries
# the sha256 of every file of that release, for any platform, and an environment marker where a
# dependency is platform-specific (uv pip compile --universal), for Python 3.11 and newer.
#
# torch is not in the lock files: bootstrap.sh and the Dockerfile install torch==TORCH_VERSION by
# itself from PyTorch's CPU wheel index, whose builds carry other hashes than PyPI's. Its
# dependencies (sympy, networkx, filelock, fsspec, setuptools, ...) are locked, resolved against
# the CPU build's requirements: PyPI's default build would add CUDA's nvidia-* packages.
#
# Environment: TORCH_VERSION (default 2.13.0, as in bootstrap.sh and the Dockerfile);
# TORCH_FIND_LINKS (where torch-TORCH_VERSION+cpu is found: by default a folder of pip's
# find-links that holds that wheel, otherwise PyTorch's CPU index page for torch); UV (a uv
# binary to use; by default uv==UV_VERSION is installed once into .cache/lock-tools); PYTHON.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
TORCH_CPU_PAGE=https://download.pytorch.org/whl/cpu/torch/
UV_VERSION=0.13.9
TOOLS=.cache/lock-tools
OUT=requirements

say() { printf '==> %s\n' "$*"; }
die() {
  printf 'ERROR: %s\n' "$*" >&2
  exit 1
}

find_uv() {
  if [[ -n ${UV:-} ]]; then
    echo "$UV"
    return 0
  fi
  if [[ ! -x $TOOLS/bin/uv ]] || [[ $("$TOOLS/bin/uv" --version 2>/dev/null) != "uv $UV_VERSION"* ]]; then
    local py=${PYTHON:-python3}
    say "installing uv==$UV_VERSION into $TOOLS (once)" >&2
    [[ -x $TOOLS/bin/python ]] || "$py" -m venv "$TOOLS" >&2 || die "could not create $TOOLS with $py"
    "$TOOLS/bin/pip" install --quiet "uv==$UV_VERSION" >&2 || die "could not install uv==$UV_VERSION"
  fi
  echo "$TOOLS/bin/uv"
}

torch_links() {
  # A local folder that holds the CPU wheel (offline machines, mirrors) gives the same metadata
  # as PyTorch's index; pip's own configuration is where such a folder is usually named.
  if [[ -n ${TORCH_FIND_LINKS:-} ]]; then
    echo "$TORCH_FIND_LINKS"
    return 0
  fi
  local dirs dir
  dirs="${PIP_FIND_LINKS:-} $("${PYTHON:-python3}" -m pip config get global.find-links 2>/dev/null || true)"
  for dir in $dirs; do
    dir=${dir#file://}
    if compgen -G "$dir/torch-$TORCH_VERSION+cpu-*.whl" >/dev/null; then
      echo "$dir"
      return 0
    fi
  done
  echo "$TORCH_CPU_PAGE"
}

header() { # $1: what the file holds
  cat <<EOF
# $1, locked with hashes by \`make lock\` (scripts/lock.sh, uv $UV_VERSION
# pip compile --universal) from pyproject.toml; do not edit by hand. Install with
#   pip install --require-hashes --no-deps -r $2
# torch==$TORCH_VERSION+cpu is left out: it is installed by itself from PyTorch's CPU wheel index
# (scripts/bootstrap.sh, Dockerfile); its dependencies below are resolved against that build.
EOF
}

UV_BIN=$(find_uv)
LINKS=$(torch_links)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "torch==$TORCH_VERSION+cpu" >"$TMP/torch.txt"
mkdir -p "$OUT"
# uv keeps the pins of the file it writes to wherever they still fit (unless --upgrade)
[[ -f $OUT/lock-dev.txt ]] && cp "$OUT/lock-dev.txt" "$TMP/lock-dev.txt"

COMMON=(
  --universal --python-version 3.11 --generate-hashes --no-header --quiet
  --no-emit-package torch --find-links "$LINKS" --constraint "$TMP/torch.txt"
)

say "resolving pyproject.toml with the dev and eval extras (torch $TORCH_VERSION+cpu from $LINKS)"
"$UV_BIN" pip compile pyproject.toml --extra dev --extra eval "${COMMON[@]}" "$@" -o "$TMP/lock-dev.txt" \
  || die "uv pip compile failed (is the CPU build of torch $TORCH_VERSION reachable at $LINKS? set TORCH_FIND_LINKS)"
{
  header "The runtime dependencies and the dev and eval extras" "$OUT/lock-dev.txt"
  cat "$TMP/lock-dev.txt"
} >"$OUT/lock-dev.txt"

say "resolving the runtime dependencies at the same versions"
"$UV_BIN" pip compile pyproject.toml "${COMMON[@]}" --constraint "$OUT/lock-dev.txt" -o "$TMP/lock.txt" \
  || die "uv pip compile failed for the runtime dependencies"
{
  header "The runtime dependencies" "$OUT/lock.txt"
  cat "$TMP/lock.txt"
} >"$OUT/lock.txt"

if grep -qiE '^(nvidia-|triton==)' "$OUT/lock-dev.txt"; then
  die "the lock names CUDA packages: torch was resolved from a CUDA build, not $TORCH_VERSION+cpu"
fi
say "wrote $OUT/lock-dev.txt ($(grep -cE '^[a-z]' "$OUT/lock-dev.txt") packages) and $OUT/lock.txt ($(grep -cE '^[a-z]' "$OUT/lock.txt") packages)"
