"""Configuration of the Primitives synthesizer: one frozen dataclass, named presets, validation.

As for SinGAN (core/singan/config.py): ``PRESETS`` maps a name to a config, ``preset(name,
**overrides)`` looks one up with some fields changed, ``PRESET_DESCRIPTIONS`` has a line per preset
for the studio and ``--help``, and ``DEFAULT_PRESET`` is the paper's method.

The defaults reproduce the released code of Baek & Shim, "Commonality in Natural Images Rescues
GANs" (CVPR 2022, ``pretrain/noise_dataset.py`` in Primitives-PS). Where that code hard-codes
256-pixel square images, sizes here are fractions of the image so that any width and height
works; at 256×256 they give the same numbers as the released code.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from core.jobs import GanvasError
from core.presets import named_preset

#: Shape kinds of the elementary-shapes stage, in the order used by ``shape_weights``.
SHAPE_KINDS: tuple[str, ...] = ("line", "circle", "ellipse", "rectangle")

#: Shape kinds of the dead-leaves baseline (Baradad et al. 2021, "mixed" mode).
LEAF_KINDS: tuple[str, ...] = (
    "circle",
    "square",
    "oriented_square",
    "rectangle",
    "triangle",
    "quadrilateral",
)

#: Kinds of the figures stage (the ``sketch-shapes`` preset): solid silhouettes a sketch can describe.
FIGURE_KINDS: tuple[str, ...] = ("ellipse", "rectangle", "triangle")

#: "soft": a power-spectrum field squeezed to ``background_contrast`` of the range around one colour.
BACKGROUNDS = ("spectrum", "flat", "black", "soft")
SALIENCY_FILLS = ("spectrum", "flat")
FLAT_COLOURS = ("grey", "colour")


class PrimitivesError(GanvasError):
    """A Primitives parameter a person can fix (size, range, folder...)."""


@dataclass(frozen=True)
class PrimitivesConfig:
    """Everything that decides what a Primitives image looks like (image size and seed are separate).

    Power spectrum (P), as in ``generate_pink_noise`` of the released code:
      * each RGB channel is white noise with random phase, filtered by an amplitude
        ``1 / (|f_y|**a + |f_x|**b)`` where ``a`` (vertical) and ``b`` (horizontal) are drawn
        independently per channel, uniformly in ``exponent_range`` = [0.5, 3.5];
      * frequencies are ``numpy.fft.fftfreq(n, d=0.2)`` (that is 5× cycles per pixel), the zero
        frequency replaced by 0.1× the lowest non-zero one; for non-square images each axis uses
        its own length, so the field has the same statistics in pixel units along both axes;
      * the three channels are rescaled together (one min/max) to 0..255, which is what gives
        the fields their colour casts (and why some fields look almost flat: a channel whose
        exponents are large has a huge low-frequency amplitude and takes most of the range —
        the released code behaves the same); values are rounded, where the released code truncates.
      * the noise is drawn directly as its spectrum (complex Gaussian coefficients, i.e. the
        spectrum of white Gaussian noise), which is the released ``fft2(randn)`` in distribution.

    Elementary shapes, as in ``inject_particles`` (``shape_count`` = 100 iterations):
      * kind chosen with weights line 1 : circle 2 : ellipse 2 : rectangle 2 (``shape_weights``);
      * shape ``i`` of ``n`` has maximum size ``int(min_side * max_size_fraction) *
        ((n - i) / n) ** size_decay + min_size_px``, rounded (released code: ``256 // 5 *
        (n - i) / n + 2``, linear decay), so early shapes are big and later ones small and on
        top (dead-leaves occlusion);
      * lines join two uniform points (the released code sorts the x and y coordinates, so
        every line runs from top-left to bottom-right; ``lines_any_direction`` lifts that),
        thickness uniform in [1, max_size); circles: uniform centre, radius in [1, max_size);
        ellipses: two radii in [1, max_size), angle an integer in [0, 180); rectangles: top-left
        corner uniform in [0, side - 1 - max_size), sides in [1, max_size);
      * flat colours uniform in 0..255 per channel (released: ``randint(0, 255)``, i.e. 0..254);
        no antialiasing unless ``antialias``.
      * the released code measures sizes in pixels of a 256-px image (coordinates are drawn in
        [0, 255) whatever the size); here positions are drawn over the real width and height and
        sizes are fractions of the shorter side.

    Saliency (S), as in ``inject_saliency``, drawn last:
      * kind uniform over circle, ellipse, rectangle (the released list minus its first entry);
      * circle and ellipse centre uniform within ±``saliency_center_jitter`` (0.1) of the image
        centre; circle radius in [1/4, 3/8) of the shorter side; ellipse radii in [1/4, 3/8) of
        the width and height, axis-aligned; rectangle top-left corner in [1/8, 1/2) and sides in
        [3/8, 3/4) of the width and height (so a rectangle may run off the bottom-right);
      * ``saliency_scale`` multiplies the radii and sides (1.0 = the paper);
      * filled with its own new power-spectrum field (``saliency_fill='spectrum'``) or with one
        flat random colour (``'flat'``, the released ``dead_leaves`` baseline).

    Figures (``sketch-shapes``, not in the paper): 1–2 solid ellipses, rectangles or isosceles
    triangles, long side ``figure_size`` of the shorter image side, short/long ratio ``figure_aspect``,
    rotation uniform in [0, 180°), centre uniform over the positions that keep most of the figure in
    view; flat colours at least 64 grey levels of luminance away from the background's mean. Made
    for sketch fine-tuning: poses and silhouettes a person can draw, on a plain or low-contrast
    background (``background='soft'``) so that a sketch of the outline is the whole picture.

    Flat background (no P): one random grey level (the released ``dead_leaves`` draws three
    values but uses the first for every channel); ``flat_colour='colour'`` uses all three.
    """

    preset: str = "primitives-ps"  # the preset this config starts from (recorded with every set)
    # stage switches
    background: str = "spectrum"  # "spectrum" (P) | "flat" | "black"
    shapes: bool = True
    saliency: bool = True
    saliency_fill: str = "spectrum"  # "spectrum" | "flat"
    leaves: bool = False  # Baradad et al.'s dead-leaves baseline instead of the 100 shapes
    # power spectrum
    exponent_range: tuple[float, float] = (0.5, 3.5)
    isotropic_spectrum: bool = False  # Baradad's spectrum baseline: one slope ± a little, shared by RGB
    # shapes
    shape_count: int = 100
    max_size_fraction: float = 0.2
    min_size_px: float = 2.0
    size_decay: float = 1.0
    shape_kinds: tuple[str, ...] = SHAPE_KINDS
    shape_weights: tuple[float, ...] = (1.0, 2.0, 2.0, 2.0)
    lines_any_direction: bool = False
    antialias: bool = False
    flat_colour: str = "grey"  # "grey" | "colour"
    # saliency
    saliency_scale: float = 1.0
    saliency_center_jitter: float = 0.1
    # dead-leaves baseline (Baradad et al.): radii ~ r**-3 on [0.03, 1] of the shorter side, until covered
    leaf_kinds: tuple[str, ...] = LEAF_KINDS
    leaf_radius_range: tuple[float, float] = (0.03, 1.0)
    leaf_sigma: float = 3.0
    leaf_max_count: int = 5000
    # figures (sketch-shapes): a few solid silhouettes of varied aspect ratio, rotation and position,
    # drawn last, each in a colour that stands out from the background
    figures: bool = False
    figure_count: tuple[int, int] = (1, 2)  # how many, uniform in [low, high]
    figure_size: tuple[float, float] = (0.35, 0.8)  # long side as a fraction of the shorter image side
    figure_aspect: tuple[float, float] = (0.2, 1.0)  # short side / long side
    figure_kinds: tuple[str, ...] = FIGURE_KINDS
    background_contrast: float = 0.15  # for background="soft"

    def __post_init__(self) -> None:
        validate(self)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def with_(self, **changes: Any) -> PrimitivesConfig:
        """This config with some fields changed (a list for a tuple field becomes a tuple; an unknown name
        is refused)."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise PrimitivesError(f"Unknown Primitives setting(s): {', '.join(sorted(unknown))}.")
        tuples = {k: tuple(v) for k, v in changes.items()
                  if isinstance(getattr(self, k), tuple) and v is not None and not isinstance(v, tuple)}
        return dataclasses.replace(self, **{**changes, **tuples})

    @classmethod
    def from_dict(cls, d: dict) -> PrimitivesConfig:
        d = dict(d)
        if "name" in d and "preset" not in d:  # sets written before the preset field had this name
            d["preset"] = d.pop("name")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise PrimitivesError(f"Unknown Primitives setting(s): {', '.join(sorted(unknown))}.")
        kw = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        return cls(**kw)


