"""The Sketch GAN dock's Transfer group: fine-tune the base on a folder of 10–1000 of your images
(``gan-transfer``), from its weights or from random ones, before sketch tuning.

The group owns its widgets and turns them into a :class:`~core.sketchgan.requests.TransferRequest`;
:class:`app.panels.sketch.SketchPanel` runs it through its JobBar and hands the result on as the base.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from core.sketchgan.model import StyleGANModel
from core.sketchgan.requests import TransferRequest
from core.sketchgan.transfer import DEFAULT_ITERS, transfer_config
from widgets.image_label import ImageLabel


class TransferGroup(QGroupBox):
    """2b. Transfer: the folder (and a grid of it), the start, the steps and where the model goes."""

    folderChosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("2b. Transfer the base to your images (optional)", parent)
        form = QFormLayout(self)
        row = QHBoxLayout()
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("folder of 10–1000 images (centre-cropped to squares)")
        self.folder.editingFinished.connect(lambda: self.folderChosen.emit(self.folder.text().strip()))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row.addWidget(self.folder)
        row.addWidget(browse)
        form.addRow("Images", row)
        self.start = QComboBox()
        self.start.addItem("the base model (below)", False)
        self.start.addItem("random weights (scratch)", True)
        self.start.setToolTip("Fine-tune every weight of the base model, or train its network from random "
                              "weights for as many steps (the comparison docs/transfer.md measures)")
        form.addRow("Start from", self.start)
        self.iters = QSpinBox()
        self.iters.setRange(1, 1_000_000)
        self.iters.setValue(DEFAULT_ITERS)
        self.iters.setToolTip("About 0.3 CPU s a step for a 32-px base on one core")
        form.addRow("Iterations", self.iters)
        self.out = QLineEdit()
        self.out.setPlaceholderText("model folder (autosaved; resumes if it exists)")
        form.addRow("Save to", self.out)
        self.grid = ImageLabel(160)
        self.grid.setToolTip("Your images as the transfer sees them")
        form.addRow(self.grid)
        self.form = form
        self.folder_image: np.ndarray | None = None

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of training images")
        if folder:
            self.set_folder(folder)

    def set_folder(self, folder: str) -> None:
        self.folder.setText(folder)
        self.folderChosen.emit(folder)

    def set_folder_grid(self, grid: np.ndarray | None) -> None:
        self.folder_image = grid
        self.grid.set_image(grid)

    def request(self, base: StyleGANModel) -> TransferRequest:
        cfg = transfer_config(base, iters=self.iters.value(), preview_every=max(1, min(100, self.iters.value() // 10)))
        return TransferRequest(base=base, images=self.folder.text().strip(), config=cfg, out=self.out.text().strip(),
                               scratch=bool(self.start.currentData()))


def beside_samples(folder_grid: np.ndarray | None, samples: np.ndarray) -> np.ndarray:
    """The folder's grid above the samples' (same width: both 8 tiles a row), a white gap between."""
    if folder_grid is None or folder_grid.shape[1] != samples.shape[1]:
        return samples
    gap = np.full((6, samples.shape[1], 3), 255, np.uint8)
    return np.vstack([folder_grid, gap, samples])


__all__ = ["TransferGroup", "beside_samples"]
