"""The Sketch panel: Sketch Your Own GAN in the studio.

Draw a handful of sketches (or import sketch images), collect them as reorderable thumbnails,
choose a base StyleGAN2, fine-tune while fixed-seed before/after grids come in, stop when
satisfied; then explore the result (seeded sample grid, truncation, base vs fine-tuned on the
same seeds, F(image) rows that show what the sketch discriminator compares, latent interpolation)
and export samples (PNG + metadata), the interpolation (GIF/MP4) and the model.

Engine work runs through ``JobRunner``; the interpolation slider goes through ``LatestOnly`` so
dragging it never queues frames. The base model is read-only; fine-tuning works on its own copy.
"""

from __future__ import annotations

import time
from dataclasses import replace
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
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.workers import JobRunner, LatestOnly
from core.images import load_image
from core.jobs import Cancelled, GanvasError, Progress
from core.sketchgan.explore import (
    export_model,
    export_samples,
    interpolation_frames,
    sample_grid,
    save_gif,
    save_mp4,
    upscale_frames,
)
from core.sketchgan.finetune import TRAINABLE, SketchTuneConfig, sketch_tune
from core.sketchgan.model import StyleGANModel, interpolate, load_model
from core.sketchgan.pretrain import PretrainConfig, folder_data, primitives_data, train_gan
from core.sketchgan.sketch import ink_to_rgb, sketch_image_to_ink
from widgets.convert import to_pixmap
from widgets.sketch_pad import SketchPad
from widgets.sliders import FloatSlider
from widgets.training_monitor import TrainingMonitor

THUMB = 72
INK_ROLE = Qt.ItemDataRole.UserRole + 1


def _interp_frame(model: StyleGANModel, seed_a: int, seed_b: int, t: float, truncation: float, *, progress=None,
                  cancel=None) -> np.ndarray:  # fmt: skip
    return interpolate(model, seed_a, seed_b, [t], truncation=truncation)[0]


