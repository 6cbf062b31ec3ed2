"""Spectrum engine timings: ``python bench/spectrum.py [--quick]``.

Prints medians and the ratios to a bare float32 real FFT of the same size measured in the same run:
OpenCV's ``cv2.dft`` (the FFT the engine uses) and ``numpy.fft.rfft2``; torch's is shown too. Targets from the issue:
1024×1024 RGB → spectrum + radial profile + fit under 20 ms; 64 images of 256 px → mean radial
spectrum under 0.5 s. On a shared machine the numbers are noisy: look at the ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from core import spectrum as sp  # noqa: E402


def median_ms(fn, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def test_image(h: int, w: int, seed: int) -> np.ndarray:
    """A uint8 RGB image with a natural 1/f spectrum (content does not change the timings)."""
    planes = [sp.synth_power_law_noise(h, w, 1.0, seed=seed * 3 + c) for c in range(3)]
    return np.clip(np.stack(planes, 2) * 40 + 128, 0, 255).astype(np.uint8)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    args = ap.parse_args()
    reps = 7 if args.quick else 31
    set_reps = 3 if args.quick else 7

    big = test_image(1024, 1024, 0)
    plane = np.random.default_rng(0).random((1024, 1024), dtype=np.float32)
    tplane = torch.from_numpy(plane)
    small = [test_image(256, 256, i) for i in range(64)]
    small_planes = [np.random.default_rng(i).random((256, 256), dtype=np.float32) for i in range(64)]

    rows = []
    cv_big = median_ms(lambda: cv2.dft(plane), reps)
    np_big = median_ms(lambda: np.fft.rfft2(plane), reps)
    rows.append(("cv2.dft float32 1024² (engine's FFT)", cv_big, cv_big, np_big, ""))
    rows.append(("numpy rfft2 float32 1024²", np_big, cv_big, np_big, ""))
    rows.append(
        ("torch rfft2 float32 1024²", median_ms(lambda: torch.fft.rfft2(tplane), reps), cv_big, np_big, "")
    )
    for name, fn, target in (
        ("log_spectrum 1024² RGB (luma, Hann)", lambda: sp.log_spectrum(big), ""),
        ("radial_profile 1024² RGB", lambda: sp.radial_profile(big), ""),
        ("analyze 1024² RGB: spectrum+profile+fit", lambda: sp.analyze(big), "< 20 ms"),
        ("analyze 1024² RGB, residual", lambda: sp.analyze(big, residual=True), ""),
    ):
        rows.append((name, median_ms(fn, reps), cv_big, np_big, target))

    cv_set = median_ms(lambda: [cv2.dft(p) for p in small_planes], set_reps)
    np_set = median_ms(lambda: [np.fft.rfft2(p) for p in small_planes], set_reps)
    rows.append(("64 × cv2.dft float32 256²", cv_set, cv_set, np_set, ""))
    rows.append(("64 × numpy rfft2 float32 256²", np_set, cv_set, np_set, ""))
    fp = sp.residual_spectrum(small)
    for name, fn, target in (
        ("mean_profile 64 × 256² RGB", lambda: sp.mean_profile(small), "< 500 ms"),
        ("residual_spectrum 64 × 256² RGB", lambda: sp.residual_spectrum(small), ""),
        ("find_peaks on the 256² fingerprint", lambda: sp.find_peaks(fp), ""),
    ):
        rows.append((name, median_ms(fn, set_reps), cv_set, np_set, target))

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, numpy {np.__version__}, "
        f"{os.cpu_count()} CPUs; median of {reps} (single) / {set_reps} (sets) runs"
    )
    print(f"{'case':<44} {'median ms':>10} {'× cv2.dft':>10} {'× np.rfft2':>11}  target")
    for name, ms, base_cv, base_np, target in rows:
        print(f"{name:<44} {ms:10.2f} {ms / base_cv:10.2f} {ms / base_np:11.2f}  {target}")


if __name__ == "__main__":
    main()
