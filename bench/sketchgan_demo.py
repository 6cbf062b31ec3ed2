"""Reproduce the Sketch-Your-Own-GAN demonstration of docs/sketchgan.md on the bundled base (or another).

    python bench/sketchgan_demo.py app/resources/sketchgan/sketch_base.ganvas --shape triangle
    python bench/sketchgan_demo.py app/resources/sketchgan/sketch_base.ganvas --shape tall-rectangle
    python bench/sketchgan_demo.py app/resources/sketchgan/sketch_base.ganvas --shape diamond

Draws six sketches of one shape the way a person would on the sketch pad (wobbly hand strokes at
256 px, overshooting corners, each a bit different), fine-tunes with the CPU preset, and reports
over 256 seeds: the shape distance from the samples' own edges (Canny and the foreground outline;
no loss sees them) and from F(G(z)) (the circular one) to the nearest user sketch, before and
after; the patch SWD of base and tuned samples against 256 held-out images of the base's Primitives
data (realism), and two yardsticks: the 256 of 4 000 held-out images nearest the sketches (real
images that already have the shape) and the 256 of 4 000 base samples nearest them (what the base
already draws in that shape: the images a mapping-only tune can reach without leaving the base's
own renderings), each with its distances and its SWD against the data; and the SWD of 256 renders of
the sketched figure itself as the data draws figures (what a model whose every sample is the
sketched figure, in the data's style, would read). ``vs_shaped_real`` is the paper's protocol
(GANSketching scores FID against held-out real images that match the sketches): patch SWD of base,
tuned and rendered samples against 256 real images nearest the sketches from another pool, with
the first pool's 256 as the floor. ``vs_renders`` is realism as the paper judges it, against
images *of the sketched kind*: patch SWD and the random-CNN feature distance (core/features.py, no
loss targets it) of the base's and the tuned samples to the renders of the sketched figure. Writes the before/after
grid and the sketches; prints a JSON summary. ``--base-only`` measures the base and the yardsticks
without tuning (what a sketch set asks of the base, in seconds).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.features import feature_distance  # noqa: E402
from core.images import make_grid, save_image  # noqa: E402
from core.metrics import patch_swd  # noqa: E402
from core.sketchgan.evaluate import (  # noqa: E402
    EDGE_METHODS,
    chamfer_distance,
    edge_distance,
    edge_match,
    realism,
    sketch_match,
    sketches_of_samples,
    user_inks_at,
)
from core.sketchgan.finetune import (  # noqa: E402
    critic_sketches,
    figure_renders,
    regularisation_images,
    sketch_tune,
)
from core.sketchgan.model import generate_tensor, load_model, tensor_to_uint8  # noqa: E402
from core.sketchgan.pretrain import primitives_data, primitives_preset_of  # noqa: E402
from core.sketchgan.sketch import ink_to_rgb, photo_to_sketch, sketch_tensor_to_ink  # noqa: E402
from core.sketchgan.tune_config import IMAGE_DATA, SKETCH_STYLES, TRAINABLE  # noqa: E402
from core.sketchgan.tune_config import preset as tune_preset  # noqa: E402


def hand_stroke(points: np.ndarray, rng: np.random.Generator, wobble: float) -> np.ndarray:
    """Resample a polyline densely and add smooth low-frequency jitter, like a hand-drawn line."""
    seg = [np.linspace(points[i], points[i + 1], 40, endpoint=False) for i in range(len(points) - 1)]
    pts = np.concatenate(seg + [points[-1:]])
    n = len(pts)
    noise = rng.normal(0, 1, (n // 20 + 3, 2))
    xs = np.linspace(0, len(noise) - 1, n)
    smooth = np.stack([np.interp(xs, np.arange(len(noise)), noise[:, k]) for k in range(2)], 1)
    return pts + smooth * wobble


def draw_stroke(corners: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """One hand-drawn stroke through ``corners`` on a size×size pad, 4 px wide (float32 ink, 1 = ink)."""
    ink = np.zeros((size, size), np.uint8)
    pts = hand_stroke(corners, rng, wobble=size * 0.006)
    cv2.polylines(ink, [np.round(pts).astype(np.int32)], False, 255, thickness=4, lineType=cv2.LINE_AA)
    return ink.astype(np.float32) / 255.0


def tall_rectangle_sketch(rng: np.random.Generator, size: int = 256) -> np.ndarray:
    """A tall box drawn in one or two strokes, corners overshooting a little (float32 ink, 1 = ink)."""
    w = rng.uniform(0.30, 0.40) * size
    h = rng.uniform(0.62, 0.74) * size
    x0 = rng.uniform(0.22, 0.36) * size
    y0 = rng.uniform(0.14, 0.22) * size
    o = rng.uniform(2, 6)
    corners = np.array(
        [[x0 - o, y0], [x0 + w + o, y0 - o / 2], [x0 + w, y0 + h + o], [x0 - o / 2, y0 + h], [x0, y0 - o]]
    )
    return draw_stroke(corners, rng, size)


def triangle_sketch(rng: np.random.Generator, size: int = 256) -> np.ndarray:
    """A wide upright triangle (a tent or a mountain) standing on the lower part of the frame, drawn
    as one closed stroke with overshooting corners (float32 ink, 1 = ink)."""
    base_w = rng.uniform(0.62, 0.78) * size
    height = rng.uniform(0.50, 0.62) * size
    cx = rng.uniform(0.45, 0.55) * size
    bottom = rng.uniform(0.80, 0.88) * size
    o = rng.uniform(2, 6)
    corners = np.array(
        [[cx - base_w / 2 - o, bottom], [cx + base_w / 2 + o, bottom + o / 2], [cx + o / 2, bottom - height - o],
         [cx - base_w / 2, bottom + o / 2]]
    )
    return draw_stroke(corners, rng, size)


def diamond_sketch(rng: np.random.Generator, size: int = 256) -> np.ndarray:
    """A large square stood on one corner (a kite or a road sign), centred, drawn as one closed stroke
    with overshooting corners (float32 ink, 1 = ink)."""
    r = rng.uniform(0.32, 0.40) * size
    cx, cy = rng.uniform(0.45, 0.55, 2) * size
    o = rng.uniform(2, 6)
    corners = np.array([[cx, cy - r - o], [cx + r + o, cy], [cx, cy + r + o / 2], [cx - r, cy + o / 2], [cx + o / 2, cy - r]])
    return draw_stroke(corners, rng, size)


#: The sketch sets the demo can draw: shapes and poses a sketch-shapes base rarely makes by itself.
SKETCH_SETS = {"tall-rectangle": tall_rectangle_sketch, "triangle": triangle_sketch, "diamond": diamond_sketch}


def upscale(img: np.ndarray, f: int) -> np.ndarray:
    return cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_NEAREST)


def nearest_shapes(images: np.ndarray, targets: list[np.ndarray], n: int) -> np.ndarray:
    """The ``n`` of ``images`` whose foreground outline is nearest a sketch."""
    return images[np.argsort(edge_distance(images, targets, "outline"))[:n]]


def shaped(nearest: np.ndarray, targets: list[np.ndarray], data: np.ndarray) -> dict[str, float]:
    """Shape distances of ``nearest`` to the sketches, and their realism against the data."""
    return {**{m: float(edge_distance(nearest, targets, m).mean()) for m in EDGE_METHODS},
            "swd_vs_data": patch_swd(nearest, data)}


def nearest_data(base, sketches: list[np.ndarray], cfg, fraction: float) -> torch.Tensor:
    """The ``fraction`` of the base's training data whose F(image) is nearest (Chamfer) a critic sketch."""
    images, _ = regularisation_images(base, cfg.with_(image_count=10**9))
    seen, _ = critic_sketches(sketches, base, cfg, "cpu")
    targets = list(sketch_tensor_to_ink(seen))
    with torch.no_grad():
        inks = np.concatenate([sketch_tensor_to_ink(photo_to_sketch(images[i:i + 500], cfg.xdog))
                               for i in range(0, len(images), 500)])
    d = np.array([min(chamfer_distance(ink, t) for t in targets) for ink in inks])
    return images[np.argsort(d)[: max(1, round(fraction * len(images)))]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("base")
    ap.add_argument("--out", default="/tmp/sgdemo/demo")
    ap.add_argument("--iters", type=int, default=None, help="default: the cpu preset's (1 000)")
    ap.add_argument("--sketches", type=int, default=6)
    ap.add_argument("--sketch-seed", type=int, default=2021, help="seed of the hand-drawn sketches")
    ap.add_argument("--samples", type=int, default=256, help="seeds (and held-out images) per measure")
    ap.add_argument("--shape", choices=sorted(SKETCH_SETS), default="tall-rectangle", help="which sketch set")
    ap.add_argument("--grid", default=None, help="default: resources/readme/sketchgan_<shape>.png")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--lr-scale", type=float, default=None, help="mapping lr factor (cpu preset: 40)")
    ap.add_argument("--trainable", choices=TRAINABLE, default=None, help="default: the cpu preset's (auto)")
    ap.add_argument("--ema", type=float, default=None, help="EMA half-life in steps (cpu preset: 100; 0 = off)")
    ap.add_argument("--augment", default=None, help="DiffAugment policy of the sketch critic (default translation)")
    ap.add_argument("--seed", type=int, default=0, help="the tune's seed (a GAN tune varies from seed to seed)")
    ap.add_argument("--l-image", type=float, default=None, help="default: the cpu preset's (5)")
    ap.add_argument("--figure-renders", type=float, default=None, metavar="SHARE",
                    help="share of the image critic's real images that are the sketched figures drawn as the "
                         "data draws figures (cpu preset: 0.9; 0 = off)")
    ap.add_argument("--r1", type=float, default=None, help="the critics' R1 weight γ (default: the preset's)")
    ap.add_argument("--batch", type=int, default=None, help="images per step (cpu preset: 4, as the paper's)")
    ap.add_argument("--mixing", type=float, default=None, help="style-mixing probability of the tune's latents (0.9)")
    ap.add_argument("--l-weight", type=float, default=0.0, help="weight regularisation (the paper's alternative)")
    ap.add_argument("--image-data", choices=IMAGE_DATA, default="auto", help="what the image critic sees")
    ap.add_argument("--sketch-style", choices=SKETCH_STYLES, default="auto",
                    help="what the sketch critic sees: the strokes as drawn, or filled and redrawn by F")
    ap.add_argument("--nearest-data", type=float, default=None, metavar="FRACTION",
                    help="show the image critic only this fraction of the base's data: the images whose "
                         "sketch map F is nearest the critic's sketches (Chamfer; an experiment, docs/experiments.md)")
    ap.add_argument("--base-only", action="store_true", help="measure the base and the yardsticks, no tune")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    (out / "sketches").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.sketch_seed)
    sketches = [SKETCH_SETS[args.shape](rng) for _ in range(args.sketches)]
    args.grid = args.grid or f"resources/readme/sketchgan_{args.shape}.png"
    for i, s in enumerate(sketches):
        save_image(out / "sketches" / f"sketch_{i}.png", ink_to_rgb(s))

    base = load_model(args.base)
    eval_seeds = list(range(1000, 1000 + args.samples))
    ref_seeds = list(range(5000, 5000 + args.samples))
    before = sketch_match(base, sketches, eval_seeds)
    edges_before = {m: edge_match(base, sketches, eval_seeds, m) for m in EDGE_METHODS}
    # held-out images of the base's training data (same Primitives preset and size, another seed)
    data_info = base.manifest.get("data") or {}
    data_preset = (primitives_preset_of(data_info) or "pink-salient") if data_info.get("kind") == "primitives" else None
    data, yardsticks, renders = None, {}, None
    if data_preset:  # the yardsticks: real images, and the base's own samples, that already have the shape
        held_out, _ = primitives_data(base.config.size, len(eval_seeds), seed=99_991, preset=data_preset)
        data = tensor_to_uint8(held_out)
        targets = user_inks_at(sketches, base.config.size)
        n = len(eval_seeds)
        pool, _ = primitives_data(base.config.size, 4000, seed=12_345, preset=data_preset)
        shaped_real = nearest_shapes(tensor_to_uint8(pool), targets, n)
        yardsticks["shaped_data"] = shaped(shaped_real, targets, data)
        drawn = tensor_to_uint8(generate_tensor(base, list(range(20_000, 24_000)), batch=256))
        yardsticks["shaped_base"] = shaped(nearest_shapes(drawn, targets, n), targets, data)
        base_samples = tensor_to_uint8(generate_tensor(base, eval_seeds))
        yardsticks["swd_base_vs_data"] = patch_swd(base_samples, data)
        # the paper's protocol (GANSketching scores FID against held-out real images that match the
        # sketches): patch SWD against real images that have the shape, from another pool than the
        # shaped_data yardstick, whose own distance to them is the floor
        other, _ = primitives_data(base.config.size, 4000, seed=54_321, preset=data_preset)
        shape_ref = nearest_shapes(tensor_to_uint8(other), targets, n)
        yardsticks["vs_shaped_real"] = {"floor": patch_swd(shaped_real, shape_ref),
                                        "base": patch_swd(base_samples, shape_ref)}
        renders = figure_renders(sketches, base, n)
        if renders is not None:  # every image exactly the sketched figure, drawn as the data draws figures
            renders = tensor_to_uint8(renders)
            yardsticks["figure_renders_swd_vs_data"] = patch_swd(renders, data)
            yardsticks["vs_shaped_real"]["renders"] = patch_swd(renders, shape_ref)
    if args.base_only:
        print(json.dumps({"base": str(args.base), "shape": args.shape, "chamfer_before": before,
                          "edges_before": edges_before, **yardsticks}, indent=2))
        return
    cfg = tune_preset("cpu", trainable=args.trainable, l_image=args.l_image, mapping_lr_scale=args.lr_scale,
                      iters=args.iters, image_data=args.image_data,
                      l_weight=args.l_weight, seed=args.seed, r1=args.r1, sketch_style=args.sketch_style, ema_half_life=args.ema,
                      augment=args.augment, figure_renders=args.figure_renders, mixing=args.mixing, batch=args.batch)
    t0 = time.perf_counter()
    real_images = nearest_data(base, sketches, cfg, args.nearest_data) if args.nearest_data else None
    tuned = sketch_tune(base, sketches, cfg, out_dir=out / "tuned", real_images=real_images)
    seconds = time.perf_counter() - t0
    after = sketch_match(tuned, sketches, eval_seeds)
    edges_after = {m: edge_match(tuned, sketches, eval_seeds, m) for m in EDGE_METHODS}
    real = {**realism(tuned, base, eval_seeds, ref_seeds, data), **yardsticks}
    if "vs_shaped_real" in real:
        tuned_samples = tensor_to_uint8(generate_tensor(tuned, eval_seeds))
        real["vs_shaped_real"]["tuned"] = patch_swd(tuned_samples, shape_ref)
    if renders is not None:  # realism the paper's way: against images of the sketched kind (issue 51)
        tuned_samples = tensor_to_uint8(generate_tensor(tuned, eval_seeds))
        real["vs_renders"] = {
            "swd_base": patch_swd(base_samples, renders), "swd_tuned": patch_swd(tuned_samples, renders),
            "feat_base": feature_distance(base_samples, renders), "feat_tuned": feature_distance(tuned_samples, renders)}

    # grid: the sketches as the sketch critic sees them, then 8 seeds: base, F(base), tuned, F(tuned)
    show = list(range(1000, 1008))
    size = base.config.size
    seen, _ = critic_sketches(sketches, base, cfg, "cpu")  # what the sketch critic is shown as real
    user = np.stack([ink_to_rgb(s) for s in sketch_tensor_to_ink(seen)])
    b_img, b_ink = sketches_of_samples(base, show)
    t_img, t_ink = sketches_of_samples(tuned, show)
    rows = [
        np.concatenate(
            [user, np.full((8 - len(user) % 8 if len(user) % 8 else 0, size, size, 3), 255, np.uint8)]
        ),
        b_img,
        np.stack([ink_to_rgb(i) for i in b_ink]),
        t_img,
        np.stack([ink_to_rgb(i) for i in t_ink]),
    ]
    grid = make_grid(np.concatenate(rows), 8, pad=2)
    grid = upscale(grid, 3 if size <= 64 else 1)
    Path(args.grid).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(args.grid, cv2.cvtColor(grid, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    summary = {
        "base": str(args.base),
        "shape": args.shape,
        "seed": args.seed,
        "sketches": len(sketches),
        "sketch_seed": args.sketch_seed,
        "iters": cfg.iters,
        "trainable": tuned.manifest["training"]["config"]["trainable"],
        "figure_renders": tuned.manifest.get("image_regularisation", {}).get("figure_renders", 0),
        "mapping_lr_scale": cfg.mapping_lr_scale,
        "l_image": cfg.l_image,
        "l_weight": cfg.l_weight,
        "ema_half_life": cfg.ema_half_life,
        "augment": cfg.augment,
        "threads": args.threads,
        "tries": tuned.manifest["training"].get("tries"),
        "nearest_data": args.nearest_data,
        "sketch_critic": tuned.manifest.get("sketches", {}).get("style"),
        "seconds": round(seconds, 1),
        "sec_per_iter": round(seconds / cfg.iters, 3),
        "image_regularisation": tuned.manifest.get("image_regularisation"),
        "chamfer_before": before,
        "chamfer_after": after,
        "edges_before": edges_before,  # the non-circular measure: the samples' own edges
        "edges_after": edges_after,
        **real,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
