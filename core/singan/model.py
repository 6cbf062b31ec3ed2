"""A trained (or partly trained) SinGAN: its pyramid, generators and noise amplitudes, and its checkpoint."""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from core.checkpoints import CheckpointError, load_checkpoint, read_manifest, require_tensors, save_checkpoint
from core.device import pick_device
from core.images import image_hash, to_tensor
from core.singan.config import SinGANConfig
from core.singan.networks import FoldedGenerator, Generator, make_networks
from core.singan.pyramid import build_pyramid

KIND = "singan"


@dataclass(frozen=True)
class ScaleHealth:
    """One trained scale on the reconstruction path as training left it (``core.singan.generate.scale_health``);
    the manifest's ``scale_health``."""

    saturated: float  # share of pixels where the generator's tanh is beyond ±0.99
    rec_rmse: float  # RMSE of the reconstruction x̃_n against the photo at that scale, in [-1, 1] units
    tries: int = 1  # how often training trained the scale (a broken try is trained again)

    def to_dict(self) -> dict[str, float]:
        return {"saturated": round(self.saturated, 4), "rec_rmse": round(self.rec_rmse, 5), "tries": self.tries}

    @classmethod
    def from_dict(cls, d: dict) -> ScaleHealth:
        return cls(float(d["saturated"]), float(d["rec_rmse"]), int(d.get("tries", 1)))


@dataclass
class SinGANModel:
    """Everything generation needs. ``generators[n]`` is trained for ``shapes[n]`` (coarsest first).

    A model may be partial (fewer generators than shapes) while training runs or after a cancel;
    it then generates up to its finest trained scale.
    """

    config: SinGANConfig
    image: np.ndarray  # uint8 H×W×3 at the finest scale's size
    shapes: list[tuple[int, int]]
    z_rec: torch.Tensor  # 1×3×H0×W0 fixed reconstruction noise z* (one grey channel repeated)
    generators: list[Generator] = field(default_factory=list)
    noise_amps: list[float] = field(default_factory=list)
    seed: int = 0
    scale_seconds: list[float] = field(default_factory=list)
    model_id: str = ""
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    #: state dict of the finest trained scale's critic (saved as ``D_last.*``): ConSinGAN's fine-tuning
    #: for harmonization starts from it. None for a model saved without it.
    critic: dict[str, torch.Tensor] | None = field(default=None, repr=False)
    #: each trained scale's health as training checked it, and training's last warning ("" when none);
    #: empty for models trained before training recorded them
    scale_health: list[ScaleHealth] = field(default_factory=list)
    training_warning: str = ""
    _reals: list[torch.Tensor] | None = field(default=None, repr=False)
    _folded: dict[int, FoldedGenerator] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.model_id:
            h = hashlib.sha256(f"{image_hash(self.image)}{self.config}{self.seed}{time.time()}".encode())
            self.model_id = h.hexdigest()[:12]

    @property
    def num_scales(self) -> int:
        return len(self.shapes)

    @property
    def num_trained(self) -> int:
        return len(self.generators)

    @property
    def complete(self) -> bool:
        return self.num_trained == self.num_scales

    @property
    def reals(self) -> list[torch.Tensor]:
        """The training image at every scale, on the model's device."""
        if self._reals is None:
            self._reals = build_pyramid(to_tensor(self.image, self.device), self.shapes)
        return self._reals

    def folded(self, n: int) -> FoldedGenerator:
        """Inference copy of generator ``n`` (BatchNorm folded, or per image), built once and reused."""
        if n not in self._folded:
            self._folded[n] = FoldedGenerator(self.generators[n], per_image=self.config.per_image_norm)
        return self._folded[n]

    def set_generator(self, n: int, g: Generator) -> None:
        """Replace trained scale ``n`` (concurrent training also updates the scales below the newest)."""
        g.eval().requires_grad_(False)
        self.generators[n] = g
        self._folded.pop(n, None)

    def add_scale(self, g: Generator, noise_amp: float, seconds: float = 0.0) -> None:
        g.eval().requires_grad_(False)
        self.generators.append(g)
        self.noise_amps.append(float(noise_amp))
        self.scale_seconds.append(float(seconds))

    def with_scales(self, lo: int, gens: list[Generator], noise_amp: float) -> SinGANModel:
        """This model as it would be with ``gens`` as scales ``lo``… (the last one a new scale with
        ``noise_amp``): a view for checking a training try before it is kept (this model is left as it
        was). It shares the folded copies of the scales below ``lo``, which stay the same."""
        folded = {k: f for k, f in self._folded.items() if k < lo}
        return replace(self, generators=[*self.generators[:lo], *gens], noise_amps=[*self.noise_amps, noise_amp],
                       _folded=folded)

    def to(self, device: torch.device | str) -> SinGANModel:
        self.device = torch.device(device)
        for g in self.generators:
            g.to(self.device)
        self.z_rec = self.z_rec.to(self.device)
        self._reals = None
        self._folded.clear()
        return self

    def scale_label(self, n: int) -> str:
        h, w = self.shapes[n]
        return f"{w}×{h}"


