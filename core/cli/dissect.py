"""``dissect`` (which units of a layer draw a painted region; the sample with them switched off or on) and
``detect`` (how well a small classifier tells a model's samples from its photo)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from core.files import atomic_write_bytes, output_folder
from core.images import read_mask, save_image
from core.jobs import GanvasError


def register(sub) -> None:
    p = sub.add_parser(
        "dissect", help="rank a layer's units by how well they match a painted region; ablate or activate them",
        description="GAN Dissection with a painted concept. Writes before.png (the sample `sample` draws with "
                    "--seed), after.png (the top units switched off, or up with --activate), units.png (their "
                    "activation maps) and units.json (unit, IoU, threshold).")
    p.add_argument("model", help="SinGAN or StyleGAN model folder")
    p.add_argument("--seed", type=int, default=0, help="the sample to paint on (as `sample --seed`)")
    p.add_argument("--mask", required=True, help="the painted region: a PNG of the sample's size (white or "
                                                 "opaque = painted)")
    p.add_argument("--layer", help="e.g. scale3.block1 (SinGAN) or res16.conv0 (StyleGAN); default: a middle "
                                   "layer of the second finest scale / 16 px; --layer list prints them all")
    p.add_argument("--top", type=int, help="units to switch (default: 10 %% of the layer's units)")
    p.add_argument("--activate", action="store_true", help="set the units to a high value instead of zero")
    p.add_argument("--area", help="only switch the units inside this brushed area (a PNG like --mask); "
                                  "default: everywhere")
    p.add_argument("--samples", type=int, default=1,
                   help="rank over this many samples (the region carried to seeds S+1… by colour and texture); "
                        "1 = over the painted image alone")
    p.add_argument("--quantile", type=float,
                   help="threshold each unit at this quantile of its activations (GAN Dissection: 0.99); "
                        "default: 1 - the region's share of the pixels")
    p.add_argument("--out", required=True, help="folder for the PNGs and units.json")
    p.add_argument("--device", default="auto")
    p.set_defaults(func=cmd_dissect)

    p = sub.add_parser(
        "detect", help="how well a small classifier tells a model's samples from its photo (0.5 = cannot)",
        description="Trains a linear classifier of real vs generated patches on DCT (8×8 blocks) and pixel "
                    "features, on the left halves of the images, and tests it on the right halves.")
    p.add_argument("model", help="SinGAN model folder (its photo is the real side)")
    p.add_argument("--n", type=int, default=8, help="samples to draw")
    p.add_argument("--seed", type=int, default=1000, help="first sample seed")
    p.add_argument("--repeats", type=int, default=5, help="runs, each on new patches (the spread is over them)")
    p.add_argument("--map", metavar="FILE", help="write the 8×8 per-coefficient accuracy map as a PNG")
    p.add_argument("--device", default="auto")
    p.set_defaults(func=cmd_detect)


def load_any(path: str, device: str):
    """A SinGAN or StyleGAN model, by the kind its manifest names."""
    from core.checkpoints import read_manifest

    kind = read_manifest(path).get("kind")
    if kind == "stylegan2":
        from core.device import pick_device
        from core.sketchgan.model import load_model

        return load_model(path, pick_device(device))
    from core.cli.singan import load_checked

    return load_checked(path, device)


def cmd_dissect(args, *, progress, cancel) -> None:
    from core import dissect as D

    model = load_any(args.model, args.device)
    subject = D.subject_for(model)
    if args.layer == "list":
        for name in subject.layers():
            print(f"{name:16s} {subject.layer_label(name)}")
        return
    layer = subject.check_layer(args.layer or D.default_layer(subject))
    before = D.draw_with(model, None, args.seed, subject)
    mask = _mask_of(args.mask, "--mask", before.shape[:2], args.seed)
    area = _mask_of(args.area, "--area", before.shape[:2], args.seed) if args.area else None
    units = subject.units(layer)
    k = max(1, units // 10) if args.top is None else args.top
    if not 1 <= k <= units:
        raise GanvasError(f"--top {k} is outside 1–{units} (layer {layer} has {units} units).")
    d = D.dissect(model, layer, mask, seed=args.seed, samples=args.samples, quantile=args.quantile,
                  subject=subject, progress=progress, cancel=cancel)
    iv = D.Intervention.from_dissection(d, k, "activate" if args.activate else "ablate", area)
    after = D.draw_with(model, iv, args.seed, subject)
    out = output_folder(args.out)
    meta = {"seed": str(args.seed), "model_id": str(model.model_id), "software": "Ganvas"}
    save_image(out / "before.png", before, meta)
    save_image(out / "after.png", after, {**meta, **iv.to_metadata()})
    save_image(out / "units.png", D.unit_grid(d, k), {**meta, "dissect_layer": layer})
    report = {"layer": layer, "label": d.label, "seed": args.seed, "samples": d.samples,
              "quantile": round(d.quantile, 4), "how": d.describe(), "mode": iv.mode, "top": k,
              "area": "brushed" if area is not None else "everywhere", "units": d.table()}
    atomic_write_bytes(out / "units.json", (json.dumps(report, indent=2) + "\n").encode())
    change = np.abs(after.astype(np.int16) - before).mean()
    print(f"layer {layer} ({d.label}): top {k} units {', '.join(map(str, iv.units))} "
          f"(IoU {', '.join(f'{d.iou[u]:.2f}' for u in iv.units)}); {iv.mode}d "
          f"{'inside the area' if area is not None else 'everywhere'}; mean change {change:.1f}/255 -> {out}")


def _mask_of(path: str, flag: str, hw: tuple[int, int], seed: int) -> np.ndarray:
    mask = read_mask(path)
    if mask.shape != hw:
        raise GanvasError(f"{flag} {path} is {mask.shape[1]}×{mask.shape[0]} px but the sample of seed {seed} is "
                          f"{hw[1]}×{hw[0]} px: paint it on an image of that size.")
    return mask


def cmd_detect(args, *, progress, cancel) -> None:
    from core.detect import coefficient_map_image, detectability
    from core.singan.generate import SampleSettings, sample

    model = load_any(args.model, args.device)
    if not hasattr(model, "image"):
        raise GanvasError("detect needs a SinGAN model (its photo is the real side).")
    images = sample(model, SampleSettings(seed=args.seed), args.n, cancel=cancel)
    result = detectability([model.image], images, repeats=args.repeats, progress=progress, cancel=cancel)
    for det in result.values():
        print(det.line())
    acc = result["dct"].coefficient_accuracy
    u, v = np.unravel_index(np.argmax(acc), acc.shape)
    print(f"most telling DCT coefficient: row {u}, column {v} (accuracy {acc[u, v]:.3f} alone)")
    if args.map:
        save_image(Path(args.map), coefficient_map_image(acc), {"software": "Ganvas"})
        print(f"wrote {args.map}")
