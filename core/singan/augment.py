"""Augmented copies of the training photo: the naive composites a model for harmonization or editing
learns to turn back into the photo (ConSinGAN, Hinz et al. WACV 2021, Sec. 4 "harmonization and editing").

ConSinGAN trains such a model on the photo with, at every iteration, an augmented copy entering
instead of noise, so at run time a user's naive composite is "just another augmented input":

* ``harmonize`` — 1 or 2 regions replaced by something foreign: a flat colour (ConSinGAN's cut-out
  of a random colour, its main augmentation), or another region of the photo recoloured (hue turned,
  channels swapped, inverted, gain) and maybe blurred, i.e. a pasted object of the wrong colours and
  sharpness; a quarter of the copies also get a mild global colour change (ConSinGAN's 25 %);
* ``edit`` — 1 to 5 regions of the photo cut and pasted a little away (ConSinGAN's ``shuffle_grid``:
  tiles shifted by 5–15 % of the side), leaving seams and repeated structure.

Regions are ellipses or rectangles (user masks are both). Sizes follow ConSinGAN's, as fractions of
the side: one region 25–50 %, two 12–25 % (harmonize); 20–50 % for one tile down to 10–15 % for
four or five (edit). Everything is drawn from the ``rng`` given, so a seed repeats a training run.
"""

from __future__ import annotations

import cv2
import numpy as np

from core.jobs import GanvasError

KINDS = ("harmonize", "edit")
GLOBAL_COLOUR_SHARE = 0.25  # ConSinGAN applies a colour/noise augmentation to a quarter of its inputs


def augment(photo: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """An augmented copy of ``photo`` (uint8 H×W×3) for ``kind`` ("harmonize" or "edit")."""
    if kind == "harmonize":
        return _foreign_regions(photo, rng)
    if kind == "edit":
        return _moved_regions(photo, rng)
    raise GanvasError(f"Unknown augmentation '{kind}'; choose one of: {', '.join(KINDS)}.")


def _region(h: int, w: int, rh: int, rw: int, rng: np.random.Generator) -> tuple[np.ndarray, int, int]:
    """A region mask of rh×rw (an ellipse or a rectangle) and a random top-left corner inside the image."""
    mask = np.zeros((rh, rw), np.uint8)
    if rng.random() < 0.5:
        cv2.ellipse(mask, (rw // 2, rh // 2), (max(1, rw // 2), max(1, rh // 2)), float(rng.uniform(0, 180)),
                    0, 360, 1, -1)
    else:
        mask[:] = 1
    return mask.astype(bool), int(rng.integers(0, h - rh + 1)), int(rng.integers(0, w - rw + 1))


def _recolour(patch: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """``patch`` with its colours changed: hue turned, channels swapped, inverted or a per-channel gain."""
    choice = rng.integers(4)
    if choice == 0:
        hsv = cv2.cvtColor(patch, cv2.COLOR_RGB2HSV).astype(np.int32)
        hsv[..., 0] = (hsv[..., 0] + int(strength * rng.uniform(20, 160))) % 180
        hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(1 - 0.5 * strength, 1 + 0.5 * strength), 0, 255)
        return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)
    if choice == 1:
        return np.ascontiguousarray(patch[..., rng.permutation(3)])
    if choice == 2 and strength >= 1:
        return 255 - patch
    gain = rng.uniform(1 - 0.5 * strength, 1 + 0.5 * strength, size=3)
    return np.clip(patch.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def _foreign_regions(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = photo.shape[:2]
    out = photo.copy()
    if rng.random() < GLOBAL_COLOUR_SHARE:
        out = _recolour(out, rng, strength=0.3)
    count = int(rng.integers(1, 3))
    lo, hi = (0.25, 0.5) if count == 1 else (0.12, 0.25)
    for _ in range(count):
        rh, rw = (max(2, round(s * rng.uniform(lo, hi))) for s in (h, w))
        mask, y, x = _region(h, w, rh, rw, rng)
        fill = rng.integers(3)
        if fill == 0:  # a flat colour (ConSinGAN's cut-out)
            src = np.empty((rh, rw, 3), np.uint8)
            src[:] = rng.integers(0, 256, size=3, dtype=np.uint8)
        else:  # another part of the photo in the wrong colours, sometimes out of focus
            sy, sx = int(rng.integers(0, h - rh + 1)), int(rng.integers(0, w - rw + 1))
            src = _recolour(photo[sy : sy + rh, sx : sx + rw], rng)
            if fill == 2:
                sigma = float(rng.uniform(1.0, 3.0)) * max(h, w) / 250
                src = cv2.GaussianBlur(src, (0, 0), sigma)
        out[y : y + rh, x : x + rw][mask] = src[mask]
    return out


def _moved_regions(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = photo.shape[:2]
    out = photo.copy()
    count = int(rng.integers(1, 6))
    size, shift = {1: ((0.2, 0.5), (0.05, 0.15)), 2: ((0.15, 0.3), (0.05, 0.1)),
                   3: ((0.1, 0.2), (0.05, 0.1))}.get(count, ((0.1, 0.15), (0.05, 0.1)))
    for _ in range(count):
        rh, rw = (max(2, round(s * rng.uniform(*size))) for s in (h, w))
        mask, y, x = _region(h, w, rh, rw, rng)
        sign = 1 if rng.random() < 0.5 else -1
        ty = int(np.clip(y + sign * round(h * rng.uniform(*shift)), 0, h - rh))
        tx = int(np.clip(x + sign * round(w * rng.uniform(*shift)), 0, w - rw))
        out[ty : ty + rh, tx : tx + rw][mask] = photo[y : y + rh, x : x + rw][mask]
    return out
