"""Sketch fine-tuning speed: seconds per iteration and projected total for the 'cpu' and 'paper' presets,
on the CPU and (when torch sees one) on CUDA, with our shared-weight modulated convolution against
rosinality's per-sample grouped convolution (the 'fused' path) measured in the same run.

    python bench/sketchgan.py            # cpu preset 32/64 px, paper preset 256 px (slow on CPU)
    python bench/sketchgan.py --quick    # fewer iterations, paper preset only on CUDA

Models are randomly initialised with each preset's architecture (speed does not depend on weights).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.sketchgan.finetune import sketch_tune  # noqa: E402
from core.sketchgan.model import StyleGANModel  # noqa: E402
from core.sketchgan.stylegan import Discriminator, Generator, ModulatedConv2d, StyleGANConfig  # noqa: E402
from core.sketchgan.tune_config import preset as tune_preset  # noqa: E402


def circle(size: int = 128) -> np.ndarray:
    import cv2

    ink = np.zeros((size, size), np.uint8)
    cv2.circle(ink, (size // 2, size // 2), size // 3, 255, 3)
    return ink.astype(np.float32) / 255


def time_tune(arch: StyleGANConfig, preset: str, device: str, iters: int, fused: bool) -> float:
    torch.manual_seed(0)
    g, d = Generator(arch).to(device), Discriminator(arch).to(device)
    model = StyleGANModel(g.eval().requires_grad_(False), d, arch, {"model_id": "bench"})
    stamps: list[tuple[int, float]] = []

    def prog(p):
        if device == "cuda":
            torch.cuda.synchronize()
        stamps.append((p.step, time.perf_counter()))

    ModulatedConv2d.fused = fused
    try:
        run = tune_preset(preset, iters=iters + 2, preview_every=10**9, autosave_every=10**9, device=device)
        sketch_tune(model, [circle()] * 4, run, progress=prog)
    finally:
        ModulatedConv2d.fused = False
    # per-step times after the first (warm-up) step, without the last (it draws the final preview);
    # reports can be throttled, so divide by step gaps
    stamps = stamps[:-1]
    rates = [(t1 - t0) / (s1 - s0) for (s0, t0), (s1, t1) in zip(stamps, stamps[1:]) if s0 >= 1 and s1 > s0]
    return statistics.median(rates) if rates else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--presets", default="cpu,paper", help="comma-separated presets to time")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    cases = [
        ("cpu", StyleGANConfig(size=32, style_dim=128, n_mlp=8, max_channels=32), 6 if args.quick else 20),
        ("cpu", StyleGANConfig(size=64, style_dim=128, n_mlp=8, max_channels=64), 3 if args.quick else 8),
        ("paper", StyleGANConfig(size=256), 2),
    ]
    print(f"torch {torch.__version__}, CPU threads {torch.get_num_threads()}, devices: {', '.join(devices)}")
    print("note: a shared machine gives noisy timings; medians over iterations after a warm-up step\n")
    header = f"{'preset':6} {'size':>4} {'device':6} {'s/iter ours':>11} {'s/iter fused':>12} {'ratio':>6} " \
             f"{'iters':>7} {'total (ours)':>13}"
    print(header)
    print("-" * len(header))
    for device in devices:
        for preset, arch, iters in cases:
            if preset not in args.presets.split(",") or (
                preset == "paper" and device == "cpu" and args.quick
            ):
                continue
            if device == "cuda":
                iters = max(iters, 10)
            ours = time_tune(arch, preset, device, iters, fused=False)
            fused = time_tune(arch, preset, device, max(2, iters // 2), fused=True)
            total_iters = tune_preset(preset).iters
            total = ours * total_iters
            human = f"{total / 3600:.1f} h" if total > 5400 else f"{total / 60:.1f} min"
            print(f"{preset:6} {arch.size:>4} {device:6} {ours:>11.3f} {fused:>12.3f} {fused / ours:>6.2f} "
                  f"{total_iters:>7} {human:>13}", flush=True)


if __name__ == "__main__":
    main()
