"""Re-crawls ask only for what is new or changed.

``ConditionalFetchMiddleware`` (a downloader middleware) reads the crawl state:

- articles and linked documents already fetched are not fetched again (``IgnoreRequest``),
  unless the source's ``refetch_after`` hours have passed since;
- everything else that was fetched before (start pages, feeds, sitemaps, refetched
  articles) goes out with If-None-Match / If-Modified-Since, and a 304 is let through to
  the capture (which writes a server-not-modified revisit);
- the spider then gets the 304 swapped for the archived body, as an HTTP cache would serve
  it, so links on an unchanged start page are still followed (a run cut short by
  ``max_pages`` leaves no article behind for good).

robots.txt is always fetched in full: Scrapy would read an empty 304 body as "allow all".
"""

from __future__ import annotations

import time
from pathlib import Path

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from scrapy.settings import Settings

from archive.capture import ROLE_ARTICLE, ROLE_RESOURCE
from archive.reader import RecordError, read_response
from archive.state import CrawlState, UrlState, open_state

FETCH_ONCE_ROLES = {ROLE_ARTICLE, ROLE_RESOURCE}
CONDITIONAL = "newsarchive_conditional"  # request.meta: validators were sent with this request


def crawl_state(settings: Settings) -> CrawlState | None:
    """The crawl state a re-crawl reads (a cluster's, if any); None for a crawl without it (no archive, or a full one)."""
    archive_dir = settings.get("NEWSARCHIVE_ARCHIVE_DIR")
    if not archive_dir or not settings.getbool("NEWSARCHIVE_INCREMENTAL", True):
        return None
    return open_state(Path(archive_dir), settings.get("NEWSARCHIVE_REDIS_URL"))


class ConditionalFetchMiddleware:
    def __init__(self, crawler: Crawler, state: CrawlState, warc_dir: Path):
        self.crawler = crawler
        self.state = state
        self.warc_dir = warc_dir
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalFetchMiddleware:
        state = crawl_state(crawler.settings)
        if state is None:
            raise NotConfigured
        middleware = cls(crawler, state, Path(crawler.settings.get("WARC_DIR")))
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_closed(self) -> None:
        self.state.close()

    def _refetch_after(self) -> float | None:
        source = getattr(self.crawler.spider, "source", None)
        hours = getattr(source, "refetch_after", None)
        return None if hours is None else hours * 3600

    def _fetched_for_good(self, request: Request, known: UrlState) -> bool:
        if request.meta.get("role") not in FETCH_ONCE_ROLES or request.meta.get("seed") or not known.settled:
            return False
        refetch_after = self._refetch_after()
        return refetch_after is None or time.time() - known.last_fetched < refetch_after

    def process_request(self, request: Request) -> None:
        if request.meta.get("dont_obey_robotstxt"):  # the robots.txt fetch itself
            return
        known = self.state.url(request.url.split("#", 1)[0])
        if known is None:
            return
        if self._fetched_for_good(request, known):
            self.stats.inc_value("newsarchive/skipped_known")
            raise IgnoreRequest(f"already archived: {request.url}")
        if known.etag:
            request.headers.setdefault("If-None-Match", known.etag)
        if known.last_modified:
            request.headers.setdefault("If-Modified-Since", known.last_modified)
        if known.etag or known.last_modified:
            request.meta[CONDITIONAL] = True
            request.meta["handle_httpstatus_list"] = [*request.meta.get("handle_httpstatus_list", ()), 304]

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status != 304 or not request.meta.get(CONDITIONAL):
            return response
        self.stats.inc_value("newsarchive/not_modified")
        archived = self._archived(request.url.split("#", 1)[0])
        if archived is None:
            return response
        headers = Headers({"Content-Type": archived.content_type} if archived.content_type else {})
        cls = responsetypes.from_args(headers=headers, url=request.url, body=archived.body)
        return cls(url=request.url, status=200, headers=headers, body=archived.body, request=request,
                   flags=[*response.flags, "revalidated"], ip_address=response.ip_address,
                   protocol=response.protocol)

    def _archived(self, url: str):
        """The decoded body last archived for ``url``, or None when it cannot be read back."""
        known = self.state.url(url)
        payload = self.state.payload(known.payload_digest) if known and known.payload_digest else None
        if payload is None:
            return None
        try:
            return read_response(self.warc_dir / payload.warc_file, payload.warc_offset)
        except (RecordError, OSError):
            return None
