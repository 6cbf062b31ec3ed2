"""The studio window: canvas in the middle; Train, Generate, Gallery, Sketch and Spectrum docks around it."""

from __future__ import annotations

import platform
from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence, QUndoGroup
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QWidget,
)

import core
from app.bundled import SAMPLE_IMAGE, SAMPLE_MODEL  # package data (pip install . ships them)
from app.documents import Document
from app.panels.base import Panel
from app.panels.generate import GeneratePanel
from app.panels.spectrum import SpectrumPanel
from app.panels.train import TrainPanel
from app.responsiveness import freeze_startup_objects, warm_up_torch
from app.settings import Settings
from app.workers import JobRunner, describe_error
from core.checkpoints import MANIFEST_FILE, read_manifest
from core.device import describe_device, thread_policy
from core.images import IMAGE_SUFFIXES, palette_of, read_image, save_image
from core.jobs import Cancelled, GanvasError
from core.singan.model import KIND as MODEL_KIND
from core.singan.model import SinGANModel, load_model, save_model
from widgets.canvas import ImageCanvas
from widgets.gallery import Gallery, caption_for
from widgets.sketch_pad import SketchPad

IMAGE_FILTER = "Images (" + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ")"


def export_stem(params: dict) -> str:
    """A file-name part that says what made the image: 'seed7' for a sample, 'paint' for a paint
    result, 'primitives-ps_3' for a Primitives tile (a paint result is not 'seed0')."""
    import re

    caption = caption_for(params) or "image"
    stem = caption.replace("seed ", "seed").replace(" #", "_")
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("_") or "image"


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings | None = None, *, confirm_dialogs: bool = True) -> None:
        super().__init__()
        warm_up_torch()
        self.settings = settings or Settings()
        self.confirm_dialogs = confirm_dialogs  # tests turn modal dialogs off
        self.doc = Document(self)
        self.jobs = JobRunner(self)
        self.errors: list[str] = []
        self._model_load = 0  # generation of the newest model load: an older one's result is dropped
        self.model_job = None  # the model load running on a worker, if any
        self.setAcceptDrops(True)
        self.setWindowTitle("Ganvas")
        self.setDockNestingEnabled(True)

        self.canvas = ImageCanvas()
        self.setCentralWidget(self.canvas)
        self.train_panel = TrainPanel(self.jobs, self.doc)
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
        self.tabifyDockWidget(self.docks["Spectrum"], self.docks["Sketch pad"])
        self.docks["Spectrum"].raise_()
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
            area_widget.setMinimumWidth(min(widget.minimumSizeHint().width(), 300) + 16)
            widget = area_widget
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[title] = dock
        return dock

    def add_panel(self, title: str, panel: Panel, area=Qt.DockWidgetArea.LeftDockWidgetArea) -> QDockWidget:
        """Dock a workflow panel: the panel contract (app/panels/base.py) connects it to the window."""
        dock = self._dock(title, panel, area, scroll=True)
        self._connect_panel(panel)
        self.extra_panels.append(panel)
        self.view_menu.addAction(dock.toggleViewAction())
        return dock

    def _workflow_panels(self) -> None:
        """The later workflows (applications, Primitives, sketch GAN) as tabbed docks on the left."""
        from app.panels.primitives import PrimitivesPanel
        from app.panels.sketch import SketchPanel
        from app.panels.tasks import TasksPanel

        self.tasks_panel = TasksPanel(self.jobs, self.canvas)
        self.primitives_panel = PrimitivesPanel(self.jobs)
        self.sketch_panel = SketchPanel(self.jobs)
        previous = self.docks["Generate"]
        self.tabifyDockWidget(previous, self.docks["Train"])
        for title, panel in (("Tasks", self.tasks_panel), ("Primitives", self.primitives_panel),
                             ("Sketch GAN", self.sketch_panel)):
            self.add_panel(title, panel)
            self.tabifyDockWidget(previous, self.docks[title])
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
        self.train_panel.modelTrained.connect(lambda m, p: self.doc.set_model(m, p))
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
        self.generate_panel.trainRequested.connect(lambda: (self.docks["Train"].raise_(), self.train_panel.start(False)))

    def _auto_preview(self) -> None:
        if self.doc.model is None and self.generate_panel.previewing:
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

    # ------------------------------------------------------------------ files
    def open_path(self, path: str | Path) -> bool:
        """Open an image file or a model folder; errors are shown, never raised."""
        p = Path(path)
        try:
            if p.is_dir() or p.name == MANIFEST_FILE:
                return self.open_model(p)
            loaded = read_image(p)
        except GanvasError as exc:
            self.show_error("Open", str(exc))
            return False
        self._model_load += 1  # a model still loading belongs to what was open before
        self.doc.set_photo(loaded.rgb, p, loaded.notes)
        self.doc.set_model(None)
        self.canvas.zoom_fit()
        self.settings.add_recent(p)
        self.settings.set_last_dir("open", p)
        self._rebuild_recent()
        self.train_panel.refresh()
        note = f" ({'; '.join(loaded.notes)})" if loaded.notes else ""
        self.show_status(f"Opened {p.name}: {loaded.rgb.shape[1]}×{loaded.rgb.shape[0]}{note}")
        return True

    def load_model_async(self, path: Path, then) -> None:
        """Read a model on a worker (seconds for a big one: never on the GUI thread), then ``then(model,
        path)`` on the GUI thread; opening something else meanwhile drops it. Errors are shown."""
        self._model_load += 1
        generation = self._model_load

        def loaded(model: SinGANModel) -> None:
            if generation == self._model_load:
                then(model, path)

        def failed(exc: BaseException) -> None:
            if generation == self._model_load and not isinstance(exc, Cancelled):
                self.show_error("Open model", describe_error(exc))

        def finished() -> None:
            if generation == self._model_load:
                self.model_job = None

        self.show_status(f"Opening model {path.name}…")
        self.model_job = self.jobs.submit(load_model, path, name="Open model", on_result=loaded, on_error=failed,
                                          on_finished=finished)

    @property
    def loading_model(self) -> bool:
        return self.model_job is not None

    def open_model(self, path: str | Path) -> bool:
        """Open a model folder: its manifest is checked now (milliseconds: a folder that is no model
        says so at once and changes nothing), its tensors load on a worker and replace the open model
        when read (``wait_idle`` waits for them). True when the load started."""
        try:
            read_manifest(path, MODEL_KIND)
        except GanvasError as exc:
            self.show_error("Open model", str(exc))
            return False
        self.load_model_async(Path(path), self._model_opened)
        return True

    def _model_opened(self, model: SinGANModel, p: Path) -> None:
        if self.doc.photo is None or self.doc.photo.shape != model.image.shape or not np.array_equal(
                self.doc.photo, model.image):
            self.doc.set_photo(model.image, None)
            self.doc.photo_path = p
        self.doc.set_model(model, p)
        self.settings.add_recent(p)
        self._rebuild_recent()
        self.canvas.zoom_fit()
        self.show_status(f"Opened model {p.name}: {model.num_trained} scales on {model.device}")

    def open_sample(self) -> None:
        """The bundled photo at once, and its trained model once a worker has read it."""
        if self.open_path(SAMPLE_IMAGE) and SAMPLE_MODEL.exists():
            self.load_model_async(SAMPLE_MODEL, self._sample_model_loaded)

    def _sample_model_loaded(self, model: SinGANModel, path: Path) -> None:
        self.doc.set_model(model, path)
        self.show_status(f"Opened the sample and its model: {model.num_trained} scales on {model.device}")

    def open_image_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open image", self.settings.last_dir("open"), IMAGE_FILTER)
        if path:
            self.open_path(path)

    def open_model_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open model folder", self.settings.last_dir("model"))
        if path:
            self.settings.set_last_dir("model", Path(path).parent)
            self.open_model(path)

    def _rebuild_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.recent_files():
            a = self.recent_menu.addAction(path)
            a.triggered.connect(lambda _c=False, p=path: self.open_path(p))
        self.recent_menu.setEnabled(bool(self.settings.recent_files()))

    def _confirm_overwrite(self, path: Path) -> bool:
        if not path.exists() or not self.confirm_dialogs:
            return True
        answer = QMessageBox.question(self, "Overwrite?", f"'{path.name}' exists. Replace it?")
        return answer == QMessageBox.StandardButton.Yes

    def save_model_to(self, path: str | Path) -> bool:
        if self.doc.model is None:
            self.show_error("Save model", "There is no trained model to save yet.")
            return False
        p = Path(path)
        if not self._confirm_overwrite(p):
            return False
        try:
            save_model(self.doc.model, p)
        except GanvasError as exc:
            self.show_error("Save model", str(exc))
            return False
        self.doc.model_path = p
        self.settings.set_last_dir("model", p.parent)
        self.show_status(f"Saved model to {p}")
        return True

    def save_model_dialog(self) -> None:
        if self.doc.model is None:
            self.show_error("Save model", "There is no trained model to save yet.")
            return
        suggested = str(Path(self.settings.last_dir("model")) / f"{Path(self.doc.name).stem}.ganvas")
        path, _ = QFileDialog.getSaveFileName(self, "Save model as folder", suggested, "Ganvas model (*.ganvas)",
                                              options=QFileDialog.Option.DontConfirmOverwrite)
        if path:
            self.save_model_to(path)

    def export_image_to(self, path: str | Path, image: np.ndarray, params: dict) -> bool:
        p = Path(path)
        if not self._confirm_overwrite(p):
            return False
        meta = {k: v for k, v in params.items()}
        meta.setdefault("size", f"{image.shape[1]}x{image.shape[0]}")
        meta["software"] = f"Ganvas {core.__version__}"
        try:
            save_image(p, image, meta)
        except GanvasError as exc:
            self.show_error("Export", str(exc))
            return False
        self.settings.set_last_dir("export", p.parent)
        self.show_status(f"Exported {p.name}")
        return True

    def export_current_dialog(self) -> None:
        shown = self.doc.shown
        if shown is None:
            return
        name = f"ganvas_{export_stem(shown.params)}.png" if shown.params else "ganvas.png"
        path, _ = QFileDialog.getSaveFileName(self, "Export image", str(Path(self.settings.last_dir("export")) / name),
                                              "PNG (*.png);;JPEG (*.jpg);;WebP (*.webp)")
        if path:
            self.export_image_to(path, shown.image, shown.params)

    def export_indices_to(self, folder: str | Path, indices: list[int]) -> list[Path]:
        out = []
        for i in indices:
            params = self.gallery.params(i)
            p = Path(folder) / f"ganvas_{i:03d}_{export_stem(params)}.png"
            if self.export_image_to(p, self.gallery.image(i), params):
                out.append(p)
        return out

    def export_indices_dialog(self, indices: list[int]) -> None:
        if not indices:
            self.show_status("Select images in the gallery first.")
            return
        folder = QFileDialog.getExistingDirectory(self, "Export to folder", self.settings.last_dir("export"))
        if folder:
            done = self.export_indices_to(folder, indices)
            self.show_status(f"Exported {len(done)} image(s) to {folder}")

    def export_selected_dialog(self) -> None:
        self.export_indices_dialog(self.gallery.selected_indices())

    # ------------------------------------------------------------------ misc
    def about(self) -> None:
        import PySide6

        text = (f"<b>Ganvas {core.__version__}</b><br>Generative image editing from very little data.<br><br>"
                f"Python {platform.python_version()} · PyTorch {torch.__version__} · PySide6 {PySide6.__version__}"
                f"<br>Device: {describe_device(self.doc.model.device if self.doc.model else 'cpu')}")
        QMessageBox.about(self, "About Ganvas", text)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.open_path(urls[0])
            event.acceptProposedAction()

    def _restore_layout(self) -> None:
        geometry = self.settings.get("window/geometry")
        state = self.settings.get("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1440, 900)
        if isinstance(state, QByteArray) and self.restoreState(state):
            self._check_restored_layout = True  # once shown and laid out: see _rescue_canvas
            return
        # First launch: a canvas-first layout (workflow tabs left, spectrum right, a gallery strip below).
        QTimer.singleShot(0, self.default_dock_sizes)

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
