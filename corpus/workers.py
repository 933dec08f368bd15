"""The derivation's own pool of extraction processes, whose results come back through files.

CPython's ``ProcessPoolExecutor`` sends every result down one pipe its workers share.  A worker
killed while it writes a result larger than the pipe holds at once (the kernel's OOM killer, an
operator's ``kill``) leaves part of a message in the pipe, and the executor's reader waits for
the rest for ever: the pool neither answers nor counts as broken, and the derivation hangs
(reproduced with a result of 8 MB: ``tests/test_derive_workers.py``).  Here a worker writes its
result to a file and sends only the file's name, a message of a few hundred bytes that a pipe
takes in one write, so a worker killed at any moment breaks the pool, which the derivation
handles (its task is redone capture by capture).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger("newsarchive.derive")

SPOOL_PREFIX = "newsarchive-results-"


@dataclass(frozen=True)
class _Unspooled:
    """A result sent down the pipe itself, its file not written (a full temporary directory):
    the derivation goes on, exposed again to the hang this module avoids, rather than stopping."""

    result: Any
    why: str


def _spool_dir() -> Path:
    """A new directory for this process's results; those of processes that died are removed."""
    base = Path(tempfile.gettempdir())
    for stale in base.glob(f"{SPOOL_PREFIX}*-*"):
        owner = stale.name.removeprefix(SPOOL_PREFIX).split("-", 1)[0]
        if owner.isdigit() and not _alive(int(owner)):
            shutil.rmtree(stale, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{SPOOL_PREFIX}{os.getpid()}-", dir=base))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _to_file(spool: Path | None, function: Callable, *args: Any) -> str | _Unspooled:
    """On a worker: ``function(*args)``, pickled to a file of ``spool``; the file's name."""
    result = function(*args)
    if spool is None:
        return _Unspooled(result, "no directory for them")
    try:
        descriptor, name = tempfile.mkstemp(dir=spool, suffix=".pickle")
    except OSError as exc:
        return _Unspooled(result, f"{spool}: {exc.strerror or exc}")
    try:
        with os.fdopen(descriptor, "wb") as out:
            pickle.dump(result, out, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError as exc:
        Path(name).unlink(missing_ok=True)
        return _Unspooled(result, f"{spool}: {exc.strerror or exc}")
    return name


class ResultFilePool(ProcessPoolExecutor):
    """A ``ProcessPoolExecutor`` of forked workers whose results come back through files."""

    def __init__(self, workers: int, initializer: Callable | None = None, initargs: tuple = ()) -> None:
        try:
            self.spool: Path | None = _spool_dir()
        except OSError as exc:
            logger.warning("results come back without files (%s: %s)", tempfile.gettempdir(), exc.strerror or exc)
            self.spool = None
        self.unspooled = 0  # results sent down the pipe, their files not written
        super().__init__(workers, mp_context=multiprocessing.get_context("fork"),
                         initializer=initializer, initargs=initargs)

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        if kwargs:
            raise TypeError("ResultFilePool.submit takes positional arguments only")
        outer: Future = Future()  # left pending (not running), so that cancelling the task cancels it
        super().submit(_to_file, self.spool, fn, *args).add_done_callback(lambda inner: self._receive(outer, inner))
        return outer

    def _receive(self, outer: Future, inner: Future) -> None:
        """The result of ``inner`` (a file's name) read back into ``outer``, and the file removed."""
        if inner.cancelled():
            outer.cancel()
            return
        error = inner.exception()
        if error is not None:
            outer.set_exception(error)
            return
        sent = inner.result()
        if isinstance(sent, _Unspooled):
            if not self.unspooled and self.spool is not None:
                logger.warning("results come back without their files (%s)", sent.why)
            self.unspooled += 1
            outer.set_result(sent.result)
            return
        name = Path(sent)
        try:
            with name.open("rb") as stream:
                result = pickle.load(stream)
        except Exception as exc:  # noqa: BLE001 - a result unreadable is the task's failure, not the pool's
            name.unlink(missing_ok=True)
            outer.set_exception(exc)
            return
        name.unlink(missing_ok=True)  # before the result is given: whoever has it finds no file left
        outer.set_result(result)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=wait, cancel_futures=cancel_futures)
        if self.spool is not None:
            shutil.rmtree(self.spool, ignore_errors=True)
