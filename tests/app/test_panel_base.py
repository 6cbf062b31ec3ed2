"""The panel contract and the job bar (app/panels/base.py), and the Train dock's presets and expected time."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QSpinBox

import app.panels.train as train_module
from app.documents import Document
from app.panels.base import JobBar, Panel
from app.panels.train import TrainPanel, estimate_text
from app.settings import Settings
from app.workers import JobRunner, describe_error
from core.images import image_hash
from core.jobs import ProgressReporter, check_cancel
from core.singan.config import DEFAULT_PRESET, PRESET_DESCRIPTIONS, PRESETS


@pytest.fixture
def jobs(qtbot):
    runner = JobRunner(max_threads=2)
    yield runner
    runner.cancel_all()
    runner.wait(10000)


def until_cancelled(*, progress=None, cancel=None) -> None:
    """A long job: reports progress every few ms until it is cancelled."""
    reporter = ProgressReporter(progress, interval_s=0.01)
    for step in range(1, 100_000):
        check_cancel(cancel)
        reporter.report(step, 100_000, stage="counting")
        time.sleep(0.005)


def test_job_bar_enables_controls_by_job_state_and_cancels(qtbot, jobs):
    bar = JobBar(jobs, "Start")
    qtbot.addWidget(bar)
    setting = QSpinBox()
    bar.lock(setting)
    bar.set_ready(False)
    assert not bar.start_button.isEnabled() and not bar.cancel_button.isEnabled()
    bar.set_ready(True)
    assert bar.start_button.isEnabled() and setting.isEnabled()

    said: list[str] = []
    bar.said.connect(said.append)
    with qtbot.waitSignal(bar.runningChanged):
        bar.run(until_cancelled, name="Counting")
    assert bar.running and not bar.start_button.isEnabled() and bar.cancel_button.isEnabled()
    assert not setting.isEnabled()
    assert bar.run(until_cancelled, name="Again") is None  # one job at a time
    qtbot.waitUntil(lambda: bar.progress_bar.value() > 0, timeout=10000)
    assert "ETA" in bar.message.text() and "Counting" in bar.message.text()

    with qtbot.waitSignal(bar.runningChanged, timeout=10000) as ended:
        bar.cancel_button.click()
    assert ended.args == [False]
    assert bar.message.text() == "Cancelled." and said == ["Cancelled."]
    assert bar.start_button.isEnabled() and setting.isEnabled() and not bar.cancel_button.isEnabled()


def test_job_bar_words_errors_through_describe_error(qtbot, jobs):
    bar = JobBar(jobs, "Start")
    qtbot.addWidget(bar)

    def out_of_memory():
        raise MemoryError()

    with qtbot.waitSignal(bar.runningChanged, timeout=10000, check_params_cb=lambda running: not running):
        bar.run(out_of_memory, name="Big")
    assert bar.message.text() == describe_error(MemoryError()) and "memory" in bar.message.text()


def test_every_panel_speaks_the_contract(window):
    panels = [window.train_panel, window.generate_panel, window.spectrum_panel, window.tasks_panel,
              window.primitives_panel]
    assert all(isinstance(p, Panel) for p in panels)
    window.primitives_panel.status.emit("hello from a panel")
    assert window.statusBar().currentMessage() == "hello from a panel"


def test_train_dock_offers_every_preset_with_its_description(qtbot, jobs):
    panel = TrainPanel(jobs, Document())
    qtbot.addWidget(panel)
    combo = panel.preset
    assert [combo.itemData(i) for i in range(combo.count())] == list(PRESETS)
    for i, name in enumerate(PRESETS):
        assert combo.itemData(i, Qt.ItemDataRole.ToolTipRole) == PRESET_DESCRIPTIONS[name]
    assert panel.preset_name() == DEFAULT_PRESET
    combo.setCurrentIndex(combo.findData("paper"))
    assert panel.config().preset == "paper" and panel.max_size.value() == PRESETS["paper"].max_size
    assert panel.preset_info.text() == PRESET_DESCRIPTIONS["paper"]


def test_train_dock_shows_the_measured_training_time_and_recomputes_coalesced(qtbot, jobs, photo, tiny_singan,
                                                                              monkeypatch):
    calls = []
    real = train_module.estimate_seconds_by_size

    def counted(config, height, width, sizes=(), device="cpu"):
        calls.append(config.max_size)
        return real(config, height, width, sizes, device)

    monkeypatch.setattr(train_module, "estimate_seconds_by_size", counted)
    monkeypatch.setattr(train_module, "train_config", lambda name, **kw: tiny_singan.with_(**kw))
    doc = Document()
    panel = TrainPanel(jobs, doc)
    qtbot.addWidget(panel)
    assert "Open a photo" in panel.estimate.text()
    panel.max_size.setValue(32)
    panel.min_size.setValue(tiny_singan.min_size)  # the dock passes its coarsest side to the preset
    doc.set_photo(photo, None)
    qtbot.waitUntil(lambda: not panel.estimating and "estimated on this machine" in panel.estimate.text(),
                    timeout=30000)
    assert panel.estimate.text().startswith("≈ ") and calls == [32]

    for size in (48, 64, 48):  # a burst of changes: one measurement, of the last value
        panel.max_size.setValue(size)
    qtbot.waitUntil(lambda: not panel.estimating, timeout=30000)
    assert calls == [32, 48] and "estimated on this machine" in panel.estimate.text()
    panel.max_size.setValue(32)  # measured before: shown from the cache at once
    qtbot.waitUntil(lambda: not panel.estimating, timeout=30000)
    assert calls == [32, 48]


def test_train_dock_coarsest_side_trains_that_layout_scale_in_its_own_autosave(qtbot, jobs, photo, tiny_singan,
                                                                                monkeypatch, tmp_path):
    monkeypatch.setattr(train_module, "train_config", lambda name, **kw: tiny_singan.with_(**kw))
    doc = Document()
    panel = TrainPanel(jobs, doc)
    qtbot.addWidget(panel)
    assert panel.min_size.value() == PRESETS[DEFAULT_PRESET].min_size  # the preset's, until the user changes it
    panel.max_size.setValue(32)
    assert panel.min_size.maximum() == 32  # never larger than the finest side
    doc.set_photo(photo, None)
    preset_place = panel.out_dir()
    # the preset's own coarsest side keeps the autosave key runs had before the dock offered it
    assert preset_place == train_module.autosave_dir(image_hash(photo), DEFAULT_PRESET, 32)
    panel.min_size.setValue(16)
    assert panel.config().min_size == 16 and panel.out_dir() != preset_place  # never resumes the 25-px run
    monkeypatch.setattr(panel, "out_dir", lambda: tmp_path / "coarse16.ganvas")
    with qtbot.waitSignal(panel.modelTrained, timeout=120_000) as trained:
        panel.start()
        assert not panel.min_size.isEnabled()  # locked while it trains
    model = trained.args[0]
    assert model.complete and min(model.shapes[0]) == 16
    assert panel.monitor.title_label.text().endswith("coarsest 16 px")
    qtbot.waitUntil(panel.min_size.isEnabled)


def test_train_dock_remembers_its_choices_so_resume_finds_a_run_after_a_restart(qtbot, jobs, photo, tmp_path):
    def settings() -> Settings:  # a new session reads the same file
        return Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))

    doc = Document()
    doc.set_photo(photo, None)
    first = TrainPanel(jobs, doc, settings())
    qtbot.addWidget(first)
    assert first.min_size.value() == PRESETS[DEFAULT_PRESET].min_size  # a first start: the preset's own
    first.max_size.setValue(96)
    first.min_size.setValue(14)
    first.seed.setValue(7)
    place = first.out_dir()

    again = TrainPanel(jobs, doc, settings())
    qtbot.addWidget(again)
    assert (again.preset_name(), again.max_size.value(), again.min_size.value(), again.seed.value()) == \
        (DEFAULT_PRESET, 96, 14, 7)
    assert again.out_dir() == place  # the interrupted run's autosave, not the preset's

    other = next(name for name in PRESETS if name != DEFAULT_PRESET)
    again.preset.setCurrentIndex(again.preset.findData(other))  # its own sizes; they are not stored
    assert {k: str(v) for k, v in settings().train_choices().items()} == {"preset": other, "seed": "7"}
    garbled = settings()
    garbled.set_train_choices({"preset": "no such preset", "max_size": "ninety", "seed": "3"})
    third = TrainPanel(jobs, doc, garbled)
    qtbot.addWidget(third)
    assert (third.preset_name(), third.max_size.value(), third.seed.value()) == \
        (DEFAULT_PRESET, PRESETS[DEFAULT_PRESET].max_size, 3)
    # the photo set each dock measuring its training time: let that end before the docks are deleted
    qtbot.waitUntil(lambda: not any(panel.estimating for panel in (first, again, third)), timeout=60_000)


@pytest.mark.parametrize(("seconds", "text"), [(12.4, "≈ 12 s"), (250, "≈ 4 min"), (7800, "≈ 2 h 10 min")])
def test_estimate_text(seconds, text):
    assert estimate_text(seconds) == f"{text} (estimated on this machine)"
