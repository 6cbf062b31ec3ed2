"""How long a training will take on this machine, measured rather than guessed.

A cost model written for one CPU is wrong on the next one, and wrong on the same one when other
work shares it. So the estimate runs the real training step on random networks for a few
iterations at the coarsest and the finest scale, right now, and interpolates the scales between
by their pixel count (a step costs a fixed overhead plus work proportional to its area).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import numpy as np
import torch

from core.jobs import GanvasError
from core.singan.config import SinGANConfig
from core.singan.model import SinGANModel
from core.singan.networks import make_networks
from core.singan.pyramid import pyramid_shapes


def estimate_training_seconds(config: SinGANConfig, height: int, width: int,
                              device: torch.device | str = "cpu") -> float:
    """Seconds a full training of a ``height``×``width`` image with ``config`` should take here.

    Costs about 5 iterations of the coarsest and of the finest scale (well under a second for the
    ``fast`` preset at 128 px on 2 cores). An estimate: the machine's load may change.
    """
    return estimate_seconds_by_size(config, height, width, (), device)[config.max_size]


def estimate_seconds_by_size(config: SinGANConfig, height: int, width: int, sizes: Iterable[int] = (),
                             device: torch.device | str = "cpu") -> dict[int, float]:
    """Seconds a training should take here at ``config.max_size`` and at each of ``sizes`` (the finest
    scale's longer side), from one measurement at ``config.max_size``: a step's time is a fixed
    overhead plus work proportional to its scale's area, the line through the measured coarsest and
    finest scales, summed over each size's own pyramid and iterations. So the Train dock shows every
    size choice's time for the price of one. A size the photo cannot train at is left out.
    """
    shapes = pyramid_shapes(height, width, config)
    areas = [h * w for h, w in shapes]
    ends = sorted({0, len(shapes) - 1})
    per_iter = {n: _seconds_per_iteration(config, shapes, n, torch.device(device)) for n in ends}
    t0, a0 = per_iter[ends[0]], areas[0]
    slope = (per_iter[ends[-1]] - t0) / max(1, areas[-1] - a0)

    def total(cfg: SinGANConfig) -> float:
        pyramid = pyramid_shapes(height, width, cfg)
        return sum(cfg.iters_at(n, len(pyramid)) * max(t0 + slope * (h * w - a0), 0.0)
                   for n, (h, w) in enumerate(pyramid))

    seconds = {config.max_size: total(config)}
    for size in sizes:
        try:
            seconds.setdefault(int(size), total(config.with_(max_size=int(size))))
        except GanvasError:  # smaller than the coarsest scale, or the photo too thin at that size
            continue
    return seconds


def _seconds_per_iteration(config: SinGANConfig, shapes: list[tuple[int, int]], n: int,
                           device: torch.device) -> float:
    """Time of one training iteration at scale ``n``: (3 iterations − 1 iteration) / 2, so set-up costs
    cancel, after an untimed iteration: the first run at new sizes also builds oneDNN's kernels, which
    the later ones reuse, and timed first it cancelled the iterations instead (an estimate of 0 s)."""
    from core.jobs import ProgressReporter
    from core.singan.train import _train_scale  # the real step, not a model of it

    h, w = shapes[-1]
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    z = torch.randn(1, 1, *shapes[0], generator=torch.Generator().manual_seed(0)).expand(1, 3, *shapes[0]).contiguous()
    timings = []
    for iters in (1, 1, 3):
        cfg = config.with_(iters=iters, fine_iters=1.0)
        model = SinGANModel(config=cfg, image=image, shapes=shapes, z_rec=z).to(device)
        for k in range(n):
            model.add_scale(make_networks(cfg, k, seed=k)[0].to(device), 0.1)
        t = time.perf_counter()
        _train_scale(model, n, None, ProgressReporter(None), 0, None)
        timings.append(time.perf_counter() - t)
    return max(1e-4, (timings[2] - timings[1]) / 2)
