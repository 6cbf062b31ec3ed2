"""SinGAN engine on tiny images: pyramid, networks, training, sampling, checkpoints, resume."""

import json
import re

import cv2
import numpy as np
import pytest
import torch

from core.checkpoints import CheckpointError
from core.jobs import Cancelled, CancelToken, GanvasError
from core.metrics import diversity
from core.singan.config import PRESETS, SinGANConfig, preset
from core.singan.generate import SampleSettings, reconstruct, sample, sample_tensor
from core.singan.model import load_model, save_model
from core.singan.networks import Discriminator, FoldedGenerator, Generator
from core.singan.pyramid import pyramid_shapes
from core.singan.train import train_singan
from tests.conftest import TINY_SINGAN

TINY = TINY_SINGAN.with_(d_steps=2, g_steps=2)


@pytest.fixture(scope="module")
def tiny_model():
    import cv2
    from skimage import data

    img = cv2.resize(data.coffee(), (48, 32), interpolation=cv2.INTER_AREA)
    return train_singan(img, TINY.with_(iters=100), seed=3, device="cpu")


def test_pyramid_matches_the_paper_code():
    # tamarott/SinGAN gives 8 scales for a 400×600 photo at the defaults, 25 px to 250 px.
    shapes = pyramid_shapes(400, 600, PRESETS["paper"])
    assert len(shapes) == 8
    assert shapes[0] == (25, 38) and shapes[-1] == (167, 250)
    ratios = [shapes[i][0] / shapes[i + 1][0] for i in range(7)]
    assert all(0.72 < r < 0.8 for r in ratios)


@pytest.mark.parametrize("hw", [(101, 37), (37, 101), (60, 600), (250, 250), (33, 47)])
def test_pyramid_any_aspect(hw):
    shapes = pyramid_shapes(*hw, PRESETS["paper"].with_(max_size=250, min_size=25))
    assert min(shapes[0]) == 25
    assert max(shapes[-1]) <= 250
    assert all(a[0] <= b[0] and a[1] <= b[1] for a, b in zip(shapes, shapes[1:]))


def test_too_thin_image_is_refused_clearly():
    with pytest.raises(GanvasError, match="too small or too thin"):
        pyramid_shapes(20, 2000, PRESETS["paper"])


def test_invalid_config_is_named():
    with pytest.raises(GanvasError, match="scale_factor"):
        SinGANConfig(scale_factor=1.5)
    with pytest.raises(GanvasError, match="Unknown preset 'turbo'"):
        preset("turbo")


def test_networks_shapes_and_folding():
    g, d = Generator(8, 5).eval(), Discriminator(8, 5)
    x = torch.randn(2, 3, 31, 27)
    assert g(x, x).shape == (2, 3, 21, 17)
    assert d(x).shape == (2, 1, 21, 17)
    for m in g.modules():  # give BN non-trivial statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
    with torch.no_grad():
        assert torch.allclose(FoldedGenerator(g)(x, x), g(x, x), atol=1e-5)


def test_per_image_normalisation_samples_each_image_as_the_training_generator_made_it():
    """SinGAN trains on batches of one image, so training-mode BatchNorm normalises each image by its own
    statistics; its running averages (``eval()``) are another network, which over-contrasted photo-start
    samples (docs/singan.md ▸ Normalisation per image)."""
    g = Generator(8, 5)
    for m in g.modules():  # running averages unlike any one image's statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    x = torch.randn(2, 3, 31, 27)
    per_image = FoldedGenerator(g, per_image=True)
    with torch.no_grad():
        trained_way = torch.cat([g.train()(x[i : i + 1], x[i : i + 1]) for i in range(2)])
        assert torch.allclose(per_image(x, x), trained_way, atol=1e-5)  # each image alone, even in a batch
        assert torch.allclose(per_image(x[:1], x[:1]), trained_way[:1], atol=1e-5)
        assert not torch.allclose(per_image(x, x), g.eval()(x, x), atol=1e-3)


