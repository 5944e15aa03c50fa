"""One interface for everything that fills holes: the trained generators and OpenCV's
classical algorithms alike.

A fill runs in three phases so that a server can batch the expensive middle one across
concurrent requests:

- ``prepare``: per image, on the CPU: check the mask and cut what the filler needs (the
  generator's context windows; nothing for a classical filler);
- ``run``: one call for the prepared work of one or several images (one generator batch); its
  torch work goes through a ``Runner``, which by default runs it in place and which the server
  replaces to run it in its one compute thread, so the caller never needs to know the filler's kind;
- ``finish``: per image: composite the result; only hole pixels differ from the input.

``holes`` says how many separate holes a prepared image has, from the labelling its
preparation already did where it did one.

The server (through its micro-batcher), the command-line tool, the evaluation and the
benchmarks all fill through this interface, so they measure and serve the same code path.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Generic, Literal, TypeVar

import numpy as np
import torch

from model import inference
from model.baselines import INPAINT_RADIUS, OPENCV_BASELINES, opencv_fill
from model.export import WeightsError
from model.holes import count_holes
from model.inference import InpaintJob, InpaintModel, PlanningError, load_generator
from model.refine import refine

Work = TypeVar("Work")
T = TypeVar("T")
Kind = Literal["context-encoder", "classical"]


class Runner:
    """Where a filler's torch work runs, piece by piece: here, in the calling thread, in the
    model's own chunks. The server passes runners that hand each piece to its one compute
    thread (``app.scheduling``); a ``piece`` caps the windows of one forward pass."""

    piece: int | None = None  # most generator windows per call (None: the model's chunk), read before each call

    def __call__(self, work: Callable[[], T]) -> T:
        return work()


IN_PLACE = Runner()


class Filler(ABC, Generic[Work]):
    """Fills the holes (True = fill) of (H, W, 3) uint8 RGB images; pixels outside stay exact."""

    name: str
    kind: ClassVar[Kind]
    max_batch: int  # units of ``cost`` one ``run`` call should take at most

    @abstractmethod
    def prepare(self, image: np.ndarray, hole: np.ndarray) -> Work:
        """Check and cut one image; raises ``PlanningError`` for a mask it cannot fill."""

    @abstractmethod
    def run(self, works: list[Work], runner: Runner = IN_PLACE) -> list[Any]:
        """The expensive step for several prepared images at once (one output per work); any
        torch work in it goes through ``runner``."""

    @abstractmethod
    def finish(self, work: Work, output: Any) -> np.ndarray:
        """The filled (H, W, 3) uint8 image."""

    @abstractmethod
    def holes(self, work: Work) -> int:
        """Separate (8-connected) holes the work fills, as a person counts them."""

    def cost(self, work: Work) -> int:
        """How much of a ``run`` batch this work takes (windows for a generator)."""
        return 1

    def fill_many(self, images: list[np.ndarray], holes: list[np.ndarray]) -> list[np.ndarray]:
        """All three phases for several images, their work run as one batch."""
        works = [self.prepare(image, hole) for image, hole in zip(images, holes, strict=True)]
        return [self.finish(work, out) for work, out in zip(works, self.run(works), strict=True)]

    def fill(self, image: np.ndarray, hole: np.ndarray) -> np.ndarray:
        return self.fill_many([image], [hole])[0]


@dataclass
class GeneratorFiller(Filler[InpaintJob]):
    """A Context Encoder export: windows planned by hole thickness, filled in one batch."""

    name: str
    model: InpaintModel
    max_holes: int | None = None  # separate holes (after merging close ones) one image may have
    kind: ClassVar[Kind] = "context-encoder"

    @property
    def max_batch(self) -> int:
        return self.model.max_batch

    def prepare(self, image: np.ndarray, hole: np.ndarray) -> InpaintJob:
        return inference.prepare(image, hole, self.model.size, self.max_holes)

    @property
    def export(self) -> InpaintModel:
        """The export that describes this filler (its card, training and measurements)."""
        return self.model

    def cost(self, work: InpaintJob) -> int:
        return len(work.inputs)

    def holes(self, work: InpaintJob) -> int:
        return work.separate_holes

    def run(self, works: list[InpaintJob], runner: Runner = IN_PLACE) -> list[np.ndarray]:
        """One generator batch for several images, each forward pass handed to ``runner``."""
        if not works:
            return []
        windows, holes = np.concatenate([w.inputs for w in works]), np.concatenate([w.holes for w in works])
        outputs = fill_through(self.model, windows, holes, runner)
        return np.split(outputs, np.cumsum([len(w.inputs) for w in works])[:-1])

    def finish(self, work: InpaintJob, output: np.ndarray) -> np.ndarray:
        return inference.finish(work, output)


def fill_through(model: InpaintModel, windows: np.ndarray, holes: np.ndarray, runner: Runner) -> np.ndarray:
    """``model.fill`` with each forward pass handed to ``runner``, in pieces of the size it asks
    for before each call."""
    pieces, start = [windows[:0, ..., :3]], 0  # a refiner's windows carry a fourth channel
    while start < len(windows):
        end = start + model.chunk_size(runner.piece)
        pieces.append(runner(partial(model.fill_chunk, windows[start:end], holes[start:end])))
        start = end
    return np.concatenate(pieces)


@dataclass
class FirstPass:
    """A refined filler's output from ``run``: the coarse windows' outputs, and the runner the
    second pass's forward passes go through (the lane's own: the server's compute thread)."""

    outputs: np.ndarray
    runner: Runner


