"""Spectrum plots drawn with OpenCV into a numpy image, for the CLI and reports (no Qt, no matplotlib).

The studio draws its own interactive plots (pyqtgraph); this module is for files.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from core.spectrum import Peak, PowerLawFit, RadialProfile

# BGR drawing on an RGB canvas is avoided: colours below are RGB and the canvas stays RGB.
COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14), (23, 190, 207)]
FONT = cv2.FONT_HERSHEY_SIMPLEX


@dataclass
class Curve:
    """One radial profile to draw, with an optional spread band and fitted line."""

    profile: RadialProfile
    label: str
    fit: PowerLawFit | None = None


def _text(
    img: np.ndarray,
    text: str,
    org: tuple[int, int],
    scale: float = 0.45,
    colour=(40, 40, 40),
    anchor: str = "left",
) -> None:
    (tw, th), _ = cv2.getTextSize(text, FONT, scale, 1)
    x, y = org
    if anchor == "centre":
        x -= tw // 2
    elif anchor == "right":
        x -= tw
    cv2.putText(img, text, (int(x), int(y + th // 2)), FONT, scale, colour, 1, cv2.LINE_AA)


def _nice_step(span: float) -> float:
    raw = span / 6.0
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def plot_profiles(
    curves: Sequence[Curve], *, size: tuple[int, int] = (760, 500), title: str = ""
) -> np.ndarray:
    """Log-log plot (x: cycles/px, log scale; y: power in dB) of radial profiles; uint8 H×W×3 RGB."""
    w, h = size
    img = np.full((h, w, 3), 255, np.uint8)
    left, right, top, bottom = 70, 20, 34 if title else 16, 48
    pw, ph = w - left - right, h - top - bottom
    freqs = [c.profile.freq[1:] for c in curves]
    dbs = [c.profile.power_db[1:] for c in curves]
    f_lo = min(float(f[0]) for f in freqs)
    f_hi = 0.5
    lows, highs = [], []
    for c, d in zip(curves, dbs):
        spread = c.profile.spread_db[1:] if c.profile.spread_db is not None else 0.0
        lows.append(np.nanmin(d - spread))
        highs.append(np.nanmax(d + spread))
    y_lo, y_hi = float(min(lows)), float(max(highs))
    pad = max(1.0, 0.05 * (y_hi - y_lo))
    y_lo, y_hi = y_lo - pad, y_hi + pad
    lx0, lx1 = math.log10(f_lo), math.log10(f_hi)

    def px(f):
        return left + (np.log10(f) - lx0) / (lx1 - lx0) * pw

    def py(db):
        return top + (y_hi - np.asarray(db)) / (y_hi - y_lo) * ph

    # grid and ticks
    for dec in range(math.floor(lx0), 1):
        for m in (1, 2, 5):
            f = m * 10.0**dec
            if f_lo * 0.999 <= f <= f_hi * 1.001:
                x = int(round(px(f)))
                cv2.line(img, (x, top), (x, top + ph), (225, 225, 225), 1)
                _text(img, f"{f:g}", (x, top + ph + 14), anchor="centre")
    x = int(round(px(0.5)))
    cv2.line(img, (x, top), (x, top + ph), (225, 225, 225), 1)
    _text(img, "0.5", (x, top + ph + 14), anchor="centre")
    step = _nice_step(y_hi - y_lo)
    for v in np.arange(math.ceil(y_lo / step) * step, y_hi, step):
        y = int(round(py(v)))
        cv2.line(img, (left, y), (left + pw, y), (225, 225, 225), 1)
        _text(img, f"{v:g}", (left - 6, y), anchor="right")
    cv2.rectangle(img, (left, top), (left + pw, top + ph), (90, 90, 90), 1)
    _text(img, "frequency (cycles/pixel, log scale)", (left + pw // 2, h - 12), anchor="centre")
    label = np.full((22, 200, 3), 255, np.uint8)
    _text(label, "power (dB)", (100, 11), anchor="centre")
    label = cv2.rotate(label, cv2.ROTATE_90_COUNTERCLOCKWISE)
    y0 = top + ph // 2 - label.shape[0] // 2
    if 0 <= y0 and y0 + label.shape[0] <= h:
        img[y0 : y0 + label.shape[0], 4 : 4 + label.shape[1]] = np.minimum(
            img[y0 : y0 + label.shape[0], 4 : 4 + label.shape[1]], label
        )
    if title:
        _text(img, title, (left + pw // 2, 16), scale=0.55, anchor="centre")

    # curves, clipped to the plot box
    box = img[top : top + ph + 1, left : left + pw + 1]
    shift = np.array([left, top])
    for i, (c, f, d) in enumerate(zip(curves, freqs, dbs)):
        colour = COLOURS[i % len(COLOURS)]
        if c.profile.spread_db is not None and len(curves) <= 3:
            s = c.profile.spread_db[1:]
            poly = np.concatenate([np.stack([px(f), py(d + s)], 1), np.stack([px(f), py(d - s)], 1)[::-1]])
            overlay = box.copy()
            cv2.fillPoly(overlay, [np.round(poly - shift).astype(np.int32)], colour)
            cv2.addWeighted(overlay, 0.18, box, 0.82, 0, dst=box)
        pts = np.round(np.stack([px(f), py(d)], 1) - shift).astype(np.int32)
        cv2.polylines(box, [pts], False, colour, 2, cv2.LINE_AA)
        if c.fit is not None:
            ff = np.geomspace(*c.fit.band, 40)
            fd = 10.0 * np.log10(c.fit.power_at(ff))
            fpts = np.round(np.stack([px(ff), py(fd)], 1) - shift).astype(np.int32)
            for j in range(0, len(fpts) - 1, 2):  # dashed
                cv2.line(box, tuple(fpts[j]), tuple(fpts[j + 1]), (30, 30, 30), 1, cv2.LINE_AA)
    # legend
    ly = top + 14
    for i, c in enumerate(curves):
        colour = COLOURS[i % len(COLOURS)]
        text = c.label + (f"  alpha={c.fit.alpha_amplitude:.2f}" if c.fit is not None else "")
        cv2.line(img, (left + pw - 250, ly), (left + pw - 225, ly), colour, 2, cv2.LINE_AA)
        _text(img, text[:36], (left + pw - 218, ly))
        ly += 18
    if any(c.fit is not None for c in curves):
        _text(img, "dashed: power-law fit (amplitude ~ 1/f^alpha)", (left + 8, top + ph - 12), scale=0.4)
    return img


def render_spectrum(
    spectrum_db: np.ndarray, peaks: Sequence[Peak] = (), *, size: int = 320, title: str = ""
) -> np.ndarray:
    """A centred dB spectrum as a colour image (DC in the middle), peaks circled; uint8 RGB."""
    spec = np.asarray(spectrum_db, dtype=np.float32)
    lo, hi = np.percentile(spec, [1.0, 99.9])
    norm = np.clip((spec - lo) / max(hi - lo, 1e-6), 0, 1)
    bgr = cv2.applyColorMap((norm * 255).astype(np.uint8), cv2.COLORMAP_INFERNO)
    h, w = spec.shape
    scale = size / max(h, w)
    out_w, out_h = max(1, round(w * scale)), max(1, round(h * scale))
    rgb = cv2.resize(bgr[..., ::-1], (out_w, out_h), interpolation=cv2.INTER_NEAREST)
    rgb = np.ascontiguousarray(rgb)
    for p in peaks:
        for sx, sy in ((p.fx, p.fy), (-p.fx, -p.fy)):
            x = (sx * w + w // 2) % w
            y = (sy * h + h // 2) % h
            cv2.circle(
                rgb, (int((x + 0.5) * scale), int((y + 0.5) * scale)), 9, (80, 220, 255), 1, cv2.LINE_AA
            )
    top = 24 if title else 0
    canvas = np.full((out_h + top + 22, out_w, 3), 255, np.uint8)
    canvas[top : top + out_h] = rgb
    if title:
        _text(canvas, title, (out_w // 2, 12), scale=0.5, anchor="centre")
    _text(
        canvas,
        "fx, fy in [-0.5, 0.5] cycles/px; DC at centre",
        (out_w // 2, top + out_h + 11),
        scale=0.38,
        anchor="centre",
    )
    return canvas


def side_by_side(*images: np.ndarray, gap: int = 10) -> np.ndarray:
    """Place RGB images next to each other on white, top-aligned."""
    h = max(im.shape[0] for im in images)
    w = sum(im.shape[1] for im in images) + gap * (len(images) - 1)
    out = np.full((h, w, 3), 255, np.uint8)
    x = 0
    for im in images:
        out[: im.shape[0], x : x + im.shape[1]] = im
        x += im.shape[1] + gap
    return out
