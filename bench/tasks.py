"""Latency of SinGAN's tasks (the requests of core/singan/requests.py) at a given image size, vs a plain random sample.

Latency does not depend on what the weights learned, only on the pyramid and the channels, so the
model here has the ``paper`` preset's architecture with freshly initialised weights (no training
needed): ``python bench/tasks.py [--size 250] [--preset paper|fast] [--device cpu|cuda] [--quick]``.
Prints a table of median seconds per task and the ratio to one random sample of the same model.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from core.device import describe_device, pick_device  # noqa: E402
from core.images import fit_within, palette_of  # noqa: E402
from core.singan import adapt as A
from core.singan import animate as AN
from core.singan import requests as R  # noqa: E402
from core.singan.config import preset  # noqa: E402
from core.singan.generate import SampleSettings, sample_tensor  # noqa: E402
from core.singan.model import SinGANModel  # noqa: E402
from core.singan.networks import Generator  # noqa: E402
from core.singan.pyramid import pyramid_shapes  # noqa: E402


def untrained_model(image: np.ndarray, preset_name: str, device: torch.device) -> SinGANModel:
    cfg = preset(preset_name, max_size=max(image.shape[:2]))
    shapes = pyramid_shapes(image.shape[0], image.shape[1], cfg)
    h0, w0 = shapes[0]
    torch.manual_seed(0)
    model = SinGANModel(config=cfg, image=image, shapes=shapes, z_rec=torch.randn(1, 1, h0, w0).expand(1, 3, h0, w0))
    for n in range(len(shapes)):
        model.add_scale(Generator(cfg.channels_at(n), cfg.num_layers), 1.0 if n == 0 else 0.05)
    return model.to(device)


def timed(fn, repeats: int, warmup: bool = True) -> float:
    if warmup:
        fn()  # warm-up (allocations, folded generators)
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=250, help="longer side of the model's finest scale")
    ap.add_argument("--preset", default="paper", choices=["paper", "fast"])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--quick", action="store_true", help="1 repeat, 20 animation frames")
    args = ap.parse_args()
    from skimage import data

    dev = pick_device(args.device)
    image = fit_within(data.coffee(), args.size)
    model = untrained_model(image, args.preset, dev)
    h, w = model.image.shape[:2]
    reps = 1 if args.quick else 3
    frames = 20 if args.quick else AN.ANIM_FRAMES
    mid = max(1, model.num_scales // 2)
    mask = np.zeros((h, w), np.float32)
    mask[h // 3 : h // 2, w // 3 : w // 2] = 1
    ft_iters = 2
    img = model.image
    rows = [
        ("random sample (baseline)", lambda: sample_tensor(model, SampleSettings(seed=1))),
        ("paint to image (scale 1)", lambda: R.PaintRequest(painting=img, scale=1).run(model)),
        ("  quantised: retraining scale 1, per iteration",
         lambda: A.train_paint_scale(model, 1, iters=ft_iters, seed=len(A._CACHES["paint"]) + 7)),
        (f"editing (scale {mid})", lambda: R.EditRequest(image=img, mask=mask, scale=mid).run(model)),
        (f"harmonization (scale {mid})", lambda: R.HarmonizeRequest(image=img, mask=mask, scale=mid).run(model)),
        (f"  + fine-tuning ({model.config.train_depth} scales together), per iteration",
         lambda: A.finetune_on(model, model.image, scale=mid, iters=ft_iters)),
        ("super-resolution ×2", lambda: R.SuperResolutionRequest(factor=2).run(model)),
        ("super-resolution ×4", lambda: R.SuperResolutionRequest(factor=4).run(model)),
        (f"animation, {frames} frames", lambda: R.AnimateRequest(frames=frames).run(model)),
        ("retargeting to 2× width", lambda: R.RetargetRequest(width=2 * w, height=h).run(model)),
        ("palette (k-means, 5 colours)", lambda: palette_of(model.image)),
    ]
    print(f"# SinGAN tasks at {w}×{h} ({args.preset} preset, {model.num_scales} scales) on "
          f"{describe_device(dev)}, torch threads {torch.get_num_threads()}, OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', '-')}; median of {reps}")
    print(f"{'task':44s} {'seconds':>9s} {'× sample':>9s}")
    base = None
    for name, fn in rows:
        slow = "per iteration" in name  # fine-tuning is training: slow, timed once
        s = timed(fn, 1 if slow else reps, warmup=not slow)
        if "per iteration" in name:
            s /= ft_iters * (2 if "scale" in name.split(",")[-1] else 1)
        base = base or s
        print(f"{name:44s} {s:9.3f} {s / base:9.1f}")


if __name__ == "__main__":
    main()
