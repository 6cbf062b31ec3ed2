"""The Train dock: preset (with its description and the time it should take here), size, coarsest
side, device, Train / Resume / Cancel (a :class:`~app.panels.base.JobBar`), and the training monitor."""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.documents import Document
from app.panels.base import JobBar, Panel
from app.responsiveness import StallMeter
from app.settings import Settings
from app.workers import JobRunner, LatestOnly, describe_error
from core.checkpoints import CheckpointError
from core.device import available_devices, pick_device, thread_policy, use_thread_policy
from core.images import image_hash
from core.jobs import Cancelled, GanvasError, Progress
from core.singan.config import (
    DEFAULT_PRESET,
    PRESET_DESCRIPTIONS,
    PRESETS,
    SinGANConfig,
    training_threads,
)
from core.singan.estimate import estimate_seconds_by_size
from core.singan.model import model_summary
from core.singan.train_request import TrainPlan, TrainRequest, scales_done, train_config
from widgets.training_monitor import TrainingMonitor


def own_coarsest(preset_name: str, min_size: int | None) -> bool:
    """Whether ``min_size`` is a coarsest side of the user's, not the preset's own."""
    return min_size is not None and (preset_name not in PRESETS or min_size != PRESETS[preset_name].min_size)


def autosave_dir(photo_hash: str, preset_name: str, max_size: int, min_size: int | None = None) -> Path:
    """Where a training run of this photo and these settings autosaves (so Resume finds it after a crash).
    A coarsest side other than the preset's has its own place; the preset's keeps the key it always had,
    so runs interrupted before the dock offered the setting still resume."""
    base = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)) / "autosave"
    settings = f"{photo_hash}-{preset_name}-{max_size}" + (f"-{min_size}" if own_coarsest(preset_name, min_size) else "")
    key = hashlib.sha256(settings.encode()).hexdigest()[:16]
    return base / f"{key}.ganvas"


def train_job(request: TrainRequest, plan: TrainPlan, *, progress=None, cancel=None):
    """The request run on the worker thread (the thread policy is set there: OpenMP settings are per thread)."""
    return request.run(plan, progress, cancel)


def preset_tooltip() -> str:
    """One line per preset, from the presets and their descriptions (core/singan/config.py)."""
    return "\n".join(f"{name}: {PRESET_DESCRIPTIONS.get(name, '')} ({c.max_size} px, {c.iters} iterations per "
                     f"scale, {c.nfc}–{c.max_nfc} channels)" + (" — the default" if name == DEFAULT_PRESET else "")
                     for name, c in PRESETS.items())


#: The sizes whose training time the dock lists next to the chosen one (those the photo is large enough for).
SIZE_CHOICES = (128, 250, 500)


def estimate_job(config: SinGANConfig, height: int, width: int, device: str) -> dict[int, float]:
    """``estimate_seconds_by_size`` (the chosen size and the listed ones) on a worker thread, under the
    thread policy training applies there, so the few measured iterations run as the training's would."""
    use_thread_policy(device, limit=training_threads(config))
    sizes = [s for s in SIZE_CHOICES if s <= max(height, width)]
    return estimate_seconds_by_size(config, height, width, sizes, pick_device(device))


def duration_text(seconds: float) -> str:
    """'40 s', '4 min', '2 h 10 min'."""
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    h, m = divmod(round(seconds / 60), 60)
    return f"{h} h {m} min" if m else f"{h} h"


def estimate_text(seconds: float) -> str:
    """'≈ 40 s', '≈ 4 min', '≈ 2 h 10 min' (estimated on this machine)."""
    return f"≈ {duration_text(seconds)} (estimated on this machine)"


def sizes_text(seconds: dict[int, float], chosen: int) -> str:
    """The listed sizes and their times, a table in rich text: the chosen one bold, the others links that choose them."""
    rows = (f"<tr><td><b>{s} px</b></td><td>&nbsp;&nbsp;<b>≈ {duration_text(t)}</b></td></tr>" if s == chosen else
            f"<tr><td><a href='{s}'>{s} px</a></td><td>&nbsp;&nbsp;≈ {duration_text(t)}</td></tr>"
            for s, t in sorted(seconds.items()))
    return "<table cellspacing='0' cellpadding='1'>" + "".join(rows) + "</table>"


#: Quiet time after the last preset / size change before the estimate is measured.
ESTIMATE_SETTLE_MS = 300


