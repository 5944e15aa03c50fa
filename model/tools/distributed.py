"""Single-process or ``torchrun`` (DDP) execution, decided by the environment alone,
so the training loop is the same code either way."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist

from model.devices import pick_device


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def setup(device_choice: str) -> Runtime:
    """Join the process group when launched by torchrun (WORLD_SIZE > 1); a single process
    gets the device ``device_choice`` names (ValueError when it is not there)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Runtime(pick_device(device_choice))
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available() and device_choice != "cpu":
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
        backend = "nccl"
    else:
        device = torch.device("cpu")
        backend = "gloo"
    dist.init_process_group(backend=backend)
    return Runtime(device, rank, world)


def barrier(rt: Runtime) -> None:
    if rt.distributed:
        dist.barrier()


def teardown(rt: Runtime) -> None:
    if rt.distributed and dist.is_initialized():
        dist.destroy_process_group()


@contextmanager
def session(device_choice: str) -> Iterator[Runtime]:
    """``setup`` for the duration of a ``with`` block, the process group left however it ends."""
    rt = setup(device_choice)
    try:
        yield rt
    finally:
        teardown(rt)
