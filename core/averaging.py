"""Running averages of network weights (StyleGAN2's G_ema), shared by SinGAN's scales and the Sketch GAN."""

from __future__ import annotations

import torch


def accumulate(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    """``ema``'s parameters ← decay · ema + (1 − decay) · ``model``'s, matched by name; buffers (BatchNorm's
    statistics) are not averaged."""
    mine = dict(ema.named_parameters())
    pairs = [(mine[k], p.detach()) for k, p in model.named_parameters()]
    with torch.no_grad():
        torch._foreach_lerp_([a for a, _ in pairs], [p for _, p in pairs], 1.0 - decay)
