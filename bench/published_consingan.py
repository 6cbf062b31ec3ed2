"""The published ConSinGAN code as a yardstick: train it on the bench photos and score it like our presets.

    python bench/published_consingan.py --src ~/ConSinGAN --photos rocket chelsea --out /tmp/cpub

``--src`` is a checkout of tohinz/ConSinGAN (it is not part of Ganvas and is not shipped). Its
``main_train.py`` runs unchanged, in process, on the CPU (``--not_cuda``) at ``--size`` px and
``--iters`` iterations per stage (the issue's yardstick: 128 px, 500), with its other defaults (6
stages, 3 trained together, lr scale 0.1). Five of its imports only log or draw: tensorboard, and
torchvision's ``make_grid`` for it, matplotlib's ``imsave`` (its preview JPEGs), tqdm (a bar); the
fifth, albumentations, serves harmonization alone. They are replaced by no-op stand-ins, so no extra
package is needed and nothing the training computes changes. ``np.int`` (gone from numpy) is put
back for its resizer.

After training, ``--samples`` images are drawn from its saved generator the way its own
``generate_samples`` draws them (random noise at every stage, the amplitudes it measured), and scored
with ``bench/quality.py``'s measures against the photo at the size our presets train on. Results
go to ``--out``/results.json under ``PHOTO/published consingan`` (the same keys as bench/quality.py,
so ``print_table`` lists them), with a contact sheet per photo and the samples as PNGs.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import json
import os
import runpy
import sys
import time
import types
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.quality import PHOTOS, load_photo, print_table, score  # noqa: E402
from core.images import make_grid, resize, save_image  # noqa: E402

NAME = "published consingan"


def _stand_ins() -> None:
    """No-op modules for the published code's logging/augmentation imports (see the module docstring)."""

    class _Nothing:
        def __init__(self, *a, **k) -> None:
            pass

        def __getattr__(self, name):
            return lambda *a, **k: None

    class _Bar:
        def __init__(self, iterable, *a, **k) -> None:
            self.iterable = iterable

        def __iter__(self):
            return iter(self.iterable)

        def set_description(self, *a, **k) -> None:
            pass

    def module(name: str, **attrs) -> None:
        mod = types.ModuleType(name)
        mod.__spec__ = importlib.machinery.ModuleSpec(name, None)  # torch's dynamo looks modules up by spec
        mod.__dict__.update(attrs)
        sys.modules[name] = mod

    module("torch.utils.tensorboard", SummaryWriter=_Nothing)
    module("torchvision")
    module("torchvision.utils", make_grid=lambda *a, **k: None)
    module("matplotlib")
    module("matplotlib.pyplot", imsave=lambda *a, **k: None)
    module("matplotlib.patches")
    module("tqdm", tqdm=_Bar)
    names = ("HueSaturationValue IAAAdditiveGaussianNoise GaussNoise OneOf Compose MultiplicativeNoise ToSepia "
             "ChannelDropout ChannelShuffle Cutout InvertImg").split()
    module("albumentations", **{n: _Nothing for n in names})
    np.int = int  # removed from numpy 1.24; the published resizer still uses it


def train_published(src: Path, photo: np.ndarray, run_dir: Path, size: int, iters: int, seed: int) -> Path:
    """Run the published main_train.py on ``photo``; returns the folder it saved its model in."""
    run_dir.mkdir(parents=True, exist_ok=True)
    save_image(run_dir / "photo.png", photo)
    os.chdir(run_dir)  # it writes TrainedModels/ under the working folder
    sys.path.insert(0, str(src))
    sys.argv = ["main_train.py", "--input_name", str(run_dir / "photo.png"), "--not_cuda", "--max_size", str(size),
                "--niter", str(iters), "--manualSeed", str(seed)]
    runpy.run_path(str(src / "main_train.py"), run_name="__main__")
    return max((run_dir / "TrainedModels" / "photo").iterdir(), key=lambda p: p.stat().st_mtime)


def draw_samples(model_dir: Path, n: int, seed: int) -> np.ndarray:
    """Samples as its generate_samples draws them, as uint8 H×W×3."""
    import ConSinGAN.functions as functions  # from --src, on sys.path after training
    import ConSinGAN.models as models
    import torch
    from ConSinGAN.config import get_arguments

    # Rebuilt from its per-stage state dicts (plain tensors): its G.pth is a pickled module, which only an
    # unsafe torch.load could read.
    stages = sorted((d for d in model_dir.iterdir() if d.name.isdigit()), key=lambda d: int(d.name))
    arch = get_arguments().parse_args([])
    arch.train_mode, arch.device = "generation", torch.device("cpu")
    netG = models.GrowingGenerator(arch)
    for _ in stages[1:]:
        netG.init_next_stage()
    netG.load_state_dict(torch.load(stages[-1] / "netG.pth", weights_only=True))
    reals = torch.load(model_dir / "reals.pth", weights_only=True)
    noise_amp = torch.load(model_dir / "noise_amp.pth", weights_only=True)
    shapes = [r.shape for r in reals]
    torch.manual_seed(seed)
    out = []
    with torch.no_grad():
        for _ in range(n):
            x = netG(functions.sample_random_noise(len(reals) - 1, shapes, arch), shapes, noise_amp)
            out.append(((x[0].permute(1, 2, 0).clamp(-1, 1) + 1) * 127.5).round().byte().numpy())
    return np.stack(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", required=True, help="a checkout of tohinz/ConSinGAN")
    ap.add_argument("--photos", nargs="+", default=list(PHOTOS))
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--iters", type=int, default=500, help="iterations per stage (its default is 2000)")
    ap.add_argument("--samples", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="bench_published_consingan")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    _stand_ins()
    src, out = Path(args.src).resolve(), Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.json"
    for name in args.photos:
        photo = load_photo(name)
        scale = args.size / max(photo.shape[:2])
        ours = resize(photo, round(photo.shape[1] * scale), round(photo.shape[0] * scale))  # what our presets see
        t0, c0 = time.perf_counter(), time.process_time()
        model_dir = train_published(src, photo, out / name, args.size, args.iters, args.seed)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        samples = draw_samples(model_dir, args.samples, seed=1000)
        if samples.shape[1:3] != ours.shape[:2]:  # its resizer rounds up: one pixel apart at most
            samples = np.stack([resize(s, ours.shape[1], ours.shape[0]) for s in samples])
        figures = score(samples, ours)
        results = json.loads(results_path.read_text()) if results_path.exists() else {}
        results[f"{name}/{NAME}"] = {"train_s": wall, "cpu_s": cpu, "iters": args.iters, **figures}
        results_path.write_text(json.dumps(results, indent=1))
        (out / name / "samples").mkdir(exist_ok=True)
        for i, img in enumerate(samples):  # for `main.py detect`-style checks and for looking at
            save_image(out / name / "samples" / f"{i:03d}.png", img)
        save_image(out / f"{name}.png", make_grid([ours, *samples[:7]], cols=8, labels=["photo"] + [NAME] * 7))
        print(f"{name}: train {wall:.0f} s (cpu {cpu:.0f} s)  " + "  ".join(f"{k} {v:.3f}" for k, v in figures.items()),
              flush=True)
    print_table(json.loads(results_path.read_text()), [NAME], args.photos)


if __name__ == "__main__":
    main()
