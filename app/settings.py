"""Persistent preferences (QSettings): window layout, recent files, last folders, training choices."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

MAX_RECENT = 10
#: The Train dock's choices kept between sessions (a size equal to the preset's own is not stored, so a
#: preset whose default changes in a later version is not pinned to the old value).
TRAIN_KEYS = ("preset", "max_size", "min_size", "seed")


class Settings:
    """Thin typed wrapper so keys are spelled in one place."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.q = qsettings or QSettings("Ganvas", "Ganvas Studio")

    def get(self, key: str, default=None, type_=None):
        if type_ is None:
            return self.q.value(key, default)
        return self.q.value(key, default, type=type_)

    def set(self, key: str, value) -> None:
        self.q.setValue(key, value)

    def recent_files(self) -> list[str]:
        value = self.q.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [v for v in (value or []) if Path(v).exists()]

    def add_recent(self, path: str | Path) -> list[str]:
        p = str(Path(path).resolve())
        items = [p] + [r for r in self.recent_files() if r != p]
        self.q.setValue("recent_files", items[:MAX_RECENT])
        return items[:MAX_RECENT]

    def train_choices(self) -> dict[str, object]:
        """The Train dock's last choices that were stored (values as the settings file holds them)."""
        return {k: v for k in TRAIN_KEYS if (v := self.q.value(f"train/{k}")) is not None}

    def set_train_choices(self, choices: dict[str, object]) -> None:
        """Store the Train dock's choices; ``None`` removes a key (the preset's own value)."""
        for key, value in choices.items():
            if value is None:
                self.q.remove(f"train/{key}")
            else:
                self.q.setValue(f"train/{key}", value)

    def last_dir(self, kind: str) -> str:
        return str(self.q.value(f"last_dir/{kind}", str(Path.home())))

    def set_last_dir(self, kind: str, path: str | Path) -> None:
        p = Path(path)
        self.q.setValue(f"last_dir/{kind}", str(p if p.is_dir() else p.parent))
