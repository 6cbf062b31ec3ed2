"""Sketch Your Own GAN (Wang, Bau, Zhu, ICCV 2021): fine-tune a pretrained generator G into G' so that
the sketches of its samples, F(G'(z)), look like a handful of user sketches, while its images stay
realistic and varied.

Losses, assembled as in the public GANSketching code:
  * cross-domain adversarial loss: a sketch discriminator D_Y (initialised from the base model's
    image discriminator) sees F(G'(z)) against the user sketches, both through the same
    differentiable augmentation (translation by default), so it learns the *shape*, not the pixels;
  * image-space regularisation (λ_image = 0.7): an image discriminator D_X, also initialised from the
    base D, sees G'(z) against samples of the frozen original G, so G' stays on the image manifold;
  * optional weight regularisation λ_weight·mean|θ' - θ| on the trained parameters;
  * non-saturating (softplus) loss, lazy R1 (γ = 10 every 16 steps) on both discriminators, style
    mixing 0.9, Adam lr 0.002 β = (0, 0.99) with the lazy-regularisation correction for D.
By default only the mapping network z -> w is trained (its equalized-lr multiplier makes its lr
0.01 × the base lr); ``trainable='w_shift'`` trains a single offset in W, ``'all'`` the whole G.
"""

from __future__ import annotations

import copy
import os
import random
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from core.device import pick_device
from core.images import image_hash
from core.jobs import Cancelled, GanvasError, ProgressReporter, check_cancel
from core.sketchgan.augment import diff_augment
from core.sketchgan.model import (
    StyleGANModel,
    load_model,
    make_grid,
    save_model,
    seed_latents,
    seed_noise,
    tensor_to_uint8,
)
from core.sketchgan.pretrain import (
    d_logistic_loss,
    g_nonsaturating_loss,
    lazy_adam,
    mixing_latents,
    r1_penalty,
)
from core.sketchgan.sketch import XDoGConfig, ink_to_sketch_tensor, photo_to_sketch
from core.sketchgan.stylegan import Discriminator, Generator

TRAINABLE = ("mapping", "w_shift", "all")
PREVIEW_SEEDS = list(range(100, 108))


class SketchTuneError(GanvasError):
    """A fine-tuning input a person can fix (no sketches, wrong base model...)."""


@dataclass(frozen=True)
class SketchTuneConfig:
    """Fine-tuning settings. Defaults = the paper preset (GANSketching's public defaults + teaser script)."""

    iterations: int = 75_000  # GANSketching's --max_iter default (its teaser script uses 150k)
    batch: int = 4
    lr: float = 0.002
    betas: tuple[float, float] = (0.0, 0.99)
    # extra factor on the mapping network's lr (CPU preset: fewer, bigger steps)
    mapping_lr_scale: float = 1.0
    r1: float = 10.0
    d_reg_every: int = 16
    mixing: float = 0.9
    l_image: float = 0.7  # λ_image; 0 turns the image regularisation off
    l_weight: float = 0.0  # λ_weight; 0 = off (the paper's sketches-only setting)
    augment: str = "translation"  # DiffAugment policy applied to real and fake sketches
    trainable: str = "mapping"  # "mapping" | "w_shift" | "all"
    sketch_d_from_image_d: bool = True  # initialise D_sketch from the base model's D
    xdog: XDoGConfig = field(default_factory=XDoGConfig)
    preview_every: int = 2500
    autosave_every: int = 2500
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.trainable not in TRAINABLE:
            raise SketchTuneError(f"trainable must be one of {', '.join(TRAINABLE)}, not '{self.trainable}'.")
        if self.batch < 1 or self.iterations < 1:
            raise SketchTuneError("batch and iterations must be at least 1.")

    @classmethod
    def paper(cls, **overrides) -> SketchTuneConfig:
        return replace(cls(), **overrides)

    @classmethod
    def cpu(cls, **overrides) -> SketchTuneConfig:
        """500 steps on a laptop CPU instead of 75k: the same losses, with the mapping network's lr ×40
        so the few steps cover the distance (measured: ×10 moved the shapes too little in 400 steps;
        1 000 steps move them further but cost realism, see README's Sketch GAN table)."""
        return replace(
            cls(iterations=500, mapping_lr_scale=40.0, preview_every=50, autosave_every=100), **overrides
        )

    @classmethod
    def preset(cls, name: str, **overrides) -> SketchTuneConfig:
        if name == "paper":
            return cls.paper(**overrides)
        if name == "cpu":
            return cls.cpu(**overrides)
        raise SketchTuneError(f"Unknown preset '{name}': use 'paper' or 'cpu'.")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["betas"] = list(self.betas)
        return d


