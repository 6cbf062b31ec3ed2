"""Device choice, precision policy, CPU threads and seeding: the one place that knows about CUDA/MPS.

CPU threads, as measured by ``bench/threads.py`` (docs/singan.md ▸ CPU threads): torch's default, one OpenMP
thread per core that *spins* while it waits, collapses beside other work (0.05-0.6 it/s where the
same threads waiting passively ran 2-2.8, and training fell from 2.3 to 0.1-0.2 it/s in issue 15):
every parallel region spins on, or waits for, a thread the OS has descheduled. So ``core`` sets
``OMP_WAIT_POLICY=PASSIVE`` / ``KMP_BLOCKTIME=0`` before torch loads (``core.OPENMP_ENV``). With
passive waiting, one thread per core stays the fastest even on a busy machine (the OS gives a
process with two runnable threads a bigger share), so that is the count. Where torch was loaded
before ``core`` (a notebook that imported torch first: threads still spin), the count is the cores
*free of other work*, measured from ``/proc/stat`` minus this process's own CPU time and re-checked
while a job runs, since there one spinning thread beat two (0.5-0.6 against 0.05-0.1 it/s).
``GANVAS_THREADS=N`` fixes the count.
"""

from __future__ import annotations

import os
import threading
import time

import torch

from core.jobs import GanvasError


