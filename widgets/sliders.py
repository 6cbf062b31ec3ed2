"""Parameter controls: labelled integer slider, float slider, range slider and seed field.

The float and range sliders are superqt's labelled sliders (pyapp-kit/superqt, as in napari) with
two things added: values snap to a step, and the live/committed split below.

All follow one rule taken from napari's layer controls: when the *program* sets a value
(``set_value(v)``), signals are blocked so the model is not told about a change it made itself;
only the user's moves are emitted. Two kinds of signals:

* ``valueChanged`` fires continuously while the user drags (cheap previews),
* ``valueCommitted`` fires once the value settles (mouse released, key pressed, spin box edited)
  — connect expensive work (generating an image) here.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from PySide6.QtCore import QEvent, QObject, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QFontMetrics, QKeyEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QStyle,
    QStyleOptionSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QLabeledDoubleRangeSlider, QLabeledDoubleSlider

__all__ = ["LabeledSlider", "FloatSlider", "RangeSlider", "SeedControl"]

_SEED_MAX = 2**31 - 1


def _handle_centers(slider: QSlider) -> list[float]:
    """x of the handle centre for every value of a horizontal slider, in the slider's coordinates."""
    opt = QStyleOptionSlider()
    slider.initStyleOption(opt)
    style = slider.style()
    groove = style.subControlRect(
        QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderGroove, slider
    )
    handle = style.subControlRect(
        QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, slider
    )
    span = groove.width() - handle.width()
    out = []
    for v in range(slider.minimum(), slider.maximum() + 1):
        pos = QStyle.sliderPositionFromValue(slider.minimum(), slider.maximum(), v, span, opt.upsideDown)
        out.append(groove.x() + pos + handle.width() / 2.0)
    return out


