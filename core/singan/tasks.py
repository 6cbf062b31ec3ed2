"""What one trained SinGAN does besides random samples (Shaham et al. 2019, Sec. 4; Figs. 10–15).

Every task injects an image into the pyramid at a chosen scale ``n`` (1 = one above the coarsest)
and lets the generators from ``n`` up add the training image's patch statistics:

* paint-to-image: a rough clip-art (optionally quantised to the training image's palette) → realistic;
* editing / harmonization: the edited or pasted image goes in, the output is blended back through a
  dilated, feathered mask, so pixels outside it stay exactly as they were; harmonization can first
  fine-tune the finest generators on the composite (ConSinGAN, Hinz et al. 2021);
* super-resolution: the finest generator applied again and again, each time after a bicubic
  upsampling by ≈ 2^(1/3) (best with a model trained for it, see :data:`TRAINING_OVERRIDES`);
* animation: a momentum random walk in the noise maps, frame by frame;
* retargeting: generation at any width and height.

Defaults follow the public code (tamarott/SinGAN): 5 palette colours, mask dilation 20 px for
editing and 7 px for harmonization with a Gaussian feather σ = 5, SR step (1/2)^(1/3) and α = 100,
animation α = 0.1, β = 0.9, 100 frames at 10 fps. Inputs of the model's aspect ratio are resized to
its finest scale (as the public code does); other sizes are worked on as they are (retargeted).
"""

from __future__ import annotations

import copy
import hashlib
import math
import os
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from core.files import atomic_write
from core.images import ImageError, as_mask, as_rgb, to_tensor, to_uint8
from core.images import resize as resize_image
from core.jobs import CancelToken, GanvasError, ProgressFn, ProgressReporter, check_cancel
from core.singan.config import SinGANConfig
from core.singan.generate import (
    MAX_OUTPUT_PIXELS,
    SampleSettings,
    noise_for,
    output_shapes,
    run_scales,
    sample_tensor,
)
from core.singan.model import SinGANModel
from core.singan.networks import Discriminator
from core.singan.pyramid import resize

TASKS = ("paint", "edit", "harmonize", "sr", "animate", "retarget")

PALETTE_COLOURS = 5  # k-means colours of the training image (paint2image's quantisation)
EDIT_DILATE_PX = 20  # editing: mask dilated by a disk of this radius ...
HARMONIZE_DILATE_PX = 7  # ... harmonization: a smaller one
FEATHER_SIGMA = 5.0  # Gaussian feather of the dilated mask
SR_STEP = 0.5 ** (1.0 / 3.0)  # ≈ 0.794: the scale factor of an SR model and of each SR step
SR_ALPHA = 100.0  # reconstruction weight for an SR model
ANIM_ALPHA = 0.1  # pull of the walk back to the reconstruction noise
ANIM_BETA = 0.9  # momentum of the walk (the paper's GIFs use 0.8–0.95)
ANIM_FRAMES = 100
ANIM_FPS = 10

#: Settings the public code trains with for a task (apply with :func:`config_for_task`).
TRAINING_OVERRIDES: dict[str, dict[str, float | int]] = {
    "sr": {"scale_factor": SR_STEP, "alpha": SR_ALPHA, "min_size": 18},
    "animation": {"min_size": 20},
}

#: Frames generated together in one batch on a GPU: about this many output pixels (bounds memory).
_ANIM_CHUNK_PIXELS = 400_000

#: Aspect-ratio difference under which an input is taken to show the training image's frame.
_SAME_ASPECT = 0.03


class TaskInputError(ImageError):
    """An input (image or mask) of the wrong type or size for a task, named in the message."""


# --------------------------------------------------------------------------- configuration

def config_for_task(config: SinGANConfig, task: str) -> SinGANConfig:
    """``config`` with the training settings the public code uses for ``task`` ("sr", "animation")."""
    if task in ("", "random", "paint", "edit", "harmonize", "retarget"):
        return config
    if task not in TRAINING_OVERRIDES:
        raise GanvasError(f"Unknown training task '{task}'. Choose one of: random, {', '.join(TRAINING_OVERRIDES)}.")
    return config.with_(**TRAINING_OVERRIDES[task])


