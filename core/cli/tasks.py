"""``apply``: SinGAN's image tasks from the command line (paint, edit, harmonize, sr, animate, retarget)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from core.images import ImageError, read_image, save_image
from core.jobs import GanvasError

EXAMPLES = """examples:
  python main.py apply paint cells.ganvas --input painting.png --scale 1 --out painted.png
  python main.py apply edit cells.ganvas --input edited.png --mask edited_mask.png --scale 2
  python main.py apply harmonize cells.ganvas --input background.png --object cutout.png --x 20 --y 30 --scale 2
  python main.py apply sr stars_sr.ganvas --factor 4 --out stars_x4.png
  python main.py apply animate cells.ganvas --scale 1 --frames 100 --fps 10 --loop --out cells.gif
  python main.py apply retarget cells.ganvas --width 2x --height 96 --out wide.png
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "apply", help="paint-to-image, editing, harmonization, super-resolution, animation, retargeting",
        description="Use a trained SinGAN on an image: inject it at --scale (1 = just above the coarsest scale, "
                    "changes most) and let the finer scales make it look like the training image. "
                    "Super-resolution works best with a model trained with `train --task sr`.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("task", choices=["paint", "edit", "harmonize", "sr", "animate", "retarget"])
    p.add_argument("model", help="model folder")
    p.add_argument("--input", help="input image: the painting, the edited image, the background / naive composite, "
                                   "or the low-resolution image for sr (default for sr: the training image)")
    p.add_argument("--mask", help="mask image of --input's size (white = changed / pasted region); for edit and harmonize")
    p.add_argument("--scale", type=int, help="injection scale (default: 1 for paint, the middle scale for edit and "
                                             "harmonize, 0 for animate and retarget)")
    p.add_argument("--out", help="output file (default: <task>.png, animation.gif)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps")
    g = p.add_argument_group("paint")
    g.add_argument("--no-quantize", action="store_true", help="keep the painting's colours (default: snap them "
                                                              "to the training image's 5-colour palette)")
    g.add_argument("--colors", type=int, default=5, help="palette size for quantisation")
    g = p.add_argument_group("edit / harmonize")
    g.add_argument("--dilate", type=int, help="mask dilation in px (default 20 for edit, 7 for harmonize)")
    g.add_argument("--sigma", type=float, default=5.0, help="Gaussian feather of the mask")
    g.add_argument("--object", help="harmonize: an image (RGBA: its alpha is the mask) pasted onto --input")
    g.add_argument("--x", type=int, default=0, help="left edge of the pasted object, in px of --input")
    g.add_argument("--y", type=int, default=0, help="top edge of the pasted object")
    g.add_argument("--object-scale", type=float, default=1.0, help="resize factor of the pasted object")
    g.add_argument("--finetune-iters", type=int, default=0,
                   help="harmonize: fine-tune the finest scales on the composite first (ConSinGAN); e.g. 200")
    g = p.add_argument_group("sr")
    g.add_argument("--factor", type=int, default=4, choices=[2, 4], help="upsampling factor (default 4)")
    g.add_argument("--bicubic-out", help="also write the bicubic enlargement here, for comparison")
    g = p.add_argument_group("animate")
    g.add_argument("--frames", type=int, default=100)
    g.add_argument("--fps", type=float, default=10.0)
    g.add_argument("--alpha", type=float, default=0.1, help="pull towards the training image's noise")
    g.add_argument("--beta", type=float, default=0.9, help="momentum of the noise walk (0.8–0.95)")
    g.add_argument("--loop", action="store_true", help="seamless loop (the walk plays forward, then back)")
    g = p.add_argument_group("retarget")
    g.add_argument("--width", help="output width: pixels (320) or a multiplier of the model's width (1.5x)")
    g.add_argument("--height", help="output height: pixels or a multiplier (0.75x)")
    p.set_defaults(func=cmd_apply)


def parse_size(text: str | None, base: int, what: str) -> int:
    """'320' → 320 px; '1.5x', 'x1.5' or '1.5' → 1.5 × ``base``."""
    if text is None:
        return base
    t = text.strip().lower()
    try:
        if t.endswith("x") or t.startswith("x") or "." in t:
            value = round(base * float(t.strip("x")))
        else:
            value = int(t)
    except ValueError:
        raise GanvasError(f"--{what} must be pixels (e.g. 320) or a multiplier (e.g. 1.5x), not '{text}'.") from None
    if value < 11:
        raise GanvasError(f"--{what} {text} gives {value} px; the output must be at least 11 px.")
    return value


def _read_mask(path: str):
    import numpy as np
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.load()
            if "A" in im.getbands() and im.mode != "L":
                return np.asarray(im.getchannel("A"))
            return np.asarray(im.convert("L"))
    except FileNotFoundError:
        raise ImageError(f"Cannot open mask '{path}': the file does not exist.") from None
    except OSError as exc:
        raise ImageError(f"Cannot open mask '{path}': {exc}.") from None


