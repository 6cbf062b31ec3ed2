"""Weight-free CNN features: the "second opinion" distances that no training loss here optimises.

No pretrained network may be downloaded, so there is no Inception (FID) or VGG (LPIPS). A stack of
convolutions with *random* weights stands in: random multi-scale filters already capture texture
statistics well enough to synthesise textures from (Ustyuzhaninov et al., ICLR 2017; He et al., 2016),
and, unlike the 7×7 patch distances, they see structure up to ~40 px across and every frequency at once.
The weights come from numpy's PCG64 with a fixed seed, so every machine and torch version measures
with the same network.

- :func:`feature_distance` — Fréchet distance between the feature distributions of two image sets
  (a generator's samples against its photo), per stage, divided by the photo's feature variance and
  averaged: 0 for the same statistics; a photo shrunk to 0.8× and enlarged back scores well above 0.
- :func:`kernel_distance` — KID-style (Bińkowski et al., ICLR 2018) distance between two *sets of
  images* (a GAN's samples against a low-shot training set): unbiased MMD² with the cubic polynomial
  kernel on one vector per image (:func:`image_embeddings`), averaged over random subsets, with its
  spread. Unbiased, so it suits sets of 100 images where a Fréchet distance in 448 dimensions does not.
- :func:`paired_feature_distance` — LPIPS-style distance between two images of one size (an
  enlargement against the true photo): features unit-normalised per location, squared difference.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from core.jobs import GanvasError

#: Channels of the three stages; each stage is two 3×3 convolutions + ReLU, then a 2× average pool.
STAGES = (32, 64, 128)
_SEED = 20240607
#: Feature vectors sampled per stage and image set for the Fréchet statistics.
_LOCATIONS = 10000


@lru_cache(maxsize=1)
def _weights() -> tuple[tuple[torch.Tensor, ...], ...]:
    """He-initialised, zero-mean random filters (fan-in scaled so activations keep their size)."""
    rng = np.random.default_rng(_SEED)
    stages, c_in = [], 3
    for c in STAGES:
        convs = []
        for cin in (c_in, c):
            w = rng.standard_normal((c, cin, 3, 3)) * np.sqrt(2.0 / (cin * 9))
            w -= w.mean(axis=(1, 2, 3), keepdims=True)  # no response to a flat field: features see structure
            convs.append(torch.from_numpy(w.astype(np.float32)))
        stages.append(tuple(convs))
        c_in = c
    return tuple(stages)


def _check(image: np.ndarray, what: str) -> None:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise GanvasError(f"{what}: expected an H×W×3 uint8 RGB image, got {image.dtype} of shape {image.shape}.")
    if min(image.shape[:2]) < 16:
        raise GanvasError(f"{what}: {image.shape[1]}×{image.shape[0]} px is too small for feature distances (≥ 16 px).")


def _stage_maps(x: torch.Tensor) -> list[torch.Tensor]:
    """The network: each stage's feature maps (N×C×H×W, halved per stage) of images in [-1, 1]."""
    out = []
    for k, (w1, w2) in enumerate(_weights()):
        if k:
            x = F.avg_pool2d(x, 2)
        x = F.relu(F.conv2d(F.relu(F.conv2d(x, w1, padding=1)), w2, padding=1))
        out.append(x)
    return out


@torch.no_grad()
def image_features(image: np.ndarray) -> list[torch.Tensor]:
    """The three stages' feature maps of one uint8 H×W×3 image: [C×H×W, C×H/2×W/2, C×H/4×W/4]."""
    _check(image, "image")
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float() / 127.5 - 1.0
    return [m[0] for m in _stage_maps(x)]


def _as_list(images: Sequence[np.ndarray] | np.ndarray) -> list[np.ndarray]:
    seq = list(images) if not (isinstance(images, np.ndarray) and images.ndim == 3) else [images]
    if not seq:
        raise GanvasError("Feature distance needs at least one image in each set.")
    return seq