def _range_problem(name: str, r: tuple[float, float], lo: float, hi: float) -> str | None:
    if len(r) != 2:
        return f"{name} must be two numbers (low, high), got {r!r}"
    a, b = float(r[0]), float(r[1])
    if a > b:
        return f"{name} is inverted: low {a:g} is above high {b:g}"
    if a < lo or b > hi:
        return f"{name} must lie within [{lo:g}, {hi:g}], got [{a:g}, {b:g}]"
    return None


def validate(c: PrimitivesConfig) -> None:
    """Raise :class:`PrimitivesError` naming every bad parameter in one message."""
    problems: list[str | None] = []
    add = problems.append
    if c.background not in BACKGROUNDS:
        add(f"background must be one of {', '.join(BACKGROUNDS)}, got {c.background!r}")
    if c.saliency_fill not in SALIENCY_FILLS:
        add(f"saliency_fill must be one of {', '.join(SALIENCY_FILLS)}, got {c.saliency_fill!r}")
    if c.flat_colour not in FLAT_COLOURS:
        add(f"flat_colour must be 'grey' or 'colour', got {c.flat_colour!r}")
    add(_range_problem("exponent_range", c.exponent_range, 0.0, 8.0))
    if not 0 <= int(c.shape_count) <= 10000 or int(c.shape_count) != c.shape_count:
        add(f"shape_count must be a whole number from 0 to 10000, got {c.shape_count!r}")
    if not 0.0 < c.max_size_fraction <= 1.0:
        add(f"max_size_fraction must be in (0, 1], got {c.max_size_fraction:g}")
    if not 0.0 <= c.min_size_px <= 64.0:
        add(f"min_size_px must be in [0, 64], got {c.min_size_px:g}")
    if not 0.0 <= c.size_decay <= 10.0:
        add(f"size_decay must be in [0, 10] (0 = no decay, 1 = linear), got {c.size_decay:g}")
    bad = [k for k in c.shape_kinds if k not in SHAPE_KINDS]
    if bad:
        add(f"Unknown shape kind(s) {', '.join(bad)}; choose from {', '.join(SHAPE_KINDS)}")
    if c.shapes and c.shape_count > 0 and not c.shape_kinds:
        add("The shapes stage is on but no shape kind is selected; tick at least one kind")
    if len(c.shape_weights) != len(SHAPE_KINDS) or any(w < 0 for w in c.shape_weights):
        add(f"shape_weights must be {len(SHAPE_KINDS)} non-negative numbers for {', '.join(SHAPE_KINDS)}")
    elif (c.shapes and c.shape_kinds and not bad
          and sum(c.shape_weights[SHAPE_KINDS.index(k)] for k in c.shape_kinds) <= 0):
        add("The selected shape kinds all have weight 0")
    if not 0.05 <= c.saliency_scale <= 3.0:
        add(f"saliency_scale must be in [0.05, 3], got {c.saliency_scale:g}")
    if not 0.0 <= c.saliency_center_jitter <= 0.5:
        add(f"saliency_center_jitter must be in [0, 0.5], got {c.saliency_center_jitter:g}")
    bad = [k for k in c.leaf_kinds if k not in LEAF_KINDS]
    if bad or (c.leaves and not c.leaf_kinds):
        add(f"leaf_kinds must be a non-empty choice from {', '.join(LEAF_KINDS)}")
    add(_range_problem("leaf_radius_range", c.leaf_radius_range, 1e-3, 2.0))
    if c.leaf_radius_range and float(c.leaf_radius_range[0]) <= 0:
        add("leaf_radius_range must start above 0")
    if not 1 <= c.leaf_max_count <= 100000:
        add(f"leaf_max_count must be from 1 to 100000, got {c.leaf_max_count}")
    if len(c.figure_count) != 2 or not 1 <= c.figure_count[0] <= c.figure_count[1] <= 16:
        add(f"figure_count must be (low, high) with 1 ≤ low ≤ high ≤ 16, got {c.figure_count!r}")
    add(_range_problem("figure_size", c.figure_size, 0.05, 1.5))
    add(_range_problem("figure_aspect", c.figure_aspect, 0.05, 1.0))
    bad = [k for k in c.figure_kinds if k not in FIGURE_KINDS]
    if bad or (c.figures and not c.figure_kinds):
        add(f"figure_kinds must be a non-empty choice from {', '.join(FIGURE_KINDS)}")
    if not 0.0 <= c.background_contrast <= 1.0:
        add(f"background_contrast must be in [0, 1], got {c.background_contrast:g}")
    found = [p for p in problems if p]
    if found:
        raise PrimitivesError("Invalid Primitives settings: " + "; ".join(found) + ".")


