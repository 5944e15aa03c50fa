"""Ship a trained generator: copy a run's fp16 export into ``model/weights/NAME.pt`` with
the evaluation numbers that ``ce-eval --json`` measured for it embedded in its metadata
(so ``GET /api/models`` and the model card read the same figures).

``python -m model.tools.release --export runs/region/generator.pt --name ce-region --method region
--eval kodak.json heldout.json``
"""

from __future__ import annotations

import argparse
import json
from itertools import groupby
from pathlib import Path

from model.eval.schema import EvaluationReport, ReleasedEvaluation
from model.export import WEIGHTS_DIR, read_export
from model.files import atomic_save, sha256_of


def check_measured(reports: list[EvaluationReport], paths: list[Path], method: str, export: Path) -> None:
    """Refuse numbers measured on other weights: an evaluation that records the SHA-256 of
    ``method``'s file must record this export's (older evaluations recorded only a path)."""
    digest = sha256_of(export)
    for report, path in zip(reports, paths, strict=True):
        measured = report.models[method].sha256 if method in report.models else None
        if measured is not None and measured != digest:
            raise ValueError(f"{path} measured {method!r} on other weights (SHA-256 {measured[:12]}…), not {export}")


def merge_evaluations(reports: list[EvaluationReport]) -> EvaluationReport:
    """One report from several ``ce-eval --json`` runs (e.g. Kodak with 5 crops, the held-out
    photographs with 1): their results side by side, the first run's protocol."""
    return reports[0].model_copy(update={"results": [result for report in reports for result in report.results]})


def embedded_evaluation(eval_paths: list[Path], method: str, export: Path) -> dict:
    """What the export keeps of the evaluations that measured it: ``method``'s rows beside the
    baselines' PSNR and L1 (``model.eval.schema.ReleasedEvaluation``)."""
    reports = [EvaluationReport.model_validate(json.loads(path.read_text())) for path in eval_paths]
    check_measured(reports, eval_paths, method, export)
    return ReleasedEvaluation.of_method(merge_evaluations(reports), method).to_json()


STAGE_SEPARATOR = "; then "  # joins the stages of a chained record: hardware, notes
STEP_KEYS = ("step", "cosine_to_step", "cosine_from_step")  # lr_schedule fields that count steps


def chain_runs(before: dict, run: dict) -> dict:
    """One training record for weights trained by ``before`` and then by a restart from its
    export (``run``, whose own counters start at 0 with a fresh optimiser): the step counters
    and schedule continue ``before``'s, times and images add up, the notes join."""
    offset = int(before.get("steps", 0))
    schedule = [
        {k: v + offset if k in STEP_KEYS and v is not None else v for k, v in entry.items()}
        for entry in run.get("lr_schedule", [])
    ]
    if schedule:
        schedule[0] = {**schedule[0], "optimiser": "fresh"}
    # stages of hardware, in order; a run on the same hardware as the last stage adds none (nor
    # does a repeat an older release recorded)
    stages = [*(before["hardware"].split(STAGE_SEPARATOR) if before.get("hardware") else []), run.get("hardware")]
    hardware = [stage for stage, _ in groupby(stage for stage in stages if stage)]
    notes = [n for n in (before.get("note"), run.get("note")) if n]
    return {
        **run,
        "steps": offset + int(run.get("steps", 0)),
        "images_seen": int(before.get("images_seen", 0)) + int(run.get("images_seen", 0)),
        "train_seconds": round(float(before.get("train_seconds", 0)) + float(run.get("train_seconds", 0)), 1),
        "lr_schedule": [*before.get("lr_schedule", []), *schedule],
        "hardware": STAGE_SEPARATOR.join(hardware),
        "initialised_from": before.get("initialised_from"),
        **({"note": STAGE_SEPARATOR.join(notes)} if notes else {}),
    }


def lineage_totals(training: dict, note: str | None = None) -> dict:
    """A fine-tuned run (``--init-from``) counts only its own steps. Restarts from exports whose
    training records they kept are chained into one record (``chain_runs``); then the run the
    first of them started from is added, so the shipped file says how much training the weights
    really had. ``note`` says in words how this run trained."""
    training = {**training, "note": note} if note else training
    source = training.get("initialised_from")
    while source and "training" in source:
        training = chain_runs(source["training"], training)
        source = training.get("initialised_from")
    if not source:
        return training
    return {
        **training,
        "total_steps": int(training.get("steps", 0)) + int(source.get("steps", 0)),
        "total_images_seen": int(training.get("images_seen", 0)) + int(source.get("images_seen", 0)),
    }


def release(
    export: Path,
    name: str,
    eval_paths: list[Path] | None,
    method: str | None,
    out_dir: Path = WEIGHTS_DIR,
    title: str | None = None,
    good_at: str | None = None,
    note: str | None = None,
) -> Path:
    payload = read_export(export)
    card = dict(payload.get("card", {}))
    card.update({k: v for k, v in (("title", title), ("good_at", good_at)) if v})
    payload["card"] = card
    payload["training"] = lineage_totals(payload.get("training", {}), note)
    if eval_paths:
        payload["evaluation"] = embedded_evaluation(eval_paths, method or name, export)
    out_dir.mkdir(parents=True, exist_ok=True)
    return atomic_save(payload, out_dir / f"{name}.pt")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m model.tools.release", description=__doc__)
    p.add_argument("--export", type=Path, required=True, help="a run's generator.pt")
    p.add_argument("--name", required=True, help="shipped model name (file stem), e.g. ce-region")
    p.add_argument(
        "--eval", type=Path, nargs="+", default=None, help="ce-eval --json output(s) that measured this export"
    )
    p.add_argument("--method", default=None, help="this export's method name in that JSON (default: --name)")
    p.add_argument("--out-dir", type=Path, default=WEIGHTS_DIR)
    p.add_argument("--title", default=None, help="human name shown in the editor, e.g. 'Context Encoder'")
    p.add_argument("--good-at", default=None, help="what holes it fills best, in a few words")
    p.add_argument("--note", default=None, help="how this run trained, in words (joins the record's note)")
    args = p.parse_args(argv)
    print(release(args.export, args.name, args.eval, args.method, args.out_dir, args.title, args.good_at, args.note))


if __name__ == "__main__":
    main()
