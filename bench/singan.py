"""SinGAN benchmark: training it/s per scale (both presets), sample latency per start scale, peak memory.

    python bench/singan.py [--size 128] [--iters 20] [--repeats 7]

Both figures come with an eager reference measured in the same process, and their ratio.
Sampling: ours (BN folded into the convs, under ``torch.inference_mode``) against the trained
modules as-is with autograd on. Training: ours is the real training loop (progress reports
included) run for ``--iters`` per scale; the reference is the plainest step as the research code
writes it (separate backward passes for real and fake, the fake built with autograd on and
detached, the critic's gradients still computed in the generator steps, per-tensor Adam, lower
scales sampled with autograd on). The whole-training estimate scales our it/s to the preset's
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
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.singan.config import preset  # noqa: E402
from core.singan.generate import SampleSettings, noise_for, output_shapes, run_scales, sample_tensor  # noqa: E402
from core.singan.networks import Discriminator, Generator  # noqa: E402
from core.singan.pyramid import resize  # noqa: E402
from core.singan.train import gradient_penalty, train_singan  # noqa: E402


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


def reference_its(model, n: int, iters: int) -> float:
    """Iterations/s of the plainest SinGAN training step at scale ``n`` (same sizes and step counts as ours)."""
    cfg, pad = model.config, model.config.pad
    real, (h, w), ch = model.reals[n], model.shapes[n], cfg.channels_at(n)
    g, d = Generator(ch, cfg.num_layers), Discriminator(ch, cfg.num_layers)
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2), foreach=False)
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2), foreach=False)
    amp = model.noise_amps[n]
    shapes = model.shapes

    def lower() -> torch.Tensor:
        if n == 0:
            return torch.zeros(1, 3, h, w)
        x = run_scales(model.generators[:n], model.noise_amps, shapes,
                       lambda s, hh, ww: torch.randn(1, 1 if s == 0 else 3, hh, ww).expand(1, 3, hh, ww),
                       first=0, prev=None, pad=pad, batch=1, device=torch.device("cpu"))
        return resize(x, (h, w))

    rec_prev = F.pad(lower().detach(), (pad,) * 4)
    rec_in = rec_prev.clone()
    t0 = time.perf_counter()
    for _ in range(iters):
        noise = torch.randn(1, 3, h, w)
        for _ in range(cfg.d_steps):
            prev = lower()
            d.zero_grad()
            (-d(real).mean()).backward()
            fake = g(F.pad(amp * noise + prev, (pad,) * 4), F.pad(prev, (pad,) * 4))
            d(fake.detach()).mean().backward()
            gradient_penalty(d, real, fake.detach(), cfg.lambda_grad).backward()
            opt_d.step()
        for _ in range(cfg.g_steps):
            g.zero_grad()
            fake = g(F.pad(amp * noise + prev, (pad,) * 4), F.pad(prev, (pad,) * 4))
            (-d(fake).mean()).backward()
            (cfg.alpha * F.mse_loss(g(rec_in, rec_prev), real)).backward()
            opt_g.step()
    return iters / (time.perf_counter() - t0)


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
        train_singan(img, cfg.with_(iters=3), device="cpu", seed=0)  # warm-up: allocator, kernels, thread pool
        model = train_singan(img, cfg.with_(iters=args.iters), device="cpu", seed=0)
        its = [args.iters / s for s in model.scale_seconds]
        refs = [reference_its(model, n, args.iters) for n in range(model.num_scales)]
        est = sum(cfg.iters / i for i in its)
        est_ref = sum(cfg.iters / i for i in refs)
        print(f"\n## training, preset {name} ({model.num_scales} scales, {cfg.iters} it/scale)")
        print("| scale | size | it/s ours | it/s eager reference | speed-up | est. time at preset iters |")
        print("|---|---|---|---|---|---|")
        for n, (i, r) in enumerate(zip(its, refs)):
            print(f"| {n} | {model.scale_label(n)} | {i:.2f} | {r:.2f} | {i / r:.2f}× | {cfg.iters / i / 60:.1f} min |")
        print(f"estimated whole training: {est / 60:.1f} min (eager reference {est_ref / 60:.1f} min)")
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
