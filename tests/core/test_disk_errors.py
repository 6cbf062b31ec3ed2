"""A full disk and an unwritable folder: one clear message naming the path, the previous file intact,
no partial files left behind. Saving a model, exporting an image, exporting a Primitives set.

Two ways: the OSError injected in-process (runs everywhere), and a real size-limited, then read-only,
tmpfs mounted in a private mount namespace (``unshare -m``; skipped where that is not allowed).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from core.checkpoints import CheckpointError
from core.images import ImageError, encode_png, save_image
from core.primitives.config import PrimitivesError
from core.primitives.export import export_set
from core.singan.model import load_model, save_model

ROOT = Path(__file__).resolve().parents[2]


def _sample_model_path() -> Path:
    from app.bundled import SAMPLE_MODEL  # Qt-free module

    return SAMPLE_MODEL


def _hidden(folder: Path) -> list[str]:
    """Temporary or partial leftovers: every dot-file of a folder."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _enospc(*_a, **_k):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture
def noise():
    return (np.random.default_rng(0).random((40, 48, 3)) * 255).astype(np.uint8)


def test_model_save_on_full_disk_keeps_the_previous_model(tmp_path, monkeypatch):
    model = load_model(_sample_model_path())
    target = tmp_path / "m.ganvas"
    save_model(model, target)
    before = {p.name: p.read_bytes() for p in target.iterdir()}

    real_write_text = Path.write_text

    def half_then_full(self, data, *a, **k):  # the manifest write hits a full disk halfway
        real_write_text(self, data[: len(data) // 2], *a, **k)
        _enospc()

    monkeypatch.setattr(Path, "write_text", half_then_full)
    with pytest.raises(CheckpointError) as err:
        save_model(model, target)
    monkeypatch.undo()
    msg = str(err.value)
    assert str(target) in msg and "disk is full" in msg and "\n" not in msg
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert _hidden(tmp_path) == []
    assert load_model(target).num_trained == model.num_trained


def test_model_save_into_unwritable_folder_says_where(tmp_path, monkeypatch):
    model = load_model(_sample_model_path())
    target = tmp_path / "ro" / "m.ganvas"
    target.parent.mkdir()

    def read_only(self, *a, **k):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))

    monkeypatch.setattr(Path, "mkdir", read_only)
    with pytest.raises(CheckpointError) as err:
        save_model(model, target)
    assert str(target) in str(err.value) and "read-only" in str(err.value)
    monkeypatch.undo()
    assert list(target.parent.iterdir()) == []


def test_image_export_on_full_disk_keeps_the_previous_file(tmp_path, monkeypatch, noise):
    target = tmp_path / "out.png"
    save_image(target, noise[:8, :8])
    before = target.read_bytes()
    real_write_bytes = Path.write_bytes

    def half_then_full(self, data):
        real_write_bytes(self, data[: len(data) // 2])
        _enospc()

    monkeypatch.setattr(Path, "write_bytes", half_then_full)
    with pytest.raises(ImageError) as err:
        save_image(target, noise)
    monkeypatch.undo()
    assert str(target) in str(err.value) and "disk is full" in str(err.value)
    assert "unchanged" in str(err.value)
    assert target.read_bytes() == before
    assert _hidden(tmp_path) == []


@pytest.mark.parametrize("fmt", ["png", "zip", "npy"])
def test_primitives_export_on_full_disk_leaves_no_partial_set(tmp_path, monkeypatch, fmt):
    out = tmp_path / "set"
    calls = {"n": 0}
    import core.primitives.export as export

    real_encode = export.encode_png

    def encode_then_full(*a, **k):  # the disk fills after a few images
        calls["n"] += 1
        if calls["n"] > 5:
            _enospc()
        return real_encode(*a, **k)

    monkeypatch.setattr(export, "encode_png", encode_then_full)
    if fmt == "npy":  # the memory map is written by numpy: fail its flush instead
        monkeypatch.setattr(export, "generate_indices",
                            lambda *a, **k: _enospc() if calls.__setitem__("n", calls["n"] + 1) or calls["n"] > 1
                            else np.zeros((len(a[2]), 16, 16, 3), np.uint8))
    with pytest.raises(PrimitivesError) as err:
        export_set(out, "primitives-ps", 12, size=16, fmt=fmt, workers=1, chunk=2)
    msg = str(err.value)
    assert str(out) in msg and "disk is full" in msg
    assert list(out.iterdir()) == []  # no image, no partial file, no manifest


def test_primitives_export_to_unwritable_folder_says_where(tmp_path, monkeypatch):
    out = tmp_path / "set"
    import core.primitives.export as export

    def read_only(self, data):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))

    monkeypatch.setattr(Path, "write_bytes", read_only)
    with pytest.raises(PrimitivesError) as err:
        export.export_set(out, "primitives-ps", 4, size=16, fmt="png", workers=1)
    assert str(out) in str(err.value) and "read-only" in str(err.value)


# ----------------------------------------------------------------------------- a real tmpfs

