"""Spectrum engine: analytic cases first (cosines, white noise, known-alpha noise), then real photos,
generator fingerprints, set statistics, the CLI and the error messages."""

from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest
import torch

from core import spectrum as sp
from core.images import save_image


def _cosine(h: int, w: int, kx: int, ky: int, mean: float = 0.5, amp: float = 0.3) -> np.ndarray:
    """A cosine with exactly kx cycles across the width and ky down the height (bins kx/W, ky/H)."""
    y, x = np.mgrid[0:h, 0:w]
    return (mean + amp * np.cos(2 * np.pi * (kx * x / w + ky * y / h))).astype(np.float32)


@pytest.fixture(scope="module")
def photos() -> list[np.ndarray]:
    from skimage import data

    return [data.coffee(), data.chelsea(), data.astronaut(), data.rocket()]


# ---------------------------------------------------------------- analytic cases


@pytest.mark.parametrize("shape", [(8, 8), (9, 8), (8, 9), (9, 11), (33, 20)])
def test_power_matches_numpy_fft_for_odd_and_even_sizes(shape):
    """The unpacking of OpenCV's packed real DFT, against numpy's FFT in float64."""
    x = np.random.default_rng(1).random(shape).astype(np.float32)
    ref = np.abs(np.fft.rfft2(x.astype(np.float64))) ** 2
    power, dc = sp._rfft_power(x)
    assert np.allclose(power, ref, rtol=1e-4, atol=1e-4) and dc == pytest.approx(x.sum(), rel=1e-5)
    full = np.fft.fftshift(np.abs(np.fft.fft2(x.astype(np.float64))) ** 2 / x.size)
    spec = sp.log_spectrum(x, window=False)
    assert np.allclose(spec, 10 * np.log10(full + sp.POWER_FLOOR), atol=1e-2)


@pytest.mark.parametrize("window", [True, False])
def test_dc_is_at_the_centre_of_a_non_square_spectrum(window):
    img = _cosine(30, 52, kx=5, ky=0, mean=0.6, amp=0.1)
    spec = sp.log_spectrum(img, window=window)
    assert spec.shape == (30, 52) and spec.dtype == np.float32
    assert np.unravel_index(np.argmax(spec), spec.shape) == (15, 26)
    fy, fx = sp.spectrum_freqs(spec.shape)
    assert fy[15] == 0 and fx[26] == 0 and fx[0] == -0.5