def sr_ready(model: SinGANModel) -> bool:
    """True when the model was trained for super-resolution (scale factor ≈ (1/2)^(1/3), α ≥ 50)."""
    return abs(model.config.scale_factor - SR_STEP) < 0.02 and model.config.alpha >= 50


def sr_steps(factor: float) -> tuple[int, float]:
    """(number of generator passes, upsampling per pass) for an SR ``factor``, as the public code:
    round(log(1/r) / log((1/2)^(1/3))) passes of r^(1/passes) each (×2 → 3, ×4 → 6)."""
    if not 1.0 < factor <= 8.0:
        raise GanvasError(f"The super-resolution factor must be above 1 and at most 8 (got {factor}).")
    steps = max(1, round(math.log(1.0 / factor) / math.log(SR_STEP)))
    return steps, factor ** (1.0 / steps)


# --------------------------------------------------------------------------- palette and masks

def _array(x: object, what: str) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise TaskInputError(f"The {what} must be an image array (numpy), not {type(x).__name__}.")
    if x.dtype.kind not in "uifb":
        raise TaskInputError(f"The {what} has pixels of type {x.dtype}; use uint8 or float in [0, 1].")
    return x


def palette_of(image: np.ndarray, k: int = PALETTE_COLOURS, *, seed: int = 0) -> np.ndarray:
    """The ``k`` main colours of an image (k-means in RGB, deterministic): uint8 k×3, darkest first."""
    rgb = as_rgb(_array(image, "image"))
    if k < 1:
        raise GanvasError(f"The palette needs at least one colour (got {k}).")
    pixels = rgb.reshape(-1, 3).astype(np.float32)
    if len(pixels) > 40_000:  # k-means on a fixed subsample: same colours, a fraction of the time
        pixels = pixels[np.random.default_rng(seed).choice(len(pixels), 40_000, replace=False)]
    k = min(k, len(np.unique(pixels, axis=0)))
    cv2.setRNGSeed(int(seed))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 50, 0.2)
    _, _, centers = cv2.kmeans(pixels, k, None, criteria, 3, cv2.KMEANS_PP_CENTERS)
    centers = np.clip(np.round(centers), 0, 255).astype(np.uint8)
    return centers[np.argsort(centers.astype(np.int32).sum(axis=1))]


def quantize_to_palette(image: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Every pixel replaced by the nearest palette colour (uint8 H×W×3); the painting's colours become
    the training image's, so the injected clip-art matches what the coarse generators saw."""
    rgb = as_rgb(_array(image, "image"))
    pal = np.asarray(palette)
    if pal.ndim != 2 or pal.shape[1] != 3 or len(pal) == 0:
        raise TaskInputError(f"The palette must be K×3 RGB colours (got shape {pal.shape}).")
    pal = pal.astype(np.float32)
    flat = rgb.reshape(-1, 3).astype(np.float32)
    dist = (flat * flat).sum(1, keepdims=True) - 2 * flat @ pal.T + (pal * pal).sum(1)[None]
    return np.clip(pal[dist.argmin(axis=1)], 0, 255).astype(np.uint8).reshape(rgb.shape)


def make_edit_mask(mask: np.ndarray, dilate_px: int = EDIT_DILATE_PX, sigma: float = FEATHER_SIGMA) -> np.ndarray:
    """The blending mask for an edit: ``mask`` (> 0.5 = changed) dilated by a disk of ``dilate_px``
    and feathered with a Gaussian of ``sigma``, scaled so its peak is 1. float32 H×W in [0, 1];
    exactly 0 beyond the feather, so pixels far from the edit are left untouched."""
    m = _array(mask, "mask")
    if m.ndim == 3:
        m = m.max(axis=2)
    if m.ndim != 2 or 0 in m.shape:
        raise TaskInputError(f"The mask must be a 2-D array (got shape {m.shape}).")
    if dilate_px < 0 or sigma < 0:
        raise GanvasError(f"Mask dilation and feather must not be negative (got {dilate_px} px, σ {sigma}).")
    binary = (as_mask(m, m.shape) > 0.5).astype(np.uint8)
    if dilate_px > 0:
        disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * int(dilate_px) + 1, 2 * int(dilate_px) + 1))
        binary = cv2.dilate(binary, disk)
    out = binary.astype(np.float32)
    if sigma > 0:
        ksize = 2 * int(math.ceil(3 * sigma)) + 1
        out = cv2.GaussianBlur(out, (ksize, ksize), sigma, borderType=cv2.BORDER_REPLICATE)
        out[out < 1e-4] = 0.0  # no faint halo over the whole image
    peak = float(out.max())
    return np.clip(out / peak, 0.0, 1.0) if peak > 0 else out


