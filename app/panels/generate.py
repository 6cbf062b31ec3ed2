"""The Generate dock: Scale and Diversity sliders, size multipliers, seed, Generate and Generate 8.

With no trained SinGAN, the same controls draw patch-NN previews of the open photo (core/patchnn,
no training): Scale picks the pyramid level to start from, the rest mean what they mean for SinGAN.
Every image says which engine made it (``params["engine"]``).

"Export at size…" writes the image on the canvas 2 or 4 times larger (core/upscale.py), on a worker
through the panel's JobBar (progress, cancel).

Moving a slider regenerates live through ``LatestOnly``: only the newest request runs and stale
results are dropped. The latency from a committed slider move to the image on the canvas is
measured and shown in the status bar.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.panels.base import JobBar, Panel
from app.workers import JobRunner, LatestOnly
from core.dissect import current_intervention, intervention_metadata
from core.images import save_image, to_uint8
from core.jobs import CancelToken
from core.patchnn import ENGINE_NAME as PREVIEW_ENGINE
from core.patchnn import PatchPyramid, PreviewSettings, generate_from
from core.singan.generate import SampleSettings, sample, sample_tensor
from core.singan.model import SinGANModel
from core.upscale import SCALE_UP_FACTORS, scale_up
from widgets.labeled_slider import LabeledSlider
from widgets.sliders import FloatSlider, SeedControl


def generate_one(model: SinGANModel, settings: SampleSettings, *, cancel: CancelToken | None = None) -> np.ndarray:
    """One sample as uint8 H×W×3 (worker thread); ``cancel`` lets a newer slider value stop a stale one."""
    return to_uint8(sample_tensor(model, settings, 1, cancel=cancel))[0]


def sample_params(model: SinGANModel, settings: SampleSettings, image: np.ndarray) -> dict:
    """What travels with a generated image (and into its PNG text chunks)."""
    return {**settings.to_metadata(), "model_id": model.model_id, "size": f"{image.shape[1]}x{image.shape[0]}",
            "scale_label": model.scale_label(settings.start_scale), "task": "sample", "engine": "SinGAN",
            **intervention_metadata(model)}  # units switched in the Dissect panel change its samples


def preview_one(pyr: PatchPyramid, settings: PreviewSettings, *, progress=None, cancel=None) -> np.ndarray:
    """One patch-NN preview as uint8 H×W×3 (worker thread)."""
    return generate_from(pyr, settings, 1, progress=progress, cancel=cancel)[0]


def preview_params(pyr: PatchPyramid, settings: PreviewSettings, image: np.ndarray) -> dict:
    """What travels with a preview (and into its PNG text chunks): the controls and the engine's name."""
    h, w = pyr.shapes[settings.start_scale]
    return {**settings.to_metadata(), "size": f"{image.shape[1]}x{image.shape[0]}",
            "scale_label": f"L{settings.start_scale} {w}×{h}", "task": "preview"}


def export_scaled(path: str | Path, image: np.ndarray, params: dict, factor: int, *, progress=None,
                  cancel=None) -> Path:
    """``image`` enlarged ``factor`` times, written with its parameters and the scale-up in the PNG's text
    chunks (worker thread)."""
    big = scale_up(image, factor, progress=progress, cancel=cancel)
    meta = {**params, "size": f"{big.shape[1]}x{big.shape[0]}", "scale_up": str(factor)}
    return save_image(path, big, meta)


