"""The memory guard's estimate and warning, and errors that name the file they are about."""

from __future__ import annotations

import numpy as np
import pytest

import main as entry
from core.images import save_image
from core.singan.config import preset
from core.singan.memory import MemoryCheck, available_bytes, check_training_memory, estimate_training_bytes


def test_estimate_matches_the_measured_peaks():
    # measured peak RSS (bench/memory.py, docs/reliability.md ▸ Memory guard): paper preset, rocket photo 512×341
    est = estimate_training_bytes(preset("paper", max_size=512), 341, 512)
    assert 0.85 * 4.8e3 < est / 2**20 < 1.15 * 4.8e3
    small = estimate_training_bytes(preset("fast", max_size=128), 85, 128)
    assert small < est / 5  # grows with the size: a 128-px fast training is a fraction


def test_warning_names_the_need_and_what_is_there():
    cfg = preset("paper", max_size=512)
    tight = check_training_memory(cfg, 341, 512, available=2 * 2**30)
    assert isinstance(tight, MemoryCheck) and not tight.fits
    assert "4." in tight.message and "2.0 GB" in tight.message and "512 px" in tight.message
    assert check_training_memory(cfg, 341, 512, available=64 * 2**30).fits
    avail = available_bytes()
    assert avail is None or avail > 0


def test_cli_train_warns_when_memory_is_short(tmp_path, monkeypatch, capsys, photo):
    import core.singan.memory

    image = tmp_path / "p.png"
    save_image(image, photo)
    monkeypatch.setattr(core.singan.memory, "available_bytes", lambda: 10 * 2**20)  # 10 MB left
    import core.singan.train as train

    # stop as soon as training would start: the warning comes before it
    monkeypatch.setattr(train, "train_singan", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    rc = entry.main(["train", str(image), "--out", str(tmp_path / "m.ganvas"), "--max-size", "32",
                     "--min-size", "12", "--device", "cpu"])
    err = capsys.readouterr().err
    assert "warning:" in err and "memory" in err and "available" in err
    assert rc == 130  # then training started (and was interrupted here)


@pytest.fixture
def tiny_png(tmp_path):
    path = tmp_path / "tiny3x3.png"
    save_image(path, np.zeros((3, 3, 3), np.uint8))
    return path


def _error(capsys, argv) -> str:
    rc = entry.main(argv)
    err = capsys.readouterr().err
    assert rc == 1, err
    return err


def test_train_on_a_3x3_image_names_the_file(tiny_png, tmp_path, capsys):
    err = _error(capsys, ["train", str(tiny_png), "--out", str(tmp_path / "m.ganvas")])
    assert "tiny3x3.png" in err and "too small" in err


def test_spectrum_of_a_3x3_image_names_the_file(tiny_png, tmp_path, capsys):
    big = tmp_path / "big.png"
    save_image(big, (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8))
    assert "tiny3x3.png" in _error(capsys, ["spectrum", str(tiny_png)])
    assert "tiny3x3.png" in _error(capsys, ["spectrum", str(big), "--vs", str(tiny_png)])


def test_apply_with_a_misfit_input_names_the_file(tiny_png, capsys):
    from app.bundled import SAMPLE_MODEL

    err = _error(capsys, ["apply", "paint", str(SAMPLE_MODEL), "--input", str(tiny_png), "--out",
                          str(tiny_png.with_name("out.png"))])
    assert "tiny3x3.png" in err


def test_blank_sketch_names_the_file(tmp_path):
    from core.cli.sketchgan import load_sketch_folder
    from core.jobs import GanvasError

    folder = tmp_path / "sketches"
    folder.mkdir()
    ink = np.full((32, 32, 3), 255, np.uint8)
    ink[8:24, 15:17] = 0
    save_image(folder / "a.png", ink)
    save_image(folder / "b_blank.png", np.full((32, 32, 3), 255, np.uint8))
    with pytest.raises(GanvasError, match="b_blank.png"):
        load_sketch_folder(folder)


def test_naming_leaves_messages_that_already_name_the_file():
    from core.files import naming
    from core.jobs import Cancelled, GanvasError

    with pytest.raises(GanvasError, match=r"^'x.png': bad$"):
        with naming("x.png"):
            raise GanvasError("bad")
    with pytest.raises(GanvasError, match=r"^Cannot open 'x.png'$"):
        with naming("x.png"):
            raise GanvasError("Cannot open 'x.png'")
    with pytest.raises(Cancelled, match=r"^Cancelled.$"):
        with naming("x.png"):
            raise Cancelled()
