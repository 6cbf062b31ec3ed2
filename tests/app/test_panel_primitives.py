"""The Primitives panel alone (offscreen): live previews, coalescing, opening a tile, export with progress."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from app.panels.primitives import PrimitivesPanel
from app.workers import JobRunner
from core.primitives import generate_batch, preset, read_set_manifest, verify_set


@pytest.fixture
def panel(qtbot, tmp_path):
    jobs = JobRunner(max_threads=2)
    p = PrimitivesPanel(jobs)  # not qtbot.addWidget: pytest-qt would close it before this fixture's teardown
    p.resize(1000, 640)
    p.show()
    p.image_size.setCurrentIndex(0)  # 64 px previews keep the tests quick
    p.folder.setText(str(tmp_path / "set"))
    qtbot.waitUntil(
        lambda: len(p.grid.images()) == 16 and p.shown[2] == 64 and not p.latest.busy, timeout=20000
    )
    yield p
    # let queued previews finish while the panel still exists, then close it
    qtbot.waitUntil(lambda: not p.latest.busy and not p.exporting, timeout=30000)
    jobs.wait(20000)
    qtbot.wait(20)
    p.close()
    p.deleteLater()
    qtbot.wait(20)


def _settled(p):
    return not p.latest.busy


def test_grid_shows_the_images_of_the_current_settings(panel, qtbot):
    cfg, seed, size = panel.shown
    assert cfg == panel.config() and size == 64
    assert np.array_equal(np.stack(panel.grid.images()), generate_batch(cfg, seed, 0, 16, 64, 64))
    panel.preset.setCurrentIndex(panel.preset.findData("primitives"))  # the preset's name is the item data
    qtbot.waitUntil(lambda: _settled(panel) and panel.shown[0].preset == "primitives", timeout=20000)
    expected = generate_batch(preset("primitives"), seed, 0, 16, 64, 64)
    assert np.array_equal(np.stack(panel.grid.images()), expected)
    assert not panel.saliency.isEnabled()  # the preset has no salient object


def test_dragging_a_slider_coalesces_and_ends_on_the_last_value(panel, qtbot):
    requests_before = panel.latest.generation
    for v in range(10, 90, 4):  # 20 quick moves, as while dragging
        panel.shape_count.set_value(v, emit=True)
    qtbot.waitUntil(lambda: _settled(panel) and panel.shown[0].shape_count == 86, timeout=20000)
    assert panel.latest.generation - requests_before == 20
    assert panel.latest.dropped >= 1 or panel.latest.generation - requests_before > 1
    assert np.array_equal(
        np.stack(panel.grid.images()),
        generate_batch(preset("primitives-ps", shape_count=86), panel.seed.seed(), 0, 16, 64, 64),
    )
    assert panel.last_latency_s is not None and panel.last_latency_s < 10


def test_new_seed_changes_the_grid_and_clicking_a_tile_opens_it(panel, qtbot):
    old = np.stack(panel.grid.images())
    panel.seed.new_seed()
    qtbot.waitUntil(lambda: _settled(panel) and panel.shown[1] == panel.seed.seed(), timeout=20000)
    assert not np.array_equal(old, np.stack(panel.grid.images()))
    r = panel.grid.tile_rect(5)
    with qtbot.waitSignal(panel.showImage, timeout=5000) as sig:
        qtbot.mouseClick(
            panel.grid, Qt.MouseButton.LeftButton, pos=QPoint(int(r.center().x()), int(r.center().y()))
        )
    image, params = sig.args
    assert np.array_equal(image, panel.grid.images()[5])
    assert (
        params["index"] == 5 and params["seed"] == panel.seed.seed() and params["preset"] == "primitives-ps"
    )


def test_impossible_settings_are_explained_not_crashed(panel, qtbot):
    with qtbot.waitSignal(panel.status, timeout=5000) as sig:
        for cb in panel.kinds.values():
            cb.setChecked(False)
    assert "shape kind" in sig.args[0]
    assert "shape kind" in panel.preview_info.text()


def test_export_writes_a_set_with_manifest_and_refuses_a_full_folder(panel, qtbot, tmp_path):
    panel.count.setValue(24)
    panel.export_size.setCurrentIndex(0)
    panel.fmt.setCurrentIndex(2)  # npy
    panel.start_export()
    assert panel.exporting and not panel.export_button.isEnabled()
    qtbot.waitUntil(lambda: not panel.exporting, timeout=30000)
    m = read_set_manifest(tmp_path / "set")
    assert m.count == 24 and m.height == 64 and m.fmt == "npy" and m.config == panel.config()
    assert verify_set(m) == []
    assert panel.progress_bar.value() == 1000 and "Exported" in panel.export_info.text()
    panel.start_export()  # same folder again, overwrite not ticked
    qtbot.waitUntil(lambda: not panel.exporting, timeout=30000)
    assert "not empty" in panel.export_info.text()


def test_export_can_be_cancelled(panel, qtbot, tmp_path):
    panel.count.setValue(20000)
    panel.export_size.setCurrentIndex(0)
    panel.start_export()
    qtbot.waitUntil(lambda: panel.progress_bar.value() > 0, timeout=30000)
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: not panel.exporting, timeout=30000)
    assert "cancelled" in panel.export_info.text().lower()
    assert not (tmp_path / "set" / "manifest.json").exists()
    assert os.listdir(tmp_path / "set") == []


def test_grid_follows_every_change_at_256px(panel, qtbot, tmp_path):
    panel.image_size.setCurrentIndex(2)  # 256
    qtbot.waitUntil(lambda: _settled(panel) and panel.shown[2] == 256, timeout=30000)
    times = []
    for v in (0.9, 1.1, 1.0):
        panel.saliency_scale.set_value(v, emit=True)
        qtbot.waitUntil(lambda v=v: _settled(panel) and panel.shown[0].saliency_scale == v, timeout=30000)
        times.append(panel.last_latency_s)
    print(f"\n16-image grid at 256 px: latency {min(times) * 1000:.0f}–{max(times) * 1000:.0f} ms")
    panel.grab().save(str(tmp_path / "panel.png"))
    assert (tmp_path / "panel.png").stat().st_size > 10000
