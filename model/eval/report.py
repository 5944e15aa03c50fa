"""The ``--json`` document of an evaluation run (``model.eval.schema.EvaluationReport``): the
protocol in words, the code version, the settings, the models measured (identified by SHA-256),
the image sets, every result and its table."""

from __future__ import annotations

import subprocess
from pathlib import Path

from model.eval.schema import EvaluationReport, GridRecord, ImageSetRecord, ModelRecord, RunSettings
from model.eval.scores import Evaluation
from model.eval.tables import markdown_table
from model.files import sha256_of
from model.inference import InpaintModel

PROTOCOL = (
    "generators through the server's inference path (windows centred on each hole); "
    "composited fill, metrics on hole pixels only (no overlap band); values in [0, 1]; "
    "psnr = mean of per-image PSNR; ssim = mean SSIM map over the hole; sharpness = mean gradient "
    "magnitude in the hole; texture = sharpness over the truth's, per image (1 = as detailed as the photo); "
    "invented = the fill's gradient magnitude less the truth's over the flattest quarter of the hole, "
    "over the truth's mean in the hole (0 = no detail invented where the photo is flat); "
    "patch_fd = Frechet distance of hand-made 16 px hole-patch features, fills vs truth, over the set "
    "(model.realism); blur1 = the truth blurred by 1 px, a reference, not a filler"
)


def code_version() -> str | None:
    """The checkout's commit, so a result file says which code produced it."""
    try:
        res = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() or None


def model_record(model: InpaintModel) -> ModelRecord:
    """A generator measured: its file, by path and by content, and what it was trained for."""
    return ModelRecord(
        path=str(model.path),
        sha256=sha256_of(model.path),
        mask_type=model.meta.mask_type,
        steps=model.meta.training.get("steps"),
        parameters=model.parameters,
        mean_colour=model.meta.mean_colour,
    )


def document(
    settings: RunSettings,
    models: dict[str, InpaintModel],
    sets: list[ImageSetRecord],
    evaluations: list[Evaluation],
    grid: GridRecord | None = None,
) -> EvaluationReport:
    """The ``--json`` document: settings, models, image sets, results and tables (and the
    ``--grid`` picture's layout when one was written)."""
    report = EvaluationReport(
        protocol=PROTOCOL,
        code_version=code_version(),
        settings=settings,
        models={name: model_record(m) for name, m in models.items()},
        sets=sets,
        results=[ev.result for ev in evaluations],
        tables="\n\n".join(markdown_table(ev.result) for ev in evaluations),
    )
    if grid is not None:
        report.grid = grid
    return report
