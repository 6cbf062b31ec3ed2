"""README and docs/ figures from trained models: SinGAN sample grids, the spectrum viewer with a photo and 8 samples.

    python bench/readme_figures.py --fast rocket_fast.ganvas --paper rocket_paper.ganvas [--out resources/readme]

Models come from ``python main.py train rocket.png --preset fast|paper --max-size 128`` (see
docs/singan.md). Prints α of the photo and of the samples and their spectral distance. The studio
screenshot itself comes from ``python main.py --screenshot resources/readme/studio.png``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.images import make_grid, save_image  # noqa: E402
from core.singan.generate import SampleSettings, sample  # noqa: E402
from core.singan.model import load_model  # noqa: E402


def sample_grid(model_path: Path, out: Path) -> list[np.ndarray]:
    """Row 1: the photo and 5 samples from the coarsest scale; row 2: 6 from the second-coarsest."""
    m = load_model(model_path, "cpu")
    coarse = list(sample(m, SampleSettings(start_scale=0, seed=1), 5))
    second = list(sample(m, SampleSettings(start_scale=1, seed=1), 6))
    img = make_grid(np.stack([m.image, *coarse, *second]), cols=6, pad=4)
    import cv2

    save_image(out, cv2.resize(img, (img.shape[1] * 2, img.shape[0] * 2), interpolation=cv2.INTER_NEAREST))
    return coarse


def spectrum_figure(model_path: Path, out: Path) -> None:
    from PySide6.QtCore import QSettings

    from app.main_window import MainWindow
    from app.settings import Settings
    from app.studio import make_app
    from core.spectrum import fit_power_law, radial_profile, spectral_distance

    make_app()
    tmp = Path(tempfile.mkdtemp())
    w = MainWindow(Settings(QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat)), confirm_dialogs=False)
    w.resize(1500, 940)
    w.show()
    w.open_model(model_path)
    w.wait_idle()  # the model loads on a worker
    w.generate_panel.generate_batch(8)
    w.wait_idle()
    w.docks["Spectrum"].raise_()
    w.spectrum_panel.refresh()
    w.wait_idle()
    view = w.spectrum_panel.view
    view.resize(1100, 520)
    view.grab().save(str(out))
    photo = w.doc.model.image
    samples = [w.gallery.image(i) for i in range(w.gallery.count())]
    a_photo = fit_power_law(radial_profile(photo)).alpha_amplitude
    a_samples = [fit_power_law(radial_profile(s)).alpha_amplitude for s in samples]
    print(f"alpha photo {a_photo:.2f}; samples mean {np.mean(a_samples):.2f} (min {min(a_samples):.2f}, "
          f"max {max(a_samples):.2f}); spectral distance photo vs samples {spectral_distance([photo], samples):.3f}")
    w.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fast", type=Path, required=True)
    ap.add_argument("--paper", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "resources" / "readme")
    args = ap.parse_args()
    sample_grid(args.fast, args.out / "singan_fast_samples.png")
    if args.paper:
        sample_grid(args.paper, args.out / "singan_paper_samples.png")
    spectrum_figure(args.fast, args.out / "spectrum_singan.png")


if __name__ == "__main__":
    main()
