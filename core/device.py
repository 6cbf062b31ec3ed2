"""Device choice, precision policy and seeding: the one place that knows about CUDA/MPS."""

from __future__ import annotations

import random

import numpy as np
import torch

from core.jobs import GanvasError


def available_devices() -> list[str]:
    """Devices this machine can run on, best first ('cuda' only when torch sees a GPU)."""
    devices = []
    if torch.cuda.is_available():
        devices.append("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devices.append("mps")
    devices.append("cpu")
    return devices


def pick_device(name: str | None = None) -> torch.device:
    """Resolve 'auto'/None to the best device; refuse one that is not there, with a clear message."""
    if name in (None, "", "auto"):
        return torch.device(available_devices()[0])
    try:
        dev = torch.device(name)
    except RuntimeError as exc:
        raise GanvasError(f"Unknown device '{name}'. Use one of: auto, {', '.join(available_devices())}.") from exc
    if dev.type not in available_devices():
        raise GanvasError(
            f"Device '{name}' is not available on this machine. Available: {', '.join(available_devices())}."
        )
    return dev


def is_cuda(device: torch.device | str) -> bool:
    return torch.device(device).type == "cuda"


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def make_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A torch.Generator for reproducible noise that does not touch the global RNG.

    Noise is drawn on the CPU and moved, so the same seed gives the same image on every device.
    """
    g = torch.Generator(device="cpu")
    g.manual_seed(int(seed) % (2**63))
    return g


def describe_device(device: torch.device | str) -> str:
    dev = torch.device(device)
    if dev.type == "cuda":
        return f"CUDA: {torch.cuda.get_device_name(dev)}"
    if dev.type == "mps":
        return "Apple MPS"
    return f"CPU ({torch.get_num_threads()} threads)"