_SCRIPT = textwrap.dedent("""
    import json, os, subprocess, sys
    from pathlib import Path
    import numpy as np
    import core.primitives.export as export
    from core.jobs import GanvasError
    from core.images import save_image
    from core.singan.model import load_model, save_model

    disk, sample = Path(sys.argv[1]), sys.argv[2]
    out = {}
    model = load_model(sample)
    save_model(model, disk / "m.ganvas")                       # < 1 MB: fits once
    small = (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)
    save_image(disk / "a.png", small)
    import shutil
    (disk / "filler").write_bytes(bytes(shutil.disk_usage(disk).free - 200_000))  # 200 kB left
    snapshot = lambda: {str(p.relative_to(disk)): p.read_bytes() for p in sorted(disk.rglob("*")) if p.is_file()}

    def attempt(name, fn):
        before = snapshot()
        try:
            fn()
            out[name] = {"error": None}
        except GanvasError as exc:
            out[name] = {"error": str(exc)}
        out[name]["unchanged"] = snapshot() == before
        out[name]["hidden"] = sorted(p.name for p in disk.rglob(".*"))

    big = (np.random.default_rng(1).random((1024, 1024, 3)) * 255).astype(np.uint8)
    attempt("full_model", lambda: save_model(model, disk / "m.ganvas"))   # needs a second copy: no room
    attempt("full_image", lambda: save_image(disk / "a.png", big))
    attempt("full_set_checked", lambda: export.export_set(disk / "set", "primitives-ps", 200, size=64, workers=1))
    export._check_space = lambda *a: None                       # the disk fills while the set is written
    attempt("full_set", lambda: export.export_set(disk / "set", "primitives-ps", 400, size=64, workers=1))
    attempt("full_zip", lambda: export.export_set(disk / "zset", "primitives-ps", 400, size=64, fmt="zip",
                                                  workers=1))
    attempt("full_npy", lambda: export.export_set(disk / "nset", "primitives-ps", 400, size=64, fmt="npy",
                                                  workers=1))
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    attempt("ro_model", lambda: save_model(model, disk / "m.ganvas"))
    attempt("ro_image", lambda: save_image(disk / "a.png", small[:8]))
    attempt("ro_set", lambda: export.export_set(disk / "set2", "primitives-ps", 4, size=16, workers=1))
    out["model_loads"] = load_model(disk / "m.ganvas").num_trained == model.num_trained
    print("RESULT" + json.dumps(out))
""")


def _namespace_tmpfs_works() -> bool:
    if shutil.which("unshare") is None or shutil.which("mount") is None or sys.platform != "linux":
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt && echo ok"],
                           capture_output=True, text=True)
    return probe.stdout.strip() == "ok"


@pytest.mark.skipif(not _namespace_tmpfs_works(), reason="needs `unshare -m` and tmpfs mounts (root on Linux)")
def test_real_full_then_read_only_tmpfs(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    script = tmp_path / "script.py"
    script.write_text(_SCRIPT)
    cmd = (f"mount -t tmpfs -o size=4m tmpfs {disk} && "
           f"{sys.executable} {script} {disk} {_sample_model_path()}")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(["unshare", "-m", "sh", "-c", cmd], capture_output=True, text=True, env=env, timeout=300)
    line = [s for s in run.stdout.splitlines() if s.startswith("RESULT")]
    assert line, run.stdout + run.stderr
    res = json.loads(line[0][len("RESULT"):])
    assert res["model_loads"]
    expect = {"full_model": ("m.ganvas", "disk is full"), "full_image": ("a.png", "disk is full"),
              "full_set_checked": ("set", "Not enough free disk space"), "full_set": ("set", "disk is full"),
              "full_zip": ("zset", "disk is full"), "full_npy": ("nset", "disk is full"),
              "ro_model": ("m.ganvas", "read-only"), "ro_image": ("a.png", "read-only"),
              "ro_set": ("set2", "read-only")}
    for case, (name, reason) in expect.items():
        r = res[case]
        assert r["error"] is not None, case
        assert str(disk / name) in r["error"] and reason in r["error"], (case, r["error"])
        assert r["hidden"] == [], (case, r["hidden"])
    for case in ("full_model", "full_image", "ro_model", "ro_image"):
        assert res[case]["unchanged"], case  # the previous model / image is byte for byte the same
    for case in ("full_set", "full_zip", "full_npy"):
        # no partial set: the folder holds nothing (or was never made)
        assert res[case]["unchanged"] or res[case]["hidden"] == [], case


def test_png_metadata_survives_a_failed_overwrite(tmp_path, monkeypatch, noise):
    """The file a user exported with its parameters is still readable with them after a failed re-export."""
    from core.images import read_png_metadata

    target = tmp_path / "keep.png"
    target.write_bytes(encode_png(noise, {"seed": 7}))
    monkeypatch.setattr(Path, "write_bytes", lambda self, data: _enospc())
    with pytest.raises(ImageError):
        save_image(target, noise, {"seed": 8})
    monkeypatch.undo()
    assert read_png_metadata(target)["seed"] == "7"
