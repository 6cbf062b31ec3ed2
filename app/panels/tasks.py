"""The Tasks panel: SinGAN's applications on the central canvas.

Paint-to-image, editing, harmonization, super-resolution, animation and retargeting (SinGAN
Sec. 4), each a page of a few controls over the same canvas. The injection scale comes from the
main window's Scale slider (``set_scale``). Engine work runs through ``JobRunner`` — never on the
GUI thread — and an applied result replaces the canvas image through one undo step on the
canvas's own undo stack, is added to the gallery with its parameters, and can be compared with
the image it came from (Before/After; a split view against bicubic for super-resolution).
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.workers import JobRunner
from core.images import load_image
from core.jobs import Cancelled, GanvasError, Progress
from core.singan import tasks as T
from core.singan.model import SinGANModel
from widgets.canvas import ImageCanvas

TASK_TITLES = {
    "paint": "Paint to image",
    "edit": "Editing",
    "harmonize": "Harmonization",
    "sr": "Super-resolution",
    "animate": "Animation",
    "retarget": "Retargeting",
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


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setObjectName("hint")
    return label


def _page(layout_type=QVBoxLayout):
    """An empty page of the task stack and its margin-free layout."""
    w = QWidget()
    lay = layout_type(w)
    lay.setContentsMargins(0, 0, 0, 0)
    return w, lay


def _inpaint(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Fill the hole a moved region leaves (OpenCV Telea); SinGAN regenerates it on Apply."""
    return cv2.inpaint(image, (mask > 0.5).astype(np.uint8) * 255, 5, cv2.INPAINT_TELEA)


