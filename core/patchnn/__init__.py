"""Instant previews: new images from one photo by coarse-to-fine patch nearest neighbours (GPNN), no training."""

from core.patchnn.config import ENGINE_NAME, PatchNNConfig, PreviewSettings
from core.patchnn.generate import MAX_OUTPUT_PIXELS, PatchPyramid, generate, generate_from, level_shapes

__all__ = ["ENGINE_NAME", "MAX_OUTPUT_PIXELS", "PatchNNConfig", "PatchPyramid", "PreviewSettings", "generate",
           "generate_from", "level_shapes"]