class GeneratePanel(Panel):
    scaleChanged = Signal(int)
    trainRequested = Signal()
    exportAtSizeRequested = Signal(int)  # the factor: the window asks where, then calls export_at_size

    def __init__(self, jobs: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.live = LatestOnly(jobs, self)
        self.model: SinGANModel | None = None
        self.pyramid: PatchPyramid | None = None  # the open photo's, for patch-NN previews while there is no model
        self.latencies_ms: list[float] = []
        self._requested_at = 0.0
        self._last: tuple[object, np.ndarray] | None = None  # (request key, image) of the latest result

        self.scale = LabeledSlider("Scale", ["—"])
        self.scale.setToolTip("Where generation starts: left = coarsest (new layouts), right = finest (only details change)")
        self.diversity = FloatSlider("Diversity", 0.0, 3.0, 0.05, 1.0)
        self.diversity.setToolTip("0 = the photo's reconstruction (from the coarsest scale), 1 = as trained, "
                                  "above 1 = more noise at every scale")
        self.width_scale = FloatSlider("Width ×", 0.25, 4.0, 0.05, 1.0)
        self.height_scale = FloatSlider("Height ×", 0.25, 4.0, 0.05, 1.0)
        self.seed = SeedControl(0)
        self.generate_btn = QPushButton("Generate")
        self.generate_btn.setObjectName("primary")
        self.generate_btn.setToolTip("Draw a new sample (Ctrl+G); with the seed locked, redraw the same one")
        self.generate8_btn = QPushButton("Generate 8")
        self.generate8_btn.setToolTip("Fill the gallery with 8 samples (Ctrl+Shift+G)")
        self.train_btn = QPushButton("Train SinGAN")
        self.train_btn.setToolTip("Train a SinGAN on the photo (Ctrl+T); until then the sliders draw patch-NN previews")
        self.train_btn.clicked.connect(self.trainRequested)
        self.info = QLabel("Train or open a model to generate.")
        self.info.setObjectName("hint")
        self.info.setWordWrap(True)
        self.export_factor = QComboBox()
        for f in SCALE_UP_FACTORS:
            self.export_factor.addItem(f"×{f}", f)
        self.export_factor.setCurrentIndex(len(SCALE_UP_FACTORS) - 1)
        self.export_factor.setToolTip("How many times larger the export is than the image on the canvas")
        self.export_bar = JobBar(jobs, "Export at size…", cancelled_text="Export cancelled: nothing was written.",
                                 start_tip="Save the image on the canvas 2 or 4 times larger (bicubic refined by "
                                           "back-projection, on a worker thread)")
        self.export_bar.add_button(self.export_factor, before_cancel=True, lock=True)
        self.export_bar.startRequested.connect(lambda: self.exportAtSizeRequested.emit(self.export_factor.currentData()))
        self.export_bar.said.connect(self.status)

        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_btn)
        buttons.addWidget(self.generate8_btn)
        lay = QVBoxLayout(self)
        for w in (self.scale, self.diversity, self.width_scale, self.height_scale, self.seed):
            lay.addWidget(w)
        lay.addLayout(buttons)
        lay.addWidget(self.train_btn)
        lay.addWidget(self.info)
        # Generate 8 and the preview batches: progress and Cancel, one batch after another
        self.batch_bar = JobBar(jobs, "", cancel_tip="Stop the batch", unit="samples", queue=True)
        self.batch_bar.said.connect(self.status)
        lay.addWidget(self.batch_bar)
        lay.addWidget(self.export_bar)
        lay.addStretch(1)

        for s in (self.scale,):
            s.valueChanged.connect(lambda _v: self.request(live=True))
            s.valueCommitted.connect(lambda _v: self.request())
            s.valueCommitted.connect(self.scaleChanged)
        for s in (self.diversity, self.width_scale, self.height_scale):
            s.valueChanged.connect(lambda _v: self.request(live=True))
            s.valueCommitted.connect(lambda _v: self.request())
        self.seed.seedChanged.connect(lambda _v: self.request())
        self.generate_btn.clicked.connect(self.generate_new)
        self.generate8_btn.clicked.connect(self.generate8)
        self.set_model(None)

    def set_model(self, model: SinGANModel | None) -> None:
        self.model = model
        self._last = None
        enabled = model is not None and model.num_trained > 0
        self.train_btn.setVisible(not enabled)
        if not enabled and self.pyramid is not None:
            self._preview_mode()
            return
        for w in (self.scale, self.diversity, self.width_scale, self.height_scale, self.seed,
                  self.generate_btn, self.generate8_btn):
            w.setEnabled(enabled)
        if enabled:
            self.scale.set_labels([model.scale_label(n) for n in range(model.num_trained)])
            self.scale.set_value(0)
            state = "" if model.complete else f" (partial: {model.num_trained}/{model.num_scales} scales)"
            self.info.setText(f"Model {model.model_id}{state} · {model.num_trained} scales · on {model.device}")
        else:
            self.scale.set_labels(["—"])
            self.info.setText("Train or open a model to generate.")

    def settings(self, seed: int | None = None) -> SampleSettings:
        return SampleSettings(start_scale=self.scale.value(), diversity=self.diversity.value(),
                              width_scale=self.width_scale.value(), height_scale=self.height_scale.value(),
                              seed=self.seed.seed() if seed is None else seed)

    def restore(self, params: dict) -> None:
        """Put the sliders back to an image's parameters (gallery click), without regenerating."""
        try:
            if "start_scale" in params and (params.get("task") != "preview" or self.previewing):
                self.scale.set_value(int(params["start_scale"]))
            if "start_level" in params and self.previewing:  # a preview saved before the word was start_scale
                self.scale.set_value(int(params["start_level"]))
            if "diversity" in params:
                self.diversity.set_value(float(params["diversity"]))
            if "width_scale" in params:
                self.width_scale.set_value(float(params["width_scale"]))
            if "height_scale" in params:
                self.height_scale.set_value(float(params["height_scale"]))
            if "seed" in params:
                self.seed.set_seed(int(params["seed"]))
        except (TypeError, ValueError):
            pass

    def generate_new(self) -> None:
        self.seed.set_seed(self.seed.next_seed())
        self.request()

    def request(self, live: bool = False) -> None:
        if self.previewing:
            self._request_preview(live)
            return
        if self.model is None or self.model.num_trained == 0:
            return
        settings = self.settings()
        model = self.model
        key = (id(model), settings, id(current_intervention(model)))
        self._requested_at = time.perf_counter()

        def show(image: np.ndarray, requested_at: float = self._requested_at, reused: bool = False) -> None:
            ms = (time.perf_counter() - requested_at) * 1000.0
            if not live:
                self.latencies_ms.append(ms)
            self._last = (key, image)
            self.showImage.emit(image, sample_params(model, settings, image))
            what = (f"{image.shape[1]}×{image.shape[0]} sample from scale {model.scale_label(settings.start_scale)} "
                    f"(seed {settings.seed})")
            self.status.emit(f"Showing the {what}, already generated" if reused else f"Generated the {what} in {ms:.0f} ms")

        if self._last is not None and self._last[0] == key and not self.live.busy:
            show(self._last[1], reused=True)  # released on the value whose image the drag already made
            return
        # a release on the value the drag is still generating waits for that image, not a new one
        self.live.request(generate_one, model, settings, on_result=show, name="Generate", key=key)

    def generate8(self) -> None:
        """The Generate 8 button, menu item and Ctrl+Shift+G. A slot of its own: Qt passes a button's
        ``checked`` (False) to a slot that takes an argument, which made ``generate_batch`` draw 0 samples."""
        self.generate_batch(8)

    def generate_batch(self, n: int = 8) -> None:
        """Draw ``n`` samples on the next seeds into the gallery and show the first."""
        if self.previewing and not isinstance(n, bool) and int(n) >= 1:
            self._preview_batch(int(n))
            return
        if self.model is None or self.model.num_trained == 0:
            return
        if isinstance(n, bool) or int(n) < 1:
            raise ValueError(f"generate_batch needs at least one sample (got n={n!r})")
        n = int(n)
        model, settings = self.model, self.settings(seed=self.seed.next_seed())

        def done(images: np.ndarray) -> None:
            for i, img in enumerate(images):
                s = SampleSettings(**{**settings.__dict__, "seed": settings.seed + i})
                self.addToGallery.emit(img, sample_params(model, s, img))
            self.showImage.emit(images[0], sample_params(model, settings, images[0]))
            self.batch_bar.finish(f"Added {len(images)} samples to the gallery (seeds {settings.seed}–{settings.seed + n - 1}).")

        self.batch_bar.run(sample, model, settings, n, name=f"Generate {n}", on_result=done)

    def export_at_size(self, path: str | Path, image: np.ndarray, params: dict, factor: int) -> None:
        """Write ``image`` ``factor`` times larger to ``path`` on a worker, with progress and cancel."""
        def done(written: Path) -> None:
            self.export_bar.finish(f"Exported {Path(written).name} at ×{factor} "
                                   f"({image.shape[1] * factor}×{image.shape[0] * factor}).")

        self.export_bar.run(export_scaled, path, image, params, factor, name="Export at size",
                            title=f"Exporting at ×{factor}", on_result=done)

    # ------------------------------------------------------------------ patch-NN previews (no model)
    @property
    def previewing(self) -> bool:
        """True while the controls draw patch-NN previews: a photo is open and no SinGAN is trained."""
        return self.pyramid is not None and (self.model is None or self.model.num_trained == 0)

    @property
    def engine(self) -> str | None:
        if self.model is not None and self.model.num_trained > 0:
            return "SinGAN"
        return PREVIEW_ENGINE if self.pyramid is not None else None

    def set_photo(self, photo: np.ndarray | None) -> None:
        """The open photo: its pyramid is built now (milliseconds) and shared by every preview of it."""
        self.pyramid = None if photo is None else PatchPyramid(photo)
        self._last = None
        self.set_model(self.model)

    def _preview_mode(self) -> None:
        for w in (self.scale, self.diversity, self.width_scale, self.height_scale, self.seed,
                  self.generate_btn, self.generate8_btn):
            w.setEnabled(True)
        pyr = self.pyramid
        self.scale.set_labels([f"L{n} {w}×{h}" for n, (h, w) in enumerate(pyr.shapes)])
        self.scale.set_value(0)
        self.info.setText(f"No SinGAN yet: the sliders draw {PREVIEW_ENGINE}s of the photo "
                          f"({pyr.num_levels} levels, no training). Train a SinGAN for its own samples.")

    def preview_settings(self, seed: int | None = None) -> PreviewSettings:
        return PreviewSettings(start_scale=min(self.scale.value(), self.pyramid.num_levels - 1),
                               diversity=self.diversity.value(), width_scale=self.width_scale.value(),
                               height_scale=self.height_scale.value(),
                               seed=self.seed.seed() if seed is None else seed)

    def preview_new(self) -> None:
        """The Preview action: a patch-NN preview on the next seed, even when a SinGAN is trained."""
        if self.pyramid is None:
            self.status.emit("Open a photo first.")
            return
        self.seed.set_seed(self.seed.next_seed())
        self._request_preview()

    def _request_preview(self, live: bool = False) -> None:
        pyr, settings = self.pyramid, self.preview_settings()
        key = (id(pyr), settings)
        requested_at = self._requested_at = time.perf_counter()

        def show(image: np.ndarray, reused: bool = False) -> None:
            ms = (time.perf_counter() - requested_at) * 1000.0
            if not live:
                self.latencies_ms.append(ms)
            self._last = (key, image)
            self.showImage.emit(image, preview_params(pyr, settings, image))
            what = f"{image.shape[1]}×{image.shape[0]} {PREVIEW_ENGINE} from level {settings.start_scale} " \
                   f"(seed {settings.seed}, no training)"
            self.status.emit(f"Showing the {what}, already generated" if reused else f"Made the {what} in {ms:.0f} ms")

        if self._last is not None and self._last[0] == key and not self.live.busy:
            show(self._last[1], reused=True)
            return
        self.live.request(preview_one, pyr, settings, on_result=show, name="Preview", key=key)

    def _preview_batch(self, n: int) -> None:
        pyr, settings = self.pyramid, self.preview_settings(seed=self.seed.next_seed())

        def done(images: np.ndarray) -> None:
            for i, img in enumerate(images):
                s = PreviewSettings(**{**settings.__dict__, "seed": settings.seed + i})
                self.addToGallery.emit(img, preview_params(pyr, s, img))
            self.showImage.emit(images[0], preview_params(pyr, settings, images[0]))
            self.batch_bar.finish(f"Added {len(images)} {PREVIEW_ENGINE}s to the gallery "
                                  f"(seeds {settings.seed}–{settings.seed + n - 1}).")

        self.batch_bar.run(generate_from, pyr, settings, n, name="Preview batch", on_result=done)
