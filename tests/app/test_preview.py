"""Patch-NN previews in the studio: a photo shows a preview at once, with no model; sliders and Generate 8 drive it."""

from __future__ import annotations

import numpy as np

from core.images import encode_png, read_png_metadata
from core.patchnn import ENGINE_NAME


def shown_engine(window) -> str | None:
    return None if window.doc.shown is None else window.doc.shown.params.get("engine")


def test_opening_a_photo_shows_a_preview_and_the_sliders_drive_it(window, qtbot, tmp_path, photo):
    src = tmp_path / "photo.png"
    src.write_bytes(encode_png(photo))
    assert window.open_path(src)
    qtbot.waitUntil(lambda: shown_engine(window) == ENGINE_NAME, timeout=20_000)
    first = window.canvas.image().copy()
    assert first.shape == photo.shape and not np.array_equal(first, photo)
    assert window.engine_label.text() == ENGINE_NAME
    gen = window.generate_panel
    assert gen.previewing and gen.generate_btn.isEnabled() and gen.train_btn.isVisible()
    window.grab().save(str(tmp_path / "preview_studio.png"))

    gen.width_scale.set_value(1.5)  # the slider the user drags
    gen.request()
    window.wait_idle()
    qtbot.waitUntil(lambda: window.canvas.image().shape[1] == 72, timeout=20_000)
    assert window.doc.shown.params["width_scale"] == "1.5"

    window.generate8_action.trigger()
    qtbot.waitUntil(lambda: window.gallery.count() == 8, timeout=60_000)
    assert window.gallery.label(0).startswith("preview ")
    assert window.gallery.params(0)["engine"] == ENGINE_NAME

    out = tmp_path / "p.png"
    assert window.export_image_to(out, window.doc.shown.image, window.doc.shown.params)
    assert read_png_metadata(out)["engine"] == ENGINE_NAME

    window.show_photo()
    assert window.engine_label.text() == "photo"
    window.preview_action.trigger()  # Ctrl+Shift+P: a new preview on the next seed
    qtbot.waitUntil(lambda: shown_engine(window) == ENGINE_NAME, timeout=20_000)
