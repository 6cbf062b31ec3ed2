"""Photo -> sketch mapping F, and the conversions between user sketches and sketch tensors.

The paper maps generated photos to sketches with a pretrained PhotoSketch network. No weights
can be downloaded here, so F is an eXtended Difference-of-Gaussians (XDoG, Winnemöller et al.
2012): a weight-free, differentiable line extractor. Gradients flow from the sketch
discriminator through F into the generator just as they did through PhotoSketch.

Two choices make F usable for training at 32–64 px (issue 18):
  * the threshold is a sigmoid everywhere, never a hard cut to white: classic XDoG sets every
    pixel above ε to exactly 1, so blank paper passes no gradient and the generator could never be
    pushed to draw a contour where it has none; here a blank region sits at white with a slope of
    about 0.5 per unit of the sharpened image;
  * the Gaussians never shrink below one pixel (and the image is pre-smoothed by at least half a
    pixel), so a 32 px sample's texture gives soft grey, not the isolated specks a sketch critic
    could use to tell fakes without looking at shape.

Convention (as in GANSketching): a sketch tensor is N×1×H×W in [-1, 1] with white paper = +1
and ink = -1. User sketches at the app boundary are float32 H×W in [0, 1] with 1 = ink.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from core.images import centre_square, to_tensor
from core.jobs import GanvasError


@dataclass(frozen=True)
class XDoGConfig:
    """XDoG parameters, tuned so that photos give clean line drawings (outlines, few texture specks).

    ``sigma`` is in pixels of a 256 px image and scales with resolution (never below ``min_sigma``).
    """

    sigma: float = 1.4  # inner Gaussian at 256 px
    min_sigma: float = 1.0  # floor for small images (px): below it, texture turns into speckle
    k: float = 1.6  # outer/inner sigma ratio (the classic DoG ≈ LoG ratio)
    p: float = 25.0  # edge sharpening strength
    eps: float = 0.75  # threshold on the sharpened image
    tone: float = 0.0  # 0 = lines only; 1 = classic XDoG that also fills dark regions with ink
    phi: float = 10.0  # steepness of the sigmoid threshold (finite everywhere: gradients in blank regions)
    smooth: float = 1.5  # pre-smoothing (pixels at 256 px) that removes fine texture before edges
    min_smooth: float = 0.5  # floor of the pre-smoothing (px) for small images
    border: float = 1 / 32  # fraction of the side kept blank: the image frame is not a drawn line


def _gauss_kernel(sigma: float, device, dtype) -> torch.Tensor:
    radius = max(1, int(math.ceil(3 * sigma)))
    x = torch.arange(-radius, radius + 1, device=device, dtype=dtype)
    k = torch.exp(-(x * x) / (2 * sigma * sigma))
    return k / k.sum()


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of N×1×H×W with reflect padding (differentiable)."""
    if sigma <= 0:
        return x
    k = _gauss_kernel(sigma, x.device, x.dtype)
    r = (k.numel() - 1) // 2
    r_eff = min(r, x.shape[-1] - 1, x.shape[-2] - 1)
    if r_eff < r:
        k = k[r - r_eff : r + r_eff + 1]
        k = k / k.sum()
        r = r_eff
    x = F.pad(x, [r, r, r, r], mode="reflect")
    x = F.conv2d(x, k.view(1, 1, 1, -1))
    return F.conv2d(x, k.view(1, 1, -1, 1))