def test_a_per_image_model_round_trips_and_older_models_keep_their_running_averages(photo, tmp_path):
    assert preset("fast").per_image_norm and not preset("paper").per_image_norm
    model = train_singan(photo, TINY.with_(per_image_norm=True), seed=3, device="cpu")
    loaded = load_model(save_model(model, tmp_path / "m.ganvas"), "cpu")
    s = SampleSettings(seed=9, start_scale=1)
    assert loaded.config.per_image_norm and np.array_equal(sample(loaded, s), sample(model, s))
    manifest = json.loads((tmp_path / "m.ganvas" / "manifest.json").read_text())
    del manifest["config"]["per_image_norm"]  # a model saved before the setting existed
    (tmp_path / "m.ganvas" / "manifest.json").write_text(json.dumps(manifest))
    older = load_model(tmp_path / "m.ganvas", "cpu")
    assert not older.config.per_image_norm and not np.array_equal(sample(older, s), sample(model, s))


def test_trained_model_samples(tiny_model):
    m = tiny_model
    assert m.complete and m.num_scales == 3
    assert m.noise_amps[0] == 1.0 and all(0 < a < 1 for a in m.noise_amps[1:])
    imgs = sample(m, SampleSettings(seed=5), 2)
    assert imgs.shape == (2, *m.image.shape) and imgs.dtype == np.uint8
    assert not np.array_equal(imgs[0], imgs[1])


def test_same_seed_same_pixels_and_batches_match_singles(tiny_model):
    a = sample_tensor(tiny_model, SampleSettings(seed=11), 3)
    b = sample_tensor(tiny_model, SampleSettings(seed=11), 3)
    assert torch.equal(a, b)
    single = sample_tensor(tiny_model, SampleSettings(seed=12), 1)
    assert torch.allclose(a[1:2], single, atol=1e-5)


def test_coarsest_scale_varies_layout_second_keeps_it(tiny_model):
    import cv2

    m = tiny_model
    ref = cv2.resize(m.image, (6, 4), interpolation=cv2.INTER_AREA).astype(np.float32)

    def layout_error(start):
        imgs = sample(m, SampleSettings(start_scale=start, seed=100), 6)
        small = [cv2.resize(i, (6, 4), interpolation=cv2.INTER_AREA).astype(np.float32) for i in imgs]
        return float(np.mean([np.abs(s - ref).mean() for s in small])), diversity(imgs, m.image)

    err0, div0 = layout_error(0)
    err1, div1 = layout_error(1)
    assert err1 < err0  # starting at the second scale keeps the photo's global layout
    assert div0 > div1  # starting at the coarsest varies it more


def test_diversity_and_size_controls(tiny_model):
    m = tiny_model
    calm = sample(m, SampleSettings(seed=1, diversity=0.0), 3)
    assert diversity(calm, m.image) < 1e-6  # no noise: every sample is the same
    wide = sample(m, SampleSettings(seed=1, width_scale=1.5, height_scale=0.75), 1)[0]
    assert wide.shape[1] == round(m.shapes[-1][1] * 1.5) and wide.shape[0] == round(m.shapes[-1][0] * 0.75)
    with pytest.raises(GanvasError, match="Start scale 7"):
        sample(m, SampleSettings(start_scale=7))


def test_reconstruction_is_close_to_the_image(tiny_model):
    from core.images import to_tensor

    rec = reconstruct(tiny_model)
    real = to_tensor(tiny_model.image)
    noise_level = torch.randn_like(real).abs().mean()
    assert (rec - real).abs().mean() < 0.5 * noise_level


def test_checkpoint_round_trip_gives_same_pixels(tiny_model, tmp_path):
    path = save_model(tiny_model, tmp_path / "m.ganvas")
    assert (path / "model.safetensors").exists() and (path / "manifest.json").exists()
    loaded = load_model(path, "cpu")
    s = SampleSettings(seed=9, start_scale=1)
    assert np.array_equal(sample(loaded, s), sample(tiny_model, s))
    assert loaded.model_id == tiny_model.model_id


def test_bad_checkpoints_are_explained(tiny_model, tmp_path):
    path = save_model(tiny_model, tmp_path / "m.ganvas")
    data = (path / "model.safetensors").read_bytes()
    (path / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_model(path)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model(tmp_path / "nothing")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "manifest.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(CheckpointError, match="not a Ganvas checkpoint"):
        load_model(foreign)
    path = save_model(tiny_model, tmp_path / "n.ganvas")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["format_version"] = 99
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="newer than this Ganvas"):
        load_model(path)
    manifest["format_version"] = 1
    manifest["kind"] = "stylegan2"
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="not a 'singan' model"):
        load_model(path)
    manifest["kind"] = "singan"
    manifest["shapes"][0] = [99, 99]
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="z_rec"):
        load_model(path)


