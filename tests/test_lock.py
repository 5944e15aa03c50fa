"""The lock files that scripts/bootstrap.sh and the Dockerfile install from (with --require-hashes
--no-deps) agree with pyproject.toml: a dependency added or a range moved without `make lock`
fails here, in CI, instead of at a user's install next year."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO_ROOT = Path(__file__).resolve().parents[1]
LOCK = REPO_ROOT / "requirements" / "lock.txt"
LOCK_DEV = REPO_ROOT / "requirements" / "lock-dev.txt"


def _project() -> dict:
    with (REPO_ROOT / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)["project"]


def _entries(path: Path) -> list[tuple[Requirement, list[str]]]:
    """(requirement, its hashes) for each entry of a requirements file in pip's hash format."""
    text = re.sub(r"\\\n", " ", path.read_text())
    entries = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        assert not line.startswith("-"), f"{path.name}: options are not expected in a lock: {line}"
        spec, *options = re.split(r"\s+(?=--)", line)
        hashes = [o.removeprefix("--hash=") for o in options if o.startswith("--hash=")]
        assert len(hashes) == len(options), f"{path.name}: only --hash options are expected: {line}"
        entries.append((Requirement(spec), hashes))
    return entries


def _pins(path: Path) -> dict[str, str]:
    return {canonicalize_name(req.name): next(iter(req.specifier)).version for req, _ in _entries(path)}


@pytest.mark.parametrize("path", [LOCK, LOCK_DEV], ids=lambda p: p.name)
def test_every_entry_is_pinned_exactly_with_hashes(path: Path) -> None:
    entries = _entries(path)
    assert entries, f"{path} holds no packages"
    for req, hashes in entries:
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{path.name}: {req} is not pinned with =="
        assert hashes and all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), (
            f"{path.name}: {req.name} has no sha256 --hash"
        )
    names = [canonicalize_name(req.name) for req, _ in entries]
    assert len(names) == len(set(names)), f"{path.name} pins a package twice"


@pytest.mark.parametrize(
    ("path", "groups"),
    [(LOCK, ("dependencies",)), (LOCK_DEV, ("dependencies", "dev", "eval"))],
    ids=["lock.txt", "lock-dev.txt"],
)
def test_each_direct_dependency_is_pinned_within_pyproject_range(path: Path, groups: tuple[str, ...]) -> None:
    project = _project()
    wanted = []
    for group in groups:
        wanted += project["dependencies"] if group == "dependencies" else project["optional-dependencies"][group]
    pins = _pins(path)
    for req in map(Requirement, wanted):
        name = canonicalize_name(req.name)
        if name == "torch":
            continue  # installed by itself from PyTorch's CPU index, checked below
        assert name in pins, f"{req.name} (pyproject.toml) is not in {path.name}: run `make lock`"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"{path.name} pins {req.name}=={pins[name]}, outside pyproject's {req}: run `make lock`"
        )


def test_the_runtime_lock_is_the_dev_lock_cut_down() -> None:
    runtime, dev = _pins(LOCK), _pins(LOCK_DEV)
    assert runtime.items() <= dev.items(), {n: (v, dev.get(n)) for n, v in runtime.items() if dev.get(n) != v}


def _torch_version_defaults() -> dict[str, str]:
    found = {}
    for rel, pattern in [
        ("scripts/bootstrap.sh", r"TORCH_VERSION=\$\{TORCH_VERSION:-([^}]+)\}"),
        ("scripts/lock.sh", r"TORCH_VERSION=\$\{TORCH_VERSION:-([^}]+)\}"),
        ("Dockerfile", r"ARG TORCH_VERSION=(\S+)"),
        ("requirements/lock.txt", r"# torch==(\S+)\+cpu is left out"),
        ("requirements/lock-dev.txt", r"# torch==(\S+)\+cpu is left out"),
    ]:
        match = re.search(pattern, (REPO_ROOT / rel).read_text())
        assert match, f"no torch version found in {rel}"
        found[rel] = match.group(1)
    return found


def test_torch_is_left_out_and_its_version_agrees_everywhere() -> None:
    for path in (LOCK, LOCK_DEV):
        assert "torch" not in _pins(path), f"{path.name} must not pin torch (its CPU build has other hashes)"
        assert not [n for n in _pins(path) if n.startswith("nvidia-") or n == "triton"], (
            f"{path.name} was resolved against a CUDA build of torch"
        )
    versions = _torch_version_defaults()
    assert len(set(versions.values())) == 1, f"TORCH_VERSION differs: {versions}"


def test_the_installed_torch_requirements_are_in_the_runtime_lock() -> None:
    try:
        requires = importlib.metadata.requires("torch") or []
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("torch is not installed")
    pins = _pins(LOCK)
    for req in map(Requirement, requires):
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(req.name)
        if name.startswith("nvidia-") or name == "triton":
            continue  # PyPI's CUDA build, where bootstrap.sh fell back to it
        assert name in pins, f"torch needs {req}, which requirements/lock.txt lacks: run `make lock`"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"torch needs {req}; requirements/lock.txt pins {pins[name]}: run `make lock`"
        )
