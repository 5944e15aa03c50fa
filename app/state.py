"""What the routes share once the models are loaded: the ``ServerState`` created in the lifespan
(``app.loading``) and stored on ``app.state.server``."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from app.admission import Admission
from app.compute import ComputeThread
from app.errors import ApiError
from app.scheduling import CpuSteps, ServedModel
from app.schemas import ModelInfo
from app.settings import Settings


@dataclass
class ServerState:
    """The loaded models, where their work runs and who is admitted."""

    settings: Settings
    device: torch.device
    models: dict[str, ServedModel]
    default: str
    compute: ComputeThread  # every generator's torch work (see app.compute)
    steps: CpuSteps  # the requests' CPU-heavy steps
    admission: Admission
    skipped: list[str] = field(default_factory=list)  # exports that did not load, with why

    def resolve(self, name: str | None) -> ServedModel:
        """The model a request asked for (blank = default); unknown names -> 422 listing valid ones."""
        if name is None or not name.strip():
            return self.models[self.default]
        model = self.models.get(name.strip())
        if model is None:
            valid = ", ".join(self.models)
            shown = name if len(name) <= 64 else name[:61] + "..."  # never echo a megabyte back
            raise ApiError(422, f"unknown model {shown!r}; valid names: {valid}")
        return model

    def model_infos(self) -> list[ModelInfo]:
        return [model.info for model in self.models.values()]

    def close(self) -> None:
        for model in self.models.values():
            model.close()
        self.steps.close()
        self.compute.close()
