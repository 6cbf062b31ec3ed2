"""SinGAN training configuration: named presets (the SinGAN paper, ConSinGAN, a fast CPU recipe)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from core.jobs import GanvasError
from core.presets import named_preset

#: Settings renamed since models were saved with them: old manifest key → field.
RENAMED = {"ema_share": "ema_half_life_share"}


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
    # --- where the presets differ from the SinGAN paper (its values are the defaults) ---
    batch_norm: bool = True  # BatchNorm in the generator blocks (SinGAN); ConSinGAN uses none
    d_batch_norm: bool = True  # BatchNorm in the critic (SinGAN): over a batch of one image it hides a loss of contrast
    lrelu: float = 0.2  # LeakyReLU slope (ConSinGAN: 0.05)
    schedule: str = "geometric"  # "geometric": steps of ~scale_factor; "consingan": ``stages`` scales, denser at the coarse end
    stages: int = 6  # number of scales for the "consingan" schedule (ConSinGAN's train_stages)
    train_depth: int = 1  # scales trained together, end to end (ConSinGAN: 3)
    lr_scale: float = 0.1  # learning-rate factor per step below the newest scale when train_depth > 1
    noise_pad: bool = False  # pad inputs with upsampled image and noise instead of zeros (ConSinGAN)
    rec_from_image: bool = False  # reconstruction input at the coarsest scale is the image itself (ConSinGAN)
    redraw_lower: bool = True  # fresh sample of the frozen scales for every critic step (SinGAN) or once per iteration
    g_reuse_grad: bool = False  # one generator gradient per iteration, applied g_steps times (ConSinGAN's loop)
    lambda_patch: float = 0.0  # weight of the 7×7 patch sliced-Wasserstein loss (GPDM) in the generator loss
    fine_iters: float = 1.0  # iteration multiplier at the finest scale, interpolated from 1 at the coarsest
    per_image_norm: bool = False  # sampling normalises each image by its own statistics, as training does (else BatchNorm's running averages)
    ema_half_life_share: float = 0.0  # > 0: the kept generators are their weights' running average, half-life this share of the iterations so far (core/averaging.py)
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
        if self.schedule not in ("geometric", "consingan"):
            problems.append(f"schedule must be 'geometric' or 'consingan' (got '{self.schedule}')")
        if self.stages < 2:
            problems.append(f"stages must be at least 2 (got {self.stages})")
        if self.train_depth < 1:
            problems.append(f"train_depth must be at least 1 (got {self.train_depth})")
        if not 0 < self.lr_scale <= 1:
            problems.append(f"lr_scale must be in (0, 1] (got {self.lr_scale})")
        if self.lambda_patch < 0:
            problems.append(f"lambda_patch must be ≥ 0 (got {self.lambda_patch})")
        if not 0 <= self.ema_half_life_share <= 1:
            problems.append(f"ema_half_life_share must be in [0, 1] (got {self.ema_half_life_share})")
        if not 0 < self.fine_iters <= 1:
            problems.append(f"fine_iters must be in (0, 1] (got {self.fine_iters})")
        if problems:
            raise GanvasError("Invalid SinGAN settings: " + "; ".join(problems) + ".")

    @property
    def pad(self) -> int:
        """Zero padding of the input: the receptive field of the conv stack (5 px for 5 layers of 3×3)."""
        return self.num_layers

    def channels_at(self, scale: int) -> int:
        return min(self.nfc * 2 ** (scale // self.nfc_double_every), self.max_nfc)

    def iters_at(self, scale: int, num_scales: int) -> int:
        """Iterations for ``scale``: ``iters`` at the coarsest, ``iters · fine_iters`` at the finest."""
        t = scale / max(1, num_scales - 1)
        return max(1, round(self.iters * (1.0 + t * (self.fine_iters - 1.0))))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SinGANConfig:
        """Fields missing from an older manifest take the paper's values, which those models were trained with;
        keys of settings since removed (``coarsest_iters``, ``patch_directions``) are ignored, and renamed
        ones (:data:`RENAMED`) read under their new name."""
        known = {f.name for f in fields(cls)}
        data = {RENAMED.get(k, k): v for k, v in data.items()}
        return cls(**{k: v for k, v in data.items() if k in known})

    def with_(self, **changes: Any) -> SinGANConfig:
        return replace(self, **changes)


#: ``paper``: the published SinGAN defaults (Shaham et al., ICCV 2019; tamarott/SinGAN).
#: ``consingan``: the published ConSinGAN defaults for unconditional generation (Hinz et al., WACV 2021;
#: tohinz/ConSinGAN main_train.py + config.py): 6 stages on its rescaled schedule, 3 trained concurrently
#: with learning rate ×0.1 per stage below, 64 channels, 3 body layers (5 convs), no BatchNorm,
#: LeakyReLU 0.05, noise padding, the coarse image as reconstruction input, 2000 iterations with one
#: generator gradient applied 3 times. Stages hand RGB images to each other (ConSinGAN hands feature maps)
#: so that every application can inject an image at any scale; docs/singan.md lists this.
#: ``fast``: the CPU recipe chosen with bench/quality.py (docs/singan.md has the table, docs/experiments.md what else was tried):
#: SinGAN's 32-channel BatchNorm networks trained one scale at a time on a pyramid at scale factor 0.65
#: from a 25-px coarsest side (4 scales for a 128×85 photo, 5 for a square one), 2 critic and 2
#: generator steps, 250 iterations at the coarsest scale falling to 125 at the finest, a weak patch
#: sliced-Wasserstein loss (GPDM) next to the adversarial one, and each scale's generator kept as the
#: running average of its weights (half-life 8 % of the iterations so far), sampled with each image
#: normalised by its own statistics as in training (not BatchNorm's running averages). Denser pyramids, concurrent scales,
#: noise padding and a stronger patch loss scored better on patch SWD but left grain and smears the eye
#: and a patch classifier see (docs/singan.md).
PRESETS: dict[str, SinGANConfig] = {
    "fast": SinGANConfig(
        preset="fast",
        max_size=128,
        max_nfc=32,
        scale_factor=0.65,
        iters=250,
        fine_iters=0.5,
        d_steps=2,
        g_steps=2,
        lambda_patch=30.0,
        ema_half_life_share=0.08,
        per_image_norm=True,
    ),
    "consingan": SinGANConfig(
        preset="consingan",
        batch_norm=False,
        d_batch_norm=False,
        lrelu=0.05,
        schedule="consingan",
        stages=6,
        nfc=64,
        max_nfc=64,
        iters=2000,
        train_depth=3,
        lr_scale=0.1,
        noise_pad=True,
        rec_from_image=True,
        redraw_lower=False,
        g_reuse_grad=True,
    ),
    "paper": SinGANConfig(),
}

#: One line per preset for the studio's Train dock and ``--help``.
PRESET_DESCRIPTIONS: dict[str, str] = {
    "fast": "CPU recipe: SinGAN on 4–5 scales, weak patch loss, averaged weights; 128 px, 3–5 min on 2 cores",
    "consingan": "ConSinGAN (WACV 2021) as published: 6 stages, 3 concurrent; tens of minutes on a CPU",
    "paper": "SinGAN (ICCV 2019) as published: 250 px, 2000 iterations per scale; hours on a CPU",
}

#: The preset a new user starts with, in the studio and the CLI.
DEFAULT_PRESET = "fast"


def training_threads(config: SinGANConfig) -> int | None:
    """The CPU thread cap for training ``config``: 1 when every convolution is small (≤ 32 channels,
    finest side ≤ 128 px), where one thread measured faster than two on a 2-core machine (the
    threads wait for each other more than they share: docs/singan.md ▸ CPU threads); else None (no cap)."""
    return 1 if config.max_nfc <= 32 and config.max_size <= 128 else None


def preset(name: str, **overrides: Any) -> SinGANConfig:
    return named_preset(PRESETS, name, **overrides)


SR_STEP = 0.5 ** (1.0 / 3.0)  # ≈ 0.794: the scale factor of an SR model and of each SR step (SinGAN's SR.py)
SR_ALPHA = 100.0  # reconstruction weight for an SR model

#: Settings the public code trains with for a task (apply with :func:`config_for_task`). SR also trains
#: one scale at a time, zero-padded and without the patch loss, as SinGAN does: SR applies the finest
#: generator again and again, and one trained together with the scale below (``fast``) learnt a colour
#: correction that six passes piled up into red towers; the patch loss and noise padding added colour
#: fringes (docs/applications.md).
TRAINING_OVERRIDES: dict[str, dict[str, float | int | bool]] = {
    "sr": {"scale_factor": SR_STEP, "alpha": SR_ALPHA, "min_size": 18, "train_depth": 1, "lambda_patch": 0.0,
           "noise_pad": False},
    "animation": {"min_size": 20},
}


def config_for_task(config: SinGANConfig, task: str) -> SinGANConfig:
    """``config`` with the training settings the public code uses for ``task`` ("sr", "animation")."""
    if task in ("", "random", "paint", "edit", "harmonize", "retarget"):
        return config
    if task not in TRAINING_OVERRIDES:
        raise GanvasError(f"Unknown training task '{task}'. Choose one of: random, {', '.join(TRAINING_OVERRIDES)}.")
    return config.with_(**TRAINING_OVERRIDES[task])
