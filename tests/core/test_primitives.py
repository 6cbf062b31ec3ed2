"""Primitives synthesizer: each stage alone, determinism, any size, every preset, export round trip, errors."""

from __future__ import annotations

import json
import zipfile

import cv2
import numpy as np
import pytest

from core.jobs import Cancelled, CancelToken
from core.primitives import (
    PRESETS,
    PrimitivesConfig,
    PrimitivesError,
    export_set,
    generate_batch,
    generate_image,
    generate_indices,
    load_exported,
    power_spectrum_field,
    preset,
    read_set_manifest,
    verify_set,
)
from core.primitives.synth import (
    _ccs_layout,
    _isotropic_field,
    _noise_fields,
    max_sizes,
    rng_for,
    saliency_mask,
    saliency_params,
    shape_params,
)


def radial_slope(image: np.ndarray) -> float:
    """Slope of log amplitude vs log radial frequency (mid band), averaged over the channels."""
    h, w = image.shape[:2]
    slopes = []
    for c in range(3):
        x = image[..., c].astype(np.float64)
        amp = np.abs(np.fft.fft2(x - x.mean()))
        fy = np.fft.fftfreq(h)[:, None]
        fx = np.fft.fftfreq(w)[None, :]
        r = np.sqrt(fy**2 + fx**2)
        bins = np.geomspace(3 / min(h, w), 0.2, 10)
        xs, ys = [], []
        for lo, hi in zip(bins[:-1], bins[1:]):
            sel = (r >= lo) & (r < hi)
            xs.append(np.log(np.sqrt(lo * hi)))
            ys.append(np.log(amp[sel].mean()))
        slopes.append(-np.polyfit(xs, ys, 1)[0])
    return float(np.mean(slopes))


# ---------------------------------------------------------------- P stage


@pytest.mark.parametrize("exponents", [(1.0, 1.0), (2.0, 2.0), (1.0, 2.5)])
def test_power_spectrum_slopes_fall_inside_the_requested_range(exponents):
    lo, hi = exponents
    slopes = [radial_slope(power_spectrum_field(seed, 0, 64, 64, exponents)[0]) for seed in range(6)]
    for s in slopes:
        assert lo - 0.35 <= s <= hi + 0.35, (exponents, slopes)
    if lo == hi:
        assert abs(np.mean(slopes) - lo) < 0.25


def test_power_spectrum_draws_exponents_per_channel_and_axis_and_fills_the_range():
    field, exps = power_spectrum_field(3, 7, 48, 80, (0.5, 3.5))
    assert field.shape == (48, 80, 3) and field.dtype == np.uint8
    assert field.min() == 0 and field.max() == 255  # renormalised to the full range
    assert exps.shape == (3, 2) and np.all((exps >= 0.5) & (exps <= 3.5))
    assert len(np.unique(np.round(exps, 6))) == 6  # independent per channel and axis


