"""Memory guard: how much memory a SinGAN training will need at its peak, and how much the machine has.

The peak is reached at the finest scale, where the critic's gradient penalty (a double backward) and
the ``train_depth`` generators trained together hold their activations at once. The estimate is

    peak ≈ BASE + CONV · Σ_window num_layers · channels · (H + 2p)(W + 2p)

(window = the finest ``train_depth`` scales). BASE and CONV were fitted to the peak resident memory of real trainings on
the 2-core CPU, torch 2.13.0 (``python bench/memory.py`` measures them; docs/reliability.md ▸ Memory guard has
the points): fast preset 465 MB at 128 px and 695 MB at 256 px, paper preset 1.0 GB at 250 px and
4.8 GB at 512 px. The fit is within ±15 % at those four points; the 7×7 patch loss of the presets
that use it added nothing measurable there (``bench/memory.py --fit`` still fits a term for it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: Peak RSS of a process that has imported torch and holds a photo and an empty model (bytes).
BASE_BYTES = 300 * 2**20
#: Bytes per conv activation element (forward + backward + the gradient penalty's double backward).
CONV_BYTES = 40.0
#: Warn when the estimate exceeds this fraction of the available memory (the rest: the OS, the studio).
WARN_FRACTION = 0.9


@dataclass(frozen=True)
class MemoryCheck:
    """An estimate set against what the machine has; ``message`` is for a person (None when it fits)."""

    needed: int
    available: int | None
    message: str | None

    @property
    def fits(self) -> bool:
        return self.message is None


def _gb(n: float) -> str:
    return f"{n / 2**30:.1f} GB"


def estimate_training_bytes(config, height: int, width: int) -> int:
    """Peak resident memory (bytes) of training ``config`` (a SinGANConfig) on a ``height``×``width`` photo."""
    from core.singan.pyramid import pyramid_shapes

    shapes = pyramid_shapes(height, width, config)
    depth = max(1, int(getattr(config, "train_depth", 1)))
    pad = int(getattr(config, "pad", config.num_layers))
    n = len(shapes) - 1
    conv = 0
    for s in range(max(0, n - depth + 1), n + 1):
        h, w = shapes[s]
        conv += config.num_layers * config.channels_at(s) * (h + 2 * pad) * (w + 2 * pad)
    return int(BASE_BYTES + CONV_BYTES * conv)


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def available_bytes() -> int | None:
    """Memory this process can still use: the kernel's MemAvailable, capped by a cgroup limit (containers);
    None where neither can be read."""
    avail = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                avail = int(line.split()[1]) * 1024
                break
    except (OSError, ValueError, IndexError):
        avail = None
    if avail is None and hasattr(os, "sysconf"):
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError):
            avail = None
    cg = Path("/sys/fs/cgroup")
    limit, used = _read_int(cg / "memory.max"), _read_int(cg / "memory.current")  # cgroup v2
    if limit is None:
        limit, used = _read_int(cg / "memory" / "memory.limit_in_bytes"), _read_int(cg / "memory" / "memory.usage_in_bytes")
    if limit is not None and used is not None and limit < 2**60:
        room = max(0, limit - used)
        avail = room if avail is None else min(avail, room)
    return avail


def check_training_memory(config, height: int, width: int, available: int | None = None) -> MemoryCheck:
    """The estimate for this training against the available memory, with a warning when it will not fit."""
    needed = estimate_training_bytes(config, height, width)
    avail = available_bytes() if available is None else available
    if avail is None or needed <= WARN_FRACTION * avail:
        return MemoryCheck(needed, avail, None)
    preset = getattr(config, "preset", "")
    return MemoryCheck(needed, avail, (
        f"Training the {preset} preset at {config.max_size} px needs about {_gb(needed)} of memory at its peak, "
        f"but only {_gb(avail)} is available: it may fail or make the computer swap. Choose a smaller max "
        f"size{'' if preset == 'fast' else ' or the fast preset'}, or close other programs."))
