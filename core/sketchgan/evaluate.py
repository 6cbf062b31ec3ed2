"""Weight-free measures of a sketch fine-tune: does F(G(z)) take the user's shape, and are the images
still as realistic as the base model's?

* Shape: the symmetric Chamfer distance between the ink of F(G(z)) and the nearest user sketch,
  in pixels at the model's resolution, averaged over seeds (lower = closer to what was drawn).
  The paper reports this too (with PhotoSketch as F and held-out sketches as targets). Measured
  through the same F the training pushes on, it is circular: a generator could learn to please F.
  So :func:`edge_match` measures the same distance from the generated images' *own* edges (Canny,
  or the outline of the foreground against the background colour), which no training loss sees.
* Realism: patch SWD (core.metrics) of the fine-tuned samples against the base model's samples,
  compared with the base model against itself on other seeds (the noise floor of the measure),
  and of both models' samples against held-out images of the training distribution.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from core.metrics import patch_swd
from core.sketchgan.model import StyleGANModel, generate_tensor, tensor_to_uint8
from core.sketchgan.sketch import XDoGConfig, ink_to_sketch_tensor, photo_to_sketch, sketch_tensor_to_ink


def _dist_to_ink(mask: np.ndarray) -> np.ndarray:
    """Distance (px) from every pixel to the nearest ink pixel of ``mask`` (bool H×W)."""
    if not mask.any():
        return np.full(mask.shape, float(np.hypot(*mask.shape)), np.float32)
    return cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 5)


def chamfer_distance(ink_a: np.ndarray, ink_b: np.ndarray, threshold: float = 0.5) -> float:
    """Symmetric Chamfer distance (mean px) between the ink pixels of two same-sized H×W ink maps.

    An empty drawing against a non-empty one scores the image diagonal.
    """
    a, b = np.asarray(ink_a) > threshold, np.asarray(ink_b) > threshold
    if not a.any() and not b.any():
        return 0.0
    diag = float(np.hypot(*a.shape))
    ab = float(_dist_to_ink(b)[a].mean()) if a.any() else diag
    ba = float(_dist_to_ink(a)[b].mean()) if b.any() else diag
    return 0.5 * (ab + ba)


def user_inks_at(sketches: list[np.ndarray], size: int) -> list[np.ndarray]:
    """User sketches resampled to the model's size exactly as fine-tuning sees them."""
    return [sketch_tensor_to_ink(ink_to_sketch_tensor(s, size))[0] for s in sketches]


@torch.no_grad()
def sketches_of_samples(
    model: StyleGANModel, seeds: list[int], truncation: float = 1.0, xdog: XDoGConfig | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 N×H×W×3 samples, float32 N×H×W ink of F(samples)) for ``seeds``."""
    img = generate_tensor(model, seeds, truncation=truncation)
    ink = sketch_tensor_to_ink(photo_to_sketch(img, xdog))
    return tensor_to_uint8(img), ink


def sketch_match(
    model: StyleGANModel, sketches: list[np.ndarray], seeds: list[int], xdog: XDoGConfig | None = None
) -> dict[str, float]:
    """Mean and median (over seeds) of the Chamfer distance from F(G(z)) to the nearest user sketch."""
    targets = user_inks_at(sketches, model.config.size)
    _, inks = sketches_of_samples(model, seeds, xdog=xdog)
    d = np.array([min(chamfer_distance(ink, t) for t in targets) for ink in inks])
    return {"chamfer_mean": float(d.mean()), "chamfer_median": float(np.median(d))}


EDGE_METHODS = ("canny", "outline")


def image_edges(rgb: np.ndarray, method: str = "canny") -> np.ndarray:
    """The edges of one uint8 H×W×3 image as a bool H×W map, without F.

    ``canny``: Canny (L2 gradient, thresholds 30/80 grey levels) after a 0.7 px Gaussian, which keeps
    a silhouette's outline and drops the low-contrast background texture. ``outline``: the pixels
    whose colour is far from the image border's median colour (Otsu's threshold on that distance, at
    least 24 levels) form the foreground; its outline is the mask minus its 3×3 erosion.
    """
    img = np.ascontiguousarray(rgb, dtype=np.uint8)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"image_edges expects H×W×3 uint8, got {img.shape}")
    if method == "canny":
        grey = cv2.GaussianBlur(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), (3, 3), 0.7)
        return cv2.Canny(grey, 30, 80, L2gradient=True) > 0
    if method == "outline":
        border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]]).astype(np.float32)
        dist = np.linalg.norm(img.astype(np.float32) - np.median(border, axis=0), axis=2)
        d8 = np.clip(dist, 0, 255).astype(np.uint8)
        t, _ = cv2.threshold(d8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        mask = (d8 > max(24.0, t)).astype(np.uint8)
        return (mask - cv2.erode(mask, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)) > 0
    raise ValueError(f"Unknown edge method '{method}': use one of {', '.join(EDGE_METHODS)}.")


def edge_distance(images: np.ndarray, targets: list[np.ndarray], method: str = "canny") -> np.ndarray:
    """Per image (uint8 N×H×W×3): Chamfer distance (px) from its own edges to the nearest target ink map."""
    out = []
    for im in images:
        edges = image_edges(im, method).astype(np.float32)
        out.append(min(chamfer_distance(edges, t) for t in targets))
    return np.array(out, np.float64)


def edge_match(
    model: StyleGANModel, sketches: list[np.ndarray], seeds: list[int], method: str = "canny"
) -> dict[str, float]:
    """The non-circular shape measure: Chamfer distance from the samples' own edges (not F's) to the
    nearest user sketch, mean and median over seeds."""
    targets = user_inks_at(sketches, model.config.size)
    images = tensor_to_uint8(generate_tensor(model, seeds))
    d = edge_distance(images, targets, method)
    return {f"{method}_chamfer_mean": float(d.mean()), f"{method}_chamfer_median": float(np.median(d))}


def realism(
    tuned: StyleGANModel,
    base: StyleGANModel,
    seeds: list[int],
    ref_seeds: list[int],
    data: np.ndarray | None = None,
) -> dict[str, float]:
    """Patch SWD of tuned vs base samples, and of base vs base on other seeds (the floor).

    With ``data`` (uint8 N×H×W×3 held-out images of the base's training distribution) also the SWD
    of each model's samples against it: the fine-tune keeps the base's realism when its distance to
    the data stays near the base's own (a changed shape alone moves the samples away from the base's
    samples, so tuned-vs-base is not the measure of realism).
    """
    base_a = tensor_to_uint8(generate_tensor(base, seeds))
    base_b = tensor_to_uint8(generate_tensor(base, ref_seeds))
    tuned_a = tensor_to_uint8(generate_tensor(tuned, seeds))
    out = {"swd_tuned_vs_base": patch_swd(tuned_a, base_b), "swd_base_vs_base": patch_swd(base_a, base_b)}
    if data is not None:
        out["swd_base_vs_data"] = patch_swd(base_a, data)
        out["swd_tuned_vs_data"] = patch_swd(tuned_a, data)
    return out
