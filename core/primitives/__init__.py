"""Primitives: privacy-free synthetic pretraining images (Baek & Shim, CVPR 2022)."""

from core.primitives.config import (
    DEFAULT_PRESET,
    LEAF_KINDS,
    PRESET_DESCRIPTIONS,
    PRESETS,
    SHAPE_KINDS,
    PrimitivesConfig,
    PrimitivesError,
    preset,
)
from core.primitives.export import (
    FORMATS,
    export_set,
    load_exported,
    parse_size,
    read_set_manifest,
    verify_set,
)
from core.primitives.synth import (
    figure_images,
    generate_batch,
    generate_image,
    generate_indices,
    power_spectrum_field,
)


def __getattr__(name: str):
    # the torch Dataset is imported on demand, so export worker processes start without torch
    if name in ("PrimitivesDataset", "make_loader", "worker_init"):
        from core.primitives import dataset

        return getattr(dataset, name)
    raise AttributeError(name)


__all__ = [
    "FORMATS",
    "PrimitivesDataset",
    "export_set",
    "load_exported",
    "make_loader",
    "parse_size",
    "read_set_manifest",
    "verify_set",
    "DEFAULT_PRESET",
    "LEAF_KINDS",
    "PRESET_DESCRIPTIONS",
    "PRESETS",
    "SHAPE_KINDS",
    "PrimitivesConfig",
    "PrimitivesError",
    "preset",
    "figure_images",
    "generate_batch",
    "generate_image",
    "generate_indices",
    "power_spectrum_field",
]