def test_cosine_peaks_at_its_frequency_on_a_non_square_image():
    h, w = 48, 80
    horizontal = _cosine(h, w, kx=10, ky=0)  # 10/80 = 0.125 cycles/px along x
    vertical = _cosine(h, w, kx=0, ky=6)  # 6/48 = 0.125 cycles/px along y
    diagonal = _cosine(h, w, kx=8, ky=6)  # fx = 0.1, fy = 0.125 -> f = 0.160
    spec = sp.log_spectrum(horizontal, window=False)
    spec[h // 2, w // 2] = -np.inf  # ignore DC
    top2 = {tuple(int(v) for v in np.unravel_index(i, spec.shape)) for i in np.argsort(spec, axis=None)[-2:]}
    assert top2 == {(24, 40 + 10), (24, 40 - 10)}
    for img, f in ((horizontal, 0.125), (vertical, 0.125), (diagonal, np.hypot(0.1, 0.125))):
        prof = sp.radial_profile(img)
        peak = prof.freq[1 + np.argmax(prof.power[1:])]
        assert abs(peak - f) <= 0.5 / max(h, w), (peak, f)


@pytest.mark.parametrize("shape", [(128, 200), (200, 128)])
@pytest.mark.parametrize("window", [True, False])
def test_white_noise_power_equals_its_variance(shape, window):
    """The normalisation: white noise of variance s^2 has power s^2 in every ring, any size, any window."""
    rng = np.random.default_rng(3)
    noise = rng.normal(0.5, 0.1, shape).astype(np.float32)
    prof = sp.radial_profile(noise, window=window)
    assert prof.freq[0] == 0 and prof.freq[-1] == pytest.approx(0.5)
    assert np.diff(prof.freq) == pytest.approx(np.full(len(prof.freq) - 1, 1 / max(shape)))
    level = np.sum(prof.power[1:] * prof.samples[1:]) / np.sum(prof.samples[1:])
    assert level == pytest.approx(0.01, rel=0.08)
    assert prof.samples.sum() == pytest.approx(
        np.pi * 0.25 * shape[0] * shape[1], rel=0.05
    )  # the inscribed disc


def test_dc_is_kept_in_the_profile_and_does_not_leak_through_the_window():
    flat = np.full((24, 36), 0.5, np.float32)
    plain = sp.radial_profile(flat, window=False)
    assert plain.power[0] == pytest.approx(0.25 * 24 * 36, rel=1e-5)  # |sum x|^2 / N
    assert np.abs(plain.power[1:]).max() < 1e-8
    windowed = sp.radial_profile(flat, window=True)
    win, wsum, wsq = sp._hann(24, 36)
    assert windowed.power[0] == pytest.approx((0.5 * wsum) ** 2 / wsq, rel=1e-5)
    assert np.abs(windowed.power[1:]).max() < 1e-8  # no leakage into the first rings


@pytest.mark.parametrize("alpha", [0.5, 1.0, 1.5, 2.0])
def test_known_alpha_is_recovered_within_0_05_on_non_square_images(alpha):
    images = [
        sp.synth_power_law_noise(192, 288, alpha, seed=1),
        sp.synth_power_law_noise(288, 192, alpha, seed=2),
        sp.synth_power_law_noise(256, 256, alpha, seed=3),
    ]
    fit = sp.fit_power_law(sp.mean_profile(images))
    assert fit.alpha_amplitude == pytest.approx(alpha, abs=0.05)
    assert fit.alpha_power == pytest.approx(2 * fit.alpha_amplitude)
    assert fit.slope == pytest.approx(-fit.alpha_power)
    assert fit.r2 > 0.95
    # one image alone is noisier but unbiased enough to be close
    single = sp.analyze(sp.synth_power_law_noise(256, 384, alpha, seed=4)).fit
    assert single.alpha_amplitude == pytest.approx(alpha, abs=0.1)


def test_real_photos_have_a_natural_amplitude_slope(photos):
    alphas = [sp.analyze(p).fit.alpha_amplitude for p in photos[:2]]  # coffee, chelsea
    for a in alphas:
        assert 0.8 <= a <= 1.6, alphas
    # and a strong blur makes the slope much steeper
    blurred = cv2.GaussianBlur(photos[0], (0, 0), 3)
    assert sp.analyze(blurred).fit.alpha_amplitude > alphas[0] + 0.5


def test_analyze_agrees_with_the_separate_calls(photo):
    a = sp.analyze(photo, channel="g")
    assert np.array_equal(a.spectrum_db, sp.log_spectrum(photo, channel="g"))
    prof = sp.radial_profile(photo, channel="g")
    assert np.array_equal(a.profile.power, prof.power)
    assert a.fit == sp.fit_power_law(prof)


def test_channels_select_the_right_plane():
    img = np.zeros((32, 32, 3), np.uint8)
    img[..., 0] = (np.random.default_rng(0).random((32, 32)) * 255).astype(np.uint8)  # only red varies
    assert np.nanmax(sp.radial_profile(img, channel="g").power[1:]) < 1e-10
    assert np.nanmean(sp.radial_profile(img, channel="r").power[1:]) > 1e-3
    grey = sp.radial_profile(img[..., 0])
    assert np.allclose(sp.radial_profile(img, channel="r").power, grey.power, rtol=1e-4)


# ---------------------------------------------------------------- fingerprints


def _transposed_conv_x2(img: np.ndarray) -> np.ndarray:
    """×2 up-sampling by a stride-2 3×3 transposed convolution: the checkerboard of Odena et al. 2016."""
    t = torch.from_numpy(img).permute(2, 0, 1)[None].float()
    k = torch.ones(3, 1, 3, 3) / 4
    y = torch.nn.functional.conv_transpose2d(t, k, stride=2, padding=1, output_padding=1, groups=3)
    return y[0].permute(1, 2, 0).clamp(0, 255).round().byte().numpy()


def _shrink(img: np.ndarray, w: int, h: int) -> np.ndarray:
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)


