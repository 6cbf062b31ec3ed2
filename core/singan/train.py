"""Training a SinGAN scale by scale (WGAN-GP + reconstruction loss), with autosave and resume.

One loop serves every preset. With ``train_depth`` 1 it is SinGAN's: each scale's generator is
trained alone on top of frozen coarser ones. With ``train_depth`` k > 1 it is ConSinGAN's: the
newest k scales are trained together, end to end, the lower ones with their learning rate scaled
by ``lr_scale`` per step down. ``lambda_patch`` adds GPDM's patch sliced-Wasserstein loss.
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from core.averaging import accumulate, half_life_decay
from core.checkpoints import CheckpointError, load_checkpoint
from core.device import pick_device
from core.images import as_rgb, image_hash, to_uint8
from core.images import resize as resize_image
from core.jobs import Cancelled, CancelToken, GanvasError, ProgressFn, ProgressReporter, check_cancel
from core.singan.config import DEFAULT_PRESET, PRESETS, SinGANConfig
from core.singan.generate import (
    SampleSettings,
    breakdown,
    fit_warning,
    rec_noise,
    reconstruct,
    reconstruction_fit,
    run_scales,
    sample_tensor,
    scale_health,
    stage_warning,
)
from core.singan.model import SinGANModel, load_model, save_model
from core.singan.networks import Discriminator, Generator, make_networks
from core.singan.pyramid import build_pyramid, pyramid_shapes, resize

#: Key of the stream z* is drawn from. It is numpy's (PCG64, seeded with the key and the training seed
#: together), not torch's: torch's CPU generator keeps only the low 32 bits of a seed, so an offset
#: into its seeds (this key once was one, with those bits zero) drew z* for seed s from torch seed s,
#: and a model trained with seed 0 sampled at seed 0 gave the photo back.
_Z_REC_STREAM = 0x5EED_0000_0000

#: A scale whose generator saturates or whose reconstruction breaks down (see ``breakdown``) is trained
#: again, up to this many tries in all, each from another random start and with the generators' learning
#: rate × ``RETRY_LR_FACTOR`` once more: a saturation is an overshoot of Adam's steps. On the dark Hubble
#: photo ConSinGAN's first stage ends saturated at two seeds in three at its own rate and at one in four at half of it.
#: Autosave keeps only the kept try; resume repeats the same tries.
SATURATION_ATTEMPTS = 3
RETRY_LR_FACTOR = 0.5

#: Random projections of the patch sliced-Wasserstein loss (``lambda_patch``), drawn afresh every step.
PATCH_DIRECTIONS = 64


def gradient_penalty(d: Discriminator, real: torch.Tensor, fake: torch.Tensor, weight: float,
                     rng: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP as in the SinGAN code: one random mix for the image, gradient norm over channels per pixel."""
    mix = torch.rand(1, 1, 1, 1, generator=rng).to(real.device)
    x = (mix * real + (1 - mix) * fake).requires_grad_(True)
    out = d(x)
    (grad,) = torch.autograd.grad(out, x, torch.ones_like(out), create_graph=True)
    return ((grad.norm(2, dim=1) - 1) ** 2).mean() * weight


