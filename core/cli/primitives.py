"""``python main.py primitives``: export a synthetic Primitives set, or preview it as one contact sheet."""

from __future__ import annotations

import argparse
import time

from core.jobs import CancelToken, ProgressFn


def register(sub) -> None:
    from core.primitives.config import DEFAULT_PRESET, PRESET_DESCRIPTIONS, PRESETS, SHAPE_KINDS
    from core.primitives.export import FORMATS

    p = sub.add_parser(
        "primitives",
        help="make a privacy-free synthetic pretraining set (Primitives-PS, Baek & Shim 2022)",
        description=(
            "Generate Primitives images: power-spectrum noise, ~100 dead-leaves shapes and one textured "
            "salient object. Image i of a set is always the same for the same preset, settings and seed, "
            "so a set can be regenerated from its manifest."
        ),
        # (the parser class's HelpFormatter: defaults shown, none for options without one)
    )
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument(
        "--out", metavar="DIR", help="folder to export the set to (must be empty unless --overwrite)"
    )
    out.add_argument("--preview", metavar="FILE", help="write one contact sheet (PNG) instead of a set")
    p.add_argument("--n", type=int, default=10000, help="number of images (preview: default 16)")
    p.add_argument("--size", default="128", help="image size: 128 or WIDTHxHEIGHT such as 160x96")
    p.add_argument("--preset", default=DEFAULT_PRESET, choices=list(PRESETS),
                   help="which synthesizer: " + "; ".join(f"{name}: {text}" for name, text in PRESET_DESCRIPTIONS.items()))
    p.add_argument("--seed", type=int, default=0, help="set seed")
    p.add_argument("--workers", type=int, default=2, help="parallel workers")
    p.add_argument(
        "--pool",
        choices=("auto", "thread", "process"),
        default="auto",
        help="worker kind (auto: processes from 2000 images on, threads below)",
    )
    p.add_argument("--format", choices=FORMATS, default="png", help="PNG files, one .zip, or one .npy stack")
    p.add_argument("--overwrite", action="store_true", help="write into a non-empty folder")
    g = p.add_argument_group("settings (default: the paper's)")
    g.add_argument(
        "--exponents", type=float, nargs=2, metavar=("LOW", "HIGH"), help="power-spectrum exponent range"
    )
    g.add_argument("--shapes", type=int, metavar="N", help="number of shapes")
    g.add_argument(
        "--size-decay", type=float, help="shape size decay (1 = linear, as in the paper; 0 = none)"
    )
    g.add_argument("--kinds", nargs="+", choices=SHAPE_KINDS, help="shape kinds to draw")
    g.add_argument("--no-saliency", action="store_true", help="leave out the salient object")
    g.add_argument("--saliency-scale", type=float, help="size of the salient object (1 = paper)")
    g.add_argument("--antialias", action="store_true", help="antialiased shape edges")
    p.add_argument("--cols", type=int, default=4, help="preview: columns of the contact sheet")
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace):
    from core.primitives.config import preset

    overrides = {}
    if args.exponents:
        overrides["exponent_range"] = tuple(args.exponents)
    if args.shapes is not None:
        overrides["shape_count"] = args.shapes
    if args.size_decay is not None:
        overrides["size_decay"] = args.size_decay
    if args.kinds:
        overrides["shape_kinds"] = tuple(args.kinds)
    if args.no_saliency:
        overrides["saliency"] = False
    if args.saliency_scale is not None:
        overrides["saliency_scale"] = args.saliency_scale
    if args.antialias:
        overrides["antialias"] = True
    return preset(args.preset, **overrides)


def run(
    args: argparse.Namespace, *, progress: ProgressFn | None = None, cancel: CancelToken | None = None
) -> None:
    from core.primitives.export import export_set, parse_size, read_set_manifest
    from core.primitives.synth import generate_batch

    config = config_from_args(args)
    if args.preview:
        from core.images import make_grid, save_image

        h, w = parse_size(args.size)
        n = args.n if args.n != 10000 else 16
        n = max(1, min(n, 256))
        t0 = time.perf_counter()
        sheet = make_grid(generate_batch(config, args.seed, 0, n, h, w), cols=args.cols)
        dt = time.perf_counter() - t0
        path = save_image(args.preview, sheet, {"preset": config.preset, "seed": args.seed, "count": n})
        print(f"Wrote a contact sheet of {n} {config.preset} images ({w}×{h}) to {path} in {dt:.2f} s.")
        return
    t0 = time.perf_counter()
    manifest = export_set(
        args.out, config, args.n, args.size, args.seed, args.format, args.workers, args.overwrite,
        pool=args.pool, progress=progress, cancel=cancel,
    )
    dt = time.perf_counter() - t0
    m = read_set_manifest(manifest)
    print(
        f"Wrote {m.count} {config.preset} images ({m.width}×{m.height}, {m.fmt}) to {manifest.parent} "
        f"in {dt:.1f} s ({m.count / dt:.0f} images/s); manifest: {manifest}"
    )
