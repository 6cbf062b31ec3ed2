"""CPU thread settings for training, on an idle machine and beside other work.

    python bench/threads.py [--seconds 5] [--size 86]

Each candidate runs in a fresh process (OpenMP reads its environment once, when it loads) and
trains the fast preset's generator and critic on one scale of scikit-image's rocket (86×57 by
default, 32 channels) for ``--seconds`` after a warm-up; the table gives iterations per second.
Conditions: idle (whatever else the machine runs; the load average is printed), one busy core
and every core busy (``while True`` processes, pinned nowhere, started before the candidate).

Candidates: torch's default (one thread per core, OpenMP threads spin while they wait), one
thread, and ``core.device.ThreadPolicy`` both ways: with spinning threads (torch loaded before
``core``) it uses one thread per core free of other work, re-checked while training; with passive
waiting (``core`` sets ``OMP_WAIT_POLICY=PASSIVE`` before torch loads: the studio and the CLI) one
per core. Takes about 2 minutes on an idle 2-core machine (more on a busy one).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PASSIVE = {"OMP_WAIT_POLICY": "PASSIVE", "KMP_BLOCKTIME": "0"}
CANDIDATES = {
    # name: (environment, threads; 0 = every core, "auto" = core.device.ThreadPolicy)
    "torch default: 1 per core, spinning": ({}, 0),
    "1 thread, spinning": ({}, 1),
    "spinning, 1 per free core (policy if torch loads first)": ({}, "auto"),
    "passive, 1 per core (the policy)": (PASSIVE, "auto"),
}


def _hog() -> None:
    while True:
        pass


def worker(threads: str, seconds: float, size: int) -> None:
    """Child process: train one scale and print JSON {its, threads} (threads: the last count set)."""
    sys.path.insert(0, str(ROOT))
    import cv2
    import torch
    from skimage import data

    import core
    from core.device import ThreadPolicy

    assert core.OPENMP_PASSIVE == (os.environ.get("OMP_WAIT_POLICY") == "PASSIVE")  # torch was loaded first
    from core.jobs import Cancelled, CancelToken
    from core.singan.config import preset
    from core.singan.train import train_singan

    img = data.rocket()
    h, w = img.shape[:2]
    s = size / max(h, w)
    img = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    policy = None
    if threads == "auto":
        policy = ThreadPolicy(interval_s=2.0)
        policy.apply()
    elif int(threads) > 0:
        torch.set_num_threads(int(threads))
    cfg = preset("fast", max_size=size, min_size=min(img.shape[:2]), iters=1_000_000)
    cancel = CancelToken()
    marks: list[tuple[float, int]] = []
    warm = 1.5
    t0 = time.perf_counter()

    def progress(p) -> None:
        now = time.perf_counter()
        if now - t0 >= warm:
            marks.append((now, p.step))
        # (at least two reports: a collapsed setting may take seconds per iteration; give up at 5×)
        enough = len(marks) >= 2 and marks[-1][1] > marks[0][1]
        if now - t0 >= warm + seconds and enough or now - t0 >= warm + 5 * seconds:
            cancel.set()

    try:
        train_singan(img, cfg, progress=policy.wrap_progress(progress) if policy else progress, cancel=cancel)
    except Cancelled:
        pass
    (ta, sa), (tb, sb) = (marks[0], marks[-1]) if marks else ((0.0, 0), (0.0, 0))
    its = (sb - sa) / (tb - ta) if tb > ta and sb > sa else 1.0 / (5 * seconds)  # (then: at most this)
    print(json.dumps({"its": its, "threads": torch.get_num_threads()}))


def run_candidate(env_extra: dict, threads, seconds: float, size: int) -> tuple[float, int]:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "KMP_BLOCKTIME", "OMP_NUM_THREADS")}
    env.update(env_extra)
    out = subprocess.run([sys.executable, __file__, "--worker", str(threads), "--seconds", str(seconds),
                          "--size", str(size)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    return r["its"], r["threads"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="timed training per measurement")
    ap.add_argument("--size", type=int, default=86, help="longer side of the trained scale")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker is not None:
        worker(args.worker, args.seconds, args.size)
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"# {cores} cores, load average {os.getloadavg()[0]:.2f} at start; {args.size}-px scale, fast preset, "
          f"{args.seconds:.0f} s per cell; it/s (threads used)")
    conditions = [("idle", 0), ("1 busy core", 1), (f"{cores} busy cores", cores)]
    results: dict[str, list[str]] = {name: [] for name in CANDIDATES}
    loads = []
    for _label, hogs in conditions:
        loads.append(os.getloadavg()[0])
        procs = [mp.Process(target=_hog, daemon=True) for _ in range(hogs)]
        for p in procs:
            p.start()
        try:
            time.sleep(0.5 if hogs else 0.0)
            for name, (env, threads) in CANDIDATES.items():
                its, used = run_candidate(env, threads, args.seconds, args.size)
                results[name].append(f"{its:.2f} ({used})")
        finally:
            for p in procs:
                p.terminate()
                p.join()
    print("| setting | " + " | ".join(f"{c} (load {lo:.1f} before)" for (c, _), lo in zip(conditions, loads)) + " |")
    print("|---|" + "---|" * len(conditions))
    for name, cells in results.items():
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
