"""``apply``: SinGAN's image tasks from the command line, one sub-command per request type.

The sub-commands and their options are made from :data:`core.singan.requests.REQUESTS` and the
requests' fields, so the CLI builds exactly the requests the studio builds: it reads the files a
field names (image, RGBA cut-out, mask), fills in the fields, runs the request and saves the result
with the request's own metadata.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import MISSING, fields
from pathlib import Path

from core.files import naming
from core.images import ImageError, read_image, read_mask, read_rgba, save_image
from core.singan.requests import REQUESTS, TaskRequest, parse_size

EXAMPLES = """examples:
  python main.py apply paint cells.ganvas --input painting.png --scale 1 --out painted.png
  python main.py apply edit cells.ganvas --input edited.png --mask edited_mask.png --scale 2
  python main.py apply harmonize cells.ganvas --input background.png --object cutout.png --x 20 --y 30 --scale 2
  python main.py apply sr stars_sr.ganvas --factor 4 --out stars_x4.png
  python main.py apply animate cells.ganvas --scale 1 --frames 100 --fps 10 --loop --out cells.gif
  python main.py apply retarget cells.ganvas --width 2x --height 96 --out wide.png
Run `python main.py apply TASK --help` for a task's options.
"""

#: How a field's command-line text becomes a value: (argparse type, reader applied once the model is loaded).
_READERS = {
    "image": lambda text, model, what: read_image(text).rgb,
    "rgba": lambda text, model, what: read_rgba(text),
    "mask": lambda text, model, what: read_mask(text),
    "size": lambda text, model, what: parse_size(
        text, model.shapes[model.num_trained - 1][1 if what == "width" else 0], what),
}


def _flag(f) -> str | None:
    flag = f.metadata.get("flag")
    if flag == "":
        return None
    return flag or "--" + f.name.replace("_", "-")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "apply", help="paint-to-image, editing, harmonization, super-resolution, animation, retargeting",
        description="Use a trained SinGAN on an image: inject it at --scale (1 = just above the coarsest scale, "
                    "changes most) and let the finer scales make it look like the training image. "
                    "Super-resolution works best with a model trained with `train --task sr`.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    tasks = p.add_subparsers(dest="task", metavar="TASK", required=True)
    for name, cls in REQUESTS.items():
        tp = tasks.add_parser(name, help=cls.summary, description=f"{cls.title}: {cls.summary}.")
        tp.add_argument("model", help="model folder")
        tp.add_argument("--out", help=f"output file (default: {cls.default_out})")
        tp.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps")
        for f in fields(cls):
            flag = _flag(f)
            if flag is None:
                continue
            cli = dict(f.metadata.get("cli", {}))
            if f.metadata.get("kind"):
                cli.pop("type", None)
            tp.add_argument(flag, dest=f.name, help=f.metadata.get("help"),
                            default=None if f.default is MISSING else f.default, **cli)
        for comp, what in cls.companions.items():
            tp.add_argument(f"--{comp}-out", dest=f"companion_{comp}", help=f"also write {what} here")
    p.set_defaults(func=cmd_apply)


def request_from_args(cls: type[TaskRequest], args: argparse.Namespace, model) -> TaskRequest:
    """The request the parsed options describe (files read, sizes resolved against ``model``)."""
    values = {}
    for f in fields(cls):
        if _flag(f) is None:
            continue
        value = getattr(args, f.name)
        reader = _READERS.get(f.metadata.get("kind", ""))
        if reader is not None and value is not None:
            value = reader(value, model, f.name)
        values[f.name] = value
    return cls(**values)


def cmd_apply(args, *, progress, cancel) -> None:
    from core.cli.singan import load_checked

    cls = REQUESTS[args.task]
    out_path = Path(args.out or cls.default_out)
    model = load_checked(args.model, args.device)
    request = request_from_args(cls, args, model)
    request.check_output(out_path)
    for note in request.notes(model):
        print(f"note: {note}")
    t0 = time.perf_counter()
    files = [getattr(args, f.name) for f in fields(cls)
             if f.metadata.get("kind") in ("image", "rgba", "mask") and _flag(f) and getattr(args, f.name, None)]
    with naming(*files, only=(ImageError,)):  # a task sees arrays: say which file(s) a bad input came from
        result = request.run(model, progress=progress, cancel=cancel)
    request.save(out_path, result, model)
    for comp in cls.companions:
        path = getattr(args, f"companion_{comp}", None)
        if path:
            save_image(path, request.companion(comp, model), {**request.metadata(model), "task": comp})
    what = f"{len(result)} frames of {result.shape[2]}×{result.shape[1]}" if result.ndim == 4 else \
        f"{result.shape[1]}×{result.shape[0]} {cls.name} result"
    print(f"wrote {what} in {time.perf_counter() - t0:.1f} s -> {out_path}")
