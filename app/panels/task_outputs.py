"""The Tasks panel's pages for tasks that make new images rather than change the canvas's:
super-resolution (with a split view against bicubic), animation (playback, GIF/MP4 export) and
retargeting. See :mod:`app.panels.task_pages` for the shared :class:`TaskPage`."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
)

from app.panels.task_pages import TaskPage
from core.jobs import GanvasError
from core.singan import animate as AN
from core.singan import requests as R

if TYPE_CHECKING:
    from app.panels.tasks import TasksPanel


class SuperResolutionPage(TaskPage):
    request_type = R.SuperResolutionRequest

    def __init__(self, panel: TasksPanel) -> None:
        super().__init__(panel)
        form = QFormLayout()
        self.factor = QComboBox()
        self.factor.addItem("×2", 2.0)
        self.factor.addItem("×4", 4.0)
        form.addRow("Factor", self.factor)
        self.split_view = QCheckBox("Split view: bicubic | SinGAN")
        self.split_view.toggled.connect(self.show_split)
        form.addRow(self.split_view)
        self.note = QLabel()
        self.note.setWordWrap(True)
        form.addRow(self.note)
        self.layout_.addLayout(form)
        self._last: R.SuperResolutionRequest | None = None

    def set_model(self, model) -> None:
        self._last = None
        self.note.setText("" if model is None else " ".join(R.SuperResolutionRequest().notes(model)))

    def deactivated(self) -> None:
        self.split_view.setChecked(False)

    def show_split(self, on: bool) -> None:
        if on and self._last is not None and self.model is not None:
            self.canvas.compare.set_image(self._last.companion("bicubic", self.model))
            self.canvas.compare.set_split(0.5)
        else:
            self.canvas.compare.set_split(None)

    def build_request(self, *, seed, scale):
        return R.SuperResolutionRequest(image=self.canvas.image(), seed=seed, factor=self.factor.currentData())

    def after_result(self, request) -> None:
        self._last = request
        if self.split_view.isChecked():
            self.show_split(True)


class AnimatePage(TaskPage):
    request_type = R.AnimateRequest

    def __init__(self, panel: TasksPanel) -> None:
        super().__init__(panel)
        self.frames: np.ndarray | None = None
        self._request: R.AnimateRequest | None = None
        self._frame = 0
        self._play_base: np.ndarray | None = None
        self.play_timer = QTimer(self)
        self.play_timer.timeout.connect(self._next_frame)
        form = QFormLayout()
        self.frames_spin = QSpinBox()
        self.frames_spin.setRange(2, 2000)
        self.frames_spin.setValue(AN.ANIM_FRAMES)
        form.addRow("Frames", self.frames_spin)
        self.fps = QSpinBox()
        self.fps.setRange(1, 60)
        self.fps.setValue(AN.ANIM_FPS)
        form.addRow("Frames per second", self.fps)
        self.beta = QDoubleSpinBox()
        self.beta.setRange(0.0, 0.99)
        self.beta.setSingleStep(0.05)
        self.beta.setValue(AN.ANIM_BETA)
        self.beta.setToolTip("Momentum of the noise walk: higher = smoother, slower motion (paper: 0.8–0.95)")
        form.addRow("β (momentum)", self.beta)
        self.loop = QCheckBox("Seamless loop (forward, then back)")
        form.addRow(self.loop)
        self.layout_.addLayout(form)
        row = QHBoxLayout()
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self.set_playing)
        self.gif_button, self.mp4_button = QPushButton("Export GIF…"), QPushButton("Export MP4…")
        self.gif_button.clicked.connect(lambda: self.export(None, ".gif"))
        self.mp4_button.clicked.connect(lambda: self.export(None, ".mp4"))
        for b in (self.play_button, self.gif_button, self.mp4_button):
            b.setEnabled(False)
            row.addWidget(b)
        self.layout_.addLayout(row)

    def set_model(self, model) -> None:
        self.set_playing(False)
        self.frames = None
        for b in (self.play_button, self.gif_button, self.mp4_button):
            b.setEnabled(False)

    def stop(self) -> None:
        self.set_playing(False)

    def build_request(self, *, seed, scale):
        return R.AnimateRequest(seed=seed, scale=scale, frames=self.frames_spin.value(), fps=float(self.fps.value()),
                                beta=self.beta.value(), loop=self.loop.isChecked())

    def take_result(self, result, params) -> bool:
        self.frames, self._request = result, self.panel.last_request
        for b in (self.play_button, self.gif_button, self.mp4_button):
            b.setEnabled(True)
        self.panel.say(f"Animation: {len(result)} frames in {params['seconds']:.1f} s. Play or export it.")
        self.set_playing(True)
        return True

    def set_playing(self, on: bool) -> None:
        if on and self.frames is not None:
            if not self.play_timer.isActive():
                self._play_base = self.canvas.image()
                self._frame = 0
            self.play_timer.start(max(10, round(1000 / self.fps.value())))
        else:
            was = self.play_timer.isActive()
            self.play_timer.stop()
            if was and self._play_base is not None:
                self.canvas.set_image(self._play_base, keep_view=True, keep_history=True)
        blocked = self.play_button.blockSignals(True)
        self.play_button.setChecked(self.play_timer.isActive())
        self.play_button.setText("Stop" if self.play_timer.isActive() else "Play")
        self.play_button.blockSignals(blocked)

    def _next_frame(self) -> None:
        if self.frames is None:
            return self.set_playing(False)
        self.canvas.set_image(self.frames[self._frame % len(self.frames)], keep_view=True, keep_history=True)
        self._frame += 1

    def export(self, path: str | Path | None, suffix: str = ".gif") -> Path | None:
        """Write the frames with the request's own writer, at the frame rate now set."""
        if self.frames is None or self._request is None:
            self.panel.say("Generate an animation first (Apply).")
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export animation", f"animation{suffix}", f"*{suffix}")
            if not path:
                return None
        try:
            out = dataclasses.replace(self._request, fps=float(self.fps.value())).save(path, self.frames)
        except GanvasError as exc:
            self.panel.say(str(exc))
            return None
        self.panel.say(f"Exported {len(self.frames)} frames to {out.name}")
        return out


class RetargetPage(TaskPage):
    request_type = R.RetargetRequest

    def __init__(self, panel: TasksPanel) -> None:
        super().__init__(panel)
        form = QFormLayout()
        self.out_w, self.out_h = QSpinBox(), QSpinBox()
        for s in (self.out_w, self.out_h):
            s.setRange(11, 4096)
            s.setSuffix(" px")
        form.addRow("Width", self.out_w)
        form.addRow("Height", self.out_h)
        self.layout_.addLayout(form)

    def set_model(self, model) -> None:
        if model is not None and model.num_trained:
            h, w = model.shapes[model.num_trained - 1]
            self.out_w.setValue(w * 2)
            self.out_h.setValue(h)

    def build_request(self, *, seed, scale):
        return R.RetargetRequest(seed=seed, scale=scale, width=self.out_w.value(), height=self.out_h.value())
