"""Files shipped inside the ``app`` package: the style sheet, the sample photo and its trained model,
the Sketch GAN base and the Primitives-PS base ``gan-transfer`` starts from.

They live in ``app/resources/`` and are package data, so the same code finds them in a source
checkout (``python main.py``), an editable install and a wheel installed with ``pip install .``
(``importlib.resources``; a test builds the wheel and checks it holds them).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

#: The folder itself (a real folder: the package is installed unzipped, as pip does).
RESOURCES = Path(str(files("app") / "resources"))
STYLE_SHEET = RESOURCES / "style.qss"
SAMPLE_IMAGE = RESOURCES / "samples" / "hubble_deep_field.jpg"
SAMPLE_MODEL = RESOURCES / "samples" / "hubble_deep_field.ganvas"
#: The Sketch GAN dock's base model, opened at start (a 32-px StyleGAN2 trained here on Primitives
#: ``sketch-shapes``; its recipe is in ``resources/sketchgan/README.md``). Should it be missing (a
#: trimmed install), the dock says so and offers pretraining, Open… and Import .pt….
SKETCH_BASE = RESOURCES / "sketchgan" / "sketch_base.ganvas"
#: ``gan-transfer``'s default start: the same network pretrained on Primitives-PS (the paper's full
#: synthesizer); ``core.cli.sketchgan.default_transfer_base`` finds it by the same path.
PRIMITIVES_BASE = RESOURCES / "sketchgan" / "primitives_ps_base.ganvas"

#: What a complete install must hold, relative to the ``app`` package (checked by the wheel test).
SHIPPED = (
    "resources/style.qss",
    "resources/samples/hubble_deep_field.jpg",
    "resources/samples/hubble_deep_field.ganvas/manifest.json",
    "resources/samples/hubble_deep_field.ganvas/model.safetensors",
    "resources/sketchgan/README.md",
    "resources/sketchgan/sketch_base.ganvas/manifest.json",
    "resources/sketchgan/sketch_base.ganvas/model.safetensors",
    "resources/sketchgan/primitives_ps_base.ganvas/manifest.json",
    "resources/sketchgan/primitives_ps_base.ganvas/model.safetensors",
)
