"""The job contract shared by the engine, the studio and the CLI.

A long-running engine function takes ``progress`` (a callable receiving :class:`Progress`)
and ``cancel`` (a :class:`CancelToken`). It reports through a :class:`ProgressReporter`,
which throttles to a steady rate and estimates speed and ETA, so every caller sees the
same numbers whether it draws a terminal bar or a Qt progress bar.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


class GanvasError(Exception):
    """An error the user can fix (bad file, wrong size, out of memory). The message is for a person."""


class Cancelled(GanvasError):
    """The user cancelled the job; whatever was autosaved before stays usable.

    ``kept`` is what the job had made when it stopped (SinGAN training: the model with its
    finished scales), or None: raise ``Cancelled(kept=partial)`` from the engine.
    """

    def __init__(self, message: str = "Cancelled.", *, kept: object = None) -> None:
        super().__init__(message)
        self.kept = kept

    @property
    def model(self) -> object:
        """The old name of ``kept``, for code written before it (``exc.model = ...`` still works)."""
        return self.kept

    @model.setter
    def model(self, value: object) -> None:
        self.kept = value


@dataclass
class Progress:
    """One progress report. ``step`` counts from 0 to ``total`` within ``stage``."""

    stage: str
    step: int
    total: int
    message: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    preview: np.ndarray | None = None  # uint8 HxWx3, now and then
    rate: float = 0.0  # steps per second in this stage
    eta_s: float | None = None  # seconds left for the whole job when known
    stage_index: int = 0
    stage_count: int = 1
    warning: str = ""  # something the user should act on (the CLI prints it on its own line, the studio shows it)

    @property
    def fraction(self) -> float:
        """Overall completion in [0, 1], counting stages as equal parts."""
        inner = self.step / self.total if self.total else 0.0
        return min(1.0, (self.stage_index + inner) / max(1, self.stage_count))


ProgressFn = Callable[[Progress], None]


class CancelToken:
    """Thread-safe flag checked by the engine between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    @property
    def is_set(self) -> bool:
        return self._event.is_set()

    def raise_if_set(self) -> None:
        if self._event.is_set():
            raise Cancelled()


def check_cancel(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_set()


class ProgressReporter:
    """Throttles reports to one per ``interval_s`` and computes rate and ETA.

    ``remaining_steps_after`` lets the caller say how many steps the stages after this one
    hold, so the ETA covers the whole job, not only the current stage.
    """

    def __init__(self, progress: ProgressFn | None, interval_s: float = 0.1) -> None:
        self._progress = progress
        self._interval = interval_s
        self._last_emit = 0.0
        self._stage_start = time.perf_counter()
        self._stage: str | None = None

    def start_stage(self, stage: str) -> None:
        self._stage = stage
        self._stage_start = time.perf_counter()
        self._last_emit = 0.0

    def report(
        self,
        step: int,
        total: int,
        *,
        stage: str | None = None,
        message: str = "",
        metrics: dict[str, float] | None = None,
        preview: np.ndarray | None = None,
        stage_index: int = 0,
        stage_count: int = 1,
        remaining_steps_after: int = 0,
        force: bool = False,
        warning: str = "",
    ) -> None:
        if self._progress is None:
            return
        if stage is not None and stage != self._stage:
            self.start_stage(stage)
        now = time.perf_counter()
        if not (force or warning or preview is not None or step >= total or now - self._last_emit >= self._interval):
            return
        self._last_emit = now
        elapsed = now - self._stage_start
        rate = step / elapsed if elapsed > 0 and step > 0 else 0.0
        eta = (total - step + remaining_steps_after) / rate if rate > 0 else None
        self._progress(
            Progress(
                stage=self._stage or "",
                step=step,
                total=total,
                message=message,
                metrics=dict(metrics or {}),
                preview=preview,
                rate=rate,
                eta_s=eta,
                stage_index=stage_index,
                stage_count=stage_count,
                warning=warning,
            )
        )


