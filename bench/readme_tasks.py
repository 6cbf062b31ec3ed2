"""Make docs/applications.md's SinGAN-application figures with the CLI, printing every command it runs.

    python bench/readme_tasks.py --work /tmp/ganvas-tasks [--out resources/readme] [--size 250]

The photos are scikit-image's ``rocket`` (SpaceX, released into the public domain) and, for retargeting,
its ``brick`` texture (CC0); neither is in the repository. The script trains the models it needs
unless they are already in ``--work`` (fast preset: ~20 min of a CPU core for the 250-px model, a
few for the 128-px brick and the 64-px super-resolution model), draws the
inputs a user would make on the canvas (a painting, a moved region, a pasted object), runs
``python main.py apply ...`` for each task and lays input and result side by side.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.images import read_image, save_image  # noqa: E402
from core.singan.requests import REQUESTS  # noqa: E402

TASKS = list(REQUESTS)
#: Iterations of teaching the model harmonization (ConSinGAN's augmented copies of the photo) for the
#: figure: the setting that met the issue's harmonization targets in bench/apps.py (docs/applications.md).
FIGURE_ADAPT_ITERS = 20


def run(*args: str) -> float:
    """Run ``python main.py ARGS`` from the repository root; return its wall time in seconds."""
    print("$ python main.py " + " ".join(shlex.quote(a) for a in args), flush=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, check=True)
    return time.perf_counter() - t0


def panel(images: list[tuple[str, np.ndarray]], height: int = 260) -> np.ndarray:
    """Images side by side at one height, each with a caption above it (white on dark)."""
    tiles = []
    for caption, img in images:
        w = round(img.shape[1] * height / img.shape[0])
        tile = cv2.resize(img, (w, height), interpolation=cv2.INTER_NEAREST if img.shape[0] < height else cv2.INTER_AREA)
        head = np.full((26, w, 3), 32, np.uint8)
        cv2.putText(head, caption, (4, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (235, 235, 235), 1, cv2.LINE_AA)
        tiles += [np.vstack([head, tile]), np.full((height + 26, 6, 3), 255, np.uint8)]
    return np.hstack(tiles[:-1])


def load(path: Path) -> np.ndarray:
    return read_image(path).rgb


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=ROOT / "resources" / "readme")
    ap.add_argument("--tasks", nargs="+", default=TASKS, choices=TASKS, help="which figures to make (default: all)")
    ap.add_argument("--size", type=int, default=250, help="the rocket model's longer side (SinGAN's published 250 px)")
    args = ap.parse_args()
    work, out = args.work.resolve(), args.out.resolve()
    work.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)

    from skimage import data

    photo = work / "rocket.png"
    if not photo.exists():
        save_image(photo, data.rocket())
    model, sr_model = work / "rocket.ganvas", work / "rocket_sr.ganvas"
    if not model.exists():
        run("train", str(photo), "--out", str(model), "--preset", "fast", "--max-size", str(args.size))
    if "sr" in args.tasks and not sr_model.exists():
        run("train", str(photo), "--out", str(sr_model), "--preset", "fast", "--max-size", "64", "--task", "sr")

    from core.singan.model import load_model

    m = load_model(model, "cpu")
    real = m.image  # the training image at the finest scale (250 × 167 at 250 px)
    h, w = real.shape[:2]
    mid = str(m.num_trained // 2)  # paint, edit and harmonize inject at the middle scale (bench/apps.py's choice)
    times: dict[str, float] = {}

    # Paint-to-image: a clip-art of the scene in the photo's colours (sky, a tower, a rocket, lights).
    if "paint" in args.tasks:
        paint = np.zeros_like(real)
        paint[:] = (22, 40, 92)
        paint[int(h * 0.55):] = (30, 52, 110)
        cv2.rectangle(paint, (int(w * 0.15), int(h * 0.2)), (int(w * 0.2), h), (20, 20, 25), -1)
        cv2.rectangle(paint, (int(w * 0.6), int(h * 0.25)), (int(w * 0.66), int(h * 0.92)), (215, 200, 170), -1)
        cv2.rectangle(paint, (0, int(h * 0.92)), (w, h), (160, 110, 50), -1)
        for x in (0.35, 0.5, 0.8):
            cv2.circle(paint, (int(w * x), int(h * 0.9)), max(3, w // 42), (255, 210, 120), -1)
        save_image(work / "painting.png", paint)
        times["paint"] = run("apply", "paint", str(model), "--input", str(work / "painting.png"), "--scale", mid,
                             "--out", str(work / "painted.png"))
        save_image(out / "tasks_paint.png", panel([("training image", real), ("painting", paint),
                                                   (f"paint to image, scale {mid}", load(work / "painted.png"))], height=h))

    # Editing: move the rocket to the left; the mask marks the pasted and the vacated regions.
    if "edit" in args.tasks:
        x0, x1 = int(w * 0.5), int(w * 0.68)
        edited, mask = real.copy(), np.zeros((h, w), np.uint8)
        dx = -int(w * 0.25)
        edited[:, x0 + dx:x1 + dx] = real[:, x0:x1]
        mask[:, x0 + dx:x1 + dx] = 255
        save_image(work / "edited.png", edited)
        save_image(work / "edited_mask.png", mask)
        times["edit"] = run("apply", "edit", str(model), "--input", str(work / "edited.png"), "--mask",
                            str(work / "edited_mask.png"), "--scale", mid, "--out", str(work / "edit_result.png"))
        save_image(out / "tasks_edit.png", panel([("training image", real), ("naive edit (copy, paste)", edited),
                                                  (f"edit, scale {mid}", load(work / "edit_result.png"))], height=h))

    # Harmonization: paste a cut-out (a round crop of Chelsea the cat, alpha = the disc) into the sky.
    if "harmonize" in args.tasks:
        s, ox, oy = round(0.3 * h), int(w * 0.3), int(h * 0.12)
        cat = cv2.resize(data.chelsea()[40:260, 80:300], (s, s), interpolation=cv2.INTER_AREA)
        alpha = np.zeros((s, s), np.uint8)
        cv2.circle(alpha, (s // 2, s // 2), s // 2 - 1, 255, -1, cv2.LINE_AA)
        save_image(work / "background.png", real)
        save_image(work / "cutout.png", np.dstack([cat, alpha]))
        times["harmonize"] = run("apply", "harmonize", str(model), "--input", str(work / "background.png"), "--object",
                                 str(work / "cutout.png"), "--x", str(ox), "--y", str(oy), "--scale", mid,
                                 "--out", str(work / "harmonized.png"))
        times["harmonize taught"] = run(
            "apply", "harmonize", str(model), "--input", str(work / "background.png"), "--object",
            str(work / "cutout.png"), "--x", str(ox), "--y", str(oy), "--scale", mid,
            "--adapt-iters", str(FIGURE_ADAPT_ITERS), "--out", str(work / "harmonized_ft.png"))
        naive = real.copy()
        a = alpha[..., None] / 255.0
        naive[oy:oy + s, ox:ox + s] = (a * cat + (1 - a) * naive[oy:oy + s, ox:ox + s]).astype(np.uint8)
        save_image(out / "tasks_harmonize.png", panel([
            ("naive paste", naive), (f"harmonized, scale {mid}", load(work / "harmonized.png")),
            (f"taught {FIGURE_ADAPT_ITERS} it., harmonized", load(work / "harmonized_ft.png"))], height=h))

    # Super-resolution ×4 with the SR model, next to bicubic.
    if "sr" in args.tasks:
        times["sr"] = run("apply", "sr", str(sr_model), "--factor", "4", "--out", str(work / "sr_x4.png"),
                          "--bicubic-out", str(work / "bicubic_x4.png"))
        sr_img, bic = load(work / "sr_x4.png"), load(work / "bicubic_x4.png")
        lo = load_model(sr_model, "cpu").image
        save_image(out / "tasks_sr.png", panel([("input (training image)", lo), ("bicubic x4", bic),
                                                ("SinGAN x4", sr_img)], height=380))

    # Animation: a momentum walk in the coarsest noise, 100 frames at 10 fps; a strip of 6 frames.
    if "animate" in args.tasks:
        times["animate"] = run("apply", "animate", str(model), "--scale", "0", "--frames", "100", "--fps", "10",
                               "--out", str(out / "tasks_animation.gif"))
        ok, frames = cv2.imreadmulti(str(out / "tasks_animation.gif"))
        if not ok:
            from PIL import Image, ImageSequence

            frames = [np.asarray(f.convert("RGB"))[..., ::-1] for f in ImageSequence.Iterator(Image.open(out / "tasks_animation.gif"))]
        picks = [frames[i][..., ::-1] for i in range(0, len(frames), max(1, len(frames) // 6))][:6]
        save_image(out / "tasks_animation.png", panel([(f"frame {i * max(1, len(frames) // 6)}", f)
                                                       for i, f in enumerate(picks)], height=150))

    # Retargeting: twice as wide, from the coarsest scale; the rocket scene, then a texture (brick),
    # where a single-image GAN has the easier job.
    if "retarget" in args.tasks:
        brick = work / "brick.ganvas"
        if not brick.exists():
            save_image(work / "brick.png", np.repeat(data.brick()[..., None], 3, axis=2))
            run("train", str(work / "brick.png"), "--out", str(brick), "--preset", "fast", "--max-size", "128")
        times["retarget"] = run("apply", "retarget", str(model), "--width", "2x", "--height", "1x",
                                "--out", str(work / "wide.png"))
        run("apply", "retarget", str(brick), "--width", "2x", "--height", "1x", "--out", str(work / "brick_wide.png"))
        rows = [panel([("training image", real), ("retarget 2x wide", load(work / "wide.png"))]),
                panel([("training image", load_model(brick, "cpu").image), ("retarget 2x wide", load(work / "brick_wide.png"))])]
        width = max(r.shape[1] for r in rows)
        rows = [np.pad(r, ((0, 6), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
        save_image(out / "tasks_retarget.png", np.vstack(rows)[:-6])

    print("\nwall time per command (process start + model load + task), seconds:")
    for k, v in times.items():
        print(f"  {k:<10} {v:.1f}")


if __name__ == "__main__":
    main()
