"""The real main window offscreen: open → train a tiny model → drag the scale slider → export → reopen."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QScrollArea

from app.main_window import MainWindow
from app.settings import Settings
from core.images import encode_png, read_png_metadata


def train_photo_in_dock(window, tmp_path, photo, config, seed: int):
    """The Train dock with ``photo`` open (saved as photo.png), set to train it with ``config`` and
    ``seed``, autosaving into ``tmp_path``."""
    src = tmp_path / "photo.png"
    src.write_bytes(encode_png(photo))
    assert window.open_path(src)
    panel = window.train_panel
    panel.config = lambda: config
    panel.out_dir = lambda: tmp_path / "autosave.ganvas"
    panel.seed.setValue(seed)
    return panel


def test_open_train_generate_export_reopen(window, qtbot, tmp_path, photo, tiny_singan):
    panel = train_photo_in_dock(window, tmp_path, photo, tiny_singan, 6)
    assert "photo" in window.windowTitle()
    with qtbot.waitSignal(window.doc.modelChanged, timeout=120_000):
        panel.start()
    window.wait_idle()
    model = window.doc.model
    assert model is not None and model.complete and model.seed == 6  # the Train dock's seed
    # the training monitor showed the sample made after each scale; the last one stays
    caption = panel.monitor.preview_caption.text()
    assert caption.startswith("sample after scale") and not panel.monitor.preview.pixmap().isNull(), caption

    gen = window.generate_panel
    gen.seed.set_seed(7)
    gen.scale.set_value(0)
    gen.request()
    window.wait_idle()
    qtbot.waitUntil(lambda: window.doc.shown is not None and window.doc.shown.params.get("start_scale") == "0")
    coarse = window.canvas.image().copy()
    gen.scale.set_value(model.num_trained - 1)  # the slider the user drags
    gen.request()
    window.wait_idle()
    qtbot.waitUntil(lambda: window.doc.shown.params.get("start_scale") == str(model.num_trained - 1))
    fine = window.canvas.image().copy()
    assert coarse.shape == fine.shape and not np.array_equal(coarse, fine)
    # a release on the value whose image the drag already made shows it again at once, generating nothing
    window.show_photo()
    jobs_before = gen.live.generation
    gen.scale.valueCommitted.emit(model.num_trained - 1)
    assert gen.live.generation == jobs_before and np.array_equal(window.canvas.image(), fine)

    png, ckpt = tmp_path / "out.png", tmp_path / "saved.ganvas"
    assert window.export_image_to(png, fine, window.doc.shown.params)
    assert read_png_metadata(png)["seed"] == "7"
    assert window.save_model_to(ckpt)
    assert window.open_model(ckpt)
    window.wait_idle()  # the model loads on a worker
    assert window.doc.model is not model and window.doc.model.model_id == model.model_id
    window.show_photo()
    gen.scale.set_value(model.num_trained - 1)
    gen.seed.set_seed(7)
    gen.request()
    window.wait_idle()
    qtbot.waitUntil(lambda: window.doc.shown.params.get("task") == "sample")
    assert np.array_equal(window.canvas.image(), fine)


def test_bad_file_shows_an_error_and_keeps_the_window(window, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not an image")
    assert not window.open_path(bad)
    assert window.errors and "broken.png" in window.errors[-1]


def test_a_folder_that_is_no_model_says_so_at_once(window, tmp_path):
    """The manifest is checked before the worker load starts: one error, nothing changed, no job left."""
    broken = tmp_path / "broken.ganvas"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json")
    n = len(window.errors)
    assert not window.open_path(broken)
    assert len(window.errors) == n + 1 and "broken.ganvas" in window.errors[-1]
    assert window.doc.model is None and not window.loading_model


def test_opening_a_photo_fills_the_sketch_palette_off_the_gui_thread(window, tmp_path):
    from core.images import save_image

    rgb = np.zeros((40, 60, 3), np.uint8)
    rgb[:, 30:] = (200, 40, 10)
    src = tmp_path / "two.png"
    save_image(src, rgb)
    assert window.open_path(src)
    window.wait_idle()
    assert set(window.sketch_pad.palette_colors()) == {(0, 0, 0), (200, 40, 10)}


def test_first_launch_leaves_the_canvas_most_of_the_window(qtbot, tmp_path):
    """Fresh settings: the docks open at sensible widths instead of squeezing the canvas (or growing the window)."""
    settings = Settings(QSettings(str(tmp_path / "fresh.ini"), QSettings.Format.IniFormat))
    w = MainWindow(settings, confirm_dialogs=False)
    w.resize(1500, 940)
    w.show()
    qtbot.waitUntil(lambda: w.canvas.width() >= 0.4 * w.width(), timeout=5000)
    assert w.width() == 1500
    for title in ("Primitives", "Tasks", "Train", "Sketch GAN"):
        w.docks[title].raise_()
        qtbot.wait(20)
        assert w.canvas.width() >= 0.4 * w.width(), title
        scroll = w.docks[title].widget()
        if isinstance(scroll, QScrollArea):  # the workflow panels scroll down, never sideways
            assert not scroll.horizontalScrollBar().isVisible(), title
    w.close()


def test_a_saved_layout_that_squeezes_the_canvas_falls_back_to_the_default(qtbot, tmp_path):
    settings = Settings(QSettings(str(tmp_path / "squeezed.ini"), QSettings.Format.IniFormat))
    w = MainWindow(settings, confirm_dialogs=False)
    w.resize(1500, 940)
    w.show()
    qtbot.wait(50)
    w.resizeDocks([w.docks["Generate"]], [1150], Qt.Orientation.Horizontal)  # what an older version saved
    qtbot.waitUntil(lambda: w.canvas.width() < 0.3 * w.width(), timeout=5000)
    w.close()
    again = MainWindow(settings, confirm_dialogs=False)
    again.resize(1500, 940)  # the offscreen screen is 800 px wide: restoreGeometry clamps to it
    again.show()
    qtbot.waitUntil(lambda: again.canvas.width() >= 0.4 * again.width(), timeout=5000)
    again.close()


def test_a_restored_layout_shows_only_its_own_tab_strips(qtbot, tmp_path):
    """`--screenshot` with a saved layout drew dead tab strips over the Train panel: the tabs made before
    restoreState were only dropped by a later event loop, which a grab after processEvents never ran."""
    from PySide6.QtWidgets import QApplication, QTabBar

    settings = Settings(QSettings(str(tmp_path / "saved.ini"), QSettings.Format.IniFormat))
    w = MainWindow(settings, confirm_dialogs=False)
    w.resize(1500, 940)
    w.show()
    w.docks["Train"].raise_()
    qtbot.wait(20)
    w.close()
    again = MainWindow(settings, confirm_dialogs=False)
    again.resize(1500, 940)
    again.show()
    QApplication.processEvents()  # as render_screenshot does
    bars = sorted((b for b in again.findChildren(QTabBar) if b.isVisible()), key=lambda b: b.tabText(0))
    strips = [tuple(b.tabText(i) for i in range(b.count())) for b in bars]
    assert strips == [("Generate", "Train", "Tasks", "Primitives", "Sketch GAN", "Dissect"), ("Spectrum", "Sketch pad")]
    assert bars[0].tabText(bars[0].currentIndex()) == "Train"  # the tab in front when it closed
    again.close()


def test_spectrum_overlays_primitives_previews_while_their_panel_is_shown(window, qtbot, photo, tmp_path):
    src = tmp_path / "photo.png"
    src.write_bytes(encode_png(photo))
    assert window.open_path(src)
    window.primitives_panel.image_size.setCurrentIndex(0)  # 64 px previews: quick
    window.docks["Primitives"].raise_()

    def names():
        result = window.spectrum_panel.last_result
        return [c["name"] for c in result["curves"]] if result else []

    qtbot.waitUntil(lambda: any(n.startswith("Primitives previews (mean of 16)") for n in names()), timeout=30000)
    assert "training photo" in names()
    window.docks["Generate"].raise_()
    qtbot.waitUntil(lambda: not any(n.startswith("Primitives") for n in names()), timeout=30000)


def _tiny_hubble_in_train_dock(window, tmp_path, lr: float, seed: int = 0, **settings):
    """The Train dock with the tiny Hubble crop of tests/core/test_singan.py open, set to train it at a
    raised generator learning rate (there it saturates: at 3e-2 every try of the coarsest scale, at 5e-3
    seed 1's first), autosaving into ``tmp_path``."""
    from tests.core.test_singan import CONCURRENT, _hubble_tiny

    src = tmp_path / "hubble.png"
    src.write_bytes(encode_png(_hubble_tiny()))
    assert window.open_path(src)
    panel = window.train_panel
    panel.config = lambda: CONCURRENT.with_(lr_g=lr, **settings)
    panel.out_dir = lambda: tmp_path / "autosave.ganvas"
    panel.seed.setValue(seed)
    return panel


def _train_tiny_hubble(window, qtbot, tmp_path, lr: float, seed: int = 0, said: list | None = None):
    """Train the tiny Hubble crop in the Train dock (see :func:`_tiny_hubble_in_train_dock`) to the end."""
    panel = _tiny_hubble_in_train_dock(window, tmp_path, lr, seed)
    if said is not None:
        window.statusBar().messageChanged.connect(said.append)
    with qtbot.waitSignal(window.doc.modelChanged, timeout=120_000):
        panel.start()
    window.wait_idle()
    return panel


def test_a_saturated_scale_is_shown_in_the_train_dock_while_it_trains(window, qtbot, tmp_path):
    said = []
    panel = _train_tiny_hubble(window, qtbot, tmp_path, 3e-2, said=said)
    warning = panel.monitor.warning_label
    assert warning.isVisibleTo(panel.monitor) and "scales 1, 2, 3, 4 are saturated after 3 tries" in warning.text()
    assert "another seed" in warning.text()
    # said last of the training's messages, and again after the first sample's (which the canvas now shows;
    # the spectrum of this 32-px sample may speak after it: too few frequency bins)
    assert [m for m in said if "warning in the Train dock" in m][-1].endswith("Its first sample is on the canvas.")
    button = panel.next_seed_btn  # the advice, one click: same settings, the next seed, from scratch
    assert button.isVisibleTo(panel) and button.isEnabled() and button.text() == "Train again with seed 1"
    with qtbot.waitSignal(window.doc.modelChanged, timeout=120_000):
        button.click()
    window.wait_idle()
    assert panel.seed.value() == 1 and window.doc.model.seed == 1


def test_train_again_with_the_next_seed_starts_over_instead_of_resuming_the_failed_seed(window, qtbot, tmp_path):
    from core.singan.model import load_model

    panel = _tiny_hubble_in_train_dock(window, tmp_path, 3e-2, iters=40)  # scale 1 saturates; slow enough to cancel
    panel.start()
    button = panel.next_seed_btn
    qtbot.waitUntil(lambda: button.isVisibleTo(panel), timeout=120_000)  # the warning of scale 1
    assert not button.isEnabled()  # while it trains: Cancel first
    panel.cancel()
    qtbot.waitUntil(lambda: not panel.running, timeout=120_000)
    assert panel.resumable() and button.isEnabled()  # the failed seed's partial autosave is there
    panel.ask_start_over = lambda *a: pytest.fail("asked to resume the seed that failed")
    with qtbot.waitSignal(window.doc.modelChanged, timeout=120_000):
        button.click()
    qtbot.waitUntil(lambda: not panel.running, timeout=120_000)
    window.wait_idle()
    saved = load_model(tmp_path / "autosave.ganvas", "cpu")
    assert saved.seed == 1 and saved.complete and window.doc.model.seed == 1


def test_a_scale_trained_again_after_saturating_is_said_in_the_status_bar(window, qtbot, tmp_path):
    said = []
    panel = _train_tiny_hubble(window, qtbot, tmp_path, 5e-3, seed=1, said=said)
    assert any(m.startswith("Training: scale 1 done in") and m.endswith("(try 2: the one before saturated)")
               for m in said), said
    assert "saturated" not in panel.monitor.warning_label.text()  # the kept try is not stuck: nothing to act on


def test_opening_a_saturated_or_unfit_model_opens_it_and_says_why_its_samples_are_flat(
        window, tmp_path, photo, tiny_singan):
    from core.singan.generate import UNFIT_SHARE, reconstruction_fit
    from core.singan.model import save_model
    from core.singan.train import train_singan
    from tests.core.test_singan import _saturate

    model = train_singan(photo, tiny_singan.with_(iters=4), seed=5, device="cpu")  # too few iterations to fit
    assert reconstruction_fit(model) < UNFIT_SHARE
    save_model(model, tmp_path / "unfit.ganvas")
    assert window.open_model(tmp_path / "unfit.ganvas")
    window.wait_idle()
    assert window.doc.model is not None and window.doc.model.model_id == model.model_id
    assert any("unfit.ganvas" in e and "does not reconstruct its photo" in e and "seed 5" in e for e in window.errors)
    save_model(_saturate(model, [2]), tmp_path / "stuck.ganvas")
    assert window.open_model(tmp_path / "stuck.ganvas")
    window.wait_idle()
    assert window.doc.model.model_id == model.model_id
    assert any("stuck.ganvas" in e and "scale 3 is saturated" in e and "seed 5" in e for e in window.errors), window.errors
