"""Exploring and exporting a (fine-tuned) StyleGAN2: sample grids with their sketches, base-vs-tuned
comparisons on the same seeds, latent interpolation, and exports (PNG with metadata, GIF, MP4, model).
Pure engine functions, run by the studio on worker threads and usable from scripts."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from core import video
from core.images import make_grid, save_image
from core.jobs import ProgressReporter, check_cancel
from core.sketchgan.model import StyleGANModel, generate_images, interpolate, save_model, state_tensors
from core.sketchgan.sketch import ink_to_rgb, sketch_of_image


def sketches_rgb(images: np.ndarray) -> np.ndarray:
    """F of each uint8 image, as black-on-white uint8 images (what the sketch discriminator sees)."""
    return np.stack([ink_to_rgb(sketch_of_image(im)) for im in images]) if len(images) else images


def sample_grid(
    model: StyleGANModel,
    seeds: list[int],
    truncation: float = 1.0,
    *,
    base: StyleGANModel | None = None,
    with_sketches: bool = False,
    ncol: int = 8,
    progress=None,
    cancel=None,
) -> tuple[np.ndarray, np.ndarray]:
    """(grid image, the samples). With ``base``: base rows above tuned rows on the same seeds;
    with ``with_sketches``: each image row is followed by its F row."""
    rows = []
    models = [base, model] if base is not None else [model]
    samples = None
    for m in models:
        check_cancel(cancel)
        imgs = generate_images(m, seeds, truncation=truncation)
        samples = imgs
        for i in range(0, len(seeds), ncol):
            chunk = imgs[i : i + ncol]
            rows.append(chunk)
            if with_sketches:
                rows.append(sketches_rgb(chunk))
    ncol = min(ncol, len(seeds))
    padded = []
    for r in rows:
        if len(r) < ncol:
            r = np.concatenate([r, np.full((ncol - len(r), *r.shape[1:]), 255, np.uint8)])
        padded.append(r)
    ProgressReporter(progress).report(1, 1, stage="sampling")
    return make_grid(np.concatenate(padded), ncol), samples


def interpolation_frames(
    model: StyleGANModel, seed_a: int, seed_b: int, frames: int = 24, truncation: float = 1.0, *, progress=None,
    cancel=None,
) -> np.ndarray:
    """uint8 frames×H×W×3 along the latent path from seed_a to seed_b (ends included)."""
    out = []
    ts = np.linspace(0.0, 1.0, max(2, frames))
    rep = ProgressReporter(progress)
    for i in range(0, len(ts), 8):
        check_cancel(cancel)
        out.append(interpolate(model, seed_a, seed_b, list(ts[i : i + 8]), truncation=truncation))
        rep.report(min(i + 8, len(ts)), len(ts), stage="interpolating")
    return np.concatenate(out)


def upscale_frames(frames: np.ndarray, min_side: int = 256) -> np.ndarray:
    h = frames.shape[1]
    f = max(1, int(np.ceil(min_side / h)))
    if f == 1:
        return frames
    return np.stack([cv2.resize(fr, None, fx=f, fy=f, interpolation=cv2.INTER_NEAREST) for fr in frames])


def save_gif(path: str | os.PathLike, frames: np.ndarray, fps: float = 12.0, *, bounce: bool = True) -> Path:
    """An animated GIF (looping; forth and back when ``bounce``), through the one atomic writer."""
    return video.save_gif(path, video.bounce(frames) if bounce else frames, fps, loop=True)


def save_mp4(path: str | os.PathLike, frames: np.ndarray, fps: float = 24.0, *, bounce: bool = True) -> Path:
    """An MP4 video (forth and back when ``bounce``), through the one atomic, even-sized writer."""
    return video.save_mp4(path, video.bounce(frames) if bounce else frames, fps)


def export_samples(
    model: StyleGANModel, seeds: list[int], out_dir: str | os.PathLike, truncation: float = 1.0, *, progress=None,
    cancel=None,
) -> list[Path]:
    """One PNG per seed, with seed, model, truncation and size in its text chunks."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    images = generate_images(model, seeds, truncation=truncation, progress=progress, cancel=cancel)
    paths = []
    for s, img in zip(seeds, images):
        meta = {"engine": "stylegan2", "model": model.model_id, "model_path": str(model.path or ""), "seed": s,
                "truncation": truncation, "size": model.config.size}
        paths.append(save_image(out / f"{model.model_id}_seed{s}.png", img, meta))
    return paths


def export_model(model: StyleGANModel, path: str | os.PathLike, *, progress=None, cancel=None) -> Path:
    """Write the model (generator + its discriminator) as a Ganvas model folder."""
    manifest = {k: v for k, v in model.manifest.items() if k not in ("format", "format_version", "kind",
                                                                      "tensors_sha256", "config")}
    manifest["model_id"] = Path(path).name
    extra = state_tensors("d_sketch", model.sketch_discriminator) if model.sketch_discriminator is not None else None
    return save_model(path, model.generator, model.discriminator, manifest, extra)
