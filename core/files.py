"""Atomic file and folder writes, so a crash never leaves half a file behind.

Temporary names carry the writer's process id (``.NAME.PID.xxxx.tmp``, ``.NAME.tmp-PID-xxxx``):
what a killed writer left behind is recognised by its dead PID and removed by the next write of
the same path, and a folder swap cut between its two renames is undone by
:func:`recover_interrupted_swap` (the previous folder comes back).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from core.jobs import Cancelled, GanvasError

#: errno values that mean "this place cannot take the write", for one clear message.
NO_SPACE_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def describe_os_error(exc: OSError) -> str:
    """The reason of an OSError in words ('No space left on device'), without the path it repeats."""
    if exc.errno in NO_SPACE_ERRNOS:
        return "the disk is full (no space left on the device)"
    if exc.errno == errno.EROFS:
        return "the file system is read-only"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or str(exc)


def output_folder(path: str | os.PathLike) -> Path:
    """Create ``path`` (and parents) for a command's outputs; the error names the folder and the cause."""
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GanvasError(f"Cannot create the output folder '{out}': {describe_os_error(exc)}.") from exc
    return out


@contextmanager
def naming(*paths: str | os.PathLike | None, only: tuple[type[BaseException], ...] = (GanvasError,)) -> Iterator[None]:
    """Errors of type ``only`` raised inside are about these files: a message that names none of them
    gets them in front ("'tiny.png': The image is too small..."), so every error about a file says which.

    For engine code that sees arrays, not files (the pyramid, the tasks); the caller knows the file.
    """
    try:
        yield
    except Cancelled:
        raise
    except only as exc:
        names = [str(p) for p in paths if p is not None and str(p)]
        text = str(exc)
        if names and not any(n in text or Path(n).name in text for n in names):
            exc.args = (", ".join(f"'{n}'" for n in names) + f": {text}", *exc.args[1:])
        raise


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but is not ours (EPERM)
        return True
    return True


def clean_stale(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary siblings of ``path`` left by writers that no longer run (killed, crashed)."""
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        return []
    name = re.escape(path.name)
    pattern = re.compile(rf"^\.{name}\.(?:(\d+)\.[a-z0-9_]{{8}}\.tmp|tmp-(\d+)-[0-9a-f]+|old-(\d+)-[0-9a-f]+)$")
    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    for entry in entries:
        m = pattern.match(entry.name)
        if not m:
            continue
        pid = int(next(g for g in m.groups() if g))
        is_old = m.group(3) is not None
        if _pid_alive(pid) or (is_old and not path.exists()):
            continue  # a live writer's, or the only copy left (see recover_interrupted_swap)
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
        except OSError:
            pass
    return removed


def recover_interrupted_swap(path: str | os.PathLike) -> bool:
    """If a folder swap was killed between moving the old folder aside and moving the new one in,
    ``path`` is missing and ``.NAME.old-PID-xxxx`` holds the previous complete folder: put it back.
    Returns True when something was restored."""
    path = Path(path)
    if path.exists() or not path.parent.is_dir():
        return False
    prefix = f".{path.name}.old-"
    try:
        olds = [p for p in path.parent.iterdir() if p.name.startswith(prefix) and p.is_dir()]
    except OSError:
        return False
    olds = [p for p in olds if not _pid_alive(int(p.name[len(prefix):].split("-")[0] or 0))]
    if not olds:
        return False
    newest = max(olds, key=lambda p: p.stat().st_mtime)
    try:
        os.replace(newest, path)
    except OSError:
        return False
    return True


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` and rename the result over ``path`` (same folder, so the rename is atomic)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600 files; give the usual permissions
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    return atomic_write(path, lambda p: p.write_bytes(data))


def atomic_replace_dir(path: str | os.PathLike, fill: Callable[[Path], None]) -> Path:
    """Build a folder with ``fill(tmp_dir)`` beside ``path``, then swap it in.

    The old folder (if any) is moved aside first and removed only after the new one is in
    place, so at every instant either the old or the new complete folder exists.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    recover_interrupted_swap(path)
    clean_stale(path)
    tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp = path.with_name(f".{path.name}.tmp-{tag}")
    old = path.with_name(f".{path.name}.old-{tag}")
    tmp.mkdir()
    try:
        fill(tmp)
        if path.exists():
            os.replace(path, old)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not path.exists():
            os.replace(old, path)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return path
