"""Peak memory of SinGAN training, measured and estimated: calibrates core/singan/memory.py.

``python bench/memory.py [--sizes 128 256 384] [--presets fast paper consingan] [--fit]``: for every
preset and size, a child process trains one iteration per scale on the rocket photo and reports its
peak resident set (ru_maxrss; one iteration reaches the same peak as a thousand: the graphs are the
same size every iteration); the table sets it against ``estimate_training_bytes``. ``--fit`` prints
the least-squares constants for core/singan/memory.py from the same runs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = """
import resource, sys
sys.path.insert(0, {root!r})
from bench.singan import photo
from core.singan.config import preset
from core.singan.train import train_singan
img = photo({size})
import torch
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
train_singan(img, preset({preset!r}, max_size={size}, iters=1), device='cpu')
print(base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def measure(preset: str, size: int) -> tuple[int, int]:
    """(RSS after imports, peak RSS) in bytes of a one-iteration-per-scale training in a fresh process."""
    out = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT), size=size, preset=preset)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    base, peak = out.stdout.split()[-2:]
    return int(base) * 1024, int(peak) * 1024


def terms(preset: str, size: int) -> tuple[float, float]:
    """The conv-activation term of core/singan/memory.py's model, and the finest scale's pixels when the preset
    has a patch loss (the model has no term for it: the fit says whether it should)."""
    import core.singan.memory as mem
    from bench.singan import photo
    from core.singan.config import preset as make
    from core.singan.pyramid import pyramid_shapes

    cfg = make(preset, max_size=size)
    h, w = photo(size).shape[:2]
    saved = mem.BASE_BYTES, mem.CONV_BYTES
    try:
        mem.BASE_BYTES, mem.CONV_BYTES = 0, 1.0
        conv = mem.estimate_training_bytes(cfg, h, w)
    finally:
        mem.BASE_BYTES, mem.CONV_BYTES = saved
    fh, fw = pyramid_shapes(h, w, cfg)[-1]
    return conv, float(fh * fw) if cfg.lambda_patch > 0 else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 384])
    ap.add_argument("--presets", nargs="+", default=["fast", "paper", "consingan"])
    ap.add_argument("--fit", action="store_true", help="print least-squares constants for core/singan/memory.py")
    args = ap.parse_args()
    from bench.singan import photo
    from core.singan.config import preset as make
    from core.singan.memory import estimate_training_bytes

    rows = []
    print("| preset | max size | RSS after imports (MB) | peak RSS (MB) | estimate (MB) | estimate / measured |")
    print("|---|---|---|---|---|---|")
    for p in args.presets:
        for s in args.sizes:
            base, peak = measure(p, s)
            h, w = photo(s).shape[:2]
            est = estimate_training_bytes(make(p, max_size=s), h, w)
            rows.append((p, s, base, peak, *terms(p, s)))
            print(f"| {p} | {s} | {base / 2**20:.0f} | {peak / 2**20:.0f} | {est / 2**20:.0f} | {est / peak:.2f} |",
                  flush=True)
    if args.fit:
        base = float(np.median([r[2] for r in rows]))
        a = np.array([[r[4], r[5]] for r in rows])
        y = np.array([r[3] - base for r in rows])
        (conv, patch), *_ = np.linalg.lstsq(a, y, rcond=None)
        print(f"\nfit: BASE_BYTES ≈ {base / 2**20:.0f} MB, CONV_BYTES ≈ {conv:.1f}, bytes per patch-loss pixel ≈ {patch:.0f} "
              "(the model has none: add one if this is not ≈ 0)")


if __name__ == "__main__":
    main()