def test_cancel_autosaves_and_resume_matches_uninterrupted(photo, tmp_path):
    cfg = TINY.with_(iters=6)
    straight = train_singan(photo, cfg, seed=4, device="cpu")

    token = CancelToken()

    def stop_in_second_scale(p):  # reports are throttled: stop at the first one past scale 0
        if p.stage_index >= 1:
            token.set()

    with pytest.raises(Cancelled) as info:
        train_singan(photo, cfg, seed=4, device="cpu", out_dir=tmp_path / "m", progress=stop_in_second_scale,
                     cancel=token)
    kept = info.value.kept.num_trained
    assert 1 <= kept < info.value.kept.num_scales
    partial = load_model(tmp_path / "m", "cpu")
    assert partial.num_trained == kept and not partial.complete
    assert sample(partial).shape[1:3] == partial.shapes[0]  # a partial model still generates

    resumed = train_singan(photo, cfg, seed=4, device="cpu", out_dir=tmp_path / "m", resume=True)
    assert resumed.complete
    s = SampleSettings(seed=2)
    assert np.abs(sample(resumed, s).astype(int) - sample(straight, s).astype(int)).max() <= 1


def test_averaged_weights_are_kept_and_a_cancelled_run_resumes_to_the_same_model(photo, tmp_path):
    cfg = TINY.with_(iters=6, ema_half_life_share=0.5)
    straight = train_singan(photo, cfg, seed=4, device="cpu")
    last_step = train_singan(photo, cfg.with_(ema_half_life_share=0.0), seed=4, device="cpu")
    for n in range(straight.num_scales):  # the average, not the last step's weights
        a, b = straight.generators[n].state_dict(), last_step.generators[n].state_dict()
        assert not torch.equal(a["head.0.weight"], b["head.0.weight"]), f"scale {n + 1} kept its last step"
    token = CancelToken()
    with pytest.raises(Cancelled):
        train_singan(photo, cfg, seed=4, device="cpu", out_dir=tmp_path / "m", cancel=token,
                     progress=lambda p: p.stage_index >= 1 and token.set())
    resumed = train_singan(photo, cfg, seed=4, device="cpu", out_dir=tmp_path / "m", resume=True)
    for n in range(resumed.num_scales):
        a, b = resumed.generators[n].state_dict(), straight.generators[n].state_dict()
        assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a), f"scale {n + 1} differs after resume"


def test_batchnorm_statistics_are_measured_again_for_the_averaged_weights():
    from core.singan.train import _recalibrate_batch_norm

    g = Generator(8, 5)
    g.train()
    inputs = [torch.randn(1, 3, 20, 20, generator=torch.Generator().manual_seed(k)) + k for k in range(4)]
    feed = iter(inputs)
    _recalibrate_batch_norm([g], lambda: g.head(next(feed)), passes=4)
    bn = g.head[1]
    with torch.no_grad():
        means = [g.head[0](x).mean(dim=(0, 2, 3)) for x in inputs]
    assert torch.allclose(bn.running_mean, torch.stack(means).mean(0), atol=1e-5)  # the plain mean of all passes
    assert bn.momentum == 0.1  # its own momentum again


def test_resume_refuses_other_image(photo, tmp_path):
    cfg = TINY.with_(iters=3)
    train_singan(photo, cfg, device="cpu", out_dir=tmp_path / "m")
    with pytest.raises(GanvasError, match="different image"):
        train_singan(photo[::-1].copy(), cfg, device="cpu", out_dir=tmp_path / "m", resume=True)
    # a preset that changed since (as `fast` did when it began averaging its weights) names what changed
    with pytest.raises(GanvasError, match=r"preset 'tiny' with ema_half_life_share 0.0 there, 0.08 now\)\. "
                                          r"Train it again from the start"):
        train_singan(photo, cfg.with_(ema_half_life_share=0.08), device="cpu", out_dir=tmp_path / "m", resume=True)
    # another preset names the two presets, not each of its many differing settings
    other = cfg.with_(preset="other", nfc=16, lrelu=0.1, d_steps=1, g_steps=1, lambda_patch=1.0)
    with pytest.raises(GanvasError, match=r"\(preset 'tiny', not 'other': 5 settings differ\)\. Use the same"):
        train_singan(photo, other, device="cpu", out_dir=tmp_path / "m", resume=True)


