"""Ganvas entry point.

``python main.py [IMAGE]`` opens the studio; ``python main.py --screenshot FILE [IMAGE]``
renders it offscreen and exits; ``python main.py COMMAND ...`` runs the engine headless
(``python main.py --help`` lists the commands).
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    from core.cli import build_parser, command_names, run_command

    if argv and (argv[0] in command_names() or argv[0] in ("-h", "--help")):
        return run_command(build_parser().parse_args(argv))
    studio = argparse.ArgumentParser(prog="python main.py", description="Open the Ganvas studio.")
    studio.add_argument("image", nargs="?", help="image or model folder to open (default: the bundled sample)")
    studio.add_argument("--screenshot", metavar="FILE", help="render the studio offscreen to FILE and exit")
    args = studio.parse_args(argv)
    from app.studio import run_studio

    return run_studio(image=args.image, screenshot=args.screenshot)


if __name__ == "__main__":
    sys.exit(main())
