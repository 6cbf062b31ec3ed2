"""SketchPad: a small drawing surface with its own toolbar, for sketches and paint-to-image inputs.

It owns a white RGB raster of a fixed size (the model's resolution, 256×256 by default) that is
shown scaled to fit. Strokes are drawn live as a smooth QPainterPath and rasterised once on
release; each stroke, clear or import is one undo step storing only its bounding-box crops.

Arrays out: ``painting()`` uint8 H×W×3 (the colours), ``sketch()`` float32 H×W in [0, 1] with
1 = ink (how far a pixel is from white). Tablets work through Qt's mouse emulation.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QColor,
    QIcon,
    QImage,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QColorDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from widgets.convert import from_qimage, to_qimage
from widgets.patch_undo import PatchCommand, smooth_path_points

__all__ = ["SketchPad"]

WHITE = QColor(255, 255, 255)
MAX_BRUSH = 128


def _swatch_icon(color: QColor, size: int = 16, frame: QColor | None = None) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(color)
    p = QPainter(pm)
    p.setPen(frame or QColor(0, 0, 0, 140))
    p.drawRect(0, 0, size - 1, size - 1)
    p.end()
    return QIcon(pm)


def _stroke_pen(color: QColor, size: float) -> QPen:
    pen = QPen(color, float(size))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def _fit_on_white(img: QImage, w: int, h: int) -> QImage:
    """``img`` scaled to fit in w×h keeping its aspect, centred on white (alpha composited on white)."""
    out = QImage(w, h, QImage.Format.Format_RGB32)
    out.fill(WHITE)
    if img.isNull():
        return out
    scaled = img.scaled(w, h, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
    p = QPainter(out)
    p.drawImage((w - scaled.width()) // 2, (h - scaled.height()) // 2, scaled)
    p.end()
    return out


class _Surface(QWidget):
    """The drawing area: shows the pad's raster scaled to fit, the live stroke and a brush outline."""

    def __init__(self, pad: SketchPad) -> None:
        super().__init__(pad)
        self._pad = pad
        self._points: list[QPointF] = []
        self._erasing = False
        self._hover: QPointF | None = None
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setMinimumSize(64, 64)

    def sizeHint(self) -> QSize:
        return QSize(280, 280)

    # geometry: where the raster sits in the widget, and the mapping between the two
    def target_rect(self) -> QRectF:
        img = self._pad._image
        r = QRectF(self.rect()).adjusted(4, 4, -4, -4)
        s = min(r.width() / img.width(), r.height() / img.height())
        w, h = img.width() * s, img.height() * s
        return QRectF(r.x() + (r.width() - w) / 2, r.y() + (r.height() - h) / 2, w, h)

    def scale(self) -> float:
        return self.target_rect().width() / self._pad._image.width()

    def to_image(self, pos: QPointF) -> QPointF:
        t = self.target_rect()
        s = t.width() / self._pad._image.width()
        return QPointF((pos.x() - t.x()) / s, (pos.y() - t.y()) / s)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Dark))
        t = self.target_rect()
        s = t.width() / self._pad._image.width()
        mode = (
            Qt.TransformationMode.FastTransformation if s >= 2 else Qt.TransformationMode.SmoothTransformation
        )
        p.setRenderHint(
            QPainter.RenderHint.SmoothPixmapTransform, mode == Qt.TransformationMode.SmoothTransformation
        )
        p.drawImage(t, self._pad._image)
        p.setPen(QColor(0, 0, 0, 90))
        p.drawRect(t.adjusted(-1, -1, 0, 0))
        p.translate(t.topLeft())
        p.scale(s, s)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self._points:
            color = WHITE if self._erasing else self._pad._color
            self._paint_points(p, self._points, color, self._pad._size)
        if self._hover is not None and not self._points:
            pen = QPen(QColor(128, 128, 128), 0)  # cosmetic: 1 px whatever the scale
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            r = self._pad._size / 2.0
            p.drawEllipse(self._hover, r, r)
        p.end()

    @staticmethod
    def _paint_points(p: QPainter, points: list[QPointF], color: QColor, size: int) -> None:
        if len(points) == 1:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(color)
            p.drawEllipse(points[0], size / 2.0, size / 2.0)
            return
        path = QPainterPath()
        smooth_path_points(points, path)
        p.setPen(_stroke_pen(color, size))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(path)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return super().mousePressEvent(event)
        self._erasing = self._pad._eraser or event.button() == Qt.MouseButton.RightButton
        self._points = [self.to_image(event.position())]
        self.update()
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pt = self.to_image(event.position())
        self._hover = pt
        if self._points:
            last = self._points[-1]
            # skip sub-pixel jitter: it only adds segments
            if (pt.x() - last.x()) ** 2 + (pt.y() - last.y()) ** 2 >= 0.25:
                self._points.append(pt)
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if not self._points or event.button() not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return super().mouseReleaseEvent(event)
        points, self._points = self._points, []
        self._pad._commit_stroke(points, WHITE if self._erasing else self._pad._color)
        self.update()

    def leaveEvent(self, event) -> None:
        self._hover = None
        self.update()


