"""Opening and saving: photos, models (read on a worker), the sample, exports, drag and drop.

A mixin of :class:`app.main_window.MainWindow`, so ``window.open_path``, ``window.save_model_to``
and ``window.export_indices_to`` stay the window's own commands for the menus, tests and the soak,
while the window file keeps to layout and wiring. Every command shows its errors (``show_error``)
and never raises; a model is read on a worker and a newer open drops an older load (a generation
counter, ``_model_load``). It uses the window's document, settings, jobs, canvas, gallery and panels.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QFileDialog, QMessageBox

import core
from app.bundled import SAMPLE_IMAGE, SAMPLE_MODEL  # package data (pip install . ships them)
from app.workers import describe_error
from core.checkpoints import MANIFEST_FILE, read_manifest
from core.images import IMAGE_SUFFIXES, read_image, save_image
from core.jobs import Cancelled, GanvasError
from core.singan.generate import model_warning
from core.singan.model import KIND as MODEL_KIND
from core.singan.model import SinGANModel, load_model, save_model
from widgets.gallery import caption_for

IMAGE_FILTER = "Images (" + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ")"


def load_checked_model(path: Path) -> tuple[SinGANModel, str]:
    """A model and its warning (saturated, or not reconstructing its photo; "" for a healthy one), both read
    on a worker."""
    model = load_model(path)
    return model, model_warning(model)


def export_stem(params: dict) -> str:
    """A file-name part that says what made the image: 'seed7' for a sample, 'paint' for a paint
    result, 'primitives-ps_3' for a Primitives tile (a paint result is not 'seed0')."""
    caption = caption_for(params) or "image"
    stem = caption.replace("seed ", "seed").replace(" #", "_")
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("_") or "image"


class FileCommands:
    """The File menu's commands and drag and drop onto the window."""

    _model_load = 0  # generation of the newest model load: an older one's result is dropped
    model_job = None  # the model load running on a worker, if any
    _preview_waits = False  # a photo's preview held back until the model being read arrives or fails

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
        self._model_load += 1  # a model still loading belongs to what was open before: its result is dropped
        self.model_job = None  # so nothing waits for it (the new photo's preview does not)
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

        def loaded(result: tuple[SinGANModel, str]) -> None:
            if generation == self._model_load:
                model, warning = result
                then(model, path)
                if warning:
                    self.show_error("Open model", f"{path.name}: {warning}")

        def failed(exc: BaseException) -> None:
            if generation == self._model_load and not isinstance(exc, Cancelled):
                self.show_error("Open model", describe_error(exc))

        def finished() -> None:
            if generation == self._model_load:
                self.model_job = None
                if self._preview_waits:
                    self._auto_preview()

        self.show_status(f"Opening model {path.name}…")
        self.model_job = self.jobs.submit(load_checked_model, path, name="Open model", on_result=loaded,
                                          on_error=failed, on_finished=finished)

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
        """The sample's model, and at once one of its images on the canvas: what the studio is for."""
        self.doc.set_model(model, path)
        self.generate_panel.request()
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

    def export_at_size_dialog(self, factor: int | None = None) -> None:
        """Ask where, then write the canvas's image ``factor`` (default: the Generate dock's choice) times larger
        on a worker (the Generate dock's export bar shows its progress and cancels it)."""
        shown, panel = self.doc.shown, self.generate_panel
        if shown is None:
            self.show_status("Generate or open an image first.")
            return
        factor = factor or panel.export_factor.currentData()
        name = f"ganvas_{export_stem(shown.params) if shown.params else 'image'}_x{factor}.png"
        path, _ = QFileDialog.getSaveFileName(self, f"Export at ×{factor}",
                                              str(Path(self.settings.last_dir("export")) / name), "PNG (*.png)")
        if path and self._confirm_overwrite(Path(path)):
            self.settings.set_last_dir("export", Path(path).parent)
            panel.export_at_size(path, shown.image, {**shown.params, "software": f"Ganvas {core.__version__}"}, factor)

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

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.open_path(urls[0])
            event.acceptProposedAction()
