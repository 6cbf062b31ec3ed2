"""The canvas's paint part: a transparent ARGB layer of the image's size drawn above it, the brush
(colour, size, eraser) and its ring cursor. A stroke is a live QGraphicsPathItem while dragging
and is rasterised once on release, as one undo step that keeps only the stroke's bounding-box
crops. Owned by :class:`~widgets.canvas.ImageCanvas` as ``canvas.paint``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPainterPath, QPen, QUndoStack
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsScene,
    QStyleOptionGraphicsItem,
    QWidget,
)

from widgets.convert import cosmetic_pen, from_qimage_rgba, to_qimage
from widgets.patch_undo import PatchCommand, smooth_path_points


class LayerItem(QGraphicsItem):
    """Draws a QImage straight from memory: repainting a stroke's box needs no pixmap upload."""

    def __init__(self) -> None:
        super().__init__()
        self.image = QImage()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)  # fills exposedRect

    def set_image(self, image: QImage) -> None:
        self.prepareGeometryChange()
        self.image = image
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self.image.width(), self.image.height())

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if self.image.isNull():
            return
        zoom = painter.worldTransform().m11()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, zoom < 2.0)
        r = option.exposedRect.toAlignedRect().intersected(self.image.rect())
        if not r.isEmpty():
            painter.drawImage(r.topLeft(), self.image, r)


