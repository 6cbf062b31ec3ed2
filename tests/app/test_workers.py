"""Workers: JobRunner passes arguments through and routes errors one way; LatestOnly: the newest request wins."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QCoreApplication, QEvent

from app.workers import JobRunner, LatestOnly, describe_error
from core.jobs import Cancelled, GanvasError, check_cancel


@pytest.fixture
def live(qtbot):
    jobs = JobRunner(max_threads=2)
    latest = LatestOnly(jobs)
    yield latest
    qtbot.waitUntil(lambda: not latest.busy, timeout=10000)
    jobs.wait(10000)


class SlowCalls:
    """A job that takes ``seconds`` (checking cancel) and counts how often it really ran."""

    def __init__(self, seconds: float = 0.3) -> None:
        self.seconds, self.started, self.lock = seconds, [], threading.Lock()

    def __call__(self, value, *, progress=None, cancel=None):
        with self.lock:
            self.started.append(value)
        end = time.monotonic() + self.seconds
        while time.monotonic() < end:
            check_cancel(cancel)
            time.sleep(0.01)
        return value


def test_same_key_while_running_adopts_the_running_job(live, qtbot):
    fn, got = SlowCalls(), []
    live.request(fn, "A", on_result=lambda v: got.append(("drag", v)), key="A")  # the drag's last value
    qtbot.waitUntil(lambda: fn.started == ["A"], timeout=5000)
    live.request(fn, "A", on_result=lambda v: got.append(("release", v)), key="A")  # released on it
    qtbot.waitUntil(lambda: not live.busy, timeout=5000)
    assert fn.started == ["A"]  # not cancelled and started again: the release waited for the running image
    assert got == [("release", "A")] and live.adopted == 1


def test_a_different_key_cancels_the_running_job_and_only_the_newest_result_arrives(live, qtbot):
    fn, got = SlowCalls(), []
    live.request(fn, "A", on_result=got.append, key="A")
    qtbot.waitUntil(lambda: fn.started == ["A"], timeout=5000)
    live.request(fn, "B", on_result=got.append, key="B")
    live.request(fn, "C", on_result=got.append, key="C")  # replaces B before it starts
    qtbot.waitUntil(lambda: not live.busy, timeout=5000)
    assert fn.started == ["A", "C"] and got == ["C"] and live.dropped >= 1



def test_a_result_finishing_after_its_panel_closed_reaches_nobody(qtbot):
    """A panel owns its LatestOnly; closed while a sample grid is drawn, it must not be handed the grid
    (its widgets are gone: Qt would raise 'Internal C++ object already deleted')."""
    from PySide6.QtWidgets import QLabel

    jobs = JobRunner(max_threads=1)
    panel = QLabel()
    latest = LatestOnly(jobs, panel)
    fn, shown = SlowCalls(0.3), []
    latest.request(fn, "grid", on_result=lambda v: shown.append(panel.text() + v))
    qtbot.waitUntil(lambda: fn.started == ["grid"], timeout=5000)
    panel.deleteLater()
    qtbot.waitUntil(lambda: not jobs.jobs, timeout=5000)
    jobs.wait(5000)
    assert shown == []
    # Delete the finished job while this test still holds its runner: the runner has no parent, and when
    # the job's connections were its last reference, deleting the job freed the runner, which deleted the
    # job a second time (a crash in ~QObject, 1 run in 3). The studio's runner has the window as parent.
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)

# -- JobRunner: arguments pass through, the contract only for functions that declare it, one error route


@pytest.fixture
def runner(qtbot):
    jobs = JobRunner(max_threads=2)
    yield jobs
    jobs.wait(10000)


def _run(qtbot, runner, fn, *args, **kwargs):
    """Submit and wait until the job finished; return (results, errors, job)."""
    got, errors = [], []
    job = runner.submit(fn, *args, on_result=got.append, **kwargs)
    job.failed.connect(errors.append)
    with qtbot.waitSignal(job.finished, timeout=10000):
        pass
    return got, errors, job


def test_a_quick_function_gets_exactly_its_arguments(runner, qtbot):
    got, errors, _ = _run(qtbot, runner, lambda a, b=0, **rest: (a, b, rest), 1, b=2)
    assert got == [(1, 2, {})] and errors == []  # no progress= / cancel= pushed into **rest


def test_a_long_job_gets_progress_and_cancel(runner, qtbot):
    from core.jobs import CancelToken, Progress

    seen = []

    def long_job(n, *, progress=None, cancel=None):
        assert isinstance(cancel, CancelToken)
        for i in range(n):
            progress(Progress("work", i + 1, n))
        return n

    got, errors, _ = _run(qtbot, runner, long_job, 3, on_progress=lambda p: seen.append(p.step))
    assert got == [3] and errors == [] and seen == [1, 2, 3]


def test_cancel_reaches_the_job_and_is_not_reported_as_an_error(runner, qtbot):
    reported, started = [], threading.Event()
    runner.errorOccurred.connect(lambda *a: reported.append(a))

    def wait_for_cancel(*, cancel):
        started.set()
        while True:
            check_cancel(cancel)
            time.sleep(0.005)

    got, errors = [], []
    job = runner.submit(wait_for_cancel, on_result=got.append)
    job.failed.connect(errors.append)
    assert started.wait(5)
    with qtbot.waitSignal(job.finished, timeout=10000):
        job.cancel()
    assert got == [] and [type(e).__name__ for e in errors] == ["Cancelled"] and reported == []
    qtbot.waitUntil(lambda: runner.jobs == [], timeout=5000)


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (GanvasError("photo.png is not an image."), "photo.png is not an image."),
        (MemoryError(), "Ran out of memory."),
        (RuntimeError("CUDA out of memory. Tried to allocate 2 GiB"), "Ran out of memory."),
        (RuntimeError("boom"), "Unexpected error (RuntimeError): boom"),
    ],
)
def test_errors_reach_the_user_through_describe_error(runner, qtbot, exc, message):
    reported = []
    runner.errorOccurred.connect(lambda title, text: reported.append((title, text)))

    def fail():
        raise exc

    got, errors, job = _run(qtbot, runner, fail, name="Load photo")
    assert got == [] and errors == [exc]
    assert len(reported) == 1 and reported[0][0] == "Load photo" and reported[0][1].startswith(message)
    assert describe_error(exc) == reported[0][1]
    # the developer's traceback is kept on the job, only for errors the user cannot fix
    assert (job.traceback is None) == isinstance(exc, GanvasError)
    assert job.traceback is None or "in fail" in job.traceback


def test_an_on_error_handler_replaces_the_dialog(runner, qtbot):
    reported, handled = [], []
    runner.errorOccurred.connect(lambda *a: reported.append(a))

    def fail():
        raise MemoryError

    runner.submit(fail, on_error=handled.append)
    qtbot.waitUntil(lambda: handled != [] and runner.jobs == [], timeout=10000)
    assert reported == [] and isinstance(handled[0], MemoryError)


def test_cancelled_carries_what_it_kept_as_a_field():
    exc = Cancelled(kept="partial model")
    assert exc.kept == "partial model" and exc.model == "partial model" and str(exc) == "Cancelled."
    old_style = Cancelled()
    old_style.model = "set the old way"  # core/singan/train.py until it raises Cancelled(kept=...)
    assert old_style.kept == "set the old way" and Cancelled().kept is None


def test_freed_memory_goes_back_to_the_os_after_jobs_end(qtbot, monkeypatch):
    """A job's end arms one release (malloc_trim) a little later, on a thread of its own."""
    import app.workers as workers

    # An earlier test's job end may have left a timer pending; its callback looks release_free_memory up
    # when it fires, so it would land in `calls` too (CI failed twice on that extra entry).
    leftover = workers._release_pending
    if leftover is not None:
        leftover.cancel()
        leftover.join()
    calls = []
    monkeypatch.setattr(workers, "release_free_memory", lambda: calls.append(threading.current_thread().name))
    # Long enough that the three ends fall inside one wait even on a loaded CI machine.
    monkeypatch.setattr(workers, "RELEASE_AFTER_S", 2.0)
    monkeypatch.setattr(workers, "_release_pending", None)
    jobs = JobRunner()
    for value in range(3):
        jobs.submit(lambda v: v, value)
    qtbot.waitUntil(lambda: not jobs.jobs, timeout=5000)
    qtbot.waitUntil(lambda: bool(calls), timeout=10000)
    qtbot.wait(400)
    assert calls == ["Release free memory"]  # three job ends, one release, not on the GUI thread
