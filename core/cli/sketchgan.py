"""StyleGAN2 / Sketch Your Own GAN commands: gan-pretrain, sketch-tune, gan-sample, gan-import."""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path

from core.jobs import GanvasError


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
    src.add_argument("--primitives", action="store_true", help="train on synthetic Primitives images")
    p.add_argument("--variant", default="pink-salient",
                   help="Primitives variant (default pink-salient: salient shapes on power-spectrum noise)")  # fmt: skip
    p.add_argument(
        "--count", type=int, default=4000, help="number of Primitives images to render (default 4000)"
    )
    p.add_argument("--out", required=True, metavar="MODEL", help="output model folder")
    p.add_argument(
        "--preset", choices=["cpu", "gpu"], default="cpu", help="cpu: narrow and fast; gpu: config-f"
    )
    p.add_argument(
        "--size", type=int, default=None, help="resolution, power of two 32..256 (cpu 64, gpu 256)"
    )
    p.add_argument("--iterations", type=int, default=None)
    p.add_argument("--batch", type=int, default=None, help="batch per process")
    p.add_argument("--max-channels", type=int, default=None, help="network width cap")
    p.add_argument("--style-dim", type=int, default=None, help="z / w dimension")
    p.add_argument(
        "--augment", default=None, help="DiffAugment policy for small folders, e.g. translation,color"
    )
    p.add_argument("--path-reg", type=float, default=None, help="path-length regulariser weight (0 = off)")
    p.add_argument("--autosave-every", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--no-resume", action="store_true", help="start afresh even if --out holds a checkpoint")
    p.set_defaults(func=_run_pretrain)


def _run_pretrain(args, *, progress, cancel) -> None:
    import torch

    from core.sketchgan.pretrain import (
        PretrainConfig,
        folder_data,
        init_distributed_from_env,
        primitives_data,
        train_gan,
    )

    distributed = init_distributed_from_env()
    try:
        size = args.size or (256 if args.preset == "gpu" else 64)
        cfg = PretrainConfig.gpu(size) if args.preset == "gpu" else PretrainConfig.cpu(size)
        model_over = {
            k: v for k, v in (("max_channels", args.max_channels), ("style_dim", args.style_dim)) if v
        }
        if model_over:
            cfg = replace(cfg, model=replace(cfg.model, **model_over))
        over = {
            "iterations": args.iterations,
            "batch": args.batch,
            "augment": args.augment,
            "path_regularize": args.path_reg,
            "autosave_every": args.autosave_every,
        }
        cfg = replace(
            cfg, seed=args.seed, device=args.device, **{k: v for k, v in over.items() if v is not None}
        )
        if args.images:
            data, info = folder_data(args.images, size)
        else:
            data, info = primitives_data(size, args.count, seed=args.seed, variant=args.variant, progress=progress,
                                         cancel=cancel)  # fmt: skip
        model = train_gan(data, cfg, out_dir=args.out, resume=not args.no_resume, data_info=info,
                          progress=progress, cancel=cancel)  # fmt: skip
        if not distributed or torch.distributed.get_rank() == 0:
            print(f"saved {model.path} ({size}px, {cfg.iterations} iterations, data: {info.get('kind')})")
    finally:
        if distributed and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def load_sketch_folder(folder: str | os.PathLike) -> list:
    from core.images import list_images, load_image
    from core.sketchgan.sketch import sketch_image_to_ink

    paths = list_images(folder)
    if not paths:
        raise GanvasError(
            f"The folder '{folder}' holds no sketch images (PNG, JPEG...): draw 4–8 and save them there."
        )
    return [sketch_image_to_ink(load_image(p)) for p in paths]


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
    p.add_argument("--preset", choices=["paper", "cpu"], default="cpu")
    p.add_argument("--iterations", type=int, default=None)
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--trainable", choices=["mapping", "w_shift", "all"], default=None)
    p.add_argument("--l-image", type=float, default=None, help="image regularisation weight (paper 0.7)")
    p.add_argument("--l-weight", type=float, default=None, help="weight regularisation weight (default 0)")
    p.add_argument("--augment", default=None, help="augmentation of sketches (default translation)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.set_defaults(func=_run_tune)


def _run_tune(args, *, progress, cancel) -> None:
    from core.sketchgan.finetune import SketchTuneConfig, sketch_tune

    over = {"iterations": args.iterations, "batch": args.batch, "trainable": args.trainable,
            "l_image": args.l_image, "l_weight": args.l_weight, "augment": args.augment}  # fmt: skip
    cfg = SketchTuneConfig.preset(args.preset, seed=args.seed, device=args.device,
                                  **{k: v for k, v in over.items() if v is not None})  # fmt: skip
    sketches = load_sketch_folder(args.sketches)
    model = sketch_tune(args.base, sketches, cfg, out_dir=args.out, progress=progress, cancel=cancel)
    print(f"saved {model.path} (fine-tuned on {len(sketches)} sketches, {cfg.iterations} iterations)")


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
    from core.images import save_image
    from core.sketchgan.model import generate_images, load_model, make_grid

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
            "truncation": truncation, "size": model.config.size}  # fmt: skip


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

    m = import_rosinality(args.checkpoint, args.out, discriminator=args.discriminator)
    c = m.config
    print(f"imported {args.checkpoint} -> {m.path}: {c.size}px, z {c.style_dim}, {c.n_mlp} mapping layers, "
          f"{'with' if m.discriminator is not None else 'without'} discriminator")  # fmt: skip


def register(sub: argparse._SubParsersAction) -> None:
    _add_pretrain(sub)
    _add_tune(sub)
    _add_sample(sub)
    _add_import(sub)
