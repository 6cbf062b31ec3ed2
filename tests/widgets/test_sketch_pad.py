"""SketchPad: drawing with the mouse changes the arrays; undo/redo, eraser, clear, import/export."""

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from widgets.sketch_pad import SketchPad


def _send(widget, kind, pos: QPointF, button, buttons):
    ev = QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, ev)


def drag(pad: SketchPad, pts_img, button=Qt.MouseButton.LeftButton):
    """Drag through image-pixel coordinates with ``button`` held (real press/move/release events)."""
    surf = pad.surface
    t = surf.target_rect()
    s = surf.scale()
    pos = [QPointF(t.x() + (x + 0.5) * s, t.y() + (y + 0.5) * s) for x, y in pts_img]
    _send(surf, QEvent.Type.MouseButtonPress, pos[0], button, button)
    for p in pos[1:]:
        _send(surf, QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, button)
    _send(surf, QEvent.Type.MouseButtonRelease, pos[-1], button, Qt.MouseButton.NoButton)


@pytest.fixture
def pad(qtbot):
    w = SketchPad(64, 48)
    qtbot.addWidget(w)
    w.resize(300, 320)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_blank_pad_is_white_and_sketch_empty(pad):
    assert pad.painting().shape == (48, 64, 3)
    assert pad.painting().dtype == np.uint8
    assert (pad.painting() == 255).all()
    sk = pad.sketch()
    assert sk.shape == (48, 64) and sk.dtype == np.float32 and sk.max() == 0


def test_drag_draws_ink_along_the_path_and_emits(pad, qtbot):
    pad.set_color((200, 30, 30))
    pad.set_brush_size(4)
    with qtbot.waitSignal(pad.strokeFinished, timeout=1000):
        drag(pad, [(5, 10), (20, 10), (40, 10), (58, 10)])
    sk = pad.sketch()
    assert sk[10, 8:56].min() > 0.5  # a continuous line, not just the end points
    assert sk[30:, :].max() == 0  # nothing far from the stroke
    assert tuple(pad.painting()[10, 30]) == (200, 30, 30)


def test_undo_restores_exactly_and_redo_reapplies(pad):
    drag(pad, [(5, 5), (30, 25)])
    first = pad.painting()
    drag(pad, [(10, 40), (60, 5)])
    second = pad.painting()
    assert not np.array_equal(first, second)
    assert pad.undo_stack.count() == 2  # one step per drag
    pad.undo_stack.undo()
    assert np.array_equal(pad.painting(), first)
    pad.undo_stack.redo()
    assert np.array_equal(pad.painting(), second)


def test_undo_keeps_only_the_stroke_crop(pad):
    drag(pad, [(5, 5), (12, 8)])
    cmd = pad.undo_stack.command(0)
    assert cmd._before.width() < 30 and cmd._before.height() < 20


def test_ctrl_z_shortcut_undoes(pad, qtbot):
    drag(pad, [(5, 5), (30, 25)])
    pad.surface.setFocus()
    qtbot.keyClick(pad.surface, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert pad.is_blank()
    qtbot.keyClick(
        pad.surface, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert not pad.is_blank()


def test_eraser_removes_ink(pad):
    pad.set_brush_size(6)
    drag(pad, [(5, 20), (58, 20)])
    assert pad.sketch()[20, 30] > 0.9
    pad.set_eraser(True)
    pad.set_brush_size(12)
    drag(pad, [(20, 20), (40, 20)])
    assert pad.sketch()[20, 30] == 0
    assert pad.sketch()[20, 8] > 0.9  # ink outside the eraser path stays


def test_right_button_erases(pad):
    drag(pad, [(5, 20), (58, 20)])
    drag(pad, [(25, 20), (35, 20)], button=Qt.MouseButton.RightButton)
    assert pad.sketch()[20, 30] == 0 and pad.sketch()[20, 8] > 0.9


def test_single_click_makes_a_dot(pad):
    pad.set_brush_size(5)
    drag(pad, [(30, 30)])
    assert pad.sketch()[30, 30] > 0.9


def test_clear_is_undoable(pad):
    drag(pad, [(5, 5), (30, 25)])
    drawn = pad.painting()
    pad.clear()
    assert pad.is_blank()
    pad.undo_stack.undo()
    assert np.array_equal(pad.painting(), drawn)


def test_palette_click_picks_colour(pad, qtbot):
    pad.set_palette([(10, 120, 200), (250, 200, 0)])
    from PySide6.QtWidgets import QToolButton

    swatches = [b for b in pad.findChildren(QToolButton) if b.toolTip().startswith("rgb(")]
    assert len(swatches) == 2
    qtbot.mouseClick(swatches[1], Qt.MouseButton.LeftButton)
    assert pad.color() == (250, 200, 0)
    pad.set_palette([(1, 2, 3)])  # replacing the palette removes the old swatches
    qtbot.wait(1)
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    swatches = [b for b in pad.findChildren(QToolButton) if b.toolTip().startswith("rgb(")]
    assert len(swatches) == 1


def test_set_painting_and_save_load_roundtrip(pad, photo, tmp_path):
    img = np.ascontiguousarray(photo[:, :, :])  # 32x48
    pad.set_painting(img)
    assert pad.canvas_size() == (48, 32)
    assert np.array_equal(pad.painting(), img)
    path = tmp_path / "sketch.png"
    pad.save_file(str(path))
    pad.clear()
    pad.load_file(str(path))
    assert np.array_equal(pad.painting(), img)
    pad.undo_stack.undo()
    assert pad.is_blank()


def test_load_file_fits_other_sizes_on_white(pad, tmp_path):
    from PySide6.QtGui import QImage

    wide = QImage(128, 32, QImage.Format.Format_RGB32)
    wide.fill(Qt.GlobalColor.black)
    path = tmp_path / "wide.png"
    wide.save(str(path))
    pad.load_file(str(path))  # canvas 64x48: the image becomes 64x16, centred vertically
    sk = pad.sketch()
    assert sk[24, 32] == 1.0 and sk[2, 32] == 0.0


def test_load_missing_file_says_which(pad, tmp_path):
    with pytest.raises(OSError, match="nope.png"):
        pad.load_file(str(tmp_path / "nope.png"))


def test_set_canvas_size_keeps_drawing_scaled(pad):
    drag(pad, [(0, 24), (63, 24)])
    pad.set_canvas_size(128, 96)
    assert pad.painting().shape == (96, 128, 3)
    assert pad.sketch()[48, 64] > 0.5
    assert pad.undo_stack.count() == 0


def test_changed_emitted_on_undo(pad, qtbot):
    drag(pad, [(5, 5), (30, 25)])
    with qtbot.waitSignal(pad.changed, timeout=1000):
        pad.undo_stack.undo()
