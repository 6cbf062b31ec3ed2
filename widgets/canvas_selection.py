"""The canvas's selection part: rectangle and lasso selections as a float32 H×W mask (1 inside)
with a dashed outline. Owned by :class:`~widgets.canvas.ImageCanvas` as ``canvas.selection``; the
canvas hands it the mouse while a selection tool drags."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBitmap, QColor, QImage, QPainter, QPainterPath, QPolygonF, QRegion
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene

from widgets.convert import cosmetic_pen, from_qimage_rgba, mask_to_qimage


class Selection:
    """The selection of the shown image; ``changed()`` is called when the mask changes."""

    def __init__(self, scene: QGraphicsScene, image_shape: Callable[[], tuple | None],
                 changed: Callable[[], None]) -> None:
        self._image_shape, self._changed = image_shape, changed
        self._mask: np.ndarray | None = None
        self._under = QGraphicsPathItem()
        self._under.setPen(cosmetic_pen(QColor(255, 255, 255), 1.0))
        self._over = QGraphicsPathItem()
        dashed = cosmetic_pen(QColor(0, 0, 0), 1.0)
        dashed.setDashPattern([4.0, 4.0])
        self._over.setPen(dashed)
        for z, it in ((4, self._under), (4.1, self._over)):
            it.setZValue(z)
            scene.addItem(it)
        self._rect_start: QPointF | None = None
        self._lasso: list[QPointF] | None = None

    # -- the mask ------------------------------------------------------------------------------
    def mask(self) -> np.ndarray | None:
        """float32 H×W, 1 inside the selection; None when nothing is selected."""
        return None if self._mask is None else self._mask.copy()

    @property
    def active(self) -> bool:
        """Something is selected."""
        return self._mask is not None

    def clear(self, emit: bool = True) -> None:
        if self._mask is not None:
            self._set(None, QPainterPath(), emit)

    def reset(self) -> None:
        """No selection and no outline (a new image); ``changed`` only if something was selected."""
        self._set(None, QPainterPath(), emit=self._mask is not None)

    def set_mask(self, mask: np.ndarray | None) -> None:
        """Select from a mask (H×W of the image's size, > 0.5 = selected); None or empty clears."""
        shape = self._image_shape()
        if mask is None or shape is None:
            return self.clear()
        m = np.asarray(mask, np.float32)
        if m.shape != shape[:2]:
            raise ValueError(f"selection mask must be {shape[:2]} (got {m.shape})")
        inside = m > 0.5
        if not inside.any():
            return self.clear()
        bitmap = QBitmap.fromImage(
            mask_to_qimage(inside.astype(np.uint8) * 255).convertToFormat(QImage.Format.Format_Mono)
        )
        outline = QPainterPath()
        outline.addRegion(QRegion(bitmap))
        self._set(inside.astype(np.float32), outline.simplified())

    # -- dragging a selection tool -------------------------------------------------------------
    @property
    def dragging(self) -> bool:
        return self._rect_start is not None or self._lasso is not None

    def press(self, tool: str, pt: QPointF) -> None:
        """A selection tool ("rect_select", "lasso_select") was pressed at image point ``pt``."""
        if tool == "rect_select":
            self._rect_start = pt
            self._show_outline(QPainterPath())
        else:
            self._lasso = [pt]

    def drag(self, pt: QPointF) -> None:
        path = QPainterPath()
        if self._rect_start is not None:
            path.addRect(self._pixel_rect(self._rect_start, pt))
        else:
            self._lasso.append(pt)
            path.addPolygon(QPolygonF(self._lasso))
        self._show_outline(path)

    def release(self, pt: QPointF) -> None:
        if self._rect_start is not None:
            start, self._rect_start = self._rect_start, None
            self._finish_rect(start, pt)
        elif self._lasso is not None:
            pts, self._lasso = self._lasso, None
            self._finish_lasso(pts)

    def _pixel_rect(self, a: QPointF, b: QPointF) -> QRectF:
        """The pixels between two image points, both end pixels included, clipped to the image."""
        h, w = self._image_shape()[:2]
        x0 = min(max(math.floor(min(a.x(), b.x())), 0), w)
        y0 = min(max(math.floor(min(a.y(), b.y())), 0), h)
        x1 = min(max(math.floor(max(a.x(), b.x())) + 1, 0), w)
        y1 = min(max(math.floor(max(a.y(), b.y())) + 1, 0), h)
        return QRectF(x0, y0, max(x1 - x0, 0), max(y1 - y0, 0))

    def _finish_rect(self, a: QPointF, b: QPointF) -> None:
        r = self._pixel_rect(a, b)
        if (math.floor(a.x()), math.floor(a.y())) == (math.floor(b.x()), math.floor(b.y())) or r.isEmpty():
            return self.clear()  # a click without a drag drops the selection
        h, w = self._image_shape()[:2]
        m = np.zeros((h, w), np.float32)
        m[int(r.top()) : int(r.bottom()), int(r.left()) : int(r.right())] = 1.0
        path = QPainterPath()
        path.addRect(r)
        self._set(m, path)

    def _finish_lasso(self, pts: list[QPointF]) -> None:
        poly = QPolygonF(pts)
        if len(pts) < 3 or poly.boundingRect().width() < 1 or poly.boundingRect().height() < 1:
            return self.clear()
        h, w = self._image_shape()[:2]
        img = QImage(w, h, QImage.Format.Format_ARGB32)
        img.fill(Qt.GlobalColor.transparent)
        p = QPainter(img)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(255, 255, 255))
        p.drawPolygon(poly)
        p.end()
        m = (from_qimage_rgba(img)[..., 3] > 127).astype(np.float32)
        if not m.any():
            return self.clear()
        path = QPainterPath()
        path.addPolygon(poly)
        path.closeSubpath()
        self._set(m, path)

    def _show_outline(self, path: QPainterPath) -> None:
        self._under.setPath(path)
        self._over.setPath(path)

    def _set(self, mask: np.ndarray | None, outline: QPainterPath, emit: bool = True) -> None:
        self._mask = mask
        self._show_outline(outline)
        if emit:
            self._changed()
