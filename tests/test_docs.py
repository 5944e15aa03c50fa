"""The documents as a newcomer finds them: the README and the model card short, every link and
picture there, the changelog on the project's version, and no narration of the project's own
development (numbered sessions or rounds, restarts counted in words, the machines it happened to
run on) in a document, a command's help, the evaluation results or what ``GET /api/models``
serves."""

from __future__ import annotations

import importlib
import json
import os
import re
import tomllib
from pathlib import Path

import pytest

from app.presentation import generator_info
from model.export import WEIGHTS_DIR
from model.fillers import load_filler

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# folders that hold no project documents: environments, build outputs, vendored code
SKIPPED_DIRS = {"node_modules", "vendor", "runs", "build", "dist", "test-artifacts", "__pycache__"}
ORDINALS = (
    "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|"
    "fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|\\d+(?:st|nd|rd|th)"
)
NARRATION = re.compile(
    rf"\bsessions? \d+|(?<![-\w])rounds? \d+|\b(?:{ORDINALS}) (?:warm )?restarts?\b|\blent (?:GPU|machine)",
    re.IGNORECASE,
)
# a processor's name says which machine a number was measured on: only the benchmarks say that
MACHINES = re.compile(r"\b(?:EPYC|Xeon|Ryzen|Threadripper|Core i[3579]|Graviton|[AH]100|H200)\b")
MEASURED_ON = ROOT / "docs" / "benchmarks.md"
LINKED = [ROOT / "README.md", ROOT / "MODEL_CARD.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def markdown_files() -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS and not d.endswith(".egg-info")]
        found += [Path(folder) / name for name in files if name.endswith(".md")]
    return sorted(found)


def findings(pattern: re.Pattern[str], path: Path) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{number}: {match.group(0)!r}"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for match in pattern.finditer(line)
    ]


def anchors(path: Path) -> set[str]:
    """The heading anchors GitHub gives a Markdown file's headings."""
    headings = re.findall(r"^#+\s+(.+?)\s*$", FENCE.sub("", path.read_text(encoding="utf-8")), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_the_documents_are_found():
    names = {str(p.relative_to(ROOT)) for p in markdown_files()}
    assert {"README.md", "MODEL_CARD.md", "CHANGELOG.md", "docs/training.md", "docs/evaluation.md"} <= names
    assert {"docs/benchmarks.md", "docs/architecture.md"} <= names


def test_no_document_narrates_the_projects_development():
    found = [hit for path in markdown_files() for hit in findings(NARRATION, path)]
    assert not found, "\n".join(found)


def test_only_the_benchmarks_name_the_machine_they_were_measured_on():
    found = [hit for path in markdown_files() if path != MEASURED_ON for hit in findings(MACHINES, path)]
    assert not found, "\n".join(found)
    assert re.search(r"^\*\*Measured on\*\* \d{4}-\d{2}-\d{2}", MEASURED_ON.read_text(), re.MULTILINE)


@pytest.mark.parametrize(("name", "most"), [("README.md", 160), ("MODEL_CARD.md", 220)])
def test_the_readme_and_the_model_card_stay_short(name: str, most: int):
    lines = len((ROOT / name).read_text(encoding="utf-8").splitlines())
    assert lines <= most, f"{name} has {lines} lines; at most {most}: move the detail into docs/"


@pytest.mark.parametrize("path", LINKED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_and_picture_resolves(path: Path):
    broken = []
    for target in LINK.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        if not linked.exists():
            broken.append(target)
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"{path.relative_to(ROOT)}: {broken}"


def test_the_changelog_leads_with_the_projects_version():
    versions = re.findall(r"^## \[([^\]]+)\]", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), re.MULTILINE)
    assert versions and versions[0] == PROJECT["version"], versions


@pytest.mark.parametrize("name", ["ce-region", "ce-center"])
def test_api_models_serves_the_shipped_exports_without_their_diaries(name: str):
    """The exports keep their training notes; what clients get is structured and plain."""
    info = generator_info(load_filler(WEIGHTS_DIR / f"{name}.pt"), default=name == "ce-region")
    answer = info.model_dump_json()
    told = NARRATION.findall(answer) + MACHINES.findall(answer)
    assert not told, f"{name}: {told[:5]}"
    assert not re.search(r'"(?:/|~|[A-Za-z]:\\)', answer), "no file paths"
    assert info.training is not None and info.training.steps and info.training.images_seen
    assert info.evaluation and info.headline


def test_the_evaluation_results_hold_no_machine_paths():
    def strings(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict | list):
            for item in value.values() if isinstance(value, dict) else value:
                yield from strings(item)

    for path in sorted((ROOT / "docs" / "results").glob("*.json")):
        absolute = [s for s in strings(json.loads(path.read_text())) if re.match(r"(?:/|~|[A-Za-z]:\\)\S", s)]
        assert not absolute, f"{path.name}: {absolute}"


def help_text(script: str, capsys: pytest.CaptureFixture[str]) -> str:
    module, func = PROJECT["scripts"][script].split(":")
    with pytest.raises(SystemExit):
        getattr(importlib.import_module(module), func)(["--help"])
    return capsys.readouterr().out


@pytest.mark.parametrize("script", sorted(PROJECT["scripts"]))
def test_command_help_does_not_narrate_the_projects_development(script: str, capsys: pytest.CaptureFixture[str]):
    text = help_text(script, capsys)
    assert f"usage: {script}" in text and not NARRATION.search(text), text


def test_the_code_does_not_narrate_the_projects_development():
    """Comments, docstrings and help texts of the shipped code, its tools and scripts."""
    sources = [ROOT / "Makefile", ROOT / "Dockerfile", ROOT / "pyproject.toml"] + [
        p
        for folder in ("app", "model", "scripts", "benchmarks")
        for p in (ROOT / folder).rglob("*")
        if p.suffix in {".py", ".sh"}
    ]
    found = [hit for path in sorted(sources) for hit in findings(NARRATION, path)]
    assert not found, "\n".join(found)
