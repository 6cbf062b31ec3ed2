"""A trained SinGAN taught a task, with the training loop itself (:func:`core.singan.train.finetune_scales`).

Three ways, each giving a NEW model (the given one is never changed), cached for reuse:

* :func:`adapt_to_edits` — ConSinGAN's harmonization / editing training (Hinz et al. 2021): the
  scales from the injection scale up learn to turn augmented copies of the photo
  (:mod:`core.singan.augment`: foreign colours, cut-and-paste of its own regions, blur) into the
  photo, so a user's naive composite is just another such input at run time;
* :func:`finetune_on` — ConSinGAN's ``--fine_tune``: the same, on the user's one composite;
* :func:`train_paint_scale` — the public SinGAN code's quantised paint-to-image (``paint_train``): the
  injection scale trained afresh on colour-quantised inputs.

Each is a :class:`~core.singan.train.Feed` (what the fakes start from) plus the settings of
:func:`~core.singan.train.finetune_scales`; there is no second GAN loop.
"""

from __future__ import annotations

import copy
import hashlib

import numpy as np
import torch

from core.images import palette_of, to_tensor, to_uint8
from core.jobs import CancelToken, GanvasError, ProgressFn
from core.singan.augment import KINDS, augment
from core.singan.generate import rec_noise, run_scales
from core.singan.model import SinGANModel
from core.singan.pyramid import resize
from core.singan.task_inputs import TaskInputError, check_injection_scale, prepare
from core.singan.train import Feed, finetune_scales

FINETUNE_ITERS = 2000  # ConSinGAN's fine-tuning iterations (its --niter default; the README's command keeps it)
PALETTE_COLOURS = 5  # k-means colours of the injection scale's image (paint2image's quantisation)

#: Taught models, newest last: key → model (or (model, palette) for painting). One per kind of teaching.
_CACHES: dict[str, dict[tuple, object]] = {"finetune": {}, "adapt": {}, "paint": {}}
_CACHE_SIZES = {"finetune": 1, "adapt": 2, "paint": 2}


def _cached(kind: str, key: tuple, make):
    cache = _CACHES[kind]
    if key not in cache:
        value = make()
        while len(cache) >= _CACHE_SIZES[kind]:
            cache.pop(next(iter(cache)))
        cache[key] = value
    return cache[key]


def copy_model(model: SinGANModel, tag: str) -> SinGANModel:
    """A copy of ``model`` whose generators can be trained without touching the original's."""
    new = SinGANModel(
        config=model.config, image=model.image.copy(), shapes=list(model.shapes), z_rec=model.z_rec.clone(),
        noise_amps=list(model.noise_amps), seed=model.seed, scale_seconds=list(model.scale_seconds),
        model_id=f"{model.model_id}-{tag}", device=model.device, critic=model.critic,
    )
    new.generators = [copy.deepcopy(g) for g in model.generators]
    return new


def _depth(model: SinGANModel, n: int, depth: int | None) -> int:
    """Scales trained together: by default from the injection scale ``n`` to the finest."""
    depth = model.num_trained - n if depth is None else int(depth)
    if not 1 <= depth <= model.num_trained:
        raise GanvasError(f"Fine-tuning needs 1–{model.num_trained} scales (got {depth}).")
    return depth