@dataclass
class RefinedFiller(GeneratorFiller):
    """A generator whose fills from windows shrunk by more than 1.5x are painted again at the
    photo's own scale by a native-scale refiner (``model.refine``). ``run`` does only the first
    pass's forward passes, batched like any generator's, so a server's batcher thread is free
    again at once; ``finish`` blends them, plans the second pass and runs its forward passes
    through the same runner, then blends those: in the caller's thread, per image."""

    refiner: InpaintModel = field(kw_only=True)

    @property
    def export(self) -> InpaintModel:
        return self.refiner

    def run(self, works: list[InpaintJob], runner: Runner = IN_PLACE) -> list[FirstPass]:
        return [FirstPass(out, runner) for out in super().run(works, runner)]

    def finish(self, work: InpaintJob, output: FirstPass) -> np.ndarray:
        fill = partial(fill_through, self.refiner, runner=output.runner)
        return refine(work, inference.finish(work, output.outputs), self.refiner, fill)


CLASSICAL_TITLES = {"telea": "OpenCV Telea", "ns": "OpenCV Navier-Stokes"}
CLASSICAL_GOOD_AT = {
    "telea": "thin strokes and small specks on smooth backgrounds; fast",
    "ns": "thin strokes along edges; smooth continuation of lines into the hole",
}
CLASSICAL_METHODS = {"telea": "Telea fast marching method", "ns": "Navier-Stokes fluid-dynamics method"}


@dataclass
class ClassicalFiller(Filler[tuple[np.ndarray, np.ndarray]]):
    """OpenCV's ``cv2.inpaint`` (``telea`` or ``ns``): whole image, no learning, no batching."""

    name: str
    radius: int = INPAINT_RADIUS
    max_batch: int = 1
    kind: ClassVar[Kind] = "classical"

    def __post_init__(self) -> None:
        if self.name not in OPENCV_BASELINES:
            raise ValueError(f"unknown classical filler {self.name!r}; choose from {', '.join(OPENCV_BASELINES)}")

    @property
    def title(self) -> str:
        return CLASSICAL_TITLES[self.name]

    @property
    def good_at(self) -> str:
        return CLASSICAL_GOOD_AT[self.name]

    @property
    def description(self) -> str:
        return f"OpenCV cv2.inpaint, {CLASSICAL_METHODS[self.name]} (radius {self.radius}): no learning."

    def prepare(self, image: np.ndarray, hole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if hole.shape != image.shape[:2]:
            raise PlanningError(f"mask is {hole.shape[1]}x{hole.shape[0]}, image is {image.shape[1]}x{image.shape[0]}")
        return image, hole

    def holes(self, work: tuple[np.ndarray, np.ndarray]) -> int:
        return count_holes(work[1])

    def run(self, works: list[tuple[np.ndarray, np.ndarray]], runner: Runner = IN_PLACE) -> list[np.ndarray]:
        """``cv2.inpaint`` per image in the calling thread: no torch work for ``runner``."""
        return [opencv_fill(image[None], hole[None], self.name, self.radius)[0] for image, hole in works]

    def finish(self, work: tuple[np.ndarray, np.ndarray], output: np.ndarray) -> np.ndarray:
        return output


def classical_fillers() -> list[ClassicalFiller]:
    """The classical fillers offered beside the generators."""
    return [ClassicalFiller(name) for name in OPENCV_BASELINES]


def load_filler(
    weights: str | Path,
    device: str | torch.device = "cpu",
    *,
    name: str | None = None,
    max_batch: int = 16,
    max_holes: int | None = None,
) -> GeneratorFiller:
    """A generator export loaded once as a filler (named after its file unless ``name``). A
    native-scale refiner (``ce-train --input coarse``) comes with the generator it refines,
    the file of that name beside it: the two passes make one filler."""
    model = load_generator(weights, device, max_batch=max_batch)
    name = name or Path(weights).stem
    if not model.refines:
        return GeneratorFiller(name, model, max_holes)
    coarse_path = Path(weights).parent / Path(str(model.meta.training.get("coarse"))).name
    coarse = load_generator(coarse_path, device, max_batch=max_batch)
    if coarse.refines or coarse.size != model.size:
        raise WeightsError(f"{coarse_path} is not a {model.size} px generator that {Path(weights).name} can refine")
    return RefinedFiller(name, coarse, max_holes, refiner=model)