def sketches_tensor(sketches: list[np.ndarray], size: int, device) -> torch.Tensor:
    """User sketches (float32 H×W ink in [0, 1]) -> S×1×size×size in [-1, 1]; refuses empty ones."""
    if not sketches:
        raise SketchTuneError("Draw or import at least one sketch before fine-tuning.")
    out = []
    for i, s in enumerate(sketches):
        if float(np.asarray(s, np.float32).max(initial=0.0)) < 0.05:
            raise SketchTuneError(f"Sketch {i + 1} is blank: draw something on it or remove it.")
        out.append(ink_to_sketch_tensor(s, size, device))
    return torch.cat(out, 0)


def _trainable_params(g: Generator, trainable: str) -> list[torch.nn.Parameter]:
    if trainable == "all":
        return list(g.parameters())
    if trainable == "w_shift":
        return [p for n, p in g.named_parameters() if n.endswith("w_shift")]
    return [p for n, p in g.named_parameters() if n.startswith("style.")]


def _with_w_shift(g: Generator) -> Generator:
    """A copy of ``g`` whose mapping ends in a zero W shift (so it starts identical to g)."""
    cfg = replace(g.config, w_shift=True)
    g2 = Generator(cfg).to(g.device)
    missing, unexpected = g2.load_state_dict(g.state_dict(), strict=False)
    assert not unexpected and all(k.endswith("w_shift") for k in missing)
    return g2


def to3(x: torch.Tensor) -> torch.Tensor:
    return x.repeat(1, 3, 1, 1)


@torch.no_grad()
def preview_grid(
    base: Generator, tuned: Generator, xdog: XDoGConfig, seeds: list[int] = PREVIEW_SEEDS
) -> np.ndarray:
    """Fixed seeds, before | after: rows = base images, F(base), tuned images, F(tuned)."""
    z = seed_latents(seeds, base.style_dim).to(base.device)
    noise = seed_noise(base, seeds)
    rows = []
    for g in (base, tuned):
        img = g(z, noise=noise).clamp(-1, 1)
        rows.append(tensor_to_uint8(img))
        rows.append(tensor_to_uint8(to3(photo_to_sketch(img, xdog))))
    return make_grid(np.concatenate(rows, 0), len(seeds))


