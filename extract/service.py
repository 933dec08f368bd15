"""A pool of extraction processes fed while the crawl runs, which then writes the corpus
(and indexes the run's WARCs).

Extraction runs in other processes so that crawling and extracting use both cores; the
workers read each record back from the WARC, exactly as a later rebuild does.
"""

from __future__ import annotations

import fcntl
import importlib
import logging
import multiprocessing
import os
import queue
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing.queues import Queue, SimpleQueue
from multiprocessing.synchronize import Semaphore
from pathlib import Path

from archive.reader import RecordError
from extract.corpus import ExtractedArticle, extract_capture, write_corpus

logger = logging.getLogger(__name__)

RESULT_BATCH = 32  # extractions a worker sends back at a time
QUEUE_PIPE_SIZE = 1 << 20  # bytes of queued captures (thousands) before ``submit`` waits for a worker

# In a worker: the captures to extract (then one end marker per worker), and where its outcomes go.
_worker_queues: tuple[SimpleQueue, Queue] | None = None


def _index_warcs(archive_dir: Path) -> None:
    from archive.index import update_index  # loaded by the one worker that indexes, when it does

    update_index(archive_dir)


def _start_worker(crawl_slots: Semaphore, crawl_done: Semaphore, queued: SimpleQueue, outcomes: Queue) -> None:
    """Load the extractor, then wait for the crawl to end unless a slot beside it is free.

    The end comes as a permit of ``crawl_done``, not an ``Event``: setting an Event waits
    for every process waiting on it to wake, and one that was killed never does.
    """
    global _worker_queues
    _worker_queues = queued, outcomes
    importlib.import_module("extract.extractor")
    if crawl_slots.acquire(block=False):
        return
    parent = os.getppid()
    while not crawl_done.acquire(timeout=1.0) and os.getppid() == parent:  # a new parent: the run is gone
        continue


def _extract_queued() -> int:
    """Extract queued captures until an end marker; returns how many batches of outcomes it sent.

    An outcome is a capture's article, or a message saying which capture could not be extracted and why.
    The batches go through a queue whose feeder thread never holds up the extracting.
    """
    queued, outcomes = _worker_queues
    sent, batch = 0, []
    while (capture := queued.get()) is not None:
        source, warc_path, offset = capture
        try:
            batch.append(extract_capture(source, warc_path, offset))
        except RecordError as exc:  # its message names the record
            batch.append(str(exc))
        except Exception as exc:  # logged by the run; the other captures go on
            batch.append(f"{Path(warc_path).name}@{offset}: {str(exc) or type(exc).__name__}")
        if len(batch) == RESULT_BATCH:
            outcomes.put(batch)
            sent, batch = sent + 1, []
    if batch:
        outcomes.put(batch)
        sent += 1
    return sent


