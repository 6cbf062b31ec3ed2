"""One image's spectrum: the input plane, the transform, the 2-D log spectrum, the radial profile
and the power-law fit, and synthetic power-law noise for tests (conventions: core/spectrum/__init__.py)."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from core.jobs import GanvasError

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