def test_progress_reports_scales_eta_and_previews(photo):
    reports = []
    train_singan(photo, TINY.with_(iters=5), device="cpu", progress=reports.append)
    assert {r.stage_count for r in reports} == {3}
    assert [r.stage_index for r in reports if r.preview is not None] == [0, 1, 2]
    assert all(r.preview.dtype == np.uint8 for r in reports if r.preview is not None)
    assert any(r.eta_s is not None for r in reports)
    assert all("D" in r.metrics for r in reports if r.step > 1 and r.preview is None)


@pytest.mark.parametrize("hw", [(29, 61), (61, 29)])
def test_odd_portrait_and_wide_sizes_train(hw):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (*hw, 3), dtype=np.uint8)
    m = train_singan(img, TINY.with_(iters=2, max_size=40), device="cpu")
    assert sample(m).shape[1:3] == m.shapes[-1]


def test_cli_evaluate_prints_swd_diversity_and_spectral_distance(tiny_model, tmp_path, capsys):
    import main

    save_model(tiny_model, tmp_path / "m.ganvas")
    assert main.main(["evaluate", str(tmp_path / "m.ganvas"), "--n", "4", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    result = json.loads(out[out.index("{"):])
    assert result["samples"] == 4 and result["patch_swd"] > 0 and 0 < result["diversity"]
    assert result["spectral_distance"] >= 0
    assert main.main(["evaluate", str(tmp_path / "missing.ganvas")]) == 1


# --- presets: ConSinGAN's recipe, the fast recipe's pieces, and the slider ends -----------------------

CONCURRENT = TINY.with_(batch_norm=False, d_batch_norm=False, lrelu=0.05, train_depth=2, noise_pad=True, redraw_lower=False,
                        g_reuse_grad=True, lambda_patch=1.0, iters=6, preset="tiny-concurrent")


def test_every_preset_builds_a_valid_pyramid():
    assert set(PRESETS) >= {"paper", "consingan", "fast"}
    for name, cfg in PRESETS.items():
        shapes = pyramid_shapes(400, 600, cfg.with_(max_size=128))
        assert min(shapes[0]) == cfg.min_size and max(shapes[-1]) == 128, name


def test_consingan_schedule_packs_scales_at_the_coarse_end():
    shapes = pyramid_shapes(400, 600, PRESETS["consingan"])
    assert len(shapes) == 6 and shapes[0][0] == 25 and shapes[-1] == (167, 250)
    steps = [shapes[i + 1][0] / shapes[i][0] for i in range(5)]
    assert steps[:4] == sorted(steps[:4]) and min(steps) == steps[0]  # small steps at the coarse end
    assert steps[3] > 1.4 > steps[0]


def test_folding_without_batchnorm_keeps_the_slope():
    g = Generator(8, 5, batch_norm=False, slope=0.05).eval()
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in g.modules())
    x = torch.randn(1, 3, 25, 25)
    with torch.no_grad():
        assert torch.allclose(FoldedGenerator(g)(x, x), g(x, x), atol=1e-5)


def test_patch_loss_is_zero_for_the_image_itself_and_gives_gradients():
    from core.singan.train import patch_swd_loss

    rng = torch.Generator().manual_seed(0)
    real = torch.rand(1, 3, 20, 24) * 2 - 1
    assert patch_swd_loss(real, real, 8, rng).item() < 1e-12
    fake = torch.zeros(1, 3, 20, 24, requires_grad=True)
    loss = patch_swd_loss(fake, real, 8, rng)
    loss.backward()
    assert loss.item() > 0 and fake.grad.abs().sum() > 0


def test_patch_loss_with_numpys_sort_order_matches_torchs_sort():
    """The CPU path orders projections with numpy and gathers in torch: same loss and gradient as sorting in torch."""
    from core.singan.train import patch_swd_loss

    real = torch.rand(1, 3, 20, 24) * 2 - 1
    fake = (torch.rand(1, 3, 20, 24) * 2 - 1).requires_grad_(True)
    loss = patch_swd_loss(fake, real, 8, torch.Generator().manual_seed(3))
    (grad,) = torch.autograd.grad(loss, fake)

    dirs = torch.randn(8, 3 * 49, generator=torch.Generator().manual_seed(3))
    dirs = dirs / dirs.norm(dim=1, keepdim=True)
    proj = lambda x: torch.sort(dirs @ torch.nn.functional.unfold(x, 7)[0], dim=1).values  # noqa: E731
    want = torch.nn.functional.mse_loss(proj(fake), proj(real))
    (want_grad,) = torch.autograd.grad(want, fake)
    assert torch.allclose(loss, want) and torch.allclose(grad, want_grad, atol=1e-7)


def test_seed_zero_is_not_the_reconstruction():
    """A model trained at the default seed (0), sampled at seed 0 as README's CLI example does: a sample,
    not the photo. (z* was once drawn from torch seed 0x5EED_0000_0000 + 0, which torch reads as 0.)"""
    from skimage import data

    from core.singan.generate import noise_for

    model = train_singan(cv2.resize(data.coffee(), (48, 32), interpolation=cv2.INTER_AREA), TINY.with_(iters=30))
    h0, w0 = model.shapes[0]
    assert not any(torch.allclose(noise_for(s, 0, 1, h0, w0, grey=True), model.z_rec) for s in range(100))
    rec = sample(model, SampleSettings(seed=0, diversity=0.0))[0].astype(int)
    s0 = sample(model, SampleSettings(seed=0))[0].astype(int)
    assert np.abs(s0 - rec).mean() > 5


def test_diversity_zero_is_the_reconstruction_and_grows_towards_one(tiny_model):
    from core.images import to_uint8

    rec = to_uint8(reconstruct(tiny_model))[0].astype(int)
    calm = sample(tiny_model, SampleSettings(seed=3, diversity=0.0))[0].astype(int)
    assert np.abs(calm - rec).max() <= 1
    dist = [np.abs(sample(tiny_model, SampleSettings(seed=3, diversity=d))[0].astype(int) - rec).mean()
            for d in (0.0, 0.3, 1.0)]
    assert dist[0] < dist[1] < dist[2]


def test_concurrent_training_updates_lower_scales_and_resumes_exactly(photo, tmp_path):
    straight = train_singan(photo, CONCURRENT, seed=4, device="cpu")
    token = CancelToken()

    def stop_in_second_scale(p):
        if p.stage_index >= 1:
            token.set()

    with pytest.raises(Cancelled):
        train_singan(photo, CONCURRENT, seed=4, device="cpu", out_dir=tmp_path / "m", progress=stop_in_second_scale,
                     cancel=token)
    partial = load_model(tmp_path / "m", "cpu")
    kept = partial.num_trained
    resumed = train_singan(photo, CONCURRENT, seed=4, device="cpu", out_dir=tmp_path / "m", resume=True)
    # training scale `kept` also moved the one below it (ConSinGAN's concurrent stages)
    before = partial.generators[kept - 1].state_dict()
    after = resumed.generators[kept - 1].state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    for n in range(resumed.num_scales):
        a, b = resumed.generators[n].state_dict(), straight.generators[n].state_dict()
        assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a), f"scale {n} differs after resume"
    assert resumed.noise_amps == pytest.approx(straight.noise_amps)
    s = SampleSettings(seed=2)
    assert np.array_equal(sample(resumed, s), sample(straight, s))


