"""``python main.py spectrum IMAGES... [--vs IMAGES...] [--residual] [--csv FILE] [--plot FILE]``.

Prints the power-law exponent alpha (Fourier amplitude ~ 1/f^alpha) of every image and of the
set; with ``--vs``, the spectral distance between the two sets; with ``--residual``, the spikes
of the high-pass residual spectrum (generator fingerprints).
"""

from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

import numpy as np

from core import spectrum as sp
from core.files import atomic_write
from core.images import IMAGE_SUFFIXES, list_images, load_image, save_image
from core.jobs import check_cancel


def register(sub) -> None:
    p = sub.add_parser(
        "spectrum",
        help="power spectra: alpha per image, set mean, spectral distance, fingerprints",
        description=(
            "Radial power spectra of images. alpha is the amplitude exponent: Fourier amplitude ~ 1/f^alpha "
            "(power ~ 1/f^(2 alpha)); natural photos give about 0.8-1.5. Frequencies are in cycles/pixel."
        ),
    )
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files or folders of images")
    p.add_argument("--vs", nargs="+", metavar="IMAGE", help="a second set: also print the spectral distance")
    p.add_argument(
        "--residual",
        action="store_true",
        help="analyse the high-pass residual (image - 3x3 median) and list spectral spikes",
    )
    p.add_argument("--csv", metavar="FILE", help="write the radial profiles (common frequency axis) as CSV")
    p.add_argument("--plot", metavar="FILE", help="write a PNG plot of the profiles (and fingerprints)")
    p.add_argument("--channel", default="luma", choices=sp.CHANNELS, help="which channel (default: luma)")
    p.add_argument("--no-window", action="store_true", help="no Hann window (edges leak into the spectrum)")
    p.add_argument(
        "--band",
        nargs=2,
        type=float,
        metavar=("LO", "HI"),
        default=list(sp.DEFAULT_BAND),
        help=f"fit band in cycles/px (default: {sp.DEFAULT_BAND[0]} {sp.DEFAULT_BAND[1]})",
    )
    p.set_defaults(func=run_spectrum)


def _expand(items: list[str]) -> list[Path]:
    paths: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = list_images(path)
            if not found:
                raise sp.SpectrumError(f"The folder '{path}' holds no images ({', '.join(IMAGE_SUFFIXES)}).")
            paths.extend(found)
        else:
            paths.append(path)
    return paths


def _load(paths: list[Path], cancel) -> list[np.ndarray]:
    images = []
    for path in paths:
        check_cancel(cancel)
        rgb = load_image(path)
        if min(rgb.shape[:2]) < sp.MIN_SIDE:  # checked here, where the file is known (the analysis sees arrays)
            raise sp.SpectrumError(f"'{path}' is {rgb.shape[1]}×{rgb.shape[0]} pixels; spectrum analysis needs "
                                   f"at least {sp.MIN_SIDE}×{sp.MIN_SIDE}.")
        images.append(rgb)
    return images


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_") or "image"


def _report_set(label: str, paths: list[Path], images: list[np.ndarray], args, kw) -> list[sp.PowerLawFit]:
    band = tuple(args.band)
    width = max(24, min(48, max(len(p.name) for p in paths)))
    print(f"set {label}: {len(images)} image(s){' (high-pass residual)' if args.residual else ''}")
    print(f"  {'image':<{width}} {'size':>11} {'alpha':>6} {'R^2':>6}")
    fits = []
    for path, image in zip(paths, images):
        a = sp.analyze(image, band=band, **kw)
        fits.append(a.fit)
        size = f"{image.shape[1]}x{image.shape[0]}"
        print(f"  {path.name[:width]:<{width}} {size:>11} {a.fit.alpha_amplitude:6.3f} {a.fit.r2:6.3f}")
    return fits


