"""What bench/quality.py's patch SWD gives images that are not SinGAN samples: the yardsticks behind
the quality issue's targets.

    python bench/swd_reference.py                          # 4 photos, shifted / mirrored photo, GPDM at 3 noise levels
    python bench/swd_reference.py --photos brick --sigmas 0.4 --gpdm-samples 2 --steps 100   # a quick look

For each photo at 128 px, with the quality bench's figures (patch SWD, SWD 11×11, diversity, copied area):
- the photo shifted by random wrap-around offsets (50 copies): every patch is the photo's own, only the
  layout moves (and two seams appear) — a perfect texture sample by any eye;
- the photo mirrored left-right;
- GPDM-style samples (Elnekave & Weiss): the pixels themselves optimised coarse to fine against the photo's
  7×7 patch distribution with the `fast` preset's patch loss, from the photo's coarsest level plus noise of
  standard deviation ``sigma`` (in [-1, 1] units). Small ``sigma`` keeps the photo's layout, large draws a
  new one: how far a method that targets this distribution directly gets, and at what diversity.
The patch SWD is the mean of 4 levels; the coarsest compares 7×7 patches of a 16-px low-pass image, i.e.
the layout itself, and the table gives it on its own.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.quality import PHOTOS, load_photo  # noqa: E402
from core.images import fit_within, to_tensor, to_uint8  # noqa: E402
from core.metrics import copied_area, diversity, patch_swd, patch_swd_by_level  # noqa: E402
from core.singan.train import patch_swd_loss  # noqa: E402


def figures(samples: list[np.ndarray], photo: np.ndarray, seed: int = 0) -> dict[str, float]:
    """The quality bench's figures; one sample (the photo against itself: the floor) has no diversity."""
    levels = patch_swd_by_level(samples, [photo], seed=seed)
    return {
        "swd": float(np.mean(levels)),
        "coarse": levels[-1],
        "swd11": patch_swd(samples, [photo], patch_size=11, seed=77 + seed),
        "diversity": diversity(samples, photo) if len(samples) > 1 else float("nan"),
        "copied_area": copied_area(samples, photo),
    }


def gpdm_sample(photo: np.ndarray, sigma: float, steps: int, seed: int, factor: float = 0.75,
                coarsest: int = 21) -> np.ndarray:
    """One sample: from the photo's coarsest level plus noise, Adam (lr 0.01) on the pixels at every level."""
    target = to_tensor(photo)
    shapes, f = [], 1.0
    while True:
        h, w = round(target.shape[2] * f), round(target.shape[3] * f)
        shapes.insert(0, (h, w))
        if min(h, w) <= coarsest:
            break
        f *= factor
    gen = torch.Generator().manual_seed(seed)
    x = None
    for h, w in shapes:
        real = F.interpolate(target, size=(h, w), mode="bilinear", antialias=True, align_corners=False)
        x = real + sigma * torch.randn(real.shape, generator=gen) if x is None else \
            F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
        x = x.detach().requires_grad_(True)
        opt = torch.optim.Adam([x], lr=0.01)
        for _ in range(steps):
            opt.zero_grad()
            patch_swd_loss(x, real, 64, gen).backward()
            opt.step()
    return to_uint8(x.detach()[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", nargs="+", default=list(PHOTOS))
    ap.add_argument("--sigmas", nargs="*", type=float, default=[0.2, 0.4, 0.75], help="GPDM start noise levels")
    ap.add_argument("--gpdm-samples", type=int, default=4)
    ap.add_argument("--steps", type=int, default=300, help="GPDM steps per level")
    ap.add_argument("--size", type=int, default=128)
    args = ap.parse_args()
    torch.set_num_threads(1)
    print("| photo | images | patch SWD | of it, coarsest level | SWD 11×11 | diversity | copied area | s per image |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.photos:
        photo = fit_within(load_photo(name), args.size)
        h, w = photo.shape[:2]
        rng = np.random.default_rng(0)
        rows = {"photo (floor)": ([photo], 0.0),
                "shifted photo": ([np.roll(photo, (rng.integers(h), rng.integers(w)), (0, 1)) for _ in range(50)], 0.0),
                "mirrored photo": ([photo[:, ::-1].copy()], 0.0)}
        for sigma in args.sigmas:
            t0 = time.perf_counter()
            made = [gpdm_sample(photo, sigma, args.steps, seed) for seed in range(args.gpdm_samples)]
            rows[f"GPDM, noise {sigma:g}"] = (made, (time.perf_counter() - t0) / len(made))
        for label, (images, seconds) in rows.items():
            fig = figures(images, photo, seed=1 if label == "photo (floor)" else 0)
            print(f"| {name} | {label} | {fig['swd']:.0f} | {fig['coarse']:.0f} | {fig['swd11']:.0f} | "
                  f"{fig['diversity']:.2f} | {100 * fig['copied_area']:.1f} % | {seconds:.0f} |", flush=True)


if __name__ == "__main__":
    main()
