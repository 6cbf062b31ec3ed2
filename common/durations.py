"""Durations as text, in two styles: a clock for ETAs (``format_clock``: '4:05') and a rough length
for a person (``format_rough``: '12 min'). The CLI, the studio's job bars and the training monitor
all use these two."""

from __future__ import annotations

import math


def format_clock(seconds: float | None) -> str:
    """'1:02:03', '4:05', or '--:--' when unknown (None, not finite, negative)."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "--:--"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def format_rough(seconds: float) -> str:
    """A rough length for a person: '45 s', '12 min', '1.5 h', '3 days'."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"
