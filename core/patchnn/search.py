"""Patch features and nearest-neighbour search with GPNN's completeness normalisation.

Patches are never unfolded whole: features come from one convolution whose filters are either the
identity (all 3·p² values) or a PCA basis of the photo's patches, scaled so that a squared feature
distance is the patch's mean squared difference in [0, 1] units (the scale GPNN's α = 0.005 is for).

Completeness (GPNN eq. 2): a query q picks argmin_k D(q, k) / (α + min_q' D(q', k)), so a key no query
is close to becomes cheaper, which pulls every part of the photo into the output.

- :func:`exact_search`: all pairs as float32 matmuls ‖q‖² + ‖k‖² − 2 q·k over tiles of query rows,
  never holding more than ``tile_elems`` distances; two passes (key minima, then normalised argmin).
- :func:`patchmatch`: approximate search on grids (Barnes et al. 2009) done in parallel: jump-flood
  propagation from the four neighbours at steps 8/4/2/1, then random search in shrinking windows.
  The key minima for completeness come from the same search run the other way (keys among queries).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

Grid = tuple[int, int]


def identity_basis(patch: int, channels: int = 3, device: torch.device | str = "cpu") -> torch.Tensor:
    """(3p²)×3×p×p filters that copy each patch value: features = the whole patch."""
    d = channels * patch * patch
    return torch.eye(d, device=device).reshape(d, channels, patch, patch)


def pca_basis(image: torch.Tensor, patch: int, dims: int, generator: torch.Generator,
              max_patches: int = 6000) -> torch.Tensor:
    """dims×3×p×p filters: the top principal directions of ``image``'s patches (1×3×H×W).

    Fitted on at most ``max_patches`` random patches, so the cost does not grow with the image.
    """
    _, c, h, w = image.shape
    hk, wk = h - patch + 1, w - patch + 1
    n = hk * wk
    idx = torch.randperm(n, generator=generator)[:max_patches].to(image.device)
    ys, xs = idx // wk, idx % wk
    offs = torch.arange(patch, device=image.device)
    rows = (ys[:, None] + offs[None, :])[:, :, None].expand(-1, patch, patch)
    cols = (xs[:, None] + offs[None, :])[:, None, :].expand(-1, patch, patch)
    p = image[0][:, rows, cols].permute(1, 0, 2, 3).reshape(len(idx), -1)  # n×(c·p·p), channel-major
    p = p - p.mean(0, keepdim=True)
    cov = p.T @ p / max(1, len(p) - 1)
    _evals, evecs = torch.linalg.eigh(cov.double().cpu())
    top = evecs[:, -dims:].flip(1).T.to(dtype=torch.float32, device=image.device)  # dims×(c·p·p)
    return top.reshape(dims, c, patch, patch).contiguous()


def features(image: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    """N×d features of every p×p patch of ``image`` (1×3×H×W in [-1, 1]), rows in raster order.

    The scale makes ‖f(a) − f(b)‖² the mean squared difference of the two patches in [0, 1] units
    (exactly for the identity basis, its projection for PCA).
    """
    d, c, p, _ = basis.shape
    scale = 0.5 / math.sqrt(c * p * p)
    f = F.conv2d(image, basis * scale)  # 1×d×h'×w'
    return f[0].reshape(d, -1).T.contiguous()


def _tile_rows(nk: int, tile_elems: int) -> int:
    return max(1, tile_elems // max(1, nk))


def exact_search(
    queries: torch.Tensor,
    keys: torch.Tensor,
    *,
    alpha: float | None,
    tile_elems: int = 1 << 22,
    stats: dict | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact nearest key for every query (with completeness when ``alpha`` is set).

    Returns (index into keys, plain distance D(q, k) of the chosen key). ``stats['max_tile']``
    records the largest distance block held, for tests of the memory bound.
    """
    nq, nk = len(queries), len(keys)
    rows = _tile_rows(nk, tile_elems)
    kk = (keys * keys).sum(1)
    qq = (queries * queries).sum(1)
    kt = keys.T.contiguous()

    def block(s: int, e: int) -> torch.Tensor:
        d = torch.addmm(kk[None, :], queries[s:e], kt, beta=1.0, alpha=-2.0)
        d += qq[s:e, None]
        if stats is not None:
            stats["max_tile"] = max(stats.get("max_tile", 0), d.numel())
        return d.clamp_(min=0.0)

    inv = None
    if alpha is not None:
        kmin = torch.full((nk,), float("inf"), device=keys.device)
        for s in range(0, nq, rows):
            kmin = torch.minimum(kmin, block(s, min(nq, s + rows)).amin(0))
        inv = 1.0 / (alpha + kmin)
    idx = torch.empty(nq, dtype=torch.long, device=keys.device)
    dist = torch.empty(nq, device=keys.device)
    for s in range(0, nq, rows):
        e = min(nq, s + rows)
        d = block(s, e)
        best = (d * inv[None, :] if inv is not None else d).argmin(1)
        idx[s:e] = best
        dist[s:e] = d.gather(1, best[:, None])[:, 0]
    return idx, dist


