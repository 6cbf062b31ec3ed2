"""Sharp enlargements (×2, ×4) from a photo's own patches: example-based super-resolution, no training.

An image x (a SinGAN sample, or the photo itself) is enlarged in small steps of about 5/4, as in
Glasner et al. (ICCV 2009) and Freedman & Fattal (TOG 2011), which both rest on patches recurring
across scales in one photo. At each step to size s:

1. y = bicubic(x_prev → s): the right layout and colours, soft.
2. The example source S is the photo at size min(s, its own) (the model's photo when nothing larger
   is given: its patches are the examples of finer detail), L = S shrunk by the step and enlarged back
   (blurred as y is), and H = S − L the detail a blur removes.
3. Every p×p patch of y finds its nearest patch of L (PatchMatch on PCA keys, started from the
   proportional position); the matched patches of H are voted back (weighted by match quality) and
   added: y += vote(H).
4. Back-projection (Irani & Peleg 1991): y += bicubic(x − shrink(y)) a few times, so that y shrunk
   to the input's size is the input again (what keeps PSNR at bicubic's level).

The photo's patches never replace y's layout, only its missing detail, so a sample keeps its
composition and colours. Memory and time are linear in the output's pixels.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from core.device import pick_device
from core.images import as_rgb, to_tensor, to_uint8
from core.jobs import CancelToken, GanvasError, ProgressFn, ProgressReporter, check_cancel
from core.patchnn.generate import MAX_OUTPUT_PIXELS, _resize, _vote, _vote_weights
from core.patchnn.search import features, pca_basis

#: Factors an export offers (the CLI's ``--scale-up`` and the studio's "Export at size…").
SCALE_UP_FACTORS = (2, 4)
#: Enlargement per step (Freedman & Fattal's 5/4; ×4 takes 7 steps of 1.219, ×2 takes 4 of 1.189).
STEP = 1.25
PATCH = 5
PCA_DIMS = 16
BACK_PROJECTIONS = 3
RADIUS = 2


def _bicubic(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(x, size=size, mode="bicubic", align_corners=False)


def step_sizes(height: int, width: int, factor: float) -> list[tuple[int, int]]:
    """(h, w) after each enlargement step, the last exactly ``factor`` times the input."""
    steps = max(1, math.ceil(math.log(factor) / math.log(STEP) - 1e-9))
    per = factor ** (1.0 / steps)
    return [(round(height * per ** k), round(width * per ** k)) for k in range(1, steps + 1)]


def _local_match(queries: torch.Tensor, q_grid: tuple[int, int], keys: torch.Tensor, k_grid: tuple[int, int],
                 radius: int) -> tuple[torch.Tensor, torch.Tensor]:
    """For every query patch, the nearest key within ``radius`` px of its proportional position (exhaustive)."""
    dev = keys.device
    cy = (torch.arange(q_grid[0], device=dev) * (k_grid[0] / q_grid[0])).long()
    cx = (torch.arange(q_grid[1], device=dev) * (k_grid[1] / q_grid[1])).long()
    best_d = best_i = None
    for dy in range(-radius, radius + 1):
        ky = (cy + dy).clamp(0, k_grid[0] - 1)
        for dx in range(-radius, radius + 1):
            kx = (cx + dx).clamp(0, k_grid[1] - 1)
            idx = (ky[:, None] * k_grid[1] + kx[None, :]).reshape(-1)
            d = keys.index_select(0, idx).sub_(queries).pow_(2).sum(1)
            if best_d is None:
                best_d, best_i = d, idx
            else:
                better = d < best_d
                best_d = torch.where(better, d, best_d)
                best_i = torch.where(better, idx, best_i)
    return best_i, best_d


def _step(y: torch.Tensor, source: torch.Tensor, ratio: float, g: torch.Generator) -> torch.Tensor:
    """One enlargement's detail: ``y`` (already enlarged by ``ratio``) plus the voted high band of ``source``."""
    sh, sw = source.shape[-2:]
    low = _bicubic(_resize(source, (max(PATCH, round(sh / ratio)), max(PATCH, round(sw / ratio)))), (sh, sw))
    high = source - low
    basis = pca_basis(low, PATCH, PCA_DIMS, g)
    keys, queries = features(low, basis), features(y, basis)
    q_grid = (y.shape[-2] - PATCH + 1, y.shape[-1] - PATCH + 1)
    k_grid = (sh - PATCH + 1, sw - PATCH + 1)
    field, dist = _local_match(queries, q_grid, keys, k_grid, RADIUS)
    return y + _vote(high, field, k_grid, _vote_weights(dist, 16.0), tuple(y.shape[-2:]), PATCH)


def scale_up(
    image: np.ndarray,
    factor: float,
    source: np.ndarray | None = None,
    *,
    seed: int = 0,
    device: torch.device | str | None = "cpu",
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """``image`` (uint8 H×W×3) enlarged ``factor`` times (uint8), sharpened with ``source``'s patches.

    ``source`` is the photo whose patches show the finer detail: the model's own photo (default: ``image``
    itself), or a larger copy of it, which is used at the resolution each step needs (up to its own).
    Deterministic for a seed.
    """
    rgb = as_rgb(image, what="image")
    src = rgb if source is None else as_rgb(source, what="source photo")
    if not 1.0 < float(factor) <= 8.0:
        raise GanvasError(f"The scale-up factor must be above 1 and at most 8 (got {factor}).")
    h, w = rgb.shape[:2]
    if min(h, w) < 2 * PATCH or min(src.shape[:2]) < 2 * PATCH:
        raise GanvasError(f"Scaling up needs an image and a source photo of at least {2 * PATCH} px a side "
                          f"(got {w}×{h} and {src.shape[1]}×{src.shape[0]}).")
    sizes = step_sizes(h, w, float(factor))
    th, tw = sizes[-1]
    if th * tw > MAX_OUTPUT_PIXELS:
        raise GanvasError(f"The export would be {tw}×{th} pixels, above the limit of {MAX_OUTPUT_PIXELS / 1e6:.0f} "
                          "megapixels; choose a smaller factor.")
    dev = pick_device(device) if not isinstance(device, torch.device) else device
    reporter = ProgressReporter(progress)
    g = torch.Generator().manual_seed(int(seed) % (2**63))
    # how much larger the source is than the image, per unit of the image's height (1: the model's own photo)
    src_scale = src.shape[0] / h
    with torch.inference_mode():
        x0 = to_tensor(rgb, dev)
        src_t = to_tensor(src, dev)
        y, prev = x0, (h, w)
        for k, size in enumerate(sizes):
            check_cancel(cancel)
            reporter.report(k, len(sizes), stage="Scale up", message=f"step {k + 1}/{len(sizes)}: {size[1]}×{size[0]}")
            source = y
            y = _step(_bicubic(y, size), source, size[0] / prev[0], g)
            for _ in range(BACK_PROJECTIONS):
                y = y + _bicubic(x0 - F.interpolate(y, size=(h, w), mode="area"), size)
            prev = size
        reporter.report(len(sizes), len(sizes), stage="Scale up", message=f"{tw}×{th}")
        return to_uint8(y.clamp(-1, 1))[0]