class _TickLabels(QWidget):
    """The row of tick labels under a LabeledSlider; drops labels that would overlap."""

    def __init__(self, slider: QSlider, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._slider = slider
        self._labels: list[str] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_labels(self, labels: list[str]) -> None:
        self._labels = list(labels)
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(100, self._font().pointSize() + 10 if self._labels else 0)

    def minimumSizeHint(self) -> QSize:
        return QSize(10, self.sizeHint().height())

    def _font(self):
        f = self.font()
        f.setPointSizeF(max(6.0, f.pointSizeF() * 0.85))
        return f

    def paintEvent(self, event) -> None:
        if not self._labels:
            return
        p = QPainter(self)
        p.setFont(self._font())
        fm = QFontMetrics(p.font())
        color = self.palette().color(QPalette.ColorRole.WindowText)
        color.setAlphaF(0.75)
        p.setPen(color)
        offset = self._slider.geometry().x() - self.geometry().x()  # siblings in one layout
        centers = [c + offset for c in _handle_centers(self._slider)]
        n = min(len(centers), len(self._labels))
        if n == 0:
            return
        # Always keep the first and last label; fill in the others left to right where they fit.
        widths = [fm.horizontalAdvance(t) for t in self._labels[:n]]
        order = [0, n - 1] + list(range(1, n - 1)) if n > 1 else [0]
        placed: list[tuple[float, float]] = []
        gap = fm.horizontalAdvance("  ")
        for i in order:
            x0 = min(max(centers[i] - widths[i] / 2.0, 0.0), self.width() - widths[i])
            x1 = x0 + widths[i]
            if any(x0 < b + gap and x1 + gap > a for a, b in placed):
                continue
            placed.append((x0, x1))
            p.drawText(QRectF(x0, 0, widths[i], self.height()), Qt.AlignmentFlag.AlignCenter, self._labels[i])
        p.end()


class LabeledSlider(QWidget):
    """An integer slider whose positions have names (e.g. SinGAN scales "25×33" … "188×250").

    Signals: ``valueChanged(int)`` while dragging, ``valueCommitted(int)`` when the value settles.
    """

    valueChanged = Signal(int)
    valueCommitted = Signal(int)

    def __init__(
        self, title: str = "", labels: list[str] | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._labels: list[str] = []
        self._title = QLabel(title)
        self.readout = QLabel()
        self.readout.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        f = self.readout.font()
        f.setBold(True)
        self.readout.setFont(f)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(1)
        self.slider.setPageStep(1)
        self._ticks = _TickLabels(self.slider)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self._title)
        top.addStretch(1)
        top.addWidget(self.readout)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(top)
        lay.addWidget(self.slider)
        lay.addWidget(self._ticks)
        self._title.setVisible(bool(title))

        self.slider.valueChanged.connect(self._on_slider_value)
        self._committed = 0
        self.slider.sliderReleased.connect(lambda: self._commit(self.slider.value()))
        self.set_labels(labels or [])

    # -- public API ---------------------------------------------------------------------------
    def set_labels(self, labels: list[str]) -> None:
        """One label per position; the range becomes 0..len(labels)-1 (the value is clamped, silently)."""
        self._labels = [str(t) for t in labels]
        blocked = self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(self._labels) - 1))
        self.slider.blockSignals(blocked)
        self._committed = self.slider.value()
        self.slider.setEnabled(len(self._labels) > 1)
        self._ticks.set_labels(self._labels)
        self._update_readout()

    def labels(self) -> list[str]:
        return list(self._labels)

    def value(self) -> int:
        return self.slider.value()

    def current_label(self) -> str:
        v = self.slider.value()
        return self._labels[v] if 0 <= v < len(self._labels) else str(v)

    def set_value(self, v: int, emit: bool = False) -> None:
        """Set from the program: no signals unless ``emit`` (then both valueChanged and valueCommitted)."""
        blocked = self.slider.blockSignals(True)
        self.slider.setValue(int(v))
        self.slider.blockSignals(blocked)
        self._committed = self.slider.value()
        self._update_readout()
        if emit:
            self.valueChanged.emit(self.slider.value())
            self.valueCommitted.emit(self.slider.value())

    def setToolTip(self, text: str) -> None:
        super().setToolTip(text)
        self.slider.setToolTip(text)

    # -- internals ----------------------------------------------------------------------------
    def _update_readout(self) -> None:
        self.readout.setText(self.current_label() if self._labels else "")

    def _on_slider_value(self, v: int) -> None:
        self._update_readout()
        self.valueChanged.emit(v)
        if not self.slider.isSliderDown():  # keyboard, wheel or a click on the groove
            self._commit(v)

    def _commit(self, v: int) -> None:
        # a press and release on the handle without moving it changes nothing: no commit
        if v != self._committed:
            self._committed = v
            self.valueCommitted.emit(v)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._ticks.update()


def _check_bounds(what: str, minimum: float, maximum: float, step: float | None) -> None:
    if maximum < minimum:
        raise ValueError(f"{what}: maximum {maximum} is below minimum {minimum}")
    if step is not None and step <= 0:
        raise ValueError(f"{what}: step must be positive (got {step})")


def _decimals_for(step: float) -> int:
    if step <= 0:
        return 2
    return max(0, min(6, int(math.ceil(-math.log10(step) - 1e-9))))


