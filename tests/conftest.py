"""Shared test setup: headless Qt, few threads, fixed seeds, tiny real photos."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# One OpenMP thread that sleeps when idle: tiny tensors gain nothing from a second thread, and
# spinning threads starve everything else on a shared 2-core machine (CI runs beside other work).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from core.singan.config import SinGANConfig  # noqa: E402


@pytest.fixture
def photo() -> np.ndarray:
    """A real photo (scikit-image's CC0 'coffee'), shrunk to 48×32 for speed."""
    import cv2
    from skimage import data

    return cv2.resize(data.coffee(), (48, 32), interpolation=cv2.INTER_AREA)


#: The one tiny SinGAN config of the tests: 32 px, three scales, narrow nets, 30 iterations a scale
#: (seconds on a CPU). A test that needs a variant says which: ``TINY_SINGAN.with_(iters=40)``.
TINY_SINGAN = SinGANConfig(max_size=32, min_size=12, iters=30, d_steps=1, g_steps=1, nfc=8, max_nfc=16, preset="tiny")


@pytest.fixture(scope="session")
def tiny_singan() -> SinGANConfig:
    return TINY_SINGAN
