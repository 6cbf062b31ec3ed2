"""Ganvas engine: torch, numpy and OpenCV only (never Qt), usable from scripts and servers."""

import os as _os
import sys as _sys

__version__ = "0.1.0"

#: OpenMP threads that sleep while they wait instead of spinning (libgomp reads OMP_WAIT_POLICY,
#: Intel's and LLVM's OpenMP KMP_BLOCKTIME). Spinning threads made training collapse beside other
#: work (0.05-0.6 it/s against 2-2.8 passive: bench/threads.py, docs/singan.md ▸ CPU threads). OpenMP reads
#: them once, when torch loads it, so they are set here, before any engine module imports torch
#: (``main.py`` imports nothing else first); a user's own values win.
OPENMP_ENV = {"OMP_WAIT_POLICY": "PASSIVE", "KMP_BLOCKTIME": "0"}
#: oneDNN keeps a compiled kernel for every convolution shape it has run, 1024 by default; each new
#: output size (the studio's size sliders) adds ~40, and that grew a long session's memory
#: (bench/soak.py). 256 halves that growth and keeps training's ~45 kernels per iteration cached
#: (64 made training 25 % slower): docs/reliability.md ▸ Soak.
ONEDNN_ENV = {"ONEDNN_PRIMITIVE_CACHE_CAPACITY": "256"}
if "torch" not in _sys.modules:
    for _key, _value in {**OPENMP_ENV, **ONEDNN_ENV}.items():
        _os.environ.setdefault(_key, _value)
#: Whether torch's OpenMP threads wait passively (core.device.ThreadPolicy picks the count by it).
OPENMP_PASSIVE = _os.environ.get("OMP_WAIT_POLICY", "").strip().upper() == "PASSIVE"
