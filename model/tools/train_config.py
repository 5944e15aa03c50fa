"""What a training run is asked to do: one typed record of every ``ce-train`` flag.

``ce-train`` builds it once from its flags (``model.tools.train.parse_config``); the library
code (``train_data``, ``schedule``, ``checkpoint``, the loop) reads it, and the checkpoint
stores it (``record``) so that ``--resume`` can compare the run it continues. A field is named
as its flag (``--batch-size`` is ``batch_size``) and its default is the flag's default.
"""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path
from typing import Any

from model.data import DEFAULT_MIN_CROP
from model.losses import DEFAULT_OVERLAP, DEFAULT_OVERLAP_WEIGHT


@dataclass(frozen=True)
class TrainConfig:
    """Every ``ce-train`` flag, typed; the cross-flag rules are checked when it is built."""

    data: Path  # folder of photographs
    out: Path  # run folder
    # holes
    mask: str = "mixed"
    mix: dict[str, float] | None = None  # shares of the mixed holes' kinds (None: MIXED_SHARES)
    masks: Path | None = None  # object silhouettes for region holes
    # length and rates
    steps: int | None = None  # None: from epochs
    epochs: float = 10.0
    batch_size: int = 32  # per process
    lr: float = 2e-4
    lr_d: float | None = None  # None: lr / 10
    # the generator's design
    input: str = "telea"
    coarse: Path | None = None  # with input "coarse": the export whose shrunk-window fills are refined
    skips: bool = False
    refine: bool = False
    hint: bool = False  # with input "coarse": the detail hint as a fifth input channel
    mirror: bool = False  # with hint: the mirror fill as three more input channels
    upsample: str = "nearest"
    padding: str = "zeros"
    pooled_code: bool = False
    hole_noise: float = 0.0
    # the schedule and the moving average
    lr_decay: str = "none"
    cosine_from: int = 0
    warmup: int = 0
    ema: float = 0.0
    # the loss and the adversary
    adv: float = 0.001
    d_arch: str = "global"
    d_width: int = 64
    d_steps: int = 1  # patch discriminator updates per generator update
    d_warmup: int = 0  # patch discriminator updates before the first joint step
    fm: float = 0.0
    grid: float = 0.0
    spectral: float = 0.0
    detail: float = 0.0
    d_norm: str = "batch"
    d_shift: int = 0
    rec: float | None = None  # None: 1 - adv
    rec_norm: str = "l2"
    rec_blur: float = 0.0  # > 0: reconstruct only the completion's low-pass band (Gaussian sigma, px)
    rec_mean: str = "pixels"
    overlap: int = DEFAULT_OVERLAP
    overlap_weight: float = DEFAULT_OVERLAP_WEIGHT
    # images
    image_size: int = 128
    min_crop: float = DEFAULT_MIN_CROP
    smooth_share: float = 0.0
    val_count: int = 300  # photographs held out (seeded) for validation
    exclude: Path | None = None
    cache: Path | None = None  # None: OUT/../.cache
    mask_pool: int = 8192
    # where and how it runs
    device: str = "auto"
    precision: str = "auto"
    threads: int | None = None
    seed: int = 0
    split_seed: int = 0
    resume: bool = False
    retarget: bool = False
    init_from: Path | None = None
    log_every: int = 50
    sample_every: int = 500
    ckpt_every: int = 500
    no_progress: bool = False

    def __post_init__(self) -> None:
        if self.lr_decay != "cosine" and (self.cosine_from or self.warmup):
            raise ValueError("--cosine-from and --warmup shape a cosine: they need --lr-decay cosine")
        if self.warmup < 0:
            raise ValueError(f"--warmup {self.warmup} must not be negative")
        if not 0 <= self.smooth_share <= 1:
            raise ValueError(f"--smooth-share {self.smooth_share} is a share of the images: from 0 to 1")
        if not 0 < self.min_crop <= 1:
            raise ValueError(f"--min-crop {self.min_crop} is a share of the photo's side: above 0, at most 1")
        if self.fm > 0 and self.d_arch != "patch":
            raise ValueError("--fm matches the patch discriminator's features: it needs --d-arch patch")
        adversary_terms = (
            ("--spectral", self.spectral, "joins the patch adversary's generator loss"),
            ("--grid", self.grid, "weighs a penalty on the grid the adversary teaches"),
            ("--detail", self.detail, "joins the patch adversary's generator loss"),
            ("--rec-blur", self.rec_blur, "leaves the fine detail to the patch adversary"),
        )
        for flag, weight, role in adversary_terms:
            if weight < 0 or (weight > 0 and not (self.d_arch == "patch" and self.adv > 0)):
                raise ValueError(f"{flag} {weight} {role}: it needs --d-arch patch and --adv, and must not be negative")
        if self.d_steps < 1 or self.d_warmup < 0:
            raise ValueError(f"--d-steps {self.d_steps} must be at least 1 and --d-warmup {self.d_warmup} not negative")
        if (self.d_steps > 1 or self.d_warmup) and (self.d_arch != "patch" or not (self.adv > 0 or self.fm > 0)):
            raise ValueError(
                "--d-steps and --d-warmup train the patch discriminator: they need --d-arch patch and --adv or --fm"
            )
        if (self.input == "coarse") != (self.coarse is not None):
            raise ValueError("--input coarse trains a refiner of --coarse EXPORT's fills: give both or neither")
        if self.hint and self.input != "coarse":
            raise ValueError("--hint gives a refiner the context's detail map: it needs --input coarse")
        if self.mirror and not self.hint:
            raise ValueError("--mirror adds the mirror fill to the refiner's hint channels: it needs --hint")
        if self.mix is not None and self.mask != "mixed":
            raise ValueError(f"--mix reweights mixed holes: it needs --mask mixed, not --mask {self.mask}")

    def record(self) -> dict[str, Any]:
        """The config as the checkpoint stores it (``"args"``): every field, paths as text."""
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}


def flag_defaults() -> dict[str, Any]:
    """Each flag's default, from the fields that have one: what ``ce-train``'s parser uses."""
    return {f.name: f.default for f in fields(TrainConfig) if f.default is not MISSING}
