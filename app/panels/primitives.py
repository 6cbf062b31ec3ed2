"""The Primitives panel: a live 4×4 preview of a synthetic pretraining set, and its export.

Every control change asks for a new grid through :class:`LatestOnly`, so dragging a slider never
queues work: only the newest settings are drawn and stale grids are dropped. Clicking a tile
opens that image on the canvas (where the spectrum view can compare it with a real photo). The
export runs through a :class:`~app.panels.base.JobBar` (Export / Cancel, progress with ETA).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.panels.base import JobBar, Panel
from app.workers import JobRunner, LatestOnly, describe_error
from core.jobs import Cancelled, GanvasError
from core.primitives import DEFAULT_PRESET, PRESET_DESCRIPTIONS, PRESETS, SHAPE_KINDS, export_set
from core.primitives.config import PrimitivesConfig
from core.primitives.synth import generate_parallel
from widgets.preview_grid import PreviewGrid
from widgets.sliders import FloatSlider, RangeSlider, SeedControl

GRID = 4
SIZES = (64, 128, 256, 512)


def preview_images(config: PrimitivesConfig, seed: int, size: int, count: int, *, cancel=None):
    """Worker-thread job: ``count`` images and the seconds it took."""
    t0 = time.perf_counter()
    images = generate_parallel(config, seed, range(count), size, size, workers=2, cancel=cancel)
    return images, time.perf_counter() - t0


class PrimitivesPanel(Panel):
    """Design a Primitives pretraining set: live previews, open one on the canvas, export the set."""

    previewUpdated = Signal(float)  # seconds from the request to the grid on screen

    def __init__(self, jobs: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.latest = LatestOnly(jobs, self)
        self.last_latency_s: float | None = None
        self._requested_at = 0.0
        self._shown = (None, 0, 128)  # config, seed, size of the grid on screen

        # ---- controls
        self.preset = QComboBox()
        for name in PRESETS:  # the preset's name is the item data; its description the item's tooltip
            self.preset.addItem(name, name)
            self.preset.setItemData(self.preset.count() - 1, PRESET_DESCRIPTIONS.get(name, ""),
                                    Qt.ItemDataRole.ToolTipRole)
        self.preset.setCurrentIndex(self.preset.findData(DEFAULT_PRESET))
        self.preset.setToolTip("\n".join(f"{name}: {text}" for name, text in PRESET_DESCRIPTIONS.items()))
        self.exponents = RangeSlider("", 0.0, 5.0, 0.1, (0.5, 3.5))
        self.exponents.setToolTip(
            "Power-spectrum exponents: amplitude ∝ 1/(|fy|^a + |fx|^b), a and b drawn in this range"
        )
        self.shape_count = FloatSlider("", 0, 300, 1, 100)
        self.size_decay = FloatSlider("", 0.0, 4.0, 0.1, 1.0)
        self.size_decay.setToolTip(
            "How fast shapes shrink along the sequence (1 = linear, as in the paper; 0 = no shrinking)"
        )
        self.kinds = {k: QCheckBox(k) for k in SHAPE_KINDS}
        kinds_row = QHBoxLayout()
        kinds_row.setContentsMargins(0, 0, 0, 0)
        for cb in self.kinds.values():
            cb.setChecked(True)
            kinds_row.addWidget(cb)
        kinds_box = QWidget()
        kinds_box.setLayout(kinds_row)
        self.saliency = QCheckBox("salient object")
        self.saliency.setChecked(True)
        self.saliency_scale = FloatSlider("", 0.3, 2.0, 0.05, 1.0)
        self.antialias = QCheckBox("antialiased edges")
        self.image_size = QComboBox()
        for s in SIZES:
            self.image_size.addItem(f"{s} × {s}", s)
        self.image_size.setCurrentIndex(SIZES.index(128))
        self.seed = SeedControl(0, locked=False)

        form = QFormLayout()
        form.addRow("Preset", self.preset)
        form.addRow("Exponents", self.exponents)
        form.addRow("Shapes", self.shape_count)
        form.addRow("Size decay", self.size_decay)
        form.addRow("Kinds", kinds_box)
        sal_row = QHBoxLayout()
        sal_row.setContentsMargins(0, 0, 0, 0)
        sal_row.addWidget(self.saliency)
        sal_row.addWidget(self.saliency_scale, 1)
        sal_box = QWidget()
        sal_box.setLayout(sal_row)
        form.addRow("Saliency", sal_box)
        form.addRow("", self.antialias)
        form.addRow("Image size", self.image_size)
        form.addRow(self.seed)
        settings = QGroupBox("Synthesizer")
        settings.setLayout(form)

        # ---- preview
        self.grid = PreviewGrid(GRID, "Generating previews…")
        self.grid.setToolTip("Click an image to open it on the canvas")
        self.preview_info = QLabel(" ")
        self.preview_info.setWordWrap(True)
        self.preview_info.setObjectName("previewInfo")
        self.to_gallery = QToolButton()
        self.to_gallery.setText("Add grid to gallery")
        info_row = QHBoxLayout()
        info_row.addWidget(self.preview_info, 1)
        info_row.addWidget(self.to_gallery)

        # ---- export
        self.count = QSpinBox()
        self.count.setRange(1, 10_000_000)
        self.count.setValue(10000)
        self.count.setGroupSeparatorShown(True)
        self.export_size = QComboBox()
        for s in SIZES:
            self.export_size.addItem(f"{s} × {s}", s)
        self.export_size.setCurrentIndex(SIZES.index(128))
        self.folder = QLineEdit(str(Path.home() / "ganvas-primitives"))
        browse = QToolButton()
        browse.setText("…")
        browse.setToolTip("Choose the folder")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.setContentsMargins(0, 0, 0, 0)
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        folder_box = QWidget()
        folder_box.setLayout(folder_row)
        self.fmt = QComboBox()
        self.fmt.addItem("PNG files", "png")
        self.fmt.addItem("one .zip of PNGs", "zip")
        self.fmt.addItem("NumPy .npy stack (N×H×W×3)", "npy")
        self.overwrite = QCheckBox("write into a non-empty folder")
        self.bar = JobBar(jobs, "Export set", start_tip="Write the set with its manifest (on a worker thread)",
                          cancel_tip="Stop the export; the partial set is removed", unit="images",
                          cancelled_text="Export cancelled; the partial set was removed.")
        self.bar.said.connect(self.status)
        self.bar.lock(self.count, self.export_size, folder_box, self.fmt, self.overwrite)
        self.export_button, self.cancel_button = self.bar.start_button, self.bar.cancel_button
        self.progress_bar, self.export_info = self.bar.progress_bar, self.bar.message
        eform = QFormLayout()
        eform.addRow("Images", self.count)
        eform.addRow("Size", self.export_size)
        eform.addRow("Folder", folder_box)
        eform.addRow("Format", self.fmt)
        eform.addRow("", self.overwrite)
        eform.addRow(self.bar)
        export_box = QGroupBox("Export a set (a manifest is written beside it)")
        export_box.setLayout(eform)

        # Stacked (preview on top) so the panel fits a narrow dock beside the canvas.
        lay = QVBoxLayout(self)
        lay.addWidget(self.grid, 1)
        lay.addLayout(info_row)
        lay.addWidget(settings)
        lay.addWidget(export_box)

        # ---- wiring: every change (also while dragging) asks for a fresh grid
        self.preset.currentIndexChanged.connect(self._on_preset)
        self.exponents.rangeChanged.connect(self.refresh)
        self.shape_count.valueChanged.connect(self.refresh)
        self.size_decay.valueChanged.connect(self.refresh)
        for cb in self.kinds.values():
            cb.toggled.connect(self.refresh)
        self.saliency.toggled.connect(self.refresh)
        self.saliency.toggled.connect(self.saliency_scale.setEnabled)
        self.saliency_scale.valueChanged.connect(self.refresh)
        self.antialias.toggled.connect(self.refresh)
        self.image_size.currentIndexChanged.connect(self._on_image_size)
        self.seed.seedChanged.connect(self.refresh)
        self.grid.tileClicked.connect(self._open_tile)
        self.to_gallery.clicked.connect(self._grid_to_gallery)
        self.bar.startRequested.connect(self.start_export)
        self._on_preset()

    # ------------------------------------------------------------ settings ⇄ config

    def config(self) -> PrimitivesConfig:
        """The config the controls describe (raises PrimitivesError for an impossible combination)."""
        lo, hi = self.exponents.values()
        base = PRESETS[self.preset.currentData()]
        kinds = tuple(k for k, cb in self.kinds.items() if cb.isChecked())
        return base.with_(
            exponent_range=(float(lo), float(hi)),
            shape_count=int(round(self.shape_count.value())),
            size_decay=float(self.size_decay.value()),
            shape_kinds=kinds,
            saliency=self.saliency.isChecked() and base.saliency,
            saliency_scale=float(self.saliency_scale.value()),
            antialias=self.antialias.isChecked(),
        )

    def preview_size(self) -> int:
        return int(self.image_size.currentData())

    def _on_preset(self) -> None:
        base = PRESETS[self.preset.currentData()]
        uses_shapes = base.shapes
        for w in (self.shape_count, self.size_decay, *self.kinds.values()):
            w.setEnabled(uses_shapes)
        uses_p = base.background == "spectrum" or (base.saliency and base.saliency_fill == "spectrum")
        self.exponents.setEnabled(uses_p)
        self.saliency.setEnabled(base.saliency)
        blocked = self.saliency.blockSignals(True)
        self.saliency.setChecked(base.saliency)
        self.saliency.blockSignals(blocked)
        self.saliency_scale.setEnabled(base.saliency)
        self.refresh()

    def _on_image_size(self) -> None:
        self.export_size.setCurrentIndex(self.image_size.currentIndex())
        self.refresh()

    # ------------------------------------------------------------ previews

    def refresh(self, *_args) -> None:
        """Ask for a new grid with the current settings (coalesced: only the newest request runs)."""
        try:
            config = self.config()
        except GanvasError as exc:
            self.preview_info.setText(str(exc))
            self.status.emit(str(exc))
            return
        seed, size = self.seed.seed(), self.preview_size()
        self._requested_at = time.perf_counter()  # latency = last change → its grid on screen
        self.latest.request(
            preview_images,
            config,
            seed,
            size,
            GRID * GRID,
            name="Primitives preview",
            on_result=lambda res, c=config, s=seed, z=size: self._show_grid(res, c, s, z),
            on_error=self._preview_failed,
        )

    def _show_grid(self, result, config: PrimitivesConfig, seed: int, size: int) -> None:
        if not shiboken6.isValid(self.grid):  # the panel was closed while the grid was being made
            return
        images, compute_s = result
        self.grid.set_images(images)
        self._shown = (config, seed, size)
        latency = time.perf_counter() - self._requested_at if self._requested_at else compute_s
        self._requested_at = 0.0
        self.last_latency_s = latency
        self.preview_info.setText(
            f"{len(images)} images {size}×{size} · {config.preset} · seed {seed} · "
            f"made in {compute_s * 1000:.0f} ms, on screen {latency * 1000:.0f} ms after the change"
        )
        self.previewUpdated.emit(latency)

    def _preview_failed(self, exc: BaseException) -> None:
        self._requested_at = 0.0
        msg = describe_error(exc) if isinstance(exc, GanvasError) else f"Preview failed: {describe_error(exc)}"
        self.preview_info.setText(msg)
        self.status.emit(msg)

    def _params(self, index: int) -> dict:
        config, seed, size = self._shown
        return {
            "source": "primitives",
            "preset": config.preset,
            "seed": seed,
            "index": index,
            "size": f"{size}x{size}",
            "config": config.to_dict(),
        }

    def _open_tile(self, k: int) -> None:
        images = self.grid.images()
        if 0 <= k < len(images):
            params = self._params(k)
            self.showImage.emit(np.array(images[k]), params)
            self.status.emit(
                f"Opened Primitives image {k} ({params['preset']}, seed {params['seed']}) on the canvas"
            )

    def _grid_to_gallery(self) -> None:
        for k, im in enumerate(self.grid.images()):
            self.addToGallery.emit(np.array(im), self._params(k))
        self.status.emit(f"Added {len(self.grid.images())} Primitives images to the gallery")

    # ------------------------------------------------------------ export

    def _browse(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Export the Primitives set to", self.folder.text())
        if d:
            self.folder.setText(d)

    def start_export(self) -> None:
        if self.bar.running:
            return
        try:
            config = self.config()
        except GanvasError as exc:
            self._export_failed(exc)
            return
        folder = os.path.expanduser(self.folder.text().strip())
        if not folder:
            self._export_failed(GanvasError("Choose a folder to export to."))
            return
        size = int(self.export_size.currentData())
        n = int(self.count.value())
        self.bar.run(export_set, folder, config, n, size, self.seed.seed(), self.fmt.currentData(), 2,
                     self.overwrite.isChecked(), name="Export Primitives", title=f"Exporting {n:,} images",
                     on_result=lambda manifest, n=n: self._export_done(manifest, n), on_error=self._export_failed)

    def _export_done(self, manifest: Path, n: int) -> None:
        self.bar.finish(f"Exported {n:,} images in {self.bar.elapsed_s:.1f} s. Manifest: {manifest}")

    def _export_failed(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled) or isinstance(exc, GanvasError):
            self.bar.fail(self.bar.error_text(exc), error=not isinstance(exc, Cancelled))
        else:
            self.bar.fail(f"Export failed: {describe_error(exc)}")

    @property
    def exporting(self) -> bool:
        return self.bar.running

    @property
    def shown(self) -> tuple[PrimitivesConfig | None, int, int]:
        """(config, seed, size) of the grid on screen."""
        return self._shown