class ImageLabel(QLabel):
    """Shows a uint8 image scaled to fit (nearest-neighbour: small GAN samples stay crisp)."""

    def __init__(self, min_side: int = 200, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: np.ndarray | None = None
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(min_side, min_side)

    def set_image(self, rgb: np.ndarray | None) -> None:
        self._image = None if rgb is None else np.ascontiguousarray(rgb)
        self._refresh()

    def image(self) -> np.ndarray | None:
        return self._image

    def _refresh(self) -> None:
        if self._image is None:
            self.clear()
            return
        pm = to_pixmap(self._image)
        self.setPixmap(
            pm.scaled(
                self.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
            )
        )

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._refresh()


class SketchPanel(QWidget):
    showImage = Signal(object, dict)
    addToGallery = Signal(object, dict)
    status = Signal(str)
    tuningFinished = Signal(bool)  # True when a fine-tuned model is ready
    pretrainFinished = Signal(bool)  # True when a pretrained base is loaded
    gridReady = Signal()

    def __init__(self, jobs: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.live = LatestOnly(jobs, self)
        self.base: StyleGANModel | None = None
        self.tuned: StyleGANModel | None = None
        self._job = None
        self._frames: np.ndarray | None = None
        self._build_ui()
        self._update_buttons()

    # -- UI ---------------------------------------------------------------------------------------
    def _build_ui(self) -> None:
        inner = QWidget()
        lay = QVBoxLayout(inner)

        # sketches
        box = QGroupBox("1. Sketches (4–8 of the shape you want)")
        v = QVBoxLayout(box)
        self.pad = SketchPad(256, 256)
        self.pad.set_brush_size(5)
        v.addWidget(self.pad)
        row = QHBoxLayout()
        self.add_button = QPushButton("Add sketch")
        self.add_button.setToolTip("Put the drawing into the set below and clear the pad")
        self.import_button = QPushButton("Import…")
        self.remove_button = QPushButton("Remove")
        self.left_button = QToolButton()
        self.left_button.setText("◀")
        self.left_button.setToolTip("Move the selected sketch left")
        self.right_button = QToolButton()
        self.right_button.setText("▶")
        self.right_button.setToolTip("Move the selected sketch right")
        for b in (self.add_button, self.import_button, self.remove_button):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(self.left_button)
        row.addWidget(self.right_button)
        v.addLayout(row)
        self.sketch_list = QListWidget()
        self.sketch_list.setViewMode(QListView.ViewMode.IconMode)
        self.sketch_list.setIconSize(QSize(THUMB, THUMB))
        self.sketch_list.setFlow(QListView.Flow.LeftToRight)
        self.sketch_list.setWrapping(True)
        self.sketch_list.setResizeMode(QListView.ResizeMode.Adjust)
        self.sketch_list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.sketch_list.setMovement(QListView.Movement.Snap)
        self.sketch_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.sketch_list.setMinimumHeight(THUMB + 30)
        self.sketch_list.setMaximumHeight(2 * THUMB + 50)
        v.addWidget(self.sketch_list)
        lay.addWidget(box)

        # pretraining a base (no weights can be downloaded)
        box = QGroupBox("0. Pretrain a base model (optional)")
        form0 = QFormLayout(box)
        self.pre_source = QComboBox()
        self.pre_source.addItems(["Primitives (pink-salient)", "Primitives (primitives-ps)", "Image folder…"])
        form0.addRow("Data", self.pre_source)
        self.pre_folder = QLineEdit()
        self.pre_folder.setPlaceholderText("folder of training images (for 'Image folder')")
        form0.addRow("Folder", self.pre_folder)
        size_row = QHBoxLayout()
        self.pre_size = QComboBox()
        self.pre_size.addItems(["32", "64", "128", "256"])
        self.pre_size.setCurrentText("64")
        self.pre_width = QSpinBox()
        self.pre_width.setRange(8, 512)
        self.pre_width.setValue(64)
        self.pre_width.setToolTip("channel cap: 32–64 on a CPU, 512 for StyleGAN2 config-f on a GPU")
        size_row.addWidget(self.pre_size)
        size_row.addWidget(QLabel("width"))
        size_row.addWidget(self.pre_width)
        form0.addRow("Size", size_row)
        self.pre_iters = QSpinBox()
        self.pre_iters.setRange(1, 10_000_000)
        self.pre_iters.setValue(4000)
        form0.addRow("Iterations", self.pre_iters)
        self.pre_out = QLineEdit()
        self.pre_out.setPlaceholderText("model folder (autosaved; resumes if it exists)")
        form0.addRow("Save to", self.pre_out)
        self.pretrain_button = QPushButton("Pretrain / resume")
        form0.addRow(self.pretrain_button)
        lay.addWidget(box)

        # model and training
        box = QGroupBox("2. Base model and fine-tuning")
        form = QFormLayout(box)
        base_row = QHBoxLayout()
        self.base_edit = QLineEdit()
        self.base_edit.setPlaceholderText("model folder from gan-pretrain / gan-import")
        self.base_button = QPushButton("Open…")
        base_row.addWidget(self.base_edit, 1)
        base_row.addWidget(self.base_button)
        form.addRow("Base", base_row)
        self.base_info = QLabel("No base model loaded")
        self.base_info.setWordWrap(True)
        form.addRow("", self.base_info)
        self.preset_combo = QComboBox()
        self.preset_combo.addItems(["cpu", "paper"])
        self.preset_combo.setToolTip(
            "cpu: a few hundred steps; paper: GANSketching's defaults (75k steps, GPU)"
        )
        form.addRow("Preset", self.preset_combo)
        self.iter_spin = QSpinBox()
        self.iter_spin.setRange(1, 1_000_000)
        self.iter_spin.setValue(SketchTuneConfig.cpu().iterations)
        form.addRow("Iterations", self.iter_spin)
        self.trainable_combo = QComboBox()
        self.trainable_combo.addItems(list(TRAINABLE))
        self.trainable_combo.setToolTip(
            "mapping: the paper's default; w_shift: one offset in W; all: whole G"
        )
        form.addRow("Train", self.trainable_combo)
        self.l_image_spin = QDoubleSpinBox()
        self.l_image_spin.setRange(0, 10)
        self.l_image_spin.setSingleStep(0.1)
        self.l_image_spin.setValue(0.7)
        self.l_image_spin.setToolTip("λ_image: keeps samples realistic (paper 0.7; 0 = off)")
        form.addRow("λ image", self.l_image_spin)
        out_row = QHBoxLayout()
        self.out_edit = QLineEdit()
        self.out_edit.setPlaceholderText("autosave folder (default: next to the base model)")
        out_row.addWidget(self.out_edit, 1)
        form.addRow("Save to", out_row)
        run_row = QHBoxLayout()
        self.start_button = QPushButton("Start fine-tuning")
        self.stop_button = QPushButton("Stop")
        run_row.addWidget(self.start_button)
        run_row.addWidget(self.stop_button)
        form.addRow(run_row)
        lay.addWidget(box)
        self.monitor = TrainingMonitor()
        self.monitor.setMinimumHeight(320)
        lay.addWidget(self.monitor)

        # explore
        box = QGroupBox("3. Explore and export")
        form = QFormLayout(box)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.count_spin = QSpinBox()
        self.count_spin.setRange(1, 64)
        self.count_spin.setValue(8)
        form.addRow("First seed", self.seed_spin)  # one per row: a 2³¹ spin box is wide
        form.addRow("Samples", self.count_spin)
        self.trunc_slider = FloatSlider("", 0.1, 1.0, 0.05, 1.0)
        self.trunc_slider.setToolTip("Truncation ψ: lower = more typical, less varied")
        form.addRow("Truncation ψ", self.trunc_slider)
        self.compare_check = QCheckBox("base vs fine-tuned")
        self.compare_check.setToolTip("Compare the base model (top row) with the fine-tuned one (bottom row) on the same seeds")
        self.compare_check.setChecked(True)
        self.sketch_check = QCheckBox("show F(image) rows")
        self.sketch_check.setToolTip("Also show the line drawings F(image): what the sketch discriminator sees")
        self.sketch_check.setChecked(True)
        form.addRow(self.compare_check)
        form.addRow(self.sketch_check)
        self.sample_button = QPushButton("Sample grid")
        form.addRow(self.sample_button)
        self.grid_view = ImageLabel(220)
        form.addRow(self.grid_view)
        self.seed_a = QSpinBox()
        self.seed_a.setRange(0, 2**31 - 1)
        self.seed_b = QSpinBox()
        self.seed_b.setRange(0, 2**31 - 1)
        self.seed_b.setValue(1)
        form.addRow("Interpolate A", self.seed_a)
        form.addRow("… to B", self.seed_b)
        self.interp_slider = FloatSlider("", 0.0, 1.0, 0.01, 0.0)
        form.addRow("A → B", self.interp_slider)
        self.interp_view = ImageLabel(160)
        form.addRow(self.interp_view)
        exp_row = QHBoxLayout()
        self.export_samples_button = QPushButton("Samples…")
        self.export_samples_button.setToolTip("Export the sample grid's images as PNG (seed and model in text chunks)")
        self.export_anim_button = QPushButton("GIF/MP4…")
        self.export_anim_button.setToolTip("Export the A → B interpolation as an animation")
        self.export_model_button = QPushButton("Model…")
        self.export_model_button.setToolTip("Export the fine-tuned model (safetensors + JSON)")
        exp_row.addWidget(QLabel("Export"))
        for b in (self.export_samples_button, self.export_anim_button, self.export_model_button):
            exp_row.addWidget(b)
        form.addRow(exp_row)  # spans both columns: the buttons need the label column's width
        lay.addWidget(box)
        lay.addStretch(1)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        self.add_button.clicked.connect(self.add_from_pad)
        self.import_button.clicked.connect(self._import_dialog)
        self.remove_button.clicked.connect(self.remove_selected)
        self.left_button.clicked.connect(lambda: self.move_selected(-1))
        self.right_button.clicked.connect(lambda: self.move_selected(1))
        self.sketch_list.model().rowsInserted.connect(self._update_buttons)
        self.sketch_list.model().rowsRemoved.connect(self._update_buttons)
        self.pad.changed.connect(self._update_buttons)
        self.base_button.clicked.connect(self._open_base_dialog)
        self.pretrain_button.clicked.connect(self.start_pretraining)
        self.base_edit.returnPressed.connect(lambda: self.load_base(self.base_edit.text()))
        self.preset_combo.currentTextChanged.connect(self._preset_changed)
        self.start_button.clicked.connect(self.start_tuning)
        self.stop_button.clicked.connect(self.stop_tuning)
        self.monitor.cancelRequested.connect(self.stop_tuning)
        self.sample_button.clicked.connect(self.sample)
        self.trunc_slider.valueCommitted.connect(lambda _v: self.sample() if self.current_model() else None)
        self.interp_slider.valueChanged.connect(self._interp_changed)
        self.export_samples_button.clicked.connect(self._export_samples_dialog)
        self.export_anim_button.clicked.connect(self._export_anim_dialog)
        self.export_model_button.clicked.connect(self._export_model_dialog)

    # -- sketches ---------------------------------------------------------------------------------
    def sketches(self) -> list[np.ndarray]:
        """The sketch set in its current order (float32 H×W ink, 1 = ink)."""
        return [self.sketch_list.item(i).data(INK_ROLE) for i in range(self.sketch_list.count())]

    def add_sketch(self, ink: np.ndarray, name: str = "") -> None:
        ink = np.clip(np.asarray(ink, np.float32), 0, 1)
        item = QListWidgetItem(QIcon(to_pixmap(ink_to_rgb(ink))), name or f"#{self.sketch_list.count() + 1}")
        item.setData(INK_ROLE, ink)
        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsDropEnabled)
        self.sketch_list.addItem(item)
        self._update_buttons()

    def add_from_pad(self) -> None:
        if self.pad.is_blank():
            self.status.emit("The sketch pad is empty: draw the shape first.")
            return
        self.add_sketch(self.pad.sketch())
        self.pad.clear()
        self.status.emit(f"{self.sketch_list.count()} sketches in the set")

    def import_sketch_files(self, paths: list[str]) -> None:
        for p in paths:
            try:
                self.add_sketch(sketch_image_to_ink(load_image(p)), Path(p).stem)
            except GanvasError as exc:
                self.status.emit(str(exc))

    def remove_selected(self) -> None:
        for item in self.sketch_list.selectedItems():
            self.sketch_list.takeItem(self.sketch_list.row(item))
        self._update_buttons()

    def move_selected(self, delta: int) -> None:
        row = self.sketch_list.currentRow()
        new = row + delta
        if row < 0 or not 0 <= new < self.sketch_list.count():
            return
        item = self.sketch_list.takeItem(row)
        self.sketch_list.insertItem(new, item)
        self.sketch_list.setCurrentRow(new)

    def _import_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Import sketches", "", "Images (*.png *.jpg *.jpeg *.bmp *.webp)"
        )
        self.import_sketch_files(paths)

    # -- base model ---------------------------------------------------------------------------------
    def _open_base_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a StyleGAN2 model folder")
        if path:
            self.load_base(path)

    def load_base(self, path: str) -> None:
        self.base_edit.setText(str(path))
        self.jobs.submit(lambda p, *, progress=None, cancel=None: load_model(p), str(path), name="Open base model",
                         on_result=self._base_loaded)  # fmt: skip

    def set_base(self, model: StyleGANModel) -> None:
        self._base_loaded(model)

    def _base_loaded(self, model: StyleGANModel) -> None:
        self.base = model
        self.tuned = None
        c = model.config
        self.base_info.setText(
            f"{model.model_id}: {c.size}px, z {c.style_dim}, {c.n_mlp} mapping layers"
            f"{'' if model.discriminator is not None else ' — no discriminator: cannot be fine-tuned'}"
        )
        if not self.out_edit.text() and model.path is not None:
            self.out_edit.setText(str(Path(model.path).parent / f"{Path(model.path).name}-sketch"))
        self.status.emit(f"Base model {model.model_id} loaded")
        self._update_buttons()
        self.sample()

    def _preset_changed(self, name: str) -> None:
        self.iter_spin.setValue(SketchTuneConfig.preset(name).iterations)

    # -- pretraining ------------------------------------------------------------------------------
    def pretrain_config(self) -> PretrainConfig:
        cfg = PretrainConfig.cpu(int(self.pre_size.currentText()), iterations=self.pre_iters.value())
        return replace(cfg, model=replace(cfg.model, max_channels=self.pre_width.value()),
                       preview_every=max(1, min(200, self.pre_iters.value() // 10 or 1)))  # fmt: skip

    def start_pretraining(self) -> None:
        out = self.pre_out.text().strip()
        if not out:
            self.status.emit("Choose a folder to save the base model in.")
            return
        cfg = self.pretrain_config()
        source = self.pre_source.currentText()
        folder = self.pre_folder.text().strip()

        def job(*, progress=None, cancel=None):
            if source.startswith("Image"):
                data, info = folder_data(folder, cfg.model.size)
            else:
                variant = source.split("(")[1].rstrip(")")
                data, info = primitives_data(
                    cfg.model.size, 4000, variant=variant, progress=progress, cancel=cancel
                )
            return train_gan(data, cfg, out_dir=out, data_info=info, progress=progress, cancel=cancel)

        self.monitor.start(f"Pretraining a {cfg.model.size}px base")
        self._t0 = time.perf_counter()
        self._job = self.jobs.submit(
            job, name="Pretraining", on_progress=self._on_progress, on_result=self._on_pretrained,
            on_error=self._on_pretrain_error, on_finished=self._on_pretrain_finished,
        )  # fmt: skip
        self._update_buttons()

    def _on_pretrained(self, model: StyleGANModel) -> None:
        self.monitor.finish(f"Done in {time.perf_counter() - self._t0:.0f} s")
        self.base_edit.setText(str(model.path))
        self._base_loaded(load_model(model.path))

    def _on_pretrain_error(self, exc: Exception) -> None:
        if isinstance(exc, Cancelled):
            self.monitor.finish("Stopped: run again with the same folder to resume")
            return
        self.monitor.fail(str(exc))
        self.status.emit(f"Pretraining failed: {exc}")

    def _on_pretrain_finished(self) -> None:
        self._job = None
        self._update_buttons()
        self.pretrainFinished.emit(self.base is not None)

    # -- fine-tuning --------------------------------------------------------------------------------
    def tune_config(self) -> SketchTuneConfig:
        return SketchTuneConfig.preset(
            self.preset_combo.currentText(),
            iterations=self.iter_spin.value(),
            trainable=self.trainable_combo.currentText(),
            l_image=self.l_image_spin.value(),
            preview_every=max(1, min(50, self.iter_spin.value() // 8 or 1)),
        )

    def start_tuning(self) -> None:
        if self.base is None:
            self.status.emit("Open a base model first.")
            return
        sketches = self.sketches()
        if not sketches and not self.pad.is_blank():
            self.add_from_pad()
            sketches = self.sketches()
        if not sketches:
            self.status.emit("Add at least one sketch (4–8 work best).")
            return
        cfg = self.tune_config()
        out = self.out_edit.text().strip() or None
        self.monitor.start(f"Fine-tuning on {len(sketches)} sketches")
        self._t0 = time.perf_counter()
        self._job = self.jobs.submit(
            sketch_tune, self.base, sketches, cfg, out_dir=out, name="Sketch fine-tuning",
            on_progress=self._on_progress, on_result=self._on_tuned, on_error=self._on_tune_error,
            on_finished=self._on_tune_finished,
        )  # fmt: skip
        self._update_buttons()

    def stop_tuning(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self.status.emit("Stopping… the last autosave stays usable")

    def _on_progress(self, p: Progress) -> None:
        self.monitor.update_progress(p.stage, p.stage_index, p.stage_count, p.step, p.total, p.rate, p.eta_s,
                                     p.metrics)  # fmt: skip
        if p.preview is not None:
            caption = f"step {p.step}"
            if p.stage == "sketch fine-tuning":
                caption += ": base (top two rows) | fine-tuned (bottom two)"
            self.monitor.set_preview(p.preview, caption)

    def _on_tuned(self, model: StyleGANModel) -> None:
        self.tuned = model
        self.monitor.finish(f"Done in {time.perf_counter() - self._t0:.0f} s")
        self.status.emit("Fine-tuned model ready" + (f", saved to {model.path}" if model.path else ""))
        self.sample()

    def _on_tune_error(self, exc: Exception) -> None:
        if isinstance(exc, Cancelled):
            self.monitor.finish("Stopped")
            self.status.emit("Fine-tuning stopped")
            if self.out_edit.text().strip():
                try:
                    self.tuned = load_model(self.out_edit.text().strip())
                except GanvasError:
                    pass
            return
        self.monitor.fail(str(exc))
        self.status.emit(f"Fine-tuning failed: {exc}")

    def _on_tune_finished(self) -> None:
        self._job = None
        self._update_buttons()
        self.tuningFinished.emit(self.tuned is not None)

    # -- explore ---------------------------------------------------------------------------------------
    def current_model(self) -> StyleGANModel | None:
        return self.tuned or self.base

    def seeds(self) -> list[int]:
        s = self.seed_spin.value()
        return list(range(s, s + self.count_spin.value()))

    def sample(self) -> None:
        model = self.current_model()
        if model is None:
            return
        base = self.base if (self.tuned is not None and self.compare_check.isChecked()) else None
        self.jobs.submit(
            sample_grid, model, self.seeds(), self.trunc_slider.value(), base=base,
            with_sketches=self.sketch_check.isChecked(), name="Sample grid", on_result=self._grid_ready,
        )  # fmt: skip

    def _grid_ready(self, result) -> None:
        grid, samples = result
        self.grid_view.set_image(grid)
        model = self.current_model()
        params = {"engine": "stylegan2", "model": model.model_id if model else "", "seeds": self.seeds(),
                  "truncation": self.trunc_slider.value()}  # fmt: skip
        self.showImage.emit(grid, params)
        self.gridReady.emit()

    def _interp_changed(self, t: float) -> None:
        model = self.current_model()
        if model is None:
            return
        self.live.request(_interp_frame, model, self.seed_a.value(), self.seed_b.value(), float(t),
                          self.trunc_slider.value(), on_result=self.interp_view.set_image, name="Interpolate")  # fmt: skip

    # -- export -------------------------------------------------------------------------------------------
    def export_samples_to(self, folder: str) -> None:
        model = self.current_model()
        if model is None:
            return
        self.jobs.submit(export_samples, model, self.seeds(), folder, self.trunc_slider.value(),
                         name="Export samples",
                         on_result=lambda paths: self.status.emit(f"Exported {len(paths)} samples to {folder}"))  # fmt: skip

    def export_animation_to(self, path: str, frames: int = 24) -> None:
        model = self.current_model()
        if model is None:
            return

        def job(*, progress=None, cancel=None):
            f = upscale_frames(interpolation_frames(model, self.seed_a.value(), self.seed_b.value(), frames,
                                                    self.trunc_slider.value(), progress=progress, cancel=cancel))  # fmt: skip
            return save_mp4(path, f) if path.lower().endswith(".mp4") else save_gif(path, f)

        self.jobs.submit(job, name="Export interpolation", on_result=lambda p: self.status.emit(f"Wrote {p}"))

    def export_model_to(self, path: str) -> None:
        model = self.tuned or self.base
        if model is None:
            return
        self.jobs.submit(export_model, model, path, name="Export model",
                         on_result=lambda p: self.status.emit(f"Model saved to {p}"))  # fmt: skip

    def _export_samples_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export samples to")
        if folder:
            self.export_samples_to(folder)

    def _export_anim_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export interpolation", "interpolation.gif", "GIF (*.gif);;MP4 (*.mp4)"
        )
        if path:
            self.export_animation_to(path)

    def _export_model_dialog(self) -> None:
        path = QFileDialog.getSaveFileName(self, "Export model folder", "sketch-model")[0]
        if path:
            self.export_model_to(path)

    # -- state ----------------------------------------------------------------------------------------------
    def _update_buttons(self, *args) -> None:
        running = self._job is not None
        has_model = self.current_model() is not None
        can_tune = self.base is not None and self.base.discriminator is not None
        self.start_button.setEnabled(
            not running and can_tune and (self.sketch_list.count() > 0 or not self.pad.is_blank())
        )
        self.stop_button.setEnabled(running)
        self.pretrain_button.setEnabled(not running)
        for b in (
            self.sample_button,
            self.export_samples_button,
            self.export_anim_button,
            self.export_model_button,
        ):
            b.setEnabled(has_model)
        self.remove_button.setEnabled(self.sketch_list.count() > 0)


__all__ = ["SketchPanel"]
