"""SinGAN quality per CPU minute: trains presets on scikit-image photos and measures their samples.

    python bench/quality.py                       # fast + consingan (500 it.) on 4 photos, 128 px
    python bench/quality.py --quick               # smoke run: tiny iterations, 2 photos, 64 px
    python bench/quality.py --presets fast --photos rocket brick --out /tmp/q --reuse
    python bench/quality.py --presets fast issue14 "fast+lambda_patch=100"   # a baseline and a variant

For every photo × preset: training time (wall and CPU seconds), then 50 samples from the
coarsest scale, and
- patch SWD (7×7 patches over a Laplacian pyramid, ×10³) against the photo, with its floor: the
  photo against itself (the measure's own noise), and its coarsest level alone (``swd_layout``: 7×7
  patches of the 16-px low-pass image, i.e. the layout; bench/swd_reference.py shows what it asks);
- SWD of 11×11 patches with other random patches and directions: a check that the ``fast``
  preset's 7×7 patch loss does not optimise directly;
- ``feat``: the Fréchet distance of random-CNN features (core/features.py), the independent check no
  loss targets: it sees structure up to ~40 px and every frequency at once. Each photo also gets a
  reference row, ``photo 0.8×↑``: the photo shrunk to 0.8× and enlarged back, what "soft" scores;
- a real-vs-fake patch classifier's held-out accuracy, mean of 4 classifiers (0.5: it cannot tell the samples' 16-px patches
  from the photo's; 1: it always can): a check of another kind, which sees grain a sliced distance
  averages away;
- diversity (SinGAN's: per-pixel std over samples / the photo's std);
- near-copy rate (whole sample within 30/255 mean absolute difference of the photo) and copied area
  (blocks of 1/5 of the short side found verbatim in the photo, RMS < 4/255), and the same share of
  the textured blocks alone (``copied_textured``: spatial std ≥ 8/255; a flat block of sky matches any
  flat part of the photo, so on a photo with open sky the plain figure counts sky as copies);
- stuck scales: how many generators are saturated (tanh at ±1 on most pixels; training warns of it);
- rec fit: the share of the photo's variance its reconstruction explains (below 0.4 training warns
  that the model has not learnt its photo).
A contact sheet per photo (the photo, then 7 samples per preset, one row each) and a JSON of all
figures go to ``--out``; trained models too, so ``--reuse`` re-measures without retraining.
"""

from __future__ import annotations

import argparse
import ast
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.features import feature_distance  # noqa: E402
from core.images import make_grid, resize, save_image  # noqa: E402
from core.metrics import (  # noqa: E402
    copied_area,
    diversity,
    near_copy_rate,
    patch_classifier_accuracy,
    patch_swd,
    patch_swd_by_level,
)
from core.presets import named_preset  # noqa: E402
from core.singan.config import PRESETS, RENAMED, SinGANConfig, preset  # noqa: E402
from core.singan.generate import SampleSettings, reconstruction_fit, sample, saturated_scales  # noqa: E402
from core.singan.model import load_model  # noqa: E402
from core.singan.train import train_singan  # noqa: E402

#: Recipes that are not presets any more, kept as yardsticks. ``issue14``: the `fast` preset when issue #14
#: ("SinGAN quality per CPU minute") was filed — SinGAN's networks at 32 channels, scale factor 0.65,
#: 500 iterations per scale, 2 critic and 2 generator steps; its done-when asks for half its patch SWD.
#: ``previous``: the `fast` preset of the round before this one (18-px coarsest side, 7–8 scales, two
#: trained together, noise padding, patch loss 100, 350 → 175 iterations).
BASELINES = {
    "issue14": preset("paper", preset="issue14", scale_factor=0.65, max_nfc=32, iters=500, d_steps=2, g_steps=2),
    "previous": preset("paper", preset="previous", max_size=128, max_nfc=32, min_size=18, iters=350, fine_iters=0.5,
                       g_reuse_grad=True, train_depth=2, noise_pad=True, redraw_lower=False, lambda_patch=100.0),
}


