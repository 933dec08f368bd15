"""A crawl stays within its bounds: its site, ``max_pages`` fetches exactly, and ``DEPTH_LIMIT`` steps.

Two downloader middlewares, so they see every request, redirects and retries included:

- ``SiteScope``: a redirect off the source's site (another host, or the same host on another
  port or scheme: ``NewsSpider.in_scope``) is not followed, and reaches the request's errback,
  which counts it for the run report.  It replaces Scrapy's OffsiteMiddleware, which compares
  host names only and drops an off-site redirect when it is scheduled, with no errback and
  nothing said;
- ``PageBudget``, the last step before the network, after the crawl state and robots.txt
  have let a request through: Scrapy's ``CLOSESPIDER_PAGECOUNT`` counts responses and closes the spider
  once it has seen enough, by when every request already on its way is fetched too (a run
  with ``max_pages = 30`` fetched 62).  Counted here, not one request more goes out.
  robots.txt is not counted (it is fetched for politeness, once per host); each redirect
  hop and retry is a fetch and counts.

``SaidDepthLimit`` (a spider middleware) is Scrapy's ``DepthMiddleware``, which drops a link more
than ``DEPTH_LIMIT`` steps from the seeds (a sitemap index nested deeper, or one that lists itself
under ever new URLs) with a debug line only: here each listing or page cut so says it in one line.
"""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.depth import DepthMiddleware
from scrapy.utils.defer import deferred_from_coro

from archive.capture import ROLE_REQUISITE

logger = logging.getLogger(__name__)

FINISH_REASON = "closespider_pagecount"  # Scrapy's own, so a bounded crawl reads as one everywhere


class PageBudgetSpent(IgnoreRequest):
    """A request left unfetched because the run fetched ``max_pages`` already; the next run finds it again."""


class OffsiteRedirect(IgnoreRequest):
    """A redirect that leads off the source's site."""

    def __init__(self, origin: str, target: str):
        super().__init__(f"{origin} redirects off the site, to {target}")
        self.origin, self.target = origin, target


class SiteScope:
    """Drops a redirect off the site before anything is asked of that server (its robots.txt included)."""

    ORDER = 40  # before the crawl state (50) and robots.txt (100)

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteScope:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if request.meta.get("dont_obey_robotstxt"):  # robots.txt is read wherever it redirects (RFC 9309 §2.3.1.2)
            return
        if request.meta.get("role") == ROLE_REQUISITE:  # from any host, as the page embeds it (CDNs move them)
            return
        if request.meta.get("redirect_urls") and not self.crawler.spider.in_scope(request.url):
            raise OffsiteRedirect(request.meta["redirect_urls"][0], request.url)


class PageBudget:
    """Lets ``max_pages`` fetches out, then closes the crawl."""

    ORDER = 950  # after every stock downloader middleware, right before the download

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.fetched = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageBudget:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        limit = self.crawler.spider.source.max_pages
        if limit is None or request.meta.get("dont_obey_robotstxt"):  # no budget, or the robots.txt fetch
            return
        if self.fetched >= limit:
            raise PageBudgetSpent(f"max_pages ({limit}) reached")
        self.fetched += 1
        if self.fetched == limit:  # what is in flight is fetched; nothing more is taken from the queue
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=FINISH_REASON))


class SaidDepthLimit(DepthMiddleware):
    """Scrapy's depth limit, one line per response whose links it drops."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cut: set[str] = set()  # the responses whose links were dropped, said once each

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        processed = super().get_processed_request(request, response)
        if processed is None and response is not None and response.url not in self.cut:
            self.cut.add(response.url)
            logger.warning("%s: %s: links more than %d steps from the seeds not followed (DEPTH_LIMIT), "
                           "e.g. %s", self.crawler.spider.source.name, response.url, self.maxdepth, request.url)
        return processed


MIDDLEWARES = (SiteScope, PageBudget)
REPLACED_MIDDLEWARES = ("scrapy.downloadermiddlewares.offsite.OffsiteMiddleware",)  # SiteScope does its work
