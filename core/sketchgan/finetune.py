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
The cpu preset adds what the paper does not need at 75k steps: the running average of the trained
weights as the result, and, for a base of solid figures, the user's figures drawn as the base's data
draws figures among the image critic's real images (with the whole G trained, so it can learn to
draw them crisply) and a check of the finished tune's shape that runs it again with the next seed
when it missed (see ``SketchTuneConfig``).
"""

from __future__ import annotations

import copy
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from core.averaging import accumulate, half_life_decay
from core.device import pick_device
from core.images import image_hash, make_grid
from core.jobs import Progress
from core.sketchgan import draws
from core.sketchgan.augment import diff_augment
from core.sketchgan.evaluate import edge_match
from core.sketchgan.loop import run_steps, training_record
from core.sketchgan.model import (
    StyleGANModel,
    load_model,
    save_model,
    seed_latents,
    seed_noise,
    state_tensors,
    tensor_to_uint8,
)
from core.sketchgan.pretrain import (
    ImageFolderData,
    d_logistic_loss,
    g_nonsaturating_loss,
    lazy_adam,
    mixing_latents,
    primitives_data,
    primitives_preset_of,
    r1_penalty,
)
from core.sketchgan.sketch import (
    XDoGConfig,
    figure_coverage,
    ink_to_sketch_tensor,
    photo_to_sketch,
    sketch_as_f_draws_it,
)
from core.sketchgan.stylegan import Discriminator, Generator
from core.sketchgan.tune_config import PRESETS, SketchTuneConfig, SketchTuneError

PREVIEW_SEEDS = list(range(100, 108))


#: Darkness of a filled sketch's figure against the paper before F redraws it (the data's figures keep
#: 0.25–1 of the range away from their background). Measured on tall boxes (docs/sketchgan.md): 0.5 moved the shape
#: −39 to −64 % over five tunes; 0.3, 0.8 and all three together did worse on the same seeds.
FILL_CONTRAST = 0.5
#: The average's half-life is at most this fraction of the steps done (see ``ema_half_life``).
EMA_RAMPUP = 0.1
#: Seeds on which a finished tune's shape is checked (see ``SketchTuneConfig.retries``).
CHECK_SEEDS = list(range(9000, 9064))
#: A tune of a figures base is run again (``retries``) when its samples' outline came closer to the
#: sketches by less than this share.
RETRY_BELOW = 0.45


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


def _figures_data(base: StyleGANModel):
    """The Primitives config of the base's data when it is solid figures, else None."""
    info = base.manifest.get("data") or {}
    if info.get("kind") != "primitives":
        return None
    from core.primitives import PRESETS as PRIMITIVES_PRESETS

    cfg = PRIMITIVES_PRESETS.get(str(primitives_preset_of(info)))
    return cfg if cfg is not None and cfg.figures else None


def trained_on_figures(base: StyleGANModel) -> bool:
    """Whether the base's manifest says it learnt solid figures (a Primitives preset with figures), the
    images whose sketches are closed outlines."""
    return _figures_data(base) is not None


def figure_renders(sketches: list[np.ndarray], base: StyleGANModel, count: int) -> torch.Tensor | None:
    """``count`` images of the user's closed sketches as the base's data draws its figures (N×3×H×W in
    [-1, 1], core.primitives.figure_images), or None when the base did not learn figures or no sketch
    encloses one. Drawn from the data's seed + 1, so no background repeats a data image's."""
    cfg = _figures_data(base)
    masks = [m for m in (figure_coverage(s, base.config.size) for s in sketches) if m is not None]
    if cfg is None or not masks or count < 1:
        return None
    from core.primitives import figure_images

    seed = int((base.manifest.get("data") or {}).get("seed", 0)) + 1
    images = torch.from_numpy(figure_images(cfg, masks, count, seed=seed))
    return images.permute(0, 3, 1, 2).float() / 127.5 - 1


def critic_sketches(
    sketches: list[np.ndarray], base: StyleGANModel, config: SketchTuneConfig, device
) -> tuple[torch.Tensor, dict]:
    """The sketch critic's real sketches (S×1×size×size in [-1, 1]) and how they were made.

    With ``sketch_style`` filled, a sketch that encloses a figure is filled and redrawn by F; one that
    encloses nothing (an open stroke) is used as drawn, and the record counts both.
    """
    size = base.config.size
    drawn = sketches_tensor(sketches, size, device)  # also refuses blank sketches
    style = config.sketch_style
    if style == "auto":
        style = "filled" if trained_on_figures(base) else "drawn"
    if style == "drawn":
        return drawn, {"style": "drawn"}
    out, filled = [], 0
    for i, s in enumerate(sketches):
        redrawn = sketch_as_f_draws_it(s, size, FILL_CONTRAST, config.xdog)
        filled += redrawn is not None
        out.append(drawn[i : i + 1] if redrawn is None else ink_to_sketch_tensor(redrawn, size, device))
    return torch.cat(out, 0), {"style": "filled", "filled": filled, "as_drawn": len(sketches) - filled}


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


