"""Sampling from a trained SinGAN: any start scale, diversity, output size and seed.

Noise for sample ``i`` at scale ``n`` comes from its own generator seeded by (seed + i, n), drawn on
the CPU: the same settings give the same pixels on every device and in any batch, and moving the
start scale keeps the noise of the other scales unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F

from core.images import to_uint8
from core.jobs import CancelToken, GanvasError, ProgressFn, ProgressReporter, check_cancel
from core.singan.model import ScaleHealth, SinGANModel
from core.singan.networks import FoldedGenerator
from core.singan.pyramid import resize

#: Largest output we generate in one go, in pixels (about 4K×4K), so a slip of a multiplier cannot eat all memory.
MAX_OUTPUT_PIXELS = 16_000_000


@dataclass(frozen=True)
class SampleSettings:
    """How to draw a sample. ``start_scale`` 0 is the coarsest; scales below it get the training image."""

    start_scale: int = 0
    diversity: float = 1.0  # 0: the photo's reconstruction; 1: the trained noise amplitudes; >1: more
    width_scale: float = 1.0
    height_scale: float = 1.0
    seed: int = 0

    def to_metadata(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items()}


def output_shapes(model: SinGANModel, width_scale: float = 1.0, height_scale: float = 1.0) -> list[tuple[int, int]]:
    """Every scale's size for the given multipliers (never below the receptive field)."""
    if width_scale <= 0 or height_scale <= 0:
        raise GanvasError(f"Width and height multipliers must be positive (got {width_scale}, {height_scale}).")
    return [(max(11, round(h * height_scale)), max(11, round(w * width_scale))) for h, w in model.shapes]


def noise_for(seed: int, scale: int, n: int, h: int, w: int, grey: bool) -> torch.Tensor:
    """N×3×H×W standard normal noise; the coarsest scale's is one grey channel repeated over RGB."""
    out = torch.empty(n, 3, h, w)
    for i in range(n):
        g = torch.Generator().manual_seed((int(seed) + i) * 1009 + scale)
        if grey:
            out[i] = torch.randn(1, h, w, generator=g).expand(3, h, w)
        else:
            out[i] = torch.randn(3, h, w, generator=g)
    return out


def run_scales(
    gens: Sequence[Callable[[torch.Tensor, torch.Tensor], torch.Tensor]],
    amps: Sequence[float],
    shapes: Sequence[tuple[int, int]],
    noise: Callable[[int, int, int], torch.Tensor],
    *,
    first: int,
    prev: torch.Tensor | None,
    pad: int,
    batch: int,
    device: torch.device,
    cancel: CancelToken | None = None,
    noise_pad: bool = False,
) -> torch.Tensor:
    """x̃_n = x̃_{n+1}↑ + ψ_n(a_n·z_n + x̃_{n+1}↑) for n = first … len(gens)-1.

    ``prev`` is the image entering scale ``first`` (any size; it is resized), or None at the
    coarsest scale (zeros). ``noise(n, h, w)`` returns unscaled noise for scale n at the size it is
    asked for: the padded size with ``noise_pad`` (ConSinGAN), else the scale's own size; a tensor of
    the scale's own size is always accepted and zero-padded (fixed noise such as z*).
    """
    x = prev
    for n in range(first, len(gens)):
        check_cancel(cancel)
        h, w = shapes[n]
        padded = noise_pad and n > 0  # ConSinGAN pads with noise above its first stage only
        z = noise(n, h + 2 * pad, w + 2 * pad) if padded else noise(n, h, w)
        x = gens[n](*scale_inputs(x, z, amps[n], (h, w), pad, padded, batch, device))
    return x


