"""SinGAN's applications measured on photos whose truth is known: harmonize, edit, super-resolution, paint.

    python bench/apps.py [--size 250] [--photos hubble_deep_field,immunohistochemistry,chelsea]
                         [--models /tmp/apps_models] [--adapt-iters 0,150] [--out DIR]

Photos are scikit-image's (``hubble_deep_field``: NASA, public domain; ``immunohistochemistry``:
CC0; ``chelsea``: CC0; ``brick``: CC0) — none is the README task figures' training photo (``rocket``). For each photo
the script trains, or loads from ``--models``, a ``fast`` model at ``--size`` and an SR model (``train
--task sr``) on the photo shrunk ×4, then builds the inputs a user would make and prints one table:

* harmonize — an ellipse cut from another photo pasted onto the photo; edit — an ellipse of the photo
  itself moved by a fifth of its side. Columns: patch SWD (×10³, 7×7 patches centred inside the mask,
  vs all of the photo's) of the result and of the naive input, their ratio (target ≤ 0.7 harmonize,
  ≤ 0.85 edit), the correlation of the result's image gradients with the naive input's inside the mask
  (structure kept, ≥ 0.5), and the mean absolute change beyond the blending mask's reach (×255, ≤ 4);
* sr — SinGAN ×4 and bicubic ×4 of the shrunk photo against the photo: PSNR and the random-CNN
  feature distance of :mod:`core.features` (target: SinGAN's ≤ 0.8× bicubic's, PSNR ≥ bicubic − 1 dB);
* paint — a painting of 5 flat colours with the photo's layout mirrored: the fraction of pixels whose
  colour region (nearest painting colour after a 2-px blur) is the painting's (≥ 0.7), and the patch
  SWD to the photo of the result vs the painting's own (must be lower).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from core.images import as_rgb, fit_within, palette_of, quantize_to_palette, save_image  # noqa: E402
from core.images import resize as resize_image  # noqa: E402
from core.singan import requests as R  # noqa: E402
from core.singan import task_inputs as TI  # noqa: E402
from core.singan.config import config_for_task, preset  # noqa: E402
from core.singan.model import load_model, save_model  # noqa: E402
from core.singan.train import train_singan  # noqa: E402

PHOTOS = ("hubble_deep_field", "immunohistochemistry", "chelsea")
#: where each photo's harmonization object comes from (another photo, so its colours are foreign)
DONOR = {"hubble_deep_field": "coffee", "immunohistochemistry": "chelsea", "chelsea": "hubble_deep_field",
         "brick": "coffee"}


def photo(name: str, size: int) -> np.ndarray:
    from skimage import data

    return fit_within(as_rgb(getattr(data, name)()), size)  # brick is grey: as_rgb repeats it


def model_for(image: np.ndarray, folder: Path, task: str = "random"):
    """The cached model in ``folder``, trained (fast preset, one thread) when missing."""
    if (folder / "manifest.json").exists():
        m = load_model(folder, "cpu")
        if m.num_trained == m.num_scales:
            return m
    cfg = config_for_task(preset("fast", max_size=max(image.shape[:2])), task)
    print(f"# training {folder.name} ({image.shape[1]}×{image.shape[0]}, {task})", flush=True)
    m = train_singan(image, cfg, out_dir=folder, resume=folder.exists(), device="cpu")
    save_model(m, folder)
    return m


# --------------------------------------------------------------------------- inputs a user would make

def ellipse_mask(h: int, w: int, cy: float, cx: float, ry: float, rx: float, angle: float = 20.0) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    cv2.ellipse(m, (round(cx * w), round(cy * h)), (round(rx * w), round(ry * h)), angle, 0, 360, 1, -1)
    return m.astype(np.float32)


def harmonize_input(img: np.ndarray, donor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An ellipse of ``donor`` (resized to the photo) pasted in the photo's middle-left."""
    h, w = img.shape[:2]
    mask = ellipse_mask(h, w, 0.55, 0.4, 0.16, 0.13)
    other = resize_image(donor, w, h)
    comp = np.where(mask[..., None] > 0.5, other, img)
    return comp, mask


