"""Harmonization with ConSinGAN's fine-tuning: time per iteration and what it does to the pasted object.

    python bench/harmonize_finetune.py MODEL.ganvas [--iters 2000] [--scale N] [--threads 2] [--figure out.png]

Pastes docs/applications.md's cut-out (a disc of scikit-image's Chelsea the cat) into the model's training
image, fine-tunes for ``--iters`` iterations (ConSinGAN's default 2000; a few are enough for the
time per iteration) and prints one table: seconds per iteration (wall, and CPU over all threads,
which a busy machine inflates less), the projected time for 2000, and
the patch SWD (×10³, 7×7 patches, lower = closer) between the pasted region (its bounding box plus
a margin) and the training image for the naive paste, plain harmonization and the fine-tuned one.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from core.compositing import composite_object  # noqa: E402
from core.images import save_image  # noqa: E402
from core.metrics import patch_swd  # noqa: E402
from core.singan import adapt as A
from core.singan import tasks as T  # noqa: E402
from core.singan.model import load_model  # noqa: E402


def cutout(size: int) -> np.ndarray:
    """RGBA: a disc of Chelsea the cat's face, as in docs/applications.md's harmonization figure."""
    from skimage import data

    cat = cv2.resize(data.chelsea()[40:260, 80:300], (size, size), interpolation=cv2.INTER_AREA)
    alpha = np.zeros((size, size), np.uint8)
    cv2.circle(alpha, (size // 2, size // 2), size // 2 - 1, 255, -1, cv2.LINE_AA)
    return np.dstack([cat, alpha])


def swd_inside(image: np.ndarray, mask: np.ndarray, training: np.ndarray) -> float:
    ys, xs = np.nonzero(mask > 0.5)
    m = max(3, (ys.max() - ys.min()) // 4)
    box = image[max(0, ys.min() - m) : ys.max() + m + 1, max(0, xs.min() - m) : xs.max() + m + 1]
    return patch_swd([box], [training], levels=2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path)
    ap.add_argument("--iters", type=int, default=A.FINETUNE_ITERS)
    ap.add_argument("--scale", type=int, default=None, help="injection scale (default: the middle one)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--figure", type=Path, default=None, help="save naive | harmonized | fine-tuned side by side")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model(args.model, "cpu")
    img = model.image
    h, w = img.shape[:2]
    scale = args.scale or max(1, model.num_trained // 2)
    s = max(12, round(0.2 * min(h, w)))
    comp, mask = composite_object(img, cutout(s), x=int(w * 0.3), y=int(h * 0.12))
    plain = T.harmonize(model, comp, mask, scale=scale)
    ticks: list[float] = []
    t0, c0 = time.perf_counter(), time.process_time()
    tuned = A.finetune_on(model, comp, scale=scale, iters=args.iters,
                          progress=lambda p: ticks.append(time.perf_counter()))
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    out = T.harmonize(tuned, comp, mask, scale=scale)
    per_iter = seconds / args.iters
    cfg = model.config
    print(f"# {args.model.name}: {cfg.preset} preset, {w}×{h}, {model.num_trained} scales; injection scale {scale}; "
          f"fine-tuning {min(cfg.train_depth, model.num_trained)} scales together, critic "
          f"{'trained' if model.critic else 'fresh'}; {args.iters} iterations; torch threads {torch.get_num_threads()}")
    print(f"{'':34s} {'value':>10s}")
    print(f"{'seconds per fine-tuning iteration':34s} {per_iter:10.2f}")
    print(f"{'  CPU seconds (all threads)':34s} {cpu / args.iters:10.2f}")
    print(f"{'projected for 2000 (min)':34s} {per_iter * 2000 / 60:10.1f}")
    for name, x in (("patch SWD inside: naive paste", comp), ("  harmonized", plain), (f"  fine-tuned {args.iters}, harmonized", out)):
        print(f"{name:34s} {swd_inside(x, mask, img):10.1f}")
    if args.figure is not None:
        save_image(args.figure, np.hstack([comp, plain, out]))


if __name__ == "__main__":
    main()
