"""The groups of the Sketch GAN dock, one small class each (napari's layer controls are the model):
the sketch set, pretraining a base, the base model, the fine-tuning settings, and explore/export.

Each group owns its widgets and turns them into what the engine takes (a config, a list of sketches,
a data source); :class:`app.panels.sketch.SketchPanel` assembles them and runs the jobs. Combos carry
their preset or choice in the item data, never in the label's text.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.images import load_image
from core.jobs import GanvasError
from core.sketchgan import pretrain, tune_config
from core.sketchgan.pretrain import PretrainConfig
from core.sketchgan.sketch import ink_to_rgb, sketch_image_to_ink
from core.sketchgan.tune_config import TRAINABLE, SketchTuneConfig
from widgets.convert import to_pixmap
from widgets.image_label import ImageLabel
from widgets.sketch_pad import SketchPad
from widgets.sliders import FloatSlider

THUMB = 72
INK_ROLE = Qt.ItemDataRole.UserRole + 1


def _combo(items: list[tuple[str, object, str]]) -> QComboBox:
    """A combo whose items carry their value as item data (label, data, tooltip)."""
    combo = QComboBox()
    for i, (label, data, tip) in enumerate(items):
        combo.addItem(label, data)
        if tip:
            combo.setItemData(i, tip, Qt.ItemDataRole.ToolTipRole)
    return combo


class SketchSetGroup(QGroupBox):
    """1. The sketch pad and the reorderable set of sketches (float32 H×W ink, 1 = ink)."""

    changed = Signal()
    status = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("1. Sketches (4–8 of the shape you want)", parent)
        v = QVBoxLayout(self)
        self.pad = SketchPad(256, 256)
        self.pad.set_brush_size(5)
        v.addWidget(self.pad)
        row = QHBoxLayout()
        self.add_button = QPushButton("Add sketch")
        self.add_button.setToolTip("Put the drawing into the set below and clear the pad")
        self.import_button = QPushButton("Import…")
        self.remove_button = QPushButton("Remove")
        self.left_button, self.right_button = QToolButton(), QToolButton()
        self.left_button.setText("◀")
        self.left_button.setToolTip("Move the selected sketch left")
        self.right_button.setText("▶")
        self.right_button.setToolTip("Move the selected sketch right")
        for b in (self.add_button, self.import_button, self.remove_button):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(self.left_button)
        row.addWidget(self.right_button)
        v.addLayout(row)
        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setFlow(QListView.Flow.LeftToRight)
        self.list.setWrapping(True)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.setMovement(QListView.Movement.Snap)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setMinimumHeight(THUMB + 30)
        self.list.setMaximumHeight(2 * THUMB + 50)
        v.addWidget(self.list)

        self.add_button.clicked.connect(self.add_from_pad)
        self.import_button.clicked.connect(self._import_dialog)
        self.remove_button.clicked.connect(self.remove_selected)
        self.left_button.clicked.connect(lambda: self.move_selected(-1))
        self.right_button.clicked.connect(lambda: self.move_selected(1))
        self.list.model().rowsInserted.connect(self._changed)
        self.list.model().rowsRemoved.connect(self._changed)
        self.pad.changed.connect(self._changed)

    def _changed(self, *_args) -> None:
        self.remove_button.setEnabled(self.list.count() > 0)
        self.changed.emit()

    def sketches(self) -> list[np.ndarray]:
        """The set in its current order."""
        return [self.list.item(i).data(INK_ROLE) for i in range(self.list.count())]

    def has_any(self) -> bool:
        """Something to tune on: a sketch in the set, or a drawing on the pad."""
        return self.list.count() > 0 or not self.pad.is_blank()

    def add_sketch(self, ink: np.ndarray, name: str = "") -> None:
        ink = np.clip(np.asarray(ink, np.float32), 0, 1)
        item = QListWidgetItem(QIcon(to_pixmap(ink_to_rgb(ink))), name or f"#{self.list.count() + 1}")
        item.setData(INK_ROLE, ink)
        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsDropEnabled)
        self.list.addItem(item)

    def add_from_pad(self) -> None:
        if self.pad.is_blank():
            self.status.emit("The sketch pad is empty: draw the shape first.")
            return
        self.add_sketch(self.pad.sketch())
        self.pad.clear()
        self.status.emit(f"{self.list.count()} sketches in the set")

    def import_sketch_files(self, paths: list[str]) -> None:
        for p in paths:
            try:
                self.add_sketch(sketch_image_to_ink(load_image(p)), Path(p).stem)
            except GanvasError as exc:
                self.status.emit(str(exc))

    def remove_selected(self) -> None:
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))

    def move_selected(self, delta: int) -> None:
        row = self.list.currentRow()
        new = row + delta
        if row < 0 or not 0 <= new < self.list.count():
            return
        item = self.list.takeItem(row)
        self.list.insertItem(new, item)
        self.list.setCurrentRow(new)

    def _import_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Import sketches", "",
                                                "Images (*.png *.jpg *.jpeg *.bmp *.webp)")
        self.import_sketch_files(paths)


class PretrainGroup(QGroupBox):
    """2. Pretraining a base (no weights can be downloaded): data, size, width, steps, folder."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("2. Pretrain a base model (optional)", parent)
        form = QFormLayout(self)
        self.source = _combo([
            ("Primitives: sketch-shapes", ("primitives", "sketch-shapes"),
             "1–2 solid figures of varied aspect ratio, rotation and position on a quiet background"),
            ("Primitives: pink-salient", ("primitives", "pink-salient"),
             "one salient circle, ellipse or rectangle on power-spectrum noise"),
            ("Image folder…", ("folder", None), "your own images (centre-cropped to squares)"),
        ])
        form.addRow("Data", self.source)
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("folder of training images (for 'Image folder')")
        form.addRow("Folder", self.folder)
        size_row = QHBoxLayout()
        self.size = _combo([(f"{s} px", s, "") for s in (32, 64, 128, 256)])
        self.size.setCurrentIndex(self.size.findData(64))
        self.width = QSpinBox()
        self.width.setRange(8, 512)
        self.width.setValue(64)
        self.width.setToolTip("channel cap: 32–64 on a CPU, 512 for StyleGAN2 config-f on a GPU")
        size_row.addWidget(self.size)
        size_row.addWidget(QLabel("width"))
        size_row.addWidget(self.width)
        form.addRow("Size", size_row)
        self.iters = QSpinBox()
        self.iters.setRange(1, 10_000_000)
        self.iters.setValue(pretrain.PRESETS["cpu"].iters)
        form.addRow("Iterations", self.iters)
        self.out = QLineEdit()
        self.out.setPlaceholderText("model folder (autosaved; resumes if it exists)")
        form.addRow("Save to", self.out)
        self.form = form

    def data_source(self) -> tuple[str, str | None]:
        """('primitives', Primitives preset name) or ('folder', None)."""
        return self.source.currentData()

    def config(self) -> PretrainConfig:
        iters = self.iters.value()
        return pretrain.preset("cpu", size=self.size.currentData(), max_channels=self.width.value(), iters=iters,
                               preview_every=max(1, min(200, iters // 10 or 1)))


class BaseGroup(QWidget):
    """The base model: its folder, Open… and Import .pt…, what it is and what a tune will cost."""

    openRequested = Signal(str)
    importRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.path = QLineEdit()
        self.path.setPlaceholderText("model folder from gan-pretrain / gan-import")
        self.open_button = QPushButton("Open…")
        self.import_button = QPushButton("Import .pt…")
        self.import_button.setToolTip(
            "Import a StyleGAN2 checkpoint of rosinality's stylegan2-pytorch (the layout GANSketching uses)")
        row.addWidget(self.path, 1)
        row.addWidget(self.open_button)
        row.addWidget(self.import_button)
        lay.addLayout(row)
        self.info = QLabel("No base model loaded")
        self.info.setWordWrap(True)
        lay.addWidget(self.info)
        self.warning = QLabel()
        self.warning.setObjectName("memoryWarning")
        self.warning.setStyleSheet("color: #f0b44c;")
        self.warning.setWordWrap(True)
        self.warning.hide()
        lay.addWidget(self.warning)
        self.open_button.clicked.connect(self._open_dialog)
        self.import_button.clicked.connect(self._import_dialog)
        self.path.returnPressed.connect(lambda: self.openRequested.emit(self.path.text()))

    def set_warning(self, text: str) -> None:
        self.warning.setText(text)
        self.warning.setVisible(bool(text))

    def _open_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a StyleGAN2 model folder")
        if path:
            self.openRequested.emit(path)

    def _import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a StyleGAN2 checkpoint (rosinality layout)", "",
                                              "PyTorch checkpoints (*.pt *.pth)")
        if path:
            self.importRequested.emit(path)


class TuneGroup(QGroupBox):
    """3. The base model and the fine-tuning settings (preset, steps, what trains, regularisation)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("3. Base model and fine-tuning", parent)
        form = QFormLayout(self)
        self.base = BaseGroup()
        form.addRow("Base", self.base)
        self.preset = _combo([(name, name, tune_config.PRESET_DESCRIPTIONS[name]) for name in tune_config.PRESETS])
        self.preset.setCurrentIndex(self.preset.findData(tune_config.DEFAULT_PRESET))
        form.addRow("Preset", self.preset)
        self.iters = QSpinBox()
        self.iters.setRange(1, 1_000_000)
        self.iters.setValue(tune_config.PRESETS[tune_config.DEFAULT_PRESET].iters)
        form.addRow("Iterations", self.iters)
        self.trainable = _combo([
            (name, name, tip) for name, tip in zip(TRAINABLE, (
                "the whole generator when the image critic sees your figures (a base of solid figures, "
                "the bundled one), else the mapping network",
                "the mapping network z → w (the paper's default)", "one offset in W", "the whole generator"))
        ])
        form.addRow("Train", self.trainable)
        self.l_image = QDoubleSpinBox()
        self.l_image.setRange(0, 10)
        self.l_image.setSingleStep(0.1)
        self.l_image.setToolTip("λ_image: keeps samples realistic (paper 0.7, cpu preset 5; 0 = off)")
        form.addRow("λ image", self.l_image)
        self.image_data = _combo([
            ("training data", "auto", "the base's own training images, regenerated from its manifest (the "
                                      "paper's); the base's samples when it does not record them. With "
                                      "filled outlines and the cpu preset, half are your figures drawn "
                                      "as the data draws figures"),
            ("base samples", "samples", "samples of the frozen base model"),
        ])
        form.addRow("Image critic", self.image_data)
        self.sketch_style = _combo([
            ("auto", "auto", "filled outlines for a base of solid figures (the bundled one), as drawn for others"),
            ("as drawn", "drawn", "the strokes as you drew them (the paper's)"),
            ("filled outlines", "filled", "each closed outline filled and redrawn by the sketch map F, so the "
                                          "critic compares shapes, not pen widths; open strokes stay as drawn"),
        ])
        form.addRow("Sketch critic", self.sketch_style)
        self.l_weight = QDoubleSpinBox()
        self.l_weight.setRange(0, 100)
        self.l_weight.setSingleStep(0.5)
        self.l_weight.setToolTip("λ_weight: keeps the tuned weights near the base's (the paper's alternative; 0 = off)")
        form.addRow("λ weight", self.l_weight)
        self.out = QLineEdit()
        self.out.setPlaceholderText("autosave folder (default: next to the base model)")
        form.addRow("Save to", self.out)
        self.form = form
        self.preset.currentIndexChanged.connect(lambda _i: self._follow_preset())
        self._follow_preset()

    def show_auto_style(self, filled: bool) -> None:
        """Name what "auto" means for the loaded base (filled outlines, and with them renders of the
        figures for the image critic, are for a base of solid figures)."""
        self.sketch_style.setItemText(0, f"auto ({'filled outlines' if filled else 'as drawn'} for this base)")
        self.trainable.setItemText(0, f"auto ({'the whole generator' if filled else 'the mapping network'} "
                                      "for this base)")

    def _follow_preset(self) -> None:
        """Steps, what trains, λ image and sketch style take the chosen preset's values."""
        cfg = tune_config.PRESETS[self.preset.currentData()]
        self.iters.setValue(cfg.iters)
        self.trainable.setCurrentIndex(self.trainable.findData(cfg.trainable))
        self.l_image.setValue(cfg.l_image)
        self.sketch_style.setCurrentIndex(self.sketch_style.findData(cfg.sketch_style))

    def config(self) -> SketchTuneConfig:
        iters = self.iters.value()
        return tune_config.preset(self.preset.currentData(), iters=iters, trainable=self.trainable.currentData(),
                               l_image=self.l_image.value(), l_weight=self.l_weight.value(),
                               image_data=self.image_data.currentData(),
                               sketch_style=self.sketch_style.currentData(),
                               preview_every=max(1, min(50, iters // 8 or 1)))


class ExploreGroup(QGroupBox):
    """4. Sample grid (base vs tuned, F rows), truncation, interpolation and the export buttons."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("4. Explore and export", parent)
        form = QFormLayout(self)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.count = QSpinBox()
        self.count.setRange(1, 64)
        self.count.setValue(8)
        form.addRow("First seed", self.seed)  # one per row: a 2³¹ spin box is wide
        form.addRow("Samples", self.count)
        self.truncation = FloatSlider("", 0.1, 1.0, 0.05, 1.0)
        self.truncation.setToolTip("Truncation ψ: lower = more typical, less varied")
        form.addRow("Truncation ψ", self.truncation)
        self.compare = QCheckBox("base vs fine-tuned")
        self.compare.setToolTip("Compare the base model (top rows) with the fine-tuned one (bottom rows) on the "
                                "same seeds")
        self.compare.setChecked(True)
        self.with_sketches = QCheckBox("show the sketch map F(image)")
        self.with_sketches.setToolTip("Under each row of samples, their sketch map: what the sketch critic "
                                      "compares with your sketches")
        self.with_sketches.setChecked(True)
        form.addRow(self.compare)
        form.addRow(self.with_sketches)
        self.sample_button = QPushButton("Sample grid")
        form.addRow(self.sample_button)
        self.grid_view = ImageLabel(220)
        form.addRow(self.grid_view)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        form.addRow(self.caption)
        self.seed_a, self.seed_b = QSpinBox(), QSpinBox()
        self.seed_a.setRange(0, 2**31 - 1)
        self.seed_b.setRange(0, 2**31 - 1)
        self.seed_b.setValue(1)
        form.addRow("Interpolate A", self.seed_a)
        form.addRow("… to B", self.seed_b)
        self.interp_slider = FloatSlider("", 0.0, 1.0, 0.01, 0.0)
        form.addRow("A → B", self.interp_slider)
        self.interp_view = ImageLabel(160)
        form.addRow(self.interp_view)
        row = QHBoxLayout()
        self.export_samples_button = QPushButton("Samples…")
        self.export_samples_button.setToolTip("Export the sample grid's images as PNG (seed and model in text chunks)")
        self.export_anim_button = QPushButton("GIF/MP4…")
        self.export_anim_button.setToolTip("Export the A → B interpolation as an animation")
        self.export_model_button = QPushButton("Model…")
        self.export_model_button.setToolTip("Export the fine-tuned model (safetensors + JSON)")
        row.addWidget(QLabel("Export"))
        for b in self.model_buttons()[1:]:
            row.addWidget(b)
        form.addRow(row)  # spans both columns: the buttons need the label column's width

    def model_buttons(self) -> tuple[QPushButton, ...]:
        """The buttons that need a model."""
        return (self.sample_button, self.export_samples_button, self.export_anim_button, self.export_model_button)

    def seeds(self) -> list[int]:
        s = self.seed.value()
        return list(range(s, s + self.count.value()))

    def set_grid(self, grid: np.ndarray, compared: bool, sketches: bool) -> None:
        self.grid_view.set_image(grid)
        rows = ["base samples", "fine-tuned samples"] if compared else ["samples"]
        self.caption.setText("Rows: " + ", ".join(f"{r}{' and their sketch map F' if sketches else ''}" for r in rows)
                             + ".")


__all__ = ["BaseGroup", "ExploreGroup", "PretrainGroup", "SketchSetGroup", "TuneGroup"]
