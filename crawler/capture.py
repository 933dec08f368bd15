"""Record every HTTP exchange into WARC files as it came off the wire.

The ``response_downloaded`` signal fires straight after the download handler, before any
downloader middleware: the body is still content-encoded, every redirect hop and the
robots.txt fetch pass through it, and HttpCache hits do not (they were not fetched).
"""

from __future__ import annotations

import logging
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Response

from archive.capture import ROLE_FIELD, ROLE_ROBOTS, SOURCE_FIELD, is_article_capture
from archive.index import update_index
from archive.state import open_state
from archive.writer import RollingWarcWriter, warc_date
from crawler.revisits import RevisitPolicy

logger = logging.getLogger(__name__)

# Hop-by-hop framing that describes the wire transfer, not the stored (de-chunked) body.
_FRAMING_HEADERS = {"transfer-encoding", "content-length", "connection", "keep-alive"}


def _text(value: bytes | str) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def response_headers(response: Response) -> list[tuple[str, str]]:
    """The response's headers made consistent with the stored body (Content-Length true)."""
    headers = [
        (_text(name), _text(value))
        for name, values in response.headers.items()
        for value in values
        if _text(name).lower() not in _FRAMING_HEADERS
    ]
    if response.status != 304:  # a 304's Content-Length would describe the unsent representation
        headers.append(("Content-Length", str(len(response.body))))
    return headers


def request_headers(request: Request) -> list[tuple[str, str]]:
    """The request's headers as sent, with the Host header Twisted adds on the wire."""
    headers = [(_text(name), _text(value)) for name, values in request.headers.items() for value in values]
    if not any(name.lower() == "host" for name, _ in headers):
        headers.insert(0, ("Host", urlsplit(request.url).netloc))
    return headers


def request_line(request: Request) -> str:
    parts = urlsplit(request.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return f"{request.method} {target} HTTP/1.1"


class WarcCapture:
    """Scrapy extension: one WARC writer per crawl (per source), fed by ``response_downloaded``.

    Settings: ``WARC_DIR``, ``WARC_PREFIX``, ``WARC_MAX_SIZE``, ``WARC_INFO`` (extra warcinfo
    fields).  The source name comes from the spider and goes into warcinfo and metadata
    records, so the WARCs alone say which source each page belongs to.  Each closed WARC is
    indexed (CDXJ) in a background thread when ``NEWSARCHIVE_ARCHIVE_DIR`` is set, so a
    rollover does not stall the crawl.
    """

    def __init__(self, crawler: Crawler):
        self.settings = crawler.settings
        self.stats = crawler.stats
        self.source = ""
        self.writer: RollingWarcWriter | None = None
        self.revisits: RevisitPolicy | None = None
        self.indexer: ThreadPoolExecutor | None = None
        self._written: deque = deque()  # (future of locations, uri, response, decision, date)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.headers_received, signal=signals.headers_received)
        crawler.signals.connect(self.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "WarcCapture":
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
        self.archive_dir = settings.get("NEWSARCHIVE_ARCHIVE_DIR")
        if self.archive_dir:
            self.indexer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cdxj")
        if self.archive_dir and settings.getbool("NEWSARCHIVE_INCREMENTAL", True):
            self.revisits = RevisitPolicy(open_state(self.archive_dir), self.source)
        self.writer = RollingWarcWriter(
            settings.get("WARC_DIR"),
            prefix=settings.get("WARC_PREFIX") or f"newsarchive-{self.source}",
            info=info,
            max_size=settings.getint("WARC_MAX_SIZE", 1_000_000_000),
            on_close=self._index if self.archive_dir else None,
        )

    def _index(self, warc_path: Path) -> None:
        self.indexer.submit(self._index_now, warc_path)

    def _index_now(self, warc_path: Path) -> None:
        try:
            update_index(self.archive_dir, [warc_path])
        except Exception:  # a broken index must not stop the crawl; replay re-indexes missing files
            logger.exception("could not index %s", warc_path)

    def headers_received(self, headers, body_length, request: Request, spider: Spider) -> None:
        """Date the capture from when the request went out (http11 sets the latency just before)."""
        latency = request.meta.get("download_latency", 0.0)
        request.meta["warc_date"] = datetime.now(timezone.utc) - timedelta(seconds=latency)

    def response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        started = request.meta.get("warc_date") or datetime.now(timezone.utc)
        date = warc_date(started)
        uri = request.url.split("#", 1)[0]
        response_id = self.writer.new_record_id()
        response_warc = {"WARC-Record-ID": response_id, "WARC-Date": date}
        if response.ip_address is not None:
            response_warc["WARC-IP-Address"] = str(response.ip_address)
        if response.protocol:
            response_warc["WARC-Protocol"] = response.protocol.lower()
        if "dataloss" in response.flags:
            response_warc["WARC-Truncated"] = "disconnect"
        linked = {"WARC-Date": date, "WARC-Concurrent-To": response_id}
        role = request.meta.get("role") or (ROLE_ROBOTS if urlsplit(uri).path == "/robots.txt" else "")
        fields = {
            SOURCE_FIELD: self.source,
            ROLE_FIELD: role,
            "hopsFromSeed": str(request.meta.get("depth", 0)),
            "fetchTimeMs": str(int(request.meta.get("download_latency", 0.0) * 1000)),
        }
        if request.meta.get("via"):
            fields["via"] = request.meta["via"]
        if request.meta.get("redirect_urls"):
            fields["redirectedFrom"] = request.meta["redirect_urls"][0]
        decision = self.revisits.decide(uri, request, response) if self.revisits else None
        if decision is not None and decision.profile:
            first = self.writer.revisit_record(uri, status_line(response.status), response_headers(response),
                                               {**response_warc, **decision.warc_headers()})
            self.stats.inc_value(f"newsarchive/revisit/{decision.profile.rsplit('/', 1)[1]}")
        else:
            first = self.writer.response_record(uri, status_line(response.status), response_headers(response),
                                                response.body, response_warc)
        records = [
            first,
            self.writer.request_record(uri, request_line(request), request_headers(request),
                                       request.body, dict(linked)),
            self.writer.metadata_record(uri, fields, dict(linked)),
        ]
        self._remember_written()
        written = self.writer.submit_capture(records)
        if decision is not None:
            self.revisits.expect(uri, response, decision, response_id, date)
            self._written.append((written, uri, response, decision, date))
        self.stats.inc_value("warc/records", len(records))
        self.stats.inc_value("warc/bytes_captured", len(response.body))
        content_type = _text(response.headers.get("Content-Type") or b"")
        full = decision is None or not decision.profile
        if full and is_article_capture(role, response.status, content_type):
            request.meta["archived_article"] = written

    def _remember_written(self) -> None:
        """Record finished captures in the crawl state, on the crawler's thread, in order."""
        while self._written and self._written[0][0].done():
            written, uri, response, decision, date = self._written.popleft()
            self.revisits.remember(uri, response, decision, written.result()[0], date)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        self.writer.close()
        self._remember_written()
        if self.revisits is not None:
            self.revisits.state.close()
        if self.indexer is not None:
            self.indexer.shutdown(wait=True)
        self.stats.set_value("warc/files", list(self.writer.files))