class ExtractionService:
    """A pool of extraction processes shared by the crawls of one run.

    While the crawl runs, one worker fewer than asked for extracts: the crawler (and the
    WARC writer) need a core, and more runnable processes than cores cost each of them a
    quarter more CPU time in switches and cold caches (measured: three extraction processes on
    two cores).  When the crawl is done, the waiting worker joins in on the backlog.

    Captures go to the workers through one queue, which each worker drains until an end
    marker, and come back in batches once the crawl is done.  A pool future per capture woke
    two of the crawler's threads for each (measured: with workers that did nothing, the crawl
    of 600 pages took 0.5 s longer and its process 0.45 s more CPU than with no futures).
    """

    def __init__(self, workers: int):
        context = multiprocessing.get_context("forkserver")
        # The workers are forked from a server that has loaded the extractor once, not each for itself.
        context.set_forkserver_preload(["extract.extractor"])
        self._workers = workers
        self._crawl_done = context.Semaphore(0)  # a permit for each worker held back while the crawl runs
        self._queued = context.SimpleQueue()  # put to by the crawl's thread itself: no feeder thread to wake
        _enlarge_pipe(self._queued)
        self._outcomes = context.Queue()
        self._pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_start_worker,
            initargs=(context.Semaphore(max(1, workers - 1)), self._crawl_done, self._queued, self._outcomes))
        self._drains: list[Future] = []
        self._ended = False  # the end markers are queued
        self._broken = False  # a worker died: the pool can take no more work
        self._collected = False  # the outcomes were taken out of their queue
        # Start the workers now, so that their start-up overlaps the crawl's rather than delay the
        # first extraction; from a thread, because starting one waits for the fork server to load
        # the extractor, and the crawl's start must not wait with it (measured: the first request
        # 0.15 s sooner, and 0.28 s less wall time for a 600-page run, median of 8 pairs).
        self._starter = threading.Thread(target=self._start_workers, args=(workers,), name="extraction-start")
        self._starter.start()
        self._indexing: Future | None = None

    def _start_workers(self, count: int) -> None:
        try:
            for _ in range(count):
                self._drains.append(self._pool.submit(_extract_queued))
        except Exception as exc:  # nothing is extracted; the WARCs keep the captures for a rebuild
            self._broken = True
            logger.error("could not start the extraction processes: %s", exc)

    def submit(self, source: str, warc_path: Path, offset: int) -> None:
        """Queue a capture for extraction; this waits only once the workers are thousands behind.

        Once a worker has died (its drain ended before the end markers), nothing reads the
        queue any more and a full one would stop the crawl: the capture is left to a rebuild.
        """
        if any(drain.done() for drain in self._drains):
            return
        self._queued.put((source, str(warc_path), offset))

    def index_warcs(self, archive_dir: Path) -> None:
        """Index the archive's new WARCs on a worker, once the extractions queued so far are handed out.

        Queued behind them, the indexing overlaps the corpus writing at the run's end, which
        keeps only one worker busy; done as each WARC closed, it would take a core from
        extraction.  Every closed WARC without an index is indexed, so one left by a crashed
        run is too.
        """
        self._indexing = self._pool.submit(_index_warcs, Path(archive_dir))

    def _end_extraction(self) -> None:
        """Let the held-back worker go and tell every worker, behind the queued captures, to stop."""
        if self._ended:
            return
        self._ended = True
        for _ in range(self._workers):
            self._crawl_done.release()
        self._starter.join()
        for _ in self._drains:
            self._queued.put(None)

    def _extracted(self) -> list[ExtractedArticle]:
        """Wait for every queued capture; log the ones that failed, return the others."""
        self._end_extraction()
        self._collected = True
        batches = 0
        for drain in self._drains:
            try:
                batches += drain.result()
            except Exception as exc:
                self._broken = True
                logger.error("an extraction process failed: %s", exc)
        outcomes = []
        try:
            while batches > 0 or self._broken:
                outcomes += self._outcomes.get(timeout=1.0 if self._broken else None)
                batches -= 1
        except queue.Empty:  # a failed pool's processes are gone: what they sent is all there is
            pass
        if self._broken:
            logger.error("extractions that did not come back are lost: the WARCs keep their captures, "
                         "and `newsarchive rebuild` makes them again")
        articles = []
        for outcome in outcomes:
            if isinstance(outcome, str):
                logger.error("extraction failed: %s", outcome)
            else:
                articles.append(outcome)
        return articles

    def write_corpus(self, archive_dir: Path) -> list[dict]:
        """Wait for the extractions, then write the corpus, its sites redone on the pool's processes."""
        try:
            articles = self._extracted()
            return write_corpus(archive_dir, articles, executor=None if self._broken else self._pool)
        finally:
            self.close()

    def close(self) -> None:
        """Stop the workers; the one held back for the crawl is let go first, or shutdown would wait on it.

        Outcomes nobody took are taken and dropped: a worker cannot exit while its queue's
        feeder still holds some.
        """
        if not self._collected:
            self._extracted()
        try:
            if self._indexing is not None:
                self._indexing.result()
        except Exception as exc:  # the WARCs are safe; the next run or replay indexes what is missing
            logger.error("could not index the new WARCs: %s", exc)
        finally:
            self._indexing = None
            self._pool.shutdown()

    def __enter__(self) -> ExtractionService:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _enlarge_pipe(captures: SimpleQueue) -> None:
    """Give the queue's pipe room for thousands of captures: a full one would hold up the crawl."""
    try:
        fcntl.fcntl(captures._writer.fileno(), fcntl.F_SETPIPE_SZ, QUEUE_PIPE_SIZE)
    except (AttributeError, OSError):  # not Linux, or over /proc/sys/fs/pipe-max-size: the default will do
        pass
