"""The Tasks panel alone (offscreen) with a real canvas and a tiny model: every task end to end."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QHBoxLayout, QWidget

from app.panels.tasks import TasksPanel
from app.workers import JobRunner
from core.singan import tasks as T
from core.singan.config import SinGANConfig
from core.singan.train import train_singan
from widgets.canvas import ImageCanvas

TINY = SinGANConfig(max_size=32, min_size=12, iters=30, d_steps=1, g_steps=1, nfc=8, max_nfc=16, preset="tiny")


@pytest.fixture(scope="module")
def model():
    import cv2
    from skimage import data

    img = cv2.resize(data.coffee(), (48, 32), interpolation=cv2.INTER_AREA)
    return train_singan(img, TINY, seed=3, device="cpu")


@pytest.fixture
def studio(qtbot, model):
    jobs = JobRunner(max_threads=1)
    host = QWidget()
    lay = QHBoxLayout(host)
    canvas = ImageCanvas()
    panel = TasksPanel(jobs, canvas)
    lay.addWidget(panel)
    lay.addWidget(canvas)
    host.resize(900, 600)
    host.show()
    canvas.set_image(model.image)
    panel.set_model(model)
    gallery: list = []
    panel.addToGallery.connect(lambda img, params: gallery.append((img, params)))
    yield panel, canvas, gallery
    jobs.cancel_all()
    jobs.wait(20000)
    panel.set_playing(False)
    host.close()
    host.deleteLater()
    qtbot.wait(10)


def _apply(qtbot, panel, n_gallery, gallery):
    panel.apply_button.click()
    qtbot.waitUntil(lambda: panel.job is None and len(gallery) == n_gallery, timeout=60000)


def _check_undo(canvas, before, after):
    assert np.array_equal(canvas.image(), after)
    canvas.undo_stack.undo()
    assert np.array_equal(canvas.image(), before)
    canvas.undo_stack.redo()
    assert np.array_equal(canvas.image(), after)


def test_paint_to_image(studio, qtbot, model):
    panel, canvas, gallery = studio
    panel.set_task("paint")
    assert canvas.tool() == "paint" and len(panel.swatches) == 5
    panel.swatches[0].click()
    assert canvas.brush()[0] == tuple(int(v) for v in panel._palette[0])
    panel.blank_canvas()
    blank = canvas.image()
    assert (blank == panel._palette[0]).all()
    panel.swatches[4].click()
    overlay = np.zeros((*blank.shape[:2], 4), np.uint8)
    overlay[8:20, 10:30] = (*panel._palette[4], 255)
    canvas.set_overlay_rgba(overlay)
    panel.set_scale(1)
    _apply(qtbot, panel, 1, gallery)
    result, params = gallery[-1]
    assert result.shape == model.image.shape
    assert params["task"] == "paint" and params["scale"] == 1 and params["model_id"] == model.model_id
    assert not canvas.overlay_rgba()[..., 3].any()  # the painting went into the result
    canvas.undo_stack.undo()  # one step brings back the painting and the blank canvas
    assert np.array_equal(canvas.image(), blank) and canvas.overlay_rgba()[..., 3].any()


def test_edit_copy_move_and_apply(studio, qtbot, model):
    panel, canvas, gallery = studio
    panel.set_task("edit")
    panel.rect_tool.click()
    assert canvas.tool() == "rect_select"
    sel = np.zeros(model.image.shape[:2], np.float32)
    sel[2:8, 2:10] = 1
    canvas.set_selection_mask(sel)
    assert panel.copy_selection()
    panel.dx.setValue(20)
    panel.dy.setValue(10)
    original = canvas.image()
    assert panel.paste_clip(move=True)
    moved = canvas.image()
    assert np.array_equal(moved[12:18, 22:30], original[2:8, 2:10])
    mask = panel.edit_mask()
    assert mask[3, 3] == 1 and mask[14, 25] == 1 and mask[20, 0] == 0
    panel.edit_dilate.setValue(2)
    panel.set_scale(2)
    _apply(qtbot, panel, 1, gallery)
    result, params = gallery[-1]
    soft = T.make_edit_mask(mask, 2, T.FEATHER_SIGMA)
    assert np.array_equal(result[soft == 0], moved[soft == 0])
    assert params["task"] == "edit" and params["scale"] == 2
    _check_undo(canvas, moved, result)
    panel.before_after.click()
    assert canvas.show_compare()
    panel.before_after.click()
    assert not canvas.show_compare()


def test_harmonize_with_pasted_image_and_finetuning(studio, qtbot, model, tmp_path):
    from PIL import Image

    panel, canvas, gallery = studio
    panel.set_task("harmonize")
    obj = np.zeros((10, 10, 4), np.uint8)
    obj[..., 2] = 255
    obj[2:8, 2:8, 3] = 255
    Image.fromarray(obj).save(tmp_path / "obj.png")
    base = canvas.image()
    panel.load_object(tmp_path / "obj.png")
    panel.obj_scale.setValue(1.0)
    panel.obj_x.setValue(5)
    panel.obj_y.setValue(4)
    preview = canvas.image()
    assert (preview[7, 8] == (0, 0, 255)).all() and np.array_equal(preview[0, 0], base[0, 0])
    panel.finetune_iters.setValue(3)
    panel.set_scale(1)
    _apply(qtbot, panel, 1, gallery)
    result, params = gallery[-1]
    assert result.shape == base.shape and params["finetune_iters"] == 3
    _check_undo(canvas, base, result)


@pytest.mark.parametrize("factor", [2.0, 4.0])
def test_super_resolution_with_split_view(studio, qtbot, model, factor):
    panel, canvas, gallery = studio
    panel.set_task("sr")
    panel.sr_factor.setCurrentIndex(0 if factor == 2 else 1)
    panel.split_view.setChecked(True)
    before = canvas.image()
    _apply(qtbot, panel, 1, gallery)
    result, params = gallery[-1]
    h, w = model.image.shape[:2]
    assert result.shape == (h * factor, w * factor, 3) and params["factor"] == factor
    assert canvas._split == 0.5 and canvas._compare_clip.isVisible()
    _check_undo(canvas, before, result)  # the size changes and undo still works


def test_animation_plays_and_exports(studio, qtbot, model, tmp_path):
    panel, canvas, gallery = studio
    panel.set_task("animate")
    panel.frames_spin.setValue(6)
    panel.fps.setValue(50)
    panel.set_scale(0)
    base = canvas.image()
    _apply(qtbot, panel, 1, gallery)
    assert panel.frames.shape == (6, *model.image.shape)
    assert panel.play_timer.isActive() and panel.play_button.text() == "Stop"
    qtbot.waitUntil(lambda: panel._frame >= 3, timeout=5000)
    panel.play_button.click()
    assert not panel.play_timer.isActive() and np.array_equal(canvas.image(), base)
    gif = panel.export_animation(tmp_path / "a.gif")
    mp4 = panel.export_animation(tmp_path / "a.mp4")
    assert gif.exists() and mp4.exists()
    assert gallery[-1][1]["task"] == "animate" and gallery[-1][1]["frames"] == 6


def test_retarget_exact_size(studio, qtbot, model):
    panel, canvas, gallery = studio
    panel.set_task("retarget")
    panel.out_w.setValue(70)
    panel.out_h.setValue(25)
    panel.set_scale(0)
    before = canvas.image()
    _apply(qtbot, panel, 1, gallery)
    result, params = gallery[-1]
    assert result.shape == (25, 70, 3) and params["width"] == 70
    _check_undo(canvas, before, result)


def test_errors_are_shown_not_raised(studio, qtbot, model):
    panel, canvas, gallery = studio
    panel.set_task("edit")
    canvas.clear_selection()
    panel.apply_button.click()
    assert "Select" in panel.message.text() and panel.job is None
    panel.set_task("paint")
    panel.set_scale(0)  # paint needs an injection scale ≥ 1
    panel.apply_button.click()
    qtbot.waitUntil(lambda: panel.job is None, timeout=20000)
    assert "injection scale" in panel.message.text()
    assert gallery == []


def test_screenshot(studio, tmp_path):
    panel, canvas, gallery = studio
    panel.set_task("harmonize")
    path = tmp_path / "tasks_panel.png"
    panel.grab().save(str(path))
    assert path.exists()
