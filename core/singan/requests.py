"""One request type per SinGAN task: what the CLI and the studio both build, run and record.

A request is a frozen dataclass holding a task's inputs (numpy images) and parameters. Building one
validates every parameter that does not need the model and reports all problems in one
:class:`GanvasError`; :meth:`TaskRequest.run` resolves the model-dependent defaults (the injection
scale), runs the engine function of :mod:`core.singan.tasks` and returns an image (or frames);
:meth:`TaskRequest.metadata` is what goes into the result's PNG text chunks. The CLI's ``apply``
sub-commands and the Tasks panel's pages are both made from :data:`REQUESTS`, and the CLI's options
from the fields' :func:`param` metadata, so a task is declared once.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from core.compositing import composite_object
from core.images import save_image
from core.jobs import CancelToken, GanvasError, ProgressFn
from core.singan import adapt as A
from core.singan import animate as AN
from core.singan import config as C
from core.singan import task_inputs as TI
from core.singan import tasks as T
from core.singan.model import SinGANModel
from core.video import VIDEO_SUFFIXES, save_video

SOFTWARE = "Ganvas"


def param(default: Any, help: str, *, flag: str | None = None, kind: str = "", **cli: Any) -> Any:
    """A request field with what the CLI needs to expose it: ``flag`` (default ``--name``), ``kind``
    ("image", "rgba", "mask", "size", "" for plain values) and extra argparse settings. ``flag=""``
    keeps a field off the command line."""
    return field(default=default, metadata={"help": help, "flag": flag, "kind": kind, "cli": cli})


def _problems_of_scale(scale: int | None, low: int) -> list[str]:
    if scale is None:
        return []
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < low:
        return [f"the injection scale must be a whole number ≥ {low} (got {scale!r})"]
    return []


def _image_problem(x: object, what: str, *, optional: bool = False) -> list[str]:
    if x is None:
        return [] if optional else [f"the {what} is missing"]
    if not isinstance(x, np.ndarray):
        return [f"the {what} must be an image array (numpy), not {type(x).__name__}"]
    if x.ndim not in (2, 3) or 0 in x.shape[:2] or (x.ndim == 3 and x.shape[2] not in (1, 3, 4)):
        return [f"the {what} must be H×W, H×W×3 or H×W×4 (got shape {x.shape})"]
    return []


@dataclass(frozen=True, eq=False, kw_only=True)
class TaskRequest:
    """What every task request has: a seed, an injection scale (``None`` = the task's default),
    validation on construction, ``run`` and ``metadata``."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    #: lowest injection scale the task accepts; None when the task has no scale (super-resolution)
    min_scale: ClassVar[int | None] = 1
    #: what a result file is, for the CLI's default output name
    default_out: ClassVar[str] = ""
    #: images made alongside the result for comparison (name → what it is; see :meth:`companion`)
    companions: ClassVar[dict[str, str]] = {}
    #: file types a result can be saved as
    output_suffixes: ClassVar[tuple[str, ...]] = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")

    seed: int = param(0, "random seed (same seed, same result)", type=int)
    scale: int | None = param(None, "injection scale: 0 is the coarsest", type=int)

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise GanvasError(f"{self.title}: " + "; ".join(problems) + ".")

    def problems(self) -> list[str]:
        """Everything wrong with the parameters (empty when the request can run)."""
        out = []
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            out.append(f"the seed must be a whole number ≥ 0 (got {self.seed!r})")
        if self.min_scale is not None:
            out += _problems_of_scale(self.scale, self.min_scale)
        return out

    @classmethod
    def default_scale(cls, model: SinGANModel) -> int:
        """The injection scale used when none is given (per task)."""
        return cls.min_scale or 0

    def resolved(self, model: SinGANModel) -> TaskRequest:
        """This request with the model-dependent defaults filled in."""
        if self.min_scale is None or self.scale is not None:
            return self
        return dataclasses.replace(self, scale=self.default_scale(model))

    def run(self, model: SinGANModel, progress: ProgressFn | None = None,
            cancel: CancelToken | None = None) -> np.ndarray:
        """The result: uint8 H×W×3 (frames N×H×W×3 for an animation)."""
        raise NotImplementedError

    def params(self) -> dict[str, object]:
        """The scalar parameters (no images), for the gallery and the PNG text chunks."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if not isinstance(getattr(self, f.name), np.ndarray) and getattr(self, f.name) is not None}

    def metadata(self, model: SinGANModel | None = None) -> dict[str, str]:
        """Text chunks of the result: the task, its parameters (defaults resolved when ``model`` is
        given), the model id and the software — enough to make the same result again."""
        req = self.resolved(model) if model is not None else self
        meta = {"task": self.name, **{k: str(v) for k, v in req.params().items()}}
        if model is not None:
            meta["model_id"] = model.model_id
        meta["software"] = SOFTWARE
        return meta

    def notes(self, model: SinGANModel) -> list[str]:
        """What the user should know before running this on ``model`` (not errors)."""
        return []

    def check_output(self, path: str | os.PathLike) -> None:
        """Refuse an output file type the result cannot be saved as — before the work, not after."""
        if Path(path).suffix.lower() not in self.output_suffixes:
            raise GanvasError(f"Cannot write '{path}': a {self.title.lower()} result is saved as "
                              + " or ".join(self.output_suffixes) + ".")

    def companion(self, name: str, model: SinGANModel) -> np.ndarray:
        """A comparison image named in :attr:`companions` (e.g. the bicubic enlargement SR is judged against)."""
        raise GanvasError(f"{self.title} has no '{name}' comparison image.")

    def save(self, path: str | os.PathLike, result: np.ndarray, model: SinGANModel | None = None) -> Path:
        """Write a result (PNG with :meth:`metadata`, or another image type by suffix)."""
        return save_image(path, result, self.metadata(model))


# --------------------------------------------------------------------------- the six tasks

@dataclass(frozen=True, eq=False, kw_only=True)
class PaintRequest(TaskRequest):
    name: ClassVar[str] = "paint"
    title: ClassVar[str] = "Paint to image"
    summary: ClassVar[str] = "a rough painting made realistic (inject at --scale, default: the middle scale)"
    default_out: ClassVar[str] = "paint.png"

    painting: np.ndarray | None = param(None, "the painting (clip-art)", flag="--input", kind="image")
    quantize: bool = param(False, "the public code's quantised variant: first retrain the injection scale on "
                                  "colour-quantised inputs (slow, cached), then inject the painting snapped to "
                                  "its colours", action="store_true")
    colours: int = param(A.PALETTE_COLOURS, "palette size for --quantize", flag="--colors", type=int)
    quantize_iters: int | None = param(None, "training iterations for --quantize (default: the model's)", type=int)

    def problems(self) -> list[str]:
        out = super().problems() + _image_problem(self.painting, "painting")
        if not 1 <= self.colours <= 64:
            out.append(f"the palette needs 1–64 colours (got {self.colours})")
        if self.quantize_iters is not None and self.quantize_iters < 1:
            out.append(f"quantised painting needs at least one iteration (got {self.quantize_iters})")
        return out

    @classmethod
    def default_scale(cls, model):
        # bench/apps.py: the middle scale keeps the painting's layout (agreement 0.74–0.91 on three
        # 250-px photos, 0.51–0.65 at scale 1) with the photo's patches (docs/applications.md)
        return _middle_scale(model)

    def run(self, model, progress=None, cancel=None):
        r = self.resolved(model)
        return T.paint_to_image(model, self.painting, scale=r.scale, seed=self.seed, quantize=self.quantize,
                                colours=self.colours, quantize_iters=self.quantize_iters,
                                progress=progress, cancel=cancel)


def _mask_problems(dilate: float, feather: float) -> list[str]:
    out = []
    for what, v in (("dilation", dilate), ("feather", feather)):
        if not (isinstance(v, (int, float)) and 0 <= v <= TI.MAX_MASK_FRACTION):
            out.append(f"the mask {what} is a fraction of the image's longer side in [0, {TI.MAX_MASK_FRACTION}] "
                       f"(got {v!r}; e.g. 0.08 = 20 px at 250 px)")
    return out


def _adapt_problems(iters: int) -> list[str]:
    if isinstance(iters, bool) or not isinstance(iters, (int, np.integer)) or iters < 0:
        return [f"the adaptation iterations must be a whole number ≥ 0 (got {iters!r})"]
    return []


def _middle_scale(model: SinGANModel) -> int:
    return max(1, model.num_trained // 2)


@dataclass(frozen=True, eq=False, kw_only=True)
class EditRequest(TaskRequest):
    name: ClassVar[str] = "edit"
    title: ClassVar[str] = "Editing"
    summary: ClassVar[str] = "a cut-and-paste edit made seamless inside a mask (default scale: the middle one)"
    default_out: ClassVar[str] = "edit.png"

    image: np.ndarray | None = param(None, "the edited image", flag="--input", kind="image")
    mask: np.ndarray | None = param(None, "mask of --input's size, white = changed", kind="mask")
    dilate: float = param(TI.EDIT_DILATE, "mask dilation, a fraction of the longer side (0.08 = 20 px at 250 px)",
                          type=float)
    feather: float = param(TI.FEATHER, "Gaussian feather σ of the mask, a fraction of the longer side", type=float)
    adapt_iters: int = param(0, "first teach the model this task as ConSinGAN does, on augmented copies of the "
                                "photo, for this many iterations (cached per model; 0 = off)", type=int)

    def problems(self) -> list[str]:
        return (super().problems() + _image_problem(self.image, "edited image (--input)")
                + _image_problem(self.mask, "edit mask (--mask)") + _mask_problems(self.dilate, self.feather)
                + _adapt_problems(self.adapt_iters))

    @classmethod
    def default_scale(cls, model):
        return _middle_scale(model)

    def run(self, model, progress=None, cancel=None):
        r = self.resolved(model)
        return T.edit(model, self.image, self.mask, scale=r.scale, seed=self.seed, dilate=self.dilate,
                      feather=self.feather, adapt_iters=self.adapt_iters, progress=progress, cancel=cancel)


@dataclass(frozen=True, eq=False, kw_only=True)
class HarmonizeRequest(TaskRequest):
    """Either ``image`` is the naive composite and ``mask`` its pasted region, or ``image`` is the
    background and ``object`` (RGBA: its alpha is the mask) is pasted at (x, y), resized by
    ``object_scale``."""

    name: ClassVar[str] = "harmonize"
    title: ClassVar[str] = "Harmonization"
    summary: ClassVar[str] = "a pasted object blended into the image's style (default scale: the middle one)"
    default_out: ClassVar[str] = "harmonize.png"

    image: np.ndarray | None = param(None, "the background (with --object) or the naive composite (with --mask)",
                                     flag="--input", kind="image")
    mask: np.ndarray | None = param(None, "mask of the pasted region in --input", kind="mask")
    object: np.ndarray | None = param(None, "an image pasted onto --input (RGBA: its alpha is the mask)",
                                      kind="rgba")
    x: int = param(0, "left edge of the pasted object, in px of --input", type=int)
    y: int = param(0, "top edge of the pasted object", type=int)
    object_scale: float = param(1.0, "resize factor of the pasted object", type=float)
    dilate: float = param(TI.HARMONIZE_DILATE, "mask dilation, a fraction of the longer side (0.028 = 7 px at 250 px)",
                          type=float)
    feather: float = param(TI.FEATHER, "Gaussian feather σ of the mask, a fraction of the longer side", type=float)
    adapt_iters: int = param(0, "first teach the model this task as ConSinGAN does, on augmented copies of the "
                                "photo, for this many iterations (cached per model; 0 = off)", type=int)
    finetune_iters: int = param(0, "first fine-tune the model on the composite, ConSinGAN's way (its default: "
                                   f"{A.FINETUNE_ITERS}; slow on a CPU, see docs/applications.md); 0 = off", type=int)
    finetune_depth: int | None = param(None, "scales fine-tuned together (default: the model's train_depth)",
                                       type=int)

    def problems(self) -> list[str]:
        out = super().problems() + _image_problem(self.image, "background or composite (--input)")
        out += _image_problem(self.mask, "harmonization mask", optional=True)
        out += _image_problem(self.object, "pasted object", optional=True)
        if self.mask is None and self.object is None:
            out.append("it needs the pasted region: a mask (--mask) or an object to paste (--object)")
        if not (isinstance(self.object_scale, (int, float)) and self.object_scale > 0):
            out.append(f"the object's scale must be positive (got {self.object_scale!r})")
        if self.finetune_iters < 0:
            out.append(f"fine-tuning iterations must not be negative (got {self.finetune_iters})")
        if self.finetune_depth is not None and self.finetune_depth < 1:
            out.append(f"fine-tuning needs at least one scale (got {self.finetune_depth})")
        return out + _mask_problems(self.dilate, self.feather) + _adapt_problems(self.adapt_iters)

    @classmethod
    def default_scale(cls, model):
        return _middle_scale(model)

    def params(self) -> dict[str, object]:
        p = super().params()
        if self.object is None:
            for k in ("x", "y", "object_scale"):
                p.pop(k)
        return p

    def composite(self) -> tuple[np.ndarray, np.ndarray]:
        """(naive composite, its mask): what is harmonized, and what the studio previews."""
        if self.object is None:
            return self.image, self.mask
        return composite_object(self.image, self.object, x=self.x, y=self.y, scale=self.object_scale,
                                mask=self.mask)

    def run(self, model, progress=None, cancel=None):
        r = self.resolved(model)
        image, mask = self.composite()
        return T.harmonize(model, image, mask, scale=r.scale, seed=self.seed, dilate=self.dilate,
                           feather=self.feather, adapt_iters=self.adapt_iters, finetune_iters=self.finetune_iters,
                           finetune_depth=self.finetune_depth, progress=progress, cancel=cancel)


@dataclass(frozen=True, eq=False, kw_only=True)
class SuperResolutionRequest(TaskRequest):
    name: ClassVar[str] = "sr"
    title: ClassVar[str] = "Super-resolution"
    summary: ClassVar[str] = "an image enlarged ×2 or ×4 (best with a model trained with `train --task sr`)"
    min_scale: ClassVar[int | None] = None
    default_out: ClassVar[str] = "sr.png"

    scale: int | None = param(None, "", flag="")
    image: np.ndarray | None = param(None, "the low-resolution image (default: the training image)",
                                     flag="--input", kind="image")
    factor: float = param(4.0, "upsampling factor", type=float, choices=[2.0, 4.0])
    consistent: bool = param(True, "the public code's plain loop, without back-projecting each pass onto the input "
                                   "(sharper in places, with colour shifts and halos at edges)",
                             flag="--no-back-projection", action="store_false")

    def problems(self) -> list[str]:
        out = super().problems() + _image_problem(self.image, "low-resolution image", optional=True)
        if not (isinstance(self.factor, (int, float)) and 1.0 < self.factor <= 8.0):
            out.append(f"the factor must be above 1 and at most 8 (got {self.factor!r})")
        return out

    companions: ClassVar[dict[str, str]] = {"bicubic": "the plain bicubic enlargement, for comparison"}

    def notes(self, model):
        if T.sr_ready(model):
            return []
        return [f"This model was not trained for super-resolution (train it with --task sr: scale factor "
                f"{C.SR_STEP:.4f}, alpha {C.SR_ALPHA:g}); the result may be soft."]

    def companion(self, name, model):
        if name != "bicubic":
            return super().companion(name, model)
        return T.bicubic_upscale(model.image if self.image is None else self.image, self.factor)

    def run(self, model, progress=None, cancel=None):
        return T.super_resolve(model, self.image, factor=self.factor, seed=self.seed, consistent=self.consistent,
                               progress=progress, cancel=cancel)


@dataclass(frozen=True, eq=False, kw_only=True)
class AnimateRequest(TaskRequest):
    name: ClassVar[str] = "animate"
    title: ClassVar[str] = "Animation"
    summary: ClassVar[str] = "a short video: a random walk in the noise from --scale (default 0) up"
    min_scale: ClassVar[int | None] = 0
    default_out: ClassVar[str] = "animation.gif"
    output_suffixes: ClassVar[tuple[str, ...]] = VIDEO_SUFFIXES

    frames: int = param(AN.ANIM_FRAMES, "number of frames", type=int)
    fps: float = param(float(AN.ANIM_FPS), "frames per second of the GIF/MP4", type=float)
    alpha: float = param(AN.ANIM_ALPHA, "pull towards the training image's noise", type=float)
    beta: float = param(AN.ANIM_BETA, "momentum of the noise walk (0.8–0.95)", type=float)
    loop: bool = param(False, "seamless loop (the walk plays forward, then back)", action="store_true")

    def problems(self) -> list[str]:
        out = super().problems()
        if not 2 <= self.frames <= 2000:
            out.append(f"the number of frames must be between 2 and 2000 (got {self.frames})")
        if not 0 < self.fps <= 100:
            out.append(f"frames per second must be in (0, 100] (got {self.fps})")
        if not (0.0 <= self.alpha <= 1.0 and 0.0 <= self.beta < 1.0):
            out.append(f"α must be in [0, 1] and β in [0, 1) (got α {self.alpha}, β {self.beta})")
        return out

    def run(self, model, progress=None, cancel=None):
        r = self.resolved(model)
        return AN.animate(model, scale=r.scale, frames=self.frames, alpha=self.alpha, beta=self.beta, seed=self.seed,
                         loop=self.loop, progress=progress, cancel=cancel)

    def save(self, path, result, model=None):
        """A GIF or MP4 by the path's suffix (video formats carry no text chunks)."""
        return save_video(path, result, self.fps)


@dataclass(frozen=True, eq=False, kw_only=True)
class RetargetRequest(TaskRequest):
    name: ClassVar[str] = "retarget"
    title: ClassVar[str] = "Retargeting"
    summary: ClassVar[str] = "a sample of any width and height from --scale (default 0: new layouts)"
    min_scale: ClassVar[int | None] = 0
    default_out: ClassVar[str] = "retarget.png"

    width: int | None = param(None, "output width: pixels (320) or a multiple of the model's width (1.5x); "
                                    "default: the model's", kind="size")
    height: int | None = param(None, "output height: pixels or a multiple (0.75x); default: the model's",
                               kind="size")

    def problems(self) -> list[str]:
        out = super().problems()
        for what, v in (("width", self.width), ("height", self.height)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 11):
                out.append(f"the output {what} must be at least 11 px (got {v!r})")
        return out

    def resolved(self, model):
        r = super().resolved(model)
        mh, mw = model.shapes[model.num_trained - 1]
        if r.width is None or r.height is None:
            r = dataclasses.replace(r, width=r.width or mw, height=r.height or mh)
        return r

    def run(self, model, progress=None, cancel=None):
        r = self.resolved(model)
        return T.retarget(model, width=r.width, height=r.height, scale=r.scale, seed=self.seed,
                          progress=progress, cancel=cancel)


#: Every task, in the order the CLI lists them and the Tasks panel shows them.
REQUESTS: dict[str, type[TaskRequest]] = {
    cls.name: cls for cls in (PaintRequest, EditRequest, HarmonizeRequest, SuperResolutionRequest,
                              AnimateRequest, RetargetRequest)
}


def parse_size(text: str | None, base: int, what: str) -> int | None:
    """'320' → 320 px; '1.5x', 'x1.5' or '1.5' → round(1.5 × ``base``); None stays None."""
    if text is None:
        return None
    t = str(text).strip().lower()
    try:
        value = round(base * float(t.strip("x"))) if ("x" in t or "." in t) else int(t)
    except ValueError:
        raise GanvasError(f"--{what} must be pixels (e.g. 320) or a multiplier (e.g. 1.5x), not '{text}'.") from None
    if not math.isfinite(value) or value < 11:
        raise GanvasError(f"--{what} {text} gives {value} px; the output must be at least 11 px.")
    return value


__all__ = ["REQUESTS", "TaskRequest", "PaintRequest", "EditRequest", "HarmonizeRequest", "SuperResolutionRequest",
           "AnimateRequest", "RetargetRequest", "param", "parse_size"]
