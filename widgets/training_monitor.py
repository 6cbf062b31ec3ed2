"""The training dock: where a long training run shows how far it is, how it is going, and what it makes.

It takes plain values (strings, numbers, numpy images), so it knows nothing of the engine: the app
forwards each progress report to :meth:`TrainingMonitor.update_progress` and each stage's sample to
:meth:`TrainingMonitor.set_preview`.

Loss curves stay cheap however long the run: values go into growing numpy buffers, and the plot
is redrawn at most ``REDRAW_HZ`` times a second from a bin-averaged copy of at most
``MAX_POINTS`` points per curve, and the view range moves only when the data leaves it: a moving
range makes pyqtgraph lay out and redraw both axes' ticks and text, which was most of the GUI
thread's time during training.
"""

from __future__ import annotations

import html
import math
import re
import warnings

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import QSignalThrottler

from common.durations import format_clock
from widgets.image_label import ImageLabel

MAX_POINTS = 2000
REDRAW_HZ = 4
PLOT_BG = "#1b1d21"
PLOT_FG = "#b8bcc4"
# Readable on a dark background, distinct for the usual handful of losses.
CURVE_COLORS = ("#4fc3f7", "#ffb74d", "#81c784", "#e57373", "#ba68c8", "#fff176", "#4db6ac", "#f06292")


def format_rate(rate: float) -> str:
    if not rate or not math.isfinite(rate) or rate <= 0:
        return "– it/s"
    if rate < 1.0:
        return f"{1.0 / rate:.1f} s/it"
    return f"{rate:.1f} it/s"


def progress_text(
    stage: str, stage_index: int, stage_count: int, step: int, total: int, rate: float, eta_s: float | None
) -> str:
    """'Scale 3/9 · iteration 420/2000 · 12.3 it/s · ETA 4:05' (``stage_index`` counts from 0)."""
    parts = []
    name = stage.strip()
    count = f"{stage_index + 1}/{stage_count}"
    if stage_count > 1 and re.search(rf"(?<!\d){re.escape(count)}(?!\d)", name):
        parts.append(name[:1].upper() + name[1:])  # "Scale 1/4 (38×25)" already says it
    elif stage_count > 1:
        name = re.sub(r"\s*\d+\s*$", "", name) or "Stage"  # "scale 2" and index 2 would say it twice
        parts.append(f"{name[:1].upper()}{name[1:]} {count}")
    elif name:
        parts.append(name[:1].upper() + name[1:])
    parts.append(f"iteration {step}/{total}")
    parts.append(format_rate(rate))
    parts.append(f"ETA {format_clock(eta_s)}")
    return " · ".join(parts)


