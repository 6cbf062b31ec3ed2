"""The studio window: canvas in the middle; Train, Generate, Gallery, Sketch and Spectrum docks around it.

This file lays the window out and wires documents, panels and widgets together; the File menu's
commands (open, save, export) are in :mod:`app.file_commands` and the menus and tool bar in
:mod:`app.actions`, both mixins of :class:`MainWindow`.
"""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import QByteArray, QRect, QSize, Qt, QTimer
from PySide6.QtGui import QUndoGroup
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFrame,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QTabBar,
    QWidget,
)

from app.actions import WindowActions
from app.documents import Document
from app.file_commands import FileCommands
from app.panels.base import Panel
from app.panels.generate import GeneratePanel
from app.panels.spectrum import SpectrumPanel
from app.panels.train import TrainPanel
from app.responsiveness import freeze_startup_objects, warm_up_torch
from app.settings import Settings
from app.workers import JobRunner, describe_error
from core.device import describe_device, thread_policy
from core.images import palette_of
from widgets.canvas import ImageCanvas
from widgets.gallery import Gallery
from widgets.sketch_pad import SketchPad

#: The workflow pages, tabbed together in the left dock area on first launch (in this order).
WORKFLOW_TABS = ("Generate", "Train", "Tasks", "Primitives", "Sketch GAN", "Dissect")
#: How much of the screen's free area a first launch takes (a saved geometry wins).
SCREEN_FRACTION = 0.8


def fit_to_screen(available: QRect, minimum: QSize | None = None, fraction: float = SCREEN_FRACTION) -> QRect:
    """``fraction`` of the screen's available area (less the task bar), centred on it; no smaller than
    ``minimum`` (the docks' pages whole) where the screen has room for that."""
    minimum = QSize(0, 0) if minimum is None else minimum
    w = min(available.width(), max(round(available.width() * fraction), minimum.width()))
    h = min(available.height(), max(round(available.height() * fraction), minimum.height()))
    rect = QRect(0, 0, w, h)
    rect.moveCenter(available.center())
    return rect


def page_width(page: QWidget, area: QScrollArea) -> int:
    """The width a scroll area needs to show ``page`` whole, with room for its vertical scroll bar."""
    return page.minimumSizeHint().width() + area.verticalScrollBar().sizeHint().width() + 2 * area.frameWidth()


def tab_strip_width(titles: tuple[str, ...]) -> int:
    """The width of a tab strip that shows every title in full (a QTabBar in the application's style)."""
    bar = QTabBar()
    bar.setDrawBase(False)
    for title in titles:
        bar.addTab(title)
    return bar.sizeHint().width()


