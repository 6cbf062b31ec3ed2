"""Running averages of network weights (StyleGAN2's G_ema), shared by SinGAN's scales and the Sketch GAN.

Every average is set by its **half-life**: after that many steps a weight's old value counts half.
The settings name the unit the half-life is counted in, because it differs by design:
``SinGANConfig.ema_half_life_share`` (a share of the iterations done so far: each scale trains for
another length, and the random start must fade), ``SketchTuneConfig.ema_half_life`` (fine-tuning
steps) and ``PretrainConfig.ema_half_life_kimg`` (thousands of images, StyleGAN2's unit, so that it
holds at any batch size or number of GPUs).
"""

from __future__ import annotations

import torch


def half_life_decay(half_life: float, step: float = 1.0) -> float:
    """The decay per update of an average whose half-life is ``half_life``, for updates ``step`` apart
    (in the same unit)."""
    return 0.5 ** (step / half_life)


def accumulate(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    """``ema``'s parameters ← decay · ema + (1 − decay) · ``model``'s, matched by name; buffers (BatchNorm's
    statistics) are not averaged."""
    mine = dict(ema.named_parameters())
    pairs = [(mine[k], p.detach()) for k, p in model.named_parameters()]
    with torch.no_grad():
        torch._foreach_lerp_([a for a, _ in pairs], [p for _, p in pairs], 1.0 - decay)
