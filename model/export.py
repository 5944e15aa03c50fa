"""Compact generator-only exports: an fp16 state dict plus everything needed to use it.

The file is a plain dict of tensors, strings, numbers and lists, so it loads with
``torch.load(path, weights_only=True)`` and never executes pickled code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from model.files import atomic_save
from model.networks import Generator, GeneratorConfig

EXPORT_FORMAT = "context-encoder-generator/1"
# the shipped exports (package data): where ce-inpaint and model.tools.release look by default
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DEFAULT_WEIGHTS = WEIGHTS_DIR / "ce-region.pt"  # the default generator: server, ce-inpaint, benchmarks


class WeightsError(ValueError):
    """A weights file is missing, unreadable or not a Context Encoder generator export."""


@dataclass
class GeneratorMeta:
    """What a generator was trained for and how it was measured."""

    mask_type: str
    mean_colour: list[float]
    training: dict[str, Any] = field(default_factory=dict)
    evaluation: dict[str, Any] = field(default_factory=dict)
    card: dict[str, Any] = field(default_factory=dict)  # title and good_at, set by model.tools.release


def export_generator(generator: Generator, meta: GeneratorMeta, path: str | Path) -> Path:
    """Write the fp16 export atomically (a crash never leaves a half-written file)."""
    path = Path(path)
    state = {
        k: (v.detach().to("cpu", torch.float16) if v.is_floating_point() else v.detach().cpu())
        for k, v in generator.state_dict().items()
    }
    payload = {
        "format": EXPORT_FORMAT,
        "config": generator.config.to_dict(),
        "mask_type": meta.mask_type,
        "mean_colour": [float(c) for c in meta.mean_colour],
        "training": meta.training,
        "evaluation": meta.evaluation,
        "card": meta.card,
        "state_dict": state,
    }
    return atomic_save(payload, path)


def read_export(path: str | Path) -> dict[str, Any]:
    """Load and validate an export with ``weights_only=True``; clear errors name the path."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"generator weights not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt files
        raise WeightsError(f"cannot read generator weights {path}: {exc}") from exc
    return check_export(payload, path)


def check_export(payload: object, path: str | Path) -> dict[str, Any]:
    """``payload`` (already loaded from ``path``) if it is a generator export, else WeightsError."""
    if not isinstance(payload, dict) or payload.get("format") != EXPORT_FORMAT:
        raise WeightsError(f"{path} is not a Context Encoder generator export ({EXPORT_FORMAT})")
    return payload


def float32_state_dict(payload: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The export's fp16 weights as float32 tensors (what training and inference run in)."""
    return {k: v.float() if v.is_floating_point() else v for k, v in payload["state_dict"].items()}


def build_generator(payload: dict[str, Any]) -> tuple[Generator, GeneratorMeta]:
    """Rebuild the float32 generator (eval mode) and its metadata from a loaded export."""
    generator = Generator(GeneratorConfig.from_dict(payload["config"]))
    try:
        generator.load_state_dict(float32_state_dict(payload))
    except RuntimeError as exc:
        raise WeightsError(f"weights do not match the recorded generator config: {exc}") from exc
    generator.eval()
    meta = GeneratorMeta(
        mask_type=str(payload["mask_type"]),
        mean_colour=[float(c) for c in payload["mean_colour"]],
        training=dict(payload.get("training", {})),
        evaluation=dict(payload.get("evaluation", {})),
        card=dict(payload.get("card", {})),
    )
    return generator, meta