class TasksPanel(QWidget):
    showImage = Signal(object, dict)
    addToGallery = Signal(object, dict)
    status = Signal(str)

    def __init__(self, jobs: JobRunner, canvas: ImageCanvas, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs, self.canvas = jobs, canvas
        self.model: SinGANModel | None = None
        self.scale = 1
        self.job = None
        self.last_result: np.ndarray | None = None
        self.last_params: dict = {}
        self.last_latency_s: float | None = None
        self._before: np.ndarray | None = None
        self._shown_params: dict = {}
        self._palette = np.zeros((0, 3), np.uint8)
        self._clip: tuple[np.ndarray, np.ndarray] | None = None  # copied pixels (crop) and their mask (crop)
        self._clip_origin = (0, 0)
        self._edit_mask: np.ndarray | None = None
        self._object: np.ndarray | None = None  # RGBA pasted for harmonization
        self._harm_base: np.ndarray | None = None
        self.frames: np.ndarray | None = None
        self._frame = 0
        self._play_base: np.ndarray | None = None
        self.play_timer = QTimer(self)
        self.play_timer.timeout.connect(self._next_frame)
        self._build()
        self.set_model(None)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        root = QVBoxLayout(self)
        top = QFormLayout()
        self.task = QComboBox()
        for key, title in TASK_TITLES.items():
            self.task.addItem(title, key)
        self.task.currentIndexChanged.connect(self._task_changed)
        top.addRow("Task", self.task)
        row = QHBoxLayout()
        self.scale_spin = QSpinBox()
        self.scale_spin.setToolTip("Injection scale (follows the Scale slider): 1 changes most, higher keeps more")
        self.scale_spin.valueChanged.connect(lambda v: setattr(self, "scale", v))
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        row.addWidget(self.scale_spin)
        row.addWidget(QLabel("Seed"))
        row.addWidget(self.seed)
        top.addRow("Scale", row)
        root.addLayout(top)

        self.pages = QStackedWidget()
        for build in (self._paint_page, self._edit_page, self._harmonize_page, self._sr_page, self._animate_page,
                      self._retarget_page):
            self.pages.addWidget(build())
        root.addWidget(self.pages)

        buttons = QHBoxLayout()
        self.apply_button = QPushButton("Apply")
        self.apply_button.setDefault(True)
        self.apply_button.clicked.connect(self.apply)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.before_after = QPushButton("Before/After")
        self.before_after.setCheckable(True)
        self.before_after.setToolTip("Show the image the last result was made from")
        self.before_after.setEnabled(False)
        self.before_after.toggled.connect(self._toggle_before)
        for b in (self.apply_button, self.cancel_button, self.before_after):
            buttons.addWidget(b)
        root.addLayout(buttons)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        root.addWidget(self.progress)
        self.message = QLabel()
        self.message.setWordWrap(True)
        root.addWidget(self.message)
        root.addStretch(1)

    def _paint_page(self) -> QWidget:
        w, lay = _page()
        lay.addWidget(_hint("Paint a rough clip-art with the training image's colours, then Apply."))
        self.swatch_box = QGridLayout()
        self.swatches: list[QToolButton] = []
        lay.addLayout(self.swatch_box)
        row = QHBoxLayout()
        self.brush_size = QSpinBox()
        self.brush_size.setRange(1, 200)
        self.brush_size.setValue(12)
        self.brush_size.valueChanged.connect(lambda _: self._set_brush(self.canvas.brush()[0]))
        row.addWidget(QLabel("Brush"))
        row.addWidget(self.brush_size)
        self.blank_button = QPushButton("Blank canvas")
        self.blank_button.setToolTip("Start from a canvas filled with the first palette colour")
        self.blank_button.clicked.connect(self.blank_canvas)
        row.addWidget(self.blank_button)
        lay.addLayout(row)
        self.quantize = QCheckBox("Quantise to the palette (5 colours)")
        self.quantize.setChecked(True)
        lay.addWidget(self.quantize)
        return w

    def _edit_page(self) -> QWidget:
        w, lay = _page()
        row = QHBoxLayout()
        self.rect_tool = QPushButton("Rectangle")
        self.lasso_tool = QPushButton("Lasso")
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
        lay.addLayout(form)
        row = QHBoxLayout()
        self.paste_button = QPushButton("Paste")
        self.paste_button.setToolTip("Paste the copied pixels at their place + offset")
        self.paste_button.clicked.connect(lambda: self.paste_clip(move=False))
        self.move_button = QPushButton("Move")
        self.move_button.setToolTip("Paste at the offset and fill the place they came from")
        self.move_button.clicked.connect(lambda: self.paste_clip(move=True))
        row.addWidget(self.paste_button)
        row.addWidget(self.move_button)
        lay.addLayout(row)
        self.edit_dilate = QSpinBox()
        self.edit_dilate.setRange(0, 100)
        self.edit_dilate.setValue(T.EDIT_DILATE_PX)
        form2 = QFormLayout()
        form2.addRow("Mask dilation (px)", self.edit_dilate)
        lay.addLayout(form2)
        return w

    def _harmonize_page(self) -> QWidget:
        w, lay = _page()
        self.paste_image_button = QPushButton("Paste image…")
        self.paste_image_button.setToolTip("An image or cut-out (PNG with alpha) to paste onto the canvas")
        self.paste_image_button.clicked.connect(self._choose_object)
        lay.addWidget(self.paste_image_button)
        form = QFormLayout()
        pos = QHBoxLayout()
        self.obj_x, self.obj_y = QSpinBox(), QSpinBox()
        for s in (self.obj_x, self.obj_y):
            s.setRange(-4096, 4096)
            s.valueChanged.connect(self._update_composite)
            pos.addWidget(s)
        form.addRow("Position x, y", pos)
        self.obj_scale = QDoubleSpinBox()
        self.obj_scale.setRange(0.05, 10.0)
        self.obj_scale.setSingleStep(0.1)
        self.obj_scale.setValue(1.0)
        self.obj_scale.valueChanged.connect(self._update_composite)
        form.addRow("Size ×", self.obj_scale)
        self.use_selection_mask = QCheckBox("Use the canvas selection as mask")
        form.addRow(self.use_selection_mask)
        self.finetune_iters = QSpinBox()
        self.finetune_iters.setRange(0, 5000)
        self.finetune_iters.setSingleStep(50)
        self.finetune_iters.setToolTip("Fine-tune the finest scales on the composite first (ConSinGAN); 0 = off")
        form.addRow("Fine-tune iterations", self.finetune_iters)
        lay.addLayout(form)
        return w

    def _sr_page(self) -> QWidget:
        w, form = _page(QFormLayout)
        self.sr_factor = QComboBox()
        self.sr_factor.addItem("×2", 2.0)
        self.sr_factor.addItem("×4", 4.0)
        form.addRow("Factor", self.sr_factor)
        self.split_view = QCheckBox("Split view: bicubic | SinGAN")
        self.split_view.toggled.connect(self._toggle_split)
        form.addRow(self.split_view)
        self.sr_note = QLabel()
        self.sr_note.setWordWrap(True)
        form.addRow(self.sr_note)
        return w

    def _animate_page(self) -> QWidget:
        w, lay = _page()
        form = QFormLayout()
        self.frames_spin = QSpinBox()
        self.frames_spin.setRange(2, 2000)
        self.frames_spin.setValue(T.ANIM_FRAMES)
        form.addRow("Frames", self.frames_spin)
        self.fps = QSpinBox()
        self.fps.setRange(1, 60)
        self.fps.setValue(T.ANIM_FPS)
        form.addRow("Frames per second", self.fps)
        self.beta = QDoubleSpinBox()
        self.beta.setRange(0.0, 0.99)
        self.beta.setSingleStep(0.05)
        self.beta.setValue(T.ANIM_BETA)
        self.beta.setToolTip("Momentum of the noise walk: higher = smoother, slower motion (paper: 0.8–0.95)")
        form.addRow("β (momentum)", self.beta)
        self.loop = QCheckBox("Seamless loop (forward, then back)")
        form.addRow(self.loop)
        lay.addLayout(form)
        row = QHBoxLayout()
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.play_button.setEnabled(False)
        self.play_button.toggled.connect(self.set_playing)
        self.gif_button = QPushButton("Export GIF…")
        self.mp4_button = QPushButton("Export MP4…")
        self.gif_button.clicked.connect(lambda: self.export_animation(None, ".gif"))
        self.mp4_button.clicked.connect(lambda: self.export_animation(None, ".mp4"))
        for b in (self.play_button, self.gif_button, self.mp4_button):
            b.setEnabled(False)
            row.addWidget(b)
        lay.addLayout(row)
        return w

    def _retarget_page(self) -> QWidget:
        w, form = _page(QFormLayout)
        self.out_w, self.out_h = QSpinBox(), QSpinBox()
        for s in (self.out_w, self.out_h):
            s.setRange(11, 4096)
            s.setSuffix(" px")
        form.addRow("Width", self.out_w)
        form.addRow("Height", self.out_h)
        return w

    # ------------------------------------------------------------------ model and scale
    def set_model(self, model: SinGANModel | None) -> None:
        self.set_playing(False)
        self.model = model
        self.frames = None
        for b in (self.play_button, self.gif_button, self.mp4_button):
            b.setEnabled(False)
        self.apply_button.setEnabled(model is not None and self.job is None)
        if model is None:
            self.scale_spin.setRange(0, 0)
            self._set_palette(np.zeros((0, 3), np.uint8))
            self.message.setText("Open or train a SinGAN model to use these tasks.")
            return
        last = max(model.num_trained - 1, 0)
        self.scale_spin.setRange(0, last)
        self.set_scale(min(max(self.scale, 1 if last >= 1 else 0), last))
        self._set_palette(T.palette_of(model.image, T.PALETTE_COLOURS))
        h, w = model.shapes[model.num_trained - 1] if model.num_trained else model.image.shape[:2]
        self.out_w.setValue(w * 2)
        self.out_h.setValue(h)
        self.sr_note.setText("" if T.sr_ready(model) else
                             "This model was not trained for super-resolution (train --task sr); "
                             "the result may be soft.")
        self.message.setText("")

    def set_scale(self, n: int) -> None:
        """The main window's Scale slider moved."""
        self.scale = int(n)
        blocked = self.scale_spin.blockSignals(True)
        self.scale_spin.setValue(self.scale)
        self.scale_spin.blockSignals(blocked)

    def current_task(self) -> str:
        return self.task.currentData()

    def set_task(self, key: str) -> None:
        i = list(TASK_TITLES).index(key)
        if i == self.task.currentIndex():
            self._task_changed(i)
        else:
            self.task.setCurrentIndex(i)

    def _task_changed(self, i: int) -> None:
        self.pages.setCurrentIndex(i)
        key = self.current_task()
        self.set_playing(False)
        if key == "paint":
            self.canvas.set_tool("paint")
            self._set_brush(self.canvas.brush()[0])
        elif key != "edit" and self.canvas.tool() != "pan":
            self.canvas.set_tool("pan")
        if key != "sr":
            self.split_view.setChecked(False)

    def _tool_changed(self, tool: str) -> None:
        self.rect_tool.setChecked(tool == "rect_select")
        self.lasso_tool.setChecked(tool == "lasso_select")

    # ------------------------------------------------------------------ paint
    def _set_palette(self, palette: np.ndarray) -> None:
        self._palette = palette
        for b in self.swatches:
            self.swatch_box.removeWidget(b)
            b.deleteLater()
        self.swatches = []
        for i, c in enumerate(palette):
            b = QToolButton()
            b.setFixedSize(28, 28)
            b.setStyleSheet(f"background-color: rgb({c[0]},{c[1]},{c[2]}); border: 1px solid #888;")
            b.setToolTip(f"RGB {c[0]}, {c[1]}, {c[2]}")
            b.clicked.connect(lambda _=False, col=tuple(int(v) for v in c): self._set_brush(col))
            self.swatch_box.addWidget(b, 0, i)
            self.swatches.append(b)

    def _set_brush(self, colour) -> None:
        self.canvas.set_brush(tuple(colour), self.brush_size.value())
        if self.current_task() == "paint":
            self.canvas.set_tool("paint")

    def blank_canvas(self) -> None:
        """Replace the canvas with a blank of the model's size in the first palette colour (undoable)."""
        if self.model is None:
            return
        h, w = self.model.image.shape[:2]
        colour = self._palette[0] if len(self._palette) else np.array([128, 128, 128], np.uint8)
        blank = np.empty((h, w, 3), np.uint8)
        blank[:] = colour
        self._push_swap("Blank canvas", blank, {"task": "blank"})

    # ------------------------------------------------------------------ edit
    def copy_selection(self, from_training: bool = False) -> bool:
        mask = self.canvas.selection_mask()
        img = self.canvas.image()
        if mask is None or img is None:
            self._say("Select a region first (Rectangle or Lasso).")
            return False
        if from_training:
            if self.model is None:
                return False
            img = cv2.resize(self.model.image, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_AREA)
        ys, xs = np.nonzero(mask > 0.5)
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        self._clip = (img[y0:y1, x0:x1].copy(), mask[y0:y1, x0:x1].copy())
        self._clip_origin = (int(x0), int(y0))
        self._say(f"Copied {x1 - x0}×{y1 - y0} px. Set an offset and Paste or Move.")
        return True

    def paste_clip(self, move: bool = False) -> bool:
        img = self.canvas.image()
        if self._clip is None or img is None:
            self._say("Copy a selection first.")
            return False
        pix, m = self._clip
        h, w = img.shape[:2]
        x0, y0 = self._clip_origin
        tx, ty = x0 + self.dx.value(), y0 + self.dy.value()
        changed = np.zeros((h, w), np.float32)
        out = img.copy()
        if move:
            src = np.zeros((h, w), np.float32)
            sh, sw = m.shape
            src[y0 : y0 + sh, x0 : x0 + sw] = m[: h - y0, : w - x0]
            out = _inpaint(out, src)
            changed = np.maximum(changed, src)
        ph, pw = m.shape
        ax0, ay0, ax1, ay1 = max(tx, 0), max(ty, 0), min(tx + pw, w), min(ty + ph, h)
        if ax1 <= ax0 or ay1 <= ay0:
            self._say("The offset puts the pasted pixels outside the image.")
            return False
        mm = m[ay0 - ty : ay1 - ty, ax0 - tx : ax1 - tx, None]
        region = out[ay0:ay1, ax0:ax1].astype(np.float32)
        out[ay0:ay1, ax0:ax1] = np.round(region * (1 - mm) + pix[ay0 - ty : ay1 - ty, ax0 - tx : ax1 - tx] * mm)
        changed[ay0:ay1, ax0:ax1] = np.maximum(changed[ay0:ay1, ax0:ax1], mm[..., 0])
        self._edit_mask = changed if self._edit_mask is None or self._edit_mask.shape != changed.shape \
            else np.maximum(self._edit_mask, changed)
        self._push_swap("Move selection" if move else "Paste selection", out, {"task": "edit (paste)"})
        self.canvas.set_selection_mask(self._edit_mask)
        return True

    def edit_mask(self) -> np.ndarray | None:
        """The region Apply blends: what was pasted or moved, else the current selection."""
        img = self.canvas.image()
        if self._edit_mask is not None and img is not None and self._edit_mask.shape == img.shape[:2]:
            return self._edit_mask
        return self.canvas.selection_mask()

    # ------------------------------------------------------------------ harmonize
    def _choose_object(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Paste image", "", "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif)")
        if path:
            try:
                self.load_object(path)
            except GanvasError as exc:
                self._say(str(exc))

    def load_object(self, source: str | Path | np.ndarray) -> None:
        """The image to paste (a path, or an RGB/RGBA array); placed at the canvas centre."""
        if isinstance(source, np.ndarray):
            obj = source
        else:
            from PIL import Image

            try:
                with Image.open(source) as im:
                    obj = np.asarray(im.convert("RGBA"))
            except OSError as exc:
                raise GanvasError(f"Cannot open '{source}': {exc}.") from exc
            if not obj[..., 3].any() or obj[..., 3].min() == 255:
                obj = load_image(source)
        img = self.canvas.image()
        if img is None:
            raise GanvasError("Open an image on the canvas first.")
        self._object = obj
        self._harm_base = img
        h, w = img.shape[:2]
        fit = min(1.0, 0.5 * min(w / obj.shape[1], h / obj.shape[0]))
        for s, v in ((self.obj_x, (w - obj.shape[1] * fit) / 2), (self.obj_y, (h - obj.shape[0] * fit) / 2),
                     (self.obj_scale, fit)):
            s.blockSignals(True)
            s.setValue(round(v) if isinstance(s, QSpinBox) else v)
            s.blockSignals(False)
        self._update_composite()
        self._say("Move and size the pasted image, then Apply.")

    def composite(self) -> tuple[np.ndarray, np.ndarray] | None:
        if self._object is None or self._harm_base is None:
            return None
        return T.composite_object(self._harm_base, self._object, x=self.obj_x.value(), y=self.obj_y.value(),
                                  scale=self.obj_scale.value())

    def _update_composite(self) -> None:
        """Live preview of the naive composite (not an undo step: Apply makes one)."""
        try:
            comp = self.composite()
        except GanvasError as exc:
            self._say(str(exc))
            return
        if comp is not None:
            self.canvas.set_image(comp[0], keep_view=True, keep_history=True)

    # ------------------------------------------------------------------ sr / animation views
    def _toggle_split(self, on: bool) -> None:
        if on and self.last_params.get("task") == "sr" and self.last_result is not None:
            self.canvas.set_compare_image(T.bicubic_upscale(self._before, self.last_params["factor"]))
            self.canvas.set_compare_split(0.5)
        else:
            self.canvas.set_compare_split(None)

    def _toggle_before(self, on: bool) -> None:
        if on and self._before is not None:
            self.canvas.set_compare_image(self._before)
        self.canvas.set_show_compare(on)

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

    def export_animation(self, path: str | Path | None, suffix: str = ".gif") -> Path | None:
        if self.frames is None:
            self._say("Generate an animation first (Apply).")
            return None
        if path is None:
            name = f"animation{suffix}"
            path, _ = QFileDialog.getSaveFileName(self, "Export animation", name, f"*{suffix}")
            if not path:
                return None
        path = Path(path)
        try:
            if path.suffix.lower() == ".mp4":
                T.save_mp4(path, self.frames, self.fps.value())
            else:
                T.save_gif(path, self.frames, self.fps.value(), loop=True)
        except GanvasError as exc:
            self._say(str(exc))
            return None
        self._say(f"Exported {len(self.frames)} frames to {path.name}")
        return path

    # ------------------------------------------------------------------ apply
    def task_call(self):
        """(engine function, positional args, keyword args, parameters for the gallery) of the current task."""
        key, model = self.current_task(), self.model
        img = self.canvas.image()
        seed = self.seed.value()
        params: dict = {"task": key, "seed": seed, "model_id": model.model_id}
        if key in ("paint", "edit", "harmonize") and img is None:
            raise GanvasError("Open an image on the canvas first.")
        if key == "paint":
            params.update(scale=self.scale, quantize=self.quantize.isChecked())
            return (T.paint_to_image, (model, self.canvas.painted_image()),
                    {"scale": self.scale, "seed": seed, "quantize": self.quantize.isChecked(),
                     "palette": self._palette}, params)
        if key == "edit":
            mask = self.edit_mask()
            if mask is None:
                raise GanvasError("Select the edited region, or copy and paste a selection first.")
            params.update(scale=self.scale, dilate_px=self.edit_dilate.value())
            return (T.edit, (model, img, mask), {"scale": self.scale, "seed": seed,
                                                 "dilate_px": self.edit_dilate.value()}, params)
        if key == "harmonize":
            comp = self.composite()
            if self.use_selection_mask.isChecked() or comp is None:
                mask = self.canvas.selection_mask()
                if mask is None:
                    raise GanvasError("Paste an image (Paste image…) or select the region to harmonize.")
                image = img
            else:
                image, mask = comp
            params.update(scale=self.scale, finetune_iters=self.finetune_iters.value())
            return (T.harmonize, (model, image, mask),
                    {"scale": self.scale, "seed": seed, "finetune_iters": self.finetune_iters.value()}, params)
        if key == "sr":
            factor = self.sr_factor.currentData()
            params.update(factor=factor)
            return T.super_resolve, (model, img if img is not None else model.image), \
                {"factor": factor, "seed": seed}, params
        if key == "animate":
            kw = {"scale": self.scale, "frames": self.frames_spin.value(), "beta": self.beta.value(),
                  "alpha": T.ANIM_ALPHA, "seed": seed, "loop": self.loop.isChecked()}
            params.update(kw, fps=self.fps.value())
            return T.animate, (model,), kw, params
        kw = {"width": self.out_w.value(), "height": self.out_h.value(), "scale": self.scale, "seed": seed}
        params.update(kw)
        return T.retarget, (model,), kw, params

    def apply(self) -> None:
        if self.model is None or self.job is not None:
            return
        self.set_playing(False)
        try:
            fn, args, kwargs, params = self.task_call()
        except GanvasError as exc:
            self._say(str(exc))
            return
        before = self.canvas.image()
        if self.current_task() == "harmonize" and self._harm_base is not None:
            before = self._harm_base
        started = time.perf_counter()
        self.apply_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self._say(f"{TASK_TITLES[params['task']]}…")

        def done(result: np.ndarray) -> None:
            self.last_latency_s = time.perf_counter() - started
            params["seconds"] = round(self.last_latency_s, 2)
            self._finished(result, params, before)

        self.job = self.jobs.submit(fn, *args, name=TASK_TITLES[params["task"]], on_result=done,
                                    on_progress=self._on_progress, on_error=self._on_error,
                                    on_finished=self._job_done, **kwargs)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _job_done(self) -> None:
        self.job = None
        self.apply_button.setEnabled(self.model is not None)
        self.cancel_button.setEnabled(False)

    def _on_progress(self, p: Progress) -> None:
        self.progress.setValue(round(1000 * p.fraction))
        self.message.setText(f"{p.stage} {p.step}/{p.total}")

    def _on_error(self, exc: BaseException) -> None:
        self.progress.setValue(0)
        self._say("Cancelled." if isinstance(exc, Cancelled) else
                  (str(exc) if isinstance(exc, GanvasError) else f"Unexpected error: {exc}"))

    def _finished(self, result: np.ndarray, params: dict, before: np.ndarray | None) -> None:
        self.progress.setValue(1000)
        self.last_params = params
        task = params["task"]
        if task == "animate":
            self.frames = result
            self.last_result = result[0]
            for b in (self.play_button, self.gif_button, self.mp4_button):
                b.setEnabled(True)
            self.addToGallery.emit(result[0], dict(params))
            self._say(f"Animation: {len(result)} frames in {params['seconds']:.1f} s. Play or export it.")
            self.set_playing(True)
            return
        self.last_result = result
        self._before = before
        if task == "harmonize":
            self._object, self._harm_base = None, None
        self._edit_mask = None
        self._push_swap(TASK_TITLES[task], result, params, before=before)
        self.before_after.setEnabled(before is not None)
        self.addToGallery.emit(result, dict(params))
        if task == "sr" and self.split_view.isChecked():
            self._toggle_split(True)
        self._say(f"{TASK_TITLES[task]} done in {params['seconds']:.1f} s ({result.shape[1]}×{result.shape[0]}).")

    def _push_swap(self, text: str, after: np.ndarray, params: dict, before: np.ndarray | None = None) -> None:
        before = self.canvas.image() if before is None else before
        if before is None:
            self._show(after, params)
            return
        stack = self.canvas.undo_stack
        stack.beginMacro(text)
        if self.canvas.overlay_rgba()[..., 3].any():
            self.canvas.clear_overlay()  # the painting went into the result; undo brings it back
        stack.push(SwapImageCommand(text, self._show, before, after, dict(self._shown_params), dict(params)))
        stack.endMacro()

    def _show(self, image: np.ndarray, params: dict) -> None:
        """Put an image on the canvas without touching the undo history, and tell the main window."""
        self.set_playing(False)
        if self.before_after.isChecked():
            self.before_after.setChecked(False)
        same = self.canvas.image() is not None and self.canvas.image().shape == image.shape
        self.canvas.set_image(image, keep_view=same, keep_history=True)
        self._shown_params = dict(params)
        self.showImage.emit(image, dict(params))

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.status.emit(text)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.play_timer.stop()
        super().closeEvent(event)


__all__ = ["TasksPanel", "SwapImageCommand", "TASK_TITLES"]
