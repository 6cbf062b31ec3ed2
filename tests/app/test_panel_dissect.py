"""The Dissect panel with a real canvas: brush → Find units → layer → k slider → undo, checked on the
canvas's pixels."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QWidget

from app.panels.dissect import DissectPanel
from app.workers import JobRunner
from core.images import read_png_metadata
from tests.core.test_dissect import planted_model
from tests.widgets.test_canvas import drag_image
from widgets.canvas import ImageCanvas


@pytest.fixture
def studio(qtbot):
    jobs = JobRunner(max_threads=1)
    host = QWidget()
    lay = QHBoxLayout(host)
    canvas = ImageCanvas()
    panel = DissectPanel(jobs, canvas)
    lay.addWidget(panel)
    lay.addWidget(canvas, 1)
    host.resize(1000, 640)
    host.show()
    panel.showImage.connect(lambda img, _p: canvas.set_image(img, keep_view=True))
    panel.set_model(planted_model())
    yield panel, canvas
    jobs.cancel_all()
    jobs.wait(20000)
    host.close()
    host.deleteLater()
    qtbot.wait(10)


def _changes(qtbot, canvas, act) -> np.ndarray:
    """Do ``act`` and wait until the canvas shows another image; that image."""
    old = canvas.image()
    act()
    qtbot.waitUntil(lambda: not np.array_equal(canvas.image(), old), timeout=30000)
    return canvas.image()


def test_brush_layer_k_and_undo_change_and_restore_the_canvas(studio, qtbot, tmp_path):
    panel, canvas = studio
    panel.seed.setValue(5)
    panel.draw_button.click()
    qtbot.waitUntil(lambda: canvas.image() is not None, timeout=30000)
    sample = canvas.image()
    h, w = sample.shape[:2]
    panel.brush.click()
    assert canvas.tool() == "paint"
    drag_image(canvas, [(w // 4, h // 3), (w // 2, h // 3), (3 * w // 4, h // 2)])
    assert (panel.painted() > 0.5).any()

    ablated = _changes(qtbot, canvas, panel.bar.start_button.click)  # Find units: top 10 % ablated
    assert panel.state is not None and panel.state.k == 1 and len(panel.grid.images()) == 8
    first = panel.state.layer
    other_layer = _changes(qtbot, canvas, lambda: (panel.layer.setFocus(), qtbot.keyClick(panel.layer, Qt.Key.Key_Up)))
    assert panel.state.layer != first and panel.layer.currentData() == panel.state.layer
    more = _changes(qtbot, canvas, lambda: panel.k.setValue(6))
    assert panel.state.k == 6

    # Ctrl+Z steps back through the interventions: the canvas shows each earlier image again
    assert np.array_equal(_changes(qtbot, canvas, canvas.undo_stack.undo), other_layer)
    assert np.array_equal(_changes(qtbot, canvas, canvas.undo_stack.undo), ablated)
    assert np.array_equal(_changes(qtbot, canvas, canvas.undo_stack.undo), sample)  # k = 0: as trained
    assert np.array_equal(_changes(qtbot, canvas, canvas.undo_stack.redo), ablated)
    assert not np.array_equal(more, ablated)

    panel.export_to(str(tmp_path / "x.png"))
    meta = read_png_metadata(tmp_path / "x.png")
    assert meta["dissect_mode"] == "ablate" and meta["dissect_units"] == str(panel.dissections[panel.state.layer].top(1)[0])


def test_spectrum_dock_detect_shows_accuracies_and_the_dct_map(qtbot):
    import cv2
    from skimage import data

    from app.panels.spectrum import SpectrumPanel

    jobs = JobRunner(max_threads=1)
    panel = SpectrumPanel(jobs)
    qtbot.addWidget(panel)
    photo = cv2.resize(data.astronaut(), (96, 64), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(0)
    grainy = [np.clip(photo + rng.normal(0, 30, photo.shape), 0, 255).astype(np.uint8) for _ in range(2)]
    panel.add_source("training photo", lambda: [photo])
    panel.add_source("gallery", lambda: grainy)
    panel.detect_view.button.click()
    qtbot.waitUntil(lambda: panel.detect_view.coefficients is not None, timeout=300000)
    assert "DCT 1.00" in panel.detect_view.text.text()
    assert panel.detect_view.coefficients.shape == (8, 8) and panel.detect_view.coefficients[7, 7] > 0.9
    jobs.wait(20000)
