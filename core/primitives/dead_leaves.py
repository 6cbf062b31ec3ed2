"""The dead-leaves baseline (Baradad et al., NeurIPS 2021): random shapes with radii ~ r^-sigma drawn
over each other until every pixel is covered."""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from core.primitives.config import PrimitivesConfig


@functools.lru_cache(maxsize=8)
def _leaf_radius_cdf(rmin: float, rmax: float, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    r = np.linspace(rmin, rmax, 200)
    p = 1.0 / r**sigma
    if sigma > 0:
        p = p - 1.0 / rmax**sigma
    cdf = np.cumsum(p)
    return r, cdf / cdf.max()


def draw_leaves(config: PrimitivesConfig, rng: np.random.Generator, canvas: np.ndarray) -> int:
    """Dead leaves: random shapes with radii ~ r^-sigma drawn until every pixel is covered; returns the count."""
    h, w = canvas.shape[:2]
    side = min(h, w)
    r_list, cdf = _leaf_radius_cdf(*config.leaf_radius_range, config.leaf_sigma)
    rgba = np.zeros((h, w, 4), np.uint8)
    kinds = config.leaf_kinds
    lt = cv2.LINE_AA if config.antialias else cv2.LINE_8
    drawn, block = 0, 64
    while drawn < config.leaf_max_count:
        m = min(block, config.leaf_max_count - drawn)
        kind_idx = rng.integers(0, len(kinds), size=m).tolist()
        colours = np.floor(rng.random((m, 3)) * 255).astype(np.int64)
        ridx = np.clip(np.searchsorted(cdf, rng.random(m)), 0, len(r_list) - 1)
        radius = np.maximum((r_list[ridx] * side).astype(np.int64), 1).tolist()
        centres = np.floor(rng.random((m, 2)) * (w, h)).astype(np.int64).tolist()
        extra = rng.random((m, 4)).tolist()
        for i in range(m):
            col = (*colours[i].tolist(), 255)
            r = radius[i]
            cx, cy = centres[i]
            kind = kinds[kind_idx[i]]
            if kind == "circle":
                cv2.circle(rgba, (cx, cy), r, col, -1, lt)
                continue
            if kind in ("square", "oriented_square"):
                half = r * math.sqrt(2) / 2
                pts = np.array([(-half, -half), (half, -half), (half, half), (-half, half)])
                if kind == "oriented_square":
                    t = extra[i][0] * 2 * math.pi
                    rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
                    pts = pts @ rot.T
            elif kind == "rectangle":
                a = extra[i][0] * math.pi / 2
                x, y = r * math.cos(a), r * math.sin(a)
                pts = np.array([(x, y), (x, -y), (-x, -y), (-x, y)])
            else:
                angles = np.sort(np.array(extra[i][: 3 if kind == "triangle" else 4]) * 2 * math.pi)
                pts = np.stack([r * np.cos(angles), r * np.sin(angles)], axis=1)
            pts = (pts + (cx, cy)).astype(np.int32)
            cv2.fillConvexPoly(rgba, pts, col, lt)
        drawn += m
        if rgba[..., 3].min() > 0:
            break
    canvas[...] = rgba[..., :3]
    return drawn
