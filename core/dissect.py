"""GAN Dissection with a painted concept: which units of a layer draw what the user painted, and
switching them off (ablation) or on (activation), everywhere or inside a brushed area (GANPaint).

How a unit is characterised (Bau et al., "GAN Dissection", ICLR 2019): its activation map, upsampled
to the image, is thresholded at a per-unit value ``t_u`` (a top quantile of that unit's activations
over all the samples), and the thresholded map is compared with the concept's region by IoU summed
over the samples: IoU_u = Σ_s |A_us > t_u ∩ R_s| / Σ_s |A_us > t_u ∪ R_s|.

Our concept is not a segmentation network's class but a region the user paints on one image. With
``samples=1`` the IoU is over that one image. With more, the region is carried to the other samples
by a simple feature match (:class:`ConceptMatcher`: each pixel's colour and local texture, nearest
of the painted and unpainted means), so the units are ranked over many images as in the paper.

The threshold's quantile defaults to the region's share of the pixels (each unit may mark as many
pixels as the concept covers); the paper's 1 % (``quantile=0.99``) is available.

Interventions are forward hooks on the module whose output is the layer, on the very modules the
sampling path runs (SinGAN: the inference copies ``model.folded(n)``; StyleGAN: the synthesis
network), so the changed model samples and exports like any other while the hook is set.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.images import make_grid
from core.jobs import CancelToken, GanvasError, ProgressFn, ProgressReporter, check_cancel

MODES = ("ablate", "activate")
#: Longer side (px) at which activations and regions are compared; larger images are compared shrunk.
WORK_SIDE = 160
#: Quantile of a unit's activations that "activate" sets it to (GANPaint sets units to a high value).
ACTIVATE_QUANTILE = 0.99


# --------------------------------------------------------------------------- the model being dissected
class Subject:
    """What dissection needs of a generator: its layers, where to hook each, and how to draw one sample
    the way the ``sample`` command draws it."""

    kind = ""

    def layers(self) -> list[str]:
        raise NotImplementedError

    def layer_label(self, layer: str) -> str:
        return layer

    def module(self, layer: str) -> nn.Module:
        """The module whose output is ``layer``'s activations (N×C×h×w)."""
        raise NotImplementedError

    def units(self, layer: str) -> int:
        """How many units (channels) ``layer`` has."""
        raise NotImplementedError

    def margin(self, layer: str) -> int:
        """Pixels of ``layer``'s map beyond the image on each side (SinGAN's unpadded convolutions)."""
        return 0

    def draw(self, seed: int) -> torch.Tensor:
        """One sample, 1×3×H×W in [-1, 1]."""
        raise NotImplementedError

    def check_layer(self, layer: str) -> str:
        names = self.layers()
        if layer not in names:
            shown = ", ".join(names[:6]) + (f", … {names[-1]}" if len(names) > 6 else "")
            raise GanvasError(f"Unknown layer '{layer}' for this {self.kind} model (its layers: {shown}).")
        return layer


class SinGANSubject(Subject):
    """A SinGAN: layer ``scale{n}.block{i}`` is conv block i (0 = head) of scale n's generator, after its
    LeakyReLU; its map is larger than scale n's image by ``pad - i - 1`` px on each side."""

    kind = "SinGAN"

    def __init__(self, model, settings=None) -> None:
        from core.singan.generate import SampleSettings

        self.model = model
        self.settings = settings or SampleSettings()
        self.blocks = model.config.num_layers - 1

    def layers(self) -> list[str]:
        return [f"scale{n}.block{i}" for n in range(self.model.num_trained) for i in range(self.blocks)]

    def _parse(self, layer: str) -> tuple[int, int]:
        self.check_layer(layer)
        scale, block = layer.split(".")
        return int(scale[5:]), int(block[5:])

    def layer_label(self, layer: str) -> str:
        n, i = self._parse(layer)
        return f"scale {n + 1} ({self.model.scale_label(n)}) · block {i + 1} · {self.units(layer)} units"

    def units(self, layer: str) -> int:
        return self.model.config.channels_at(self._parse(layer)[0])

    def module(self, layer: str) -> nn.Module:
        n, i = self._parse(layer)
        acts = [m for m in self.model.folded(n).net if isinstance(m, nn.LeakyReLU)]
        return acts[i]

    def margin(self, layer: str) -> int:
        return self.model.config.pad - self._parse(layer)[1] - 1

    def draw(self, seed: int) -> torch.Tensor:
        from core.singan.generate import sample_tensor

        return sample_tensor(self.model, replace(self.settings, seed=int(seed)), 1)


