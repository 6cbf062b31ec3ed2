"""How easily a detector spots generated images: held-out accuracies and an 8×8 map of which DCT
frequencies give the generator away. Numbers in, a button's press out; it computes nothing."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from widgets.spectrum_view import PLOT_BG, PLOT_FG

__all__ = ["DetectView"]


class DetectView(QWidget):
    """A Detect button, a line of accuracies and the per-coefficient accuracy map (0.5 dark: that
    frequency tells nothing; 1 bright: it alone separates real from generated).

    Signal ``detectRequested()``: the user asked for a new measurement.
    """

    detectRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.button = QPushButton("Detect")
        self.button.setToolTip("Train a small real-vs-generated patch classifier on the training photo and the "
                               "gallery's images (seconds); 0.5 = it cannot tell them apart")
        self.button.clicked.connect(lambda _c=False: self.detectRequested.emit())
        self.text = QLabel("How easily is a sample spotted? Press Detect (photo vs gallery).")
        self.text.setWordWrap(True)
        self.plot = pg.PlotWidget(background=PLOT_BG)
        self.plot.setFixedSize(200, 180)
        self.plot.setToolTip("Accuracy of each DCT coefficient alone: dark 0.5 (tells nothing), bright 1 (gives "
                             "the generator away). Top left is the blocks' mean; bottom right the finest detail")
        self.plot.setAspectLocked(True)
        self.plot.invertY(True)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.setLabel("bottom", "horizontal freq. →", color=PLOT_FG)
        self.plot.setLabel("left", "vertical freq. →", color=PLOT_FG)
        self.plot.setTitle("DCT 8×8", color=PLOT_FG, size="8pt")
        for side in ("bottom", "left"):
            self.plot.getAxis(side).setTicks([[(i + 0.5, str(i)) for i in range(0, 8, 2)]])
        self.plot.setRange(xRange=(0, 8), yRange=(0, 8), padding=0)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0.5, 1.0), colorMap=pg.colormap.get("inferno"), width=10,
                                        pen=PLOT_FG, interactive=False)
        self.colorbar.setImageItem(self.image, insert_in=self.plot.getPlotItem())
        text_col = QVBoxLayout()
        text_col.addWidget(self.button)
        text_col.addWidget(self.text, 1)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        lay.addLayout(text_col, 1)
        lay.addWidget(self.plot)
        self.coefficients: np.ndarray | None = None

    def set_busy(self, busy: bool) -> None:
        self.button.setEnabled(not busy)
        if busy:
            self.text.setText("Training the detector…")

    def set_result(self, text: str, coefficients: np.ndarray | None) -> None:
        """``text``: the accuracies in words; ``coefficients``: 8×8 accuracies of each DCT coefficient alone."""
        self.set_busy(False)
        self.text.setText(text)
        self.coefficients = None if coefficients is None else np.asarray(coefficients, np.float32)
        if self.coefficients is not None:
            self.image.setImage(self.coefficients, levels=(0.5, 1.0))
            self.plot.setRange(xRange=(0, 8), yRange=(0, 8), padding=0)
