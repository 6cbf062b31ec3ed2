"""Weight-free quality measures: patch sliced-Wasserstein distance and SinGAN's diversity.

No Inception weights can be downloaded, so no SIFID: the patch SWD of Karras et al. (2018)
compares the distributions of 7×7 patches over a Laplacian pyramid instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from core.jobs import GanvasError


def _laplacian_pyramid(img: np.ndarray, levels: int) -> list[np.ndarray]:
    out, cur = [], img.astype(np.float32) / 255.0
    for _ in range(levels - 1):
        if min(cur.shape[:2]) < 16:
            break
        down = cv2.pyrDown(cur)
        up = cv2.pyrUp(down, dstsize=(cur.shape[1], cur.shape[0]))
        out.append(cur - up)
        cur = down
    out.append(cur)
    return out


def _patches(level: np.ndarray, count: int, rng: np.random.Generator, size: int) -> np.ndarray:
    h, w = level.shape[:2]
    if h < size or w < size:
        return np.empty((0, size * size * level.shape[2]), np.float32)
    ys = rng.integers(0, h - size + 1, count)
    xs = rng.integers(0, w - size + 1, count)
    win = np.lib.stride_tricks.sliding_window_view(level, (size, size), axis=(0, 1))  # H', W', C, s, s
    return win[ys, xs].reshape(count, -1).astype(np.float32)


def patch_swd(
    images_a: Sequence[np.ndarray] | np.ndarray,
    images_b: Sequence[np.ndarray] | np.ndarray,
    **options,
) -> float:
    """Mean over pyramid levels of the sliced Wasserstein distance between 7×7 patch sets (×10³, lower is closer).

    ``patch_size`` 11 with another ``seed`` gives a check that a 7×7 patch loss does not target directly.
    Options as :func:`patch_swd_by_level`.
    """
    return float(np.mean(patch_swd_by_level(images_a, images_b, **options)))


def patch_swd_by_level(
    images_a: Sequence[np.ndarray] | np.ndarray,
    images_b: Sequence[np.ndarray] | np.ndarray,
    *,
    levels: int = 4,
    patches_per_level: int = 4096,
    directions: int = 512,
    seed: int = 0,
    patch_size: int = 7,
) -> list[float]:
    """Patch SWD (×10³) per Laplacian level, finest first. The last level is the low-pass image itself
    (16 px for a 128-px photo), where a 7×7 patch spans half the picture: it compares layouts.

    Patches are normalised per level with the statistics of both sets together, as in Karras et al.
    Works with sets of different sizes and image shapes (uint8 N×H×W×3 or lists of H×W×3).
    """
    a, b = list(images_a), list(images_b)
    if not a or not b:
        raise GanvasError("Patch SWD needs at least one image in each set.")
    rng = np.random.default_rng(seed)
    pyr_a = [_laplacian_pyramid(x, levels) for x in a]
    pyr_b = [_laplacian_pyramid(x, levels) for x in b]
    depth = min(min(len(p) for p in pyr_a), min(len(p) for p in pyr_b))
    dists = []
    for lv in range(depth):
        pa = np.concatenate([_patches(p[lv], -(-patches_per_level // len(a)), rng, patch_size) for p in pyr_a])
        pb = np.concatenate([_patches(p[lv], -(-patches_per_level // len(b)), rng, patch_size) for p in pyr_b])
        if len(pa) == 0 or len(pb) == 0:
            continue
        both = np.concatenate([pa, pb])
        mean, std = both.mean(0), both.std(0) + 1e-8
        pa, pb = (pa - mean) / std, (pb - mean) / std
        dirs = rng.standard_normal((pa.shape[1], directions)).astype(np.float32)
        dirs /= np.linalg.norm(dirs, axis=0, keepdims=True)
        qa, qb = np.sort(pa @ dirs, axis=0), np.sort(pb @ dirs, axis=0)
        if len(qa) != len(qb):  # compare quantiles when the sets differ in size
            n = min(len(qa), len(qb))
            qa, qb = _quantiles_of_sorted(qa, n), _quantiles_of_sorted(qb, n)
        dists.append(float(np.abs(qa - qb).mean()) * 1e3)
    if not dists:
        raise GanvasError(f"The images are too small for a {patch_size}×{patch_size} patch comparison.")
    return dists


def _quantiles_of_sorted(columns: np.ndarray, n: int) -> np.ndarray:
    """``n`` evenly spaced quantiles of each already sorted column (numpy's 'linear' rule, without re-sorting)."""
    pos = np.linspace(0, 1, n) * (len(columns) - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, len(columns) - 1)
    frac = (pos - lo).astype(columns.dtype)[:, None]
    return columns[lo] * (1 - frac) + columns[hi] * frac


def diversity(samples: Sequence[np.ndarray] | np.ndarray, reference: np.ndarray) -> float:
    """SinGAN's diversity: per-pixel std over samples, averaged, divided by the reference image's std.

    0 means every sample is identical; values near 0.5 mean samples vary about as much as the image itself.
    """
    s = np.asarray(samples, dtype=np.float32)
    if s.ndim != 4 or len(s) < 2:
        raise GanvasError("Diversity needs at least two samples of the same size.")
    ref = np.asarray(reference, dtype=np.float32)
    if ref.shape != s.shape[1:]:
        ref = cv2.resize(ref, (s.shape[2], s.shape[1]), interpolation=cv2.INTER_AREA)
    return float(s.std(axis=0).mean() / (ref.std() + 1e-8))


def near_copy_rate(samples: Sequence[np.ndarray] | np.ndarray, photo: np.ndarray, threshold: float = 30.0) -> float:
    """Fraction of samples whose mean absolute difference to ``photo`` is below ``threshold`` (0–255 scale).

    A sample of another size than the photo is compared with the photo resized to it (area interpolation).
    """
    s = list(samples)
    if not s:
        raise GanvasError("Near-copy rate needs at least one sample.")
    ref = np.asarray(photo, dtype=np.float32)
    copies = 0
    for x in s:
        x = np.asarray(x, dtype=np.float32)
        r = ref if ref.shape == x.shape else cv2.resize(ref, (x.shape[1], x.shape[0]), interpolation=cv2.INTER_AREA)
        copies += float(np.abs(x - r).mean()) < threshold
    return copies / len(s)


def copied_area(samples: Sequence[np.ndarray] | np.ndarray, photo: np.ndarray, *, block_frac: float = 0.2,
                rms: float = 4.0, min_std: float = 0.0) -> float:
    """Fraction of sample area made of blocks found verbatim in ``photo``.

    Each sample is cut into square blocks whose side is ``block_frac`` of the photo's shorter side; a
    block counts as copied when some position of the photo matches it with RMS difference below
    ``rms`` (0–255 scale), found exhaustively with OpenCV's template matching.

    ``min_std`` > 0 counts only blocks whose spatial std (per channel, averaged; 0–255) is at least
    that: a flat patch of sky matches any flat patch of the photo, so the share of *textured* blocks
    copied is the figure that means copying there (0.0 when no block is textured).
    """
    s = list(samples)
    if not s:
        raise GanvasError("Copied area needs at least one sample.")
    ref = np.ascontiguousarray(photo, dtype=np.float32)
    side = max(3, int(round(min(ref.shape[:2]) * block_frac)))
    limit = rms * rms * side * side * 3
    copied = total = flat = 0
    for x in s:
        x = np.asarray(x, dtype=np.float32)
        for y0 in range(0, x.shape[0] - side + 1, side):
            for x0 in range(0, x.shape[1] - side + 1, side):
                block = np.ascontiguousarray(x[y0:y0 + side, x0:x0 + side])
                total += 1
                if min_std > 0 and float(block.reshape(-1, block.shape[-1]).std(0).mean()) < min_std:
                    flat += 1
                    continue
                best = float(cv2.matchTemplate(ref, block, cv2.TM_SQDIFF).min())
                copied += best < limit
    if total == 0:
        raise GanvasError(f"The samples are smaller than one {side}-px block; copied area cannot be measured.")
    return copied / (total - flat) if total > flat else 0.0


def patch_classifier_accuracy(samples: Sequence[np.ndarray] | np.ndarray, photo: np.ndarray, *, patch: int = 16,
                              steps: int = 400, seed: int = 0, repeats: int = 1) -> float:
    """Held-out accuracy of a small CNN trained to tell the photo's patches from the samples' (0.5: it
    cannot tell them apart; 1.0: every patch gives itself away). A check no patch-distribution loss
    optimises: it sees grain, smears and seams that a sliced distance averages away.

    The classifier learns on the left half of the photo and of every sample and is tested on the
    right halves, so it cannot pass by memorising the photo's own patches. Runs at full resolution
    and at half (``patch`` px patches in both) and returns the mean of the two accuracies; one
    classifier's figure varies by about ±0.07 with its seed, so ``repeats`` averages several.
    """
    import torch
    from torch import nn

    s = np.asarray(list(samples), dtype=np.float32)
    ref = np.asarray(photo, dtype=np.float32)
    if s.ndim != 4 or len(s) < 2:
        raise GanvasError("The patch classifier needs at least two samples of the same size.")
    if ref.shape != s.shape[1:]:
        ref = cv2.resize(ref, (s.shape[2], s.shape[1]), interpolation=cv2.INTER_AREA)
    if min(ref.shape[0], ref.shape[1] // 2) < 2 * patch:
        raise GanvasError(f"The images are too small for the patch classifier ({patch}-px patches at half size).")
    rng = np.random.default_rng(seed)
    batch, held_out = 64, 1000  # patches per class: per training step, and in the test
    labels = torch.cat([torch.ones(batch), torch.zeros(batch)])
    truth = torch.cat([torch.ones(held_out, dtype=torch.bool), torch.zeros(held_out, dtype=torch.bool)])
    sizes = [(_shrink(ref, f)[None] / 127.5 - 1.0, np.stack([_shrink(x, f) for x in s]) / 127.5 - 1.0) for f in (1, 2)]
    accuracies = []
    for real, fakes in sizes * repeats:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed + len(accuracies))
            net = nn.Sequential(
                nn.Conv2d(3, 16, 3), nn.LeakyReLU(0.2), nn.Conv2d(16, 32, 3, stride=2), nn.LeakyReLU(0.2),
                nn.Conv2d(32, 32, 3, stride=2), nn.LeakyReLU(0.2), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                nn.Linear(32, 1))
        opt = torch.optim.Adam(net.parameters(), lr=2e-3)
        for _ in range(steps):
            x = torch.cat([half_crops(real, batch, patch, False, rng), half_crops(fakes, batch, patch, False, rng)])
            loss = nn.functional.binary_cross_entropy_with_logits(net(x)[:, 0], labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            x = torch.cat([half_crops(real, held_out, patch, True, rng),
                           half_crops(fakes, held_out, patch, True, rng)])
            accuracies.append(float(((net(x)[:, 0] > 0) == truth).float().mean()))
    return float(np.mean(accuracies))


def _shrink(img: np.ndarray, factor: int) -> np.ndarray:
    from core.images import resize  # area filter when shrinking

    return img if factor == 1 else resize(img, img.shape[1] // factor, img.shape[0] // factor)


def half_crops(images: np.ndarray, count: int, patch: int, right: bool, rng: np.random.Generator):
    """``count`` random ``patch``-px crops (N×3×p×p tensor) from the left or right half of N×H×W×3 ``images``."""
    import torch

    mid = images.shape[2] // 2
    lo, hi = (mid, images.shape[2] - patch) if right else (0, mid - patch)
    i = rng.integers(0, len(images), count)
    y = rng.integers(0, images.shape[1] - patch + 1, count)
    x = rng.integers(lo, hi + 1, count)
    out = np.stack([images[a, b:b + patch, c:c + patch] for a, b, c in zip(i, y, x)])
    return torch.from_numpy(out.transpose(0, 3, 1, 2).astype(np.float32))
