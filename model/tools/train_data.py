"""What a training run reads: the photographs (split, cached, on the device), the pool of holes
it draws from, the fixed validation images and holes, and the generator's input for a batch."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from model.baselines import telea_prefill
from model.data import (
    DEFAULT_MIN_CROP,
    augment,
    cached_images,
    center_view,
    list_images,
    mean_colour,
    split_files,
    to_unit_range,
)
from model.hole_samplers import CONSTANT_KINDS, ShapeBank, center_mask, mask_batch, mask_fn, silhouettes_for
from model.inference import load_generator
from model.networks import GeneratorConfig, generator_input
from model.tools import distributed
from model.tools.refine_data import cached_refinement_examples
from model.tools.train_config import TrainConfig

log = logging.getLogger(__name__)

VALIDATION_KINDS = ("center", "mixed")  # always validated: the paper's square, what inference windows hold
VALIDATION_CHUNK = 64  # validation images per generator call


class MaskPool:
    """Masks drawn once from the seeded sampler and reused with the 8 flips/rotations of the
    square, so hole generation never bounds a fast GPU. ``center`` and ``none`` are constant."""

    def __init__(
        self,
        kind: str,
        size: int,
        count: int,
        seed: int,
        shapes: ShapeBank | None,
        device: torch.device,
        shares: dict[str, float] | None = None,
    ):
        rng = np.random.default_rng(seed)
        fn = mask_fn(kind, size, shapes, shares)
        n = 1 if kind in CONSTANT_KINDS else count
        self.kind = kind
        self.masks = torch.from_numpy(mask_batch(fn, rng, n)).to(device)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """(n, 1, S, S) float masks, 1 = hole."""
        dev = self.masks.device
        idx = torch.randint(len(self.masks), (n,), generator=generator, device=generator.device).to(dev)
        masks = self.masks[idx]
        if len(self.masks) > 1:
            k = int(torch.randint(4, (1,), generator=generator, device=generator.device))
            masks = torch.rot90(masks, k, dims=(1, 2))
            if bool(torch.randint(2, (1,), generator=generator, device=generator.device)):
                masks = masks.flip(2)
        return masks.unsqueeze(1).float()


@dataclass
class TrainingData:
    """The training pixels, the mask pool and the fixed validation set, all on the run's device."""

    pixels: torch.Tensor  # (N, S, S, 3) uint8 training photographs (a refiner's: native tiles)
    skipped: int  # unreadable training files
    mean: list[float]  # the dataset's mean colour in [0, 1]: the paper's hole fill, recorded in the export
    masks: MaskPool | None  # drawn holes; None for a refiner, whose holes come with its tiles
    val_images: torch.Tensor  # (V, 3, S, S) in [-1, 1]
    val_holes: dict[str, torch.Tensor] = field(default_factory=dict)  # hole kind -> (V, 1, S, S)
    val_inputs: dict[str, torch.Tensor] = field(default_factory=dict)  # the generator's input for each
    sample_kind: str = "mixed"  # the validation holes the sample grids show
    # a refiner's (--input coarse): each tile's hole to repaint and the coarse fill it starts from
    holes: torch.Tensor | None = None  # (N, S, S) bool
    prefills: torch.Tensor | None = None  # (N, S, S, 7) uint8: coarse fill, detail hint, mirror fill
    mean_input: torch.Tensor = field(init=False)  # ``mean`` in the network's [-1, 1] range

    def __post_init__(self) -> None:
        self.mean_input = torch.tensor(self.mean, device=self.pixels.device) * 2 - 1

    @property
    def n_train(self) -> int:
        return len(self.pixels)


def training_files(data: Path, exclude: Path | None) -> list[Path]:
    """Every photograph under ``data`` minus those listed in ``exclude``: one path per line,
    absolute or relative to ``data`` (docs/heldout-transfer.txt)."""
    files = list_images(data)
    if exclude is None:
        return files
    lines = [line.strip() for line in exclude.read_text().splitlines() if line.strip()]
    excluded = {str((data / line).resolve()) for line in lines}
    return [f for f in files if str(f.resolve()) not in excluded]


