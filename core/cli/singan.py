"""``train``, ``sample`` and ``evaluate``: SinGAN from the command line."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from core.images import read_image, save_image
from core.jobs import GanvasError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a SinGAN on one image",
                       description="Train a SinGAN on one image. The model folder is saved after every scale; "
                                   "--resume continues an interrupted run.")
    p.add_argument("image", help="training image (PNG, JPEG, WebP, TIFF, BMP)")
    p.add_argument("--out", required=True, help="model folder to write (e.g. cat.ganvas)")
    p.add_argument("--preset", default="paper", choices=["paper", "fast"], help="paper defaults or the fast CPU preset")
    p.add_argument("--max-size", type=int, help="finest scale's longer side in px (default 250)")
    p.add_argument("--min-size", type=int, help="coarsest scale's shorter side in px (default 25)")
    p.add_argument("--iters", type=int, help="iterations per scale (default: the preset's)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue from the last finished scale in --out")
    # (tasks helper) training settings of the public code for `apply sr` / `apply animate`
    p.add_argument("--task", default="random", choices=["random", "sr", "animation"],
                   help="sr: scale factor (1/2)^(1/3), alpha 100, min size 18 (for `apply sr`); animation: min size 20")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("sample", help="draw random samples from a trained model")
    p.add_argument("model", help="model folder")
    p.add_argument("--out", required=True, help="folder for the PNGs")
    p.add_argument("--n", type=int, default=10, help="number of samples")
    p.add_argument("--start-scale", type=int, default=0,
                   help="scale where generation starts: 0 = coarsest (most variation); higher keeps the layout")
    p.add_argument("--diversity", type=float, default=1.0, help="noise amplitude multiplier")
    p.add_argument("--width-scale", type=float, default=1.0, help="output width multiplier (retargeting)")
    p.add_argument("--height-scale", type=float, default=1.0, help="output height multiplier")
    p.add_argument("--seed", type=int, default=0, help="sample i uses seed + i")
    p.add_argument("--device", default="auto")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("evaluate", help="patch SWD and diversity of a model's samples, as JSON")
    p.add_argument("model", help="model folder")
    p.add_argument("--n", type=int, default=50, help="number of samples")
    p.add_argument("--start-scale", type=int, default=0)
    p.add_argument("--seed", type=int, default=1000)
    p.add_argument("--device", default="auto")
    p.set_defaults(func=cmd_evaluate)


def cmd_train(args, *, progress, cancel) -> None:
    from core.singan.config import preset
    from core.singan.train import train_singan

    loaded = read_image(args.image)
    for note in loaded.notes:
        print(f"note: {note}")
    config = preset(args.preset, max_size=args.max_size, min_size=args.min_size, iters=args.iters)
    if getattr(args, "task", "random") != "random":  # (tasks helper) `--task sr|animation`
        from core.singan.tasks import config_for_task

        config = config_for_task(config, args.task)
        if args.min_size is not None:
            config = config.with_(min_size=args.min_size)
    t0 = time.perf_counter()
    model = train_singan(loaded.rgb, config, out_dir=args.out, resume=args.resume, device=args.device,
                         seed=args.seed, progress=progress, cancel=cancel)
    print(f"trained {model.num_scales} scales ({', '.join(model.scale_label(n) for n in range(model.num_scales))}) "
          f"in {time.perf_counter() - t0:.0f} s -> {args.out}")


def cmd_sample(args, *, progress, cancel) -> None:
    from core.singan.generate import SampleSettings, sample
    from core.singan.model import load_model

    model = load_model(args.model, args.device)
    settings = SampleSettings(start_scale=args.start_scale, diversity=args.diversity,
                              width_scale=args.width_scale, height_scale=args.height_scale, seed=args.seed)
    images = sample(model, settings, args.n, progress=progress, cancel=cancel)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GanvasError(f"Cannot create the output folder '{out}': {exc.strerror or exc}.") from exc
    for i, img in enumerate(images):
        meta = {**settings.to_metadata(), "seed": str(args.seed + i), "model_id": model.model_id,
                "size": f"{img.shape[1]}x{img.shape[0]}", "software": "Ganvas"}
        save_image(out / f"sample_{args.seed + i:05d}.png", img, meta)
    print(f"wrote {len(images)} samples of {images.shape[2]}×{images.shape[1]} to {out}")


def cmd_evaluate(args, *, progress, cancel) -> None:
    from core.metrics import diversity, patch_swd
    from core.singan.generate import SampleSettings, sample
    from core.singan.model import load_model
    from core.spectrum import spectral_distance

    model = load_model(args.model, args.device)
    images = sample(model, SampleSettings(start_scale=args.start_scale, seed=args.seed), args.n,
                    progress=progress, cancel=cancel)
    result = {
        "model_id": model.model_id,
        "samples": args.n,
        "start_scale": args.start_scale,
        "patch_swd": round(patch_swd([model.image], images), 3),
        "diversity": round(diversity(images, model.image), 4),
        # mean |log ratio| of radial power spectra in the upper half of frequencies (core/spectrum.py)
        "spectral_distance": round(float(spectral_distance([model.image], list(images))), 4),
    }
    print(json.dumps(result, indent=2))