def blend(original: np.ndarray, generated: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(1 − m)·original + m·generated, rounded to uint8; where m is 0 the original is kept bit for bit."""
    m = mask.astype(np.float32)[..., None]
    out = original.astype(np.float32) * (1.0 - m) + generated.astype(np.float32) * m
    return np.where(m > 0, np.clip(np.round(out), 0, 255), original).astype(np.uint8)


def composite_object(
    background: np.ndarray,
    obj: np.ndarray,
    *,
    x: int,
    y: int,
    scale: float = 1.0,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Paste ``obj`` (RGB or RGBA) onto ``background`` with its top-left corner at (x, y), resized by
    ``scale``: the naive composite and its mask (the object's alpha, or ``mask``), both of the
    background's size. Parts outside the background are cut off."""
    bg = as_rgb(_array(background, "background"))
    o = _array(obj, "pasted image")
    if o.ndim != 3 or o.shape[2] not in (3, 4):
        raise TaskInputError(f"The pasted image must be H×W×3 RGB or H×W×4 RGBA (got shape {o.shape}).")
    if mask is not None:
        alpha = as_mask(_array(mask, "object mask"), o.shape[:2], what="object mask")
    elif o.shape[2] == 4:
        alpha = as_mask(o[..., 3], o.shape[:2], what="alpha")
    else:
        alpha = np.ones(o.shape[:2], np.float32)
    rgb = as_rgb(o[..., :3])
    if scale <= 0:
        raise GanvasError(f"The pasted image's scale must be positive (got {scale}).")
    ow, oh = max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale))
    if (ow, oh) != (rgb.shape[1], rgb.shape[0]):
        rgb = resize_image(rgb, ow, oh)
        alpha = cv2.resize(alpha, (ow, oh), interpolation=cv2.INTER_LINEAR)
    h, w = bg.shape[:2]
    x0, y0, x1, y1 = max(int(x), 0), max(int(y), 0), min(int(x) + ow, w), min(int(y) + oh, h)
    full = np.zeros((h, w), np.float32)
    out = bg.copy()
    if x1 <= x0 or y1 <= y0:
        raise GanvasError(f"The pasted image at ({x}, {y}) lies outside the {w}×{h} background.")
    a = alpha[y0 - int(y) : y1 - int(y), x0 - int(x) : x1 - int(x)]
    full[y0:y1, x0:x1] = a
    patch = rgb[y0 - int(y) : y1 - int(y), x0 - int(x) : x1 - int(x)].astype(np.float32)
    region = out[y0:y1, x0:x1].astype(np.float32)
    out[y0:y1, x0:x1] = np.round(region * (1 - a[..., None]) + patch * a[..., None]).astype(np.uint8)
    return out, full


# --------------------------------------------------------------------------- helpers

def _check_injection_scale(model: SinGANModel, scale: int) -> int:
    if model.num_trained < 2:
        raise GanvasError("This task needs a model with at least two trained scales.")
    last = model.num_trained - 1
    if not isinstance(scale, (int, np.integer)) or not 1 <= int(scale) <= last:
        raise GanvasError(
            f"The injection scale must be between 1 and {last} (got {scale}); 1 is just above the coarsest "
            "scale and changes most, higher scales keep more of the input."
        )
    return int(scale)


def _working_size(model: SinGANModel, h: int, w: int, what: str) -> tuple[int, int]:
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


