"""The Spectrum dock: the 2-D spectrum of the canvas image and radial profiles of several sources overlaid.

All numeric work (core.spectrum) runs in a worker; the curves shown are the training photo,
the image on the canvas, the mean of the gallery and, when the Primitives panel provides them,
the mean of its previews. Residual mode shows the averaged high-pass fingerprint and its peaks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from PySide6.QtWidgets import QVBoxLayout, QWidget
from superqt.utils import QSignalDebouncer

from app.panels.base import Panel
from app.workers import JobRunner, LatestOnly, describe_error
from core import spectrum as sp
from widgets.detect_view import DetectView
from widgets.spectrum_view import SpectrumView


def _curve(name: str, profile: sp.RadialProfile, fit: sp.PowerLawFit | None) -> dict:
    c = {"name": name, "freq": profile.freq[1:], "power": profile.power[1:]}
    if profile.n_images > 1 and profile.spread_db is not None:
        c["spread_db"] = profile.spread_db[1:]
    if fit is not None:
        c["fit"] = {"alpha": fit.alpha_amplitude, "intercept": fit.intercept, "band": fit.band, "r2": fit.r2,
                    "slope": fit.slope}
    return c


def analyze_sources(
    shown: np.ndarray,
    sources: dict[str, Sequence[np.ndarray]],
    options: dict,
    *,
    cancel=None,
) -> dict:
    """Spectrum of ``shown`` plus one radial curve per source (a single image or the mean of a set)."""
    kw = {"window": bool(options.get("window", True)), "channel": options.get("channel", "luma"),
          "residual": bool(options.get("residual", False))}
    main = sp.analyze(shown, **kw)
    curves = [_curve("canvas", main.profile, main.fit)]
    for name, images in sources.items():
        if not len(images):
            continue
        if len(images) == 1:
            a = sp.analyze(images[0], **kw)
            curves.append(_curve(name, a.profile, a.fit))
        else:
            prof = sp.mean_profile(list(images), cancel=cancel, **kw)
            curves.append(_curve(f"{name} (mean of {len(images)})", prof, sp.fit_power_law(prof)))
    result = {"spectrum": main.spectrum_db, "curves": curves, "peaks": [], "title": ""}
    if kw["residual"]:
        fingerprint_set = [shown] + [im for imgs in sources.values() for im in imgs if im is not shown]
        spec = sp.residual_spectrum(fingerprint_set[:64], window=kw["window"], channel=kw["channel"])
        result["spectrum"] = spec
        result["peaks"] = [(p.fx, p.fy, p.strength_db) for p in sp.find_peaks(spec)]
        result["title"] = f"high-pass fingerprint of {min(64, len(fingerprint_set))} image(s)"
    else:
        result["title"] = f"canvas · α = {main.fit.alpha_amplitude:.2f}"
    return result


#: Delay between the last canvas change and the spectrum update.
SETTLE_MS = 120


class SpectrumPanel(Panel):
    """Only ``status`` of the panel contract: it shows images, it makes none."""

    def __init__(self, jobs: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = SpectrumView()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.view, 1)
        self.detect_view = DetectView()
        self.detect_view.detectRequested.connect(self.detect)
        lay.addWidget(self.detect_view)
        self.jobs = jobs
        self.live = LatestOnly(jobs, self)
        self.shown: np.ndarray | None = None
        self.source_providers: dict[str, Callable[[], Sequence[np.ndarray]]] = {}
        self.last_result: dict | None = None
        self.view.optionsChanged.connect(lambda _o: self.refresh())
        # The spectrum follows the canvas a moment after it settles, so while a slider is dragged
        # the CPU goes to generating images, not to analysing ones that are already stale.
        self._settle = QSignalDebouncer(parent=self)
        self._settle.setTimeout(SETTLE_MS)
        self._settle.triggered.connect(self._request)
        self._settling = False  # a refresh waits for the canvas to settle

    def add_source(self, name: str, provider: Callable[[], Sequence[np.ndarray]]) -> None:
        """A named set of images drawn as its own curve (e.g. the training photo, the gallery)."""
        self.source_providers[name] = provider

    def set_image(self, rgb: np.ndarray | None) -> None:
        self.shown = rgb
        self.refresh()

    @property
    def busy(self) -> bool:
        return self._settling or self.live.busy

    def refresh(self) -> None:
        """Analyse the shown image and the sources again, once the canvas has been still for SETTLE_MS."""
        if self.shown is not None:
            self._settling = True
            self._settle.throttle()

    def _request(self) -> None:
        self._settling = False
        if self.shown is None:
            return
        sources = {name: list(p()) for name, p in self.source_providers.items()}
        self.view.set_busy(True)
        self.live.request(analyze_sources, self.shown, sources, self.view.options(), on_result=self._show,
                          on_error=self._failed, name="Spectrum")

    def _show(self, result: dict) -> None:
        self.last_result = result
        self.view.set_busy(False)
        self.view.set_spectrum(result["spectrum"], result["title"])
        self.view.set_curves(result["curves"])
        self.view.set_peaks(result["peaks"])

    def _failed(self, exc: BaseException) -> None:
        self.view.set_busy(False)
        self.status.emit(f"Spectrum: {describe_error(exc)}")

    # ------------------------------------------------------------------ detectability
    def detect(self) -> None:
        """Real = the training photo, generated = the gallery (or the canvas image when it is empty)."""
        real = list(self.source_providers.get("training photo", list)())
        fake = list(self.source_providers.get("gallery", list)()) or ([self.shown] if self.shown is not None else [])
        if not real or not fake:
            self.detect_view.set_result("Open a photo or model and generate samples first.", None)
            return
        self.detect_view.set_busy(True)
        self.jobs.submit(detect_images, real, fake, name="Detect", on_result=self._detected,
                         on_error=lambda exc: self.detect_view.set_result(describe_error(exc), None))

    def _detected(self, result: dict) -> None:
        self.detect_view.set_result(result["text"], result["map"])
        self.status.emit("Detectability: " + result["text"].split("\n")[0])


def detect_images(real: list[np.ndarray], fake: list[np.ndarray], *, progress=None, cancel=None) -> dict:
    """Worker: :func:`core.detect.detectability` of ``fake`` against ``real``, worded for the dock."""
    from core.detect import detectability

    r = detectability(real, fake, repeats=3, progress=progress, cancel=cancel)
    dct, px = r["dct"], r["pixels"]
    acc = dct.coefficient_accuracy
    u, v = np.unravel_index(np.argmax(acc), acc.shape)
    text = (f"Held-out accuracy (0.5 = cannot tell): DCT {dct.accuracy:.2f} ± {dct.spread:.2f}, "
            f"pixels {px.accuracy:.2f} ± {px.spread:.2f}\n{len(fake)} generated vs {len(real)} real image(s), "
            f"3 runs. Most telling frequency: row {u}, column {v} ({acc[u, v]:.2f} alone).")
    return {"text": text, "map": acc}
