"""Gallery: thumbnails of generated images that hand back the image and its parameters."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from widgets.gallery import Gallery


@pytest.fixture
def gallery(qtbot, photo):
    g = Gallery()
    qtbot.addWidget(g)
    g.resize(420, 300)
    for seed in range(4):
        img = np.roll(photo, seed * 5, axis=1)
        g.add_image(img, {"seed": seed, "scale": 2, "diversity": 0.5, "size": (48, 32)})
    g.show()
    qtbot.waitExposed(g)
    return g


def _click(qtbot, g, i, modifier=Qt.KeyboardModifier.NoModifier):
    rect = g.visualItemRect(g.item(i))
    qtbot.mouseClick(g.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def test_adding_images_grows_gallery_and_round_trips(gallery, photo):
    assert gallery.count() == 4
    i = gallery.add_image(photo, {"seed": 99, "diversity": 0.25}, label="mine")
    assert i == 4 and gallery.count() == 5
    assert np.array_equal(gallery.image(i), photo)
    assert gallery.params(i) == {"seed": 99, "diversity": 0.25}
    assert gallery.label(i) == "mine"
    assert gallery.label(0) == "seed 0"
    tip = gallery.item(i).toolTip()
    assert "seed: 99" in tip and "diversity: 0.25" in tip and "size: 48×32" in tip


def test_stored_image_is_a_copy_and_read_only(gallery, photo):
    src = photo.copy()
    i = gallery.add_image(src, {"seed": 1})
    src[:] = 0
    assert np.array_equal(gallery.image(i), photo)
    with pytest.raises(ValueError):
        gallery.image(i)[0, 0, 0] = 1


def test_rejects_non_rgb(gallery):
    with pytest.raises(ValueError, match="uint8"):
        gallery.add_image(np.zeros((8, 8), np.float32), {})


def test_click_emits_image_chosen_with_index(qtbot, gallery):
    with qtbot.waitSignal(gallery.imageChosen) as blocker:
        _click(qtbot, gallery, 2)
    assert blocker.args == [2]
    assert gallery.selected_indices() == [2]


def test_ctrl_click_builds_multi_selection_without_choosing(qtbot, gallery):
    _click(qtbot, gallery, 0)
    chosen = []
    gallery.imageChosen.connect(chosen.append)
    with qtbot.waitSignal(gallery.selectionChanged):
        _click(qtbot, gallery, 3, Qt.KeyboardModifier.ControlModifier)
    assert gallery.selected_indices() == [0, 3]
    assert chosen == []


def test_export_and_remove_selected(qtbot, gallery):
    gallery.select([1, 3])
    with qtbot.waitSignal(gallery.exportRequested) as blocker:
        gallery.export_action.trigger()
    assert blocker.args == [[1, 3]]
    kept = gallery.image(2)
    with qtbot.waitSignal(gallery.imagesRemoved):
        gallery.remove_action.trigger()
    assert gallery.count() == 2
    assert gallery.params(1)["seed"] == 2 and gallery.image(1) is kept


def test_remove_and_clear(gallery):
    gallery.remove(0)
    assert gallery.count() == 3 and gallery.params(0)["seed"] == 1
    with pytest.raises(IndexError):
        gallery.remove(7)
    gallery.clear_all()
    assert gallery.count() == 0 and gallery.selected_indices() == []


def test_a_full_gallery_drops_its_oldest_image(qtbot):
    g = Gallery(max_images=3)
    qtbot.addWidget(g)
    dropped = []
    g.imagesRemoved.connect(dropped.append)
    for seed in range(5):
        g.add_image(np.full((8, 8, 3), seed, np.uint8), {"seed": seed})
    assert g.count() == 3 and [g.params(i)["seed"] for i in range(3)] == [2, 3, 4]
    assert dropped == [[0], [0]] and g.label(0) == "seed 2"


def test_captions_of_a_batch_with_long_seeds_stay_apart(qtbot, photo):
    """Generate 8 draws consecutive ten-digit seeds; cut at the end, every caption read "seed 1650508…"."""
    from widgets.gallery import THUMB

    g = Gallery()
    qtbot.addWidget(g)
    g.resize(420, 200)
    for seed in (1650508820, 1650508821):  # the same picture: only the captions can differ
        g.add_image(photo, {"seed": seed})
    g.show()
    qtbot.waitExposed(g)
    shot = g.viewport().grab().toImage()
    captions = []
    for i in range(2):
        r = g.visualItemRect(g.item(i))
        strip = shot.copy(r.x(), r.y() + THUMB + 4, r.width(), r.height() - THUMB - 4)
        captions.append(bytes(strip.constBits())[: strip.sizeInBytes()])
    assert g.label(0) != g.label(1) and captions[0] != captions[1]
