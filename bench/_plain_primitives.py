"""A plain, one-image-at-a-time numpy + OpenCV Primitives-PS, written the straightforward way
(float64 white noise → fft2 → amplitude law → ifft2 per channel; a random call per shape
parameter; full-image float64 compositing; OpenCV's default PNG settings). It follows the released
algorithm at 256 px and is the baseline the benchmark compares against."""

from __future__ import annotations

import cv2
import numpy as np


def _pink(rng: np.random.Generator, h: int, w: int, lo: float = 0.5, hi: float = 3.5) -> np.ndarray:
    noise = rng.standard_normal((h, w))
    spec = np.fft.fft2(noise)
    fy = np.abs(np.fft.fftfreq(h, d=0.2))
    fy[0] = fy[1] * 0.1
    fx = np.abs(np.fft.fftfreq(w, d=0.2))
    fx[0] = fx[1] * 0.1
    a, b = rng.random(2) * (hi - lo) + lo
    amp = 1.0 / ((fy**a + 1e-6)[:, None] + (fx**b + 1e-6)[None, :])
    return np.fft.ifft2(amp * spec).real


def _rgb_field(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    x = np.stack([_pink(rng, h, w) for _ in range(3)], axis=2)
    x = (x - x.min()) / (x.max() - x.min())
    return (255 * x).astype(np.uint8)


def plain_primitives_ps(rng: np.random.Generator, h: int, w: int, n: int = 100) -> np.ndarray:
    canvas = np.ascontiguousarray(_rgb_field(rng, h, w))
    side = min(h, w)
    kinds = ["line", "circle", "circle", "ellipse", "ellipse", "rectangle", "rectangle"]
    for i in range(n):
        kind = kinds[rng.integers(len(kinds))]
        col = tuple(int(v) for v in rng.integers(0, 256, 3))
        ms = int(round(side // 5 * (n - i) / n + 2))
        if kind == "line":
            x1, x2 = sorted(int(v) for v in rng.integers(0, w - 1, 2))
            y1, y2 = sorted(int(v) for v in rng.integers(0, h - 1, 2))
            cv2.line(canvas, (x1, y1), (x2, y2), col, int(rng.integers(1, ms)))
        elif kind == "circle":
            c = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            cv2.circle(canvas, c, int(rng.integers(1, ms)), col, -1)
        elif kind == "ellipse":
            c = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            ax = (int(rng.integers(1, ms)), int(rng.integers(1, ms)))
            cv2.ellipse(canvas, c, ax, int(rng.integers(0, 180)), 0, 360, col, -1)
        else:
            x1, y1 = int(rng.integers(0, max(1, w - 1 - ms))), int(rng.integers(0, max(1, h - 1 - ms)))
            cv2.rectangle(
                canvas, (x1, y1), (x1 + int(rng.integers(1, ms)), y1 + int(rng.integers(1, ms))), col, -1
            )
    mask = np.zeros((h, w, 3))
    kind = ["circle", "ellipse", "rectangle"][rng.integers(3)]
    cx = int(rng.integers(w // 2 - w // 10, w // 2 + w // 10))
    cy = int(rng.integers(h // 2 - h // 10, h // 2 + h // 10))
    if kind == "circle":
        cv2.circle(mask, (cx, cy), int(rng.integers(side // 4, 3 * side // 8)), (1, 1, 1), -1)
    elif kind == "ellipse":
        ax = (int(rng.integers(w // 4, 3 * w // 8)), int(rng.integers(h // 4, 3 * h // 8)))
        cv2.ellipse(mask, (cx, cy), ax, 0, 0, 360, (1, 1, 1), -1)
    else:
        x1, y1 = int(rng.integers(w // 8, w // 2)), int(rng.integers(h // 8, h // 2))
        x2, y2 = (
            x1 + int(rng.integers(3 * w // 8, 3 * w // 4)),
            y1 + int(rng.integers(3 * h // 8, 3 * h // 4)),
        )
        cv2.rectangle(mask, (x1, y1), (x2, y2), (1, 1, 1), -1)
    inside = _rgb_field(rng, h, w)
    return ((1 - mask) * canvas + mask * inside).astype(np.uint8)


def plain_png(path: str, image: np.ndarray) -> None:
    cv2.imwrite(path, image[..., ::-1])
