"""The Primitives synthesizer: power-spectrum noise (P), elementary shapes, saliency (S).

Every image draws its random numbers from its own generators keyed by ``(seed, index, stage)``,
so image ``i`` of a set is the same pixels whatever the batch size, the worker count or the
order, and switching one stage off leaves the others unchanged (same shapes with or without
the P background — handy for ablations).

Speed: the noise fields are made directly in the frequency domain (Gaussians from a 16-bit lookup
table, laid out as OpenCV's packed real spectrum, times the amplitude law, then one inverse real
DFT per channel in float32 — no complex arrays, no forward FFT of white noise); frequency grids
are cached per size and the shape parameters of an image are drawn in one vectorised call.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Iterable, Sequence

import cv2
import numpy as np

from core.malloc import keep_freed_memory
from core.primitives.config import (
    SHAPE_KINDS,
    PrimitivesConfig,
    PrimitivesError,
    check_seed,
    check_size,
)
from core.primitives.dead_leaves import draw_leaves
from core.primitives.figures import draw_figures, figure_colour, figure_params, luma

keep_freed_memory()  # every image allocates and frees its buffers: without this, they page-fault back in

# Stage numbers in the RNG key: never renumber them, or every exported set changes.
_STAGE_BACKGROUND = 0
_STAGE_FLAT = 1
_STAGE_SHAPES = 2
_STAGE_SALIENCY = 3
_STAGE_TEXTURE = 4
_STAGE_LEAVES = 5
_STAGE_FIGURES = 6

_EPS = 1e-6  # added to each power term, as in the released code


def rng_for(seed: int, index: int, stage: int) -> np.random.Generator:
    """The generator of one stage of one image: a pure function of (seed, index, stage)."""
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=(int(index), stage)))
    )


# ---------------------------------------------------------------- power spectrum (P)


@functools.lru_cache(maxsize=32)
def _log_freqs(h: int, w: int, d: float) -> tuple[np.ndarray, np.ndarray]:
    """log |f| along y (full axis) and x (half axis), zero replaced by 0.1× the first bin."""
    fy = np.abs(np.fft.fftfreq(h, d=d))
    fy[0] = fy[1] * 0.1 if h > 1 else 1.0
    fx = np.fft.rfftfreq(w, d=d)
    fx[0] = fx[1] * 0.1 if w > 1 else 1.0
    return np.log(fy).astype(np.float32), np.log(fx).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _gaussian_table() -> np.ndarray:
    """The 65 536 quantiles of N(0, 1): a 16-bit random index becomes a Gaussian by one table lookup
    (the tails stop at ±4.3σ, which no 8-bit renormalised field can show)."""
    nd = statistics.NormalDist()
    return np.array([nd.inv_cdf((k + 0.5) / 65536) for k in range(65536)], np.float32)


def _gaussians(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """float32 standard normals: raw 64-bit draws split into four 16-bit table indices (~4× faster
    than ``standard_normal``)."""
    n = math.prod(shape)
    bits = rng.bit_generator.random_raw((n + 3) // 4).view(np.uint16)[:n]
    return np.take(_gaussian_table(), bits).reshape(shape)


@functools.lru_cache(maxsize=32)
def _ccs_layout(h: int, w: int) -> tuple[np.ndarray, np.ndarray, tuple]:
    """Where OpenCV's packed (CCS) h×w spectrum of a real image keeps each rfft coefficient.

    Returns the rfft column ``j`` of each CCS column (inner columns hold the real and imaginary parts
    of columns 1 … ceil(w/2)-1 for every row), the rfft row ``k`` of each entry of the first column
    (and of the last one when w is even: those hold the Hermitian columns j = 0 and w/2, packed as
    Re, Im pairs along the rows), and the purely real self-conjugate bins (DC and Nyquist).
    """
    cols = (np.arange(w) + 1) // 2
    rows = (np.arange(h) + 1) // 2
    real = [(0, 0)] + ([(h - 1, 0)] if h % 2 == 0 else [])
    if w % 2 == 0 and w > 1:
        real += [(r, w - 1) for r, _ in real]
    return cols, rows, tuple(np.array(real).T)


def _noise_fields(
    rng: np.random.Generator, py: np.ndarray, px: np.ndarray, out: np.ndarray, dc: bool = True
) -> None:
    """``out`` (3×H×W float32) = colour noise whose spectrum has the amplitude ``1 / (py[k] + px[j])``.

    The spectrum of white Gaussian noise (what the released code gets from ``fft2(randn)``) is drawn
    directly in OpenCV's packed real-spectrum layout, where every entry is an independent Gaussian
    (the real or imaginary part of one coefficient; √2 on the purely real bins so every frequency has
    the same power), scaled by the amplitude and turned into a field by one inverse real DFT per
    channel — no complex arrays, no forward FFT. ``py``: 3×H, ``px``: 3×(W//2+1); ``dc=False``
    removes the mean (zero amplitude at f = 0).
    """
    h, w = out.shape[1:]
    cols, rows, real = _ccs_layout(h, w)
    denom = py[:, :, None] + px[:, None, cols]
    denom[:, :, 0] = py[:, rows] + px[:, :1]
    if w % 2 == 0 and w > 1:
        denom[:, :, -1] = py[:, rows] + px[:, -1:]
    if not dc:
        denom[:, 0, 0] = np.inf
    spec = _gaussians(rng, (3, h, w))
    spec /= denom
    spec[(slice(None), *real)] *= np.float32(math.sqrt(2))
    for c in range(3):
        cv2.dft(spec[c], dst=out[c], flags=cv2.DFT_INVERSE | cv2.DFT_REAL_OUTPUT)


def _spectrum_field(
    rng: np.random.Generator, h: int, w: int, exponent_range: tuple[float, float], out: np.ndarray
) -> np.ndarray:
    """Fill ``out`` (3×H×W float32) with one P field; return its exponents (3×2)."""
    lo, hi = float(exponent_range[0]), float(exponent_range[1])
    exps = rng.random((3, 2)) * (hi - lo) + lo  # per channel: (vertical a, horizontal b)
    # the amplitude 1 / (|f_y|^a + |f_x|^b), frequencies as the released code's fftfreq(n, d=0.2)
    ly, lx = _log_freqs(h, w, 0.2)
    a, b = exps.astype(np.float32).T
    eps = np.float32(_EPS)
    _noise_fields(rng, np.exp(a[:, None] * ly) + eps, np.exp(b[:, None] * lx) + eps, out)
    return exps


@functools.lru_cache(maxsize=32)
def _pixel_log_freqs(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    fy = np.abs(np.fft.fftfreq(h))
    fx = np.fft.rfftfreq(w)
    with np.errstate(divide="ignore"):
        return np.log(fy).astype(np.float32), np.log(fx).astype(np.float32)


def _isotropic_field(
    rng: np.random.Generator, h: int, w: int, exponent_range: tuple[float, float], out: np.ndarray
) -> np.ndarray:
    """Baradad et al.'s random spectrum: slope s ~ U(range), x/y slopes s ± N(0, (hi-lo)/60), DC removed,
    the same amplitude for the three channels (their phases independent)."""
    lo, hi = float(exponent_range[0]), float(exponent_range[1])
    s = rng.uniform(lo, hi)
    d = rng.standard_normal() * abs(hi - lo) / 15.0 / 4.0
    ly, lx = _pixel_log_freqs(h, w)
    py = np.exp(np.float32(s - d) * ly) + np.float32(1e-16)
    px = np.exp(np.float32(s + d) * lx)
    three = np.ones((3, 1), np.float32)  # one amplitude for the three channels
    _noise_fields(rng, three * py, three * px, out, dc=False)  # at f = 0 the power law is infinite
    return np.array([[s - d, s + d]] * 3)


def _mix_colours(rng: np.random.Generator, field: np.ndarray) -> np.ndarray:
    """Correlate the channels like Baradad's colour-PCA step: unit-std channels, random rotation, mean colour."""
    f = field.reshape(3, -1)
    f = f / (f.std(axis=1, keepdims=True) + 1e-12) * 74.0
    q, r = np.linalg.qr(rng.standard_normal((3, 3)))
    q = q * np.sign(np.diag(r))
    mean = rng.uniform(0.0, 255.0, size=(3, 1))
    return (q.astype(np.float32) @ f + mean.astype(np.float32)).reshape(field.shape)


def _normalise_into(fields: np.ndarray, dest: np.ndarray) -> None:
    """fields: 3×H×W float32 → dest: H×W×3 uint8 rescaled to the full range (one min/max for all channels).

    OpenCV scales, rounds and interleaves in one pass per channel (4× faster than numpy here); the
    released code truncates instead of rounding, a difference of at most one grey level.
    """
    mn = float(fields.min())
    scale = 255.0 / max(float(fields.max()) - mn, 1e-20)
    chans = [cv2.convertScaleAbs(fields[c], alpha=scale, beta=-mn * scale) for c in range(fields.shape[0])]
    cv2.merge(chans, dst=dest)


# ---------------------------------------------------------------- elementary shapes


def max_sizes(config: PrimitivesConfig, h: int, w: int) -> np.ndarray:
    """Maximum size (pixels) of each shape along the sequence: big first, small last."""
    n = int(config.shape_count)
    base = int(min(h, w) * config.max_size_fraction)
    i = np.arange(n, dtype=np.float64)
    frac = ((n - i) / max(n, 1)) ** float(config.size_decay)
    return np.maximum(np.round(base * frac + config.min_size_px), 1).astype(np.int64)


def _kind_probabilities(config: PrimitivesConfig) -> np.ndarray:
    p = np.array(
        [config.shape_weights[i] if k in config.shape_kinds else 0.0 for i, k in enumerate(SHAPE_KINDS)],
        dtype=np.float64,
    )
    return p / p.sum()


def shape_params(config: PrimitivesConfig, rng: np.random.Generator, h: int, w: int) -> list[tuple]:
    """The drawing commands of the shapes stage: (kind, geometry..., colour) in drawing order."""
    n = int(config.shape_count)
    if n == 0:
        return []
    kinds = rng.choice(len(SHAPE_KINDS), size=n, p=_kind_probabilities(config))
    colours = rng.integers(0, 256, size=(n, 3)).tolist()
    u = rng.random((n, 5))
    ms = max_sizes(config, h, w)
    span = np.maximum(ms - 1, 1)  # sizes in [1, max_size)
    size1 = (1 + np.floor(u[:, 2] * span)).astype(np.int64).tolist()
    size2 = (1 + np.floor(u[:, 3] * span)).astype(np.int64).tolist()
    # positions over the real width/height (released: [0, 256) or [0, 255) whatever the size)
    cx = np.floor(u[:, 0] * w).astype(np.int64).tolist()
    cy = np.floor(u[:, 1] * h).astype(np.int64).tolist()
    lx = np.floor(u[:, [0, 2]] * (w - 1)).astype(np.int64)
    ly = np.floor(u[:, [1, 3]] * (h - 1)).astype(np.int64)
    if not config.lines_any_direction:  # released code: sorted, so lines run top-left → bottom-right
        lx.sort(axis=1)
        ly.sort(axis=1)
    lx, ly = lx.tolist(), ly.tolist()
    thick = (1 + np.floor(u[:, 4] * span)).astype(np.int64).tolist()
    angle = np.floor(u[:, 4] * 180).astype(np.int64).tolist()
    rx = np.floor(u[:, 0] * np.maximum(w - 1 - ms, 1)).astype(np.int64).tolist()
    ry = np.floor(u[:, 1] * np.maximum(h - 1 - ms, 1)).astype(np.int64).tolist()
    cmds: list[tuple] = []
    for i, k in enumerate(kinds.tolist()):
        col = tuple(colours[i])
        if k == 0:
            cmds.append(("line", (lx[i][0], ly[i][0]), (lx[i][1], ly[i][1]), thick[i], col))
        elif k == 1:
            cmds.append(("circle", (cx[i], cy[i]), size1[i], col))
        elif k == 2:
            cmds.append(("ellipse", (cx[i], cy[i]), (size1[i], size2[i]), angle[i], col))
        else:
            cmds.append(("rectangle", (rx[i], ry[i]), (rx[i] + size1[i], ry[i] + size2[i]), col))
    return cmds


def draw_shapes(canvas: np.ndarray, cmds: Iterable[tuple], antialias: bool = False) -> None:
    """Draw the commands onto ``canvas`` (H×W×3 uint8, in place), later ones on top."""
    lt = cv2.LINE_AA if antialias else cv2.LINE_8
    line, circle, ellipse, rect = cv2.line, cv2.circle, cv2.ellipse, cv2.rectangle
    for c in cmds:
        k = c[0]
        if k == "circle":
            circle(canvas, c[1], c[2], c[3], -1, lt)
        elif k == "ellipse":
            ellipse(canvas, c[1], c[2], c[3], 0, 360, c[4], -1, lt)
        elif k == "rectangle":
            rect(canvas, c[1], c[2], c[3], -1, lt)
        else:
            line(canvas, c[1], c[2], c[4], c[3], lt)


# ---------------------------------------------------------------- saliency (S)


def saliency_params(config: PrimitivesConfig, rng: np.random.Generator, h: int, w: int) -> tuple:
    """One big object near the centre: ('circle'|'ellipse'|'rectangle', geometry..., colour)."""
    kind = ("circle", "ellipse", "rectangle")[int(rng.integers(0, 3))]
    colour = tuple(int(v) for v in rng.integers(0, 256, size=3))
    u = rng.random(4)
    j = config.saliency_center_jitter
    s = config.saliency_scale
    cx = int(math.floor(w / 2 - j * w + u[0] * 2 * j * w))
    cy = int(math.floor(h / 2 - j * h + u[1] * 2 * j * h))
    side = min(h, w)
    if kind == "circle":
        r = max(1, int(s * (side / 4 + u[2] * side / 8)))
        return ("circle", (cx, cy), r, colour)
    if kind == "ellipse":
        ax = max(1, int(s * (w / 4 + u[2] * w / 8)))
        ay = max(1, int(s * (h / 4 + u[3] * h / 8)))
        return ("ellipse", (cx, cy), (ax, ay), 0, colour)
    # released: top-left in [S/8, S/2), sides in [3S/8, 3S/4); scaled about the image centre
    x1 = w / 8 + u[0] * 3 * w / 8
    y1 = h / 8 + u[1] * 3 * h / 8
    sw = 3 * w / 8 + u[2] * 3 * w / 8
    sh = 3 * h / 8 + u[3] * 3 * h / 8
    x1 = w / 2 + s * (x1 - w / 2)
    y1 = h / 2 + s * (y1 - h / 2)
    p1 = (int(x1), int(y1))
    p2 = (int(x1 + s * sw), int(y1 + s * sh))
    return ("rectangle", p1, p2, colour)


def saliency_mask(cmd: tuple, h: int, w: int, antialias: bool = False) -> np.ndarray:
    """uint8 H×W mask (255 inside) of the salient object."""
    mask = np.zeros((h, w), np.uint8)
    draw_shapes(mask, [(*cmd[:-1], 255)], antialias)
    return mask


def _composite(canvas: np.ndarray, texture: np.ndarray, mask: np.ndarray, antialias: bool) -> None:
    """Put ``texture`` into ``canvas`` where ``mask`` is set (blended by coverage when antialiased)."""
    x, y, w, h = cv2.boundingRect(mask)
    if w == 0 or h == 0:
        return
    sl = (slice(y, y + h), slice(x, x + w))
    c, t, m = canvas[sl], texture[sl], mask[sl]
    if antialias:
        a = m.astype(np.float32)[..., None] * np.float32(1 / 255)
        c[...] = (c * (1 - a) + t * a + 0.5).astype(np.uint8)
    else:
        cv2.copyTo(t, m, c)  # in place: 15–25× faster than np.copyto(where=...)


# ---------------------------------------------------------------- figures' background


def _soft_background(rng: np.random.Generator, config: PrimitivesConfig, canvas: np.ndarray, field: np.ndarray):
    """A P field squeezed to ``background_contrast`` of the range around one random colour."""
    full = np.empty_like(canvas)
    _normalise_into(field, full)
    mean = rng.integers(0, 256, size=3).astype(np.float32)
    c = np.float32(config.background_contrast)
    soft = mean + c * (full.astype(np.float32) - 127.5)
    np.clip(soft + 0.5, 0, 255, out=soft)
    canvas[...] = soft.astype(np.uint8)


# ---------------------------------------------------------------- images


def generate_indices(
    config: PrimitivesConfig, seed: int, indices: Sequence[int], height: int, width: int
) -> np.ndarray:
    """Images ``indices`` of the set (config, seed) as uint8 N×H×W×3 RGB; any order, any batching."""
    h, w = check_size(height, width)
    seed = check_seed(seed)
    idx = [int(i) for i in indices]
    if any(i < 0 for i in idx):
        raise PrimitivesError("Image indices must be 0 or more.")
    out = np.empty((len(idx), h, w, 3), np.uint8)
    for j, i in enumerate(idx):
        _render(config, seed, i, out[j])
    return out


def _draw_background(config: PrimitivesConfig, seed: int, i: int, canvas: np.ndarray) -> None:
    """Image ``i``'s background into ``canvas`` (H×W×3 uint8): P noise, soft, flat or black."""
    h, w = canvas.shape[:2]
    if config.background in ("spectrum", "soft"):
        field = np.empty((3, h, w), np.float32)
        make = _isotropic_field if config.isotropic_spectrum else _spectrum_field
        make(rng_for(seed, i, _STAGE_BACKGROUND), h, w, config.exponent_range, field)
        if config.background == "soft":
            _soft_background(rng_for(seed, i, _STAGE_FLAT), config, canvas, field)
            return
        if config.isotropic_spectrum:
            field = _mix_colours(rng_for(seed, i, _STAGE_BACKGROUND + 100), field)
        _normalise_into(field, canvas)
    elif config.background == "flat":
        v = rng_for(seed, i, _STAGE_FLAT).integers(0, 256, size=3)
        canvas[...] = v[0] if config.flat_colour == "grey" else v.astype(np.uint8)
    else:
        canvas[...] = 0


def _render(config: PrimitivesConfig, seed: int, i: int, canvas: np.ndarray) -> None:
    """Draw image ``i`` into ``canvas`` (H×W×3 uint8): background first, then the stages on top."""
    h, w = canvas.shape[:2]
    _draw_background(config, seed, i, canvas)
    if config.leaves:
        draw_leaves(config, rng_for(seed, i, _STAGE_LEAVES), canvas)
    if config.shapes and config.shape_count > 0:
        draw_shapes(canvas, shape_params(config, rng_for(seed, i, _STAGE_SHAPES), h, w), config.antialias)
    if config.saliency:
        cmd = saliency_params(config, rng_for(seed, i, _STAGE_SALIENCY), h, w)
        if config.saliency_fill == "spectrum":
            field = np.empty((3, h, w), np.float32)
            _spectrum_field(rng_for(seed, i, _STAGE_TEXTURE), h, w, config.exponent_range, field)
            texture = np.empty((h, w, 3), np.uint8)
            _normalise_into(field, texture)
            _composite(canvas, texture, saliency_mask(cmd, h, w, config.antialias), config.antialias)
        else:
            draw_shapes(canvas, [cmd], config.antialias)
    if config.figures:
        mean = canvas.reshape(-1, 3).mean(axis=0)
        draw_figures(canvas, figure_params(config, rng_for(seed, i, _STAGE_FIGURES), h, w, mean), config.antialias)


def figure_images(
    config: PrimitivesConfig, silhouettes: Sequence[np.ndarray], count: int, seed: int = 0, shift: int = 2
) -> np.ndarray:
    """``count`` images of given figures drawn as the figures stage draws its own: ``config``'s
    background, one figure in a colour that stands out from it. Image ``i`` fills silhouette
    ``i % len(silhouettes)`` (float H×W coverage in [0, 1], all one size), moved by up to ``shift`` px.

    Sketch fine-tuning shows these to its image critic: a user's sketched figure as the base's data
    would draw it. uint8 N×H×W×3 RGB; image ``i`` is the same pixels for the same (seed, i).
    """
    if not silhouettes:
        raise PrimitivesError("figure_images needs at least one silhouette.")
    masks = [np.clip(np.asarray(m, np.float32), 0.0, 1.0) for m in silhouettes]
    h, w = check_size(*masks[0].shape)
    if any(m.shape != (h, w) for m in masks):
        raise PrimitivesError(f"The silhouettes must all be {h}×{w}, got {sorted({m.shape for m in masks})}.")
    seed = check_seed(seed)
    out = np.empty((int(count), h, w, 3), np.uint8)
    for i in range(int(count)):
        _draw_background(config, seed, i, out[i])
        rng = rng_for(seed, i, _STAGE_FIGURES)
        colour = np.array(figure_colour(rng, luma(out[i].reshape(-1, 3).mean(axis=0))), np.float32)
        dx, dy = (int(v) for v in rng.integers(-shift, shift + 1, size=2))
        move = np.float32([[1, 0, dx], [0, 1, dy]])
        a = cv2.warpAffine(masks[i % len(masks)], move, (w, h), flags=cv2.INTER_NEAREST)[..., None]
        out[i] = np.clip(out[i] * (1 - a) + colour * a + 0.5, 0, 255).astype(np.uint8)
    return out


def generate_batch(
    config: PrimitivesConfig, seed: int, start: int, count: int, height: int, width: int
) -> np.ndarray:
    """Images ``start .. start+count-1`` as uint8 N×H×W×3 (the same pixels as one at a time)."""
    if int(count) < 0:
        raise PrimitivesError(f"The number of images must be 0 or more, got {count}.")
    return generate_indices(config, seed, range(int(start), int(start) + int(count)), height, width)


def generate_image(config: PrimitivesConfig, seed: int, index: int, height: int, width: int) -> np.ndarray:
    """Image ``index`` of the set (config, seed): uint8 H×W×3 RGB."""
    return generate_indices(config, seed, [index], height, width)[0]


def power_spectrum_field(
    seed: int, index: int, height: int, width: int, exponent_range: tuple[float, float] = (0.5, 3.5)
) -> tuple[np.ndarray, np.ndarray]:
    """The P stage alone: (uint8 H×W×3 field, exponents 3×2 as (vertical, horizontal) per channel)."""
    h, w = check_size(height, width)
    field = np.empty((3, h, w), np.float32)
    exps = _spectrum_field(rng_for(check_seed(seed), index, _STAGE_BACKGROUND), h, w, exponent_range, field)
    out = np.empty((h, w, 3), np.uint8)
    _normalise_into(field, out)
    return out, exps


_POOL = None


def generate_parallel(
    config: PrimitivesConfig,
    seed: int,
    indices: Sequence[int],
    height: int,
    width: int,
    workers: int = 2,
    *,
    progress=None,
    cancel=None,
) -> np.ndarray:
    """Like :func:`generate_indices`, split over ``workers`` threads (NumPy's FFT and OpenCV release the
    GIL); for interactive previews. Checks ``cancel`` between images."""
    global _POOL
    from concurrent.futures import ThreadPoolExecutor

    from core.jobs import check_cancel

    h, w = check_size(height, width)
    idx = [int(i) for i in indices]
    out = np.empty((len(idx), h, w, 3), np.uint8)
    check_cancel(cancel)
    if workers <= 1 or len(idx) < 2:
        for j, i in enumerate(idx):
            check_cancel(cancel)
            out[j] = generate_indices(config, seed, [i], h, w)[0]
        return out
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=max(2, workers), thread_name_prefix="primitives")

    def part(k: int) -> None:
        for j in range(k, len(idx), workers):
            if cancel is not None and cancel.is_set:
                return
            _render(config, check_seed(seed), idx[j], out[j])

    for f in [_POOL.submit(part, k) for k in range(workers)]:
        f.result()
    check_cancel(cancel)
    return out
