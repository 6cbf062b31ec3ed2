"""Inputs of SinGAN's image tasks: validation, working size, blending masks and injection.

Every task that starts from an image (paint, edit, harmonize) validates it here, brings it to the
size the model works at, and injects it into the pyramid at a chosen scale (:func:`inject`). Masks
are dilated and feathered by fractions of the image's longer side, so a 128-px and a 500-px model get
the same mask relative to the picture (the public code's 20 px for editing, 7 px for harmonization
and σ 5 px at its 250-px size).
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch

from core.images import ImageError, as_mask, as_rgb, feather_mask, to_tensor, to_uint8
from core.images import resize as resize_image
from core.jobs import CancelToken, GanvasError
from core.singan.generate import SampleSettings, output_shapes, sample_tensor
from core.singan.model import SinGANModel
from core.singan.pyramid import resize

# Mask radii as fractions of the image's longer side: the public code's 20 px (editing), 7 px
# (harmonization) and σ = 5 px at its 250-px default size.
EDIT_DILATE = 20 / 250
HARMONIZE_DILATE = 7 / 250
FEATHER = 5 / 250
MAX_MASK_FRACTION = 0.5

#: Aspect-ratio difference under which an input is taken to show the training image's frame.
_SAME_ASPECT = 0.03


class TaskInputError(ImageError):
    """An input (image or mask) of the wrong type or size for a task, named in the message."""


def as_array(x: object, what: str) -> np.ndarray:
    """``x`` if it is a numpy image array of numbers, else a :class:`TaskInputError` naming ``what``."""
    if not isinstance(x, np.ndarray):
        raise TaskInputError(f"The {what} must be an image array (numpy), not {type(x).__name__}.")
    if x.dtype.kind not in "uifb":
        raise TaskInputError(f"The {what} has pixels of type {x.dtype}; use uint8 or float in [0, 1].")
    return x


def mask_radii(shape: tuple[int, ...], dilate: float, feather: float) -> tuple[float, float]:
    """(dilation radius, feather σ) in pixels for an image of ``shape``: the fractions times its longer
    side, so a 128-px and a 500-px model get the same mask relative to the picture."""
    side = max(int(shape[0]), int(shape[1]))
    return dilate * side, feather * side


def make_edit_mask(mask: np.ndarray, dilate: float = EDIT_DILATE, feather: float = FEATHER) -> np.ndarray:
    """The blending mask for an edit: ``mask`` (> 0.5 = changed) dilated by a disk of radius
    ``dilate`` and feathered by a Gaussian of σ ``feather`` (both fractions of the longer side),
    peak 1; exactly 0 beyond the feather, so pixels far from the edit are left untouched."""
    m = as_array(mask, "mask")
    if not (0 <= dilate <= MAX_MASK_FRACTION and 0 <= feather <= MAX_MASK_FRACTION):
        raise GanvasError(f"Mask dilation and feather are fractions of the image's longer side in "
                          f"[0, {MAX_MASK_FRACTION}] (got {dilate}, {feather}).")
    r, sigma = mask_radii(m.shape, dilate, feather)
    try:
        return feather_mask(m, r, sigma)
    except ImageError as exc:
        raise TaskInputError(str(exc)) from None


def check_injection_scale(model: SinGANModel, scale: int) -> int:
    """``scale`` as an int if an image can enter the model there (1 … finest), else a clear error."""
    if model.num_trained < 2:
        raise GanvasError("This task needs a model with at least two trained scales.")
    last = model.num_trained - 1
    if not isinstance(scale, (int, np.integer)) or not 1 <= int(scale) <= last:
        raise GanvasError(
            f"The injection scale must be between 1 and {last} (got {scale}); 1 is just above the coarsest "
            "scale and changes most, higher scales keep more of the input."
        )
    return int(scale)


def working_size(model: SinGANModel, h: int, w: int, what: str) -> tuple[int, int]:
    """The size an input is worked on at: the model's finest size for the same frame, else its own."""
    mh, mw = model.shapes[model.num_trained - 1]
    if (h, w) == (mh, mw):
        return h, w
    if abs(math.log((w / h) / (mw / mh))) < _SAME_ASPECT:
        return mh, mw
    if not (0.25 <= w / mw <= 4 and 0.25 <= h / mh <= 4):
        raise TaskInputError(
            f"The {what} is {w}×{h}, which does not fit this model (it works at {mw}×{mh}): use an image "
            f"of that aspect ratio, or between a quarter and four times its width and height."
        )
    return h, w


def prepare(model: SinGANModel, image: object, what: str, mask: object = None,
            mask_what: str = "mask") -> tuple[np.ndarray, np.ndarray | None]:
    """Validate an input image (and its mask, which must have the image's size) and bring both to
    the working size."""
    rgb = as_rgb(as_array(image, what), what=what)
    m = None
    if mask is not None:
        raw = as_array(mask, mask_what)
        if raw.ndim == 3 and raw.shape[2] in (1, 3, 4):
            raw = raw[..., 3] if raw.shape[2] == 4 else raw.max(axis=2)
        if raw.ndim != 2:
            raise TaskInputError(f"The {mask_what} must be a 2-D array (got shape {raw.shape}).")
        if raw.shape != rgb.shape[:2]:
            raise TaskInputError(
                f"The {mask_what} is {raw.shape[1]}×{raw.shape[0]} but the {what} is "
                f"{rgb.shape[1]}×{rgb.shape[0]}; they must be the same size."
            )
        m = as_mask(raw, rgb.shape[:2], what=mask_what)
    h, w = working_size(model, rgb.shape[0], rgb.shape[1], what)
    if (h, w) != rgb.shape[:2]:
        rgb = resize_image(rgb, w, h)
        if m is not None:
            m = cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR)
    return rgb, m


def exact(img_tensor: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return img_tensor if tuple(img_tensor.shape[-2:]) == tuple(size) else resize(img_tensor, size).clamp(-1, 1)


def inject(model: SinGANModel, rgb: np.ndarray, scale: int, seed: int,
           cancel: CancelToken | None, *, from_below: bool = True) -> np.ndarray:
    """Generate from scale ``scale`` up with ``rgb`` entering it. As the public code does, the input is
    first shrunk to the scale below (``scale − 1``) and upsampled to ``scale`` (``from_below``), so only
    its coarse layout and colours remain for the generators to fill in; quantised paint-to-image
    enters at ``scale``'s own size instead."""
    h, w = rgb.shape[:2]
    mh, mw = model.shapes[model.num_trained - 1]
    ws, hs = w / mw, h / mh
    shapes = output_shapes(model, ws, hs)
    x = to_tensor(rgb, model.device)
    prev = resize(x, shapes[scale - 1 if from_below else scale]).clamp(-1, 1)
    settings = SampleSettings(start_scale=scale, seed=int(seed), width_scale=ws, height_scale=hs)
    out = sample_tensor(model, settings, 1, inject=prev, cancel=cancel)
    return to_uint8(exact(out, (h, w)))[0]


