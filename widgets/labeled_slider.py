"""LabeledSlider: an integer slider whose positions have names (SinGAN's scales "25×33" … "188×250"),
drawn as tick labels under the handle positions. Like the sliders of widgets/sliders.py, a value set
by the program emits nothing; ``valueChanged`` fires while the user drags and ``valueCommitted``
once the value settles."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QVBoxLayout,
    QWidget,
)

__all__ = ["LabeledSlider"]


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