def save_model(model: SinGANModel, path: str | os.PathLike, extra: dict[str, torch.Tensor] | None = None) -> Path:
    """Write the model as a checkpoint folder (atomic; safe to call after every scale).

    The finest scale's critic (``model.critic``) is stored as ``D_last.*`` for resume and fine-tuning;
    ``extra`` tensors are stored alongside and ignored by loading.
    """
    tensors: dict[str, torch.Tensor] = {
        "image": torch.from_numpy(np.ascontiguousarray(model.image)),
        "z_rec": model.z_rec,
    }
    for n, g in enumerate(model.generators):
        for k, v in g.state_dict().items():
            tensors[f"G{n}.{k}"] = v
    tensors.update({f"D_last.{k}": v for k, v in (model.critic or {}).items()})
    tensors.update(extra or {})
    manifest = {
        "config": model.config.to_dict(),
        "shapes": [list(s) for s in model.shapes],
        "noise_amps": model.noise_amps,
        "num_trained": model.num_trained,
        "complete": model.complete,
        "channels": [model.config.channels_at(n) for n in range(model.num_trained)],
        "training_image_hash": image_hash(model.image),
        "model_id": model.model_id,
        "seed": model.seed,
        "scale_seconds": model.scale_seconds,
        "scale_health": [h.to_dict() for h in model.scale_health],
        "training_warning": model.training_warning,
    }
    return save_checkpoint(path, KIND, tensors, manifest)


def load_model(path: str | os.PathLike, device: torch.device | str | None = None) -> SinGANModel:
    """Load and validate a SinGAN checkpoint; errors say which part is wrong."""
    ckpt = load_checkpoint(path, KIND)
    m = ckpt.manifest
    name = str(ckpt.path)
    try:
        config = SinGANConfig.from_dict(m["config"])
        shapes = [tuple(int(v) for v in s) for s in m["shapes"]]
        amps = [float(a) for a in m["noise_amps"]]
        num_trained = int(m["num_trained"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"Cannot open model '{name}': its manifest is incomplete ({exc}).") from exc
    if len(amps) != num_trained or num_trained > len(shapes) or not shapes:
        raise CheckpointError(f"Cannot open model '{name}': its manifest is inconsistent (scales and amplitudes).")
    h, w = shapes[-1]
    expected: dict[str, tuple[int, ...]] = {"image": (h, w, 3), "z_rec": (1, 3, *shapes[0])}
    gens = []
    for n in range(num_trained):
        g = make_networks(config, n)[0]
        for k, v in g.state_dict().items():
            expected[f"G{n}.{k}"] = tuple(v.shape)
        gens.append(g)
    require_tensors(ckpt, expected)
    if ckpt.tensors["image"].dtype != torch.uint8:
        raise CheckpointError(f"Cannot open model '{name}': tensor 'image' must be uint8.")
    for n, g in enumerate(gens):
        g.load_state_dict({k: ckpt.tensors[f"G{n}.{k}"] for k in g.state_dict()})
    model = SinGANModel(
        config=config,
        image=ckpt.tensors["image"].numpy().copy(),
        shapes=shapes,
        z_rec=ckpt.tensors["z_rec"].float(),
        seed=int(m.get("seed", 0)),
        scale_seconds=[float(s) for s in m.get("scale_seconds", [0.0] * num_trained)][:num_trained],
        model_id=str(m.get("model_id", "")),
    )
    for g, a in zip(gens, amps):
        model.add_scale(g, a)
    model.critic = _critic_state(ckpt.tensors, config, num_trained)
    model.scale_seconds = [float(s) for s in m.get("scale_seconds", [0.0] * num_trained)][:num_trained]
    model.scale_health, model.training_warning = _health_record(m, num_trained)
    return model.to(pick_device(device) if device is None or isinstance(device, str) else device)


def _health_record(manifest: dict, num_trained: int) -> tuple[list[ScaleHealth], str]:
    """The manifest's ``scale_health`` and ``training_warning``; none from a model saved before training
    recorded them, or from a record that does not fit (it is a record, never needed to generate)."""
    try:
        health = [ScaleHealth.from_dict(d) for d in manifest.get("scale_health", [])][:num_trained]
    except (KeyError, TypeError, ValueError):
        health = []
    return health, str(manifest.get("training_warning", ""))


def _critic_state(tensors: dict[str, torch.Tensor], config: SinGANConfig, num_trained: int) -> dict | None:
    """The stored ``D_last.*`` critic when it fits the finest trained scale, else None (older files)."""
    state = {k[len("D_last."):]: v for k, v in tensors.items() if k.startswith("D_last.")}
    if not state or num_trained == 0:
        return None
    want = make_networks(config, num_trained - 1)[1].state_dict()
    if state.keys() != want.keys() or any(state[k].shape != v.shape for k, v in want.items()):
        return None
    return state


def model_summary(path: str | os.PathLike) -> dict:
    """Manifest facts for a file dialog or ``--resume`` check, without loading tensors."""
    return read_manifest(path, KIND)