def _dist(q: torch.Tensor, k: torch.Tensor, flat: torch.Tensor) -> torch.Tensor:
    diff = k.index_select(0, flat)
    diff.sub_(q)
    return diff.mul_(diff).sum(1)


def patchmatch(
    queries: torch.Tensor,
    q_grid: Grid,
    keys: torch.Tensor,
    k_grid: Grid,
    init: torch.Tensor | None,
    *,
    generator: torch.Generator,
    inv_norm: torch.Tensor | None = None,
    rounds: int = 2,
    random_tries: int = 4,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Approximate nearest key (index into ``keys``) for every query, and its plain distance.

    Queries and keys are patches on grids (rows × cols, raster order). The score minimised is
    D(q, k)·inv_norm[k] (plain D when ``inv_norm`` is None). ``init`` is a starting field (e.g. the
    previous iteration's or the coarser level's, upsampled); random when None. Random offsets are drawn
    on the CPU from ``generator``, so a seed gives the same field on every run.
    """
    hq, wq = q_grid
    hk, wk = k_grid
    dev = keys.device
    if init is None:
        init = torch.randint(0, hk * wk, (hq * wq,), generator=generator).to(dev)
    ky, kx = (init // wk).reshape(hq, wq), (init % wk).reshape(hq, wq)

    def score(flat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        d = _dist(queries, keys, flat)
        return (d * inv_norm.index_select(0, flat) if inv_norm is not None else d), d

    flat = (ky * wk + kx).reshape(-1)
    best, best_d = score(flat)

    def consider(cy: torch.Tensor, cx: torch.Tensor) -> None:
        nonlocal ky, kx, best, best_d
        cy = cy.clamp(0, hk - 1)
        cx = cx.clamp(0, wk - 1)
        s, d = score((cy * wk + cx).reshape(-1))
        better = s < best
        best = torch.where(better, s, best)
        best_d = torch.where(better, d, best_d)
        b = better.reshape(hq, wq)
        ky = torch.where(b, cy, ky)
        kx = torch.where(b, cx, kx)

    steps = [s for s in (8, 4, 2, 1) if s < max(hq, wq)] or [1]
    radius0 = max(hk, wk)
    for _ in range(rounds):
        for s in steps:
            for dy, dx in ((s, 0), (-s, 0), (0, s), (0, -s)):
                consider(*_propose(ky, kx, dy, dx))
        for t in range(random_tries):
            r = max(1, int(radius0 * (0.5 ** t)))
            off = torch.randint(-r, r + 1, (2, hq, wq), generator=generator).to(dev)
            consider(ky + off[0], kx + off[1])
    return (ky * wk + kx).reshape(-1), best_d


def _propose(ky: torch.Tensor, kx: torch.Tensor, dy: int, dx: int) -> tuple[torch.Tensor, torch.Tensor]:
    """For each query (i, j): the match of its neighbour (i+dy, j+dx) moved back by (dy, dx), i.e. the
    coherent continuation of that neighbour's match; the query's own match where there is no such neighbour."""
    cy, cx = ky.clone(), kx.clone()
    h, w = ky.shape
    if abs(dy) >= h or abs(dx) >= w:
        return cy, cx
    dst = (slice(max(0, -dy), h - max(0, dy)), slice(max(0, -dx), w - max(0, dx)))
    src = (slice(max(0, dy), h - max(0, -dy)), slice(max(0, dx), w - max(0, -dx)))
    cy[dst] = ky[src] - dy
    cx[dst] = kx[src] - dx
    return cy, cx


def approx_key_minima(
    queries: torch.Tensor,
    q_grid: Grid,
    keys: torch.Tensor,
    k_grid: Grid,
    init: torch.Tensor | None,
    forward: tuple[torch.Tensor, torch.Tensor] | None,
    *,
    generator: torch.Generator,
    rounds: int,
    random_tries: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """min over queries of D(q, k) for every key, approximated by PatchMatch from keys to queries.

    Tightened with the current forward matches (a key some query already maps to is at most that far).
    Returns (minima, the reverse field, for warm starts).
    """
    rev, kmin = patchmatch(keys, k_grid, queries, q_grid, init, generator=generator,
                           rounds=rounds, random_tries=random_tries)
    if forward is not None:
        idx, d = forward
        kmin = kmin.scatter_reduce(0, idx, d, reduce="amin", include_self=True)
    return kmin, rev


def upsample_field(field: torch.Tensor, old_q: Grid, new_q: Grid, old_k: Grid, new_k: Grid) -> torch.Tensor:
    """A coarser level's field resampled to a finer level's grids (nearest neighbour, coordinates scaled)."""
    ky, kx = (field // old_k[1]).reshape(1, 1, *old_q).float(), (field % old_k[1]).reshape(1, 1, *old_q).float()
    ky = F.interpolate(ky, size=new_q, mode="nearest")[0, 0] * (new_k[0] / old_k[0])
    kx = F.interpolate(kx, size=new_q, mode="nearest")[0, 0] * (new_k[1] / old_k[1])
    ky = ky.round().long().clamp(0, new_k[0] - 1)
    kx = kx.round().long().clamp(0, new_k[1] - 1)
    return (ky * new_k[1] + kx).reshape(-1)
