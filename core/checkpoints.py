"""Checkpoints: a folder holding ``model.safetensors`` (tensors) and ``manifest.json``.

No pickle anywhere. The folder is written beside its final name and swapped in atomically,
so a crash (even ``kill -9``) leaves either the previous checkpoint or the new one. The
manifest records a SHA-256 of the tensor file, which catches truncated or corrupted copies.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

import core
from core.files import atomic_replace_dir, describe_os_error, recover_interrupted_swap
from core.jobs import GanvasError

FORMAT_NAME = "ganvas-checkpoint"
FORMAT_VERSION = 1
TENSORS_FILE = "model.safetensors"
MANIFEST_FILE = "manifest.json"


class CheckpointError(GanvasError):
    """A checkpoint that cannot be loaded, with the reason."""


@dataclass
class Checkpoint:
    tensors: dict[str, torch.Tensor]
    manifest: dict[str, Any]
    path: Path


def checkpoint_dir(path: str | os.PathLike) -> Path:
    """Accept the folder itself or either file inside it."""
    p = Path(path)
    if p.name in (TENSORS_FILE, MANIFEST_FILE):
        return p.parent
    return p


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_checkpoint(
    path: str | os.PathLike, kind: str, tensors: dict[str, torch.Tensor], manifest: dict[str, Any]
) -> Path:
    """Write ``tensors`` and ``manifest`` (JSON-serialisable) atomically as a checkpoint of ``kind``."""
    target = checkpoint_dir(path)
    if target.exists() and not target.is_dir():
        raise CheckpointError(f"Cannot save the model to '{target}': a file with that name is in the way.")
    cpu = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}

    def fill(tmp: Path) -> None:
        save_file(cpu, str(tmp / TENSORS_FILE))
        full = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "kind": kind,
            "app_version": core.__version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **manifest,
            "tensors_sha256": _sha256(tmp / TENSORS_FILE),
        }
        (tmp / MANIFEST_FILE).write_text(json.dumps(full, indent=2, sort_keys=True), encoding="utf-8")
        umask = os.umask(0)
        os.umask(umask)
        for name in (TENSORS_FILE, MANIFEST_FILE):
            # safetensors creates its file 0600; give both files the user's usual permissions
            os.chmod(tmp / name, 0o666 & ~umask)
            with open(tmp / name, "rb+") as fh:
                os.fsync(fh.fileno())

    try:
        return atomic_replace_dir(target, fill)
    except (OSError, SafetensorError) as exc:  # safetensors reports its own write errors (a full disk) as the latter
        if isinstance(exc, OSError):
            reason = describe_os_error(exc)
        else:
            reason = "the disk is full (no space left on the device)" if "os error 28" in str(exc) else str(exc)
        kept = " The model already there is unchanged." if target.exists() else ""
        raise CheckpointError(f"Cannot save the model to '{target}': {reason}.{kept}") from exc


def read_manifest(path: str | os.PathLike, kind: str | None = None) -> dict[str, Any]:
    """The validated manifest alone (cheap: no tensors are read)."""
    folder = checkpoint_dir(path)
    name = str(folder)
    if not folder.exists() and not recover_interrupted_swap(folder):  # a save killed mid-swap: take the old copy
        raise CheckpointError(f"Cannot open model '{name}': it does not exist.")
    if not folder.is_dir():
        raise CheckpointError(
            f"Cannot open model '{name}': a Ganvas model is a folder with {MANIFEST_FILE} and {TENSORS_FILE}."
        )
    mpath = folder / MANIFEST_FILE
    if not mpath.exists():
        raise CheckpointError(f"Cannot open model '{name}': {MANIFEST_FILE} is missing, so this is not a Ganvas model.")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"Cannot open model '{name}': {MANIFEST_FILE} is damaged ({exc}).") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise CheckpointError(f"Cannot open model '{name}': it is not a Ganvas checkpoint (foreign manifest).")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(
            f"Cannot open model '{name}': it was written in checkpoint format {version} by Ganvas "
            f"{manifest.get('app_version', '?')}, newer than this Ganvas ({core.__version__}, format "
            f"{FORMAT_VERSION}). Update Ganvas to open it."
        )
    if kind is not None and manifest.get("kind") != kind:
        raise CheckpointError(
            f"Cannot open model '{name}': it holds a '{manifest.get('kind')}' model, not a '{kind}' model."
        )
    return manifest


def load_checkpoint(path: str | os.PathLike, kind: str | None = None) -> Checkpoint:
    """Read and validate a checkpoint; every failure is a :class:`CheckpointError` that says what is wrong."""
    folder = checkpoint_dir(path)
    manifest = read_manifest(folder, kind)
    tpath = folder / TENSORS_FILE
    name = str(folder)
    if not tpath.exists():
        raise CheckpointError(f"Cannot open model '{name}': {TENSORS_FILE} is missing.")
    expected = manifest.get("tensors_sha256")
    if expected and _sha256(tpath) != expected:
        raise CheckpointError(
            f"Cannot open model '{name}': {TENSORS_FILE} is corrupt or truncated (its checksum does not match)."
        )
    try:
        tensors = load_file(str(tpath))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"Cannot open model '{name}': {TENSORS_FILE} is not a valid safetensors file ({exc}).") from exc
    return Checkpoint(tensors=tensors, manifest=manifest, path=folder)


def require_tensors(ckpt: Checkpoint, expected: dict[str, tuple[int, ...]]) -> None:
    """Check names, shapes and dtypes (floating point) and say exactly which tensor is off."""
    name = str(ckpt.path)
    for key, shape in expected.items():
        t = ckpt.tensors.get(key)
        if t is None:
            raise CheckpointError(f"Cannot open model '{name}': tensor '{key}' is missing.")
        if tuple(t.shape) != tuple(shape):
            raise CheckpointError(
                f"Cannot open model '{name}': tensor '{key}' has shape {tuple(t.shape)}, expected {tuple(shape)}."
            )
        if not (t.is_floating_point() or t.dtype in (torch.int64, torch.int32, torch.uint8, torch.bool)):
            raise CheckpointError(f"Cannot open model '{name}': tensor '{key}' has unexpected dtype {t.dtype}.")
