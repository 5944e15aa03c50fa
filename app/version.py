"""The version this copy of the app reports: FastAPI's ``version`` (``/docs``, ``/openapi.json``)
and ``GET /healthz``. It goes up with every release of weights or change of the API
(CHANGELOG.md)."""

from __future__ import annotations

import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

DISTRIBUTION = "context-encoder-inpaint"
UNKNOWN = "0+unknown"
# the checkout's project file, when the app runs from a source checkout (absent in a wheel)
CHECKOUT_PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def checkout_version(pyproject: Path = CHECKOUT_PYPROJECT) -> str | None:
    """The version in a source checkout's pyproject.toml (this project's only), else None."""
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return str(project["version"]) if project.get("name") == DISTRIBUTION and project.get("version") else None


def package_version() -> str:
    """The installed package's version (``importlib.metadata``). A source checkout's
    pyproject.toml comes first, since an editable install's metadata keeps the version it was
    installed with until it is reinstalled; ``0+unknown`` when neither says."""
    found = checkout_version()
    if found:
        return found
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return UNKNOWN


VERSION = package_version()
