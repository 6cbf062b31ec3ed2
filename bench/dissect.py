"""Does switching off a painted concept's units remove it, and switching them on draw it? One command,
one table (docs/dissection.md):

    python bench/dissect.py MODEL --seed S --mask OBJECT.png --area BACKGROUND.png [--layer L] [--top K]
        [--samples N] [--out DIR] [--threads 1]

- object share inside the region: the share of the painted region's pixels that a colour-and-texture
  classifier (core.dissect.ConceptMatcher, fitted on the sample: painted object vs the brushed
  background area) calls "object", before and after ablating the top K units everywhere;
- far change: the mean |after - before| (0-255) over pixels farther than 1/8 of the image's longer side
  from the region;
- the same with the units ablated only inside the region (GANPaint's brushed ablation);
- activation: the object share inside the brushed background area before and after activating the same
  units only there.

With --out it also writes before/after/activated PNGs and the unit maps (figures for the docs).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402


def object_share(matcher, image: np.ndarray, where: np.ndarray) -> float:
    t = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 127.5 - 1
    return float(matcher.region(t).numpy()[where].mean())


def main() -> None:
    from core import dissect as D
    from core.cli.dissect import load_any
    from core.images import make_grid, read_mask, save_image

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mask", required=True)
    ap.add_argument("--area", required=True)
    ap.add_argument("--layer", nargs="*", help="layers to try (default: every block of the two finest scales)")
    ap.add_argument("--top", type=float, default=0.1, help="share of the layer's units to switch")
    ap.add_argument("--samples", type=int, default=1)
    ap.add_argument("--out")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_any(args.model, "cpu")
    subject = D.subject_for(model)
    region, area = read_mask(args.mask) > 0.5, read_mask(args.area) > 0.5
    before = D.draw_with(model, None, args.seed, subject)
    # the classifier tells the object from the background: fitted on those pixels alone
    matcher = D.ConceptMatcher(torch.from_numpy(before).permute(2, 0, 1)[None].float() / 127.5 - 1,
                               torch.from_numpy(region), torch.from_numpy(area))
    h, w = region.shape
    far = cv2.distanceTransform((~region).astype(np.uint8), cv2.DIST_L2, 5) > max(h, w) / 8
    layers = args.layer or [f"scale{n}.block{i}" for n in range(model.num_trained - 2, model.num_trained)
                            for i in range(subject.blocks)]
    print(f"model {args.model} seed {args.seed}: region {region.mean():.1%} of the image, area {area.mean():.1%}, "
          f"far pixels {far.mean():.1%}; object share before: region {object_share(matcher, before, region):.2f}, "
          f"area {object_share(matcher, before, area):.2f}")
    print("| layer | units switched | object in region, ablated | far change /255 | ablated inside the region only: "
          "object, far change | object in area, activated | IoU of the top units | CPU s |")
    print("|---|---|---|---|---|---|---|---|")
    for layer in layers:
        c0 = time.process_time()
        d = D.dissect(model, layer, region.astype(np.float32), seed=args.seed, samples=args.samples, subject=subject)
        k = max(1, int(round(args.top * d.units)))
        ablated = D.draw_with(model, D.Intervention.from_dissection(d, k), args.seed, subject)
        inside = D.draw_with(model, D.Intervention.from_dissection(d, k, area=region.astype(np.float32)),
                             args.seed, subject)
        lit = D.draw_with(model, D.Intervention.from_dissection(d, k, "activate", area.astype(np.float32)),
                          args.seed, subject)
        change = np.abs(ablated.astype(np.float32) - before).mean(-1)
        cpu = time.process_time() - c0
        change_in = np.abs(inside.astype(np.float32) - before).mean(-1)
        print(f"| {layer} | {k}/{d.units} | {object_share(matcher, ablated, region):.2f} | {change[far].mean():.1f} | "
              f"{object_share(matcher, inside, region):.2f}, {change_in[far].mean():.1f} | "
              f"{object_share(matcher, lit, area):.2f} | {', '.join(f'{d.iou[u]:.2f}' for u in d.top(k))} | {cpu:.1f} |")
        if args.out:
            out = Path(args.out) / layer
            out.mkdir(parents=True, exist_ok=True)
            save_image(out / "before.png", before)
            save_image(out / "ablated.png", ablated)
            save_image(out / "activated.png", lit)
            save_image(out / "units.png", D.unit_grid(d, min(8, d.units)))
            save_image(out / "row.png", make_grid([before, ablated, inside, lit], cols=4,
                                                  labels=["before", f"top {k} ablated", "inside region",
                                                          "activated in area"]))


if __name__ == "__main__":
    main()
