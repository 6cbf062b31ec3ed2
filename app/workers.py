"""Running engine jobs off the GUI thread.

``JobRunner.submit(fn, *args, **kwargs)`` runs ``fn(*args, **kwargs)`` on a thread pool and
delivers progress, result and error back on the GUI thread (queued signals of a ``Job`` that
lives there). Arguments pass through unchanged; only a function that declares the job contract
(``progress`` and/or ``cancel`` parameters, core/jobs.py) gets the job's reporter and token, so a
quick function need not accept arguments it never uses. Errors reach the user through one route,
:func:`describe_error` (``JobRunner.errorOccurred``, or a panel's own ``on_error`` using it). ``LatestOnly`` is for live previews: while one request runs, newer ones replace
each other, so only the newest runs next, and a result whose request went stale is dropped
(a generation counter, as in napari's layer slicer).

Jobs allocate and free hundreds of MB, and the engine keeps freed memory in the process for speed
(core/malloc.py); a few seconds after jobs end, ``JobRunner`` hands the free pages back to the OS on
a short-lived thread (at most one pending at a time, :data:`RELEASE_AFTER_S`), so the studio's resident size
follows what it holds instead of creeping up over a long session.
"""

from __future__ import annotations

import inspect
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal, Slot

from core.jobs import Cancelled, CancelToken, GanvasError, Progress
from core.malloc import release_free_memory

Callback = Callable[[Any], None] | None

#: Freed memory goes back to the OS this long after a job ends (and at most this often).
RELEASE_AFTER_S = 5.0
_release_lock = threading.Lock()
_release_pending: threading.Timer | None = None


def schedule_memory_release() -> None:
    """Arm one ``malloc_trim`` on a plain Python timer thread unless one is pending.

    Not a QTimer owned by the runner: a runner deleted before it fired (every test makes its own)
    had Qt call into a dead object, which crashed the process.
    """
    global _release_pending
    with _release_lock:
        if _release_pending is not None and _release_pending.is_alive():
            return
        _release_pending = threading.Timer(RELEASE_AFTER_S, lambda: release_free_memory())
        _release_pending.name = "Release free memory"
        _release_pending.daemon = True
        _release_pending.start()


class Job(QObject):
    """One submitted job; its signals fire on the GUI thread."""

    progressed = Signal(object)  # core.jobs.Progress
    succeeded = Signal(object)  # the function's return value
    failed = Signal(object)  # the exception
    finished = Signal()  # always, after succeeded / failed

    _progress_from_worker = Signal(object)
    _result_from_worker = Signal(object)
    _error_from_worker = Signal(object)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.token = CancelToken()
        self.done = False
        self.started_at = time.perf_counter()
        self.traceback: str | None = None  # of an unexpected (non-GanvasError) failure, for the log
        self._progress_from_worker.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        self._result_from_worker.connect(self._on_result, Qt.ConnectionType.QueuedConnection)
        self._error_from_worker.connect(self._on_error, Qt.ConnectionType.QueuedConnection)

    def cancel(self) -> None:
        self.token.set()

    @property
    def cancelled(self) -> bool:
        return self.token.is_set

    @Slot(object)
    def _on_progress(self, p: Progress) -> None:
        if not self.done:
            self.progressed.emit(p)

    @Slot(object)
    def _on_result(self, value: object) -> None:
        self.done = True
        self.succeeded.emit(value)
        self.finished.emit()

    @Slot(object)
    def _on_error(self, exc: object) -> None:
        self.done = True
        self.failed.emit(exc)
        self.finished.emit()