@pytest.mark.parametrize("h, w", [(8, 8), (7, 9), (6, 5), (16, 12)])
def test_packed_spectrum_layout_matches_opencv(h, w):
    """Every entry of OpenCV's packed real spectrum is the real or imaginary part of the rfft2
    coefficient our layout says it is, and the purely real bins are where we scale them."""
    x = np.random.default_rng(0).standard_normal((h, w)).astype(np.float32)
    packed, z = cv2.dft(x), np.fft.rfft2(x)
    cols, rows, real = _ccs_layout(h, w)
    for r in range(h):
        for c in range(w):
            edge = c == 0 or (w % 2 == 0 and c == w - 1)
            k, j = (rows[r], 0 if c == 0 else w // 2) if edge else (r, cols[c])
            assert np.isclose(packed[r, c], [z[k, j].real, z[k, j].imag], atol=1e-3).any(), (r, c)
    for r, c in zip(*real):
        assert abs(z[rows[r], 0 if c == 0 else w // 2].imag) < 1e-3


def test_flat_amplitude_gives_white_noise_at_every_frequency():
    """With a constant amplitude the field is white: equal power in every rfft bin, the purely real
    DC/Nyquist ones and the packed edge columns included (the √2 and the layout are right)."""
    h, w = 16, 12
    rng = np.random.default_rng(1)
    power = np.zeros((h, w // 2 + 1))
    out = np.empty((3, h, w), np.float32)
    for _ in range(300):
        _noise_fields(rng, np.ones((3, h), np.float32), np.zeros((3, w // 2 + 1), np.float32), out)
        power += (np.abs(np.fft.rfft2(out)) ** 2).sum(0)
    power /= power.mean()
    assert 0.85 < power.min() and power.max() < 1.15, power.round(2)


def test_isotropic_spectrum_removes_only_the_mean():
    """Baradad's spectrum noise: no DC, but the purely horizontal and vertical frequencies stay."""
    h, w = 32, 24
    out = np.empty((3, h, w), np.float32)
    _isotropic_field(np.random.default_rng(0), h, w, (1.0, 1.0), out)
    power = np.abs(np.fft.rfft2(out)) ** 2
    assert np.all(power[:, 0, 0] < 1e-6 * power.mean())
    assert power[:, 0, 1].min() > power.mean() and power[:, 1, 0].min() > power.mean()


def test_steeper_exponents_give_smoother_fields():
    smooth = power_spectrum_field(1, 0, 64, 64, (3.0, 3.0))[0].astype(float)
    rough = power_spectrum_field(1, 0, 64, 64, (0.5, 0.5))[0].astype(float)
    assert np.abs(np.diff(smooth, axis=1)).mean() < np.abs(np.diff(rough, axis=1)).mean() / 3


# ---------------------------------------------------------------- shapes


def test_shapes_get_smaller_along_the_sequence():
    cfg = preset("primitives-ps")
    ms = max_sizes(cfg, 256, 256)
    assert ms[0] == 53 and ms[-1] == 3 and np.all(np.diff(ms) <= 0)  # released code: 256//5*(n-i)/n + 2
    sizes = []
    for seed in range(4):
        cmds = shape_params(cfg, rng_for(seed, 0, 2), 128, 128)
        assert len(cmds) == 100
        for c in cmds:
            sizes.append(c[3] if c[0] == "line" else max(np.ravel(c[2])) if c[0] != "rectangle" else 0)
    first = [s for k, s in enumerate(sizes) if k % 100 < 25 and s]
    last = [s for k, s in enumerate(sizes) if k % 100 >= 75 and s]
    assert np.mean(first) > 3 * np.mean(last)


def test_shape_kinds_follow_the_released_mix_and_the_checkboxes():
    cfg = preset("primitives", shape_count=2000)
    kinds = [c[0] for c in shape_params(cfg, rng_for(0, 0, 2), 64, 64)]
    frac = {k: kinds.count(k) / len(kinds) for k in ("line", "circle", "ellipse", "rectangle")}
    assert abs(frac["line"] - 1 / 7) < 0.03 and abs(frac["circle"] - 2 / 7) < 0.04
    only = preset("primitives", shape_kinds=("circle",))
    assert {c[0] for c in shape_params(only, rng_for(0, 0, 2), 64, 64)} == {"circle"}


def test_shapes_only_preset_draws_flat_colour_patches_over_a_grey_background():
    img = generate_image(preset("primitives"), 5, 0, 64, 64)
    colours = np.unique(img.reshape(-1, 3), axis=0)
    assert 10 < len(colours) <= 101  # flat colours: at most one per shape plus the background


def test_switching_a_stage_off_keeps_the_other_stages():
    with_p = generate_image(preset("primitives-ps", saliency=False), 9, 4, 64, 64)
    flat = generate_image(preset("primitives"), 9, 4, 64, 64)
    # the shapes are the same pixels; only the background differs
    assert (with_p == flat).all(axis=2).mean() > 0.3


# ---------------------------------------------------------------- saliency


def test_salient_object_is_near_the_centre_and_textured():
    cfg = preset("pink-salient")
    for seed in range(8):
        h, w = 64, 96
        cmd = saliency_params(cfg, rng_for(seed, 0, 3), h, w)
        mask = saliency_mask(cmd, h, w) > 0
        ys, xs = np.nonzero(mask)
        assert mask.mean() > 0.1  # a large object
        assert abs(ys.mean() / h - 0.5) < 0.25 and abs(xs.mean() / w - 0.5) < 0.25
        img = generate_image(cfg, seed, 0, h, w).astype(float)
        # textured: a P field has many colours (its contrast varies: the three channels share one
        # min/max, as in the released code, so one channel may dominate)
        assert len(np.unique(img[mask].astype(np.uint8), axis=0)) > 8
    flat = generate_image(preset("primitives-s", shapes=False), 1, 0, 64, 64)
    cmd = saliency_params(preset("primitives-s"), rng_for(1, 0, 3), 64, 64)
    inside = flat[saliency_mask(cmd, 64, 64) > 0]
    assert len(np.unique(inside, axis=0)) == 1  # primitives-s: one flat colour


def test_saliency_scale_changes_the_object_size():
    small = preset("pink-salient", saliency_scale=0.5)
    big = preset("pink-salient", saliency_scale=1.5)

    def area(c):
        return np.mean(
            [
                (saliency_mask(saliency_params(c, rng_for(s, 0, 3), 64, 64), 64, 64) > 0).mean()
                for s in range(6)
            ]
        )

    assert area(big) > 3 * area(small)


# ---------------------------------------------------------------- determinism, sizes, presets


def test_image_i_is_the_same_whatever_the_batching_or_order():
    cfg = preset("primitives-ps")
    batch = generate_batch(cfg, 11, 0, 6, 40, 56)
    singles = np.stack([generate_image(cfg, 11, i, 40, 56) for i in range(6)])
    assert np.array_equal(batch, singles)
    assert np.array_equal(generate_batch(cfg, 11, 3, 2, 40, 56), batch[3:5])
    assert np.array_equal(generate_indices(cfg, 11, [5, 0, 2], 40, 56), batch[[5, 0, 2]])
    assert not np.array_equal(batch[0], batch[1])
    assert not np.array_equal(generate_image(cfg, 12, 0, 40, 56), batch[0])


@pytest.mark.parametrize("name", list(PRESETS))
@pytest.mark.parametrize("size", [(40, 72), (72, 40), (16, 200)])
def test_every_preset_at_non_square_sizes(name, size):
    h, w = size
    img = generate_image(preset(name), 2, 1, h, w)
    assert img.shape == (h, w, 3) and img.dtype == np.uint8
    assert img.std() > 5  # not blank
    if name in ("primitives-ps", "pink-salient", "spectrum-noise"):
        assert img.min() == 0 or img.max() == 255


def test_dead_leaves_cover_the_image():
    img = generate_image(preset("dead-leaves"), 0, 0, 48, 48)
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 20


def test_antialias_softens_edges():
    hard = generate_image(preset("primitives", antialias=False), 3, 0, 64, 64)
    soft = generate_image(preset("primitives", antialias=True), 3, 0, 64, 64)
    assert len(np.unique(soft.reshape(-1, 3), axis=0)) > 2 * len(np.unique(hard.reshape(-1, 3), axis=0))


# ---------------------------------------------------------------- config and errors


def test_config_round_trip_and_defaults_match_the_paper():
    cfg = preset("primitives-ps")
    assert cfg.exponent_range == (0.5, 3.5) and cfg.shape_count == 100
    assert PrimitivesConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: generate_image(preset("primitives-ps"), 0, 0, 0, 64), "too small"),
        (lambda: generate_image(preset("primitives-ps"), -1, 0, 64, 64), "seed"),
        (lambda: preset("primitives-ps", exponent_range=(3.0, 1.0)), "inverted"),
        (lambda: preset("primitives-ps", shape_kinds=()), "no shape kind"),
        (lambda: preset("primitives-ps", shape_count=-1), "shape_count"),
        (lambda: preset("nonsense"), "Unknown Primitives preset"),
        (lambda: preset("primitives-ps", colour=3), "Unknown Primitives setting"),
    ],
)
def test_bad_parameters_give_clear_errors(call, words):
    with pytest.raises(PrimitivesError, match=words):
        call()


def test_export_refuses_bad_folders(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(PrimitivesError, match="file, not a folder"):
        export_set(blocker, "primitives", 2, 16, workers=1)
    with pytest.raises(PrimitivesError, match="Cannot write"):
        export_set(blocker / "sub", "primitives", 2, 16, workers=1)
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.png").write_bytes(b"x")
    with pytest.raises(PrimitivesError, match="not empty"):
        export_set(full, "primitives", 2, 16, workers=1)
    with pytest.raises(PrimitivesError, match="at least 1"):
        export_set(tmp_path / "a", "primitives", 0, 16, workers=1)
    with pytest.raises(PrimitivesError, match="format"):
        export_set(tmp_path / "b", "primitives", 2, 16, fmt="gif", workers=1)
    with pytest.raises(PrimitivesError, match="disk space"):
        export_set(tmp_path / "c", "primitives", 10**9, 4096, fmt="npy", workers=1)


# ---------------------------------------------------------------- export


@pytest.mark.parametrize("fmt", ["png", "zip", "npy"])
def test_export_and_manifest_round_trip(tmp_path, fmt):
    seen = []
    cfg = preset("primitives-ps", shape_count=30)
    path = export_set(
        tmp_path / fmt, cfg, 7, "40x24", seed=4, fmt=fmt, workers=1, chunk=3, progress=seen.append
    )
    m = read_set_manifest(path.parent)
    assert (m.config, m.seed, m.count, m.height, m.width, m.fmt) == (cfg, 4, 7, 24, 40, fmt)
    assert m.raw["app_version"] and m.raw["preset"] == "primitives-ps"
    assert verify_set(m, list(range(7))) == []
    assert np.array_equal(load_exported(m, 6), generate_image(cfg, 4, 6, 24, 40))
    assert seen and seen[-1].step == 7
    if fmt == "zip":
        assert len(zipfile.ZipFile(tmp_path / fmt / "primitives.zip").namelist()) == 7
    if fmt == "png":
        from core.images import read_png_metadata

        meta = read_png_metadata(tmp_path / fmt / "000003.png")
        assert meta["seed"] == "4" and meta["index"] == "3"


def test_export_with_two_workers_is_identical_to_one(tmp_path):
    a = export_set(tmp_path / "a", "primitives-ps", 10, 32, seed=1, fmt="npy", workers=1, chunk=4)
    b = export_set(tmp_path / "b", "primitives-ps", 10, 32, seed=1, fmt="npy", workers=2, chunk=3)
    za = export_set(tmp_path / "za", "primitives-ps", 5, 32, seed=1, fmt="zip", workers=2, chunk=2)
    zb = export_set(tmp_path / "zb", "primitives-ps", 5, 32, seed=1, fmt="zip", workers=1)
    assert np.array_equal(np.load(a.parent / "images.npy"), np.load(b.parent / "images.npy"))
    assert (za.parent / "primitives.zip").read_bytes() == (zb.parent / "primitives.zip").read_bytes()


def test_export_with_processes_matches(tmp_path):
    a = export_set(
        tmp_path / "a", "primitives-ps", 6, 24, seed=2, fmt="npy", workers=2, pool="process", chunk=2
    )
    assert verify_set(a, list(range(6))) == []


def test_cancelled_export_leaves_no_partial_set(tmp_path):
    token = CancelToken()

    def progress(p):
        if p.step > 0:
            token.set()

    with pytest.raises(Cancelled):
        export_set(tmp_path / "x", "primitives", 20, 16, workers=1, chunk=2, progress=progress, cancel=token)
    assert list((tmp_path / "x").iterdir()) == []


def test_overwrite_is_allowed_when_asked(tmp_path):
    export_set(tmp_path / "x", "primitives", 3, 16, workers=1)
    with pytest.raises(PrimitivesError, match="not empty"):
        export_set(tmp_path / "x", "primitives", 3, 16, workers=1)
    path = export_set(tmp_path / "x", "primitives", 3, 16, seed=9, workers=1, overwrite=True)
    assert read_set_manifest(path).seed == 9


# ---------------------------------------------------------------- torch dataset


def test_dataset_gives_gan_ready_tensors_and_is_deterministic_across_workers():
    import torch

    from core.primitives import PrimitivesDataset, make_loader

    ds = PrimitivesDataset("primitives-ps", length=8, size=(24, 32), seed=3)
    x = ds[2]
    assert x.shape == (3, 24, 32) and x.dtype == torch.float32
    assert -1.0 <= float(x.min()) and float(x.max()) <= 1.0
    expected = torch.from_numpy(generate_image(ds.config, 3, 2, 24, 32)).permute(2, 0, 1).float() / 127.5 - 1
    assert torch.equal(x, expected)
    plain = torch.cat(list(make_loader(ds, batch_size=3, workers=0, shuffle=False)))
    two = torch.cat(list(make_loader(ds, batch_size=4, workers=2, shuffle=False)))
    assert torch.equal(plain, two) and plain.shape == (8, 3, 24, 32)
    with pytest.raises(IndexError):
        ds[8]


def test_sketch_shapes_draws_one_or_two_clear_figures_of_varied_shape_on_a_quiet_background():
    from core.primitives import generate_batch, preset
    from core.primitives.synth import _STAGE_FIGURES, figure_params, rng_for

    cfg = preset("sketch-shapes")
    imgs = generate_batch(cfg, 3, 0, 24, 64, 64)
    again = generate_batch(cfg, 3, 10, 4, 64, 64)
    assert np.array_equal(imgs[10:14], again)  # image i is the same pixels in any batch
    aspects, angles, kinds = [], [], set()
    for i, img in enumerate(imgs):
        figs = figure_params(cfg, rng_for(3, i, _STAGE_FIGURES), 64, 64, img.reshape(-1, 3).mean(axis=0))
        assert 1 <= len(figs) <= 2
        inside = np.zeros((64, 64), np.uint8)
        for _kind, pts, _colour in figs:
            cv2.fillPoly(inside, [np.round(pts).astype(np.int32)], 1)
        inside = cv2.dilate(inside, np.ones((5, 5), np.uint8)) > 0
        background = img[~inside].astype(float)
        assert background.std(axis=0).max() < 20  # plain or low-contrast background
        for kind, pts, _colour in figs:
            kinds.add(kind)
            (_, _), (w, h), angle = cv2.minAreaRect(pts)
            aspects.append(min(w, h) / max(w, h))
            angles.append(angle)
        # the figure stands out: many pixels far from the background colour
        far = np.linalg.norm(img.astype(float) - np.median(background, axis=0), axis=2) > 40
        assert far[inside].mean() > 0.5
    assert kinds == {"ellipse", "rectangle", "triangle"}
    assert min(aspects) < 0.4 and max(aspects) > 0.8  # thin and round figures
    assert np.ptp(angles) > 45  # rotated
    with pytest.raises(PrimitivesError, match=r"figure_count.*; background_contrast"):
        preset("sketch-shapes", figure_count=(3, 1), background_contrast=2.0)


def test_presets_are_named_described_and_read_back_from_older_sets():
    from core.primitives import DEFAULT_PRESET, PRESET_DESCRIPTIONS

    assert set(PRESET_DESCRIPTIONS) == set(PRESETS) and DEFAULT_PRESET in PRESETS
    assert all(cfg.preset == name for name, cfg in PRESETS.items())
    assert preset("pink-salient", shape_count=None) is PRESETS["pink-salient"]  # None: the preset's own value
    older = {**PRESETS["primitives"].to_dict()}
    older["name"] = older.pop("preset")  # a set manifest written before the field was called preset
    assert PrimitivesConfig.from_dict(older) == PRESETS["primitives"]