class TrainPanel(Panel):
    modelTrained = Signal(object, object)  # SinGANModel, autosave Path
    trainingStateChanged = Signal(bool)
    deviceChanged = Signal(str)  # 'CPU · 1 thread' when the thread policy changes the count

    def __init__(self, jobs: JobRunner, document: Document, settings: Settings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs, self.doc = jobs, document
        self._settings: Settings | None = None  # set once the saved choices are restored (the defaults are not saved)
        self.stall = StallMeter(self)
        self.longest_stall_ms = 0.0

        self.preset = QComboBox()
        for name in PRESETS:  # the preset's name is the item data; its description the item's tooltip
            self.preset.addItem(name, name)
            self.preset.setItemData(self.preset.count() - 1, PRESET_DESCRIPTIONS.get(name, ""),
                                    Qt.ItemDataRole.ToolTipRole)
        self.preset.setToolTip(preset_tooltip())
        self.preset_info = QLabel()
        self.preset_info.setObjectName("hint")
        self.preset_info.setWordWrap(True)
        self.estimate = QLabel("Open a photo to see how long training takes.")
        self.estimate.setObjectName("hint")
        self.estimate.setWordWrap(True)
        self.estimate.setToolTip("Measured by running a few real training iterations of this preset and size now; "
                                 "other work on the machine changes it")
        self.size_times = QLabel()  # every listed size's time, from the same measurement; a click picks one
        self.size_times.setObjectName("hint")
        self.size_times.setTextFormat(Qt.TextFormat.RichText)
        self.size_times.setToolTip("Training time at other sizes, from the same measurement; click a size to choose it")
        self.size_times.linkActivated.connect(lambda size: self.max_size.setValue(int(size)))
        self.max_size = QSpinBox()
        self.max_size.setRange(32, 2048)
        self.max_size.setSingleStep(16)
        self.max_size.setSuffix(" px")
        self.max_size.setToolTip("Longer side of the finest scale (the paper uses 250 px)")
        self.min_size = QSpinBox()
        self.min_size.setRange(11, 2048)  # 11 px: the generator's receptive field (SinGANConfig checks it)
        self.min_size.setSuffix(" px")
        self.min_size.setToolTip(
            "Shorter side of the coarsest scale, where the layout is drawn (the presets use 25 px).\n"
            "Smaller (12–16 px): the coarsest generator sees most of the picture, so a scene holds\n"
            "together (sky above, ground below), with less variety and more copying of the photo.\n"
            "16 px measured better for random samples (Scale 0) on all four bench photos, but worse\n"
            "on textures started from the photo (Scale in the middle, edit, harmonize).\n"
            "Larger: more new arrangements of the photo's parts. Training time hardly changes.")
        self.device = QComboBox()
        self.device.addItems(available_devices())
        self.device.setToolTip("CUDA appears only when torch sees a GPU")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Seed of the networks' initialisation and the fixed noise: another seed trains "
                             "another model of the same photo (try one when a scale saturates)")
        form = QFormLayout()
        form.addRow("Preset", self.preset)
        form.addRow("", self.preset_info)
        form.addRow("Max size", self.max_size)
        form.addRow("Coarsest", self.min_size)
        form.addRow("Device", self.device)
        form.addRow("Seed", self.seed)
        form.addRow("Time", self.estimate)
        form.addRow("", self.size_times)

        self.monitor = TrainingMonitor()
        # Train / Resume / Cancel: the dock's job bar (the monitor's own Resume / Cancel are hidden).
        self.bar = JobBar(jobs, "Train", start_tip="Train a SinGAN on the open photo (Ctrl+T)",
                          cancel_tip="Stop training; finished scales are kept (Esc)", primary=True,
                          monitor=self.monitor)
        self.resume_btn = QPushButton("Resume")
        self.resume_btn.setToolTip("Continue an interrupted training from its last finished scale (Ctrl+Shift+T)")
        self.bar.add_button(self.resume_btn)
        self.bar.lock(self.preset, self.max_size, self.min_size, self.device, self.seed)
        self.train_btn, self.cancel_btn = self.bar.start_button, self.bar.cancel_button
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        # Memory guard (core/singan/memory.py): shown only when this preset and size may not fit in memory.
        self.memory_note = QLabel()
        self.memory_note.setObjectName("memoryWarning")
        self.memory_note.setWordWrap(True)
        self.memory_note.setStyleSheet("color: #f0b44c;")
        self.memory_note.hide()
        lay.addWidget(self.memory_note)
        lay.addWidget(self.bar)
        # After a warning (a saturated scale, a model that does not reconstruct its photo): the advice, one click.
        self.next_seed_btn = QPushButton()
        self.next_seed_btn.setToolTip("Start over with the next seed: another model of the same photo, with the "
                                      "same preset and size (the autosave of this photo and settings is replaced)")
        self.next_seed_btn.hide()
        self._run_seed = 0  # the seed of the latest run
        lay.addWidget(self.next_seed_btn)
        lay.addWidget(self.monitor, 1)

        # The expected training time, measured in a worker; coalesced: it runs once the settings have
        # been still for ESTIMATE_SETTLE_MS, only the newest request runs, and results are cached.
        self._estimates = LatestOnly(jobs, self)
        self._estimated: dict[tuple, float] = {}
        self._estimate_timer = QTimer(self)
        self._estimate_timer.setSingleShot(True)
        self._estimate_timer.setInterval(ESTIMATE_SETTLE_MS)
        self._estimate_timer.timeout.connect(self._request_estimate)

        self.bar.startRequested.connect(lambda: self.start(resume=False))
        self.bar.runningChanged.connect(self._running_changed)
        self.bar.said.connect(self.status)
        self.resume_btn.clicked.connect(lambda: self.start(resume=True))
        self.next_seed_btn.clicked.connect(self.train_with_next_seed)
        self.preset.currentIndexChanged.connect(lambda _i: self._preset_changed(self.preset_name()))
        self.max_size.valueChanged.connect(self.min_size.setMaximum)  # the coarsest side is never the larger
        self.max_size.valueChanged.connect(lambda _v: self.refresh())
        self.min_size.valueChanged.connect(lambda _v: self.refresh())
        self.device.currentIndexChanged.connect(lambda _i: self.refresh())
        for box in (self.max_size, self.min_size, self.seed):
            box.valueChanged.connect(lambda _v: self._remember())
        self.doc.photoChanged.connect(self.refresh)
        self._last_device = ""
        self.preset.setCurrentIndex(self.preset.findData(DEFAULT_PRESET))
        self._preset_changed(DEFAULT_PRESET)
        if settings is not None:
            self._restore(settings.train_choices())
            self._settings = settings

    def heightForWidth(self, width: int) -> int:  # Qt override
        """Only the minimum: the dock's scroll area asks this (the monitor's word-wrapped labels make
        the layout height-for-width) and took the *preferred* height, so a 1440×900 window scrolled a
        dock that fits; the plot shrinks instead, and scrolling starts below the minimum."""
        return self.minimumSizeHint().height()

    # ------------------------------------------------------------ state
    def preset_name(self) -> str:
        """The chosen preset's name (the combo's item data)."""
        return self.preset.currentData() or DEFAULT_PRESET

    def _preset_changed(self, name: str) -> None:
        if name in PRESETS:
            boxes = (self.max_size, self.min_size)
            blocked = [box.blockSignals(True) for box in boxes]  # one refresh below, not three
            self.max_size.setValue(PRESETS[name].max_size)
            self.min_size.setMaximum(self.max_size.value())
            self.min_size.setValue(PRESETS[name].min_size)
            for box, was in zip(boxes, blocked):
                box.blockSignals(was)
        self.preset_info.setText(PRESET_DESCRIPTIONS.get(name, ""))
        self._remember()
        self.refresh()

    def _restore(self, saved: dict[str, object]) -> None:
        """The last session's preset, sizes and seed, so that Resume finds a run made at a size of the
        user's after a restart. A value the settings file garbles is skipped (the preset's stays)."""
        if saved.get("preset") in PRESETS:
            self.preset.setCurrentIndex(self.preset.findData(saved["preset"]))  # resets the sizes to its own
        for box, key in ((self.max_size, "max_size"), (self.min_size, "min_size"), (self.seed, "seed")):
            try:
                box.setValue(int(saved[key]))
            except (KeyError, TypeError, ValueError):
                pass

    def _remember(self) -> None:
        """Store the choices when one changes (sizes only where they differ from the preset's)."""
        if self._settings is None:
            return
        name, own = self.preset_name(), PRESETS.get(self.preset_name())
        self._settings.set_train_choices({
            "preset": name,
            "max_size": None if own and self.max_size.value() == own.max_size else self.max_size.value(),
            "min_size": self.min_size.value() if own_coarsest(name, self.min_size.value()) else None,
            "seed": self.seed.value() or None,
        })

    def request(self, resume: bool = False) -> TrainRequest | None:
        """The training the dock's settings describe (None without a photo): the same request the
        ``train`` command builds (core/singan/train_request.py)."""
        if self.doc.photo is None:
            return None
        return TrainRequest(image=self.doc.photo, out_dir=self.out_dir(), preset=self.preset_name(),
                            settings=self.config(), seed=self.seed.value(), device=self.device.currentText(),
                            resume=resume, source=str(self.doc.photo_path or self.doc.name))

    def config(self) -> SinGANConfig:
        return train_config(self.preset_name(), max_size=self.max_size.value(), min_size=self.min_size.value())

    def out_dir(self) -> Path | None:
        if self.doc.photo is None:
            return None
        return autosave_dir(image_hash(self.doc.photo), self.preset_name(), self.max_size.value(),
                            self.min_size.value())

    def autosaved(self) -> dict | None:
        """The manifest of an interrupted (partial) training of this photo with these settings, or None."""
        out = self.out_dir()
        if out is None or not out.exists():
            return None
        try:
            manifest = model_summary(out)
        except CheckpointError:
            return None
        done = int(manifest.get("num_trained", 0))
        return manifest if 0 < done < len(manifest.get("shapes", [])) else None

    def resumable(self) -> bool:
        return self.autosaved() is not None

    def ask_start_over(self, done: int, total: int) -> str:
        """Training over an interrupted run: 'resume', 'restart' or 'cancel' (a question box)."""
        box = QMessageBox(QMessageBox.Icon.Question, "Interrupted training found",
                          f"This photo has an interrupted training with these settings: {done} of {total} scales "
                          "are autosaved.\n\nResume it, or start over (the autosave is replaced)?", parent=self)
        resume = box.addButton("Resume", QMessageBox.ButtonRole.AcceptRole)
        restart = box.addButton("Start over", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(resume)
        box.exec()
        clicked = box.clickedButton()
        return "resume" if clicked is resume else "restart" if clicked is restart else "cancel"

    @property
    def job(self):
        """The running training's Job, or None."""
        return self.bar.job

    @property
    def running(self) -> bool:
        return self.bar.running

    def refresh(self) -> None:
        running = self.running
        has_photo = self.doc.photo is not None
        self.bar.set_ready(has_photo)
        can_resume = has_photo and not running and self.resumable()
        self.resume_btn.setEnabled(can_resume)
        self.monitor.set_resume_available(can_resume)
        self._check_memory()
        if not running:  # measuring while training runs would slow it and measure a busy machine
            self._estimate_timer.start()

    # ------------------------------------------------------------ expected time
    def _estimate_key(self) -> tuple | None:
        if self.doc.photo is None:
            return None
        h, w = self.doc.photo.shape[:2]
        return self.config(), h, w, self.device.currentText()

    def _request_estimate(self) -> None:
        key = self._estimate_key()
        if key is None:
            self.estimate.setText("Open a photo to see how long training takes.")
            self.size_times.clear()
            return
        if key in self._estimated:
            self._show_estimate(self._estimated[key], key[0].max_size)
            return
        self.estimate.setText("measuring…")

        def show(seconds: dict[int, float], key: tuple = key) -> None:
            self._estimated[key] = seconds
            if key == self._estimate_key():
                self._show_estimate(seconds, key[0].max_size)

        def failed(exc: BaseException, key: tuple = key) -> None:
            if key == self._estimate_key():  # a photo too small for the preset: start() says why
                self.estimate.setText("—" if isinstance(exc, GanvasError) else describe_error(exc))
                self.size_times.clear()

        self._estimates.request(estimate_job, *key, on_result=show, on_error=failed, name="Estimate", key=key)

    def _show_estimate(self, seconds: dict[int, float], chosen: int) -> None:
        self.estimate.setText(estimate_text(seconds[chosen]))
        self.size_times.setText(sizes_text(seconds, chosen) if len(seconds) > 1 else "")

    @property
    def estimating(self) -> bool:
        """An estimate is waiting for the settings to settle, or being measured."""
        return self._estimate_timer.isActive() or self._estimates.busy

    def _check_memory(self) -> None:
        """Warn before training when the estimated peak exceeds the memory the machine has (CPU only)."""
        message = None
        if self.doc.photo is not None and self.device.currentText().startswith("cpu"):
            try:
                message = self.request().memory_warning()
            except GanvasError:  # a photo too small for these settings: start() says so
                message = None
        self.memory_note.setText(f"⚠ {message}" if message else "")
        self.memory_note.setVisible(bool(message))

    # ------------------------------------------------------------ actions
    def train_with_next_seed(self) -> None:
        """What a training warning advises: the same settings, the next seed, from scratch (an interrupted
        run of the old seed is not resumed: that would carry on with the seed that failed)."""
        if self.running:
            return
        self.seed.setValue(self._run_seed + 1)
        self.start(start_over=True)

    def start(self, resume: bool = False, *, start_over: bool = False) -> None:
        if self.doc.photo is None or self.running:
            return
        saved = None if start_over else self.autosaved()
        if saved is not None and not resume:  # Train over an interrupted run: ask, never silently start over
            choice = self.ask_start_over(*scales_done(saved))
            if choice == "cancel":
                return
            resume = choice == "resume"
        if resume and saved is None:
            self.status.emit("Nothing to resume for this photo and these settings: press Train.")
            return
        request = self.request(resume)
        try:  # the run's settings (a resumed run's own); a photo too small for them: say which file, before any thread starts
            plan = request.plan(saved if resume else None)
        except GanvasError as exc:
            self.jobs.errorOccurred.emit("Training", str(exc))
            return
        self._done_before = plan.done_before
        title = (f"Resuming {self.doc.name} from scale {plan.done_before + 1} of {plan.total}" if resume else
                 f"Training {self.doc.name}")
        self._estimate_timer.stop()
        cfg = plan.config
        coarsest = f" · coarsest {cfg.min_size} px" if own_coarsest(cfg.preset, cfg.min_size) else ""
        self._run_seed = plan.seed  # a resumed run's own, which the Seed box may not show
        self.next_seed_btn.hide()
        self.bar.run(train_job, request, plan, name="Training", title=f"{title} · {cfg.preset} · {cfg.max_size} px{coarsest}",
                     on_progress=self._progress, on_result=self._done, on_error=self._failed)
        self.status.emit(f"{title}: autosaving after every scale." if resume else
                         "Training started: autosaving after every scale.")

    def cancel(self) -> None:
        if self.running:
            self.bar.cancel()
            self.status.emit("Cancelling training…")

    def _progress(self, p: Progress) -> None:
        if p.preview is not None and p.message:  # a scale's end: "scale 2 done in 40 s (try 2: …)"
            self.status.emit(f"Training: {p.message}")
        if p.warning:
            self.monitor.set_warning(p.warning)
            self.next_seed_btn.setText(f"Train again with seed {self._run_seed + 1}")
            self.next_seed_btn.show()
            self.status.emit(f"Training: {p.warning}")
        if p.preview is not None:
            self.monitor.set_preview(p.preview, f"sample after scale {p.stage_index + 1}/{p.stage_count}")
        self.longest_stall_ms = max(self.longest_stall_ms, self.stall.longest_ms)
        self.monitor.set_note(f"Longest GUI stall during training: {self.stall.longest_ms:.0f} ms")
        device = thread_policy.describe()
        if device != self._last_device:
            self._last_device = device
            self.deviceChanged.emit(device)

    def _done(self, model) -> None:
        before = getattr(self, "_done_before", 0)
        seconds = sum(model.scale_seconds[before:])
        what = (f"scales {before + 1}–{model.num_scales} of {model.num_scales}" if before else
                f"{model.num_scales} scales")
        self.monitor.finish(f"Done: trained {what} in {seconds:.0f} s")
        warned = " See the warning in the Train dock." if self.monitor.warning_label.text() else ""
        self.status.emit(f"Training done: {what} trained in {seconds:.0f} s.{warned}")
        self.modelTrained.emit(model, self.out_dir())

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            partial = exc.kept
            kept = partial.num_trained if partial is not None else 0
            if kept > 0:
                msg = (f"Training cancelled: {kept} of {partial.num_scales} scales kept (autosaved); "
                       f"Resume continues from scale {kept + 1}.")
            else:
                msg = "Training cancelled before the first scale finished: nothing was kept; Train starts again."
            self.bar.fail(msg, error=False)  # the monitor and the status bar
            if partial is not None and kept > 0:
                self.modelTrained.emit(partial, self.out_dir())
        else:
            self.bar.fail(describe_error(exc))
            self.jobs.errorOccurred.emit("Training", describe_error(exc))

    def _running_changed(self, running: bool) -> None:
        if running:
            self.stall.start()
        else:
            self.stall.stop()
            self.longest_stall_ms = max(self.longest_stall_ms, self.stall.longest_ms)
        self.next_seed_btn.setEnabled(not running)  # during the run: Cancel (Esc) first
        self.trainingStateChanged.emit(running)
        self.refresh()
