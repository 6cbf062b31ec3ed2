"""Sampling from a trained SinGAN: any start scale, diversity, output size and seed.

Noise for sample ``i`` at scale ``n`` comes from its own generator seeded by (seed + i, n), drawn on
the CPU: the same settings give the same pixels on every device and in any batch, and moving the
start scale keeps the noise of the other scales unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F

from core.images import to_uint8
from core.jobs import CancelToken, GanvasError, ProgressFn, ProgressReporter, check_cancel
from core.singan.model import SinGANModel
from core.singan.pyramid import resize

#: Largest output we generate in one go, in pixels (about 4K×4K), so a slip of a multiplier cannot eat all memory.
MAX_OUTPUT_PIXELS = 16_000_000


@dataclass(frozen=True)
class SampleSettings:
    """How to draw a sample. ``start_scale`` 0 is the coarsest; scales below it get the training image."""

    start_scale: int = 0
    diversity: float = 1.0  # multiplies every scale's noise amplitude
    scale_diversity: tuple[float, ...] | None = None  # optional extra multiplier per scale
    width_scale: float = 1.0
    height_scale: float = 1.0
    seed: int = 0

    def to_metadata(self) -> dict[str, str]:
        d = asdict(self)
        if d["scale_diversity"] is None:
            d.pop("scale_diversity")
        return {k: str(v) for k, v in d.items()}


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
) -> torch.Tensor:
    """x̃_n = x̃_{n+1}↑ + ψ_n(a_n·z_n + x̃_{n+1}↑) for n = first … len(gens)-1.

    ``prev`` is the image entering scale ``first`` (any size; it is resized), or None at the
    coarsest scale (zeros). ``noise(n, h, w)`` returns unscaled noise for scale n.
    """
    x = prev
    for n in range(first, len(gens)):
        check_cancel(cancel)
        h, w = shapes[n]
        x = torch.zeros(batch, 3, h, w, device=device) if x is None else resize(x, (h, w))
        z = noise(n, h, w).to(device)
        xp = F.pad(x, (pad, pad, pad, pad))
        zp = F.pad(z * amps[n], (pad, pad, pad, pad))
        x = gens[n](zp + xp, xp)
    return x


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
    per_scale = settings.scale_diversity or ()
    amps = [a * settings.diversity * (per_scale[i] if i < len(per_scale) else 1.0)
            for i, a in enumerate(model.noise_amps)]
    if inject is not None:
        prev = inject.to(model.device).expand(n, -1, -1, -1)
    elif start > 0:
        prev = resize(model.reals[start - 1], shapes[start - 1]).expand(n, -1, -1, -1)
    else:
        prev = None
    gens = [model.folded(i) for i in range(last + 1)]
    with torch.inference_mode():
        return run_scales(
            gens, amps, shapes,
            lambda s, hh, ww: noise_for(settings.seed, s, n, hh, ww, grey=(s == 0)),
            first=start, prev=prev, pad=model.config.pad, batch=n, device=model.device, cancel=cancel,
        ).clamp(-1, 1)


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
        one = SampleSettings(**{**asdict(settings), "seed": settings.seed + i,
                                "scale_diversity": settings.scale_diversity})
        out.append(to_uint8(sample_tensor(model, one, 1, cancel=cancel))[0])
        reporter.report(i + 1, n, stage="Sampling")
    return np.stack(out)


def reconstruct(model: SinGANModel, end_scale: int | None = None) -> torch.Tensor:
    """The reconstruction x̃ from the fixed z* (zero noise above the coarsest scale): 1×3×H×W."""
    last = model.num_trained - 1 if end_scale is None else end_scale
    gens = [model.folded(i) for i in range(last + 1)]

    def noise(s: int, h: int, w: int) -> torch.Tensor:
        return model.z_rec if s == 0 else torch.zeros(1, 3, h, w)

    with torch.inference_mode():
        return run_scales(gens, model.noise_amps, model.shapes, noise, first=0, prev=None,
                          pad=model.config.pad, batch=1, device=model.device)
