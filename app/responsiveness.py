"""What keeps the GUI thread responsive: a stall meter (the longest gap between ticks of a fast timer)
and the start-up work done before the window is on screen (torch's lazy imports, the garbage
collector's view of the start-up objects)."""

from __future__ import annotations

import gc
import time

from PySide6.QtCore import QObject, QTimer


class StallMeter(QObject):
    """Ticks every ``interval_ms``; ``longest_ms`` is the worst extra delay seen since ``reset()``."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = 5) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.longest_ms = 0.0
        self._last = 0.0

    def start(self) -> None:
        self.reset()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def reset(self) -> None:
        self.longest_ms = 0.0
        self._last = time.perf_counter()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest_ms = max(self.longest_ms, (now - self._last) * 1000.0 - self.interval_ms)
        self._last = now


def warm_up_torch() -> None:
    """Do torch's lazy first-use work (the first optimizer step imports torch._dynamo and sympy, ~1 s)
    on the GUI thread while nothing is on screen yet: done in a worker later, it holds the GIL and
    freezes the window for 100–350 ms at the start of a training."""
    import torch

    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([p], foreach=True)
    p.sum().backward()
    opt.step()


def freeze_startup_objects() -> None:
    """Move the objects alive after start-up (modules, classes, widgets, torch's registries: some
    400 000) out of the cyclic garbage collector's sight. A full collection walks every tracked object
    while holding the GIL — 150 ms here, a visible freeze whenever any thread triggered one; after
    this it walks only what was made since (gc.freeze, as CPython's docs advise for long-lived
    processes). Objects that die later are still freed by reference counting; a second window (tests)
    first thaws what the first one froze, so nothing frozen is kept for good."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
