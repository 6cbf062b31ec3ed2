"""Generator fingerprints: the average (and high-pass residual) spectrum of a set of images, and its
periodic peaks."""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from core.jobs import CancelToken, ProgressFn, ProgressReporter, check_cancel
from core.spectrum.analysis import (
    MIN_SIDE,
    POWER_FLOOR,
    Peak,
    SpectrumError,
    _centred_full,
    _half_power,
    _prepare,
    spectrum_freqs,
)
from core.spectrum.sets import _check_set

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
