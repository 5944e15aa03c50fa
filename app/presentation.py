"""How a served model is presented to clients (``GET /api/models``, the editor page): a
``ModelInfo`` built from a generator export's card, training and evaluation records, or from a
classical filler's description. Only structured fields reach clients: the records' free text
(notes, hardware, paths) stays in the file.
"""

from __future__ import annotations

import math
import re
from typing import Any

import torch

from app.schemas import Measurement, ModelInfo, TrainingSummary
from model.eval.schema import ReleasedEvaluation
from model.fillers import ClassicalFiller, GeneratorFiller

SETTING = re.compile(r"[a-z0-9_.-]{1,24}")  # a setting's value (l2, bf16, kodak24), never a sentence
MEASURED = ("psnr", "l1", "l2", "ssim", "sharpness", "truth_sharpness")


def number(value: Any) -> float | None:
    """A finite number from export metadata (a one-element tensor too), else None."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def count(value: Any) -> int | None:
    found = number(value)
    return None if found is None else int(found)


def setting(value: Any) -> str | None:
    """A short setting's value (``l2``, ``bf16``); anything longer or freer (a note) is left out."""
    return value if isinstance(value, str) and SETTING.fullmatch(value) else None


def training_summary(training: Any) -> TrainingSummary:
    """The numbers and settings of an export's training record, for ``GET /api/models``. The
    record's free text (notes, hardware, paths) stays in the file: clients get structured fields."""
    record = training if isinstance(training, dict) else {}
    shares = record.get("mixed_shares")
    shares = {str(k): n for k, v in shares.items() if (n := number(v)) is not None} if isinstance(shares, dict) else {}
    adversarial = number(record.get("lambda_adv"))
    ema = number(record.get("ema"))
    return TrainingSummary(
        steps=count(record.get("total_steps", record.get("steps"))),
        images_seen=count(record.get("total_images_seen", record.get("images_seen"))),
        batch_size=count(record.get("batch_size")),
        train_images=count(record.get("train_images")),
        input=setting(record.get("input")),
        # exports from before --rec-norm were all trained with the paper's squared error
        reconstruction=setting(record.get("rec_norm", "l2" if "lambda_rec" in record else None)),
        reconstruction_weight=number(record.get("lambda_rec")),
        adversarial_weight=adversarial,
        feature_matching_weight=number(record.get("lambda_fm")),
        discriminator=setting(record.get("d_arch", "global")) if adversarial else None,
        hole_shares=shares or None,
        ema=ema or None,  # 0: the last step's weights
        precision=setting(record.get("precision")),
    )


def measurements(evaluation: Any) -> list[Measurement]:
    """The numbers an export's evaluation record holds, per (image set, hole type)."""
    rows = []
    for result in ReleasedEvaluation.read(evaluation).results:
        if not (setting(result.set) and setting(result.mask)):
            continue
        rows.append(
            Measurement(
                set=result.set,
                mask=result.mask,
                images=result.images,
                **{key: getattr(result, key) for key in MEASURED},
                baselines={
                    name: {"psnr": scores.psnr, "l1": scores.l1}
                    for name, scores in result.baselines.items()
                    if setting(name)
                },
            )
        )
    return rows


def headline(evaluation: dict[str, Any]) -> list[dict[str, Any]]:
    """The measured hole PSNR per (image set, hole type) beside the better classical filler's,
    in the order the evaluation recorded them: what a user choosing a model wants to read."""
    rows = []
    for result in ReleasedEvaluation.read(evaluation).results:
        if result.psnr is None:
            continue
        classical = [result.baselines[name].psnr for name in ("telea", "ns") if name in result.baselines]
        classical_psnr = [psnr for psnr in classical if psnr is not None]
        rows.append(
            {
                "set": result.set,
                "mask": result.mask,
                "psnr": round(result.psnr, 2),
                "best_classical_psnr": round(max(classical_psnr), 2) if classical_psnr else None,
            }
        )
    return rows


# what an export without its own card (released before cards existed) is shown as
CARD_BY_MASK_TYPE = {
    "center": ("Context Encoder, central hole (paper)", "a square hole in the middle of the view, as in the paper"),
    "mixed": ("Context Encoder", "objects, blobs and strokes"),
}


def generator_info(filler: GeneratorFiller, default: bool) -> ModelInfo:
    model = filler.export  # a refined filler: its refiner's export
    meta = model.meta
    card = meta.card
    title, good_at = CARD_BY_MASK_TYPE.get(
        meta.mask_type, (f"Context Encoder ({filler.name})", f"{meta.mask_type} holes")
    )
    return ModelInfo(
        name=filler.name,
        title=card.get("title") or title,
        good_at=card.get("good_at") or good_at,
        headline=headline(meta.evaluation),
        kind=filler.kind,
        default=default,
        description=(
            f"Context Encoder generator ({filler.model.path.name}) whose fills of big holes are painted "
            f"again at the photo's own scale by a refiner ({model.path.name})."
            if model is not filler.model
            else f"Context Encoder generator trained on {meta.mask_type} holes ({model.path.name})."
        ),
        mask_type=meta.mask_type,
        input_size=model.size,
        parameters=model.parameters,
        file=model.path.name,
        training=training_summary(meta.training),
        evaluation=measurements(meta.evaluation),
    )


def classical_info(filler: ClassicalFiller) -> ModelInfo:
    return ModelInfo(
        name=filler.name,
        title=filler.title,
        good_at=filler.good_at,
        kind=filler.kind,
        default=False,
        description=filler.description,
    )
