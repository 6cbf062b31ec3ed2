"""``train``, ``sample`` and ``evaluate``: SinGAN from the command line."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING

from core.files import output_folder
from core.images import IMAGE_SUFFIXES, read_image, save_image
from core.jobs import GanvasError
from core.singan.config import DEFAULT_PRESET, PRESET_DESCRIPTIONS

if TYPE_CHECKING:  # torch loads only for the commands that need it
    from core.singan.model import SinGANModel


def _image_kinds() -> str:
    """'PNG, JPEG, WebP, TIFF, BMP, GIF': what ``read_image`` accepts, from its own list."""
    names = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WebP", ".tif": "TIFF", ".tiff": "TIFF",
             ".bmp": "BMP", ".gif": "GIF"}
    return ", ".join(dict.fromkeys(names.get(s, s.lstrip(".").upper()) for s in IMAGE_SUFFIXES))


def register(sub: argparse._SubParsersAction) -> None:
    from core.singan.config import PRESETS

    sizes = ", ".join(f"{name} {cfg.max_size}" for name, cfg in PRESETS.items())
    mins = ", ".join(f"{name} {cfg.min_size}" for name, cfg in PRESETS.items())
    p = sub.add_parser("train", help="train a SinGAN on one image",
                       description="Train a SinGAN on one image. The model folder is saved after every scale; "
                                   "--resume continues an interrupted run with the settings it was started with.")
    p.add_argument("image", help=f"training image ({_image_kinds()})")
    p.add_argument("--out", required=True, help="model folder to write (e.g. cat.ganvas); a folder that holds "
                                                "something else is refused")
    p.add_argument("--preset", choices=list(PRESETS),
                   help=f"training settings (default: {DEFAULT_PRESET}). "
                        + "; ".join(f"{name}: {text}" for name, text in PRESET_DESCRIPTIONS.items()))
    p.add_argument("--max-size", type=int, help=f"finest scale's longer side in px (default: the preset's: {sizes})")
    p.add_argument("--min-size", type=int, help=f"coarsest scale's shorter side in px (default: the preset's: {mins})")
    p.add_argument("--iters", type=int, help="iterations per scale (default: the preset's)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps")
    p.add_argument("--seed", type=int, help="seed of the networks' initialisation and the fixed noise (default: 0)")
    p.add_argument("--resume", action="store_true",
                   help="continue the interrupted training in --out from its last finished scale, with the "
                        "preset, sizes and seed it was started with (read from its manifest)")
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
    p.add_argument("--diversity", type=float, default=1.0,
                   help="0 = the photo's reconstruction (from scale 0), 1 = as trained, >1 = more noise")
    p.add_argument("--width-scale", type=float, default=1.0, help="output width multiplier (retargeting)")
    p.add_argument("--height-scale", type=float, default=1.0, help="output height multiplier")
    p.add_argument("--seed", type=int, default=0, help="sample i uses seed + i")
    p.add_argument("--scale-up", type=int, choices=[2, 4],
                   help="write every sample 2 or 4 times the model's size (bicubic refined by back-projection: "
                        "closer to a true large photo than bicubic; docs/export.md)")
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
    from core.singan.train_request import TrainRequest, existing_model, scales_done

    loaded = read_image(args.image)
    for note in loaded.notes:
        print(f"note: {note}")
    request = TrainRequest(image=loaded.rgb, out_dir=args.out, preset=args.preset or DEFAULT_PRESET,
                           max_size=args.max_size, min_size=args.min_size, iters=args.iters,
                           task=getattr(args, "task", "random"), seed=args.seed, device=args.device,
                           resume=args.resume, source=args.image)
    manifest = existing_model(args.out)
    if manifest is not None and args.resume:
        given = [f"--{k.replace('_', '-')}" for k in ("preset", "max_size", "min_size", "iters", "seed")
                 if getattr(args, k) is not None] + (["--task"] if request.task != "random" else [])
        if given:
            print(f"note: resuming with the model's own settings; {', '.join(given)} ignored")
    elif manifest is not None:
        done, total = scales_done(manifest)
        if done < total:
            raise GanvasError(
                f"'{args.out}' holds a partly trained model ({done} of {total} scales). Add --resume to "
                "continue it, or choose another folder for --out to start over.")
        print(f"note: replacing the finished model in {args.out}")
    elif args.resume:
        print(f"note: nothing to resume in {args.out}: starting a new training")
    plan = request.plan(manifest)
    if plan.complete:
        print(f"{args.out} is already complete ({plan.total} scales): nothing to resume.")
        return
    if plan.resume and manifest is not None:
        config = plan.config
        print(f"resuming from scale {plan.done_before + 1} of {plan.total} ({plan.done_before} finished; preset "
              f"{config.preset}, max size {config.max_size} px, {config.iters} iterations per scale)")
    if memory := request.memory_warning(plan.config):
        print(f"warning: {memory}", file=sys.stderr)
    t0 = time.perf_counter()
    model = request.run(plan, progress, cancel, say=print)
    done_before = plan.done_before
    trained = range(done_before, model.num_scales)
    labels = ", ".join(model.scale_label(n) for n in trained)
    what = (f"scales {done_before + 1}-{model.num_scales} of {model.num_scales}" if done_before else
            f"{model.num_scales} scales")
    print(f"trained {what} ({labels}) in {time.perf_counter() - t0:.0f} s -> {args.out}")


def load_checked(path: str, device: str) -> SinGANModel:
    """The SinGAN model at ``path``; a saturated or unfit one (see ``model_warning``) is loaded too, with a
    warning on stderr."""
    from core.singan.generate import model_warning
    from core.singan.model import load_model

    model = load_model(path, device)
    if warning := model_warning(model):
        print(f"warning: {path}: {warning}", file=sys.stderr)
    return model


def cmd_sample(args, *, progress, cancel) -> None:
    from core.singan.generate import SampleSettings, sample

    model = load_checked(args.model, args.device)
    settings = SampleSettings(start_scale=args.start_scale, diversity=args.diversity,
                              width_scale=args.width_scale, height_scale=args.height_scale, seed=args.seed)
    images = sample(model, settings, args.n, progress=progress, cancel=cancel)
    if args.scale_up:
        from core.upscale import scale_up

        images = [scale_up(img, args.scale_up, progress=progress, cancel=cancel) for img in images]
    out = output_folder(args.out)
    for i, img in enumerate(images):
        meta = {**settings.to_metadata(), "seed": str(args.seed + i), "model_id": model.model_id,
                "size": f"{img.shape[1]}x{img.shape[0]}", "software": "Ganvas"}
        if args.scale_up:
            meta["scale_up"] = str(args.scale_up)
        save_image(out / f"sample_{args.seed + i:05d}.png", img, meta)
    print(f"wrote {len(images)} samples of {images[0].shape[1]}×{images[0].shape[0]} to {out}")


def cmd_evaluate(args, *, progress, cancel) -> None:
    from core.metrics import diversity, patch_swd
    from core.singan.generate import SampleSettings, sample
    from core.spectrum import spectral_distance

    model = load_checked(args.model, args.device)
    images = sample(model, SampleSettings(start_scale=args.start_scale, seed=args.seed), args.n,
                    progress=progress, cancel=cancel)
    result = {
        "model_id": model.model_id,
        "samples": args.n,
        "start_scale": args.start_scale,
        "patch_swd": round(patch_swd([model.image], images), 3),
        "diversity": round(diversity(images, model.image), 4),
        # mean |log ratio| of radial power spectra in the upper half of frequencies (core/spectrum/sets.py)
        "spectral_distance": round(float(spectral_distance([model.image], list(images))), 4),
    }
    print(json.dumps(result, indent=2))
