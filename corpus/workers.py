"""The derivation's own pool of extraction processes, whose results come back through files.

CPython's ``ProcessPoolExecutor`` sends every result down one pipe its workers share.  A worker
killed while it writes a result larger than the pipe holds at once (the kernel's OOM killer, an
operator's ``kill``) leaves part of a message in the pipe, and the executor's reader waits for
the rest for ever: the pool neither answers nor counts as broken, and the derivation hangs
(reproduced with a result of 8 MB: ``tests/test_derive_workers.py``).  Here a worker writes its
result to a file and sends only the file's name, a message of a few hundred bytes that a pipe
takes in one write, so a worker killed at any moment breaks the pool, which the derivation
handles (its task is redone capture by capture).

A worker that hangs is stopped the same way.  Each says which page it starts on in a small file
(``working_on``), and a thread of the pool kills a worker that has been on one page for
``page_seconds`` (a page takes well under a second; a hang in a parser's C code is beyond any
signal the worker could catch), and every worker when none has started a page or returned a
result for that long while work waits (a worker stopped, or stuck between pages, blocks the
others' queue).  ``NEWSARCHIVE_PAGE_SECONDS`` sets it (120 by default).

A Dask cluster's worker has no watch of ours; ``limit_pages`` gives it a deadline of its own.
"""

from __future__ import annotations

import faulthandler
import logging
import multiprocessing
import os
import pickle
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from supervision import remove_orphaned_dirs, stop_signals_held_over_forks

logger = logging.getLogger("newsarchive.derive")

SPOOL_PREFIX = "newsarchive-results-"
PAGE_SECONDS = 120.0  # unless NEWSARCHIVE_PAGE_SECONDS says otherwise
BUSY_SUFFIX = ".busy"
ENDING_SECONDS = 10.0  # a worker told to end, its work done, ends in well under a second
_busy: Path | None = None  # in a worker, during a task: the file that says which page it is on
_page_limit: float | None = None  # on a cluster's worker: the seconds after which a page ends the process
_batches = 0  # batches this process is extracting (a cluster's worker may run several threads)
_batches_lock = threading.Lock()


class ExtractionOverran(BrokenProcessPool):
    """The pool's workers were stopped because one was on a page, or all were idle while work
    waited, for longer than the pool allows: the tasks in flight are lost with them."""


def page_seconds_from_environment() -> float:
    """How long a worker may spend on one page: ``NEWSARCHIVE_PAGE_SECONDS``, else ``PAGE_SECONDS``."""
    given = os.environ.get("NEWSARCHIVE_PAGE_SECONDS", "")
    try:
        seconds = float(given) if given.strip() else PAGE_SECONDS
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        logger.warning("NEWSARCHIVE_PAGE_SECONDS=%r is no number of seconds; %g is used", given, PAGE_SECONDS)
        return PAGE_SECONDS
    return seconds


def limit_pages(seconds: float) -> None:
    """On a worker that no pool of ours watches (a Dask cluster's): a page that takes more than
    ``seconds`` ends the process, every thread's stack printed first. faulthandler's timer is a
    thread of C that needs no interpreter lock, so a parser stuck in C code cannot hold it off.
    The cluster's nanny starts a new worker and its scheduler retries the task, then gives it up
    (``KilledWorker``), and the derivation redoes it capture by capture."""
    global _page_limit
    _page_limit = seconds


@contextmanager
def extracting() -> Iterator[None]:
    """Around a batch of pages: a cluster worker's page deadline is lifted when none is running."""
    global _batches
    with _batches_lock:
        _batches += 1
    try:
        yield
    finally:
        with _batches_lock:
            _batches -= 1
            if not _batches and _page_limit is not None:
                faulthandler.cancel_dump_traceback_later()


def working_on(page: str) -> None:
    """In a worker: say that it starts on ``page`` (its name in the pool's log if it hangs there);
    on a cluster's worker, start the page's deadline (with several threads, the latest page's)."""
    global _page_limit
    if _page_limit is not None:
        try:
            faulthandler.dump_traceback_later(_page_limit, exit=True)
        except (AttributeError, OSError, ValueError) as exc:  # no standard error to print to
            logger.warning("pages have no time limit on this worker: %s", exc)
            _page_limit = None
    if _busy is not None:
        try:
            _busy.write_text(page)
        except OSError:  # no file, no watch: the extraction itself goes on
            pass


@dataclass(frozen=True)
class _Unspooled:
    """A result sent down the pipe itself, its file not written (a full temporary directory):
    the derivation goes on, exposed again to the hang this module avoids, rather than stopping."""

    result: Any
    why: str


def _spool_dir() -> Path:
    """A new directory for this process's results; those of processes that died are removed."""
    base = Path(tempfile.gettempdir())
    remove_orphaned_dirs(base, SPOOL_PREFIX)
    return Path(tempfile.mkdtemp(prefix=f"{SPOOL_PREFIX}{os.getpid()}-", dir=base))


