"""Training checks every scale after training it: a broken reconstruction is trained again, named in
the progress's warning with a seed to try, and recorded in the model's manifest."""

import json
import re

import pytest
import torch

import core.singan.train as train_module
from core.jobs import Cancelled, CancelToken
from core.singan.generate import REC_FLOOR, REC_JUMP, model_warning, scale_health
from core.singan.model import ScaleHealth, load_model
from core.singan.train import train_singan
from tests.core.test_singan import TINY


def _breaking(monkeypatch, scale: int, attempts: range) -> None:
    """Training whose generator of ``scale`` comes out of the tries ``attempts`` adding a flat +0.66 to
    the image below (tail weights zero, bias 0.8): far off the photo, yet nowhere near saturated."""
    real = train_module._train_scale

    def train_scale(model, n, *args, attempt=0, **kwargs):
        trained, d, amp = real(model, n, *args, attempt=attempt, **kwargs)
        if n == scale and attempt in attempts:
            with torch.no_grad():
                trained[-1].tail.weight.zero_()
                trained[-1].tail.bias.fill_(0.8)
        return trained, d, amp

    monkeypatch.setattr(train_module, "_train_scale", train_scale)


def test_a_stage_whose_reconstruction_breaks_down_is_named_with_a_seed_to_try_and_recorded(
        photo, tmp_path, monkeypatch):
    _breaking(monkeypatch, 1, range(3))  # every try of scale 2 breaks
    reports = []
    model = train_singan(photo, TINY.with_(iters=30), seed=4, device="cpu", out_dir=tmp_path / "m", progress=reports.append)
    warnings = [(p.stage_index, p.warning) for p in reports if p.warning]
    assert warnings and warnings[0][0] == 1, warnings  # said when scale 2 ends, not only at the end
    text = warnings[0][1]
    assert re.match(r"The reconstruction broke down at scale 2 after 3 tries: the error of scale 2 "
                    r"\(RMSE 0\.\d\d\) is \d+\.\d× that of scale 1 \(0\.\d\d\)", text), text
    assert "Cancel and train again with another seed (try seed 5)" in text
    assert sum(p.stage.endswith("(it broke down)") for p in reports if p.stage_index == 1) > 0
    health = model.scale_health
    assert [h.tries for h in health] == [1, 3, 1] and health[1].saturated < 0.5
    assert health[1].rec_rmse > max(REC_JUMP * health[0].rec_rmse, REC_FLOOR)
    # the manifest records it, and the model loads back with it
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["scale_health"][1]["tries"] == 3 and "broke down at scale 2" in manifest["training_warning"]
    loaded = load_model(tmp_path / "m", "cpu")
    assert loaded.scale_health == [ScaleHealth(**h) for h in manifest["scale_health"]]
    assert loaded.training_warning == model.training_warning
    # opened later, the model says so too, with the seed it was trained with
    assert model_warning(loaded).startswith("The reconstruction broke down at scale 2")
    assert "trained with seed 4" in model_warning(loaded)


def test_a_try_that_broke_down_is_trained_again_and_a_healthy_run_stays_quiet(photo, monkeypatch):
    quiet = []
    healthy = train_singan(photo, TINY.with_(iters=30), seed=0, device="cpu",
                           progress=lambda p: quiet.append(p.warning) if p.warning else None)
    assert quiet == [] and healthy.training_warning == ""
    assert [h.tries for h in healthy.scale_health] == [1, 1, 1]
    assert healthy.scale_health == scale_health(healthy)  # what training recorded is what the model does
    _breaking(monkeypatch, 1, range(1))  # only the first try of scale 2 breaks
    reports = []
    model = train_singan(photo, TINY.with_(iters=30), seed=0, device="cpu", progress=reports.append)
    assert not any(p.warning for p in reports)
    assert any(re.fullmatch(r"scale 2 done in \d+ s \(try 2: the one before broke down\)", p.message) for p in reports)
    assert [h.tries for h in model.scale_health] == [1, 2, 1]


def test_a_model_saved_before_training_recorded_its_health_opens_and_resumes(photo, tmp_path):
    token = CancelToken()
    with pytest.raises(Cancelled):
        train_singan(photo, TINY.with_(iters=2), seed=0, device="cpu", out_dir=tmp_path / "m", cancel=token,
                     progress=lambda p: p.stage_index >= 1 and token.set())
    path = tmp_path / "m" / "manifest.json"
    manifest = json.loads(path.read_text())
    for key in ("scale_health", "training_warning"):
        del manifest[key]
    path.write_text(json.dumps(manifest))
    old = load_model(tmp_path / "m", "cpu")
    assert old.scale_health == [] and old.training_warning == "" and old.num_trained == 1
    resumed = train_singan(photo, TINY.with_(iters=2), seed=0, device="cpu", out_dir=tmp_path / "m", resume=True)
    assert len(resumed.scale_health) == resumed.num_scales == 3  # the scale saved without it is measured


def test_the_cli_prints_a_broken_stage_on_its_own_line(photo, tmp_path, monkeypatch, capsys):
    import main
    from core.images import encode_png

    _breaking(monkeypatch, 1, range(3))
    src = tmp_path / "coffee.png"
    src.write_bytes(encode_png(photo))
    args = ["train", str(src), "--out", str(tmp_path / "m"), "--max-size", "32", "--min-size", "12",
            "--iters", "30", "--seed", "7"]
    assert main.main(args) == 0
    lines = capsys.readouterr().err.splitlines()
    assert any(line.startswith("warning: The reconstruction broke down at scale 2 after 3 tries") and
               line.endswith("Cancel and train again with another seed (try seed 8).") for line in lines), lines
