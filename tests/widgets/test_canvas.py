"""ImageCanvas: zoom/pan keep the image where the user expects, painting, selection, compare."""

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from widgets.canvas import ImageCanvas
from widgets.convert import from_qimage, from_qimage_rgba, mask_to_qimage, to_qimage

NONE = Qt.MouseButton.NoButton


def _send(view, kind, pos: QPointF, button, buttons, mods=Qt.KeyboardModifier.NoModifier):
    vp = view.viewport()
    ev = QMouseEvent(kind, pos, vp.mapToGlobal(pos), button, buttons, mods)
    QApplication.sendEvent(vp, ev)


def drag_view(view, pts, button=Qt.MouseButton.LeftButton):
    """Press, move (button held) and release through viewport positions."""
    pts = [QPointF(*p) for p in pts]
    _send(view, QEvent.Type.MouseButtonPress, pts[0], button, button)
    for p in pts[1:]:
        _send(view, QEvent.Type.MouseMove, p, NONE, button)
    _send(view, QEvent.Type.MouseButtonRelease, pts[-1], button, NONE)


def drag_image(view, pts, button=Qt.MouseButton.LeftButton):
    """Same, through image-pixel centres."""
    vpts = []
    for x, y in pts:
        v = view.map_from_image(QPointF(x + 0.5, y + 0.5))
        vpts.append((v.x(), v.y()))
    drag_view(view, vpts, button)


