"""Coarse-to-fine patch nearest-neighbour generation (GPNN, Granot et al., CVPR 2022): no training.

For a photo x and its pyramid x_0 (coarsest) … x_N (finest, ratio 4/3 between levels):

1. Start at level s (0 = coarsest): y = x_s + σ·diversity·2^−s·z, z one grey channel of N(0, 1) (for s > 0
   the start is x_{s−1} upsampled to level s and the noise is smaller, so the layout is kept).
2. At each level, a few times: every 7×7 patch of y is replaced by its nearest neighbour among the
   photo's patches at that level (searched with "keys" = x_{n−1} upsampled on the first iteration,
   whose blur matches y's, and x_n after), with completeness normalisation; the chosen patches of x_n
   are voted back into an image (weighted by how well they matched).
3. y is upsampled to the next level; repeat until the finest.

Memory: the exact search holds at most ``tile_elems`` distances; PatchMatch and voting are linear in
the number of pixels. Everything runs on the chosen torch device (CPU or CUDA); random numbers are
drawn on the CPU from a generator seeded by the sample's seed, so a seed gives the same image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from core.device import pick_device
from core.images import as_rgb, fit_within, to_tensor, to_uint8
from core.jobs import CancelToken, GanvasError, ProgressFn, ProgressReporter, check_cancel
from core.patchnn.config import PatchNNConfig, PreviewSettings
from core.patchnn.search import (
    approx_key_minima,
    exact_search,
    features,
    identity_basis,
    patchmatch,
    pca_basis,
    upsample_field,
)

#: Largest output we generate (finest level, pixels): about 2000×2000; beyond that a slip of a multiplier
#: would eat all memory.
MAX_OUTPUT_PIXELS = 4_000_000


def level_shapes(height: int, width: int, config: PatchNNConfig) -> list[tuple[int, int]]:
    """(h, w) of every level, coarsest first; the coarsest shorter side is about ``min_size``."""
    short = min(height, width)
    if short < config.patch_size + 2:
        raise GanvasError(f"The photo is {width}×{height}; patch-NN previews need at least "
                          f"{config.patch_size + 2} px on the shorter side.")
    depth = max(0, round(math.log(short / config.min_size) / math.log(config.pyramid_ratio)))
    shapes = []
    for n in range(depth + 1):
        f = config.pyramid_ratio ** (depth - n)
        shapes.append((max(config.patch_size + 2, round(height / f)), max(config.patch_size + 2, round(width / f))))
    return shapes


def _resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    shrink = size[0] * size[1] < x.shape[-2] * x.shape[-1]
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=shrink)


@dataclass
class _Level:
    image: torch.Tensor  # 1×3×h×w, the photo at this level (the values)
    blurred: torch.Tensor  # the level below upsampled to this size (keys on a level's first iteration)
    grid: tuple[int, int]  # patch grid (h−p+1, w−p+1)
    cache: dict = field(default_factory=dict)  # (basis kind, sharp/blurred) → key features


class PatchPyramid:
    """A photo's pyramid, PCA bases and key features, built once and shared by every sample of it."""

    def __init__(self, photo: np.ndarray, config: PatchNNConfig | None = None,
                 device: torch.device | str | None = "cpu") -> None:
        config = config or PatchNNConfig()
        rgb = fit_within(as_rgb(photo, what="photo"), config.max_size)
        self.config = config
        self.device = pick_device(device) if not isinstance(device, torch.device) else device
        self.photo = rgb
        self.shapes = level_shapes(rgb.shape[0], rgb.shape[1], config)
        full = to_tensor(rgb, self.device)
        p = config.patch_size
        self.levels: list[_Level] = []
        for n, size in enumerate(self.shapes):
            img = _resize(full, size)
            blurred = _resize(_resize(img, self.shapes[n - 1]), size) if n > 0 else img
            self.levels.append(_Level(img, blurred, (size[0] - p + 1, size[1] - p + 1)))
        self._bases: dict[tuple[int, str], torch.Tensor] = {}

    @property
    def num_levels(self) -> int:
        return len(self.shapes)

    def basis(self, n: int, kind: str) -> torch.Tensor:
        key = (n, kind)
        if key not in self._bases:
            c = self.config
            full_dims = 3 * c.patch_size ** 2
            if kind == "full" or c.pca_dims == 0 or c.pca_dims >= full_dims:
                self._bases[key] = identity_basis(c.patch_size, 3, self.device)
            else:
                g = torch.Generator().manual_seed(1234 + n)
                self._bases[key] = pca_basis(self.levels[n].image, c.patch_size, c.pca_dims, g)
        return self._bases[key]

    def keys(self, n: int, kind: str, blurred: bool) -> torch.Tensor:
        lv = self.levels[n]
        key = (kind, blurred)
        if key not in lv.cache:
            lv.cache[key] = features(lv.blurred if blurred else lv.image, self.basis(n, kind))
        return lv.cache[key]

    def output_shapes(self, settings: PreviewSettings) -> list[tuple[int, int]]:
        p = self.config.patch_size
        return [(max(p + 2, round(h * settings.height_scale)), max(p + 2, round(w * settings.width_scale)))
                for h, w in self.shapes]


