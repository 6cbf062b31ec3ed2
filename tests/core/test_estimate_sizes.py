"""The Train dock's time for every size choice: one measurement at the chosen size, summed over each
size's own pyramid (core/singan/estimate.py)."""

from __future__ import annotations

import pytest

import core.singan.estimate as est
from core.singan.pyramid import pyramid_shapes
from tests.conftest import TINY_SINGAN


def test_every_size_is_timed_from_one_measurement_and_the_chosen_size_as_before(monkeypatch):
    measured = []

    def per_iteration(cfg, shapes, n, device):  # a fixed overhead plus work per pixel
        measured.append((cfg.max_size, n))
        h, w = shapes[n]
        return 0.01 + 1e-5 * h * w

    monkeypatch.setattr(est, "_seconds_per_iteration", per_iteration)
    cfg = TINY_SINGAN.with_(max_size=48, min_size=12)
    seconds = est.estimate_seconds_by_size(cfg, 96, 128, (32, 64, 96, 8))
    assert {size for size, _ in measured} == {48}  # measured once, at the chosen size only
    assert set(seconds) == {48, 32, 64, 96}  # 8 px is below the coarsest scale: left out
    assert seconds[48] == est.estimate_training_seconds(cfg, 96, 128)
    assert seconds[32] < seconds[48] < seconds[64] < seconds[96]
    # a size's time is its own pyramid's iterations at the line's per-step time
    big = cfg.with_(max_size=96)
    shapes = pyramid_shapes(96, 128, big)
    expected = sum(big.iters_at(n, len(shapes)) * (0.01 + 1e-5 * h * w) for n, (h, w) in enumerate(shapes))
    assert seconds[96] == pytest.approx(expected, rel=1e-6)
