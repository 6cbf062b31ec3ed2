"""The Tasks panel's pages: one small class per task, each building its request from its controls.

A page owns the controls and the canvas interaction of one task (painting with palette swatches,
copying and moving a selection, pasting a cut-out, playing an animation) and turns them into the
task's :mod:`core.singan.requests` request; the panel (:mod:`app.panels.tasks`) runs it. Pixel work
(pasting, inpainting, compositing) is done by :mod:`core.images`, never here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.compositing import paste
from core.images import inpaint, load_image, palette_of, read_rgba, resize
from core.jobs import GanvasError
from core.singan import adapt as A
from core.singan import requests as R
from core.singan import task_inputs as TI
from core.singan.model import SinGANModel

if TYPE_CHECKING:
    from app.panels.tasks import TasksPanel


def hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setObjectName("hint")
    return label


def percent_spin(value: float, maximum: float = 20.0) -> QDoubleSpinBox:
    """A spin box for a fraction of the image's longer side, shown in percent."""
    s = QDoubleSpinBox()
    s.setRange(0.0, maximum)
    s.setDecimals(1)
    s.setSingleStep(0.5)
    s.setSuffix(" %")
    s.setValue(100 * value)
    s.setToolTip("A fraction of the image's longer side, so models of any size behave alike")
    return s


def adapt_spin(task: str) -> QSpinBox:
    """Iterations of teaching the model ``task`` on augmented copies of its photo first (0 = off)."""
    s = QSpinBox()
    s.setRange(0, 5000)
    s.setSingleStep(50)
    s.setValue(R.HarmonizeRequest.adapt_iters if task == "harmonize" else R.EditRequest.adapt_iters)
    s.setSpecialValueText("off")
    s.setToolTip(f"First teach the model to {task} as ConSinGAN does: the scales from the injection scale up "
                 "learn to turn augmented copies of the photo back into the photo. Done once per model and scale "
                 "(cached); each iteration costs about one training iteration of those scales.")
    return s