def regularisation_images(
    base: StyleGANModel, config: SketchTuneConfig, *, progress=None, cancel=None
) -> tuple[torch.Tensor | None, dict]:
    """Real images for the image critic (N×3×H×W in [-1, 1], on the CPU) and what they are.

    The paper regularises against the base's training data. Ganvas bases record theirs in the manifest
    (``data``): Primitives are regenerated from preset and seed — the same pixels the base saw — and a
    folder is read again. ``None`` means the critic sees samples of the frozen base instead (asked for
    with ``image_data='samples'``, or ``'auto'`` when the data cannot be had: an imported checkpoint).
    """
    size = base.config.size
    if config.image_data == "samples" or config.l_image <= 0:
        return None, {"kind": "samples"}
    info = dict(base.manifest.get("data") or {})
    kind = info.get("kind")
    why = ""
    if kind == "primitives":
        count = min(int(info.get("count", config.image_count)), config.image_count)
        images, used = primitives_data(size, count, seed=int(info.get("seed", 0)), preset=primitives_preset_of(info),
                                       progress=progress, cancel=cancel)
        return images, used
    if kind == "folder":
        folder = Path(str(info.get("folder", "")))
        if folder.is_dir():
            ds = ImageFolderData(folder, size, flip=False)
            images = ds.images[: config.image_count]
            return images, {"kind": "folder", "folder": str(folder), "count": len(images)}
        why = f"the folder it was trained on, '{folder}', is not there any more"
    else:
        why = "its manifest does not say what it was trained on (an imported checkpoint?)"
    if config.image_data == "data":
        raise SketchTuneError(
            f"Cannot regularise against the base model's training data: {why}. Use the base's own samples "
            "instead (image data 'samples' / --image-data samples) or give a folder of real images."
        )
    return None, {"kind": "samples", "reason": why}


