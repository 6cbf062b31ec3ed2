"""The one lookup behind every ``preset(name, **overrides)`` of the engine (SinGAN, Primitives, sketch GAN)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from core.jobs import GanvasError

C = TypeVar("C")


def named_preset(table: Mapping[str, C], name: str, *, what: str = "", error: type[GanvasError] = GanvasError,
                 **overrides: Any) -> C:
    """``table[name]`` with the given fields changed (its ``with_``). ``None`` values are ignored, so CLI
    options that were not given pass straight through; an unknown name raises ``error`` listing the known
    ones ("Unknown {what}preset ...")."""
    if name not in table:
        raise error(f"Unknown {what}preset '{name}'. Choose one of: {', '.join(table)}.")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    return table[name].with_(**overrides) if overrides else table[name]
