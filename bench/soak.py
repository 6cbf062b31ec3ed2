"""Soak test: the real studio window driven for N minutes by a seeded random user.

    python bench/soak.py --minutes 60 [--seed 0] [--out DIR] [--display]

Offscreen unless ``--display`` (and a display is there). The user drags the Scale / Diversity / size
sliders, presses Generate and Generate 8, starts a short training, cancels and resumes it, applies
every task (and undoes it), plays with the Primitives controls and exports a small set, changes the
spectrum options, draws sketch-pad strokes with undo/redo, opens bad files (each must give one error
and change nothing), exports from the gallery and reopens the sample. Everything goes through the
window's public actions and widgets (clicks, slider drags, menu actions), looked up defensively: a
control that is not there any more is counted as skipped, not as a failure.

Recorded: resident memory every few seconds, the longest GUI-thread stall (a 5-ms timer's worst
lateness) with and without a training running, every unhandled exception (``sys.excepthook``,
``threading.excepthook``), every Qt critical/fatal message (``qInstallMessageHandler``) and every
error dialog. Ends with a table and one summary line; exit status 1 on any unhandled exception or
Qt critical message, or when a bad file changed the open document; a crash ends the process itself.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Recorder:
    """What went wrong and how the window behaved, shared by the hooks and the driver."""

    def __init__(self) -> None:
        self.exceptions: list[str] = []
        self.qt_messages: Counter = Counter()
        self.qt_critical: list[str] = []
        self.dialogs: list[str] = []
        self.violations: list[str] = []
        self.driver_errors: list[str] = []
        self.actions: Counter = Counter()
        self.skipped: Counter = Counter()
        self.rss: list[tuple[float, float]] = []
        self.stall_idle_ms = 0.0
        self.stall_training_ms = 0.0
        self.stall_where = ""
        self.current = "startup"

    def exception(self, where: str, text: str) -> None:
        self.exceptions.append(f"[{where}] {text}")
        print(f"UNHANDLED in {where}:\n{text}", file=sys.stderr, flush=True)


def install_hooks(rec: Recorder) -> None:
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    def hook(exc_type, exc, tb):
        rec.exception(rec.current, "".join(traceback.format_exception(exc_type, exc, tb)))

    def thread_hook(args):
        rec.exception(f"thread {args.thread.name if args.thread else '?'}",
                      "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback)))

    def qt_handler(kind, context, message):
        rec.qt_messages[(kind.name if hasattr(kind, "name") else str(kind), message[:90])] += 1
        if kind in (QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
            rec.qt_critical.append(message)

    sys.excepthook = hook
    threading.excepthook = thread_hook
    qInstallMessageHandler(qt_handler)


def patch_dialogs(rec: Recorder, folders: dict) -> None:
    """Modal dialogs would stop the soak: answer them as a user would and count them."""
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    def answer(kind, default):
        def f(*args, **kwargs):
            title = next((a for a in args if isinstance(a, str)), "")
            rec.dialogs.append(f"{kind}: {title}")
            return default
        return staticmethod(f)

    QMessageBox.question = answer("question", QMessageBox.StandardButton.Yes)
    QMessageBox.critical = answer("critical", QMessageBox.StandardButton.Ok)
    QMessageBox.warning = answer("warning", QMessageBox.StandardButton.Ok)
    QMessageBox.information = answer("information", QMessageBox.StandardButton.Ok)
    QMessageBox.about = answer("about", None)
    QMessageBox.exec = lambda self: rec.dialogs.append(f"box: {self.text()[:60]}") or 0
    QFileDialog.getExistingDirectory = staticmethod(lambda *a, **k: str(folders["export"]))
    QFileDialog.getSaveFileName = staticmethod(lambda *a, **k: (str(folders["export"] / "export.png"), ""))
    QFileDialog.getOpenFileName = staticmethod(lambda *a, **k: (str(folders["current_open"]), ""))


def make_bad_files(folder: Path) -> list[Path]:
    import numpy as np

    from core.images import encode_png

    folder.mkdir(parents=True, exist_ok=True)
    good = encode_png((np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8))
    files = {
        "empty.png": b"",
        "truncated.png": good[: len(good) // 2],
        "text.png": b"this is not an image\n",
        "garbage.jpg": bytes(range(256)) * 8,
    }
    out = []
    for name, data in files.items():
        (folder / name).write_bytes(data)
        out.append(folder / name)
    broken = folder / "broken.ganvas"
    broken.mkdir(exist_ok=True)
    (broken / "manifest.json").write_text("{not json")
    out += [broken, folder / "missing.png"]
    return out


class Driver:
    """Picks a random action every few hundred ms; an action is a generator that yields waits in ms."""

    def __init__(self, window, rec: Recorder, rng: random.Random, work: Path, end_at: float) -> None:
        self.w, self.rec, self.rng, self.work, self.end_at = window, rec, rng, work, end_at
        self.bad_files = make_bad_files(work / "bad")
        self.running = None
        self.trainings = 0
        self.actions = [
            (6, "drag scale", lambda: self.drag("scale")),
            (3, "drag diversity", lambda: self.drag("diversity")),
            (3, "drag size", lambda: self.drag("size")),
            (4, "generate", lambda: self.trigger("generate_action")),
            (2, "generate 8", lambda: self.trigger("generate8_action")),
            (1, "train / cancel / resume", self.train_cycle),
            (3, "task + undo", self.task),
            (3, "primitives controls", self.primitives),
            (1, "primitives export", self.primitives_export),
            (2, "spectrum options", lambda: self.fuzz_panel("spectrum_panel", 2)),
            (4, "sketch strokes + undo/redo", self.sketch),
            (2, "open bad file", self.bad_file),
            (1, "gallery export", self.gallery_export),
            (1, "reopen sample", self.reopen_sample),
            (2, "zoom", self.zoom),
        ]

    # ---------------------------------------------------------------- scheduling
    def start(self) -> None:
        from PySide6.QtCore import QTimer

        self.timer = QTimer()
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.step)
        self.timer.start(500)

    def step(self) -> None:
        if time.monotonic() >= self.end_at:
            return
        try:
            if self.running is None:
                weights = [a[0] for a in self.actions]
                _, name, make = self.rng.choices(self.actions, weights)[0]
                self.rec.current = name
                self.rec.actions[name] += 1
                self.running = (name, make())
            name, gen = self.running
            self.rec.current = name
            wait = next(gen)
        except StopIteration:
            self.running, wait = None, self.rng.randint(80, 400)
        except Exception as exc:  # an action that raises into the event loop: what a user's click would do
            ours = [str(ROOT / d) for d in ("app", "core", "widgets")]
            if not any(f.filename.startswith(tuple(ours)) for f in traceback.extract_tb(exc.__traceback__)):
                # no studio code ran: the driver's own mistake (a control it misread), not the studio's
                self.rec.driver_errors.append(traceback.format_exc())
            else:
                self.rec.exception(self.rec.current, traceback.format_exc())
            self.running, wait = None, 300
        self.timer.start(int(wait))

    def between(self, lo, hi):
        """A random value in [lo, hi]: whole for Qt's sliders, any for superqt's float ones."""
        if isinstance(lo, int) and isinstance(hi, int):
            return self.rng.randint(lo, hi)
        return self.rng.uniform(lo, hi)

    @staticmethod
    def flag(obj, name: str) -> bool:
        """A state that may be a property or a method, depending on the panel's version."""
        v = getattr(obj, name, False)
        return bool(v() if callable(v) else v)

    def skip(self, name: str) -> None:
        self.rec.skipped[name] += 1

    # ---------------------------------------------------------------- helpers
    def find(self, *names):
        obj = self.w
        for n in names:
            obj = getattr(obj, n, None)
            if obj is None:
                return None
        return obj

    def trigger(self, action: str):
        a = self.find(action)
        if a is None:
            self.skip(action)
            return
        if a.isEnabled():
            a.trigger()
        yield self.rng.randint(100, 600)

    def _sliders(self, panel, key: str):
        from PySide6.QtWidgets import QSlider

        out = []
        for s in panel.findChildren(QSlider):
            parent = s.parentWidget()
            label = " ".join(str(x) for x in (s.objectName(), s.toolTip(), getattr(parent, "objectName", lambda: "")(),
                                              getattr(parent, "title", ""), parent.toolTip() if parent else "")).lower()
            if key in label or (key == "size" and ("width" in label or "height" in label)):
                out.append(s)
        if not out and key == "scale" and hasattr(panel, "scale"):
            out = panel.scale.findChildren(QSlider)
        if not out and key == "diversity" and hasattr(panel, "diversity"):
            out = panel.diversity.findChildren(QSlider)
        return [s for s in out if s.isEnabled() and s.maximum() > s.minimum() and not isinstance(s.value(), tuple | list)]

    def drag(self, key: str):
        panel = self.find("generate_panel")
        sliders = self._sliders(panel, key) if panel is not None else []
        if not sliders:
            self.skip(f"drag {key}")
            return
        s = self.rng.choice(sliders)
        target = self.between(s.minimum(), s.maximum())
        s.setSliderDown(True)
        steps = self.rng.randint(3, 12)
        start = s.value()
        for k in range(1, steps + 1):
            v = start + (target - start) * k / steps
            s.setValue(round(v) if isinstance(target, int) else v)
            s.sliderMoved.emit(s.value())
            yield self.rng.randint(15, 60)  # a hand moves the mouse every few tens of ms
        s.setSliderDown(False)
        yield self.rng.randint(100, 500)

    def fuzz_panel(self, panel_name: str, changes: int):
        from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSlider, QSpinBox

        panel = self.find(panel_name)
        if panel is None:
            self.skip(panel_name)
            return
        widgets = [c for t in (QComboBox, QCheckBox, QSpinBox, QDoubleSpinBox, QSlider) for c in panel.findChildren(t)
                   if c.isEnabled() and c.isVisibleTo(panel)]
        for _ in range(changes):
            if not widgets:
                self.skip(panel_name)
                return
            c = self.rng.choice(widgets)
            if isinstance(c, QComboBox) and c.count():
                c.setCurrentIndex(self.rng.randrange(c.count()))
            elif isinstance(c, QCheckBox):
                c.click()
            elif isinstance(c, QSpinBox | QDoubleSpinBox):
                lo, hi = c.minimum(), min(c.maximum(), c.minimum() + 200)  # no 10 000-image sets
                c.setValue(self.rng.uniform(lo, hi) if isinstance(c, QDoubleSpinBox) else self.rng.randint(int(lo), int(hi)))
            elif isinstance(c, QSlider):
                c.setSliderDown(True)
                if isinstance(c.value(), tuple | list):  # a superqt range slider: a (low, high) pair
                    c.setValue(tuple(sorted(self.between(c.minimum(), c.maximum()) for _ in range(2))))
                else:
                    c.setValue(self.between(c.minimum(), c.maximum()))
                c.sliderMoved.emit(c.value())
                c.setSliderDown(False)
            yield self.rng.randint(60, 300)

    def wait_for(self, cond, timeout_s: float):
        end = time.monotonic() + timeout_s
        while not cond() and time.monotonic() < end:
            yield 100

    # ---------------------------------------------------------------- actions
    def train_cycle(self):
        panel = self.find("train_panel")
        if panel is None or self.w.doc.photo is None:
            self.skip("train")
            return
        if panel.running:
            self.trigger_now("cancel_action")
            yield from self.wait_for(lambda: not panel.running, 60)
            return
        panel.preset.setCurrentText("fast")
        panel.max_size.setValue(panel.max_size.minimum())  # a short training: the smallest size
        self.trigger_now("train_action")
        self.trainings += 1
        yield self.rng.randint(3000, 12000)
        self.trigger_now("cancel_action")  # Esc
        yield from self.wait_for(lambda: not panel.running, 60)
        yield self.rng.randint(300, 2000)
        if panel.resume_btn.isEnabled():
            self.trigger_now("resume_action")
            yield self.rng.randint(2000, 8000)
            if self.rng.random() < 0.5:
                self.trigger_now("cancel_action")
                yield from self.wait_for(lambda: not panel.running, 60)

    def trigger_now(self, action: str) -> None:
        a = self.find(action)
        if a is None:
            self.skip(action)
        elif a.isEnabled():
            a.trigger()

    def task(self):
        panel = self.find("tasks_panel")
        if panel is None or getattr(panel, "model", None) is None or getattr(panel, "job", None) is not None:
            self.skip("task")
            return
        combo = getattr(panel, "task", None)
        if combo is not None and combo.count():
            combo.setCurrentIndex(self.rng.randrange(combo.count()))
            yield 200
        btn = getattr(panel, "apply_button", None)
        if btn is None or not btn.isEnabled():
            self.skip("task apply")
            return
        btn.click()
        yield from self.wait_for(lambda: getattr(panel, "job", None) is None, 120)
        yield self.rng.randint(200, 800)
        if self.rng.random() < 0.7:
            self.trigger_now("undo_action")
            yield 200

    def primitives(self):
        yield from self.fuzz_panel("primitives_panel", self.rng.randint(1, 4))

    def primitives_export(self):
        panel = self.find("primitives_panel")
        if panel is None or not hasattr(panel, "start_export") or self.flag(panel, "exporting"):
            self.skip("primitives export")
            return
        folder = self.work / f"primitives_{self.rec.actions['primitives export']:04d}"
        if hasattr(panel, "folder"):
            panel.folder.setText(str(folder))
        if hasattr(panel, "count"):
            panel.count.setValue(min(panel.count.maximum(), self.rng.randint(8, 40)))
        if hasattr(panel, "export_size") and panel.export_size.count():
            panel.export_size.setCurrentIndex(0)  # the smallest size
        panel.start_export()
        yield from self.wait_for(lambda: not self.flag(panel, "exporting"), 120)

    def sketch(self):
        from PySide6.QtCore import QPoint, Qt
        from PySide6.QtTest import QTest

        pad = self.find("sketch_pad")
        if pad is None:
            self.skip("sketch")
            return
        surface = getattr(pad, "surface", None) or getattr(pad, "canvas", None)
        if surface is None:
            from PySide6.QtWidgets import QWidget

            kids = [c for c in pad.findChildren(QWidget) if type(c).__name__.lower().endswith(("surface", "canvas"))]
            surface = kids[0] if kids else None
        if surface is None or surface.width() < 10:
            self.skip("sketch")
            return
        for _ in range(self.rng.randint(1, 3)):
            w, h = surface.width(), surface.height()
            pts = [QPoint(self.rng.randint(2, w - 3), self.rng.randint(2, h - 3)) for _ in range(self.rng.randint(3, 10))]
            QTest.mousePress(surface, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[0])
            for p in pts[1:]:
                QTest.mouseMove(surface, p)
                yield 15
            QTest.mouseRelease(surface, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[-1])
            yield self.rng.randint(50, 200)
        stack = pad.undo_stack
        for _ in range(self.rng.randint(0, 3)):
            stack.undo()
            yield 40
        for _ in range(self.rng.randint(0, 2)):
            stack.redo()
            yield 40

    def bad_file(self):
        import numpy as np

        doc = self.w.doc
        before = (id(doc.photo), id(doc.model), doc.photo_path)
        n_err = len(self.w.errors)
        path = self.rng.choice(self.bad_files)
        ok = self.w.open_path(path)
        yield 100
        after = (id(doc.photo), id(doc.model), doc.photo_path)
        if ok or after != before:
            self.rec.violations.append(f"opening {path.name} changed the document")
        elif len(self.w.errors) != n_err + 1:
            self.rec.violations.append(f"opening {path.name} gave {len(self.w.errors) - n_err} errors, not one")
        elif path.name not in self.w.errors[-1] and str(path) not in self.w.errors[-1]:
            self.rec.violations.append(f"the error for {path.name} does not name it: {self.w.errors[-1]}")
        del np

    def gallery_export(self):
        gallery = self.find("gallery")
        if gallery is None or gallery.count() == 0:
            self.skip("gallery export")
            return
        n = gallery.count()
        idx = sorted(self.rng.sample(range(n), min(n, self.rng.randint(1, 4))))
        folder = self.work / "gallery_export"
        folder.mkdir(exist_ok=True)
        out = self.w.export_indices_to(folder, idx)
        if len(out) != len(idx):
            self.rec.violations.append(f"gallery export wrote {len(out)} of {len(idx)} images")
        yield 200

    def reopen_sample(self):
        panel = self.find("train_panel")
        if panel is not None and panel.running:
            self.skip("reopen sample (training)")
            return
        self.trigger_now("open_sample_action")
        yield 500

    def zoom(self):
        for name in ("zoom_in_action", "zoom_out_action", "zoom_fit_action", "zoom_actual_action"):
            a = getattr(self.w.canvas, name, None)
            if a is not None and self.rng.random() < 0.5:
                a.trigger()
                yield 50


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, help="work folder (default: a temporary one)")
    ap.add_argument("--display", action="store_true", help="use the real display when there is one")
    ap.add_argument("--rss-every", type=float, default=5.0, help="seconds between memory samples")
    args = ap.parse_args()
    if not (args.display and (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    work = args.out or Path(tempfile.mkdtemp(prefix="ganvas-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["XDG_DATA_HOME"] = str(work / "data")  # the autosaves of this run, not the user's
    os.environ["XDG_CONFIG_HOME"] = str(work / "config")

    rec = Recorder()
    folders = {"export": work / "exports", "current_open": work / "bad" / "missing.png"}
    folders["export"].mkdir(exist_ok=True)
    from PySide6.QtCore import QSettings, QTimer

    from app.settings import Settings
    from app.studio import make_app

    qt = make_app()
    install_hooks(rec)
    patch_dialogs(rec, folders)
    from app.main_window import MainWindow

    t_start = time.monotonic()
    window = MainWindow(Settings(QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)),
                        confirm_dialogs=False)
    window.resize(1440, 900)
    window.show()
    window.open_sample()
    qt.processEvents()
    rec.current = "idle"
    end_at = time.monotonic() + args.minutes * 60
    rng = random.Random(args.seed)
    driver = Driver(window, rec, rng, work, end_at)

    # the GUI-thread stall meter: a 5-ms timer; its worst lateness, split by whether a training runs
    last = [time.perf_counter()]
    where_worst = defaultdict(float)

    def tick():
        now = time.perf_counter()
        late = (now - last[0]) * 1000 - 5
        last[0] = now
        if time.monotonic() - t_start < 5:
            return
        training = window.train_panel.running
        where_worst[rec.current] = max(where_worst[rec.current], late)
        if training:
            rec.stall_training_ms = max(rec.stall_training_ms, late)
        elif late > rec.stall_idle_ms:
            rec.stall_idle_ms, rec.stall_where = late, rec.current

    stall = QTimer()
    stall.setInterval(5)
    stall.timeout.connect(tick)
    stall.start()

    def sample_rss():
        rec.rss.append((time.monotonic() - t_start, rss_mb()))
        if time.monotonic() >= end_at:
            qt.quit()

    mem = QTimer()
    mem.setInterval(int(args.rss_every * 1000))
    mem.timeout.connect(sample_rss)
    mem.start()
    sample_rss()
    driver.start()
    qt.exec()
    stall.stop()
    mem.stop()
    window.jobs.cancel_all()
    window.wait_idle(60)
    dialogs = list(window.errors)
    window.close()

    # ---------------------------------------------------------------- report
    minutes = (time.monotonic() - t_start) / 60
    warm = min(5 * 60, (minutes * 60) / 3)
    after = [m for t, m in rec.rss if t >= warm]
    base = after[0] if after else rec.rss[0][1]
    peak_after = max(after) if after else base
    end_rss = rec.rss[-1][1]
    growth = (end_rss / base - 1) * 100
    print(f"\n## Soak: {minutes:.1f} min, seed {args.seed}, {sum(rec.actions.values())} actions, "
          f"{driver.trainings} trainings started")
    print("\n| action | times | skipped | worst GUI stall during it (ms) |")
    print("|---|---|---|---|")
    for name, n in sorted(rec.actions.items(), key=lambda kv: -kv[1]):
        skipped = sum(v for k, v in rec.skipped.items() if k.split()[0] in name)
        print(f"| {name} | {n} | {skipped} | {where_worst.get(name, 0):.0f} |")
    print("\n| minute | RSS (MB) |")
    print("|---|---|")
    marks = sorted({min(range(len(rec.rss)), key=lambda i: abs(rec.rss[i][0] - 60 * k))
                    for k in range(int(minutes) + 2)})
    for i in marks:
        print(f"| {rec.rss[i][0] / 60:.1f} | {rec.rss[i][1]:.0f} |")
    bad_dialogs = [d for d in dialogs if not d.startswith("Open")]
    print("\n| measure | value |")
    print("|---|---|")
    print(f"| RSS after warm-up ({warm / 60:.1f} min) → end | {base:.0f} → {end_rss:.0f} MB ({growth:+.1f} %), "
          f"peak {peak_after:.0f} MB |")
    print(f"| longest GUI stall, no training running | {rec.stall_idle_ms:.0f} ms (during '{rec.stall_where}') |")
    print(f"| longest GUI stall while training | {rec.stall_training_ms:.0f} ms |")
    print(f"| unhandled exceptions | {len(rec.exceptions)} |")
    print(f"| Qt critical/fatal messages | {len(rec.qt_critical)} |")
    print(f"| error messages shown | {len(dialogs)} ({len(dialogs) - len(bad_dialogs)} for the bad files opened) |")
    print(f"| modal dialogs answered | {len(rec.dialogs)} |")
    print(f"| bad-file checks failed | {len(rec.violations)} |")
    print(f"| soak driver errors (not counted) | {len(rec.driver_errors)} |")
    for text in bad_dialogs[:10]:
        print(f"  other error shown: {text[:160]}")
    for v in rec.violations[:10]:
        print(f"  violation: {v}")
    for (kind, msg), n in rec.qt_messages.most_common(5):
        print(f"  Qt {kind} ×{n}: {msg}")
    for e in rec.exceptions[:5]:
        print("  exception: " + e.strip().splitlines()[-1])
    for e in rec.driver_errors[:5]:
        print("  soak driver error (not the studio's): " + e.strip().splitlines()[-1])
    failed = bool(rec.exceptions or rec.qt_critical or rec.violations)
    print(f"\nSOAK {'FAIL' if failed else 'PASS'}: {minutes:.1f} min, {sum(rec.actions.values())} actions, "
          f"{len(rec.exceptions)} unhandled exceptions, {len(rec.qt_critical)} Qt critical, "
          f"RSS {growth:+.1f} % after warm-up, longest stall {rec.stall_idle_ms:.0f} ms idle / "
          f"{rec.stall_training_ms:.0f} ms training, {len(dialogs)} error messages "
          f"({len(bad_dialogs)} not from bad files), {len(rec.violations)} bad-file violations")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