def sketch_tune(
    base: StyleGANModel | str | os.PathLike,
    sketches: list[np.ndarray],
    config: SketchTuneConfig = SketchTuneConfig(),  # noqa: B008 - frozen
    *,
    out_dir: str | os.PathLike | None = None,
    progress=None,
    cancel=None,
) -> StyleGANModel:
    """Fine-tune ``base`` so that F(G'(z)) matches ``sketches`` (float32 H×W ink in [0, 1], 1 = ink).

    Autosaves to ``out_dir`` (if given) every ``config.autosave_every`` steps, on cancel, and at the end.
    Returns the fine-tuned model (eval mode); its manifest names the base and the sketches.
    """
    device = pick_device(config.device)
    if not isinstance(base, StyleGANModel):
        base = load_model(base, device)
    base.to(device)
    if base.discriminator is None:
        raise SketchTuneError(
            "The base model has no discriminator, which fine-tuning starts from. Use a model pretrained "
            "in Ganvas or import the rosinality checkpoint together with its 'd' weights."
        )
    size = base.config.size
    real_sketches = sketches_tensor(sketches, size, device)
    torch.manual_seed(config.seed)
    random.seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)

    g0 = base.generator.eval().requires_grad_(False)  # the original model: frozen
    g = copy.deepcopy(g0)
    if config.trainable == "w_shift" and not g.config.w_shift:
        g = _with_w_shift(g)
    g.train().requires_grad_(False)
    params = _trainable_params(g, config.trainable)
    for p in params:
        p.requires_grad_(True)
    ref = [p.detach().clone() for p in params] if config.l_weight > 0 else []
    mapping_ids = {id(p) for n, p in g.named_parameters() if n.startswith("style.")}
    groups = [
        {"params": [p for p in params if id(p) not in mapping_ids], "lr": config.lr},
        {"params": [p for p in params if id(p) in mapping_ids], "lr": config.lr * config.mapping_lr_scale},
    ]
    g_opt = torch.optim.Adam([gr for gr in groups if gr["params"]], lr=config.lr, betas=config.betas)

    d_sketch = Discriminator(base.config).to(device)
    if config.sketch_d_from_image_d:
        d_sketch.load_state_dict(base.discriminator.state_dict())
    d_image = None
    d_params = list(d_sketch.parameters())
    if config.l_image > 0:
        d_image = copy.deepcopy(base.discriminator).train()
        d_params += list(d_image.parameters())
    for p in d_params:
        p.requires_grad_(True)
    d_opt = lazy_adam(d_params, config.lr, config.betas, config.d_reg_every)

    xdog, aug, b, dim = config.xdog, config.augment, config.batch, base.config.style_dim

    def fake_sketch(img: torch.Tensor) -> torch.Tensor:
        s = to3(photo_to_sketch(img, xdog))
        return diff_augment(s, aug, fill=1.0, generator=gen) if aug else s

    def real_sketch_batch() -> torch.Tensor:
        idx = torch.randint(0, len(real_sketches), (b,), generator=gen).tolist()
        s = to3(real_sketches[idx])
        return diff_augment(s, aug, fill=1.0, generator=gen) if aug else s

    def original_images() -> torch.Tensor:
        with torch.no_grad():
            return g0(torch.randn(b, dim, device=device))

    rep = ProgressReporter(progress)
    out = Path(out_dir) if out_dir is not None else None
    sketch_ids = [
        image_hash((np.clip(np.asarray(s, np.float32), 0, 1) * 255).astype(np.uint8)) for s in sketches
    ]
    metrics: dict[str, float] = {}
    step = 0

    def manifest(finished: bool) -> dict:
        return {
            "source": "sketch-tune",
            "base": {
                "path": str(base.path) if base.path else None,
                "model_id": base.model_id,
                "config": base.config.to_dict(),
            },
            "sketches": {"count": len(sketches), "hashes": sketch_ids},
            "training": {
                "step": step,
                "iterations": config.iterations,
                "finished": finished,
                "config": config.to_dict(),
            },  # fmt: skip
            "model_id": f"{out.name if out else 'sketch-tuned'}-{step}",
        }

    def save(finished: bool = False) -> None:
        if out is not None:
            save_model(out, g, d_sketch, manifest(finished))

    try:
        while step < config.iterations:
            check_cancel(cancel)
            # --- discriminators
            g.requires_grad_(False)
            for p in d_params:
                p.requires_grad_(True)
            with torch.no_grad():
                fake = g(mixing_latents(b, dim, config.mixing, device))
            d_loss = d_logistic_loss(d_sketch(real_sketch_batch()), d_sketch(fake_sketch(fake)))
            metrics["d_sketch"] = float(d_loss.detach())
            if d_image is not None:
                d_img = d_logistic_loss(d_image(original_images()), d_image(fake))
                metrics["d_image"] = float(d_img.detach())
                d_loss = d_loss + config.l_image * d_img
            d_opt.zero_grad(set_to_none=True)
            d_loss.backward()
            d_opt.step()

            if config.r1 > 0 and step % config.d_reg_every == 0:
                rs = real_sketches[torch.randint(0, len(real_sketches), (b,), generator=gen).tolist()]
                rs = rs.detach().requires_grad_(True)
                aug_rs = to3(rs)
                aug_rs = diff_augment(aug_rs, aug, fill=1.0, generator=gen) if aug else aug_rs
                reg = config.r1 / 2 * r1_penalty(d_sketch(aug_rs), rs) * config.d_reg_every
                if d_image is not None:
                    ri = original_images().requires_grad_(True)
                    reg = (
                        reg
                        + config.l_image * config.r1 / 2 * r1_penalty(d_image(ri), ri) * config.d_reg_every
                    )
                d_opt.zero_grad(set_to_none=True)
                reg.backward()
                d_opt.step()

            # --- generator
            for p in d_params:
                p.requires_grad_(False)
            for p in params:
                p.requires_grad_(True)
            fake = g(mixing_latents(b, dim, config.mixing, device))
            g_loss = g_nonsaturating_loss(d_sketch(fake_sketch(fake)))
            metrics["g_sketch"] = float(g_loss.detach())
            if d_image is not None:
                g_img = g_nonsaturating_loss(d_image(fake))
                metrics["g_image"] = float(g_img.detach())
                g_loss = g_loss + config.l_image * g_img
            if ref:
                wl = sum((p - r).abs().mean() for p, r in zip(params, ref)) / len(params)
                g_loss = g_loss + config.l_weight * wl
            g_opt.zero_grad(set_to_none=True)
            g_loss.backward()
            g_opt.step()

            step += 1
            preview = None
            if step % config.preview_every == 0 or step == config.iterations:
                g.eval()
                preview = preview_grid(g0, g, xdog)
                g.train()
            rep.report(step, config.iterations, stage="sketch fine-tuning", metrics=metrics, preview=preview,
                       message=f"step {step}")  # fmt: skip
            if step % config.autosave_every == 0 and step < config.iterations:
                save()
    except Cancelled:
        save()
        raise
    g.eval().requires_grad_(False)
    save(finished=True)
    return StyleGANModel(g, d_sketch, g.config, manifest(True), out)