def _vote(values: torch.Tensor, idx: torch.Tensor, k_grid: tuple[int, int], weights: torch.Tensor | None,
          out_size: tuple[int, int], patch: int) -> torch.Tensor:
    """Each output pixel = (weighted) mean of the pixels the overlapping chosen patches put there."""
    _, c, h, w = values.shape
    hq, wq = out_size[0] - patch + 1, out_size[1] - patch + 1
    ky, kx = idx // k_grid[1], idx % k_grid[1]
    base = (ky * w + kx).reshape(hq, wq)
    flat = values[0].reshape(c, -1)
    out = torch.zeros(c, *out_size, device=values.device)
    wsum = torch.zeros(1, *out_size, device=values.device)
    wq_ = weights.reshape(1, hq, wq) if weights is not None else None
    for a in range(patch):
        for b in range(patch):
            v = flat.index_select(1, (base + (a * w + b)).reshape(-1)).reshape(c, hq, wq)
            if wq_ is not None:
                out[:, a:a + hq, b:b + wq] += v * wq_
                wsum[:, a:a + hq, b:b + wq] += wq_
            else:
                out[:, a:a + hq, b:b + wq] += v
                wsum[:, a:a + hq, b:b + wq] += 1.0
    return (out / wsum.clamp_min(1e-12)).unsqueeze(0)


def _vote_weights(dist: torch.Tensor, bandwidth: float) -> torch.Tensor:
    """exp(−D / 2h²) as in Simakov et al., h² = ``bandwidth`` × the median match distance (+ a floor of
    RMS ≈ 2.5/255). A narrow kernel lets the best match of each pixel win, which leaves hard seams."""
    h2 = bandwidth * dist.median() + 1e-4
    return torch.exp(-dist / (2.0 * h2)).clamp_min(1e-6)


def _steps_per_sample(pyr: PatchPyramid, start: int) -> int:
    c = pyr.config
    return sum(c.coarse_iters if n == 0 else c.iters for n in range(start, pyr.num_levels))