def test_batched_critic_gives_the_same_losses_and_gradients():
    from core.singan.train import critic_losses

    d = Discriminator(8, 5, batch_norm=False, slope=0.05)
    real, fake = torch.randn(1, 3, 20, 20), torch.randn(1, 3, 20, 20)

    def run(batch_norm_path: bool):
        d.zero_grad()
        losses = critic_losses(d, real, fake, 0.1, batch_norm_path, torch.Generator().manual_seed(5))
        sum(losses).backward()
        return [v.item() for v in losses], [p.grad.clone() for p in d.parameters()]

    (l1, g1), (l2, g2) = run(True), run(False)
    assert l1 == pytest.approx(l2, rel=1e-5, abs=1e-6)
    assert all(torch.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(g1, g2))


def test_training_time_estimate_is_measured_and_grows_with_the_work(monkeypatch):
    import core.singan.estimate as est

    measured = est.estimate_training_seconds(TINY.with_(iters=10), 32, 48)
    assert 0 < measured < 60  # real iterations were timed
    # the per-iteration times are interpolated by area and multiplied by each scale's iterations
    monkeypatch.setattr(est, "_seconds_per_iteration", lambda cfg, shapes, n, dev: 1.0 + n)
    shapes = pyramid_shapes(32, 48, TINY)
    cfg = TINY.with_(iters=10, fine_iters=0.5)
    expected_ends = 10 * 1.0 + 5 * len(shapes)
    total = est.estimate_training_seconds(cfg, 32, 48)
    assert total > expected_ends
    assert est.estimate_training_seconds(cfg.with_(iters=100), 32, 48) == pytest.approx(10 * total, rel=0.05)


