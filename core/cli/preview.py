"""``preview``: patch-NN samples of a photo with no training (GPNN), optionally with evaluate-style JSON."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

from core.files import atomic_write_bytes, describe_os_error, output_folder
from core.images import read_image, save_image
from core.jobs import GanvasError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("preview", help="instant samples of a photo by patch nearest neighbours (no training)",
                       description="New images from one photo in about a second, with no training: coarse-to-fine "
                                   "patch nearest-neighbour generation (GPNN, Granot et al., CVPR 2022). "
                                   "--json also writes patch SWD, diversity, near-copy rate and copied area.")
    p.add_argument("image", help="photo (PNG, JPEG, WebP, TIFF, BMP)")
    p.add_argument("--out", required=True, help="folder for the PNGs")
    p.add_argument("--n", type=int, default=8, help="number of samples")
    p.add_argument("--start-scale", "--start-level", dest="start_scale", type=int, default=0,
                   help="pyramid level where generation starts: 0 = coarsest (new layouts); higher keeps the layout")
    p.add_argument("--diversity", type=float, default=1.0, help="noise amplitude multiplier (0 = the photo back)")
    p.add_argument("--width-scale", type=float, default=1.0, help="output width multiplier (retargeting)")
    p.add_argument("--height-scale", type=float, default=1.0, help="output height multiplier")
    p.add_argument("--seed", type=int, default=0, help="sample i uses seed + i")
    p.add_argument("--max-size", type=int, default=250, help="the photo's longer side is shrunk to this (px)")
    p.add_argument("--device", default="cpu", help="cpu (default), auto, cuda, cuda:1")
    p.add_argument("--json", metavar="FILE", help="write patch SWD, diversity, near-copy rate and copied area as JSON")
    p.set_defaults(func=cmd_preview)


def cmd_preview(args, *, progress, cancel) -> None:
    from core.metrics import copied_area, diversity, near_copy_rate, patch_swd
    from core.patchnn import ENGINE_NAME, PatchNNConfig, PatchPyramid, PreviewSettings, generate_from

    if args.n < 1:
        raise GanvasError(f"--n must be at least 1 (got {args.n}).")
    loaded = read_image(args.image)
    for note in loaded.notes:
        print(f"note: {note}")
    from core.device import pick_device, thread_policy

    if pick_device(args.device).type == "cpu":
        thread_policy.apply()
    config = PatchNNConfig(max_size=args.max_size)
    settings = PreviewSettings(start_scale=args.start_scale, diversity=args.diversity, width_scale=args.width_scale,
                               height_scale=args.height_scale, seed=args.seed)
    t0 = time.perf_counter()
    pyr = PatchPyramid(loaded.rgb, config, args.device)
    images = generate_from(pyr, settings, args.n, progress=progress, cancel=cancel)
    seconds = (time.perf_counter() - t0) / args.n
    out = output_folder(args.out)
    for i, img in enumerate(images):
        meta = {**settings.to_metadata(), "seed": str(args.seed + i), "size": f"{img.shape[1]}x{img.shape[0]}",
                "source": Path(args.image).name, "max_size": str(args.max_size), "software": "Ganvas"}
        save_image(out / f"preview_{args.seed + i:05d}.png", img, meta)
    print(f"wrote {len(images)} {ENGINE_NAME} samples of {images.shape[2]}×{images.shape[1]} to {out} "
          f"({seconds:.2f} s per sample, {pyr.num_levels} levels)")
    if args.json:
        photo = pyr.photo
        result = {
            "engine": ENGINE_NAME,
            "image": str(args.image),
            "size": f"{photo.shape[1]}x{photo.shape[0]}",
            "samples": args.n,
            **asdict(settings),
            "levels": pyr.num_levels,
            "seconds_per_sample": round(seconds, 3),
            "patch_swd": round(patch_swd([photo], images), 3),
            "diversity": round(diversity(images, photo), 4) if args.n >= 2 else None,
            # whole sample within 30/255 mean absolute difference of the photo (core/metrics.py)
            "near_copy_rate": round(near_copy_rate(images, photo), 4),
            # blocks of 1/5 of the shorter side found verbatim in the photo (RMS < 4/255)
            "copied_area": round(copied_area(images, photo), 4),
        }
        text = json.dumps(result, indent=2)
        try:
            atomic_write_bytes(Path(args.json), (text + "\n").encode())
        except OSError as exc:
            raise GanvasError(f"Cannot write '{args.json}': {describe_os_error(exc)}.") from exc
        print(text)