def edit_input(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An ellipse of the photo moved by a fifth of its width (the region it came from is left as it was)."""
    h, w = img.shape[:2]
    src = ellipse_mask(h, w, 0.4, 0.35, 0.15, 0.12, angle=-30)
    dx = round(0.2 * w)
    moved = np.roll(img, dx, axis=1)
    mask = np.roll(src, dx, axis=1)
    return np.where(mask[..., None] > 0.5, moved, img), mask


def painting_of(img: np.ndarray, colours: int = 5) -> np.ndarray:
    """A clip-art of the photo mirrored: strongly smoothed, snapped to its ``colours`` main colours,
    small specks removed (what a user paints with the palette swatches)."""
    smooth = cv2.bilateralFilter(cv2.GaussianBlur(img[:, ::-1], (0, 0), 2.0), 9, 60, 9)
    flat = quantize_to_palette(smooth, palette_of(img, colours))
    return cv2.medianBlur(flat, 2 * (max(img.shape[:2]) // 60) + 1)


# --------------------------------------------------------------------------- measures

def masked_patch_swd(image: np.ndarray, mask: np.ndarray, ref: np.ndarray, *, size: int = 7,
                     directions: int = 256, seed: int = 0) -> float:
    """SWD (×10³) between the 7×7 patches of ``image`` centred inside ``mask`` and all of ``ref``'s, at
    full and half resolution (mean), patches normalised with both sets' statistics."""
    rng = np.random.default_rng(seed)
    out = []
    for level in range(2):
        a, m, b = image, mask, ref
        if level:
            a, b = cv2.pyrDown(a), cv2.pyrDown(b)
            m = cv2.resize(mask, (a.shape[1], a.shape[0]), interpolation=cv2.INTER_AREA)
        wa = np.lib.stride_tricks.sliding_window_view(a.astype(np.float32) / 255, (size, size), axis=(0, 1))
        wb = np.lib.stride_tricks.sliding_window_view(b.astype(np.float32) / 255, (size, size), axis=(0, 1))
        r = size // 2
        inside = m[r : r + wa.shape[0], r : r + wa.shape[1]] > 0.5
        pa, pb = wa[inside].reshape(int(inside.sum()), -1), wb.reshape(-1, wb[0, 0].size)
        if len(pa) < 16:
            continue
        both = np.concatenate([pa, pb])
        mean, std = both.mean(0), both.std(0) + 1e-8
        dirs = rng.standard_normal((pa.shape[1], directions)).astype(np.float32)
        dirs /= np.linalg.norm(dirs, axis=0, keepdims=True)
        qa = np.sort(((pa - mean) / std) @ dirs, axis=0)
        qb = np.sort(((pb - mean) / std) @ dirs, axis=0)
        q = np.linspace(0, 1, min(len(qa), len(qb)))
        qa = np.quantile(qa, q, axis=0) if len(qa) != len(q) else qa
        qb = np.quantile(qb, q, axis=0) if len(qb) != len(q) else qb
        out.append(float(np.abs(qa - qb).mean()) * 1e3)
    return float(np.mean(out))


def gradient_correlation(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    """Pearson correlation of the Sobel gradients (x and y, grey) of ``a`` and ``b`` inside ``mask``."""
    def grads(x):
        g = cv2.cvtColor(x, cv2.COLOR_RGB2GRAY).astype(np.float32)
        return cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1)

    inside = mask > 0.5
    va = np.concatenate([g[inside] for g in grads(a)])
    vb = np.concatenate([g[inside] for g in grads(b)])
    return float(np.corrcoef(va, vb)[0, 1])


def outside_change(result: np.ndarray, naive: np.ndarray, mask: np.ndarray, reach: float) -> float:
    """Mean absolute difference (0–255) to the input over pixels farther than ``reach`` px from the mask."""
    dist = cv2.distanceTransform((mask <= 0.5).astype(np.uint8), cv2.DIST_L2, 5)
    far = dist > reach
    return float(np.abs(result.astype(np.float32) - naive.astype(np.float32))[far].mean())


def region_agreement(result: np.ndarray, painting: np.ndarray) -> float:
    """Fraction of pixels whose nearest painting colour, after a 2-px blur of ``result``, is the painting's."""
    pal = np.unique(painting.reshape(-1, 3), axis=0).astype(np.float32)
    blurred = cv2.GaussianBlur(result, (0, 0), 2.0 * max(result.shape[:2]) / 250).astype(np.float32)

    def labels(x):
        return ((x[..., None, :] - pal) ** 2).sum(-1).argmin(-1)

    return float((labels(blurred) == labels(painting.astype(np.float32))).mean())


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean())
    return 10 * np.log10(255.0**2 / max(mse, 1e-10))


# --------------------------------------------------------------------------- the bench

def _ticker(every: float = 60.0):
    """A progress callback that prints a line to stderr at most every ``every`` seconds."""
    last = [time.perf_counter()]

    def tick(p) -> None:
        if time.perf_counter() - last[0] >= every:
            last[0] = time.perf_counter()
            print(f"  … {p.stage} {p.step}/{p.total}", file=sys.stderr, flush=True)

    return tick