def test_the_first_measured_scale_is_not_estimated_free():
    """Timed first, the coarsest scale's 1-iteration run also built the convolution kernels and the
    difference came out ≤ 0 (the dock showed too short a time); a warm-up iteration goes first now."""
    from core.singan.estimate import _seconds_per_iteration

    cfg = TINY.with_(num_layers=5, nfc=16, max_nfc=16)
    shapes = pyramid_shapes(48, 64, cfg)
    assert _seconds_per_iteration(cfg, shapes, 0, torch.device("cpu")) > 1e-3


def test_patch_classifier_tells_grain_from_the_photo_but_not_the_photo_from_itself():
    """The quality bench's independent check: held-out accuracy near 0.5 for the photo's own pixels,
    near 1 for the photo with grain added (what a patch loss can leave and a sliced distance misses)."""
    from core.metrics import patch_classifier_accuracy

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:64, 0:96]
    photo = np.stack([128 + 60 * np.sin(xx / 5.0), 128 + 60 * np.cos(yy / 7.0), 100 + 0 * xx], -1)
    photo = np.clip(photo + rng.normal(0, 3, photo.shape), 0, 255).astype(np.uint8)
    itself = np.stack([photo] * 4)
    grainy = np.clip(itself + rng.normal(0, 40, itself.shape), 0, 255).astype(np.uint8)
    assert patch_classifier_accuracy(itself, photo, steps=80) < 0.65
    assert patch_classifier_accuracy(grainy, photo, steps=80) > 0.85
    with pytest.raises(GanvasError, match="too small"):
        patch_classifier_accuracy(itself[:, :40, :40], photo[:40, :40])


def test_patch_swd_of_sets_of_different_sizes_follows_numpy_quantiles():
    """Unequal sets compare quantiles; the fast path must give numpy's 'linear' quantiles, and a set
    against a noisier copy of itself must read further than against itself."""
    from core.metrics import _quantiles_of_sorted, patch_swd

    rng = np.random.default_rng(0)
    cols = np.sort(rng.standard_normal((257, 5)).astype(np.float32), axis=0)
    want = np.quantile(cols, np.linspace(0, 1, 100), axis=0)
    assert np.allclose(_quantiles_of_sorted(cols, 100), want, atol=1e-5)
    img = (rng.random((32, 32, 3)) * 255).astype(np.uint8)
    smooth = np.repeat(np.repeat(img[::4, ::4], 4, 0), 4, 1)
    near = patch_swd([smooth] * 3, [smooth], patches_per_level=256, directions=32, levels=2)
    far = patch_swd([img] * 3, [smooth], patches_per_level=256, directions=32, levels=2)
    assert far > 2 * near


def test_patch_swd_by_level_shows_a_moved_layout_at_the_coarsest_level(photo):
    """A photo shifted round (its own patches, a new layout) is close at the finest level and far at the
    coarsest, the level that compares layouts; patch_swd is the mean of the levels."""
    from core.metrics import patch_swd, patch_swd_by_level

    big = cv2.resize(photo, (128, 96), interpolation=cv2.INTER_CUBIC)
    shifted = np.roll(big, (48, 64), (0, 1))
    same = patch_swd_by_level([big], [big], seed=1, directions=64)
    moved = patch_swd_by_level([shifted], [big], directions=64)
    assert len(moved) == 4
    assert moved[-1] > 3 * same[-1] and moved[-1] > 2 * moved[0]
    assert patch_swd([shifted], [big], directions=64) == pytest.approx(np.mean(moved))


def test_settings_of_removed_trials_in_an_old_manifest_are_ignored_and_every_scale_counts_iters():
    # coarsest_iters and patch_directions were trial settings (docs/experiments.md); manifests still hold them
    old = {**TINY.with_(iters=4).to_dict(), "coarsest_iters": 9, "patch_directions": 16}
    cfg = SinGANConfig.from_dict(old)
    assert cfg == TINY.with_(iters=4)
    assert [cfg.iters_at(n, 3) for n in range(3)] == [4, 4, 4]


