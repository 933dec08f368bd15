"""The crawl frontier on disk, so that a crawl's memory does not grow with its size.

Scrapy's scheduler keeps every pending request in memory unless the crawl has a ``JOBDIR``,
and one sitemap can list 50,000 articles: measured, 20,000 queued requests held 58 MB more
in the crawler than 600 did.  ``DiskFrontierScheduler`` gives each crawl Scrapy's own disk
queues (``SCHEDULER_DISK_QUEUE``: requests pickled to a file, read back one by one) in a
directory of its own, removed when the crawl closes.  It is no ``JOBDIR``: nothing is resumed
and the dupefilter stays in memory, since the crawl state (``crawler.incremental``) is what
carries a crawl over to the next run.  A request that cannot be pickled stays in memory, as
with Scrapy's own disk queues.

In a run bounded by ``max_pages``, a page requisite waits while a page is in progress (crawler/requisite_hold.py).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.core.scheduler import Scheduler
from scrapy.crawler import Crawler
from scrapy.dupefilters import BaseDupeFilter
from scrapy.settings import BaseSettings
from twisted.internet.defer import Deferred

from archive.state import STATE_DIR
from crawler.requisite_hold import requisite_waits
from supervision import remove_orphaned_dirs

PREFIX = "frontier-"

logger = logging.getLogger(__name__)


def frontier_parent(settings: BaseSettings) -> Path:
    """Where frontiers go: the archive's state directory (disk, not a /tmp that may be RAM), else the temp dir."""
    archive_dir = settings.get("NEWSARCHIVE_ARCHIVE_DIR")
    return Path(archive_dir) / STATE_DIR if archive_dir else Path(tempfile.gettempdir())


class DiskFrontierScheduler(Scheduler):
    """Scrapy's scheduler with its pending requests on disk for the length of one crawl.

    With ``JOBDIR`` set it is Scrapy's scheduler as it is (a resumable job keeps its queue there).
    """

    def __init__(self, dupefilter: BaseDupeFilter, jobdir: str | None = None, *args: Any,
                 crawler: Crawler | None = None, **kwargs: Any):
        self.frontier: Path | None = None
        self.disk_failed = False  # a write to the queue on disk failed: the rest of the crawl queues in memory
        if not jobdir and crawler is not None:
            parent = frontier_parent(crawler.settings)
            parent.mkdir(parents=True, exist_ok=True)
            remove_orphaned_dirs(parent, PREFIX)  # frontiers of crawls killed before they could close
            self.frontier = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=parent))
            jobdir = str(self.frontier)
        super().__init__(dupefilter, jobdir, *args, crawler=crawler, **kwargs)

    def _crawl_name(self) -> str:
        """The source crawled (the news spider's), as the run's other lines name it."""
        source = getattr(self.spider, "source", None)
        return getattr(source, "name", None) or getattr(self.spider, "name", "crawl")

    def next_request(self) -> Request | None:
        if requisite_waits(self.crawler, self._head):
            return None  # the engine asks again as each request in progress ends, and every 5 s
        return super().next_request()

    def _head(self) -> Request | None:
        """The request ``next_request`` would take."""
        queue = self.mqs if len(self.mqs) or self.dqs is None else self.dqs  # memory first, as Scrapy pops
        return _queue_head(queue)

    def _dqpush(self, request: Request) -> bool:
        """Queue on disk, or in memory once the disk has failed (full): the request is kept either way."""
        if self.disk_failed:
            return False
        try:
            return super()._dqpush(request)
        except OSError as exc:
            self.disk_failed = True
            logger.error("%s: cannot queue requests in %s (%s); the crawl queues the rest in memory",
                         self._crawl_name(), self.frontier, exc)
            return False

    def _dqpop(self) -> Request | None:
        """The next request from disk; none left on disk once it cannot be read. A push a full disk
        cut short leaves the queue file with a write it cannot flush, which every read tries again,
        and raising here would make the engine retry it for ever: the requests still on disk are
        given up (the next run finds them again; the crawl state holds only what was archived)."""
        try:
            return super()._dqpop()
        except Exception as exc:
            left, self.dqs = len(self.dqs) if self.dqs is not None else 0, None
            self.disk_failed = True
            logger.error("%s: cannot read the crawl's queue in %s (%s: %s); %d queued requests are left "
                         "to the next run", self._crawl_name(), self.frontier,
                         type(exc).__name__, exc, left)
            return None

    def close(self, reason: str) -> Deferred[None] | None:
        try:
            if self.disk_failed and self.dqs is not None:  # its state cannot be written: nothing resumes it
                self.dqs = None
            try:
                return super().close(reason)
            except OSError as exc:  # a disk that filled up since the last push: the queue's own state is lost
                logger.error("%s: cannot close the crawl's queue in %s (%s); the next run finds its requests "
                             "again", self._crawl_name(), self.frontier, exc.strerror or exc)
                return None
        finally:
            if self.frontier is not None:
                shutil.rmtree(self.frontier, ignore_errors=True)


def _queue_head(queue: Any) -> Request | None:
    """The request a ScrapyPriorityQueue pops next.  Not its ``peek()``: that looks at the start requests (a run's
    seeds and owed requisites) before the others of a priority, where ``pop()`` takes the others first, and raises
    KeyError once the others of the current priority are all taken while start requests of another wait."""
    starts = getattr(queue, "_start_queues", {})
    priorities = [priority for queues in (queue.queues, starts) for priority, held in queues.items() if held]
    if not priorities:
        return None
    first = min(priorities)
    return (queue.queues.get(first) or starts[first]).peek()
