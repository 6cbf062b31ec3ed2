"""Fourier spectra of images: log spectrum, radial power profile, power-law fit, generator fingerprints.

Natural photographs share a power-law spectrum (Field 1987; van der Schaaf & van Hateren 1996):
Fourier *amplitude* falls as ``1/f**alpha`` with ``alpha`` near 1, so *power* falls as
``1/f**(2*alpha)``. Generated images leave periodic traces of their up-sampling layers in the
high frequencies (Wang et al., CVPR 2020; Durall et al., CVPR 2020). This package measures both:
:mod:`~core.spectrum.analysis` (one image), :mod:`~core.spectrum.sets` (sets of images) and
:mod:`~core.spectrum.fingerprints` (average spectra and their peaks); everything is importable from here.

Conventions (every function here follows them):

* **Frequency** is in cycles per pixel, from ``np.fft.fftfreq`` of each axis, so it lies in
  [-0.5, 0.5] on both axes whatever the image shape; the radial frequency is
  ``sqrt(fx**2 + fy**2)``. Non-square images need no special case.
* **Power** is ``|F|**2 / sum(window**2)`` of the image scaled to [0, 1] (uint8 / 255). With this
  normalisation white noise of variance ``s**2`` has power ``s**2`` in every bin, for every image
  size and with or without the window, so profiles of images of different sizes are comparable.
* **Window**: an optional separable (periodic) Hann window against the leakage from the image's
  edges. The mean is taken out before windowing and put back into the DC bin only, so the DC term
  keeps its value (``sum(window * image)``) without leaking into the lowest frequencies.
* **Spectra** (2-D) are returned centred (``np.fft.fftshift`` layout): DC at row ``H // 2``,
  column ``W // 2``; pixel ``(i, j)`` is at ``fy = (i - H//2)/H``, ``fx = (j - W//2)/W``
  (see :func:`spectrum_freqs`). Values are decibels, ``10*log10(power)``.
* **Radial profile**: bins of width ``1/N`` with ``N = max(H, W)``, bin ``k`` centred on
  ``k/N`` for ``k = 0 .. N//2`` (up to 0.5 cycles/px: beyond, the corners of the square
  frequency plane hold only partial rings). Bin 0 is exactly the DC term; it is kept in the
  profile and left out of fits (``f = 0`` has no logarithm).
* **alpha** is always the *amplitude* exponent; :class:`PowerLawFit` also gives ``alpha_power``
  (``= 2 * alpha_amplitude``) and the raw log-log slope of power.

Everything is numpy in, numpy out (FFT through OpenCV's single-threaded real DFT); no Qt, no torch.
"""

from core.spectrum.analysis import (
    CHANNELS,
    DEFAULT_BAND,
    HIGH_BAND,
    MIN_SIDE,
    POWER_FLOOR,
    Peak,
    PowerLawFit,
    RadialProfile,
    SpectrumAnalysis,
    SpectrumError,
    _hann,
    _rfft_power,
    analyze,
    fit_power_law,
    high_pass_residual,
    log_spectrum,
    radial_profile,
    spectrum_freqs,
    synth_power_law_noise,
)
from core.spectrum.fingerprints import average_spectrum, find_peaks, residual_spectrum
from core.spectrum.sets import common_axis, mean_profile, resample_profile, spectral_distance

__all__ = [
    "CHANNELS",
    "DEFAULT_BAND",
    "HIGH_BAND",
    "MIN_SIDE",
    "POWER_FLOOR",
    "Peak",
    "PowerLawFit",
    "RadialProfile",
    "SpectrumAnalysis",
    "SpectrumError",
    "_hann",
    "_rfft_power",
    "analyze",
    "fit_power_law",
    "high_pass_residual",
    "log_spectrum",
    "radial_profile",
    "spectrum_freqs",
    "synth_power_law_noise",
    "average_spectrum",
    "find_peaks",
    "residual_spectrum",
    "common_axis",
    "mean_profile",
    "resample_profile",
    "spectral_distance",
]
