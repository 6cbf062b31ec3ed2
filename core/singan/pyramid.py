"""The image pyramid: which sizes the scales have, and moving images between them."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from core.jobs import GanvasError
from core.singan.config import SinGANConfig


def pyramid_shapes(height: int, width: int, config: SinGANConfig) -> list[tuple[int, int]]:
    """(H, W) of every scale, coarsest first, for an image of ``height``×``width``.

    As in the public code: the image is shrunk so its longer side is at most ``max_size``;
    the number of scales is chosen so that steps are about ``scale_factor``; the factor is then
    adjusted so the shorter side of the coarsest scale is exactly ``min_size``. Works for any
    aspect: the shorter side sets the depth, the longer one follows.
    """
    if height < 1 or width < 1:
        raise GanvasError(f"The image has no pixels ({width}×{height}).")
    s1 = min(config.max_size / max(height, width), 1.0)
    h, w = max(1, round(height * s1)), max(1, round(width * s1))
    short = min(h, w)
    if short < config.min_size:
        raise GanvasError(
            f"The image is too small or too thin: at {w}×{h} its shorter side is below the coarsest "
            f"scale's {config.min_size} px. Use a larger image, a larger max size, or a smaller min size."
        )
    if config.schedule == "consingan":
        steps = config.stages - 1
    else:
        steps = max(math.ceil(math.log(config.min_size / short) / math.log(config.scale_factor) - 1e-9), 0)
    factor = (config.min_size / short) ** (1.0 / steps) if steps else 1.0
    shapes = []
    for i in range(steps + 1):
        s = factor ** _exponent(i, steps, config.schedule)
        shapes.append((max(config.min_size if h == short else 1, math.ceil(h * s - 1e-6)),
                       max(config.min_size if w == short else 1, math.ceil(w * s - 1e-6))))
    shapes[-1] = (h, w)
    return shapes


def _exponent(i: int, steps: int, schedule: str) -> float:
    """Power of the per-step factor for scale ``i`` (0 = coarsest, ``steps`` = finest).

    "geometric": ``steps - i`` (equal ratios). "consingan": ConSinGAN's rescaling,
    ``(S-1)/ln S · ln(S-i) + 1`` for S = ``steps`` — the same ends, with the scales packed towards
    the coarse end, where the global layout is learnt, and wide steps near the finest.
    """
    if schedule != "consingan" or i == steps or steps < 2:
        return float(steps - i)
    return (steps - 1) / math.log(steps) * math.log(steps - i) + 1.0


def resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bicubic resize of N×C×H×W to ``size``; antialiased when shrinking (like MATLAB's imresize)."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    shrinking = size[0] < x.shape[-2] or size[1] < x.shape[-1]
    return F.interpolate(x, size=size, mode="bicubic", align_corners=False, antialias=shrinking)


def build_pyramid(finest: torch.Tensor, shapes: list[tuple[int, int]]) -> list[torch.Tensor]:
    """Downsampled copies of ``finest`` (1×3×H×W in [-1, 1]) at every shape, coarsest first."""
    return [resize(finest, s).clamp(-1.0, 1.0) for s in shapes[:-1]] + [finest]