def run_spectrum(args: argparse.Namespace, *, progress=None, cancel=None) -> None:
    kw = dict(window=not args.no_window, channel=args.channel, residual=args.residual)
    band = tuple(args.band)
    sets = [("A", _expand(args.images))]
    if args.vs:
        sets.append(("B", _expand(args.vs)))
    loaded = [(label, paths, _load(paths, cancel)) for label, paths in sets]
    all_images = [im for _, _, ims in loaded for im in ims]
    n_bins = min(max(im.shape[:2]) for im in all_images) // 2

    results = []
    for label, paths, images in loaded:
        fits = _report_set(label, paths, images, args, kw)
        profile = sp.mean_profile(images, n_bins=n_bins, progress=progress, cancel=cancel, **kw)
        mean_fit = sp.fit_power_law(profile, band)
        alphas = np.array([f.alpha_amplitude for f in fits])
        print(
            f"  mean alpha {alphas.mean():.3f} ± {alphas.std():.3f} over {len(alphas)} image(s); "
            f"alpha of the mean spectrum {mean_fit.alpha_amplitude:.3f} (R^2 {mean_fit.r2:.3f}); "
            f"fit band {band[0]:g}-{band[1]:g} cycles/px"
        )
        peaks, fingerprint = [], None
        if args.residual:
            fingerprint = sp.residual_spectrum(
                images, window=kw["window"], channel=args.channel, progress=progress, cancel=cancel
            )
            peaks = sp.find_peaks(fingerprint)
            if peaks:
                print(f"  residual spectrum spikes ({fingerprint.shape[0]} px fingerprint):")
                for p in peaks:
                    print(
                        f"    fx={p.fx:+.4f} fy={p.fy:+.4f} cycles/px (f={p.freq:.4f}, period {p.period_px:.2f} px) "
                        f"+{p.strength_db:.1f} dB"
                    )
            else:
                print("  no spikes in the residual spectrum (no periodic artefacts found)")
        results.append((label, paths, images, profile, mean_fit, fingerprint, peaks))

    if args.vs:
        d = sp.spectral_distance(results[0][3], results[1][3])
        lo, hi = sp.HIGH_BAND
        print(f"spectral distance A vs B: {d:.3f} dB (mean |10 log10 P_A/P_B| over {lo:g}-{hi:g} cycles/px)")

    if args.csv:
        _write_csv(Path(args.csv), results, n_bins, kw)
        print(f"wrote {args.csv}")
    if args.plot:
        _write_plot(Path(args.plot), results, args)
        print(f"wrote {args.plot}")


def _write_csv(path: Path, results, n_bins: int, kw) -> None:
    freq = sp.common_axis(n_bins)
    header = ["freq_cycles_per_px"]
    cols = [freq]
    for label, paths, images, profile, *_ in results:
        header += [f"{label}_mean_power", f"{label}_spread_db"]
        cols += [profile.power, profile.spread_db]
        for i, (p, im) in enumerate(zip(paths, images)):
            header.append(f"{label}_{i + 1}_{_safe(p.stem)}")
            cols.append(sp.resample_profile(sp.radial_profile(im, **kw), freq))

    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            for row in np.stack(cols, 1):
                w.writerow([f"{v:.6g}" for v in row])

    atomic_write(path, write)


def _write_plot(path: Path, results, args) -> None:
    from core.spectrum_plot import Curve, plot_profiles, render_spectrum, side_by_side

    curves = []
    for label, paths, _images, profile, fit, *_ in results:
        name = paths[0].name if len(paths) == 1 else f"set {label} ({len(paths)} images)"
        curves.append(Curve(profile, name, None if args.residual else fit))
    title = "Radial power spectrum" + (" of the high-pass residual" if args.residual else "")
    panels = [plot_profiles(curves, title=title)]
    for label, _paths, _images, _profile, _fit, fingerprint, peaks in results:
        if fingerprint is not None:
            panels.append(
                render_spectrum(
                    fingerprint,
                    peaks,
                    size=panels[0].shape[0] - 60,
                    title=f"residual spectrum, set {label}: {len(peaks)} spike(s)",
                )
            )
    save_image(path, side_by_side(*panels))
