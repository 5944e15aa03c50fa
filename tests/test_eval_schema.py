"""One schema for the evaluation's records: every result file in docs/results/ and every shipped
export loads through it and writes back unchanged, the release builds an export's record from
the evaluation's through it, and the server reads exports through it."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import torch

from model.eval.schema import EvaluationReport, ReleasedEvaluation
from model.export import WEIGHTS_DIR
from model.tools.release import merge_evaluations

ROOT = Path(__file__).resolve().parents[1]
RESULTS = sorted((ROOT / "docs" / "results").glob("eval-*.json"))
EXPORTS = sorted(WEIGHTS_DIR.glob("*.pt"))


@pytest.mark.parametrize("path", RESULTS, ids=lambda p: p.name)
def test_every_result_file_loads_through_the_schema_and_writes_back_byte_for_byte(path: Path) -> None:
    text = path.read_text()
    report = EvaluationReport.model_validate(json.loads(text))
    assert report.results and all(result.methods for result in report.results)
    assert json.dumps(report.to_json(), indent=2) + "\n" == text  # nothing dropped, nothing added, same order


@pytest.mark.parametrize("path", EXPORTS, ids=lambda p: p.name)
def test_every_shipped_exports_evaluation_loads_through_the_schema(path: Path) -> None:
    record = torch.load(path, map_location="cpu", weights_only=True)["evaluation"]
    released = ReleasedEvaluation.model_validate(record)
    assert json.dumps(released.to_json()) == json.dumps(record)
    assert ReleasedEvaluation.read(record) == released  # the server's lenient reading keeps every row
    assert {r.mask for r in released.results} == {"objects", "strokes", "blobs", "center", "freeform"}


def test_the_release_keeps_exactly_what_the_evaluations_measured() -> None:
    """ce-center.pt was released from the four runs the documents cite: its record is rebuilt
    from them through the schema, the same dict in the same order."""
    names = ("eval-kodak-full", "eval-heldout-full", "eval-kodak", "eval-heldout")
    texts = [(ROOT / "docs" / "results" / f"{name}.json").read_text() for name in names]
    reports = [EvaluationReport.model_validate(json.loads(text)) for text in texts]
    rebuilt = ReleasedEvaluation.of_method(merge_evaluations(reports), "ce-center").to_json()
    shipped = torch.load(WEIGHTS_DIR / "ce-center.pt", map_location="cpu", weights_only=True)["evaluation"]
    assert json.dumps(rebuilt) == json.dumps(shipped)


def test_a_server_reads_the_rows_that_fit_and_leaves_out_the_rest() -> None:
    good = {"set": "kodak24", "mask": "center", "images": 3, "psnr": float("nan"), "ssim": "high", "extra": 1}
    record = {"protocol": 7, "results": [good, "a row", {"mask": "center", "images": 3}, {**good, "mask": "blobs"}]}
    released = ReleasedEvaluation.read(record)
    assert [(r.set, r.mask) for r in released.results] == [("kodak24", "center"), ("kodak24", "blobs")]
    assert released.results[0].psnr is None and released.results[0].ssim is None  # not numbers: missing
    assert released.protocol is None
    assert ReleasedEvaluation.read(None).results == ReleasedEvaluation.read({"results": {}}).results == []


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}


def test_the_evaluation_is_one_package_and_its_records_one_schema() -> None:
    """The library lives in model/eval, one module a job; model/tools keeps only the command
    line; whoever writes or reads an evaluation record does it through model.eval.schema."""
    package = {p.stem for p in (ROOT / "model" / "eval").glob("*.py")}
    assert {"run", "sets", "holes", "methods", "crops", "fullres", "scores", "tables", "grids", "report"} <= package
    assert "schema" in package
    tools = {p.stem for p in (ROOT / "model" / "tools").glob("*.py")}
    assert not {t for t in tools if t.startswith("eval_") or t == "fullres"}
    cli = ROOT / "model" / "tools" / "evaluate.py"
    defined = {node.name for node in ast.parse(cli.read_text()).body if isinstance(node, ast.FunctionDef)}
    assert defined == {"build_parser", "_split", "options_from", "main"}
    for user in ("model/eval/report.py", "model/eval/scores.py", "model/tools/release.py", "app/presentation.py"):
        assert "model.eval.schema" in imported_modules(ROOT / user), user
