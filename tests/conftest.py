"""Shared test setup: headless Qt, few threads, fixed seeds, tiny real photos."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def photo() -> np.ndarray:
    """A real photo (scikit-image's CC0 'coffee'), shrunk to 48×32 for speed."""
    import cv2
    from skimage import data

    return cv2.resize(data.coffee(), (48, 32), interpolation=cv2.INTER_AREA)