#: The presets: the paper's table (Baek & Shim 2022, Table 1 and ablations), two baselines after
#: Baradad et al., "Learning to See by Looking at Noise" (NeurIPS 2021), and one made for sketch bases.
PRESETS: dict[str, PrimitivesConfig] = {
    # P background + shapes + salient object with its own P texture (the paper's method, default)
    "primitives-ps": PrimitivesConfig(preset="primitives-ps"),
    # flat background + shapes + flat salient object (released ``dead_leaves``)
    "primitives-s": PrimitivesConfig(preset="primitives-s", background="flat", saliency_fill="flat"),
    # shapes only, on a flat background
    "primitives": PrimitivesConfig(preset="primitives", background="flat", saliency=False),
    # P background + textured salient object, no shapes (released ``pink_and_salient``)
    "pink-salient": PrimitivesConfig(preset="pink-salient", shapes=False),
    # Baradad et al. dead leaves (mixed shapes, radii ~ r^-3, until the image is covered)
    "dead-leaves": PrimitivesConfig(
        preset="dead-leaves", background="black", shapes=False, saliency=False, leaves=True
    ),
    # Baradad et al. random 1/f^a spectrum noise with correlated colour channels
    "spectrum-noise": PrimitivesConfig(
        preset="spectrum-noise", shapes=False, saliency=False, isotropic_spectrum=True
    ),
    # for Sketch Your Own GAN bases: 1–2 solid figures of varied aspect ratio, rotation and position on
    # a low-contrast background (not in the paper; issue 18)
    "sketch-shapes": PrimitivesConfig(
        preset="sketch-shapes", background="soft", shapes=False, saliency=False, figures=True, antialias=True
    ),
}