def scale_inputs(prev: torch.Tensor | None, z: torch.Tensor, amp: float, hw: tuple[int, int], pad: int,
                 noise_pad: bool, batch: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(generator input, residual base) of one scale: the image from below upsampled, plus scaled noise.

    SinGAN zero-pads both by the receptive field; ConSinGAN's noise padding upsamples the image to
    the padded size and draws noise there too, so borders vary like the interior.
    """
    h, w = hw
    hp, wp = h + 2 * pad, w + 2 * pad
    if prev is None:
        base = torch.zeros(batch, 3, h, w, device=device)
        image_in = torch.zeros(batch, 3, hp, wp, device=device)
    else:
        base = resize(prev, (h, w))
        image_in = resize(prev, (hp, wp)) if noise_pad else F.pad(base, (pad, pad, pad, pad))
    z = z.to(device)
    if tuple(z.shape[-2:]) != (hp, wp):
        z = F.pad(z, (pad, pad, pad, pad))
    return image_in + amp * z, base


def sample_tensor(
    model: SinGANModel,
    settings: SampleSettings = SampleSettings(),
    n: int = 1,
    *,
    inject: torch.Tensor | None = None,
    end_scale: int | None = None,
    cancel: CancelToken | None = None,
) -> torch.Tensor:
    """N×3×H×W samples in [-1, 1] (see :func:`sample`). ``inject`` replaces the input of ``start_scale``."""
    if model.num_trained == 0:
        raise GanvasError("The model has no trained scale yet.")
    last = model.num_trained - 1 if end_scale is None else end_scale
    if not 0 <= last < model.num_trained:
        raise GanvasError(f"End scale {end_scale} is outside the trained scales 0–{model.num_trained - 1}.")
    start = settings.start_scale
    if not 0 <= start <= last:
        raise GanvasError(f"Start scale {start} is outside 0–{last} (0 is the coarsest scale).")
    if n < 1:
        raise GanvasError(f"The number of samples must be at least 1 (got {n}).")
    shapes = output_shapes(model, settings.width_scale, settings.height_scale)
    h, w = shapes[last]
    if h * w * n > MAX_OUTPUT_PIXELS:
        raise GanvasError(
            f"The output would be {n}×{w}×{h} pixels, above the limit of {MAX_OUTPUT_PIXELS / 1e6:.0f} megapixels. "
            "Lower the size multipliers or the number of samples."
        )
    div = [settings.diversity] * model.num_trained
    amps = [a * d for a, d in zip(model.noise_amps, div)]
    noise = lambda s, hh, ww: noise_for(settings.seed, s, n, hh, ww, grey=(s == 0))  # noqa: E731
    if start == 0 and inject is None:
        # The coarsest scale turns from z* (diversity 0: the photo's reconstruction) to fresh noise
        # (diversity ≥ 1) along a great circle, so the noise keeps unit variance in between.
        amps[0] = model.noise_amps[0] * max(1.0, div[0])
        noise = _towards_reconstruction(model, noise, min(1.0, max(0.0, div[0])))
    if inject is not None:
        prev = inject.to(model.device).expand(n, -1, -1, -1)
    elif start > 0:
        prev = resize(model.reals[start - 1], shapes[start - 1]).expand(n, -1, -1, -1)
    else:
        prev = None
    gens = [model.folded(i) for i in range(last + 1)]
    with torch.inference_mode():
        return run_scales(
            gens, amps, shapes, noise, first=start, prev=prev, pad=model.config.pad, batch=n,
            device=model.device, cancel=cancel, noise_pad=model.config.noise_pad,
        ).clamp(-1, 1)


def _towards_reconstruction(model: SinGANModel, noise: Callable[[int, int, int], torch.Tensor],
                            diversity: float) -> Callable[[int, int, int], torch.Tensor]:
    """Noise whose coarsest scale is cos(θ)·z* + sin(θ)·z with θ = diversity·π/2."""
    if diversity >= 1.0:
        return noise
    theta = diversity * math.pi / 2

    def mixed(s: int, h: int, w: int) -> torch.Tensor:
        z = noise(s, h, w)
        if s != 0:
            return z
        rec = model.z_rec.cpu()
        pad = (h - rec.shape[-2]) // 2
        if pad > 0 and rec.shape[-1] + 2 * pad == w:  # noise drawn at the padded size
            rec = F.pad(rec, (pad, pad, pad, pad))
        if tuple(rec.shape[-2:]) != (h, w):  # retargeted output: z* stretched to the new size
            rec = F.interpolate(rec, size=(h, w), mode="bilinear", align_corners=False)
        return math.cos(theta) * rec.expand_as(z) + math.sin(theta) * z

    return mixed


def sample(
    model: SinGANModel,
    settings: SampleSettings = SampleSettings(),
    n: int = 1,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """``n`` random samples as uint8 N×H×W×3, drawn one at a time so long batches report progress and cancel."""
    reporter = ProgressReporter(progress)
    out = []
    for i in range(n):
        check_cancel(cancel)
        one = replace(settings, seed=settings.seed + i)
        out.append(to_uint8(sample_tensor(model, one, 1, cancel=cancel))[0])
        reporter.report(i + 1, n, stage="Sampling")
    return np.stack(out)


def rec_noise(model: SinGANModel) -> Callable[[int, int, int], torch.Tensor]:
    """The reconstruction path's noise for :func:`run_scales`: z* at the coarsest scale, zeros above it."""

    def noise(s: int, h: int, w: int) -> torch.Tensor:
        return model.z_rec if s == 0 else torch.zeros(1, 3, 1, 1).expand(1, 3, h, w)

    return noise


def reconstruct(model: SinGANModel, end_scale: int | None = None) -> torch.Tensor:
    """The reconstruction x̃ from the fixed z* (zero noise above the coarsest scale): 1×3×H×W."""
    return _reconstruction_pass(model, model.num_trained - 1 if end_scale is None else end_scale)[0][-1]


#: A generator whose tanh is beyond ±0.99 on more than this share of its pixels is saturated (almost no gradient).
SATURATED_SHARE = 0.5


def _reconstruction_pass(model: SinGANModel, last: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """:func:`reconstruct`'s path through scales 0…``last``: each scale's image x̃_n and each generator's
    own output (x̃_n less the image it was added to), so that one pass checks saturation and fit."""
    images: list[torch.Tensor] = []
    outs: list[torch.Tensor] = []

    def keeping_output(g: FoldedGenerator) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        def run(noisy: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
            x = g(noisy, base)
            images.append(x)
            outs.append(x - base)
            return x
        return run

    gens = [keeping_output(model.folded(n)) for n in range(last + 1)]
    with torch.inference_mode():
        run_scales(gens, model.noise_amps, model.shapes, rec_noise(model), first=0, prev=None,
                   pad=model.config.pad, batch=1, device=model.device, noise_pad=model.config.noise_pad)
    return images, outs


def _shares_beyond(model: SinGANModel, outs: list[torch.Tensor]) -> list[float]:
    """Each output's share of pixels beyond ±0.99, where the photo is not black or white."""
    grey = [(real.abs() < 0.98).any(dim=1, keepdim=True) for real in model.reals[: len(outs)]]
    return [float(((out.abs() > 0.99) & g).float().mean()) for out, g in zip(outs, grey)]


def saturated_shares(model: SinGANModel, last: int) -> list[float]:
    """For scales 0…``last``: the share of pixels where the generator's tanh is beyond ±0.99 on the
    reconstruction path, counting only where the photo is not black or white (the coarsest scale's
    output is the tanh itself, which must reach ±1 there). Healthy models read ~0; a saturated
    generator passes almost no gradient, and the scales warm-started from it tend to stay stuck too,
    so the samples come out flat."""
    return _shares_beyond(model, _reconstruction_pass(model, last)[1])


def saturated_scales(model: SinGANModel, scales: Iterable[int]) -> dict[int, float]:
    """Those of ``scales`` whose generator is saturated, with their saturated share."""
    scales = list(scales)
    return _stuck(saturated_shares(model, max(scales)) if scales else [], scales)


def _stuck(shares: list[float], scales: Iterable[int]) -> dict[int, float]:
    return {n: shares[n] for n in scales if shares[n] > SATURATED_SHARE}


def _retrain_advice(model: SinGANModel, opened: bool, *, running: bool) -> str:
    """What to do about a model that failed to learn: another seed, or the preset that has not failed so."""
    advice = (f"It was trained with seed {model.seed}: train it again with another seed" if opened else
              "Cancel and train again with another seed" if running else "Train it again with another seed")
    advice += f" (try seed {model.seed + 1})"
    if not model.config.batch_norm:
        advice += " or the fast preset"  # its BatchNorm generators have not failed so in any run measured
    return advice + "."


def scale_health(model: SinGANModel, last: int | None = None) -> list[ScaleHealth]:
    """:class:`ScaleHealth` of scales 0…``last`` (default: every trained one), from one reconstruction pass."""
    return _health_of(model, *_reconstruction_pass(model, model.num_trained - 1 if last is None else last))


def _health_of(model: SinGANModel, images: list[torch.Tensor], outs: list[torch.Tensor]) -> list[ScaleHealth]:
    rmse = [float((x - real).square().mean().sqrt()) for x, real in zip(images, model.reals)]
    return [ScaleHealth(s, r) for s, r in zip(_shares_beyond(model, outs), rmse)]


#: A scale whose reconstruction error is more than ``REC_JUMP`` times the scale below's, and above
#: ``REC_FLOOR`` (in [-1, 1] units), has broken down: the scales below reconstructed the photo and this one
#: threw that away. Healthy models' errors stay below 0.14, and their ratios below 1.6 above 0.05 (docs/singan.md).
REC_JUMP = 2.5
REC_FLOOR = 0.2


def rec_jumps(health: list[ScaleHealth], scales: Iterable[int]) -> dict[int, float]:
    """Those of ``scales`` (above the coarsest) whose reconstruction broke down, with their error's
    ratio to the scale below's."""
    jumps = {}
    for n in scales:
        if n > 0 and health[n].rec_rmse > max(REC_JUMP * health[n - 1].rec_rmse, REC_FLOOR):
            jumps[n] = health[n].rec_rmse / max(health[n - 1].rec_rmse, 1e-8)
    return jumps


def saturation_warning(model: SinGANModel, stuck: dict[int, float], *, opened: bool = False, tries: int = 1,
                       running: bool = False) -> str:
    """The user's warning for :func:`saturated_scales`' answer (``opened``: for a trained model being
    opened; ``tries``: how often training tried that scale; ``running``: scales are still to be trained,
    so cancelling saves their time); "" when it is empty."""
    if not stuck:
        return ""
    which = ", ".join(str(n + 1) for n in stuck)
    worst = max(stuck.values())
    one = len(stuck) == 1
    subject = f"The generator of scale {which} is" if one else f"The generators of scales {which} are"
    share = f"{worst:.0%}" if one else f"up to {worst:.0%}"
    they = "it" if one else "they"
    tried = f" after {tries} tries" if tries > 1 else ""
    then = ("the scales still to train are likely to stay stuck and the samples to come out flat" if running else
            "the samples are likely to come out flat")
    return (f"{subject} saturated{tried} (output stuck at ±1 on {share} of the pixels): {they} pass{'es' if one else ''} "
            f"almost no gradient, so {then}. {_retrain_advice(model, opened, running=running)}")


def breakdown(health: list[ScaleHealth], scales: Iterable[int]) -> tuple[dict[int, float], dict[int, float]]:
    """Those of ``scales`` that broke down: the saturated ones with their share, and the reconstructions
    that broke down (:func:`rec_jumps`) with their error's ratio to the scale below's."""
    scales = list(scales)
    return _stuck([h.saturated for h in health], scales), rec_jumps(health, scales)


def rec_jump_warning(model: SinGANModel, health: list[ScaleHealth], jumps: dict[int, float], *,
                     opened: bool = False, tries: int = 1, running: bool = False) -> str:
    """The user's warning for :func:`rec_jumps`' answer, naming the worst with its numbers in ``health``
    (the other arguments as :func:`saturation_warning`'s); "" when it is empty."""
    if not jumps:
        return ""
    n = max(jumps, key=jumps.get)
    which = f"scale {n + 1}" if len(jumps) == 1 else "scales " + ", ".join(str(k + 1) for k in sorted(jumps))
    tried = f" after {tries} tries" if tries > 1 else ""
    now, below = health[n].rec_rmse, health[n - 1].rec_rmse
    then = ("the scales still to train build on a broken image" if running else
            "the samples are likely to be murky or wrong")
    return (f"The reconstruction broke down at {which}{tried}: the error of scale {n + 1} (RMSE {now:.2f}) is "
            f"{now / max(below, 1e-8):.1f}× that of scale {n} ({below:.2f}), so {then}. "
            f"{_retrain_advice(model, opened, running=running)}")


def stage_warning(model: SinGANModel, health: list[ScaleHealth], stuck: dict[int, float], jumps: dict[int, float],
                  now: tuple[dict, dict], *, tries: int = 1, running: bool = False) -> str:
    """Training's warning after a scale that broke down (``now``: :func:`breakdown`'s answer for it): the
    way it broke, naming every scale that broke so (``stuck``: saturated, ``jumps``: broken reconstructions
    so far); "" when it did not break."""
    if now[0]:
        return saturation_warning(model, dict(sorted(stuck.items())), tries=tries, running=running)
    return rec_jump_warning(model, health, jumps, tries=tries, running=running) if now[1] else ""


#: A finished model whose reconstruction explains less than this share of its photo's variance has not
#: learnt the photo. Every healthy model measured explains 70 % or more (fast on 6 photos, ConSinGAN on
#: chelsea and brick, 128 px); the ConSinGAN runs of Hubble whose samples came out as murk, dark bubbles
#: or one flat colour explain 10 % or less.
UNFIT_SHARE = 0.4


def reconstruction_fit(model: SinGANModel) -> float:
    """The share of the photo's variance that the model's reconstruction x̃ explains at its finest trained
    scale: 1 − MSE(x̃, photo) / var(photo); negative when x̃ is farther off than the photo's mean colour.
    Every preset trains x̃ towards the photo, so a low fit means the generators did not learn it, even
    where none is saturated and the samples' statistics look plausible."""
    return _fit_of(model, reconstruct(model))


def _fit_of(model: SinGANModel, image: torch.Tensor) -> float:
    real = model.reals[model.num_trained - 1]
    return 1.0 - float((image - real).square().mean() / real.var().clamp_min(1e-8))


def fit_warning(model: SinGANModel, fit: float, *, opened: bool = False) -> str:
    """The user's warning for a finished model whose :func:`reconstruction_fit` is below
    :data:`UNFIT_SHARE`; "" otherwise."""
    if fit >= UNFIT_SHARE:  # NaN (weights gone NaN) is not, and warns
        return ""
    shown = fit if fit > 0 else 0.0
    return (f"The model does not reconstruct its photo (its reconstruction explains {shown:.0%} of the "
            f"photo's variation, a healthy model's two thirds or more): its samples are likely to be murky or "
            f"wrong. {_retrain_advice(model, opened, running=False)}")


def model_warning(model: SinGANModel) -> str:
    """The warnings for a trained model as it is opened (models trained before training checked, or
    whose warning went unread): saturated scales, and a finished model that does not reconstruct its
    photo (unless a saturation names the failure already); "" for a healthy one."""
    if not model.num_trained:
        return ""
    images, outs = _reconstruction_pass(model, model.num_trained - 1)
    health = _health_of(model, images, outs)
    stuck, jumps = breakdown(health, range(model.num_trained))
    if found := saturation_warning(model, stuck, opened=True) or rec_jump_warning(model, health, jumps, opened=True):
        return found
    if not model.complete:  # a partial one may catch up: ConSinGAN's brick fits 6 % at stage 4, 74 % at 6
        return ""
    return fit_warning(model, _fit_of(model, images[-1]), opened=True)
