"""The Tasks panel: SinGAN's applications on the central canvas.

One page per task of :data:`core.singan.requests.REQUESTS` (its controls live in
:mod:`app.panels.task_pages`); this part is what they share: the task chooser, the injection scale
and seed, Apply/Cancel with progress (a :class:`~app.panels.base.JobBar`), and the results. A page builds a request; the panel runs it
through ``JobRunner`` — never on the GUI thread — and an applied result replaces the canvas image
through one undo step on the canvas's own undo stack, is added to the gallery with its parameters,
and can be compared with the image it came from (Before/After).

The scale follows the main window's Scale slider once it moves; until then each task uses its own
default (1 for paint, the middle scale for editing and harmonization, 0 — the coarsest, new
layouts — for animation and retargeting).
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtGui import QCloseEvent, QUndoCommand
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.panels.base import JobBar, Panel
from app.panels.task_outputs import AnimatePage, RetargetPage, SuperResolutionPage
from app.panels.task_pages import EditPage, HarmonizePage, PaintPage, TaskPage
from app.workers import JobRunner
from core.jobs import GanvasError
from core.singan.model import SinGANModel
from core.singan.requests import REQUESTS, TaskRequest
from widgets.canvas import ImageCanvas

TASK_TITLES = {name: cls.title for name, cls in REQUESTS.items()}

#: The page of each task in :data:`core.singan.requests.REQUESTS`.
PAGES: dict[str, type[TaskPage]] = {
    page.request_type.name: page
    for page in (PaintPage, EditPage, HarmonizePage, SuperResolutionPage, AnimatePage, RetargetPage)
}


class SwapImageCommand(QUndoCommand):
    """One undo step: the canvas goes from ``before`` to ``after`` (sizes may differ)."""

    def __init__(self, text: str, show, before: np.ndarray, after: np.ndarray,
                 params_before: dict, params_after: dict) -> None:
        super().__init__(text)
        self._show = show
        self.before, self.after = before, after
        self._pb, self._pa = params_before, params_after

    def redo(self) -> None:
        self._show(self.after, self._pa)

    def undo(self) -> None:
        self._show(self.before, self._pb)


class TasksPanel(Panel):
    def __init__(self, jobs: JobRunner, canvas: ImageCanvas, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs, self.canvas = jobs, canvas
        self.model: SinGANModel | None = None
        self.scale: int | None = None  # None: each task's default, until the Scale slider moves
        self.last_request: TaskRequest | None = None
        self.last_result: np.ndarray | None = None
        self.last_params: dict = {}
        self.last_latency_s: float | None = None
        self._before: np.ndarray | None = None
        self._shown_params: dict = {}
        self._build()
        self.set_model(None)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        root = QVBoxLayout(self)
        top = QFormLayout()
        self.task = QComboBox()
        self.task.currentIndexChanged.connect(self._task_changed)
        top.addRow("Task", self.task)
        row = QHBoxLayout()
        self.scale_spin = QSpinBox()
        self.scale_spin.setToolTip("Injection scale (follows the Scale slider): 0 is the coarsest; "
                                   "lower changes more, higher keeps more of the input")
        self.scale_spin.valueChanged.connect(self._scale_edited)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        row.addWidget(self.scale_spin)
        row.addWidget(QLabel("Seed"))
        row.addWidget(self.seed)
        top.addRow("Scale", row)
        root.addLayout(top)

        self.pages = QStackedWidget()
        self.pages_by_name: dict[str, TaskPage] = {}
        for name, cls in REQUESTS.items():  # the registry decides which pages exist, and their order
            page = PAGES[name](self)
            self.pages_by_name[name] = page
            self.pages.addWidget(page)
            self.task.addItem(cls.title, name)
        root.addWidget(self.pages)

        self.bar = JobBar(self.jobs, "Apply", start_tip="Run the task on the canvas (never on the GUI thread)",
                          cancel_tip="Stop the task; the canvas keeps its image")
        self.bar.start_button.setDefault(True)
        self.bar.startRequested.connect(self.apply)
        self.bar.said.connect(self.status)
        self.before_after = QPushButton("Before/After")
        self.before_after.setCheckable(True)
        self.before_after.setToolTip("Show the image the last result was made from")
        self.before_after.setEnabled(False)
        self.before_after.toggled.connect(self._toggle_before)
        self.bar.add_button(self.before_after, before_cancel=False)
        self.apply_button, self.cancel_button, self.message = (self.bar.start_button, self.bar.cancel_button,
                                                               self.bar.message)
        root.addWidget(self.bar)
        root.addStretch(1)

    # ------------------------------------------------------------------ pages, model and scale
    def page(self, name: str) -> TaskPage:
        return self.pages_by_name[name]

    def current_page(self) -> TaskPage:
        return self.pages.currentWidget()

    def current_task(self) -> str:
        return self.task.currentData()

    def set_task(self, key: str) -> None:
        i = list(REQUESTS).index(key)
        if i == self.task.currentIndex():
            self._task_changed(i)
        else:
            self.task.setCurrentIndex(i)

    def _task_changed(self, i: int) -> None:
        old = self.current_page()
        if old is not None and self.pages.indexOf(old) != i:
            old.deactivated()
        self.pages.setCurrentIndex(i)
        self.current_page().activated()
        self._show_scale()

    def set_model(self, model: SinGANModel | None) -> None:
        self.model = model
        self.scale = None
        for page in self.pages_by_name.values():
            page.stop()
            page.set_model(model)
        self.bar.set_ready(model is not None)
        self._show_scale()
        self.message.setText("" if model is not None else "Open or train a SinGAN model to use these tasks.")

    def set_scale(self, n: int) -> None:
        """The main window's Scale slider moved: every task now starts from scale ``n``."""
        self.scale = int(n)
        self._show_scale()

    def _scale_edited(self, v: int) -> None:
        self.scale = int(v)

    def effective_scale(self) -> int | None:
        """The scale the current task will use (None: the task has none)."""
        cls = REQUESTS[self.current_task()]
        if cls.min_scale is None:
            return None
        if self.scale is not None:
            return self.scale
        return cls.default_scale(self.model) if self.model is not None else 0

    def _show_scale(self) -> None:
        last = max(self.model.num_trained - 1, 0) if self.model is not None else 0
        value = self.effective_scale()
        blocked = self.scale_spin.blockSignals(True)
        self.scale_spin.setRange(0, last)
        self.scale_spin.setEnabled(value is not None and self.model is not None)
        self.scale_spin.setValue(value or 0)
        self.scale_spin.blockSignals(blocked)

    # ------------------------------------------------------------------ apply
    @property
    def job(self):
        """The running task's Job, or None."""
        return self.bar.job

    def apply(self) -> None:
        if self.model is None or self.job is not None:
            return
        page, model = self.current_page(), self.model
        page.stop()
        try:
            request = page.build_request(seed=self.seed.value(), scale=self.effective_scale())
        except GanvasError as exc:
            self.say(str(exc))
            return
        before = page.before_image()
        params = {"task": request.name, **request.resolved(model).params(), "model_id": model.model_id}
        started = time.perf_counter()
        self.status.emit(f"{request.title}…")

        def done(result: np.ndarray) -> None:
            self.last_latency_s = time.perf_counter() - started
            params["seconds"] = round(self.last_latency_s, 2)
            self._finished(page, request, result, params, before)

        # errors and Cancel: the bar's one wording (describe_error), on its line and the status bar
        self.bar.run(request.run, model, name=request.title, on_result=done)

    def cancel(self) -> None:
        self.bar.cancel()

    def _finished(self, page: TaskPage, request: TaskRequest, result: np.ndarray, params: dict,
                  before: np.ndarray | None) -> None:
        self.last_request, self.last_params = request, params
        self.last_result = result[0] if result.ndim == 4 else result
        self.addToGallery.emit(self.last_result, dict(params))
        if page.take_result(result, params):
            return
        self._before = before
        self.push_swap(request.title, result, params, before=before)
        self.before_after.setEnabled(before is not None)
        page.after_result(request)
        self.say(f"{request.title} done in {params['seconds']:.1f} s ({result.shape[1]}×{result.shape[0]}).")

    def push_swap(self, text: str, after: np.ndarray, params: dict, before: np.ndarray | None = None) -> None:
        """Put ``after`` on the canvas as one undo step (with the painting overlay, if any)."""
        before = self.canvas.image() if before is None else before
        if before is None:
            self._show(after, params)
            return
        stack = self.canvas.undo_stack
        stack.beginMacro(text)
        if self.canvas.paint.rgba()[..., 3].any():
            self.canvas.paint.clear()  # the painting went into the result; undo brings it back
        stack.push(SwapImageCommand(text, self._show, before, after, dict(self._shown_params), dict(params)))
        stack.endMacro()

    def _show(self, image: np.ndarray, params: dict) -> None:
        """Put an image on the canvas without touching the undo history, and tell the main window."""
        for page in self.pages_by_name.values():
            page.stop()
        if self.before_after.isChecked():
            self.before_after.setChecked(False)
        same = self.canvas.image() is not None and self.canvas.image().shape == image.shape
        self.canvas.set_image(image, keep_view=same, keep_history=True)
        self._shown_params = dict(params)
        self.showImage.emit(image, dict(params))

    def _toggle_before(self, on: bool) -> None:
        if on and self._before is not None:
            self.canvas.compare.set_image(self._before)
        self.canvas.compare.set_shown(on)

    def say(self, text: str) -> None:
        """A message on the panel's line and in the status bar."""
        self.bar.say(text)

    def closeEvent(self, event: QCloseEvent) -> None:
        for page in self.pages_by_name.values():
            page.stop()
        super().closeEvent(event)


__all__ = ["TasksPanel", "SwapImageCommand", "TASK_TITLES"]