#: One line per preset for the studio's Primitives dock and ``--help``.
PRESET_DESCRIPTIONS: dict[str, str] = {
    "primitives-ps": "power-spectrum background + shapes + textured salient object (the paper's method)",
    "primitives-s": "flat background + shapes + flat salient object",
    "primitives": "shapes only, on a flat background",
    "pink-salient": "power-spectrum background + textured salient object, no shapes",
    "dead-leaves": "baseline (Baradad et al.): dead leaves of mixed shapes until the image is covered",
    "spectrum-noise": "baseline (Baradad et al.): 1/f^a spectrum noise with correlated colour channels",
    "sketch-shapes": "1–2 solid figures on a low-contrast background, for sketch GAN bases",
}

#: The preset a new user starts with, in the studio and the CLI.
DEFAULT_PRESET = "primitives-ps"


def preset(name: str = DEFAULT_PRESET, **overrides: Any) -> PrimitivesConfig:
    """The named preset with some fields changed, e.g. ``preset('primitives-ps', shape_count=50)``."""
    return named_preset(PRESETS, str(name).strip().lower(), what="Primitives ", error=PrimitivesError, **overrides)


def check_size(height: int, width: int) -> tuple[int, int]:
    """Validate an image size; 8 px to 4096 px per side."""
    try:
        h, w = int(height), int(width)
    except (TypeError, ValueError) as exc:
        raise PrimitivesError(f"Image size must be whole numbers, got {height!r}×{width!r}.") from exc
    if h != height or w != width:
        raise PrimitivesError(f"Image size must be whole numbers, got {height!r}×{width!r}.")
    if h < 8 or w < 8:
        raise PrimitivesError(f"Image size {w}×{h} is too small: each side must be at least 8 pixels.")
    if h > 4096 or w > 4096:
        raise PrimitivesError(f"Image size {w}×{h} is too large: each side must be at most 4096 pixels.")
    return h, w


def check_seed(seed: int) -> int:
    try:
        s = int(seed)
    except (TypeError, ValueError) as exc:
        raise PrimitivesError(f"The seed must be a whole number, got {seed!r}.") from exc
    if s < 0 or s >= 2**63:
        raise PrimitivesError(f"The seed must be from 0 to 2**63 - 1, got {seed}.")
    return s
