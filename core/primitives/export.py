"""Export a Primitives set to disk (PNG files, one .zip, or a NumPy .npy stack) with a manifest.

The manifest (``manifest.json`` beside the images) holds the preset, the full config, seed,
count, size and app version: with it the set can be regenerated pixel for pixel, so a set can
also be shared as its manifest alone. This module imports no torch, so worker processes start
quickly.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import time
import zipfile
from collections import deque
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from core.files import atomic_write_bytes, describe_os_error
from core.images import encode_png
from core.jobs import CancelToken, ProgressFn, ProgressReporter, check_cancel
from core.primitives.config import PrimitivesConfig, PrimitivesError, check_seed, check_size, preset
from core.primitives.synth import generate_indices

MANIFEST_NAME = "manifest.json"
MANIFEST_KIND = "ganvas-primitives-set"
FORMAT_VERSION = 1
FORMATS = ("png", "zip", "npy")
ZIP_NAME = "primitives.zip"
NPY_NAME = "images.npy"
_ZIP_DATE = (2022, 1, 1, 0, 0, 0)  # fixed, so the same set gives the same .zip bytes


def app_version() -> str:
    try:
        from core import __version__

        return str(__version__)
    except ImportError:  # pragma: no cover
        return "unknown"


def parse_size(size: int | str | tuple[int, int]) -> tuple[int, int]:
    """128 → (128, 128); '160x96' (width×height) → (96, 160); (h, w) stays. Returns (height, width)."""
    if isinstance(size, str):
        text = size.lower().replace("×", "x").strip()
        try:
            if "x" in text:
                w_s, h_s = text.split("x", 1)
                return check_size(int(h_s), int(w_s))
            return check_size(int(text), int(text))
        except ValueError as exc:
            raise PrimitivesError(
                f"Cannot read the image size '{size}': use e.g. 128 or 160x96 (width x height)."
            ) from exc
    if isinstance(size, tuple | list):
        if len(size) != 2:
            raise PrimitivesError(f"Image size must be (height, width), got {size!r}.")
        return check_size(size[0], size[1])
    return check_size(size, size)


def file_name(index: int, count: int) -> str:
    return f"{index:0{max(6, len(str(max(count - 1, 0))))}d}.png"


@dataclass(frozen=True)
class SetSpec:
    """What a worker needs to make a slice of the set (picklable)."""

    config: dict
    seed: int
    height: int
    width: int
    count: int
    fmt: str
    folder: str
    npy_path: str = ""


def _work(spec: SetSpec, start: int, stop: int) -> list[bytes] | int:
    """Make images [start, stop): PNG files written here (png), PNG bytes returned (zip), or rows written
    into the .npy memory map (npy). Runs in a worker thread or process."""
    config = PrimitivesConfig.from_dict(spec.config)
    images = generate_indices(config, spec.seed, range(start, stop), spec.height, spec.width)
    if spec.fmt == "npy":
        mm = np.load(spec.npy_path, mmap_mode="r+")
        mm[start:stop] = images
        mm.flush()
        del mm
        return stop - start
    meta = {"generator": "ganvas primitives", "preset": config.preset, "seed": str(spec.seed)}
    blobs = [encode_png(im, {**meta, "index": str(start + k)}, fast=True) for k, im in enumerate(images)]
    if spec.fmt == "zip":
        return blobs
    folder = Path(spec.folder)
    for k, blob in enumerate(blobs):
        (folder / file_name(start + k, spec.count)).write_bytes(blob)
    return stop - start


def estimate_bytes(n: int, height: int, width: int, fmt: str) -> int:
    """Disk space a set needs: exact for .npy; for PNG, generous (noise compresses to ~40–60 %)."""
    raw = height * width * 3
    if fmt == "npy":
        return n * raw + 4096
    return int(n * (raw * 0.75 + 1024)) + 4096


def _check_folder(out_dir: Path, overwrite: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise PrimitivesError(f"Cannot export to '{out_dir}': it is a file, not a folder.")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not overwrite:
        raise PrimitivesError(
            f"The folder '{out_dir}' is not empty. Choose an empty folder, or allow overwriting "
            f"(--overwrite) to write over what is there."
        )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / f".ganvas-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise PrimitivesError(f"Cannot write to the folder '{out_dir}': {describe_os_error(exc)}.") from exc


def _check_space(out_dir: Path, needed: int) -> None:
    free = shutil.disk_usage(out_dir).free
    if free < needed * 1.05 + 16 * 2**20:
        raise PrimitivesError(
            f"Not enough free disk space in '{out_dir}': the set needs about {needed / 2**20:,.0f} MB "
            f"and only {free / 2**20:,.0f} MB are free."
        )


def _reserve(path: Path) -> None:
    """Allocate a memory-mapped file's blocks now: on a full disk that fails here with ENOSPC instead
    of killing the process with SIGBUS when a worker writes into a page the disk cannot hold."""
    if hasattr(os, "posix_fallocate"):
        fd = os.open(path, os.O_RDWR)
        try:
            os.posix_fallocate(fd, 0, os.fstat(fd).st_size)
        except OSError as exc:
            if exc.errno not in (errno.EINVAL, errno.EOPNOTSUPP):  # file systems without fallocate: skip
                raise
        finally:
            os.close(fd)


def _discard(out_dir: Path, n: int, fmt: str, tmp_target: Path | None, finished: Path | None = None) -> None:
    """Remove what a failed or cancelled export wrote (its PNGs, its partial or just-moved file), so no
    half set is left behind; a cleanup step that fails itself (the disk is gone) does not hide the cause."""
    paths = [out_dir / file_name(i, n) for i in range(n)] if fmt == "png" else []
    paths += [p for p in (tmp_target, finished) if p is not None]
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass


def _write_error(out_dir: Path, exc: OSError) -> PrimitivesError:
    return PrimitivesError(f"Cannot write the set to '{out_dir}': {describe_os_error(exc)}. "
                           "The partial files were removed.")


def _executor(workers: int, kind: str) -> Executor | None:
    if workers <= 1:
        return None
    if kind == "thread":
        return ThreadPoolExecutor(max_workers=workers)
    import multiprocessing as mp

    # spawn, not fork: the studio and torch run threads, and a forked child may deadlock on their locks
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=mp.get_context("spawn"), initializer=_init_process
    )


def _init_process() -> None:
    """Export worker process: one OpenCV thread each (the workers are the parallelism)."""
    cv2.setNumThreads(1)


def export_set(
    out_dir: str | os.PathLike,
    config: PrimitivesConfig | str,
    n: int,
    size: int | str | tuple[int, int] = 128,
    seed: int = 0,
    fmt: str = "png",
    workers: int = 2,
    overwrite: bool = False,
    *,
    pool: str = "auto",
    chunk: int = 32,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Write ``n`` images of the set (config, seed) to ``out_dir``; return the manifest's path.

    ``workers`` threads or processes make chunks of ``chunk`` images; results are taken in order,
    so a .zip is byte-identical from run to run. ``pool='auto'`` uses processes for sets of 2000
    images or more (no GIL, ~1 s to start them) and threads below. On cancel or error the partial
    output is removed and no manifest is written.
    """
    if isinstance(config, str):
        config = preset(config)
    height, width = parse_size(size)
    seed = check_seed(seed)
    fmt = str(fmt).lower().lstrip(".")
    if fmt not in FORMATS:
        raise PrimitivesError(f"Unknown export format '{fmt}'. Choose png, zip or npy.")
    try:
        n = int(n)
    except (TypeError, ValueError) as exc:
        raise PrimitivesError(f"The number of images must be a whole number, got {n!r}.") from exc
    if n < 1:
        raise PrimitivesError(f"The number of images must be at least 1, got {n}.")
    workers = max(1, int(workers))
    if pool not in ("auto", "thread", "process"):
        raise PrimitivesError("pool must be 'auto', 'thread' or 'process'.")
    if pool == "auto":
        pool = "process" if n >= 2000 else "thread"
    out_dir = Path(out_dir).expanduser()
    _check_folder(out_dir, overwrite)
    _check_space(out_dir, estimate_bytes(n, height, width, fmt))
    old_manifest = out_dir / MANIFEST_NAME
    if old_manifest.exists():
        old_manifest.unlink()  # the folder no longer holds a complete set until we finish

    spec = SetSpec(config.to_dict(), seed, height, width, n, fmt, str(out_dir))
    tmp_target: Path | None = None
    zf: zipfile.ZipFile | None = None
    try:
        if fmt == "npy":
            tmp_target = out_dir / f".{NPY_NAME}.partial"
            np.lib.format.open_memmap(tmp_target, mode="w+", dtype=np.uint8, shape=(n, height, width, 3)).flush()
            _reserve(tmp_target)
            spec = SetSpec(config.to_dict(), seed, height, width, n, fmt, str(out_dir), str(tmp_target))
        elif fmt == "zip":
            tmp_target = out_dir / f".{ZIP_NAME}.partial"
            zf = zipfile.ZipFile(tmp_target, "w", compression=zipfile.ZIP_STORED)
    except OSError as exc:
        _discard(out_dir, n, "npy", tmp_target)
        raise _write_error(out_dir, exc) from exc

    reporter = ProgressReporter(progress)
    starts = list(range(0, n, max(1, chunk)))
    pending: deque = deque()
    done = 0
    t0 = time.perf_counter()
    ex = _executor(workers, pool)
    try:
        next_i = 0
        reporter.report(0, n, stage="export", message=f"{config.preset} {width}×{height}", force=True)
        while next_i < len(starts) or pending:
            while next_i < len(starts) and len(pending) < 2 * workers:
                a = starts[next_i]
                b = min(n, a + chunk)
                pending.append((a, b, ex.submit(_work, spec, a, b) if ex else None))
                next_i += 1
            a, b, fut = pending.popleft()
            result = fut.result() if fut is not None else _work(spec, a, b)
            if fmt == "zip":
                for k, blob in enumerate(result):
                    info = zipfile.ZipInfo(file_name(a + k, n), date_time=_ZIP_DATE)
                    zf.writestr(info, blob)
            done += b - a
            reporter.report(done, n, stage="export", message=f"{done}/{n} images")
            check_cancel(cancel)
    except BaseException as exc:
        for fut in (p[2] for p in pending if p[2] is not None):
            fut.cancel()
        if ex is not None:
            ex.shutdown(wait=True, cancel_futures=True)
            ex = None
        if zf is not None:
            try:
                zf.close()
            except (OSError, ValueError):  # its central directory cannot be written either: it is discarded
                pass
        _discard(out_dir, n, fmt, tmp_target)  # PNGs included, also those a worker wrote but were not counted
        if isinstance(exc, OSError):
            raise _write_error(out_dir, exc) from exc
        raise
    finally:
        if ex is not None:
            ex.shutdown(wait=True)
    elapsed = time.perf_counter() - t0
    files: str
    finished: Path | None = None
    try:
        if fmt == "zip":
            zf.close()
            finished = out_dir / ZIP_NAME
            os.replace(tmp_target, finished)
            files = ZIP_NAME
        elif fmt == "npy":
            finished = out_dir / NPY_NAME
            os.replace(tmp_target, finished)
            files = NPY_NAME
        else:
            files = f"{{index:0{len(file_name(0, n)) - 4}d}}.png"
    except OSError as exc:
        _discard(out_dir, n, fmt, tmp_target)
        raise _write_error(out_dir, exc) from exc
    manifest = {
        "kind": MANIFEST_KIND,
        "format_version": FORMAT_VERSION,
        "preset": config.preset,
        "config": config.to_dict(),
        "seed": seed,
        "count": n,
        "height": height,
        "width": width,
        "format": fmt,
        "files": files,
        "app_version": app_version(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": round(elapsed, 3),
    }
    try:
        path = atomic_write_bytes(out_dir / MANIFEST_NAME, (json.dumps(manifest, indent=2) + "\n").encode())
    except OSError as exc:  # images without their manifest are not a set: remove them too
        _discard(out_dir, n, fmt, tmp_target, finished)
        raise _write_error(out_dir, exc) from exc
    reporter.report(n, n, stage="export", message=f"{n} images in {elapsed:.1f} s", force=True)
    return path


@dataclass(frozen=True)
class SetManifest:
    path: Path
    config: PrimitivesConfig
    seed: int
    count: int
    height: int
    width: int
    fmt: str
    app_version: str
    raw: dict


def read_set_manifest(path: str | os.PathLike) -> SetManifest:
    """Read and validate a set's manifest (the file, or the folder holding it)."""
    path = Path(path)
    if path.is_dir():
        path = path / MANIFEST_NAME
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise PrimitivesError(f"No Primitives manifest at '{path}'.") from exc
    except (OSError, ValueError) as exc:
        raise PrimitivesError(f"Cannot read the manifest '{path}': {exc}.") from exc
    if raw.get("kind") != MANIFEST_KIND:
        raise PrimitivesError(f"'{path}' is not a Primitives set manifest.")
    if int(raw.get("format_version", 0)) > FORMAT_VERSION:
        raise PrimitivesError(f"'{path}' was written by a newer Ganvas (format {raw['format_version']}).")
    return SetManifest(
        path=path,
        config=PrimitivesConfig.from_dict(raw["config"]),
        seed=int(raw["seed"]),
        count=int(raw["count"]),
        height=int(raw["height"]),
        width=int(raw["width"]),
        fmt=str(raw["format"]),
        app_version=str(raw.get("app_version", "")),
        raw=raw,
    )


def load_exported(manifest: SetManifest | str | os.PathLike, index: int) -> np.ndarray:
    """Image ``index`` as stored on disk (RGB uint8), whatever the format."""
    m = manifest if isinstance(manifest, SetManifest) else read_set_manifest(manifest)
    if not 0 <= index < m.count:
        raise PrimitivesError(f"Index {index} is outside the set (0..{m.count - 1}).")
    folder = m.path.parent
    if m.fmt == "npy":
        return np.array(np.load(folder / NPY_NAME, mmap_mode="r")[index])
    if m.fmt == "zip":
        with zipfile.ZipFile(folder / ZIP_NAME) as zf:
            data = zf.read(file_name(index, m.count))
    else:
        data = (folder / file_name(index, m.count)).read_bytes()
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return np.ascontiguousarray(bgr[..., ::-1])


def verify_set(manifest: SetManifest | str | os.PathLike, indices: list[int] | None = None) -> list[int]:
    """Regenerate images from the manifest and compare with the files; return the indices that differ."""
    m = manifest if isinstance(manifest, SetManifest) else read_set_manifest(manifest)
    idx = indices if indices is not None else sorted({0, m.count // 2, m.count - 1})
    fresh = generate_indices(m.config, m.seed, idx, m.height, m.width)
    return [i for i, im in zip(idx, fresh) if not np.array_equal(im, load_exported(m, i))]
