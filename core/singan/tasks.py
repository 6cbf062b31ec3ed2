"""What one trained SinGAN does besides random samples (Shaham et al. 2019, Sec. 4; Figs. 10–15).

Every task injects an image into the pyramid at a chosen scale ``n`` (1 = one above the coarsest)
and lets the generators from ``n`` up add the training image's patch statistics:

* paint-to-image: a rough clip-art → realistic; plain injection by default, or the public code's
  quantised variant (the injection scale retrained on colour-quantised inputs first);
* editing / harmonization: the edited or pasted image goes in, the output is blended back through a
  dilated, feathered mask, so pixels outside it stay exactly as they were; harmonization can first
  fine-tune the model on the composite as ConSinGAN does (Hinz et al. 2021: the finest scales
  together, from the trained critic; :func:`finetune_on`);
* super-resolution: the finest generator applied again and again, each time after a bicubic
  upsampling by ≈ 2^(1/3) (best with a model trained for it, see :data:`TRAINING_OVERRIDES`);
* animation: a momentum random walk in the noise maps, frame by frame;
* retargeting: generation at any width and height.

Defaults follow the public code (tamarott/SinGAN): 5 palette colours, mask dilation 20 px for
editing and 7 px for harmonization with a Gaussian feather σ = 5 — at its 250-px size, so here
fractions of the image's longer side (0.08, 0.028, 0.02) — SR step (1/2)^(1/3) and α = 100,
animation α = 0.1, β = 0.9, 100 frames at 10 fps. Inputs of the model's aspect ratio are resized to
its finest scale (as the public code does); other sizes are worked on as they are (retargeted).
"""

from __future__ import annotations

import copy
import hashlib
import math

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from core.images import (
    ImageError,
    as_mask,
    as_rgb,
    blend,
    feather_mask,
    palette_of,
    quantize_to_palette,
    to_tensor,
    to_uint8,
)
from core.images import resize as resize_image
from core.jobs import CancelToken, GanvasError, ProgressFn, ProgressReporter, check_cancel
from core.singan.config import SinGANConfig
from core.singan.generate import (
    MAX_OUTPUT_PIXELS,
    SampleSettings,
    noise_for,
    output_shapes,
    rec_noise,
    run_scales,
    sample_tensor,
    scale_inputs,
)
from core.singan.model import SinGANModel
from core.singan.pyramid import resize

PALETTE_COLOURS = 5  # k-means colours of the injection scale's image (paint2image's quantisation)
# Mask radii as fractions of the image's longer side: the public code's 20 px (editing), 7 px
# (harmonization) and σ = 5 px at its 250-px default size.
EDIT_DILATE = 20 / 250
HARMONIZE_DILATE = 7 / 250
FEATHER = 5 / 250
MAX_MASK_FRACTION = 0.5
SR_STEP = 0.5 ** (1.0 / 3.0)  # ≈ 0.794: the scale factor of an SR model and of each SR step
SR_ALPHA = 100.0  # reconstruction weight for an SR model
ANIM_ALPHA = 0.1  # pull of the walk back to the reconstruction noise
ANIM_BETA = 0.9  # momentum of the walk (the paper's GIFs use 0.8–0.95)
ANIM_FRAMES = 100
ANIM_FPS = 10
FINETUNE_ITERS = 2000  # ConSinGAN's fine-tuning iterations (its --niter default; the README's command keeps it)

