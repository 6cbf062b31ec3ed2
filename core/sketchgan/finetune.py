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
import math
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.averaging import accumulate
from core.device import pick_device
from core.images import image_hash, make_grid
from core.jobs import GanvasError, Progress
from core.presets import named_preset
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
from core.sketchgan.stylegan import Discriminator, Generator, StyleGANConfig

TRAINABLE = ("auto", "mapping", "w_shift", "all")
PREVIEW_SEEDS = list(range(100, 108))


class SketchTuneError(GanvasError):
    """A fine-tuning input a person can fix (no sketches, wrong base model...)."""


IMAGE_DATA = ("auto", "data", "samples")
SKETCH_STYLES = ("auto", "drawn", "filled")
#: Darkness of a filled sketch's figure against the paper before F redraws it (the data's figures keep
#: 0.25–1 of the range away from their background). Measured on tall boxes (docs/sketchgan.md): 0.5 moved the shape
#: −39 to −64 % over five tunes; 0.3, 0.8 and all three together did worse on the same seeds.
FILL_CONTRAST = 0.5
#: The average's half-life is at most this fraction of the steps done (see ``ema_half_life``).
EMA_RAMPUP = 0.1
#: Seeds on which a finished tune's shape is checked (see ``SketchTuneConfig.retries``).
CHECK_SEEDS = list(range(9000, 9064))


@dataclass(frozen=True)
class SketchTuneConfig:
    """Fine-tuning settings. Defaults = the paper preset (GANSketching's public defaults + teaser script)."""

    iters: int = 75_000  # GANSketching's --max_iter default (its teaser script uses 150k)
    batch: int = 4
    lr: float = 0.002
    betas: tuple[float, float] = (0.0, 0.99)
    # extra factor on the mapping network's lr (CPU preset: fewer, bigger steps)
    mapping_lr_scale: float = 1.0
    r1: float = 10.0
    d_reg_every: int = 16
    mixing: float = 0.9
    l_image: float = 0.7  # λ_image; 0 turns the image regularisation off
    # what the image critic sees as real: "data" = images of the base's training distribution (the
    # paper's), regenerated from its manifest; "samples" = samples of the frozen base; "auto" = data
    # when the manifest says how to make it, else samples (an imported checkpoint)
    image_data: str = "auto"
    image_count: int = 1000  # how many real images to hold for the image critic
    l_weight: float = 0.0  # λ_weight; 0 = off (the paper's sketches-only setting)
    # half-life, in steps, of an exponential moving average of the trained weights; the average is what
    # is previewed, saved and returned (StyleGAN2 samples its averaged G the same way). 0 = off (the
    # paper's fine-tuning keeps no average); the cpu preset's fast lr makes the raw weights swing.
    # Early on it is at most EMA_RAMPUP × the steps done (StyleGAN2-ADA's ramp), so a short tune is
    # not held back at the base's weights
    ema_half_life: float = 0.0
    # a GAN tune now and then locks into a mode that misses the sketched shape (a two-tone split instead
    # of a tall box). For a base of solid figures the finished tune's samples are checked: when the
    # outline of their foreground has come closer to the sketches by less than ``retry_below`` (on
    # CHECK_SEEDS, not the seeds docs/sketchgan.md's evaluation uses), the tune is run again from the base with the
    # next seed, up to ``retries`` times, and the best run is kept
    retries: int = 0
    retry_below: float = 0.45
    # what the sketch critic sees as real: "drawn" = the user's strokes (the paper's); "filled" = each
    # closed outline filled and redrawn by F, so real and fake sketches share F's line style and only
    # their shape tells them apart; "auto" = filled for a base trained on solid figures (Primitives
    # sketch-shapes), drawn for any other
    sketch_style: str = "drawn"
    augment: str = "translation"  # DiffAugment policy applied to real and fake sketches
    # what trains: "mapping" (the paper's), "w_shift", "all" (the whole G), or "auto" = all when the image
    # critic sees figure renders (below: real images of the sketched shape to learn to draw), else mapping
    trainable: str = "mapping"
    # for a base of solid figures with filled sketches: this share of the image critic's real images are
    # the user's own figures drawn as the base's Primitives data draws figures (its background, a colour
    # that stands out, moved by up to 2 px), so the critic that keeps the samples realistic also shows
    # what a realistic sample of the sketched shape looks like. 0 = off (the paper's data only)
    figure_renders: float = 0.0
    sketch_d_from_image_d: bool = True  # initialise D_sketch from the base model's D
    xdog: XDoGConfig = field(default_factory=XDoGConfig)
    preview_every: int = 2500
    autosave_every: int = 2500
    seed: int = 0
    device: str = "auto"
    preset: str = "paper"

    def __post_init__(self) -> None:
        problems = []
        if self.trainable not in TRAINABLE:
            problems.append(f"trainable must be one of {', '.join(TRAINABLE)}, not '{self.trainable}'")
        if self.image_data not in IMAGE_DATA:
            problems.append(f"image_data must be one of {', '.join(IMAGE_DATA)}, not '{self.image_data}'")
        if self.sketch_style not in SKETCH_STYLES:
            problems.append(f"sketch_style must be one of {', '.join(SKETCH_STYLES)}, not '{self.sketch_style}'")
        if self.batch < 1 or self.iters < 1:
            problems.append(f"batch and iters must be at least 1 (got {self.batch}, {self.iters})")
        if self.l_image < 0 or self.l_weight < 0 or self.r1 < 0:
            problems.append("l_image, l_weight and r1 must be 0 (off) or more")
        if self.retries < 0 or not 0 < self.retry_below < 1:
            problems.append(f"retries must be 0 or more and retry_below within (0, 1) (got {self.retries}, "
                            f"{self.retry_below})")
        if not 0 <= self.figure_renders < 1:
            problems.append(f"figure_renders must be within [0, 1) (got {self.figure_renders})")
        if self.ema_half_life < 0:
            problems.append(f"ema_half_life must be 0 (off) or more (got {self.ema_half_life})")
        if self.lr <= 0 or self.mapping_lr_scale <= 0:
            problems.append("lr and mapping_lr_scale must be above 0")
        if self.image_count < 1 or self.d_reg_every < 1:
            problems.append("image_count and d_reg_every must be at least 1")
        if self.preview_every < 1 or self.autosave_every < 1:
            problems.append("preview_every and autosave_every must be at least 1")
        if problems:
            raise SketchTuneError("Invalid sketch fine-tuning settings: " + "; ".join(problems) + ".")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["betas"] = list(self.betas)
        return d

    def with_(self, **changes: Any) -> SketchTuneConfig:
        return replace(self, **changes)


