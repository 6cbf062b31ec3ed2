"""The canvas's comparison part: another image (e.g. a task's input) shown instead of the image, or
beside it in a split view with a divider. Owned by :class:`~widgets.canvas.ImageCanvas` as
``canvas.compare``; it holds its scene items and lays them over the image's rectangle."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPen, QPixmap, QTransform
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsLineItem,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
)

from widgets.convert import as_rgb_u8, cosmetic_pen, to_qimage


class CompareLayer:
    """The comparison image above the image, clipped to the left part for a split view."""

    def __init__(self, scene: QGraphicsScene, image_rect) -> None:
        self._image_rect = image_rect  # () -> QRectF of the shown image
        self._clip = QGraphicsRectItem()
        self._clip.setPen(QPen(Qt.PenStyle.NoPen))
        self._clip.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape)
        self._clip.setZValue(1)
        self.item = QGraphicsPixmapItem(self._clip)
        self.item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        scene.addItem(self._clip)
        self._clip.setVisible(False)
        self._line = QGraphicsLineItem()
        self._line.setPen(cosmetic_pen(QColor(255, 255, 255, 220), 1.5))
        self._line.setZValue(5)
        self._line.setVisible(False)
        scene.addItem(self._line)
        self._pixmap: QPixmap | None = None
        self._shown = False
        self._split: float | None = None

    def set_image(self, rgb: np.ndarray | None) -> None:
        """An image to compare with (e.g. a task's input); stretched over the image's rectangle."""
        if rgb is None:
            self._pixmap = None
            self.item.setPixmap(QPixmap())
        else:
            self._pixmap = QPixmap.fromImage(to_qimage(as_rgb_u8(rgb, "comparison image")))
            self.item.setPixmap(self._pixmap)
        self.layout()

    def set_shown(self, on: bool) -> None:
        """Show the comparison image instead of the image (a toggle for before/after)."""
        self._shown = bool(on)
        self.layout()

    def shown(self) -> bool:
        return self._shown

    def set_split(self, fraction: float | None) -> None:
        """Split view: the comparison image on the left ``fraction`` of the width, the image on the
        right, with a divider. ``None`` turns the split off."""
        self._split = None if fraction is None else float(min(max(fraction, 0.0), 1.0))
        self.layout()

    def layout(self) -> None:
        """Fit the items to the image's rectangle (after the image or the settings changed)."""
        r = self._image_rect()
        pm = self._pixmap
        visible = pm is not None and not r.isEmpty() and (self._shown or self._split is not None)
        self._clip.setVisible(visible)
        self._line.setVisible(visible and self._split is not None and not self._shown)
        if not visible:
            return
        self.item.setTransform(QTransform.fromScale(r.width() / pm.width(), r.height() / pm.height()))
        clip = QRectF(r)
        if self._split is not None and not self._shown:
            clip.setWidth(r.width() * self._split)
            x = clip.right()
            self._line.setLine(x, r.top(), x, r.bottom())
        self._clip.setRect(clip)
