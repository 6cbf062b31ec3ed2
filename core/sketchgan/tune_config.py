"""Sketch fine-tuning settings: :class:`SketchTuneConfig` (GANSketching's defaults), the ``cpu`` and
``paper`` presets, and a rough CPU time of a tune (to warn before a long one). The loop that uses
them is :mod:`core.sketchgan.finetune`."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from core.jobs import GanvasError
from core.presets import named_preset
from core.sketchgan.sketch import XDoGConfig
from core.sketchgan.stylegan import StyleGANConfig

TRAINABLE = ("auto", "mapping", "w_shift", "all")
class SketchTuneError(GanvasError):
    """A fine-tuning input a person can fix (no sketches, wrong base model...)."""


IMAGE_DATA = ("auto", "data", "samples")
SKETCH_STYLES = ("auto", "drawn", "filled")
IMAGE_DATA = ("auto", "data", "samples")
SKETCH_STYLES = ("auto", "drawn", "filled")


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
    # outline of their foreground has come closer to the sketches by less than ``RETRY_BELOW`` (on
    # CHECK_SEEDS, not the seeds docs/sketchgan.md's evaluation uses), the tune is run again from the base with the
    # next seed, up to ``retries`` times, and the best run is kept
    retries: int = 0
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
        if self.retries < 0:
            problems.append(f"retries must be 0 or more (got {self.retries})")
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
#: nine in ten of the image critic's real images the sketched figures as the data draws them (0.5
#: before: 0.9 drew the shape more firmly and nearer renders of it, the realism the paper measures), the whole G
#: trained against a critic weighted λ_image 5, and one retry with the next seed when the samples'
#: outline missed the sketches (docs/sketchgan.md: realism median 257 → ~130 at the same
#: −60 to −80 % shape change as the mapping-only preset before it).
PRESETS: dict[str, SketchTuneConfig] = {
    "cpu": SketchTuneConfig(iters=1000, mapping_lr_scale=40.0, sketch_style="auto", ema_half_life=100.0,
                            retries=1, trainable="auto", figure_renders=0.9, l_image=5.0,
                            preview_every=50, autosave_every=100, preset="cpu"),
    "paper": SketchTuneConfig(),
}

PRESET_DESCRIPTIONS: dict[str, str] = {
    "cpu": "CPU: 1 000 steps, mapping network lr ×40, averaged weights, λ image 5; for a base of solid figures, filled sketches, your figures as 9 in 10 of the image critic's real images, the whole generator trained and one retry when the shape is missed — 1.5–3 min at 32 px on 2 cores",
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
