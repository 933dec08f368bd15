"""One run at a time per archive: an exclusive ``flock`` on ``<archive>/.lock``.

The kernel drops the lock when the holder exits, even on SIGKILL, so a crashed run never
leaves a stale lock behind.  The holder writes who it is into the file, so the run that
finds the archive busy can say by whom.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import tempfile
from datetime import datetime, timezone
from pathlib import Path

LOCK_FILE = ".lock"


class ArchiveBusy(Exception):
    """Another process holds the archive; the message names it."""


class ArchiveUnwritable(Exception):
    """The archive directory cannot be written (a read-only file system, no permission); the message says
    which path and why."""


def why_not_made(exc: OSError) -> str:
    """Why a directory could not be made: ``mkdir(exist_ok=True)`` says "File exists" when a file is in the way,
    which reads as if the directory were there."""
    return "it is a file, not a directory" if isinstance(exc, FileExistsError) else str(exc.strerror or exc)


def check_writable(directory: Path) -> None:
    """``ArchiveUnwritable`` unless a file can be made in ``directory`` (made and removed to find out: a
    read-only mount or a permission is then one line, not the traceback of whatever writes there first).

    A directory not made yet is left to whatever makes it.
    """
    if not Path(directory).is_dir():
        return
    try:
        tempfile.TemporaryFile(dir=directory).close()
    except OSError as exc:
        raise ArchiveUnwritable(f"cannot write in {directory}: {exc.strerror or exc}") from None


class ArchiveLock:
    """``with ArchiveLock(archive_dir):`` — raises ``ArchiveBusy`` instead of waiting, ``ArchiveUnwritable``
    if the lock file cannot be opened for writing (nothing else could be written there either).
    ``name`` is another lock file under the archive, for another role (the schedule service's)."""

    def __init__(self, archive_dir: Path, name: str | Path = LOCK_FILE):
        self.path = Path(archive_dir) / name
        self._fd: int | None = None

    def __enter__(self) -> ArchiveLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ArchiveUnwritable(f"cannot write {exc.filename or self.path}: {why_not_made(exc)}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(os.pread(fd, 4096, 0))
            os.close(fd)
            raise ArchiveBusy(f"{self.path.parent} is in use by {holder}") from None
        holder = {"pid": os.getpid(), "host": socket.gethostname(),
                  "started": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        try:
            os.pwrite(fd, json.dumps(holder).encode() + b"\n", 0)
        except OSError:  # a full disk: the lock holds all the same, it just cannot say whose it is
            pass
        self._fd = fd
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None


def holder(path: Path) -> str | None:
    """Who holds the lock ``path`` ("pid … on …, running since …"), or None if no process does (tested with a
    shared lock, released at once)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # never made, or unreadable: no holder to find
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _describe(os.pread(fd, 4096, 0))
    finally:
        os.close(fd)  # (closing drops the shared lock if it was taken)
    return None


def is_held(path: Path) -> bool:
    """Whether a process holds the lock ``path``."""
    return holder(path) is not None


def _describe(data: bytes) -> str:
    try:
        holder = json.loads(data)
        return f"pid {holder['pid']} on {holder['host']}, running since {holder['started']}"
    except (ValueError, KeyError, TypeError):
        return "another process (it has not said who it is yet)"
