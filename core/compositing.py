"""Placing a cut-out (an RGB image with an alpha mask, or RGBA) onto a background: the naive
composite that harmonization and editing start from, and where the object landed as a mask of the
background's size."""

from __future__ import annotations

import cv2
import numpy as np

from core.images import ImageError, as_mask, as_rgb, resize


def paste(base: np.ndarray, patch: np.ndarray, alpha: np.ndarray, x: int, y: int) -> tuple[np.ndarray, np.ndarray]:
    """``patch`` (RGB, with ``alpha`` H×W in [0, 1]) alpha-blended onto ``base`` with its top-left corner
    at (x, y); parts outside ``base`` are cut off. Returns the result and where the patch landed (alpha
    at ``base``'s size). Refuses a patch that lands wholly outside."""
    out = as_rgb(base).copy()
    rgb = as_rgb(patch, what="pasted image")
    a = as_mask(alpha, rgb.shape[:2], what="pasted image's mask")
    h, w = out.shape[:2]
    ph, pw = a.shape
    x, y = int(x), int(y)
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + pw, w), min(y + ph, h)
    if x1 <= x0 or y1 <= y0:
        raise ImageError(f"The pasted {pw}×{ph} image at ({x}, {y}) lies outside the {w}×{h} image.")
    placed = np.zeros((h, w), np.float32)
    crop = a[y0 - y : y1 - y, x0 - x : x1 - x]
    placed[y0:y1, x0:x1] = crop
    region = out[y0:y1, x0:x1].astype(np.float32)
    src = rgb[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.float32)
    out[y0:y1, x0:x1] = np.round(region * (1 - crop[..., None]) + src * crop[..., None]).astype(np.uint8)
    return out, placed


def composite_object(background: np.ndarray, obj: np.ndarray, *, x: int, y: int, scale: float = 1.0,
                     mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The naive composite of ``obj`` (RGB or RGBA) pasted onto ``background`` at (x, y), resized by
    ``scale``, and its mask (the object's alpha, or ``mask``), both of the background's size."""
    o = np.asarray(obj)
    if o.ndim != 3 or o.shape[2] not in (3, 4):
        raise ImageError(f"The pasted image must be H×W×3 RGB or H×W×4 RGBA (got shape {o.shape}).")
    if mask is not None:
        alpha = as_mask(mask, o.shape[:2], what="object mask")
    elif o.shape[2] == 4:
        alpha = as_mask(o[..., 3], o.shape[:2], what="alpha")
    else:
        alpha = np.ones(o.shape[:2], np.float32)
    if not scale > 0:
        raise ImageError(f"The pasted image's scale must be positive (got {scale}).")
    rgb = as_rgb(o[..., :3])
    ow, oh = max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale))
    if (ow, oh) != (rgb.shape[1], rgb.shape[0]):
        rgb = resize(rgb, ow, oh)
        alpha = cv2.resize(alpha, (ow, oh), interpolation=cv2.INTER_LINEAR)
    return paste(background, rgb, alpha, x, y)