class PaintLayer:
    """The paint overlay of the shown image; ``changed()`` is called after every stroke, undo and redo."""

    def __init__(self, scene: QGraphicsScene, undo_stack: QUndoStack, changed: Callable[[], None]) -> None:
        self.undo_stack, self._changed = undo_stack, changed
        self._overlay = QImage()
        self._item = LayerItem()
        self._item.setZValue(2)
        scene.addItem(self._item)
        self._live = QGraphicsPathItem()
        self._live.setZValue(3)
        scene.addItem(self._live)
        self.cursor = scene.addEllipse(QRectF(), cosmetic_pen(QColor(255, 255, 255), 1.0))
        self.cursor.setZValue(6)
        self.cursor.setVisible(False)
        self._cursor_dark = QGraphicsEllipseItem(self.cursor)  # follows the white ring: visible on any colour
        ring_pen = cosmetic_pen(QColor(0, 0, 0), 1.0)
        ring_pen.setDashPattern([3.0, 3.0])
        self._cursor_dark.setPen(ring_pen)
        self._color = QColor(255, 0, 0)
        self._size = 12
        self._eraser = False
        self._stroke: list[QPointF] | None = None

    def reset(self, width: int, height: int) -> None:
        """A blank layer of a new image's size."""
        self._overlay = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
        self._overlay.fill(Qt.GlobalColor.transparent)
        self._item.set_image(self._overlay)

    # -- the brush -----------------------------------------------------------------------------
    def set_brush(self, color: tuple[int, int, int], size: int) -> None:
        """Brush colour (RGB) and diameter in image pixels."""
        self._color = QColor(*[int(c) for c in color[:3]])
        self._size = max(1, int(size))
        self.move_cursor(self.cursor.rect().center())

    def brush(self) -> tuple[tuple[int, int, int], int]:
        c = self._color
        return (c.red(), c.green(), c.blue()), self._size

    def set_eraser(self, on: bool) -> None:
        """Strokes erase the overlay instead of painting."""
        self._eraser = bool(on)

    def eraser(self) -> bool:
        return self._eraser

    def move_cursor(self, center: QPointF) -> None:
        """The brush ring, centred on an image point."""
        r = self._size / 2.0
        rect = QRectF(center.x() - r, center.y() - r, 2 * r, 2 * r)
        self.cursor.setRect(rect)
        self._cursor_dark.setRect(rect)

    # -- strokes -------------------------------------------------------------------------------
    @property
    def drawing(self) -> bool:
        return self._stroke is not None

    def press(self, pt: QPointF) -> None:
        self._stroke = [pt]
        self._update_live()

    def drag(self, pt: QPointF) -> None:
        last = self._stroke[-1]
        if (pt.x() - last.x()) ** 2 + (pt.y() - last.y()) ** 2 >= 0.25:
            self._stroke.append(pt)
            self._update_live()

    def release(self) -> None:
        points, self._stroke = self._stroke, None
        self._live.setPath(QPainterPath())
        self._commit(points)

    def _pen(self) -> QPen:
        pen = QPen(self._color, float(self._size))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        return pen

    def _path(self, points: list[QPointF]) -> QPainterPath:
        path = QPainterPath()
        if len(points) == 1:
            r = self._size / 2.0
            path.addEllipse(points[0], r, r)
        else:
            smooth_path_points(points, path)
        return path

    def _update_live(self) -> None:
        pts = self._stroke or []
        path = self._path(pts)
        pen = self._pen()
        if self._eraser:
            pen.setColor(QColor(255, 255, 255, 110))
        if len(pts) == 1:
            self._live.setPen(QPen(Qt.PenStyle.NoPen))
            self._live.setBrush(QBrush(pen.color()))
        else:
            self._live.setPen(pen)
            self._live.setBrush(QBrush())
        self._live.setPath(path)

    def _commit(self, points: list[QPointF]) -> None:
        path = self._path(points)
        pad = self._size / 2.0 + 2.0
        rect = path.controlPointRect().adjusted(-pad, -pad, pad, pad).toAlignedRect()
        rect = rect.intersected(self._overlay.rect())
        if rect.isEmpty():
            return
        before = self._overlay.copy(rect)
        p = QPainter(self._overlay)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self._eraser:
            p.setCompositionMode(QPainter.CompositionMode.CompositionMode_Clear)
        if len(points) == 1:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(self._color)
        else:
            p.setPen(self._pen())
            p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(path)
        p.end()
        after = self._overlay.copy(rect)
        text = "Erase" if self._eraser else "Paint"
        self.undo_stack.push(PatchCommand(text, self._overlay, rect, before, after, self._patched))

    def _patched(self, rect: QRect) -> None:
        self._item.update(QRectF(rect))
        self._changed()

    # -- the layer as an array -----------------------------------------------------------------
    def rgba(self) -> np.ndarray:
        """The paint layer: uint8 H×W×4, straight alpha (0 = untouched). Zeros if no image."""
        if self._overlay.isNull():
            return np.zeros((0, 0, 4), np.uint8)
        return from_qimage_rgba(self._overlay)

    def composite(self, image: np.ndarray) -> np.ndarray:
        """``image`` (uint8 H×W×3) with the layer on top; untouched pixels are exact."""
        ov = self.rgba()
        a = ov[..., 3:4].astype(np.uint16)
        out = (image.astype(np.uint16) * (255 - a) + ov[..., :3].astype(np.uint16) * a + 127) // 255
        return out.astype(np.uint8)

    def set_rgba(self, rgba: np.ndarray) -> None:
        """Replace the paint layer (uint8 H×W×4 of the image's size), as one undo step."""
        a = np.asarray(rgba)
        size = (self._overlay.height(), self._overlay.width())
        if self._overlay.isNull() or a.shape != size + (4,) or a.dtype != np.uint8:
            raise ValueError(f"overlay must be uint8 H×W×4 of the image's size (got {a.dtype} {a.shape})")
        new = to_qimage(np.ascontiguousarray(a)).convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
        self._replace(new, "Set overlay")

    def clear(self) -> None:
        """Erase all paint (one undo step; nothing happens when there is none)."""
        if self._overlay.isNull() or not self.rgba()[..., 3].any():
            return
        blank = QImage(self._overlay.size(), QImage.Format.Format_ARGB32_Premultiplied)
        blank.fill(Qt.GlobalColor.transparent)
        self._replace(blank, "Clear paint")

    def _replace(self, new: QImage, text: str) -> None:
        before = self._overlay.copy()
        self.undo_stack.push(PatchCommand(text, self._overlay, self._overlay.rect(), before, new, self._patched))
