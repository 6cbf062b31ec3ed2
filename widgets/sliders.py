"""Parameter controls: float slider, range slider and seed field (the labelled integer slider is
widgets/labeled_slider.py).

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

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSlider,
    QSpinBox,
    QToolButton,
    QWidget,
)
from superqt import QLabeledDoubleRangeSlider, QLabeledDoubleSlider

__all__ = ["FloatSlider", "RangeSlider", "SeedControl"]

_SEED_MAX = 2**31 - 1


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


def _regrid(control: FloatSlider | RangeSlider, what: str, minimum: float, maximum: float,
            step: float | None) -> None:
    """New bounds (and step, None: keep it) for a float or range slider, set without signals; the
    caller clamps its value(s) to them."""
    control._grid = _Grid(what, minimum, maximum, control._grid.step if step is None else step)
    with _quietly(control):
        control.slider.setRange(control._grid.min, control._grid.max)
        control.slider.setSingleStep(control._grid.step)
        control.slider.setDecimals(control._grid.decimals)


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
        _regrid(self, "FloatSlider", minimum, maximum, step)
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
        _regrid(self, "RangeSlider", minimum, maximum, step)
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