#: Settings under which the coarsest generator of a tiny concurrent model on the (mostly black) Hubble
#: photo saturates: ten times the learning rate, no BatchNorm. At the published rate it does not.
def _hubble_tiny() -> np.ndarray:
    from skimage import data

    return cv2.resize(data.hubble_deep_field(), (48, 40), interpolation=cv2.INTER_AREA)


def test_training_warns_when_a_scale_saturates_and_not_otherwise():
    from core.singan.generate import saturated_shares

    for lr, expect_warning in ((3e-2, True), (5e-4, False)):  # at 3e-2 all three tries of scale 1 saturate
        warnings = []
        model = train_singan(_hubble_tiny(), CONCURRENT.with_(lr_g=lr), seed=0, device="cpu",
                             progress=lambda p, w=warnings: p.warning and w.append((p.stage_index, p.warning)))
        if expect_warning:
            assert warnings and warnings[0][0] == 0, warnings
            assert "scale 1 is saturated after 3 tries" in warnings[0][1] and "another seed" in warnings[0][1]
            assert "or the fast preset" in warnings[0][1]  # a preset without BatchNorm: the one that has it
            assert warnings[-1][1].startswith("The generators of scales 1, 2")  # a later one names them all
        else:
            assert not any("saturated" in w for _, w in warnings)
            assert max(saturated_shares(model, model.num_scales - 1)) < 0.05


def test_a_saturated_scale_is_trained_again_from_another_start_and_resumes_exactly(tmp_path):
    from core.singan.generate import saturated_shares

    cfg = CONCURRENT.with_(lr_g=5e-3)  # at seed 1 the first try of scale 1 saturates, the second does not
    reports = []
    straight = train_singan(_hubble_tiny(), cfg, seed=1, device="cpu", progress=reports.append)
    assert any(p.stage.startswith("Scale 1/") and p.stage.endswith("try 2 of 3 at generator lr ×0.5 (it saturated)")
               for p in reports)
    assert any(re.fullmatch(r"scale 1 done in \d+ s \(try 2: the one before saturated\)", p.message) for p in reports)
    assert not any("saturated" in p.warning for p in reports)
    assert max(saturated_shares(straight, straight.num_scales - 1)) < 0.5
    assert straight.scale_health[0].tries == 2 and straight.scale_health[0].saturated < 0.5  # in the manifest too

    token = CancelToken()
    with pytest.raises(Cancelled):
        train_singan(_hubble_tiny(), cfg, seed=1, device="cpu", out_dir=tmp_path / "m", cancel=token,
                     progress=lambda p: p.stage_index >= 1 and token.set())
    assert load_model(tmp_path / "m", "cpu").num_trained == 1  # the kept try was autosaved
    resumed = train_singan(_hubble_tiny(), cfg, seed=1, device="cpu", out_dir=tmp_path / "m", resume=True)
    for n in range(resumed.num_scales):
        a, b = resumed.generators[n].state_dict(), straight.generators[n].state_dict()
        assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a), f"scale {n} differs after resume"


def test_saturation_names_the_stuck_scales_and_spares_a_black_photo(tiny_model):
    import copy

    from core.singan.generate import model_warning, saturated_scales, saturated_shares, saturation_warning

    model = copy.deepcopy(tiny_model)
    assert saturated_scales(model, range(model.num_scales)) == {}
    _saturate(model, [0, 2])
    warning = saturation_warning(model, saturated_scales(model, range(model.num_scales)))
    assert warning.startswith("The generators of scales 1, 3 are saturated") and "100%" in warning
    assert "fast preset" not in warning  # it has BatchNorm already
    assert model_warning(model).startswith("The generators of scales 1, 3 are saturated")  # as it is opened
    # after the last scale there is nothing left to cancel, nor scales still to train
    assert "Train it again with another seed" in warning and "still to train" not in warning
    mid_run = saturation_warning(model, saturated_scales(model, range(model.num_scales)), running=True)
    assert "the scales still to train are likely to stay stuck" in mid_run and "Cancel and train again" in mid_run
    # a photo that is black at the coarsest scale needs its output at −1 there: not a saturation
    model._reals = [torch.full_like(r, -1.0) if i == 0 else r for i, r in enumerate(model.reals)]
    shares = saturated_shares(model, 2)
    assert shares[0] == 0.0 and shares[2] == 1.0


