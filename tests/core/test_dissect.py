"""GAN Dissection with a painted concept (core/dissect.py), the `dissect` command, and detectability
(core/detect.py), on tiny untrained models whose units are known."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from core import dissect as D
from core.cli import build_parser, run_command
from core.detect import detectability
from core.images import read_png_metadata, save_image
from core.jobs import GanvasError
from core.singan.model import SinGANModel, save_model
from core.singan.networks import make_networks
from core.singan.pyramid import pyramid_shapes
from tests.conftest import TINY_SINGAN

PLANTED = 3  # the unit of scale 2's head that copies the red channel of the image below it


def planted_model() -> SinGANModel:
    """An untrained three-scale SinGAN (no BatchNorm) whose finest scale has no noise, weights large
    enough to pass a signal, and a head unit PLANTED that is 5 × the red channel of its input: that unit
    draws 'the red parts of the image'."""
    torch.manual_seed(0)
    config = TINY_SINGAN.with_(batch_norm=False)
    shapes = pyramid_shapes(32, 48, config)
    img = cv2.resize(data.coffee(), shapes[-1][::-1], interpolation=cv2.INTER_AREA)
    model = SinGANModel(config=config, image=img, shapes=shapes, z_rec=torch.randn(1, 1, *shapes[0]).expand(1, 3, -1, -1),
                        model_id="planted")
    for n in range(len(shapes)):
        model.add_scale(make_networks(config, n, seed=n)[0], 1.0 if n < len(shapes) - 1 else 0.0)
    head = model.generators[-1].head[0]
    with torch.no_grad():
        for g in model.generators:  # from N(0, 0.02) to a gain near 1 (the tails less, so each scale
            for conv in g.modules():  # still looks like the one below it)
                if isinstance(conv, torch.nn.Conv2d):
                    conv.weight *= 3 if conv is g.tail else 12
        head.weight[PLANTED] = 0
        head.weight[PLANTED, 0, 1, 1] = 5.0
        head.bias[PLANTED] = 0
    return model


def red_below(model: SinGANModel, seed: int) -> np.ndarray:
    """Where the image entering the finest scale (what the planted unit sees) is reddest."""
    from core.singan.generate import SampleSettings, sample_tensor
    from core.singan.pyramid import resize

    below = resize(sample_tensor(model, SampleSettings(seed=seed), end_scale=model.num_trained - 2),
                   model.shapes[-1])[0, 0].numpy()
    return (below > np.quantile(below, 0.75)).astype(np.float32)


def test_ranking_finds_the_planted_unit():
    model = planted_model()
    layer = f"scale{model.num_trained - 1}.block0"
    region = red_below(model, 5)
    d = D.dissect(model, layer, region, seed=5)
    assert d.top(1) == [PLANTED]
    assert d.iou[PLANTED] > 0.6 > float(np.sort(d.iou)[-2])
    # over several samples, the region carried by colour still singles it out
    many = D.dissect(model, layer, region, seed=5, samples=4)
    assert many.top(1) == [PLANTED] and many.samples == 4
    assert many.maps.shape == (8, *region.shape) and "4 samples" in many.describe()


def test_ablation_inside_a_brushed_area_changes_the_image_there_only():
    model = planted_model()
    layer = f"scale{model.num_trained - 1}.block1"
    before = D.draw_with(model, None, 1)
    area = np.zeros(before.shape[:2], np.float32)
    area[6:15, 10:22] = 1
    iv = D.Intervention(layer, (0, 1, 2, 3, 4, 5, 6, 7))
    after = D.draw_with(model, D.Intervention(layer, iv.units, area=area), 1)
    change = np.abs(after.astype(int) - before).sum(-1)
    assert change[7:14, 11:21].mean() > 3
    far = np.ones_like(area, bool)
    far[1:20, 5:27] = False  # beyond the 3 convolutions after block 1 (±3 px) and the bilinear edge
    assert change[far].max() == 0
    everywhere = D.draw_with(model, iv, 1)
    assert np.abs(everywhere.astype(int) - before).sum(-1)[far].mean() > 0


def test_intervention_is_honoured_by_sampling_and_recorded_in_the_png(tmp_path):
    from core.singan.generate import SampleSettings, sample

    model = planted_model()
    plain = sample(model, SampleSettings(seed=2))[0]
    d = D.dissect(model, f"scale{model.num_trained - 1}.block0", red_below(model, 2), seed=2)
    iv = D.Intervention.from_dissection(d, 2, "activate")
    D.set_intervention(model, iv)
    try:
        changed = sample(model, SampleSettings(seed=2))[0]
        assert np.abs(changed.astype(int) - plain).mean() > 1
        meta = D.intervention_metadata(model)
        save_image(tmp_path / "x.png", changed, meta)
    finally:
        D.set_intervention(model, None)
    back = read_png_metadata(tmp_path / "x.png")
    assert back["dissect_mode"] == "activate" and back["dissect_units"] == ",".join(map(str, iv.units))
    assert back["dissect_area"] == "everywhere"
    assert np.array_equal(sample(model, SampleSettings(seed=2))[0], plain)  # removed: as trained again
    assert D.intervention_metadata(model) == {}


def test_bad_layer_unit_and_mask_are_named():
    model = planted_model()
    with pytest.raises(GanvasError, match="scale7.block0"):
        D.dissect(model, "scale7.block0", np.ones((21, 32)), seed=0)
    with pytest.raises(GanvasError, match="20×10"):
        D.dissect(model, None, np.ones((10, 20)), seed=0)
    with pytest.raises(GanvasError, match="no unit 99"):
        D.set_intervention(model, D.Intervention("scale0.block0", (99,)))


def test_stylegan_layers_can_be_dissected_and_switched():
    from tests.core.test_sketchgan import tiny_model

    model = tiny_model()
    subject = D.subject_for(model)
    assert subject.layers()[0] == "res4.conv0"
    layer = subject.layers()[3]
    before = D.draw_with(model, None, 4)
    region = np.zeros(before.shape[:2], np.float32)
    region[: before.shape[0] // 2] = 1
    d = D.dissect(model, layer, region, seed=4, samples=2)
    after = D.draw_with(model, D.Intervention.from_dissection(d, 3), 4)
    assert d.maps.shape[1:] == before.shape[:2]
    assert np.abs(after.astype(int) - before).mean() > 0.5


def test_dissect_command_before_is_the_sample_and_writes_units(tmp_path):
    model = planted_model()
    save_model(model, tmp_path / "m.ganvas")
    assert run_command(build_parser().parse_args(
        ["sample", str(tmp_path / "m.ganvas"), "--seed", "7", "--n", "1", "--out", str(tmp_path / "s"),
         "--device", "cpu"])) == 0
    sampled = np.asarray(Image.open(tmp_path / "s" / "sample_00007.png"))
    mask = (red_below(model, 7) * 255).astype(np.uint8)
    Image.fromarray(mask).save(tmp_path / "mask.png")
    out = tmp_path / "d"
    args = ["dissect", str(tmp_path / "m.ganvas"), "--seed", "7", "--mask", str(tmp_path / "mask.png"),
            "--layer", "scale2.block0", "--top", "2", "--out", str(out), "--device", "cpu"]
    assert run_command(build_parser().parse_args(args)) == 0
    assert np.array_equal(np.asarray(Image.open(out / "before.png")), sampled)
    assert not np.array_equal(np.asarray(Image.open(out / "after.png")), sampled)
    units = json.loads((out / "units.json").read_text())
    assert units["units"][0]["unit"] == PLANTED and {"unit", "iou", "threshold"} <= set(units["units"][0])
    assert read_png_metadata(out / "after.png")["dissect_units"].startswith(str(PLANTED))
    assert Image.open(out / "units.png").size[0] > 48


def test_dissect_command_errors_name_the_mask_and_the_layer(tmp_path, capsys):
    save_model(planted_model(), tmp_path / "m.ganvas")
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(tmp_path / "small.png")
    base = ["dissect", str(tmp_path / "m.ganvas"), "--out", str(tmp_path / "d"), "--device", "cpu"]
    assert run_command(build_parser().parse_args([*base, "--mask", str(tmp_path / "small.png")])) == 1
    assert "small.png is 20×20 px" in capsys.readouterr().err
    Image.fromarray(np.zeros((21, 32), np.uint8)).save(tmp_path / "ok.png")
    assert run_command(build_parser().parse_args([*base, "--mask", str(tmp_path / "ok.png"), "--layer", "conv9"])) == 1
    assert "Unknown layer 'conv9'" in capsys.readouterr().err


def test_detectability_is_one_on_separable_sets_and_a_half_on_identical_ones():
    photo = cv2.resize(data.astronaut(), (96, 64), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(0)
    noisy = [np.clip(photo + rng.normal(0, 40, photo.shape), 0, 255).astype(np.uint8) for _ in range(3)]
    easy = detectability([photo], noisy, patch=16, patches=200, repeats=2)
    assert easy["dct"].accuracy > 0.95
    assert easy["dct"].coefficient_accuracy[7, 7] > 0.9  # noise gives itself away at the highest frequencies
    # a linear model on pixels sees colour, not grain (the point of frequency-domain features)
    tinted = photo.copy()
    tinted[..., 0] = 255
    tinted = [tinted]
    assert detectability([photo], tinted, patch=16, patches=200, repeats=2)["pixels"].accuracy > 0.95
    same = detectability([photo], [photo, photo], patch=16, patches=200, repeats=3)
    assert abs(same["dct"].accuracy - 0.5) < 0.08 and abs(same["pixels"].accuracy - 0.5) < 0.08
