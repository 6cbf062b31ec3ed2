"""Image animation (Shaham et al. 2019, Sec. 4): a momentum random walk in the noise maps, frame by frame.

Defaults follow the public code (tamarott/SinGAN): α = 0.1, β = 0.9, 100 frames at 10 fps.
"""

from __future__ import annotations

import numpy as np
import torch

from core.images import to_uint8
from core.jobs import CancelToken, GanvasError, ProgressFn, ProgressReporter, check_cancel
from core.singan.generate import run_scales
from core.singan.model import SinGANModel

ANIM_ALPHA = 0.1  # pull of the walk back to the reconstruction noise
ANIM_BETA = 0.9  # momentum of the walk (the paper's GIFs use 0.8–0.95)
ANIM_FRAMES = 100
ANIM_FPS = 10

#: Frames generated together in one batch on a GPU: about this many output pixels (bounds memory).
_ANIM_CHUNK_PIXELS = 400_000


def animate(
    model: SinGANModel,
    *,
    scale: int = 0,
    frames: int = ANIM_FRAMES,
    alpha: float = ANIM_ALPHA,
    beta: float = ANIM_BETA,
    seed: int = 0,
    loop: bool = False,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """A short video from one image (Sec. 4, "image animation"): frames × H × W × 3 uint8.

    Scales below ``scale`` keep the reconstruction noise z* (so the layout is the training image's);
    from ``scale`` up every noise map walks with momentum: Δ_t = β(z_{t-1} − z_{t-2}) + (1 − β)·ε,
    z_t = α·z* + (1 − α)(z_{t-1} + Δ_t), as the public code does. ``loop`` plays the walk forward and
    back, so the last frame leads into the first.
    """
    reporter = ProgressReporter(progress)
    if model.num_trained == 0:
        raise GanvasError("The model has no trained scale yet.")
    last = model.num_trained - 1
    if not 0 <= int(scale) <= last:
        raise GanvasError(f"The animation scale must be between 0 and {last} (got {scale}).")
    if not 2 <= int(frames) <= 2000:
        raise GanvasError(f"The number of frames must be between 2 and 2000 (got {frames}).")
    if not 0.0 <= alpha <= 1.0 or not 0.0 <= beta < 1.0:
        raise GanvasError(f"Animation α must be in [0, 1] and β in [0, 1) (got α {alpha}, β {beta}).")
    frames, scale = int(frames), int(scale)
    shapes = model.shapes[: last + 1]
    p = model.config.pad if model.config.noise_pad else 0  # noise padding (above scale 0): the walk covers the border too
    fixed = [model.z_rec.cpu() if s == 0 else torch.zeros(1, 3, h + 2 * p, w + 2 * p)
             for s, (h, w) in enumerate(shapes)]
    walkers = [_Walk(fixed[s], alpha, beta, seed, s) if s >= scale else None for s in range(last + 1)]
    gens = [model.folded(i) for i in range(last + 1)]
    h, w = shapes[-1]
    chunk = _frames_per_batch(model.device, h, w)
    out: list[np.ndarray] = []
    with torch.inference_mode():
        for start in range(0, frames, chunk):
            check_cancel(cancel)
            count = min(chunk, frames - start)
            noises = [walkers[s].steps(count) if walkers[s] is not None else fixed[s].expand(count, -1, -1, -1)
                      for s in range(last + 1)]
            x = run_scales(gens, model.noise_amps, shapes, lambda s, hh, ww, z=noises: z[s], first=0, prev=None,
                           pad=model.config.pad, batch=count, device=model.device, cancel=cancel,
                           noise_pad=model.config.noise_pad)
            out.extend(to_uint8(x.clamp(-1, 1)))
            reporter.report(start + count, frames, stage="Animation")
    video = np.stack(out)
    if loop and frames > 2:
        video = np.concatenate([video, video[-2:0:-1]])
    return video


def _frames_per_batch(device: torch.device, h: int, w: int) -> int:
    """A batch of frames pays off on a GPU; on a CPU one at a time is faster (0.29 vs 0.43 s a frame at 250 px)."""
    return 1 if device.type == "cpu" else max(1, min(16, _ANIM_CHUNK_PIXELS // (h * w)))


class _Walk:
    """The momentum random walk of one scale's noise map (grey at the coarsest, like its noise)."""

    def __init__(self, z_fixed: torch.Tensor, alpha: float, beta: float, seed: int, scale: int) -> None:
        self.z_fixed, self.alpha, self.beta, self.scale = z_fixed, alpha, beta, scale
        self.rng = torch.Generator().manual_seed(int(seed) * 7919 + 104_729 * (scale + 1))
        self.prev2 = z_fixed.clone()
        self.prev1 = 0.95 * z_fixed + 0.05 * self._eps()

    def _eps(self) -> torch.Tensor:
        _, _, h, w = self.z_fixed.shape
        if self.scale == 0:
            return torch.randn(1, 1, h, w, generator=self.rng).expand(1, 3, h, w)
        return torch.randn(1, 3, h, w, generator=self.rng)

    def steps(self, count: int) -> torch.Tensor:
        zs = []
        for _ in range(count):
            diff = self.beta * (self.prev1 - self.prev2) + (1 - self.beta) * self._eps()
            z = self.alpha * self.z_fixed + (1 - self.alpha) * (self.prev1 + diff)
            self.prev2, self.prev1 = self.prev1, z
            zs.append(z)
        return torch.cat(zs)
