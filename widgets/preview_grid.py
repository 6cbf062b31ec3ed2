"""A square grid of image tiles drawn scaled; hovering outlines a tile and a click emits its index."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from widgets.convert import to_qimage

__all__ = ["PreviewGrid"]


class PreviewGrid(QWidget):
    """Tiles of uint8 H×W×3 images, ``cols`` per row, in the largest centred square.

    Signal ``tileClicked(int)``: the index of the tile the user clicked. ``placeholder`` is drawn
    while there are no images.
    """

    tileClicked = Signal(int)

    def __init__(self, cols: int = 4, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cols = cols
        self.placeholder = placeholder
        self._images: list = []
        self._qimages: list = []
        self._hover = -1
        self.setMouseTracking(True)
        self.setMinimumSize(240, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def sizeHint(self) -> QSize:
        return QSize(520, 520)

    def set_images(self, images: np.ndarray | list) -> None:
        self._images = list(images)
        self._qimages = [to_qimage(np.ascontiguousarray(im)) for im in self._images]
        self.update()

    def images(self) -> list:
        return self._images

    def tile_rect(self, k: int) -> QRectF:
        side = min(self.width(), self.height())
        cell = side / self.cols
        r, c = divmod(k, self.cols)
        x0 = (self.width() - side) / 2
        return QRectF(x0 + c * cell + 1, r * cell + 1, cell - 2, cell - 2)

    def index_at(self, x: float, y: float) -> int:
        for k in range(len(self._qimages)):
            if self.tile_rect(k).contains(x, y):
                return k
        return -1

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        p.fillRect(self.rect(), self.palette().window())
        if not self._qimages and self.placeholder:
            p.setPen(self.palette().text().color())
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
        for k, qi in enumerate(self._qimages):
            p.drawImage(self.tile_rect(k), qi)
        if 0 <= self._hover < len(self._qimages):
            p.setPen(QPen(QColor(255, 255, 255), 2))
            p.drawRect(self.tile_rect(self._hover).adjusted(1, 1, -1, -1))
        p.end()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        k = self.index_at(event.position().x(), event.position().y())
        if k != self._hover:
            self._hover = k
            self.update()

    def leaveEvent(self, event) -> None:
        self._hover = -1
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            k = self.index_at(event.position().x(), event.position().y())
            if k >= 0:
                self.tileClicked.emit(k)
