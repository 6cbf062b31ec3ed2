"""Sliders: user moves emit values (live and committed); program sets stay silent; seed lock."""

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QSlider, QStyle, QStyleOptionSlider

from widgets.labeled_slider import LabeledSlider, _handle_centers
from widgets.sliders import FloatSlider, RangeSlider, SeedControl

LEFT, NONE = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
SIZES = ["25×33", "33×44", "44×59", "59×78", "78×104", "104×139", "139×188", "188×250"]


def _send(widget, kind, pos, button, buttons):
    pos = QPointF(pos)
    ev = QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, ev)


def drag(widget, xs, y=None):
    y = widget.height() / 2 if y is None else y
    _send(widget, QEvent.Type.MouseButtonPress, QPointF(xs[0], y), LEFT, LEFT)
    for x in xs[1:]:
        _send(widget, QEvent.Type.MouseMove, QPointF(x, y), NONE, LEFT)
    _send(widget, QEvent.Type.MouseButtonRelease, QPointF(xs[-1], y), LEFT, NONE)


@pytest.fixture
def show(qtbot):
    def _show(w):
        qtbot.addWidget(w)
        w.resize(400, w.sizeHint().height())
        w.show()
        qtbot.waitExposed(w)
        return w

    return _show


class Recorder:
    def __init__(self, *signals):
        self.calls = {i: [] for i in range(len(signals))}
        for i, s in enumerate(signals):
            s.connect(lambda *a, i=i: self.calls[i].append(a[0] if len(a) == 1 else a))


def test_labeled_slider_drag_emits_live_then_commits_once(show):
    s = show(LabeledSlider("Scale", SIZES))
    rec = Recorder(s.valueChanged, s.valueCommitted)
    centers = _handle_centers(s.slider)
    drag(s.slider, [centers[0], centers[2], centers[4], centers[5]])
    assert rec.calls[0] == [2, 4, 5]  # live values while dragging
    assert rec.calls[1] == [5]  # one commit, on release
    assert s.value() == 5 and s.current_label() == "104×139"
    assert s.readout.text() == "104×139"


def test_labeled_slider_keyboard_commits(show, qtbot):
    s = show(LabeledSlider("Scale", SIZES))
    s.slider.setFocus()
    with qtbot.waitSignal(s.valueCommitted, timeout=1000) as sig:
        qtbot.keyClick(s.slider, Qt.Key.Key_Right)
    assert sig.args == [1]


def test_labeled_slider_set_value_is_silent_unless_asked(show):
    s = show(LabeledSlider("Scale", SIZES))
    rec = Recorder(s.valueChanged, s.valueCommitted)
    s.set_value(3)
    assert s.value() == 3 and s.readout.text() == "59×78"
    assert rec.calls == {0: [], 1: []}
    s.set_value(6, emit=True)
    assert rec.calls == {0: [6], 1: [6]}


def test_labeled_slider_relabel_clamps(show):
    s = show(LabeledSlider("Scale", SIZES))
    s.set_value(7)
    s.set_labels(SIZES[:3])
    assert s.value() == 2 and s.current_label() == "44×59"


def _bar(w):
    """The superqt bar inside a FloatSlider / RangeSlider."""
    return w.slider.findChild(QSlider)


def _x_of(w, v):
    """x (in the bar's coordinates) of the handle centre for value ``v``: QSlider's geometry."""
    bar = _bar(w)
    opt = QStyleOptionSlider()
    bar.initStyleOption(opt)
    groove = bar.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderGroove, bar)
    handle = bar.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, bar)
    lo, hi = bar.minimum(), bar.maximum()
    return groove.x() + (v - lo) / (hi - lo) * (groove.width() - handle.width()) + handle.width() / 2


def type_into(qtbot, field, text):
    field.setFocus()
    field.selectAll()
    qtbot.keyClicks(field, text)
    qtbot.keyClick(field, Qt.Key.Key_Return)


def test_float_slider_shows_snaps_and_is_silent_on_set(show, qtbot):
    f = show(FloatSlider("Diversity", 0.0, 3.0, 0.05, 1.0))
    rec = Recorder(f.valueChanged, f.valueCommitted)
    f.set_value(2.5)
    assert f.value() == 2.5 and f.field.text() == "2.50" and f.slider.value() == 2.5
    f.set_value(1.234)  # snapped to the step
    assert f.value() == 1.25 and f.field.text() == "1.25"
    assert rec.calls == {0: [], 1: []}
    f.set_value(99)  # clamped
    assert f.value() == 3.0


def test_float_slider_keyboard_commits_each_step(show, qtbot):
    f = show(FloatSlider("Diversity", 0.0, 3.0, 0.05, 3.0))
    rec = Recorder(f.valueChanged, f.valueCommitted)
    _bar(f).setFocus()
    qtbot.keyClick(_bar(f), Qt.Key.Key_Left)
    assert f.value() == pytest.approx(2.95) and f.field.text() == "2.95"
    assert rec.calls == {0: [pytest.approx(2.95)], 1: [pytest.approx(2.95)]}
    qtbot.keyClick(_bar(f), Qt.Key.Key_PageDown)  # a tenth of the range
    assert f.value() == pytest.approx(2.65) and rec.calls[1][-1] == pytest.approx(2.65)