def critic_losses(d: Discriminator, real: torch.Tensor, fake: torch.Tensor, weight: float, batch_norm: bool,
                  rng: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(−D(real), D(fake), gradient penalty). A critic without BatchNorm scores real, fake and their
    mix in one batched call (the same numbers as three calls, fewer passes over the weights); with
    BatchNorm each must be its own batch of one, as in the SinGAN code."""
    if batch_norm:
        return -d(real).mean(), d(fake).mean(), gradient_penalty(d, real, fake, weight, rng)
    mix = torch.rand(1, 1, 1, 1, generator=rng).to(real.device)
    x = (mix * real + (1 - mix) * fake).requires_grad_(True)
    out = d(torch.cat([real, fake, x]))
    (grad,) = torch.autograd.grad(out[2:].sum(), x, create_graph=True)
    return -out[0].mean(), out[1].mean(), ((grad.norm(2, dim=1) - 1) ** 2).mean() * weight


def patch_swd_loss(fake: torch.Tensor, real: torch.Tensor, directions: int, rng: torch.Generator,
                   size: int = 7) -> torch.Tensor:
    """GPDM's loss (Elnekave & Weiss, CVPR 2022): sliced Wasserstein distance between the 7×7 patches
    of ``fake`` and ``real`` (1×3×H×W each), along ``directions`` random unit vectors drawn afresh."""
    pf = F.unfold(fake, size)[0]  # (3·size², L)
    pr = F.unfold(real, size)[0]
    dirs = torch.randn(directions, pf.shape[0], generator=rng).to(fake.device)
    dirs = dirs / dirs.norm(dim=1, keepdim=True)
    qf = _sorted_rows(dirs @ pf)  # (directions, L): each row sorted
    with torch.no_grad():
        qr = _sorted_rows(dirs @ pr)
    if qf.shape[1] != qr.shape[1]:  # other sizes: compare quantiles
        qr = F.interpolate(qr[None], size=qf.shape[1], mode="linear", align_corners=True)[0]
    return F.mse_loss(qf, qr)


def _sorted_rows(x: torch.Tensor) -> torch.Tensor:
    """``x`` with each row sorted, differentiable. On the CPU numpy's vectorised sort finds the order
    (~5× faster than torch's here, the patch loss's largest cost); the values are gathered in torch."""
    if x.device.type != "cpu":
        return torch.sort(x, dim=1).values
    order = np.argsort(x.detach().numpy(), axis=1)
    return torch.gather(x, 1, torch.from_numpy(order))


def train_singan(
    image: np.ndarray,
    config: SinGANConfig = PRESETS[DEFAULT_PRESET],
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
    cancel, :class:`Cancelled` is raised with the partial model as ``exc.kept``.
    """
    rgb = as_rgb(image, what="training image")
    dev = device if isinstance(device, torch.device) else pick_device(device)
    shapes = pyramid_shapes(rgb.shape[0], rgb.shape[1], config)
    finest = rgb if rgb.shape[:2] == shapes[-1] else resize_image(rgb, shapes[-1][1], shapes[-1][0])
    model, d_state = (_resume(out_dir, finest, config, dev) if resume else (None, None))
    if model is None:
        model = SinGANModel(config=config, image=finest, shapes=shapes, z_rec=_z_rec(finest, shapes, config, seed),
                            seed=int(seed)).to(dev)
    reporter = ProgressReporter(progress)
    cost = [config.iters_at(n, model.num_scales) * h * w for n, (h, w) in enumerate(shapes)]
    stuck: dict[int, float] = {}  # saturated scales named so far, with their share: each warning names them all
    jumps: dict[int, float] = {}  # scales whose reconstruction broke down, with their error's ratio to the one below
    for n in range(model.num_trained, model.num_scales):
        t0 = time.perf_counter()
        iters = config.iters_at(n, model.num_scales)
        left_after = int(sum(cost[n + 1 :]) / (shapes[n][0] * shapes[n][1]))
        tries = []  # (how broken, try, its result, its health, what broke): the least broken is kept
        for attempt in range(SATURATION_ATTEMPTS):
            try:
                trained, d, amp = _train_scale(model, n, d_state, reporter, left_after, cancel, attempt=attempt,
                                               why=_why(tries[-1:]))
            except Cancelled as exc:
                raise Cancelled(str(exc), kept=model) from None
            lo = n + 1 - len(trained)  # the lowest scale this try trained (ConSinGAN's trains the ones below too)
            health = scale_health(model.with_scales(lo, trained, amp), n)
            found = breakdown(health, [k for k in range(lo, n + 1) if k not in stuck and k not in jumps])
            tries.append(((max(found[0].values(), default=0.0), max(found[1].values(), default=0.0)), attempt,
                          (trained, d, amp), health, found))
            if not any(found):
                break
        _, kept, (trained, d, amp), health, found = min(tries, key=lambda t: t[:2])
        d_state = d.state_dict()
        model.critic = d_state
        for k, g in enumerate(trained[:-1], start=lo):
            model.set_generator(k, g)
        model.add_scale(trained[-1], amp, time.perf_counter() - t0)
        model.scale_health = [*model.scale_health[:lo], *(replace(h, tries=was.tries) for h, was in
                              zip(health[lo:n], model.scale_health[lo:n])), replace(health[n], tries=len(tries))]
        stuck.update(found[0])
        jumps.update(found[1])
        retried = ("" if len(tries) == 1 else f" (the least broken of {len(tries)} tries)" if any(found) else
                   f" (try {kept + 1}: the {'one' if kept == 1 else 'ones'} before {_why(tries[:kept])})")
        warning = stage_warning(model, health, stuck, jumps, found, tries=len(tries), running=n < model.num_scales - 1)
        if n == model.num_scales - 1 and not (stuck or jumps):  # finished, and no check named the failure already
            warning = fit_warning(model, reconstruction_fit(model))
        model.training_warning = warning or model.training_warning
        if out_dir is not None:
            save_model(model, out_dir, extra={f"D_last.{k}": v for k, v in d_state.items()})
        preview = to_uint8(sample_tensor(model, SampleSettings(seed=seed)))[0]
        reporter.report(iters, iters, preview=preview, stage_index=n, stage_count=model.num_scales,
                        message=f"scale {n + 1} done in {model.scale_seconds[-1]:.0f} s{retried}", force=True,
                        warning=warning)
    return model


def _why(tries: list) -> str:
    """What broke in ``tries`` (training's list): "saturated", "broke down" (the reconstruction) or both."""
    return " and ".join(w for w, i in (("saturated", 0), ("broke down", 1)) if any(t[4][i] for t in tries))


def _z_rec(finest: np.ndarray, shapes: list[tuple[int, int]], config: SinGANConfig, seed: int) -> torch.Tensor:
    """z*, the fixed input that reconstructs the photo: the coarsest image itself (ConSinGAN) or grey
    noise from a stream no sample seed uses (SinGAN)."""
    h0, w0 = shapes[0]
    if config.rec_from_image:
        from core.images import to_tensor

        return build_pyramid(to_tensor(finest, torch.device("cpu")), shapes)[0].clone()
    z = np.random.default_rng([_Z_REC_STREAM, int(seed) % 2**64]).standard_normal((1, 1, h0, w0), dtype=np.float32)
    return torch.from_numpy(z).expand(1, 3, h0, w0).contiguous()


def _resume(out_dir, finest: np.ndarray, config: SinGANConfig, dev: torch.device):
    if out_dir is None:
        raise GanvasError("Resume needs the model folder of the interrupted training (--out).")
    if not Path(out_dir).exists():
        return None, None  # nothing to resume: start fresh
    model = load_model(out_dir, dev)
    if image_hash(model.image) != image_hash(finest):
        raise GanvasError(f"Cannot resume '{out_dir}': it was trained on a different image. Choose another output folder.")
    if model.config != config:
        raise GanvasError(f"Cannot resume '{out_dir}': it was trained with other settings "
                          f"({_settings_change(model.config, config)}). "
                          + ("Train it again from the start, or choose another output folder."
                             if model.config.preset == config.preset else
                             "Use the same settings or another output folder."))
    try:
        tensors = load_checkpoint(out_dir).tensors
    except CheckpointError:
        tensors = {}
    d_state = {k[len("D_last."):]: v for k, v in tensors.items() if k.startswith("D_last.")} or None
    if len(model.scale_health) != model.num_trained:  # saved before training recorded it: measured now
        model.scale_health = scale_health(model)
    return model, d_state


def _settings_change(was: SinGANConfig, now: SinGANConfig, most: int = 4) -> str:
    """What differs between a saved run's settings and these, for the resume error: each setting when
    few differ (the same preset of an earlier version, a changed option), else just the two presets."""
    old, new = was.to_dict(), now.to_dict()
    changed = [f"{k} {old[k]!r} there, {new[k]!r} now" for k in new if k != "preset" and old.get(k) != new[k]]
    if was.preset == now.preset:
        return f"preset '{was.preset}' with " + ", ".join(changed)
    if len(changed) > most:
        return f"preset '{was.preset}', not '{now.preset}': {len(changed)} settings differ"
    return f"preset '{was.preset}', not '{now.preset}'" + "".join(f", {c}" for c in changed)


@dataclass(frozen=True)
class Feed:
    """What the fakes start from when a trained model is taught a task: ``draw()`` gives a new image
    (1×3×h×w in [-1, 1], any size: it is resized) entering scale ``entry`` for every iteration (a
    naive composite, augmented copies of the photo, colour-quantised samples). ``rec``, when given,
    replaces the reconstruction path's input at the lowest trained scale (it must be ``entry``)."""

    entry: int
    draw: Callable[[], torch.Tensor]
    rec: torch.Tensor | None = None


@dataclass
class _Scale:
    """What one scale's training loop works on: the scales it trains (``lo``…``n``), their inputs and losses."""

    model: SinGANModel
    n: int
    lo: int
    gens: list  # frozen (folded) generators below ``lo``, then the trained ones
    amps: list[float]
    rng: torch.Generator
    feed: Feed | None = None  # images entering a scale instead of noise at the coarsest (fine-tuning)

    @property
    def first(self) -> int:
        """The lowest scale of the fakes' path that gets gradients."""
        return self.lo if self.feed is None else max(self.lo, self.feed.entry)

    @property
    def cfg(self) -> SinGANConfig:
        return self.model.config

    def noise(self, s: int, h: int, w: int) -> torch.Tensor:
        grey = s == 0
        z = torch.randn(1, 1 if grey else 3, h, w, generator=self.rng)
        return z.expand(1, 3, h, w) if grey else z

    def run(self, first: int, last: int, prev: torch.Tensor | None, noise) -> torch.Tensor:
        m = self.model
        return run_scales(self.gens[: last + 1], self.amps, m.shapes, noise, first=first, prev=prev,
                          pad=self.cfg.pad, batch=1, device=m.device, noise_pad=self.cfg.noise_pad)

    @cached_property
    def rec_noise(self) -> Callable[[int, int, int], torch.Tensor]:
        return rec_noise(self.model)

    def frozen_sample(self) -> torch.Tensor | None:
        """A fresh random image from the frozen scales, entering scale ``first`` (no gradients): from
        noise at the coarsest, or from the feed's next image entering its scale."""
        if self.feed is not None:
            start = self.feed.draw().to(self.model.device)
            if self.feed.entry >= self.lo:
                return start
            with torch.no_grad():
                return self.run(self.feed.entry, self.lo - 1, start, self.noise)
        if self.lo == 0:
            return None
        with torch.no_grad():
            return self.run(0, self.lo - 1, None, self.noise)


def _train_scale(model: SinGANModel, n: int, d_state, reporter: ProgressReporter, left_after: int,
                 cancel: CancelToken | None, *, iters: int | None = None, depth: int | None = None,
                 feed: Feed | None = None, fresh: bool = False,
                 attempt: int = 0, why: str = "") -> tuple[list[Generator], Discriminator, float]:
    """Train scale ``n`` (a new one, or one already trained: then it is trained further, starting from
    its generator, its noise amplitude and the critic ``d_state``, or from fresh networks with
    ``fresh``) with the ``depth`` (default: ``train_depth``) scales below it, for ``iters`` (default:
    the config's) iterations. ``feed`` makes the fakes start from its images instead of from noise.
    ``attempt`` > 0 draws another random start (init and noise) for a scale trained again after it
    saturated or its reconstruction broke down (``why``), and scales the generators' learning rate by
    ``RETRY_LR_FACTOR ** attempt``."""
    cfg, dev = model.config, model.device
    real = model.reals[n]
    h, w = model.shapes[n]
    iters = cfg.iters_at(n, model.num_scales) if iters is None else int(iters)
    refine = n < model.num_trained
    key = model.seed * 7919 + n + attempt * 1_000_003
    g, d = (net.to(dev) for net in make_networks(cfg, n, seed=key))  # (seed, scale, try) only: resume is exact
    if refine and not fresh:
        g = copy.deepcopy(model.generators[n])
        if d_state is not None:
            d.load_state_dict(d_state)
    elif n > 0 and cfg.channels_at(n - 1) == cfg.channels_at(n):  # warm start from the scale below, as the papers do
        g.load_state_dict(model.generators[n - 1].state_dict())
        if d_state is not None:
            d.load_state_dict(d_state)
    lo = max(0, n - (cfg.train_depth if depth is None else depth) + 1)
    trained = [copy.deepcopy(model.generators[k]) for k in range(lo, n)] + [g]
    for t in trained:
        t.train().requires_grad_(True)
    rng = torch.Generator().manual_seed(key)
    amp = model.noise_amps[n] if refine else _noise_amp(model, n)
    sc = _Scale(model, n, lo, [model.folded(k) for k in range(lo)] + trained, [*model.noise_amps[:n], amp], rng,
                feed)

    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2), foreach=True)
    lr_g = cfg.lr_g * RETRY_LR_FACTOR ** attempt
    groups = [{"params": t.parameters(), "lr": lr_g * cfg.lr_scale ** (len(trained) - 1 - i)}
              for i, t in enumerate(trained)]
    opt_g = torch.optim.Adam(groups, lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2), foreach=True)
    milestone = [max(1, int(iters * cfg.lr_decay_at))]
    sched_d = torch.optim.lr_scheduler.MultiStepLR(opt_d, milestone, cfg.lr_gamma)
    sched_g = torch.optim.lr_scheduler.MultiStepLR(opt_g, milestone, cfg.lr_gamma)

    # The reconstruction path: z* at the coarsest scale, no noise above it; the frozen part never changes.
    if feed is not None and feed.rec is not None:
        if feed.entry != lo:
            raise GanvasError(f"A reconstruction input enters the lowest trained scale {lo}, not {feed.entry}.")
        rec_prev = feed.rec.to(dev)
    else:
        with torch.no_grad():
            rec_prev = sc.run(0, lo - 1, None, sc.rec_noise) if lo > 0 else None

    # One fake for all critic steps and the one generator gradient (ConSinGAN's loop): it is made
    # once per iteration, with its graph, and the generator step reuses it instead of running the scales again.
    one_fake = cfg.g_reuse_grad and not cfg.redraw_lower
    stage = f"Scale {n + 1}/{model.num_scales} ({w}×{h})"
    if attempt:
        stage += f", try {attempt + 1} of {SATURATION_ATTEMPTS} at generator lr ×{RETRY_LR_FACTOR ** attempt:g} (it {why})"
    reporter.start_stage(stage)
    ema = _WeightAverage(trained, cfg.ema_half_life_share) if cfg.ema_half_life_share > 0 else None
    metrics: dict[str, float] = {}
    for it in range(iters):
        check_cancel(cancel)
        drawn: dict[int, torch.Tensor] = {}  # this iteration's noise of the trained scales

        def noise(s: int, hh: int, ww: int, drawn: dict = drawn) -> torch.Tensor:
            if s not in drawn:
                drawn[s] = sc.noise(s, hh, ww)
            return drawn[s]

        # --- critic: maximise D(real) - D(G(z)), with gradient penalty
        d.requires_grad_(True)
        prev = sc.frozen_sample()
        for j in range(cfg.d_steps):
            if j > 0 and cfg.redraw_lower:
                prev = sc.frozen_sample()
            if j == 0 or cfg.redraw_lower:  # otherwise the generators and inputs are unchanged: same fake
                with torch.set_grad_enabled(one_fake):
                    fake = sc.run(sc.first, n, prev, noise)
            opt_d.zero_grad(set_to_none=True)
            err_real, err_fake, gp = critic_losses(d, real, fake.detach(), cfg.lambda_grad, cfg.d_batch_norm, rng)
            (err_real + err_fake + gp).backward()
            opt_d.step()
        # --- generator: fool the critic, reconstruct the image from z*, match its patches
        d.requires_grad_(False)
        for _ in range(1 if cfg.g_reuse_grad else cfg.g_steps):
            opt_g.zero_grad(set_to_none=True)
            if not one_fake:
                fake = sc.run(sc.first, n, prev, noise)
            err_g = -d(fake).mean()
            rec_loss = cfg.alpha * F.mse_loss(sc.run(lo, n, rec_prev, sc.rec_noise), real)
            loss = err_g + rec_loss
            if cfg.lambda_patch > 0:
                patch = cfg.lambda_patch * patch_swd_loss(fake, real, PATCH_DIRECTIONS, rng)
                loss = loss + patch
            loss.backward()
            for _ in range(cfg.g_steps if cfg.g_reuse_grad else 1):
                opt_g.step()
        if ema is not None:
            ema.update(it)
        sched_d.step()
        sched_g.step()
        if it % 10 == 0 or it == iters - 1:
            metrics = {"D": (err_real + err_fake).item(), "GP": gp.item(), "G": err_g.item(), "rec": rec_loss.item()}
            if cfg.lambda_patch > 0:
                metrics["patch"] = patch.item()
        reporter.report(it + 1, iters, stage=stage, metrics=metrics, stage_index=n,
                        stage_count=model.num_scales, remaining_steps_after=left_after)
    if ema is not None:
        ema.apply()
        if not cfg.per_image_norm:  # per-image normalisation never reads the running statistics
            _recalibrate_batch_norm(trained, lambda: sc.run(sc.first, n, sc.frozen_sample(), sc.noise))
    return [t.eval() for t in trained], d, amp


