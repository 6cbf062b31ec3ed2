"""Patch-NN previews (core/patchnn) against a published-style exact GPNN, in the same run.

    python bench/patchnn.py [--threads 2] [--photos coffee,chelsea,astronaut,immunohistochemistry]
                            [--copy-n 20] [--full-reference]

1. Speed and memory on the first photo: median seconds per sample at 128, 250 and 500 px (longer side),
   each size in a fresh child process, with its peak resident memory (VmHWM; includes ~0.3 GB of torch
   itself, shown as "after imports"). The reference runs in children too: one whole sample at 128 px;
   at 250 px one iteration per level, times 10 (it runs 10 per level) as an estimate, unless
   ``--full-reference`` (≈ 5–10 min on 2 cores).
2. Copying and quality at default settings (diversity 1) on each photo at 128 and 250 px: near-copy
   rate, copied area, patch SWD and diversity (core/metrics.py); the reference's own samples at 128 px
   are scored the same way.

The reference is GPNN as the paper and its public code describe it, written plainly here: 7×7 patches,
pyramid ratio 4/3, coarsest side 14 px, noise σ 0.75 ([0, 1] units, one grey channel) at the coarsest
level, 10 iterations at every level, keys = the coarser level upsampled on a level's first iteration,
exact all-pairs distances (mean squared, float32 matmuls over blocks of 256 queries) with completeness
α = 0.005, and uniform voting by fold.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

__import__("core")  # before torch: OpenMP threads that wait passively (core/__init__.py)
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from core.images import fit_within, to_tensor, to_uint8  # noqa: E402
from core.metrics import copied_area, diversity, near_copy_rate, patch_swd  # noqa: E402
from core.patchnn import PatchNNConfig, PatchPyramid, PreviewSettings, generate_from  # noqa: E402


def load_photo(name: str, size: int) -> np.ndarray:
    from skimage import data

    img = getattr(data, name)()
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return fit_within(img, size)


# ---------------------------------------------------------------- the published-style reference

def _rsz(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)


def reference_sample(photo: np.ndarray, seed: int, *, iters: int = 10, level_times: list | None = None) -> np.ndarray:
    """One GPNN sample with exact search (see the module docstring). Images in [0, 1]."""
    r, p, alpha, sigma, coarse = 4.0 / 3.0, 7, 0.005, 0.75, 14
    x = (to_tensor(photo) + 1.0) / 2.0
    h, w = photo.shape[:2]
    depth = math.ceil(math.log(min(h, w) / coarse) / math.log(r))
    shapes = [(round(h / r ** (depth - n)), round(w / r ** (depth - n))) for n in range(depth + 1)]
    pyr = [_rsz(x, s) for s in shapes]
    g = torch.Generator().manual_seed(seed)
    y = pyr[0] + torch.randn(1, 1, *shapes[0], generator=g) * sigma
    for n, size in enumerate(shapes):
        t0 = time.perf_counter()
        values = F.unfold(pyr[n], p)[0].T.contiguous()  # N×147
        for it in range(iters):
            if n > 0 and it == 0:
                y = _rsz(y, size)
                keys_img = _rsz(pyr[n - 1], size)
            else:
                keys_img = pyr[n]
            keys = F.unfold(keys_img, p)[0].T.contiguous()
            q = F.unfold(y, p)[0].T.contiguous()
            d_scale = 1.0 / keys.shape[1]
            kk, qq = (keys * keys).sum(1), (q * q).sum(1)

            def dist(s: int, e: int, q=q, keys=keys, qq=qq, kk=kk, d_scale=d_scale) -> torch.Tensor:
                return (qq[s:e, None] + kk[None] - 2.0 * q[s:e] @ keys.T).clamp_(min=0) * d_scale

            kmin = torch.full((len(keys),), float("inf"))
            for s in range(0, len(q), 256):
                kmin = torch.minimum(kmin, dist(s, s + 256).amin(0))
            nn = torch.cat([(dist(s, s + 256) / (alpha + kmin)).argmin(1) for s in range(0, len(q), 256)])
            patches = values[nn].T[None]
            y = F.fold(patches, size, p) / F.fold(torch.ones_like(patches), size, p)
        if level_times is not None:
            level_times.append(time.perf_counter() - t0)
    return to_uint8(y * 2.0 - 1.0)[0]


# ---------------------------------------------------------------- child processes (speed, memory)

def _vm(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


def child(engine: str, name: str, size: int, repeats: int, threads: int, out: str | None) -> None:
    torch.set_num_threads(threads)
    photo = load_photo(name, size)
    base = _vm("VmRSS")
    times, images, est = [], [], None
    if engine == "ours":
        pyr = PatchPyramid(photo, PatchNNConfig(max_size=size))
        generate_from(pyr, PreviewSettings(seed=999))  # warm-up (first-call allocations)
        for i in range(repeats):
            t0 = time.perf_counter()
            images.append(generate_from(pyr, PreviewSettings(seed=i))[0])
            times.append(time.perf_counter() - t0)
    elif engine == "reference":
        for i in range(repeats):
            t0 = time.perf_counter()
            images.append(reference_sample(photo, i))
            times.append(time.perf_counter() - t0)
    else:  # reference, one iteration per level, scaled to its 10
        lt: list[float] = []
        t0 = time.perf_counter()
        reference_sample(photo, 0, iters=1, level_times=lt)
        times.append(time.perf_counter() - t0)
        est = 10.0 * sum(lt)
    if out:
        np.save(out, np.stack(images) if images else np.zeros((0,), np.uint8))
    print(json.dumps({"times": times, "estimate": est, "base": base, "peak": _vm("VmHWM"),
                      "shape": list(photo.shape)}))


def run_child(engine: str, name: str, size: int, repeats: int, threads: int, out: str | None = None) -> dict:
    cmd = [sys.executable, __file__, "--child", engine, name, str(size), str(repeats), str(threads)]
    if out:
        cmd.append(out)
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- main

def figure(names: list[str], out: Path) -> None:
    """Rows of [photo | 5 samples (seeds 0–4)] at 250 px, 4 px white gaps (the README's figure)."""
    from core.images import save_image

    rows = []
    for name in names:
        pyr = PatchPyramid(load_photo(name, 250), PatchNNConfig(max_size=250))
        tiles = [pyr.photo, *generate_from(pyr, PreviewSettings(seed=0), 5)]
        h = min(t.shape[0] for t in tiles)
        gap = np.full((h, 4, 3), 255, np.uint8)
        rows.append(np.concatenate([x for t in tiles for x in (t[:h], gap)][:-1], axis=1))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    save_image(out, np.concatenate(rows)[:-4])
    print(f"wrote {out}")


def copy_row(photo: np.ndarray, images: np.ndarray) -> tuple[float, float, float, float]:
    return (near_copy_rate(images, photo), copied_area(images, photo), patch_swd([photo], images),
            diversity(images, photo) if len(images) > 1 else float("nan"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--photos", default="coffee,astronaut,immunohistochemistry,coins,chelsea")
    ap.add_argument("--copy-n", type=int, default=10, help="samples per photo for the copy figures at 128 px")
    ap.add_argument("--copy-n-250", type=int, default=4, help="samples per photo at 250 px")
    ap.add_argument("--ref-n", type=int, default=2, help="whole reference samples at 128 px")
    ap.add_argument("--part", choices=["all", "speed", "copies"], default="all")
    ap.add_argument("--figure", metavar="PNG", help="only write a figure: per photo, the photo and 5 samples at 250 px")
    ap.add_argument("--full-reference", action="store_true", help="a whole reference sample at 250 px too")
    args = ap.parse_args()
    t_start = time.perf_counter()
    torch.set_num_threads(args.threads)
    names = args.photos.split(",")
    first = names[0]
    tmp = Path("/tmp/ganvas_bench_patchnn")
    tmp.mkdir(exist_ok=True)

    if args.figure:
        figure(names[:3], Path(args.figure))
        return
    print(f"torch {torch.__version__}, {args.threads} threads, photo {first}\n")
    if args.part in ("all", "speed"):
        speed_part(args, first, tmp)
    if args.part in ("all", "copies"):
        copies_part(args, names, first, tmp)
    print(f"\nbench took {time.perf_counter() - t_start:.0f} s")


def speed_part(args, first: str, tmp: Path) -> None:
    print("| engine | size | median s / sample | samples | peak RSS (MB) | after imports (MB) |")
    print("|---|---|---|---|---|---|")
    speed = {}
    for size, reps in ((128, 5), (250, 3), (500, 1)):
        r = run_child("ours", first, size, reps, args.threads)
        speed[("ours", size)] = statistics.median(r["times"])
        h, w = r["shape"][:2]
        print(f"| ours | {w}×{h} | {speed[('ours', size)]:.2f} | {reps} | {r['peak'] / 2**20:.0f} | "
              f"{r['base'] / 2**20:.0f} |", flush=True)
    ref128 = run_child("reference", first, 128, args.ref_n, args.threads, str(tmp / "ref128.npy"))
    speed[("ref", 128)] = statistics.median(ref128["times"])
    print(f"| exact reference | 128 | {speed[('ref', 128)]:.1f} | {args.ref_n} | {ref128['peak'] / 2**20:.0f} | "
          f"{ref128['base'] / 2**20:.0f} |", flush=True)
    if args.full_reference:
        r = run_child("reference", first, 250, 1, args.threads)
        speed[("ref", 250)] = r["times"][0]
        how = "1"
    else:
        r = run_child("reference-estimate", first, 250, 1, args.threads)
        speed[("ref", 250)] = r["estimate"]
        how = "1 (1 iteration/level ×10, estimate)"
    print(f"| exact reference | 250 | {speed[('ref', 250)]:.1f} | {how} | {r['peak'] / 2**20:.0f} | "
          f"{r['base'] / 2**20:.0f} |", flush=True)
    print()
    for size in (128, 250):
        print(f"speed ratio at {size} px: {speed[('ref', size)] / speed[('ours', size)]:.0f}× "
              f"({speed[('ref', size)]:.1f} s vs {speed[('ours', size)]:.2f} s)")



def copies_part(args, names: list[str], first: str, tmp: Path) -> None:
    print("\n| engine | photo | size | samples | near-copy rate ↓ | copied area ↓ | patch SWD ↓ | diversity |")
    print("|---|---|---|---|---|---|---|---|")
    for size, n in ((128, args.copy_n), (250, args.copy_n_250)):
        for name in names:
            pyr = PatchPyramid(load_photo(name, size), PatchNNConfig(max_size=size))
            images = generate_from(pyr, PreviewSettings(seed=1000), n)
            nc, ca, swd, dv = copy_row(pyr.photo, images)
            h, w = pyr.photo.shape[:2]
            print(f"| ours | {name} | {w}×{h} | {n} | {nc:.0%} | {ca:.1%} | {swd:.1f} | {dv:.2f} |", flush=True)
    if (tmp / "ref128.npy").exists():  # the reference's samples from the speed part
        ref_images = np.load(tmp / "ref128.npy")
        photo = load_photo(first, 128)
        nc, ca, swd, dv = copy_row(photo, ref_images)
        print(f"| exact reference | {first} | {photo.shape[1]}×{photo.shape[0]} | {len(ref_images)} | {nc:.0%} | "
              f"{ca:.1%} | {swd:.1f} | {dv:.2f} |")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]),
              sys.argv[7] if len(sys.argv) > 7 else None)
    else:
        main()
