"""Write a file so that readers see the old content or the new, never a half-written one."""

from __future__ import annotations

import errno
import fcntl
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def atomic_output(path: Path, durable: bool = True) -> Iterator[BinaryIO]:
    """A binary file beside ``path`` that is renamed over ``path`` on success (fsynced first if ``durable``);
    flock-held while written, so the one a killed writer leaves is told from a live one's
    (:func:`remove_stale_temporaries`)."""
    path = Path(path)
    with held_temporary(path) as (temporary, fd):
        with open(fd, "wb", closefd=False) as out:
            yield out
            out.flush()
            if durable:
                os.fsync(out.fileno())
        if durable:
            replace_durably(temporary, path)
        else:  # a later os.sync() makes the name durable with the data (a name without its data is worse)
            os.replace(temporary, path)


@contextmanager
def held_temporary(path: Path, suffix: str = ".tmp") -> Iterator[tuple[Path, int]]:
    """A hidden temporary file beside ``path`` (``.NAME.XXXX<suffix>``) and its descriptor,
    flock-held while in use (so :func:`remove_stale_temporaries` can tell one a killed process left from one
    still being written), removed at the end unless renamed away meanwhile."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    temporary = Path(name)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        fcntl.flock(fd, fcntl.LOCK_EX)  # the kernel drops it with the process
        yield temporary, fd
    finally:
        temporary.unlink(missing_ok=True)
        os.close(fd)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary file name beside ``path`` (hidden, ``.NAME.XXXX.tmp``) for a tool that opens the file by
    name itself (py-wacz): on success the file is fsynced and renamed over ``path``; on any failure or
    interruption it is removed and ``path`` is untouched."""
    path = Path(path)
    with held_temporary(path) as (temporary, fd):
        yield temporary
        # the tool opened the name again (truncating the same inode); an fsync of any descriptor flushes the file
        os.fsync(fd)
        replace_durably(temporary, path)


def remove_stale_temporaries(path: Path, suffix: str = ".tmp") -> None:
    """Remove the ``.NAME.*<suffix>`` files :func:`held_temporary` left beside ``path`` in a process that was
    killed (none holds its lock); one another process is still writing is left alone."""
    path = Path(path)
    for temporary in stale_temporaries(path.parent, f".{path.name}.*{suffix}"):
        temporary.unlink(missing_ok=True)


def stale_temporaries(directory: Path, pattern: str = ".*.tmp") -> Iterator[Path]:
    """The files :func:`held_temporary` left in ``directory`` (matching ``pattern``) in processes that were
    killed: those no process holds the lock of."""
    return unheld(Path(directory).glob(pattern))


def unheld(temporaries: Iterable[Path]) -> Iterator[Path]:
    """Those of ``temporaries`` no process holds the flock of (:func:`held_temporary`'s, of processes killed)."""
    for temporary in temporaries:
        try:
            fd = os.open(temporary, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # held: being written
        else:
            yield temporary
        finally:
            os.close(fd)


def write_atomic(path: Path, data: bytes, durable: bool = True) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it (if ``durable``), then rename over ``path``.

    Many files written together can skip the fsync each and call ``os.sync()`` once after.
    """
    with atomic_output(path, durable) as out:
        out.write(data)


def replace_durably(source: Path, target: Path) -> None:
    """Rename a finished, fsynced file over ``target`` and fsync its directory: until then a power cut may undo the
    rename, though the data was synced (ext4, XFS)."""
    os.replace(source, target)
    fsync_directory(Path(target).parent)


def fsync_directory(directory: Path) -> None:
    """Make the renames and new names in ``directory`` durable (a rename is the directory's change)."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk (or the user's quota) is full, in a write or in SQLite: unlike a
    bad record, a full disk fails every later write too, so what writes many stops at the first."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return isinstance(exc, sqlite3.OperationalError) and getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