def decimate(x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Bin-average to at most ``max_points`` points (keeps the trend of a noisy loss, unlike striding)."""
    n = len(x)
    if n <= max_points:
        return x, y
    k = int(math.ceil(n / max_points))
    m = (n // k) * k
    xs = x[:m].reshape(-1, k).mean(axis=1)
    yb = y[:m].reshape(-1, k)
    if np.isnan(yb).any():
        with warnings.catch_warnings():  # an all-NaN bin stays NaN (a gap), quietly
            warnings.simplefilter("ignore", RuntimeWarning)
            ys = np.nanmean(yb, axis=1)
    else:
        ys = yb.mean(axis=1)
    if m < n:  # the newest values, averaged, so the curve reaches the present
        xs = np.append(xs, x[m:].mean())
        ys = np.append(ys, y[m:].mean())
    return xs, ys


class _Series:
    """Growable x/y buffers for one metric."""

    def __init__(self) -> None:
        self.x = np.empty(256, np.float64)
        self.y = np.empty(256, np.float64)
        self.n = 0

    def append(self, x: float, y: float) -> None:
        if self.n == len(self.x):
            self.x = np.resize(self.x, 2 * self.n)
            self.y = np.resize(self.y, 2 * self.n)
        self.x[self.n] = x
        self.y[self.n] = y
        self.n += 1

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        return self.x[: self.n], self.y[: self.n]


class TrainingMonitor(QWidget):
    """Progress, loss curves and the latest sample of a training run.

    Signals:
        cancelRequested(): the user pressed Cancel.
        resumeRequested(): the user pressed Resume (enabled by :meth:`set_resume_available`).
    """

    cancelRequested = Signal()
    resumeRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._series: dict[str, _Series] = {}
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._stage_key: tuple[str, int] | None = None
        self._stage_offset = 0  # global iteration at the start of the current stage
        self._stage_total = 0
        self._global_step = 0
        self._stage_plotted = False  # whether the current stage reported metrics (a preparation stage does not)
        self._view: tuple[float, float, float] | None = None  # x end, y low, y high now shown
        self._running = False
        self._dirty = False

        self.title_label = QLabel("No training running")
        f = QFont(self.title_label.font())
        f.setBold(True)
        self.title_label.setFont(f)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setFormat("%p%")
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.metrics_label = QLabel("")
        self.metrics_label.setTextFormat(Qt.TextFormat.RichText)
        self.metrics_label.setWordWrap(True)
        self.metrics_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.metrics_label.setFont(mono)
        # Fixed two-line boxes: text that changes ten times a second must not re-layout (and so
        # repaint) the whole dock, plot included — that was the main GUI cost during training.
        for label in (self.status_label, self.metrics_label):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            label.setFixedHeight(2 * label.fontMetrics().lineSpacing() + 4)

        self.plot = pg.PlotWidget(background=PLOT_BG)
        self.plot.setMinimumHeight(140)
        pi = self.plot.getPlotItem()
        pi.setMenuEnabled(False, True)
        # No grid, no legend, 1-px curves: each halves the cost of a repaint (grid lines and wide pens
        # take Qt's slow stroking path); the metrics line below names the curves in their colours.
        for name in ("left", "bottom"):
            ax = pi.getAxis(name)
            ax.setPen(PLOT_FG)
            ax.setTextPen(PLOT_FG)
            ax.enableAutoSIPrefix(False)  # a prefix change re-lays out the plot
        pi.disableAutoRange()  # see _fit_view
        pi.setLabel("bottom", "iteration", color=PLOT_FG)
        pi.setLabel("left", "loss", color=PLOT_FG)
        self._stage_lines: list[pg.InfiniteLine] = []

        self.log_check = QCheckBox("log y")
        self.log_check.setToolTip("Logarithmic loss axis (values ≤ 0 are not drawn)")
        self.log_check.toggled.connect(self._set_log_y)
        self._pool: list[pg.PlotDataItem] = []
        self._curve(3)  # four curves ready (SinGAN reports four losses), empty until a run fills them

        self.preview = ImageLabel(64, "no sample yet")
        self.preview.setToolTip("The latest sample, drawn each time a scale finishes")
        self.preview_caption = QLabel("")
        self.preview_caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview_caption.setWordWrap(True)

        self.warning_label = QLabel("")
        self.warning_label.setObjectName("trainingWarning")
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet("color: #f0b44c;")
        self.warning_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warning_label.hide()

        self.note_label = QLabel("")
        self.note_label.setWordWrap(True)
        self.note_label.setStyleSheet("color: #9aa0a6;")
        self.note_label.hide()

        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop after the current step; the last autosave stays usable")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue the last interrupted run from its autosave")
        self.resume_button.setEnabled(False)
        self.resume_button.clicked.connect(self.resumeRequested)

        top = QVBoxLayout()
        top.setSpacing(4)
        top.addWidget(self.title_label)
        top.addWidget(self.progress_bar)
        top.addWidget(self.status_label)
        top.addWidget(self.metrics_label)
        top.addWidget(self.warning_label)

        plot_row = QHBoxLayout()
        plot_row.setSpacing(8)
        plot_row.addWidget(self.plot, 3)
        prev_box = QVBoxLayout()
        prev_box.setSpacing(2)
        prev_box.addWidget(self.preview, 1)
        prev_box.addWidget(self.preview_caption)
        plot_row.addLayout(prev_box, 2)

        buttons = QHBoxLayout()
        buttons.addWidget(self.log_check)
        buttons.addWidget(self.note_label, 1)
        buttons.addStretch(0)
        buttons.addWidget(self.resume_button)
        buttons.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addLayout(plot_row, 1)
        layout.addLayout(buttons)

        self._throttle = QSignalThrottler(QSignalThrottler.EmissionPolicy.Trailing, self)
        self._throttle.setTimeout(int(1000 / REDRAW_HZ))
        self._throttle.triggered.connect(self.redraw)

    # ---- state --------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._running

    def start(self, title: str) -> None:
        """Begin a new run: clear curves, preview and text."""
        self._throttle.cancel()
        self._series.clear()
        for c in self._curves.values():
            c.setData([], [])  # kept for the next run: creating plot items costs a stall
        self._curves.clear()
        for line in self._stage_lines:
            self.plot.removeItem(line)
        self._stage_lines.clear()
        self._stage_key = None
        self._stage_offset = self._stage_total = self._global_step = 0
        self._stage_plotted = False
        self._view = None
        self._running = True
        self.title_label.setText(title)
        self.title_label.setStyleSheet("")
        self.set_warning("")
        self.status_label.setText("Starting…")
        self.status_label.setStyleSheet("")
        self.metrics_label.setText("")
        self.progress_bar.setValue(0)
        self.preview.set_image(None)
        self.preview_caption.setText("")
        self.cancel_button.setEnabled(True)
        self.resume_button.setEnabled(False)

    def update_progress(
        self,
        stage: str,
        stage_index: int,
        stage_count: int,
        step: int,
        total: int,
        rate: float,
        eta_s: float | None,
        metrics: dict[str, float],
    ) -> None:
        """One progress report (``stage_index`` counts from 0, ``step`` from 0 to ``total``)."""
        key = (stage, stage_index)
        if key != self._stage_key:
            # a stage without metrics (rendering training data, say) takes no room on the iteration axis
            if self._stage_key is not None and self._stage_plotted:
                self._stage_offset += max(self._stage_total, self._global_step - self._stage_offset)
                pen = pg.mkPen(color=(184, 188, 196, 70), style=Qt.PenStyle.DashLine)
                line = pg.InfiniteLine(self._stage_offset, angle=90, pen=pen)
                self.plot.addItem(line, ignoreBounds=True)
                self._stage_lines.append(line)
            self._stage_key = key
            self._stage_plotted = False
        self._stage_total = total
        self._global_step = self._stage_offset + step

        frac = (stage_index + (step / total if total else 0.0)) / max(1, stage_count)
        self.progress_bar.setValue(int(round(1000 * min(1.0, max(0.0, frac)))))
        self.status_label.setText(progress_text(stage, stage_index, stage_count, step, total, rate, eta_s))
        if metrics:
            self._stage_plotted = True
            for name, value in metrics.items():
                series = self._series.get(name)
                if series is None:
                    series = self._series[name] = _Series()
                series.append(self._global_step, float(value))
            self.metrics_label.setText("&nbsp;&nbsp; ".join(
                f'<span style="color:{self.curve_color(k)}">■</span>&nbsp;{html.escape(k)}&nbsp;{v:.4g}'
                for k, v in metrics.items()))
            self._schedule_redraw()

    def set_preview(self, rgb: np.ndarray, caption: str = "") -> None:
        """Show the latest sample (uint8 H×W×3), scaled to fit."""
        self.preview.set_image(rgb)
        self.preview_caption.setText(caption)

    def finish(self, message: str = "Done") -> None:
        self._end(message, error=False)

    def fail(self, message: str) -> None:
        self._end(message, error=True)

    def set_resume_available(self, available: bool) -> None:
        self.resume_button.setEnabled(bool(available))

    def set_run_buttons_visible(self, visible: bool) -> None:
        """Show or hide the monitor's Cancel and Resume, for a host that has its own (a dock with two
        sets of the same buttons, one of them greyed, confuses)."""
        self.cancel_button.setVisible(visible)
        self.resume_button.setVisible(visible)

    def set_warning(self, text: str) -> None:
        """Something the user should act on during the run (amber, stays until the next run); empty hides it."""
        self.warning_label.setText(f"⚠ {text}" if text else "")
        self.warning_label.setToolTip(text)
        # every line of it, at the width it has now: the plot gives way (a wrapped label's own minimum is one line)
        width = self.warning_label.width() if self.warning_label.isVisible() else self.width()
        self.warning_label.setMinimumHeight(self.warning_label.heightForWidth(width) if text else 0)
        self.warning_label.setVisible(bool(text))

    def set_note(self, text: str) -> None:
        """A small grey note, e.g. 'longest GUI stall: 35 ms'; empty text hides it."""
        self.note_label.setText(text)
        self.note_label.setVisible(bool(text))

    def _end(self, message: str, error: bool) -> None:
        self._running = False
        self.redraw()
        self.cancel_button.setEnabled(False)
        if not error:
            self.progress_bar.setValue(self.progress_bar.maximum())
        self.status_label.setText(message)
        self.status_label.setStyleSheet("color: #ef6c6c; font-weight: bold;" if error else "color: #81c784;")

    # ---- plotting -----------------------------------------------------------------------------
    def series(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """All recorded (global iteration, value) pairs of one metric (not decimated)."""
        return self._series[name].data()

    def metric_names(self) -> list[str]:
        return list(self._series)

    def drawn(self, name: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The points of a metric's curve as the plot shows them now (decimated), or None if not drawn yet."""
        curve = self._curves.get(name)
        return None if curve is None else curve.getData()

    def curve_color(self, name: str) -> str:
        """The colour of a metric's curve (and of its square in the metrics line)."""
        return CURVE_COLORS[list(self._series).index(name) % len(CURVE_COLORS)]

    def _schedule_redraw(self) -> None:
        self._dirty = True
        self._throttle.throttle()

    def redraw(self) -> None:
        """Push the buffered values to the plot now (normally done by a timer, ≤ REDRAW_HZ per second)."""
        self._throttle.cancel()
        if not self._dirty:
            return
        self._dirty = False
        for name, series in self._series.items():
            curve = self._curves.get(name)
            if curve is None:
                curve = self._curves[name] = self._curve(len(self._curves))
            x, y = decimate(*series.data())
            curve.setData(x, y, connect="finite")
        self._fit_view()

    def _curve(self, index: int) -> pg.PlotDataItem:
        """The plot item of the ``index``-th metric, in that index's colour. Items are made ahead (see
        ``__init__``) and reused across runs: adding one to the plot at the first redraw of a run took
        ~10 ms each and made the longest GUI stall of a training start."""
        while len(self._pool) <= index:
            colour = CURVE_COLORS[len(self._pool) % len(CURVE_COLORS)]
            item = self.plot.plot(pen=pg.mkPen(colour, width=1))
            item.setLogMode(False, self.log_check.isChecked())
            self._pool.append(item)
        return self._pool[index]

    def _fit_view(self) -> None:
        """Show every iteration of the current stage and all values, moving the range only when the
        data leaves it or fills less than a third of its height (hysteresis keeps the axes still)."""
        ys = [c.yData for c in self._curves.values() if c.yData is not None and len(c.yData)]
        if not ys:
            return
        y = np.concatenate(ys)
        if self.log_check.isChecked():
            y = np.log10(y[y > 0])
        y = y[np.isfinite(y)]
        if not y.size:
            return
        lo, hi = float(y.min()), float(y.max())
        span = max(hi - lo, 1e-6 * max(1.0, abs(hi)))
        x_end = float(max(self._stage_offset + self._stage_total, self._global_step, 1))
        pi = self.plot.getPlotItem()
        view = self._view
        if view is None or view[0] != x_end:
            pi.setXRange(0, x_end, padding=0.02)
        if view is None or lo < view[1] or hi > view[2] or view[2] - view[1] > 3 * span:
            view = (x_end, lo - 0.15 * span, hi + 0.15 * span)
            pi.setYRange(view[1], view[2], padding=0)
        self._view = (x_end, view[1], view[2])

    def _set_log_y(self, on: bool) -> None:
        self.plot.getPlotItem().setLogMode(x=False, y=on)
        self._view = None
        self._fit_view()