class _WeightAverage:
    """The running average of generators' weights (:func:`~core.averaging.accumulate`) whose half-life
    grows with training: a ``share`` of the iterations so far (StyleGAN2-ADA ramps its G_ema so), so the
    random start fades fast and the average covers the end of training. BatchNorm's running statistics
    are not averaged: they are measured again for the averaged weights (``_recalibrate_batch_norm``),
    unless the model samples with per-image normalisation, which never reads them."""

    def __init__(self, nets: list[torch.nn.Module], share: float) -> None:
        self.nets, self.share = nets, share
        self.averages = [copy.deepcopy(net).requires_grad_(False) for net in nets]

    def update(self, it: int) -> None:
        decay = half_life_decay(max(1.0, self.share * (it + 1)))
        for avg, net in zip(self.averages, self.nets):
            accumulate(avg, net, decay)

    def apply(self) -> None:
        with torch.no_grad():
            for avg, net in zip(self.averages, self.nets):
                for p, a in zip(net.parameters(), avg.parameters()):
                    p.copy_(a)


def _recalibrate_batch_norm(nets: list[torch.nn.Module], forward: Callable[[], torch.Tensor], passes: int = 16) -> None:
    """BatchNorm's running statistics measured anew as the plain mean over ``passes`` training-mode
    forward passes (the weights just changed under them)."""
    norms = [m for net in nets for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    if not norms:
        return
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    with torch.no_grad():
        for _ in range(passes):
            forward()
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum


def finetune_scales(model: SinGANModel, feed: Feed, *, iters: int, depth: int, top: int | None = None,
                    fresh: bool = False, label: str = "Fine-tuning", progress: ProgressFn | None = None,
                    cancel: CancelToken | None = None) -> None:
    """Teach a trained model a task, in place, with the training loop itself: scale ``top`` (default:
    the finest trained one) and the ``depth − 1`` below it are trained further, together, the lower
    ones with the learning rate × ``lr_scale`` per step down, from the trained critic
    (``model.critic``; a fresh one if the model was saved without it) — or from fresh networks with
    ``fresh`` (``depth`` 1 only) — with the fakes made from ``feed``'s images and the training losses
    (WGAN-GP against the training image, α × reconstruction, patch loss if the preset has one).
    ConSinGAN fine-tunes so (Hinz et al. 2021, ``--fine_tune``). Cancel leaves ``model`` as it was."""
    n = model.num_trained - 1 if top is None else int(top)
    if not 1 <= feed.entry <= n < model.num_trained or iters < 1 or depth < 1 or (fresh and depth != 1):
        raise GanvasError(f"Fine-tuning needs an entry scale in 1–{n}, at least one iteration and one scale "
                          f"(one when trained afresh; got scale {feed.entry}, {iters} iterations, {depth} scales).")
    lo = max(0, n - depth + 1)
    h, w = model.shapes[n]
    label = f"{label} scales {lo}–{n} ({w}×{h})" + (
        "" if model.critic and not fresh else ", fresh critic")

    def relabel(p):
        progress(replace(p, stage=label, stage_index=0, stage_count=1))

    reporter = ProgressReporter(relabel if progress is not None else None)
    critic = None if fresh or n != model.num_trained - 1 else model.critic
    trained, d, amp = _train_scale(model, n, critic, reporter, 0, cancel, iters=iters, depth=depth, feed=feed,
                                   fresh=fresh)
    for k, g in enumerate(trained, start=n + 1 - len(trained)):
        model.set_generator(k, g)
    if n == model.num_trained - 1:
        model.critic = d.state_dict()


def _noise_amp(model: SinGANModel, n: int) -> float:
    """Scale n's noise amplitude: ``noise_amp_init`` × RMSE between the reconstruction from below and x_n."""
    if n == 0:
        return 1.0
    up = resize(reconstruct(model, end_scale=n - 1), model.shapes[n])
    return model.config.noise_amp_init * math.sqrt(F.mse_loss(model.reals[n], up).item())
