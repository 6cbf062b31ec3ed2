"""A strip of thumbnails of every generated image, so none is lost and any can be restored.

The full images stay in Python memory as numpy arrays (the app needs them to show, compare and
export); the list only holds small icons. Each image carries the parameters that made it (seed,
scale, diversity, size...), shown in its tooltip and handed back by :meth:`Gallery.params`, so
clicking a thumbnail can put the sliders back where they were.

Indices are row numbers: removing an image shifts the ones after it down by one.

The gallery holds at most ``max_images`` (:data:`MAX_IMAGES` by default): adding one more drops the
oldest (``imagesRemoved([0])``), so an hour of Generate 8 does not grow memory without end; export
what you want to keep.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QPoint, QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QListWidget, QListWidgetItem, QMenu, QWidget

from widgets.convert import to_qimage

THUMB = 96
#: The newest images kept; the oldest is dropped when one more is added.
MAX_IMAGES = 200
# Parameters shown first in the tooltip, in this order; any other key follows, sorted.
_KNOWN = ("seed", "scale", "diversity", "size", "model")


def _fmt_value(key: str, value: Any) -> str:
    if key == "size" and isinstance(value, (tuple, list)) and len(value) == 2:
        return f"{value[0]}×{value[1]}"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def params_tooltip(params: dict, label: str = "", shape: tuple[int, ...] | None = None) -> str:
    """Plain-text tooltip: the label, then one ``key: value`` line per parameter (known keys first)."""
    lines = [label] if label else []
    keys = [k for k in _KNOWN if k in params] + sorted(k for k in params if k not in _KNOWN)
    lines += [f"{k}: {_fmt_value(k, params[k])}" for k in keys]
    if "size" not in params and shape is not None:
        lines.append(f"size: {shape[1]}×{shape[0]}")
    return "\n".join(lines)


def caption_for(params: dict) -> str:
    """A thumbnail's caption from its parameters: what made the image, in a few characters.

    A random sample is named by its seed; anything else by what made it ("paint", "primitives #3"),
    since its seed alone (often 0) would make a paint result look like the sample of seed 0.
    """
    task = str(params.get("task", ""))
    if params.get("source") == "primitives" or task == "primitives":
        preset = params.get("preset", "primitives")
        return f"{preset} #{params['index']}" if "index" in params else str(preset)
    if task == "preview" and "seed" in params:  # a patch-NN preview (no training), not a SinGAN sample
        return f"preview {params['seed']}"
    if task in ("", "sample") and "seed" in params:
        return f"seed {params['seed']}"
    return task


def _thumbnail(rgb: np.ndarray, size: int = THUMB) -> QPixmap:
    """The image scaled to fit a size×size square, centred on a transparent background."""
    h, w = rgb.shape[:2]
    step = max(1, int(max(h, w) // (size * 2)))  # cheap pre-shrink of huge images before smooth scaling
    small = np.ascontiguousarray(rgb[::step, ::step])
    img = to_qimage(small).scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )
    pm = QPixmap(size, size)
    pm.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pm)
    painter.drawImage(QPoint((size - img.width()) // 2, (size - img.height()) // 2), img)
    painter.end()
    return pm


class Gallery(QListWidget):
    """Thumbnails (icon mode, wrapping) of generated images with their parameters.

    Signals:
        imageChosen(int): an image was clicked (without Ctrl/Shift) or activated (double-click,
            Enter) — show it and restore its parameters.
        selectionChanged(): the set of selected thumbnails changed.
        exportRequested(list): "Export selected…" chosen in the context menu; the selected indices.
        imagesRemoved(list): images were removed through the context menu, or the oldest was dropped
            because the gallery was full (their former indices).
    """

    imageChosen = Signal(int)
    selectionChanged = Signal()  # shadows the protected C++ slot of the same name, which Qt still calls
    exportRequested = Signal(list)
    imagesRemoved = Signal(list)

    def __init__(self, parent: QWidget | None = None, thumb_size: int = THUMB, max_images: int = MAX_IMAGES) -> None:
        super().__init__(parent)
        self.max_images = max(1, int(max_images))
        self._images: list[np.ndarray] = []
        self._params: list[dict] = []
        self._thumb = thumb_size
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(thumb_size, thumb_size))
        self.setGridSize(QSize(thumb_size + 14, thumb_size + 28))
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setWrapping(True)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # "seed 16…50882": a batch's seeds differ at the end
        self.setSpacing(2)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(False)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setMinimumHeight(thumb_size + 40)
        # A clear frame round the whole selected cell (icon and caption), not only the caption.
        self.setStyleSheet(
            "QListWidget::item { border: 1px solid transparent; border-radius: 4px; padding: 2px; }"
            "QListWidget::item:selected { border: 1px solid palette(highlight);"
            " background: rgba(61, 123, 217, 70); color: palette(text); }"
            "QListWidget::item:hover:!selected { border: 1px solid rgba(160, 160, 160, 90); }"
        )
        self.itemSelectionChanged.connect(self.selectionChanged)
        self.itemClicked.connect(self._on_clicked)
        self.itemActivated.connect(self._on_activated)
        self.customContextMenuRequested.connect(self._show_menu)
        self._press_modifiers = Qt.KeyboardModifier.NoModifier

        self.export_action = QAction("Export selected…", self)
        self.export_action.triggered.connect(self._request_export)
        self.remove_action = QAction("Remove", self)
        self.remove_action.triggered.connect(self._remove_selected)

    # ---- data ---------------------------------------------------------------------------------
    def add_image(self, rgb: np.ndarray, params: dict | None = None, label: str = "") -> int:
        """Append an image (uint8 H×W×3, copied) with its parameters; return its index. A full gallery
        drops its oldest image first (``imagesRemoved([0])``)."""
        rgb = np.asarray(rgb)
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"gallery images must be uint8 H×W×3 RGB (got {rgb.dtype} {rgb.shape})")
        image = np.array(rgb, copy=True, order="C")
        image.setflags(write=False)  # callers get the stored array; it must not change under us
        params = dict(params or {})
        if not label:
            label = caption_for(params)
        item = QListWidgetItem(QIcon(_thumbnail(image, self._thumb)), label)
        item.setToolTip(params_tooltip(params, label, image.shape))
        item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        while len(self._images) >= self.max_images:
            self.remove(0)
            self.imagesRemoved.emit([0])
        self._images.append(image)
        self._params.append(params)
        self.addItem(item)
        self.scrollToItem(item)
        return len(self._images) - 1

    def image(self, i: int) -> np.ndarray:
        """The full image at index ``i`` (read-only array)."""
        return self._images[i]

    def params(self, i: int) -> dict:
        """A copy of the parameters stored with image ``i``."""
        return dict(self._params[i])

    def label(self, i: int) -> str:
        return self.item(i).text()

    def selected_indices(self) -> list[int]:
        """Indices of the selected images, ascending."""
        return sorted(self.row(it) for it in self.selectedItems())

    def select(self, indices: list[int]) -> None:
        """Select exactly these images (e.g. after a batch was generated)."""
        self.clearSelection()
        for i in indices:
            self.item(i).setSelected(True)

    def remove(self, i: int) -> None:
        """Drop image ``i``; later indices shift down by one."""
        if not 0 <= i < len(self._images):
            raise IndexError(f"no image {i} in the gallery ({len(self._images)} images)")
        del self._images[i]
        del self._params[i]
        item = self.takeItem(i)
        del item

    def clear_all(self) -> None:
        """Forget every image."""
        self._images.clear()
        self._params.clear()
        self.clear()
        self.selectionChanged.emit()

    # ---- interaction --------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        self._press_modifiers = event.modifiers()
        super().mousePressEvent(event)

    def _on_clicked(self, item: QListWidgetItem) -> None:
        if event_extends_selection(self._press_modifiers):
            return  # Ctrl/Shift-click builds a selection; it does not switch the canvas
        self.imageChosen.emit(self.row(item))

    def _on_activated(self, item: QListWidgetItem) -> None:
        self.imageChosen.emit(self.row(item))

    def _show_menu(self, pos: QPoint) -> None:
        has_sel = bool(self.selectedItems())
        self.export_action.setEnabled(has_sel)
        self.remove_action.setEnabled(has_sel)
        menu = QMenu(self)
        menu.addAction(self.export_action)
        menu.addSeparator()
        menu.addAction(self.remove_action)
        menu.exec(self.viewport().mapToGlobal(pos))

    def _request_export(self) -> None:
        indices = self.selected_indices()
        if indices:
            self.exportRequested.emit(indices)

    def _remove_selected(self) -> None:
        indices = self.selected_indices()
        for i in reversed(indices):
            self.remove(i)
        if indices:
            self.imagesRemoved.emit(indices)


def event_extends_selection(modifiers: Qt.KeyboardModifier) -> bool:
    mask = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    return bool(modifiers & mask)
