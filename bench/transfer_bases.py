"""Pretrain the bench's noise base (the paper's weakest prior): StyleGAN2 of the bundled bases'
architecture on 4 000 images of uniform white noise, for ``bench/transfer.py``. Not bundled.

    OMP_NUM_THREADS=1 python bench/transfer_bases.py --out /work/transfer_models/noise_base.ganvas --iters 6000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.sketchgan.pretrain import preset, train_gan  # noqa: E402


def noise_images(count: int, size: int, seed: int) -> torch.Tensor:
    """``count`` RGB images of independent uniform noise in [-1, 1] (no spatial structure at all)."""
    return torch.rand(count, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--iters", type=int, default=6000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    cfg = preset("cpu", size=32, max_channels=32, style_dim=128, iters=args.iters, batch=8,
                 autosave_every=500, seed=args.seed)
    t0, c0 = time.perf_counter(), time.process_time()
    info = {"kind": "noise", "noise": "uniform white", "count": 4000, "seed": args.seed, "size": 32}
    train_gan(noise_images(4000, 32, args.seed), cfg, out_dir=args.out, data_info=info)
    print(f"noise base: {args.iters} steps, {time.process_time() - c0:.0f} CPU s, "
          f"{time.perf_counter() - t0:.0f} wall s")


if __name__ == "__main__":
    main()
