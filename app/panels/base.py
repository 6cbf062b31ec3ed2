"""What every studio panel is: the panel contract, and the job bar that runs a panel's long jobs.

A :class:`Panel` is a QWidget that talks to the main window through three signals and hears one call:

- ``showImage(image, params)``: put this uint8 H×W×3 image on the canvas (``params`` travel into its PNG);
- ``addToGallery(image, params)``: add it to the gallery;
- ``status(text)``: a line for the status bar;
- ``set_model(model)``: the studio's SinGAN model changed (None: closed); the default ignores it.

``MainWindow.add_panel`` connects every panel the same way; nothing is looked up with ``hasattr``.

A :class:`JobBar` is the one way a panel runs a long job (training, an export, a task): Start and
Cancel, a progress bar with the ETA, and a message line — or, for the training docks, a
``TrainingMonitor`` that shows the progress, curves and end message instead. It owns the running
:class:`~app.workers.Job`, enables its buttons (and the controls given to :meth:`JobBar.lock`) by the
job's state, and words failures through :func:`app.workers.describe_error`, so every panel says
"cancelled" and "out of memory" the same way.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from app.workers import Job, JobRunner, describe_error
from common.durations import format_clock
from core.jobs import Cancelled, Progress

if TYPE_CHECKING:
    from widgets.training_monitor import TrainingMonitor

ERROR_STYLE = "color: #ef6c6c;"


class Panel(QWidget):
    """A studio panel: the signals the main window connects, and the model hook it calls."""

    showImage = Signal(object, dict)  # uint8 H×W×3, params
    addToGallery = Signal(object, dict)
    status = Signal(str)

    def set_model(self, model: Any) -> None:
        """The studio's SinGAN model changed (None: closed). Panels that use it override this."""


def progress_line(p: Progress, unit: str = "") -> str:
    """'Paint 3/5 · 60 % · 2.1/s · ETA 0:04': one report, worded the same in every panel."""
    parts = [p.stage[:1].upper() + p.stage[1:]] if p.stage else []
    parts.append(f"{p.step:,}/{p.total:,}" + (f" {unit}" if unit else ""))
    parts.append(f"{100 * p.fraction:.0f} %")
    if p.rate > 0:
        parts.append(f"{p.rate:.3g}/s")
    parts.append(f"ETA {format_clock(p.eta_s)}")
    return " · ".join(parts)


