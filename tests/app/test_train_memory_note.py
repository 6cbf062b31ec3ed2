"""The Train dock warns before training when the chosen preset and size may not fit in memory."""

from __future__ import annotations

import core.singan.memory
from app.documents import Document
from app.panels.train import TrainPanel
from app.workers import JobRunner


def test_train_dock_shows_the_memory_warning(qtbot, monkeypatch, photo):
    doc = Document()
    panel = TrainPanel(JobRunner(), doc)
    qtbot.addWidget(panel)
    panel.show()
    doc.set_photo(photo, None)
    assert not panel.memory_note.isVisible()  # plenty of memory for a 48×32 photo
    monkeypatch.setattr(core.singan.memory, "available_bytes", lambda: 64 * 2**20)  # 64 MB left
    panel.max_size.setValue(panel.max_size.value() + 16)  # any change of the settings re-checks
    assert panel.memory_note.isVisible()
    text = panel.memory_note.text()
    assert "memory" in text and "0.1 GB" in text
    panel.grab().save("/tmp/train_memory_note.png")
    qtbot.waitUntil(lambda: not panel.estimating, timeout=60_000)  # its time estimate ends before the dock goes
