"""What one trained SinGAN does besides random samples (Shaham et al. 2019, Sec. 4; Figs. 10–15).

Every task injects an image into the pyramid at a chosen scale ``n`` (1 = one above the coarsest)
and lets the generators from ``n`` up add the training image's patch statistics
(:mod:`core.singan.task_inputs`):

* paint-to-image: a rough clip-art → realistic; plain injection by default, or the public code's
  quantised variant (the injection scale retrained on colour-quantised inputs first);
* editing / harmonization: the edited or pasted image goes in, the output is blended back through a
  dilated, feathered mask, so pixels outside it stay exactly as they were; the model can first learn
  the task as ConSinGAN's models do (Hinz et al. 2021: on augmented copies of the photo,
  :func:`~core.singan.adapt.adapt_to_edits`) or be fine-tuned on the composite itself
  (:func:`~core.singan.adapt.finetune_on`);
* super-resolution: the finest generator applied again and again, each time after a bicubic
  upsampling by ≈ 2^(1/3) (best with a model trained for it: ``config_for_task(config, "sr")``);
* retargeting: generation at any width and height; animation lives in :mod:`core.singan.animate`.

Defaults follow the public code (tamarott/SinGAN): 5 palette colours, mask dilation 20 px for
editing and 7 px for harmonization with a Gaussian feather σ = 5 — at its 250-px size, so here
fractions of the image's longer side (0.08, 0.028, 0.02) — SR step (1/2)^(1/3) and α = 100.
Inputs of the model's aspect ratio are resized to its finest scale (as the public code does); other
sizes are worked on as they are (retargeted).
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch

from core.images import as_rgb, blend, quantize_to_palette, to_tensor, to_uint8
from core.jobs import CancelToken, GanvasError, ProgressFn, ProgressReporter, check_cancel
from core.singan.adapt import PALETTE_COLOURS, adapt_to_edits, finetune_on, train_paint_scale
from core.singan.config import SR_STEP
from core.singan.generate import MAX_OUTPUT_PIXELS, SampleSettings, noise_for, sample_tensor, scale_inputs
from core.singan.model import SinGANModel
from core.singan.pyramid import resize
from core.singan.task_inputs import (
    EDIT_DILATE,
    FEATHER,
    HARMONIZE_DILATE,
    TaskInputError,
    as_array,
    check_injection_scale,
    exact,
    inject,
    make_edit_mask,
    prepare,
)

#: Back-projection steps after each SR pass (``consistent``): each takes the residual between the input
#: and the result shrunk back to the input's size and adds it, enlarged, to the result.
BACK_PROJECTION_STEPS = 2


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


def paint_to_image(
    model: SinGANModel,
    painting: np.ndarray,
    *,
    scale: int,
    seed: int = 0,
    quantize: bool = False,
    colours: int = PALETTE_COLOURS,
    quantize_iters: int | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """A realistic image from a rough painting (Fig. 10), injected at ``scale``.

    Plain (the public code's default): the painting enters like any coarse image. With ``quantize``
    (its ``--quantization_flag``): the generator of ``scale`` is first trained again on inputs
    quantised to the ``colours`` main colours of the training image at that scale
    (:func:`train_paint_scale`, cached per model), and the painting, snapped to those colours, enters
    at that scale's size."""
    reporter = ProgressReporter(progress)
    n = check_injection_scale(model, scale)
    rgb, _ = prepare(model, painting, "painting")
    if quantize:
        model, palette = train_paint_scale(model, n, colours=colours, iters=quantize_iters, seed=seed,
                                           progress=progress, cancel=cancel)
        rgb = quantize_to_palette(rgb, palette)
    check_cancel(cancel)
    out = inject(model, rgb, n, seed, cancel, from_below=not quantize)
    reporter.report(1, 1, stage="Paint to image", force=True)
    return out


def edit(
    model: SinGANModel,
    image: np.ndarray,
    mask: np.ndarray,
    *,
    scale: int,
    seed: int = 0,
    dilate: float = EDIT_DILATE,
    feather: float = FEATHER,
    adapt_iters: int = 0,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Make a cut-and-paste edit look seamless (Fig. 12): ``image`` is the edited image, ``mask`` marks
    the changed region; the result is generated from scale ``scale`` and blended in through the mask
    dilated by ``dilate`` and feathered by ``feather`` (fractions of the longer side) — pixels outside
    stay exactly as in ``image``. With ``adapt_iters`` > 0 the model first learns editing as ConSinGAN's
    do, on copies of the photo with regions moved (:func:`adapt_to_edits`, cached)."""
    n = check_injection_scale(model, scale)
    if adapt_iters > 0:
        model = adapt_to_edits(model, "edit", scale=n, iters=adapt_iters, progress=progress, cancel=cancel)
    return _masked(model, image, mask, n, seed, dilate, feather, "edited image", "edit mask",
                   "Editing", progress, cancel)


def harmonize(
    model: SinGANModel,
    composite: np.ndarray,
    mask: np.ndarray,
    *,
    scale: int,
    seed: int = 0,
    dilate: float = HARMONIZE_DILATE,
    feather: float = FEATHER,
    adapt_iters: int = 0,
    finetune_iters: int = 0,
    finetune_depth: int | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Blend a pasted object into the training image's style (Fig. 13). ``mask`` is the object's
    alpha. With ``adapt_iters`` > 0 the model first learns harmonization as ConSinGAN's do, on copies
    of the photo with foreign colours pasted in (:func:`adapt_to_edits`, cached per model); with
    ``finetune_iters`` > 0 (ConSinGAN: :data:`~core.singan.adapt.FINETUNE_ITERS`) it is then
    fine-tuned on the naive composite itself (:func:`finetune_on`, ``finetune_depth`` scales). The
    given model is not changed."""
    check_injection_scale(model, scale)
    if adapt_iters > 0:
        model = adapt_to_edits(model, "harmonize", scale=scale, iters=adapt_iters, progress=progress,
                               cancel=cancel)
    if finetune_iters > 0:
        comp, _ = prepare(model, composite, "composite", mask, "harmonization mask")
        model = finetune_on(model, comp, scale=scale, iters=finetune_iters, depth=finetune_depth,
                            progress=progress, cancel=cancel)
    return _masked(model, composite, mask, scale, seed, dilate, feather, "composite", "harmonization mask",
                   "Harmonization", progress, cancel)


def _masked(model, image, mask, scale, seed, dilate, feather, what, mask_what, stage, progress, cancel):
    reporter = ProgressReporter(progress)
    n = check_injection_scale(model, scale)
    if mask is None:
        raise TaskInputError(f"The {mask_what} is missing: select or paint the region to blend.")
    rgb, m = prepare(model, image, what, mask, mask_what)
    if not (m > 0.5).any():
        raise TaskInputError(f"The {mask_what} is empty: select the region that was changed or pasted.")
    soft = make_edit_mask(m, dilate, feather)
    check_cancel(cancel)
    generated = inject(model, rgb, n, seed, cancel)
    reporter.report(1, 1, stage=stage, force=True)
    return blend(rgb, generated, soft)


def super_resolve(
    model: SinGANModel,
    image: np.ndarray | None = None,
    *,
    factor: float = 4.0,
    seed: int = 0,
    consistent: bool = True,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """``image`` (default: the training image) enlarged ``factor`` times (Fig. 14): upsample by
    ≈ 2^(1/3) (bicubic), let the finest generator add detail, repeat. The injection scale is always
    the finest; use a model trained with ``config_for_task(config, "sr")`` for the paper's results.
    ``consistent`` (default) back-projects after every pass (:func:`back_project`), so the result
    shrunk ×``factor`` is the input again: the generator adds detail but cannot shift colours or
    contrast, which six passes otherwise pile up into over-contrasted edges and halos; ``False`` is
    the public code's plain loop."""
    reporter = ProgressReporter(progress)
    if model.num_trained == 0:
        raise GanvasError("The model has no trained scale yet.")
    rgb = model.image if image is None else as_rgb(as_array(image, "low-resolution image"), what="low-resolution image")
    h, w = rgb.shape[:2]
    steps, per = sr_steps(float(factor))
    th, tw = round(h * factor), round(w * factor)
    if th * tw > MAX_OUTPUT_PIXELS:
        raise GanvasError(
            f"The result would be {tw}×{th} pixels, above the limit of {MAX_OUTPUT_PIXELS / 1e6:.0f} megapixels; "
            "use a smaller image or factor."
        )
    last = model.num_trained - 1
    g, amp, pad, noise_pad = model.folded(last), model.noise_amps[last], model.config.pad, model.config.noise_pad
    x = low = to_tensor(rgb, model.device)
    with torch.inference_mode():
        for k in range(1, steps + 1):
            check_cancel(cancel)
            size = (th, tw) if k == steps else (round(h * per**k), round(w * per**k))
            x = resize(x, size).clamp(-1, 1)
            # the public code's first SR pass draws its noise as at a coarsest scale: one grey channel
            zh, zw = (size[0] + 2 * pad, size[1] + 2 * pad) if noise_pad else size
            z = noise_for(seed, 10_000 + k, 1, zh, zw, grey=(k == 1))
            x = g(*scale_inputs(x, z, amp, size, pad, noise_pad, 1, model.device)).clamp(-1, 1)
            if consistent:
                x = back_project(x, low)
            reporter.report(k, steps, stage=f"Super-resolution ×{factor:g}")
    return to_uint8(x)[0]


def back_project(x: torch.Tensor, low: torch.Tensor, steps: int = BACK_PROJECTION_STEPS) -> torch.Tensor:
    """``x`` corrected so that, shrunk to ``low``'s size, it gives ``low`` back (iterative back-projection,
    Irani & Peleg 1991): what shrinking removes is the generator's to add, what it keeps is the input's."""
    for _ in range(steps):
        x = (x + resize(low - resize(x, tuple(low.shape[-2:])), tuple(x.shape[-2:]))).clamp(-1, 1)
    return x


def bicubic_upscale(image: np.ndarray, factor: float) -> np.ndarray:
    """The plain bicubic enlargement SR is compared with (same size as :func:`super_resolve`'s result)."""
    rgb = as_rgb(as_array(image, "image"))
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
    return to_uint8(exact(out, (int(height), int(width))))[0]