def _stage_vectors(images: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """Per stage, up to ``_LOCATIONS`` feature vectors (rows) drawn evenly from the images' locations."""
    per_image = max(1, _LOCATIONS // len(images))
    stages: list[list[np.ndarray]] = [[] for _ in STAGES]
    for img in images:
        for k, fmap in enumerate(image_features(img)):
            flat = fmap.reshape(fmap.shape[0], -1).T.numpy()
            if flat.shape[0] > per_image:
                flat = flat[rng.choice(flat.shape[0], per_image, replace=False)]
            stages[k].append(flat)
    return [np.concatenate(s) for s in stages]


def _frechet(a: np.ndarray, b: np.ndarray) -> float:
    """‖μa − μb‖² + tr(Ca + Cb − 2 (Ca^½ Cb Ca^½)^½), through symmetric eigendecompositions."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    ca, cb = (((x - mu).T @ (x - mu)).astype(np.float64) / (len(x) - 1) for x, mu in ((a, mu_a), (b, mu_b)))
    vals, vecs = np.linalg.eigh(ca)
    root_a = (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T
    cross = np.linalg.eigvalsh(root_a @ cb @ root_a)
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2 * np.sqrt(np.clip(cross, 0, None)).sum())


def feature_distance_by_stage(samples: Sequence[np.ndarray] | np.ndarray,
                              photos: Sequence[np.ndarray] | np.ndarray, *, seed: int = 0) -> list[float]:
    """Per stage (fine → coarse), the Fréchet distance of the samples' random-CNN features to the
    photos', divided by the total variance of the photos' features (so stages weigh alike)."""
    samples, photos = _as_list(samples), _as_list(photos)
    for i, img in enumerate(samples):
        _check(img, f"sample {i}")
    rng = np.random.default_rng(seed)
    a, b = _stage_vectors(samples, rng), _stage_vectors(photos, rng)
    return [_frechet(fa, fb) / max(float(np.var(fb, axis=0, dtype=np.float64).sum()), 1e-12) for fa, fb in zip(a, b)]


def feature_distance(samples: Sequence[np.ndarray] | np.ndarray, photos: Sequence[np.ndarray] | np.ndarray,
                     *, seed: int = 0) -> float:
    """Mean over stages of :func:`feature_distance_by_stage` (lower is closer; 0 = the same statistics)."""
    return float(np.mean(feature_distance_by_stage(samples, photos, seed=seed)))


def paired_feature_distance(image: np.ndarray, reference: np.ndarray) -> float:
    """LPIPS-style distance of ``image`` to ``reference`` (same size): per stage, each location's feature
    vector unit-normalised, the squared difference summed over channels and averaged over locations;
    then the mean over stages. 0 for identical images, at most 4."""
    _check(image, "image")
    _check(reference, "reference")
    if image.shape != reference.shape:
        raise GanvasError(f"Paired feature distance needs images of one size: {image.shape[1]}×{image.shape[0]} "
                          f"vs {reference.shape[1]}×{reference.shape[0]}.")
    dists = []
    for fa, fb in zip(image_features(image), image_features(reference)):
        na = fa / (fa.norm(dim=0, keepdim=True) + 1e-10)
        nb = fb / (fb.norm(dim=0, keepdim=True) + 1e-10)
        dists.append(float(((na - nb) ** 2).sum(0).mean()))
    return float(np.mean(dists))


@torch.no_grad()
def image_embeddings(images: Sequence[np.ndarray] | np.ndarray, *, batch: int = 64) -> np.ndarray:
    """One vector per image (N×448): each stage's per-channel mean and standard deviation over locations.
    Images of one size are run in batches through :func:`image_features`' network."""
    seq = _as_list(images)
    for i, img in enumerate(seq):
        _check(img, f"image {i}")
        if img.shape != seq[0].shape:
            raise GanvasError(f"Image embeddings need images of one size: image {i} is {img.shape[1]}×{img.shape[0]}, "
                              f"image 0 {seq[0].shape[1]}×{seq[0].shape[0]}.")
    rows = []
    for i in range(0, len(seq), batch):
        x = torch.from_numpy(np.ascontiguousarray(np.stack(seq[i : i + batch]))).permute(0, 3, 1, 2).float() / 127.5 - 1
        parts = [stat for m in _stage_maps(x) for stat in (m.mean((2, 3)), m.std((2, 3)))]
        rows.append(torch.cat(parts, 1).numpy())
    return np.concatenate(rows).astype(np.float64)


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD² with k(a, b) = (a·b / d + 1)³ (KID's kernel)."""
    d = x.shape[1]
    kxx, kyy, kxy = ((a @ b.T / d + 1) ** 3 for a, b in ((x, x), (y, y), (x, y)))
    m, n = len(x), len(y)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                 - 2 * kxy.mean())


def kernel_distance(samples: Sequence[np.ndarray] | np.ndarray, photos: Sequence[np.ndarray] | np.ndarray, *,
                    subsets: int = 100, subset_size: int | None = None, seed: int = 0) -> tuple[float, float]:
    """KID-style distance of the samples' image set to the photos' (lower is closer; about 0 for sets
    drawn from one distribution, negative values are noise): mean and standard deviation of the unbiased
    MMD² over ``subsets`` random subsets of ``subset_size`` images of each (default: half the smaller set,
    so that the subsets differ and the spread says how much the figure depends on which images)."""
    a, b = image_embeddings(samples), image_embeddings(photos)
    if min(len(a), len(b)) < 4:
        raise GanvasError("A kernel distance needs at least four images in each set.")
    k = min(subset_size or min(len(a), len(b)) // 2, len(a), len(b))
    rng = np.random.default_rng(seed)
    vals = [_mmd2_unbiased(a[rng.choice(len(a), k, replace=False)], b[rng.choice(len(b), k, replace=False)])
            for _ in range(subsets)]
    return float(np.mean(vals)), float(np.std(vals))
