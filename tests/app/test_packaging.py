"""A complete package: the wheel holds the style sheet, the sample photo and its model, and a
non-editable install (a fresh venv) opens the studio on the sample with the style applied."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from app.bundled import SAMPLE_IMAGE, SAMPLE_MODEL, SHIPPED, STYLE_SHEET

ROOT = Path(__file__).resolve().parents[2]
# What a clean checkout holds that the build reads (build/ and *.egg-info stay out of the work tree).
SOURCES = ("core", "app", "widgets", "common", "main.py", "pyproject.toml", "README.md", "LICENSE")


def test_bundled_files_are_found_from_the_source_tree():
    for p in (STYLE_SHEET, SAMPLE_IMAGE, SAMPLE_MODEL / "manifest.json", SAMPLE_MODEL / "model.safetensors"):
        assert p.is_file(), p


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("checkout")
    for name in SOURCES:
        s = ROOT / name
        if s.is_dir():
            shutil.copytree(s, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif s.exists():
            shutil.copy2(s, src / name)
    out = tmp_path_factory.mktemp("wheel")
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
                          "-w", str(out), "-q"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    (whl,) = out.glob("ganvas-*.whl")
    return whl


def test_wheel_holds_the_style_sheet_and_the_sample(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for rel in SHIPPED:
        assert f"app/{rel}" in names, rel
    assert "main.py" in names and "app/bundled.py" in names and "core/singan/memory.py" in names
    assert not any(n.startswith(("tests/", "bench/", "resources/")) for n in names)  # no docs or test files
    entry = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "ganvas = main:main" in entry
    # the shipped model is the same bytes as the source tree's
    z = zipfile.ZipFile(wheel)
    assert z.read("app/resources/samples/hubble_deep_field.ganvas/model.safetensors") == \
        (SAMPLE_MODEL / "model.safetensors").read_bytes()


CHECK = """
import json, sys
from pathlib import Path
import app, core
from app.studio import make_app
from app.main_window import MainWindow
from app.settings import Settings
from PySide6.QtCore import QSettings
qt = make_app()
w = MainWindow(Settings(QSettings(sys.argv[1], QSettings.Format.IniFormat)), confirm_dialogs=False)
w.open_sample()
w.wait_idle()  # the model loads on a worker
print("RESULT " + json.dumps({"app": app.__file__, "core": core.__file__, "model": w.doc.model is not None,
      "photo": None if w.doc.photo is None else list(w.doc.photo.shape), "style": len(qt.styleSheet()),
      "errors": w.errors}))
w.close()
"""


@pytest.mark.slow
def test_non_editable_install_opens_the_studio_on_the_sample(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    run = subprocess.run([str(py), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
           "XDG_DATA_HOME": str(tmp_path / "data"), "HOME": str(tmp_path)}
    env.pop("PYTHONPATH", None)
    res = subprocess.run([str(py), "-c", CHECK, str(tmp_path / "s.ini")], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    line = [s for s in res.stdout.splitlines() if s.startswith("RESULT ")]
    assert line, res.stdout + res.stderr
    import json

    got = json.loads(line[0][len("RESULT "):])
    site = str(venv)
    assert got["app"].startswith(site) and got["core"].startswith(site), got  # the installed copy, not /work
    assert got["model"] and got["photo"] and got["style"] > 100 and got["errors"] == [], got
    shot = tmp_path / "studio.png"
    res = subprocess.run([str(venv / "bin" / "ganvas"), "--screenshot", str(shot)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and shot.stat().st_size > 10_000, res.stdout + res.stderr


def test_the_bundled_sketch_base_loads_with_its_critic_and_the_data_it_was_trained_on():
    from app.bundled import SKETCH_BASE
    from core.sketchgan.model import generate_tensor, load_model

    model = load_model(SKETCH_BASE)
    assert model.config.size == 32 and model.discriminator is not None
    assert model.manifest["data"] == {"kind": "primitives", "preset": "sketch-shapes", "count": 4000, "seed": 0,
                                      "size": 32}
    a, b = generate_tensor(model, [0, 1])
    assert (a - b).abs().mean() > 0.05  # two seeds, two different images


def test_the_bundled_primitives_ps_base_is_gan_transfers_default_start_and_says_how_it_was_made():
    from app.bundled import PRIMITIVES_BASE
    from core.cli.sketchgan import default_transfer_base
    from core.sketchgan.model import generate_tensor, load_model

    assert default_transfer_base() == PRIMITIVES_BASE
    model = load_model(PRIMITIVES_BASE)
    assert model.config.size == 32 and model.discriminator is not None
    assert model.manifest["data"]["preset"] == "primitives-ps" and model.manifest["data"]["seed"] == 0
    recipe = model.manifest["recipe"]
    assert "gan-pretrain --primitives primitives-ps" in recipe["command"] and recipe["cpu_seconds"] > 0
    assert sum(f.stat().st_size for f in PRIMITIVES_BASE.iterdir()) <= 10 * 2**20
    a, b = generate_tensor(model, [0, 1])
    assert (a - b).abs().mean() > 0.05
