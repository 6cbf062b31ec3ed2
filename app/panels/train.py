"""The Train dock: preset, size, device, Train / Cancel / Resume, and the training monitor."""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QStandardPaths, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.documents import Document
from app.responsiveness import StallMeter
from app.workers import JobRunner
from core.checkpoints import CheckpointError, read_manifest
from core.device import available_devices
from core.images import image_hash
from core.jobs import Cancelled, Progress
from core.singan.config import PRESETS, preset
from core.singan.train import train_singan
from widgets.training_monitor import TrainingMonitor


def autosave_dir(photo_hash: str, preset_name: str, max_size: int) -> Path:
    """Where a training run of this photo and these settings autosaves (so Resume finds it after a crash)."""
    base = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)) / "autosave"
    key = hashlib.sha256(f"{photo_hash}-{preset_name}-{max_size}".encode()).hexdigest()[:16]
    return base / f"{key}.ganvas"


class TrainPanel(QWidget):
    status = Signal(str)
    modelTrained = Signal(object, object)  # SinGANModel, autosave Path
    trainingStateChanged = Signal(bool)

    def __init__(self, jobs: JobRunner, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs, self.doc = jobs, document
        self.job = None
        self.stall = StallMeter(self)
        self.longest_stall_ms = 0.0

        self.preset = QComboBox()
        for name in PRESETS:
            self.preset.addItem(name)
        self.preset.setToolTip("paper: the published defaults (slow on a CPU)\nfast: fewer scales and iterations, for CPUs")
        self.max_size = QSpinBox()
        self.max_size.setRange(32, 2048)
        self.max_size.setSingleStep(16)
        self.max_size.setSuffix(" px")
        self.max_size.setToolTip("Longer side of the finest scale (the paper uses 250 px)")
        self.device = QComboBox()
        self.device.addItems(available_devices())
        self.device.setToolTip("CUDA appears only when torch sees a GPU")
        form = QFormLayout()
        form.addRow("Preset", self.preset)
        form.addRow("Max size", self.max_size)
        form.addRow("Device", self.device)

        self.train_btn = QPushButton("Train")
        self.train_btn.setObjectName("primary")
        self.train_btn.setToolTip("Train a SinGAN on the open photo (Ctrl+T)")
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setToolTip("Stop training; finished scales are kept (Esc)")
        self.resume_btn = QPushButton("Resume")
        self.resume_btn.setToolTip("Continue an interrupted training from its last finished scale")
        buttons = QHBoxLayout()
        for b in (self.train_btn, self.resume_btn, self.cancel_btn):
            buttons.addWidget(b)

        self.monitor = TrainingMonitor()
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addWidget(self.monitor, 1)

        self.train_btn.clicked.connect(lambda: self.start(resume=False))
        self.resume_btn.clicked.connect(lambda: self.start(resume=True))
        self.cancel_btn.clicked.connect(self.cancel)
        self.monitor.cancelRequested.connect(self.cancel)
        self.monitor.resumeRequested.connect(lambda: self.start(resume=True))
        self.preset.currentTextChanged.connect(self._preset_changed)
        self.max_size.valueChanged.connect(lambda _v: self.refresh())
        self.doc.photoChanged.connect(self.refresh)
        self.preset.setCurrentText("fast")
        self._preset_changed("fast")

    # ------------------------------------------------------------ state
    def _preset_changed(self, name: str) -> None:
        self.max_size.setValue(PRESETS[name].max_size if name == "paper" else 128)
        self.refresh()

    def config(self):
        return preset(self.preset.currentText(), max_size=self.max_size.value())

    def out_dir(self) -> Path | None:
        if self.doc.photo is None:
            return None
        return autosave_dir(image_hash(self.doc.photo), self.preset.currentText(), self.max_size.value())

    def resumable(self) -> bool:
        out = self.out_dir()
        if out is None or not out.exists():
            return False
        try:
            return not read_manifest(out).get("complete", True)
        except CheckpointError:
            return False

    @property
    def running(self) -> bool:
        return self.job is not None

    def refresh(self) -> None:
        running = self.running
        has_photo = self.doc.photo is not None
        self.train_btn.setEnabled(has_photo and not running)
        can_resume = has_photo and not running and self.resumable()
        self.resume_btn.setEnabled(can_resume)
        self.monitor.set_resume_available(can_resume)
        self.cancel_btn.setEnabled(running)
        for w in (self.preset, self.max_size, self.device):
            w.setEnabled(not running)

    # ------------------------------------------------------------ actions
    def start(self, resume: bool = False) -> None:
        if self.doc.photo is None or self.running:
            return
        cfg = self.config()
        out = self.out_dir()
        self.monitor.start(f"{'Resuming' if resume else 'Training'} {self.doc.name} · {cfg.preset} · {cfg.max_size} px")
        self.stall.start()
        self.job = self.jobs.submit(
            train_singan, self.doc.photo, cfg, out_dir=out, resume=resume, device=self.device.currentText(),
            seed=0, name="Training", on_progress=self._progress, on_result=self._done, on_error=self._failed,
            on_finished=self._finished,
        )
        self.trainingStateChanged.emit(True)
        self.refresh()
        self.status.emit("Training started: autosaving after every scale.")

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.status.emit("Cancelling training…")

    def _progress(self, p: Progress) -> None:
        self.monitor.update_progress(p.stage, p.stage_index, p.stage_count, p.step, p.total, p.rate, p.eta_s,
                                     p.metrics)
        if p.preview is not None:
            self.monitor.set_preview(p.preview, f"sample after scale {p.stage_index + 1}/{p.stage_count}")
        self.longest_stall_ms = max(self.longest_stall_ms, self.stall.longest_ms)
        self.monitor.set_note(f"Longest GUI stall during training: {self.stall.longest_ms:.0f} ms")

    def _done(self, model) -> None:
        total = sum(model.scale_seconds)
        self.monitor.finish(f"Done: {model.num_scales} scales in {total:.0f} s")
        self.modelTrained.emit(model, self.out_dir())

    def _failed(self, exc: BaseException) -> None:
        from app.workers import describe_error

        if isinstance(exc, Cancelled):
            partial = getattr(exc, "model", None)
            kept = partial.num_trained if partial is not None else 0
            self.monitor.fail(f"Cancelled. {kept} finished scale(s) kept; Resume continues from there.")
            if partial is not None and kept > 0:
                self.modelTrained.emit(partial, self.out_dir())
        else:
            self.monitor.fail(describe_error(exc))
            self.jobs.errorOccurred.emit("Training", describe_error(exc))

    def _finished(self) -> None:
        self.stall.stop()
        self.longest_stall_ms = max(self.longest_stall_ms, self.stall.longest_ms)
        self.job = None
        self.trainingStateChanged.emit(False)
        self.refresh()