def _prepare(model: SinGANModel, image: object, what: str, mask: object = None,
             mask_what: str = "mask") -> tuple[np.ndarray, np.ndarray | None]:
    """Validate an input image (and its mask, which must have the image's size) and bring both to
    the working size."""
    rgb = as_rgb(_array(image, what), what=what)
    m = None
    if mask is not None:
        raw = _array(mask, mask_what)
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
    h, w = _working_size(model, rgb.shape[0], rgb.shape[1], what)
    if (h, w) != rgb.shape[:2]:
        rgb = resize_image(rgb, w, h)
        if m is not None:
            m = cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR)
    return rgb, m


def _exact(img_tensor: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return img_tensor if tuple(img_tensor.shape[-2:]) == tuple(size) else resize(img_tensor, size).clamp(-1, 1)


def _inject(model: SinGANModel, rgb: np.ndarray, scale: int, seed: int,
            cancel: CancelToken | None) -> np.ndarray:
    """Generate from scale ``scale`` up with ``rgb`` entering it, as the public code does: the input is
    shrunk to the scale below (``scale − 1``) and upsampled to ``scale``, so only its coarse layout and
    colours remain for the generators to fill in."""
    h, w = rgb.shape[:2]
    mh, mw = model.shapes[model.num_trained - 1]
    ws, hs = w / mw, h / mh
    shapes = output_shapes(model, ws, hs)
    x = to_tensor(rgb, model.device)
    prev = resize(x, shapes[scale - 1]).clamp(-1, 1)
    settings = SampleSettings(start_scale=scale, seed=int(seed), width_scale=ws, height_scale=hs)
    out = sample_tensor(model, settings, 1, inject=prev, cancel=cancel)
    return to_uint8(_exact(out, (h, w)))[0]


# --------------------------------------------------------------------------- the tasks

def paint_to_image(
    model: SinGANModel,
    painting: np.ndarray,
    *,
    scale: int,
    seed: int = 0,
    quantize: bool = True,
    palette: np.ndarray | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """A realistic image from a rough painting (Fig. 10). With ``quantize`` the painting's colours are
    first snapped to ``palette`` (default: the training image's 5 k-means colours)."""
    reporter = ProgressReporter(progress)
    n = _check_injection_scale(model, scale)
    rgb, _ = _prepare(model, painting, "painting")
    if quantize:
        rgb = quantize_to_palette(rgb, palette_of(model.image) if palette is None else palette)
    check_cancel(cancel)
    out = _inject(model, rgb, n, seed, cancel)
    reporter.report(1, 1, stage="Paint to image", force=True)
    return out


def edit(
    model: SinGANModel,
    image: np.ndarray,
    mask: np.ndarray,
    *,
    scale: int,
    seed: int = 0,
    dilate_px: int = EDIT_DILATE_PX,
    sigma: float = FEATHER_SIGMA,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Make a cut-and-paste edit look seamless (Fig. 12): ``image`` is the edited image, ``mask`` marks
    the changed region; the result is generated from scale ``scale`` and blended in through the mask
    dilated by ``dilate_px`` and feathered by ``sigma`` — pixels outside stay exactly as in ``image``."""
    return _masked(model, image, mask, scale, seed, dilate_px, sigma, "edited image", "edit mask",
                   "Editing", progress, cancel)


def harmonize(
    model: SinGANModel,
    composite: np.ndarray,
    mask: np.ndarray,
    *,
    scale: int,
    seed: int = 0,
    dilate_px: int = HARMONIZE_DILATE_PX,
    sigma: float = FEATHER_SIGMA,
    finetune_iters: int = 0,
    finetune_scales: int = 2,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Blend a pasted object into the training image's style (Fig. 13). ``mask`` is the object's
    alpha. With ``finetune_iters`` > 0 the finest ``finetune_scales`` generators are first fine-tuned
    on the naive composite (ConSinGAN); the given model is not changed."""
    _check_injection_scale(model, scale)
    if finetune_iters > 0:
        comp, _ = _prepare(model, composite, "composite", mask, "harmonization mask")
        model = finetune_on(model, comp, scale=scale, scales=finetune_scales, iters=finetune_iters, seed=seed,
                            progress=progress, cancel=cancel)
    return _masked(model, composite, mask, scale, seed, dilate_px, sigma, "composite", "harmonization mask",
                   "Harmonization", progress, cancel)


def _masked(model, image, mask, scale, seed, dilate_px, sigma, what, mask_what, stage, progress, cancel):
    reporter = ProgressReporter(progress)
    n = _check_injection_scale(model, scale)
    if mask is None:
        raise TaskInputError(f"The {mask_what} is missing: select or paint the region to blend.")
    rgb, m = _prepare(model, image, what, mask, mask_what)
    if not (m > 0.5).any():
        raise TaskInputError(f"The {mask_what} is empty: select the region that was changed or pasted.")
    soft = make_edit_mask(m, dilate_px, sigma)
    check_cancel(cancel)
    generated = _inject(model, rgb, n, seed, cancel)
    reporter.report(1, 1, stage=stage, force=True)
    return blend(rgb, generated, soft)


def super_resolve(
    model: SinGANModel,
    image: np.ndarray | None = None,
    *,
    factor: float = 4.0,
    seed: int = 0,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """``image`` (default: the training image) enlarged ``factor`` times (Fig. 14): upsample by
    ≈ 2^(1/3) (bicubic), let the finest generator add detail, repeat. The injection scale is always
    the finest; use a model trained with :data:`TRAINING_OVERRIDES` ["sr"] for the paper's results."""
    reporter = ProgressReporter(progress)
    if model.num_trained == 0:
        raise GanvasError("The model has no trained scale yet.")
    rgb = model.image if image is None else as_rgb(_array(image, "low-resolution image"), what="low-resolution image")
    h, w = rgb.shape[:2]
    steps, per = sr_steps(float(factor))
    th, tw = round(h * factor), round(w * factor)
    if th * tw > MAX_OUTPUT_PIXELS:
        raise GanvasError(
            f"The result would be {tw}×{th} pixels, above the limit of {MAX_OUTPUT_PIXELS / 1e6:.0f} megapixels; "
            "use a smaller image or factor."
        )
    last = model.num_trained - 1
    g, amp, pad = model.folded(last), model.noise_amps[last], model.config.pad
    x = to_tensor(rgb, model.device)
    with torch.inference_mode():
        for k in range(1, steps + 1):
            check_cancel(cancel)
            size = (th, tw) if k == steps else (round(h * per**k), round(w * per**k))
            x = resize(x, size).clamp(-1, 1)
            z = noise_for(seed, 10_000 + k, 1, size[0], size[1], grey=False).to(model.device)
            xp = F.pad(x, (pad,) * 4)
            x = g(F.pad(amp * z, (pad,) * 4) + xp, xp).clamp(-1, 1)
            reporter.report(k, steps, stage=f"Super-resolution ×{factor:g}")
    return to_uint8(x)[0]


def bicubic_upscale(image: np.ndarray, factor: float) -> np.ndarray:
    """The plain bicubic enlargement SR is compared with (same size as :func:`super_resolve`'s result)."""
    rgb = as_rgb(_array(image, "image"))
    h, w = rgb.shape[:2]
    return cv2.resize(rgb, (round(w * factor), round(h * factor)), interpolation=cv2.INTER_CUBIC)


def retarget(
    model: SinGANModel,
    *,
    width: int,
    height: int,
    scale: int = 0,
    seed: int = 0,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """A sample of exactly ``width``×``height`` (Fig. 8), generated from scale ``scale`` (0 = the
    coarsest: new layouts; higher: the training image's layout stretched, its details regenerated)."""
    reporter = ProgressReporter(progress)
    if model.num_trained == 0:
        raise GanvasError("The model has no trained scale yet.")
    if int(width) < 11 or int(height) < 11:
        raise GanvasError(f"The output must be at least 11×11 pixels (got {width}×{height}).")
    mh, mw = model.shapes[model.num_trained - 1]
    settings = SampleSettings(start_scale=int(scale), seed=int(seed),
                              width_scale=int(width) / mw, height_scale=int(height) / mh)
    out = sample_tensor(model, settings, 1, cancel=cancel)
    reporter.report(1, 1, stage="Retargeting", force=True)
    return to_uint8(_exact(out, (int(height), int(width))))[0]


def animate(
    model: SinGANModel,
    *,
    scale: int = 0,
    frames: int = ANIM_FRAMES,
    alpha: float = ANIM_ALPHA,
    beta: float = ANIM_BETA,
    seed: int = 0,
    loop: bool = False,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """A short video from one image (Sec. 4, "image animation"): frames × H × W × 3 uint8.

    Scales below ``scale`` keep the reconstruction noise z* (so the layout is the training image's);
    from ``scale`` up every noise map walks with momentum: Δ_t = β(z_{t-1} − z_{t-2}) + (1 − β)·ε,
    z_t = α·z* + (1 − α)(z_{t-1} + Δ_t), as the public code does. ``loop`` plays the walk forward and
    back, so the last frame leads into the first.
    """
    reporter = ProgressReporter(progress)
    if model.num_trained == 0:
        raise GanvasError("The model has no trained scale yet.")
    last = model.num_trained - 1
    if not 0 <= int(scale) <= last:
        raise GanvasError(f"The animation scale must be between 0 and {last} (got {scale}).")
    if not 2 <= int(frames) <= 2000:
        raise GanvasError(f"The number of frames must be between 2 and 2000 (got {frames}).")
    if not 0.0 <= alpha <= 1.0 or not 0.0 <= beta < 1.0:
        raise GanvasError(f"Animation α must be in [0, 1] and β in [0, 1) (got α {alpha}, β {beta}).")
    frames, scale = int(frames), int(scale)
    shapes = model.shapes[: last + 1]
    fixed = [model.z_rec.cpu() if s == 0 else torch.zeros(1, 3, h, w) for s, (h, w) in enumerate(shapes)]
    walkers = [_Walk(fixed[s], alpha, beta, seed, s) if s >= scale else None for s in range(last + 1)]
    gens = [model.folded(i) for i in range(last + 1)]
    h, w = shapes[-1]
    chunk = _frames_per_batch(model.device, h, w)
    out: list[np.ndarray] = []
    with torch.inference_mode():
        for start in range(0, frames, chunk):
            check_cancel(cancel)
            count = min(chunk, frames - start)
            noises = [walkers[s].steps(count) if walkers[s] is not None else fixed[s].expand(count, -1, -1, -1)
                      for s in range(last + 1)]
            x = run_scales(gens, model.noise_amps, shapes, lambda s, hh, ww, z=noises: z[s], first=0, prev=None,
                           pad=model.config.pad, batch=count, device=model.device, cancel=cancel)
            out.extend(to_uint8(x.clamp(-1, 1)))
            reporter.report(start + count, frames, stage="Animation")
    video = np.stack(out)
    if loop and frames > 2:
        video = np.concatenate([video, video[-2:0:-1]])
    return video


def _frames_per_batch(device: torch.device, h: int, w: int) -> int:
    """A batch of frames pays off on a GPU; on a CPU one at a time is faster (0.29 vs 0.43 s a frame at 250 px)."""
    return 1 if device.type == "cpu" else max(1, min(16, _ANIM_CHUNK_PIXELS // (h * w)))


class _Walk:
    """The momentum random walk of one scale's noise map (grey at the coarsest, like its noise)."""

    def __init__(self, z_fixed: torch.Tensor, alpha: float, beta: float, seed: int, scale: int) -> None:
        self.z_fixed, self.alpha, self.beta, self.scale = z_fixed, alpha, beta, scale
        self.rng = torch.Generator().manual_seed(int(seed) * 7919 + 104_729 * (scale + 1))
        self.prev2 = z_fixed.clone()
        self.prev1 = 0.95 * z_fixed + 0.05 * self._eps()

    def _eps(self) -> torch.Tensor:
        _, _, h, w = self.z_fixed.shape
        if self.scale == 0:
            return torch.randn(1, 1, h, w, generator=self.rng).expand(1, 3, h, w)
        return torch.randn(1, 3, h, w, generator=self.rng)

    def steps(self, count: int) -> torch.Tensor:
        zs = []
        for _ in range(count):
            diff = self.beta * (self.prev1 - self.prev2) + (1 - self.beta) * self._eps()
            z = self.alpha * self.z_fixed + (1 - self.alpha) * (self.prev1 + diff)
            self.prev2, self.prev1 = self.prev1, z
            zs.append(z)
        return torch.cat(zs)


# --------------------------------------------------------------------------- fine-tuning (ConSinGAN)

def finetune_on(
    model: SinGANModel,
    composite: np.ndarray,
    *,
    scale: int = 1,
    scales: int = 2,
    iters: int = 200,
    seed: int = 0,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> SinGANModel:
    """A NEW model whose finest ``scales`` generators (not below ``scale``) were trained further so that
    the composite, injected at ``scale``, comes out looking like the training image (ConSinGAN's
    fine-tuning for harmonization/editing). Same losses as training: WGAN-GP against the training
    image at that scale plus α × the reconstruction loss, which keeps the model what it was."""
    n = _check_injection_scale(model, scale)
    if iters < 1 or scales < 1:
        raise GanvasError(f"Fine-tuning needs at least one iteration and one scale (got {iters}, {scales}).")
    rgb, _ = _prepare(model, composite, "composite")
    mh, mw = model.shapes[model.num_trained - 1]
    if rgb.shape[:2] != (mh, mw):
        raise TaskInputError(
            f"Fine-tuning needs the composite at the model's size {mw}×{mh} (got {rgb.shape[1]}×{rgb.shape[0]})."
        )
    tag = hashlib.sha256(rgb.tobytes() + f"{n}{scales}{iters}{seed}".encode()).hexdigest()[:6]
    new = SinGANModel(
        config=model.config, image=model.image.copy(), shapes=list(model.shapes), z_rec=model.z_rec.clone(),
        noise_amps=list(model.noise_amps), seed=model.seed, scale_seconds=list(model.scale_seconds),
        model_id=f"{model.model_id}-ft{tag}", device=model.device,
    )
    new.generators = [copy.deepcopy(g) for g in model.generators]
    last = new.num_trained - 1
    tuned = list(range(max(n, last - scales + 1), last + 1))
    comp = to_tensor(rgb, new.device)
    reporter = ProgressReporter(progress)
    rng = torch.Generator().manual_seed(int(seed) * 31 + 7)
    for idx, k in enumerate(tuned):
        _finetune_scale(new, k, n, comp, iters, rng, reporter, idx, len(tuned), cancel)
    return new


def _finetune_scale(new: SinGANModel, k: int, n: int, comp: torch.Tensor, iters: int, rng: torch.Generator,
                    reporter: ProgressReporter, idx: int, count: int, cancel: CancelToken | None) -> None:
    """Train generator ``k`` of ``new`` in place: its fakes start from the composite injected at ``n``."""
    from core.singan.train import gradient_penalty

    cfg, dev, pad = new.config, new.device, new.config.pad
    h, w = new.shapes[k]
    real = new.reals[k]
    lower = [new.folded(i) for i in range(k)]
    with torch.no_grad():
        start = resize(comp, new.shapes[n - 1]).clamp(-1, 1)
        rec = run_scales(lower, new.noise_amps, new.shapes,
                         lambda s, hh, ww: new.z_rec if s == 0 else torch.zeros(1, 3, hh, ww),
                         first=0, prev=None, pad=pad, batch=1, device=dev)
        rec_prev = F.pad(resize(rec, (h, w)), (pad,) * 4)

    def composite_prev() -> torch.Tensor:
        """The composite after the (already tuned) scales n … k−1 with fresh noise, at scale k's size."""
        with torch.no_grad():
            if k == n:
                return resize(start, (h, w))
            x = run_scales(lower, new.noise_amps, new.shapes,
                           lambda s, hh, ww: torch.randn(1, 3, hh, ww, generator=rng),
                           first=n, prev=start, pad=pad, batch=1, device=dev)
            return resize(x, (h, w))

    g = new.generators[k].train().requires_grad_(True)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(new.seed * 7919 + k)
        d = Discriminator(cfg.channels_at(k), cfg.num_layers).to(dev)
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2))
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2))
    milestone = [max(1, int(iters * cfg.lr_decay_at))]
    sched_d = torch.optim.lr_scheduler.MultiStepLR(opt_d, milestone, cfg.lr_gamma)
    sched_g = torch.optim.lr_scheduler.MultiStepLR(opt_g, milestone, cfg.lr_gamma)
    amp = new.noise_amps[k]
    stage = f"Fine-tuning scale {k} ({w}×{h})"
    for it in range(iters):
        check_cancel(cancel)
        prev = composite_prev()
        z = torch.randn(1, 3, h, w, generator=rng).to(dev)
        prev_p = F.pad(prev, (pad,) * 4)
        noisy_p = F.pad(amp * z, (pad,) * 4) + prev_p
        d.requires_grad_(True)
        for _ in range(cfg.d_steps):
            opt_d.zero_grad(set_to_none=True)
            with torch.no_grad():
                fake = g(noisy_p, prev_p)
            loss_d = -d(real).mean() + d(fake).mean() + gradient_penalty(d, real, fake, cfg.lambda_grad, rng)
            loss_d.backward()
            opt_d.step()
        d.requires_grad_(False)
        # ConSinGAN's generator update: one backward pass, then ``g_steps`` optimizer steps with it
        opt_g.zero_grad(set_to_none=True)
        loss_g = -d(g(noisy_p, prev_p)).mean() + cfg.alpha * F.mse_loss(g(rec_prev, rec_prev), real)
        loss_g.backward()
        for _ in range(cfg.g_steps):
            opt_g.step()
        sched_d.step()
        sched_g.step()
        reporter.report(it + 1, iters, stage=stage, stage_index=idx, stage_count=count,
                        metrics={"D": float(loss_d.item()), "G": float(loss_g.item())},
                        remaining_steps_after=iters * (count - idx - 1))
    g.eval().requires_grad_(False)
    new._folded.clear()


# --------------------------------------------------------------------------- export

def _frames(frames: np.ndarray) -> np.ndarray:
    f = np.asarray(frames)
    if f.ndim != 4 or f.shape[3] != 3 or f.dtype != np.uint8 or len(f) == 0:
        raise TaskInputError(f"Frames must be uint8 N×H×W×3 (got {f.dtype} {f.shape}).")
    return f


def save_gif(path: str | os.PathLike, frames: np.ndarray, fps: float = ANIM_FPS, loop: bool = True) -> Path:
    """An animated GIF (atomic write); ``loop`` makes viewers repeat it forever, else it plays once."""
    from PIL import Image

    f = _frames(frames)
    if not 0 < fps <= 100:
        raise GanvasError(f"Frames per second must be in (0, 100] (got {fps}).")
    images = [Image.fromarray(im).quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
              for im in f]
    extra = {"loop": 0} if loop else {}

    def write(p: Path) -> None:
        images[0].save(p, format="GIF", save_all=True, append_images=images[1:],
                       duration=max(10, round(1000 / fps)), optimize=False, disposal=1, **extra)

    try:
        return atomic_write(path, write)
    except OSError as exc:
        raise GanvasError(f"Cannot write '{path}': {exc.strerror or exc}.") from exc


def save_mp4(path: str | os.PathLike, frames: np.ndarray, fps: float = ANIM_FPS) -> Path:
    """An MP4 video (OpenCV's 'mp4v' codec, atomic write). Odd sizes are padded to even by repeating
    the last row/column, as most players need even dimensions."""
    f = _frames(frames)
    if not 0 < fps <= 100:
        raise GanvasError(f"Frames per second must be in (0, 100] (got {fps}).")
    h, w = f.shape[1:3]
    ph, pw = h % 2, w % 2

    def write(p: Path) -> None:
        tmp = p.with_name(p.name + ".mp4")
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (w + pw, h + ph))
        try:
            if not writer.isOpened():
                raise GanvasError(
                    "Cannot write MP4: this OpenCV build has no 'mp4v' encoder. Export a GIF instead, or install "
                    "an OpenCV with FFmpeg (opencv-python-headless from PyPI has it)."
                )
            for im in f:
                if ph or pw:
                    im = np.pad(im, ((0, ph), (0, pw), (0, 0)), mode="edge")
                writer.write(np.ascontiguousarray(im[..., ::-1]))
        finally:
            writer.release()
        if tmp.exists():
            os.replace(tmp, p)

    try:
        return atomic_write(path, write)
    except OSError as exc:
        raise GanvasError(f"Cannot write '{path}': {exc.strerror or exc}.") from exc
