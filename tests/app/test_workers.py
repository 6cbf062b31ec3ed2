"""LatestOnly: the newest interactive request wins, and a release on the value being generated waits for it."""

from __future__ import annotations

import threading
import time

import pytest

from app.workers import JobRunner, LatestOnly
from core.jobs import check_cancel


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
