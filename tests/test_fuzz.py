"""Schemathesis against the app's own OpenAPI schema: whatever a client sends, valid by the
schema (positive) or not (negative), the server never answers 5xx and every answer matches
what /docs promises. Runs in-process on the test generator: no trained model needed.

Schemathesis's ``from_fixture``/``parametrize`` integration reads a private pytest attribute
that pytest 9 no longer has, so each operation's Hypothesis strategy is driven directly.
All default checks run except ``positive_data_acceptance`` for the upload: a schema can say
"binary" but not "bytes that decode as a PNG", so schema-valid random bytes rightly get 415.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from app.main import create_app
from app.settings import Settings

EXAMPLES = 25  # per operation and mode: enough to hit every refusal path, quick on a busy CPU
OPERATIONS = {"GET /", "GET /healthz", "GET /api/models", "POST /inpaint", "POST /inpaint/regions"}
UPLOADS = ("POST /inpaint", "POST /inpaint/regions")


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


# negative data needs something to corrupt: only the uploads have inputs
CASES = [(name, GenerationMode.POSITIVE) for name in sorted(OPERATIONS)] + [
    (name, GenerationMode.NEGATIVE) for name in UPLOADS
]


@pytest.mark.parametrize(("name", "mode"), CASES, ids=[f"{n}-{m.value}" for n, m in CASES])
def test_no_5xx_and_answers_match_the_schema(operations, name: str, mode: GenerationMode):
    operation = operations[name]
    excluded = [positive_data_acceptance] if name in UPLOADS else []

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


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


def test_fuzzing_with_real_images_reaches_the_fill_and_never_fails(operations, tiny_weights: Path):
    """Schema-generated forms with real decodable images and masks (any size from 1 px, masks
    of the same or another size, with or without alpha, any grow) and valid model names, so
    fuzzing exercises the inpainting itself, not only the refusals: never a 5xx, every answer
    as documented, and most of them real fills."""
    operation = operations["POST /inpaint"]
    statuses: list[int] = []
    names = ["", tiny_weights.stem, "telea", "ns"]

    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE), data=st.data())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case, data: st.DataObject) -> None:
        h, w = data.draw(st.integers(1, 40)), data.draw(st.integers(1, 40))
        seed = data.draw(st.integers(0, 2**16))
        rng = np.random.default_rng(seed)
        body = dict(case.body or {})
        body["image"] = _png(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        kind = data.draw(st.sampled_from(["same", "same", "rgba", "other size", "none"]))
        hole = rng.random((h, w)) < data.draw(st.floats(0, 1))
        if kind == "same":
            body["mask"] = _png(hole.astype(np.uint8) * 255)
        elif kind == "rgba":
            body["mask"] = _png(np.dstack([np.zeros((h, w, 3), np.uint8), hole.astype(np.uint8) * 255]))
        elif kind == "other size":
            body["mask"] = _png(np.full((h + 1, w, 1), 255, np.uint8)[..., 0])
        else:
            body.pop("mask", None)
        body["model"] = data.draw(st.sampled_from(names))
        case.body = body
        # the body is ours, not the generator's: its acceptance checks do not apply, the rest do
        response = case.call_and_validate(excluded_checks=[positive_data_acceptance, negative_data_rejection])
        statuses.append(response.status_code)
        if response.status_code == 200 and kind in ("same", "rgba"):
            out = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))
            assert out.shape == (h, w, 3)

    check()
    assert statuses.count(200) >= len(statuses) // 2, statuses