class StyleGANSubject(Subject):
    """A StyleGAN2: layer ``res{r}.conv{k}`` is the k-th styled convolution at r×r (``res4.conv0`` is
    the first, on the constant input), after its noise and activation."""

    kind = "StyleGAN"

    def __init__(self, model, truncation: float = 1.0) -> None:
        self.model = model
        self.truncation = truncation
        g = model.generator
        self._modules = {"res4.conv0": g.conv1}
        for j, conv in enumerate(g.convs):
            self._modules[f"res{2 ** (3 + j // 2)}.conv{j % 2}"] = conv

    def layers(self) -> list[str]:
        return list(self._modules)

    def layer_label(self, layer: str) -> str:
        return f"{layer} · {self.units(layer)} units"

    def units(self, layer: str) -> int:
        return int(self.module(layer).conv.out_channel)

    def module(self, layer: str) -> nn.Module:
        return self._modules[self.check_layer(layer)]

    def draw(self, seed: int) -> torch.Tensor:
        from core.sketchgan.model import generate_tensor

        return generate_tensor(self.model, [int(seed)], truncation=self.truncation)


def subject_for(model, **kwargs) -> Subject:
    """The :class:`Subject` of a SinGAN or StyleGAN model."""
    from core.singan.model import SinGANModel

    if isinstance(model, SinGANModel):
        return SinGANSubject(model, kwargs.get("settings"))
    if hasattr(model, "generator") and hasattr(model.generator, "convs"):
        return StyleGANSubject(model, kwargs.get("truncation", 1.0))
    raise GanvasError(f"Dissection works on SinGAN and StyleGAN models, not {type(model).__name__}.")