def declares_contract(fn: Callable[..., Any]) -> set[str]:
    """Which of ``progress`` / ``cancel`` ``fn`` takes by name: the long jobs of the job contract."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # some builtins have no signature: they take neither
        return set()
    return {name for name in ("progress", "cancel") if name in params
            and params[name].kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)}


class _Task(QRunnable):
    def __init__(self, job: Job, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.job, self.fn, self.args = job, fn, args
        contract = {"progress": job._progress_from_worker.emit, "cancel": job.token}
        self.kwargs = {**{k: contract[k] for k in declares_contract(fn)}, **kwargs}

    def run(self) -> None:  # worker thread: touch no widget here
        job = self.job
        try:
            job.token.raise_if_set()
            value = self.fn(*self.args, **self.kwargs)
        except BaseException as exc:  # noqa: BLE001 — every failure must reach the GUI, never kill the app
            if not isinstance(exc, GanvasError):
                job.traceback = traceback.format_exc()
            job._error_from_worker.emit(exc)
        else:
            job._result_from_worker.emit(value)


def describe_error(exc: BaseException) -> str:
    """A readable one-paragraph message for a dialog or a status line: never a traceback.

    The one place that words errors, so every panel says "out of memory" the same helpful way.
    """
    if isinstance(exc, GanvasError):
        return str(exc)
    if isinstance(exc, MemoryError) or "out of memory" in str(exc).lower():
        return "Ran out of memory. Try a smaller maximum size or a smaller output, or close other programs."
    return f"Unexpected error ({type(exc).__name__}): {exc}"


class JobRunner(QObject):
    """Submits engine work to a thread pool; reports errors through ``errorOccurred`` unless handled."""

    errorOccurred = Signal(str, str)  # title, message
    activeChanged = Signal(int)  # number of running jobs

    def __init__(self, parent: QObject | None = None, max_threads: int = 2) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self.jobs: list[Job] = []

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        name: str = "Job",
        on_result: Callback = None,
        on_progress: Callback = None,
        on_error: Callback = None,
        on_finished: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> Job:
        job = Job(name, self)
        if on_progress is not None:
            job.progressed.connect(on_progress)
        if on_result is not None:
            job.succeeded.connect(on_result)
        if on_error is not None:
            job.failed.connect(on_error)
        else:
            job.failed.connect(lambda exc, n=name: self._report(n, exc))
        job.failed.connect(lambda _exc, j=job: self._log(j))
        if on_finished is not None:
            job.finished.connect(on_finished)
        job.finished.connect(lambda j=job: self._forget(j))
        self.jobs.append(job)
        self.activeChanged.emit(len(self.jobs))
        self.pool.start(_Task(job, fn, args, kwargs))
        return job

    def _report(self, name: str, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            return
        self.errorOccurred.emit(name, describe_error(exc))

    @staticmethod
    def _log(job: Job) -> None:
        """An unexpected failure's traceback goes to stderr for the developer; the user sees describe_error."""
        if job.traceback:
            print(f"Ganvas: job {job.name!r} failed\n{job.traceback}", file=sys.stderr, end="")

    def _forget(self, job: Job) -> None:
        if job in self.jobs:
            self.jobs.remove(job)
        job.deleteLater()
        self.activeChanged.emit(len(self.jobs))
        schedule_memory_release()

    def cancel_all(self) -> None:
        for job in list(self.jobs):
            job.cancel()

    def wait(self, timeout_ms: int = 30000) -> bool:
        return self.pool.waitForDone(timeout_ms)


class LatestOnly(QObject):
    """Coalesces interactive requests: at most one running, at most one waiting (the newest).

    A stale running request is asked to cancel, and its result is dropped even if it finishes.
    A request with the same ``key`` as the one running (a slider released on the value its drag is
    already generating) adopts it instead of cancelling and starting the same work again.
    """

    def __init__(self, runner: JobRunner, parent: QObject | None = None) -> None:
        super().__init__(parent or runner)
        self.runner = runner
        self.generation = 0
        self._running: Job | None = None
        self._running_key: object = None
        self._running_gen = 0
        self._callbacks: tuple[Callback, Callback] = (None, None)  # the running request's (on_result, on_error)
        self._pending: tuple | None = None
        self.dropped = 0  # results thrown away because a newer request came in (for tests/metrics)
        self.adopted = 0  # requests served by the identical one already running

    def request(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_result: Callback = None,
        on_error: Callback = None,
        name: str = "Preview",
        key: object = None,
        **kwargs: Any,
    ) -> int:
        self.generation += 1
        if key is not None and self._running is not None and key == self._running_key \
                and not self._running.cancelled:
            self._pending = None
            self._running_gen = self.generation
            self._callbacks = (on_result, on_error)
            self.adopted += 1
            return self.generation
        self._pending = (self.generation, fn, args, kwargs, on_result, on_error, name, key)
        if self._running is None:
            QTimer.singleShot(0, self._start_pending)
        else:
            self._running.cancel()
        return self.generation

    @property
    def busy(self) -> bool:
        return self._running is not None or self._pending is not None

    def _start_pending(self) -> None:
        if self._running is not None or self._pending is None:
            return
        gen, fn, args, kwargs, on_result, on_error, name, key = self._pending
        self._pending = None
        self._running_gen, self._running_key = gen, key
        self._callbacks = (on_result, on_error)

        def deliver(value: object) -> None:  # reads the callbacks now: an adopting request may have replaced them
            if not shiboken6.isValid(self):  # its owner (a closed panel) is gone: nobody to show the result to
                return
            if self._running_gen != self.generation:
                self.dropped += 1
            elif self._callbacks[0] is not None:
                self._callbacks[0](value)

        def fail(exc: BaseException) -> None:
            if not shiboken6.isValid(self) or isinstance(exc, Cancelled) or self._running_gen != self.generation:
                self.dropped += 1
                return
            if self._callbacks[1] is not None:
                self._callbacks[1](exc)
            else:
                self.runner._report(name, exc)

        self._running = self.runner.submit(fn, *args, name=name, on_result=deliver, on_error=fail,
                                           on_finished=self._finished, **kwargs)

    def _finished(self) -> None:
        self._running, self._running_key = None, None
        self._start_pending()
