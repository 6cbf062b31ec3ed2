"""Shared test setup: headless Qt, few threads, fixed seeds, tiny real photos."""

import os
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

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


@pytest.fixture
def others_drawing() -> Callable[[], object]:
    """A context in which another thread keeps seeding and drawing from torch's and Python's global
    generators, as the Train dock's time estimate and a second studio job do on their threads."""
    import torch

    @contextmanager
    def drawing() -> Iterator[None]:
        stop = threading.Event()

        def draw() -> None:
            k = 0
            while not stop.is_set():
                torch.manual_seed(k)
                random.seed(k)
                torch.randn(64)
                random.random()
                k += 1

        other = threading.Thread(target=draw)
        other.start()
        try:
            yield
        finally:
            stop.set()
            other.join()

    return drawing
