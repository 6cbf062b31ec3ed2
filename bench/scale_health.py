"""Each scale's health in trained models: saturated share, reconstruction RMSE and its ratio to the scale
below, the numbers training's per-scale check judges (thresholds: core/singan/generate.py, docs/singan.md).

    python bench/scale_health.py /tmp/q/*.ganvas
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.singan.generate import REC_FLOOR, REC_JUMP, reconstruction_fit, scale_health  # noqa: E402
from core.singan.model import load_model  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+", help="model folders")
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"thresholds: ratio > {REC_JUMP} and RMSE > {REC_FLOOR}")
    print(f"{'preset':10} {'model':44} {'fit':>5}  saturated / RMSE / ratio to the scale below, per scale")
    for path in args.models:
        m = load_model(path, "cpu")
        h = scale_health(m)
        ratios = ["-"] + [f"{h[n].rec_rmse / max(h[n - 1].rec_rmse, 1e-8):.2f}" for n in range(1, len(h))]
        cells = "  ".join(f"{x.saturated:.2f}/{x.rec_rmse:.3f}/{r}" for x, r in zip(h, ratios))
        print(f"{m.config.preset:10} {Path(path).name[:44]:44} {reconstruction_fit(m):5.2f}  {cells}")


if __name__ == "__main__":
    main()
