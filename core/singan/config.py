"""SinGAN training configuration: the paper's defaults and a fast CPU preset."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from core.jobs import GanvasError


@dataclass(frozen=True)
class SinGANConfig:
    """Defaults are those of Shaham et al. (ICCV 2019) and tamarott/SinGAN (``paper`` preset).

    The pyramid runs from a coarsest side of ``min_size`` px to a finest side of at most
    ``max_size`` px; ``scale_factor`` is the target ratio between scales and is adjusted so the
    coarsest scale lands exactly on ``min_size`` (as the public code does).
    """

    scale_factor: float = 0.75
    min_size: int = 25
    max_size: int = 250
    nfc: int = 32  # channels at the coarsest scales, doubled every ``nfc_double_every`` scales
    max_nfc: int = 128
    nfc_double_every: int = 4
    num_layers: int = 5  # conv blocks per generator / discriminator (3×3 conv, BN, LeakyReLU 0.2)
    iters: int = 2000  # per scale
    lr_g: float = 5e-4
    lr_d: float = 5e-4
    beta1: float = 0.5
    beta2: float = 0.999
    lr_decay_at: float = 0.8  # fraction of ``iters`` where the learning rates are multiplied by ``lr_gamma``
    lr_gamma: float = 0.1
    d_steps: int = 3
    g_steps: int = 3
    lambda_grad: float = 0.1  # WGAN-GP weight
    alpha: float = 10.0  # reconstruction weight
    noise_amp_init: float = 0.1  # noise amplitude per scale = noise_amp_init · RMSE(reconstruction↑, x_n)
    preset: str = "paper"

    def __post_init__(self) -> None:
        problems = []
        if not 0.3 <= self.scale_factor < 1.0:
            problems.append(f"scale_factor must be in [0.3, 1) (got {self.scale_factor})")
        if self.min_size < 11:
            problems.append(f"min_size must be at least 11 px, the generator's receptive field (got {self.min_size})")
        if self.max_size < self.min_size:
            problems.append(f"max_size ({self.max_size}) must not be smaller than min_size ({self.min_size})")
        if self.max_size > 2048:
            problems.append(f"max_size above 2048 px is not supported (got {self.max_size})")
        if self.iters < 1 or self.d_steps < 1 or self.g_steps < 1:
            problems.append("iters, d_steps and g_steps must be at least 1")
        if self.num_layers < 3:
            problems.append(f"num_layers must be at least 3 (got {self.num_layers})")
        if problems:
            raise GanvasError("Invalid SinGAN settings: " + "; ".join(problems) + ".")

    @property
    def pad(self) -> int:
        """Zero padding of the input: the receptive field of the conv stack (5 px for 5 layers of 3×3)."""
        return self.num_layers

    def channels_at(self, scale: int) -> int:
        return min(self.nfc * 2 ** (scale // self.nfc_double_every), self.max_nfc)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SinGANConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def with_(self, **changes: Any) -> SinGANConfig:
        return replace(self, **changes)


#: ``paper``: the published defaults. ``fast``: for a CPU — coarser steps between scales, a
#: shorter schedule (500 iterations), 2 D / 2 G steps and 32 channels at every scale (the paper
#: doubles to 64 from the fifth scale on, which makes the finest scales of a 250-px model 4× the
#: work: generation there drops from ~150 to ~60 ms); README has its time, SWD and diversity.
PRESETS: dict[str, SinGANConfig] = {
    "paper": SinGANConfig(),
    "fast": SinGANConfig(
        preset="fast",
        scale_factor=0.65,
        max_nfc=32,
        iters=500,
        d_steps=2,
        g_steps=2,
        lr_g=5e-4,
        lr_d=5e-4,
    ),
}


def preset(name: str, **overrides: Any) -> SinGANConfig:
    if name not in PRESETS:
        raise GanvasError(f"Unknown preset '{name}'. Choose one of: {', '.join(PRESETS)}.")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    return PRESETS[name].with_(**overrides) if overrides else PRESETS[name]
