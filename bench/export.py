"""Exports at ×4 (core/upscale.py: bicubic + back-projection) against bicubic and SinGAN's SR passes.

    python bench/export.py [--photos hubble_deep_field,rocket,chelsea,brick] [--threads 1]
                           [--model app/resources/samples/hubble_deep_field.ganvas:hubble_deep_field]
                           [--samples 4] [--figure resources/readme/export_crops.png]

A. Where the truth is known: each photo at up to 1000 px (its longer side; cropped to a multiple of 4) is
   the truth; it is shrunk ×4 (area filter, as a model's photo is made) and enlarged ×4 again. The
   export path sees only the small photo. Printed:
   PSNR (dB) and the paired random-CNN feature distance (core/features.py; lower is closer) of bicubic
   and of the export, and the export's CPU seconds.
B. Random samples of a trained model (``--model FOLDER:PHOTO``, repeatable), enlarged ×4 by bicubic, by
   the export and by SinGAN's SR passes of the finest
   generator (core.singan.tasks.super_resolve); patch SWD (core/metrics.py, ×10³) of each set against
   the full-size photo at the export's size (the skimage original shrunk to it; never enlarged).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

__import__("core")  # before torch: OpenMP threads that wait passively (core/__init__.py)
import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from core.features import paired_feature_distance  # noqa: E402
from core.images import fit_within, save_image  # noqa: E402
from core.metrics import patch_swd  # noqa: E402
from core.upscale import scale_up  # noqa: E402


def load_photo(name: str) -> np.ndarray:
    from skimage import data

    img = getattr(data, name)()
    return np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img[..., :3]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0**2 / np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)))


def bicubic(img: np.ndarray, factor: int) -> np.ndarray:
    return cv2.resize(img, (img.shape[1] * factor, img.shape[0] * factor), interpolation=cv2.INTER_CUBIC)


def timed(fn, *args, **kwargs):
    c, w = time.process_time(), time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.process_time() - c, time.perf_counter() - w


def part_a(names: list[str], crops: list) -> None:
    print("| photo | small → truth | bicubic PSNR | export PSNR | bicubic feat. dist. | export feat. dist. | "
          "export CPU s | wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for name in names:
        truth = fit_within(load_photo(name), 1000)
        truth = truth[: truth.shape[0] // 4 * 4, : truth.shape[1] // 4 * 4]
        h, w = truth.shape[:2]
        small = cv2.resize(truth, (w // 4, h // 4), interpolation=cv2.INTER_AREA)
        bic = bicubic(small, 4)
        ours, cpu, wall = timed(scale_up, small, 4)
        print(f"| {name} | {w // 4}×{h // 4} → {w}×{h} | {psnr(bic, truth):.2f} | {psnr(ours, truth):.2f} | "
              f"{paired_feature_distance(bic, truth):.4f} | {paired_feature_distance(ours, truth):.4f} | "
              f"{cpu:.1f} | {wall:.1f} |", flush=True)
        crops.append((name, truth, bic, ours))


def part_b(models: list[str], n: int) -> None:
    from core.singan.generate import SampleSettings, sample
    from core.singan.model import load_model
    from core.singan.tasks import super_resolve

    print("\n| model | photo at | samples | bicubic SWD | export SWD | SinGAN SR SWD | export vs bicubic | "
          "export CPU s / sample |")
    print("|---|---|---|---|---|---|---|---|")
    for spec in models:
        folder, _, name = spec.partition(":")
        model = load_model(folder, "cpu")
        samples = sample(model, SampleSettings(seed=1000), n)
        h, w = samples.shape[1] * 4, samples.shape[2] * 4
        full = fit_within(load_photo(name), max(h, w))
        sets = {"bicubic": [bicubic(s, 4) for s in samples]}
        c = time.process_time()
        sets["export"] = [scale_up(s, 4) for s in samples]
        cpu = (time.process_time() - c) / n
        sets["sr"] = [super_resolve(model, s, factor=4) for s in samples]
        fh, fw = full.shape[:2]
        if (fh, fw) != (h, w):  # the original is smaller than the export: compare at its size
            sets = {k: [cv2.resize(x, (fw, fh), interpolation=cv2.INTER_AREA) for x in v] for k, v in sets.items()}
        swd = {k: patch_swd(v, [full]) for k, v in sets.items()}
        print(f"| {Path(folder).name} ({model.image.shape[1]}×{model.image.shape[0]}) | {fw}×{fh} | {n} | "
              f"{swd['bicubic']:.1f} | {swd['export']:.1f} | {swd['sr']:.1f} | "
              f"{swd['export'] / swd['bicubic'] - 1:+.0%} | {cpu:.1f} |", flush=True)


def figure(crops: list, out: Path, side: int = 160) -> None:
    """Per photo: truth | bicubic | export, a ``side``-px crop from the centre, 4 px white gaps."""
    rows = []
    for _name, *images in crops:
        h, w = images[0].shape[:2]
        y, x = (h - side) // 2, (w - side) // 2
        tiles = [im[y:y + side, x:x + side] for im in images]
        gap = np.full((side, 4, 3), 255, np.uint8)
        rows.append(np.concatenate([tiles[0], gap, tiles[1], gap, tiles[2]], axis=1))
        rows.append(np.full((4, rows[-1].shape[1], 3), 255, np.uint8))
    save_image(out, np.concatenate(rows[:-1]))
    print(f"\nwrote {out} (per row: truth | bicubic | export)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", default="hubble_deep_field,rocket,chelsea,brick")
    ap.add_argument("--model", action="append", default=[], metavar="FOLDER:PHOTO",
                    help="a trained model and the skimage photo it was trained on (part B; repeatable)")
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--figure", metavar="PNG", help="write centre crops of part A: truth | bicubic | export")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s)\n")
    crops: list = []
    part_a(args.photos.split(","), crops)
    if args.model:
        part_b(args.model, args.samples)
    if args.figure:
        figure(crops, Path(args.figure))


if __name__ == "__main__":
    main()
