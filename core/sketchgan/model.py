"""A StyleGAN2 model on disk and in memory: save/load (safetensors + manifest), seeded sampling,
truncation and latent interpolation. Shared by pretraining, sketch fine-tuning, the CLI and the studio.

Checkpoint layout (kind ``stylegan2``): tensors ``g_ema.<rosinality key>`` (the generator used for
sampling) and ``d.<key>`` (the image discriminator, which fine-tuning starts its discriminators from;
a sketch-tuned model also holds its sketch discriminator as ``d_sketch.<key>``);
a training checkpoint also holds ``g.<key>`` and optimizer moments ``opt_g.*`` / ``opt_d.*`` so it
can be resumed. The manifest holds the architecture (``config``) and what made the model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from core.device import make_generator
from core.sketchgan.stylegan import Discriminator, Generator, StyleGANConfig

KIND = "stylegan2"


@dataclass
class StyleGANModel:
    """A generator ready to sample (eval mode), its discriminator, and where they came from."""

    generator: Generator
    discriminator: Discriminator | None
    config: StyleGANConfig
    manifest: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    sketch_discriminator: Discriminator | None = None  # a sketch-tuned model's sketch critic (``d_sketch.*``)
    _mean_latent: torch.Tensor | None = None

    @property
    def device(self) -> torch.device:
        return self.generator.device

    @property
    def model_id(self) -> str:
        return str(self.manifest.get("model_id") or (self.path.name if self.path else "unsaved"))

    def mean_latent(self) -> torch.Tensor:
        if self._mean_latent is None or self._mean_latent.device != self.device:
            self._mean_latent = self.generator.mean_latent(4096)
        return self._mean_latent

    def to(self, device: torch.device | str) -> StyleGANModel:
        self.generator.to(device)
        for d in (self.discriminator, self.sketch_discriminator):
            if d is not None:
                d.to(device)
        self._mean_latent = None
        return self


def state_tensors(prefix: str, module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {f"{prefix}.{k}": v for k, v in module.state_dict().items()}


def strip_prefix(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    p = prefix + "."
    return {k[len(p) :]: v for k, v in tensors.items() if k.startswith(p)}


def optimizer_tensors(prefix: str, opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """Adam moments as named tensors + the JSON-able rest (param groups), so no pickle is needed."""
    sd = opt.state_dict()
    tensors = {}
    for idx, st in sd["state"].items():
        for name, val in st.items():
            tensors[f"{prefix}.{idx}.{name}"] = torch.as_tensor(val).detach().clone()
    return tensors, {"param_groups": sd["param_groups"]}


def load_optimizer(
    opt: torch.optim.Optimizer, prefix: str, tensors: dict[str, torch.Tensor], meta: dict
) -> None:
    state: dict[int, dict[str, torch.Tensor]] = {}
    p = prefix + "."
    for k, v in tensors.items():
        if k.startswith(p):
            idx, name = k[len(p) :].split(".", 1)
            state.setdefault(int(idx), {})[name] = v
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def save_model(
    path: str | os.PathLike,
    generator: Generator,
    discriminator: Discriminator | None,
    manifest: dict[str, Any],
    extra_tensors: dict[str, torch.Tensor] | None = None,
) -> Path:
    """Write a ``stylegan2`` checkpoint; ``extra_tensors`` carry training state for resuming."""
    tensors = state_tensors("g_ema", generator)
    if discriminator is not None:
        tensors.update(state_tensors("d", discriminator))
    tensors.update(extra_tensors or {})
    full = {"config": generator.config.to_dict(), **manifest}
    full.setdefault("model_id", Path(path).name)
    return save_checkpoint(path, KIND, tensors, full)


def _load_module(module: torch.nn.Module, tensors: dict[str, torch.Tensor], what: str, path) -> None:
    expected = module.state_dict()
    missing = [k for k in expected if k not in tensors]
    unexpected = [k for k in tensors if k not in expected]
    if missing or unexpected:
        raise CheckpointError(
            f"Cannot open model '{path}': the {what} does not match its recorded architecture "
            f"(missing: {missing[:5]}, unexpected: {unexpected[:5]})."
        )
    for k, v in expected.items():
        if tuple(tensors[k].shape) != tuple(v.shape):
            raise CheckpointError(
                f"Cannot open model '{path}': {what} tensor '{k}' has shape {tuple(tensors[k].shape)}, "
                f"expected {tuple(v.shape)}."
            )
    module.load_state_dict(tensors)


def load_model(
    path: str | os.PathLike, device: torch.device | str = "cpu", *, with_training_state: bool = False
):
    """Load a ``stylegan2`` checkpoint as a :class:`StyleGANModel` (and, optionally, all its raw tensors)."""
    ckpt = load_checkpoint(path, KIND)
    try:
        config = StyleGANConfig.from_dict(ckpt.manifest["config"])
    except (KeyError, TypeError) as exc:
        raise CheckpointError(
            f"Cannot open model '{ckpt.path}': its manifest has no valid 'config'."
        ) from exc
    g = Generator(config)
    _load_module(g, strip_prefix(ckpt.tensors, "g_ema"), "generator", ckpt.path)
    d_tensors = strip_prefix(ckpt.tensors, "d")
    d = None
    if d_tensors:
        d = Discriminator(config)
        _load_module(d, d_tensors, "discriminator", ckpt.path)
    ds_tensors = strip_prefix(ckpt.tensors, "d_sketch")
    d_sketch = None
    if ds_tensors:
        d_sketch = Discriminator(config)
        _load_module(d_sketch, ds_tensors, "sketch discriminator", ckpt.path)
    g.eval().requires_grad_(False)
    model = StyleGANModel(g, d, config, ckpt.manifest, ckpt.path, sketch_discriminator=d_sketch).to(device)
    if with_training_state:
        return model, ckpt.tensors
    return model


# ---------------------------------------------------------------------------------------------
# Sampling


def seed_latents(seeds: list[int], style_dim: int) -> torch.Tensor:
    """z for each seed (drawn on the CPU, so a seed means the same image everywhere)."""
    return torch.stack([torch.randn(style_dim, generator=make_generator(s)) for s in seeds])


def seed_noise(generator: Generator, seeds: list[int]) -> list[torch.Tensor]:
    """Per-layer noise images for each seed, independent of z's stream."""
    per_seed = [generator.make_noise(1, make_generator(s + 7_919_000_003)) for s in seeds]
    return [torch.cat([n[i] for n in per_seed], 0) for i in range(generator.num_layers)]


