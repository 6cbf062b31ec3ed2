"""A label that shows a uint8 image scaled to fit, keeping its aspect ratio, and rescales on resize.

Small GAN samples are enlarged by whole pixels (crisp, nearest neighbour); big images are shrunk
smoothly. Until an image is set (or after ``set_image(None)``) it shows a placeholder text.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPixmap, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from widgets.convert import to_pixmap

__all__ = ["ImageLabel"]


class ImageLabel(QLabel):
    """Shows an H×W×3 uint8 RGB image fitted to the label; ``image()`` is the array last set."""

    def __init__(self, min_side: int = 64, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: np.ndarray | None = None
        self._pixmap: QPixmap | None = None
        self._placeholder = placeholder
        self.setStyleSheet("color: #7d828a;")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(min_side, min_side)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._rescale()

    def set_image(self, rgb: np.ndarray | None) -> None:
        """Show ``rgb`` (None: back to the placeholder)."""
        self._image = None if rgb is None else np.ascontiguousarray(rgb)
        self._pixmap = None if self._image is None else to_pixmap(self._image)
        self._rescale()

    def image(self) -> np.ndarray | None:
        return self._image

    def sizeHint(self) -> QSize:
        return QSize(160, 160).expandedTo(self.minimumSize())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._pixmap is None or self._pixmap.isNull():
            self.clear()
            self.setText(self._placeholder)
            return
        size = self.contentsRect().size()
        pm = self._pixmap
        mode = (
            Qt.TransformationMode.FastTransformation
            if pm.width() < size.width() and pm.height() < size.height()
            else Qt.TransformationMode.SmoothTransformation
        )
        self.setPixmap(pm.scaled(size, Qt.AspectRatioMode.KeepAspectRatio, mode))
