"""What the studio has open: the photo, the model, and the image on the canvas with its parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from core.singan.model import SinGANModel


@dataclass
class Shown:
    """The image on the canvas and how it was made (empty params for the photo itself)."""

    image: np.ndarray
    params: dict = field(default_factory=dict)
    title: str = ""


class Document(QObject):
    """The open photo and its SinGAN model. Widgets listen to the signals; nothing here draws."""

    photoChanged = Signal()
    modelChanged = Signal()
    shownChanged = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.photo: np.ndarray | None = None
        self.photo_path: Path | None = None
        self.photo_notes: list[str] = []
        self.model: SinGANModel | None = None
        self.model_path: Path | None = None
        self.shown: Shown | None = None

    def set_photo(self, rgb: np.ndarray, path: Path | None, notes: list[str] | None = None) -> None:
        self.photo, self.photo_path, self.photo_notes = rgb, path, list(notes or [])
        self.photoChanged.emit()
        self.show(rgb, {}, path.name if path else "photo")

    def set_model(self, model: SinGANModel | None, path: Path | None = None) -> None:
        self.model, self.model_path = model, path
        self.modelChanged.emit()

    def show(self, image: np.ndarray, params: dict | None = None, title: str = "") -> None:
        self.shown = Shown(image, dict(params or {}), title)
        self.shownChanged.emit()

    @property
    def name(self) -> str:
        if self.photo_path is not None:
            return self.photo_path.name
        if self.model_path is not None:
            return self.model_path.name
        return "untitled"
