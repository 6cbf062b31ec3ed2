"""The SinGAN training job, declared once: what ``python main.py train`` and the studio's Train dock
both build and run.

A :class:`TrainRequest` holds the photo and the user's choices (preset, sizes, task, seed, device,
resume). :meth:`TrainRequest.plan` turns them into the settings a run uses — the preset's config
(``preset()`` → ``config_for_task()`` → the user's coarsest side), or an interrupted run's own
settings when it resumes — and checks that the photo makes a pyramid; :meth:`memory_warning` is
the memory guard; :meth:`run` applies the CPU thread policy on the calling thread and trains.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.checkpoints import MANIFEST_FILE, CheckpointError
from core.jobs import CancelToken, GanvasError, ProgressFn
from core.singan.config import DEFAULT_PRESET, SinGANConfig, config_for_task, preset, training_threads
from core.singan.model import SinGANModel


def existing_model(out: str | Path) -> dict | None:
    """The manifest of the SinGAN model already in ``out``, None if ``out`` is free (missing or an
    empty folder); a :class:`GanvasError` if it holds something else, which training would replace."""
    from core.files import recover_interrupted_swap
    from core.singan.model import model_summary

    folder = Path(out)
    recover_interrupted_swap(folder)  # a save killed between its two renames: the previous copy comes back
    if not folder.exists() or (folder.is_dir() and not any(folder.iterdir())):
        return None
    if folder.is_dir() and not (folder / MANIFEST_FILE).exists():
        raise GanvasError(f"'{folder}' is a folder that holds other files, not a Ganvas model; training would "
                          "replace it. Choose a new folder for --out.")
    try:
        return model_summary(folder)
    except CheckpointError as exc:
        raise GanvasError(f"{exc} Training would replace it: choose another folder for --out.") from exc


def resume_settings(manifest: dict) -> tuple[SinGANConfig, int]:
    """(config, seed) an interrupted training was started with, from its manifest: resuming with
    anything else would build another pyramid (and look like 'a different image')."""
    try:
        return SinGANConfig.from_dict(manifest["config"]), int(manifest.get("seed", 0))
    except (KeyError, TypeError, ValueError) as exc:
        raise GanvasError(f"Cannot resume: the model's manifest has no usable settings ({exc}).") from exc


def scales_done(manifest: dict) -> tuple[int, int]:
    """(finished scales, all scales) of the model a manifest describes."""
    return int(manifest.get("num_trained", 0)), len(manifest.get("shapes", []))


def train_config(preset_name: str = DEFAULT_PRESET, *, max_size: int | None = None, min_size: int | None = None,
                 iters: int | None = None, task: str = "random") -> SinGANConfig:
    """A new run's settings: the preset with the user's sizes, then the task's training settings
    (``--task sr|animation``), where the user's coarsest side still wins."""
    config = preset(preset_name or DEFAULT_PRESET, max_size=max_size, min_size=min_size, iters=iters)
    if task not in ("", "random"):
        config = config_for_task(config, task)
        if min_size is not None:
            config = config.with_(min_size=min_size)
    return config


@dataclass(frozen=True)
class TrainPlan:
    """What a run will do: its config and seed, and where a resumed run starts."""

    config: SinGANConfig
    seed: int
    resume: bool = False
    done_before: int = 0
    total: int = 0

    @property
    def complete(self) -> bool:
        """A resumed model that has every scale already: nothing to train."""
        return self.resume and self.done_before >= self.total


@dataclass(frozen=True, eq=False, kw_only=True)
class TrainRequest:
    """One SinGAN training: the photo (uint8 H×W×3), where it autosaves, and the user's choices.
    ``None`` sizes, iterations and seed mean the preset's (seed 0); ``settings``, when given, is the
    config already assembled by :func:`train_config` (the Train dock's, which it also times and
    checks); ``source`` names the photo in errors (its path)."""

    image: np.ndarray
    out_dir: str | Path | None
    preset: str = DEFAULT_PRESET
    max_size: int | None = None
    min_size: int | None = None
    iters: int | None = None
    task: str = "random"
    seed: int | None = None
    device: str = "auto"
    resume: bool = False
    source: str = ""
    settings: SinGANConfig | None = None

    def config(self) -> SinGANConfig:
        """The new run's settings: ``settings``, or :func:`train_config` of the choices."""
        if self.settings is not None:
            return self.settings
        return train_config(self.preset, max_size=self.max_size, min_size=self.min_size, iters=self.iters,
                            task=self.task)

    def plan(self, manifest: dict | None = None) -> TrainPlan:
        """The run's settings. With ``resume`` and the ``manifest`` of the model in ``out_dir``: the
        interrupted run's own config and seed; otherwise :meth:`config`. Raises a
        :class:`GanvasError` naming the photo when it is too small for the settings."""
        if self.resume and manifest is not None:
            config, seed = resume_settings(manifest)
            done, total = scales_done(manifest)
            plan = TrainPlan(config, seed, True, done, total)
        else:
            plan = TrainPlan(self.config(), 0 if self.seed is None else int(self.seed), self.resume)
        self.check_size(plan.config)
        return plan

    def check_size(self, config: SinGANConfig) -> None:
        """A :class:`GanvasError` naming the photo when ``config`` makes no pyramid of it."""
        from core.files import naming
        from core.singan.pyramid import pyramid_shapes

        with naming(self.source or "the photo"):  # the pyramid sees pixels, not the file
            pyramid_shapes(self.image.shape[0], self.image.shape[1], config)

    def on_cpu(self) -> bool:
        from core.device import pick_device

        return pick_device(self.device).type == "cpu"

    def memory_warning(self, config: SinGANConfig | None = None) -> str | None:
        """On the CPU, why training ``config`` (default :meth:`config`) may not fit in memory; None
        when it fits or on another device (a warning, never a refusal: the estimate errs high)."""
        if not self.on_cpu():
            return None
        from core.singan.memory import check_training_memory

        return check_training_memory(config or self.config(), *self.image.shape[:2]).message

    def run(self, plan: TrainPlan, progress: ProgressFn | None = None, cancel: CancelToken | None = None,
            *, say=None) -> SinGANModel:
        """Train by ``plan`` on the calling thread, under the CPU thread policy (set on this thread,
        re-checked as training goes); ``say`` hears the policy's one-line account on the CPU."""
        from core.device import thread_policy, use_thread_policy
        from core.singan import train

        progress = use_thread_policy(self.device, progress, training_threads(plan.config))
        if say is not None and self.on_cpu():
            say(f"{thread_policy.describe()} ({thread_policy.explain()})")
        return train.train_singan(self.image, plan.config, out_dir=self.out_dir, resume=plan.resume,
                                  device=self.device, seed=plan.seed, progress=progress, cancel=cancel)
