"""ImageCanvas: the studio's central image view (zoom, pan, paint overlay, selection, compare).

A QGraphicsView over a scene whose units are image pixels, so every position the widget reports
(``cursorMoved``, selections, strokes) is in image coordinates whatever the zoom.

* The image is one QGraphicsPixmapItem (never re-rendered per frame). Zoomed out below 1/2 it
  shows a pre-shrunk copy (area-averaged, cached per power of two): less aliasing, cheaper paints
  on 4K images. Zoom >= 2 shows pixels as squares (nearest neighbour).
* The paint overlay is a transparent ARGB layer of the image's size drawn above it; a stroke is a
  live QGraphicsPathItem while dragging and is rasterised once on release, as one undo step that
  keeps only the stroke's bounding-box crops (``canvas.undo_stack``).
* Selections (rectangle, lasso) become a float32 H×W mask and a dashed outline.
* A comparison image (e.g. the input of a task) can be shown instead of, or split with, the image.

Mouse: wheel zooms around the cursor; middle-drag or Space+left-drag pans (left-drag too with the
"pan" tool). Keys: Ctrl++ / Ctrl+- zoom, Ctrl+0 fit, Ctrl+1 100 %, Esc drops the selection.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QBitmap,
    QBrush,
    QColor,
    QImage,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QPolygonF,
    QRegion,
    QTransform,
    QUndoStack,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsLineItem,
    QGraphicsPathItem,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
    QStyleOptionGraphicsItem,
    QWidget,
)

from widgets.convert import from_qimage_rgba, mask_to_qimage, to_qimage
from widgets.patch_undo import PatchCommand, smooth_path_points

__all__ = ["ImageCanvas", "TOOLS"]

TOOLS = ("pan", "paint", "rect_select", "lasso_select")
ZOOM_MIN, ZOOM_MAX = 0.02, 64.0
ZOOM_STEP = 1.25
PAN_KEEP_PX = 16  # how much of the image stays on screen however far one pans
PIXEL_ZOOM = 2.0  # zoomed in past this (and past fit), the image shows hard pixels to inspect


def _as_rgb_u8(rgb: np.ndarray, what: str = "image") -> np.ndarray:
    a = np.asarray(rgb)
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(f"{what} must be a uint8 H×W×3 RGB array (got {a.dtype} {a.shape})")
    return np.ascontiguousarray(a[:, :, :3])


class _LayerItem(QGraphicsItem):
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


class ImageCanvas(QGraphicsView):
    """Central image view. See the module docstring for the interaction model.

    Signals:
        zoomChanged(float): the zoom factor (1.0 = one image pixel per screen pixel).
        cursorMoved(int, int): image pixel (x, y) under the mouse (may lie outside the image).
        overlayChanged(): the paint overlay changed (stroke, undo, redo, clear).
        selectionChanged(): the selection mask changed (or was dropped).
        toolChanged(str): one of TOOLS.
    """

    zoomChanged = Signal(float)
    cursorMoved = Signal(int, int)
    overlayChanged = Signal()
    selectionChanged = Signal()
    toolChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scene = QGraphicsScene(self)
        self.setScene(self._scene)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setBackgroundBrush(QColor(52, 52, 54))
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)

        self._image: np.ndarray | None = None
        self._qimage = QImage()
        self._levels: dict[int, QPixmap] = {}
        self._level = 0
        self._pix_item = QGraphicsPixmapItem()
        self._pix_item.setShapeMode(QGraphicsPixmapItem.ShapeMode.BoundingRectShape)
        self._scene.addItem(self._pix_item)

        # comparison image: shown above the image, clipped to the left part for a split view
        self._compare_clip = QGraphicsRectItem()
        self._compare_clip.setPen(QPen(Qt.PenStyle.NoPen))
        self._compare_clip.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape)
        self._compare_clip.setZValue(1)
        self._compare_item = QGraphicsPixmapItem(self._compare_clip)
        self._compare_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self._scene.addItem(self._compare_clip)
        self._compare_clip.setVisible(False)
        self._split_line = QGraphicsLineItem()
        self._split_line.setPen(self._cosmetic_pen(QColor(255, 255, 255, 220), 1.5))
        self._split_line.setZValue(5)
        self._split_line.setVisible(False)
        self._scene.addItem(self._split_line)
        self._compare_pixmap: QPixmap | None = None
        self._show_compare = False
        self._split: float | None = None

        self._overlay = QImage()
        self._overlay_item = _LayerItem()
        self._overlay_item.setZValue(2)
        self._scene.addItem(self._overlay_item)
        self._live_item = QGraphicsPathItem()
        self._live_item.setZValue(3)
        self._scene.addItem(self._live_item)

        self._sel_mask: np.ndarray | None = None
        self._sel_under = QGraphicsPathItem()
        self._sel_under.setPen(self._cosmetic_pen(QColor(255, 255, 255), 1.0))
        self._sel_over = QGraphicsPathItem()
        dashed = self._cosmetic_pen(QColor(0, 0, 0), 1.0)
        dashed.setDashPattern([4.0, 4.0])
        self._sel_over.setPen(dashed)
        for z, it in ((4, self._sel_under), (4.1, self._sel_over)):
            it.setZValue(z)
            self._scene.addItem(it)

        self._brush_cursor = self._scene.addEllipse(QRectF(), self._cosmetic_pen(QColor(255, 255, 255), 1.0))
        self._brush_cursor.setZValue(6)
        self._brush_cursor.setVisible(False)
        dark_ring = QGraphicsEllipseItem(self._brush_cursor)  # follows the white ring: visible on any colour
        ring_pen = self._cosmetic_pen(QColor(0, 0, 0), 1.0)
        ring_pen.setDashPattern([3.0, 3.0])
        dark_ring.setPen(ring_pen)
        self._brush_cursor_dark = dark_ring

        self._zoom = 1.0
        self._fit_mode = True
        self._tool = "pan"
        self._brush_color = QColor(255, 0, 0)
        self._brush_size = 12
        self._eraser = False
        self._space = False
        self._pan_last: QPointF | None = None
        self._stroke: list[QPointF] | None = None
        self._sel_start: QPointF | None = None
        self._lasso: list[QPointF] | None = None
        self._last_pixel: tuple[int, int] | None = None

        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(50)
        self._make_actions()
        self._update_cursor()

    @staticmethod
    def _cosmetic_pen(color: QColor, width: float) -> QPen:
        pen = QPen(color, width)
        pen.setCosmetic(True)
        return pen

    def _make_actions(self) -> None:
        def act(text: str, keys: list, slot) -> QAction:
            a = QAction(text, self)
            a.setShortcuts([QKeySequence(k) for k in keys])
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            names = ", ".join(QKeySequence(k).toString(QKeySequence.SequenceFormat.NativeText) for k in keys)
            a.setToolTip(f"{text} ({names})")
            a.triggered.connect(slot)
            self.addAction(a)
            return a

        self.zoom_in_action = act("Zoom in", [QKeySequence.StandardKey.ZoomIn, "Ctrl+="], self.zoom_in)
        self.zoom_out_action = act("Zoom out", [QKeySequence.StandardKey.ZoomOut], self.zoom_out)
        self.zoom_fit_action = act("Fit to window", ["Ctrl+0"], self.zoom_fit)
        self.zoom_actual_action = act("Actual size (100 %)", ["Ctrl+1"], self.zoom_actual)

    # -- image --------------------------------------------------------------------------------
    def set_image(self, rgb: np.ndarray, *, keep_view: bool = False, keep_history: bool = False) -> None:
        """Show an image (uint8 H×W×3). A new size resets overlay, selection and undo history;
        ``keep_view`` keeps zoom and position when the size is unchanged (e.g. a new sample);
        ``keep_history`` keeps the undo history even for a new size (for undo commands that swap
        the image itself, e.g. a super-resolved or retargeted result)."""
        arr = _as_rgb_u8(rgb).copy()
        same_size = self._image is not None and self._image.shape == arr.shape
        self._image = arr
        self._qimage = to_qimage(arr)
        self._levels = {0: QPixmap.fromImage(self._qimage)}
        self._level = -1
        h, w = arr.shape[:2]
        if not same_size:
            self._overlay = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
            self._overlay.fill(Qt.GlobalColor.transparent)
            self._overlay_item.set_image(self._overlay)
            if not keep_history:
                self.undo_stack.clear()
            had_selection = self._sel_mask is not None
            self._set_selection(None, QPainterPath(), emit=had_selection)
        self._layout_compare()
        if same_size and keep_view:
            self._update_level()
            self._update_scene_rect()
        else:
            self.zoom_fit()

    def image(self) -> np.ndarray | None:
        """The shown image (a copy), or None."""
        return None if self._image is None else self._image.copy()

    def image_size(self) -> tuple[int, int] | None:
        """(width, height) or None."""
        return None if self._image is None else (self._image.shape[1], self._image.shape[0])

    def _image_rect(self) -> QRectF:
        if self._image is None:
            return QRectF()
        return QRectF(0, 0, self._image.shape[1], self._image.shape[0])

    def _update_level(self) -> None:
        """Pick the pre-shrunk copy for this zoom (level k = 1/2**k size) and the scaling mode."""
        if self._image is None:
            return
        k = 0
        if self._zoom < 0.5:
            k = min(int(math.floor(math.log2(1.0 / self._zoom))), 8)
        if k not in self._levels:
            h, w = self._image.shape[:2]
            small = self._qimage.scaled(
                max(1, round(w / 2**k)),
                max(1, round(h / 2**k)),
                Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            self._levels[k] = QPixmap.fromImage(small)
        if k != self._level:
            self._pix_item.setPixmap(self._levels[k])
            pm = self._levels[k]
            h, w = self._image.shape[:2]
            self._pix_item.setTransform(QTransform.fromScale(w / pm.width(), h / pm.height()))
            self._level = k
        mode = (
            Qt.TransformationMode.FastTransformation if self.hard_pixels() else Qt.TransformationMode.SmoothTransformation
        )
        if self._pix_item.transformationMode() != mode:
            self._pix_item.setTransformationMode(mode)
            self._compare_item.setTransformationMode(mode)

    def hard_pixels(self) -> bool:
        """Whether the image is drawn in hard pixels: only once the user zooms in to inspect, past
        PIXEL_ZOOM and past the fitted view. Fitted (a 128-px sample fills the window at 600 %), or
        zoomed out of it, it is enlarged smoothly, as an image viewer shows a picture."""
        if self._fit_mode or self._image is None or self._zoom < PIXEL_ZOOM:
            return False
        return self._zoom > 1.001 * self._fit_zoom()

    def _fit_zoom(self) -> float:
        """The zoom at which the whole image fills the view."""
        h, w = self._image.shape[:2]
        vp = self.viewport().size()
        return min(max(vp.width() - 2, 1) / w, max(vp.height() - 2, 1) / h)

    # -- zoom and pan -------------------------------------------------------------------------
    def zoom(self) -> float:
        return self._zoom

    def zoom_in(self) -> None:
        self._fit_mode = False
        self._set_zoom(self._zoom * ZOOM_STEP)

    def zoom_out(self) -> None:
        self._fit_mode = False
        self._set_zoom(self._zoom / ZOOM_STEP)

    def zoom_actual(self) -> None:
        """100 %: one image pixel per screen pixel, around the view centre."""
        self._fit_mode = False
        self._set_zoom(1.0)

    def zoom_fit(self) -> None:
        """Show the whole image, centred; stays fitted when the window is resized until the user zooms."""
        self._fit_mode = True
        if self._image is None:
            return
        self._apply_zoom(min(max(self._fit_zoom(), ZOOM_MIN), ZOOM_MAX))
        self.centerOn(self._image_rect().center())

    def set_zoom(self, z: float, anchor: QPointF | None = None) -> None:
        """Zoom to ``z`` keeping the image point under ``anchor`` (viewport coords; default centre) fixed."""
        self._fit_mode = False
        self._set_zoom(z, anchor)

    def map_to_image(self, view_pos: QPointF) -> QPointF:
        """Viewport position → image coordinates (floats; pixel (i, j) spans [i, i+1) × [j, j+1))."""
        inv, _ = self.viewportTransform().inverted()
        return inv.map(QPointF(view_pos))

    def map_from_image(self, img_pos: QPointF) -> QPointF:
        """Image coordinates → viewport position."""
        return self.viewportTransform().map(QPointF(img_pos))

    def _set_zoom(self, z: float, anchor: QPointF | None = None) -> None:
        z = min(max(float(z), ZOOM_MIN), ZOOM_MAX)
        if anchor is None:
            anchor = QPointF(self.viewport().rect().center())
        target = self.map_to_image(anchor)
        self._apply_zoom(z)
        d = self.map_from_image(target) - anchor
        self._scroll_by(d.x(), d.y())

    def _apply_zoom(self, z: float) -> None:
        changed = not math.isclose(z, self._zoom, rel_tol=1e-9)
        self._zoom = z
        self.setTransform(QTransform.fromScale(z, z))
        self._update_scene_rect()
        self._update_level()
        if changed:
            self.zoomChanged.emit(z)

    def _update_scene_rect(self) -> None:
        """The scene is the image plus a margin of nearly one viewport: pan anywhere, never lose it."""
        vp = self.viewport().size()
        mx = max(vp.width() - PAN_KEEP_PX, 0) / self._zoom
        my = max(vp.height() - PAN_KEEP_PX, 0) / self._zoom
        r = self._image_rect() if self._image is not None else QRectF(0, 0, 1, 1)
        self.setSceneRect(r.adjusted(-mx, -my, mx, my))

    def _scroll_by(self, dx: float, dy: float) -> None:
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(h.value() + round(dx))
        v.setValue(v.value() + round(dy))

    def resizeEvent(self, event) -> None:
        center = self.map_to_image(QPointF(event.oldSize().width() / 2, event.oldSize().height() / 2))
        super().resizeEvent(event)
        if self._fit_mode:
            self.zoom_fit()
        else:
            self._update_scene_rect()
            if event.oldSize().isValid():
                self.centerOn(center)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._fit_mode:
            self.zoom_fit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        dy = event.angleDelta().y() or event.angleDelta().x()
        if dy == 0 or self._image is None:
            return
        self._fit_mode = False
        self._set_zoom(self._zoom * ZOOM_STEP ** (dy / 120.0), event.position())
        event.accept()

    # -- tools --------------------------------------------------------------------------------
    def set_tool(self, name: str) -> None:
        """One of "pan", "paint", "rect_select", "lasso_select"."""
        if name not in TOOLS:
            raise ValueError(f"unknown canvas tool '{name}' (choose from {', '.join(TOOLS)})")
        if name != self._tool:
            self._tool = name
            self._brush_cursor.setVisible(False)
            self._update_cursor()
            self.toolChanged.emit(name)

    def tool(self) -> str:
        return self._tool

    def set_paint_mode(self, on: bool) -> None:
        """Shortcut for set_tool("paint") / set_tool("pan")."""
        self.set_tool("paint" if on else "pan")

    def paint_mode(self) -> bool:
        return self._tool == "paint"

    def set_brush(self, color: tuple[int, int, int], size: int) -> None:
        """Brush colour (RGB) and diameter in image pixels."""
        self._brush_color = QColor(*[int(c) for c in color[:3]])
        self._brush_size = max(1, int(size))
        r = self._brush_size / 2.0
        c = self._brush_cursor.rect().center()
        self._set_cursor_rect(QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r))

    def _set_cursor_rect(self, r: QRectF) -> None:
        self._brush_cursor.setRect(r)
        self._brush_cursor_dark.setRect(r)

    def brush(self) -> tuple[tuple[int, int, int], int]:
        c = self._brush_color
        return (c.red(), c.green(), c.blue()), self._brush_size

    def set_eraser(self, on: bool) -> None:
        """Paint tool erases the overlay instead of painting."""
        self._eraser = bool(on)

    def eraser(self) -> bool:
        return self._eraser

    def _update_cursor(self) -> None:
        if self._pan_last is not None:
            shape = Qt.CursorShape.ClosedHandCursor
        elif self._space or self._tool == "pan":
            shape = Qt.CursorShape.OpenHandCursor
        else:
            shape = Qt.CursorShape.CrossCursor
        self.viewport().setCursor(shape)

    # -- mouse and keys -----------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        btn = event.button()
        left = btn == Qt.MouseButton.LeftButton
        if btn == Qt.MouseButton.MiddleButton or (left and (self._space or self._tool == "pan")):
            self._pan_last = event.position()
            self._update_cursor()
            event.accept()
            return
        if not left or self._image is None:
            return super().mousePressEvent(event)
        pt = self.map_to_image(event.position())
        if self._tool == "paint":
            self._stroke = [pt]
            self._update_live_stroke()
        elif self._tool == "rect_select":
            self._sel_start = pt
            self._show_outline(QPainterPath())
        elif self._tool == "lasso_select":
            self._lasso = [pt]
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        pt = self.map_to_image(pos)
        pixel = (math.floor(pt.x()), math.floor(pt.y()))
        if pixel != self._last_pixel and self._image is not None:
            self._last_pixel = pixel
            self.cursorMoved.emit(*pixel)
        if self._tool == "paint" and self._image is not None:
            r = self._brush_size / 2.0
            self._set_cursor_rect(QRectF(pt.x() - r, pt.y() - r, 2 * r, 2 * r))
            self._brush_cursor.setVisible(self._pan_last is None)
        if self._pan_last is not None:
            d = pos - self._pan_last
            self._pan_last = pos
            self._scroll_by(-d.x(), -d.y())
        elif self._stroke is not None:
            last = self._stroke[-1]
            if (pt.x() - last.x()) ** 2 + (pt.y() - last.y()) ** 2 >= 0.25:
                self._stroke.append(pt)
                self._update_live_stroke()
        elif self._sel_start is not None:
            path = QPainterPath()
            path.addRect(self._pixel_rect(self._sel_start, pt))
            self._show_outline(path)
        elif self._lasso is not None:
            self._lasso.append(pt)
            path = QPainterPath()
            path.addPolygon(QPolygonF(self._lasso))
            self._show_outline(path)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        btn = event.button()
        if self._pan_last is not None and btn in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan_last = None
            self._update_cursor()
        elif btn == Qt.MouseButton.LeftButton and self._stroke is not None:
            points, self._stroke = self._stroke, None
            self._live_item.setPath(QPainterPath())
            self._commit_stroke(points)
        elif btn == Qt.MouseButton.LeftButton and self._sel_start is not None:
            start, self._sel_start = self._sel_start, None
            self._finish_rect(start, self.map_to_image(event.position()))
        elif btn == Qt.MouseButton.LeftButton and self._lasso is not None:
            pts, self._lasso = self._lasso, None
            self._finish_lasso(pts)
        else:
            return super().mouseReleaseEvent(event)
        event.accept()

    def leaveEvent(self, event) -> None:
        self._brush_cursor.setVisible(False)
        super().leaveEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space = True
                self._update_cursor()
            event.accept()
        elif event.key() == Qt.Key.Key_Escape and self._sel_mask is not None:
            self.clear_selection()
            event.accept()
        else:
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self._update_cursor()
            event.accept()
        else:
            super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:
        self._space = False
        self._update_cursor()
        super().focusOutEvent(event)

    # -- paint overlay ------------------------------------------------------------------------
    def _stroke_pen(self) -> QPen:
        pen = QPen(self._brush_color, float(self._brush_size))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        return pen

    def _stroke_path(self, points: list[QPointF]) -> QPainterPath:
        path = QPainterPath()
        if len(points) == 1:
            r = self._brush_size / 2.0
            path.addEllipse(points[0], r, r)
        else:
            smooth_path_points(points, path)
        return path

    def _update_live_stroke(self) -> None:
        pts = self._stroke or []
        path = self._stroke_path(pts)
        pen = self._stroke_pen()
        if self._eraser:
            pen.setColor(QColor(255, 255, 255, 110))
        if len(pts) == 1:
            self._live_item.setPen(QPen(Qt.PenStyle.NoPen))
            self._live_item.setBrush(QBrush(pen.color()))
        else:
            self._live_item.setPen(pen)
            self._live_item.setBrush(QBrush())
        self._live_item.setPath(path)

    def _commit_stroke(self, points: list[QPointF]) -> None:
        path = self._stroke_path(points)
        pad = self._brush_size / 2.0 + 2.0
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
            p.setBrush(self._brush_color)
        else:
            p.setPen(self._stroke_pen())
            p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(path)
        p.end()
        after = self._overlay.copy(rect)
        text = "Erase" if self._eraser else "Paint"
        self.undo_stack.push(PatchCommand(text, self._overlay, rect, before, after, self._on_overlay_patch))

    def _on_overlay_patch(self, rect: QRect) -> None:
        self._overlay_item.update(QRectF(rect))
        self.overlayChanged.emit()

    def overlay_rgba(self) -> np.ndarray:
        """The paint layer: uint8 H×W×4, straight alpha (0 = untouched). Zeros if no image."""
        if self._overlay.isNull():
            return np.zeros((0, 0, 4), np.uint8)
        return from_qimage_rgba(self._overlay)

    def painted_mask(self) -> np.ndarray:
        """float32 H×W in [0, 1]: the overlay's alpha (where the user painted)."""
        return self.overlay_rgba()[..., 3].astype(np.float32) / 255.0

    def painted_image(self) -> np.ndarray:
        """The image with the overlay composited on top (uint8 H×W×3); untouched pixels are exact."""
        if self._image is None:
            raise ValueError("the canvas shows no image")
        ov = self.overlay_rgba()
        a = ov[..., 3:4].astype(np.uint16)
        out = (self._image.astype(np.uint16) * (255 - a) + ov[..., :3].astype(np.uint16) * a + 127) // 255
        return out.astype(np.uint8)

    def set_overlay_rgba(self, rgba: np.ndarray) -> None:
        """Replace the paint layer (uint8 H×W×4 of the image's size), as one undo step."""
        a = np.asarray(rgba)
        if self._image is None or a.shape != self._image.shape[:2] + (4,) or a.dtype != np.uint8:
            raise ValueError(f"overlay must be uint8 H×W×4 of the image's size (got {a.dtype} {a.shape})")
        new = to_qimage(np.ascontiguousarray(a)).convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
        self._replace_overlay(new, "Set overlay")

    def clear_overlay(self) -> None:
        """Erase all paint (one undo step; nothing happens when there is none)."""
        if self._overlay.isNull() or not self.overlay_rgba()[..., 3].any():
            return
        blank = QImage(self._overlay.size(), QImage.Format.Format_ARGB32_Premultiplied)
        blank.fill(Qt.GlobalColor.transparent)
        self._replace_overlay(blank, "Clear paint")

    def _replace_overlay(self, new: QImage, text: str) -> None:
        before = self._overlay.copy()
        self.undo_stack.push(
            PatchCommand(text, self._overlay, self._overlay.rect(), before, new, self._on_overlay_patch)
        )

    def set_overlay_visible(self, on: bool) -> None:
        self._overlay_item.setVisible(bool(on))

    # -- selection ----------------------------------------------------------------------------
    def selection_mask(self) -> np.ndarray | None:
        """float32 H×W, 1 inside the selection; None when nothing is selected."""
        return None if self._sel_mask is None else self._sel_mask.copy()

    def clear_selection(self) -> None:
        if self._sel_mask is not None:
            self._set_selection(None, QPainterPath())

    def set_selection_mask(self, mask: np.ndarray | None) -> None:
        """Select from a mask (H×W of the image's size, > 0.5 = selected); None or empty clears."""
        if mask is None or self._image is None:
            return self.clear_selection()
        m = np.asarray(mask, np.float32)
        if m.shape != self._image.shape[:2]:
            raise ValueError(f"selection mask must be {self._image.shape[:2]} (got {m.shape})")
        inside = m > 0.5
        if not inside.any():
            return self.clear_selection()
        bitmap = QBitmap.fromImage(
            mask_to_qimage(inside.astype(np.uint8) * 255).convertToFormat(QImage.Format.Format_Mono)
        )
        outline = QPainterPath()
        outline.addRegion(QRegion(bitmap))
        self._set_selection(inside.astype(np.float32), outline.simplified())

    def _pixel_rect(self, a: QPointF, b: QPointF) -> QRectF:
        """The pixels between two image points, both end pixels included, clipped to the image."""
        h, w = self._image.shape[:2]
        x0 = min(max(math.floor(min(a.x(), b.x())), 0), w)
        y0 = min(max(math.floor(min(a.y(), b.y())), 0), h)
        x1 = min(max(math.floor(max(a.x(), b.x())) + 1, 0), w)
        y1 = min(max(math.floor(max(a.y(), b.y())) + 1, 0), h)
        return QRectF(x0, y0, max(x1 - x0, 0), max(y1 - y0, 0))

    def _finish_rect(self, a: QPointF, b: QPointF) -> None:
        r = self._pixel_rect(a, b)
        if (math.floor(a.x()), math.floor(a.y())) == (math.floor(b.x()), math.floor(b.y())) or r.isEmpty():
            return self.clear_selection()  # a click without a drag drops the selection
        h, w = self._image.shape[:2]
        m = np.zeros((h, w), np.float32)
        m[int(r.top()) : int(r.bottom()), int(r.left()) : int(r.right())] = 1.0
        path = QPainterPath()
        path.addRect(r)
        self._set_selection(m, path)

    def _finish_lasso(self, pts: list[QPointF]) -> None:
        poly = QPolygonF(pts)
        if len(pts) < 3 or poly.boundingRect().width() < 1 or poly.boundingRect().height() < 1:
            return self.clear_selection()
        h, w = self._image.shape[:2]
        img = QImage(w, h, QImage.Format.Format_ARGB32)
        img.fill(Qt.GlobalColor.transparent)
        p = QPainter(img)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(255, 255, 255))
        p.drawPolygon(poly)
        p.end()
        m = (from_qimage_rgba(img)[..., 3] > 127).astype(np.float32)
        if not m.any():
            return self.clear_selection()
        path = QPainterPath()
        path.addPolygon(poly)
        path.closeSubpath()
        self._set_selection(m, path)

    def _show_outline(self, path: QPainterPath) -> None:
        self._sel_under.setPath(path)
        self._sel_over.setPath(path)

    def _set_selection(self, mask: np.ndarray | None, outline: QPainterPath, emit: bool = True) -> None:
        self._sel_mask = mask
        self._show_outline(outline)
        if emit:
            self.selectionChanged.emit()

    # -- comparison ---------------------------------------------------------------------------
    def set_compare_image(self, rgb: np.ndarray | None) -> None:
        """An image to compare with (e.g. a task's input); stretched over the image's rectangle."""
        if rgb is None:
            self._compare_pixmap = None
            self._compare_item.setPixmap(QPixmap())
        else:
            self._compare_pixmap = QPixmap.fromImage(to_qimage(_as_rgb_u8(rgb, "comparison image")))
            self._compare_item.setPixmap(self._compare_pixmap)
        self._layout_compare()

    def set_show_compare(self, on: bool) -> None:
        """Show the comparison image instead of the image (a toggle for before/after)."""
        self._show_compare = bool(on)
        self._layout_compare()

    def show_compare(self) -> bool:
        return self._show_compare

    def set_compare_split(self, fraction: float | None) -> None:
        """Split view: the comparison image on the left ``fraction`` of the width, the image on the
        right, with a divider. ``None`` turns the split off."""
        self._split = None if fraction is None else float(min(max(fraction, 0.0), 1.0))
        self._layout_compare()

    def _layout_compare(self) -> None:
        r = self._image_rect()
        pm = self._compare_pixmap
        visible = pm is not None and not r.isEmpty() and (self._show_compare or self._split is not None)
        self._compare_clip.setVisible(visible)
        self._split_line.setVisible(visible and self._split is not None and not self._show_compare)
        if not visible:
            return
        self._compare_item.setTransform(
            QTransform.fromScale(r.width() / pm.width(), r.height() / pm.height())
        )
        clip = QRectF(r)
        if self._split is not None and not self._show_compare:
            clip.setWidth(r.width() * self._split)
            x = clip.right()
            self._split_line.setLine(x, r.top(), x, r.bottom())
        self._compare_clip.setRect(clip)
