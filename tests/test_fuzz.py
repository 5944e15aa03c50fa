"""Schemathesis against the app's own OpenAPI schema: whatever a client sends, valid by the
schema (positive) or not (negative), the server never answers 5xx and every answer matches
what /docs promises. Runs in-process on the test generator: no trained model needed.

Schemathesis's ``from_fixture``/``parametrize`` integration reads a private pytest attribute
that pytest 9 no longer has, so each operation's Hypothesis strategy is driven directly.
All default checks run except ``positive_data_acceptance`` for the upload: a schema can say
"binary" but not "bytes that decode as a PNG", so schema-valid random bytes rightly get 415.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from app.main import create_app
from app.settings import Settings

EXAMPLES = 25  # per operation and mode: enough to hit every refusal path, quick on a busy CPU
OPERATIONS = {"GET /", "GET /healthz", "GET /api/models", "POST /inpaint"}


@pytest.fixture(scope="module")
def api_schema(tiny_weights: Path) -> schemathesis.BaseSchema:
    app = create_app(Settings(weights=tiny_weights, models_dir=tiny_weights.parent, device="cpu"))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="module")
def operations(api_schema: schemathesis.BaseSchema) -> dict[str, schemathesis.APIOperation]:
    found = {}
    for result in api_schema.get_all_operations():
        operation = result.ok()
        found[f"{operation.method.upper()} {operation.path}"] = operation
    return found


def test_schema_lists_every_operation(operations):
    assert set(operations) == OPERATIONS


# negative data needs something to corrupt: only the upload has inputs
CASES = [(name, GenerationMode.POSITIVE) for name in sorted(OPERATIONS)] + [("POST /inpaint", GenerationMode.NEGATIVE)]


@pytest.mark.parametrize(("name", "mode"), CASES, ids=[f"{n}-{m.value}" for n, m in CASES])
def test_no_5xx_and_answers_match_the_schema(operations, name: str, mode: GenerationMode):
    operation = operations[name]
    excluded = [positive_data_acceptance] if name == "POST /inpaint" else []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,  # the same examples every run: a failure here is reproducible
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(excluded_checks=excluded)

    check()
