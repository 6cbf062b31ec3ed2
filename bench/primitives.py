"""Primitives throughput: images/s per preset and size, generation alone and generation + PNG export,
one worker and two, against a plain one-image-at-a-time numpy + OpenCV version run in the same process.

    python bench/primitives.py            # 64, 128, 256, 512 px, every preset (~2–4 min)
    python bench/primitives.py --quick    # 128 and 256 px, fewer images (~40 s)
    python bench/primitives.py --quick --dir /dev/shm   # write to a RAM disk: the CPU side alone

The last table exports whole sets as ``python main.py primitives`` does (2 workers; sets of 2 000
images or more go to worker processes, smaller ones to threads), which is what the issue's
500 / 150 images/s targets are about: 4 000 images at 128 px, 1 000 at 256 px, start-up included.

Medians of ``--repeats`` runs. The machine's cores may be shared with other work: timings are noisy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from _plain_primitives import plain_png, plain_primitives_ps  # noqa: E402

from core.primitives import PRESETS, export_set, generate_batch, preset  # noqa: E402

OUT_DIR: str | None = None  # where the benchmark writes its sets (--dir); None = the system's temp folder


def _median_rate(fn, n: int, repeats: int, cpu: list | None = None) -> float:
    """Median images/s over ``repeats`` runs (wall clock); appends CPU ms/image (this process) to ``cpu``."""
    rates, cpus = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        rates.append(n / (time.perf_counter() - t))
        cpus.append((time.process_time() - c) / n * 1000)
    if cpu is not None:
        cpu.append(statistics.median(cpus))
    return statistics.median(rates)


def bench_generate(name: str, size: int, n: int, repeats: int) -> float:
    cfg = preset(name)
    generate_batch(cfg, 0, 0, 2, size, size)  # warm caches
    return _median_rate(lambda: generate_batch(cfg, 1, 0, n, size, size), n, repeats)


def bench_export(
    name: str, size: int, n: int, repeats: int, workers: int, pool: str = "thread", cpu: list | None = None
) -> float:
    def run():
        d = tempfile.mkdtemp(prefix="ganvas-bench-", dir=OUT_DIR)
        try:
            export_set(Path(d) / "set", name, n, size, seed=1, fmt="png", workers=workers, pool=pool)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    return _median_rate(run, n, repeats, cpu)


def bench_set(size: int, n: int, pool: str, repeats: int) -> float:
    """Median images/s of a whole-set PNG export, worker start-up included."""

    def run():
        d = tempfile.mkdtemp(prefix="ganvas-bench-", dir=OUT_DIR)
        try:
            export_set(Path(d) / "set", "primitives-ps", n, size, seed=1, fmt="png", workers=2, pool=pool)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    return _median_rate(run, n, repeats)


def bench_plain(size: int, n: int, repeats: int, png: bool, cpu: list | None = None) -> float:
    def run():
        d = tempfile.mkdtemp(prefix="ganvas-bench-", dir=OUT_DIR)
        try:
            rng = np.random.default_rng(0)
            for i in range(n):
                img = plain_primitives_ps(rng, size, size)
                if png:
                    plain_png(os.path.join(d, f"{i:06d}.png"), img)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    return _median_rate(run, n, repeats, cpu)


def bench_loader(size: int, batches: int, batch_size: int, workers: int) -> float:
    import torch

    from core.primitives import PrimitivesDataset, make_loader

    torch.set_num_threads(1)
    ds = PrimitivesDataset("primitives-ps", length=batch_size * (batches + 4), size=size, seed=0)
    loader = make_loader(ds, batch_size=batch_size, workers=workers, shuffle=True)
    it = iter(loader)
    next(it)  # start the workers
    t = time.perf_counter()
    count = 0
    for _ in range(batches):
        count += next(it).shape[0]
    rate = count / (time.perf_counter() - t)
    del it, loader
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="128 and 256 px only, fewer images")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--presets", nargs="*", default=list(PRESETS))
    ap.add_argument(
        "--pool", choices=("thread", "process"), default="thread", help="kind of the 2 export workers"
    )
    ap.add_argument("--dir", default=None, help="folder to write the sets in (e.g. /dev/shm: a RAM disk)")
    args = ap.parse_args()
    global OUT_DIR
    OUT_DIR = args.dir
    cv2.setNumThreads(1)
    sizes = [128, 256] if args.quick else [64, 128, 256, 512]
    per_size = {64: 400, 128: 240, 256: 80, 512: 20}
    if args.quick:
        per_size = {128: 120, 256: 40}
    repeats = 1 if args.quick and args.repeats == 3 else args.repeats
    print(f"cpu cores visible: {os.cpu_count()}  load average: {os.getloadavg()[0]:.1f}  repeats: {repeats}  "
          f"sets written to: {OUT_DIR or tempfile.gettempdir()}")
    print(
        "images/s (median, wall clock). gen = generation only, 1 thread; +png = generation + PNG files, 1 worker "
        f"or 2 {args.pool} workers;\ncpu ms = CPU time per image of the 1-worker export (load-independent); "
        "plain = one-image-at-a-time numpy/OpenCV Primitives-PS, same run;\n"
        "x plain = plain cpu ms / ours (per-core speed-up, load-independent)\n"
    )
    head = (
        f"{'preset':<15}{'size':>5}{'gen':>8}{'+png 1w':>9}{'cpu ms':>8}{'+png 2w':>9}"
        f"{'plain+png':>10}{'plain ms':>9}{'x plain':>8}"
    )
    print(head)
    print("-" * len(head))
    for size in sizes:
        n = per_size[size]
        for name in args.presets:
            m = max(4, n // 8) if name == "dead-leaves" else n
            g = bench_generate(name, size, m, repeats)
            cpu: list = []
            e1 = bench_export(name, size, m, repeats, 1, cpu=cpu)
            e2 = bench_export(name, size, m, repeats, 2, args.pool)
            extra = ""
            if name == "primitives-ps":
                pcpu: list = []
                plain = bench_plain(size, max(4, n // 3), repeats, png=True, cpu=pcpu)
                extra = f"{plain:>10.0f}{pcpu[0]:>9.2f}{pcpu[0] / cpu[0]:>7.1f}x"
            print(f"{name:<15}{size:>5}{g:>8.0f}{e1:>9.0f}{cpu[0]:>8.2f}{e2:>9.0f}{extra}", flush=True)
    print("\nWhole-set export, primitives-ps PNG, 2 workers (images/s, start-up included)")
    print(f"{'size':>5}{'images':>8}{'processes':>11}{'threads':>9}")
    for size, n in ((128, 4000), (256, 1000)):
        proc, thr = bench_set(size, n, "process", repeats), bench_set(size, n, "thread", repeats)
        print(f"{size:>5}{n:>8}{proc:>11.0f}{thr:>9.0f}", flush=True)
    print()
    for size in (128, 256):
        batches = 10 if args.quick else 20
        rate = bench_loader(size, batches, 32, 2)
        print(f"DataLoader primitives-ps {size}px, batch 32, 2 workers: {rate:.0f} images/s")


if __name__ == "__main__":
    main()
