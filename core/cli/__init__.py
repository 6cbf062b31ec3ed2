"""Headless commands: ``python main.py COMMAND ...``. Each module registers its own subcommands.

Every command turns a :class:`~core.jobs.GanvasError` into a one-line message and exit code 1,
draws progress with :class:`TerminalProgress`, and cancels cleanly on Ctrl+C (exit 130).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

from common.durations import format_clock
from core.jobs import Cancelled, CancelToken, GanvasError, Progress

#: One module per engine; each defines ``register(subparsers)``.
COMMAND_MODULES = [
    "core.cli.dissect",
    "core.cli.preview",
    "core.cli.primitives",
    "core.cli.singan",
    "core.cli.sketchgan",
    "core.cli.spectrum",
    "core.cli.tasks",
]


def prog_name() -> str:
    """'python main.py' when run as a script, else the command's own name (e.g. the ``ganvas`` entry point)."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "ganvas"
    return f"python {name}" if name.endswith(".py") else name


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` shows every option's default, except where there is none to show (None, off flags)
    or the help text already says it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default is None or action.default is False or action.default == argparse.SUPPRESS \
                or "(default" in text or "%(default)" in text:
            return text
        return super()._get_help_string(action)


class GanvasParser(argparse.ArgumentParser):
    """An ArgumentParser whose subcommands inherit :class:`HelpFormatter` (``add_subparsers`` makes
    every subcommand's parser of the same class)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


class TerminalProgress:
    """A progress bar on stderr: redrawn in place on a terminal; in a log (not a terminal), one line
    every few seconds, and nothing for a stage done in under a second (its lines would only break
    up the command's own output). Standard output is flushed first so both keep their order."""

    def __init__(self, stream=None, log_interval_s: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.log_interval_s = log_interval_s
        self._last_log = 0.0
        self._last_stage: tuple[str, int] | None = None
        self._stage_start = 0.0
        self._stage_logged = False
        self._finished: tuple | None = None

    def line(self, p: Progress) -> str:
        width = 28
        frac = p.step / p.total if p.total else 0.0
        bar = "#" * int(round(frac * width)) + "-" * (width - int(round(frac * width)))
        stage = f"{p.stage} [{p.stage_index + 1}/{p.stage_count}]" if p.stage_count > 1 else p.stage
        metrics = " ".join(f"{k}={v:.3g}" for k, v in p.metrics.items())
        # a one-step job has no rate to speak of (it would read "352609.3 it/s")
        speed = f" {p.rate:.1f} it/s ETA {format_clock(p.eta_s)}" if p.total > 1 and p.rate > 0 else ""
        count = f"{p.step}/{p.total}"
        count = "" if count in p.message else f" {count}"  # "200/200 images" says it already
        return (f"{stage} |{bar}|{count}{speed}"
                f"{' ' + metrics if metrics else ''}{' ' + p.message if p.message else ''}")

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        stage = (p.stage, p.stage_index)
        if stage != self._last_stage:
            self._last_stage, self._stage_start, self._stage_logged = stage, now, False
        done = p.step >= p.total
        key = (p.stage, p.stage_index, p.step, p.total)
        if p.warning:  # on its own line (over a bar being redrawn), even on a report that repeats the last
            sys.stdout.flush()
            text = f"warning: {p.warning}"
            self.stream.write(("\r" + text.ljust(120) if self.tty else text) + "\n")
            self.stream.flush()
        if done and key == self._finished:
            return  # the same final report again (e.g. a job that reports its end twice)
        line = self.line(p)
        if self.tty:
            sys.stdout.flush()
            self.stream.write("\r" + line[:200].ljust(120) + ("\n" if done else ""))
            self.stream.flush()
        else:
            long_enough = now - self._stage_start >= min(1.0, self.log_interval_s)
            due = now - self._last_log >= self.log_interval_s
            if (done and (self._stage_logged or long_enough)) or (not done and long_enough and due):
                sys.stdout.flush()
                self.stream.write(line + "\n")
                self.stream.flush()
                self._last_log = now
                self._stage_logged = True
        if done:
            self._finished = key


def build_parser() -> argparse.ArgumentParser:
    prog = prog_name()
    parser = GanvasParser(
        prog=prog,
        description=(
            f"Ganvas: with no command, opens the studio ({prog} [IMAGE] [--screenshot FILE]); "
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