def reach(side: int, dilate: float) -> float:
    """How far from the mask a result may differ from its input: dilation plus 3 σ of the feather."""
    r, sigma = TI.mask_radii((side, side), dilate, TI.FEATHER)
    return r + 3 * sigma + 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=250)
    ap.add_argument("--photos", default=",".join(PHOTOS))
    ap.add_argument("--models", default="/tmp/apps_models", help="folder the trained models are cached in")
    ap.add_argument("--adapt-iters", default="0", help="comma list: 0 = the model as trained; N = adapted first")
    ap.add_argument("--tasks", default="harmonize,edit,sr,paint")
    ap.add_argument("--scale", type=int, default=None, help="injection scale of harmonize and edit (default: the middle one)")
    ap.add_argument("--paint-scale", type=int, default=None, help="injection scale of paint (default: the middle one)")
    ap.add_argument("--out", default="", help="folder for every input and result (PNG), to look at")
    args = ap.parse_args()
    torch.set_num_threads(1)
    models, out = Path(args.models), Path(args.out) if args.out else None
    tasks = args.tasks.split(",")
    print(f"# bench/apps.py at {args.size} px, fast preset, CPU, torch threads 1 ({os.cpu_count()} cores, shared)")
    print(f"{'photo':22s} {'task':18s} {'result':>8s} {'naive':>8s} {'ratio':>6s} {'corr':>6s} {'out×255':>8s} "
          f"{'cpu s':>6s}")
    for name in args.photos.split(","):
        if "sr" in tasks:
            sr_report(name, photo(name, args.size), models, out)
        if not {"harmonize", "edit", "paint"} & set(tasks):
            continue
        model = model_for(photo(name, args.size), models / f"{name}_{args.size}.ganvas")
        img = model.image  # the photo as the model holds it (a cached model may have been made elsewhere)
        mid = args.scale or max(1, model.num_trained // 2)
        side = max(img.shape[:2])
        cases = {"harmonize": (*harmonize_input(img, photo(DONOR[name], args.size)), TI.HARMONIZE_DILATE),
                 "edit": (*edit_input(img), TI.EDIT_DILATE)}
        for task in [t for t in ("harmonize", "edit") if t in tasks]:
            naive, mask, dilate = cases[task]
            base = masked_patch_swd(naive, mask, img)
            for iters in [int(x) for x in args.adapt_iters.split(",")]:
                cls = R.HarmonizeRequest if task == "harmonize" else R.EditRequest
                req = cls(image=naive, mask=mask, scale=mid, adapt_iters=iters)
                t0 = time.process_time()
                res = req.run(model, progress=_ticker())
                cpu = time.process_time() - t0
                swd = masked_patch_swd(res, mask, img)
                print(f"{name:22s} {task + f' s{mid}' + (f' adapt {iters}' if iters else ''):18s} {swd:8.1f} {base:8.1f} "
                      f"{swd / base:6.2f} {gradient_correlation(res, naive, mask):6.2f} "
                      f"{outside_change(res, naive, mask, reach(side, dilate)):8.2f} {cpu:6.0f}", flush=True)
                if out:
                    save_image(out / f"{name}_{task}_s{mid}_{iters}.png", np.concatenate([img, naive, res], 1))
        if "paint" in tasks:
            painting = painting_of(img)
            t0 = time.process_time()
            req = R.PaintRequest(painting=painting, scale=args.paint_scale).resolved(model)
            res = req.run(model)
            cpu = time.process_time() - t0
            swd, own = masked_patch_swd(res, np.ones(res.shape[:2]), img), masked_patch_swd(painting, np.ones(res.shape[:2]), img)
            print(f"{name:22s} {f'paint s{req.scale}':18s} {swd:8.1f} {own:8.1f} {swd / own:6.2f} "
                  f"{region_agreement(res, painting):6.2f} {'':8s} {cpu:6.0f}", flush=True)
            if out:
                save_image(out / f"{name}_paint_s{req.scale}.png", np.concatenate([img, painting, res], 1))


def sr_report(name: str, img: np.ndarray, models: Path, out: Path | None) -> None:
    from core.features import paired_feature_distance

    h, w = img.shape[:2]
    low = resize_image(img, round(w / 4), round(h / 4))
    sr_model = model_for(low, models / f"{name}_{max(h, w)}_sr.ganvas", "sr")
    bic = cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)
    fb, pb = paired_feature_distance(bic, img), psnr(bic, img)
    panels = [img, bic]
    for label, consistent in (("sr ×4 plain loop", False), ("sr ×4", True)):
        t0 = time.process_time()
        res = R.SuperResolutionRequest(image=low, factor=4, consistent=consistent).run(sr_model)
        cpu = time.process_time() - t0
        res = res if res.shape[:2] == (h, w) else resize_image(res, w, h)
        fd = paired_feature_distance(res, img)
        print(f"{name:22s} {label + ' feature':18s} {fd:8.3f} {fb:8.3f} {fd / fb:6.2f} {'':6s} {'':8s} {cpu:6.1f}")
        print(f"{name:22s} {label + ' PSNR':18s} {psnr(res, img):8.2f} {pb:8.2f} {psnr(res, img) - pb:+6.2f}",
              flush=True)
        panels.append(res)
    if out:
        save_image(out / f"{name}_sr.png", np.concatenate(panels, 1))


if __name__ == "__main__":
    main()