def test_upsampling_checkerboard_shows_as_residual_peaks_at_half_a_cycle(photos):
    generated = [_transposed_conv_x2(_shrink(p, 48, 32)) for p in photos]  # 96×64
    fingerprint = sp.residual_spectrum(generated)
    assert fingerprint.shape == (64, 64)
    peaks = sp.find_peaks(fingerprint)
    found = {(p.fx, p.fy) for p in peaks[:3]}
    assert found == {(0.5, 0.0), (0.0, 0.5), (0.5, 0.5)}, peaks
    assert all(p.strength_db > 10 and p.fy >= 0 for p in peaks[:3])
    assert peaks[0].period_px == pytest.approx(2.0) or peaks[0].period_px == pytest.approx(np.sqrt(2))

    clean = [_shrink(p, 96, 64) for p in photos]
    assert sp.find_peaks(sp.residual_spectrum(clean)) == []
    assert sp.find_peaks(sp.analyze(clean[0], residual=True).spectrum_db) == []  # one noisy periodogram


def test_nearest_neighbour_upsampling_is_told_apart_from_clean_photos(photos):
    """Nearest-neighbour ×2 multiplies the spectrum by |cos(pi f)|: a *null* at 0.5 cycles/px (not a
    spike), with the mirrored low-frequency replica just below it; the spectral distance sees it."""
    clean = [_shrink(p, 96, 64) for p in photos]
    nearest = [cv2.resize(_shrink(p, 48, 32), (96, 64), interpolation=cv2.INTER_NEAREST) for p in photos]
    assert sp.spectral_distance(nearest, clean) > 1.5
    spec = sp.average_spectrum(nearest, size=64)
    row = spec[32]  # fy = 0; index 0 is fx = -0.5
    assert row[0] < row[2] - 3.0  # the null at Nyquist


# ---------------------------------------------------------------- sets


def test_sets_of_different_sizes_average_on_a_common_axis():
    rng = np.random.default_rng(5)
    sigmas = [0.05, 0.1, 0.2]
    shapes = [(32, 48), (64, 64), (40, 100)]
    images = [rng.normal(0.5, s, shape).astype(np.float32) for s, shape in zip(sigmas, shapes)]
    prof = sp.mean_profile(images)
    assert prof.n_images == 3
    assert len(prof.freq) == 48 // 2 + 1 and prof.freq[0] == 0 and prof.freq[-1] == pytest.approx(0.5)
    geometric = np.exp(np.mean(np.log(np.square(sigmas))))
    assert np.mean(prof.power[1:]) == pytest.approx(geometric, rel=0.1)
    assert np.mean(prof.spread_db[1:]) == pytest.approx(np.std(10 * np.log10(np.square(sigmas))), rel=0.15)
    # the same power law at three sizes gives one curve: frequencies are in cycles/px, not bins
    laws = [
        sp.synth_power_law_noise(h, w, 1.0, seed=i)
        for i, (h, w) in enumerate([(64, 96), (128, 128), (96, 200)])
    ]
    assert np.median(sp.mean_profile(laws).spread_db[4:]) < 2.0
    with pytest.raises(sp.SpectrumError, match="finer than the smallest image"):
        sp.mean_profile(images, n_bins=100)