class _Grid:
    """Values on a step grid in [minimum, maximum]: superqt's float sliders are continuous, ours snap."""

    def __init__(self, what: str, minimum: float, maximum: float, step: float) -> None:
        _check_bounds(what, minimum, maximum, step)
        self.min, self.max, self.step = float(minimum), float(maximum), float(step)
        self.decimals = _decimals_for(self.step)

    def snap(self, v: float) -> float:
        v = min(max(float(v), self.min), self.max)
        v = min(self.min + round((v - self.min) / self.step) * self.step, self.max)
        return round(v, self.decimals + 2)

    def key_steps(self, key: int) -> int | None:
        """How many steps a key moves a value: one for an arrow, a tenth of the range for a page key."""
        page = max(1, round((self.max - self.min) / self.step) // 10)
        return {
            Qt.Key.Key_Left: -1, Qt.Key.Key_Down: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: 1,
            Qt.Key.Key_PageDown: -page, Qt.Key.Key_PageUp: page,
        }.get(key)


@contextmanager
def _quietly(control: FloatSlider | RangeSlider) -> Iterator[None]:
    """The program moves a control's bar: its handler ignores the moves (no signals, no snapping)."""
    control._quiet = True
    try:
        yield
    finally:
        control._quiet = False


class _UserInput(QObject):
    """Watches the bar of a superqt slider: is the mouse holding it, and arrow / page keys.

    superqt jumps the handle on a mouse press *before* it marks the slider down, so the press state
    comes from here; and its float sliders leave keys to QAbstractSlider's integer model, which they
    do not use, so the keys are handled here too (``on_key(key)`` returns True when it used one).
    """

    def __init__(self, bar: QWidget, on_key: Callable[[int], bool]) -> None:
        super().__init__(bar)
        self.pressed = False
        self._on_key = on_key
        bar.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick):
            self.pressed = True
        elif kind == QEvent.Type.MouseButtonRelease:
            self.pressed = False
        elif kind == QEvent.Type.KeyPress:
            return self._on_key(event.key())
        return False


class FloatSlider(QWidget):
    """A float value in [minimum, maximum], on a step grid: superqt's labelled slider (its number is editable).

    Signals: ``valueChanged(float)`` while dragging, ``valueCommitted(float)`` when it settles
    (mouse released, key pressed, number typed and confirmed).
    """

    valueChanged = Signal(float)
    valueCommitted = Signal(float)

    def __init__(
        self,
        title: str = "",
        minimum: float = 0.0,
        maximum: float = 1.0,
        step: float = 0.01,
        value: float | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._title = QLabel(title)
        self.slider = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
        #: the number beside the bar; type a value and press Enter to set it
        self.field: QLineEdit = self.slider.findChild(QLineEdit)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self._title)
        lay.addWidget(self.slider, 1)
        self._title.setVisible(bool(title))
        self._grid = _Grid("FloatSlider", minimum, maximum, step)
        self._value = self._committed = self._grid.min
        self._quiet = False  # True while the program moves the bar
        bar = self.slider.findChild(QSlider)
        self._input = _UserInput(bar, self._on_key)
        bar.valueChanged.connect(self._on_slider)  # after superqt's own slot: its number is up to date
        self.slider.sliderReleased.connect(lambda: self._commit(self._value))
        self.set_range(minimum, maximum, step)
        self.set_value(minimum if value is None else value)

    def set_range(self, minimum: float, maximum: float, step: float | None = None) -> None:
        """Change the bounds (and step); the value is clamped silently."""
        self._grid = _Grid("FloatSlider", minimum, maximum, self._grid.step if step is None else step)
        with _quietly(self):
            self.slider.setRange(self._grid.min, self._grid.max)
            self.slider.setSingleStep(self._grid.step)
            self.slider.setDecimals(self._grid.decimals)
        self.set_value(self._value)

    def minimum(self) -> float:
        return self._grid.min

    def maximum(self) -> float:
        return self._grid.max

    def value(self) -> float:
        return self._value

    def set_value(self, v: float, emit: bool = False) -> None:
        """Set from the program (clamped to the range, snapped to the step); no signals unless ``emit``."""
        self._value = self._committed = self._grid.snap(v)
        self._show(self._value)
        if emit:
            self.valueChanged.emit(self._value)
            self.valueCommitted.emit(self._value)

    def _show(self, v: float) -> None:
        with _quietly(self):
            self.slider.setValue(v)

    def _on_slider(self, raw: float) -> None:
        if self._quiet:
            return
        v = self._grid.snap(raw)
        if v != raw:
            self._show(v)
        if v != self._value:
            self._value = v
            self.valueChanged.emit(v)
        if not (self._input.pressed or self.slider.isSliderDown()):  # typed, wheel: settled now
            self._commit(v)

    def _on_key(self, key: int) -> bool:
        steps = self._grid.key_steps(key)
        if steps is None or not self.isEnabled():
            return False
        self.slider.setValue(self._grid.snap(self._value + steps * self._grid.step))
        return True

    def _commit(self, v: float) -> None:
        # a press and release on the handle without moving it changes nothing: no commit
        if v != self._committed:
            self._committed = v
            self.valueCommitted.emit(v)


