"""Studio responsiveness: slider release → new image on the canvas, and the longest GUI stall while training.

    python bench/studio.py [--preset fast|paper] [--latency-only] [--sizes 128 250] [--repeats 7] [--train-iters 40]

Runs the real main window offscreen. Latency is measured from the Scale slider's
``valueCommitted`` (what a mouse release emits) until the canvas holds the new image, with the
studio idle before the release (the spectrum of the previous image drawn), for every
start scale of a ``--preset`` model (default ``paper``) at each size (the model is trained for a single iteration
per scale: latency depends on the network sizes, not on the weights). The eager column times the
same generator chain in the same process without our folding / inference mode / channels-last,
for the ratio.
The Primitives row times a control change until its 16-image preview grid is on screen.
The stall is the longest extra delay of a 5 ms GUI timer while the Train panel trains a model.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# core first: it sets the OpenMP wait policy before torch loads (spinning threads collapse on a busy CPU)
import core  # noqa: E402, F401, I001
import torch  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.main_window import MainWindow  # noqa: E402
from app.settings import Settings  # noqa: E402
from app.studio import make_app  # noqa: E402
from bench.singan import eager_sample, median_ms, photo  # noqa: E402
from core.singan.config import preset  # noqa: E402
from core.singan.train import train_singan  # noqa: E402


def release_to_canvas_ms(window: MainWindow, scale: int) -> float:
    """Move the slider to ``scale`` and emit the release; return ms until the canvas shows the result."""
    gen = window.generate_panel
    before = window.doc.shown
    t0 = time.perf_counter()
    gen.scale.set_value(scale)
    gen.scale.valueCommitted.emit(scale)
    _wait(lambda: window.doc.shown is not before and window.doc.shown.params.get("start_scale") == str(scale),
          f"the scale-{scale} image on the canvas")
    return (time.perf_counter() - t0) * 1000.0


def _wait(done, what: str = "the studio", timeout_s: float = 120.0) -> None:
    """Process events until ``done()``; a bench that waits for something that never comes stops with its name."""
    deadline = time.perf_counter() + timeout_s
    while not done():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"bench/studio.py: waited {timeout_s:.0f} s for {what}")
        QApplication.processEvents()
        time.sleep(0.001)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[128, 250])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--train-iters", type=int, default=40, help="iterations per scale of the stall measurement")
    ap.add_argument("--preset", default="paper", choices=["paper", "fast"], help="architecture of the latency model")
    ap.add_argument("--latency-only", action="store_true", help="skip the Primitives and training measurements")
    args = ap.parse_args()
    make_app()
    tmp = Path(tempfile.mkdtemp(prefix="ganvas-bench-"))
    window = MainWindow(Settings(QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat)), confirm_dialogs=False)
    window.resize(1500, 940)
    window.show()
    QApplication.processEvents()
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads, cpu; real main window offscreen")
    print(f"\n## slider release → new image on the canvas ({args.preset} preset model, median ms)")
    print("| size | start scale | canvas latency | generator alone, eager reference |")
    print("|---|---|---|---|")
    for size in args.sizes:
        img = photo(size)
        model = train_singan(img, preset(args.preset, max_size=size, iters=1), device="cpu")
        window.doc.set_photo(img, Path("rocket.png"))
        window.doc.set_model(model, None)
        window.wait_idle()
        for start in range(model.num_scales):
            other = (start + 1) % model.num_scales
            times = []
            for _ in range(args.repeats):
                release_to_canvas_ms(window, other)  # move away, so the next release is a real change
                window.wait_idle()  # and let the spectrum of that image finish, as it does while a user looks
                times.append(release_to_canvas_ms(window, start))
            ref = median_ms(lambda s=start, m=model: eager_sample(m, s), args.repeats)
            print(f"| {size} px ({model.scale_label(model.num_scales - 1)}) | {start} ({model.scale_label(start)}) "
                  f"| {statistics.median(times):.0f} ms | {ref:.0f} ms |")

    if args.latency_only:
        window.close()
        return
    print("\n## Primitives panel: a control change → its 16-image grid on screen (median ms)")
    print("| grid image size | latency |")
    print("|---|---|")
    prim = window.primitives_panel
    window.docks["Primitives"].raise_()
    # saliency scales on the slider's 0.05 grid, each unlike the one before across both sizes (an off-grid
    # value snaps to the one shown, and an unchanged one makes no new grid: nothing would come to wait for)
    saliency_scales = itertools.cycle([0.6 + 0.05 * k for k in range(8)])
    for index, size in ((1, 128), (2, 256)):
        prim.image_size.setCurrentIndex(index)
        _wait(lambda size=size: not prim.latest.busy and prim._shown[2] == size, f"the {size}-px Primitives grid")
        times = []
        for _ in range(args.repeats):
            prim.saliency_scale.set_value(next(saliency_scales), emit=True)
            v = prim.saliency_scale.value()
            _wait(lambda v=v: not prim.latest.busy and prim._shown[0].saliency_scale == v,
                  f"the Primitives grid with saliency scale {v}")
            times.append(prim.last_latency_s * 1000)
        print(f"| {size} px | {statistics.median(times):.0f} ms |")
    window.docks["Generate"].raise_()

    print("\n## longest GUI-thread stall while training in the studio")
    print("| training | longest stall |")
    print("|---|---|")
    window.docks["Train"].raise_()  # where a user presses Train
    for name in ("fast", "paper"):
        panel = window.train_panel
        window.doc.set_photo(photo(128), Path("rocket.png"))
        window.wait_idle()
        cfg = preset(name, max_size=128, iters=args.train_iters)
        panel.config = lambda cfg=cfg: cfg
        panel.out_dir = lambda name=name: tmp / f"{name}.ganvas"
        panel.longest_stall_ms = 0.0
        panel.start()
        _wait(lambda p=panel: not p.running, f"the {name} training", timeout_s=1800)
        window.wait_idle()
        print(f"| {name} preset, 128 px, {args.train_iters} it/scale | {panel.longest_stall_ms:.0f} ms |")
    window.close()


if __name__ == "__main__":
    main()