def wheel(view, pos: QPointF, steps: int):
    vp = view.viewport()
    ev = QWheelEvent(
        pos,
        vp.mapToGlobal(pos),
        QPoint(),
        QPoint(0, 120 * steps),
        NONE,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(vp, ev)


@pytest.fixture
def canvas(qtbot, photo):
    c = ImageCanvas()
    qtbot.addWidget(c)
    c.resize(320, 240)
    c.show()
    qtbot.waitExposed(c)
    c.set_image(photo)  # 48x32
    return c


def test_convert_roundtrips(photo):
    assert np.array_equal(from_qimage(to_qimage(photo)), photo)
    rgba = np.dstack([photo, np.full(photo.shape[:2], 128, np.uint8)])
    assert np.array_equal(from_qimage_rgba(to_qimage(rgba)), rgba)
    m = from_qimage_rgba(mask_to_qimage(np.ones((4, 5), np.float32), (255, 0, 0), 0.5))
    assert m.shape == (4, 5, 4) and (m[..., 3] == 128).all() and (m[..., 0] == 255).all()
    with pytest.raises(ValueError, match="uint8"):
        to_qimage(photo.astype(np.float32))


def test_image_roundtrip_and_fit_shows_whole_image(canvas, photo):
    assert np.array_equal(canvas.image(), photo)
    vp = canvas.viewport().rect()
    tl = canvas.map_to_image(QPointF(vp.topLeft()))
    br = canvas.map_to_image(QPointF(vp.width(), vp.height()))  # the far edges, not the last pixel
    assert tl.x() <= 0 and tl.y() <= 0 and br.x() >= 48 and br.y() >= 32
    # and it is as large as fits: one side fills the view (320/48 < 240/32)
    assert canvas.zoom() == pytest.approx(318 / 48, rel=1e-3)


def test_wheel_zoom_keeps_image_point_under_cursor(canvas, qtbot):
    pos = QPointF(200.0, 90.0)
    before = canvas.map_to_image(pos)
    z0 = canvas.zoom()
    with qtbot.waitSignal(canvas.zoomChanged, timeout=1000) as sig:
        wheel(canvas, pos, 2)
    assert canvas.zoom() == pytest.approx(z0 * 1.25**2)
    assert sig.args[0] == pytest.approx(canvas.zoom())
    after = canvas.map_from_image(before)
    assert abs(after.x() - pos.x()) <= 1 and abs(after.y() - pos.y()) <= 1
    wheel(canvas, QPointF(40.0, 200.0), -3)  # out again somewhere else
    assert canvas.zoom() < z0


def test_zoom_actions_and_actual_size(canvas):
    canvas.zoom_actual()
    assert canvas.zoom() == 1.0
    canvas.zoom_in()
    assert canvas.zoom() == pytest.approx(1.25)
    canvas.zoom_out()
    canvas.zoom_out()
    assert canvas.zoom() == pytest.approx(0.8)
    canvas.zoom_fit()
    assert canvas.zoom() == pytest.approx(318 / 48, rel=1e-3)


def test_small_image_fitted_smoothly_hard_pixels_only_when_zoomed_in_past_fit(canvas, qtbot):
    """A 48×32 image fitted at 660 % is enlarged smoothly (a picture, not a grid of squares); zoomed in
    past the fit and past 200 % it shows hard pixels to inspect; zoomed out of the fit, smooth again."""
    board = np.kron((np.indices((8, 12)).sum(0) % 2).astype(np.uint8) * 255, np.ones((4, 4), np.uint8))
    canvas.set_image(np.repeat(board[:, :, None], 3, axis=2))  # 48×32 black and white 4-px squares

    def greys() -> int:
        qtbot.wait(10)
        view = canvas.viewport().grab().toImage()
        c = QPointF(canvas.map_from_image(QPointF(24, 16)))
        row = [view.pixelColor(round(c.x()) + dx, round(c.y())).red() for dx in range(-40, 41)]
        return sum(20 < v < 235 for v in row)  # shades between black and white: edges blended

    assert canvas.zoom() > 6 and not canvas.hard_pixels() and greys() > 4
    canvas.set_zoom(canvas.zoom() * 1.25)
    assert canvas.hard_pixels() and greys() == 0
    canvas.set_zoom(4.0)  # zoomed out of the fit
    assert not canvas.hard_pixels() and greys() > 0
    canvas.set_zoom(0.9)
    assert canvas._pix_item.transformationMode() == Qt.TransformationMode.SmoothTransformation


def test_middle_drag_pans(canvas):
    p = QPointF(100, 100)
    under = canvas.map_to_image(p)
    drag_view(canvas, [(100, 100), (130, 110), (160, 120)], Qt.MouseButton.MiddleButton)
    moved = canvas.map_from_image(under)
    assert abs(moved.x() - 160) <= 1 and abs(moved.y() - 120) <= 1


def test_cursor_moved_reports_image_pixels(canvas, qtbot):
    target = canvas.map_from_image(QPointF(10.5, 20.5))
    with qtbot.waitSignal(canvas.cursorMoved, timeout=1000) as sig:
        _send(canvas, QEvent.Type.MouseMove, target, NONE, NONE)
    assert sig.args == [10, 20]


def test_paint_changes_painted_image_only_where_painted(canvas, photo, qtbot):
    canvas.set_paint_mode(True)
    canvas.paint.set_brush((255, 0, 255), 3)
    with qtbot.waitSignal(canvas.overlayChanged, timeout=1000):
        drag_image(canvas, [(5, 16), (20, 16), (40, 16)])
    ov = canvas.paint.rgba()
    assert ov.shape == (32, 48, 4)
    assert ov[16, 10:36, 3].min() == 255  # a continuous opaque line
    out = canvas.painted_image()
    assert tuple(out[16, 20]) == (255, 0, 255)
    untouched = ov[..., 3] == 0
    assert untouched[:10].all() and untouched[24:].all()
    assert np.array_equal(out[untouched], photo[untouched])
    assert np.array_equal(canvas.image(), photo)  # the image itself is not changed


def test_paint_undo_redo_one_step_per_drag_with_crops(canvas):
    canvas.set_tool("paint")
    canvas.paint.set_brush((0, 255, 0), 2)
    drag_image(canvas, [(2, 2), (8, 6)])
    first = canvas.paint.rgba()
    drag_image(canvas, [(30, 20), (44, 28)])
    second = canvas.paint.rgba()
    assert canvas.undo_stack.count() == 2
    cmd = canvas.undo_stack.command(1)
    assert cmd._before.width() < 30 and cmd._before.height() < 20  # the stroke's box, not the layer
    canvas.undo_stack.undo()
    assert np.array_equal(canvas.paint.rgba(), first)
    canvas.undo_stack.redo()
    assert np.array_equal(canvas.paint.rgba(), second)


def test_eraser_and_clear_overlay(canvas):
    canvas.set_tool("paint")
    canvas.paint.set_brush((0, 0, 255), 4)
    drag_image(canvas, [(4, 16), (44, 16)])
    canvas.paint.set_eraser(True)
    canvas.paint.set_brush((0, 0, 255), 8)
    drag_image(canvas, [(20, 16), (28, 16)])
    ov = canvas.paint.rgba()
    assert ov[16, 24, 3] == 0 and ov[16, 6, 3] == 255
    canvas.paint.clear()
    assert not canvas.paint.rgba()[..., 3].any()
    canvas.undo_stack.undo()
    assert canvas.paint.rgba()[16, 6, 3] == 255


def test_pan_tool_does_not_paint(canvas):
    canvas.set_tool("pan")
    drag_image(canvas, [(4, 16), (44, 16)])
    assert not canvas.paint.rgba()[..., 3].any()


def test_rect_selection_gives_the_box(canvas, qtbot):
    canvas.set_tool("rect_select")
    with qtbot.waitSignal(canvas.selectionChanged, timeout=1000):
        drag_image(canvas, [(10, 5), (20, 12), (30, 20)])
    m = canvas.selection.mask()
    assert m.dtype == np.float32 and m.shape == (32, 48)
    expected = np.zeros((32, 48), np.float32)
    expected[5:21, 10:31] = 1
    assert np.array_equal(m, expected)
    drag_image(canvas, [(3, 3)])  # a click drops it
    assert canvas.selection.mask() is None


def test_lasso_selection_is_the_polygon(canvas):
    canvas.set_tool("lasso_select")
    drag_image(canvas, [(5, 5), (40, 5), (40, 28), (5, 28)])
    m = canvas.selection.mask()
    assert m[16, 20] == 1 and m[2, 2] == 0 and m[30, 45] == 0
    assert 0.6 * 36 * 24 < m.sum() < 1.2 * 36 * 24


def test_set_selection_mask_and_escape(canvas, qtbot):
    m = np.zeros((32, 48), np.float32)
    m[4:9, 6:12] = 1
    canvas.selection.set_mask(m)
    assert np.array_equal(canvas.selection.mask(), m)
    assert not canvas.selection._over.path().isEmpty()
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert canvas.selection.mask() is None


def test_new_image_size_resets_overlay_and_selection(canvas, photo):
    canvas.set_tool("paint")
    drag_image(canvas, [(4, 16), (44, 16)])
    canvas.set_image(photo, keep_view=True)  # same size: paint stays
    assert canvas.paint.rgba()[..., 3].any()
    canvas.set_image(np.zeros((20, 30, 3), np.uint8))
    assert canvas.paint.rgba().shape == (20, 30, 4) and not canvas.paint.rgba()[..., 3].any()
    assert canvas.undo_stack.count() == 0


def test_keep_view_keeps_zoom(canvas, photo):
    canvas.set_zoom(3.0)
    canvas.set_image(photo[::-1].copy(), keep_view=True)
    assert canvas.zoom() == 3.0
    canvas.set_image(photo)
    assert canvas.zoom() == pytest.approx(318 / 48, rel=1e-3)


def test_compare_toggle_and_split_show_the_other_image(canvas, photo):
    other = np.zeros_like(photo)
    other[..., 2] = 255
    canvas.compare.set_image(other)

    def pixel_at(x, y):
        p = canvas.map_from_image(QPointF(x + 0.5, y + 0.5)).toPoint()
        return canvas.viewport().grab().toImage().pixelColor(p)

    assert pixel_at(10, 10).blue() != 255 or pixel_at(10, 10).red() != 0
    canvas.compare.set_shown(True)
    c = pixel_at(10, 10)
    assert (c.red(), c.green(), c.blue()) == (0, 0, 255)
    canvas.compare.set_shown(False)
    canvas.compare.set_split(0.5)
    left, right = pixel_at(5, 16), pixel_at(42, 16)
    assert (left.red(), left.green(), left.blue()) == (0, 0, 255)
    assert (right.red(), right.green(), right.blue()) != (0, 0, 255)


def test_unknown_tool_and_bad_image_say_why(canvas):
    with pytest.raises(ValueError, match="lasso_select"):
        canvas.set_tool("magic")
    with pytest.raises(ValueError, match="uint8"):
        canvas.set_image(np.zeros((4, 4), np.float32))


def test_large_image_uses_a_shrunk_copy_when_zoomed_out(qtbot):
    c = ImageCanvas()
    qtbot.addWidget(c)
    c.resize(200, 150)
    c.show()
    big = np.random.default_rng(0).integers(0, 255, (1024, 1536, 3), dtype=np.uint8)
    c.set_image(big)
    assert c.zoom() < 0.25
    assert c._pix_item.pixmap().width() < 1536 / 2  # not re-scaling the full image on every paint
    assert c._pix_item.sceneBoundingRect().width() == pytest.approx(1536)
