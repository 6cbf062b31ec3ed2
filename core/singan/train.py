"""Training a SinGAN scale by scale (WGAN-GP + reconstruction loss), with autosave and resume."""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from core.checkpoints import CheckpointError, load_checkpoint
from core.device import pick_device
from core.images import as_rgb, image_hash, to_uint8
from core.images import resize as resize_image
from core.jobs import Cancelled, CancelToken, GanvasError, ProgressFn, ProgressReporter, check_cancel
from core.singan.config import PRESETS, SinGANConfig
from core.singan.generate import SampleSettings, run_scales, sample_tensor
from core.singan.model import SinGANModel, load_model, save_model
from core.singan.networks import Discriminator, Generator
from core.singan.pyramid import pyramid_shapes, resize


def gradient_penalty(d: Discriminator, real: torch.Tensor, fake: torch.Tensor, weight: float,
                     rng: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP as in the SinGAN code: one random mix for the image, gradient norm over channels per pixel."""
    mix = torch.rand(1, 1, 1, 1, generator=rng).to(real.device)
    x = (mix * real + (1 - mix) * fake).requires_grad_(True)
    out = d(x)
    (grad,) = torch.autograd.grad(out, x, torch.ones_like(out), create_graph=True)
    return ((grad.norm(2, dim=1) - 1) ** 2).mean() * weight


def train_singan(
    image: np.ndarray,
    config: SinGANConfig = PRESETS["paper"],
    *,
    out_dir: str | os.PathLike | None = None,
    resume: bool = False,
    device: str | torch.device | None = None,
    seed: int = 0,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> SinGANModel:
    """Train on one RGB image (uint8 H×W×3), coarsest scale first.

    With ``out_dir`` the model is saved after every finished scale; ``resume=True`` continues
    from the last finished scale of the model there (same image and settings required). On
    cancel, :class:`Cancelled` is raised with the partial model as ``exc.model``.
    """
    rgb = as_rgb(image, what="training image")
    dev = device if isinstance(device, torch.device) else pick_device(device)
    shapes = pyramid_shapes(rgb.shape[0], rgb.shape[1], config)
    finest = rgb if rgb.shape[:2] == shapes[-1] else resize_image(rgb, shapes[-1][1], shapes[-1][0])
    model, d_state = (_resume(out_dir, finest, config, dev) if resume else (None, None))
    if model is None:
        g = torch.Generator().manual_seed(int(seed))
        h0, w0 = shapes[0]
        z_rec = torch.randn(1, 1, h0, w0, generator=g).expand(1, 3, h0, w0).contiguous()
        model = SinGANModel(config=config, image=finest, shapes=shapes, z_rec=z_rec, seed=int(seed)).to(dev)
    reporter = ProgressReporter(progress)
    areas = [h * w for h, w in shapes]
    for n in range(model.num_trained, model.num_scales):
        t0 = time.perf_counter()
        left_after = int(config.iters * sum(areas[n + 1 :]) / areas[n])
        try:
            g, d, amp = _train_scale(model, n, d_state, reporter, left_after, cancel)
        except Cancelled as exc:
            exc.model = model  # type: ignore[attr-defined]
            raise
        d_state = d.state_dict()
        model.add_scale(g, amp, time.perf_counter() - t0)
        if out_dir is not None:
            save_model(model, out_dir, extra={f"D_last.{k}": v for k, v in d_state.items()})
        preview = to_uint8(sample_tensor(model, SampleSettings(seed=seed)))[0]
        reporter.report(config.iters, config.iters, preview=preview, stage_index=n, stage_count=model.num_scales,
                        message=f"scale {n + 1} done in {model.scale_seconds[-1]:.0f} s", force=True)
    return model


def _resume(out_dir, finest: np.ndarray, config: SinGANConfig, dev: torch.device):
    if out_dir is None:
        raise GanvasError("Resume needs the model folder of the interrupted training (--out).")
    if not Path(out_dir).exists():
        return None, None  # nothing to resume: start fresh
    model = load_model(out_dir, dev)
    if image_hash(model.image) != image_hash(finest):
        raise GanvasError(f"Cannot resume '{out_dir}': it was trained on a different image. Choose another output folder.")
    if model.config != config:
        raise GanvasError(
            f"Cannot resume '{out_dir}': it was trained with other settings (preset '{model.config.preset}', "
            f"max size {model.config.max_size}). Use the same settings or another output folder."
        )
    try:
        tensors = load_checkpoint(out_dir).tensors
    except CheckpointError:
        tensors = {}
    d_state = {k[len("D_last."):]: v for k, v in tensors.items() if k.startswith("D_last.")} or None
    return model, d_state


def _train_scale(model: SinGANModel, n: int, d_state, reporter: ProgressReporter, left_after: int,
                 cancel: CancelToken | None):
    cfg, dev, pad = model.config, model.device, model.config.pad
    real = model.reals[n]
    h, w = model.shapes[n]
    ch = cfg.channels_at(n)
    with torch.random.fork_rng(devices=[]):  # the init depends on (seed, scale) only, so resume is exact
        torch.manual_seed(model.seed * 7919 + n)
        g, d = Generator(ch, cfg.num_layers).to(dev), Discriminator(ch, cfg.num_layers).to(dev)
    if n > 0 and cfg.channels_at(n - 1) == ch:  # warm start from the scale below, as the paper does
        g.load_state_dict(model.generators[n - 1].state_dict())
        if d_state is not None:
            d.load_state_dict(d_state)
    g.train().requires_grad_(True)
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2), foreach=True)
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2), foreach=True)
    milestone = [max(1, int(cfg.iters * cfg.lr_decay_at))]
    sched_d = torch.optim.lr_scheduler.MultiStepLR(opt_d, milestone, cfg.lr_gamma)
    sched_g = torch.optim.lr_scheduler.MultiStepLR(opt_g, milestone, cfg.lr_gamma)
    rng = torch.Generator().manual_seed(model.seed * 7919 + n)
    lower = [model.folded(i) for i in range(n)]

    def randn(grey: bool) -> torch.Tensor:
        z = torch.randn(1, 1 if grey else 3, h, w, generator=rng)
        return z.expand(1, 3, h, w).to(dev) if grey else z.to(dev)

    def random_prev() -> torch.Tensor:
        """A fresh sample of the coarser scales, upsampled to this scale (no gradients)."""
        if n == 0:
            return torch.zeros(1, 3, h, w, device=dev)
        with torch.no_grad():
            x = run_scales(lower, model.noise_amps, model.shapes,
                           lambda s, hh, ww: torch.randn(1, 1 if s == 0 else 3, hh, ww, generator=rng).expand(1, 3, hh, ww),
                           first=0, prev=None, pad=pad, batch=1, device=dev)
            return resize(x, (h, w))

    # The reconstruction path: z* at the coarsest scale, no noise above it.
    if n == 0:
        z_prev = torch.zeros(1, 3, h, w, device=dev)
        amp = 1.0
    else:
        with torch.no_grad():
            x = run_scales(lower, model.noise_amps, model.shapes,
                           lambda s, hh, ww: model.z_rec if s == 0 else torch.zeros(1, 3, hh, ww),
                           first=0, prev=None, pad=pad, batch=1, device=dev)
            z_prev = resize(x, (h, w))
        amp = cfg.noise_amp_init * math.sqrt(F.mse_loss(real, z_prev).item())
    z_opt = model.z_rec if n == 0 else torch.zeros_like(z_prev)
    rec_in = F.pad(amp * z_opt + z_prev, (pad,) * 4)
    rec_prev = F.pad(z_prev, (pad,) * 4)

    stage = f"Scale {n + 1}/{model.num_scales} ({w}×{h})"
    reporter.start_stage(stage)
    metrics: dict[str, float] = {}
    for it in range(cfg.iters):
        check_cancel(cancel)
        noise_ = randn(grey=(n == 0))
        # --- critic: maximise D(real) - D(G(z)), with gradient penalty
        d.requires_grad_(True)
        for _ in range(cfg.d_steps):
            prev = random_prev()
            noisy = noise_ if n == 0 else amp * noise_ + prev
            noisy_p, prev_p = F.pad(noisy, (pad,) * 4), F.pad(prev, (pad,) * 4)
            opt_d.zero_grad(set_to_none=True)
            with torch.no_grad():
                fake = g(noisy_p, prev_p)
            err_real = -d(real).mean()
            err_fake = d(fake).mean()
            gp = gradient_penalty(d, real, fake, cfg.lambda_grad, rng)
            (err_real + err_fake + gp).backward()
            opt_d.step()
        # --- generator: fool the critic and reconstruct the image from z*
        d.requires_grad_(False)
        for _ in range(cfg.g_steps):
            opt_g.zero_grad(set_to_none=True)
            fake = g(noisy_p, prev_p)  # recomputed each step (the original reuses a stale graph)
            err_g = -d(fake).mean()
            rec_loss = cfg.alpha * F.mse_loss(g(rec_in, rec_prev), real)
            (err_g + rec_loss).backward()
            opt_g.step()
        sched_d.step()
        sched_g.step()
        if it % 10 == 0 or it == cfg.iters - 1:
            metrics = {"D": (err_real + err_fake).item(), "GP": gp.item(), "G": err_g.item(), "rec": rec_loss.item()}
        reporter.report(it + 1, cfg.iters, stage=stage, metrics=metrics, stage_index=n,
                        stage_count=model.num_scales, remaining_steps_after=left_after)
    return g.eval(), d, amp
