"""Primitives-PS's claim at CPU scale: a StyleGAN2 base transferred to a 100-image set, from four starts
at equal steps (Baek & Shim, CVPR 2022, Table 3 in miniature).

Sets (32 px, offline): ``faces`` = the 100 face crops of ``skimage.data.lfw_subset()`` (25 px grey,
enlarged); ``cat`` = 100 random 96-px crops of ``skimage.data.chelsea()`` (CC0), shrunk to 32 px.
Starts: the Primitives-PS base, the sketch-shapes base (bundled), a base pretrained on uniform white
noise (``bench/transfer_bases.py``; the paper's weakest prior) and scratch (same network, random weights).
All runs: ``gan-transfer``'s recipe (all parameters, DiffAugment colour/translation/cutout, R1, EMA), one
thread, the same steps and seeds. Measures, none of which a loss here optimises:

- FD: random-CNN Fréchet distance of 500 samples to the set (``core.features.feature_distance``);
- KID×10³: unbiased kernel distance on per-image random-CNN embeddings (``kernel_distance``), mean over
  training seeds, ± their spread (max − min)/2, and the subset spread of one estimate;
- NN: median over samples of the RMSE (0–255) to the nearest training image, next to the training images'
  own leave-one-out median: far below it means copies (memorisation).

    OMP_NUM_THREADS=1 python bench/transfer.py --models /work/transfer_models --out /work/transfer_bench
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.features import feature_distance, kernel_distance  # noqa: E402
from core.images import save_image  # noqa: E402
from core.sketchgan.model import generate_images, load_model  # noqa: E402
from core.sketchgan.transfer import transfer, transfer_config  # noqa: E402

SIZE = 32
SAMPLES = list(range(10_000, 10_500))


def make_set(name: str, folder: Path) -> np.ndarray:
    """The 100 images of a set as N×32×32×3 uint8, written to ``folder`` as PNGs (once)."""
    import cv2
    import skimage.data

    if name == "faces":
        faces = skimage.data.lfw_subset()[:100]  # the first 100 are faces, the rest are not
        grey = [cv2.resize((f * 255).round().astype(np.uint8), (SIZE, SIZE), interpolation=cv2.INTER_CUBIC)
                for f in faces]
        images = np.stack([np.repeat(g[..., None], 3, 2) for g in grey])
    elif name == "cat":
        photo, rng = skimage.data.chelsea(), np.random.default_rng(0)
        h, w = photo.shape[:2]
        crops = []
        for _ in range(100):
            y, x = int(rng.integers(0, h - 96)), int(rng.integers(0, w - 96))
            crops.append(cv2.resize(photo[y : y + 96, x : x + 96], (SIZE, SIZE), interpolation=cv2.INTER_AREA))
        images = np.stack(crops)
    else:
        raise SystemExit(f"unknown set {name}")
    folder.mkdir(parents=True, exist_ok=True)
    for i, img in enumerate(images):
        if not (folder / f"{i:03d}.png").exists():
            save_image(folder / f"{i:03d}.png", img)
    return images


def starts(models: Path) -> dict[str, Path]:
    return {"primitives-ps": models / "pps_base.ganvas",
            "sketch-shapes": ROOT / "app" / "resources" / "sketchgan" / "sketch_base.ganvas",
            "noise": models / "noise_base.ganvas",
            "scratch": ROOT / "app" / "resources" / "sketchgan" / "sketch_base.ganvas"}


def train(set_name: str, start: str, base_path: Path, seed: int, iters: int, out: Path) -> dict:
    """One transfer run (skipped when its record says it finished); returns its record."""
    rec_path = out / "runs" / f"{set_name}-{start}-s{seed}.json"
    if rec_path.exists():
        rec = json.loads(rec_path.read_text())
        if rec["iters"] == iters:
            return rec
    base = load_model(base_path)
    cfg = transfer_config(base, iters=iters, seed=seed, device="cpu", autosave_every=max(100, iters // 4))
    c0, t0 = time.process_time(), time.perf_counter()
    transfer(base, out / "sets" / set_name, cfg, out_dir=out / "runs" / f"{set_name}-{start}-s{seed}.ganvas",
             scratch=start == "scratch", resume=False)  # a killed run starts again: its CPU time stays true
    rec = {"set": set_name, "start": start, "seed": seed, "iters": iters, "base_steps":
           load_model(base_path).manifest.get("training", {}).get("step"),
           "cpu_s": time.process_time() - c0, "wall_s": time.perf_counter() - t0}
    rec_path.write_text(json.dumps(rec))
    return rec


def nn_rmse(samples: np.ndarray, train_set: np.ndarray, leave_one_out: bool = False) -> float:
    a = samples.reshape(len(samples), -1).astype(np.float64)
    b = train_set.reshape(len(train_set), -1).astype(np.float64)
    d2 = (a**2).sum(1)[:, None] + (b**2).sum(1)[None] - 2 * a @ b.T
    if leave_one_out:
        np.fill_diagonal(d2, np.inf)
    return float(np.median(np.sqrt(np.clip(d2.min(1), 0, None) / a.shape[1])))


def seeds_done(set_name: str, start: str, out: Path) -> list[int]:
    recs = [json.loads(p.read_text()) for p in sorted((out / "runs").glob(f"{set_name}-{start}-s*.json"))]
    return [r["seed"] for r in recs]


def evaluate(set_name: str, start: str, images: np.ndarray, out: Path) -> dict:
    """The measures of every finished seed of a (set, start) cell."""
    fds, kids, spreads, nns = [], [], [], []
    for seed in seeds_done(set_name, start, out):
        model = load_model(out / "runs" / f"{set_name}-{start}-s{seed}.ganvas")
        samples = generate_images(model, SAMPLES)
        fds.append(feature_distance(samples, images))
        kid, spread = kernel_distance(samples, images)
        kids.append(kid * 1e3)
        spreads.append(spread * 1e3)
        nns.append(nn_rmse(samples, images))
    return {"fd": np.mean(fds), "fd_pm": (max(fds) - min(fds)) / 2, "kid": np.mean(kids),
            "kid_pm": (max(kids) - min(kids)) / 2, "kid_subsets": np.mean(spreads), "nn": np.mean(nns)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, default=Path("/work/transfer_models"),
                    help="folder with pps_base.ganvas and noise_base.ganvas")
    ap.add_argument("--out", type=Path, default=Path("/work/transfer_bench"))
    ap.add_argument("--iters", type=int, default=250)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--sets", nargs="+", default=["faces", "cat"])
    ap.add_argument("--starts", nargs="+", default=list(starts(Path("."))))
    ap.add_argument("--no-eval", action="store_true", help="train only (to run sets in parallel processes)")
    ap.add_argument("--eval-only", action="store_true", help="measure the runs already done")
    args = ap.parse_args()
    torch.set_num_threads(1)
    paths = starts(args.models)
    rows = []
    for set_name in args.sets:
        images = make_set(set_name, args.out / "sets" / set_name)
        for start in args.starts:
            if not args.eval_only:
                for s in args.seeds:
                    r = train(set_name, start, paths[start], s, args.iters, args.out)
                    print(f"{set_name} {start} seed {s}: {r['cpu_s']:.0f} CPU s, {r['wall_s']:.0f} wall s", flush=True)
            recs = [json.loads((args.out / "runs" / f"{set_name}-{start}-s{s}.json").read_text())
                    for s in seeds_done(set_name, start, args.out)]
            if recs and not args.no_eval:
                rows.append((set_name, start, recs, evaluate(set_name, start, images, args.out),
                             nn_rmse(images, images, leave_one_out=True)))
    if args.no_eval:
        return
    print(f"\n{args.iters} steps per run, {len(SAMPLES)} samples; torch {torch.__version__}, one thread\n")
    print("| set | start (base steps) | seeds | CPU s / run | FD | KID×10³ (± seeds; subsets) | NN RMSE (set LOO) | FD vs scratch |")
    print("|---|---|---|---|---|---|---|---|")
    for set_name, start, recs, m, loo in rows:
        scratch = next(r[3]["fd"] for r in rows if r[0] == set_name and r[1] == "scratch")
        base_steps = "" if start == "scratch" else f" ({recs[0]['base_steps']})"
        timed = [r["cpu_s"] for r in recs if r.get("cpu_s") is not None]  # None: an autosave copied mid-run
        cpu = f"{np.mean(timed):.0f}" if timed else "—"
        print(f"| {set_name} | {start}{base_steps} | {len(recs)} | {cpu} | {m['fd']:.3f} ± {m['fd_pm']:.3f} | "
              f"{m['kid']:.2f} ± {m['kid_pm']:.2f}; {m['kid_subsets']:.2f} | {m['nn']:.1f} ({loo:.1f}) | "
              f"{100 * (m['fd'] / scratch - 1):+.0f} % |")


if __name__ == "__main__":
    main()
