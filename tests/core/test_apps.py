"""Harmonize and edit taught as ConSinGAN does (augmented photos), SR back-projection (tiny models, seconds)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.jobs import Cancelled, CancelToken, GanvasError
from core.singan import adapt as A
from core.singan import requests as R
from core.singan import tasks as T
from core.singan.augment import augment
from core.singan.pyramid import resize
from core.singan.train import train_singan


@pytest.fixture(scope="module")
def model(tiny_singan):
    import cv2
    from skimage import data

    img = cv2.resize(data.coffee(), (48, 32), interpolation=cv2.INTER_AREA)
    return train_singan(img, tiny_singan.with_(iters=20), seed=4, device="cpu")


@pytest.mark.parametrize("kind", ["harmonize", "edit"])
def test_augmented_copies_change_regions_and_repeat_with_the_seed(photo, kind):
    a = augment(photo, kind, np.random.default_rng(1))
    b = augment(photo, kind, np.random.default_rng(1))
    assert a.shape == photo.shape and a.dtype == np.uint8
    assert np.array_equal(a, b)
    changed = np.mean([(augment(photo, kind, np.random.default_rng(s)) != photo).any(axis=2).mean() for s in range(8)])
    assert 0.02 < changed < 0.6  # regions, not the whole photo


def test_edit_augmentation_moves_the_photo_own_pixels(photo):
    """Editing's copies hold no colour the photo does not have (ConSinGAN's shuffled tiles)."""
    out = augment(photo, "edit", np.random.default_rng(3))
    colours = {tuple(c) for c in photo.reshape(-1, 3)}
    assert all(tuple(c) in colours for c in out.reshape(-1, 3))


def test_unknown_augmentation_is_named(photo):
    with pytest.raises(GanvasError, match="recolour"):
        augment(photo, "recolour", np.random.default_rng(0))


def test_adapting_trains_the_scales_from_the_injection_scale_up_on_a_new_model(model):
    before = [{k: v.clone() for k, v in g.state_dict().items()} for g in model.generators]
    seen = []
    new = A.adapt_to_edits(model, "harmonize", scale=1, iters=3, progress=seen.append)

    def changed(m, n):
        return any(not torch.equal(v, before[n][k]) for k, v in m.generators[n].state_dict().items())

    assert new is not model and new.model_id != model.model_id
    assert not changed(new, 0) and changed(new, 1) and changed(new, 2)
    assert not any(changed(model, n) for n in range(model.num_trained))
    assert seen and seen[-1].stage.startswith("Learning to harmonize scales 1–2")
    assert A.adapt_to_edits(model, "harmonize", scale=1, iters=3) is new  # cached


def test_harmonize_and_edit_with_adaptation_change_only_the_masked_region(model):
    img = model.image.copy()
    mask = np.zeros(img.shape[:2], np.float32)
    mask[8:20, 10:26] = 1
    img[8:20, 10:26] = (0, 220, 255)
    far = np.ones_like(mask, bool)
    far[:, :40] = False  # beyond the dilated, feathered mask
    for task in (T.harmonize, T.edit):
        plain = task(model, img, mask, scale=1, seed=2)
        taught = task(model, img, mask, scale=1, seed=2, adapt_iters=2)
        assert not np.array_equal(plain, taught)
        assert np.array_equal(taught[far], img[far])


def test_adapting_can_be_cancelled_and_keeps_nothing(model):
    token = CancelToken()
    token.set()
    with pytest.raises(Cancelled):
        A.adapt_to_edits(model, "edit", scale=2, iters=5, cancel=token)
    assert not any(k[0] == model.model_id and k[1] == "edit" and k[3] == 5 for k in A._CACHES["adapt"])


def test_adaptation_settings_are_checked(model, photo):
    with pytest.raises(GanvasError, match="adaptation iterations"):
        R.EditRequest(image=photo, mask=np.ones(photo.shape[:2]), adapt_iters=-1)
    with pytest.raises(GanvasError, match="at least one iteration"):
        A.adapt_to_edits(model, "edit", scale=1, iters=0)


def test_super_resolution_gives_the_input_back_when_shrunk(model):
    low = model.image[:16, :24]
    out = T.super_resolve(model, low, factor=4, seed=1)
    plain = T.super_resolve(model, low, factor=4, seed=1, consistent=False)

    def shrunk_error(x):
        t = torch.from_numpy(x).permute(2, 0, 1)[None].float()
        return float((resize(t, low.shape[:2]) - torch.from_numpy(low).permute(2, 0, 1)[None]).abs().mean())

    assert out.shape == plain.shape == (64, 96, 3)
    assert shrunk_error(out) < 0.5 * shrunk_error(plain)
    assert shrunk_error(out) < 4.0


def test_super_resolution_request_can_run_the_plain_loop(model):
    plain = R.SuperResolutionRequest(factor=2, consistent=False).run(model)
    assert np.array_equal(plain, T.super_resolve(model, factor=2, consistent=False))
    assert not np.array_equal(plain, R.SuperResolutionRequest(factor=2).run(model))