def _to_file(spool: Path | None, function: Callable, *args: Any) -> str | _Unspooled:
    """On a worker: ``function(*args)``, pickled to a file of ``spool``; the file's name."""
    global _busy
    if spool is not None:
        _busy = spool / f"{os.getpid()}{BUSY_SUFFIX}"
        working_on(f"a task of {getattr(function, '__name__', 'the derivation')}")
    try:
        result = function(*args)
    finally:
        if _busy is not None:
            _busy.unlink(missing_ok=True)
            _busy = None
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
    """A ``ProcessPoolExecutor`` of forked workers whose results come back through files, and whose
    workers are stopped when one hangs on a page (``page_seconds``)."""

    def __init__(self, workers: int, initializer: Callable | None = None, initargs: tuple = (),
                 page_seconds: float | None = None) -> None:
        try:
            self.spool: Path | None = _spool_dir()
        except OSError as exc:
            logger.warning("results come back without files (%s: %s)", tempfile.gettempdir(), exc.strerror or exc)
            self.spool = None
        self.unspooled = 0  # results sent down the pipe, their files not written
        self.page_seconds = page_seconds or page_seconds_from_environment()
        self.overran = False  # its workers were stopped for taking too long
        self._waiting = 0  # tasks submitted and not come back (counted under _counting)
        self._counting = threading.Lock()
        self._progress = time.time()  # when a task last came back
        self._stop = threading.Event()
        super().__init__(workers, mp_context=multiprocessing.get_context("fork"),
                         initializer=initializer, initargs=initargs)
        threading.Thread(target=self._watch, name="extraction-watch", daemon=True).start()

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        if kwargs:
            raise TypeError("ResultFilePool.submit takes positional arguments only")
        outer: Future = Future()  # left pending (not running), so that cancelling the task cancels it
        with stop_signals_held_over_forks():  # the first task forks the workers
            inner = super().submit(_to_file, self.spool, fn, *args)
        with self._counting:
            if not self._waiting:
                self._progress = time.time()  # the pool was idle until now
            self._waiting += 1
        inner.add_done_callback(lambda inner: self._receive(outer, inner))
        return outer

    def _receive(self, outer: Future, inner: Future) -> None:
        """The result of ``inner`` (a file's name) read back into ``outer``, and the file removed."""
        with self._counting:
            self._waiting -= 1
            self._progress = time.time()
        if inner.cancelled():
            outer.cancel()
            return
        error = inner.exception()
        if error is not None:
            if self.overran and isinstance(error, BrokenProcessPool):
                error = ExtractionOverran(f"its extraction ran over {self.page_seconds:g} s")
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

    def _watch(self) -> None:
        """Stop a worker on one page for ``page_seconds``, or all when none has moved for that long."""
        while not self._stop.wait(min(5.0, self.page_seconds / 4)):
            now = time.time()
            pages = []
            for busy in self.spool.glob(f"*{BUSY_SUFFIX}") if self.spool is not None else ():
                try:
                    pages.append((int(busy.name.removesuffix(BUSY_SUFFIX)), busy.stat().st_mtime, busy.read_text()))
                except (OSError, ValueError):  # the page just ended
                    continue
            moved = max([self._progress, *(started for _, started, _ in pages)])
            stuck = [(pid, page) for pid, started, page in pages if now - started > self.page_seconds]
            if stuck:
                for _, page in stuck:
                    logger.error("an extraction process was on %s for over %g s: the pool is stopped, and its pages "
                                 "are redone one by one", page, self.page_seconds)
                self._stop_workers()
            elif self._waiting > 0 and now - moved > self.page_seconds:
                logger.error("no extraction process started a page or returned a result in %g s: the pool is "
                             "stopped, and its work is redone", self.page_seconds)
                self._stop_workers()

    def _stop_workers(self) -> None:
        """Kill every worker: one dead breaks the pool anyway, and CPython ends the others with a SIGTERM,
        which a stopped process does not act on (its pool would wait for it for ever)."""
        self.overran = True
        self._kill_workers()
        self._stop.set()  # the pool is broken now: there is nothing more to watch

    def _kill_workers(self) -> None:
        for process in list((getattr(self, "_processes", None) or {}).values()):  # (the pool's own record)
            process.kill()  # (a process already ended is passed over)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """As ``ProcessPoolExecutor.shutdown``; but a worker that has not ended ``ENDING_SECONDS`` after
        being told to (stopped, or hung in C code) is killed, where CPython would wait for it for ever.
        Without waiting (a broken pool given up, its work to be redone) the workers are killed at once:
        a survivor would go on with its task, find its result's directory removed and send the result
        down a pipe no one reads any more, where CPython's manager thread, joining it, waits for ever,
        and with it the process's exit."""
        self._stop.set()
        processes = list((getattr(self, "_processes", None) or {}).values())
        manager = getattr(self, "_executor_manager_thread", None)
        if not wait:
            self._kill_workers()
        super().shutdown(wait=False, cancel_futures=cancel_futures)
        if wait and manager is not None:
            manager.join(ENDING_SECONDS)
            for process in processes:
                if process.is_alive():
                    logger.error("an extraction process did not end when told to: it is stopped")
                    process.kill()
            manager.join()
        if self.spool is not None:
            shutil.rmtree(self.spool, ignore_errors=True)