class MainWindow(FileCommands, WindowActions, QMainWindow):
    def __init__(self, settings: Settings | None = None, *, confirm_dialogs: bool = True) -> None:
        super().__init__()
        warm_up_torch()
        self.settings = settings or Settings()
        self.confirm_dialogs = confirm_dialogs  # tests turn modal dialogs off
        self.doc = Document(self)
        self.jobs = JobRunner(self)
        self.errors: list[str] = []
        self.setAcceptDrops(True)
        self.setWindowTitle("Ganvas")
        self.setDockNestingEnabled(True)

        self.canvas = ImageCanvas()
        self.setCentralWidget(self.canvas)
        self.train_panel = TrainPanel(self.jobs, self.doc, self.settings)
        self.generate_panel = GeneratePanel(self.jobs)
        self.gallery = Gallery()
        self.sketch_pad = SketchPad(256, 256, own_shortcuts=False)
        self.spectrum_panel = SpectrumPanel(self.jobs)
        self.spectrum_panel.add_source("training photo", self._training_image)
        self.spectrum_panel.add_source("gallery", lambda: [self.gallery.image(i) for i in range(self.gallery.count())])

        self.docks: dict[str, QDockWidget] = {}
        self._dock("Train", self.train_panel, Qt.DockWidgetArea.LeftDockWidgetArea, scroll=True)
        self._dock("Generate", self.generate_panel, Qt.DockWidgetArea.LeftDockWidgetArea, scroll=True)
        self._dock("Gallery", self.gallery, Qt.DockWidgetArea.BottomDockWidgetArea)
        self._dock("Spectrum", self.spectrum_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self._dock("Sketch pad", self.sketch_pad, Qt.DockWidgetArea.RightDockWidgetArea)
        self.extra_panels: list[QWidget] = []

        self.undo_group = QUndoGroup(self)
        for stack in (self.canvas.undo_stack, self.sketch_pad.undo_stack):
            self.undo_group.addStack(stack)
        self.undo_group.setActiveStack(self.canvas.undo_stack)
        # Ctrl+Z / Edit ▸ Undo act on the widget the user works in: the active stack follows focus.
        QApplication.instance().focusChanged.connect(self._route_undo)

        self._status_labels()
        self._actions()
        self._connect()
        self._preview_wiring()
        self._workflow_panels()
        self._check_restored_layout = False  # set by _restore_layout: see showEvent
        self._restore_layout()
        self._update_title()
        freeze_startup_objects()

    # ------------------------------------------------------------------ layout
    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea, scroll: bool = False) -> QDockWidget:
        """Dock a widget; ``scroll`` puts a tall form panel in a scroll area so a narrow dock never squeezes the canvas."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.replace(' ', '_').lower()}")
        if scroll:
            area_widget = QScrollArea()
            area_widget.setWidgetResizable(True)
            area_widget.setFrameShape(QFrame.Shape.NoFrame)
            area_widget.setWidget(widget)
            # The page's whole minimum width (plus the vertical scroll bar): a dock that is narrower
            # cut the Primitives grid and the Sketch GAN page or scrolled them sideways.
            area_widget.setMinimumWidth(page_width(widget, area_widget))
            widget = area_widget
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[title] = dock
        return dock

    def _fit_tab_titles(self, titles: tuple[str, ...]) -> None:
        """Docks tabbed together are at least as wide as their tab strip with every title in full: the
        strip is as wide as the dock, and a narrower one elided them ("Gene…", "T…", "Primi…")."""
        need = tab_strip_width(titles)
        for title in titles:
            page = self.docks[title].widget()
            page.setMinimumWidth(max(page.minimumWidth(), need))

    def add_panel(self, title: str, panel: Panel, area=Qt.DockWidgetArea.LeftDockWidgetArea) -> QDockWidget:
        """Dock a workflow panel: the panel contract (app/panels/base.py) connects it to the window."""
        dock = self._dock(title, panel, area, scroll=True)
        self._connect_panel(panel)
        self.extra_panels.append(panel)
        self.view_menu.addAction(dock.toggleViewAction())
        return dock

    def _workflow_panels(self) -> None:
        """The later workflows (applications, Primitives, sketch GAN) as tabbed docks on the left."""
        from app.panels.dissect import DissectPanel
        from app.panels.primitives import PrimitivesPanel
        from app.panels.sketch import SketchPanel
        from app.panels.tasks import TasksPanel

        self.tasks_panel = TasksPanel(self.jobs, self.canvas)
        self.primitives_panel = PrimitivesPanel(self.jobs)
        self.sketch_panel = SketchPanel(self.jobs)
        self.dissect_panel = DissectPanel(self.jobs, self.canvas)
        for title, panel in (("Tasks", self.tasks_panel), ("Primitives", self.primitives_panel),
                             ("Sketch GAN", self.sketch_panel), ("Dissect", self.dissect_panel)):
            self.add_panel(title, panel)
        self._fit_tab_titles(WORKFLOW_TABS)
        self.generate_panel.scaleChanged.connect(self.tasks_panel.set_scale)
        # While the Primitives panel is on screen, its previews are a curve of the spectrum viewer
        # (the point of the P stage: compare their spectrum with a real photo's).
        self.spectrum_panel.add_source("Primitives previews", self._primitives_previews)
        # (visibilityChanged, not isVisible(): a dock behind another tab still reports isVisible().)
        self._primitives_on_screen = False
        self.primitives_panel.previewUpdated.connect(
            lambda _s: self._refresh_spectrum() if self._primitives_on_screen else None)
        self.docks["Primitives"].visibilityChanged.connect(self._primitives_visibility)
        self.docks["Generate"].raise_()

    def _status_labels(self) -> None:
        sb = self.statusBar()
        self.file_label, self.model_label, self.zoom_label, self.cursor_label = (QLabel() for _ in range(4))
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        # on the CPU: the thread policy's count (core/device.py), updated while training re-checks it
        self.device_label = QLabel(describe_device(device) if device.type != "cpu" else thread_policy.describe())
        self.device_label.setToolTip(f"Torch's CPU threads: {thread_policy.explain()}")
        for w in (self.file_label, self.model_label, self.cursor_label, self.zoom_label, self.device_label):
            sb.addPermanentWidget(w)

    def _connect_panel(self, panel: Panel) -> None:
        """The panel contract: what a panel shows goes to the canvas, the gallery and the status bar."""
        panel.showImage.connect(self.show_result)
        panel.addToGallery.connect(self.add_to_gallery)
        panel.status.connect(self.show_status)

    def _connect(self) -> None:
        self.jobs.errorOccurred.connect(self.show_error)
        self.doc.shownChanged.connect(self._shown_changed)
        self.doc.modelChanged.connect(self._model_changed)
        self.doc.photoChanged.connect(self._photo_changed)
        self.train_panel.modelTrained.connect(self._model_trained)
        for panel in (self.train_panel, self.generate_panel, self.spectrum_panel):
            self._connect_panel(panel)
        self.train_panel.deviceChanged.connect(self._device_changed)
        self.train_panel.trainingStateChanged.connect(lambda on: self.docks["Train"].raise_() if on else None)
        self.gallery.imageChosen.connect(self._gallery_chosen)
        self.gallery.exportRequested.connect(self.export_indices_dialog)
        self.canvas.zoomChanged.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f} %"))
        self.canvas.cursorMoved.connect(lambda x, y: self.cursor_label.setText(f"x {x}  y {y}"))

    # ------------------------------------------------------------------ state → view
    def _update_title(self) -> None:
        d = self.doc
        parts = [d.name]
        if d.photo is not None:
            parts.append(f"{d.photo.shape[1]}×{d.photo.shape[0]}")
        if d.model is not None:
            parts.append(f"model {d.model.model_id}")
        self.setWindowTitle(" · ".join(parts) + " — Ganvas")
        self.file_label.setText(" · ".join(parts[:2]) if d.photo is not None else "no photo")
        m = d.model
        self.model_label.setText("no model" if m is None else
                                 f"model {m.model_id} · {m.num_trained}/{m.num_scales} scales")

    def _photo_changed(self) -> None:
        """The sketch pad's swatches are the photo's main colours: k-means (~0.2 s) on a worker, applied
        when the photo is still the open one."""
        photo = self.doc.photo
        self._update_title()
        if photo is None:
            return

        def apply(palette: np.ndarray) -> None:
            if self.doc.photo is photo:
                self.sketch_pad.set_palette([tuple(int(v) for v in c) for c in palette])

        self.jobs.submit(palette_of, photo, 8, name="Photo palette", on_result=apply)

    def _model_changed(self) -> None:
        self.generate_panel.set_model(self.doc.model)
        for panel in self.extra_panels:
            if isinstance(panel, Panel):  # (the Sketch GAN panel has its own StyleGAN models)
                panel.set_model(self.doc.model)
        self._update_title()

    def _shown_changed(self) -> None:
        shown = self.doc.shown
        keep = self.canvas.image() is not None and self.canvas.image().shape == shown.image.shape
        self.canvas.set_image(shown.image, keep_view=keep)
        self.engine_label.setText(shown.params.get("engine", "photo" if not shown.params else "") if shown else "")
        self.spectrum_panel.set_image(shown.image)

    def _preview_wiring(self) -> None:
        """Patch-NN previews: a photo shows a preview as soon as it is open (no model needed); the status
        bar says which engine made the image on the canvas; Train SinGAN stays one click away."""
        self.engine_label = QLabel()
        self.engine_label.setToolTip("Which engine made the image on the canvas")
        self.statusBar().insertPermanentWidget(0, self.engine_label)
        self.doc.photoChanged.connect(lambda: self.generate_panel.set_photo(self.doc.photo))
        self.doc.photoChanged.connect(lambda: QTimer.singleShot(0, self._auto_preview))
        self.generate_panel.exportAtSizeRequested.connect(self.export_at_size_dialog)
        self.generate_panel.trainRequested.connect(lambda: (self.docks["Train"].raise_(), self.train_panel.start(False)))

    def _auto_preview(self) -> None:
        """A preview for a photo with no model; while a model is being read (the sample's), it waits for
        the outcome: the model's own sample replaces it, a failed read still gets it."""
        self._preview_waits = self.loading_model
        if self.doc.model is None and not self._preview_waits and self.generate_panel.previewing:
            self.generate_panel.request()

    def _model_trained(self, model, path) -> None:
        """Training ended (or was cancelled with scales kept): the model's first sample replaces the
        patch-NN preview on the canvas, as when a model is opened, so the user sees what was learnt."""
        said = self.statusBar().currentMessage()  # "Training done: … See the warning in the Train dock."
        self.doc.set_model(model, path)

        def say_training_again(text: str) -> None:  # the sample's own message would hide the training's
            if said and text.startswith(("Generated the", "Showing the")):
                self.show_status(f"{said} Its first sample is on the canvas.")

        self.generate_panel.status.connect(say_training_again, Qt.ConnectionType.SingleShotConnection)
        self.generate_panel.request()

    def show_result(self, image: np.ndarray, params: dict) -> None:
        self.doc.show(image, params, params.get("task", "result"))

    def add_to_gallery(self, image: np.ndarray, params: dict) -> None:
        full = self.gallery.count() >= self.gallery.max_images
        self.gallery.add_image(image, params)  # captioned by what made it (widgets.gallery.caption_for)
        if full:
            self.show_status(f"The gallery keeps the newest {self.gallery.max_images} images: the oldest was "
                             "removed (export the ones to keep).")
        self._refresh_spectrum()

    def _gallery_chosen(self, i: int) -> None:
        params = self.gallery.params(i)
        self.generate_panel.restore(params)
        self.doc.show(self.gallery.image(i), params, "gallery")

    def _training_image(self) -> list[np.ndarray]:
        """The photo as the model saw it (its finest scale), so its spectrum compares with samples pixel for pixel."""
        if self.doc.model is not None:
            return [self.doc.model.image]
        return [] if self.doc.photo is None else [self.doc.photo]

    def _primitives_previews(self) -> list[np.ndarray]:
        return list(self.primitives_panel.grid.images()) if self._primitives_on_screen else []

    def _primitives_visibility(self, on_screen: bool) -> None:
        self._primitives_on_screen = on_screen
        self._refresh_spectrum()

    def _refresh_spectrum(self) -> None:
        if self.docks["Spectrum"].isVisible():
            self.spectrum_panel.refresh()

    def _device_changed(self, text: str) -> None:
        if not torch.cuda.is_available():
            self.device_label.setText(text)

    def _route_undo(self, _old: QWidget | None, new: QWidget | None) -> None:
        """Point the undo group at the stack of the widget that took focus (sketch pad or canvas);
        focus elsewhere (a slider, a dock) keeps the last one, so Ctrl+Z still undoes the last stroke."""
        owners = ((self.sketch_pad, self.sketch_pad.undo_stack), (self.canvas, self.canvas.undo_stack))
        w = new
        while w is not None:
            for owner, stack in owners:
                if w is owner:
                    if self.undo_group.activeStack() is not stack:
                        self.undo_group.setActiveStack(stack)
                    return
            w = w.parentWidget()

    def show_photo(self) -> None:
        if self.doc.photo is not None:
            self.doc.show(self.doc.photo, {}, "photo")

    def show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    def show_error(self, title: str, message: str) -> None:
        """A readable message, never a traceback; non-modal so work goes on."""
        self.errors.append(f"{title}: {message}")
        self.statusBar().showMessage(f"{title}: {message}", 15000)
        if self.confirm_dialogs:
            box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()

    # ------------------------------------------------------------------ misc
    def _restore_layout(self) -> None:
        geometry = self.settings.get("window/geometry")
        state = self.settings.get("window/state")
        restored = isinstance(geometry, QByteArray) and self.restoreGeometry(geometry)
        # The saved state is restored before any dock is tabified: tab bars made by tabifyDockWidget
        # before a restoreState stayed on screen as stray, dead tab strips over the Train panel.
        if isinstance(state, QByteArray) and self.restoreState(state):
            self._check_restored_layout = True  # once shown and laid out: see _rescue_canvas
        else:
            self._default_tabs()
            QTimer.singleShot(0, self.default_dock_sizes)
        if not restored:  # once the docks are placed: the minimum size is that of their layout
            self.setGeometry(fit_to_screen(self.screen().availableGeometry(), self.minimumSizeHint()))

    def _default_tabs(self) -> None:
        """First launch: a canvas-first layout (workflow tabs left, spectrum right, a gallery strip below)."""
        left = self.docks["Generate"]
        for title in WORKFLOW_TABS[1:]:
            self.tabifyDockWidget(left, self.docks[title])
        self.tabifyDockWidget(self.docks["Spectrum"], self.docks["Sketch pad"])
        left.raise_()
        self.docks["Spectrum"].raise_()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._check_restored_layout:
            self._check_restored_layout = False
            QTimer.singleShot(0, self._rescue_canvas)

    def _rescue_canvas(self) -> None:
        """A saved layout whose docks squeeze the canvas to a strip (e.g. saved while a panel of an older
        version was too wide) falls back to the default dock sizes; a sensible saved layout stays."""
        if self.canvas.width() < 0.3 * self.width():
            self.default_dock_sizes()

    def default_dock_sizes(self) -> None:
        width = self.width()
        self.resizeDocks([self.docks["Generate"], self.docks["Spectrum"]],
                         [max(400, width // 4), max(400, width * 3 // 10)], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["Gallery"]], [150], Qt.Orientation.Vertical)

    def closeEvent(self, event) -> None:
        if self.train_panel.running and self.confirm_dialogs:
            answer = QMessageBox.question(self, "Training is running",
                                          "Stop training and quit? Finished scales are autosaved; Resume continues.")
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.settings.set("window/geometry", self.saveGeometry())
        self.settings.set("window/state", self.saveState())
        self.jobs.cancel_all()
        self.jobs.wait(10000)
        event.accept()

    def wait_idle(self, timeout_s: float = 60.0) -> None:
        """Process events until no job runs (for tests and the screenshot mode)."""
        import time

        from PySide6.QtWidgets import QApplication

        end = time.monotonic() + timeout_s
        while (self.jobs.jobs or self.generate_panel.live.busy or self.spectrum_panel.busy) and \
                time.monotonic() < end:
            QApplication.processEvents()
            QTimer.singleShot(0, lambda: None)
            time.sleep(0.005)
        QApplication.processEvents()


__all__ = ["MainWindow", "describe_error"]
