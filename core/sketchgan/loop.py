"""The scaffolding shared by StyleGAN2 pretraining and sketch fine-tuning: step loop, progress with
previews now and then, autosaves, save-on-cancel and the final save, and the manifest's ``training``
record. The two trainers write only what differs: one training step, what to save, the preview.

Each step function returns its metrics; the loop does the rest, the same way for both:

    step = run_steps(one_step, start=0, iters=cfg.iters, ..., save=save, preview=preview)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from core.jobs import Cancelled, ProgressReporter, check_cancel


def training_record(step: int, iters: int, finished: bool, config: dict[str, Any], **extra: Any) -> dict:
    """The manifest's ``training`` entry: where the run stands and the settings it ran with."""
    return {"step": step, "iters": iters, "finished": finished, "config": config, **extra}


def run_steps(
    one_step: Callable[[int], dict[str, float]],
    *,
    start: int,
    iters: int,
    stage: str,
    preview_every: int,
    autosave_every: int,
    save: Callable[[int, bool], None],
    preview: Callable[[], np.ndarray] | None = None,
    after_save: Callable[[], None] | None = None,
    progress=None,
    cancel=None,
) -> int:
    """Run ``one_step(step)`` from ``start`` to ``iters``; returns the last step done.

    ``save(step, finished)`` is called every ``autosave_every`` steps, when cancelled (then
    :class:`Cancelled` is raised again, so the model on disk is always the newest) and at the end.
    ``preview()`` is drawn every ``preview_every`` steps and at the last one; pass ``progress=None``
    on the ranks of a data-parallel run that do not report. ``after_save`` runs after each autosave
    (a barrier between data-parallel processes).
    """
    rep = ProgressReporter(progress)
    step = start
    try:
        while step < iters:
            check_cancel(cancel)
            metrics = one_step(step)
            step += 1
            image = None
            if preview is not None and progress is not None and (step % preview_every == 0 or step == iters):
                image = preview()
            rep.report(step - start, iters - start, stage=stage, metrics=metrics, preview=image,
                       message=f"step {step}")
            if step % autosave_every == 0 and step < iters:
                save(step, False)
                if after_save is not None:
                    after_save()
    except Cancelled:
        save(step, False)
        raise
    save(step, True)
    return step


__all__ = ["run_steps", "training_record"]