def _sample_one(pyr: PatchPyramid, settings: PreviewSettings, seed: int, *, tick, cancel: CancelToken | None,
                stats: dict | None = None) -> torch.Tensor:
    c = pyr.config
    p = c.patch_size
    dev = pyr.device
    outs = pyr.output_shapes(settings)
    start = settings.start_scale
    g = torch.Generator().manual_seed(int(seed) % (2**63))
    size = outs[start]
    base = pyr.levels[start].image if start == 0 else pyr.levels[start - 1].image
    y = _resize(base, size)
    noise = torch.randn(1, 1, *size, generator=g).expand(1, 3, *size).to(dev)
    # σ is in [0, 1] units (y is in [−1, 1]); halved per level above the coarsest, so a finer start keeps the layout
    y = y + noise * (2.0 * c.noise_sigma * settings.diversity * 0.5 ** start)
    field_ = rev = None
    prev_grids = None
    for n in range(start, pyr.num_levels):
        lv = pyr.levels[n]
        size = outs[n]
        q_grid = (size[0] - p + 1, size[1] - p + 1)
        k_grid = lv.grid
        if n > start:
            y = _resize(y, size)
        exact = c.search == "exact" or (c.search == "auto" and
                                        q_grid[0] * q_grid[1] * k_grid[0] * k_grid[1] <= c.exact_max_pairs)
        kind = "full" if exact else "pca"
        basis = pyr.basis(n, kind)
        if field_ is not None and prev_grids is not None:
            field_ = upsample_field(field_, prev_grids[0], q_grid, prev_grids[1], k_grid)
            rev = upsample_field(rev, prev_grids[1], k_grid, prev_grids[0], q_grid) if rev is not None else None
        iters = c.coarse_iters if n == 0 else c.iters
        for it in range(iters):
            check_cancel(cancel)
            blurred = it == 0 and (n > start or start > 0)
            keys = pyr.keys(n, kind, blurred)
            qf = features(y, basis)
            if exact:
                field_, dist = exact_search(qf, keys, alpha=c.alpha, tile_elems=c.tile_elems, stats=stats)
                rev = None
            else:
                inv = None
                if c.alpha is not None:
                    if rev is None:
                        rev = _invert(field_, k_grid, q_grid, g, dev)
                    fwd = None
                    if field_ is not None:
                        fd = ((qf - keys.index_select(0, field_)) ** 2).sum(1)
                        fwd = (field_, fd)
                    kmin, rev = approx_key_minima(qf, q_grid, keys, k_grid, rev, fwd, generator=g,
                                                  rounds=1, random_tries=c.pm_random)
                    inv = 1.0 / (c.alpha + kmin)
                # a level's first search starts from the coarser level's field; later ones from the last
                field_, dist = patchmatch(qf, q_grid, keys, k_grid, field_, generator=g, inv_norm=inv,
                                          rounds=c.pm_rounds if it == 0 else 1, random_tries=c.pm_random)
            weights = _vote_weights(dist, c.vote_bandwidth) if c.weighted_vote else None
            y = _vote(lv.image, field_, k_grid, weights, size, p)
            tick(n)
        prev_grids = (q_grid, k_grid)
    return y


def _invert(field_: torch.Tensor | None, k_grid, q_grid, g: torch.Generator, dev) -> torch.Tensor:
    """A reverse field to start from: each key points at a query that chose it, else at a random query."""
    nk, nq = k_grid[0] * k_grid[1], q_grid[0] * q_grid[1]
    rev = torch.randint(0, nq, (nk,), generator=g).to(dev)
    if field_ is not None:
        rev[field_] = torch.arange(nq, device=dev)
    return rev


def generate_from(
    pyr: PatchPyramid,
    settings: PreviewSettings | None = None,
    n: int = 1,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
    stats: dict | None = None,
) -> np.ndarray:
    """``n`` samples (uint8 N×H×W×3) from a built pyramid; sample i uses seed ``settings.seed + i``."""
    settings = settings or PreviewSettings()
    if n < 1:
        raise GanvasError(f"The number of samples must be at least 1 (got {n}).")
    if settings.start_scale >= pyr.num_levels:
        raise GanvasError(f"Start scale {settings.start_scale} is outside 0–{pyr.num_levels - 1} "
                          f"(0 is the coarsest level of this {pyr.photo.shape[1]}×{pyr.photo.shape[0]} photo).")
    h, w = pyr.output_shapes(settings)[-1]
    if h * w > MAX_OUTPUT_PIXELS:
        raise GanvasError(f"The output would be {w}×{h} pixels, above the limit of {MAX_OUTPUT_PIXELS / 1e6:.0f} "
                          "megapixels. Lower the width/height multipliers.")
    per = _steps_per_sample(pyr, settings.start_scale)
    total = per * n
    reporter = ProgressReporter(progress)
    done = 0
    out = []
    with torch.inference_mode():
        for i in range(n):
            def tick(level: int, i: int = i) -> None:
                nonlocal done
                done += 1
                reporter.report(done, total, stage="Patch-NN preview",
                                message=f"sample {i + 1}/{n}, level {level + 1}/{pyr.num_levels}")
            y = _sample_one(pyr, settings, settings.seed + i, tick=tick, cancel=cancel, stats=stats)
            out.append(to_uint8(y)[0])
    return np.stack(out)


def generate(
    photo: np.ndarray,
    settings: PreviewSettings | None = None,
    n: int = 1,
    config: PatchNNConfig | None = None,
    *,
    device: torch.device | str | None = "cpu",
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """``n`` new images (uint8 N×H×W×3) from one photo, with no training. Deterministic for a seed."""
    return generate_from(PatchPyramid(photo, config, device), settings, n, progress=progress, cancel=cancel)
