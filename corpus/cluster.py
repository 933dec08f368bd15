"""Rebuilds on Dask's distributed scheduler: a local cluster, or a running one by its address.

The cluster gets the same pieces of WARC the in-process pool gets (a file, or a stretch of
a large one), reads them and extracts their articles; the store is written in the calling
process alone, so the output is the in-process rebuild's, byte for byte.
The workers open the WARCs by path: a remote cluster needs them (and the output directory,
where a WACZ is unpacked) at the same paths, on a shared file system.

A page that hangs its worker (a parser caught in a loop) ends that worker after the derivation's
page limit (``NEWSARCHIVE_PAGE_SECONDS``); the cluster replaces it and retries the task, then gives
it up, and the derivation records the page as not extracted. A stopped or lost worker is Dask's
own to find (its heartbeats stop).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager, suppress

import dask
from distributed import Client, LocalCluster, WorkerPlugin

from corpus.workers import limit_pages, page_seconds_from_environment
from extract import prepare

LOCAL = "local"
CONNECT_TIMEOUT = "10s"
LOCAL_TRIES = 2  # a local cluster's tries of a task whose worker died, each on a new worker (Dask's default: 4)


class ClusterError(Exception):
    """The scheduler could not be reached, or has no workers."""


class ExtractionWorker(WorkerPlugin):
    """Sets up each worker of the cluster, those that replace a dead one included: the extractor's
    libraries loaded before its first page, and its deadline on a page."""

    name = "newsarchive-extraction"

    def __init__(self, page_seconds: float):
        self.page_seconds = page_seconds

    def setup(self, worker: object) -> None:
        prepare()
        limit_pages(self.page_seconds)


@contextmanager
def dask_executor(scheduler: str, workers: int) -> Iterator[tuple[Executor, int]]:
    """An executor on ``scheduler`` (``local``: a cluster of ``workers`` processes here) and how many batches to keep
    in flight: two per worker thread, so none waits for the next while its last result travels back."""
    cluster = None
    try:
        if scheduler == LOCAL:
            with dask.config.set({"distributed.scheduler.allowed-failures": LOCAL_TRIES - 1}):
                cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                                       dashboard_address=None, host="127.0.0.1")
            client = Client(cluster)
        else:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise ClusterError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from exc
    except ValueError as exc:  # no address at all ("bogus": no port), which Dask says in a traceback
        raise ClusterError(f"--scheduler {scheduler!r} is neither {LOCAL!r} nor a scheduler's address "
                           f"(tcp://HOST:PORT): {exc}") from None
    try:
        threads = sum(client.nthreads().values())
        if not threads:
            raise ClusterError(f"the Dask scheduler {scheduler} has no workers")
        client.register_plugin(ExtractionWorker(page_seconds_from_environment()))
        yield client.get_executor(), 2 * threads
    finally:
        with suppress(Exception):  # a remote scheduler keeps plugins for workers yet to come
            client.unregister_worker_plugin(ExtractionWorker.name)
        client.close()
        if cluster is not None:
            cluster.close()
