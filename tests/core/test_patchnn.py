"""Patch-NN previews (GPNN) on tiny photos: determinism, every control, the memory bound, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.images import load_image, read_png_metadata, save_image
from core.jobs import Cancelled, CancelToken, GanvasError
from core.patchnn import ENGINE_NAME, PatchNNConfig, PatchPyramid, PreviewSettings, generate, generate_from
from core.patchnn.search import exact_search, features, identity_basis, patchmatch

CFG = PatchNNConfig(max_size=48, min_size=16, iters=2)


@pytest.fixture
def pyr(photo):
    return PatchPyramid(photo, CFG)


def mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


def photo_colour_share(image: np.ndarray, photo: np.ndarray, tol: float = 24.0) -> float:
    """Share of the image's pixels whose colour is within ``tol`` (each channel) of some pixel of the photo."""
    a = torch.from_numpy(image.reshape(-1, 3).astype(np.float32))
    b = torch.from_numpy(photo.reshape(-1, 3).astype(np.float32))
    return float((torch.cdist(a, b, p=float("inf")).amin(1) <= tol).float().mean())


def test_same_seed_same_pixels_other_seed_other_pixels(pyr):
    a = generate_from(pyr, PreviewSettings(seed=3))
    b = generate_from(pyr, PreviewSettings(seed=3))
    c = generate_from(pyr, PreviewSettings(seed=4))
    assert a.shape == (1, 32, 48, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert mad(a[0], c[0]) > 3.0
    batch = generate_from(pyr, PreviewSettings(seed=3), 2)  # sample i of a batch = seed + i alone
    assert np.array_equal(batch[0], a[0]) and np.array_equal(batch[1], c[0])


def test_diversity_zero_gives_the_photo_back_and_more_noise_moves_further(pyr):
    photo = pyr.photo
    d0 = [mad(generate_from(pyr, PreviewSettings(seed=s, diversity=0.0))[0], photo) for s in range(3)]
    d2 = [mad(generate_from(pyr, PreviewSettings(seed=s, diversity=2.0))[0], photo) for s in range(3)]
    assert max(d0) < 6.0  # no noise: every patch finds itself
    assert np.mean(d2) > np.mean(d0) + 8.0


def test_finer_start_level_keeps_the_layout(pyr):
    photo = pyr.photo
    assert pyr.num_levels >= 3
    coarse = [mad(generate_from(pyr, PreviewSettings(seed=s, start_scale=0, diversity=1.5))[0], photo)
              for s in range(3)]
    fine = [mad(generate_from(pyr, PreviewSettings(seed=s, start_scale=pyr.num_levels - 1, diversity=1.5))[0], photo)
            for s in range(3)]
    assert np.mean(fine) < np.mean(coarse)
    with pytest.raises(GanvasError, match="Start scale 9"):
        generate_from(pyr, PreviewSettings(start_scale=9))


def test_width_and_height_multipliers_retarget(pyr):
    wide = generate_from(pyr, PreviewSettings(width_scale=2.0, seed=1))
    tall = generate_from(pyr, PreviewSettings(height_scale=1.5, seed=1))
    assert wide.shape == (1, 32, 96, 3)
    assert tall.shape == (1, 48, 48, 3)
    # the wide image is made of the photo's patches, not stretched noise
    assert photo_colour_share(wide[0], pyr.photo) > 0.9
    with pytest.raises(GanvasError, match="multipliers"):
        PreviewSettings(width_scale=0.0)


def test_exact_search_respects_the_tile_and_matches_brute_force():
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(300, 12, generator=g), torch.randn(200, 12, generator=g)
    d = torch.cdist(q, k) ** 2
    for alpha in (None, 0.005):
        stats: dict = {}
        idx, dist = exact_search(q, k, alpha=alpha, tile_elems=1000, stats=stats)
        assert stats["max_tile"] <= 1000  # at most 5 query rows × 200 keys at once
        ref = d.argmin(1) if alpha is None else (d / (alpha + d.amin(0))).argmin(1)
        assert torch.equal(idx, ref)
        assert torch.allclose(dist, d.gather(1, ref[:, None])[:, 0], atol=1e-4)


def test_generation_holds_no_more_distances_than_the_tile(photo):
    stats: dict = {}
    cfg = CFG.with_(search="exact", tile_elems=4096)
    generate_from(PatchPyramid(photo, cfg), PreviewSettings(seed=0), stats=stats)
    assert 0 < stats["max_tile"] <= 4096


def test_patchmatch_finds_the_shifted_copy():
    """A query image that is a crop of the keys' image: PatchMatch must find (almost) every exact match."""
    g = torch.Generator().manual_seed(1)
    img = torch.rand(1, 3, 40, 40, generator=g) * 2 - 1
    crop = img[:, :, 5:35, 8:38]
    basis = identity_basis(7)
    kf, qf = features(img, basis), features(crop, basis)
    idx, dist = patchmatch(qf, (24, 24), kf, (34, 34), None, generator=g, rounds=4)
    ys, xs = idx // 34, idx % 34
    hits = ((ys.reshape(24, 24) - torch.arange(24)[:, None] == 5) & (xs.reshape(24, 24) - torch.arange(24) == 8))
    assert hits.float().mean() > 0.95
    assert float(dist.median()) < 1e-6


def test_patchmatch_engine_runs_and_is_deterministic(photo):
    pyr = PatchPyramid(photo, CFG.with_(search="patchmatch", pca_dims=8))
    a = generate_from(pyr, PreviewSettings(seed=5))
    assert np.array_equal(a, generate_from(pyr, PreviewSettings(seed=5)))
    assert photo_colour_share(a[0], pyr.photo) > 0.9
    # with no noise the approximate search must find the photo's own patches again
    assert mad(generate_from(pyr, PreviewSettings(seed=5, diversity=0.0))[0], pyr.photo) < 8.0


def test_progress_and_cancel(pyr):
    seen = []
    generate_from(pyr, PreviewSettings(), 2, progress=seen.append)
    assert seen and seen[-1].step == seen[-1].total
    token = CancelToken()
    token.set()
    with pytest.raises(Cancelled):
        generate_from(pyr, PreviewSettings(), cancel=token)


def test_bad_inputs_say_what_is_wrong():
    with pytest.raises(GanvasError, match="at least 9 px"):
        generate(np.zeros((6, 40, 3), np.uint8))
    with pytest.raises(GanvasError, match="patch_size"):
        PatchNNConfig(patch_size=6)
    with pytest.raises(GanvasError, match="Diversity"):
        PreviewSettings(diversity=-1)


def test_cli_writes_pngs_with_metadata_and_json(tmp_path, photo):
    from core.cli import build_parser, run_command

    src = tmp_path / "photo.png"
    save_image(src, photo)
    out, js = tmp_path / "out", tmp_path / "m.json"
    args = build_parser().parse_args(["preview", str(src), "--out", str(out), "--n", "2", "--seed", "4",
                                      "--width-scale", "1.5", "--max-size", "48", "--json", str(js)])
    assert run_command(args) == 0
    files = sorted(out.glob("*.png"))
    assert [f.name for f in files] == ["preview_00004.png", "preview_00005.png"]
    img = load_image(files[1])
    assert img.shape == (32, 72, 3)
    meta = read_png_metadata(files[1])
    assert meta["engine"] == ENGINE_NAME and meta["seed"] == "5" and meta["width_scale"] == "1.5"
    result = json.loads(js.read_text())
    assert result["samples"] == 2 and result["engine"] == ENGINE_NAME
    for key in ("patch_swd", "diversity", "near_copy_rate", "copied_area"):
        assert isinstance(result[key], float)
    bad = build_parser().parse_args(["preview", str(tmp_path / "missing.png"), "--out", str(out)])
    assert run_command(bad) == 1