def recipe(name: str, max_size: int, iters: int | None) -> SinGANConfig:
    """A preset, a baseline, or either with settings changed: ``fast+lambda_patch=30+iters=200``."""
    base, *changes = name.split("+")
    overrides: dict = {"max_size": max_size, "iters": iters}
    for change in changes:
        key, _, value = change.partition("=")
        overrides[RENAMED.get(key, key)] = ast.literal_eval(value)  # old names in docs/experiments.md
    return named_preset({**PRESETS, **BASELINES}, base, **overrides)


#: Scenes and textures with edges, stripes and lattices (all CC0 / public domain, shipped with scikit-image).
PHOTOS = ("rocket", "chelsea", "brick", "hubble_deep_field")
#: Spatial std (0–255) below which a block is flat (sky) for ``copied_textured``.
TEXTURED_STD = 8.0


def load_photo(name: str) -> np.ndarray:
    from skimage import data

    img = getattr(data, name)()
    return np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img[..., :3]


def score(samples: np.ndarray, photo: np.ndarray) -> dict[str, float]:
    """Every sample figure of the table, for samples drawn by any code (bench/published_consingan.py too)."""
    levels = patch_swd_by_level(samples, [photo])
    return {
        "swd": float(np.mean(levels)),
        "swd_layout": levels[-1],
        "swd_floor": patch_swd([photo], [photo], seed=1),
        "swd11": patch_swd(samples, [photo], patch_size=11, seed=77),
        "feat": feature_distance(samples, [photo]),
        "classifier": patch_classifier_accuracy(samples, photo, repeats=4),
        "diversity": diversity(samples, photo),
        "near_copy": near_copy_rate(samples, photo),
        "copied_area": copied_area(samples, photo),
        "copied_textured": copied_area(samples, photo, min_std=TEXTURED_STD),
    }


def measure(model, n: int, seed: int = 1000) -> tuple[dict[str, float], np.ndarray]:
    samples = sample(model, SampleSettings(start_scale=0, seed=seed), n)
    figures = {
        **score(samples, model.image),
        "stuck_scales": float(len(saturated_scales(model, range(model.num_trained)))),  # tanh at ±1: see docs/singan.md
        "rec_fit": reconstruction_fit(model),
    }
    return figures, samples


#: The reference row's name: the photo shrunk to 0.8× and enlarged back (bicubic), what a soft finest scale looks like.
SOFT = "photo 0.8×↑"


def soft_reference(photo: np.ndarray) -> dict[str, float]:
    """Patch SWD, 11×11 SWD and feature distance of the photo shrunk to 0.8× and enlarged back."""
    h, w = photo.shape[:2]
    soft = resize(resize(photo, round(w * 0.8), round(h * 0.8)), w, h)
    return {"swd": patch_swd([soft], [photo]), "swd11": patch_swd([soft], [photo], patch_size=11, seed=77),
            "feat": feature_distance([soft], [photo])}