def test_spectral_distance_is_zero_to_itself_and_grows_with_noise(photos):
    base = [_shrink(p, 96, 64) for p in photos]
    assert sp.spectral_distance(base, base) == pytest.approx(0.0, abs=1e-6)
    rng = np.random.default_rng(0)
    distances = []
    for sigma in (2, 6, 20):
        noisy = [np.clip(b + rng.normal(0, sigma, b.shape), 0, 255).astype(np.uint8) for b in base]
        distances.append(sp.spectral_distance(base, noisy))
    assert 0 < distances[0] < distances[1] < distances[2]
    # precomputed profiles give the same number
    pa, pb = sp.mean_profile(base), sp.mean_profile(noisy)
    assert sp.spectral_distance(pa, pb) == pytest.approx(distances[2], rel=1e-6)


# ---------------------------------------------------------------- errors


def test_clear_errors_for_bad_input(photo):
    with pytest.raises(sp.SpectrumError, match="empty"):
        sp.mean_profile([])
    with pytest.raises(sp.SpectrumError, match="1×1 pixels"):
        sp.analyze(np.zeros((1, 1, 3), np.uint8))
    with pytest.raises(sp.SpectrumError, match="image 2 is 5×40"):
        sp.mean_profile([photo, np.zeros((40, 5), np.uint8)])
    with pytest.raises(sp.SpectrumError, match="Unknown channel"):
        sp.log_spectrum(photo, channel="alpha")
    with pytest.raises(sp.SpectrumError, match="NaN"):
        sp.radial_profile(np.full((16, 16), np.nan, np.float32))
    with pytest.raises(sp.SpectrumError, match="fit band"):
        sp.fit_power_law(sp.radial_profile(photo), band=(0.3, 0.31))
    with pytest.raises(sp.SpectrumError, match="smaller than the spectrum size"):
        sp.residual_spectrum([photo], size=64)


# ---------------------------------------------------------------- CLI


def test_cli_prints_alpha_and_writes_csv_and_plot(tmp_path, photos, capsys):
    from core.cli import build_parser, run_command

    for i, p in enumerate(photos[:2]):
        save_image(tmp_path / "a" / f"{i}.png", _shrink(p, 96, 64))
    b = save_image(tmp_path / "b.png", _transposed_conv_x2(_shrink(photos[2], 48, 32)))
    out_csv, out_png = tmp_path / "prof.csv", tmp_path / "plot.png"
    args = build_parser().parse_args(
        ["spectrum", str(tmp_path / "a"), "--vs", str(b), "--csv", str(out_csv), "--plot", str(out_png)]
    )
    assert run_command(args) == 0
    out = capsys.readouterr().out
    assert "0.png" in out and "1.png" in out and "mean alpha" in out and "spectral distance" in out
    with open(out_csv) as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], np.array(rows[1:], dtype=float)
    assert header[0] == "freq_cycles_per_px" and "A_mean_power" in header and "B_mean_power" in header
    assert body[0, 0] == 0 and body[-1, 0] == pytest.approx(0.5) and np.isfinite(body).all()
    # the CSV's mean profile fits to the same alpha the CLI printed for the set mean spectrum
    prof = sp.RadialProfile(freq=body[:, 0], power=body[:, header.index("A_mean_power")])
    printed = float(out.split("alpha of the mean spectrum ")[1].split()[0])
    assert sp.fit_power_law(prof).alpha_amplitude == pytest.approx(printed, abs=2e-3)
    img = cv2.imread(str(out_png))
    assert img is not None and img.shape[0] > 300 and img.shape[1] > 500

    assert run_command(build_parser().parse_args(["spectrum", str(b), "--residual"])) == 0
    out = capsys.readouterr().out
    assert "fx=+0.5000" in out or "fy=+0.5000" in out

    assert run_command(build_parser().parse_args(["spectrum", str(tmp_path / "missing.png")])) == 1
    assert "does not exist" in capsys.readouterr().err
