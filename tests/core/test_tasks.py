"""SinGAN's tasks on a tiny model: paint, edit, harmonize (+ fine-tune), SR, animation, retargeting, export, CLI."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core import video
from core.images import palette_of, quantize_to_palette
from core.jobs import Cancelled, CancelToken, GanvasError
from core.singan import adapt as A
from core.singan import animate as AN
from core.singan import config as C
from core.singan import requests as R
from core.singan import task_inputs as TI
from core.singan import tasks as T
from core.singan.config import preset
from core.singan.model import save_model
from core.singan.train import train_singan


@pytest.fixture(scope="module")
def model(tiny_singan):
    import cv2
    from skimage import data

    img = cv2.resize(data.coffee(), (48, 32), interpolation=cv2.INTER_AREA)
    return train_singan(img, tiny_singan.with_(iters=40), seed=3, device="cpu")


@pytest.fixture(scope="module")
def model_dir(model, tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "tiny.ganvas"
    save_model(model, path)
    return path


def _square_mask(shape, box=(6, 12, 8, 18)):
    m = np.zeros(shape, np.float32)
    m[box[0] : box[1], box[2] : box[3]] = 1
    return m


# ---------------------------------------------------------------- palette and masks

def test_palette_quantisation_uses_only_palette_colours(model):
    pal = palette_of(model.image, 5)
    assert pal.shape == (5, 3) and pal.dtype == np.uint8
    rng = np.random.default_rng(0)
    painting = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    q = quantize_to_palette(painting, pal)
    colours = {tuple(c) for c in q.reshape(-1, 3)}
    assert colours <= {tuple(c) for c in pal}
    # each pixel goes to its nearest colour
    d = ((painting[:, :, None, :].astype(int) - pal[None, None].astype(int)) ** 2).sum(-1)
    assert np.array_equal(q, pal[d.argmin(-1)])
    assert np.array_equal(palette_of(model.image, 5), pal)  # deterministic


def test_edit_mask_is_dilated_and_feathered():
    m = np.zeros((60, 60), np.float32)
    m[28:32, 28:32] = 1
    soft = TI.make_edit_mask(m, dilate=10 / 60, feather=2 / 60)
    assert soft.dtype == np.float32 and soft.max() == 1.0
    assert soft[30, 30] == 1.0 and soft[30, 40] > 0.4  # 10 px away: inside the dilation
    assert soft[30, 50] == 0.0 and soft[2, 2] == 0.0  # beyond dilation + 3σ: untouched
    assert 0 < soft[30, 44] < 1  # the feathered edge
    assert TI.make_edit_mask(np.zeros((8, 8)), 0.3, 0.1).max() == 0


def test_edit_mask_is_relative_to_the_image_size():
    """The same mask on a 128-px and a 512-px image covers the same part of the picture."""
    import cv2

    small = np.zeros((64, 128), np.float32)
    small[28:36, 60:68] = 1
    big = cv2.resize(small, (512, 256), interpolation=cv2.INTER_NEAREST)
    a = TI.make_edit_mask(small)
    b = cv2.resize(TI.make_edit_mask(big), (128, 64), interpolation=cv2.INTER_AREA)
    assert np.abs(a - b).mean() < 0.02 and (a > 0.5).sum() == pytest.approx((b > 0.5).sum(), rel=0.15)
    r_small, _ = TI.mask_radii(small.shape, TI.EDIT_DILATE, TI.FEATHER)
    assert r_small == pytest.approx(128 * 0.08) and TI.mask_radii(big.shape, TI.EDIT_DILATE, TI.FEATHER)[0] == 4 * r_small
    with pytest.raises(GanvasError, match="fractions"):
        TI.make_edit_mask(small, dilate=20)


# ---------------------------------------------------------------- the tasks

def test_paint_to_image_shapes_and_determinism(model):
    painting = np.zeros_like(model.image)
    painting[:, : painting.shape[1] // 2] = (40, 20, 10)
    painting[:, painting.shape[1] // 2 :] = (220, 180, 140)
    a = T.paint_to_image(model, painting, scale=1, seed=1)
    b = T.paint_to_image(model, painting, scale=1, seed=1)
    c = T.paint_to_image(model, painting, scale=1, seed=2)
    assert a.shape == model.image.shape and a.dtype == np.uint8
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    # the layout of the painting survives: left half darker than right half
    assert a[:, : a.shape[1] // 3].mean() < a[:, -a.shape[1] // 3 :].mean()


def test_paint_accepts_a_larger_painting_of_the_same_frame(model):
    import cv2

    big = cv2.resize(model.image, (model.image.shape[1] * 3, model.image.shape[0] * 3))
    assert T.paint_to_image(model, big, scale=2, quantize=False).shape == model.image.shape


def test_edit_blend_leaves_pixels_outside_the_feathered_mask_untouched(model):
    img = model.image.copy()
    img[6:12, 8:18] = img[0:6, 0:10]  # a copy-paste edit
    mask = _square_mask(img.shape[:2])
    out = T.edit(model, img, mask, scale=1, seed=0, dilate=0.06, feather=0.02)
    soft = TI.make_edit_mask(mask, 0.06, 0.02)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.array_equal(out[soft == 0], img[soft == 0])
    assert not np.array_equal(out[soft > 0.9], img[soft > 0.9])


def test_harmonize_with_a_pasted_object_and_finetuning(model):
    obj = np.zeros((8, 8, 4), np.uint8)
    obj[..., :3] = (0, 200, 255)
    obj[2:6, 2:6, 3] = 255
    from core.compositing import composite_object

    comp, mask = composite_object(model.image, obj, x=10, y=5, scale=1.5)
    assert comp.shape == model.image.shape and mask.shape == model.image.shape[:2]
    assert mask.sum() > 0 and mask[0, 0] == 0
    out = T.harmonize(model, comp, mask, scale=2, dilate=0.04, feather=0.02)
    soft = TI.make_edit_mask(mask, 0.04, 0.02)
    assert np.array_equal(out[soft == 0], comp[soft == 0])
    seen = []
    tuned = T.harmonize(model, comp, mask, scale=2, dilate=0.04, feather=0.02, finetune_iters=4, progress=seen.append)
    assert tuned.shape == out.shape and any(p.stage.startswith("Fine-tuning") for p in seen)


def test_finetune_returns_a_new_model_and_leaves_the_old_one(model):
    before = {k: v.clone() for k, v in model.generators[-1].state_dict().items()}
    new = A.finetune_on(model, model.image, scale=1, depth=2, iters=3)
    assert new is not model and new.model_id != model.model_id
    assert all(torch.equal(before[k], v) for k, v in model.generators[-1].state_dict().items())
    assert any(not torch.equal(before[k], v) for k, v in new.generators[-1].state_dict().items())
    assert new.generators[0] is not model.generators[0]


@pytest.mark.parametrize("factor", [2, 4])
def test_super_resolution_size(model, factor):
    out = T.super_resolve(model, factor=factor, seed=0)
    h, w = model.image.shape[:2]
    assert out.shape == (h * factor, w * factor, 3) and out.dtype == np.uint8
    assert T.sr_steps(factor)[0] == {2: 3, 4: 6}[factor]  # passes as in the public code
    assert T.bicubic_upscale(model.image, factor).shape == out.shape


def test_sr_training_settings_match_the_public_code(tiny_singan):
    cfg = C.config_for_task(tiny_singan, "sr")
    assert abs(cfg.scale_factor - 0.7937) < 1e-3 and cfg.alpha == 100 and cfg.min_size == 18
    # whatever the preset: one scale at a time, zero padding, no patch loss (SinGAN's SR training)
    fast = C.config_for_task(preset("fast"), "sr")
    assert (fast.train_depth, fast.lambda_patch, fast.noise_pad) == (1, 0.0, False)
    assert C.config_for_task(tiny_singan, "animation").min_size == 20


def test_animation_frames_change_smoothly(model):
    frames = AN.animate(model, scale=0, frames=12, beta=0.9, seed=0)
    assert frames.shape == (12, *model.image.shape) and frames.dtype == np.uint8
    f = frames.astype(np.float32)
    consecutive = np.mean([np.abs(f[i + 1] - f[i]).mean() for i in range(11)])
    rng = np.random.default_rng(0)
    pairs = [tuple(rng.choice(12, 2, replace=False)) for _ in range(30)]
    random_pairs = np.mean([np.abs(f[i] - f[j]).mean() for i, j in pairs])
    assert 0 < consecutive < random_pairs
    looped = AN.animate(model, frames=6, loop=True)
    assert len(looped) == 10 and np.array_equal(looped[1], looped[-1])


def test_animation_frames_do_not_depend_on_batching(model, monkeypatch):
    one = AN.animate(model, frames=7, seed=2)
    monkeypatch.setattr(AN, "_frames_per_batch", lambda device, h, w: 3)  # as on a GPU
    assert np.abs(AN.animate(model, frames=7, seed=2).astype(int) - one).max() <= 1


def test_animation_below_the_chosen_scale_keeps_the_layout(model):
    coarse = AN.animate(model, scale=0, frames=4).astype(np.float32)
    fine = AN.animate(model, scale=2, frames=4).astype(np.float32)
    assert np.abs(fine[0] - fine[3]).mean() < np.abs(coarse[0] - coarse[3]).mean()


def test_gif_and_mp4_export_load_back(model, tmp_path):
    import cv2
    from PIL import Image

    frames = AN.animate(model, frames=5)
    gif = video.save_gif(tmp_path / "a.gif", frames, fps=10, loop=True)
    with Image.open(gif) as im:
        assert im.size == (frames.shape[2], frames.shape[1]) and 1 < im.n_frames <= 5
        assert im.info.get("duration") == 100 and im.info.get("loop") == 0
    mp4 = video.save_mp4(tmp_path / "a.mp4", frames, fps=10)
    cap = cv2.VideoCapture(str(mp4))
    read = []
    while True:
        ok, fr = cap.read()
        if not ok:
            break
        read.append(fr)
    cap.release()
    assert len(read) == 5 and read[0].shape[:2] == (frames.shape[1] + frames.shape[1] % 2,
                                                    frames.shape[2] + frames.shape[2] % 2)
    with pytest.raises(GanvasError, match="uint8 N×H×W×3"):
        video.save_gif(tmp_path / "b.gif", frames[0], fps=10)


@pytest.mark.parametrize("size", [(70, 20), (23, 41), (32, 21)])
def test_retarget_size_is_exact(model, size):
    out = T.retarget(model, width=size[0], height=size[1], scale=0, seed=4)
    assert out.shape == (size[1], size[0], 3)


def test_tasks_cancel(model):
    token = CancelToken()
    token.set()
    with pytest.raises(Cancelled):
        AN.animate(model, frames=4, cancel=token)


# ---------------------------------------------------------------- errors

def test_mask_of_the_wrong_size_names_both_sizes(model):
    bad = np.ones((10, 10), np.float32)
    h, w = model.image.shape[:2]
    with pytest.raises(GanvasError, match=rf"10×10 but the edited image is {w}×{h}"):
        T.edit(model, model.image, bad, scale=1)


def test_wrong_types_and_scales_are_named(model):
    with pytest.raises(GanvasError, match="numpy"):
        T.paint_to_image(model, [[1, 2, 3]], scale=1)
    with pytest.raises(GanvasError, match="injection scale must be between 1 and 2"):
        T.paint_to_image(model, model.image, scale=0)
    with pytest.raises(GanvasError, match="empty"):
        T.edit(model, model.image, np.zeros(model.image.shape[:2]), scale=1)
    with pytest.raises(GanvasError, match="does not fit this model"):
        T.paint_to_image(model, np.zeros((200, 30, 3), np.uint8), scale=1)
    with pytest.raises(GanvasError, match="factor"):
        T.super_resolve(model, factor=0.5)


# ---------------------------------------------------------------- CLI

def _run(argv):
    from core.cli import build_parser, run_command

    return run_command(build_parser().parse_args(argv))


def test_cli_runs_every_task(model, model_dir, tmp_path, capsys):
    from core.images import read_image, read_png_metadata, save_image

    inp = tmp_path / "in.png"
    save_image(inp, model.image)
    mask = tmp_path / "mask.png"
    save_image(mask, (_square_mask(model.image.shape[:2]) * 255).astype(np.uint8))
    obj = tmp_path / "obj.png"
    from PIL import Image

    rgba = np.zeros((6, 6, 4), np.uint8)
    rgba[..., 1] = 255
    rgba[1:5, 1:5, 3] = 255
    Image.fromarray(rgba).save(obj)
    m = str(model_dir)
    runs = {
        "paint.png": ["paint", m, "--input", str(inp), "--scale", "1"],
        "edit.png": ["edit", m, "--input", str(inp), "--mask", str(mask), "--dilate", "0.04"],
        "harm.png": ["harmonize", m, "--input", str(inp), "--object", str(obj), "--x", "5", "--y", "4"],
        "sr.png": ["sr", m, "--factor", "2"],
        "anim.gif": ["animate", m, "--frames", "4", "--loop"],
        "anim.mp4": ["animate", m, "--frames", "4"],
        "wide.png": ["retarget", m, "--width", "1.5x", "--height", "30"],
    }
    for out, argv in runs.items():
        assert _run(["apply", *argv, "--device", "cpu", "--out", str(tmp_path / out)]) == 0, argv
        assert (tmp_path / out).exists()
    h, w = model.image.shape[:2]
    assert read_image(tmp_path / "sr.png").rgb.shape == (2 * h, 2 * w, 3)
    assert read_image(tmp_path / "wide.png").rgb.shape == (30, round(1.5 * w), 3)
    meta = read_png_metadata(tmp_path / "paint.png")
    assert meta["task"] == "paint" and meta["scale"] == "1" and meta["model_id"] == model.model_id
    assert "wrote" in capsys.readouterr().out


def test_cli_errors_are_one_line_and_exit_1(model_dir, tmp_path, capsys):
    from core.images import save_image

    inp = tmp_path / "in.png"
    save_image(inp, np.zeros((21, 32, 3), np.uint8))
    bad_mask = tmp_path / "m.png"
    save_image(bad_mask, np.zeros((5, 5, 3), np.uint8))
    cases = [
        (["edit", str(model_dir), "--input", str(inp)], "edit mask (--mask) is missing"),
        (["edit", str(model_dir), "--input", str(inp), "--mask", str(bad_mask)], "5×5"),
        (["paint", str(model_dir), "--input", str(inp), "--scale", "9"], "injection scale"),
        (["animate", str(model_dir), "--frames", "3", "--out", str(tmp_path / "a.avi")], ".gif or .mp4"),
        (["retarget", str(model_dir), "--width", "wide"], "--width"),
    ]
    for argv, expected in cases:
        assert _run(["apply", *argv, "--device", "cpu"]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        errors = [line for line in err if line.startswith("error:")]
        assert len(errors) == 1 and expected in errors[0], err


# ---------------------------------------------------------------- quantised paint, SR noise

def test_quantised_paint_retrains_the_injection_scale_on_palette_inputs(model):
    before = {k: v.clone() for k, v in model.generators[1].state_dict().items()}
    seen = []
    tuned, pal = A.train_paint_scale(model, 1, colours=4, iters=3, progress=seen.append)
    assert tuned is not model and pal.shape == (4, 3) and any("4-colour" in p.stage for p in seen)
    assert all(torch.equal(before[k], v) for k, v in model.generators[1].state_dict().items())
    assert any(not torch.equal(before[k], v) for k, v in tuned.generators[1].state_dict().items())
    assert tuned.generators[2] is not model.generators[2]  # other scales copied, not shared
    assert A.train_paint_scale(model, 1, colours=4, iters=3)[0] is tuned  # cached
    painting = np.zeros_like(model.image)
    painting[:, painting.shape[1] // 2 :] = (230, 200, 170)
    out = T.paint_to_image(model, painting, scale=1, quantize=True, colours=4, quantize_iters=3)
    assert out.shape == model.image.shape and not np.array_equal(out, T.paint_to_image(model, painting, scale=1))


def test_super_resolution_first_pass_uses_grey_noise(model, monkeypatch):
    calls = []
    real = T.noise_for

    def spy(seed, scale, n, h, w, grey):
        calls.append(grey)
        return real(seed, scale, n, h, w, grey)

    monkeypatch.setattr(T, "noise_for", spy)
    T.super_resolve(model, factor=2)
    assert calls == [True, False, False]  # as the public code: its first SR step is drawn like scale 0


# ---------------------------------------------------------------- requests

def test_requests_report_every_problem_in_one_message():
    with pytest.raises(GanvasError) as err:
        R.EditRequest(image=None, mask=np.zeros(3), dilate=2.0, seed=-1, scale=-2)
    text = str(err.value)
    for part in ("Editing:", "seed", "injection scale", "edited image", "edit mask", "dilation"):
        assert part in text, text
    with pytest.raises(GanvasError, match="a mask .* or an object"):
        R.HarmonizeRequest(image=np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(GanvasError, match="number of frames.*; frames per second"):
        R.AnimateRequest(frames=1, fps=0)


def test_requests_resolve_task_defaults_and_record_them(model):
    img = model.image
    assert R.PaintRequest(painting=img).resolved(model).scale == model.num_trained // 2
    assert R.EditRequest(image=img, mask=img[..., 0]).resolved(model).scale == model.num_trained // 2
    assert R.AnimateRequest().resolved(model).scale == 0 and R.RetargetRequest().resolved(model).scale == 0
    h, w = model.shapes[-1]
    r = R.RetargetRequest(width=70).resolved(model)
    assert (r.width, r.height) == (70, h)
    meta = R.RetargetRequest(width=70, seed=4).metadata(model)
    assert meta == {"task": "retarget", "seed": "4", "scale": "0", "width": "70", "height": str(h),
                    "model_id": model.model_id, "software": "Ganvas"}
    req = R.RetargetRequest(width=40, height=20, scale=0, seed=4)
    assert np.array_equal(req.run(model), T.retarget(model, width=40, height=20, scale=0, seed=4))
    assert set(R.REQUESTS) == {"paint", "edit", "harmonize", "sr", "animate", "retarget"}
    R.AnimateRequest().check_output("a.gif")
    R.EditRequest(image=img, mask=img[..., 0]).check_output("a.png")
    with pytest.raises(GanvasError, match=".gif or .mp4"):
        R.AnimateRequest().check_output("a.avi")


def test_harmonize_request_pastes_the_object_itself(model):
    from core.compositing import composite_object

    obj = np.zeros((8, 8, 4), np.uint8)
    obj[..., 0] = 255
    obj[2:6, 2:6, 3] = 255
    req = R.HarmonizeRequest(image=model.image, object=obj, x=10, y=5, object_scale=1.5, scale=2, dilate=0.04)
    comp, mask = req.composite()
    ref_comp, ref_mask = composite_object(model.image, obj, x=10, y=5, scale=1.5)
    assert np.array_equal(comp, ref_comp) and np.array_equal(mask, ref_mask)
    assert np.array_equal(req.run(model), T.harmonize(model, ref_comp, ref_mask, scale=2, dilate=0.04))
    assert req.metadata(model)["x"] == "10" and "object" not in req.metadata(model)