def default_layer(subject: Subject) -> str:
    """A layer that tends to hold objects: SinGAN's middle block of its second finest scale; StyleGAN's
    first convolution at 16 px (or the middle layer)."""
    names = subject.layers()
    if isinstance(subject, SinGANSubject):
        n = max(0, subject.model.num_trained - 2)
        return f"scale{n}.block{subject.blocks // 2}"
    return "res16.conv0" if "res16.conv0" in names else names[len(names) // 2]


# --------------------------------------------------------------------------- reading activations
def _capture(subject: Subject, layer: str, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(image 1×3×H×W, layer activations 1×C×h×w cropped to the image's extent) for one seed."""
    got: list[torch.Tensor] = []
    handle = subject.module(layer).register_forward_hook(lambda _m, _i, out: got.append(out.detach().clone()))
    try:
        image = subject.draw(seed)
    finally:
        handle.remove()
    if len(got) != 1:
        raise GanvasError(f"Layer '{layer}' ran {len(got)} times for one sample; cannot read its units.")
    act, m = got[0].float().cpu(), subject.margin(layer)
    if m > 0:
        act = act[:, :, m:-m, m:-m]
    return image.cpu(), act


def work_size(h: int, w: int) -> tuple[int, int]:
    s = min(1.0, WORK_SIDE / max(h, w))
    return max(1, round(h * s)), max(1, round(w * s))


def _fit(x: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(x, size=hw, mode="bilinear", align_corners=False) if tuple(x.shape[-2:]) != hw else x


class ConceptMatcher:
    """Carries a painted region to other images: per-pixel features (colour, blurred colour, local
    contrast) standardised, and a pixel belongs to the concept when it is nearer the painted pixels'
    mean than the unpainted ones'. Also measures how much of an image shows the concept."""

    def __init__(self, image: torch.Tensor, mask: torch.Tensor, against: torch.Tensor | None = None) -> None:
        """``mask``: the concept's pixels of ``image``; ``against``: the pixels it is told apart from
        (default: all the others)."""
        inside = mask.flatten() > 0.5
        outside = ~inside if against is None else (against.flatten() > 0.5) & ~inside
        if not inside.any() or not outside.any():
            raise GanvasError("The painted region must cover part of the image, not none or all of it.")
        flat = self.features(image).flatten(1)[:, inside | outside]
        self.mean, self.std = flat.mean(1, keepdim=True), flat.std(1, keepdim=True).clamp_min(1e-4)
        z = (flat - self.mean) / self.std
        kept = inside[inside | outside]
        self.c_in, self.c_out = z[:, kept].mean(1, keepdim=True), z[:, ~kept].mean(1, keepdim=True)

    @staticmethod
    def features(image: torch.Tensor) -> torch.Tensor:
        """5+C×H×W: RGB, RGB blurred over 7 px, local contrast of the luminance over 7 px (texture)."""
        x = image[0]
        blur = F.avg_pool2d(x[None], 7, 1, 3, count_include_pad=False)[0]
        lum = x.mean(0, keepdim=True)[None]
        contrast = (F.avg_pool2d(lum ** 2, 7, 1, 3, count_include_pad=False)
                    - F.avg_pool2d(lum, 7, 1, 3, count_include_pad=False) ** 2).clamp_min(0).sqrt()[0]
        return torch.cat([x, blur, contrast * 4])

    def region(self, image: torch.Tensor) -> torch.Tensor:
        """H×W bool: where ``image`` (1×3×H×W) shows the concept."""
        f = self.features(image)
        z = (f.flatten(1) - self.mean) / self.std
        near_in = (z - self.c_in).square().sum(0) < (z - self.c_out).square().sum(0)
        return near_in.reshape(f.shape[1:])


@dataclass(eq=False)
class Dissection:
    """A layer's units ranked against a painted concept.

    ``iou``/``threshold``/``high``: per unit (C); ``order``: units by IoU, best first; ``maps``: the
    painted image's activation map of every unit, C×H×W at the image's size, each scaled to [0, 1] by
    the unit's own range over the samples; ``image``: that image, uint8 H×W×3.
    """

    layer: str
    label: str
    iou: np.ndarray
    threshold: np.ndarray
    high: np.ndarray
    order: np.ndarray
    maps: np.ndarray
    image: np.ndarray
    seed: int
    samples: int
    quantile: float
    region_share: float

    @property
    def units(self) -> int:
        return len(self.iou)

    def top(self, k: int) -> list[int]:
        return [int(u) for u in self.order[: max(0, int(k))]]

    def table(self, k: int | None = None) -> list[dict[str, float]]:
        """Rows for units.json: unit, IoU, threshold (and the activation value 'activate' uses)."""
        return [{"unit": u, "iou": round(float(self.iou[u]), 4), "threshold": round(float(self.threshold[u]), 5),
                 "activate_value": round(float(self.high[u]), 5)} for u in self.top(self.units if k is None else k)]

    def describe(self) -> str:
        where = ("over the painted image alone" if self.samples == 1 else
                 f"over {self.samples} samples (the region carried to the others by colour and texture)")
        return f"IoU {where}; each unit thresholded at its top {100 * (1 - self.quantile):.1f} % of activations"


def dissect(model, layer: str | None, mask: np.ndarray, *, seed: int = 0, samples: int = 1,
            quantile: float | None = None, subject: Subject | None = None,
            progress: ProgressFn | None = None, cancel: CancelToken | None = None) -> Dissection:
    """Rank ``layer``'s units by IoU with the region ``mask`` (float H×W, > 0.5 = painted) painted on the
    sample of ``seed``. See the module docstring for the IoU, the threshold and ``samples``."""
    subject = subject or subject_for(model)
    layer = subject.check_layer(layer or default_layer(subject))
    if samples < 1:
        raise GanvasError(f"The number of samples must be at least 1 (got {samples}).")
    if quantile is not None and not 0.0 < quantile < 1.0:
        raise GanvasError(f"The threshold quantile must be between 0 and 1 (got {quantile}).")
    before = current_intervention(model)  # units are read as trained
    set_intervention(model, None)
    try:
        return _dissect(subject, layer, mask, seed, samples, quantile, ProgressReporter(progress), cancel)
    finally:
        set_intervention(model, before, subject)


def _dissect(subject: Subject, layer: str, mask: np.ndarray, seed: int, samples: int, quantile: float | None,
             reporter: ProgressReporter, cancel: CancelToken | None) -> Dissection:
    image, act = _capture(subject, layer, seed)
    h, w = image.shape[-2:]
    mask = np.asarray(mask, np.float32)
    if mask.shape != (h, w):
        raise GanvasError(f"The mask is {mask.shape[1]}×{mask.shape[0]} px but the sample of seed {seed} is "
                          f"{w}×{h}: paint the mask on that sample's size.")
    wh = work_size(h, w)
    region0 = _fit(torch.from_numpy(mask)[None, None], wh)[0, 0] > 0.5
    small0 = _fit(image, wh)
    matcher = ConceptMatcher(small0, region0.float()) if samples > 1 else None
    acts, regions = [_fit(act, wh)[0]], [region0]
    reporter.report(1, samples, stage="Reading units")
    for s in range(1, samples):
        check_cancel(cancel)
        img_s, act_s = _capture(subject, layer, seed + s)
        acts.append(_fit(act_s, wh)[0])
        regions.append(matcher.region(_fit(img_s, wh)))
        reporter.report(s + 1, samples, stage="Reading units")
    A = torch.stack(acts, 1)  # C×S×h×w
    R = torch.stack(regions)  # S×h×w
    share = float(R.float().mean())
    q = quantile if quantile is not None else float(np.clip(1.0 - share, 0.5, 0.995))
    flat = A.flatten(1)
    thr = torch.quantile(flat, q, dim=1) if flat.shape[1] <= 16_000_000 else flat.kthvalue(int(q * flat.shape[1]), 1)[0]
    high = torch.quantile(flat, ACTIVATE_QUANTILE, dim=1)
    on = A > thr[:, None, None, None]
    inter = (on & R).flatten(1).sum(1).float()
    union = (on | R).flatten(1).sum(1).float().clamp_min(1)
    iou = (inter / union).numpy()
    lo, hi = flat.min(1).values, flat.max(1).values
    maps = _fit(act, (h, w))[0]
    maps = ((maps - lo[:, None, None]) / (hi - lo).clamp_min(1e-8)[:, None, None]).clamp(0, 1)
    from core.images import to_uint8

    return Dissection(layer=layer, label=subject.layer_label(layer), iou=iou, threshold=thr.numpy(),
                      high=high.numpy(), order=np.argsort(-iou, kind="stable"), maps=maps.numpy(),
                      image=to_uint8(image)[0], seed=int(seed), samples=int(samples), quantile=q,
                      region_share=share)


# --------------------------------------------------------------------------- intervention
@dataclass(eq=False)
class Intervention:
    """Units of one layer switched off (``ablate``: set to 0) or up (``activate``: set to ``values``, a
    high quantile of each unit's activations), everywhere or only where ``area`` (float H×W at the
    image's size, > 0.5) is brushed."""

    layer: str
    units: tuple[int, ...]
    mode: str = "ablate"
    values: tuple[float, ...] = ()
    area: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise GanvasError(f"Unknown intervention mode '{self.mode}' (choose {' or '.join(MODES)}).")
        if self.mode == "activate" and len(self.values) != len(self.units):
            raise GanvasError("Activating units needs one value per unit.")

    @classmethod
    def from_dissection(cls, d: Dissection, k: int, mode: str = "ablate",
                        area: np.ndarray | None = None) -> Intervention:
        units = tuple(d.top(k))
        values = tuple(float(d.high[u]) for u in units) if mode == "activate" else ()
        return cls(d.layer, units, mode, values, None if area is None else np.asarray(area, np.float32))

    def to_metadata(self) -> dict[str, str]:
        """PNG text chunks that record the intervention (``dissect_*``)."""
        meta = {"dissect_layer": self.layer, "dissect_mode": self.mode,
                "dissect_units": ",".join(str(u) for u in self.units)}
        if self.values:
            meta["dissect_values"] = ",".join(f"{v:.4g}" for v in self.values)
        if self.area is None:
            meta["dissect_area"] = "everywhere"
        else:
            ys, xs = np.nonzero(self.area > 0.5)
            box = [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1] if len(xs) else []
            meta["dissect_area"] = json.dumps({"pixels": int(len(xs)), "box_xyxy": box,
                                               "size": [int(self.area.shape[1]), int(self.area.shape[0])]})
        return meta

    def hook(self, margin: int) -> Callable[[nn.Module, Any, torch.Tensor], torch.Tensor]:
        units = list(self.units)
        area = None if self.area is None else torch.from_numpy((self.area > 0.5).astype(np.float32))[None, None]
        values = torch.tensor(self.values or [0.0] * len(units), dtype=torch.float32)

        def run(_module: nn.Module, _inputs: Any, out: torch.Tensor) -> torch.Tensor:
            if not units:
                return out
            out = out.clone()
            v = values.to(out.device, out.dtype)[None, :, None, None]
            if area is None:
                out[:, units] = v.expand(out.shape[0], -1, out.shape[2], out.shape[3])
                return out
            m = area_on(area, out.shape[-2:], margin).to(out.device, out.dtype)
            out[:, units] = out[:, units] * (1 - m) + v * m
            return out

        return run


def area_on(area: torch.Tensor, hw: tuple[int, int], margin: int) -> torch.Tensor:
    """A 1×1×H×W area resized onto a layer's h×w map whose outer ``margin`` px lie beyond the image
    (continued from the edge)."""
    inner = (hw[0] - 2 * margin, hw[1] - 2 * margin)
    m = F.interpolate(area, size=inner, mode="bilinear", align_corners=False)
    return F.pad(m, (margin,) * 4, mode="replicate") if margin > 0 else m


_ACTIVE: dict[int, tuple[weakref.ref, Intervention, Any]] = {}


def set_intervention(model, intervention: Intervention | None, subject: Subject | None = None) -> None:
    """Make ``model`` sample with ``intervention`` (None: as trained). One intervention per model; a new
    one replaces the last. The hook lives on the module the sampling path runs, so every sample drawn
    meanwhile (studio, CLI, export) carries it."""
    key = id(model)
    old = _ACTIVE.pop(key, None)
    if old is not None:
        old[2].remove()
    if intervention is None:
        return
    subject = subject or subject_for(model)
    module = subject.module(subject.check_layer(intervention.layer))
    bad = [u for u in intervention.units if not 0 <= u < subject.units(intervention.layer)]
    if bad:
        raise GanvasError(f"Layer '{intervention.layer}' has no unit {bad[0]}.")
    handle = module.register_forward_hook(intervention.hook(subject.margin(intervention.layer)))
    _ACTIVE[key] = (weakref.ref(model, lambda _r, k=key: _ACTIVE.pop(k, None)), intervention, handle)


def current_intervention(model) -> Intervention | None:
    entry = _ACTIVE.get(id(model))
    return entry[1] if entry is not None and entry[0]() is model else None


def intervention_metadata(model) -> dict[str, str]:
    """The PNG text chunks for a sample of ``model``: its intervention's, or none."""
    iv = current_intervention(model)
    return iv.to_metadata() if iv is not None else {}


def draw_with(model, intervention: Intervention | None, seed: int, subject: Subject | None = None) -> np.ndarray:
    """The sample of ``seed`` with ``intervention`` (uint8 H×W×3); the model's own intervention is
    restored afterwards."""
    from core.images import to_uint8

    subject = subject or subject_for(model)
    before = current_intervention(model)
    set_intervention(model, intervention, subject)
    try:
        return to_uint8(subject.draw(seed))[0]
    finally:
        set_intervention(model, before, subject)


# --------------------------------------------------------------------------- pictures
def unit_grid(d, k: int, cols: int = 4) -> np.ndarray:
    """The top ``k`` units' maps over the painted image (grey image, unit map in magma-like heat)."""
    tiles = [heat_overlay(d.image, d.maps[u]) for u in d.top(k)]
    labels = [f"unit {u} IoU {d.iou[u]:.2f}" for u in d.top(k)]
    return make_grid(tiles, cols=min(cols, len(tiles)), labels=labels)


def heat_overlay(image: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """``image`` greyed and darkened, with ``heat`` (H×W in [0, 1]) in orange over it."""
    grey = image.mean(-1, keepdims=True) * 0.45
    col = cv2.applyColorMap((np.clip(heat, 0, 1) * 255).astype(np.uint8), cv2.COLORMAP_INFERNO)[..., ::-1]
    a = np.clip(heat, 0, 1)[..., None]
    return (grey * (1 - a) + col * a).clip(0, 255).astype(np.uint8)
