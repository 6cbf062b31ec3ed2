"""The Sketch GAN training jobs, declared once: what ``gan-pretrain`` / ``gan-transfer`` / ``sketch-tune`` and the
studio's Sketch panel both build and run.

A request holds a job's inputs and its config (from the presets of :mod:`core.sketchgan.pretrain`
and :mod:`core.sketchgan.finetune`); :meth:`run` sets the CPU thread policy on the calling thread
(OpenMP settings are per thread), reads or renders the data and trains, with ``progress=`` and
``cancel=`` as every long job.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from core.jobs import Cancelled, CancelToken, GanvasError, ProgressFn
from core.sketchgan.model import StyleGANModel
from core.sketchgan.pretrain import PretrainConfig
from core.sketchgan.tune_config import SketchTuneConfig

#: Primitives images rendered for a base when the request does not say.
PRIMITIVES_COUNT = 4000


@dataclass(frozen=True, eq=False, kw_only=True)
class PretrainRequest:
    """Pretrain a StyleGAN2 base on a folder of images (``images``) or on Primitives images of the
    preset ``primitives`` (``count`` of them, seeded by the config's seed); autosaves to ``out`` and
    resumes from it unless ``resume`` is False. ``threads=False`` leaves torch's thread count alone
    (data-parallel ranks: one process per device)."""

    config: PretrainConfig
    out: str | os.PathLike
    images: str | os.PathLike | None = None
    primitives: str | None = None
    count: int = PRIMITIVES_COUNT
    resume: bool = True
    threads: bool = True

    def run(self, progress: ProgressFn | None = None, cancel: CancelToken | None = None) -> StyleGANModel:
        from core.device import use_thread_policy
        from core.sketchgan.pretrain import folder_data, primitives_data, train_gan
        from core.sketchgan.stylegan import training_threads

        cfg = self.config
        if self.threads:
            progress = use_thread_policy(cfg.device, progress, training_threads(cfg.model))
        if self.images is not None:
            data, info = folder_data(self.images, cfg.model.size)
        else:
            data, info = primitives_data(cfg.model.size, self.count, seed=cfg.seed, preset=self.primitives,
                                         progress=progress, cancel=cancel)
        return train_gan(data, cfg, out_dir=self.out, resume=self.resume, data_info=info, progress=progress,
                         cancel=cancel)


@dataclass(frozen=True, eq=False, kw_only=True)
class TuneRequest:
    """Fine-tune ``base`` on ``sketches`` (H×W float ink maps) by ``config``, autosaving to ``out_dir``
    (None: in memory only); ``real_images`` (N×3×S×S in [-1, 1]) replace the base's data for the image
    critic. When stopped, the last autosave is read back and travels as ``Cancelled.kept``."""

    base: StyleGANModel
    sketches: list[np.ndarray]
    config: SketchTuneConfig
    out_dir: str | os.PathLike | None = None
    real_images: object = None

    def run(self, progress: ProgressFn | None = None, cancel: CancelToken | None = None) -> StyleGANModel:
        from core.device import use_thread_policy
        from core.sketchgan.finetune import sketch_tune
        from core.sketchgan.model import load_model
        from core.sketchgan.stylegan import training_threads

        progress = use_thread_policy(self.config.device, progress, training_threads(self.base.config))
        try:
            return sketch_tune(self.base, self.sketches, self.config, out_dir=self.out_dir,
                               real_images=self.real_images, progress=progress, cancel=cancel)
        except Cancelled as exc:
            kept = None
            if self.out_dir:
                try:
                    kept = load_model(self.out_dir)
                except GanvasError:
                    pass  # stopped before the first autosave
            raise Cancelled(str(exc), kept=kept) from exc


@dataclass(frozen=True, eq=False, kw_only=True)
class TransferRequest:
    """Fine-tune ``base`` (all its parameters; with ``scratch``, its network from random weights) on the
    folder ``images`` by ``config`` (:func:`core.sketchgan.transfer.transfer_config`), autosaving to ``out``
    and resuming from it unless ``resume`` is False. When stopped, the last autosave travels as
    ``Cancelled.kept``."""

    base: StyleGANModel
    images: str | os.PathLike
    config: PretrainConfig
    out: str | os.PathLike
    scratch: bool = False
    resume: bool = True

    def run(self, progress: ProgressFn | None = None, cancel: CancelToken | None = None) -> StyleGANModel:
        from core.device import use_thread_policy
        from core.sketchgan.model import load_model
        from core.sketchgan.stylegan import training_threads
        from core.sketchgan.transfer import transfer

        progress = use_thread_policy(self.config.device, progress, training_threads(self.config.model))
        try:
            return transfer(self.base, self.images, self.config, out_dir=self.out, scratch=self.scratch,
                            resume=self.resume, progress=progress, cancel=cancel)
        except Cancelled as exc:
            try:
                kept = load_model(self.out)
            except GanvasError:
                kept = None  # stopped before anything was saved
            raise Cancelled(str(exc), kept=kept) from exc