def adapt_to_edits(
    model: SinGANModel,
    kind: str,
    *,
    scale: int,
    iters: int,
    depth: int | None = None,
    seed: int = 0,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> SinGANModel:
    """A NEW model whose scales from ``scale`` up (``depth`` of them; default all) were trained further
    for ``iters`` iterations on augmented copies of the photo entering ``scale`` as a composite does
    (shrunk to the scale below): ``kind`` "harmonize" (foreign colours and blur) or "edit" (its own
    regions moved). Cached per (model, kind, scale, iters, depth, seed)."""
    n = check_injection_scale(model, scale)
    if kind not in KINDS:
        raise GanvasError(f"Unknown adaptation '{kind}'; choose one of: {', '.join(KINDS)}.")
    if iters < 1:
        raise GanvasError(f"Adapting to {kind} needs at least one iteration (got {iters}).")
    depth = _depth(model, n, depth)

    def make() -> SinGANModel:
        new = copy_model(model, f"{kind[:4]}{n}i{iters}d{depth}s{seed}")
        rng = np.random.default_rng([int(seed), n, 0xADA])
        below = model.shapes[n - 1]
        photo = model.image
        feed = Feed(n, lambda: resize(to_tensor(augment(photo, kind, rng), new.device), below).clamp(-1, 1))
        finetune_scales(new, feed, iters=int(iters), depth=depth, label=f"Learning to {kind}",
                        progress=progress, cancel=cancel)
        return new

    return _cached("adapt", (model.model_id, kind, n, int(iters), depth, int(seed)), make)


def finetune_on(
    model: SinGANModel,
    composite: np.ndarray,
    *,
    scale: int = 1,
    iters: int = FINETUNE_ITERS,
    depth: int | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> SinGANModel:
    """A NEW model fine-tuned on ``composite`` as ConSinGAN does for harmonization and editing
    (tohinz/ConSinGAN, ``--fine_tune``): the finest scale and the ``depth − 1`` below it (default: the
    model's ``train_depth``, ConSinGAN's 3 for its own models) trained further together for ``iters``
    iterations, with the fakes made from the composite entering ``scale`` (as the task injects it) —
    the adversarial loss pulls the composite towards the training image's patches, the reconstruction
    keeps the model what it was. Cached for the last composite."""
    n = check_injection_scale(model, scale)
    depth = model.config.train_depth if depth is None else int(depth)
    if iters < 1 or not 1 <= depth <= model.num_trained:
        raise GanvasError(f"Fine-tuning needs at least one iteration and 1–{model.num_trained} scales "
                          f"(got {iters} iterations, {depth} scales).")
    rgb, _ = prepare(model, composite, "composite")
    mh, mw = model.shapes[model.num_trained - 1]
    if rgb.shape[:2] != (mh, mw):
        raise TaskInputError(
            f"Fine-tuning needs the composite at the model's size {mw}×{mh} (got {rgb.shape[1]}×{rgb.shape[0]})."
        )
    digest = hashlib.sha256(rgb.tobytes()).hexdigest()

    def make() -> SinGANModel:
        new = copy_model(model, "ft" + hashlib.sha256(f"{digest}{n}{iters}{depth}".encode()).hexdigest()[:6])
        start = resize(to_tensor(rgb, new.device), new.shapes[n - 1]).clamp(-1, 1)  # enters n from below
        finetune_scales(new, Feed(n, lambda: start), iters=int(iters), depth=depth,
                        progress=progress, cancel=cancel)
        return new

    return _cached("finetune", (model.model_id, digest, n, int(iters), depth), make)


def quantize_tensor(x: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    """Every pixel of N×3×H×W ``x`` replaced by the nearest of the K×3 ``palette`` colours (both in [-1, 1])."""
    d = ((x[:, None] - palette[None, :, :, None, None]) ** 2).sum(dim=2)  # N×K×H×W
    return palette[d.argmin(dim=1)].permute(0, 3, 1, 2).contiguous()


def train_paint_scale(
    model: SinGANModel,
    scale: int,
    *,
    colours: int = PALETTE_COLOURS,
    iters: int | None = None,
    seed: int = 0,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> tuple[SinGANModel, np.ndarray]:
    """The public code's quantised paint-to-image training (``paint_train``): a NEW model whose
    generator at ``scale`` is trained again from scratch — fresh generator and critic, the model's
    own settings and ``iters`` (default: its training iterations at that scale) — with every input it
    sees (random and reconstruction) quantised to the ``colours`` k-means colours of the training
    image at that scale. It then turns flat colour regions, which is what a painting is, into texture.
    Returns the model and the palette (uint8 K×3). Cached per (model, scale, colours, iters, seed)."""
    n = check_injection_scale(model, scale)
    iters = model.config.iters_at(n, model.num_scales) if iters is None else int(iters)
    if iters < 1 or not 1 <= int(colours) <= 64:
        raise GanvasError(f"Quantised painting needs at least one iteration and 1–64 colours "
                          f"(got {iters} iterations, {colours} colours).")

    def make() -> tuple[SinGANModel, np.ndarray]:
        cfg, dev = model.config, model.device
        palette = palette_of(to_uint8(model.reals[n])[0], int(colours), seed=seed)
        pal = torch.from_numpy(palette.astype(np.float32) / 127.5 - 1.0).to(dev)
        new = copy_model(model, f"paint{n}q{colours}")
        lower, rng = [model.folded(i) for i in range(n)], torch.Generator().manual_seed(int(seed) * 31 + 11)

        def below(noise) -> torch.Tensor:
            with torch.no_grad():
                x = run_scales(lower, model.noise_amps, model.shapes, noise, first=0, prev=None, pad=cfg.pad,
                               batch=1, device=dev, noise_pad=cfg.noise_pad)
            return quantize_tensor(resize(x, model.shapes[n]), pal)

        def noise(s: int, h: int, w: int) -> torch.Tensor:
            return torch.randn(1, 1 if s == 0 else 3, h, w, generator=rng).expand(1, 3, h, w)

        feed = Feed(n, lambda: below(noise), rec=below(rec_noise(model)))
        finetune_scales(new, feed, top=n, iters=iters, depth=1, fresh=True,
                        label=f"Training on {len(palette)}-colour inputs", progress=progress, cancel=cancel)
        return new, palette

    return _cached("paint", (model.model_id, n, int(colours), iters, int(seed)), make)
