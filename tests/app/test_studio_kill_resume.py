"""The studio's autosave survives a hard kill: a studio process (offscreen) trains, is SIGKILLed in the
middle of a scale, and a new studio process on the same photo offers Resume, continues from the last
finished scale and generates from the finished model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core.images import save_image

ROOT = Path(__file__).resolve().parents[2]

# The child: the real main window with the user's choices in the Train dock (fast preset, 32 px); only
# the iteration count is cut (through the dock's config(), as the other app tests do) to keep it short.
DRIVER = textwrap.dedent("""
    import json, sys
    from PySide6.QtCore import QSettings, QTimer
    from app.studio import make_app
    from app.main_window import MainWindow
    from app.settings import Settings
    from core.singan.config import preset

    mode, image, ini = sys.argv[1:4]
    app = make_app()
    w = MainWindow(Settings(QSettings(ini, QSettings.Format.IniFormat)), confirm_dialogs=False)
    w.show()
    assert w.open_path(image)
    panel = w.train_panel
    panel.preset.setCurrentText("fast")
    panel.max_size.setValue(32)
    panel.config = lambda: preset("fast", max_size=32, min_size=12, iters=40)
    print("AUTOSAVE " + str(panel.out_dir()), flush=True)
    if mode == "train":
        panel.train_btn.click()
        app.exec()  # killed by the test
    else:
        result = {"resumable": panel.resumable(), "resume_enabled": panel.resume_btn.isEnabled()}
        done = []
        w.doc.modelChanged.connect(lambda: done.append(w.doc.model) if w.doc.model is not None else None)
        panel.resume_btn.click()
        while not done or panel.running:
            app.processEvents()
            if panel.job is None and not done:
                break
        w.wait_idle()
        m = w.doc.model
        result.update(complete=bool(m and m.complete), num_trained=m.num_trained if m else 0,
                      errors=list(w.errors), title=w.windowTitle())
        w.generate_panel.generate_new()
        w.wait_idle()
        app.processEvents()
        shown = w.doc.shown
        result["shown"] = list(shown.image.shape) if shown is not None else None
        result["shown_params"] = {k: str(v) for k, v in (shown.params if shown else {}).items()}
        print("RESULT " + json.dumps(result), flush=True)
        w.close()
""")


def _env(tmp_path: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen", "OMP_NUM_THREADS": "1",
            "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")}


@pytest.mark.slow
def test_studio_autosave_survives_sigkill(tmp_path, photo):
    image = tmp_path / "photo.png"
    save_image(image, photo)
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    ini = tmp_path / "settings.ini"
    cmd = [sys.executable, str(script), "train", str(image), str(ini)]
    proc = subprocess.Popen(cmd, env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    for first in proc.stdout:  # Qt may print a warning or two first
        seen.append(first)
        if first.startswith("AUTOSAVE ") or len(seen) > 50:
            break
    assert first.startswith("AUTOSAVE "), "".join(seen)
    autosave = Path(first.split(" ", 1)[1].strip())
    assert str(autosave).startswith(str(tmp_path / "data"))
    end = time.monotonic() + 240
    manifest = None
    while time.monotonic() < end:
        try:
            manifest = json.loads((autosave / "manifest.json").read_text())
        except (OSError, ValueError):
            manifest = None
        if manifest and manifest["num_trained"] >= 1:
            break
        assert proc.poll() is None, proc.stdout.read()
        time.sleep(0.02)
    assert manifest and manifest["num_trained"] >= 1, "the studio never autosaved a scale"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    killed = json.loads((autosave / "manifest.json").read_text())
    done, total = killed["num_trained"], len(killed["shapes"])
    assert 1 <= done < total

    resumed = subprocess.run([sys.executable, str(script), "resume", str(image), str(ini)], env=_env(tmp_path),
                             capture_output=True, text=True, timeout=400)
    lines = [s for s in resumed.stdout.splitlines() if s.startswith("RESULT ")]
    assert lines, resumed.stdout + resumed.stderr
    res = json.loads(lines[0][len("RESULT "):])
    assert res["resumable"] and res["resume_enabled"]  # the new studio offers Resume for this photo
    assert res["complete"] and res["num_trained"] == total, res
    assert res["errors"] == []
    final = json.loads((autosave / "manifest.json").read_text())
    assert final["complete"] and final["scale_seconds"][:done] == killed["scale_seconds"][:done]
    h, w = final["shapes"][-1]
    assert res["shown"] == [h, w, 3] and "seed" in res["shown_params"]  # the finished model generates
