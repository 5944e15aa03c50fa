"""Which torch device a ``--device`` choice (``auto``, ``cpu``, ``cuda``, ``cuda:1``, ...) means here."""

from __future__ import annotations

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda")  # what the command lines offer


def pick_device(choice: str) -> torch.device:
    """``auto``: CUDA when present, else the CPU. A device that is not there is a ValueError, so
    library code never exits the process; each command line turns it into its own error exit."""
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(choice)
    except RuntimeError as exc:
        raise ValueError(f"unknown device {choice!r}; choose one of {', '.join(DEVICE_CHOICES)}") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"--device {choice} asked for, but no CUDA device is available")
    return device
