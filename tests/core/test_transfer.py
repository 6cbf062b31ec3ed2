"""Transfer of a StyleGAN2 base to a folder of a few images (core.sketchgan.transfer, gan-transfer)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core.jobs import Cancelled, CancelToken, GanvasError
from core.sketchgan import draws
from core.sketchgan.model import StyleGANModel, load_model, save_model
from core.sketchgan.stylegan import Discriminator, Generator, StyleGANConfig
from core.sketchgan.transfer import transfer, transfer_config
from tests.core.test_sketchgan import _one_thread  # noqa: F401  (autouse: one torch thread per test)

TINY = StyleGANConfig(size=16, style_dim=16, n_mlp=2, max_channels=8)


def random_start(seed: int) -> StyleGANModel:
    """The networks a run with ``seed`` draws for its random start, as a model."""
    with draws.drawing_from(draws.Draws(seed)):
        g, d = Generator(TINY), Discriminator(TINY)
    return StyleGANModel(g.eval().requires_grad_(False), d, TINY, {"model_id": f"random-{seed}"})


def image_folder(folder: Path, n: int = 10) -> Path:
    """``n`` small images of several sizes and kinds: RGB, grey, RGBA and 16-bit grey."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        h, w = 20 + 3 * (i % 3), 24 + 5 * (i % 2)
        kind = i % 4
        if kind == 0:
            Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(folder / f"{i}.png")
        elif kind == 1:
            Image.fromarray(rng.integers(0, 255, (h, w), dtype=np.uint8)).save(folder / f"{i}.png")
        elif kind == 2:
            Image.fromarray(rng.integers(0, 255, (h, w, 4), dtype=np.uint8), "RGBA").save(folder / f"{i}.png")
        else:
            Image.fromarray(rng.integers(0, 65535, (h, w), dtype=np.uint16)).save(folder / f"{i}.png")
    return folder


def run(base, folder, out, *, iters=4, scratch=False, **kw):
    cfg = transfer_config(base, iters=iters, seed=3, batch=2, autosave_every=2, d_reg_every=2, **kw)
    return transfer(base, folder, cfg, out_dir=out, scratch=scratch)


def all_tensors(path) -> dict[str, torch.Tensor]:
    return load_model(path, with_training_state=True)[1]


def assert_same_weights(a, b) -> None:
    ta, tb = all_tensors(a), all_tensors(b)
    assert ta.keys() == tb.keys()
    different = [k for k in ta if not torch.equal(ta[k], tb[k])]
    assert not different, different[:5]


def test_a_transfer_killed_or_cancelled_resumes_to_the_weights_of_an_uninterrupted_run(tmp_path):
    folder, base = image_folder(tmp_path / "img"), random_start(11)
    run(base, folder, tmp_path / "whole")

    class Killed(Exception):
        pass

    def kill_at_3(p):
        if p.step >= 3:
            raise Killed  # not Cancelled: nothing is saved, the autosave of step 2 is what is left

    cfg = transfer_config(base, iters=4, seed=3, batch=2, autosave_every=2, d_reg_every=2)
    with pytest.raises(Killed):
        transfer(base, folder, cfg, out_dir=tmp_path / "killed", progress=kill_at_3)
    assert load_model(tmp_path / "killed").manifest["training"]["step"] == 2
    run(base, folder, tmp_path / "killed")
    assert_same_weights(tmp_path / "whole", tmp_path / "killed")

    token = CancelToken()
    with pytest.raises(Cancelled):
        transfer(base, folder, cfg, out_dir=tmp_path / "stopped",
                 progress=lambda p: p.step >= 1 and token.set(), cancel=token)
    assert load_model(tmp_path / "stopped").manifest["training"]["step"] == 1
    run(base, folder, tmp_path / "stopped")
    assert_same_weights(tmp_path / "whole", tmp_path / "stopped")


def test_scratch_and_a_base_start_differ_in_their_initial_weights_alone(tmp_path):
    folder = image_folder(tmp_path / "img")
    # a base that holds exactly the random weights seed 3 draws: transferring it is training from scratch
    scratch = run(random_start(3), folder, tmp_path / "scratch", scratch=True)
    same = run(random_start(3), folder, tmp_path / "same")
    other = run(random_start(5), folder, tmp_path / "other")
    assert_same_weights(tmp_path / "scratch", tmp_path / "same")
    assert scratch.manifest["start"] == "scratch" and same.manifest["start"] == "base"
    a, b = scratch.generator.state_dict(), other.generator.state_dict()
    assert any(not torch.equal(a[k], b[k]) for k in a)
    train = load_model(tmp_path / "other").manifest["training"]["config"]
    assert train["augment"] == "color,translation,cutout" and train["r1"] > 0


def test_a_bad_folder_is_refused_with_its_name(tmp_path):
    base = random_start(0)
    (tmp_path / "empty").mkdir()
    with pytest.raises(GanvasError, match="empty.*holds no images"):
        run(base, tmp_path / "empty", tmp_path / "o1")
    folder = image_folder(tmp_path / "img")
    (folder / "broken.png").write_bytes(b"not a png at all")
    with pytest.raises(GanvasError, match="broken.png"):
        run(base, folder, tmp_path / "o2")
    few = image_folder(tmp_path / "few", n=4)
    with pytest.raises(GanvasError, match="few.*4 image.*at least 10"):
        run(base, few, tmp_path / "o3")
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o3").exists()


def test_cli_transfer_writes_a_model_that_gan_sample_and_sketch_tune_open(tmp_path, capsys):
    from main import main

    folder = image_folder(tmp_path / "img")
    base = random_start(1)
    save_model(tmp_path / "base", base.generator, base.discriminator, {"source": "test"})
    out = tmp_path / "moved"
    assert main(["gan-transfer", "--images", str(folder), "--base", str(tmp_path / "base"), "--out", str(out),
                 "--iters", "2", "--batch", "2"]) == 0
    assert "saved" in capsys.readouterr().out
    assert main(["gan-sample", str(out), "--n", "2", "--out", str(tmp_path / "s")]) == 0
    images = sorted((tmp_path / "s").glob("sample_*.png"))
    assert len(images) == 2 and np.asarray(Image.open(images[0])).shape == (16, 16, 3)
    sk = tmp_path / "sk"
    sk.mkdir()
    ink = np.full((32, 32), 255, np.uint8)
    ink[8:24, 8] = ink[8:24, 24] = ink[8, 8:24] = ink[24, 8:25] = 0
    Image.fromarray(ink).save(sk / "box.png")
    assert main(["sketch-tune", str(out), "--sketches", str(sk), "--out", str(tmp_path / "tuned"),
                 "--iters", "1", "--retries", "0"]) == 0
    assert load_model(tmp_path / "tuned").manifest["image_regularisation"]["kind"] == "folder"
