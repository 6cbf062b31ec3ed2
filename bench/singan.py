"""SinGAN benchmark: training it/s per scale (both presets), sample latency per start scale, peak memory.

    python bench/singan.py [--size 128] [--iters 20] [--repeats 7]

Sampling is timed two ways in the same process: ours (BN folded into the convs, under
``torch.inference_mode``) and an eager reference (the trained modules as-is, autograd on), so
each figure comes with its ratio. Training it/s is measured from short runs (``--iters`` per
scale) of the real training loop; the whole-training estimate scales that to the preset's
iterations. Peak memory is the resident-set peak of a child process running one iteration per
scale at 250 and 512 px.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cv2
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.singan.config import preset  # noqa: E402
from core.singan.generate import SampleSettings, noise_for, output_shapes, run_scales, sample_tensor  # noqa: E402
from core.singan.pyramid import resize  # noqa: E402
from core.singan.train import train_singan  # noqa: E402


def photo(size: int):
    from skimage import data

    img = data.rocket()  # not in the repo; CC0 (skimage docstring)
    h, w = img.shape[:2]
    s = size / max(h, w)
    return cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)


def median_ms(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def eager_sample(model, start: int) -> torch.Tensor:
    """The plainest generation: unfolded modules, autograd recording, no inference mode."""
    shapes = output_shapes(model)
    prev = resize(model.reals[start - 1], shapes[start - 1]) if start > 0 else None
    return run_scales(model.generators, model.noise_amps, shapes,
                      lambda s, h, w: noise_for(0, s, 1, h, w, grey=(s == 0)),
                      first=start, prev=prev, pad=model.config.pad, batch=1, device=model.device)


def peak_memory_mb(size: int) -> float:
    code = (
        "import resource, sys; sys.path.insert(0, '.'); from bench.singan import photo; "
        "from core.singan.config import preset; from core.singan.train import train_singan; "
        f"train_singan(photo({size}), preset('paper', max_size={size}, iters=1), device='cpu'); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--no-memory", action="store_true")
    args = ap.parse_args()
    img = photo(args.size)
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads, device cpu, image {img.shape[1]}×{img.shape[0]}")
    rows = {}
    for name in ("fast", "paper"):
        cfg = preset(name, max_size=args.size)
        model = train_singan(img, cfg.with_(iters=args.iters), device="cpu", seed=0)
        its = [args.iters / s for s in model.scale_seconds]
        est = sum(cfg.iters / i for i in its)
        print(f"\n## training, preset {name} ({model.num_scales} scales, {cfg.iters} it/scale)")
        print("| scale | size | it/s |")
        print("|---|---|---|")
        for n, i in enumerate(its):
            print(f"| {n} | {model.scale_label(n)} | {i:.1f} |")
        print(f"estimated whole training: {est / 60:.1f} min")
        rows[name] = model
    model = rows["paper"]
    print("\n## sample latency per start scale (paper model, 1 sample, median ms)")
    print("| start scale | ours (folded, inference_mode) | eager reference | speed-up |")
    print("|---|---|---|---|")
    for start in range(model.num_scales):
        ours = median_ms(lambda s=start: sample_tensor(model, SampleSettings(start_scale=s)), args.repeats)
        ref = median_ms(lambda s=start: eager_sample(model, s), args.repeats)
        print(f"| {start} ({model.scale_label(start)}) | {ours:.1f} | {ref:.1f} | {ref / ours:.2f}× |")
    if not args.no_memory:
        print("\n## peak resident memory, paper preset, 1 iteration per scale")
        print("| max size | peak RSS (MB) |")
        print("|---|---|")
        for size in (250, 512):
            print(f"| {size} | {peak_memory_mb(size):.0f} |")


if __name__ == "__main__":
    main()