def _log_scale(run: str, p) -> None:
    """Print each finished scale (its time, and the tries a saturated one took) and every warning."""
    if p.preview is not None and p.message:  # a scale's end carries its sample (as the Train dock reads it)
        print(f"{run}: {p.message}", flush=True)
    if p.warning:
        print(f"{run}: {p.warning}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", nargs="+", default=["fast", "consingan"],
                    help="presets or baselines (issue14), optionally with changed settings: fast+lambda_patch=30")
    ap.add_argument("--photos", nargs="+", default=list(PHOTOS))
    ap.add_argument("--size", type=int, default=128, help="finest scale's longer side")
    ap.add_argument("--iters", type=int, help="iterations per scale for every preset (default: each preset's)")
    ap.add_argument("--consingan-iters", type=int, default=500, help="iterations per stage of the consingan preset")
    ap.add_argument("--samples", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    ap.add_argument("--out", default="bench_quality", help="folder for models, contact sheets and results.json")
    ap.add_argument("--reuse", action="store_true", help="load models already in --out instead of training")
    ap.add_argument("--quick", action="store_true", help="smoke run: 64 px, 20 iterations, 2 photos, 8 samples")
    args = ap.parse_args()
    if args.quick:
        args.size, args.iters, args.samples, args.photos = 64, 20, 8, args.photos[:2]
        args.consingan_iters = 20
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    for photo_name in args.photos:
        image = load_photo(photo_name)
        rows = []
        for name in args.presets:
            iters = args.consingan_iters if name == "consingan" and not args.iters else args.iters
            cfg = recipe(name, args.size, iters)
            folder = out / f"{photo_name}-{name}.ganvas"
            key = f"{photo_name}/{name}"
            if args.reuse and folder.exists():
                model = load_model(folder, "cpu")
                wall, cpu = results.get(key, {}).get("train_s", float("nan")), results.get(key, {}).get("cpu_s", float("nan"))
            else:
                t0, c0 = time.perf_counter(), time.process_time()
                model = train_singan(image, cfg, out_dir=folder, seed=args.seed, device="cpu",
                                     progress=lambda p, run=key: _log_scale(run, p))
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            figures, samples = measure(model, args.samples)
            results[key] = {"train_s": wall, "cpu_s": cpu, "scales": model.num_scales,
                            "iters": cfg.iters, **figures}
            results[f"{photo_name}/{SOFT}"] = soft_reference(model.image)
            results_path.write_text(json.dumps(results, indent=1))
            rows.append((name, samples[:7]))
            print(f"{photo_name:18s} {name:10s} train {wall:6.0f} s (cpu {cpu:6.0f} s)  " +
                  "  ".join(f"{k} {v:.3f}" for k, v in figures.items()), flush=True)
        # one row per preset: the photo first (blank under it), then 7 samples
        blank = np.full_like(model.image, 255)
        cells, cell_labels = [], []
        for r, (name, row) in enumerate(rows):
            cells += [model.image if r == 0 else blank, *row]
            cell_labels += ["photo" if r == 0 else "", *[name] * len(row)]
        save_image(out / f"{photo_name}.png", make_grid(cells, cols=8, labels=cell_labels))
    print_table(results, args.presets, args.photos)


def print_table(results: dict, presets: list[str], photos: list[str]) -> None:
    cols = ["train_s", "cpu_s", "swd", "swd_layout", "swd_floor", "swd11", "feat", "classifier", "diversity", "near_copy",
            "copied_area", "copied_textured"]

    def complete(r: dict) -> bool:  # runs of older bench versions lack some columns
        return all(c in r for c in cols)

    print("\n| photo | preset | " + " | ".join(cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    for p in photos:
        if ref := results.get(f"{p}/{SOFT}"):
            print(f"| {p} | {SOFT} | " + " | ".join(f"{ref[c]:.3g}" if c in ref else "" for c in cols) + " |")
        for name in presets:
            r = results.get(f"{p}/{name}")
            if r and complete(r):
                print(f"| {p} | {name} | " + " | ".join(f"{r[c]:.3g}" if isinstance(r[c], float) else str(r[c])
                                                    for c in cols) + " |")
    for name in presets:
        rs = [r for p in photos if complete(r := results.get(f"{p}/{name}", {}))]
        if rs:
            med = {c: statistics.median(r[c] for r in rs) for c in cols}
            print(f"| **median** | {name} | " + " | ".join(f"{med[c]:.3g}" for c in cols) + " |")
    if refs := [results[f"{p}/{SOFT}"] for p in photos if f"{p}/{SOFT}" in results]:
        print(f"| **median** | {SOFT} | " + " | ".join(f"{statistics.median(r[c] for r in refs):.3g}" if c in refs[0] else ""
                                                for c in cols) + " |")


if __name__ == "__main__":
    main()
