"""Atomic writes: every file and directory policyidx saves appears whole or not at all."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

__all__ = ["atomic_directory", "atomic_write_bytes", "atomic_write_text", "cache_root", "fsync_dir", "fsync_file",
           "fsync_tree", "write_record"]


@contextmanager
def atomic_directory(target: str | os.PathLike[str], *, tag: str = "tmp") -> Iterator[Path]:
    """Yield a fresh temporary directory that replaces ``target`` when the block succeeds.

    The temporary directory is a sibling of ``target`` (same file system, so the final
    ``os.replace`` is atomic).  An existing ``target`` is moved aside first and removed only
    after the swap; on any error, ``KeyboardInterrupt`` included, the temporary directory is
    removed and ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.{tag}-", dir=target.parent))
    try:
        yield tmp
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, old / target.name)
        try:
            os.replace(tmp, target)
        except BaseException:
            if old is not None:
                os.replace(old / target.name, target)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def fsync_file(path: str | os.PathLike[str]) -> None:
    """Flush a file's data to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Flush a directory's entries (new, renamed and removed names) to the disk.

    A no-op where directories cannot be opened (not POSIX).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory; nothing more can be done
    finally:
        os.close(fd)


def fsync_tree(root: str | os.PathLike[str]) -> None:
    """:func:`fsync_file` every file under ``root``, then :func:`fsync_dir` every directory
    (deepest first), so a rename of ``root`` done afterwards exposes complete files only."""
    root = Path(root)
    for dirpath, _dirs, files in os.walk(root, topdown=False):
        for name in files:
            fsync_file(Path(dirpath) / name)
        fsync_dir(dirpath)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, durable: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary sibling file and ``os.replace``.

    With ``durable``, the file is flushed to the disk before the rename and the directory
    after it, so the new content survives a power cut once this returns.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, target)
        if durable:
            fsync_dir(directory)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str, *, durable: bool = False) -> Path:
    """UTF-8 text version of :func:`atomic_write_bytes`."""
    return atomic_write_bytes(path, text.encode("utf-8"), durable=durable)


def cache_root() -> Path:
    """The per-user cache of derived data (lexicons, unify tables, records of verified files):
    ``$POLICYIDX_CACHE``, default ``~/.cache/policyidx``."""
    return Path(os.environ.get("POLICYIDX_CACHE") or Path.home() / ".cache" / "policyidx")


def write_record(target: str | os.PathLike[str], data: bytes, *, keep: int) -> None:
    """Best effort: write a small cache record atomically, and when its folder holds more than
    ``keep`` records, remove all but the ``keep // 2`` newest (records of indexes long gone).
    A cache that cannot be written is no error: the next process does the work again."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, data)
        records = list(target.parent.glob("*" + target.suffix))
        if len(records) > keep:
            records.sort(key=lambda f: f.stat().st_mtime_ns)
            for old in records[: len(records) - keep // 2]:
                old.unlink(missing_ok=True)
    except OSError:
        pass
