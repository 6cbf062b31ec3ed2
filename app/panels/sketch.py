"""The Sketch panel: Sketch Your Own GAN in the studio.

Draw a handful of sketches (or import sketch images), collect them as reorderable thumbnails,
choose a base StyleGAN2 (the bundled one when this install has it, a folder, or a rosinality
checkpoint), fine-tune while fixed-seed before/after grids come in, stop when satisfied; then
explore the result (seeded sample grid, truncation, base vs fine-tuned on the same seeds, the
sketch map F(image) of every row, latent interpolation) and export samples (PNG + metadata), the
interpolation (GIF/MP4) and the model.

The widgets live in small group classes (``app/panels/sketch_groups.py``); this class assembles
them and runs the jobs: pretraining and fine-tuning through two :class:`~app.panels.base.JobBar`s
sharing one training monitor, everything else (opening and importing models, sample grids, exports)
through ``JobRunner``, never on the GUI thread. The interpolation slider goes through ``LatestOnly``
so dragging it never queues frames. The base is read-only; fine-tuning works on its own copy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QVBoxLayout, QWidget

from app.bundled import RESOURCES, SKETCH_BASE
from app.panels.base import JobBar, Panel
from app.panels.sketch_groups import ExploreGroup, PretrainGroup, SketchSetGroup, TuneGroup
from app.panels.sketch_transfer import TransferGroup, beside_samples
from app.workers import JobRunner, LatestOnly
from common.durations import format_rough
from core.jobs import Cancelled, Progress
from core.sketchgan.explore import (
    export_model,
    export_samples,
    interpolation_frames,
    sample_grid,
    save_gif,
    save_mp4,
    upscale_frames,
)
from core.sketchgan.finetune import trained_on_figures, tries_summary
from core.sketchgan.imports import import_rosinality
from core.sketchgan.model import StyleGANModel, interpolate, load_model
from core.sketchgan.pretrain import primitives_preset_of
from core.sketchgan.requests import PretrainRequest, TransferRequest, TuneRequest
from core.sketchgan.transfer import folder_grid
from core.sketchgan.tune_config import PRESETS, estimate_cpu_seconds
from widgets.training_monitor import TrainingMonitor

#: A tune longer than this on the CPU gets a warning under the base model.
LONG_TUNE_S = 15 * 60


def _interp_frame(model: StyleGANModel, seed_a: int, seed_b: int, t: float, truncation: float) -> np.ndarray:
    return interpolate(model, seed_a, seed_b, [t], truncation=truncation)[0]


def _tune(request: TuneRequest, *, progress=None, cancel=None) -> StyleGANModel:
    """Worker job: fine-tune (a stopped tune's last autosave travels as ``Cancelled.kept``)."""
    return request.run(progress, cancel)


def _train_base(request: PretrainRequest | TransferRequest, *, progress=None, cancel=None) -> StyleGANModel:
    """Worker job: pretrain or transfer a base, and read the saved model back (with its path)."""
    return load_model(request.run(progress, cancel).path)


def _import(path: str) -> StyleGANModel:
    """Worker job: import a rosinality checkpoint into a model folder next to it (``NAME.ganvas``)."""
    p = Path(path)
    return import_rosinality(p, p.with_name(p.stem + ".ganvas"))


def cost_note(model: StyleGANModel) -> str:
    """What fine-tuning this base costs on a CPU, and the way out when it is too long."""
    c = model.config
    cpu = estimate_cpu_seconds(c, PRESETS["cpu"])
    paper = estimate_cpu_seconds(c, PRESETS["paper"])
    if cpu < LONG_TUNE_S:
        return ""
    return (f"A {c.size} px model this wide takes about {format_rough(cpu / PRESETS['cpu'].iters)} per step on a "
            f"2-core CPU: ~{format_rough(cpu)} for the cpu preset, ~{format_rough(paper)} for the paper's. Tune it on a GPU "
            "with the command line (docs/sketchgan.md ▸ On a GPU).")


def tuned_model_folder(base: Path) -> Path:
    """Where a tune of ``base`` is saved by default: next to it, except for the bundled base, whose
    folder belongs to the install (read-only in many installs): then in the home folder."""
    parent = base.parent
    if parent.resolve().is_relative_to(RESOURCES.resolve()):
        parent = Path.home() / "ganvas-sketch"
    return parent / f"{base.name}-sketch"


class SketchPanel(Panel):
    tuningFinished = Signal(bool)  # True when a fine-tuned model is ready
    pretrainFinished = Signal(bool)  # True when a pretrained base is loaded
    transferFinished = Signal(bool)  # True when a transferred model is the base
    baseLoaded = Signal()
    gridReady = Signal()

    def __init__(self, jobs: JobRunner, parent: QWidget | None = None, *,
                 bundled_base: Path | None = SKETCH_BASE) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.live = LatestOnly(jobs, self)
        self.base: StyleGANModel | None = None
        self.tuned: StyleGANModel | None = None

        self.sketch_set = SketchSetGroup()
        self.pretrain = PretrainGroup()
        self.transfer = TransferGroup()
        self.tune = TuneGroup()
        self.explore = ExploreGroup()
        self.monitor = TrainingMonitor()
        self.monitor.setMinimumHeight(320)
        self.pretrain_bar = JobBar(jobs, "Pretrain / resume", monitor=self.monitor,
                                   cancel_tip="Stop pretraining; run again with the same folder to resume")
        self.pretrain_bar.lock(*self._settings(self.pretrain))  # before the bar joins the group
        self.pretrain.form.addRow(self.pretrain_bar)
        self.transfer_bar = JobBar(jobs, "Transfer / resume", monitor=self.monitor,
                                   cancel_tip="Stop the transfer; run again with the same Save-to folder to resume")
        self.transfer_bar.lock(*self._settings(self.transfer))
        self.transfer.form.addRow(self.transfer_bar)
        self.tune_bar = JobBar(jobs, "Start fine-tuning", primary=True, monitor=self.monitor,
                               cancel_tip="Stop fine-tuning; the last autosave stays usable")
        self.tune_bar.lock(*self._settings(self.tune))
        self.tune.form.addRow(self.tune_bar)
        # the exports: started by the Explore group's buttons, one after another, with progress and Cancel
        self.export_bar = JobBar(jobs, "", cancel_tip="Stop the export", queue=True)
        self.explore.layout().addRow(self.export_bar)
        self.grids = LatestOnly(jobs, self)  # sample grids: the newest request wins

        # No scroll area of its own: the window docks every workflow page in one (app/main_window.py),
        # and a second one inside hid the page's real minimum width, so a narrow dock cut it sideways.
        lay = QVBoxLayout(self)
        for w in (self.sketch_set, self.pretrain, self.transfer, self.tune, self.monitor, self.explore):
            lay.addWidget(w)
        lay.addStretch(1)

        self.sketch_set.changed.connect(self._update_buttons)
        self.sketch_set.status.connect(self.status)
        self.tune.base.openRequested.connect(self.load_base)
        self.tune.base.importRequested.connect(self.import_checkpoint)
        self.pretrain_bar.startRequested.connect(self.start_pretraining)
        self.tune_bar.startRequested.connect(self.start_tuning)
        self.transfer_bar.startRequested.connect(self.start_transfer)
        self.transfer.folderChosen.connect(self.show_folder)
        self.transfer.folder.textChanged.connect(self._update_buttons)
        for bar in (self.pretrain_bar, self.transfer_bar, self.tune_bar):
            bar.runningChanged.connect(self._update_buttons)
        for bar in (self.pretrain_bar, self.transfer_bar, self.tune_bar, self.export_bar):
            bar.said.connect(self.status)
        self.explore.sample_button.clicked.connect(lambda: self.sample())  # not clicked's bool
        self.explore.truncation.valueCommitted.connect(lambda _v: self.sample() if self.current_model() else None)
        self.explore.interp_slider.valueChanged.connect(self._interp_changed)
        self.explore.export_samples_button.clicked.connect(self._export_samples_dialog)
        self.explore.export_anim_button.clicked.connect(self._export_anim_dialog)
        self.explore.export_model_button.clicked.connect(self._export_model_dialog)
        self._update_buttons()
        if bundled_base is not None and (Path(bundled_base) / "manifest.json").exists():
            self.load_base(str(bundled_base), to_canvas=False)  # the canvas keeps the photo's sample
        else:
            self.tune.base.info.setText(
                "No base model is bundled with this install yet: pretrain one above (docs/sketchgan.md ▸ "
                "The bundled base), open a model folder or import a StyleGAN2 checkpoint.")

    @staticmethod
    def _settings(group: QWidget) -> list[QWidget]:
        """A group's inputs, locked while its job runs."""
        from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit

        kinds = (QComboBox, QLineEdit, QAbstractSpinBox, QAbstractButton)
        return [w for w in group.findChildren(QWidget) if isinstance(w, kinds)]

    # -- base model -------------------------------------------------------------------------------
    def load_base(self, path: str, to_canvas: bool = True) -> None:
        """Open a base model on a worker; its first sample grid goes to the dock, and to the canvas
        unless ``to_canvas`` is False (the bundled base opening at start)."""
        self.tune.base.path.setText(str(path))
        self.jobs.submit(load_model, str(path), name="Open base model",
                         on_result=lambda m: self._base_loaded(m, to_canvas))

    def import_checkpoint(self, path: str) -> None:
        """Import a rosinality StyleGAN2 checkpoint (on a worker) and make it the base."""
        self.status.emit(f"Importing {path}…")
        self.jobs.submit(_import, str(path), name="Import StyleGAN2 checkpoint", on_result=self._imported)

    def _imported(self, model: StyleGANModel) -> None:
        self.tune.base.path.setText(str(model.path))
        self._base_loaded(model)

    def set_base(self, model: StyleGANModel) -> None:
        self._base_loaded(model)

    def _base_loaded(self, model: StyleGANModel, to_canvas: bool = True) -> None:
        self.base, self.tuned = model, None
        c = model.config
        data = model.manifest.get("data") or {}
        trained_on = {"primitives": f"Primitives {primitives_preset_of(data)}", "folder": "an image folder"}.get(
            data.get("kind"), "unrecorded data (the image critic will see its samples)")
        self.tune.base.info.setText(
            f"{model.model_id}: {c.size} px, z {c.style_dim}, {c.n_mlp} mapping layers, trained on {trained_on}"
            f"{'' if model.discriminator is not None else ' — no discriminator: cannot be fine-tuned'}")
        self.tune.base.set_warning(cost_note(model))
        self.tune.show_auto_style(trained_on_figures(model))
        if not self.tune.out.text() and model.path is not None:
            self.tune.out.setText(str(tuned_model_folder(Path(model.path))))
        if to_canvas:  # opened by the user (the bundled base opens quietly at start)
            self.status.emit(f"Base model {model.model_id} loaded ({c.size} px)")
        self._update_buttons()
        self.baseLoaded.emit()
        self.sample(to_canvas)

    # -- pretraining ------------------------------------------------------------------------------
    def start_pretraining(self) -> None:
        out = self.pretrain.out.text().strip()
        if not out:
            self.status.emit("Choose a folder to save the base model in.")
            return
        cfg = self.pretrain.config()
        kind, primitives = self.pretrain.data_source()
        folder = self.pretrain.folder.text().strip() if kind == "folder" else None
        request = PretrainRequest(config=cfg, out=out, images=folder, primitives=primitives)
        self.pretrain_bar.run(_train_base, request, name="Pretraining", title=f"Pretraining a {cfg.model.size}px base",
                              on_progress=self._on_progress,
                              on_result=lambda m: self._new_base(m, self.pretrain_bar, "", self.pretrainFinished),
                              on_error=lambda e: self._base_job_failed(e, self.pretrain_bar, "Pretraining",
                                                                       self.pretrainFinished))

    def _new_base(self, model: StyleGANModel, bar: JobBar, said: str, finished: Signal) -> None:
        """A pretrained or transferred model becomes the base that sketch tuning starts from."""
        bar.finish(f"Done in {bar.elapsed_s:.0f} s{said}")
        self.tune.base.path.setText(str(model.path))
        self._base_loaded(model)
        finished.emit(True)

    def _base_job_failed(self, exc: BaseException, bar: JobBar, what: str, finished: Signal) -> None:
        if isinstance(exc, Cancelled):
            bar.fail("Stopped: run again with the same Save-to folder to resume", error=False)
        else:
            bar.fail(f"{what} failed: {bar.error_text(exc)}")
        finished.emit(False)

    # -- transfer to a folder of images ---------------------------------------------------------------
    def show_folder(self, folder: str) -> None:
        """Read the folder on a worker and show it as the transfer will see it (or say what is wrong)."""
        self._update_buttons()
        if not folder or self.base is None:
            return
        self.jobs.submit(folder_grid, folder, self.base.config.size, name="Read image folder",
                         on_result=self.transfer.set_folder_grid,
                         on_error=lambda exc: self.status.emit(f"Cannot use that folder: {exc}"))

    def start_transfer(self) -> None:
        t = self.transfer
        if self.base is None or not t.folder.text().strip() or not t.out.text().strip():
            self.status.emit("Open a base model, choose a folder of images and where to save the model.")
            return
        request = t.request(self.base)
        self.transfer_bar.run(_train_base, request, name="Transfer",
                              title=f"Transferring {self.base.model_id} to {request.images}",
                              on_progress=self._on_progress,
                              on_result=lambda m: self._new_base(m, self.transfer_bar, ": now the base for sketch tuning",
                                                                 self.transferFinished),
                              on_error=lambda e: self._base_job_failed(e, self.transfer_bar, "Transfer",
                                                                       self.transferFinished))

    # -- fine-tuning --------------------------------------------------------------------------------
    def start_tuning(self) -> None:
        if self.base is None:
            self.status.emit("Open a base model first.")
            return
        if not self.sketch_set.sketches() and not self.sketch_set.pad.is_blank():
            self.sketch_set.add_from_pad()
        sketches = self.sketch_set.sketches()
        if not sketches:
            self.status.emit("Add at least one sketch (4–8 work best).")
            return
        out = self.tune.out.text().strip() or None
        request = TuneRequest(base=self.base, sketches=sketches, config=self.tune.config(), out_dir=out)
        self.tune_bar.run(_tune, request, name="Sketch fine-tuning",
                          title=f"Fine-tuning on {len(sketches)} sketches", on_progress=self._on_progress,
                          on_result=self._on_tuned, on_error=self._on_tune_error)

    def stop(self) -> None:
        """Stop whichever training runs (the last autosave stays usable)."""
        self.pretrain_bar.cancel()
        self.transfer_bar.cancel()
        self.tune_bar.cancel()

    def _on_progress(self, p: Progress) -> None:
        if p.preview is not None:
            caption = f"step {p.step}"
            image = p.preview
            if p.stage.startswith("sketch fine-tuning"):
                caption += ": base (top two rows) | fine-tuned (bottom two), each with its sketch map"
            elif p.stage == "transfer":
                image = beside_samples(self.transfer.folder_image, p.preview)
                caption += ": your images (top) | samples (bottom)" if image is not p.preview else ": samples"
            self.monitor.set_preview(image, caption)

    def _on_tuned(self, model: StyleGANModel) -> None:
        self.tuned = model
        said = f"Done in {self.tune_bar.elapsed_s:.0f} s" + (f", saved to {model.path}" if model.path else "")
        checked = tries_summary(model.manifest)  # what the shape check found, if it ran
        self.tune_bar.finish(said + (f". {checked[:1].upper()}{checked[1:]}." if checked else ""))
        self.tuningFinished.emit(True)
        self.sample()

    def _on_tune_error(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            self.tune_bar.fail("Fine-tuning stopped", error=False)
            if exc.kept is not None:
                self.tuned = exc.kept
        else:
            self.tune_bar.fail(f"Fine-tuning failed: {self.tune_bar.error_text(exc)}")
        self.tuningFinished.emit(self.tuned is not None)

    # -- explore ---------------------------------------------------------------------------------------
    def current_model(self) -> StyleGANModel | None:
        return self.tuned or self.base

    def sample(self, to_canvas: bool = True) -> None:
        model = self.current_model()
        if model is None:
            return
        ex = self.explore
        base = self.base if (self.tuned is not None and ex.compare.isChecked()) else None
        sketches = ex.with_sketches.isChecked()
        self.grids.request(sample_grid, model, ex.seeds(), ex.truncation.value(), base=base, with_sketches=sketches,
                           name="Sample grid", on_result=lambda r: self._grid_ready(r, base is not None, sketches, to_canvas))

    def _grid_ready(self, result, compared: bool, sketches: bool, to_canvas: bool = True) -> None:
        grid, _samples = result
        self.explore.set_grid(grid, compared, sketches)
        model = self.current_model()
        params = {"engine": "stylegan2", "model": model.model_id if model else "", "seeds": self.explore.seeds(),
                  "truncation": self.explore.truncation.value()}
        if to_canvas:
            self.showImage.emit(grid, params)
        self.gridReady.emit()

    def _interp_changed(self, t: float) -> None:
        model = self.current_model()
        if model is None:
            return
        ex = self.explore
        self.live.request(_interp_frame, model, ex.seed_a.value(), ex.seed_b.value(), float(t), ex.truncation.value(),
                          on_result=ex.interp_view.set_image, name="Interpolate")

    # -- export -------------------------------------------------------------------------------------------
    def export_samples_to(self, folder: str) -> None:
        model = self.current_model()
        if model is None:
            return
        self.export_bar.run(export_samples, model, self.explore.seeds(), folder, self.explore.truncation.value(),
                            name="Export samples",
                            on_result=lambda paths: self.export_bar.finish(f"Exported {len(paths)} samples to {folder}"))

    def export_animation_to(self, path: str, frames: int = 24) -> None:
        model = self.current_model()
        if model is None:
            return
        ex = self.explore
        a, b, trunc = ex.seed_a.value(), ex.seed_b.value(), ex.truncation.value()

        def job(*, progress=None, cancel=None):
            f = upscale_frames(interpolation_frames(model, a, b, frames, trunc, progress=progress, cancel=cancel))
            return save_mp4(path, f) if path.lower().endswith(".mp4") else save_gif(path, f)

        self.export_bar.run(job, name="Export interpolation", on_result=lambda p: self.export_bar.finish(f"Wrote {p}"))

    def export_model_to(self, path: str) -> None:
        model = self.current_model()
        if model is None:
            return
        self.export_bar.run(export_model, model, path, name="Export model",
                            on_result=lambda p: self.export_bar.finish(f"Model saved to {p}"))

    def _export_samples_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export samples to")
        if folder:
            self.export_samples_to(folder)

    def _export_anim_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export interpolation", "interpolation.gif",
                                              "GIF (*.gif);;MP4 (*.mp4)")
        if path:
            self.export_animation_to(path)

    def _export_model_dialog(self) -> None:
        path = QFileDialog.getSaveFileName(self, "Export model folder", "sketch-model")[0]
        if path:
            self.export_model_to(path)

    # -- state ----------------------------------------------------------------------------------------------
    def _update_buttons(self, *_args) -> None:
        running = self.pretrain_bar.running or self.transfer_bar.running or self.tune_bar.running
        can_tune = self.base is not None and self.base.discriminator is not None
        self.tune_bar.set_ready(not running and can_tune and self.sketch_set.has_any())
        self.pretrain_bar.set_ready(not running)
        self.transfer_bar.set_ready(not running and self.base is not None and bool(self.transfer.folder.text().strip()))
        for b in self.explore.model_buttons():
            b.setEnabled(self.current_model() is not None)


__all__ = ["SketchPanel", "cost_note"]
