"""Start the studio: the QApplication, the theme, first launch on the bundled sample, screenshot mode."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox

from app.bundled import STYLE_SHEET
from app.main_window import MainWindow


def dark_palette() -> QPalette:
    p = QPalette()
    base, alt, text, mid = QColor(30, 32, 36), QColor(38, 41, 46), QColor(222, 225, 230), QColor(46, 49, 55)
    for role, color in (
        (QPalette.ColorRole.Window, QColor(34, 36, 41)), (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base), (QPalette.ColorRole.AlternateBase, alt),
        (QPalette.ColorRole.ToolTipBase, QColor(50, 53, 60)), (QPalette.ColorRole.ToolTipText, text),
        (QPalette.ColorRole.Text, text), (QPalette.ColorRole.Button, mid), (QPalette.ColorRole.ButtonText, text),
        (QPalette.ColorRole.Highlight, QColor(47, 111, 220)), (QPalette.ColorRole.HighlightedText, QColor("white")),
        (QPalette.ColorRole.Link, QColor(90, 150, 255)), (QPalette.ColorRole.PlaceholderText, QColor(130, 135, 145)),
    ):
        p.setColor(role, color)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(110, 114, 122))
    return p


def make_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    QCoreApplication.setOrganizationName("Ganvas")
    QCoreApplication.setApplicationName("Ganvas Studio")
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    if STYLE_SHEET.exists():
        app.setStyleSheet(STYLE_SHEET.read_text(encoding="utf-8"))
    return app


def _install_excepthook(window: MainWindow) -> None:
    """Unexpected errors in Qt callbacks become a message, not a crash."""

    def hook(exc_type, exc, tb):
        traceback.print_exception(exc_type, exc, tb)
        window.show_error("Unexpected error", f"{exc_type.__name__}: {exc}")

    sys.excepthook = hook


def run_studio(image: str | None = None, screenshot: str | None = None) -> int:
    if screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = make_app()
    window = MainWindow(confirm_dialogs=screenshot is None)
    _install_excepthook(window)
    if image:
        window.open_path(image)
    else:
        window.open_sample()
    if screenshot:
        return render_screenshot(window, screenshot)
    window.show()
    if image is None and window.doc.model is None and not window.loading_model:
        window.show_status("Welcome! Press Train (Ctrl+T) to learn a SinGAN from this photo, or open your own (Ctrl+O).")
    return app.exec()


def render_screenshot(window: MainWindow, path: str | Path, size=(1500, 940)) -> int:
    """Show the window offscreen with a sample (when a model is there), grab it and save a PNG."""
    window.resize(*size)
    window.show()
    QApplication.processEvents()
    window.wait_idle()  # the sample's model loads on a worker
    if window.doc.model is not None:
        window.generate_panel.generate_batch(4)
        window.wait_idle()
        window.generate_panel.request()
        window.wait_idle()
    else:
        window.spectrum_panel.refresh()
        window.wait_idle()
    window.canvas.zoom_fit()
    QApplication.processEvents()
    ok = window.grab().save(str(path))
    window.settings.q.sync()
    window.close()
    if not ok:
        QMessageBox.critical(None, "Screenshot", f"Could not write {path}")
        return 1
    print(f"wrote {path}")
    return 0


__all__ = ["run_studio", "make_app", "render_screenshot", "Qt"]
