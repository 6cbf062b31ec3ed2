"""Fourier spectra of images: log spectrum, radial power profile, power-law fit, generator fingerprints.

Natural photographs share a power-law spectrum (Field 1987; van der Schaaf & van Hateren 1996):
Fourier *amplitude* falls as ``1/f**alpha`` with ``alpha`` near 1, so *power* falls as
``1/f**(2*alpha)``. Generated images leave periodic traces of their up-sampling layers in the
high frequencies (Wang et al., CVPR 2020; Durall et al., CVPR 2020). This module measures both.

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

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from core.jobs import CancelToken, GanvasError, ProgressFn, ProgressReporter, check_cancel

#: Default band for power-law fits, cycles/px. Below 0.02 a 256-px image has only a few rings;
#: above 0.25 camera blur, demosaicing and JPEG bend real photos away from the power law.
DEFAULT_BAND = (0.02, 0.25)
#: Default band for :func:`spectral_distance`: the upper half of the frequencies, where
#: generators differ most from photos.
HIGH_BAND = (0.25, 0.5)
#: Smallest image side we analyse; smaller images have too few frequency rings to say anything.
MIN_SIDE = 8
#: Added to power before taking logarithms (-120 dB; 8-bit quantisation noise sits near -59 dB).
POWER_FLOOR = 1e-12
#: Rec. 601 luma, the weights OpenCV's RGB2GRAY uses.
CHANNELS = ("luma", "r", "g", "b", "mean")


class SpectrumError(GanvasError):
    """Input the spectrum analysis cannot use (empty set, tiny image, bad band...)."""


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class RadialProfile:
    """Azimuthally averaged power spectrum.

    ``freq``: bin centres in cycles/px, ``freq[0] == 0`` (the DC bin), up to 0.5.
    ``power``: mean ``|F|**2`` per bin (normalised, see module docstring); for a set of images the
    geometric mean over images. ``samples``: how many DFT coefficients fell in each bin (single
    image). ``spread_db``: standard deviation over images of the per-image profiles, in dB (sets).
    """

    freq: np.ndarray
    power: np.ndarray
    samples: np.ndarray | None = None
    spread_db: np.ndarray | None = None
    n_images: int = 1

    @property
    def power_db(self) -> np.ndarray:
        """``10 * log10(power)``: what a log-log plot draws on its y axis."""
        return 10.0 * np.log10(self.power + POWER_FLOOR)

    @property
    def amplitude(self) -> np.ndarray:
        """``sqrt(power)``: the mean Fourier amplitude per ring (RMS over the ring)."""
        return np.sqrt(self.power)


@dataclass(frozen=True)
class PowerLawFit:
    """Least-squares line through ``log10(power)`` against ``log10(freq)`` over ``band``.

    ``alpha_amplitude``: amplitude ∝ f**-alpha_amplitude (natural photos: about 0.8–1.5).
    ``alpha_power``: power ∝ f**-alpha_power, always ``2 * alpha_amplitude``.
    ``slope``: the fitted log-log slope of power (``-alpha_power``); ``intercept``: log10 power
    at 1 cycle/px; ``r2``: coefficient of determination of the line in log-log space.
    """

    alpha_amplitude: float
    alpha_power: float
    slope: float
    intercept: float
    r2: float
    band: tuple[float, float]
    n_bins: int

    def power_at(self, freq: np.ndarray | float) -> np.ndarray:
        """The fitted power law evaluated at ``freq`` (cycles/px), for drawing the line."""
        return 10.0 ** (self.intercept + self.slope * np.log10(np.asarray(freq, dtype=np.float64)))


@dataclass(frozen=True)
class Peak:
    """A spike in a (residual) spectrum: ``fy >= 0`` of a conjugate pair (the other is ``-fx, -fy``).

    ``strength_db``: how far it rises above the local median of the spectrum;
    ``level_db``: its own level in the spectrum.
    """

    fx: float
    fy: float
    strength_db: float
    level_db: float

    @property
    def freq(self) -> float:
        """Radial frequency in cycles/px."""
        return math.hypot(self.fx, self.fy)

    @property
    def period_px(self) -> float:
        """Period of the pattern in pixels (2.0 for a checkerboard at 0.5 cycles/px)."""
        return 1.0 / self.freq if self.freq > 0 else math.inf


@dataclass(frozen=True)
class SpectrumAnalysis:
    """Everything the studio shows for one image, from one FFT."""

    spectrum_db: np.ndarray  # float32 H×W, centred, dB
    profile: RadialProfile
    fit: PowerLawFit
    channel: str
    window: bool
    residual: bool


# ---------------------------------------------------------------- input


def _plane(image: np.ndarray, channel: str, what: str = "image") -> np.ndarray:
    """One float32 H×W plane in [0, 1] (uint8/255, uint16/65535, floats as they are)."""
    if channel not in CHANNELS:
        raise SpectrumError(f"Unknown channel '{channel}'; use one of {', '.join(CHANNELS)}.")
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise SpectrumError(f"The {what} must be H×W grey or H×W×3 RGB (got an array of shape {arr.shape}).")
    h, w = arr.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise SpectrumError(
            f"The {what} is {w}×{h} pixels; spectrum analysis needs at least {MIN_SIDE}×{MIN_SIDE}."
        )
    if arr.dtype == np.uint8:
        scale = 1.0 / 255.0
    elif arr.dtype == np.uint16:
        scale = 1.0 / 65535.0
    elif arr.dtype == np.bool_ or arr.dtype.kind in "iu":
        scale = 1.0
    elif arr.dtype.kind == "f":
        scale = 1.0
    else:
        raise SpectrumError(f"The {what} has unsupported pixel type {arr.dtype}.")
    if arr.ndim == 3:
        if channel == "luma":
            plane = cv2.cvtColor(np.ascontiguousarray(arr[..., :3], dtype=np.float32), cv2.COLOR_RGB2GRAY)
        elif channel == "mean":
            plane = arr[..., :3].mean(axis=2, dtype=np.float32)
        else:
            plane = arr[..., "rgb".index(channel)].astype(np.float32)
    else:
        plane = arr.astype(np.float32)
    if scale != 1.0:
        plane *= np.float32(scale)
    if arr.dtype.kind == "f" and not np.isfinite(plane).all():
        raise SpectrumError(f"The {what} contains NaN or infinite values.")
    return np.ascontiguousarray(plane)


def high_pass_residual(plane: np.ndarray) -> np.ndarray:
    """Image minus its 3×3 median: the noise-like residual where generator artefacts live.

    The median removes edges and texture that the artefacts would otherwise drown in (the
    "noise residual" of camera and GAN forensics).
    """
    plane = np.ascontiguousarray(plane, dtype=np.float32)
    return plane - cv2.medianBlur(plane, 3)


def _prepare(image: np.ndarray, channel: str, residual: bool, what: str = "image") -> np.ndarray:
    plane = _plane(image, channel, what)
    return high_pass_residual(plane) if residual else plane


# ---------------------------------------------------------------- cached grids


@functools.lru_cache(maxsize=32)
def _hann(h: int, w: int) -> tuple[np.ndarray, float, float]:
    """Periodic 2-D Hann window, its sum and its sum of squares."""
    wy = (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(h) / h)).astype(np.float32)
    wx = (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(w) / w)).astype(np.float32)
    win = np.outer(wy, wx).astype(np.float32)
    win.setflags(write=False)
    return win, float(win.sum(dtype=np.float64)), float((win.astype(np.float64) ** 2).sum())


@functools.lru_cache(maxsize=32)
def _radial_bins(h: int, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """For the rfft half plane of an H×W image: flat bin index, self-conjugate columns, samples per bin.

    The half plane holds each coefficient ``(ky, kx)`` with ``0 < kx < W/2`` once for itself and
    its conjugate twin ``(-ky, -kx)``, so those columns weigh 2; columns 0 and W/2 (W even) hold
    their own twins and weigh 1. Points beyond the last bin get index ``n_bins`` (dropped).
    """
    n = max(h, w)
    n_bins = n // 2 + 1
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    r = np.sqrt(fx * fx + fy * fy)
    idx = np.rint(r * n).astype(np.intp)
    idx[idx >= n_bins] = n_bins
    weight = np.full(fx.shape[1], 2.0)
    weight[0] = 1.0
    if w % 2 == 0:
        weight[-1] = 1.0
    weight2d = np.broadcast_to(weight[None, :], idx.shape).ravel()
    idx = idx.ravel()
    samples = np.bincount(idx, weights=weight2d, minlength=n_bins + 1)[:n_bins]
    edge_cols = np.flatnonzero(weight == 1.0)
    for a in (idx, edge_cols, samples):
        a.setflags(write=False)
    return idx, edge_cols, samples, n_bins


def spectrum_freqs(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(fy, fx) in cycles/px of the rows and columns of a centred spectrum of ``shape`` (H, W)."""
    h, w = int(shape[0]), int(shape[1])
    return (np.arange(h) - h // 2) / h, (np.arange(w) - w // 2) / w


# ---------------------------------------------------------------- core transform


def _rfft_power(plane: np.ndarray) -> tuple[np.ndarray, float]:
    """``|rfft2(plane)|**2`` (H×(W//2+1) float32) and the (real) DC term, through OpenCV's real DFT.

    ``cv2.dft`` of a real float32 image returns the spectrum packed in "CCS" form (OpenCV docs,
    ``dft``): interior columns interleave Re/Im for every row; column 0 (and column W-1 when W is
    even) hold the 1-D packed transforms along y of spectrum columns 0 and W/2. It is single-
    threaded and about as fast as the best threaded FFTs here, so it stays fast when training
    jobs load every core (torch's threaded FFT slows down tenfold then).
    """
    h, w = plane.shape
    out = cv2.dft(plane)
    sq = out * out
    power = np.empty((h, w // 2 + 1), np.float32)
    nint = (w - 1) // 2
    if nint > 0:
        np.add(sq[:, 1 : 2 * nint : 2], sq[:, 2 : 2 * nint + 1 : 2], out=power[:, 1 : 1 + nint])
    nk = (h - 1) // 2
    for src, dst in ((0, 0), (w - 1, w // 2)) if w % 2 == 0 else ((0, 0),):
        col = sq[:, src]
        power[0, dst] = col[0]
        if nk > 0:
            pairs = col[1 : 2 * nk : 2] + col[2 : 2 * nk + 1 : 2]
            power[1 : 1 + nk, dst] = pairs
            power[h - nk :, dst] = pairs[::-1]
        if h % 2 == 0:
            power[h // 2, dst] = col[h - 1]
    return power, float(out[0, 0])


def _half_power(planes: np.ndarray, window: bool) -> np.ndarray:
    """Normalised power on the rfft half plane of one H×W plane or a stack N×H×W (float32)."""
    if planes.ndim == 3:
        return np.stack([_half_power(p, window) for p in planes])
    h, w = planes.shape
    mean = float(cv2.mean(planes)[0])
    centred = planes - np.float32(mean)
    if window:
        win, wsum, wsq = _hann(h, w)
        centred *= win
    else:
        wsum, wsq = float(h * w), float(h * w)
    power, dc_centred = _rfft_power(centred)
    # Put the mean back into DC only: sum(win * (x - m)) + m * sum(win) = sum(win * x).
    dc = dc_centred + mean * wsum
    power[0, 0] = dc * dc
    power *= np.float32(1.0 / wsq)
    return power


def _radial_from_half(power: np.ndarray, h: int, w: int) -> RadialProfile:
    idx, edge_cols, samples, n_bins = _radial_bins(h, w)
    # every half-plane coefficient stands for itself and its conjugate twin, except in the
    # self-conjugate columns (0 and W/2), which are counted twice here and once taken back
    sums = 2.0 * np.bincount(idx, weights=power.ravel(), minlength=n_bins + 1)[:n_bins]
    edge = idx.reshape(power.shape)[:, edge_cols].ravel()
    sums -= np.bincount(edge, weights=power[:, edge_cols].ravel(), minlength=n_bins + 1)[:n_bins]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / samples
    freq = np.arange(n_bins) / max(h, w)
    return RadialProfile(freq=freq, power=mean, samples=samples.copy())


def _centred_full(half: np.ndarray, w: int) -> np.ndarray:
    """The full, centred H×W plane from the rfft half plane of a real image (conjugate symmetry).

    Right of centre (fx >= 0) the half plane itself, rows rolled so DC lands on row H//2; left
    of centre the conjugate twins ``half[-ky, -kx]``: rows reversed and columns mirrored.
    """
    h = half.shape[0]
    out = np.empty((h, w), half.dtype)
    c = w // 2
    out[:, c:] = np.roll(half[:, : w - c], h // 2, axis=0)
    if c:
        out[:, :c] = np.roll(half[::-1, c:0:-1], h // 2 + 1, axis=0)
    return out


def _centred_db(power: np.ndarray, h: int, w: int) -> np.ndarray:
    # OpenCV's vectorised natural log: ~15× numpy's float32 log10 on a 1024×513 plane (6.5 → 0.4 ms here)
    db = cv2.log(np.ascontiguousarray(power + np.float32(POWER_FLOOR), dtype=np.float32))
    db *= np.float32(10.0 / math.log(10.0))
    return _centred_full(db, w)


# ---------------------------------------------------------------- public API: one image


def log_spectrum(
    image: np.ndarray, *, window: bool = True, channel: str = "luma", residual: bool = False
) -> np.ndarray:
    """Centred 2-D power spectrum in dB (float32 H×W, DC at ``[H//2, W//2]``).

    ``residual=True`` takes the spectrum of the high-pass residual (see :func:`high_pass_residual`)
    where up-sampling artefacts show as isolated bright dots.
    """
    plane = _prepare(image, channel, residual)
    h, w = plane.shape
    return _centred_db(_half_power(plane, window), h, w)


def radial_profile(
    image: np.ndarray, *, window: bool = True, channel: str = "luma", residual: bool = False
) -> RadialProfile:
    """Azimuthally averaged power spectrum, bins of width 1/max(H, W) cycles/px (DC in bin 0)."""
    plane = _prepare(image, channel, residual)
    h, w = plane.shape
    return _radial_from_half(_half_power(plane, window), h, w)


def fit_power_law(profile: RadialProfile, band: tuple[float, float] = DEFAULT_BAND) -> PowerLawFit:
    """Fit ``power = C * f**slope`` over ``band`` (cycles/px, inclusive); DC never takes part.

    Every ring in the band counts once (rings are evenly spaced in f, so the upper part of the
    band has more say, as in the usual periodogram fits).
    """
    lo, hi = float(band[0]), float(band[1])
    if not (0.0 <= lo < hi):
        raise SpectrumError(f"The fit band ({lo:g}, {hi:g}) must satisfy 0 <= low < high (cycles/px).")
    freq = np.asarray(profile.freq, dtype=np.float64)
    power = np.asarray(profile.power, dtype=np.float64)
    eps = 1e-9
    sel = (freq > 0) & (freq >= lo - eps) & (freq <= hi + eps) & np.isfinite(power) & (power > 0)
    n = int(sel.sum())
    if n < 3:
        raise SpectrumError(
            f"Only {n} frequency bins fall in the fit band {lo:g}–{hi:g} cycles/px; widen the band "
            f"or use a larger image (this profile's bins are {freq[1] if freq.size > 1 else 0:.3g} apart)."
        )
    x = np.log10(freq[sel])
    y = np.log10(power[sel])
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (intercept + slope * x)
    ss_tot = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float((resid**2).sum()) / ss_tot if ss_tot > 0 else 1.0
    return PowerLawFit(
        alpha_amplitude=float(-slope / 2.0),
        alpha_power=float(-slope),
        slope=float(slope),
        intercept=float(intercept),
        r2=r2,
        band=(lo, hi),
        n_bins=n,
    )


def analyze(
    image: np.ndarray,
    *,
    window: bool = True,
    channel: str = "luma",
    residual: bool = False,
    band: tuple[float, float] = DEFAULT_BAND,
) -> SpectrumAnalysis:
    """Centred dB spectrum, radial profile and power-law fit of one image, from a single FFT."""
    plane = _prepare(image, channel, residual)
    h, w = plane.shape
    power = _half_power(plane, window)
    profile = _radial_from_half(power, h, w)
    return SpectrumAnalysis(
        spectrum_db=_centred_db(power, h, w),
        profile=profile,
        fit=fit_power_law(profile, band),
        channel=channel,
        window=window,
        residual=residual,
    )


# ---------------------------------------------------------------- sets of images


def _check_set(images: Sequence[np.ndarray], what: str) -> None:
    if images is None or len(images) == 0:
        raise SpectrumError(f"The {what} is empty; give at least one image.")


def common_axis(n_bins: int) -> np.ndarray:
    """Frequencies 0, 1/(2n), ..., 0.5 cycles/px: the shared axis of :func:`mean_profile`."""
    return np.arange(n_bins + 1) / (2.0 * n_bins)


def resample_profile(profile: RadialProfile, freq: np.ndarray) -> np.ndarray:
    """``profile.power`` on another frequency axis: log-log interpolation for f > 0, DC kept as is.

    Power laws are straight lines in log-log, so this is exact for them. Frequencies must lie
    within the profile's own bins (no extrapolation beyond half a bin).
    """
    freq = np.asarray(freq, dtype=np.float64)
    src_f = np.asarray(profile.freq, dtype=np.float64)
    src_p = np.asarray(profile.power, dtype=np.float64)
    out = np.empty(freq.shape, dtype=np.float64)
    ac = freq > 0
    out[~ac] = src_p[0]
    ok = (src_f > 0) & np.isfinite(src_p)
    lf = np.log10(src_f[ok])
    half_bin = 0.5 * (src_f[1] - src_f[0]) * (1 + 1e-9)  # a bin covers +-half a bin around its centre
    if ac.any() and (freq[ac].min() < src_f[ok][0] - half_bin or freq[ac].max() > src_f[ok][-1] + half_bin):
        raise SpectrumError(
            f"Cannot resample a profile spanning {src_f[ok][0]:.4g}–{src_f[ok][-1]:.4g} cycles/px "
            f"onto {freq[ac].min():.4g}–{freq[ac].max():.4g} without extrapolating."
        )
    out[ac] = 10.0 ** np.interp(np.log10(freq[ac]), lf, np.log10(src_p[ok] + POWER_FLOOR))
    return out


def mean_profile(
    images: Sequence[np.ndarray],
    *,
    n_bins: int | None = None,
    window: bool = True,
    channel: str = "luma",
    residual: bool = False,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> RadialProfile:
    """Mean radial power spectrum of a set of images, any sizes, on a common frequency axis.

    Each image's profile is resampled (log-log) onto ``common_axis(n_bins)``; ``n_bins`` defaults
    to the coarsest image's own resolution (``min(max(H, W)) // 2``) so no image is extrapolated.
    The mean is taken in dB (a geometric mean over images: one high-contrast image does not
    dominate, and the power-law fit of the mean equals the mean of the fits); ``spread_db`` is
    the standard deviation over images in dB, per bin.
    """
    _check_set(images, "image set")
    limit = min(max(np.asarray(im).shape[:2]) for im in images) // 2
    if n_bins is None:
        n_bins = limit
    if n_bins < 2:
        raise SpectrumError(f"n_bins must be at least 2 (got {n_bins}).")
    if n_bins > limit:
        raise SpectrumError(
            f"n_bins={n_bins} is finer than the smallest image allows ({limit}); use n_bins <= {limit}."
        )
    freq = common_axis(n_bins)
    reporter = ProgressReporter(progress)
    reporter.start_stage("Radial spectra")
    db = np.empty((len(images), freq.size), dtype=np.float64)
    for i, image in enumerate(images):
        check_cancel(cancel)
        plane = _prepare(image, channel, residual, what=f"image {i + 1}")
        h, w = plane.shape
        prof = _radial_from_half(_half_power(plane, window), h, w)
        db[i] = 10.0 * np.log10(resample_profile(prof, freq) + POWER_FLOOR)
        reporter.report(i + 1, len(images), stage="Radial spectra")
    mean_db = db.mean(axis=0)
    return RadialProfile(
        freq=freq,
        power=10.0 ** (mean_db / 10.0),
        spread_db=db.std(axis=0),
        n_images=len(images),
    )


def _as_profile(x, n_bins: int | None, **kw) -> RadialProfile:
    if isinstance(x, RadialProfile):
        return x
    if isinstance(x, np.ndarray) and x.ndim in (2, 3):
        x = [x]  # one image; a 4-D array is a stack of images
    return mean_profile(list(x), n_bins=n_bins, **kw)


def spectral_distance(
    set_a: Sequence[np.ndarray] | RadialProfile,
    set_b: Sequence[np.ndarray] | RadialProfile,
    *,
    band: tuple[float, float] = HIGH_BAND,
    window: bool = True,
    channel: str = "luma",
    residual: bool = False,
) -> float:
    """Mean absolute difference, in dB, of the two sets' mean radial spectra over ``band``.

    ``10*log10(P_a/P_b)`` averaged (absolute value) over the rings in ``band`` — by default the
    upper half of the frequencies, 0.25–0.5 cycles/px. 0 for identical sets; 3 dB means a factor
    of 2 in power on average. Either argument may be a precomputed :class:`RadialProfile`.
    """
    lo, hi = float(band[0]), float(band[1])
    if not (0.0 < lo < hi <= 0.5):
        raise SpectrumError(
            f"The distance band ({lo:g}, {hi:g}) must satisfy 0 < low < high <= 0.5 cycles/px."
        )
    kw = dict(window=window, channel=channel, residual=residual)
    n_bins = None
    sets = [s for s in (set_a, set_b) if not isinstance(s, RadialProfile)]
    for s, what in zip(sets, ("first image set", "second image set")):
        _check_set(s, what)
    if len(sets) == 2:  # one shared axis for both, as fine as the smallest image allows
        images = [im for s in sets for im in ([s] if isinstance(s, np.ndarray) and s.ndim in (2, 3) else s)]
        n_bins = min(max(np.asarray(im).shape[:2]) for im in images) // 2
    pa = _as_profile(set_a, n_bins, **kw)
    pb = _as_profile(set_b, n_bins, **kw)
    fa = np.asarray(pa.freq)
    sel = (fa >= lo - 1e-9) & (fa <= hi + 1e-9) & (fa > 0)
    if sel.sum() < 1:
        raise SpectrumError(f"No frequency bins fall in the distance band {lo:g}–{hi:g} cycles/px.")
    db_a = 10.0 * np.log10(np.asarray(pa.power)[sel] + POWER_FLOOR)
    db_b = 10.0 * np.log10(resample_profile(pb, fa[sel]) + POWER_FLOOR)
    return float(np.mean(np.abs(db_a - db_b)))


# ---------------------------------------------------------------- fingerprints


def _tile_starts(length: int, size: int, max_tiles: int) -> np.ndarray:
    if length == size:
        return np.zeros(1, dtype=int)
    n = min(max_tiles, math.ceil((length - size) / (size / 2)) + 1)
    return np.rint(np.linspace(0, length - size, max(n, 2))).astype(int)


def average_spectrum(
    images: Sequence[np.ndarray],
    *,
    size: int | None = None,
    residual: bool = False,
    window: bool = True,
    channel: str = "luma",
    max_tiles_per_side: int = 8,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Centred ``size``×``size`` spectrum in dB averaged over a set of images of any sizes.

    Each image is cut into ``size``-pixel tiles overlapping by half (Welch's method, at most
    ``max_tiles_per_side``² tiles, spread evenly), whose windowed power spectra are averaged; the
    per-image spectra are then averaged in dB. ``size`` defaults to the smallest image side
    (at most 256, rounded down to even); every image must be at least that large on both sides.
    """
    _check_set(images, "image set")
    smallest = min(min(np.asarray(im).shape[:2]) for im in images)
    if size is None:
        size = min(256, smallest) // 2 * 2
    if size < MIN_SIDE:
        raise SpectrumError(f"The spectrum size must be at least {MIN_SIDE} pixels (got {size}).")
    reporter = ProgressReporter(progress)
    reporter.start_stage("Residual spectra" if residual else "Spectra")
    acc = np.zeros((size, size // 2 + 1), dtype=np.float64)
    for i, image in enumerate(images):
        check_cancel(cancel)
        plane = _prepare(image, channel, residual, what=f"image {i + 1}")
        h, w = plane.shape
        if min(h, w) < size:
            raise SpectrumError(
                f"Image {i + 1} is {w}×{h} pixels, smaller than the spectrum size {size}; "
                f"use size <= {min(h, w)}."
            )
        ys = _tile_starts(h, size, max_tiles_per_side)
        xs = _tile_starts(w, size, max_tiles_per_side)
        tiles = np.stack([plane[y : y + size, x : x + size] for y in ys for x in xs])
        power = _half_power(tiles, window).mean(axis=0, dtype=np.float64)
        acc += np.log10(power + POWER_FLOOR)
        reporter.report(i + 1, len(images), stage="Residual spectra" if residual else "Spectra")
    mean_db = (acc * (10.0 / len(images))).astype(np.float32)
    return _centred_full(mean_db, size)


def residual_spectrum(images: Sequence[np.ndarray], **kwargs) -> np.ndarray:
    """The fingerprint view: :func:`average_spectrum` of the high-pass residuals (image − 3×3 median).

    Periodic generator artefacts (up-sampling checkerboards) add the same spikes to every image
    while image content averages out, so the spikes stand out after averaging many images.
    """
    return average_spectrum(images, residual=True, **kwargs)


def _local_median_wrap(spec: np.ndarray, k: int) -> np.ndarray:
    """k×k running median of a periodic 2-D array.

    Runs on a uint8 copy quantised over the spectrum's range (OpenCV's fast median takes only
    uint8 for k > 5): steps of range/255 dB, well under the 6 dB peak threshold.
    """
    r = k // 2
    lo, hi = float(spec.min()), float(spec.max())
    step = max(hi - lo, 1e-6) / 255.0
    q = np.rint((spec - lo) / step).astype(np.uint8)
    padded = np.pad(q, r, mode="wrap")
    med = cv2.medianBlur(padded, k)[r:-r, r:-r]
    return med.astype(np.float32) * np.float32(step) + np.float32(lo)


def find_peaks(
    spectrum_db: np.ndarray,
    *,
    min_strength_db: float = 6.0,
    z: float = 4.0,
    min_freq: float = 0.03,
    neighbourhood: int = 7,
    max_peaks: int = 16,
) -> list[Peak]:
    """Spikes of a centred dB spectrum, strongest first; each conjugate pair listed once (``fy >= 0``).

    A spike is a local maximum (3×3) that rises above the median of its ``neighbourhood``²
    surroundings (the spectrum wraps around, as DFTs do) by at least ``min_strength_db`` *and*
    by ``z`` robust standard deviations of that excess over the whole spectrum, at radial
    frequency >= ``min_freq`` cycles/px. The second rule adapts to how noisy the spectrum is: a
    single periodogram scatters by about 5.6 dB, an average of 64 by well under 1 dB, so
    averaging more images (see :func:`residual_spectrum`) reveals weaker artefacts.
    """
    spec = np.asarray(spectrum_db, dtype=np.float32)
    if spec.ndim != 2 or min(spec.shape) < 3:
        raise SpectrumError(f"find_peaks needs a 2-D spectrum (got shape {spec.shape}).")
    h, w = spec.shape
    k = max(3, int(neighbourhood) | 1)
    excess = spec - _local_median_wrap(spec, k)
    sample = excess.ravel()[:: max(1, excess.size // 65536)]  # a robust spread needs no more
    sigma = 1.4826 * float(np.median(np.abs(sample - np.median(sample))))
    threshold = max(float(min_strength_db), z * sigma)
    is_max = spec >= cv2.dilate(np.pad(spec, 1, mode="wrap"), np.ones((3, 3), np.uint8))[1:-1, 1:-1]
    fy, fx = spectrum_freqs((h, w))
    radius = np.hypot(fy[:, None], fx[None, :])
    cand = np.argwhere(is_max & (excess >= threshold) & (radius >= min_freq))
    order = np.argsort(-excess[cand[:, 0], cand[:, 1]], kind="stable")
    peaks: list[Peak] = []
    seen: set[tuple[int, int]] = set()
    for i, j in cand[order]:
        ky, kx = (i - h // 2) % h, (j - w // 2) % w
        key = min((ky, kx), ((-ky) % h, (-kx) % w))
        if key in seen:
            continue
        seen.add(key)
        ky, kx = key
        sy = ky / h if ky <= h / 2 else ky / h - 1.0
        sx = kx / w if kx <= w / 2 else kx / w - 1.0
        if sy < 0 or (sy == 0 and sx < 0):
            sy, sx = -sy, -sx
            sy = 0.5 if sy == -0.5 else sy
            sx = 0.5 if sx == -0.5 else sx
        peaks.append(
            Peak(fx=float(sx), fy=float(sy), strength_db=float(excess[i, j]), level_db=float(spec[i, j]))
        )
        if len(peaks) >= max_peaks:
            break
    return peaks


# ---------------------------------------------------------------- test signals


def synth_power_law_noise(h: int, w: int, alpha: float, seed: int = 0) -> np.ndarray:
    """Gaussian noise whose Fourier *amplitude* falls exactly as ``f**-alpha`` (float32 H×W, zero
    mean, unit variance); periodic, so it has no edges. For tests and calibration.
    """
    rng = np.random.default_rng(seed)
    white = np.fft.rfft2(rng.standard_normal((h, w)))
    f = np.sqrt(np.fft.fftfreq(h)[:, None] ** 2 + np.fft.rfftfreq(w)[None, :] ** 2)
    f[0, 0] = 1.0
    shaped = white * f**-alpha
    shaped[0, 0] = 0.0
    out = np.fft.irfft2(shaped, s=(h, w))
    out /= out.std()
    return out.astype(np.float32)
