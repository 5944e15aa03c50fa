"""What an installed copy (wheel, Docker image) carries: every Python package of the source
tree and the editor's files. A package missing from pyproject's list imports fine from the
checkout and fails only in the container, so it is checked here, where CI sees it first."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def _project() -> dict:
    with (REPO_ROOT / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)["tool"]["setuptools"]


def test_every_source_package_is_in_the_wheel() -> None:
    listed = set(_project()["packages"])
    found = {
        ".".join(init.parent.relative_to(REPO_ROOT).parts)
        for top in ("app", "model")
        for init in (REPO_ROOT / top).rglob("__init__.py")
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"


def test_the_editor_files_travel_inside_the_app_package() -> None:
    setuptools = _project()
    assert setuptools["package-dir"] == {"app.static": "static", "app.templates": "templates"}
    assert {"app.static", "app.templates"} <= set(setuptools["packages"])
    assert (REPO_ROOT / "static" / "editor" / "main.js").is_file()
    assert (REPO_ROOT / "templates" / "index.html").is_file()
