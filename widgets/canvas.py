"""ImageCanvas: the studio's central image view (zoom, pan, tools), with three parts that own their
own scene items: ``canvas.paint`` (the paint overlay and brush, widgets/canvas_paint.py),
``canvas.selection`` (rectangle and lasso masks, widgets/canvas_selection.py) and
``canvas.compare`` (a comparison image, whole or split, widgets/canvas_compare.py).

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
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QImage,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPixmap,
    QTransform,
    QUndoStack,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QWidget,
)

from widgets.canvas_compare import CompareLayer
from widgets.canvas_paint import PaintLayer
from widgets.canvas_selection import Selection
from widgets.convert import as_rgb_u8, to_qimage

__all__ = ["ImageCanvas", "TOOLS"]

TOOLS = ("pan", "paint", "rect_select", "lasso_select")
ZOOM_MIN, ZOOM_MAX = 0.02, 64.0
ZOOM_STEP = 1.25
PAN_KEEP_PX = 16  # how much of the image stays on screen however far one pans
PIXEL_ZOOM = 2.0  # zoomed in past this (and past fit), the image shows hard pixels to inspect


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

        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(50)
        self.compare = CompareLayer(self._scene, self._image_rect)
        self.paint = PaintLayer(self._scene, self.undo_stack, self.overlayChanged.emit)
        self.selection = Selection(self._scene, lambda: None if self._image is None else self._image.shape,
                                   self.selectionChanged.emit)

        self._zoom = 1.0
        self._fit_mode = True
        self._tool = "pan"
        self._space = False
        self._pan_last: QPointF | None = None
        self._last_pixel: tuple[int, int] | None = None
        self._make_actions()
        self._update_cursor()

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
        arr = as_rgb_u8(rgb).copy()
        same_size = self._image is not None and self._image.shape == arr.shape
        self._image = arr
        self._qimage = to_qimage(arr)
        self._levels = {0: QPixmap.fromImage(self._qimage)}
        self._level = -1
        h, w = arr.shape[:2]
        if not same_size:
            self.paint.reset(w, h)
            if not keep_history:
                self.undo_stack.clear()
            self.selection.reset()
        self.compare.layout()
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
            self.compare.item.setTransformationMode(mode)

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
            self.paint.cursor.setVisible(False)
            self._update_cursor()
            self.toolChanged.emit(name)

    def tool(self) -> str:
        return self._tool

    def set_paint_mode(self, on: bool) -> None:
        """Shortcut for set_tool("paint") / set_tool("pan")."""
        self.set_tool("paint" if on else "pan")

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
            self.paint.press(pt)
        elif self._tool in ("rect_select", "lasso_select"):
            self.selection.press(self._tool, pt)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        pt = self.map_to_image(pos)
        pixel = (math.floor(pt.x()), math.floor(pt.y()))
        if pixel != self._last_pixel and self._image is not None:
            self._last_pixel = pixel
            self.cursorMoved.emit(*pixel)
        if self._tool == "paint" and self._image is not None:
            self.paint.move_cursor(pt)
            self.paint.cursor.setVisible(self._pan_last is None)
        if self._pan_last is not None:
            d = pos - self._pan_last
            self._pan_last = pos
            self._scroll_by(-d.x(), -d.y())
        elif self.paint.drawing:
            self.paint.drag(pt)
        elif self.selection.dragging:
            self.selection.drag(pt)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        btn = event.button()
        if self._pan_last is not None and btn in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan_last = None
            self._update_cursor()
        elif btn == Qt.MouseButton.LeftButton and self.paint.drawing:
            self.paint.release()
        elif btn == Qt.MouseButton.LeftButton and self.selection.dragging:
            self.selection.release(self.map_to_image(event.position()))
        else:
            return super().mouseReleaseEvent(event)
        event.accept()

    def leaveEvent(self, event) -> None:
        self.paint.cursor.setVisible(False)
        super().leaveEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space = True
                self._update_cursor()
            event.accept()
        elif event.key() == Qt.Key.Key_Escape and self.selection.active:
            self.selection.clear()
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

    def painted_image(self) -> np.ndarray:
        """The image with the paint overlay composited on top (uint8 H×W×3); untouched pixels are exact."""
        if self._image is None:
            raise ValueError("the canvas shows no image")
        return self.paint.composite(self._image)