def _saturate(model, scales):
    """``model`` with the generators of ``scales`` stuck at −1 (tanh far past its knee)."""
    for n in scales:
        g = model.generators[n]
        with torch.no_grad():
            g.tail.bias.fill_(-20.0)
        model.set_generator(n, g)
    return model


def test_sampling_a_saturated_model_warns_and_still_samples(tiny_model, tmp_path, capsys):
    import copy

    import main

    save_model(tiny_model, tmp_path / "ok.ganvas")
    save_model(_saturate(copy.deepcopy(tiny_model), [1]), tmp_path / "stuck.ganvas")
    assert main.main(["sample", str(tmp_path / "ok.ganvas"), "--n", "1", "--out", str(tmp_path / "a")]) == 0
    assert "warning" not in capsys.readouterr().err
    assert main.main(["sample", str(tmp_path / "stuck.ganvas"), "--n", "1", "--out", str(tmp_path / "b")]) == 0
    err = capsys.readouterr().err
    assert "stuck.ganvas" in err and "scale 2 is saturated" in err and "trained with seed 3" in err
    assert len(list((tmp_path / "b").glob("*.png"))) == 1


def test_a_finished_model_that_does_not_reconstruct_its_photo_is_named_when_trained_and_when_opened(
        tiny_model, photo, tmp_path, capsys):
    from dataclasses import replace

    import main
    from core.singan.generate import UNFIT_SHARE, model_warning, reconstruction_fit

    assert reconstruction_fit(tiny_model) > 0.6 and model_warning(tiny_model) == ""
    warnings = []  # two iterations a scale: the generators have not learnt the photo yet
    unfit = train_singan(photo, TINY.with_(iters=2), seed=0, device="cpu",
                         progress=lambda p: p.warning and warnings.append((p.stage_index, p.warning)))
    assert reconstruction_fit(unfit) < UNFIT_SHARE
    assert len(warnings) == 1 and warnings[0][0] == unfit.num_scales - 1  # once, when it is finished
    assert "does not reconstruct its photo" in warnings[0][1] and "Train it again with another seed" in warnings[0][1]
    save_model(unfit, tmp_path / "unfit.ganvas")
    assert main.main(["sample", str(tmp_path / "unfit.ganvas"), "--n", "1", "--out", str(tmp_path / "s")]) == 0
    err = capsys.readouterr().err
    assert "unfit.ganvas" in err and "of the photo's variation" in err and "trained with seed 0" in err
    assert len(list((tmp_path / "s").glob("*.png"))) == 1  # it still samples
    partial = replace(unfit, generators=unfit.generators[:-1], noise_amps=unfit.noise_amps[:-1], _folded={})
    assert model_warning(partial) == ""  # an autosave mid-run may still catch up: not judged


def test_one_seed_trains_one_model_while_other_threads_draw_from_torchs_global_generator(photo, others_drawing):
    cfg = TINY.with_(iters=4)
    quiet = train_singan(photo, cfg, seed=2, device="cpu")
    with others_drawing():
        busy = train_singan(photo, cfg, seed=2, device="cpu")
    for n in range(quiet.num_scales):
        a, b = quiet.generators[n].state_dict(), busy.generators[n].state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), f"scale {n + 1} started elsewhere"


def test_copied_area_of_textured_blocks_leaves_out_flat_sky_that_matches_anywhere():
    """A sample whose flat part is the photo's and whose textured part is new 'copies' 60 % of its area by
    the plain rule, but none of its textured blocks; the photo itself copies every textured block."""
    from core.metrics import copied_area

    rng = np.random.default_rng(0)
    photo = np.full((40, 40, 3), (90, 140, 200), np.uint8)
    photo[:, 24:] = rng.integers(0, 256, (40, 16, 3))  # 8-px blocks: three flat columns, two textured
    sample = photo.copy()
    sample[:, 24:] = rng.integers(0, 256, (40, 16, 3))
    assert copied_area([sample], photo) == pytest.approx(0.6)
    assert copied_area([sample], photo, min_std=8) == 0.0
    assert copied_area([photo], photo, min_std=8) == 1.0
    assert copied_area([np.full_like(photo, 90)], photo, min_std=8) == 0.0
