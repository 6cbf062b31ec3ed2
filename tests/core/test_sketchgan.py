"""StyleGAN2 + Sketch Your Own GAN engine: networks, import, photo->sketch, fine-tuning, CLI, DDP."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from core.checkpoints import CheckpointError
from core.jobs import Cancelled, CancelToken
from core.sketchgan.evaluate import chamfer_distance, edge_distance, edge_match, image_edges, sketch_match
from core.sketchgan.finetune import SketchTuneError, sketch_tune
from core.sketchgan.imports import import_rosinality
from core.sketchgan.model import StyleGANModel, generate_images, interpolate, load_model, save_model
from core.sketchgan.ops import upfirdn2d
from core.sketchgan.pretrain import PretrainConfig, train_gan
from core.sketchgan.sketch import ink_to_sketch_tensor, photo_to_sketch, sketch_of_image
from core.sketchgan.stylegan import Discriminator, Generator, ModulatedConv2d, StyleGANConfig
from core.sketchgan.tune_config import preset as tune_preset

TINY = StyleGANConfig(size=32, style_dim=32, n_mlp=2, max_channels=16)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _one_thread():
    # tiny networks: one thread avoids oversubscription on a shared 2-core machine
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def tiny_model(seed: int = 0) -> StyleGANModel:
    torch.manual_seed(seed)
    g, d = Generator(TINY).eval(), Discriminator(TINY)
    g.requires_grad_(False)
    return StyleGANModel(g, d, TINY, {"model_id": "tiny"})


def circle_sketch(size: int = 128, cx: float = 0.5, cy: float = 0.5, r: float = 0.3) -> np.ndarray:
    ink = np.zeros((size, size), np.uint8)
    cv2.circle(ink, (int(cx * size), int(cy * size)), int(r * size), 255, max(2, size // 40), cv2.LINE_AA)
    return ink.astype(np.float32) / 255.0


# --- networks -----------------------------------------------------------------------------------


def test_generator_and_discriminator_shapes_for_every_supported_size():
    for size in (32, 64):
        cfg = StyleGANConfig(size=size, style_dim=16, n_mlp=2, max_channels=8)
        g, d = Generator(cfg), Discriminator(cfg)
        img = g(torch.randn(3, 16))
        assert img.shape == (3, 3, size, size)
        assert d(img).shape == (3, 1)
        assert g.n_latent == 2 * int(np.log2(size)) - 2


def test_same_seed_same_image_and_different_seeds_differ():
    model = tiny_model()
    a = generate_images(model, [1, 2, 3])
    b = generate_images(model, [3, 1])
    assert a.dtype == np.uint8 and a.shape == (3, 32, 32, 3)
    assert np.array_equal(a[0], b[1]) and np.array_equal(a[2], b[0])
    assert not np.array_equal(a[0], a[1])
    d = model.discriminator.eval()
    x = torch.randn(4, 3, 32, 32)
    assert torch.equal(d(x), d(x))


def test_truncation_pulls_samples_towards_the_mean_and_interpolation_ends_at_the_seeds():
    model = tiny_model()
    full = generate_images(model, list(range(8))).astype(np.float32)
    trunc = generate_images(model, list(range(8)), truncation=0.2).astype(np.float32)
    assert trunc.std(axis=0).mean() < full.std(axis=0).mean()
    frames = interpolate(model, 5, 9, [0.0, 0.5, 1.0])
    assert frames.shape == (3, 32, 32, 3)
    assert np.abs(frames[0].astype(int) - generate_images(model, [5])[0]).max() <= 1


def test_upsample_of_a_constant_is_constant_inside_and_unfused_modulation_matches_fused():
    x = torch.ones(1, 1, 8, 8)
    k = torch.tensor([[1.0, 3, 3, 1]]).T @ torch.tensor([[1.0, 3, 3, 1]])
    up = upfirdn2d(x, k / k.sum() * 4, up=2, pad=(2, 1))
    assert up.shape == (1, 1, 16, 16)
    assert torch.allclose(up[..., 2:-2, 2:-2], torch.ones(1, 1, 12, 12))
    torch.manual_seed(0)
    for kw in ({}, {"upsample": True}, {"downsample": True}):
        conv = ModulatedConv2d(6, 5, 3, 8, **kw)
        x, s = torch.randn(2, 6, 8, 8), torch.randn(2, 8)
        conv.fused = True
        a = conv(x, s)
        conv.fused = False
        assert torch.allclose(a, conv(x, s), atol=1e-4)


# --- rosinality import ------------------------------------------------------------------------


def rosinality_state(size: int, style_dim: int, n_mlp: int, cm: int, max_ch: int):
    """Generator + discriminator tensors named and shaped as rosinality's model.py writes them
    (written out from its layout, independently of our modules)."""
    ch = {r: min(max_ch, 16384 * cm // r) for r in (4, 8, 16, 32, 64, 128, 256)}
    g: dict[str, torch.Tensor] = {}
    for i in range(1, n_mlp + 1):
        g[f"style.{i}.weight"] = torch.randn(style_dim, style_dim)
        g[f"style.{i}.bias"] = torch.zeros(style_dim)

    def styled(prefix, cin, cout, k, up=False):
        g[f"{prefix}.conv.weight"] = torch.randn(1, cout, cin, k, k)
        g[f"{prefix}.conv.modulation.weight"] = torch.randn(cin, style_dim)
        g[f"{prefix}.conv.modulation.bias"] = torch.ones(cin)
        if up:
            g[f"{prefix}.conv.blur.kernel"] = torch.ones(4, 4) / 4
        g[f"{prefix}.noise.weight"] = torch.zeros(1)
        g[f"{prefix}.activate.bias"] = torch.zeros(cout)

    def to_rgb(prefix, cin, up=True):
        if up:
            g[f"{prefix}.upsample.kernel"] = torch.ones(4, 4) / 4
        g[f"{prefix}.conv.weight"] = torch.randn(1, 3, cin, 1, 1)
        g[f"{prefix}.conv.modulation.weight"] = torch.randn(cin, style_dim)
        g[f"{prefix}.conv.modulation.bias"] = torch.ones(cin)
        g[f"{prefix}.bias"] = torch.zeros(1, 3, 1, 1)

    g["input.input"] = torch.randn(1, ch[4], 4, 4)
    styled("conv1", ch[4], ch[4], 3)
    to_rgb("to_rgb1", ch[4], up=False)
    log = int(np.log2(size))
    prev = ch[4]
    for i, lv in enumerate(range(3, log + 1)):
        r = 2**lv
        styled(f"convs.{2 * i}", prev, ch[r], 3, up=True)
        styled(f"convs.{2 * i + 1}", ch[r], ch[r], 3)
        to_rgb(f"to_rgbs.{i}", ch[r])
        prev = ch[r]
    for j in range((log - 2) * 2 + 1):
        res = 2 ** ((j + 5) // 2)
        g[f"noises.noise_{j}"] = torch.randn(1, 1, res, res)
    d: dict[str, torch.Tensor] = {
        "convs.0.0.weight": torch.randn(ch[size], 3, 1, 1),
        "convs.0.1.bias": torch.zeros(ch[size]),
    }
    for k, lv in enumerate(range(log, 2, -1), start=1):
        cin, cout = ch[2**lv], ch[2 ** (lv - 1)]
        d[f"convs.{k}.conv1.0.weight"] = torch.randn(cin, cin, 3, 3)
        d[f"convs.{k}.conv1.1.bias"] = torch.zeros(cin)
        d[f"convs.{k}.conv2.0.kernel"] = torch.ones(4, 4) / 16
        d[f"convs.{k}.conv2.1.weight"] = torch.randn(cout, cin, 3, 3)
        d[f"convs.{k}.conv2.2.bias"] = torch.zeros(cout)
        d[f"convs.{k}.skip.0.kernel"] = torch.ones(4, 4) / 16
        d[f"convs.{k}.skip.1.weight"] = torch.randn(cout, cin, 1, 1)
    d["final_conv.0.weight"] = torch.randn(ch[4], ch[4] + 1, 3, 3)
    d["final_conv.1.bias"] = torch.zeros(ch[4])
    d["final_linear.0.weight"] = torch.randn(ch[4], ch[4] * 16)
    d["final_linear.0.bias"] = torch.zeros(ch[4])
    d["final_linear.1.weight"] = torch.randn(1, ch[4])
    d["final_linear.1.bias"] = torch.zeros(1)
    return g, d


def test_import_of_a_rosinality_training_checkpoint_is_a_straight_load(tmp_path):
    g_state, d_state = rosinality_state(32, 24, 3, cm=2, max_ch=16)
    ckpt = {"g": g_state, "d": d_state, "g_ema": g_state, "g_optim": {}, "d_optim": {},
            "args": argparse.Namespace(size=32, channel_multiplier=2)}
    torch.save(ckpt, tmp_path / "070000.pt")
    model = import_rosinality(tmp_path / "070000.pt", tmp_path / "imported")
    assert model.config.size == 32 and model.config.style_dim == 24 and model.config.n_mlp == 3
    for k, v in model.generator.state_dict().items():
        assert torch.equal(v, g_state[k]), k
    back = load_model(tmp_path / "imported")
    img = generate_images(back, [0, 1])
    assert img.shape == (2, 32, 32, 3)
    assert back.discriminator is not None


def test_import_names_the_offending_tensor_when_the_layout_is_wrong(tmp_path):
    g_state, _ = rosinality_state(32, 24, 3, cm=2, max_ch=16)
    bad = dict(g_state)
    bad["convs.1.conv.weight"] = torch.randn(1, 16, 8, 3, 3)  # wrong in-channels
    torch.save(bad, tmp_path / "netG.pth")
    with pytest.raises(CheckpointError, match=r"convs\.1\.conv\.weight.*expected"):
        import_rosinality(tmp_path / "netG.pth")
    renamed = {k.replace("to_rgb1.", "torgb_first."): v for k, v in g_state.items()}
    torch.save(renamed, tmp_path / "renamed.pth")
    with pytest.raises(CheckpointError, match=r"missing .*to_rgb1"):
        import_rosinality(tmp_path / "renamed.pth")
    torch.save({"weights": [1, 2, 3]}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="g_ema"):
        import_rosinality(tmp_path / "other.pt")


# --- photo -> sketch ---------------------------------------------------------------------------


def test_xdog_turns_a_photo_into_sparse_lines_and_passes_gradients(photo):
    ink = sketch_of_image(photo)
    assert ink.shape == photo.shape[:2]
    assert 0.02 < (ink > 0.5).mean() < 0.4  # lines, not a filled or empty page
    flat = sketch_of_image(np.full((32, 32, 3), 128, np.uint8))
    assert flat.max() < 0.5  # no edges, no ink
    x = torch.zeros(1, 3, 32, 32, requires_grad=True)
    with torch.no_grad():
        x[..., 8:24, 8:24] = 0.8
    photo_to_sketch(x).mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_chamfer_distance_grows_with_the_shape_difference():
    a = circle_sketch(64)
    assert chamfer_distance(a, a) == 0.0
    near = chamfer_distance(a, circle_sketch(64, cx=0.55))
    far = chamfer_distance(a, circle_sketch(64, cx=0.7))
    assert 0 < near < far


# --- fine-tuning --------------------------------------------------------------------------------


def test_tiny_fine_tune_moves_the_sketches_of_samples_towards_the_user_sketch(tmp_path):
    base = tiny_model(seed=3)
    sketches = [circle_sketch(96, r=0.3), circle_sketch(96, cx=0.45, r=0.32)]
    seeds = list(range(500, 524))
    before = sketch_match(base, sketches, seeds)["chamfer_mean"]
    edges_before = edge_match(base, sketches, seeds)["canny_chamfer_mean"]
    cfg = tune_preset("cpu", iters=90, trainable="all", l_image=0.0, r1=0.0, preview_every=30, seed=1)
    previews = []
    tuned = sketch_tune(base, sketches, cfg, out_dir=tmp_path / "tuned",
                        progress=lambda p: p.preview is not None and previews.append(p.preview))
    after = sketch_match(tuned, sketches, seeds)["chamfer_mean"]
    assert after < 0.95 * before, (before, after)
    # measured on the images' own edges, which the training never sees (measured: 2.98 -> 2.41 px on
    # an AMD EPYC; 60 steps gave 2.64 there, at the bound: the CPU's kernels move the figure a few per cent)
    edges_after = edge_match(tuned, sketches, seeds)["canny_chamfer_mean"]
    assert edges_after < 0.88 * edges_before, (edges_before, edges_after)
    assert previews and previews[-1].shape[1] > previews[-1].shape[0]  # before/after grid, 8 seeds wide
    # the base is untouched and the result loads back with the same samples
    assert np.array_equal(generate_images(base, [0]), generate_images(tiny_model(seed=3), [0]))
    back = load_model(tmp_path / "tuned")
    assert back.manifest["source"] == "sketch-tune" and back.manifest["sketches"]["count"] == 2
    assert np.array_equal(generate_images(back, [7]), generate_images(tuned, [7]))


def test_mapping_only_fine_tune_changes_only_the_mapping_network():
    base = tiny_model()
    cfg = tune_preset("cpu", iters=2, preview_every=100, l_image=0.7)
    tuned = sketch_tune(base, [circle_sketch(32)], cfg)
    for (name, p0), p1 in zip(base.generator.state_dict().items(), tuned.generator.state_dict().values()):
        assert torch.equal(p0, p1) != name.startswith("style."), name
    shifted = sketch_tune(base, [circle_sketch(32)], tune_preset("cpu", iters=2, trainable="w_shift"))
    assert shifted.config.w_shift and "style.3.w_shift" in shifted.generator.state_dict()


def test_the_tuned_model_is_the_running_average_of_the_trained_weights(tmp_path):
    from core.sketchgan.finetune import EMA_RAMPUP

    base, sketch = tiny_model(), [circle_sketch(32)]

    def mapping(model: StyleGANModel) -> dict[str, torch.Tensor]:
        return {k: v for k, v in model.generator.state_dict().items() if k.startswith("style.")}

    # the raw weights after 1, 2 and 3 steps (the average never feeds back into training)
    raw = [mapping(sketch_tune(base, sketch, tune_preset("cpu", iters=n, ema_half_life=0, l_image=0.0, retries=0)))
           for n in (1, 2, 3)]
    cfg = tune_preset("cpu", iters=3, ema_half_life=0.25, l_image=0.0, retries=0)
    averaged = sketch_tune(base, sketch, cfg, out_dir=tmp_path / "avg")
    expected = mapping(base)
    for step, weights in enumerate(raw):
        decay = 0.5 ** (1 / min(0.25, EMA_RAMPUP * (step + 1)))
        expected = {k: decay * expected[k] + (1 - decay) * weights[k] for k in expected}
    got = mapping(averaged)
    assert all(torch.allclose(got[k], expected[k], atol=1e-6) for k in expected)
    assert not all(torch.equal(got[k], raw[-1][k]) for k in got)  # the average, not the last step
    # the averaged model is what is saved and what loads back
    assert np.array_equal(generate_images(load_model(tmp_path / "avg"), [5]), generate_images(averaged, [5]))
    with pytest.raises(SketchTuneError, match="ema_half_life must be 0"):
        tune_preset("cpu", ema_half_life=-1)


def test_a_tune_that_misses_the_shape_is_run_again_with_the_next_seed_and_the_best_run_is_kept(tmp_path, capsys,
                                                                                                   monkeypatch):
    import core.sketchgan.finetune as finetune

    base, sketch = primitives_base(), [circle_sketch(32)]
    said = []
    # an aim no tiny tune reaches (the samples' outline 99 % nearer the sketch): a second try is made
    monkeypatch.setattr(finetune, "RETRY_BELOW", 0.99)
    cfg = tune_preset("cpu", iters=3, l_image=0.0, retries=1, seed=0)
    tuned = sketch_tune(base, sketch, cfg, out_dir=tmp_path / "t", progress=lambda p: said.append(p))
    tries = tuned.manifest["training"]["tries"]
    assert [t["seed"] for t in tries] == [0, 1] and all(t["outline_change"] > -0.99 for t in tries)
    assert any("did not take the shape" in p.message and "seed 1" in p.message for p in said)
    assert any(p.stage.endswith("try 2 (seed 1)") for p in said)
    # the better of the two runs is the result, and it is what the folder holds, with the tries
    best = min(tries, key=lambda t: t["outline_change"])["seed"]
    alone = sketch_tune(base, sketch, cfg.with_(retries=0, seed=best))
    assert np.array_equal(generate_images(tuned, [3]), generate_images(alone, [3]))
    back = load_model(tmp_path / "t")
    assert np.array_equal(generate_images(back, [3]), generate_images(tuned, [3]))
    assert back.manifest["training"]["tries"] == tries
    assert alone.manifest["training"]["tries"] == []  # without retries: one run, no check
    # the check needs figures on a plain background: any other base is tuned once
    assert sketch_tune(tiny_model(), sketch, cfg).manifest["training"]["tries"] == []
    # the command line names the tries
    save_model(tmp_path / "base", base.generator, base.discriminator, base.manifest)
    from core.images import save_image
    from core.sketchgan.sketch import ink_to_rgb

    (tmp_path / "sk").mkdir()
    save_image(tmp_path / "sk" / "a.png", ink_to_rgb(circle_sketch(64)))
    assert run_cli("sketch-tune", tmp_path / "base", "--sketches", tmp_path / "sk", "--out", tmp_path / "c",
                   "--iters", 2, "--retries", 1) == 0
    out = capsys.readouterr().out
    assert "The first run missed the shape, so it was tuned 2 times (seed 0: " in out and "kept seed" in out
    assert "fine-tuned the whole generator" in out and "and 216 renders of your figures" in out


def test_fine_tune_refuses_blank_sketches_and_stops_on_cancel(tmp_path):
    base = tiny_model()
    with pytest.raises(SketchTuneError, match="blank"):
        sketch_tune(base, [np.zeros((32, 32), np.float32)], tune_preset("cpu", iters=1))
    with pytest.raises(SketchTuneError, match="at least one sketch"):
        sketch_tune(base, [], tune_preset("cpu", iters=1))
    token = CancelToken()

    def cancel_after_first(p):
        token.set()

    with pytest.raises(Cancelled):
        sketch_tune(base, [circle_sketch(32)], tune_preset("cpu", iters=50), out_dir=tmp_path / "t",
                    progress=cancel_after_first, cancel=token)
    assert load_model(tmp_path / "t").manifest["training"]["finished"] is False


# --- pretraining, checkpoints and CLI -----------------------------------------------------------


def tiny_pretrain(**kw) -> PretrainConfig:
    base = {
        "model": TINY,
        "iters": 3,
        "batch": 4,
        "autosave_every": 2,
        "preview_every": 2,
        "d_reg_every": 2,
    }
    base.update(kw)
    return PretrainConfig(**base)


def test_pretrain_autosaves_and_resumes_where_it_stopped(tmp_path):
    data = torch.rand(10, 3, 32, 32) * 2 - 1
    previews = []
    train_gan(data, tiny_pretrain(), out_dir=tmp_path / "m",
              progress=lambda p: p.preview is not None and previews.append(p.preview))
    m = load_model(tmp_path / "m")
    assert m.manifest["training"]["step"] == 3 and previews
    train_gan(data, tiny_pretrain(iters=5), out_dir=tmp_path / "m")
    assert load_model(tmp_path / "m").manifest["training"]["step"] == 5
    with pytest.raises(CheckpointError, match="different"):
        train_gan(data, tiny_pretrain(model=StyleGANConfig(size=32, style_dim=8, n_mlp=1, max_channels=8)),
                  out_dir=tmp_path / "m")


def test_one_seed_pretrains_and_tunes_one_model_while_other_threads_draw_from_the_global_generators(tmp_path,
                                                                                                   others_drawing):
    data = torch.rand(10, 3, 32, 32) * 2 - 1
    sketch, tune = [circle_sketch(32)], tune_preset("cpu", iters=3, l_image=0.0, retries=0, seed=4)

    def both(out: Path) -> tuple[StyleGANModel, StyleGANModel]:
        base = train_gan(data, tiny_pretrain(mixing=0.9, seed=3), out_dir=out)
        return base, sketch_tune(base, sketch, tune)

    quiet = both(tmp_path / "quiet")
    with others_drawing():
        busy = both(tmp_path / "busy")
    for a, b in zip(quiet, busy):
        wa, wb = a.generator.state_dict(), b.generator.state_dict()
        assert all(torch.equal(wa[k], wb[k]) for k in wa)
        assert np.array_equal(generate_images(a, [1, 2]), generate_images(b, [1, 2]))


def test_save_load_round_trip_keeps_samples(tmp_path):
    model = tiny_model()
    save_model(tmp_path / "m", model.generator, model.discriminator, {"source": "test"})
    back = load_model(tmp_path / "m")
    assert np.array_equal(generate_images(back, [4, 5]), generate_images(model, [4, 5]))


def run_cli(*args) -> int:
    """The real command line, in-process (a subprocess per call would mostly time Python start-up)."""
    from main import main

    return main([str(a) for a in args])


def test_cli_sample_and_tune_write_files_with_metadata(tmp_path, capsys):
    from core.images import read_png_metadata, save_image
    from core.sketchgan.sketch import ink_to_rgb

    model = tiny_model()
    save_model(tmp_path / "base", model.generator, model.discriminator, {"source": "test"})
    (tmp_path / "sk").mkdir()
    save_image(tmp_path / "sk" / "a.png", ink_to_rgb(circle_sketch(64)))
    tuned = tmp_path / "tuned"
    assert (
        run_cli(
            "sketch-tune", tmp_path / "base", "--sketches", tmp_path / "sk", "--out", tuned, "--iters", 2,
            "--sketch-style", "filled", "--ema-half-life", 50,
        )
        == 0
    )
    said = capsys.readouterr().out
    assert "fine-tuned the mapping network on 1 sketches" in said and "on sketches filled" in said and "half-life of 50 steps" in said
    assert load_model(tuned).manifest["training"]["config"]["ema_half_life"] == 50
    assert load_model(tuned).manifest["sketches"]["style"] == "filled"  # asked for, though the base is no figure base
    assert (
        run_cli("gan-sample", tuned, "--n", 3, "--out", tmp_path / "s", "--seed", 10, "--truncation", 0.7)
        == 0
    )
    files = sorted((tmp_path / "s").glob("*.png"))
    assert len(files) == 3
    meta = read_png_metadata(files[0])
    assert meta["seed"] == "10" and meta["truncation"] == "0.7"
    assert run_cli("gan-sample", tmp_path / "nope", "--out", tmp_path / "s") == 1
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert run_cli("sketch-tune", tmp_path / "base", "--sketches", tmp_path / "empty", "--out", tuned) == 1
    assert "no sketch images" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_pretrain_runs_data_parallel_under_torchrun_on_cpu_with_gloo(tmp_path):
    from core.images import save_image

    (tmp_path / "img").mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        save_image(tmp_path / "img" / f"{i}.png", rng.integers(0, 255, (32, 32, 3), dtype=np.uint8))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--nnodes=1",
           f"--master_port={_free_port()}", "main.py", "gan-pretrain", "--images", str(tmp_path / "img"),
           "--out", str(tmp_path / "ddp"), "--size", "32", "--max-channels", "8", "--style-dim", "16",
           "--iters", "3", "--batch", "2", "--r1", "0.5"]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=240)
    assert r.returncode == 0, r.stderr[-3000:]
    m = load_model(tmp_path / "ddp")
    assert m.manifest["training"]["world_size"] == 2 and m.manifest["training"]["step"] == 3
    assert m.manifest["training"]["config"]["r1"] == 0.5  # --r1 reaches the recipe and is recorded
    assert r.stdout.count("saved") == 1  # only rank 0 reports and writes


# --- issue 18: a sketch map with gradients, real-data regularisation, saved critics, edge measure ----


def test_the_smooth_sketch_map_passes_gradients_in_blank_regions_and_keeps_paper_white():
    x = torch.full((1, 3, 32, 32), 0.4)
    x[..., 10:22, 10:22] = -0.6  # one dark square; everything else is blank paper in F
    x.requires_grad_(True)
    s = photo_to_sketch(x)
    assert s[0, 0, 2:6, 2:6].min() > 0.99  # blank paper is white (+1)
    assert s[0, 0, 10:22, 10].max() < 0.0  # the square's outline is ink
    weights = torch.randn(s.shape, generator=torch.Generator().manual_seed(0))
    (s * weights).sum().backward()
    blank = x.grad[0, :, 1:6, 1:6].abs()  # far from the square: a hard XDoG cut gives exactly 0 here
    assert (blank > 1e-4).float().mean() > 0.9, blank.mean()


def square_image(size: int, x0: int, y0: int, w: int, h: int) -> np.ndarray:
    img = np.full((size, size, 3), 200, np.uint8)
    cv2.rectangle(img, (x0, y0), (x0 + w, y0 + h), (30, 60, 120), -1)
    return img


def box_ink(size: int, x0: int, y0: int, w: int, h: int) -> np.ndarray:
    ink = np.zeros((size, size), np.float32)
    cv2.rectangle(ink, (x0, y0), (x0 + w, y0 + h), 1.0, 1)
    return ink


@pytest.mark.parametrize("method", ["canny", "outline"])
def test_edge_distance_is_measured_on_the_images_own_edges(method):
    tall = square_image(64, 24, 8, 16, 48)
    wide = square_image(64, 8, 24, 48, 16)
    edges = image_edges(tall, method)
    assert edges.any() and edges.mean() < 0.2  # an outline, not a filled shape
    target = [box_ink(64, 24, 8, 16, 48)]
    near, far = edge_distance(np.stack([tall, wide]), target, method)
    assert near < 1.5 and far > 4 * near, (near, far)
    # a low-contrast texture in the background does not count as shape
    rng = np.random.default_rng(0)
    noisy = np.clip(tall.astype(int) + rng.integers(-6, 7, tall.shape), 0, 255).astype(np.uint8)
    assert edge_distance(noisy[None], target, method)[0] < near + 0.5


def primitives_base(size: int = 32, count: int = 24) -> StyleGANModel:
    model = tiny_model()
    model.manifest = {"model_id": "prim", "data": {"kind": "primitives", "preset": "sketch-shapes",
                                                   "count": count, "seed": 5, "size": size}}
    return model


def test_the_image_critic_sees_the_bases_training_data_regenerated_from_its_manifest(tmp_path):
    from core.primitives import generate_batch, preset
    from core.sketchgan.finetune import regularisation_images
    from core.sketchgan.pretrain import primitives_preset_of

    base = primitives_base()
    images, info = regularisation_images(base, tune_preset("cpu"))
    assert info["kind"] == "primitives" and info["preset"] == "sketch-shapes" and len(images) == 24
    expected = generate_batch(preset("sketch-shapes"), 5, 0, 24, 32, 32)  # the base's own images
    assert np.abs((images.permute(0, 2, 3, 1).numpy() + 1) * 127.5 - expected).max() < 1
    assert primitives_preset_of({"kind": "primitives", "variant": "pink-salient"}) == "pink-salient"  # older bases
    # an imported base records no data: 'auto' falls back to its samples, 'data' says why it cannot
    imported = tiny_model()
    assert regularisation_images(imported, tune_preset("cpu"))[0] is None
    with pytest.raises(SketchTuneError, match="does not say what it was trained on"):
        regularisation_images(imported, tune_preset("cpu", image_data="data"))
    gone = tiny_model()
    gone.manifest = {"data": {"kind": "folder", "folder": str(tmp_path / "gone")}}
    with pytest.raises(SketchTuneError, match="gone"):
        regularisation_images(gone, tune_preset("cpu", image_data="data"))


def test_a_tuned_model_saves_its_image_critic_and_a_second_tuning_starts_from_it(tmp_path):
    base = primitives_base()
    sk = [circle_sketch(32)]
    cfg = tune_preset("cpu", iters=3, preview_every=100, autosave_every=100, l_image=0.7)
    first = sketch_tune(base, sk, cfg, out_dir=tmp_path / "t1")
    back = load_model(tmp_path / "t1")
    assert back.manifest["image_regularisation"]["kind"] == "primitives"
    assert back.manifest["data"]["preset"] == "sketch-shapes"  # carried on for the next tuning
    assert back.sketch_discriminator is not None
    d0, d1, ds = (m.state_dict() for m in (base.discriminator, back.discriminator, back.sketch_discriminator))
    key = "final_linear.1.weight"
    assert not torch.equal(d0[key], d1[key]) and not torch.equal(d1[key], ds[key])
    assert torch.equal(d1[key], first.discriminator.state_dict()[key])
    # with λ_image 0 the image critic is not trained: the saved one is the base's, unchanged
    plain = sketch_tune(base, sk, cfg.with_(l_image=0.0), out_dir=tmp_path / "t0")
    assert torch.equal(load_model(tmp_path / "t0").discriminator.state_dict()[key], d0[key])
    assert plain.manifest["image_regularisation"]["kind"] == "samples"
    # a second tuning reads the tuned model's data record and critic
    second = sketch_tune(tmp_path / "t1", sk, cfg, out_dir=tmp_path / "t2")
    assert second.manifest["image_regularisation"]["kind"] == "primitives"
    assert second.manifest["base"]["model_id"] == back.model_id


def test_closed_sketches_are_filled_and_redrawn_by_f_for_a_base_of_solid_figures(tmp_path):
    from core.sketchgan.evaluate import chamfer_distance
    from core.sketchgan.finetune import critic_sketches
    from core.sketchgan.sketch import sketch_as_f_draws_it, sketch_silhouette

    circle = circle_sketch(128)
    stroke = np.zeros((128, 128), np.float32)
    cv2.line(stroke, (10, 100), (110, 20), 1.0, 3)  # an open line encloses nothing
    figure = sketch_silhouette(circle)
    assert figure[64, 64] and figure[64, 64 - int(0.3 * 128)] and not figure[2, 2]
    assert sketch_silhouette(stroke) is None and sketch_as_f_draws_it(stroke, 32) is None
    # redrawn, the circle is the line F draws round a filled disc of that size: F's width, not the pen's
    redrawn = sketch_as_f_draws_it(circle, 32)
    disc = np.full((32, 32, 3), 255, np.uint8)
    cv2.circle(disc, (16, 16), round(0.3 * 32), (128, 128, 128), -1, cv2.LINE_AA)
    f_of_disc = sketch_of_image(disc)
    assert chamfer_distance(redrawn, f_of_disc) < 0.2  # the pen's thinner circle: 0.31
    drawn_at_32 = (1 - ink_to_sketch_tensor(circle, 32)[0, 0].numpy()) / 2
    assert (redrawn > 0.5).sum() > 1.3 * (drawn_at_32 > 0.5).sum()
    # "auto": filled for a base of solid figures (open strokes stay as drawn), drawn for any other base
    base = primitives_base()
    shown, info = critic_sketches([circle, stroke], base, tune_preset("cpu"), "cpu")
    assert info == {"style": "filled", "filled": 1, "as_drawn": 1}
    as_drawn, other = critic_sketches([circle, stroke], tiny_model(), tune_preset("cpu"), "cpu")
    assert other == {"style": "drawn"}
    assert torch.equal(shown[1], as_drawn[1]) and not torch.equal(shown[0], as_drawn[0])
    assert critic_sketches([circle], base, tune_preset("paper"), "cpu")[1]["style"] == "drawn"  # the paper's
    # the tuned model records what its sketch critic saw
    sketch_tune(base, [circle], tune_preset("cpu", iters=2, l_image=0.0), out_dir=tmp_path / "t")
    assert load_model(tmp_path / "t").manifest["sketches"]["style"] == "filled"
    with pytest.raises(SketchTuneError, match="sketch_style must be one of auto, drawn, filled"):
        tune_preset("cpu", sketch_style="painted")


def test_figure_renders_draw_the_sketched_figure_as_the_data_draws_figures():
    from core.primitives import PrimitivesError, figure_images, preset

    box = np.zeros((32, 32), np.float32)
    box[6:26, 11:21] = 1.0
    cfg = preset("sketch-shapes")
    images = figure_images(cfg, [box], 6, seed=3)
    assert np.array_equal(images, figure_images(cfg, [box], 6, seed=3))  # same (seed, i), same pixels
    luma = images.astype(np.float32) @ np.float32([0.299, 0.587, 0.114])
    for img, y in zip(images, luma):
        inside = img[10:22, 15:17].reshape(-1, 3)  # inside the figure whatever its 2-px shift
        assert (inside == inside[0]).all()  # one solid colour
        assert abs(float(y[10:22, 15:17].mean()) - float(y[:, :3].mean())) > 50  # it stands out
    assert len({tuple(img[16, 16]) for img in images}) > 3  # in many colours
    with pytest.raises(PrimitivesError, match="must all be 32×32"):
        figure_images(cfg, [box, np.zeros((16, 16), np.float32)], 2)


def test_a_stroke_overshooting_a_corner_is_no_part_of_the_figure():
    from core.sketchgan.sketch import sketch_silhouette

    ink = np.zeros((256, 256), np.float32)
    cv2.rectangle(ink, (90, 50), (166, 206), 1.0, 4)
    cv2.line(ink, (166, 206), (196, 206), 1.0, 4)  # the bottom stroke runs on past the corner
    figure = sketch_silhouette(ink)
    assert figure[128, 128] and figure[206, 160] and not figure[206, 190]


def test_for_a_figure_base_the_image_critic_sees_the_sketched_figures_and_the_whole_generator_trains(tmp_path):
    from core.sketchgan.finetune import figure_renders

    base, sketch = primitives_base(), [circle_sketch(64)]
    renders = figure_renders(sketch, base, 5)
    assert renders.shape == (5, 3, 32, 32) and renders.min() >= -1 and renders.max() <= 1
    cfg = tune_preset("cpu", iters=2, retries=0)
    tuned = sketch_tune(base, sketch, cfg, out_dir=tmp_path / "t")
    # the base's 24 data images and nine times as many renders (share 0.9); "auto" trained the whole generator
    assert tuned.manifest["image_regularisation"]["figure_renders"] == 216
    assert load_model(tmp_path / "t").manifest["training"]["config"]["trainable"] == "all"
    before = dict(base.generator.named_parameters())
    changed = {n for n, p in tuned.generator.named_parameters() if not torch.equal(p, before[n])}
    assert any(n.startswith("style.") for n in changed) and any(n.startswith("convs.") for n in changed)
    # without renders (off, or a base that did not learn figures) "auto" trains the mapping network only
    plain = sketch_tune(base, sketch, cfg.with_(figure_renders=0.0))
    assert "figure_renders" not in plain.manifest["image_regularisation"]
    assert plain.manifest["training"]["config"]["trainable"] == "mapping"
    assert figure_renders(sketch, tiny_model(), 5) is None
    with pytest.raises(SketchTuneError, match=r"figure_renders must be within \[0, 1\)"):
        tune_preset("cpu", figure_renders=1.0)


def test_presets_are_one_table_and_bad_settings_are_reported_together():
    from core.cli.sketchgan import PRETRAIN_PRESETS, TRANSFER_ITERS, TUNE_PRESETS
    from core.sketchgan import pretrain
    from core.sketchgan import tune_config as finetune
    from core.sketchgan.transfer import DEFAULT_ITERS

    assert tuple(finetune.PRESETS) == TUNE_PRESETS and tuple(pretrain.PRESETS) == PRETRAIN_PRESETS
    assert TRANSFER_ITERS == DEFAULT_ITERS  # the CLI's default steps are the studio's
    assert finetune.preset("cpu", iters=7).iters == 7 and finetune.preset("cpu").preset == "cpu"
    p = pretrain.preset("gpu", size=64, iters=None)
    assert p.model.size == 64 and p.model.max_channels == 512 and p.iters == 200_000
    with pytest.raises(SketchTuneError, match=r"trainable.*; batch and iters"):
        finetune.SketchTuneConfig(trainable="nope", iters=0)
    with pytest.raises(SketchTuneError, match="Unknown sketch fine-tuning preset 'fast'.*cpu, paper"):
        finetune.preset("fast")
    with pytest.raises(pretrain.PretrainError, match=r"iters and batch.*; mixing"):
        pretrain.PretrainConfig(iters=0, mixing=2)


def test_cpu_time_estimate_follows_the_benchmarks():
    from core.sketchgan.tune_config import estimate_cpu_seconds

    one = tune_preset("cpu", iters=1)
    small = estimate_cpu_seconds(StyleGANConfig(size=32, style_dim=128, n_mlp=8, max_channels=32), one)
    big = estimate_cpu_seconds(StyleGANConfig(size=256), one)
    assert 0.08 < small < 0.12 and 120 < big < 160  # bench/sketchgan.py: 0.099 s and 138 s per step
