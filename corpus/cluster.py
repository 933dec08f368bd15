"""Rebuilds on Dask's distributed scheduler: a local cluster, or a running one by its address.

The cluster gets the same pieces of WARC the in-process pool gets (a file, or a stretch of
a large one), reads them and extracts their articles; the store is written in the calling
process alone, so the output is the in-process rebuild's, byte for byte.
The workers open the WARCs by path: a remote cluster needs them (and the output directory,
where a WACZ is unpacked) at the same paths, on a shared file system.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager

from extract import prepare

LOCAL = "local"
CONNECT_TIMEOUT = "10s"


class ClusterError(Exception):
    """The scheduler could not be reached, or has no workers."""


@contextmanager
def dask_executor(scheduler: str, workers: int) -> Iterator[tuple[Executor, int]]:
    """An executor on ``scheduler`` (``local``: a cluster of ``workers`` processes here) and how many batches to keep
    in flight: two per worker thread, so none waits for the next while its last result travels back."""
    from distributed import Client, LocalCluster

    cluster = None
    try:
        if scheduler == LOCAL:
            cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                                   dashboard_address=None, host="127.0.0.1")
            client = Client(cluster)
        else:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise ClusterError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from exc
    try:
        threads = sum(client.nthreads().values())
        if not threads:
            raise ClusterError(f"the Dask scheduler {scheduler} has no workers")
        client.run(prepare)  # each worker loads the extractor's libraries now, not on a page
        yield client.get_executor(), 2 * threads
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