class RangeSlider(QWidget):
    """A [lo, hi] float range on a step grid: superqt's labelled range slider; lo <= hi always holds.

    Dragging stops a handle one step before the other; typing a bound past the other one
    drags the other along. Signals: ``rangeChanged(float, float)`` on every change by the user
    (also while dragging), ``rangeCommitted(float, float)`` when it settles. Arrow keys move the
    handle that moved last.
    """

    rangeChanged = Signal(float, float)
    rangeCommitted = Signal(float, float)

    def __init__(
        self,
        title: str = "",
        minimum: float = 0.0,
        maximum: float = 1.0,
        step: float = 0.01,
        values: tuple[float, float] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._title = QLabel(title)
        self.slider = QLabeledDoubleRangeSlider(Qt.Orientation.Horizontal)
        self.slider.setHandleLabelPosition(QLabeledDoubleRangeSlider.LabelPosition.NoLabel)
        self.slider.setEdgeLabelMode(QLabeledDoubleRangeSlider.EdgeLabelMode.LabelIsValue)
        # the numbers at the two ends, left and right of the bar (type a bound and press Enter)
        edges = [w for w in self.slider.findChildren(QLineEdit) if not w.isHidden()]
        self.lo_field, self.hi_field = sorted(edges, key=lambda w: self.slider.layout().indexOf(w))
        for field, tip in ((self.lo_field, "lower bound"), (self.hi_field, "upper bound")):
            field.setToolTip(tip)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self._title)
        lay.addWidget(self.slider, 1)
        self._title.setVisible(bool(title))
        self._grid = _Grid("RangeSlider", minimum, maximum, step)
        self._lo, self._hi = self._grid.min, self._grid.max
        self._active = 0  # the handle the arrow keys move: the one that moved last
        self._committed = (self._lo, self._hi)
        self._quiet = False  # True while the program moves the bar
        bar = self.slider.findChild(QSlider)
        self._input = _UserInput(bar, self._on_key)
        bar.valueChanged.connect(self._on_slider)  # after superqt's own slot: its numbers are up to date
        self.slider.sliderReleased.connect(self._commit)
        self.set_bounds(minimum, maximum, step)
        self.set_values(*(values if values is not None else (minimum, maximum)))

    def set_bounds(self, minimum: float, maximum: float, step: float | None = None) -> None:
        """Change the outer limits (and step); the current range is clamped silently."""
        self._grid = _Grid("RangeSlider", minimum, maximum, self._grid.step if step is None else step)
        with _quietly(self):
            self.slider.setRange(self._grid.min, self._grid.max)
            self.slider.setSingleStep(self._grid.step)
            self.slider.setDecimals(self._grid.decimals)
        self.set_values(self._lo, self._hi)

    def values(self) -> tuple[float, float]:
        return self._lo, self._hi

    def set_values(self, lo: float, hi: float, emit: bool = False) -> None:
        """Set from the program; clamped to the bounds, swapped if lo > hi; no signals unless ``emit``."""
        lo, hi = sorted((self._grid.snap(lo), self._grid.snap(hi)))
        self._show(lo, hi)
        self._committed = (lo, hi)
        if emit:
            self.rangeChanged.emit(self._lo, self._hi)
            self.rangeCommitted.emit(self._lo, self._hi)

    def _show(self, lo: float, hi: float) -> None:
        self._lo, self._hi = lo, hi
        with _quietly(self):
            self.slider.setValue((lo, hi))

    def _on_slider(self, raw: tuple[float, float]) -> None:
        if self._quiet:
            return
        lo, hi = (self._grid.snap(v) for v in raw)
        moved_lo, moved_hi = lo != self._lo, hi != self._hi
        if lo > hi:  # a typed bound passed the other one: it drags the other along
            lo, hi = (lo, lo) if moved_lo else (hi, hi)
        if (lo, hi) == (self._lo, self._hi):
            if (lo, hi) != tuple(raw):
                self._show(lo, hi)
            return
        self._active = 1 if moved_hi and not moved_lo else 0
        self._show(lo, hi)
        self.rangeChanged.emit(lo, hi)
        if not (self._input.pressed or self.slider.isSliderDown()):  # typed, wheel: settled now
            self._commit()

    def _on_key(self, key: int) -> bool:
        steps = self._grid.key_steps(key)
        if steps is None or not self.isEnabled():
            return False
        delta = steps * self._grid.step
        lo, hi = self._lo, self._hi
        if self._active == 0:
            lo = min(self._grid.snap(lo + delta), hi)
        else:
            hi = max(self._grid.snap(hi + delta), lo)
        if (lo, hi) != (self._lo, self._hi):
            self._show(lo, hi)
            self.rangeChanged.emit(lo, hi)
            self._commit()
        return True

    def _commit(self) -> None:
        if (self._lo, self._hi) != self._committed:
            self._committed = (self._lo, self._hi)
            self.rangeCommitted.emit(self._lo, self._hi)


