"""Record every HTTP exchange into WARC files as it came off the wire.

The ``response_downloaded`` signal fires straight after the download handler, before any
downloader middleware: the body is still content-encoded, every redirect hop and the
robots.txt fetch pass through it, and HttpCache hits do not (they were not fetched).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.python.failure import Failure

from archive.archiver import Archived
from archive.capture import ROLE_FIELD, ROLE_ROBOTS, SOURCE_FIELD, URL_FIELD, is_article_capture
from archive.exchange import Exchange
from archive.messages import WriterOptions
from crawler.archive_writer import ArchiveWriterProcess, DiskFull, StateLost, archive_writer
from crawler.discovery import clean_link
from crawler.incremental import CONDITIONAL
from crawler.progress import PAGES_FETCHED, is_page_fetch

logger = logging.getLogger(__name__)

DISK_FULL = "disk full"  # the crawl's finish reason when the archive's disk filled up
WRITER_LOST = "archive writer lost"  # ... when the WARC writer process died
STATE_LOST = "cluster Redis unreachable"  # ... when a cluster worker lost the cluster's Redis
STOPPING = "warc/stopped"  # the crawl's stats: why it is being stopped, once that is said (DISK_FULL, ...)
_ARCHIVING = "newsarchive_archiving"  # request.meta: its response's records wait for the writer (see ``archiving``)
# A signal sent (``meta``, ``archived``) once a response's records are written (archived True) or could not be
# (False): what depends on the page being in the archive, such as a cluster's in-flight request, waits for it.
response_archived = object()


def archiving(meta: dict) -> bool:
    """Whether the response to the request of ``meta`` waits for its records to be written.  The mark is the meta
    dict's own identity: a redirect or retry copies the meta of a response still being written, and its copy
    must not wait for that response."""
    return meta.get(_ARCHIVING) == id(meta)
WRITTEN_TO = "warc/written_to"  # the names of the WARCs written so far, closed or not


def exchange_from(request: Request, response: Response, metadata: dict[str, str]) -> Exchange:
    """The exchange as sent and received; Scrapy's objects still hold the wire bytes here."""
    started = request.meta.get("warc_date") or datetime.now(timezone.utc)
    return Exchange(
        uri=request.url.split("#", 1)[0],
        started=started,
        method=request.method,
        request_headers=[(name, value) for name, values in request.headers.items() for value in values],
        request_body=request.body,
        status=response.status,
        response_headers=[(name, value) for name, values in response.headers.items() for value in values],
        body=response.body,
        metadata=metadata,
        ip_address=None if response.ip_address is None else str(response.ip_address),
        protocol=response.protocol,
        truncated=("disconnect" if "dataloss" in response.flags else
                   "length" if "download_stopped" in response.flags else ""),
        conditional=bool(request.meta.get(CONDITIONAL)),
    )