def available_devices() -> list[str]:
    """Devices this machine can run on, best first ('cuda' only when torch sees a GPU)."""
    devices = []
    if torch.cuda.is_available():
        devices.append("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devices.append("mps")
    devices.append("cpu")
    return devices


def pick_device(name: str | None = None) -> torch.device:
    """Resolve 'auto'/None to the best device; refuse one that is not there, with a clear message."""
    if name in (None, "", "auto"):
        return torch.device(available_devices()[0])
    try:
        dev = torch.device(name)
    except RuntimeError as exc:
        raise GanvasError(f"Unknown device '{name}'. Use one of: auto, {', '.join(available_devices())}.") from exc
    if dev.type not in available_devices():
        raise GanvasError(
            f"Device '{name}' is not available on this machine. Available: {', '.join(available_devices())}."
        )
    return dev


def make_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A torch.Generator for reproducible noise that does not touch the global RNG.

    Noise is drawn on the CPU and moved, so the same seed gives the same image on every device.
    """
    g = torch.Generator(device="cpu")
    g.manual_seed(int(seed) % (2**63))
    return g


def describe_device(device: torch.device | str) -> str:
    dev = torch.device(device)
    if dev.type == "cuda":
        return f"CUDA: {torch.cuda.get_device_name(dev)}"
    if dev.type == "mps":
        return "Apple MPS"
    n = torch.get_num_threads()
    return f"CPU · {n} thread{'s' if n != 1 else ''}"


# ---------------------------------------------------------------- CPU threads

def cpu_cores() -> int:
    """Cores this process may run on (its CPU affinity, e.g. a container's or taskset's share)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _cpu_times() -> tuple[float, float] | None:
    """(busy CPU seconds of the whole machine, of this process), or None where /proc/stat is missing."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = fh.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    ticks = [int(v) for v in fields[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    busy = sum(ticks[:8]) - idle  # user nice system idle iowait irq softirq steal (guest is inside user)
    hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    t = os.times()
    return busy / hz, t.user + t.system


def threads_for(cores: int, busy_elsewhere: float, passive: bool = True) -> int:
    """Threads for ``cores`` cores when other processes keep ``busy_elsewhere`` cores busy.

    Passive waiting: one per core whatever the load (measured fastest, idle and busy). Spinning
    threads: one per free core (rounded), at least one, since a spinning thread on a core another
    process holds stalls every parallel region."""
    if passive:
        return int(cores)
    return int(max(1, min(cores, int(cores - busy_elsewhere + 0.5))))


class ThreadPolicy:
    """Chooses torch's CPU thread count (:func:`threads_for`) and re-checks it while a job runs.

    ``apply()`` is called on the thread that runs the job (OpenMP settings are per thread);
    ``maybe_update()`` is cheap and re-measures at most every ``interval_s``. ``describe()``
    gives 'CPU · 2 threads' for the status bar.
    """

    def __init__(self, interval_s: float = 5.0, fixed: int | None = None, passive: bool | None = None) -> None:
        import core

        env = os.environ.get("GANVAS_THREADS", "").strip()
        self.fixed = fixed if fixed is not None else (int(env) if env.isdigit() and int(env) > 0 else None)
        self.passive = core.OPENMP_PASSIVE if passive is None else passive
        self.interval_s = interval_s
        self.cores = cpu_cores()
        self.threads = self.fixed or self.cores
        self.busy_elsewhere = 0.0
        self._lock = threading.Lock()
        self._last: tuple[float, float, float] | None = None  # (wall, machine busy, own busy)
        self._primed = False
        self._applied_at = 0.0
        self.limit: int | None = None  # the running job's cap (apply's ``limit``)

    def measure(self, window_s: float = 0.25) -> float:
        """Cores kept busy by other processes since the last call (or over ``window_s`` the first time)."""
        now, times = time.monotonic(), _cpu_times()
        if times is None:  # no /proc/stat (macOS, Windows): the load average, taken while we are idle
            try:
                return max(0.0, os.getloadavg()[0]) if not self._primed else self.busy_elsewhere
            except (AttributeError, OSError):
                return 0.0
        if self._last is None:
            self._last = (now, *times)
            time.sleep(window_s)
            now, times = time.monotonic(), _cpu_times() or times
        wall = now - self._last[0]
        if wall <= 0:
            return self.busy_elsewhere
        machine = (times[0] - self._last[1]) / wall
        own = (times[1] - self._last[2]) / wall
        self._last = (now, *times)
        # os.times counts this process's CPU time; all machine cores' busy time minus it is the others'
        return float(min(max(machine - own, 0.0), os.cpu_count() or self.cores))

    def choose(self) -> int:
        if self.fixed:
            return self.fixed
        if self.passive:  # one per core whatever the load: nothing to measure
            n = threads_for(self.cores, 0.0, True)
        else:
            with self._lock:
                self.busy_elsewhere = self.measure()
                self._primed = True
                n = threads_for(self.cores, self.busy_elsewhere, self.passive)
        self.threads = min(n, self.limit or self.cores)
        return self.threads

    def apply(self, limit: int | None = None) -> int:
        """Measure, choose and set the thread count on the calling thread; returns it. ``limit`` caps
        it for this job (work too small to split, :func:`core.singan.config.training_threads`);
        ``GANVAS_THREADS`` still wins."""
        self.limit = limit
        n = self.choose()
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
        self._applied_at = time.monotonic()
        return n

    def maybe_update(self) -> int:
        """Re-measure (at most every ``interval_s``) and set the count on the calling thread."""
        if self.fixed or self.passive or time.monotonic() - self._applied_at < self.interval_s:
            return self.threads
        return self.apply(self.limit)

    def wrap_progress(self, progress):
        """A progress callback that also keeps the thread count in step with the machine's load
        (the engine calls progress on the training thread, so the setting lands on that thread)."""

        def wrapped(p):
            self.maybe_update()
            if progress is not None:
                progress(p)

        return wrapped

    def explain(self) -> str:
        """Why this count, for the CLI's first line and the status bar's tooltip."""
        if self.fixed:
            return f"GANVAS_THREADS={self.fixed}"
        if self.limit and self.threads == self.limit < self.cores:
            return (f"{self.cores} cores, but this job's convolutions are too small to split: "
                    f"{self.limit} thread{'s' if self.limit != 1 else ''} ran faster (docs/singan.md ▸ CPU threads)")
        if self.passive:
            return f"{self.cores} cores; OpenMP threads wait passively, so one per core even on a busy machine"
        return (f"{self.cores} cores, {self.busy_elsewhere:.1f} busy with other work; OpenMP threads spin "
                "(torch was loaded before core), so one per free core, re-checked while training")

    def describe(self) -> str:
        return f"CPU · {self.threads} thread{'s' if self.threads != 1 else ''}"


#: The process's policy (the CLI and the studio share it).
thread_policy = ThreadPolicy()


def use_thread_policy(device: str | torch.device, progress=None, limit: int | None = None):
    """For a long job about to run on this thread: on the CPU, set the thread count by the policy
    (``limit`` as in :meth:`ThreadPolicy.apply`) and return a progress callback that keeps it in step
    with the machine's load; on another device, ``progress`` unchanged."""
    if pick_device(device).type != "cpu":
        return progress
    thread_policy.apply(limit)
    return thread_policy.wrap_progress(progress)
