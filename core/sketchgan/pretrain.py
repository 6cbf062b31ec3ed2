"""Pretraining a StyleGAN2 base model (the thing sketch fine-tuning starts from).

StyleGAN2's recipe as in rosinality's ``train.py``: non-saturating logistic loss, lazy R1 on the
discriminator (γ=10 every 16 steps), optional lazy path-length regularisation on the generator
(every 4 steps; off in the CPU preset, where it costs more than it gives), style mixing 0.9, Adam
(0, 0.99) with lr 0.002 and the lazy-regularisation lr/β corrections, and an EMA of the generator
(half-life 10k images) that is the model we save and sample from.

Data-parallel: when ``torch.distributed`` is initialised (``torchrun --nproc_per_node=N main.py
gan-pretrain ...``) the networks are wrapped in DistributedDataParallel, each process draws its own
batch (``batch`` is per process), and only rank 0 writes checkpoints and reports previews.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import autograd
from torch.nn import functional as F

from core.averaging import accumulate, half_life_decay
from core.checkpoints import CheckpointError, checkpoint_dir
from core.device import pick_device
from core.images import centre_square, image_hash, list_images, load_image, make_grid
from core.jobs import GanvasError, ProgressReporter, check_cancel
from core.presets import named_preset
from core.sketchgan import draws
from core.sketchgan.augment import diff_augment
from core.sketchgan.loop import run_steps, training_record
from core.sketchgan.model import (
    StyleGANModel,
    load_model,
    load_optimizer,
    optimizer_tensors,
    save_model,
    state_tensors,
    strip_prefix,
    tensor_to_uint8,
)
from core.sketchgan.stylegan import Discriminator, Generator, StyleGANConfig

PREVIEW_SEEDS = list(range(16))


def step_draws(seed: int, rank: int, step: int, device) -> draws.Draws:
    """The random numbers of one training step (batch, flips, latents, mixing, augmentation), keyed by
    (seed, rank, step) alone: a run resumed from an autosave draws what the uninterrupted run drew."""
    key = int(np.random.SeedSequence([seed, rank, step, 0x5EED]).generate_state(1, np.uint64)[0] >> 1)
    return draws.Draws(key, device)


class PretrainError(GanvasError):
    """A pretraining setting a person can fix."""


@dataclass(frozen=True)
class PretrainConfig:
    """StyleGAN2 training settings; the defaults are the small CPU preset (``PRESETS``, :func:`preset`)."""

    model: StyleGANConfig = field(
        default_factory=lambda: StyleGANConfig(size=64, style_dim=128, n_mlp=8, max_channels=64)
    )
    iters: int = 4000
    batch: int = 8  # per process
    lr: float = 0.002
    betas: tuple[float, float] = (0.0, 0.99)
    r1: float = 10.0  # R1 weight γ
    d_reg_every: int = 16
    path_regularize: float = 0.0  # 2.0 in StyleGAN2; 0 = off
    g_reg_every: int = 4
    path_batch_shrink: int = 2
    mixing: float = 0.9
    ema_half_life_kimg: float = 1.0  # half-life of G_ema in thousands of images (StyleGAN2: 10; the gpu preset uses 10)
    augment: str = ""  # DiffAugment policy for small image folders, e.g. "translation,color"
    autosave_every: int = 500
    preview_every: int = 200
    seed: int = 0
    device: str = "auto"
    preset: str = "cpu"

    def __post_init__(self) -> None:
        problems = []
        if self.iters < 1 or self.batch < 1:
            problems.append(f"iters and batch must be at least 1 (got {self.iters}, {self.batch})")
        if self.lr <= 0:
            problems.append(f"lr must be above 0 (got {self.lr})")
        if self.r1 < 0 or self.path_regularize < 0:
            problems.append("r1 and path_regularize must be 0 (off) or more")
        if self.d_reg_every < 1 or self.g_reg_every < 1 or self.path_batch_shrink < 1:
            problems.append("d_reg_every, g_reg_every and path_batch_shrink must be at least 1")
        if not 0 <= self.mixing <= 1:
            problems.append(f"mixing must be in [0, 1] (got {self.mixing})")
        if self.ema_half_life_kimg <= 0:
            problems.append(f"ema_half_life_kimg must be above 0 (got {self.ema_half_life_kimg})")
        if self.autosave_every < 1 or self.preview_every < 1:
            problems.append("autosave_every and preview_every must be at least 1")
        if problems:
            raise PretrainError("Invalid pretraining settings: " + "; ".join(problems) + ".")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["betas"] = list(self.betas)
        return d

    def with_(self, **changes: Any) -> PretrainConfig:
        return replace(self, **changes)


#: ``cpu``: minutes on a laptop CPU: narrow (64 channels), z 128, no path-length regulariser, and an
#: EMA half-life of 1k images (10k would lag behind a run this short).
#: ``gpu``: StyleGAN2 config-f as GANSketching's bases: z 512, 8 mapping layers, channel multiplier 2.
PRESETS: dict[str, PretrainConfig] = {
    "cpu": PretrainConfig(),
    "gpu": PretrainConfig(
        model=StyleGANConfig(size=256, style_dim=512, n_mlp=8, channel_multiplier=2, max_channels=512),
        iters=200_000, batch=16, ema_half_life_kimg=10.0, path_regularize=2.0, autosave_every=2000, preview_every=1000,
        preset="gpu",
    ),
}

PRESET_DESCRIPTIONS: dict[str, str] = {
    "cpu": "narrow StyleGAN2 (64 channels, z 128) at 64 px: about an hour on 2 cores",
    "gpu": "StyleGAN2 config-f at 256 px, 200k iterations: a GPU (or several, under torchrun)",
}

DEFAULT_PRESET = "cpu"

#: Overrides of :func:`preset` that change the network rather than the training.
MODEL_FIELDS = ("size", "style_dim", "n_mlp", "max_channels", "channel_multiplier")


def preset(name: str, **overrides: Any) -> PretrainConfig:
    """The named preset with some fields changed; ``size``, ``max_channels``... change its network.
    ``None`` values are ignored, so CLI options that were not given pass straight through."""
    model = {k: overrides.pop(k) for k in MODEL_FIELDS if overrides.get(k) is not None}
    cfg = named_preset(PRESETS, name, what="pretraining ", error=PretrainError, **overrides)
    return cfg.with_(model=replace(cfg.model, **model)) if model else cfg


# ---------------------------------------------------------------------------------------------
# Data


class ImageFolderData(torch.utils.data.Dataset):
    """All images of a folder, centre-cropped to squares and resized to ``size`` (held in memory)."""

    def __init__(self, folder: str | os.PathLike, size: int, flip: bool = True) -> None:
        import cv2

        paths = list_images(folder)
        if not paths:
            raise GanvasError(f"The folder '{folder}' holds no images (PNG, JPEG, WebP, TIFF, BMP, GIF).")
        arrays, hashes = [], []
        for p in paths:
            rgb = load_image(p)
            rgb = centre_square(rgb)
            interp = cv2.INTER_AREA if rgb.shape[0] > size else cv2.INTER_CUBIC
            rgb = cv2.resize(rgb, (size, size), interpolation=interp)
            arrays.append(rgb)
            hashes.append(image_hash(rgb))
        self.images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).float() / 127.5 - 1
        self.flip = flip
        self.description = f"{len(paths)} images from {folder}"
        self.data_hash = image_hash(
            np.frombuffer("".join(sorted(hashes)).encode(), np.uint8).reshape(1, -1, 1)
        )

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> torch.Tensor:
        x = self.images[i]
        if self.flip and draws.uniform() < 0.5:
            x = x.flip(-1)
        return x


class _Batches:
    """Endless random batches from a Dataset (or an N×3×H×W tensor), drawn from the step's :mod:`draws`."""

    def __init__(self, data, batch: int) -> None:
        self.data = data
        self.batch = batch
        n = len(data)
        if n == 0:
            raise GanvasError("The training data is empty.")

    def next(self) -> torch.Tensor:
        idx = torch.randint(0, len(self.data), (self.batch,), generator=draws.cpu_generator()).tolist()
        if isinstance(self.data, torch.Tensor):
            return self.data[idx]
        return torch.stack([torch.as_tensor(self.data[i]) for i in idx])


