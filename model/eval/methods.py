"""Who fills the holes: the generators, the baselines and the reference rows, by name, in the
form each protocol calls (batches of 128 px images, or whole photographs).

A generator fills as ``POST /inpaint`` fills (``model.fillers.GeneratorFiller``: windows
planned per hole), never as the bare network on the crop. The references (``blur1``: the
truth blurred by 1 px) are yardsticks made from the truth, kept apart from the baselines.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from model.baselines import BASELINES, OPENCV_BASELINES, REFERENCES, run_baseline
from model.eval.schema import MethodKind
from model.eval.sets import unique_names
from model.fillers import ClassicalFiller, Filler, GeneratorFiller, RefinedFiller
from model.inference import InpaintModel, load_generator

log = logging.getLogger(__name__)

# a batch of images: (N, S, S, 3) uint8 and (N, S, S) bool holes -> (N, S, S, 3) uint8
Method = Callable[[np.ndarray, np.ndarray], np.ndarray]
# one whole photograph: (H, W, 3) uint8 and (H, W) bool hole -> (H, W, 3) uint8
PhotoMethod = Callable[[np.ndarray, np.ndarray], np.ndarray]


def model_method(filler: GeneratorFiller) -> Method:
    """A generator as ``POST /inpaint`` runs it on a 128 px photo: windows planned per hole
    (each centred on its hole; hairlines by Telea), not the bare network on the crop."""
    return lambda images, holes: np.stack(filler.fill_many(list(images), list(holes)))


def baseline_method(name: str, mean_colour: Sequence[float]) -> Method:
    return lambda images, holes: run_baseline(name, images, holes, mean_colour)


def model_photo_method(filler: Filler) -> PhotoMethod:
    """The server's path: the filler's prepare / run / finish on the whole photo."""
    return filler.fill


def baseline_photo_method(name: str, mean_colour: Sequence[float]) -> PhotoMethod:
    """OpenCV's cv2.inpaint fillers as the server runs them; the others (the mean fill, the
    xphoto fillers, the blurred-truth reference) directly on the whole photo."""
    if name in OPENCV_BASELINES:
        return model_photo_method(ClassicalFiller(name))
    return lambda image, hole: run_baseline(name, image[None], hole[None], mean_colour)[0]


def load_models(
    paths: Sequence[Path], names: Sequence[str] | None, device: torch.device, batch_size: int
) -> dict[str, InpaintModel]:
    """Every generator export by name (``names``, else the file stems made unique); they must
    work at one image size and not take a baseline's or a reference's name."""
    if names is not None and len(names) != len(paths):
        raise ValueError(f"--names gives {len(names)} labels for {len(paths)} --weights")
    names = list(names or unique_names(paths, [p.stem for p in paths]))
    if len(set(names)) != len(names) or set(names) & {*BASELINES, *REFERENCES}:
        raise ValueError(f"model names must be unique and differ from the baselines and references: {names}")
    models = {}
    for name, path in zip(names, paths, strict=True):
        model = load_generator(path, device)
        model.max_batch = batch_size
        models[name] = model
    sizes = {m.size for m in models.values()}
    if len(sizes) > 1:
        raise ValueError(f"the generators work at different image sizes {sorted(sizes)}")
    return models


def choose_baselines(requested: Sequence[str]) -> list[str]:
    """The requested baselines, checked by name."""
    unknown = [b for b in requested if b not in BASELINES]
    if unknown:
        raise ValueError(f"unknown baseline(s) {', '.join(unknown)}; choose from {', '.join(BASELINES)}")
    return list(requested)


def choose_references(requested: Sequence[str]) -> list[str]:
    """The requested reference rows (the truth degraded: yardsticks, not fillers)."""
    unknown = [r for r in requested if r not in REFERENCES]
    if unknown:
        raise ValueError(f"unknown reference(s) {', '.join(unknown)}; choose from {', '.join(REFERENCES)}")
    return list(requested)


@dataclass
class Methods:
    """Every model and baseline by name, in the form each protocol calls: batches of 128 px
    images, or whole photographs."""

    images: dict[str, Method]
    photos: dict[str, PhotoMethod]
    kinds: dict[str, MethodKind]

    @property
    def pictured(self) -> list[str]:
        """The methods the comparison grids show: fills, not the truth-derived references."""
        return [name for name, kind in self.kinds.items() if kind != "reference"]


def build_methods(models: dict[str, InpaintModel], baselines: list[str], references: Sequence[str] = ()) -> Methods:
    """The models first, then the baselines, which use the first model's mean colour, then the
    references (the truth degraded, kept apart from the baselines: no filler could make them)."""
    coarse = {name: m for name, m in models.items() if not m.refines}
    if not coarse:
        raise ValueError("a native-scale refiner needs a generator to refine: give one in --weights too")
    first_name, first = next(iter(coarse.items()))
    # a refiner repaints the first generator's shrunk-window fills at native scale
    fillers = {
        name: GeneratorFiller(name, m) if not m.refines else RefinedFiller(name, first, refiner=m)
        for name, m in models.items()
    }
    others = [*baselines, *references]
    images: dict[str, Method] = {name: model_method(f) for name, f in fillers.items()}
    images |= {b: baseline_method(b, first.meta.mean_colour) for b in others}
    photos: dict[str, PhotoMethod] = {name: model_photo_method(f) for name, f in fillers.items()}
    photos |= {b: baseline_photo_method(b, first.meta.mean_colour) for b in others}
    kinds: dict[str, MethodKind] = {name: "model" for name in models} | {b: "baseline" for b in baselines}
    kinds |= {r: "reference" for r in references}
    if "mean" in baselines and any(m.meta.mean_colour != first.meta.mean_colour for m in coarse.values()):
        log.warning("the generators differ in mean colour; the mean baseline uses that of %s", first_name)
    return Methods(images, photos, kinds)
