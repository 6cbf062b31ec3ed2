"""Noise-padded models in every task, and ConSinGAN's harmonization fine-tuning (tiny models, seconds)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.compositing import composite_object
from core.jobs import Cancelled, CancelToken
from core.metrics import patch_swd
from core.singan import adapt as A
from core.singan import animate as AN
from core.singan import generate
from core.singan import requests as R
from core.singan import task_inputs as TI
from core.singan import tasks as T
from core.singan.generate import reconstruct
from core.singan.model import load_model, save_model
from core.singan.train import train_singan


@pytest.fixture(scope="module")
def padded(tiny_singan):
    """A tiny model with ConSinGAN's noise padding, no BatchNorm and two scales trained together
    (the ``fast`` and ``consingan`` presets' architecture)."""
    import cv2
    from skimage import data

    img = cv2.resize(data.coffee(), (48, 32), interpolation=cv2.INTER_AREA)
    cfg = tiny_singan.with_(noise_pad=True, batch_norm=False, train_depth=2, iters=40)
    return train_singan(img, cfg, seed=3, device="cpu")


@pytest.fixture
def pasted(padded):
    """A saturated cyan square pasted onto the training image: (naive composite, mask)."""
    obj = np.zeros((10, 10, 4), np.uint8)
    obj[..., :3] = (0, 200, 255)
    obj[2:8, 2:8, 3] = 255
    return composite_object(padded.image, obj, x=18, y=10, scale=1.2)


def _swd_inside(image, mask, training):
    ys, xs = np.nonzero(mask > 0.5)
    box = image[max(0, ys.min() - 3) : ys.max() + 4, max(0, xs.min() - 3) : xs.max() + 4]
    return patch_swd([box], [training], levels=1)


# ---------------------------------------------------------------- noise padding in every task

def test_every_task_feeds_a_noise_padded_model_as_it_was_trained(padded, monkeypatch):
    """Each task's generator inputs above the coarsest scale are built with noise padding (image
    upsampled into the border), never zero-padded as for a SinGAN-paper model; the coarsest scale,
    which has no image from below, is zero-padded as in ConSinGAN."""
    flags: list[bool] = []
    real = generate.scale_inputs

    def spy(prev, z, amp, hw, pad, noise_pad, batch, device):
        if prev is not None:
            flags.append(noise_pad)
        return real(prev, z, amp, hw, pad, noise_pad, batch, device)

    monkeypatch.setattr(generate, "scale_inputs", spy)
    monkeypatch.setattr(T, "scale_inputs", spy)
    img, h, w = padded.image, *padded.image.shape[:2]
    mask = np.zeros((h, w), np.float32)
    mask[6:12, 8:18] = 1
    requests = [
        R.PaintRequest(painting=img, scale=1),
        R.PaintRequest(painting=img, scale=1, quantize=True, quantize_iters=2),
        R.EditRequest(image=img, mask=mask, scale=1),
        R.HarmonizeRequest(image=img, mask=mask, scale=1, finetune_iters=2),
        R.SuperResolutionRequest(factor=2),
        R.AnimateRequest(frames=3),
        R.RetargetRequest(width=40, height=30),
    ]
    assert {r.name for r in requests} == set(R.REQUESTS)
    for req in requests:
        flags.clear()
        out = req.run(padded)
        assert out.dtype == np.uint8 and out.shape[-1] == 3, req.name
        assert flags and all(flags), f"{req.name}: {len(flags)} inputs, noise padding {set(flags)}"


def test_animation_without_motion_is_the_reconstruction_of_a_noise_padded_model(padded):
    frames = AN.animate(padded, scale=0, frames=3, alpha=1.0)  # α = 1: every frame is z*
    rec = generate.to_uint8(reconstruct(padded).clamp(-1, 1))[0]
    assert all(np.array_equal(f, rec) for f in frames)


# ---------------------------------------------------------------- the critic travels with the model

def test_training_keeps_the_last_critic_and_files_round_trip_it(padded, tmp_path):
    assert padded.critic is not None and "head.0.weight" in padded.critic
    save_model(padded, tmp_path / "m.ganvas")
    back = load_model(tmp_path / "m.ganvas", "cpu")
    assert back.critic.keys() == padded.critic.keys()
    assert all(torch.equal(back.critic[k].cpu(), v.cpu()) for k, v in padded.critic.items())


# ---------------------------------------------------------------- ConSinGAN fine-tuning

def test_finetune_trains_the_finest_scales_together_from_the_trained_critic(padded, pasted):
    comp, _ = pasted
    before = [{k: v.clone() for k, v in g.state_dict().items()} for g in padded.generators]
    critic = {k: v.clone() for k, v in padded.critic.items()}
    seen = []
    new = A.finetune_on(padded, comp, scale=1, iters=6, depth=2, progress=seen.append)
    assert new is not padded and new.model_id != padded.model_id
    # the given model is untouched
    assert all(torch.equal(b[k], v) for b, g in zip(before, padded.generators) for k, v in g.state_dict().items())

    def change(n):
        return sum((v - before[n][k]).abs().sum().item() for k, v in new.generators[n].state_dict().items())

    last = padded.num_trained - 1
    assert change(last - 2) == 0  # below the trained depth: frozen
    assert change(last) > 0 and 0 < change(last - 1) < change(last)  # the lower one at lr × 0.1
    assert any(not torch.equal(new.critic[k], critic[k]) for k in critic)  # the trained critic, trained further
    assert all(torch.equal(padded.critic[k], critic[k]) for k in critic)
    assert seen and seen[-1].stage == f"Fine-tuning scales {last - 1}–{last} ({new.shapes[-1][1]}×{new.shapes[-1][0]})"
    assert seen[-1].step == seen[-1].total == 6 and seen[-1].fraction == 1.0
    assert A.finetune_on(padded, comp, scale=1, iters=6, depth=2) is new  # same composite: cached


def test_finetune_without_a_stored_critic_says_it_starts_a_fresh_one(padded, pasted):
    comp, _ = pasted
    bare = A.copy_model(padded, "bare")
    bare.critic = None
    seen = []
    A.finetune_on(bare, comp, scale=1, iters=2, progress=seen.append)
    assert seen[-1].stage.endswith("fresh critic")


def test_finetuned_harmonization_moves_the_paste_towards_the_image_and_keeps_the_rest(padded, pasted):
    comp, mask = pasted
    out = T.harmonize(padded, comp, mask, scale=1, seed=0, finetune_iters=20)
    soft = TI.make_edit_mask(mask, TI.HARMONIZE_DILATE, TI.FEATHER)
    assert np.array_equal(out[soft == 0], comp[soft == 0])  # outside the feathered mask: bit for bit
    assert not np.array_equal(out, T.harmonize(padded, comp, mask, scale=1, seed=0))  # the fine-tune mattered
    assert _swd_inside(out, mask, padded.image) < _swd_inside(comp, mask, padded.image)


def test_finetune_cancels_and_leaves_nothing_behind(padded, pasted):
    comp, mask = pasted
    token = CancelToken()
    seen = []

    def progress(p):
        seen.append(p)
        token.set()

    before = {k: v.clone() for k, v in padded.generators[-1].state_dict().items()}
    with pytest.raises(Cancelled):
        T.harmonize(padded, comp, mask, scale=2, finetune_iters=A.FINETUNE_ITERS, progress=progress, cancel=token)
    assert seen and seen[-1].step < 5 and seen[-1].total == A.FINETUNE_ITERS and seen[-1].stage.startswith("Fine-tuning")
    assert all(torch.equal(before[k], v) for k, v in padded.generators[-1].state_dict().items())
    assert not any(k[0] == padded.model_id and k[3] == A.FINETUNE_ITERS for k in A._CACHES["finetune"])