class JobBar(QWidget):
    """Start / Cancel, progress with ETA and a message line for one job at a time.

    While a job runs, Start and every widget given to :meth:`lock` are disabled and Cancel is
    enabled; when idle, Start is enabled when :meth:`set_ready` says the panel can start. The panel
    connects ``startRequested`` to its own start method, which calls :meth:`run`.

    This is the studio's one launcher for long jobs (anything that takes ``progress=`` / ``cancel=``);
    ``LatestOnly`` is for live previews, and ``JobRunner.submit`` alone only for quick loads. A bar
    with no ``start_text`` shows no Start button: it runs jobs that other buttons start (exports,
    batches), and with ``queue=True`` a job asked for while one runs waits its turn (Cancel stops the
    running one and drops the waiting ones).

    Signals:
        startRequested(): Start was pressed (no ``checked`` argument to trip over).
        runningChanged(bool): a job started or ended (after the panel's callbacks ran).
        said(str): a message for the user (not the progress ticks); panels forward it to ``status``.
    """

    startRequested = Signal()
    runningChanged = Signal(bool)
    said = Signal(str)

    def __init__(self, jobs: JobRunner, start_text: str, *, start_tip: str = "", cancel_tip: str = "",
                 primary: bool = False, monitor: TrainingMonitor | None = None, unit: str = "",
                 cancelled_text: str = "Cancelled.", queue: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs, self.monitor, self.unit, self.cancelled_text = jobs, monitor, unit, cancelled_text
        self.job: Job | None = None
        self._queue: deque[tuple] | None = deque() if queue else None
        self.started_at = 0.0
        self._ready = True
        self._locked: list[QWidget] = []

        self.start_button = QPushButton(start_text)
        self.start_button.setToolTip(start_tip)
        if primary:
            self.start_button.setObjectName("primary")
        self.start_button.clicked.connect(lambda _checked=False: self.startRequested.emit())
        self.start_button.setVisible(bool(start_text))
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip(cancel_tip or "Stop the job after its current step")
        self.cancel_button.clicked.connect(self.cancel)
        self.buttons = QHBoxLayout()
        self.buttons.setContentsMargins(0, 0, 0, 0)
        self.buttons.addWidget(self.start_button)
        self.buttons.addWidget(self.cancel_button)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)  # the message line says the percentage and the ETA
        self.progress_bar.setMaximumHeight(8)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setObjectName("jobMessage")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        lay.addLayout(self.buttons)
        lay.addWidget(self.progress_bar)
        lay.addWidget(self.message)
        if monitor is not None:  # the monitor shows progress and messages; the bar is its buttons
            self.progress_bar.hide()
            self.message.hide()
            monitor.set_run_buttons_visible(False)
            monitor.cancelRequested.connect(self.cancel)
        self._update()
        if not start_text:
            self.hide()

    # ------------------------------------------------------------ layout and state
    def add_button(self, widget: QWidget, *, before_cancel: bool = True, lock: bool = False) -> None:
        """Put another button in the bar's row (Resume before Cancel, Before/After after it)."""
        index = self.buttons.indexOf(self.cancel_button)
        self.buttons.insertWidget(index if before_cancel else index + 1, widget)
        if lock:
            self.lock(widget)

    def lock(self, *widgets: QWidget) -> None:
        """Widgets disabled while a job runs and enabled when it ends (settings the job has read)."""
        self._locked.extend(widgets)
        self._update()

    def set_ready(self, ready: bool) -> None:
        """Whether Start may be pressed when no job runs (a photo is open, a model is trained...)."""
        self._ready = bool(ready)
        self._update()

    @property
    def running(self) -> bool:
        return self.job is not None

    def _update(self) -> None:
        running = self.running
        self.start_button.setEnabled(self._ready and not running)
        self.cancel_button.setEnabled(running)
        for w in self._locked:
            w.setEnabled(not running)

    # ------------------------------------------------------------ running
    def run(self, fn: Callable[..., Any], *args: Any, name: str, title: str = "",
            on_result: Callable[[Any], None] | None = None, on_progress: Callable[[Progress], None] | None = None,
            on_error: Callable[[BaseException], None] | None = None, **kwargs: Any) -> Job | None:
        """Submit ``fn(*args, **kwargs)`` through the JobRunner; None when a job already runs (a queueing
        bar runs it after the running one instead).

        ``on_error`` (when given) decides what the user reads (with :meth:`fail` / :meth:`finish`);
        without it the bar shows ``cancelled_text`` or :func:`describe_error`'s message.
        """
        if self.job is not None:
            if self._queue is not None:
                self._queue.append((fn, args, dict(kwargs, name=name, title=title, on_result=on_result,
                                                   on_progress=on_progress, on_error=on_error)))
            return None
        self.started_at = time.perf_counter()
        if not self.start_button.text():  # a bar for jobs started elsewhere shows up with its first job
            self.show()
        if self.monitor is not None:
            self.monitor.start(title or name)
        else:
            self.progress_bar.setValue(0)
            self._show(f"{title or name}…")

        def progressed(p: Progress) -> None:
            if self.monitor is not None:
                self.monitor.update_progress(p.stage, p.stage_index, p.stage_count, p.step, p.total, p.rate,
                                             p.eta_s, p.metrics)
            else:
                self.progress_bar.setValue(round(1000 * p.fraction))
                self.message.setText(progress_line(p, self.unit))
            if on_progress is not None:
                on_progress(p)

        def succeeded(value: object) -> None:
            self.progress_bar.setValue(self.progress_bar.maximum())
            if on_result is not None:
                on_result(value)

        def failed(exc: BaseException) -> None:
            if on_error is not None:
                on_error(exc)
            else:
                self.fail(self.error_text(exc), error=not isinstance(exc, Cancelled))

        self.job = self.jobs.submit(fn, *args, name=name, on_result=succeeded, on_progress=progressed,
                                    on_error=failed, on_finished=self._finished, **kwargs)
        self._update()
        self.runningChanged.emit(True)
        return self.job

    def cancel(self) -> None:
        """Ask the running job to stop after its current step (its ``on_error`` gets ``Cancelled``)."""
        if self._queue:
            self._queue.clear()
        if self.job is not None and not self.job.cancelled:
            self.job.cancel()
            if self.monitor is None:
                self.message.setText("Cancelling…")

    def _finished(self) -> None:
        self.job = None
        if self._queue:
            fn, args, kwargs = self._queue.popleft()
            self.run(fn, *args, **kwargs)
            return
        self._update()
        self.runningChanged.emit(False)

    @property
    def elapsed_s(self) -> float:
        """Seconds since the last job started."""
        return time.perf_counter() - self.started_at

    # ------------------------------------------------------------ messages
    def error_text(self, exc: BaseException) -> str:
        """What a failure tells the user: ``cancelled_text`` or :func:`describe_error`'s one paragraph."""
        return self.cancelled_text if isinstance(exc, Cancelled) else describe_error(exc)

    def say(self, text: str) -> None:
        """A message for the user (on the message line, and ``said`` for the status bar)."""
        self._show(text)
        self.said.emit(text)

    def finish(self, text: str) -> None:
        """The job succeeded: a full bar and ``text``."""
        self.progress_bar.setValue(self.progress_bar.maximum())
        if self.monitor is not None:
            self.monitor.finish(text)
        self.say(text)

    def fail(self, text: str, *, error: bool = True) -> None:
        """The job failed (``error``: in the error colour) or was cancelled: ``text``."""
        if self.monitor is not None:
            self.monitor.fail(text)
        self._show(text, error=error)
        self.said.emit(text)

    def _show(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else "")