#: ``paper``: GANSketching's public defaults (75k steps, batch 4; a GPU).
#: ``cpu``: 1 000 steps on a laptop CPU instead of 75k (about 90 s at 32 px on 2 cores): the same
#: losses, with the mapping network's lr ×40 so the few steps cover the distance (×10 moved the shapes
#: too little in 400 steps), the average of the weights over the last ~100 steps as the result (the
#: raw weights swing at this lr), and for a base of solid figures the sketches filled and redrawn by F,
#: half the image critic's real images the sketched figures as the data draws them, the whole G
#: trained against a critic weighted λ_image 5, and one retry with the next seed when the samples'
#: outline missed the sketches (docs/sketchgan.md: realism median 257 → ~130 at the same
#: −60 to −80 % shape change as the mapping-only preset before it).
PRESETS: dict[str, SketchTuneConfig] = {
    "cpu": SketchTuneConfig(iters=1000, mapping_lr_scale=40.0, sketch_style="auto", ema_half_life=100.0,
                            retries=1, trainable="auto", figure_renders=0.5, l_image=5.0,
                            preview_every=50, autosave_every=100, preset="cpu"),
    "paper": SketchTuneConfig(),
}

PRESET_DESCRIPTIONS: dict[str, str] = {
    "cpu": "CPU: 1 000 steps, mapping network lr ×40, averaged weights, λ image 5; for a base of solid figures, filled sketches, your figures among the image critic's real images, the whole generator trained and one retry when the shape is missed — 1.5–3 min at 32 px on 2 cores",
    "paper": "GANSketching as published: 75k steps, batch 4 — a GPU",
}

DEFAULT_PRESET = "cpu"


def preset(name: str, **overrides: Any) -> SketchTuneConfig:
    """The named preset with some fields changed (``None`` values are ignored)."""
    return named_preset(PRESETS, name, what="sketch fine-tuning ", error=SketchTuneError, **overrides)


def network_macs(config: StyleGANConfig) -> int:
    """Multiply-accumulates of one image through the generator's and the discriminator's convolutions."""
    ch, log = config.channels, int(math.log2(config.size))
    macs = ch(4) * ch(4) * 9 * 16 + ch(4) * 3 * 16
    prev = ch(4)
    for lv in range(3, log + 1):
        r = 2**lv
        macs += (prev * ch(r) + ch(r) * ch(r)) * 9 * r * r + ch(r) * 3 * r * r
        prev = ch(r)
    macs += 3 * ch(config.size) * config.size**2
    for lv in range(log, 2, -1):
        r = 2**lv
        cin, cout = ch(r), ch(r // 2)
        macs += cin * cin * 9 * r * r + cin * cout * 10 * (r // 2) ** 2
    return macs + ch(4) * (ch(4) + 1) * 9 * 16 + ch(4) * 16 * ch(4)


#: Seconds per fine-tuning step on the project's 2-core CPU: a fixed 0.05 s plus 0.27 ns per
#: multiply-accumulate and image, fitted to bench/sketchgan.py (32 px: 0.099 s, StyleGAN2 config-f at
#: 256 px: 138 s per step, batch 4, both within 5 %; 64 px reads 0.54 s, which it puts at 0.76 s).
CPU_STEP_OVERHEAD_S = 0.05
CPU_S_PER_MAC = 0.27e-9


def estimate_cpu_seconds(model: StyleGANConfig, config: SketchTuneConfig) -> float:
    """A rough CPU time for ``config.iters`` fine-tuning steps of ``model`` (to warn before a long run)."""
    per_step = CPU_STEP_OVERHEAD_S + CPU_S_PER_MAC * network_macs(model) * config.batch
    return per_step * config.iters


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
        if change <= -config.retry_below:
            break
        if attempt < config.retries and progress is not None:
            progress(Progress(stage, config.iters, config.iters, message=(
                f"the samples did not take the shape of the sketches (outline {round(100 * change):+d} %, aim "
                f"{round(-100 * config.retry_below):+d} %): tuning again with seed {seed + 1}")))
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
        if config.sketch_d_from_image_d:
            self.d_sketch.load_state_dict(base.discriminator.state_dict())
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
            accumulate(self.g_ema, g, 0.5 ** (1.0 / min(config.ema_half_life, EMA_RAMPUP * (step + 1))))
        return metrics

    def preview(self) -> np.ndarray:
        self.kept.eval()
        grid = preview_grid(self.g0, self.kept, self.config.xdog)
        self.g.train()
        return grid
