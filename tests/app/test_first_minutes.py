"""Issue 15, a new user's first ten minutes, through the real window: the Generate 8 button, toolbar
button and shortcut; Ctrl+Z on the sketch pad; gallery captions and export names; the Train dock
after Cancel, Resume and Train over an interrupted run; the thread count in the status bar."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from app.file_commands import export_stem
from core.checkpoints import TENSORS_FILE
from core.images import encode_png
from core.singan.config import PRESETS
from core.singan.model import model_summary
from core.singan.train import train_singan
from tests.app.test_preview import shown_engine
from tests.conftest import TINY_SINGAN

TINY = TINY_SINGAN.with_(iters=20)


@pytest.fixture(scope="module")
def tiny_model():
    import cv2
    from skimage import data

    photo = cv2.resize(data.coffee(), (48, 32), interpolation=cv2.INTER_AREA)
    return train_singan(photo, TINY, seed=0)


@pytest.fixture
def window(make_window):
    """The shared window (tests/app/conftest.py) at a laptop's size, active for the shortcuts."""
    return make_window(1440, 900, activate=True)


def _wait_gallery(window, qtbot, n: int) -> None:
    qtbot.waitUntil(lambda: window.gallery.count() >= n, timeout=60_000)
    window.wait_idle()


def test_generate8_button_toolbar_and_shortcut_each_add_eight_samples(window, qtbot, tiny_model):
    window.doc.set_model(tiny_model)
    gen = window.generate_panel
    gen.seed.set_seed(5)

    qtbot.mouseClick(gen.generate8_btn, Qt.MouseButton.LeftButton)  # the dock's button
    _wait_gallery(window, qtbot, 8)
    assert window.errors == []
    seeds = [int(window.gallery.params(i)["seed"]) for i in range(8)]
    assert seeds == list(range(seeds[0], seeds[0] + 8))
    assert [window.gallery.label(i) for i in range(8)] == [f"seed {s}" for s in seeds]
    # the canvas shows the first of the eight, not something else
    assert np.array_equal(window.canvas.image(), window.gallery.image(0))

    toolbar_button = window.findChild(type(window.addToolBar("probe")), "toolbar_main").widgetForAction(
        window.generate8_action)
    qtbot.mouseClick(toolbar_button, Qt.MouseButton.LeftButton)  # the toolbar's button
    _wait_gallery(window, qtbot, 16)

    QTest.keyClick(window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    _wait_gallery(window, qtbot, 24)
    assert window.gallery.count() == 24 and window.errors == []
    assert len({int(window.gallery.params(i)["seed"]) for i in range(24)}) == 24


def test_ctrl_z_and_edit_undo_undo_a_sketch_pad_stroke(window, qtbot, photo, tmp_path):
    src = tmp_path / "photo.png"
    src.write_bytes(encode_png(photo))
    assert window.open_path(src)
    window.docks["Sketch pad"].raise_()
    pad = window.sketch_pad
    surface = pad.surface
    qtbot.waitUntil(surface.isVisible)
    before = pad.sketch().copy()
    c = surface.rect().center()
    qtbot.mousePress(surface, Qt.MouseButton.LeftButton, pos=c)
    for dx in range(0, 40, 4):
        QTest.mouseMove(surface, c + QPoint(dx - 20, dx // 2 - 10))
    qtbot.mouseRelease(surface, Qt.MouseButton.LeftButton, pos=c + QPoint(20, 10))
    assert not np.array_equal(pad.sketch(), before), "the stroke drew nothing"
    assert window.undo_action.isEnabled(), "Edit ▸ Undo stays greyed after a stroke"

    QTest.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(pad.sketch(), before), "Ctrl+Z did not undo the stroke"
    assert window.redo_action.isEnabled()
    window.redo_action.trigger()  # Edit ▸ Redo puts it back, Edit ▸ Undo takes it off again
    assert not np.array_equal(pad.sketch(), before)
    window.undo_action.trigger()
    assert np.array_equal(pad.sketch(), before)


def test_gallery_captions_and_export_names_say_what_made_the_image(window, qtbot):
    window.add_to_gallery(np.zeros((8, 8, 3), np.uint8), {"task": "paint", "seed": 0, "scale": 1})
    assert window.gallery.label(0) == "paint"
    assert export_stem(window.gallery.params(0)) == "paint"
    window.add_to_gallery(np.zeros((8, 8, 3), np.uint8), {"task": "sample", "seed": 7})
    assert window.gallery.label(1) == "seed 7" and export_stem(window.gallery.params(1)) == "seed7"

    window.docks["Primitives"].raise_()  # the real "to gallery" button of the Primitives dock
    panel = window.primitives_panel
    qtbot.waitUntil(lambda: len(panel.grid.images()) > 0, timeout=30_000)
    qtbot.mouseClick(panel.to_gallery, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.gallery.count() > 2)
    labels = [window.gallery.label(i) for i in range(2, window.gallery.count())]
    assert not any(label.startswith("seed") for label in labels), labels
    name = window.gallery.params(2)["preset"]
    assert labels[0] == f"{name} #0" and labels[1] == f"{name} #1"
    assert export_stem(window.gallery.params(3)) == f"{name}_1"


def test_status_bar_shows_the_thread_count(window):
    text = window.device_label.text()
    if "CUDA" not in text:
        m = re.fullmatch(r"CPU · (\d+) threads?", text)
        assert m, text
        assert ("threads" in text) == (int(m.group(1)) != 1)


def _click_in_box(qtbot, text: str):
    """Answer the modal question box that opens next by clicking its button labelled ``text``."""
    answered = []

    def click():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        answered.append(box.text())
        for b in box.findChildren(QPushButton):
            if b.text().replace("&", "") == text:
                qtbot.mouseClick(b, Qt.MouseButton.LeftButton)
                return
        raise AssertionError(f"no button {text!r} in {[b.text() for b in box.findChildren(QPushButton)]}")

    QTimer.singleShot(0, click)
    return answered


def test_train_cancel_resume_and_train_over_an_interrupted_run(window, qtbot, photo, tmp_path):
    src = tmp_path / "photo.png"
    src.write_bytes(encode_png(photo))
    assert window.open_path(src)
    panel = window.train_panel
    # one default for the CLI and the studio: the fast preset at its own size, every preset listed
    assert panel.preset.currentText() == "fast" and panel.max_size.value() == PRESETS["fast"].max_size
    assert [panel.preset.itemText(i) for i in range(panel.preset.count())] == list(PRESETS)
    slow = TINY.with_(iters=150)  # a scale lasts long enough to press Cancel in the next one
    panel.config = lambda: slow
    out = tmp_path / "autosave.ganvas"
    panel.out_dir = lambda: out
    # one set of Resume / Cancel in the dock: the monitor's own are hidden
    assert not panel.monitor.resume_button.isVisibleTo(panel) and not panel.monitor.cancel_button.isVisibleTo(panel)

    qtbot.mouseClick(panel.train_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: (out / TENSORS_FILE).exists(), timeout=120_000)  # scale 1 autosaved
    qtbot.mouseClick(panel.cancel_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.running, timeout=60_000)
    kept = model_summary(out)["num_trained"]
    total = len(model_summary(out)["shapes"])
    assert 1 <= kept < total
    status = window.statusBar().currentMessage()
    assert "Cancelling" not in status and f"{kept} of {total} scales kept" in status
    assert f"Resume continues from scale {kept + 1}" in panel.monitor.status_label.text()
    assert panel.resume_btn.isEnabled(), "the dock says Resume continues, so Resume must be enabled"
    window.docks["Train"].raise_()
    QApplication.processEvents()
    scroll = window.docks["Train"].widget()
    assert scroll.verticalScrollBar().maximum() == 0, "the Train dock scrolls at 1440×900"

    # Train over the interrupted run asks first; Cancel leaves it alone
    answered = _click_in_box(qtbot, "Cancel")
    qtbot.mouseClick(panel.train_btn, Qt.MouseButton.LeftButton)
    assert answered and f"{kept} of {total} scales" in answered[0]
    assert not panel.running and model_summary(out)["num_trained"] == kept

    # Resume (the dock's button) continues from the next scale and says what it trained
    qtbot.mouseClick(panel.resume_btn, Qt.MouseButton.LeftButton)
    assert f"from scale {kept + 1} of {total}" in panel.monitor.title_label.text()
    qtbot.waitUntil(lambda: not panel.running, timeout=180_000)
    assert window.doc.model is not None and window.doc.model.complete
    assert f"scales {kept + 1}–{total} of {total}" in panel.monitor.status_label.text()
    assert window.errors == []


def test_progress_text_says_the_scale_count_once(window):
    from widgets.training_monitor import progress_text

    text = progress_text("Scale 1/4 (38×25)", 0, 4, 10, 500, 2.0, 30.0)
    assert text.startswith("Scale 1/4 (38×25) · iteration 10/500") and text.count("1/4") == 1


def test_sketch_gan_steps_are_numbered_top_to_bottom(window):
    from PySide6.QtWidgets import QGroupBox

    window.docks["Sketch GAN"].raise_()
    QApplication.processEvents()
    panel = window.sketch_panel
    boxes = [b for b in panel.findChildren(QGroupBox) if re.match(r"\d+\.", b.title())]
    boxes.sort(key=lambda b: b.mapTo(panel, QPoint(0, 0)).y())
    numbers = [int(b.title().split(".")[0]) for b in boxes]
    assert len(numbers) >= 3 and numbers == sorted(numbers), [b.title() for b in boxes]


def test_first_launch_shows_the_sample_models_own_image_and_a_failed_model_read_still_gets_a_preview(
        window, qtbot, tmp_path, monkeypatch):
    import app.file_commands as fc
    from core.patchnn import ENGINE_NAME

    window.open_sample()  # what `python main.py` does: the photo at once, its model from a worker
    window.wait_idle()
    qtbot.waitUntil(lambda: shown_engine(window) is not None, timeout=20_000)
    window.wait_idle()
    assert window.doc.model is not None and window.errors == []
    assert shown_engine(window) != ENGINE_NAME  # SinGAN's sample, not a patch-NN preview
    assert window.canvas.image().shape == window.doc.model.image.shape

    broken = tmp_path / "broken.ganvas"
    broken.mkdir()
    (broken / "manifest.json").write_text("{")
    monkeypatch.setattr(fc, "SAMPLE_MODEL", broken)
    window.errors.clear()
    window.open_sample()
    qtbot.waitUntil(lambda: shown_engine(window) == ENGINE_NAME, timeout=20_000)
    assert window.doc.model is None and window.errors  # the error was shown, the photo still got its preview


def test_a_photo_opened_while_the_samples_model_loads_still_gets_its_preview(window, qtbot, photo, tmp_path):
    from core.images import encode_png
    from core.patchnn import ENGINE_NAME

    src = tmp_path / "mine.png"
    src.write_bytes(encode_png(photo))
    window.open_sample()  # its model now loads on a worker...
    assert window.open_path(src)  # ...and the user opens a photo of their own meanwhile
    qtbot.waitUntil(lambda: shown_engine(window) == ENGINE_NAME, timeout=20_000)
    window.wait_idle()
    assert window.doc.model is None and window.canvas.image().shape == photo.shape