class SeedControl(QWidget):
    """Random seed: a number field, a lock, and a "new seed" button.

    ``next_seed()`` is what a generator calls before drawing a sample: the same seed while locked
    (reproduce / vary other parameters), a fresh random one otherwise. Signal ``seedChanged(int)``
    fires when the user (or ``next_seed``) changes the seed.
    """

    seedChanged = Signal(int)
    lockedChanged = Signal(bool)

    def __init__(self, seed: int = 0, locked: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rng = random.SystemRandom()
        self._label = QLabel("Seed")
        self.spin = QSpinBox()
        self.spin.setRange(0, _SEED_MAX)
        self.spin.setKeyboardTracking(False)
        self.spin.setToolTip("Random seed: the same seed with the same settings gives the same image")
        self.spin.setMinimumWidth(self.spin.fontMetrics().horizontalAdvance("0000000000") + 24)
        self.lock_button = QToolButton()
        self.lock_button.setCheckable(True)
        self.lock_button.setText("Lock")
        self.lock_button.setToolTip("Lock the seed: new samples reuse it (L)")
        self.new_button = QToolButton()
        self.new_button.setText("New")
        self.new_button.setToolTip("Draw a new random seed (N)")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self._label)
        lay.addWidget(self.spin, 1)
        lay.addWidget(self.lock_button)
        lay.addWidget(self.new_button)
        self.spin.valueChanged.connect(self.seedChanged)
        self.lock_button.toggled.connect(self._on_lock)
        self.new_button.clicked.connect(self.new_seed)
        self.set_seed(seed)
        self.set_locked(locked)

    def seed(self) -> int:
        return self.spin.value()

    def set_seed(self, seed: int, emit: bool = False) -> None:
        """Set from the program; no signal unless ``emit``."""
        blocked = self.spin.blockSignals(True)
        self.spin.setValue(int(seed) % (_SEED_MAX + 1))
        self.spin.blockSignals(blocked)
        if emit:
            self.seedChanged.emit(self.spin.value())

    def locked(self) -> bool:
        return self.lock_button.isChecked()

    def set_locked(self, locked: bool) -> None:
        self.lock_button.setChecked(bool(locked))
        self._on_lock(bool(locked))

    def new_seed(self) -> int:
        """Draw a fresh random seed (different from the current one), show it and emit seedChanged."""
        s = self.seed()
        while s == self.seed():
            s = self._rng.randint(0, _SEED_MAX)
        self.set_seed(s, emit=True)
        return s

    def next_seed(self) -> int:
        """The seed for the next sample: the current one when locked, else a new random one."""
        return self.seed() if self.locked() else self.new_seed()

    def _on_lock(self, on: bool) -> None:
        self.lock_button.setText("Locked" if on else "Lock")
        self.new_button.setEnabled(not on)
        self.lockedChanged.emit(on)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_L:
            self.lock_button.toggle()
        elif event.key() == Qt.Key.Key_N and not self.locked():
            self.new_seed()
        else:
            super().keyPressEvent(event)
