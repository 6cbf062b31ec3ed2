"""TrainingMonitor: progress text with ETA, loss curves fed from plain numbers, cancel/resume."""

import numpy as np
import pytest
from PySide6.QtGui import QTextDocument

from widgets.training_monitor import MAX_POINTS, TrainingMonitor, decimate, progress_text


@pytest.fixture
def monitor(qtbot):
    m = TrainingMonitor()
    qtbot.addWidget(m)
    m.resize(640, 400)
    m.show()
    m.start("Training SinGAN on coffee.png")
    return m


def test_progress_text_and_bar(monitor):
    monitor.update_progress("scale", 2, 9, 420, 2000, 12.34, 245.0, {"errD": -0.5, "errG": 1.25})
    text = monitor.status_label.text()
    assert text == "Scale 3/9 · iteration 420/2000 · 12.3 it/s · ETA 4:05"
    doc = QTextDocument()
    doc.setHtml(monitor.metrics_label.text())
    shown = doc.toPlainText().replace("\xa0", " ")
    assert "errD -0.5" in shown and "errG 1.25" in shown
    monitor.redraw()  # each name carries its curve's colour: the plot has no legend
    for name in ("errD", "errG"):
        colour = monitor._curves[name].opts["pen"].color().name()
        assert f'color:{colour}">■</span>&nbsp;{name}' in monitor.metrics_label.text()
    expected = (2 + 420 / 2000) / 9
    assert monitor.progress_bar.value() == pytest.approx(1000 * expected, abs=1)


def test_progress_text_edge_cases():
    assert "ETA --:--" in progress_text("scale 4", 4, 9, 0, 10, 0.0, None)
    assert progress_text("scale 4", 4, 9, 0, 10, 0.0, None).startswith("Scale 5/9")
    assert "2.0 s/it" in progress_text("fine-tune", 0, 1, 3, 10, 0.5, 3725)
    assert "ETA 1:02:05" in progress_text("fine-tune", 0, 1, 3, 10, 0.5, 3725)


def test_curves_get_appended_points_over_stages(qtbot, monitor):
    for stage in range(2):
        for step in range(0, 101, 10):
            monitor.update_progress(
                "scale", stage, 2, step, 100, 50.0, 1.0, {"errD": 1.0 / (1 + step), "rec": 0.1}
            )
    x, y = monitor.series("errD")
    assert len(x) == 22
    assert x[11] == 100 and x[-1] == 200  # the second stage continues the global iteration count
    monitor.redraw()
    px, py = monitor.drawn("errD")
    assert np.allclose(px, x) and np.allclose(py, y)
    assert sorted(monitor.metric_names()) == ["errD", "rec"]
    assert len(monitor._stage_lines) == 1


def test_a_preparation_stage_without_metrics_takes_no_room_on_the_iteration_axis(monitor):
    """The sketch tune first renders 1000 training images: its curves still start at iteration 0."""
    for i in range(0, 1001, 100):
        monitor.update_progress("rendering Primitives", 0, 1, i, 1000, 200.0, 1.0, {})
    for step in (1, 2, 3):
        monitor.update_progress("tuning", 0, 1, step, 500, 5.0, 100.0, {"loss": 0.5})
    x, _ = monitor.series("loss")
    assert list(x) == [1, 2, 3] and not monitor._stage_lines


def test_redraw_is_throttled_by_timer(qtbot, monitor):
    monitor.update_progress("scale", 0, 1, 1, 10, 5.0, 2.0, {"loss": 0.5})
    assert monitor.drawn("loss") is None  # not drawn at once...
    qtbot.waitUntil(lambda: monitor.drawn("loss") is not None, timeout=2000)  # ...but soon


def test_decimation_bounds_points_and_keeps_trend():
    x = np.arange(100_003, dtype=float)
    y = np.linspace(1.0, 0.0, x.size) + np.random.default_rng(0).normal(0, 0.1, x.size)
    dx, dy = decimate(x, y)
    assert len(dx) <= MAX_POINTS + 1
    assert dx[-1] > 99_900  # reaches the newest values
    assert abs(dy[0] - 1.0) < 0.05 and abs(dy[-2]) < 0.05


def test_buttons_and_end_states(qtbot, monitor, photo):
    assert monitor.cancel_button.isEnabled() and not monitor.resume_button.isEnabled()
    with qtbot.waitSignal(monitor.cancelRequested):
        monitor.cancel_button.click()
    monitor.fail("Cancelled at scale 3; the autosave is kept.")
    assert not monitor.cancel_button.isEnabled()
    assert "autosave" in monitor.status_label.text()
    monitor.set_resume_available(True)
    with qtbot.waitSignal(monitor.resumeRequested):
        monitor.resume_button.click()
    monitor.set_preview(photo, "scale 3 sample")
    assert monitor.preview.pixmap() is not None and not monitor.preview.pixmap().isNull()
    assert monitor.preview_caption.text() == "scale 3 sample"
    monitor.set_note("longest GUI stall: 31 ms")
    assert monitor.note_label.isVisibleTo(monitor)
    monitor.set_warning("The generator of scale 2 is saturated")
    monitor.finish("Done in 4:05")
    assert monitor.progress_bar.value() == monitor.progress_bar.maximum()
    assert monitor.warning_label.isVisibleTo(monitor) and "scale 2" in monitor.warning_label.text()  # outlives the run
    assert monitor.warning_label.toolTip() == "The generator of scale 2 is saturated"
    monitor.set_warning("The generator of scale 2 is saturated. " * 8)  # a long one keeps every line: the plot gives way
    assert monitor.warning_label.minimumHeight() >= 3 * monitor.warning_label.fontMetrics().lineSpacing()
    monitor.start("Training again")
    assert not monitor.warning_label.isVisibleTo(monitor)


def test_view_range_moves_only_when_the_data_leaves_it(monitor):
    """A still view keeps pyqtgraph from re-laying-out the axes at every redraw (the training stall)."""
    for i in range(0, 100, 10):
        monitor.update_progress("scale", 0, 2, i, 200, 5.0, 10.0, {"errD": 1.0 + 0.01 * (i % 3)})
    monitor.redraw()
    first = monitor.plot.getPlotItem().viewRange()
    for i in range(100, 200, 10):  # same stage, values inside the range: nothing moves
        monitor.update_progress("scale", 0, 2, i, 200, 5.0, 10.0, {"errD": 1.01})
    monitor.redraw()
    assert monitor.plot.getPlotItem().viewRange() == first
    assert first[0][1] >= 200  # the whole stage's iterations are on screen from the start
    monitor.update_progress("scale", 0, 2, 200, 200, 5.0, 10.0, {"errD": 5.0})  # out of range: the view grows
    monitor.redraw()
    (_, _), (_, y_hi) = monitor.plot.getPlotItem().viewRange()
    assert y_hi > 5.0
    monitor.update_progress("scale", 1, 2, 10, 200, 5.0, 10.0, {"errD": 1.0})  # next stage: x extends
    monitor.redraw()
    assert monitor.plot.getPlotItem().viewRange()[0][1] >= 400