class TaskPage(QWidget):
    """One task's controls. Subclasses set :attr:`request_type` and implement :meth:`build_request`."""

    request_type: ClassVar[type[R.TaskRequest]]
    tool: ClassVar[str] = "pan"  # the canvas tool while the page is shown

    def __init__(self, panel: TasksPanel) -> None:
        super().__init__()
        self.panel, self.canvas = panel, panel.canvas
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)

    @property
    def model(self) -> SinGANModel | None:
        return self.panel.model

    def image(self) -> np.ndarray:
        img = self.canvas.image()
        if img is None:
            raise GanvasError("Open an image on the canvas first.")
        return img

    def set_model(self, model: SinGANModel | None) -> None:
        """A model was opened or trained (None: closed)."""

    def activated(self) -> None:
        if self.canvas.tool() != self.tool:
            self.canvas.set_tool(self.tool)

    def deactivated(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop anything running on the canvas (playback) before the canvas changes."""

    def build_request(self, *, seed: int, scale: int | None) -> R.TaskRequest:
        raise NotImplementedError

    def before_image(self) -> np.ndarray | None:
        """The image a result replaces (for undo and Before/After)."""
        return self.canvas.image()

    def take_result(self, result: np.ndarray, params: dict) -> bool:
        """True when the page keeps the result itself instead of putting it on the canvas."""
        return False

    def after_result(self, request: R.TaskRequest) -> None:
        """A result of this page's request is on the canvas."""


class PaintPage(TaskPage):
    request_type = R.PaintRequest
    tool = "paint"

    def __init__(self, panel: TasksPanel) -> None:
        super().__init__(panel)
        lay = self.layout_
        lay.addWidget(hint("Paint a rough clip-art with the training image's colours, then Apply."))
        self.palette = np.zeros((0, 3), np.uint8)
        self.swatch_box = QGridLayout()
        self.swatches: list[QToolButton] = []
        lay.addLayout(self.swatch_box)
        row = QHBoxLayout()
        self.brush_size = QSpinBox()
        self.brush_size.setRange(1, 200)
        self.brush_size.setValue(12)
        self.brush_size.valueChanged.connect(lambda _: self.set_brush(self.canvas.paint.brush()[0]))
        row.addWidget(QLabel("Brush"))
        row.addWidget(self.brush_size)
        self.blank_button = QPushButton("Blank canvas")
        self.blank_button.setToolTip("Start from a canvas filled with the first palette colour")
        self.blank_button.clicked.connect(self.blank_canvas)
        row.addWidget(self.blank_button)
        lay.addLayout(row)
        self.quantize = QCheckBox("Quantised (published): retrain the scale first")
        self.quantize.setToolTip("The public code's --quantization_flag: the injection scale is trained again on "
                                 "5-colour inputs (as long as training one scale; cached), then the painting, "
                                 "snapped to those colours, is injected. Off: plain injection, the public default.")
        lay.addWidget(self.quantize)

    def set_model(self, model: SinGANModel | None) -> None:
        """The swatches are the model image's main colours: k-means (~0.2 s) on a worker, shown when
        this model is still the panel's."""
        self.set_palette(np.zeros((0, 3), np.uint8))
        if model is not None:
            self.panel.jobs.submit(palette_of, model.image, A.PALETTE_COLOURS, name="Paint palette",
                                   on_result=lambda pal: self.set_palette(pal) if self.model is model else None)

    def set_palette(self, palette: np.ndarray) -> None:
        self.palette = palette
        for b in self.swatches:
            self.swatch_box.removeWidget(b)
            b.deleteLater()
        self.swatches = []
        for i, c in enumerate(palette):
            b = QToolButton()
            b.setFixedSize(28, 28)
            b.setStyleSheet(f"background-color: rgb({c[0]},{c[1]},{c[2]}); border: 1px solid #888;")
            b.setToolTip(f"RGB {c[0]}, {c[1]}, {c[2]}")
            b.clicked.connect(lambda _=False, col=tuple(int(v) for v in c): self.set_brush(col))
            self.swatch_box.addWidget(b, 0, i)
            self.swatches.append(b)

    def activated(self) -> None:
        super().activated()
        self.set_brush(self.canvas.paint.brush()[0])

    def set_brush(self, colour) -> None:
        self.canvas.paint.set_brush(tuple(colour), self.brush_size.value())
        if self.panel.current_page() is self:
            self.canvas.set_tool("paint")

    def blank_canvas(self) -> None:
        """Replace the canvas with a blank of the model's size in the first palette colour (undoable)."""
        if self.model is None:
            return
        h, w = self.model.image.shape[:2]
        blank = np.empty((h, w, 3), np.uint8)
        blank[:] = self.palette[0] if len(self.palette) else (128, 128, 128)
        self.panel.push_swap("Blank canvas", blank, {"task": "blank"})

    def build_request(self, *, seed, scale):
        self.image()
        return R.PaintRequest(painting=self.canvas.painted_image(), seed=seed, scale=scale,
                              quantize=self.quantize.isChecked())


class EditPage(TaskPage):
    request_type = R.EditRequest

    def __init__(self, panel: TasksPanel) -> None:
        super().__init__(panel)
        lay = self.layout_
        self._clip: tuple[np.ndarray, np.ndarray] | None = None  # copied pixels (crop) and their mask (crop)
        self._clip_origin = (0, 0)
        self._edit_mask: np.ndarray | None = None
        row = QHBoxLayout()
        self.rect_tool, self.lasso_tool = QPushButton("Rectangle"), QPushButton("Lasso")
        for b, tool in ((self.rect_tool, "rect_select"), (self.lasso_tool, "lasso_select")):
            b.setCheckable(True)
            b.clicked.connect(lambda on, t=tool: self.canvas.set_tool(t if on else "pan"))
            row.addWidget(b)
        self.canvas.toolChanged.connect(self._tool_changed)
        lay.addLayout(row)
        row = QHBoxLayout()
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the selected pixels of the canvas")
        self.copy_button.clicked.connect(lambda: self.copy_selection(from_training=False))
        self.copy_train_button = QPushButton("Copy from training image")
        self.copy_train_button.clicked.connect(lambda: self.copy_selection(from_training=True))
        row.addWidget(self.copy_button)
        row.addWidget(self.copy_train_button)
        lay.addLayout(row)
        form = QFormLayout()
        off = QHBoxLayout()
        self.dx, self.dy = QSpinBox(), QSpinBox()
        for s in (self.dx, self.dy):
            s.setRange(-4096, 4096)
            off.addWidget(s)
        form.addRow("Offset x, y", off)
        row = QHBoxLayout()
        self.paste_button = QPushButton("Paste")
        self.paste_button.setToolTip("Paste the copied pixels at their place + offset")
        self.paste_button.clicked.connect(lambda: self.paste_clip(move=False))
        self.move_button = QPushButton("Move")
        self.move_button.setToolTip("Paste at the offset and fill the place they came from")
        self.move_button.clicked.connect(lambda: self.paste_clip(move=True))
        row.addWidget(self.paste_button)
        row.addWidget(self.move_button)
        form.addRow(row)
        self.dilate = percent_spin(TI.EDIT_DILATE)
        form.addRow("Mask dilation", self.dilate)
        self.adapt_iters = adapt_spin("edit")
        form.addRow("Learn editing first", self.adapt_iters)
        lay.addLayout(form)

    def activated(self) -> None:
        if self.canvas.tool() not in ("rect_select", "lasso_select"):  # a selection tool stays as it was
            super().activated()

    def _tool_changed(self, tool: str) -> None:
        self.rect_tool.setChecked(tool == "rect_select")
        self.lasso_tool.setChecked(tool == "lasso_select")

    def copy_selection(self, from_training: bool = False) -> bool:
        mask, img = self.canvas.selection.mask(), self.canvas.image()
        if mask is None or img is None:
            self.panel.say("Select a region first (Rectangle or Lasso).")
            return False
        if from_training:
            if self.model is None:
                return False
            img = resize(self.model.image, img.shape[1], img.shape[0])
        ys, xs = np.nonzero(mask > 0.5)
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        self._clip = (img[y0:y1, x0:x1].copy(), mask[y0:y1, x0:x1].copy())
        self._clip_origin = (int(x0), int(y0))
        self.panel.say(f"Copied {x1 - x0}×{y1 - y0} px. Set an offset and Paste or Move.")
        return True

    def paste_clip(self, move: bool = False) -> bool:
        img = self.canvas.image()
        if self._clip is None or img is None:
            self.panel.say("Copy a selection first.")
            return False
        pix, m = self._clip
        x0, y0 = self._clip_origin
        out, changed = img, np.zeros(img.shape[:2], np.float32)
        try:
            if move:  # the place the pixels came from is filled, and regenerated on Apply
                _, changed = paste(img, pix, m, x0, y0)
                out = inpaint(img, changed)
            out, placed = paste(out, pix, m, x0 + self.dx.value(), y0 + self.dy.value())
        except GanvasError:
            self.panel.say("The offset puts the pasted pixels outside the image.")
            return False
        changed = np.maximum(changed, placed)
        old = self._edit_mask
        self._edit_mask = changed if old is None or old.shape != changed.shape else np.maximum(old, changed)
        self.panel.push_swap("Move selection" if move else "Paste selection", out, {"task": "edit (paste)"})
        self.canvas.selection.set_mask(self._edit_mask)
        return True

    def edit_mask(self) -> np.ndarray | None:
        """The region Apply blends: what was pasted or moved, else the current selection."""
        img = self.canvas.image()
        if self._edit_mask is not None and img is not None and self._edit_mask.shape == img.shape[:2]:
            return self._edit_mask
        return self.canvas.selection.mask()

    def build_request(self, *, seed, scale):
        img, mask = self.image(), self.edit_mask()
        if mask is None:
            raise GanvasError("Select the edited region, or copy and paste a selection first.")
        return R.EditRequest(image=img, mask=mask, seed=seed, scale=scale, dilate=self.dilate.value() / 100,
                             adapt_iters=self.adapt_iters.value())

    def after_result(self, request) -> None:
        self._edit_mask = None


class HarmonizePage(TaskPage):
    request_type = R.HarmonizeRequest

    def __init__(self, panel: TasksPanel) -> None:
        super().__init__(panel)
        self._object: np.ndarray | None = None  # RGB(A) pasted
        self._base: np.ndarray | None = None  # the canvas it is pasted onto
        self.paste_image_button = QPushButton("Paste image…")
        self.paste_image_button.setToolTip("An image or cut-out (PNG with alpha) to paste onto the canvas")
        self.paste_image_button.clicked.connect(self._choose_object)
        self.layout_.addWidget(self.paste_image_button)
        form = QFormLayout()
        pos = QHBoxLayout()
        self.obj_x, self.obj_y = QSpinBox(), QSpinBox()
        for s in (self.obj_x, self.obj_y):
            s.setRange(-4096, 4096)
            s.valueChanged.connect(self.update_preview)
            pos.addWidget(s)
        form.addRow("Position x, y", pos)
        self.obj_scale = QDoubleSpinBox()
        self.obj_scale.setRange(0.05, 10.0)
        self.obj_scale.setSingleStep(0.1)
        self.obj_scale.setValue(1.0)
        self.obj_scale.valueChanged.connect(self.update_preview)
        form.addRow("Size ×", self.obj_scale)
        self.use_selection_mask = QCheckBox("Use the canvas selection as mask")
        form.addRow(self.use_selection_mask)
        self.dilate = percent_spin(TI.HARMONIZE_DILATE)
        form.addRow("Mask dilation", self.dilate)
        self.adapt_iters = adapt_spin("harmonize")
        form.addRow("Learn harmonizing first", self.adapt_iters)
        self.finetune_iters = QSpinBox()
        self.finetune_iters.setRange(0, 5000)
        self.finetune_iters.setSingleStep(100)
        self.finetune_iters.setSpecialValueText("off")
        self.finetune_iters.setToolTip(
            "First fine-tune the model on the composite, as ConSinGAN does: the finest scales trained together "
            f"from the trained critic. ConSinGAN runs {A.FINETUNE_ITERS} iterations; on a CPU each costs about "
            "one training iteration of the finest scale (see docs/applications.md). Progress, time left and Cancel below.")
        form.addRow("Fine-tune iterations", self.finetune_iters)
        self.layout_.addLayout(form)

    def _choose_object(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Paste image", "", "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif)")
        if path:
            try:
                self.load_object(path)
            except GanvasError as exc:
                self.panel.say(str(exc))

    def load_object(self, source: str | Path | np.ndarray) -> None:
        """The image to paste (a path, or an RGB/RGBA array); placed at the canvas centre."""
        obj = source if isinstance(source, np.ndarray) else read_rgba(source)
        if not isinstance(source, np.ndarray) and obj[..., 3].min() == 255:
            obj = load_image(source)  # opaque: plain RGB (colour management, 16-bit and the like)
        img = self.image()
        self._object, self._base = obj, img
        h, w = img.shape[:2]
        fit = min(1.0, 0.5 * min(w / obj.shape[1], h / obj.shape[0]))
        for s, v in ((self.obj_x, round((w - obj.shape[1] * fit) / 2)),
                     (self.obj_y, round((h - obj.shape[0] * fit) / 2)), (self.obj_scale, fit)):
            s.blockSignals(True)
            s.setValue(v)
            s.blockSignals(False)
        self.update_preview()
        self.panel.say("Move and size the pasted image, then Apply.")

    def _pasted(self, **kw) -> R.HarmonizeRequest:
        return R.HarmonizeRequest(image=self._base, object=self._object, x=self.obj_x.value(), y=self.obj_y.value(),
                                  object_scale=self.obj_scale.value(), **kw)

    def update_preview(self) -> None:
        """Live preview of the naive composite (not an undo step: Apply makes one)."""
        if self._object is None or self._base is None:
            return
        try:
            comp, _ = self._pasted().composite()
        except GanvasError as exc:
            self.panel.say(str(exc))
            return
        self.canvas.set_image(comp, keep_view=True, keep_history=True)

    def build_request(self, *, seed, scale):
        kw = dict(seed=seed, scale=scale, dilate=self.dilate.value() / 100, adapt_iters=self.adapt_iters.value(),
                  finetune_iters=self.finetune_iters.value())
        if self.use_selection_mask.isChecked() or self._object is None:
            mask = self.canvas.selection.mask()
            if mask is None:
                raise GanvasError("Paste an image (Paste image…) or select the region to harmonize.")
            return R.HarmonizeRequest(image=self.image(), mask=mask, **kw)
        return self._pasted(**kw)

    def before_image(self):
        return self._base if self._base is not None else self.canvas.image()

    def after_result(self, request) -> None:
        self._object, self._base = None, None