#: Settings the public code trains with for a task (apply with :func:`config_for_task`). SR also trains
#: one scale at a time, zero-padded and without the patch loss, as SinGAN does: SR applies the finest
#: generator again and again, and one trained together with the scale below (``fast``) learnt a colour
#: correction that six passes piled up into red towers; the patch loss and noise padding added colour
#: fringes (docs/applications.md, super-resolution).
TRAINING_OVERRIDES: dict[str, dict[str, float | int | bool]] = {
    "sr": {"scale_factor": SR_STEP, "alpha": SR_ALPHA, "min_size": 18, "train_depth": 1, "lambda_patch": 0.0,
           "noise_pad": False},
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


# --------------------------------------------------------------------------- masks

def _array(x: object, what: str) -> np.ndarray:
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
    m = _array(mask, "mask")
    if not (0 <= dilate <= MAX_MASK_FRACTION and 0 <= feather <= MAX_MASK_FRACTION):
        raise GanvasError(f"Mask dilation and feather are fractions of the image's longer side in "
                          f"[0, {MAX_MASK_FRACTION}] (got {dilate}, {feather}).")
    r, sigma = mask_radii(m.shape, dilate, feather)
    try:
        return feather_mask(m, r, sigma)
    except ImageError as exc:
        raise TaskInputError(str(exc)) from None


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
    return to_uint8(_exact(out, (h, w)))[0]


# --------------------------------------------------------------------------- the tasks

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
    n = _check_injection_scale(model, scale)
    rgb, _ = _prepare(model, painting, "painting")
    if quantize:
        model, palette = train_paint_scale(model, n, colours=colours, iters=quantize_iters, seed=seed,
                                           progress=progress, cancel=cancel)
        rgb = quantize_to_palette(rgb, palette)
    check_cancel(cancel)
    out = _inject(model, rgb, n, seed, cancel, from_below=not quantize)
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
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Make a cut-and-paste edit look seamless (Fig. 12): ``image`` is the edited image, ``mask`` marks
    the changed region; the result is generated from scale ``scale`` and blended in through the mask
    dilated by ``dilate`` and feathered by ``feather`` (fractions of the longer side) — pixels outside
    stay exactly as in ``image``."""
    return _masked(model, image, mask, scale, seed, dilate, feather, "edited image", "edit mask",
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
    finetune_iters: int = 0,
    finetune_depth: int | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Blend a pasted object into the training image's style (Fig. 13). ``mask`` is the object's
    alpha. With ``finetune_iters`` > 0 (ConSinGAN: :data:`FINETUNE_ITERS`) the model is first
    fine-tuned on the naive composite (:func:`finetune_on`, ``finetune_depth`` scales); the given
    model is not changed."""
    _check_injection_scale(model, scale)
    if finetune_iters > 0:
        comp, _ = _prepare(model, composite, "composite", mask, "harmonization mask")
        model = finetune_on(model, comp, scale=scale, iters=finetune_iters, depth=finetune_depth,
                            progress=progress, cancel=cancel)
    return _masked(model, composite, mask, scale, seed, dilate, feather, "composite", "harmonization mask",
                   "Harmonization", progress, cancel)


def _masked(model, image, mask, scale, seed, dilate, feather, what, mask_what, stage, progress, cancel):
    reporter = ProgressReporter(progress)
    n = _check_injection_scale(model, scale)
    if mask is None:
        raise TaskInputError(f"The {mask_what} is missing: select or paint the region to blend.")
    rgb, m = _prepare(model, image, what, mask, mask_what)
    if not (m > 0.5).any():
        raise TaskInputError(f"The {mask_what} is empty: select the region that was changed or pasted.")
    soft = make_edit_mask(m, dilate, feather)
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
    g, amp, pad, noise_pad = model.folded(last), model.noise_amps[last], model.config.pad, model.config.noise_pad
    x = to_tensor(rgb, model.device)
    with torch.inference_mode():
        for k in range(1, steps + 1):
            check_cancel(cancel)
            size = (th, tw) if k == steps else (round(h * per**k), round(w * per**k))
            x = resize(x, size).clamp(-1, 1)
            # the public code's first SR pass draws its noise as at a coarsest scale: one grey channel
            zh, zw = (size[0] + 2 * pad, size[1] + 2 * pad) if noise_pad else size
            z = noise_for(seed, 10_000 + k, 1, zh, zw, grey=(k == 1))
            x = g(*scale_inputs(x, z, amp, size, pad, noise_pad, 1, model.device)).clamp(-1, 1)
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
    p = model.config.pad if model.config.noise_pad else 0  # noise padding (above scale 0): the walk covers the border too
    fixed = [model.z_rec.cpu() if s == 0 else torch.zeros(1, 3, h + 2 * p, w + 2 * p)
             for s, (h, w) in enumerate(shapes)]
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
                           pad=model.config.pad, batch=count, device=model.device, cancel=cancel,
                           noise_pad=model.config.noise_pad)
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

#: Fine-tuned models, newest last: (model id, composite hash, scale, iters, depth) → model.
_FINETUNE_CACHE: dict[tuple, SinGANModel] = {}
_FINETUNE_CACHE_SIZE = 1