def sketch_tune(
    base: StyleGANModel | str | os.PathLike,
    sketches: list[np.ndarray],
    config: SketchTuneConfig = PRESETS["paper"],
    *,
    out_dir: str | os.PathLike | None = None,
    real_images: torch.Tensor | None = None,
    progress=None,
    cancel=None,
) -> StyleGANModel:
    """Fine-tune ``base`` so that F(G'(z)) matches ``sketches`` (float32 H×W ink in [0, 1], 1 = ink).

    The image critic sees ``real_images`` (N×3×H×W in [-1, 1]) when given, else what
    :func:`regularisation_images` finds for the base. Autosaves to ``out_dir`` (if given) every
    ``config.autosave_every`` steps, on cancel, and at the end. The saved model holds the image critic
    as its discriminator (a second tuning starts from it) and the sketch critic as ``d_sketch``.
    Returns the fine-tuned model (eval mode); its manifest names the base, its data and the sketches.
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
    real_sketches, sketch_info = critic_sketches(sketches, base, config, device)
    if real_images is not None:
        if tuple(real_images.shape[1:]) != (3, size, size):
            raise SketchTuneError(
                f"The real images for the image critic are {tuple(real_images.shape[1:])}, the model makes "
                f"3×{size}×{size}: resize them to the model's resolution."
            )
        reg_info: dict = {"kind": "given", "count": len(real_images)}
    else:
        real_images, reg_info = regularisation_images(base, config, progress=progress, cancel=cancel)
        if real_images is not None and config.figure_renders > 0 and sketch_info["style"] == "filled":
            share = config.figure_renders
            renders = figure_renders(sketches, base, round(len(real_images) * share / (1 - share)))
            if renders is not None:
                real_images = torch.cat([real_images, renders])
                reg_info = {**reg_info, "figure_renders": len(renders)}
    if config.trainable == "auto":  # the whole G when it has real images of the shape to learn to draw
        config = config.with_(trainable="all" if reg_info.get("figure_renders") else "mapping")
    sketch_ids = [
        image_hash((np.clip(np.asarray(s, np.float32), 0, 1) * 255).astype(np.uint8)) for s in sketches
    ]
    out = Path(out_dir) if out_dir is not None else None
    tries: list[dict] = []

    def manifest(step: int, finished: bool) -> dict:
        return {
            "source": "sketch-tune",
            "base": {
                "path": str(base.path) if base.path else None,
                "model_id": base.model_id,
                "config": base.config.to_dict(),
            },
            "data": base.manifest.get("data"),  # the base's training data, for the next tuning's critic
            "image_regularisation": reg_info,
            "sketches": {"count": len(sketches), "hashes": sketch_ids, **sketch_info},
            "training": training_record(step, config.iters, finished, config.to_dict(), tries=tries),
            "model_id": f"{out.name if out else 'sketch-tuned'}-{step}",
        }

    def save(run: _TuneRun, step: int, finished: bool) -> None:
        if out is not None:
            save_model(out, run.kept, run.image_critic, manifest(step, finished),
                       state_tensors("d_sketch", run.d_sketch))

    checked = config.retries > 0 and trained_on_figures(base)  # the outline check needs solid figures
    best: tuple[float, _TuneRun] | None = None
    base_distance = None
    for attempt in range(config.retries + 1 if checked else 1):
        seed = config.seed + attempt
        run = _TuneRun(base, config, seed, real_sketches, real_images)
        stage = "sketch fine-tuning" if attempt == 0 else f"sketch fine-tuning, try {attempt + 1} (seed {seed})"
        with draws.drawing_from(run.draws):
            run_steps(
                run.step, start=0, iters=config.iters, stage=stage, preview_every=config.preview_every,
                autosave_every=config.autosave_every, save=lambda st, fin, r=run: save(r, st, fin),
                preview=run.preview, progress=progress, cancel=cancel,
            )
        if not checked:
            best = (0.0, run)
            break
        # did the samples take the shape? their own foreground outline against the sketches
        if base_distance is None:
            base_distance = _outline_distance(base, sketches)
        change = _outline_distance(run.model(), sketches) / base_distance - 1
        tries.append({"seed": seed, "outline_change": round(change, 3)})
        if best is None or change < best[0]:
            best = (change, run)
        if change <= -RETRY_BELOW:
            break
        if attempt < config.retries and progress is not None:
            progress(Progress(stage, config.iters, config.iters, message=(
                f"the samples did not take the shape of the sketches (outline {round(100 * change):+d} %, aim "
                f"{round(-100 * RETRY_BELOW):+d} %): tuning again with seed {seed + 1}")))
    assert best is not None
    _, run = best
    step = config.iters  # a run stopped early raised Cancelled out of run_steps
    if tries:
        save(run, step, True)  # the kept run (perhaps an earlier one), with the checks in its manifest
    g = run.kept.eval().requires_grad_(False)
    run.d_sketch.eval().requires_grad_(False)
    run.image_critic.requires_grad_(False)
    return StyleGANModel(g, run.image_critic, g.config, manifest(step, True), out, sketch_discriminator=run.d_sketch)


def tries_summary(manifest: dict) -> str:
    """What the shape check of a tuned model's manifest found, in a sentence ("" when none ran)."""
    tries = (manifest.get("training") or {}).get("tries") or []
    if not tries:
        return ""

    def nearer(t: dict) -> str:
        change = round(100 * t["outline_change"])
        return f"{-change} % nearer" if change <= 0 else f"{change} % further from"

    kept = min(tries, key=lambda t: t["outline_change"])
    if len(tries) == 1:
        return f"the samples' outlines are {nearer(kept)} the sketches than the base's"
    runs = ", ".join(f"seed {t['seed']}: {nearer(t)}" for t in tries)
    return (f"the first run missed the shape, so it was tuned {len(tries)} times ({runs} the sketches than "
            f"the base's); kept seed {kept['seed']}")


def _outline_distance(model: StyleGANModel, sketches: list[np.ndarray]) -> float:
    return edge_match(model, sketches, CHECK_SEEDS, "outline")["outline_chamfer_mean"]


