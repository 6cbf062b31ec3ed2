"""Parameter controls: labelled integer slider, float slider, range slider and seed field.

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

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QFontMetrics, QKeyEvent, QMouseEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QStyle,
    QStyleOptionSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

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

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
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
        self._readout = QLabel()
        self._readout.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        f = self._readout.font()
        f.setBold(True)
        self._readout.setFont(f)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(1)
        self.slider.setPageStep(1)
        self._ticks = _TickLabels(self.slider)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self._title)
        top.addStretch(1)
        top.addWidget(self._readout)
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

    def set_title(self, title: str) -> None:
        self._title.setText(title)
        self._title.setVisible(bool(title))

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

    def setToolTip(self, text: str) -> None:  # noqa: N802 (Qt name)
        super().setToolTip(text)
        self.slider.setToolTip(text)

    # -- internals ----------------------------------------------------------------------------
    def _update_readout(self) -> None:
        self._readout.setText(self.current_label() if self._labels else "")

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

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
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


class FloatSlider(QWidget):
    """A float value in [minimum, maximum] on a slider with a spin box kept in sync.

    Signals: ``valueChanged(float)`` while dragging, ``valueCommitted(float)`` when it settles
    (mouse released, key pressed, spin box edited and confirmed).
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
        self._min, self._max, self._step = 0.0, 1.0, 0.01
        self._title = QLabel(title)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.spin = QDoubleSpinBox()
        self.spin.setKeyboardTracking(False)  # typing "1.5" must not commit "1" first
        self.spin.setAccelerated(True)
        self.spin.setMinimumWidth(self.spin.fontMetrics().horizontalAdvance("-0000.000") + 24)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self._title)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.spin)
        self._title.setVisible(bool(title))
        self.slider.valueChanged.connect(self._on_slider)
        self._committed: float | None = None
        self.slider.sliderReleased.connect(lambda: self._commit(self.value()))
        self.spin.valueChanged.connect(self._on_spin)
        self.set_range(minimum, maximum, step)
        self.set_value(minimum if value is None else value)

    def set_range(self, minimum: float, maximum: float, step: float | None = None) -> None:
        """Change the bounds (and step); the value is clamped silently."""
        _check_bounds("FloatSlider", minimum, maximum, step)
        if step is not None:
            self._step = float(step)
        v = self.value() if hasattr(self, "_value") else minimum
        self._min, self._max = float(minimum), float(maximum)
        n = max(1, int(round((self._max - self._min) / self._step)))
        for w in (self.slider, self.spin):
            w.blockSignals(True)
        self.slider.setRange(0, n)
        self.slider.setPageStep(max(1, n // 10))
        self.spin.setDecimals(_decimals_for(self._step))
        self.spin.setRange(self._min, self._max)
        self.spin.setSingleStep(self._step)
        for w in (self.slider, self.spin):
            w.blockSignals(False)
        self.set_value(v)

    def minimum(self) -> float:
        return self._min

    def maximum(self) -> float:
        return self._max

    def value(self) -> float:
        return self._value

    def set_value(self, v: float, emit: bool = False) -> None:
        """Set from the program (clamped to the range); no signals unless ``emit``."""
        v = float(min(max(float(v), self._min), self._max))
        self._value = v
        self._committed = v
        self._sync(v)
        if emit:
            self.valueChanged.emit(v)
            self.valueCommitted.emit(v)

    def set_title(self, title: str) -> None:
        self._title.setText(title)
        self._title.setVisible(bool(title))

    def setToolTip(self, text: str) -> None:  # noqa: N802 (Qt name)
        super().setToolTip(text)
        self.slider.setToolTip(text)
        self.spin.setToolTip(text)

    def _to_index(self, v: float) -> int:
        return int(round((v - self._min) / self._step))

    def _sync(self, v: float) -> None:
        for w in (self.slider, self.spin):
            w.blockSignals(True)
        self.slider.setValue(self._to_index(v))
        self.spin.setValue(v)
        for w in (self.slider, self.spin):
            w.blockSignals(False)

    def _on_slider(self, i: int) -> None:
        v = min(self._min + i * self._step, self._max)
        v = round(v, _decimals_for(self._step) + 2)
        self._value = v
        self.spin.blockSignals(True)
        self.spin.setValue(v)
        self.spin.blockSignals(False)
        self.valueChanged.emit(v)
        if not self.slider.isSliderDown():
            self._commit(v)

    def _on_spin(self, v: float) -> None:
        self._value = float(v)
        self.slider.blockSignals(True)
        self.slider.setValue(self._to_index(v))
        self.slider.blockSignals(False)
        self.valueChanged.emit(self._value)
        self._commit(self._value)

    def _commit(self, v: float) -> None:
        if v != self._committed:
            self._committed = v
            self.valueCommitted.emit(v)


class _RangeBar(QWidget):
    """The two-handle bar itself. Works in slider units (ints) like QSlider; RangeSlider maps to floats."""

    moved = Signal(int, int)  # while dragging or on a key press
    released = Signal()

    HANDLE = 14
    GROOVE = 4

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._n = 100
        self._lo, self._hi = 0, 100
        self._active = 0  # 0 = lo handle, 1 = hi handle (keyboard target)
        self._drag: int | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)

    def sizeHint(self) -> QSize:
        return QSize(160, self.HANDLE + 8)

    def minimumSizeHint(self) -> QSize:
        return QSize(4 * self.HANDLE, self.HANDLE + 8)

    def set_steps(self, n: int) -> None:
        self._n = max(1, int(n))
        self._lo = min(self._lo, self._n)
        self._hi = min(self._hi, self._n)
        self.update()

    def set_values(self, lo: int, hi: int) -> None:
        self._lo, self._hi = int(lo), int(hi)
        self.update()

    def values(self) -> tuple[int, int]:
        return self._lo, self._hi

    def is_dragging(self) -> bool:
        return self._drag is not None

    def _x(self, i: int) -> float:
        r = self.HANDLE / 2.0
        return r + (self.width() - 2 * r) * i / self._n

    def _index(self, x: float) -> int:
        r = self.HANDLE / 2.0
        span = max(1.0, self.width() - 2 * r)
        return int(round(min(max((x - r) / span, 0.0), 1.0) * self._n))

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        cy = self.height() / 2.0
        groove = pal.color(QPalette.ColorRole.Mid)
        hl = pal.color(QPalette.ColorRole.Highlight)
        if not self.isEnabled():
            hl = pal.color(QPalette.ColorRole.Mid)
        x0, x1 = self._x(0), self._x(self._n)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(groove)
        p.drawRoundedRect(QRectF(x0, cy - self.GROOVE / 2, x1 - x0, self.GROOVE), 2, 2)
        lo, hi = self._x(self._lo), self._x(self._hi)
        p.setBrush(hl)
        p.drawRoundedRect(QRectF(lo, cy - self.GROOVE / 2, hi - lo, self.GROOVE), 2, 2)
        r = self.HANDLE / 2.0 - 1
        for k, x in enumerate((lo, hi)):
            p.setBrush(pal.color(QPalette.ColorRole.Button))
            edge = hl if (self.hasFocus() and k == self._active) else pal.color(QPalette.ColorRole.Dark)
            p.setPen(QPen(edge, 1.5))
            p.drawEllipse(QPointF(x, cy), r, r)
        p.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        x = event.position().x()
        dlo, dhi = abs(x - self._x(self._lo)), abs(x - self._x(self._hi))
        if self._lo == self._hi:  # handles on top of each other: pick by the side clicked
            self._drag = 1 if x >= self._x(self._hi) else 0
        else:
            self._drag = 0 if dlo < dhi else 1
        self._active = self._drag
        self._move_active(self._index(x))
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if self._drag is not None:
            self._move_active(self._index(event.position().x()))
            event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if self._drag is not None and event.button() == Qt.MouseButton.LeftButton:
            self._drag = None
            self.released.emit()
            event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt name)
        key = event.key()
        step = {Qt.Key.Key_Left: -1, Qt.Key.Key_Down: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: 1}.get(key)
        if key in (Qt.Key.Key_PageUp, Qt.Key.Key_PageDown):
            step = max(1, self._n // 10) * (1 if key == Qt.Key.Key_PageUp else -1)
        if key == Qt.Key.Key_Space:
            self._active = 1 - self._active
            self.update()
            return
        if step is None:
            return super().keyPressEvent(event)
        cur = self._lo if self._active == 0 else self._hi
        self._move_active(cur + step)
        self.released.emit()

    def _move_active(self, i: int) -> None:
        i = min(max(i, 0), self._n)
        lo, hi = self._lo, self._hi
        if self._active == 0:
            lo = min(i, hi)
        else:
            hi = max(i, lo)
        if (lo, hi) != (self._lo, self._hi):
            self._lo, self._hi = lo, hi
            self.update()
            self.moved.emit(lo, hi)


class RangeSlider(QWidget):
    """A [lo, hi] float range with two handles and two spin boxes; lo <= hi always holds.

    Signals: ``rangeChanged(float, float)`` on every change by the user (also while dragging),
    ``rangeCommitted(float, float)`` when it settles.
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
        self._min, self._max, self._step = 0.0, 1.0, 0.01
        self._lo, self._hi = 0.0, 1.0
        self._title = QLabel(title)
        self.bar = _RangeBar()
        self.lo_spin = QDoubleSpinBox()
        self.hi_spin = QDoubleSpinBox()
        for s, tip in ((self.lo_spin, "lower bound"), (self.hi_spin, "upper bound")):
            s.setKeyboardTracking(False)
            s.setToolTip(tip)
            s.setMinimumWidth(s.fontMetrics().horizontalAdvance("-000.000") + 24)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self._title)
        lay.addWidget(self.lo_spin)
        lay.addWidget(self.bar, 1)
        lay.addWidget(self.hi_spin)
        self._title.setVisible(bool(title))
        self.bar.moved.connect(self._on_bar)
        self.bar.released.connect(lambda: self.rangeCommitted.emit(self._lo, self._hi))
        self.lo_spin.valueChanged.connect(lambda v: self._on_spin(0, v))
        self.hi_spin.valueChanged.connect(lambda v: self._on_spin(1, v))
        self.set_bounds(minimum, maximum, step)
        self.set_values(*(values if values is not None else (minimum, maximum)))

    def set_bounds(self, minimum: float, maximum: float, step: float | None = None) -> None:
        """Change the outer limits (and step); the current range is clamped silently."""
        _check_bounds("RangeSlider", minimum, maximum, step)
        if step is not None:
            self._step = float(step)
        self._min, self._max = float(minimum), float(maximum)
        self.bar.set_steps(int(round((self._max - self._min) / self._step)))
        for s in (self.lo_spin, self.hi_spin):
            s.blockSignals(True)
            s.setDecimals(_decimals_for(self._step))
            s.setRange(self._min, self._max)
            s.setSingleStep(self._step)
            s.blockSignals(False)
        self.set_values(self._lo, self._hi)

    def values(self) -> tuple[float, float]:
        return self._lo, self._hi

    def set_values(self, lo: float, hi: float, emit: bool = False) -> None:
        """Set from the program; clamped to the bounds, swapped if lo > hi; no signals unless ``emit``."""
        lo, hi = sorted((float(lo), float(hi)))
        self._lo = min(max(lo, self._min), self._max)
        self._hi = min(max(hi, self._min), self._max)
        self._sync()
        if emit:
            self.rangeChanged.emit(self._lo, self._hi)
            self.rangeCommitted.emit(self._lo, self._hi)

    def set_title(self, title: str) -> None:
        self._title.setText(title)
        self._title.setVisible(bool(title))

    def _idx(self, v: float) -> int:
        return int(round((v - self._min) / self._step))

    def _val(self, i: int) -> float:
        return round(min(self._min + i * self._step, self._max), _decimals_for(self._step) + 2)

    def _sync(self) -> None:
        self.bar.set_values(self._idx(self._lo), self._idx(self._hi))
        for s, v in ((self.lo_spin, self._lo), (self.hi_spin, self._hi)):
            s.blockSignals(True)
            s.setValue(v)
            s.blockSignals(False)

    def _on_bar(self, lo: int, hi: int) -> None:
        self._lo, self._hi = self._val(lo), self._val(hi)
        for s, v in ((self.lo_spin, self._lo), (self.hi_spin, self._hi)):
            s.blockSignals(True)
            s.setValue(v)
            s.blockSignals(False)
        self.rangeChanged.emit(self._lo, self._hi)

    def _on_spin(self, which: int, v: float) -> None:
        lo, hi = self._lo, self._hi
        if which == 0:
            lo = v
            hi = max(hi, lo)  # pushing lo past hi drags hi along
        else:
            hi = v
            lo = min(lo, hi)
        self._lo, self._hi = lo, hi
        self._sync()
        self.rangeChanged.emit(lo, hi)
        self.rangeCommitted.emit(lo, hi)


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

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt name)
        if event.key() == Qt.Key.Key_L:
            self.lock_button.toggle()
        elif event.key() == Qt.Key.Key_N and not self.locked():
            self.new_seed()
        else:
            super().keyPressEvent(event)
