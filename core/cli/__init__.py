"""Headless commands: ``python main.py COMMAND ...``. Each module registers its own subcommands.

Every command turns a :class:`~core.jobs.GanvasError` into a one-line message and exit code 1,
draws progress with :class:`TerminalProgress`, and cancels cleanly on Ctrl+C (exit 130).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from core.jobs import Cancelled, CancelToken, GanvasError, Progress, format_eta

#: One module per engine; each defines ``register(subparsers)``.
COMMAND_MODULES = [
    "core.cli.primitives",
    "core.cli.singan",
    "core.cli.sketchgan",
    "core.cli.spectrum",
    "core.cli.tasks",
]


class TerminalProgress:
    """A progress bar on stderr: redrawn in place on a terminal, one line every few seconds in logs."""

    def __init__(self, stream=None, log_interval_s: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.log_interval_s = log_interval_s
        self._last_log = 0.0
        self._last_stage: str | None = None

    def __call__(self, p: Progress) -> None:
        width = 28
        frac = p.step / p.total if p.total else 0.0
        bar = "#" * int(round(frac * width)) + "-" * (width - int(round(frac * width)))
        stage = f"{p.stage} [{p.stage_index + 1}/{p.stage_count}]" if p.stage_count > 1 else p.stage
        metrics = " ".join(f"{k}={v:.3g}" for k, v in p.metrics.items())
        line = (
            f"{stage} |{bar}| {p.step}/{p.total} {p.rate:.1f} it/s ETA {format_eta(p.eta_s)}"
            f"{' ' + metrics if metrics else ''}{' ' + p.message if p.message else ''}"
        )
        now = time.monotonic()
        if self.tty:
            end = "\n" if p.step >= p.total else ""
            self.stream.write("\r" + line[:200].ljust(120) + end)
            self.stream.flush()
        elif p.step >= p.total or p.stage != self._last_stage or now - self._last_log >= self.log_interval_s:
            self.stream.write(line + "\n")
            self.stream.flush()
            self._last_log = now
        self._last_stage = p.stage


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python main.py",
        description=(
            "Ganvas: with no command, opens the studio (python main.py [IMAGE] [--screenshot FILE]); "
            "with a command, runs the engine headless."
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def command_names() -> set[str]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def run_command(args: argparse.Namespace) -> int:
    """Run a parsed command; user errors become one line on stderr and a non-zero exit."""
    cancel = CancelToken()
    try:
        args.func(args, progress=TerminalProgress(), cancel=cancel)
    except Cancelled as exc:
        print(f"\n{exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        cancel.set()
        print("\nInterrupted.", file=sys.stderr)
        return 130
    except GanvasError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
