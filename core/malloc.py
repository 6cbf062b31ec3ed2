"""Keep freed memory in the process instead of handing it back to the OS after every large free.

glibc returns big freed blocks to the kernel at once (an ``munmap``, or a trim of the heap's top),
so a loop that allocates and frees a few MB per item takes every page back with a fault. The
Primitives synthesizer at 256 px frees ~4 MB per image: 1 700 page faults, a third of its time
on a VM (bench/primitives.py). Fixed thresholds stop that; a no-op where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c"))
    except (OSError, TypeError):
        return None


@functools.cache
def keep_freed_memory(mmap_mb: int = 32, trim_mb: int = 256) -> bool:
    """Blocks under ``mmap_mb`` come from the heap and up to ``trim_mb`` of free heap is kept.

    Returns whether the setting took (glibc only). Idempotent; the first call's values stay.
    """
    mallopt = getattr(_libc(), "mallopt", None)
    if mallopt is None:
        return False
    ok = mallopt(_M_MMAP_THRESHOLD, mmap_mb << 20) == 1
    return ok and mallopt(_M_TRIM_THRESHOLD, trim_mb << 20) == 1


def release_free_memory() -> bool:
    """Hand the free pages of every heap back to the OS now (glibc's ``malloc_trim(0)``).

    The other side of :func:`keep_freed_memory`: a long-running process (the studio) that keeps
    freed memory for speed calls this now and then, when a burst of work is over, so its resident
    size follows what it really holds. Takes milliseconds and lets other Python threads run
    (ctypes releases the GIL); a no-op returning False where the C library is not glibc.
    """
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is None:
        return False
    trim(0)
    return True