def finetune_on(
    model: SinGANModel,
    composite: np.ndarray,
    *,
    scale: int = 1,
    iters: int = FINETUNE_ITERS,
    depth: int | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> SinGANModel:
    """A NEW model fine-tuned on ``composite`` as ConSinGAN does for harmonization and editing
    (tohinz/ConSinGAN, ``--fine_tune``): the finest scale and the ``depth − 1`` below it (default: the
    model's ``train_depth``, ConSinGAN's 3 for its own models) trained further together for ``iters``
    iterations, the lower ones with the learning rate × ``lr_scale`` per step down, from the trained
    critic, with the fakes made from the composite entering ``scale`` (as the task injects it) and the
    training losses — the adversarial one pulls the composite towards the training image's patches,
    the reconstruction keeps the model what it was. Cached for the last composite; ``model`` is not
    changed."""
    from core.singan.train import finetune_finest

    n = _check_injection_scale(model, scale)
    depth = model.config.train_depth if depth is None else int(depth)
    if iters < 1 or not 1 <= depth <= model.num_trained:
        raise GanvasError(f"Fine-tuning needs at least one iteration and 1–{model.num_trained} scales "
                          f"(got {iters} iterations, {depth} scales).")
    rgb, _ = _prepare(model, composite, "composite")
    mh, mw = model.shapes[model.num_trained - 1]
    if rgb.shape[:2] != (mh, mw):
        raise TaskInputError(
            f"Fine-tuning needs the composite at the model's size {mw}×{mh} (got {rgb.shape[1]}×{rgb.shape[0]})."
        )
    digest = hashlib.sha256(rgb.tobytes()).hexdigest()
    key = (model.model_id, digest, n, int(iters), depth)
    if key in _FINETUNE_CACHE:
        return _FINETUNE_CACHE[key]
    new = _copy_model(model, "ft" + hashlib.sha256(f"{digest}{n}{iters}{depth}".encode()).hexdigest()[:6])
    start = resize(to_tensor(rgb, new.device), new.shapes[n - 1]).clamp(-1, 1)  # enters n from below, as _inject
    finetune_finest(new, start, n, iters=int(iters), depth=depth, progress=progress, cancel=cancel)
    while len(_FINETUNE_CACHE) >= _FINETUNE_CACHE_SIZE:
        _FINETUNE_CACHE.pop(next(iter(_FINETUNE_CACHE)))
    _FINETUNE_CACHE[key] = new
    return new


def _copy_model(model: SinGANModel, tag: str) -> SinGANModel:
    """A copy of ``model`` whose generators can be trained without touching the original's."""
    new = SinGANModel(
        config=model.config, image=model.image.copy(), shapes=list(model.shapes), z_rec=model.z_rec.clone(),
        noise_amps=list(model.noise_amps), seed=model.seed, scale_seconds=list(model.scale_seconds),
        model_id=f"{model.model_id}-{tag}", device=model.device, critic=model.critic,
    )
    new.generators = [copy.deepcopy(g) for g in model.generators]
    return new


# --------------------------------------------------------------------------- quantised paint-to-image

#: Models retrained for quantised paint-to-image, newest last: (model id, scale, colours, iters, seed) → result.
_PAINT_CACHE: dict[tuple, tuple[SinGANModel, np.ndarray]] = {}
_PAINT_CACHE_SIZE = 2


def _quantize_tensor(x: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    """Every pixel of N×3×H×W ``x`` replaced by the nearest of the K×3 ``palette`` colours (both in [-1, 1])."""
    d = ((x[:, None] - palette[None, :, :, None, None]) ** 2).sum(dim=2)  # N×K×H×W
    return palette[d.argmin(dim=1)].permute(0, 3, 1, 2).contiguous()


def train_paint_scale(
    model: SinGANModel,
    scale: int,
    *,
    colours: int = PALETTE_COLOURS,
    iters: int | None = None,
    seed: int = 0,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> tuple[SinGANModel, np.ndarray]:
    """The public code's quantised paint-to-image training (``paint_train``): a NEW model whose
    generator at ``scale`` is trained again from scratch — fresh generator and critic, the model's
    own settings and ``iters`` (default: its training iterations) — with every input it sees (random
    and reconstruction) quantised to the ``colours`` k-means colours of the training image at that
    scale. It then turns flat colour regions, which is what a painting is, into texture. Returns the
    model and the palette (uint8 K×3). Cached per (model, scale, colours, iters, seed)."""
    from core.singan.networks import make_networks
    from core.singan.train import gradient_penalty

    n = _check_injection_scale(model, scale)
    iters = model.config.iters if iters is None else int(iters)
    if iters < 1 or not 1 <= int(colours) <= 64:
        raise GanvasError(f"Quantised painting needs at least one iteration and 1–64 colours "
                          f"(got {iters} iterations, {colours} colours).")
    key = (model.model_id, n, int(colours), iters, int(seed))
    if key in _PAINT_CACHE:
        return _PAINT_CACHE[key]
    cfg, dev, pad, noise_pad = model.config, model.device, model.config.pad, model.config.noise_pad
    real = model.reals[n]
    h, w = model.shapes[n]
    palette = palette_of(to_uint8(real)[0], int(colours), seed=seed)
    pal_t = torch.from_numpy(palette.astype(np.float32) / 127.5 - 1.0).to(dev)
    new = _copy_model(model, f"paint{n}q{colours}")
    lower = [model.folded(i) for i in range(n)]
    rng = torch.Generator().manual_seed(int(seed) * 31 + 11)
    with torch.no_grad():
        rec = run_scales(lower, model.noise_amps, model.shapes,
                         rec_noise(model),
                         first=0, prev=None, pad=pad, batch=1, device=dev, noise_pad=noise_pad)
        z_prev = resize(rec, (h, w))
    amp = cfg.noise_amp_init * math.sqrt(F.mse_loss(real, z_prev).item())  # from the plain input, as published
    rec_in, rec_base = scale_inputs(_quantize_tensor(z_prev, pal_t), torch.zeros(1, 3, h, w), amp, (h, w), pad,
                                    noise_pad, 1, dev)
    zh, zw = (h + 2 * pad, w + 2 * pad) if noise_pad else (h, w)

    def random_prev() -> torch.Tensor:
        with torch.no_grad():
            x = run_scales(lower, model.noise_amps, model.shapes,
                           lambda s, hh, ww: torch.randn(1, 1 if s == 0 else 3, hh, ww, generator=rng).expand(1, 3, hh, ww),
                           first=0, prev=None, pad=pad, batch=1, device=dev, noise_pad=noise_pad)
            return _quantize_tensor(resize(x, (h, w)), pal_t)

    g, d = (net.to(dev) for net in make_networks(cfg, n, seed=model.seed * 7919 + 1000 + n))
    g.train().requires_grad_(True)
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2))
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2))
    milestone = [max(1, int(iters * cfg.lr_decay_at))]
    sched_d = torch.optim.lr_scheduler.MultiStepLR(opt_d, milestone, cfg.lr_gamma)
    sched_g = torch.optim.lr_scheduler.MultiStepLR(opt_g, milestone, cfg.lr_gamma)
    reporter = ProgressReporter(progress)
    stage = f"Training scale {n} on {len(palette)}-colour inputs ({w}×{h})"
    reporter.start_stage(stage)
    for it in range(iters):
        check_cancel(cancel)
        d.requires_grad_(True)
        for _ in range(cfg.d_steps):
            noisy_p, prev_p = scale_inputs(random_prev(), torch.randn(1, 3, zh, zw, generator=rng), amp, (h, w),
                                           pad, noise_pad, 1, dev)
            opt_d.zero_grad(set_to_none=True)
            with torch.no_grad():
                fake = g(noisy_p, prev_p)
            loss_d = -d(real).mean() + d(fake).mean() + gradient_penalty(d, real, fake, cfg.lambda_grad, rng)
            loss_d.backward()
            opt_d.step()
        d.requires_grad_(False)
        for _ in range(cfg.g_steps):
            opt_g.zero_grad(set_to_none=True)
            loss_g = -d(g(noisy_p, prev_p)).mean()
            rec_loss = cfg.alpha * F.mse_loss(g(rec_in, rec_base), real)
            (loss_g + rec_loss).backward()
            opt_g.step()
        sched_d.step()
        sched_g.step()
        reporter.report(it + 1, iters, stage=stage,
                        metrics={"D": float(loss_d.item()), "G": float(loss_g.item()), "rec": float(rec_loss.item())})
    new.set_generator(n, g)
    new.noise_amps[n] = float(amp)
    while len(_PAINT_CACHE) >= _PAINT_CACHE_SIZE:
        _PAINT_CACHE.pop(next(iter(_PAINT_CACHE)))
    _PAINT_CACHE[key] = (new, palette)
    return new, palette
