"""Export at size… in the studio: the Generate dock's bar writes the canvas's image 2× or 4× larger on a
worker, with its parameters and the scale-up in the PNG, and Cancel stops it with nothing written."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog

from core.images import encode_png, load_image, read_png_metadata
from core.patchnn import ENGINE_NAME


def _open_preview(window, qtbot, tmp_path, photo):
    src = tmp_path / "photo.png"
    src.write_bytes(encode_png(photo))
    assert window.open_path(src)
    qtbot.waitUntil(lambda: window.doc.shown is not None and window.doc.shown.params.get("engine") == ENGINE_NAME,
                    timeout=20_000)
    window.wait_idle()


def test_export_at_size_writes_a_larger_png_that_says_so(window, qtbot, tmp_path, photo, monkeypatch):
    _open_preview(window, qtbot, tmp_path, photo)
    out = tmp_path / "big.png"
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (asked.append(a[1]) or str(out), ""))
    bar = window.generate_panel.export_bar
    window.generate_panel.export_factor.setCurrentIndex(0)  # ×2
    shown = window.doc.shown
    bar.start_button.click()  # the button the user presses
    assert asked == ["Export at ×2"]
    qtbot.waitUntil(lambda: not bar.running, timeout=60_000)
    img = load_image(out)
    assert img.shape == (2 * shown.image.shape[0], 2 * shown.image.shape[1], 3)
    meta = read_png_metadata(out)
    assert meta["scale_up"] == "2" and meta["engine"] == ENGINE_NAME and meta["seed"] == shown.params["seed"]
    assert "Exported big.png at ×2" in bar.message.text()


def test_the_menu_action_uses_the_docks_factor_and_cancel_writes_nothing(window, qtbot, tmp_path, photo,
                                                                         monkeypatch):
    _open_preview(window, qtbot, tmp_path, photo)
    out = tmp_path / "cancelled.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    import app.panels.generate as G

    real = G.scale_up

    def after_the_click(*args, cancel=None, **kwargs):  # the engine's work starts once Cancel is pressed
        cancel._event.wait(20)
        return real(*args, cancel=cancel, **kwargs)

    monkeypatch.setattr(G, "scale_up", after_the_click)
    bar = window.generate_panel.export_bar
    window.export_size_action.trigger()
    assert bar.running and not window.generate_panel.export_factor.isEnabled()
    bar.cancel_button.click()
    qtbot.waitUntil(lambda: not bar.running, timeout=60_000)
    assert not out.exists() and "nothing was written" in bar.message.text()
