"""The Train dock shows a stage whose reconstruction broke down: the warning, and the seed to try."""

from tests.app.test_main_window import train_photo_in_dock
from tests.core.test_singan import TINY
from tests.core.test_stage_health import _breaking


def test_a_broken_stage_is_shown_in_the_train_dock_with_the_seed_to_try(window, qtbot, tmp_path, photo, monkeypatch):
    _breaking(monkeypatch, 1, range(3))  # every try of scale 2 breaks
    panel = train_photo_in_dock(window, tmp_path, photo, TINY.with_(iters=30), 2)
    with qtbot.waitSignal(window.doc.modelChanged, timeout=120_000):
        panel.start()
    window.wait_idle()
    warning = panel.monitor.warning_label
    assert warning.isVisibleTo(panel.monitor)
    assert "The reconstruction broke down at scale 2 after 3 tries" in warning.text()
    assert "(try seed 3)" in warning.text()
    button = panel.next_seed_btn  # the same seed as the warning names, one click away
    assert button.isVisibleTo(panel) and button.text() == "Train again with seed 3"