# ---------------------------------------------------------------------------------------------
# Losses (shared with fine-tuning)


def d_logistic_loss(real_pred: torch.Tensor, fake_pred: torch.Tensor) -> torch.Tensor:
    return F.softplus(-real_pred).mean() + F.softplus(fake_pred).mean()


def g_nonsaturating_loss(fake_pred: torch.Tensor) -> torch.Tensor:
    return F.softplus(-fake_pred).mean()


def r1_penalty(real_pred: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Squared gradient norm of D at real samples (Mescheder et al. 2018), batch mean."""
    (grad,) = autograd.grad(outputs=real_pred.sum(), inputs=real, create_graph=True)
    return grad.pow(2).reshape(grad.shape[0], -1).sum(1).mean()


def path_length_penalty(
    fake: torch.Tensor, latents: torch.Tensor, mean_path: torch.Tensor, decay: float = 0.01
):
    noise = draws.randn(*fake.shape, device=fake.device) / math.sqrt(fake.shape[2] * fake.shape[3])
    (grad,) = autograd.grad(outputs=(fake * noise).sum(), inputs=latents, create_graph=True)
    lengths = torch.sqrt(grad.pow(2).sum(2).mean(1))
    new_mean = mean_path + decay * (lengths.mean().detach() - mean_path)
    return (lengths - new_mean).pow(2).mean(), new_mean.detach(), lengths.mean().detach()


def mixing_latents(batch: int, dim: int, prob: float, device) -> list[torch.Tensor]:
    if prob > 0 and draws.uniform() < prob:
        return list(draws.randn(2, batch, dim, device=device).unbind(0))
    return [draws.randn(batch, dim, device=device)]


def lazy_adam(params, lr: float, betas: tuple[float, float], reg_every: int) -> torch.optim.Adam:
    """Adam with StyleGAN2's correction for lazy regularisation (lr and β scaled by k/(k+1))."""
    ratio = reg_every / (reg_every + 1) if reg_every > 0 else 1.0
    return torch.optim.Adam(params, lr=lr * ratio, betas=(betas[0] ** ratio, betas[1] ** ratio))


@torch.no_grad()
# ---------------------------------------------------------------------------------------------


def _dist_info() -> tuple[bool, int, int]:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return True, dist.get_rank(), dist.get_world_size()
    return False, 0, 1


def init_distributed_from_env() -> bool:
    """Start torch.distributed from torchrun's environment (RANK, WORLD_SIZE...); NCCL on GPU, gloo on CPU.

    Returns True when running distributed. A no-op when not launched by torchrun.
    """
    import torch.distributed as dist

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or not dist.is_available():
        return False
    if dist.is_initialized():
        return True
    use_cuda = torch.cuda.is_available()
    if use_cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return True


def _preview(g_ema: Generator, size: int) -> np.ndarray:
    from core.sketchgan.model import seed_latents, seed_noise

    with torch.no_grad():
        z = seed_latents(PREVIEW_SEEDS, g_ema.style_dim).to(g_ema.device)
        img = g_ema(z, noise=seed_noise(g_ema, PREVIEW_SEEDS)).clamp(-1, 1)
    return make_grid(tensor_to_uint8(img), 8)


def train_gan(
    data,
    config: PretrainConfig = PRESETS[DEFAULT_PRESET],
    *,
    out_dir: str | os.PathLike,
    resume: bool = True,
    data_info: dict | None = None,
    init: StyleGANModel | None = None,
    record: dict | None = None,
    progress=None,
    cancel=None,
) -> StyleGANModel:
    """Train a StyleGAN2 on ``data`` (a Dataset of 3×size×size tensors in [-1, 1], or one N×3×H×W tensor).

    ``init``: start G, G_ema and D from this model's weights (transfer; its D when it has one) instead
    of random ones; ``record``: more manifest entries (``source``, the base). Autosaves to ``out_dir``
    every ``config.autosave_every`` steps and at the end (rank 0 only); with ``resume`` an existing
    checkpoint there is continued from its step, to the weights an uninterrupted run reaches.
    Cancelling saves first, so the model on disk is always the latest. Returns the EMA generator.
    """
    distributed, rank, world = _dist_info()
    mc = config.model
    if distributed and torch.cuda.is_available():
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    else:
        device = pick_device(config.device)
    sample = data[0] if not isinstance(data, torch.Tensor) else data[0]
    if tuple(sample.shape) != (3, mc.size, mc.size):
        raise GanvasError(
            f"Training images are {tuple(sample.shape)}, but the model is {mc.size}×{mc.size}: "
            "resize the data or change the model size."
        )
    with draws.drawing_from(draws.Draws(config.seed)):  # same initial weights on every rank (DDP also broadcasts them)
        g = Generator(mc).to(device)
        d = Discriminator(mc).to(device)
        g_ema = Generator(mc).to(device)
    if init is not None:
        g.load_state_dict(init.generator.state_dict())
        if init.discriminator is not None:
            d.load_state_dict(init.discriminator.state_dict())
    g_ema.load_state_dict(g.state_dict())
    g_ema.eval().requires_grad_(False)
    g_opt = lazy_adam(
        g.parameters(), config.lr, config.betas, config.g_reg_every if config.path_regularize else 0
    )
    d_opt = lazy_adam(d.parameters(), config.lr, config.betas, config.d_reg_every)

    out = checkpoint_dir(out_dir)
    start = 0
    mean_path = torch.zeros((), device=device)
    if resume and (out / "manifest.json").exists():
        model, tensors = load_model(out, device, with_training_state=True)
        if model.config != mc:
            raise CheckpointError(
                f"Cannot resume '{out}': it holds a {model.config.size}px model with a different "
                "architecture. Choose another output folder or the same settings."
            )
        train = model.manifest.get("training", {})
        if "g.style.1.weight" not in tensors or "opt_g_meta" not in train:
            raise CheckpointError(f"Cannot resume '{out}': it is a finished model without training state.")
        g.load_state_dict(strip_prefix(tensors, "g"))
        d.load_state_dict(strip_prefix(tensors, "d"))
        g_ema.load_state_dict(strip_prefix(tensors, "g_ema"))
        load_optimizer(g_opt, "opt_g", {k: v.to(device) for k, v in tensors.items()}, train["opt_g_meta"])
        load_optimizer(d_opt, "opt_d", {k: v.to(device) for k, v in tensors.items()}, train["opt_d_meta"])
        start = int(train.get("step", 0))
        mean_path = torch.tensor(float(train.get("mean_path_length", 0.0)), device=device)

    g_train, d_train = g, d
    if distributed:
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [device.index] if device.type == "cuda" else None
        g_train = DDP(g, device_ids=ids, broadcast_buffers=False)
        d_train = DDP(d, device_ids=ids, broadcast_buffers=False)

    batches = _Batches(data, config.batch)
    ema_decay = half_life_decay(max(1.0, config.ema_half_life_kimg * 1000), config.batch * world)
    metrics: dict[str, float] = {}
    info = dict(data_info or {})
    head = {"source": "pretrain", **(record or {}), "data": info}
    stage = "pretraining" if head["source"] == "pretrain" else head["source"]
    aug = config.augment

    def augment(x: torch.Tensor) -> torch.Tensor:
        return diff_augment(x, aug, generator=draws.cpu_generator()) if aug else x

    def save(step: int, finished: bool) -> None:
        if rank != 0:
            return
        extra = state_tensors("g", g)
        t_g, meta_g = optimizer_tensors("opt_g", g_opt)
        t_d, meta_d = optimizer_tensors("opt_d", d_opt)
        extra.update(t_g)
        extra.update(t_d)
        manifest = {
            **head,
            "training": training_record(
                step, config.iters, finished, config.to_dict(), world_size=world,
                mean_path_length=float(mean_path), opt_g_meta=meta_g, opt_d_meta=meta_d,
            ),
            "model_id": f"{out.name}-{step}",
        }
        save_model(out, g_ema, d, manifest, extra)

    def barrier() -> None:
        if distributed:
            torch.distributed.barrier()

    def one_step(step: int) -> dict[str, float]:
        with draws.drawing_from(step_draws(config.seed, rank, step, device)):
            return train_step(step)

    def train_step(step: int) -> dict[str, float]:
        nonlocal mean_path
        real = batches.next().to(device)

        # --- discriminator
        g.requires_grad_(False)
        d.requires_grad_(True)
        with torch.no_grad():
            fake = g_train(mixing_latents(config.batch, mc.style_dim, config.mixing, device))
        fake_pred = d_train(augment(fake))
        real_pred = d_train(augment(real))
        d_loss = d_logistic_loss(real_pred, fake_pred)
        d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        d_opt.step()
        metrics["d"] = float(d_loss.detach())

        if config.r1 > 0 and step % config.d_reg_every == 0:
            real.requires_grad_(True)
            rp = d_train(augment(real))
            r1 = r1_penalty(rp, real)
            d_opt.zero_grad(set_to_none=True)
            (config.r1 / 2 * r1 * config.d_reg_every + 0 * rp[0, 0]).backward()
            d_opt.step()
            metrics["r1"] = float(r1.detach())

        # --- generator
        g.requires_grad_(True)
        d.requires_grad_(False)
        fake = g_train(mixing_latents(config.batch, mc.style_dim, config.mixing, device))
        g_loss = g_nonsaturating_loss(d_train(augment(fake)))
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        g_opt.step()
        metrics["g"] = float(g_loss.detach())

        if config.path_regularize > 0 and step % config.g_reg_every == 0:
            pb = max(1, config.batch // config.path_batch_shrink)
            fake, lat = g_train(mixing_latents(pb, mc.style_dim, config.mixing, device), return_latents=True)
            pl, mean_path, plen = path_length_penalty(fake, lat, mean_path)
            g_opt.zero_grad(set_to_none=True)
            weighted = config.path_regularize * config.g_reg_every * pl
            if config.path_batch_shrink:
                weighted = weighted + 0 * fake[0, 0, 0, 0]
            weighted.backward()
            g_opt.step()
            metrics["path"] = float(plen)

        accumulate(g_ema, g, ema_decay)
        return metrics

    step = run_steps(
        one_step, start=start, iters=config.iters, stage=stage, preview_every=config.preview_every,
        autosave_every=config.autosave_every, save=save, preview=lambda: _preview(g_ema, mc.size),
        after_save=barrier, progress=progress if rank == 0 else None, cancel=cancel,
    )
    barrier()
    return StyleGANModel(g_ema, d, mc, {**head, "model_id": f"{out.name}-{step}"}, out)


def primitives_data(
    size: int, count: int, seed: int = 0, preset: str | None = None, progress=None, cancel=None
):
    """``count`` Primitives images (core.primitives) as one N×3×size×size tensor in [-1, 1], with a description.

    Rendered once up front: the synthesizer runs on the CPU and a small fixed set is enough for a base.
    """
    try:
        from core.primitives import PrimitivesDataset
        from core.primitives import preset as primitives_preset
    except ImportError as exc:  # pragma: no cover - depends on the other engine being installed
        raise GanvasError(
            "The Primitives synthesizer (core.primitives) is not available in this installation; "
            "pretrain on a folder of images instead (--images DIR)."
        ) from exc
    cfg = primitives_preset(preset) if preset else primitives_preset()
    ds = PrimitivesDataset(cfg, size=size, length=count, seed=seed)
    rep = ProgressReporter(progress)
    out = torch.empty(count, 3, size, size)
    for i in range(count):
        if i % 64 == 0:
            check_cancel(cancel)
        out[i] = torch.as_tensor(ds[i])
        rep.report(i + 1, count, stage="rendering Primitives")
    return out, {"kind": "primitives", "preset": cfg.preset, "count": count, "seed": seed, "size": size}


def primitives_preset_of(data: dict) -> str | None:
    """The Primitives preset a base's data record names (``variant`` in bases pretrained before it was
    called a preset)."""
    return data.get("preset", data.get("variant"))


def folder_data(folder: str | os.PathLike, size: int):
    ds = ImageFolderData(folder, size)
    return ds, {"kind": "folder", "folder": str(Path(folder)), "count": len(ds), "hash": ds.data_hash}


__all__ = ["PRESETS", "PretrainConfig", "preset", "train_gan", "primitives_data", "primitives_preset_of", "folder_data",
           "init_distributed_from_env"]
