"""The window's menus, tool bar and their actions: File, Edit (undo/redo), View, Model, Help.

A mixin of :class:`app.main_window.MainWindow` (the window is one object: tests, the soak and the
screenshot mode reach ``window.train_action``, ``window.undo_action``...), kept in its own file so the
window itself stays a page of layout and wiring. It uses what the window built before it: the
canvas, the docks, the undo group, the panels, the settings and the file commands
(:mod:`app.file_commands`).
"""

from __future__ import annotations

import platform

import torch
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox

import core
from core.device import describe_device


class WindowActions:
    """Builds the menus and the tool bar (``_actions``), keeps Open recent current, shows About."""

    def _actions(self) -> None:
        mb = self.menuBar()

        def act(menu, text, slot, shortcut=None, tip=""):
            a = QAction(text, self)
            if shortcut:
                a.setShortcut(QKeySequence(shortcut))
            a.setStatusTip(tip or text)
            a.setToolTip(f"{tip or text} ({QKeySequence(shortcut).toString()})" if shortcut else (tip or text))
            a.triggered.connect(slot)
            menu.addAction(a)
            return a

        f = mb.addMenu("&File")
        self.open_action = act(f, "&Open image…", self.open_image_dialog, QKeySequence.StandardKey.Open,
                               "Open a photo to train on")
        self.recent_menu = f.addMenu("Open &recent")
        self.open_sample_action = act(f, "Open &sample", self.open_sample, None, "Open the bundled sample image")
        f.addSeparator()
        self.open_model_action = act(f, "Open &model…", self.open_model_dialog, "Ctrl+Shift+O", "Open a trained model")
        self.save_model_action = act(f, "&Save model…", self.save_model_dialog, QKeySequence.StandardKey.Save,
                                     "Save the trained model as a checkpoint folder")
        f.addSeparator()
        self.export_action = act(f, "&Export image…", self.export_current_dialog, "Ctrl+E",
                                 "Save the image on the canvas as PNG with its parameters")
        self.export_size_action = act(f, "Export at si&ze…", lambda: self.export_at_size_dialog(), "Ctrl+Alt+E",
                                      "Save the image on the canvas 2 or 4 times larger")
        self.export_selected_action = act(f, "Export &gallery selection…", self.export_selected_dialog,
                                          "Ctrl+Shift+E", "Save the selected gallery images as PNGs")
        f.addSeparator()
        act(f, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        e = mb.addMenu("&Edit")
        undo = self.undo_group.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.undo_group.createRedoAction(self, "&Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence.StandardKey.Redo])
        e.addAction(undo)
        e.addAction(redo)
        self.undo_action, self.redo_action = undo, redo

        v = mb.addMenu("&View")
        for a in (self.canvas.zoom_in_action, self.canvas.zoom_out_action, self.canvas.zoom_fit_action,
                  self.canvas.zoom_actual_action):
            v.addAction(a)
            self.addAction(a)
        v.addSeparator()
        for dock in self.docks.values():
            v.addAction(dock.toggleViewAction())
        self.view_menu = v

        m = mb.addMenu("&Model")
        self.train_action = act(m, "&Train", lambda: self.train_panel.start(False), "Ctrl+T",
                                "Train a SinGAN on the open photo")
        self.resume_action = act(m, "&Resume training", lambda: self.train_panel.start(True), "Ctrl+Shift+T")
        self.cancel_action = act(m, "&Cancel training", self.train_panel.cancel, "Esc")
        m.addSeparator()
        self.generate_action = act(m, "&Generate", self.generate_panel.generate_new, "Ctrl+G", "Draw a new sample")
        self.generate8_action = act(m, "Generate &8", self.generate_panel.generate8, "Ctrl+Shift+G",
                                    "Fill the gallery with 8 samples")
        self.show_photo_action = act(m, "Show &photo", self.show_photo, "Ctrl+P", "Show the training photo")
        self.preview_action = act(m, "P&review (patch-NN)", self.generate_panel.preview_new, "Ctrl+Shift+P",
                                  "A new patch-NN preview of the photo: about a second, no training")

        h = mb.addMenu("&Help")
        act(h, "&About Ganvas", self.about)

        tb = self.addToolBar("Main")
        tb.setObjectName("toolbar_main")
        for a in (self.open_action, self.open_model_action, self.save_model_action, self.export_action):
            tb.addAction(a)
        tb.addSeparator()
        for a in (self.train_action, self.preview_action, self.generate_action, self.generate8_action,
                  self.show_photo_action):
            tb.addAction(a)
        tb.addSeparator()
        for a in (self.canvas.zoom_fit_action, self.canvas.zoom_actual_action):
            tb.addAction(a)
        self._rebuild_recent()

    def _rebuild_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.recent_files():
            a = self.recent_menu.addAction(path)
            a.triggered.connect(lambda _c=False, p=path: self.open_path(p))
        self.recent_menu.setEnabled(bool(self.settings.recent_files()))

    def about(self) -> None:
        import PySide6

        text = (f"<b>Ganvas {core.__version__}</b><br>Generative image editing from very little data.<br><br>"
                f"Python {platform.python_version()} · PyTorch {torch.__version__} · PySide6 {PySide6.__version__}"
                f"<br>Device: {describe_device(self.doc.model.device if self.doc.model else 'cpu')}")
        QMessageBox.about(self, "About Ganvas", text)