class _TuneRun:
    """One fine-tuning run from the base: the trained copy of G, its average, both critics and their
    optimisers, and one training step (a tune that misses the shape is run again with another seed)."""

    def __init__(self, base: StyleGANModel, config: SketchTuneConfig, seed: int, real_sketches: torch.Tensor,
                 real_images: torch.Tensor | None) -> None:
        self.config, self.seed, self.real_sketches, self.real_images = config, seed, real_sketches, real_images
        self.device = device = base.generator.device
        self.draws = draws.Draws(seed, device)  # its initial weights, latents and noise (draws.py says why)
        self.gen = torch.Generator().manual_seed(seed)
        self.g0 = g0 = base.generator.eval().requires_grad_(False)  # the original model: frozen
        g = copy.deepcopy(g0)
        if config.trainable == "w_shift" and not g.config.w_shift:
            with draws.drawing_from(self.draws):
                g = _with_w_shift(g)
        self.g = g.train().requires_grad_(False)
        self.params = params = _trainable_params(g, config.trainable)
        for p in params:
            p.requires_grad_(True)
        self.ref = [p.detach().clone() for p in params] if config.l_weight > 0 else []
        mapping_ids = {id(p) for n, p in g.named_parameters() if n.startswith("style.")}
        groups = [
            {"params": [p for p in params if id(p) not in mapping_ids], "lr": config.lr},
            {"params": [p for p in params if id(p) in mapping_ids], "lr": config.lr * config.mapping_lr_scale},
        ]
        self.g_opt = torch.optim.Adam([gr for gr in groups if gr["params"]], lr=config.lr, betas=config.betas)

        with draws.drawing_from(self.draws):
            self.d_sketch = Discriminator(base.config).to(device)
        self.d_sketch.load_state_dict(base.discriminator.state_dict())  # D_sketch starts as the base's D
        self.d_image = None
        self.d_params = list(self.d_sketch.parameters())
        if config.l_image > 0:
            self.d_image = copy.deepcopy(base.discriminator).train()
            self.d_params += list(self.d_image.parameters())
        for p in self.d_params:
            p.requires_grad_(True)
        self.d_opt = lazy_adam(self.d_params, config.lr, config.betas, config.d_reg_every)
        self.image_critic = self.d_image if self.d_image is not None else base.discriminator
        self.g_ema = copy.deepcopy(g).eval().requires_grad_(False) if config.ema_half_life > 0 else None
        self.kept = self.g_ema if self.g_ema is not None else g  # what is previewed, saved and returned
        self.metrics: dict[str, float] = {}

    def model(self) -> StyleGANModel:
        return StyleGANModel(self.kept.eval(), self.image_critic, self.kept.config, {})

    def _augment(self, s: torch.Tensor) -> torch.Tensor:
        aug = self.config.augment
        return diff_augment(s, aug, fill=1.0, generator=self.gen) if aug else s

    def _fake_sketch(self, img: torch.Tensor) -> torch.Tensor:
        return self._augment(to3(photo_to_sketch(img, self.config.xdog)))

    def _real_sketches(self) -> torch.Tensor:
        idx = torch.randint(0, len(self.real_sketches), (self.config.batch,), generator=self.gen).tolist()
        return self.real_sketches[idx]

    def _image_critic_reals(self) -> torch.Tensor:
        b = self.config.batch
        if self.real_images is None:  # samples of the frozen base
            with torch.no_grad():
                return self.g0(draws.randn(b, self.g0.style_dim, device=self.device))
        idx = torch.randint(0, len(self.real_images), (b,), generator=self.gen).tolist()
        return self.real_images[idx].to(self.device)

    def _latents(self) -> torch.Tensor:
        return mixing_latents(self.config.batch, self.g.style_dim, self.config.mixing, self.device)

    def step(self, step: int) -> dict[str, float]:
        config, g, d_sketch, d_image, metrics = self.config, self.g, self.d_sketch, self.d_image, self.metrics
        # --- discriminators
        g.requires_grad_(False)
        for p in self.d_params:
            p.requires_grad_(True)
        with torch.no_grad():
            fake = g(self._latents())
        d_loss = d_logistic_loss(d_sketch(self._augment(to3(self._real_sketches()))), d_sketch(self._fake_sketch(fake)))
        metrics["d_sketch"] = float(d_loss.detach())
        if d_image is not None:
            d_img = d_logistic_loss(d_image(self._image_critic_reals()), d_image(fake))
            metrics["d_image"] = float(d_img.detach())
            d_loss = d_loss + config.l_image * d_img
        self.d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_opt.step()

        if config.r1 > 0 and step % config.d_reg_every == 0:
            rs = self._real_sketches().detach().requires_grad_(True)
            reg = config.r1 / 2 * r1_penalty(d_sketch(self._augment(to3(rs))), rs) * config.d_reg_every
            if d_image is not None:
                ri = self._image_critic_reals().requires_grad_(True)
                reg = reg + config.l_image * config.r1 / 2 * r1_penalty(d_image(ri), ri) * config.d_reg_every
            self.d_opt.zero_grad(set_to_none=True)
            reg.backward()
            self.d_opt.step()

        # --- generator
        for p in self.d_params:
            p.requires_grad_(False)
        for p in self.params:
            p.requires_grad_(True)
        fake = g(self._latents())
        g_loss = g_nonsaturating_loss(d_sketch(self._fake_sketch(fake)))
        metrics["g_sketch"] = float(g_loss.detach())
        if d_image is not None:
            g_img = g_nonsaturating_loss(d_image(fake))
            metrics["g_image"] = float(g_img.detach())
            g_loss = g_loss + config.l_image * g_img
        if self.ref:
            wl = sum((p - r).abs().mean() for p, r in zip(self.params, self.ref)) / len(self.params)
            metrics["weight"] = float(wl.detach())
            g_loss = g_loss + config.l_weight * wl
        self.g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        self.g_opt.step()
        if self.g_ema is not None:
            accumulate(self.g_ema, g, half_life_decay(min(config.ema_half_life, EMA_RAMPUP * (step + 1))))
        return metrics

    def preview(self) -> np.ndarray:
        self.kept.eval()
        grid = preview_grid(self.g0, self.kept, self.config.xdog)
        self.g.train()
        return grid