class SketchPad(QWidget):
    """A drawing surface plus toolbar that can sit in a dock as is.

    Signals: ``strokeFinished()`` after each stroke (mouse released); ``changed()`` after every
    change of the pixels (stroke, undo, redo, clear, import, ``set_painting``).
    """

    strokeFinished = Signal()
    changed = Signal()

    def __init__(
        self,
        width: int = 256,
        height: int = 256,
        parent: QWidget | None = None,
        *,
        own_shortcuts: bool = True,
    ) -> None:
        """``own_shortcuts=False`` leaves Ctrl+Z / Ctrl+Shift+Z to the application (e.g. a QUndoGroup)."""
        super().__init__(parent)
        self._image = QImage(int(width), int(height), QImage.Format.Format_RGB32)
        self._image.fill(WHITE)
        self._color = QColor(0, 0, 0)
        self._size = 6
        self._eraser = False
        self._palette: list[tuple[int, int, int]] = []
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(100)
        self.surface = _Surface(self)
        self._build_ui(own_shortcuts)
        self._refresh_color_button()

    # -- UI -----------------------------------------------------------------------------------
    def _action(self, text: str, tip: str, keys: list[str] | None = None, checkable: bool = False) -> QAction:
        a = QAction(text, self)
        if keys:
            a.setShortcuts([QKeySequence(k) for k in keys])
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            tip = f"{tip} ({', '.join(keys)})"
        a.setToolTip(tip)
        a.setCheckable(checkable)
        self.addAction(a)
        return a

    @staticmethod
    def _button(action: QAction) -> QToolButton:
        b = QToolButton()
        b.setDefaultAction(action)
        b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        return b

    def _build_ui(self, own_shortcuts: bool) -> None:
        self.brush_action = self._action("Brush", "Draw", ["B"], checkable=True)
        self.eraser_action = self._action(
            "Eraser", "Erase (or drag with the right button)", ["E"], checkable=True
        )
        group = QActionGroup(self)
        group.addAction(self.brush_action)
        group.addAction(self.eraser_action)
        self.brush_action.setChecked(True)
        self.brush_action.toggled.connect(lambda on: self.set_eraser(not on))

        self.size_spin = QSpinBox()
        self.size_spin.setRange(1, MAX_BRUSH)
        self.size_spin.setSuffix(" px")
        self.size_spin.setToolTip("Brush size in canvas pixels ([ smaller, ] larger)")
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(1, 64)
        self.size_slider.setToolTip(self.size_spin.toolTip())
        self.size_slider.setMinimumWidth(60)
        self.size_spin.valueChanged.connect(self.set_brush_size)
        self.size_slider.valueChanged.connect(self.set_brush_size)
        smaller = self._action("Smaller", "Smaller brush", ["["])
        larger = self._action("Larger", "Larger brush", ["]"])
        smaller.triggered.connect(lambda: self.set_brush_size(max(1, round(self._size / 1.25))))
        larger.triggered.connect(lambda: self.set_brush_size(max(self._size + 1, round(self._size * 1.25))))

        self.color_action = self._action("Colour", "Pick the brush colour", ["C"])
        self.color_action.triggered.connect(self._pick_color)
        self.color_button = self._button(self.color_action)  # a swatch; the hex code is in its tooltip
        self.color_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)

        undo_keys = ["Ctrl+Z"] if own_shortcuts else None
        redo_keys = ["Ctrl+Shift+Z", "Ctrl+Y"] if own_shortcuts else None
        self.undo_action = self._action("Undo", "Undo the last stroke", undo_keys)
        self.redo_action = self._action("Redo", "Redo", redo_keys)
        self.undo_action.triggered.connect(self.undo_stack.undo)
        self.redo_action.triggered.connect(self.undo_stack.redo)
        self.undo_stack.canUndoChanged.connect(self.undo_action.setEnabled)
        self.undo_stack.canRedoChanged.connect(self.redo_action.setEnabled)
        self.undo_action.setEnabled(False)
        self.redo_action.setEnabled(False)
        self.clear_action = self._action("Clear", "Clear the sketch (undoable)", ["Shift+Del"])
        self.clear_action.triggered.connect(self.clear)
        self.import_action = self._action(
            "Import…", "Load an image file as the sketch (fitted to the canvas)"
        )
        self.import_action.triggered.connect(self._import_dialog)
        self.export_action = self._action("Export…", "Save the sketch as an image file")
        self.export_action.triggered.connect(self._export_dialog)

        row1 = QHBoxLayout()
        row1.setSpacing(4)
        row1.addWidget(self._button(self.brush_action))
        row1.addWidget(self._button(self.eraser_action))
        row1.addSpacing(6)
        row1.addWidget(self.size_slider, 1)
        row1.addWidget(self.size_spin)
        row1.addSpacing(6)
        row1.addWidget(self.color_button)

        self._palette_row = QHBoxLayout()
        self._palette_row.setSpacing(2)
        self._palette_label = QLabel("Palette")
        self._palette_row.addWidget(self._palette_label)
        self._palette_row.addStretch(1)
        self._palette_label.setVisible(False)

        row3 = QHBoxLayout()
        row3.setSpacing(4)
        for a in (self.undo_action, self.redo_action, self.clear_action):
            row3.addWidget(self._button(a))
        row3.addStretch(1)
        for a in (self.import_action, self.export_action):
            row3.addWidget(self._button(a))

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        lay.addLayout(row1)
        lay.addLayout(self._palette_row)
        lay.addWidget(self.surface, 1)
        lay.addLayout(row3)
        self.set_brush_size(self._size)

    def _refresh_color_button(self) -> None:
        self.color_action.setIcon(_swatch_icon(self._color, 18))
        self.color_action.setText(self._color.name())
        self.color_action.setToolTip(f"Brush colour {self._color.name()}: click to pick another (C)")

    # -- brush --------------------------------------------------------------------------------
    def set_color(self, color: tuple[int, int, int] | QColor) -> None:
        """Brush colour (also switches from eraser back to brush)."""
        self._color = QColor(color) if isinstance(color, QColor) else QColor(*[int(c) for c in color[:3]])
        self._refresh_color_button()
        self.set_eraser(False)

    def color(self) -> tuple[int, int, int]:
        return (self._color.red(), self._color.green(), self._color.blue())

    def set_brush_size(self, size: int) -> None:
        self._size = int(min(max(int(size), 1), MAX_BRUSH))
        for w in (self.size_spin, self.size_slider):
            w.blockSignals(True)
            w.setValue(self._size)
            w.blockSignals(False)
        self.surface.update()

    def brush_size(self) -> int:
        return self._size

    def set_eraser(self, on: bool) -> None:
        self._eraser = bool(on)
        (self.eraser_action if on else self.brush_action).setChecked(True)

    def eraser(self) -> bool:
        return self._eraser

    def set_palette(self, colors: list[tuple[int, int, int]]) -> None:
        """Swatches to pick from (e.g. the training image's dominant colours); a click picks one."""
        while self._palette_row.count() > 2:  # keep the label and the trailing stretch
            item = self._palette_row.takeAt(1)
            if item.widget() is not None:
                item.widget().deleteLater()
        self._palette = [tuple(int(c) for c in col[:3]) for col in colors]
        for i, col in enumerate(self._palette):
            b = QToolButton()
            b.setIcon(_swatch_icon(QColor(*col), 18))
            b.setIconSize(QSize(18, 18))
            b.setAutoRaise(True)
            b.setToolTip("rgb({}, {}, {})".format(*col))
            b.clicked.connect(lambda _=False, c=col: self.set_color(c))
            self._palette_row.insertWidget(1 + i, b)
        self._palette_label.setVisible(bool(self._palette))

    def palette_colors(self) -> list[tuple[int, int, int]]:
        return list(self._palette)

    def _pick_color(self) -> None:
        c = QColorDialog.getColor(self._color, self, "Brush colour")
        if c.isValid():
            self.set_color(c)

    # -- pixels -------------------------------------------------------------------------------
    def canvas_size(self) -> tuple[int, int]:
        """(width, height) of the raster."""
        return self._image.width(), self._image.height()

    def set_canvas_size(self, w: int, h: int) -> None:
        """Resize the raster; what is drawn is scaled to fit (aspect kept, white margins). Clears undo."""
        w, h = int(w), int(h)
        if w < 1 or h < 1:
            raise ValueError(f"sketch canvas size must be positive (got {w}×{h})")
        if (w, h) == self.canvas_size():
            return
        self._image = _fit_on_white(self._image, w, h)
        self.undo_stack.clear()
        self.surface.update()
        self.changed.emit()

    def painting(self) -> np.ndarray:
        """What is drawn, in colour: uint8 H×W×3 RGB (a copy)."""
        return from_qimage(self._image)

    def sketch(self) -> np.ndarray:
        """float32 H×W in [0, 1]: 1 = ink. Ink is the distance from white, so any colour counts."""
        rgb = self.painting()
        return (255 - rgb.min(axis=2)).astype(np.float32) / 255.0

    def is_blank(self) -> bool:
        return bool(self.painting().min() == 255)

    def set_painting(self, rgb: np.ndarray) -> None:
        """Show an array as the drawing (H×W×3 uint8; H×W×4 is composited on white).

        Same size as the canvas: one undo step. Another size: the canvas takes that size and the
        undo history is cleared.
        """
        rgb = np.asarray(rgb)
        img = to_qimage(rgb)
        if rgb.ndim == 3 and rgb.shape[2] == 4:
            img = _fit_on_white(img, img.width(), img.height())
        else:
            img = img.convertToFormat(QImage.Format.Format_RGB32)
        if (img.width(), img.height()) != self.canvas_size():
            self._image = img
            self.undo_stack.clear()
            self.surface.update()
            self.changed.emit()
            return
        self._replace_all(img, "Set sketch")

    def clear(self) -> None:
        """Fill with white (one undo step)."""
        blank = QImage(self._image.size(), QImage.Format.Format_RGB32)
        blank.fill(WHITE)
        self._replace_all(blank, "Clear")

    def load_file(self, path: str) -> None:
        """Import an image file as the sketch: fitted to the canvas, aspect kept, on white (undoable)."""
        img = QImage(str(path))
        if img.isNull():
            raise OSError(f"Could not read an image from '{path}' (missing file or unsupported format)")
        w, h = self.canvas_size()
        self._replace_all(_fit_on_white(img, w, h), "Import")

    def save_file(self, path: str) -> None:
        """Export the drawing at canvas resolution (format from the file extension)."""
        if not self._image.save(str(path)):
            raise OSError(f"Could not save the sketch to '{path}' (check the folder and the extension)")

    # -- internals ----------------------------------------------------------------------------
    def _on_patch(self, rect: QRect) -> None:
        self.surface.update()
        self.changed.emit()

    def _replace_all(self, new: QImage, text: str) -> None:
        rect = self._image.rect()
        before = self._image.copy()
        self.undo_stack.push(PatchCommand(text, self._image, rect, before, new, self._on_patch))

    def _commit_stroke(self, points: list[QPointF], color: QColor) -> None:
        pad = self._size / 2.0 + 2.0
        if len(points) == 1:
            box = QRectF(points[0], points[0])
        else:
            path = QPainterPath()
            smooth_path_points(points, path)
            box = path.controlPointRect()
        rect = box.adjusted(-pad, -pad, pad, pad).toAlignedRect().intersected(self._image.rect())
        if rect.isEmpty():
            return
        before = self._image.copy(rect)
        p = QPainter(self._image)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        _Surface._paint_points(p, points, color, self._size)
        p.end()
        after = self._image.copy(rect)
        text = "Erase" if color == WHITE else "Stroke"
        self.undo_stack.push(PatchCommand(text, self._image, rect, before, after, self._on_patch))
        self.strokeFinished.emit()

    def _import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import sketch", "", "Images (*.png *.jpg *.jpeg *.bmp *.webp *.tif *.tiff)"
        )
        if path:
            try:
                self.load_file(path)
            except OSError as e:
                QMessageBox.warning(self, "Import sketch", str(e))

    def _export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export sketch", "sketch.png", "PNG image (*.png)")
        if path:
            try:
                self.save_file(path)
            except OSError as e:
                QMessageBox.warning(self, "Export sketch", str(e))
