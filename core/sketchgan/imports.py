"""Import a StyleGAN2 checkpoint written by rosinality's ``stylegan2-pytorch`` (the layout GANSketching
fine-tunes) into a Ganvas model folder.

Accepted files (read with ``torch.load(weights_only=True)``: tensors and plain containers only, no code):
  * a training checkpoint ``{"g": ..., "d": ..., "g_ema": ..., "g_optim": ..., "args": ...}`` (g_ema is used);
  * a bare generator state_dict (e.g. GANSketching's ``netG.pth``), optionally with a separate
    discriminator file (``netD.pth``) — without D the model can sample but not be fine-tuned.
The architecture (size, z dimension, mapping depth, channel widths) is read from the tensor shapes
and every tensor is checked by name and shape; any mismatch is reported by name.
"""

from __future__ import annotations

import argparse
import os
import pickle
from pathlib import Path

import torch

from core.checkpoints import CheckpointError
from core.sketchgan.model import StyleGANModel, save_model
from core.sketchgan.stylegan import Discriminator, Generator, StyleGANConfig


class ImportError_(CheckpointError):
    """A checkpoint that is not a rosinality StyleGAN2, with the reason."""


def _torch_load(path: Path) -> dict:
    name = str(path)
    if not path.exists():
        raise ImportError_(f"Cannot import '{name}': the file does not exist.")
    safe = getattr(torch.serialization, "safe_globals", None)
    try:
        if safe is not None:  # rosinality stores its argparse options next to the weights
            with safe([argparse.Namespace]):
                obj = torch.load(str(path), map_location="cpu", weights_only=True)
        else:  # pragma: no cover - old torch
            obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ImportError_(
            f"Cannot import '{name}': it contains Python objects other than tensors, which Ganvas refuses to "
            f"load for safety ({str(exc).splitlines()[0][:200]})."
        ) from exc
    except (RuntimeError, OSError, EOFError, ValueError) as exc:
        raise ImportError_(f"Cannot import '{name}': not a readable PyTorch checkpoint ({exc}).") from exc
    if not isinstance(obj, dict):
        raise ImportError_(f"Cannot import '{name}': expected a dict of weights, found {type(obj).__name__}.")
    return obj


def _is_state_dict(obj) -> bool:
    return isinstance(obj, dict) and obj and all(isinstance(v, torch.Tensor) for v in obj.values())


def infer_config(g_state: dict[str, torch.Tensor], where: str) -> StyleGANConfig:
    """Architecture from a rosinality generator state_dict."""
    try:
        style_dim = int(g_state["style.1.weight"].shape[1])
        n_mlp = sum(1 for k in g_state if k.startswith("style.") and k.endswith(".weight"))
        n_rgb = sum(1 for k in g_state if k.startswith("to_rgbs.") and k.endswith(".conv.weight"))
        size = 2 ** (n_rgb + 2)
        widths = {4: int(g_state["input.input"].shape[1])}
        for i in range(n_rgb):
            widths[2 ** (i + 3)] = int(g_state[f"to_rgbs.{i}.conv.weight"].shape[2])
    except KeyError as exc:
        raise ImportError_(
            f"Cannot import '{where}': tensor {exc} is missing, so this is not a rosinality StyleGAN2 generator."
        ) from exc
    max_ch = widths[4]
    w_shift = any(k.endswith(".w_shift") for k in g_state)
    for cm in (1, 2, 4, 8, 0.5):  # pick the channel multiplier that reproduces every width
        try:
            cfg = StyleGANConfig(size=size, style_dim=style_dim, n_mlp=n_mlp, channel_multiplier=int(cm),
                                 max_channels=max_ch, w_shift=w_shift)
        except Exception:
            continue
        if all(cfg.channels(r) == c for r, c in widths.items()):
            return cfg
    raise ImportError_(
        f"Cannot import '{where}': its channel widths {widths} do not follow StyleGAN2's table "
        "(min(512, 16384·multiplier/resolution))."
    )


def check_state(module: torch.nn.Module, state: dict[str, torch.Tensor], what: str, where: str) -> None:
    """Key-by-key comparison; raises naming the first missing, unexpected or mis-shaped tensors."""
    expected = module.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [
        f"{k} {tuple(state[k].shape)} (expected {tuple(v.shape)})"
        for k, v in expected.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    problems = []
    if missing:
        problems.append(
            f"missing {len(missing)} tensor(s): {', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''}"
        )
    if unexpected:
        problems.append(
            f"unexpected {len(unexpected)} tensor(s): {', '.join(unexpected[:4])}{' ...' if len(unexpected) > 4 else ''}"
        )
    if wrong:
        problems.append(f"wrong shape: {', '.join(wrong[:3])}{' ...' if len(wrong) > 3 else ''}")
    if problems:
        raise ImportError_(f"Cannot import the {what} from '{where}': " + "; ".join(problems) + ".")


def import_rosinality(
    path: str | os.PathLike,
    out: str | os.PathLike | None = None,
    *,
    discriminator: str | os.PathLike | None = None,
    generator_key: str = "g_ema",
) -> StyleGANModel:
    """Read a rosinality StyleGAN2 checkpoint, validate it, and (if ``out``) save it as a Ganvas model."""
    path = Path(path)
    obj = _torch_load(path)
    d_state = None
    if _is_state_dict(obj):
        g_state = obj
    else:
        key = generator_key if generator_key in obj else ("g" if "g" in obj else None)
        if key is None or not _is_state_dict(obj.get(key)):
            raise ImportError_(
                f"Cannot import '{path}': expected a generator state_dict or a training checkpoint with "
                f"'g_ema' / 'g' entries; found keys {sorted(obj)[:8]}."
            )
        g_state = obj[key]
        if _is_state_dict(obj.get("d")):
            d_state = obj["d"]
    if discriminator is not None:
        dobj = _torch_load(Path(discriminator))
        d_state = dobj if _is_state_dict(dobj) else dobj.get("d")
        if not _is_state_dict(d_state):
            raise ImportError_(f"Cannot import '{discriminator}': it holds no discriminator state_dict.")
    cfg = infer_config(g_state, str(path))
    g = Generator(cfg)
    check_state(g, g_state, "generator", str(path))
    g.load_state_dict({k: v.float() for k, v in g_state.items()})
    d = None
    if d_state is not None:
        d = Discriminator(cfg)
        check_state(d, d_state, "discriminator", str(discriminator or path))
        d.load_state_dict({k: v.float() for k, v in d_state.items()})
    g.eval().requires_grad_(False)
    manifest = {"source": "import-rosinality", "imported_from": str(path), "model_id": path.stem}
    model = StyleGANModel(g, d, cfg, manifest, None)
    if out is not None:
        model.path = save_model(out, g, d, manifest)
    return model
