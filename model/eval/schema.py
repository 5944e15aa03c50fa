"""The evaluation's records: one schema for the evaluation that writes them, the release that
embeds them in an export and the server that reads them back.

``ce-eval --json`` writes an ``EvaluationReport``: per (image set, hole type) a
``ProtocolResult`` with every method's ``Scores``, plus the run's settings, models and image
sets. ``model.tools.release`` keeps one method's rows of it beside the baselines' PSNR and L1
(``ReleasedEvaluation.of_method``) as an export's ``evaluation`` field; ``GET /api/models``
reads that field back (``ReleasedEvaluation.read``).

Required are what every run records and the readers rely on: a result's image set, hole type,
image count, methods and their kinds, and a settings block, when there is one, in full (a
release accepts hand-made records with only these). Older records lack fields that came later
(``texture``, ``invented``, ``patch_fd``, ``patches``, ``references``, a model's ``sha256``). A record is
written with the fields it was given (``Record.to_json``), so every file in docs/results/ and
every shipped export loads and writes back unchanged. A measured number with nothing to measure
(NaN: patch FD of holes too thin for a patch) is null: JSON has no NaN.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, ValidationError


def finite_or_none(value: Any) -> float | None:
    """A finite number as a float, anything else (NaN, infinity, a bool, text) as None: a
    number that is not one is reported as missing, never as a wrong value."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


Measured = Annotated[float | None, BeforeValidator(finite_or_none)]
MethodKind = Literal["model", "baseline", "reference"]  # a reference is the truth degraded, not a filler


class Record(BaseModel):
    """A record that is written with the fields it was given, in the schema's order."""

    def to_json(self) -> dict[str, Any]:
        """Plain dicts, lists and numbers for ``json.dumps`` or an export."""
        return self.model_dump(exclude_unset=True)


class Scores(Record):
    """One method's means over one (image set, hole type), on the hole pixels only, values in
    [0, 1]; ``patch_fd`` is measured over the whole set, ``seconds`` (per photograph) at full
    resolution only."""

    l1: Measured = None
    l2: Measured = None
    psnr: Measured = None  # dB, the mean of per-image PSNR
    ssim: Measured = None
    sharpness: Measured = None  # mean gradient magnitude in the hole
    texture: Measured = None  # that sharpness over the truth's, per image (1 = as detailed as the photo)
    invented: Measured = None  # detail added where the photo is flattest, in units of its detail (0 = none)
    patch_fd: Measured = None  # Fréchet distance of the fills' hole patches to the truth's (model.realism)
    seconds: Measured = None


class SetAndHoles(Record):
    """Which image set and hole type a result is of, and how many images it counts."""

    set: str
    mask: str
    images: int


class ProtocolResult(SetAndHoles):
    """Every method's scores on one image set with one hole type."""

    hole_fraction: Measured = None  # of the images' pixels
    truth_sharpness: Measured = None  # what a perfect fill's sharpness would be
    methods: dict[str, Scores]
    kinds: dict[str, MethodKind]
    patches: int | None = None  # hole patches behind each method's patch_fd


class RunSettings(Record):
    """What a run measured and how (``ce-eval``'s flags, resolved)."""

    weights: list[str]
    images: list[str]
    crops: int
    masks: list[str]
    freeform_dir: str | None = None
    freeform_masks_used: int | None = None
    freeform_coverage: list[float] | None = None
    shapes: str | None = None
    seed: int
    limit: int | None = None
    baselines: list[str]
    references: list[str] | None = None
    image_size: int
    device: str


class ModelRecord(Record):
    """A generator export a run measured, identified by content (what the release checks) as
    well as by path."""

    path: str | None = None
    sha256: str | None = None
    mask_type: str | None = None
    steps: int | None = None
    parameters: int | None = None
    mean_colour: list[float] | None = None


class ImageSetRecord(Record):
    """An image set: its files, and the images made of them (crops or whole photographs)."""

    name: str
    source: str
    files: int
    images: int


class GridRow(Record):
    set: str
    mask: str
    count: int


class GridRecord(Record):
    """The ``--grid`` picture's layout: its columns, and its rows per (set, mask)."""

    path: str
    columns: list[str]
    rows: list[GridRow]


class EvaluationReport(Record):
    """The ``ce-eval --json`` document."""

    protocol: str | None = None  # the protocol in words
    code_version: str | None = None  # the commit that measured
    settings: RunSettings | None = None
    models: dict[str, ModelRecord] = Field(default_factory=dict)
    sets: list[ImageSetRecord] = Field(default_factory=list)
    results: list[ProtocolResult]
    tables: str | None = None  # every result as a Markdown table
    grid: GridRecord | None = None


class BaselineScores(Record):
    """What an export keeps of a baseline's scores: PSNR and L1 on the same holes."""

    psnr: Measured = None
    l1: Measured = None


# the bases' fields come first, in reverse order: set, mask, images, then the scores
class ReleasedResult(Scores, SetAndHoles):
    """One method's scores on one (image set, hole type) as an export keeps them, beside the
    baselines'."""

    truth_sharpness: Measured = None
    baselines: dict[str, BaselineScores] = Field(default_factory=dict)


class ReleasedEvaluation(Record):
    """An export's ``evaluation``: how the shipped weights measured, per (image set, hole type)."""

    protocol: str | None = None
    code_version: str | None = None
    results: list[ReleasedResult] = Field(default_factory=list)

    @classmethod
    def of_method(cls, report: EvaluationReport, method: str) -> ReleasedEvaluation:
        """``method``'s rows of ``report``, each beside the baselines' PSNR and L1."""
        results = []
        for result in report.results:
            if method not in result.methods:
                raise KeyError(f"method {method!r} not in the evaluation (has {', '.join(result.methods)})")
            baselines = {
                name: BaselineScores(psnr=scores.psnr, l1=scores.l1)
                for name, scores in result.methods.items()
                if result.kinds[name] == "baseline"
            }
            results.append(
                ReleasedResult(
                    set=result.set,
                    mask=result.mask,
                    images=result.images,
                    **result.methods[method].to_json(),
                    truth_sharpness=result.truth_sharpness,
                    baselines=baselines,
                )
            )
        return cls(protocol=report.protocol, code_version=report.code_version, results=results)

    @classmethod
    def read(cls, record: Any) -> ReleasedEvaluation:
        """An export's record as a server reads it: the rows that fit the schema, the others
        left out, so one malformed row in a file cannot stop the server from starting."""
        record = record if isinstance(record, dict) else {}
        rows = record.get("results")
        results = []
        for row in rows if isinstance(rows, list) else []:
            try:
                results.append(ReleasedResult.model_validate(row))
            except ValidationError:
                continue
        text = {key: value for key in ("protocol", "code_version") if isinstance(value := record.get(key), str)}
        return cls(**text, results=results)
