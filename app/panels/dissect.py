"""The Dissect panel: brush a concept on a sample, find the units of a layer that draw it (GAN
Dissection), and switch the top k off or up — everywhere or inside a brushed area (GANPaint).

The concept is the canvas's paint layer when "Find units" is pressed; the area for "only inside the
brushed area" is the paint layer when that box is ticked (clear the paint and brush the area first).
Every change of layer, k, mode or area is one step on the canvas's undo stack (Ctrl+Z restores the
previous intervention), and the image is redrawn through a latest-only job: dragging the k slider never
queues up renders. The intervention stays on the studio's model, so Generate's samples carry it too,
and the shown image's PNG records it (``dissect_*`` text chunks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from superqt import QLabeledSlider

from app.panels.base import JobBar, Panel
from app.workers import JobRunner, LatestOnly
from core import dissect as D
from core.images import save_image, to_uint8
from core.jobs import GanvasError
from core.singan.model import SinGANModel
from widgets.canvas import ImageCanvas
from widgets.preview_grid import PreviewGrid

#: Unit maps shown in the grid (the best first).
GRID_UNITS = 8
CONCEPT_COLOUR = (255, 140, 0)


@dataclass(frozen=True)
class State:
    """One intervention as the user set it: what undo steps between."""

    layer: str
    k: int
    mode: str = "ablate"
    area: np.ndarray | None = None  # brushed area (float H×W) when "only inside" is ticked

    def same_as(self, other: State) -> bool:
        same_area = (self.area is None) == (other.area is None) and (
            self.area is None or np.array_equal(self.area, other.area))
        return (self.layer, self.k, self.mode) == (other.layer, other.k, other.mode) and same_area


class InterventionCommand(QUndoCommand):
    """Undo step: the panel goes from one :class:`State` to another."""

    def __init__(self, panel: DissectPanel, before: State, after: State) -> None:
        super().__init__(f"Dissect: {after.mode} {after.k} units of {after.layer}")
        self.panel, self.before, self.after = panel, before, after

    def redo(self) -> None:
        self.panel.apply_state(self.after)

    def undo(self) -> None:
        self.panel.apply_state(self.before)


def dissect_and_draw(model: SinGANModel, subject: D.Subject, layer: str, mask: np.ndarray, seed: int,
                     samples: int, cancel=None) -> D.Dissection:
    """Worker: rank ``layer``'s units (the model's intervention is lifted while they are read)."""
    return D.dissect(model, layer, mask, seed=seed, samples=samples, subject=subject, cancel=cancel)


def draw(subject: D.Subject, seed: int, cancel=None) -> np.ndarray:
    """Worker: the sample of ``seed`` as the model now is (with its intervention)."""
    return to_uint8(subject.draw(seed))[0]


class DissectPanel(Panel):
    def __init__(self, jobs: JobRunner, canvas: ImageCanvas, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs, self.canvas = jobs, canvas
        self.live = LatestOnly(jobs, self)
        self.model: SinGANModel | None = None
        self.subject: D.SinGANSubject | None = None
        self.concept: np.ndarray | None = None
        self.dissections: dict[str, D.Dissection] = {}
        self.state: State | None = None
        self.after: np.ndarray | None = None
        self._build()
        self.set_model(None)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        root = QVBoxLayout(self)
        self.help = QLabel("Draw a sample, brush what it should find (the object), then Find units.")
        self.help.setWordWrap(True)
        root.addWidget(self.help)
        form = QFormLayout()
        seed_row = QHBoxLayout()
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.draw_button = QPushButton("Draw sample")
        self.draw_button.setToolTip("Show the sample of this seed on the canvas (the image you paint on)")
        self.draw_button.clicked.connect(self.draw_sample)
        seed_row.addWidget(self.seed)
        seed_row.addWidget(self.draw_button)
        form.addRow("Seed", seed_row)
        brush_row = QHBoxLayout()
        self.brush = QPushButton("Brush")
        self.brush.setCheckable(True)
        self.brush.setToolTip("Paint on the canvas: the concept before Find units, the area after")
        self.brush.toggled.connect(self._brush_toggled)
        self.clear = QPushButton("Clear paint")
        self.clear.clicked.connect(lambda _c=False: self.canvas.paint.clear())
        brush_row.addWidget(self.brush)
        brush_row.addWidget(self.clear)
        form.addRow("Paint", brush_row)
        self.layer = QComboBox()
        self.layer.setToolTip("The layer whose units are ranked (scale 1 is the coarsest)")
        self.layer.activated.connect(lambda _i: self._user_changed())
        form.addRow("Layer", self.layer)
        self.samples = QSpinBox()
        self.samples.setRange(1, 32)
        self.samples.setSuffix(" samples")
        self.samples.setSpecialValueText("the painted image alone")
        self.samples.setToolTip("1: IoU over the painted image alone. More: also over the next seeds' samples, "
                                "the painted region carried to them by colour and texture")
        self.samples.valueChanged.connect(self._samples_changed)
        form.addRow("IoU over", self.samples)
        self.k = QLabeledSlider(Qt.Orientation.Horizontal)
        self.k.setRange(0, 1)
        self.k.setToolTip("How many of the best-matching units to switch (0: none)")
        self.k.valueChanged.connect(lambda _v: self._user_changed())
        form.addRow("Top k", self.k)
        mode_row = QHBoxLayout()
        self.activate = QCheckBox("Activate (instead of ablate)")
        self.activate.setToolTip("Ablate: set the units to 0 (remove the concept). Activate: set them to a high "
                                 "value, their 99th percentile (draw the concept)")
        self.activate.toggled.connect(lambda _on: self._user_changed())
        self.inside = QCheckBox("Only inside brushed area")
        self.inside.setToolTip("Switch the units only where the canvas is painted now (GANPaint)")
        self.inside.toggled.connect(lambda _on: self._user_changed())
        mode_row.addWidget(self.activate)
        form.addRow("Mode", mode_row)
        form.addRow("", self.inside)
        root.addLayout(form)
        self.bar = JobBar(self.jobs, "Find units", start_tip="Rank the layer's units against the painted region")
        self.bar.startRequested.connect(self.find_units)
        self.bar.said.connect(self.status)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the changed image as PNG; the intervention goes into its metadata")
        self.export_button.clicked.connect(self._export_dialog)
        self.bar.add_button(self.export_button, before_cancel=False)
        root.addWidget(self.bar)
        self.how = QLabel()
        self.how.setWordWrap(True)
        self.how.setObjectName("jobMessage")
        root.addWidget(self.how)
        self.grid = PreviewGrid(cols=4, placeholder="The top units' maps appear here")
        self.grid.setMinimumSize(240, 140)
        root.addWidget(self.grid, 1)

    # ------------------------------------------------------------------ model and sample
    def set_model(self, model) -> None:
        if self.model is not None and self.model is not model:
            D.set_intervention(self.model, None)
        self.model = model if isinstance(model, SinGANModel) and model.num_trained else None
        self.subject = D.SinGANSubject(self.model) if self.model is not None else None
        self.dissections.clear()
        self.state, self.concept = None, None
        self.layer.clear()
        if self.subject is not None:
            for name in self.subject.layers():
                self.layer.addItem(self.subject.layer_label(name), name)
            self.layer.setCurrentIndex(self.layer.findData(D.default_layer(self.subject)))
        for w in (self.draw_button, self.brush, self.layer, self.k, self.activate, self.inside, self.samples):
            w.setEnabled(self.subject is not None)
        self.bar.set_ready(self.subject is not None)
        self.grid.set_images([])
        self.how.setText("" if self.subject else "Open or train a SinGAN model to dissect it.")

    def draw_sample(self) -> None:
        if self.subject is not None:
            self.live.request(draw, self.subject, self.seed.value(), on_result=self._show, name="Dissect sample")

    def _brush_toggled(self, on: bool) -> None:
        if on:
            self.canvas.paint.set_brush(CONCEPT_COLOUR, max(self.canvas.paint.brush()[1], 12))
        self.canvas.set_tool("paint" if on else "pan")

    def painted(self) -> np.ndarray:
        """float32 H×W: where the canvas's paint layer is painted (its alpha)."""
        return self.canvas.paint.rgba()[..., 3].astype(np.float32) / 255.0

    # ------------------------------------------------------------------ dissection
    def find_units(self) -> None:
        """Rank the chosen layer's units against the paint on the canvas (one job)."""
        if self.subject is None:
            return
        mask = self.painted()
        if mask.size == 0 or not (mask > 0.5).any():
            self.bar.fail("Brush the concept on the canvas first (Brush, then paint over the object).")
            return
        self.concept = mask
        self.dissections.clear()
        layer = self.layer.currentData()
        self.bar.run(dissect_and_draw, self.model, self.subject, layer, mask, self.seed.value(),
                     self.samples.value(), name="Dissect", on_result=self._found)

    def _found(self, d: D.Dissection) -> None:
        self.dissections[d.layer] = d
        self.bar.finish(f"Ranked {d.units} units of {d.label}.")
        self.canvas.paint.clear()  # the paint went into the ranking and would hide the change; undo brings it back
        if self.state is None:  # the first ranking: k starts at 10 % of the layer
            k = max(1, d.units // 10)
            self._push(State(d.layer, k, self._mode(), self._area()))
        else:
            self.apply_state(self.state)

    def _samples_changed(self, n: int) -> None:
        self.dissections.clear()
        self.how.setText("IoU over the painted image alone" if n == 1 else
                         f"IoU over {n} samples: the region carried to seeds +1…+{n - 1} by colour and texture")

    # ------------------------------------------------------------------ intervention
    def _mode(self) -> str:
        return "activate" if self.activate.isChecked() else "ablate"

    def _area(self) -> np.ndarray | None:
        if not self.inside.isChecked():
            return None
        mask = self.painted()
        return mask if mask.size and (mask > 0.5).any() else None

    def _user_changed(self) -> None:
        """A control moved: one undo step to the new state."""
        if self.state is None or self.concept is None:
            return
        new = State(self.layer.currentData(), self.k.value(), self._mode(), self._area())
        if not new.same_as(self.state):
            self._push(new)

    def _push(self, new: State) -> None:
        old = self.state or State(new.layer, 0)
        self.canvas.undo_stack.push(InterventionCommand(self, old, new))

    def apply_state(self, state: State) -> None:
        """Show ``state`` in the controls, put its intervention on the model and redraw (ranking the layer
        first when it has not been ranked for this concept)."""
        self.state = state
        for w, set_value in ((self.layer, lambda: self.layer.setCurrentIndex(self.layer.findData(state.layer))),
                             (self.activate, lambda: self.activate.setChecked(state.mode == "activate")),
                             (self.inside, lambda: self.inside.setChecked(state.area is not None))):
            blocked = w.blockSignals(True)
            set_value()
            w.blockSignals(blocked)
        d = self.dissections.get(state.layer)
        if d is None:
            self.live.request(dissect_and_draw, self.model, self.subject, state.layer, self.concept,
                              self.seed.value(), self.samples.value(), on_result=self._found_live,
                              name="Dissect", key=("dissect", state.layer))
            return
        blocked = self.k.blockSignals(True)
        self.k.setRange(0, d.units)
        self.k.setValue(state.k)
        self.k.blockSignals(blocked)
        iv = D.Intervention.from_dissection(d, state.k, state.mode, state.area)
        D.set_intervention(self.model, iv, self.subject)
        self.grid.set_images([D.heat_overlay(d.image, d.maps[u]) for u in d.top(GRID_UNITS)])
        ious = ", ".join(f"{u}: {d.iou[u]:.2f}" for u in d.top(min(GRID_UNITS, max(state.k, 4))))
        self.how.setText(f"{d.describe()}.\nBest units (IoU): {ious}")
        self.live.request(draw, self.subject, self.seed.value(), on_result=self._show, name="Dissect",
                          key=("draw", id(iv)))

    def _found_live(self, d: D.Dissection) -> None:
        self.dissections[d.layer] = d
        if self.state is not None and self.state.layer == d.layer:
            self.apply_state(self.state)

    def _show(self, image: np.ndarray) -> None:
        self.after = image
        self.showImage.emit(image, self.params(image))

    def params(self, image: np.ndarray) -> dict:
        """What travels with the shown image (and into its PNG): the sample and the intervention."""
        p = {"task": "dissect", "engine": "SinGAN", "seed": str(self.seed.value()),
             "size": f"{image.shape[1]}x{image.shape[0]}"}
        if self.model is not None:
            p["model_id"] = self.model.model_id
            p.update(D.intervention_metadata(self.model))
        return p

    # ------------------------------------------------------------------ export
    def export_to(self, path: str) -> None:
        if self.after is None:
            raise GanvasError("Nothing to export yet: find units first.")
        save_image(path, self.after, {**self.params(self.after), "software": "Ganvas"})
        self.status.emit(f"Exported {path}")

    def _export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export dissected image", "dissect.png", "PNG (*.png)")
        if path:
            try:
                self.export_to(path)
            except (GanvasError, OSError) as exc:
                self.bar.fail(str(exc))