def test_float_slider_typed_value_commits_once(show, qtbot):
    f = show(FloatSlider("", 0.0, 3.0, 0.05, 1.0))
    rec = Recorder(f.valueChanged, f.valueCommitted)
    type_into(qtbot, f.field, "0.4")
    assert f.value() == pytest.approx(0.4) and f.slider.value() == pytest.approx(0.4)
    assert rec.calls == {0: [pytest.approx(0.4)], 1: [pytest.approx(0.4)]}


def test_float_slider_drag_is_live_and_commits_on_release(show):
    f = show(FloatSlider("", 0.0, 1.0, 0.1, 0.0))
    rec = Recorder(f.valueChanged, f.valueCommitted)
    drag(_bar(f), [_x_of(f, 0.0), _x_of(f, 0.3), _x_of(f, 0.31), _x_of(f, 0.7)])
    assert rec.calls[0] == [pytest.approx(0.3), pytest.approx(0.7)]  # snapped; 0.31 is still 0.3
    assert rec.calls[1] == [pytest.approx(0.7)]
    assert f.field.text() == "0.7"


def test_float_slider_press_and_release_in_place_does_not_commit(show):
    f = show(FloatSlider("", 0.0, 1.0, 0.1, 0.4))
    rec = Recorder(f.valueCommitted)
    drag(_bar(f), [_x_of(f, 0.4) + 3])  # a little off the centre: superqt re-centres, the step holds
    assert f.value() == pytest.approx(0.4) and rec.calls[0] == []


def test_range_slider_drag_moves_nearest_handle_and_keeps_order(show):
    r = show(RangeSlider("Exponent", 0.5, 3.5, 0.05, (1.0, 2.5)))
    rec = Recorder(r.rangeChanged, r.rangeCommitted)
    bar = _bar(r)
    drag(bar, [_x_of(r, 1.0), _x_of(r, 1.2), bar.width() - 1])  # drag the low handle far past the high one
    lo, hi = r.values()
    assert (lo, hi) == (pytest.approx(2.45), pytest.approx(2.5))  # stopped a step before the other: lo < hi
    assert rec.calls[1] == [(lo, hi)] and len(rec.calls[0]) >= 2
    drag(bar, [_x_of(r, 3.0), bar.width() - 1])  # a press right of both handles takes the high one
    assert r.values() == (pytest.approx(2.45), pytest.approx(3.5))
    assert r.lo_field.text() == "2.45" and r.hi_field.text() == "3.50"
    assert len(rec.calls[1]) == 2


def test_range_slider_typed_bounds_and_program_sets(show, qtbot):
    r = show(RangeSlider("Exponent", 0.5, 3.5, 0.05, (1.0, 2.5)))
    rec = Recorder(r.rangeChanged, r.rangeCommitted)
    r.set_values(3.0, 1.0)  # swapped and silent
    assert r.values() == (1.0, 3.0) and rec.calls == {0: [], 1: []}
    type_into(qtbot, r.lo_field, "3.2")  # the user pushes lo above hi: hi follows
    assert r.values() == (pytest.approx(3.2), pytest.approx(3.2))
    assert rec.calls[0][-1] == rec.calls[1][-1] == (pytest.approx(3.2), pytest.approx(3.2))
    type_into(qtbot, r.hi_field, "0.8")  # and hi below lo drags lo down
    assert r.values() == (pytest.approx(0.8), pytest.approx(0.8))
    assert r.lo_field.text() == "0.80" and rec.calls[1][-1] == (pytest.approx(0.8), pytest.approx(0.8))


def test_range_slider_keys_move_the_handle_that_moved_last(show, qtbot):
    r = show(RangeSlider("Exponent", 0.5, 3.5, 0.05, (1.0, 2.5)))
    rec = Recorder(r.rangeCommitted)
    drag(_bar(r), [_x_of(r, 2.5), _x_of(r, 3.0)])
    _bar(r).setFocus()
    qtbot.keyClick(_bar(r), Qt.Key.Key_Right)
    assert r.values() == (pytest.approx(1.0), pytest.approx(3.05))
    assert rec.calls[0][-1] == (pytest.approx(1.0), pytest.approx(3.05))


def test_disabled_slider_ignores_keys(show, qtbot):
    f = show(FloatSlider("", 0.0, 1.0, 0.1, 0.5))
    f.setEnabled(False)
    qtbot.keyClick(_bar(f), Qt.Key.Key_Right)
    assert f.value() == 0.5


def test_seed_lock_and_new_seed(show, qtbot):
    s = show(SeedControl(1234))
    assert s.seed() == 1234 and not s.locked()
    with qtbot.waitSignal(s.seedChanged, timeout=1000) as sig:
        n = s.next_seed()
    assert n != 1234 and s.seed() == n and sig.args == [n]
    s.set_locked(True)
    assert s.next_seed() == n and s.next_seed() == n
    assert not s.new_button.isEnabled()
    s.set_seed(7)
    assert s.next_seed() == 7
    s.lock_button.click()
    assert not s.locked() and s.next_seed() != 7


def test_seed_typed_by_user_emits_but_set_seed_does_not(show):
    s = show(SeedControl(5))
    rec = Recorder(s.seedChanged)
    s.set_seed(9)
    assert rec.calls[0] == []
    s.spin.setValue(42)  # the user editing the field
    assert rec.calls[0] == [42]


def test_click_on_handle_without_moving_does_not_commit(show):
    s = show(LabeledSlider("Scale", SIZES))
    s.set_value(3)
    rec = Recorder(s.valueCommitted)
    c = _handle_centers(s.slider)[3]
    drag(s.slider, [c, c + 1])
    assert s.value() == 3 and rec.calls[0] == []
