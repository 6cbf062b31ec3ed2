"""Solid figures (the sketch-shapes preset): 1–2 ellipses, rectangles or triangles of varied aspect
ratio, rotation and position, each in a colour that stands out from the background; the images a
sketch's closed outline can be compared with."""

from __future__ import annotations

import math
from collections.abc import Iterable

import cv2
import numpy as np

from core.primitives.config import PrimitivesConfig


def luma(rgb) -> float:
    return 0.299 * float(rgb[0]) + 0.587 * float(rgb[1]) + 0.114 * float(rgb[2])


def figure_params(
    config: PrimitivesConfig, rng: np.random.Generator, h: int, w: int, background: np.ndarray
) -> list[tuple[str, np.ndarray, tuple[int, int, int]]]:
    """The figures of one image: (kind, float32 K×2 outline points in pixels, colour), in drawing order.

    ``background`` is the background's mean RGB; each colour keeps at least 64 levels of luminance
    away from it, so the silhouette is always visible.
    """
    lo, hi = int(config.figure_count[0]), int(config.figure_count[1])
    n = int(rng.integers(lo, hi + 1))
    side = min(h, w)
    bg = luma(background)
    out = []
    for _ in range(n):
        kind = config.figure_kinds[int(rng.integers(0, len(config.figure_kinds)))]
        u = rng.random(6)
        long = side * (config.figure_size[0] + u[0] * (config.figure_size[1] - config.figure_size[0]))
        short = long * (config.figure_aspect[0] + u[1] * (config.figure_aspect[1] - config.figure_aspect[0]))
        theta = u[2] * math.pi
        # centre: the figure's bounding radius may leave the image by at most 40 %
        reach = 0.3 * long
        cx = reach + u[3] * max(w - 2 * reach, 0.0) if w > 2 * reach else w / 2
        cy = reach + u[4] * max(h - 2 * reach, 0.0) if h > 2 * reach else h / 2
        a, b = long / 2, short / 2
        if kind == "ellipse":
            t = np.linspace(0, 2 * math.pi, 48, endpoint=False)
            pts = np.stack([a * np.cos(t), b * np.sin(t)], 1)
        elif kind == "rectangle":
            pts = np.array([(-a, -b), (a, -b), (a, b), (-a, b)])
        else:  # isosceles triangle pointing along the long axis
            pts = np.array([(-a, -b), (a, 0.0), (-a, b)])
        rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
        pts = (pts @ rot.T + (cx, cy)).astype(np.float32)
        out.append((kind, pts, figure_colour(rng, bg)))
    return out


def figure_colour(rng: np.random.Generator, background_luma: float) -> tuple[int, int, int]:
    """A random colour at least 64 levels of luminance away from the background's."""
    bg = background_luma
    colour = rng.integers(0, 256, size=3)
    if abs(luma(colour) - bg) < 64:  # too close to the background: move it to the far side
        shift = 96 if bg < 128 else -96
        colour = np.clip(colour.astype(np.int64) + shift, 0, 255)
        if abs(luma(colour) - bg) < 64:
            colour = np.full(3, 255 if bg < 128 else 0)
    return (int(colour[0]), int(colour[1]), int(colour[2]))


def draw_figures(canvas: np.ndarray, figures: Iterable[tuple], antialias: bool = True) -> None:
    """Fill each figure's outline on ``canvas`` (H×W×3 uint8, in place), 1/16-px precision."""
    lt = cv2.LINE_AA if antialias else cv2.LINE_8
    for _kind, pts, colour in figures:
        cv2.fillPoly(canvas, [np.round(pts * 16).astype(np.int32)], colour, lt, shift=4)
