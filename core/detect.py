"""How easily a detector tells our images from the photo: a small linear classifier of real vs generated
patches, trained in a second on frequency-domain features (the log-magnitude DCT of 8×8 blocks, as in
"learning in the frequency domain") and on pixels, reported as held-out accuracy (0.5: it cannot tell).

It is the same test as :func:`core.metrics.patch_classifier_accuracy` — patches from the left half of
every image train it, patches from the right halves test it, so it cannot pass by memorising the photo's
own patches (:func:`core.metrics.half_crops` draws both) — with a linear model on explicit features in
place of a small CNN: seconds instead of a minute, and its DCT features say *which* frequencies give the
generator away (:attr:`Detection.coefficient_accuracy`, an 8×8 map: each coefficient alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from core.jobs import CancelToken, GanvasError, ProgressFn, ProgressReporter, check_cancel

FEATURES = ("dct", "pixels")
BLOCK = 8


@dataclass
class Detection:
    """Held-out accuracy of one feature set over ``runs`` (each with new patches); ``spread`` is their
    standard deviation. ``coefficient_accuracy`` (DCT only): 8×8, the accuracy of each coefficient
    alone (row = vertical frequency, column = horizontal; [0, 0] is the block's mean)."""

    features: str
    accuracy: float
    spread: float
    runs: list[float]
    coefficient_accuracy: np.ndarray | None = None

    def line(self) -> str:
        return f"{self.features}: {self.accuracy:.3f} ± {self.spread:.3f} ({len(self.runs)} runs)"


def dct_matrix(n: int = BLOCK) -> torch.Tensor:
    """The orthonormal DCT-II matrix (n×n): ``D @ block @ D.T`` is a block's 2-D DCT."""
    k = torch.arange(n, dtype=torch.float64)[:, None]
    i = torch.arange(n, dtype=torch.float64)[None, :]
    d = torch.cos(torch.pi * (2 * i + 1) * k / (2 * n)) * (2.0 / n) ** 0.5
    d[0] /= 2 ** 0.5
    return d.float()


def dct_features(patches: torch.Tensor) -> torch.Tensor:
    """N×3×p×p patches in [-1, 1] → N×64: log |DCT| of the luma's 8×8 blocks, averaged over the blocks."""
    luma = (0.299 * patches[:, 0] + 0.587 * patches[:, 1] + 0.114 * patches[:, 2]) * 127.5
    n, p = luma.shape[0], luma.shape[-1] // BLOCK * BLOCK
    blocks = luma[:, :p, :p].reshape(n, p // BLOCK, BLOCK, p // BLOCK, BLOCK).permute(0, 1, 3, 2, 4)
    d = dct_matrix()
    coeffs = d @ blocks @ d.T
    return torch.log1p(coeffs.abs()).mean((1, 2)).reshape(n, BLOCK * BLOCK)


def pixel_features(patches: torch.Tensor) -> torch.Tensor:
    """N×3×p×p → N×192: the RGB of the patch's central 8×8 block."""
    p = patches.shape[-1]
    o = (p - BLOCK) // 2
    return patches[:, :, o:o + BLOCK, o:o + BLOCK].reshape(len(patches), -1)


def _standardise(train: torch.Tensor, test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mean, std = train.mean(0), train.std(0).clamp_min(1e-6)
    return (train - mean) / std, (test - mean) / std


def logistic_accuracy(x_train: torch.Tensor, y_train: torch.Tensor, x_test: torch.Tensor, y_test: torch.Tensor,
                      *, separate: bool = False, steps: int = 12, ridge: float = 1.0) -> torch.Tensor:
    """Held-out accuracy of ridge-regularised logistic regression on standardised features, fitted by
    Newton's method (``steps`` iterations from zero: deterministic, and no optimiser to import).
    ``separate``: one classifier per feature column instead of one over all of them (returns one
    accuracy per column)."""
    x_train, x_test = (t.double() for t in _standardise(x_train, x_test))
    y = y_train.double()
    if separate:  # d independent 2-parameter problems (weight, bias), solved side by side
        w = torch.zeros(2, x_train.shape[1], dtype=torch.float64)
        for _ in range(steps):
            p = torch.sigmoid(x_train * w[0] + w[1])
            r, c = p - y[:, None], p * (1 - p)
            g = torch.stack([(r * x_train).sum(0) + ridge * w[0], r.sum(0)])
            h00, h01, h11 = (c * x_train ** 2).sum(0) + ridge, (c * x_train).sum(0), c.sum(0) + 1e-9
            det = h00 * h11 - h01 ** 2
            w = w - torch.stack([h11 * g[0] - h01 * g[1], h00 * g[1] - h01 * g[0]]) / det
        guess = (x_test * w[0] + w[1]) > 0
        return (guess == y_test[:, None].bool()).float().mean(0)
    xb = torch.cat([x_train, torch.ones(len(x_train), 1, dtype=torch.float64)], 1)
    reg = torch.full((xb.shape[1],), ridge, dtype=torch.float64)
    reg[-1] = 1e-9  # the bias is not shrunk
    w = torch.zeros(xb.shape[1], dtype=torch.float64)
    for _ in range(steps):
        p = torch.sigmoid(xb @ w)
        g = xb.T @ (p - y) + reg * w
        h = (xb * (p * (1 - p))[:, None]).T @ xb + torch.diag(reg)
        w = w - torch.linalg.solve(h, g)
    guess = (x_test @ w[:-1] + w[-1]) > 0
    return (guess == y_test.bool()).float().mean()


def _as_stack(images: Sequence[np.ndarray] | np.ndarray, what: str) -> np.ndarray:
    arr = [np.asarray(im) for im in images]
    if not arr:
        raise GanvasError(f"The detector needs at least one {what} image.")
    if any(a.shape != arr[0].shape for a in arr) or arr[0].ndim != 3:
        raise GanvasError(f"The {what} images must all be H×W×3 of one size.")
    return np.stack(arr).astype(np.float32) / 127.5 - 1.0


def detectability(real: Sequence[np.ndarray] | np.ndarray, fake: Sequence[np.ndarray] | np.ndarray, *,
                  patch: int = 32, patches: int = 600, repeats: int = 5, seed: int = 0,
                  progress: ProgressFn | None = None, cancel: CancelToken | None = None) -> dict[str, Detection]:
    """Real-vs-generated patch detection on DCT and pixel features (see the module docstring).

    ``real``: the photo (or photos), ``fake``: the model's samples (uint8 H×W×3, resized to the real
    size if they differ). ``patches`` per class are drawn for training and again for testing.
    """
    import cv2

    from core.metrics import half_crops

    r, f = _as_stack(real, "real"), _as_stack(fake, "generated")
    if f.shape[1:] != r.shape[1:]:
        f = np.stack([cv2.resize(x, (r.shape[2], r.shape[1]), interpolation=cv2.INTER_AREA) for x in f])
    if patch < BLOCK or patch % BLOCK:
        raise GanvasError(f"The patch size must be a multiple of {BLOCK} (got {patch}).")
    if min(r.shape[1], r.shape[2] // 2) < patch:
        raise GanvasError(f"The images ({r.shape[2]}×{r.shape[1]} px) are too small for {patch}-px patches "
                          "in each half.")
    rng = np.random.default_rng(seed)
    y = torch.cat([torch.ones(patches), torch.zeros(patches)])
    runs: dict[str, list[float]] = {k: [] for k in FEATURES}
    coeff = []
    reporter = ProgressReporter(progress)
    for i in range(repeats):
        check_cancel(cancel)
        train = torch.cat([half_crops(r, patches, patch, False, rng), half_crops(f, patches, patch, False, rng)])
        test = torch.cat([half_crops(r, patches, patch, True, rng), half_crops(f, patches, patch, True, rng)])
        for name, feats in (("dct", dct_features), ("pixels", pixel_features)):
            runs[name].append(float(logistic_accuracy(feats(train), y, feats(test), y)))
        coeff.append(logistic_accuracy(dct_features(train), y, dct_features(test), y, separate=True).numpy())
        reporter.report(i + 1, repeats, stage="Detecting")
    out = {k: Detection(k, float(np.mean(v)), float(np.std(v)), v) for k, v in runs.items()}
    out["dct"].coefficient_accuracy = np.mean(coeff, 0).reshape(BLOCK, BLOCK)
    return out


def coefficient_map_image(acc: np.ndarray, cell: int = 24) -> np.ndarray:
    """The 8×8 per-coefficient accuracy as an RGB picture: 0.5 dark, 1.0 bright."""
    import cv2

    level = (np.clip((acc - 0.5) * 2, 0, 1) * 255).astype(np.uint8)
    big = np.kron(level, np.ones((cell, cell), np.uint8))
    return cv2.applyColorMap(big, cv2.COLORMAP_INFERNO)[..., ::-1].copy()