@torch.no_grad()
def generate_tensor(
    model: StyleGANModel,
    seeds: list[int],
    *,
    truncation: float = 1.0,
    z: torch.Tensor | None = None,
    batch: int = 16,
) -> torch.Tensor:
    """N×3×H×W images in [-1, 1] for ``seeds`` (or explicit ``z``, with noise still taken from the seeds)."""
    g = model.generator
    if z is None:
        z = seed_latents(seeds, g.style_dim)
    out = []
    mean = model.mean_latent() if truncation < 1 else None
    for i in range(0, len(seeds), batch):
        s = seeds[i : i + batch]
        noise = seed_noise(g, s)
        zi = z[i : i + batch].to(model.device)
        out.append(g(zi, truncation=truncation, truncation_latent=mean, noise=noise).clamp(-1, 1).cpu())
    return torch.cat(out, 0)


def tensor_to_uint8(x: torch.Tensor) -> np.ndarray:
    """N×3×H×W in [-1, 1] -> uint8 N×H×W×3."""
    x = ((x.detach().float().clamp(-1, 1) + 1) * 127.5 + 0.5).clamp(0, 255).to(torch.uint8)
    return x.permute(0, 2, 3, 1).cpu().numpy()


def generate_images(
    model: StyleGANModel, seeds: list[int], *, truncation: float = 1.0, progress=None, cancel=None
) -> np.ndarray:
    """uint8 N×H×W×3 samples, one per seed (same seed, same image)."""
    from core.jobs import ProgressReporter, check_cancel

    rep = ProgressReporter(progress)
    out = []
    for i in range(0, len(seeds), 16):
        check_cancel(cancel)
        out.append(tensor_to_uint8(generate_tensor(model, seeds[i : i + 16], truncation=truncation)))
        rep.report(min(i + 16, len(seeds)), len(seeds), stage="sampling")
    return np.concatenate(out, 0) if out else np.zeros((0, model.config.size, model.config.size, 3), np.uint8)


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation between Gaussian latents (keeps their norm typical)."""
    an, bn = a / a.norm(dim=-1, keepdim=True), b / b.norm(dim=-1, keepdim=True)
    omega = torch.acos((an * bn).sum(-1, keepdim=True).clamp(-1 + 1e-7, 1 - 1e-7))
    so = torch.sin(omega)
    return (torch.sin((1 - t) * omega) / so) * a + (torch.sin(t * omega) / so) * b


@torch.no_grad()
def interpolate(
    model: StyleGANModel, seed_a: int, seed_b: int, ts: list[float], *, truncation: float = 1.0
) -> np.ndarray:
    """Images along the path from seed_a's latent to seed_b's (uint8 N×H×W×3), noise fixed to seed_a's."""
    za, zb = seed_latents([seed_a, seed_b], model.generator.style_dim)
    z = torch.stack([slerp(za, zb, float(t)) for t in ts])
    return tensor_to_uint8(generate_tensor(model, [seed_a] * len(ts), truncation=truncation, z=z))