def _read_rgba(path: str):
    import numpy as np
    from PIL import Image

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGBA"))
    except FileNotFoundError:
        raise ImageError(f"Cannot open '{path}': the file does not exist.") from None
    except OSError as exc:
        raise ImageError(f"Cannot open '{path}': {exc}.") from None


def cmd_apply(args, *, progress, cancel) -> None:
    from core.singan import tasks as T
    from core.singan.model import load_model

    model = load_model(args.model, args.device)
    task = args.task
    last = model.num_trained - 1
    scale = args.scale
    meta: dict[str, object] = {"task": task, "model_id": model.model_id, "seed": args.seed, "software": "Ganvas"}

    def need_input() -> object:
        if not args.input:
            raise GanvasError(f"'apply {task}' needs --input IMAGE.")
        return read_image(args.input).rgb

    t0 = time.perf_counter()
    if task in ("paint", "edit", "harmonize"):
        scale = (1 if task == "paint" else max(1, (last + 1) // 2)) if scale is None else scale
        meta["scale"] = scale
        image = need_input()
        if task == "paint":
            palette = T.palette_of(model.image, args.colors) if not args.no_quantize else None
            out = T.paint_to_image(model, image, scale=scale, seed=args.seed, quantize=not args.no_quantize,
                                   palette=palette, progress=progress, cancel=cancel)
            meta["quantize"] = not args.no_quantize
        else:
            if task == "harmonize" and args.object:
                image, mask = T.composite_object(image, _read_rgba(args.object), x=args.x, y=args.y,
                                                 scale=args.object_scale)
            elif args.mask:
                mask = _read_mask(args.mask)
            else:
                raise GanvasError(f"'apply {task}' needs --mask MASK" + (" or --object IMAGE." if task == "harmonize" else "."))
            if task == "edit":
                dilate = T.EDIT_DILATE_PX if args.dilate is None else args.dilate
                out = T.edit(model, image, mask, scale=scale, seed=args.seed, dilate_px=dilate, sigma=args.sigma,
                             progress=progress, cancel=cancel)
            else:
                dilate = T.HARMONIZE_DILATE_PX if args.dilate is None else args.dilate
                out = T.harmonize(model, image, mask, scale=scale, seed=args.seed, dilate_px=dilate,
                                  sigma=args.sigma, finetune_iters=args.finetune_iters, progress=progress,
                                  cancel=cancel)
                meta["finetune_iters"] = args.finetune_iters
            meta.update(dilate_px=dilate, sigma=args.sigma)
    elif task == "sr":
        image = read_image(args.input).rgb if args.input else model.image
        if not T.sr_ready(model):
            print("note: this model was not trained for super-resolution (train it with --task sr: scale factor "
                  f"{T.SR_STEP:.4f}, alpha {T.SR_ALPHA:g}); results may be blurry")
        out = T.super_resolve(model, image, factor=args.factor, seed=args.seed, progress=progress, cancel=cancel)
        meta["factor"] = args.factor
        if args.bicubic_out:
            save_image(args.bicubic_out, T.bicubic_upscale(image, args.factor), {"task": "bicubic", "factor": args.factor})
    elif task == "animate":
        scale = 0 if scale is None else scale
        out_path = Path(args.out or "animation.gif")
        suffix = out_path.suffix.lower()
        if suffix not in (".gif", ".mp4"):
            raise GanvasError(f"Cannot write '{out_path}': an animation is saved as .gif or .mp4.")
        frames = T.animate(model, scale=scale, frames=args.frames, alpha=args.alpha, beta=args.beta, seed=args.seed,
                           loop=args.loop, progress=progress, cancel=cancel)
        if suffix == ".gif":
            T.save_gif(out_path, frames, args.fps, loop=True)
        else:
            T.save_mp4(out_path, frames, args.fps)
        print(f"wrote {len(frames)} frames of {frames.shape[2]}×{frames.shape[1]} at {args.fps:g} fps "
              f"in {time.perf_counter() - t0:.1f} s -> {out_path}")
        return
    else:  # retarget
        scale = 0 if scale is None else scale
        mh, mw = model.shapes[last]
        width, height = parse_size(args.width, mw, "width"), parse_size(args.height, mh, "height")
        out = T.retarget(model, width=width, height=height, scale=scale, seed=args.seed, progress=progress,
                         cancel=cancel)
        meta.update(scale=scale, size=f"{width}x{height}")
    out_path = Path(args.out or f"{task}.png")
    save_image(out_path, out, meta)
    print(f"wrote {out.shape[1]}×{out.shape[0]} {task} result in {time.perf_counter() - t0:.1f} s -> {out_path}")
