"""Response bodies, as pydantic models so /docs shows exactly what each endpoint returns."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ErrorResponse(BaseModel):
    """Every refusal (4xx, 503) and server error has this shape."""

    detail: str = Field(description="What is wrong, in words a person can act on.")


class TrainingSummary(BaseModel):
    """How a generator was trained, as numbers and settings read from its export (never free text)."""

    steps: int | None = Field(None, description="Optimisation steps the weights had, every run they came from counted.")
    images_seen: int | None = Field(None, description="Training images drawn over those steps.")
    batch_size: int | None = Field(None, description="Images per step (of the last run).")
    train_images: int | None = Field(None, description="Photographs in the training set.")
    input: str | None = Field(
        None, description="`telea`: the hole pre-filled by Telea plus a mask channel; `mean`: the paper's mean colour."
    )
    reconstruction: str | None = Field(None, description="Reconstruction error: `l2` (the paper's) or `l1`.")
    reconstruction_weight: float | None = Field(None, description="Weight of the reconstruction term.")
    adversarial_weight: float | None = Field(
        None, description="Weight of the adversarial term (0: reconstruction only)."
    )
    feature_matching_weight: float | None = Field(None, description="Weight of discriminator feature matching.")
    discriminator: str | None = Field(None, description="`global` (the paper's DCGAN) or `patch` (conditional, 70 px).")
    hole_shares: dict[str, float] | None = Field(
        None, description="Share of each kind of hole drawn in training (mixed holes only)."
    )
    ema: float | None = Field(None, description="Decay of the weights' moving average shipped (null: last step's).")
    precision: str | None = Field(None, description="Arithmetic of the training steps: `fp32` or `bf16`.")


class Measurement(BaseModel):
    """Hole metrics of one generator on one (image set, hole type), beside the baselines'."""

    set: str = Field(description="Image set (`kodak24`: Kodak; `val_files`: the held-out photographs).")
    mask: str = Field(description="Hole type (objects, strokes, blobs, center, freeform).")
    images: int | None = Field(None, description="Images measured.")
    psnr: float | None = Field(None, description="Mean per-image PSNR over the hole, dB.")
    l1: float | None = Field(None, description="Mean absolute error over the hole (values in [0, 1]).")
    l2: float | None = Field(None, description="Mean squared error over the hole.")
    ssim: float | None = Field(None, description="Mean SSIM over the hole.")
    sharpness: float | None = Field(None, description="Mean gradient magnitude in the hole.")
    truth_sharpness: float | None = Field(None, description="The same for the photographs themselves.")
    baselines: dict[str, dict[str, float | None]] = Field(
        default_factory=dict, description="The baselines' `psnr` and `l1` on the same holes, by name."
    )


class ModelInfo(BaseModel):
    """One way of filling holes that POST /inpaint accepts as ``model``."""

    name: str = Field(description="Value to send as the `model` form field.")
    title: str = Field(description="Human name to show.")
    good_at: str = Field(description="What kind of hole it fills best, in a few words.")
    headline: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Measured hole PSNR per (image set, hole type) with the better classical filler's "
        "(`best_classical_psnr`) on the same holes; empty for classical fillers.",
    )
    kind: Literal["context-encoder", "classical"] = Field(
        description="`context-encoder`: a trained generator; `classical`: an OpenCV algorithm (no learning)."
    )
    default: bool = Field(description="True for the model used when `model` is omitted.")
    description: str = Field(description="One line about what it is.")
    mask_type: str | None = Field(
        None, description="Holes the generator was trained on (center, random, region, mixed...); null if classical."
    )
    input_size: int | None = Field(
        None, description="Side in px of the square window the generator sees; each hole gets one. Null if classical."
    )
    parameters: int | None = Field(None, description="Generator parameter count; null if classical.")
    file: str | None = Field(None, description="File name of the generator export; null if classical.")
    training: TrainingSummary | None = Field(
        None, description="How the generator was trained (numbers and settings); null if classical."
    )
    evaluation: list[Measurement] = Field(
        default_factory=list, description="Its measured quality per (image set, hole type); empty if classical."
    )


class QueueStats(BaseModel):
    """Micro-batching counters of one model since start-up."""

    calls: int = Field(description="Batched inference calls made.")
    jobs: int = Field(description="Requests served.")
    items: int = Field(description="Generator windows (or whole images, for classical) processed.")
    batched_calls: int = Field(description="Calls that served more than one request at once.")
    max_jobs_per_call: int = Field(description="Most requests served by one call.")
    max_items_per_call: int = Field(description="Most windows processed by one call.")
    failed_jobs: int = Field(description="Requests whose inference failed.")
    rejected: int = Field(description="Requests refused with 503 because the queue was full.")
    pending: int = Field(description="Requests waiting right now.")
    queue_size: int = Field(description="Most requests that may wait before new ones get 503.")


class Limits(BaseModel):
    """Effective request limits."""

    max_upload_mb: float = Field(description="Largest request body, MiB.")
    max_pixels: int = Field(description="Largest image, width x height.")
    max_holes: int = Field(description="Most separate holes per context-encoder request.")


class Health(BaseModel):
    """Liveness: the server answers and its models are loaded."""

    status: Literal["ok"] = Field(description="Always `ok` when the server answers.")
    version: str = Field(description="The app's version (CHANGELOG.md), as `/openapi.json` reports it.")
    device: str = Field(description="Where the generators run (cpu, cuda:0...).")
    default_model: str = Field(description="Model used when `model` is omitted.")
    models: list[str] = Field(description="Every name POST /inpaint accepts as `model`.")
    skipped: list[str] = Field(description="Files in the models folder that could not be loaded, with why.")
    limits: Limits
    queues: dict[str, QueueStats] = Field(
        description="Micro-batching counters per model, and per model's heavy lane (`<model>:heavy`: "
        "requests needing more than one batch of windows, or photos over CE_HEAVY_PIXELS pixels)."
    )
    memory: dict[str, float | None] = Field(
        description="The server process's resident memory now (`rss_mib`) and at its peak (`peak_rss_mib`), MiB."
    )
    admission: dict[str, int] = Field(
        description="Inpainting requests in progress now (`inflight`), the most at once (`max_inflight`, "
        "CE_MAX_INFLIGHT) and how many were answered 503 because that many were in progress (`refused`); "
        "their photos' pixels (`inflight_pixels`), the most at once (`max_inflight_pixels`, "
        "CE_MAX_INFLIGHT_PIXELS) and the requests refused for that (`refused_pixels`)."
    )


class FilledTile(BaseModel):
    """One rectangle of the filled photo: paste it at (left, top) over the photo, source-over."""

    left: int
    top: int
    width: int
    height: int
    png: str = Field(description="Base64 RGBA PNG: opaque on the hole, transparent elsewhere.")


class FilledRegions(BaseModel):
    """The answer of ``POST /inpaint/regions``: the filled pixels only, as tiles."""

    model: str = Field(description="Model that filled the holes.")
    width: int = Field(description="The photo's width, EXIF orientation applied.")
    height: int = Field(description="The photo's height, EXIF orientation applied.")
    holes: int = Field(description="Separate holes in the mask (0: nothing filled, no tiles).")
    pixels: int = Field(description="Pixels filled.")
    tiles: list[FilledTile]
