"""Issue 15 through the real command line: defaults in --help, resume from the checkpoint's own
settings, no silent restart, no display, checkpoint permissions, terminal progress in logs, threads."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import main
from core.checkpoints import MANIFEST_FILE, TENSORS_FILE
from core.cli import TerminalProgress, prog_name
from core.images import encode_png
from core.jobs import Cancelled, CancelToken, Progress
from core.singan.config import PRESETS
from core.singan.model import model_summary
from core.singan.train import train_singan

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, env: dict | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items()}
    full.update(env or {})
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True, text=True,
                          env=full, timeout=timeout)


def test_train_help_shows_the_default_preset_and_every_default():
    r = run("train", "--help")
    assert r.returncode == 0
    text = " ".join(r.stdout.split())
    assert "default: fast" in text and "(default: auto)" in text and "(default: 0)" in text
    for name in PRESETS:  # the choices come from the presets themselves
        assert name in text
    assert "GIF" in text  # every format the reader accepts
    sample = " ".join(run("sample", "--help").stdout.split())
    assert "(default: 10)" in sample and "(default: 1.0)" in sample
    assert "default: None" not in sample and "default: False" not in sample


def test_usage_names_the_command_that_was_run(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["/usr/local/bin/ganvas"])
    assert prog_name() == "ganvas"
    monkeypatch.setattr(sys, "argv", ["main.py"])
    assert prog_name() == "python main.py"


def _partial_model(photo, out: Path) -> int:
    """A fast-preset training at 32 px, interrupted after its first scale, autosaved in ``out``."""
    cancel = CancelToken()
    cfg = PRESETS["fast"].with_(max_size=32, min_size=12, iters=6)

    def progress(p: Progress) -> None:
        if p.stage_index >= 1:
            cancel.set()

    with pytest.raises(Cancelled):
        train_singan(photo, cfg, out_dir=out, seed=3, progress=progress, cancel=cancel)
    return model_summary(out)["num_trained"]


def test_resume_takes_its_settings_from_the_checkpoint(photo, tmp_path, capsys):
    src, out = tmp_path / "photo.png", tmp_path / "m.ganvas"
    src.write_bytes(encode_png(photo))
    kept = _partial_model(photo, out)
    total = len(model_summary(out)["shapes"])
    assert 1 <= kept < total

    # without --resume: refused, with the way out, and the autosave left alone
    assert main.main(["train", str(src), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "--resume" in err and f"{kept} of {total} scales" in err
    assert model_summary(out)["num_trained"] == kept

    # the README's command: no preset, no size; the checkpoint's own are used
    assert main.main(["train", str(src), "--out", str(out), "--resume"]) == 0
    printed = capsys.readouterr().out
    assert f"resuming from scale {kept + 1} of {total}" in printed
    assert f"trained scales {kept + 1}-{total} of {total}" in printed
    done = model_summary(out)
    assert done["complete"] and done["seed"] == 3 and done["config"]["max_size"] == 32


def test_training_into_a_folder_of_other_files_is_refused(photo, tmp_path, capsys):
    src, out = tmp_path / "photo.png", tmp_path / "holiday"
    src.write_bytes(encode_png(photo))
    out.mkdir()
    (out / "beach.jpg").write_bytes(b"precious")
    assert main.main(["train", str(src), "--out", str(out), "--max-size", "24", "--iters", "2"]) == 1
    assert "not a Ganvas model" in capsys.readouterr().err
    assert (out / "beach.jpg").read_bytes() == b"precious"


def test_checkpoint_files_get_the_same_usual_permissions(photo, tmp_path):
    out = tmp_path / "m.ganvas"
    _partial_model(photo, out)
    umask = os.umask(0)
    os.umask(umask)
    modes = {name: stat.S_IMODE((out / name).stat().st_mode) for name in (TENSORS_FILE, MANIFEST_FILE)}
    assert modes[TENSORS_FILE] == modes[MANIFEST_FILE] == 0o666 & ~umask


def test_no_display_says_what_is_missing_and_how_to_run_headless():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    r = subprocess.run([sys.executable, "main.py"], cwd=ROOT, capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 2, r.stderr
    assert "No display" in r.stderr and "--screenshot" in r.stderr and "xvfb-run" in r.stderr


def test_missing_qt_libraries_are_named_with_their_debian_packages():
    ldd = ("\tlibQt6Gui.so.6 => /x/libQt6Gui.so.6 (0x1)\n\tlibxcb-cursor.so.0 => not found\n"
           "\tlibxcb-icccm.so.4 => not found\n\tlibxcb-cursor.so.0 => not found\n")
    assert main.missing_libraries(ldd) == ["libxcb-cursor.so.0", "libxcb-icccm.so.4"]
    problem = main.display_problem({"DISPLAY": ":99"}, "linux")
    if problem is None:
        pytest.skip("this machine has every library Qt's X11 plugin needs")
    assert "sudo apt-get install" in problem and "libxcb" in problem


def test_terminal_progress_in_a_log_keeps_quick_stages_and_one_step_rates_out():
    log = io.StringIO()
    bar = TerminalProgress(log, log_interval_s=5.0)
    for p in (Progress("load", 0, 1), Progress("load", 1, 1, rate=352609.3), Progress("load", 1, 1, rate=352609.3)):
        bar(p)
    assert log.getvalue() == ""  # done in well under a second: nothing breaks up the command's output
    bar._stage_start -= 2.0  # a stage that took two seconds is reported once, without a one-step rate
    bar(Progress("write", 0, 1))
    bar._stage_start -= 2.0
    bar(Progress("write", 1, 1, rate=352609.3))
    bar(Progress("write", 1, 1, rate=352609.3))
    lines = log.getvalue().splitlines()
    assert len(lines) == 1 and "1/1" in lines[0] and "it/s" not in lines[0]


def test_primitives_export_says_each_count_once(tmp_path):
    r = run("primitives", "--out", str(tmp_path / "set"), "--n", "120", "--size", "32", "--workers", "1")
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == len(set(lines)), r.stderr
    for ln in lines:
        assert ln.count("120/120") <= 1, ln


def test_thread_policy_sets_the_count_on_the_calling_thread(monkeypatch):
    import torch

    from core.device import ThreadPolicy, threads_for

    assert threads_for(2, 1.0, passive=True) == 2  # passive waiting: one per core, busy or not
    assert threads_for(2, 0.1, passive=False) == 2 and threads_for(2, 1.0, passive=False) == 1
    assert threads_for(2, 5.0, passive=False) == 1
    monkeypatch.setenv("GANVAS_THREADS", "1")
    policy = ThreadPolicy()
    seen = []

    def job():
        seen.append((policy.apply(), torch.get_num_threads()))

    t = threading.Thread(target=job)
    t.start()
    t.join()
    assert seen == [(1, 1)] and policy.describe() == "CPU · 1 thread"
    monkeypatch.delenv("GANVAS_THREADS")
    spin = ThreadPolicy(passive=False)
    n = spin.choose()
    assert 1 <= n <= spin.cores and spin.busy_elsewhere >= 0.0


def test_small_trainings_run_on_one_thread_and_the_cap_ends_with_the_job(monkeypatch):
    """The fast preset at 128 px trains faster on one thread than on two (docs/singan.md ▸ CPU threads);
    bigger models keep one thread per core, and the next job (sampling) gets every core back."""
    import torch

    from core.device import ThreadPolicy
    from core.singan.config import preset, training_threads

    monkeypatch.delenv("GANVAS_THREADS", raising=False)
    assert training_threads(preset("fast")) == 1
    assert training_threads(preset("fast", max_size=250)) is None and training_threads(preset("paper")) is None
    policy = ThreadPolicy(passive=True)
    policy.cores = 2
    seen = []

    def job(limit):
        seen.append((policy.apply(limit), torch.get_num_threads()))

    for limit in (training_threads(preset("fast")), None):
        t = threading.Thread(target=job, args=(limit,))
        t.start()
        t.join()
    assert seen == [(1, 1), (2, 2)]
    policy.limit = 1  # as apply(1) leaves it, without changing this thread's count
    assert policy.choose() == 1 and "too small to split" in policy.explain()


def test_engine_sets_thread_and_kernel_cache_env_before_torch_loads_and_users_values_win():
    probe = ("import os, core, torch; print(os.environ['OMP_WAIT_POLICY'], "
             "os.environ['ONEDNN_PRIMITIVE_CACHE_CAPACITY'])")
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "ONEDNN_PRIMITIVE_CACHE_CAPACITY")}
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", probe], env=env, cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["PASSIVE", "256"]
    env["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] = "1024"
    out = subprocess.run([sys.executable, "-c", probe], env=env, cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["PASSIVE", "1024"]


def test_terminal_progress_prints_a_warning_on_its_own_line():
    log = io.StringIO()
    bar = TerminalProgress(log, log_interval_s=5.0)
    bar._stage_start -= 2.0
    bar(Progress("Scale 1/4", 10, 10))
    bar(Progress("Scale 1/4", 10, 10, warning="The generator of scale 1 is saturated"))  # the scale's end, again
    assert log.getvalue().splitlines()[-1] == "warning: The generator of scale 1 is saturated"
