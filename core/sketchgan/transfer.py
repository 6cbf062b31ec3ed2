"""Transfer a pretrained StyleGAN2 base to a folder of a person's few images (10–1000).

What Primitives-PS is for (Baek & Shim, "Commonality in Natural Images Rescues GANs", CVPR 2022):
a base pretrained on privacy-free synthetic images is fine-tuned on a low-shot set and should end
closer to it than the same network trained from scratch. The fine-tune is the pretraining loop
(:func:`core.sketchgan.pretrain.train_gan`: StyleGAN2 losses, lazy R1, EMA generator, autosave and
exact resume) with *all* parameters of G and D starting from the base, and DiffAugment's low-shot
policy (colour, translation, cutout on real and fake images, Zhao et al. 2020) so that D does not
memorise the few images. ``scratch`` runs the same network, data, steps and random draws from random
weights: the two starts differ in their initial weights alone.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from core.jobs import GanvasError
from core.sketchgan.model import StyleGANModel
from core.sketchgan.pretrain import PretrainConfig, folder_data, preset, train_gan

#: DiffAugment's policy for 100-shot sets (the paper's low-shot runs use it on real and fake images).
TRANSFER_AUGMENT = "color,translation,cutout"
#: Steps when the request does not say: about 9 CPU minutes at 32 px (0.27 CPU s a step on one core of the
#: project VM, docs/transfer.md).
DEFAULT_ITERS = 2000
#: Fewer images than this is not a low-shot set but a handful: SinGAN or sketch tuning fit better.
MIN_IMAGES = 10


class TransferError(GanvasError):
    """A transfer setting or input a person can fix."""


def transfer_config(base: StyleGANModel, *, iters: int = DEFAULT_ITERS, seed: int = 0, device: str = "auto",
                    **overrides) -> PretrainConfig:
    """The cpu pretraining preset on ``base``'s network, with the low-shot augmentation and ``iters`` steps."""
    settings = {"augment": TRANSFER_AUGMENT, "autosave_every": 250, "preview_every": 100, **overrides}
    cfg = preset("cpu", iters=iters, seed=seed, device=device, **settings)
    return replace(cfg, model=base.config)


def base_record(base: StyleGANModel | None, scratch: bool) -> dict:
    """What the manifest says about the start: the base's id, path and data, or ``scratch``."""
    if scratch or base is None:
        return {"source": "transfer", "start": "scratch"}
    return {"source": "transfer", "start": "base",
            "base": {"model_id": base.model_id, "path": str(base.path or ""), "data": base.manifest.get("data", {})}}


def transfer(
    base: StyleGANModel,
    images: str | os.PathLike,
    config: PretrainConfig,
    *,
    out_dir: str | os.PathLike,
    scratch: bool = False,
    resume: bool = True,
    progress=None,
    cancel=None,
) -> StyleGANModel:
    """Fine-tune all of ``base`` (or, with ``scratch``, its network from random weights) on the folder
    ``images``, centre-cropped and resized to the base's size; autosaves to ``out_dir`` and resumes
    from it. Returns the EMA generator with the trained discriminator."""
    if config.model != base.config:
        raise TransferError(f"The transfer settings describe a {config.model.size}px network, but the base "
                            f"'{base.model_id}' is {base.config.size}px with another architecture.")
    data, info = folder_data(Path(images).absolute(), base.config.size)  # sketch-tune reads it again
    if len(data) < MIN_IMAGES:
        raise TransferError(f"The folder '{images}' holds {len(data)} image(s); a transfer needs at least "
                            f"{MIN_IMAGES} (the method is made for 10–1000).")
    return train_gan(data, config, out_dir=out_dir, resume=resume, data_info=info,
                     init=None if scratch else base, record=base_record(base, scratch),
                     progress=progress, cancel=cancel)


def folder_grid(images: str | os.PathLike, size: int, count: int = 16) -> np.ndarray:
    """The first ``count`` images of a folder as the transfer sees them (centre square at ``size``), 8 per
    row as the training's sample previews (uint8): what the studio shows above the samples while training."""
    from core.images import make_grid
    from core.sketchgan.model import tensor_to_uint8
    from core.sketchgan.pretrain import ImageFolderData

    data = ImageFolderData(images, size, flip=False)
    return make_grid(tensor_to_uint8(data.images[:count]), 8)


__all__ = ["DEFAULT_ITERS", "MIN_IMAGES", "TRANSFER_AUGMENT", "TransferError", "folder_grid", "transfer",
           "transfer_config"]
