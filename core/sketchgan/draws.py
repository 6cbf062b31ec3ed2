"""Where a Sketch GAN run's random numbers come from: generators of its own, keyed by its seed.

Torch's and Python's global generators are shared by every thread. The studio runs two jobs at once,
and the Train dock's time estimate draws from torch's too, so a run that seeded the global ones got
whatever the other thread left it: one seed could pretrain or tune two different models.

A run builds its networks and trains inside ``with drawing_from(Draws(seed, device))``; the StyleGAN
modules (initial weights, per-layer noise, the style-mixing cut) and the training losses (latents,
path-length noise, flips) draw from it. Outside such a block they draw from the global generators,
as sampling code that passes its own noise never notices.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch


class Draws:
    """A torch generator on the CPU, one on the run's device (the same one on a CPU run) and a Python one."""

    def __init__(self, seed: int, device: torch.device | str = "cpu") -> None:
        self.device = torch.device(device)
        self.cpu = torch.Generator().manual_seed(int(seed))
        self.on_device = (self.cpu if self.device.type == "cpu" else
                          torch.Generator(self.device).manual_seed(int(seed)))
        self.py = random.Random(int(seed))

    def randn(self, *shape: int, device: torch.device | str | None = None) -> torch.Tensor:
        dev = torch.device("cpu" if device is None else device)
        return torch.randn(*shape, generator=self.cpu if dev.type == "cpu" else self.on_device, device=dev)

    def random(self) -> float:
        return self.py.random()

    def randint(self, a: int, b: int) -> int:
        return self.py.randint(a, b)


_active = threading.local()


def current() -> Draws | None:
    """This thread's :class:`Draws`, or None outside :func:`drawing_from`."""
    return getattr(_active, "draws", None)


@contextmanager
def drawing_from(draws: Draws) -> Iterator[Draws]:
    previous = current()
    _active.draws = draws
    try:
        yield draws
    finally:
        _active.draws = previous


def randn(*shape: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Standard normal numbers from this thread's :class:`Draws` (torch's global generator outside one)."""
    draws = current()
    return torch.randn(*shape, device=device) if draws is None else draws.randn(*shape, device=device)


def uniform() -> float:
    """A number in [0, 1) from this thread's :class:`Draws` (Python's global generator outside one)."""
    draws = current()
    return random.random() if draws is None else draws.random()


def randint(a: int, b: int) -> int:
    """An integer in [a, b] from this thread's :class:`Draws` (Python's global generator outside one)."""
    draws = current()
    return random.randint(a, b) if draws is None else draws.randint(a, b)


def cpu_generator() -> torch.Generator | None:
    """This thread's :class:`Draws`' CPU generator, for torch functions that take ``generator=`` (None
    outside one: torch's global generator)."""
    draws = current()
    return None if draws is None else draws.cpu
