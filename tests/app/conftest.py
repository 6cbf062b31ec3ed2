"""The studio window for app tests, built one way (as napari's ``make_napari_viewer``): real, offscreen,
with its settings in the test's temporary folder, waited for and closed at the end."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from app.main_window import MainWindow
from app.settings import Settings


@pytest.fixture
def make_window(qtbot, tmp_path):
    """``make_window(width, height, activate=False)``: a shown MainWindow with no modal dialogs."""
    made: list[MainWindow] = []

    def make(width: int = 1200, height: int = 800, *, activate: bool = False) -> MainWindow:
        settings = Settings(QSettings(str(tmp_path / f"settings{len(made) or ''}.ini"), QSettings.Format.IniFormat))
        w = MainWindow(settings, confirm_dialogs=False)
        w.resize(width, height)
        w.show()
        if activate:  # keyboard shortcuts go to the active window
            w.activateWindow()
            qtbot.waitUntil(w.isActiveWindow, timeout=5000)
        made.append(w)
        return w

    yield make
    for w in made:
        w.wait_idle()
        w.close()


@pytest.fixture
def window(make_window) -> MainWindow:
    return make_window()
