"""Writing frame sequences (uint8 N×H×W×3 RGB) as animated GIF or MP4, atomically.

One writer for every engine (SinGAN animation, sketch-GAN interpolation): the file appears whole
or not at all, GIF colours are median-cut per frame, and MP4 frames of odd size are padded to even
(most players need even dimensions).
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from core.files import atomic_write
from core.images import ImageError

VIDEO_SUFFIXES = (".gif", ".mp4")


def _frames(frames: np.ndarray) -> np.ndarray:
    f = np.asarray(frames)
    if f.ndim != 4 or f.shape[3] != 3 or f.dtype != np.uint8 or len(f) == 0:
        raise ImageError(f"Frames must be uint8 N×H×W×3 (got {f.dtype} {f.shape}).")
    return f


def _check_fps(fps: float) -> None:
    if not 0 < fps <= 100:
        raise ImageError(f"Frames per second must be in (0, 100] (got {fps}).")


def bounce(frames: np.ndarray) -> np.ndarray:
    """The frames forward, then back (without repeating the ends): a seamless loop."""
    f = _frames(frames)
    return np.concatenate([f, f[-2:0:-1]]) if len(f) > 2 else f


def save_gif(path: str | os.PathLike, frames: np.ndarray, fps: float = 10.0, loop: bool = True) -> Path:
    """An animated GIF (atomic write); ``loop`` makes viewers repeat it forever, else it plays once."""
    from PIL import Image

    f = _frames(frames)
    _check_fps(fps)
    images = [Image.fromarray(im).quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
              for im in f]
    extra = {"loop": 0} if loop else {}

    def write(p: Path) -> None:
        images[0].save(p, format="GIF", save_all=True, append_images=images[1:],
                       duration=max(10, round(1000 / fps)), optimize=False, disposal=1, **extra)

    try:
        return atomic_write(path, write)
    except OSError as exc:
        raise ImageError(f"Cannot write '{path}': {exc.strerror or exc}.") from exc


def save_mp4(path: str | os.PathLike, frames: np.ndarray, fps: float = 10.0) -> Path:
    """An MP4 video (OpenCV's 'mp4v' codec, atomic write). Odd sizes are padded to even by repeating
    the last row/column."""
    f = _frames(frames)
    _check_fps(fps)
    h, w = f.shape[1:3]
    ph, pw = h % 2, w % 2

    def write(p: Path) -> None:
        tmp = p.with_name(p.name + ".mp4")
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (w + pw, h + ph))
        try:
            if not writer.isOpened():
                raise ImageError(
                    "Cannot write MP4: this OpenCV build has no 'mp4v' encoder. Export a GIF instead, or install "
                    "an OpenCV with FFmpeg (opencv-python-headless from PyPI has it)."
                )
            for im in f:
                if ph or pw:
                    im = np.pad(im, ((0, ph), (0, pw), (0, 0)), mode="edge")
                writer.write(np.ascontiguousarray(im[..., ::-1]))
        finally:
            writer.release()
        if tmp.exists():
            os.replace(tmp, p)

    try:
        return atomic_write(path, write)
    except OSError as exc:
        raise ImageError(f"Cannot write '{path}': {exc.strerror or exc}.") from exc


def save_video(path: str | os.PathLike, frames: np.ndarray, fps: float = 10.0) -> Path:
    """GIF or MP4 by the path's suffix (a GIF loops forever)."""
    suffix = Path(path).suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise ImageError(f"Cannot write '{path}': an animation is saved as .gif or .mp4.")
    return save_gif(path, frames, fps, loop=True) if suffix == ".gif" else save_mp4(path, frames, fps)
