"""The Generate dock: Scale and Diversity sliders, size multipliers, seed, Generate and Generate 8.

Moving a slider regenerates live through ``LatestOnly``: only the newest request runs and stale
results are dropped. The latency from a committed slider move to the image on the canvas is
measured and shown in the status bar.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.workers import JobRunner, LatestOnly
from core.images import to_uint8
from core.singan.generate import SampleSettings, sample, sample_tensor
from core.singan.model import SinGANModel
from widgets.sliders import FloatSlider, LabeledSlider, SeedControl


def generate_one(model: SinGANModel, settings: SampleSettings, *, progress=None, cancel=None) -> np.ndarray:
    """One sample as uint8 H×W×3 (worker thread)."""
    return to_uint8(sample_tensor(model, settings, 1, cancel=cancel))[0]


def sample_params(model: SinGANModel, settings: SampleSettings, image: np.ndarray) -> dict:
    """What travels with a generated image (and into its PNG text chunks)."""
    return {**settings.to_metadata(), "model_id": model.model_id, "size": f"{image.shape[1]}x{image.shape[0]}",
            "scale_label": model.scale_label(settings.start_scale), "task": "sample"}


class GeneratePanel(QWidget):
    showImage = Signal(object, dict)
    addToGallery = Signal(object, dict)
    status = Signal(str)
    scaleChanged = Signal(int)

    def __init__(self, jobs: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.live = LatestOnly(jobs, self)
        self.model: SinGANModel | None = None
        self.latencies_ms: list[float] = []
        self._requested_at = 0.0
        self._last: tuple[object, np.ndarray] | None = None  # (request key, image) of the latest result

        self.scale = LabeledSlider("Scale", ["—"])
        self.scale.setToolTip("Where generation starts: left = coarsest (new layouts), right = finest (only details change)")
        self.diversity = FloatSlider("Diversity", 0.0, 3.0, 0.05, 1.0)
        self.diversity.setToolTip("Multiplies the noise at every scale: 0 = the reconstruction, 1 = as trained")
        self.width_scale = FloatSlider("Width ×", 0.25, 4.0, 0.05, 1.0)
        self.height_scale = FloatSlider("Height ×", 0.25, 4.0, 0.05, 1.0)
        self.seed = SeedControl(0)
        self.generate_btn = QPushButton("Generate")
        self.generate_btn.setObjectName("primary")
        self.generate_btn.setToolTip("Draw a new sample (Ctrl+G); with the seed locked, redraw the same one")
        self.generate8_btn = QPushButton("Generate 8")
        self.generate8_btn.setToolTip("Fill the gallery with 8 samples (Ctrl+Shift+G)")
        self.info = QLabel("Train or open a model to generate.")
        self.info.setObjectName("hint")
        self.info.setWordWrap(True)

        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_btn)
        buttons.addWidget(self.generate8_btn)
        lay = QVBoxLayout(self)
        for w in (self.scale, self.diversity, self.width_scale, self.height_scale, self.seed):
            lay.addWidget(w)
        lay.addLayout(buttons)
        lay.addWidget(self.info)
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
        self.generate8_btn.clicked.connect(self.generate_batch)
        self.set_model(None)

    def set_model(self, model: SinGANModel | None) -> None:
        self.model = model
        self._last = None
        enabled = model is not None and model.num_trained > 0
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
            if "start_scale" in params:
                self.scale.set_value(int(params["start_scale"]))
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
        if self.model is None or self.model.num_trained == 0:
            return
        settings = self.settings()
        model = self.model
        key = (id(model), settings)
        self._requested_at = time.perf_counter()

        def show(image: np.ndarray, requested_at: float = self._requested_at, reused: bool = False) -> None:
            ms = (time.perf_counter() - requested_at) * 1000.0
            if not live:
                self.latencies_ms.append(ms)
            self._last = (key, image)
            self.showImage.emit(image, sample_params(model, settings, image))
            how = "already generated" if reused else f"in {ms:.0f} ms"
            self.status.emit(f"Generated {image.shape[1]}×{image.shape[0]} from scale "
                             f"{model.scale_label(settings.start_scale)} {how} (seed {settings.seed})")

        if self._last is not None and self._last[0] == key and not self.live.busy:
            show(self._last[1], reused=True)  # released on the value whose image the drag already made
            return
        # a release on the value the drag is still generating waits for that image, not a new one
        self.live.request(generate_one, model, settings, on_result=show, name="Generate", key=key)

    def generate_batch(self, n: int = 8) -> None:
        if self.model is None:
            return
        model, settings = self.model, self.settings(seed=self.seed.next_seed())

        def done(images: np.ndarray) -> None:
            for i, img in enumerate(images):
                s = SampleSettings(**{**settings.__dict__, "seed": settings.seed + i})
                self.addToGallery.emit(img, sample_params(model, s, img))
            self.showImage.emit(images[0], sample_params(model, settings, images[0]))
            self.status.emit(f"Added {len(images)} samples to the gallery (seeds {settings.seed}–{settings.seed + n - 1}).")

        self.jobs.submit(sample, model, settings, n, name="Generate 8", on_result=done)