class WarcCapture:
    """Scrapy extension: hands every exchange of a crawl (one source) to the archive writer.

    Settings: ``WARC_DIR``, ``WARC_PREFIX``, ``WARC_MAX_SIZE``, ``WARC_INFO`` (extra warcinfo
    fields).  The source name comes from the spider and goes into warcinfo and metadata
    records, so the WARCs alone say which source each page belongs to.  With
    ``NEWSARCHIVE_ARCHIVE_DIR`` set, repeats become revisit records and closed WARCs are
    indexed (CDXJ).  The crawl hands nothing else on: the derivation finds the articles in
    the WARCs.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.settings = crawler.settings
        self.stats = crawler.stats
        self.source = ""
        self.writer: ArchiveWriterProcess | None = None
        self.key = ""
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.headers_received, signal=signals.headers_received)
        crawler.signals.connect(self.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCapture:
        return cls(crawler)

    def spider_opened(self, spider: Spider) -> None:
        settings = self.settings
        source = getattr(spider, "source", None)
        self.source = source.name if source is not None else spider.name
        info = {
            "isPartOf": f"newsarchive/{self.source}",
            SOURCE_FIELD: self.source,
            "http-header-user-agent": settings.get("USER_AGENT"),
            "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
            **settings.getdict("WARC_INFO"),
        }
        self.writer = archive_writer()
        self.key = self.writer.open(WriterOptions(
            warc_dir=str(settings.get("WARC_DIR")),
            prefix=settings.get("WARC_PREFIX") or f"newsarchive-{self.source}",
            info=info,
            max_size=settings.getint("WARC_MAX_SIZE", 1_000_000_000),
            archive_dir=settings.get("NEWSARCHIVE_ARCHIVE_DIR") or None,
            incremental=settings.getbool("NEWSARCHIVE_INCREMENTAL", True),
            index_on_close=settings.getbool("WARC_INDEX_ON_CLOSE", True),
            state_url=settings.get("NEWSARCHIVE_REDIS_URL") or None,
        ))

    def headers_received(self, headers, body_length, request: Request, spider: Spider) -> None:
        """Date the capture from when the request went out (http11 sets the latency just before)."""
        latency = request.meta.get("download_latency", 0.0)
        request.meta["warc_date"] = datetime.now(timezone.utc) - timedelta(seconds=latency)

    def response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        meta = request.meta
        role = meta.get("role") or (ROLE_ROBOTS if urlsplit(request.url).path == "/robots.txt" else "")
        fields = {
            SOURCE_FIELD: self.source,
            ROLE_FIELD: role,
            "hopsFromSeed": str(meta.get("depth", 0)),
            "fetchTimeMs": str(int(meta.get("download_latency", 0.0) * 1000)),
        }
        if meta.get("via"):
            fields["via"] = meta["via"]
        if meta.get("redirect_urls"):
            fields["redirectedFrom"] = meta["redirect_urls"][0]
        if (known_as := clean_link(request.url)) != request.url:  # a session the site insisted on
            fields[URL_FIELD] = known_as
        meta[_ARCHIVING] = id(meta)
        written = self.writer.write(self.key, exchange_from(request, response, fields))
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        written.addCallbacks(self._archived, self._not_archived,
                             callbackArgs=(is_article_capture(role, response.status, content_type),
                                           is_page_fetch(request)))
        written.addCallback(self._say_archived, meta)
        self.stats.inc_value("warc/bytes_captured", len(response.body))

    def _say_archived(self, archived: bool, meta: dict) -> None:
        meta.pop(_ARCHIVING, None)
        self.crawler.signals.send_catch_log(response_archived, meta=meta, archived=archived)

    def _archived(self, archived: Archived, article: bool, page: bool) -> bool:
        self.stats.inc_value("warc/records", len(archived.locations))
        written_to = self.stats.get_value(WRITTEN_TO) or []
        if archived.locations and archived.locations[0].warc_file not in written_to:
            # (the files the crawl wrote, before they are closed: a forced shutdown never closes them)
            self.stats.set_value(WRITTEN_TO, [*written_to, archived.locations[0].warc_file])
        if page:  # counted once in the archive: a page fetched whose records could not be written is fetched again
            self.stats.inc_value(PAGES_FETCHED)
        if archived.profile:
            if page:  # robots.txt is archived as a revisit too, but counted with the pages no more than in "fetched"
                self.stats.inc_value(f"newsarchive/revisit/{archived.profile.rsplit('/', 1)[1]}")
        elif article:
            self.stats.inc_value("newsarchive/articles_archived")
        return True

    def _not_archived(self, failure: Failure) -> bool:
        self.stats.inc_value("warc/failed")
        # every later fetch would be lost too (the writer gone, the disk full): stop the crawl, once;
        # what it did not fetch, the next run does (the crawl state holds only what was archived)
        if self.writer.lost:
            self._stop(self.writer.lost, WRITER_LOST)
        elif failure.check(DiskFull):
            self._stop(str(failure.value), DISK_FULL)
        elif failure.check(StateLost):
            self._stop(str(failure.value), STATE_LOST)
        else:
            logger.error("%s: %s", self.source, failure.value)
        return False

    def _stop(self, why: str, reason: str) -> None:
        if not self.stats.get_value(STOPPING):
            self.stats.set_value(STOPPING, reason)
            logger.error("%s: %s; stopping the crawl", self.source, why)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        """Wait until every exchange is written and the WARCs are closed (and indexed, if on close)."""
        try:
            self.stats.set_value("warc/files", await maybe_deferred_to_future(self.writer.close(self.key)))
        finally:
            await maybe_deferred_to_future(self.writer.release())
