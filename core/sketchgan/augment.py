"""Differentiable augmentation (DiffAugment, Zhao et al. 2020), as GANSketching applies it to both
real and fake inputs of the sketch discriminator so that a handful of sketches do not get memorised.

Policies: 'translation' (shift by up to 1/8 of the size, the paper's default), 'cutout', 'color'.
Unlike the reference, translation fills the uncovered border with ``fill`` (white paper, +1, for
sketches) rather than 0, which would draw a grey frame around a sketch.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

POLICIES = ("translation", "cutout", "color")


def translate(x: torch.Tensor, ratio: float = 0.125, fill: float = 0.0, generator=None) -> torch.Tensor:
    """Shift every sample by its own random integer offset in [-ratio*size, ratio*size]."""
    n, _, h, w = x.shape
    sy, sx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    if sy == 0 and sx == 0:
        return x
    dy = torch.randint(-sy, sy + 1, (n,), generator=generator).tolist()
    dx = torch.randint(-sx, sx + 1, (n,), generator=generator).tolist()
    padded = F.pad(x, [sx, sx, sy, sy], value=fill)
    out = [padded[i : i + 1, :, sy - dy[i] : sy - dy[i] + h, sx - dx[i] : sx - dx[i] + w] for i in range(n)]
    return torch.cat(out, 0)


def cutout(x: torch.Tensor, ratio: float = 0.5, fill: float = 0.0, generator=None) -> torch.Tensor:
    """Replace one random square of side ratio*size per sample with ``fill``."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), generator=generator).to(x.device)
    cx = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), generator=generator).to(x.device)
    yy = torch.arange(h, device=x.device).view(1, h, 1)
    xx = torch.arange(w, device=x.device).view(1, 1, w)
    inside = ((yy - cy + ch // 2) >= 0) & ((yy - cy + ch // 2) < ch) & ((xx - cx + cw // 2) >= 0)
    inside = inside & ((xx - cx + cw // 2) < cw)
    mask = inside.unsqueeze(1).to(x.dtype)
    return x * (1 - mask) + fill * mask


def color(x: torch.Tensor, generator=None) -> torch.Tensor:
    """Random brightness, saturation and contrast per sample."""
    n = x.shape[0]

    def r():
        return torch.rand(n, 1, 1, 1, generator=generator).to(x.device, x.dtype)

    x = x + (r() - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (r() * 2) + mean
    mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - mean) * (r() + 0.5) + mean


def diff_augment(
    x: torch.Tensor, policy: str = "translation", fill: float = 0.0, generator=None
) -> torch.Tensor:
    """Apply the comma-separated ``policy`` (e.g. 'translation' or 'translation,cutout'); '' = identity."""
    for p in [p.strip() for p in policy.split(",") if p.strip()]:
        if p == "translation":
            x = translate(x, fill=fill, generator=generator)
        elif p == "cutout":
            x = cutout(x, fill=fill, generator=generator)
        elif p == "color":
            x = color(x, generator=generator)
        else:
            raise ValueError(f"Unknown augmentation '{p}'; known: {', '.join(POLICIES)}")
    return x.contiguous()