def photo_to_sketch(images: torch.Tensor, config: XDoGConfig | None = None) -> torch.Tensor:
    """F: N×3×H×W photos in [-1, 1] -> N×1×H×W sketches in [-1, 1] (white +1, lines -1). Differentiable."""
    cfg = config or XDoGConfig()
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"photo_to_sketch expects N×3×H×W or N×1×H×W, got {tuple(images.shape)}")
    x = (images.clamp(-1, 1) + 1) * 0.5
    if x.shape[1] == 3:
        w = torch.tensor([0.299, 0.587, 0.114], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
        x = (x * w).sum(1, keepdim=True)
    scale = images.shape[-1] / 256.0
    x = gaussian_blur(x, max(cfg.min_smooth, cfg.smooth * scale))
    sigma = max(cfg.min_sigma, cfg.sigma * scale)
    g1 = gaussian_blur(x, sigma)
    g2 = gaussian_blur(x, sigma * cfg.k)
    s = cfg.tone * g1 + (1 - cfg.tone) + cfg.p * (g1 - g2)
    # smooth threshold: a sigmoid around eps, rescaled so that blank paper (s = 1 with tone 0) is
    # exactly white; its slope there is phi·(1 - σ(phi·(1 - eps))) ≈ 0.8, so blank regions pass gradient
    white = torch.sigmoid(torch.tensor(cfg.phi * (1 - cfg.eps), dtype=s.dtype, device=s.device))
    e = torch.sigmoid(cfg.phi * (s - cfg.eps)) / white
    b = int(round(cfg.border * min(images.shape[-2:])))
    if b > 0:
        keep = torch.zeros_like(e[:1, :1])
        keep[..., b:-b, b:-b] = 1
        e = e * keep + (1 - keep)
    # values are clamped to paper white, the gradient is the sigmoid's (straight through the clamp), so
    # float noise that lifts blank paper a hair above 1 does not cut it off
    e = e - (e - e.clamp(0, 1)).detach()
    return e * 2 - 1


def sketch_tensor_to_ink(sketch: torch.Tensor) -> np.ndarray:
    """N×1×H×W sketch tensor in [-1, 1] -> float32 N×H×W ink in [0, 1] (1 = ink)."""
    return ((1 - sketch.detach().float().clamp(-1, 1)) * 0.5)[:, 0].cpu().numpy().astype(np.float32)


def ink_to_sketch_tensor(ink: np.ndarray, size: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """A user sketch (float32 H×W in [0, 1], 1 = ink, any size) -> 1×1×size×size tensor in [-1, 1].

    Downscaling with area averaging thins strokes to grey; the ink is re-strengthened so that
    lines drawn with a normal pen stay solid lines at the model's resolution, like F's lines.
    """
    a = np.asarray(ink, dtype=np.float32)
    if a.ndim == 3:
        a = a.mean(axis=2)
    if a.ndim != 2 or a.size == 0:
        raise GanvasError(f"A sketch must be a 2-D array (H×W), got shape {a.shape}.")
    a = np.clip(a, 0.0, 1.0)
    h, w = a.shape
    if (h, w) != (size, size):
        # centre-crop to a square first so the drawing keeps its proportions
        a = centre_square(a)
        factor = a.shape[0] / size
        interp = cv2.INTER_AREA if factor > 1 else cv2.INTER_LINEAR
        a = cv2.resize(a, (size, size), interpolation=interp)
        if factor > 1:
            a = np.clip(a * min(4.0, max(1.0, factor * 0.6)), 0.0, 1.0)
    t = torch.from_numpy(1.0 - 2.0 * a)[None, None]
    return t.to(device)


def sketch_image_to_ink(rgb: np.ndarray) -> np.ndarray:
    """A sketch image file (dark lines on light paper, uint8 H×W×3) -> float32 H×W ink in [0, 1]."""
    grey = np.asarray(rgb, dtype=np.float32).mean(axis=2) / 255.0
    lo, hi = float(grey.min()), float(grey.max())
    if hi - lo < 1e-3:
        return np.zeros(grey.shape, np.float32)
    # normalise contrast so pencil on grey paper works like ink on white
    return np.clip((hi - grey) / (hi - lo), 0, 1).astype(np.float32)


def ink_to_rgb(ink: np.ndarray) -> np.ndarray:
    """float32 H×W ink (1 = ink) -> uint8 H×W×3 black-on-white image, for display and export."""
    g = np.clip((1.0 - np.asarray(ink, np.float32)) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return np.repeat(g[..., None], 3, axis=2)


def sketch_of_image(rgb: np.ndarray, size: int | None = None, config: XDoGConfig | None = None) -> np.ndarray:
    """F applied to one uint8 H×W×3 image (optionally resized to ``size``) -> float32 H×W ink, for display."""
    img = np.asarray(rgb)
    if size is not None and img.shape[:2] != (size, size):
        img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    with torch.no_grad():
        s = photo_to_sketch(to_tensor(img), config)
    return sketch_tensor_to_ink(s)[0]


#: Overshooting strokes thinner than this fraction of the sketch's side are trimmed off a figure.
TRIM = 15 / 256


def sketch_silhouette(ink: np.ndarray, threshold: float = 0.5) -> np.ndarray | None:
    """The figure a closed sketch outlines: bool H×W (strokes and what they enclose), or None when the
    strokes enclose nothing (an open line, a scribble) — then there is no figure to fill.

    Strokes that overshoot a corner are trimmed (a morphological opening at 6 % of the side): they are
    no part of the figure, and a critic shown them would ask for a line sticking out of it. A figure
    thinner than that keeps its strokes."""
    a = np.asarray(ink, np.float32)
    if a.ndim == 3:
        a = a.mean(axis=2)
    stroke = (a >= threshold).astype(np.uint8)
    h, w = stroke.shape
    # flood the paper from the whole border: whatever the flood cannot reach is inside a closed contour
    free = (1 - stroke) * 255
    padded = np.pad(free, 1, constant_values=255)
    mask = np.zeros((h + 4, w + 4), np.uint8)
    cv2.floodFill(padded, mask, (0, 0), 128)
    outside = padded[1:-1, 1:-1] == 128
    inside = ~outside & (stroke == 0)
    if inside.sum() < 0.002 * h * w:
        return None
    figure = ~outside
    k = max(3, round(TRIM * min(h, w)) | 1)
    trimmed = cv2.morphologyEx(figure.astype(np.uint8), cv2.MORPH_OPEN,
                               cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))).astype(bool)
    return trimmed if trimmed.sum() >= 0.5 * figure.sum() else figure


def figure_coverage(ink: np.ndarray, size: int) -> np.ndarray | None:
    """The figure a closed sketch outlines (:func:`sketch_silhouette`), centre-cropped to a square and
    shrunk to ``size`` with area averaging: float32 size×size coverage in [0, 1], or None."""
    fig = sketch_silhouette(ink)
    if fig is None:
        return None
    return cv2.resize(centre_square(fig.astype(np.float32)), (size, size), interpolation=cv2.INTER_AREA)


def sketch_as_f_draws_it(ink: np.ndarray, size: int, contrast: float = 0.5, config: XDoGConfig | None = None):
    """A closed user sketch redrawn in F's own line style: its figure (:func:`figure_coverage`) filled
    ``contrast`` darker than the paper and passed through F, so the sketch critic compares lines of one
    style and only their shape can tell them apart. Float32 size×size ink, or None for a sketch that
    encloses nothing."""
    coverage = figure_coverage(ink, size)
    if coverage is None:
        return None
    small = 1.0 - contrast * coverage
    rgb = np.repeat(np.clip(small * 255.0 + 0.5, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    return sketch_of_image(rgb, config=config)
