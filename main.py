"""Ganvas entry point.

``python main.py [IMAGE]`` opens the studio; ``python main.py --screenshot FILE [IMAGE]``
renders it offscreen and exits; ``python main.py COMMAND ...`` runs the engine headless
(``python main.py --help`` lists the commands).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

# First, before anything imports torch: core sets OpenMP's waiting threads to sleep instead of
# spinning (core.OPENMP_ENV), which keeps training from collapsing when other work shares the cores
# (core/device.py has the thread policy, bench/threads.py the measurements).
import core  # noqa: E402, F401  (torch-free)

#: Shared libraries Qt's X11 plugin needs that minimal Linux installs often lack, with the
#: Debian/Ubuntu package that provides each (README ▸ System libraries lists the other systems).
XCB_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb.so.1": "libxcb1",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}

HEADLESS_HINT = (
    "Without a display, use the headless commands ({prog} --help lists them: train, sample, apply, ...), "
    "render the studio to a file with {prog} --screenshot studio.png, or run it in a virtual display: "
    "xvfb-run {prog}."
)


def missing_libraries(ldd_output: str) -> list[str]:
    """Sonames that ``ldd`` reports as 'not found', each once, in order."""
    missing: list[str] = []
    for line in ldd_output.splitlines():
        if "not found" in line:
            name = line.split("=>")[0].strip()
            if name and name not in missing:
                missing.append(name)
    return missing


def _xcb_plugin() -> Path | None:
    try:
        import PySide6
    except ImportError:
        return None
    plugin = Path(PySide6.__file__).resolve().parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.exists() else None


def display_problem(env: dict | None = None, platform: str | None = None) -> str | None:
    """Why the studio cannot open a window here, in words, or None. Checked before Qt starts:
    Qt's own message for either case is a generic abort (exit 134)."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux") or env.get("QT_QPA_PLATFORM"):
        return None  # macOS and Windows always have one; an explicit platform is the user's choice
    from core.cli import prog_name

    prog = prog_name()
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return ("No display: neither DISPLAY nor WAYLAND_DISPLAY is set, so the studio cannot open a window "
                "(an SSH session, a container, a server?). " + HEADLESS_HINT.format(prog=prog))
    if env.get("WAYLAND_DISPLAY") and not env.get("DISPLAY"):
        return None
    plugin, ldd = _xcb_plugin(), shutil.which("ldd")
    if plugin is None or ldd is None:
        return None
    try:
        out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    missing = missing_libraries(out)
    if not missing:
        return None
    packages = " ".join(dict.fromkeys(XCB_PACKAGES.get(m, m) for m in missing))
    return (f"Qt cannot open a window on this X display: its X11 plugin needs system libraries that are "
            f"missing ({', '.join(missing)}). On Debian/Ubuntu: sudo apt-get install {packages} "
            f"(README ▸ System libraries lists them for other systems). " + HEADLESS_HINT.format(prog=prog))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    from core.cli import GanvasParser, build_parser, command_names, prog_name, run_command

    if argv and (argv[0] in command_names() or argv[0] in ("-h", "--help")):
        return run_command(build_parser().parse_args(argv))
    studio = GanvasParser(prog=prog_name(), description="Open the Ganvas studio.")
    studio.add_argument("image", nargs="?", help="image or model folder to open (default: the bundled sample)")
    studio.add_argument("--screenshot", metavar="FILE", help="render the studio offscreen to FILE and exit")
    args = studio.parse_args(argv)
    if not args.screenshot:
        problem = display_problem()
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 2
    from app.studio import run_studio

    return run_studio(image=args.image, screenshot=args.screenshot)


if __name__ == "__main__":
    sys.exit(main())
