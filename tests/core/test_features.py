"""The weight-free CNN feature distances: what a softened, noisy or different image scores."""

import numpy as np
import pytest

from core.features import (
    feature_distance,
    feature_distance_by_stage,
    image_embeddings,
    image_features,
    kernel_distance,
    paired_feature_distance,
)
from core.images import resize
from core.jobs import GanvasError


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    from skimage import data

    return resize(data.astronaut(), 64, 64)


def softened(img: np.ndarray, factor: float) -> np.ndarray:
    h, w = img.shape[:2]
    return resize(resize(img, round(w * factor), round(h * factor)), w, h)


def test_softer_images_are_farther(photo):
    same = feature_distance([photo], [photo], seed=1)
    soft = [feature_distance([softened(photo, f)], [photo]) for f in (0.8, 0.5)]
    assert same < soft[0] / 5 < soft[1] / 5
    assert 0 < paired_feature_distance(softened(photo, 0.8), photo) < paired_feature_distance(softened(photo, 0.5), photo)
    assert paired_feature_distance(photo, photo) == pytest.approx(0, abs=1e-6)


def test_other_content_is_farther_than_noise_free_copies(photo):
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, photo.shape, dtype=np.uint8)
    assert feature_distance([noise], [photo]) > 10 * feature_distance([photo, photo[:, ::-1]], [photo])


def test_deterministic_and_per_stage(photo):
    soft = softened(photo, 0.7)
    stages = feature_distance_by_stage([soft], [photo])
    assert len(stages) == 3 and all(s > 0 for s in stages)
    assert feature_distance([soft], [photo]) == pytest.approx(float(np.mean(stages)))
    assert feature_distance([soft], [photo]) == feature_distance([soft], [photo])


def test_errors_name_the_problem(photo):
    with pytest.raises(GanvasError, match="one size"):
        paired_feature_distance(photo, photo[:32])
    with pytest.raises(GanvasError, match="uint8"):
        feature_distance([photo.astype(np.float32)], [photo])
    with pytest.raises(GanvasError, match="at least one image"):
        feature_distance([], [photo])


def crops(photo, n: int, seed: int, size: int = 32) -> list:
    rng = np.random.default_rng(seed)
    h, w = photo.shape[:2]
    return [photo[y : y + size, x : x + size] for y, x in zip(rng.integers(0, h - size, n), rng.integers(0, w - size, n))]


def test_kernel_distance_of_image_sets_is_near_zero_for_one_source_and_grows_for_blurred_copies(photo):
    import cv2

    a, b = crops(photo, 40, 1), crops(photo, 40, 2)
    blurred = [cv2.GaussianBlur(c, (0, 0), 1.5) for c in b]
    same, spread = kernel_distance(a, b, subsets=20)
    far, _ = kernel_distance(blurred, a, subsets=20)
    assert abs(same) < far / 10 and spread > 0
    emb = image_embeddings(a[:3])
    assert emb.shape == (3, 448)
    assert np.allclose(emb[2, :32], image_features(a[2])[0].mean((1, 2)).numpy(), atol=1e-5)
    with pytest.raises(GanvasError, match="one size"):
        image_embeddings([a[0], photo[:20, :30]])
