"""Exports at 2× and 4× (core/patchnn/upscale.py): sizes, determinism, the job contract, the CLI flag."""

import numpy as np
import pytest

from core.images import read_png_metadata
from core.jobs import Cancelled, CancelToken, GanvasError
from core.upscale import scale_up


def test_a_x4_export_is_four_times_the_size_and_keeps_the_picture(photo):
    big = scale_up(photo, 4)
    assert big.shape == (4 * photo.shape[0], 4 * photo.shape[1], 3) and big.dtype == np.uint8
    import cv2

    # shrunk back, it is the input again (back-projection), not another picture
    back = cv2.resize(big, (photo.shape[1], photo.shape[0]), interpolation=cv2.INTER_AREA)
    assert np.abs(back.astype(float) - photo).mean() < 6.0
    assert np.array_equal(big, scale_up(photo, 4)), "the same input gives the same export"
    import cv2 as _cv

    bic = _cv.resize(photo, (big.shape[1], big.shape[0]), interpolation=_cv.INTER_CUBIC)
    assert not np.array_equal(big, bic), "back-projection changes the bicubic enlargement"


def test_progress_is_reported_and_cancel_stops_it(photo):
    seen = []
    scale_up(photo, 2, progress=seen.append)
    assert seen and seen[-1].step == seen[-1].total
    token = CancelToken()
    token.set()
    with pytest.raises(Cancelled):
        scale_up(photo, 2, cancel=token)


def test_bad_factors_and_huge_exports_are_refused_with_the_value(photo):
    with pytest.raises(GanvasError, match="one of 2, 4 .got 3"):
        scale_up(photo, 3)
    with pytest.raises(GanvasError, match="8000×8000"):
        scale_up(np.zeros((2000, 2000, 3), np.uint8), 4)


def test_sample_scale_up_writes_4x_pngs_that_say_so(tmp_path):
    import cv2
    from skimage import data

    import main
    from core.singan.model import save_model
    from core.singan.train import train_singan
    from tests.conftest import TINY_SINGAN

    img = cv2.resize(data.coffee(), (48, 32), interpolation=cv2.INTER_AREA)
    model = train_singan(img, TINY_SINGAN.with_(iters=10), seed=0, device="cpu")
    save_model(model, tmp_path / "m.ganvas")
    out = tmp_path / "s"
    assert main.main(["sample", str(tmp_path / "m.ganvas"), "--n", "2", "--scale-up", "4", "--out", str(out)]) == 0
    files = sorted(out.glob("*.png"))
    assert len(files) == 2
    h, w = model.image.shape[:2]
    from core.images import load_image

    assert load_image(files[0]).shape == (4 * h, 4 * w, 3)
    meta = read_png_metadata(files[0])
    assert meta["scale_up"] == "4" and meta["size"] == f"{4 * w}x{4 * h}" and meta["model_id"] == model.model_id
