"""StyleGAN2 / Sketch Your Own GAN commands: gan-pretrain, gan-transfer, sketch-tune, gan-sample, gan-import."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from common.durations import format_rough
from core.jobs import GanvasError

# the preset names of core.sketchgan.pretrain / tune_config.PRESETS and gan-transfer's default steps
# (core.sketchgan.transfer.DEFAULT_ITERS), written here so that registering the commands does not import
# torch (a test checks they match)
PRETRAIN_PRESETS = ("cpu", "gpu")
TUNE_PRESETS = ("cpu", "paper")
TRANSFER_ITERS = 2000


def _add_pretrain(sub) -> None:
    p = sub.add_parser(
        "gan-pretrain",
        help="pretrain a StyleGAN2 base model on a folder of images or on Primitives (runs under torchrun too)",
        description=(
            "Pretrain a StyleGAN2 base model. Autosaves to --out and resumes from it when run again. "
            "Data-parallel: torchrun --nproc_per_node=N main.py gan-pretrain ... (one process per GPU; "
            "--batch is per process; rank 0 writes the checkpoint)."
        ),
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--images", metavar="DIR", help="folder of training images")
    src.add_argument("--primitives", nargs="?", const="sketch-shapes", metavar="PRESET",
                     help="train on synthetic Primitives images of this preset (default sketch-shapes: 1–2 solid "
                          "figures of varied aspect ratio, rotation and position on a low-contrast background, "
                          "made for sketch fine-tuning; `primitives --help` lists the presets)")
    p.add_argument(
        "--count", type=int, default=4000, help="number of Primitives images to render (default 4000)"
    )
    p.add_argument("--out", required=True, metavar="MODEL", help="output model folder")
    p.add_argument("--preset", choices=PRETRAIN_PRESETS, default="cpu",
                   help="cpu: narrow, 64 px, about an hour on 2 cores; gpu: StyleGAN2 config-f at 256 px")
    p.add_argument(
        "--size", type=int, default=None, help="resolution, power of two 32..256 (cpu 64, gpu 256)"
    )
    p.add_argument("--iters", type=int, default=None, help="training steps")
    p.add_argument("--batch", type=int, default=None, help="batch per process")
    p.add_argument("--max-channels", type=int, default=None, help="network width cap")
    p.add_argument("--style-dim", type=int, default=None, help="z / w dimension")
    p.add_argument(
        "--augment", default=None, help="DiffAugment policy for small folders, e.g. translation,color"
    )
    p.add_argument("--path-reg", type=float, default=None, help="path-length regulariser weight (0 = off)")
    p.add_argument("--r1", type=float, default=None,
                   help="R1 penalty weight γ (default 10, StyleGAN2's; docs/experiments.md measures lower ones for a 32-px base)")
    p.add_argument("--autosave-every", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--no-resume", action="store_true", help="start afresh even if --out holds a checkpoint")
    p.set_defaults(func=_run_pretrain)


def _run_pretrain(args, *, progress, cancel) -> None:
    import torch

    from core.sketchgan.pretrain import init_distributed_from_env, preset
    from core.sketchgan.requests import PretrainRequest

    distributed = init_distributed_from_env()
    try:
        cfg = preset(args.preset, size=args.size, max_channels=args.max_channels, style_dim=args.style_dim,
                     iters=args.iters, batch=args.batch, augment=args.augment, path_regularize=args.path_reg, r1=args.r1,
                     autosave_every=args.autosave_every, seed=args.seed, device=args.device)
        # data-parallel ranks keep torch's thread count: one process per device
        request = PretrainRequest(config=cfg, out=args.out, images=args.images,
                                  primitives=None if args.images else args.primitives, count=args.count,
                                  resume=not args.no_resume, threads=not distributed)
        model = request.run(progress, cancel)
        size, info = cfg.model.size, model.manifest.get("data") or {}
        if distributed:  # rank 0 writes the last checkpoint: every rank leaves the group together
            torch.distributed.barrier()
        if not distributed or torch.distributed.get_rank() == 0:
            print(f"saved {model.path} ({size}px, {cfg.iters} iterations, data: {info.get('kind')})")
    finally:
        if distributed and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


#: The bundled Primitives-PS base, ``gan-transfer``'s default start (package data of ``app``: only its
#: path is looked up here, no studio code is imported).
PRIMITIVES_BASE = ("resources", "sketchgan", "primitives_ps_base.ganvas")


def default_transfer_base() -> Path:
    from importlib.resources import files

    return Path(str(files("app").joinpath(*PRIMITIVES_BASE)))


def _add_transfer(sub) -> None:
    p = sub.add_parser(
        "gan-transfer",
        help="fine-tune a StyleGAN2 base on a folder of 10–1000 of your images (from the bundled Primitives-PS "
             "base, or from scratch)",
        description=(
            "Fine-tune all parameters of a base model on a folder of images (centre-cropped and resized to "
            "the model's size), with DiffAugment (colour, translation, cutout), R1 and an EMA generator. "
            "Autosaves to --out and resumes from it when run again. The result opens in gan-sample, "
            "sketch-tune and the studio's Sketch GAN dock."
        ),
    )
    p.add_argument("--images", required=True, metavar="DIR", help="folder of 10–1000 training images")
    p.add_argument("--out", required=True, metavar="MODEL", help="output model folder")
    start = p.add_mutually_exclusive_group()
    start.add_argument("--base", metavar="MODEL", default=None,
                       help="base model to start from (default: the bundled 32-px Primitives-PS base)")
    start.add_argument("--scratch", action="store_true",
                       help="the base's network from random weights, same steps (the baseline)")
    p.add_argument("--iters", type=int, default=TRANSFER_ITERS,
                   help=f"fine-tuning steps (default {TRANSFER_ITERS}: ~9 CPU minutes at 32 px)")
    p.add_argument("--batch", type=int, default=None, help="batch (default 8)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--no-resume", action="store_true", help="start afresh even if --out holds a checkpoint")
    p.set_defaults(func=_run_transfer)


def _run_transfer(args, *, progress, cancel) -> None:
    from core.sketchgan.model import load_model
    from core.sketchgan.requests import TransferRequest
    from core.sketchgan.transfer import transfer_config

    base_path = args.base or default_transfer_base()
    if args.base is None and not Path(base_path).exists():
        raise GanvasError(f"The bundled Primitives-PS base is missing ('{base_path}'): pass --base MODEL.")
    base = load_model(base_path)
    cfg = transfer_config(base, iters=args.iters, seed=args.seed, device=args.device, batch=args.batch)
    model = TransferRequest(base=base, images=args.images, config=cfg, out=args.out, scratch=args.scratch,
                            resume=not args.no_resume).run(progress, cancel)
    start = "random weights" if args.scratch else f"base {base.model_id}"
    print(f"saved {model.path} ({cfg.model.size}px, {cfg.iters} steps from {start} on "
          f"{model.manifest['data'].get('count')} images)")


def load_sketch_folder(folder: str | os.PathLike) -> list:
    from core.files import naming
    from core.images import list_images, load_image
    from core.sketchgan.sketch import sketch_image_to_ink

    paths = list_images(folder)
    if not paths:
        raise GanvasError(
            f"The folder '{folder}' holds no sketch images (PNG, JPEG...): draw 4–8 and save them there."
        )
    inks = []
    for p in paths:
        with naming(p):
            ink = sketch_image_to_ink(load_image(p))
        if float(ink.max(initial=0.0)) < 0.05:  # the fine-tuning's own blank test, here where the file is known
            raise GanvasError(f"The sketch '{p}' is blank (no dark strokes on a light background): redraw it "
                              "or remove it from the folder.")
        inks.append(ink)
    return inks


def _add_tune(sub) -> None:
    p = sub.add_parser(
        "sketch-tune",
        help="fine-tune a StyleGAN2 so its samples take the shape of a few sketches (Sketch Your Own GAN)",
    )
    p.add_argument("base", metavar="BASE", help="base model folder (from gan-pretrain or gan-import)")
    p.add_argument(
        "--sketches", required=True, metavar="DIR", help="folder of sketch images, dark lines on white"
    )
    p.add_argument("--out", required=True, metavar="MODEL", help="output model folder")
    p.add_argument("--preset", choices=TUNE_PRESETS, default="cpu",
                   help="cpu: 1 000 steps, a few minutes at 32 px; paper: GANSketching's 75k steps (a GPU)")
    p.add_argument("--iters", type=int, default=None, help="fine-tuning steps")
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--trainable", choices=["auto", "mapping", "w_shift", "all"], default=None,
                   help="what trains: the mapping network (the paper's), one offset in W, the whole generator, "
                        "or auto (the cpu preset's): the whole generator when the image critic sees figure "
                        "renders, else the mapping network")
    p.add_argument("--l-image", type=float, default=None, help="image regularisation weight (paper 0.7, cpu 5)")
    p.add_argument("--figure-renders", type=float, default=None, metavar="SHARE",
                   help="for a base of solid figures with filled sketches: this share of the image critic's "
                        "real images are your figures drawn as the base's data draws figures (cpu preset: "
                        "0.9; 0 = the data only, the paper's)")
    p.add_argument("--image-data", choices=["auto", "data", "samples"], default=None,
                   help="what the image critic sees as real: the base's training data regenerated from its "
                        "manifest (data; the paper's), the base's samples (samples), or data when it can be "
                        "had (auto, the default)")
    p.add_argument("--sketch-style", choices=["auto", "drawn", "filled"], default=None,
                   help="what the sketch critic sees as real: the strokes as drawn (drawn; the paper's), each "
                        "closed outline filled and redrawn by the sketch map F so that only shape tells real "
                        "from fake (filled), or filled for a base of solid figures (auto, the cpu preset's)")
    p.add_argument("--real-images", metavar="DIR", default=None,
                   help="a folder of real images for the image critic (for an imported base)")
    p.add_argument("--l-weight", type=float, default=None, help="weight regularisation weight (default 0)")
    p.add_argument("--augment", default=None, help="augmentation of sketches (default translation)")
    p.add_argument("--ema-half-life", type=float, default=None, metavar="STEPS",
                   help="keep the average of the trained weights over about this many steps as the result "
                        "(cpu preset: 100; 0 = the last step's weights, the paper's)")
    p.add_argument("--retries", type=int, default=None, metavar="N",
                   help="for a base of solid figures: run a tune whose samples missed the sketched shape again "
                        "from the base with the next seed, up to N times, and keep the best run (cpu preset: 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.set_defaults(func=_run_tune)


def _run_tune(args, *, progress, cancel) -> None:
    from core.sketchgan.finetune import tries_summary
    from core.sketchgan.model import load_model
    from core.sketchgan.pretrain import folder_data
    from core.sketchgan.requests import TuneRequest
    from core.sketchgan.tune_config import preset

    cfg = preset(args.preset, iters=args.iters, batch=args.batch, trainable=args.trainable, l_image=args.l_image,
                 l_weight=args.l_weight, augment=args.augment, image_data=args.image_data,
                 sketch_style=args.sketch_style, ema_half_life=args.ema_half_life, retries=args.retries,
                 figure_renders=args.figure_renders, seed=args.seed,
                 device=args.device)
    sketches = load_sketch_folder(args.sketches)
    base = load_model(args.base)
    real = folder_data(args.real_images, base.config.size)[0].images if args.real_images else None
    model = TuneRequest(base=base, sketches=sketches, config=cfg, out_dir=args.out, real_images=real).run(
        progress, cancel)
    reg_info = model.manifest.get("image_regularisation", {})
    reg = reg_info.get("kind", "samples")
    if reg_info.get("figure_renders"):
        reg += f" and {reg_info['figure_renders']} renders of your figures"
    trained = {"all": "the whole generator", "mapping": "the mapping network", "w_shift": "one offset in W"}[
        model.manifest["training"]["config"]["trainable"]]
    style = model.manifest["sketches"]["style"]
    averaged = f", weights averaged with a half-life of {cfg.ema_half_life:g} steps" if cfg.ema_half_life else ""
    print(f"saved {model.path} (fine-tuned {trained} on {len(sketches)} sketches, {cfg.iters} iterations, "
          f"image critic against {reg}, sketch critic on sketches {style}{averaged})")
    checked = tries_summary(model.manifest)
    if checked:
        print(checked[:1].upper() + checked[1:] + ".")


def _add_sample(sub) -> None:
    p = sub.add_parser("gan-sample", help="write samples of a StyleGAN2 model as PNGs (seed in the metadata)")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--n", type=int, default=16, help="number of samples")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument(
        "--truncation", type=float, default=1.0, help="ψ in (0, 1]; lower = more typical, less varied"
    )
    p.add_argument("--seed", type=int, default=0, help="first seed; sample i uses seed+i")
    p.add_argument("--grid", action="store_true", help="also write grid.png")
    p.add_argument("--device", default="auto")
    p.set_defaults(func=_run_sample)


def _run_sample(args, *, progress, cancel) -> None:
    from core.device import pick_device
    from core.images import make_grid, save_image
    from core.sketchgan.model import generate_images, load_model

    if not 0 < args.truncation <= 1:
        raise GanvasError(f"--truncation must be in (0, 1], got {args.truncation}.")
    model = load_model(args.model, pick_device(args.device))
    seeds = list(range(args.seed, args.seed + args.n))
    images = generate_images(model, seeds, truncation=args.truncation, progress=progress, cancel=cancel)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for s, img in zip(seeds, images):
        save_image(out / f"sample_{s:06d}.png", img, sample_metadata(model, s, args.truncation))
    if args.grid:
        save_image(out / "grid.png", make_grid(images, min(8, len(images))), {"model": model.model_id})
    print(f"wrote {len(seeds)} samples to {out}")


def sample_metadata(model, seed: int, truncation: float) -> dict:
    return {"engine": "stylegan2", "model": model.model_id, "model_path": str(model.path or ""), "seed": seed,
            "truncation": truncation, "size": model.config.size}


def _add_import(sub) -> None:
    p = sub.add_parser(
        "gan-import", help="import a rosinality stylegan2-pytorch checkpoint (.pt) as a Ganvas model"
    )
    p.add_argument("checkpoint", metavar="FILE")
    p.add_argument("--out", required=True, metavar="MODEL")
    p.add_argument("--discriminator", default=None, metavar="FILE", help="separate D weights (e.g. netD.pth)")
    p.set_defaults(func=_run_import)


def _run_import(args, *, progress, cancel) -> None:
    from core.sketchgan.imports import import_rosinality
    from core.sketchgan.tune_config import PRESETS, estimate_cpu_seconds

    m = import_rosinality(args.checkpoint, args.out, discriminator=args.discriminator)
    c = m.config
    print(f"imported {args.checkpoint} -> {m.path}: {c.size}px, z {c.style_dim}, {c.n_mlp} mapping layers, "
          f"{'with' if m.discriminator is not None else 'without'} discriminator")
    for name in ("cpu", "paper"):
        secs = estimate_cpu_seconds(c, PRESETS[name])
        print(f"  sketch-tune --preset {name} ({PRESETS[name].iters} steps) on a 2-core CPU: ~{format_rough(secs)}")


def register(sub: argparse._SubParsersAction) -> None:
    _add_pretrain(sub)
    _add_transfer(sub)
    _add_tune(sub)
    _add_sample(sub)
    _add_import(sub)
