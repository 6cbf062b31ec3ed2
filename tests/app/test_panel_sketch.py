"""The Sketch panel drives a tiny Sketch-Your-Own-GAN run end to end, offscreen."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

from app.panels.sketch import SketchPanel
from app.workers import JobRunner
from core.images import load_image, read_png_metadata
from core.sketchgan.model import load_model, save_model
from core.sketchgan.stylegan import Discriminator, Generator, StyleGANConfig

TINY = StyleGANConfig(size=32, style_dim=16, n_mlp=2, max_channels=8)


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture
def base_path(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "base"
    save_model(path, Generator(TINY), Discriminator(TINY), {"source": "test"})
    return path


def box_sketch(x0: int, size: int = 128) -> np.ndarray:
    ink = np.zeros((size, size), np.uint8)
    cv2.rectangle(ink, (x0, 20), (x0 + 40, 110), 255, 3)
    return ink.astype(np.float32) / 255


def test_panel_draws_tunes_explores_and_exports(qtbot, base_path, tmp_path):
    jobs = JobRunner()
    panel = SketchPanel(jobs, bundled_base=None)
    qtbot.addWidget(panel)
    panel.resize(520, 1500)
    panel.show()

    # sketches: one drawn with the mouse on the pad, two imported from files, then reordered
    sk, ex = panel.sketch_set, panel.explore
    assert not panel.tune_bar.start_button.isEnabled()
    assert "No base model is bundled" in panel.tune.base.info.text()
    surf = sk.pad.surface
    qtbot.mousePress(surf, Qt.MouseButton.LeftButton, pos=surf.rect().center())
    qtbot.mouseRelease(surf, Qt.MouseButton.LeftButton,
                       pos=surf.rect().center())
    sk.pad.set_painting(np.repeat((255 - box_sketch(30) * 255).astype(np.uint8)[..., None], 3, 2))
    sk.add_from_pad()
    assert sk.pad.is_blank() and len(sk.sketches()) == 1
    for i, x0 in enumerate((50, 70)):
        cv2.imwrite(str(tmp_path / f"s{i}.png"), (255 - box_sketch(x0) * 255).astype(np.uint8))
    sk.import_sketch_files([str(tmp_path / "s0.png"), str(tmp_path / "s1.png")])
    assert len(sk.sketches()) == 3
    first = sk.sketches()[0]
    sk.list.setCurrentRow(0)
    sk.move_selected(1)
    assert np.array_equal(sk.sketches()[1], first)

    # base model, then a tiny fine-tune with previews
    with qtbot.waitSignal(panel.gridReady, timeout=30000):
        panel.load_base(str(base_path))
    assert panel.base is not None and ex.grid_view.image() is not None
    assert "sketch map" in ex.caption.text()  # the base's samples are shown with their sketch map F
    assert panel.tune.preset.currentData() == "cpu" and panel.tune.config().sketch_style == "auto"
    cpu = panel.tune.config()
    assert (cpu.trainable, cpu.l_image, cpu.figure_renders) == ("auto", 5.0, 0.9)  # the widgets show the preset
    panel.tune.preset.setCurrentIndex(panel.tune.preset.findData("paper"))
    assert panel.tune.iters.value() == 75_000 and panel.tune.config().preset == "paper"
    assert panel.tune.trainable.currentData() == "mapping" and panel.tune.l_image.value() == 0.7
    assert panel.tune.sketch_style.currentText() == "as drawn"  # the paper's sketches reach its critic as drawn
    assert panel.tune.sketch_style.itemText(0) == "auto (as drawn for this base)"  # the tiny base records no data
    assert panel.tune.trainable.itemText(0) == "auto (the mapping network for this base)"
    panel.tune.iters.setValue(4)
    panel.tune.out.setText(str(tmp_path / "tuned"))
    assert panel.tune_bar.start_button.isEnabled()
    shown = []
    panel.showImage.connect(lambda img, params: shown.append(params))
    with qtbot.waitSignal(panel.tuningFinished, timeout=60000) as blocker:
        panel.tune_bar.start_button.click()
    assert blocker.args == [True]
    assert panel.tuned is not None
    assert load_model(tmp_path / "tuned").manifest["sketches"]["count"] == 3
    assert panel.monitor.series(panel.monitor.metric_names()[0])[0].size > 0
    qtbot.waitUntil(lambda: bool(shown), timeout=30000)  # the comparison grid arrives after tuning

    # base vs fine-tuned with F rows: 4 rows of 8 tiles
    grid = ex.grid_view.image()
    assert grid.shape[0] > 3 * 32 and grid.shape[1] > 7 * 32

    # interpolation slider gives a frame
    ex.interp_slider.set_value(0.5, emit=True)
    qtbot.waitUntil(lambda: ex.interp_view.image() is not None, timeout=30000)
    assert ex.interp_view.image().shape == (32, 32, 3)

    # exports
    panel.export_samples_to(str(tmp_path / "samples"))
    panel.export_animation_to(str(tmp_path / "interp.gif"), frames=4)
    panel.export_model_to(str(tmp_path / "exported"))
    qtbot.waitUntil(lambda: (tmp_path / "interp.gif").exists() and (tmp_path / "exported").exists()
                    and len(list((tmp_path / "samples").glob("*.png"))) == 8, timeout=30000)
    png = sorted((tmp_path / "samples").glob("*.png"))[0]
    assert "seed" in read_png_metadata(png) and load_image(png).shape == (32, 32, 3)
    assert load_model(tmp_path / "exported").config == TINY
    panel.grab().save(str(tmp_path / "panel.png"))
    jobs.wait()


def test_stop_keeps_the_autosaved_model(qtbot, base_path, tmp_path):
    jobs = JobRunner()
    panel = SketchPanel(jobs, bundled_base=None)
    qtbot.addWidget(panel)
    panel.set_base(load_model(base_path))
    panel.sketch_set.add_sketch(box_sketch(40))
    panel.tune.iters.setValue(100000)
    panel.tune.out.setText(str(tmp_path / "t"))
    panel.start_tuning()
    assert not panel.tune.iters.isEnabled() and not panel.pretrain_bar.start_button.isEnabled()
    qtbot.waitUntil(lambda: panel.monitor.metric_names() != [], timeout=30000)
    with qtbot.waitSignal(panel.tuningFinished, timeout=30000):
        panel.tune_bar.cancel_button.click()
    assert load_model(tmp_path / "t").manifest["training"]["finished"] is False
    qtbot.waitUntil(lambda: panel.tune_bar.start_button.isEnabled(), timeout=5000)
    assert panel.tune.iters.isEnabled()
    jobs.wait()


def test_panel_pretrains_a_base_on_primitives_and_loads_it(qtbot, tmp_path):
    jobs = JobRunner()
    panel = SketchPanel(jobs, bundled_base=None)
    qtbot.addWidget(panel)
    pre = panel.pretrain
    assert pre.data_source() == ("primitives", "sketch-shapes")
    pre.size.setCurrentIndex(pre.size.findData(32))
    pre.width.setValue(8)
    pre.iters.setValue(3)
    pre.out.setText(str(tmp_path / "base"))
    with qtbot.waitSignal(panel.pretrainFinished, timeout=60000) as blocker:
        panel.pretrain_bar.start_button.click()
    assert blocker.args == [True]
    assert panel.base is not None and panel.base.config.size == 32
    data = load_model(tmp_path / "base").manifest["data"]
    assert data["kind"] == "primitives" and data["preset"] == "sketch-shapes"
    assert "Primitives sketch-shapes" in panel.tune.base.info.text()
    assert panel.tune_bar.start_button.isEnabled() is False  # no sketches yet
    jobs.wait()


def test_the_dock_opens_a_bundled_base_and_imports_a_rosinality_checkpoint_with_a_cost_warning(
        qtbot, base_path, tmp_path):
    from tests.core.test_sketchgan import rosinality_state

    jobs = JobRunner()
    panel = SketchPanel(jobs, bundled_base=base_path)  # a base at the package-data path opens at start
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.base is not None, timeout=30000)
    assert panel.tune.base.path.text() == str(base_path) and panel.tune.base.warning.isHidden()
    # a 256 px, StyleGAN2-wide checkpoint: imported next to the file, with the CPU time it will take
    g_state, d_state = rosinality_state(256, 32, 2, cm=1, max_ch=256)
    torch.save({"g_ema": g_state, "d": d_state, "g": g_state}, tmp_path / "ffhq.pt")
    with qtbot.waitSignal(panel.baseLoaded, timeout=60000):
        panel.import_checkpoint(str(tmp_path / "ffhq.pt"))
    assert panel.base.config.size == 256 and (tmp_path / "ffhq.ganvas" / "manifest.json").exists()
    assert "256 px" in panel.tune.base.info.text() and "unrecorded data" in panel.tune.base.info.text()
    warning = panel.tune.base.warning.text()
    assert not panel.tune.base.warning.isHidden() and "per step" in warning and "GPU" in warning
    panel.resize(460, 1400)
    panel.show()
    panel.grab().save(str(tmp_path / "import.png"))
    jobs.wait()


def test_the_dock_opens_the_shipped_base_and_saves_tunes_of_it_in_the_home_folder(qtbot, tmp_path, monkeypatch):
    from app.bundled import RESOURCES

    monkeypatch.setenv("HOME", str(tmp_path))
    jobs = JobRunner()
    shown = []
    panel = SketchPanel(jobs)  # the default: the base shipped in app/resources/sketchgan
    panel.showImage.connect(lambda img, params: shown.append(img))
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.gridReady, timeout=30000):
        pass
    assert panel.base is not None and shown == []  # its first grid fills the dock, not the studio's canvas
    assert "32 px" in panel.tune.base.info.text() and "sketch-shapes" in panel.tune.base.info.text()
    assert panel.tune.sketch_style.itemText(0) == "auto (filled outlines for this base)"  # solid figures
    assert panel.tune.trainable.itemText(0) == "auto (the whole generator for this base)"
    out = panel.tune.out.text()
    assert out == str(tmp_path / "ganvas-sketch" / "sketch_base.ganvas-sketch")  # not inside the install
    assert not out.startswith(str(RESOURCES))
    with qtbot.waitSignal(panel.gridReady, timeout=30000):
        panel.explore.sample_button.click()  # asked for: the grid goes to the canvas too
    assert len(shown) == 1 and np.array_equal(shown[0], panel.explore.grid_view.image())
    # a tune of the shipped base is checked; two steps miss the shape, so it runs again and says so
    panel.sketch_set.pad.set_painting(np.repeat((255 - box_sketch(40) * 255).astype(np.uint8)[..., None], 3, 2))
    panel.sketch_set.add_from_pad()
    panel.tune.iters.setValue(2)
    with qtbot.waitSignal(panel.tuningFinished, timeout=120000):
        panel.tune_bar.start_button.click()
    said = panel.monitor.status_label.text()
    assert "saved to" in said and "The first run missed the shape, so it was tuned 2 times (seed 0: " in said
    assert [t["seed"] for t in load_model(out).manifest["training"]["tries"]] == [0, 1]
    jobs.wait()


def test_the_dock_transfers_the_base_to_a_folder_showing_it_beside_the_samples_and_tunes_from_the_result(
        qtbot, base_path, tmp_path):
    from tests.core.test_transfer import image_folder

    folder = image_folder(tmp_path / "img")
    jobs = JobRunner()
    panel = SketchPanel(jobs, bundled_base=None)
    qtbot.addWidget(panel)
    panel.resize(520, 1700)
    panel.show()
    with qtbot.waitSignal(panel.gridReady, timeout=30000):
        panel.set_base(load_model(base_path))
    before = panel.explore.grid_view.image().copy()
    tr = panel.transfer
    assert not panel.transfer_bar.start_button.isEnabled()  # no folder yet
    tr.set_folder(str(folder))
    qtbot.waitUntil(lambda: tr.folder_image is not None, timeout=30000)
    assert tr.grid.image().shape == tr.folder_image.shape and tr.folder_image.shape[1] == 8 * 34 + 2
    tr.iters.setValue(4)
    tr.out.setText(str(tmp_path / "moved"))
    assert panel.transfer_bar.start_button.isEnabled()
    with qtbot.waitSignal(panel.transferFinished, timeout=120000) as blocker:
        panel.transfer_bar.start_button.click()
    assert blocker.args == [True]
    shown = panel.monitor.preview.image()
    assert shown.shape[0] > tr.folder_image.shape[0] + 6 and np.array_equal(shown[: tr.folder_image.shape[0]],
                                                                            tr.folder_image)
    assert "your images (top)" in panel.monitor.preview_caption.text()
    assert panel.base.path == tmp_path / "moved" and panel.base.manifest["source"] == "transfer"
    assert str(tmp_path / "moved") in panel.tune.base.path.text()
    qtbot.waitUntil(lambda: not np.array_equal(panel.explore.grid_view.image(), before), timeout=30000)
    panel.sketch_set.add_sketch(box_sketch(40))
    assert panel.tune_bar.start_button.isEnabled()  # the transferred model is the base sketch tuning starts from
    jobs.wait()
