"""Server configuration from ``CE_*`` environment variables and ``ce-serve`` flags (pydantic-settings).

Every limit and every scheduling threshold of the server lives here, one field each, so an
operator can see and change them in one place; the modules that enforce them get them from
here. ``GET /healthz`` and the editor page show the request limits in effect.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from model.export import DEFAULT_WEIGHTS, WEIGHTS_DIR
from model.holes import MAX_GROW

MIB = 1024 * 1024


class Settings(BaseSettings):
    """All knobs of the server; each field is read from ``CE_<FIELD>`` (case-insensitive)."""

    model_config = SettingsConfigDict(env_prefix="CE_", extra="ignore")

    weights: Path = Field(
        DEFAULT_WEIGHTS,
        description="Default generator export; the server refuses to start if it is missing or corrupt.",
    )
    models_dir: Path | None = Field(
        None,
        description=(
            "Folder whose *.pt generator exports are all served, each named by its file stem "
            "(default: the shipped model/weights folder; an explicit folder must exist)."
        ),
    )
    host: str = Field("127.0.0.1", description="Interface for ce-serve (loopback unless you expose it).")
    port: int = Field(8000, ge=0, le=65535, description="TCP port for ce-serve.")
    max_upload_mb: float = Field(20.0, gt=0, description="Largest request body in MiB (image + mask + form).")
    max_pixels: int = Field(
        8192 * 6144,
        ge=1,
        description=(
            "Largest image in pixels (width x height), checked from the header before decoding: "
            "50 MP admits 48 MP phone photos (8000x6000) whole; such a fill peaks at about 1.2 GB."
        ),
    )
    max_inflight_pixels: int = Field(
        2 * 8192 * 6144,
        ge=1,
        description=(
            "Pixels of the photos being filled at once, summed from their headers before decoding: "
            "a request beyond it is answered 503 with Retry-After unless it is the only one, so a "
            "burst of big photos cannot exhaust memory (two 48 MP fills need about 2.4 GB)."
        ),
    )
    bomb_check_pixels: int = Field(
        4096 * 4096,
        ge=1,
        description="An image over this many pixels must pass the density check of bomb_pixels_per_byte.",
    )
    bomb_pixels_per_byte: int = Field(
        256,
        ge=1,
        description=(
            "An image over bomb_check_pixels whose file holds fewer than one byte per this many pixels "
            "is refused (413) as a decompression bomb: a 48 MP photo takes megabytes, a bomb kilobytes."
        ),
    )
    malloc_arenas: int = Field(
        2,
        ge=1,
        le=64,
        description=(
            "glibc malloc arenas for the whole server: fewer arenas (and freed pages handed back after "
            "a heavy request) keep a 48 MP fill's peak from ratcheting up request after request."
        ),
    )
    max_holes: int = Field(
        256, ge=1, description="Most separate holes (generator windows) one context-encoder request may ask for."
    )
    max_grow: int = Field(
        MAX_GROW, ge=0, le=1024, description="Largest mask dilation a request may ask for (its `grow` field), px."
    )
    workers: int = Field(
        1, ge=1, le=64, description="Batching threads per model lane (generators' torch work runs in one thread)."
    )
    torch_threads: int | None = Field(
        None, ge=1, le=256, description="Torch intra-op threads of the compute thread on CPU (default: all cores)."
    )
    queue_size: int = Field(32, ge=1, description="Requests that may wait per model before new ones get 503.")
    max_inflight: int = Field(
        16,
        ge=1,
        description=(
            "Inpainting requests the server works on at once (decode to encode), all models together; "
            "one more gets a fast 503 with Retry-After instead of waiting behind them."
        ),
    )
    retry_after_s: int = Field(
        1, ge=1, le=3600, description="Seconds a 503 answer (busy, full queue, starting) asks the client to wait."
    )
    max_connections: int = Field(
        512,
        ge=1,
        description=(
            "Open connections ce-serve keeps at once; beyond them every request gets 503, so idle or "
            "half-open connections cannot exhaust the process's file descriptors."
        ),
    )
    header_timeout_s: float = Field(
        10.0, gt=0, description="ce-serve drops a connection whose request headers take longer to arrive (s)."
    )
    body_timeout_s: float = Field(
        120.0, gt=0, description="ce-serve drops a connection whose request body takes longer to arrive (s)."
    )
    keep_alive_s: int = Field(5, ge=1, description="ce-serve closes a keep-alive connection idle this long (s).")
    max_batch: int = Field(32, ge=1, description="Most generator windows in one batched forward pass.")
    batch_wait_ms: float = Field(
        5.0, ge=0, le=1000, description="How long a batch waits for more requests before it runs (ms)."
    )
    heavy_pixels: int = Field(
        2_500_000,
        ge=1,
        description=(
            "A photo over this many pixels (or a mask needing more than one batch of windows) is a heavy "
            "request: it runs in its model's heavy lane, so it cannot hold up ordinary ones (a 1920x1080 "
            "frame is still ordinary)."
        ),
    )
    heavy_piece: int = Field(
        2,
        ge=1,
        description="Windows per compute-thread job of a heavy request while ordinary requests are being "
        "prepared or queued (an ordinary one waits for one).",
    )
    heavy_piece_idle: int = Field(
        8,
        ge=1,
        description="Windows per compute-thread job of a heavy request while no ordinary request is around: "
        "fewer, larger passes fill a big photo sooner; one that arrives meanwhile waits for one.",
    )
    heavy_nice: int = Field(
        10, ge=0, le=19, description="OS niceness of the heavy lanes' threads: ordinary requests come first."
    )
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto = CUDA when available, else CPU.")

    @property
    def models_folder(self) -> Path:
        """The folder actually scanned for generator exports."""
        return self.models_dir if self.models_dir is not None else WEIGHTS_DIR

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * MIB)
