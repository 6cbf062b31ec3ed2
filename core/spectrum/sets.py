"""Sets of images: mean radial profiles on a common axis and the spectral distance between two sets."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.jobs import CancelToken, ProgressFn, ProgressReporter, check_cancel
from core.spectrum.analysis import (
    HIGH_BAND,
    POWER_FLOOR,
    RadialProfile,
    SpectrumError,
    _half_power,
    _prepare,
    _radial_from_half,
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