def training_split(files: list[Path], val_count: int, seed: int) -> tuple[list[Path], list[Path]]:
    """A run's seeded (train, validation) files: ``--val-count`` held out, at most a fifth."""
    return split_files(files, min(val_count, len(files) // 5), seed)


def load_data(config: TrainConfig, rt: distributed.Runtime, g_config: GeneratorConfig) -> TrainingData:
    """Split, decode (once, into the cache) and move to the device; draw the holes."""
    files = training_files(config.data, config.exclude)
    train_files, val_files = training_split(files, config.val_count, config.split_seed)
    if rt.is_main:
        (config.out / "val_files.txt").write_text("".join(f"{f}\n" for f in val_files))
    cache_dir = config.cache or (config.out.parent / ".cache")
    if config.input == "coarse":
        return load_refinement_data(config, rt, g_config, train_files, val_files, cache_dir)
    # rank 0 decodes first; the others then read its cache instead of decoding again
    if not rt.is_main:
        distributed.barrier(rt)
    train = cached_images(train_files, cache_dir)
    val = cached_images(val_files, cache_dir) if val_files else train
    if rt.is_main:
        distributed.barrier(rt)
        if train.skipped:
            log.warning("skipped %d unreadable training images", len(train.skipped))
    # the validation's mixed holes draw silhouettes too: loaded for every run given --masks, so
    # val_mixed is the same set of holes whatever the run trains on (a center run measured blobs)
    shapes = silhouettes_for([config.mask, *VALIDATION_KINDS], config.masks, config.seed)
    data = TrainingData(
        # a writable in-memory copy: the cache is a read-only memmap
        pixels=torch.from_numpy(np.array(train.pixels)).to(rt.device),
        skipped=len(train.skipped),
        mean=mean_colour(train.pixels, seed=config.seed),
        masks=MaskPool(config.mask, config.image_size, config.mask_pool, config.seed, shapes, rt.device, config.mix),
        val_images=center_view(
            to_unit_range(torch.from_numpy(np.array(val.pixels[:256])).to(rt.device)), config.image_size
        ),
    )
    data.val_holes = validation_holes(
        config.mask, len(data.val_images), config.image_size, config.seed, shapes, rt.device
    )
    data.val_inputs = {
        kind: generator_inputs(data.val_images, hole, g_config, data.mean_input)
        for kind, hole in data.val_holes.items()
    }
    data.sample_kind = "center" if config.mask in CONSTANT_KINDS else "mixed"
    return data


REFINE_KIND = "native"  # a refiner's validation holes: its held-out photographs' tiles


def load_refinement_data(
    config: TrainConfig,
    rt: distributed.Runtime,
    g_config: GeneratorConfig,
    train_files: list[Path],
    val_files: list[Path],
    cache_dir: Path,
) -> TrainingData:
    """A refiner's tiles (``model.tools.refine_data``): the training photographs' and, for
    validation, the held-out ones', each with its hole and the coarse fill it starts from."""
    coarse = load_generator(config.coarse, rt.device)
    shapes = silhouettes_for(["region"], config.masks, config.seed)
    train = cached_refinement_examples(train_files, coarse, shapes, config.seed, cache_dir)
    val = cached_refinement_examples(val_files, coarse, shapes, config.seed + 1, cache_dir) if val_files else train
    if not len(train):
        raise ValueError(f"no hole in {config.data} was filled in a shrunk window: nothing to refine")
    device = rt.device
    # 256 tiles spread over the held-out photographs (they come photograph by photograph)
    pick = np.sort(np.random.default_rng(config.seed).permutation(len(val))[:256])
    val_images = to_unit_range(torch.from_numpy(val.truth[pick]).to(device))
    val_hole = torch.from_numpy(val.hole[pick]).to(device).unsqueeze(1).float()
    val_prefill = to_unit_range(torch.from_numpy(val.coarse[pick]).to(device))
    return TrainingData(
        pixels=torch.from_numpy(train.truth).to(device),
        skipped=0,
        mean=mean_colour(train.truth, seed=config.seed),
        masks=None,
        val_images=val_images,
        val_holes={REFINE_KIND: val_hole},
        val_inputs={
            REFINE_KIND: generator_input(val_images, val_hole, g_config, torch.zeros(3, device=device), val_prefill)
        },
        sample_kind=REFINE_KIND,
        holes=torch.from_numpy(train.hole).to(device),
        prefills=torch.from_numpy(train.coarse).to(device),
    )


def validation_holes(
    kind: str, n: int, size: int, seed: int, shapes: ShapeBank | None, device: torch.device
) -> dict[str, torch.Tensor]:
    """Fixed (n, 1, size, size) holes per validated kind: ``VALIDATION_KINDS`` and the trained
    kind when it is another drawn one."""
    rng = np.random.default_rng(seed + 12345)
    holes = {
        "center": np.stack([center_mask(None, size)] * n),
        "mixed": mask_batch(mask_fn("mixed", size, shapes), rng, n),
    }
    if kind not in VALIDATION_KINDS and kind not in CONSTANT_KINDS:
        holes[kind] = mask_batch(mask_fn(kind, size, shapes), rng, n)
    return {name: torch.from_numpy(h).unsqueeze(1).float().to(device) for name, h in holes.items()}


SMOOTH_RAMP = 0.6  # steepest synthetic ramp: 0.6 of the [-1, 1] range (~75 levels) across the image
SMOOTH_NOISE = 0.02  # most sensor-like noise on a synthetic smooth image (~2.5 levels)


def smooth_images(n: int, size: int, gen: torch.Generator) -> torch.Tensor:
    """``n`` synthetic (n, 3, size, size) photographs of nothing: half a flat colour, half a linear
    ramp in a random direction, each with faint noise. A hole in them has one right fill, the
    continuation of the plane; they teach a generator (and its discriminator) that flat context
    is filled flat, not with texture it invented."""
    base = torch.rand(n, 3, 1, 1, generator=gen) * 1.6 - 0.8
    angle = torch.rand(n, 1, 1, 1, generator=gen) * 2 * torch.pi
    slope = torch.rand(n, 1, 1, 1, generator=gen) * SMOOTH_RAMP * (torch.rand(n, 1, 1, 1, generator=gen) < 0.5)
    per_channel = torch.rand(n, 3, 1, 1, generator=gen) + 0.5
    axis = torch.linspace(-0.5, 0.5, size)
    ramp = axis.view(1, 1, 1, size) * angle.cos() + axis.view(1, 1, size, 1) * angle.sin()
    noise = torch.randn(n, 3, size, size, generator=gen) * torch.rand(n, 1, 1, 1, generator=gen) * SMOOTH_NOISE
    return (base + slope * per_channel * ramp + noise).clamp(-1, 1)


def sample_batch(
    data: TrainingData,
    batch_size: int,
    image_size: int,
    gen: torch.Generator,
    min_crop: float = DEFAULT_MIN_CROP,
    smooth_share: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """A random augmented batch (B, 3, S, S) in [-1, 1], its holes (B, 1, S, S) and, for a
    refiner, the coarse fills it starts from (else None: Telea's, made by ``generator_inputs``).
    The crops' side is ``min_crop``-1 of the cached photo's; each image is a synthetic smooth
    one (``smooth_images``) with probability ``smooth_share``."""
    idx = torch.randint(data.n_train, (batch_size,), generator=gen).to(data.pixels.device)
    if data.prefills is not None:
        return refinement_batch(data, idx, gen)
    images = augment(to_unit_range(data.pixels[idx]), image_size, gen, min_scale=min_crop)
    if smooth_share > 0:
        chosen = (torch.rand(batch_size, generator=gen) < smooth_share).nonzero().flatten()
        if len(chosen):
            smooth = smooth_images(len(chosen), image_size, gen).to(images.device, images.dtype)
            images[chosen.to(images.device)] = smooth
    hole = data.masks.sample(batch_size, gen)
    return images.contiguous(memory_format=torch.channels_last), hole, None


def refinement_batch(
    data: TrainingData, idx: torch.Tensor, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The refiner's tiles ``idx``: truth, hole and coarse fill, flipped and turned alike (the
    tiles are native pixels: no rescaling, which would soften the detail it must learn)."""
    stacked = torch.cat(
        [to_unit_range(data.pixels[idx]), data.holes[idx].unsqueeze(1).float(), to_unit_range(data.prefills[idx])],
        dim=1,
    )
    turns = int(torch.randint(4, (1,), generator=gen))
    stacked = torch.rot90(stacked, turns, dims=(2, 3))
    if bool(torch.randint(2, (1,), generator=gen)):
        stacked = stacked.flip(3)
    parts = stacked.split([3, 1, data.prefills.shape[-1]], dim=1)
    images, hole, prefill = (t.contiguous(memory_format=torch.channels_last) for t in parts)
    return images, hole, prefill


def prefill(images: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """Telea fill of a (B, 3, S, S) [-1, 1] batch, on the CPU with OpenCV, as the network's start;
    on as many threads as torch has (``--threads``), which sit idle while OpenCV works."""
    pixels = ((images.detach().float().cpu().permute(0, 2, 3, 1) + 1) * 127.5).round().clamp(0, 255).byte().numpy()
    filled = telea_prefill(pixels, hole[:, 0].bool().cpu().numpy(), workers=torch.get_num_threads())
    out = torch.from_numpy(filled).to(images.device).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
    return out.contiguous(memory_format=torch.channels_last)


def generator_inputs(
    images: torch.Tensor,
    hole: torch.Tensor,
    config: GeneratorConfig,
    mean: torch.Tensor,
    prefilled: torch.Tensor | None = None,
) -> torch.Tensor:
    """The generator's input for a batch: pre-filled by ``prefilled`` (a refiner's coarse
    fills) or, when the design asks for a pre-fill, by Telea."""
    filled = prefilled if prefilled is not None or config.in_channels != 4 else prefill(images, hole)
    return generator_input(images, hole, config, mean, filled).contiguous(memory_format=torch.channels_last)
