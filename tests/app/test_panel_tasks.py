"""The Tasks panel alone (offscreen) with a real canvas and a tiny model: every task end to end."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QHBoxLayout, QWidget

from app.panels.tasks import TasksPanel
from app.workers import JobRunner
from core.singan import adapt as A
from core.singan import task_inputs as TI
from core.singan.train import train_singan
from widgets.canvas import ImageCanvas


@pytest.fixture(scope="module")
def model(tiny_singan):
    import cv2
    from skimage import data

    img = cv2.resize(data.coffee(), (48, 32), interpolation=cv2.INTER_AREA)
    return train_singan(img, tiny_singan, seed=3, device="cpu")


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
    panel.page("animate").set_playing(False)
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
    page = panel.page("paint")
    qtbot.waitUntil(lambda: len(page.swatches) == 5)  # the palette is computed on a worker
    assert canvas.tool() == "paint"
    assert panel.scale_spin.value() == 1  # paint's own default until the Scale slider moves
    page.swatches[0].click()
    assert canvas.paint.brush()[0] == tuple(int(v) for v in page.palette[0])
    page.blank_canvas()
    blank = canvas.image()
    assert (blank == page.palette[0]).all()
    page.swatches[4].click()
    overlay = np.zeros((*blank.shape[:2], 4), np.uint8)
    overlay[8:20, 10:30] = (*page.palette[4], 255)
    canvas.paint.set_rgba(overlay)
    panel.set_scale(1)
    _apply(qtbot, panel, 1, gallery)
    result, params = gallery[-1]
    assert result.shape == model.image.shape
    assert params["task"] == "paint" and params["scale"] == 1 and params["model_id"] == model.model_id
    assert not canvas.paint.rgba()[..., 3].any()  # the painting went into the result
    canvas.undo_stack.undo()  # one step brings back the painting and the blank canvas
    assert np.array_equal(canvas.image(), blank) and canvas.paint.rgba()[..., 3].any()


def test_edit_copy_move_and_apply(studio, qtbot, model):
    panel, canvas, gallery = studio
    panel.set_task("edit")
    page = panel.page("edit")
    page.rect_tool.click()
    assert canvas.tool() == "rect_select"
    sel = np.zeros(model.image.shape[:2], np.float32)
    sel[2:8, 2:10] = 1
    canvas.selection.set_mask(sel)
    assert page.copy_selection()
    page.dx.setValue(20)
    page.dy.setValue(10)
    original = canvas.image()
    assert page.paste_clip(move=True)
    moved = canvas.image()
    assert np.array_equal(moved[12:18, 22:30], original[2:8, 2:10])
    mask = page.edit_mask()
    assert mask[3, 3] == 1 and mask[14, 25] == 1 and mask[20, 0] == 0
    page.dilate.setValue(5.0)  # percent of the longer side
    panel.set_scale(2)
    _apply(qtbot, panel, 1, gallery)
    result, params = gallery[-1]
    soft = TI.make_edit_mask(mask, 0.05, TI.FEATHER)
    assert np.array_equal(result[soft == 0], moved[soft == 0])
    assert params["task"] == "edit" and params["scale"] == 2
    _check_undo(canvas, moved, result)
    panel.before_after.click()
    assert canvas.compare.shown()
    panel.before_after.click()
    assert not canvas.compare.shown()


def test_harmonize_with_pasted_image_and_finetuning(studio, qtbot, model, tmp_path):
    from PIL import Image

    panel, canvas, gallery = studio
    panel.set_task("harmonize")
    page = panel.page("harmonize")
    obj = np.zeros((10, 10, 4), np.uint8)
    obj[..., 2] = 255
    obj[2:8, 2:8, 3] = 255
    Image.fromarray(obj).save(tmp_path / "obj.png")
    base = canvas.image()
    page.load_object(tmp_path / "obj.png")
    page.obj_scale.setValue(1.0)
    page.obj_x.setValue(5)
    page.obj_y.setValue(4)
    preview = canvas.image()
    assert (preview[7, 8] == (0, 0, 255)).all() and np.array_equal(preview[0, 0], base[0, 0])
    page.finetune_iters.setValue(3)
    panel.set_scale(1)
    _apply(qtbot, panel, 1, gallery)
    result, params = gallery[-1]
    assert result.shape == base.shape and params["finetune_iters"] == 3
    _check_undo(canvas, base, result)


def test_harmonize_finetune_shows_progress_with_eta_and_cancels(studio, qtbot, model):
    """ConSinGAN's fine-tune at its published length: the bar moves, the line says the time left,
    Cancel stops it and the canvas keeps the naive composite."""
    panel, canvas, gallery = studio
    panel.set_task("harmonize")
    page = panel.page("harmonize")
    obj = np.zeros((10, 10, 4), np.uint8)
    obj[..., 1] = 255
    obj[2:8, 2:8, 3] = 255
    page.load_object(obj)
    composite = canvas.image()
    page.finetune_iters.setValue(A.FINETUNE_ITERS)
    assert page.finetune_iters.value() == 2000
    panel.set_scale(1)
    panel.apply_button.click()
    qtbot.waitUntil(lambda: panel.bar.progress_bar.value() > 0 and "ETA" in panel.message.text(), timeout=30000)
    assert panel.message.text().startswith("Fine-tuning scales") and panel.cancel_button.isEnabled()
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.job is None, timeout=30000)
    assert "Cancelled" in panel.message.text() and gallery == []
    assert np.array_equal(canvas.image(), composite) and panel.apply_button.isEnabled()


@pytest.mark.parametrize("factor", [2.0, 4.0])
def test_super_resolution_with_split_view(studio, qtbot, model, factor):
    panel, canvas, gallery = studio
    panel.set_task("sr")
    page = panel.page("sr")
    page.factor.setCurrentIndex(0 if factor == 2 else 1)
    page.split_view.setChecked(True)
    before = canvas.image()
    _apply(qtbot, panel, 1, gallery)
    result, params = gallery[-1]
    h, w = model.image.shape[:2]
    assert result.shape == (h * factor, w * factor, 3) and params["factor"] == factor
    assert canvas.compare._split == 0.5 and canvas.compare._clip.isVisible()
    _check_undo(canvas, before, result)  # the size changes and undo still works


def test_animation_plays_and_exports(studio, qtbot, model, tmp_path):
    panel, canvas, gallery = studio
    panel.set_task("animate")
    page = panel.page("animate")
    assert panel.scale_spin.value() == 0  # animation starts from the coarsest scale by default
    page.frames_spin.setValue(6)
    page.fps.setValue(50)
    base = canvas.image()
    _apply(qtbot, panel, 1, gallery)
    assert page.frames.shape == (6, *model.image.shape) and gallery[-1][1]["scale"] == 0
    assert page.play_timer.isActive() and page.play_button.text() == "Stop"
    qtbot.waitUntil(lambda: page._frame >= 3, timeout=5000)
    page.play_button.click()
    assert not page.play_timer.isActive() and np.array_equal(canvas.image(), base)
    gif = page.export(tmp_path / "a.gif")
    mp4 = page.export(tmp_path / "a.mp4")
    assert gif.exists() and mp4.exists()
    assert gallery[-1][1]["task"] == "animate" and gallery[-1][1]["frames"] == 6


def test_retarget_exact_size(studio, qtbot, model):
    panel, canvas, gallery = studio
    panel.set_task("retarget")
    page = panel.page("retarget")
    page.out_w.setValue(70)
    page.out_h.setValue(25)
    panel.set_scale(2)
    panel.set_scale(0)  # the Scale slider back at the coarsest: new layouts, not a stretched one
    assert panel.scale_spin.value() == 0
    before = canvas.image()
    _apply(qtbot, panel, 1, gallery)
    result, params = gallery[-1]
    assert result.shape == (25, 70, 3) and params["width"] == 70 and params["scale"] == 0
    _check_undo(canvas, before, result)


def test_errors_are_shown_not_raised(studio, qtbot, model):
    panel, canvas, gallery = studio
    panel.set_task("edit")
    canvas.selection.clear()
    panel.apply_button.click()
    assert "Select" in panel.message.text() and panel.job is None
    panel.set_task("paint")
    panel.set_scale(0)  # paint needs an injection scale ≥ 1: refused before any job starts
    panel.apply_button.click()
    assert panel.job is None and "injection scale" in panel.message.text()
    assert gallery == []


def test_screenshot(studio, tmp_path):
    panel, canvas, gallery = studio
    panel.set_task("harmonize")
    path = tmp_path / "tasks_panel.png"
    panel.grab().save(str(path))
    assert path.exists()


def test_cli_and_panel_give_the_same_pixels(studio, qtbot, model, tmp_path):
    """One request type behind both: the same edit from `apply edit` and from the panel is identical."""
    from core.cli import build_parser, run_command
    from core.images import read_image, read_png_metadata, save_image
    from core.singan.model import save_model

    panel, canvas, gallery = studio
    model_dir = save_model(model, tmp_path / "m.ganvas")
    edited = model.image.copy()
    edited[6:12, 8:18] = edited[0:6, 0:10]
    mask = np.zeros(edited.shape[:2], np.float32)
    mask[6:12, 8:18] = 1
    save_image(tmp_path / "edited.png", edited)
    save_image(tmp_path / "mask.png", (mask * 255).astype(np.uint8))
    argv = ["apply", "edit", str(model_dir), "--input", str(tmp_path / "edited.png"), "--mask",
            str(tmp_path / "mask.png"), "--scale", "2", "--seed", "5", "--device", "cpu", "--out", str(tmp_path / "o.png")]
    assert run_command(build_parser().parse_args(argv)) == 0
    canvas.set_image(edited)
    canvas.selection.set_mask(mask)
    panel.set_task("edit")
    panel.set_scale(2)
    panel.seed.setValue(5)
    _apply(qtbot, panel, 1, gallery)
    result, params = gallery[-1]
    assert np.array_equal(result, read_image(tmp_path / "o.png").rgb)
    meta = read_png_metadata(tmp_path / "o.png")
    assert {k: meta[k] for k in ("task", "scale", "seed", "dilate", "model_id")} == \
        {"task": "edit", "scale": "2", "seed": "5", "dilate": str(params["dilate"]), "model_id": model.model_id}


def _cli_result(model, tmp_path, task, inputs: dict[str, np.ndarray], *flags: str) -> np.ndarray:
    from core.cli import build_parser, run_command
    from core.images import read_image, save_image
    from core.singan.model import save_model

    model_dir = tmp_path / "m.ganvas"
    if not model_dir.exists():
        save_model(model, model_dir)
    argv = ["apply", task, str(model_dir), "--seed", "5", "--device", "cpu", "--out", str(tmp_path / f"{task}.png")]
    for flag, image in inputs.items():
        save_image(tmp_path / f"{flag}.png", image)
        argv += [f"--{flag}", str(tmp_path / f"{flag}.png")]
    assert run_command(build_parser().parse_args([*argv, *flags])) == 0
    return read_image(tmp_path / f"{task}.png").rgb


@pytest.mark.parametrize("task", ["paint", "harmonize", "edit", "sr"])
def test_every_task_gives_the_cli_pixels_with_undo(studio, qtbot, model, tmp_path, task):
    """The Tasks dock and `apply TASK` build the same request: the same pixels, for each task (harmonize
    and edit with the model first taught the task on augmented photos), and one undo step."""
    from core.images import palette_of, quantize_to_palette

    panel, canvas, gallery = studio
    img = model.image.copy()
    mask = np.zeros(img.shape[:2], np.float32)
    mask[6:14, 10:22] = 1
    if task == "paint":
        start = quantize_to_palette(img, palette_of(img, 3))
        expected = _cli_result(model, tmp_path, task, {"input": start}, "--scale", "1")
    elif task == "sr":
        start = img
        expected = _cli_result(model, tmp_path, task, {"input": start}, "--factor", "2")
    else:
        start = img.copy()
        start[6:14, 10:22] = (255, 0, 200)
        expected = _cli_result(model, tmp_path, task, {"input": start, "mask": (mask * 255).astype(np.uint8)},
                               "--scale", "1", "--adapt-iters", "2")
    canvas.set_image(start)
    panel.set_task(task)
    panel.seed.setValue(5)
    if task == "sr":
        panel.page("sr").factor.setCurrentIndex(0)
    else:
        panel.set_scale(1)
    if task in ("harmonize", "edit"):
        canvas.selection.set_mask(mask)
        panel.page(task).adapt_iters.setValue(2)
        if task == "harmonize":
            panel.page(task).use_selection_mask.setChecked(True)
    _apply(qtbot, panel, 1, gallery)
    result, params = gallery[-1]
    assert np.array_equal(result, expected)
    _check_undo(canvas, start, result)


def test_learning_a_task_shows_progress_and_cancels(studio, qtbot, model):
    """Teaching the model to harmonize is training: the bar moves with its own stage name, and Cancel
    leaves the composite on the canvas."""
    panel, canvas, gallery = studio
    img = model.image.copy()
    mask = np.zeros(img.shape[:2], np.float32)
    mask[6:14, 10:22] = 1
    img[6:14, 10:22] = (0, 255, 0)
    canvas.set_image(img)
    canvas.selection.set_mask(mask)
    panel.set_task("harmonize")
    page = panel.page("harmonize")
    page.use_selection_mask.setChecked(True)
    page.adapt_iters.setValue(3000)
    panel.set_scale(1)
    panel.apply_button.click()
    qtbot.waitUntil(lambda: panel.bar.progress_bar.value() > 0, timeout=30000)
    assert panel.message.text().startswith("Learning to harmonize")
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.job is None, timeout=30000)
    assert "Cancelled" in panel.message.text() and gallery == []
    assert np.array_equal(canvas.image(), img)
