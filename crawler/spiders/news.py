"""One spider for every news source: start pages, feeds and sitemaps lead to articles."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.robotstxt import RobotParser
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from archive.capture import ROLE_ARTICLE, ROLE_FEED, ROLE_RESOURCE, ROLE_SITEMAP, ROLE_START
from config import DEFAULT_CONFIG, Config, Source, load_config
from crawler.quiet import drop_repeated_errors
from crawler.source_settings import configure_scrapy_crawl
from crawler.discovery import (
    UnreadableDiscovery,
    feed_entry_urls,
    feed_links,
    is_resource_url,
    looks_like_article,
    page_links,
    sitemap_entries,
)


FAILED_COUNT = "newsarchive/failed"
FAILED_URLS = "newsarchive/failed_urls"
MAX_LISTED_FAILURES = 1000


class NewsSpider(Spider):
    """Crawls one configured source.

    ``newsarchive run`` passes the ``Source``; ``scrapy crawl news -a source=NAME
    [-a config=PATH]`` loads it from the sources file.
    """

    name = "news"

    def __init__(self, source: Source | str | None = None, config: str = DEFAULT_CONFIG, **kwargs):
        self.config: Config | None = None  # read here under `scrapy crawl`, whose settings then come from it
        if not isinstance(source, Source):
            self.config = load_config(config)
            source = self.config.select([source] if source else None)[0]
        super().__init__(name=self.name, **kwargs)
        self.source = source
        self.allowed_domains = list(source.allowed_domains)
        self._seed_netlocs = {urlsplit(url).netloc for url in source.seed_urls()}

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        drop_repeated_errors()
        spider = super().from_crawler(crawler, *args, **kwargs)
        if spider.config is not None:
            configure_scrapy_crawl(crawler.settings, spider.config, spider.source)
        crawler.signals.connect(spider.robots_parsed, signal=signals.robots_parsed)
        return spider

    # -- seeds ---------------------------------------------------------------
    def _seed(self, url: str, role: str, callback) -> Request:
        return Request(url, callback=callback, errback=self.fetch_failed, dont_filter=True,
                       meta={"role": role, "seed": True})

    async def start(self) -> AsyncIterator[Request]:
        for url in self.source.start_urls:
            yield self._seed(url, ROLE_START, self.parse_start)
        for url in self.source.feeds:
            yield self._seed(url, ROLE_FEED, self.parse_feed)
        for url in self.source.sitemaps:
            yield self._seed(url, ROLE_SITEMAP, self.parse_sitemap)

    def fetch_failed(self, failure: Failure) -> None:
        """One line saying what failed and why, not Scrapy's traceback; a seed's failure counts against the source."""
        request = failure.request
        if failure.check(HttpError):  # an IgnoreRequest too, but a fetch that failed
            reason = f"HTTP {failure.value.response.status}"
        elif failure.check(IgnoreRequest) and not request.meta.get("seed"):
            return  # robots.txt said no, or a known URL was skipped: nothing failed
        else:
            reason = str(failure.value) or type(failure.value).__name__
        self.record_failure(request.url, reason)
        if request.meta.get("seed"):
            self._seed_failed(request.url, f"cannot fetch it: {reason}")
        else:
            self.logger.warning("%s: cannot fetch %s: %s", self.source.name, request.url, reason)

    def record_failure(self, url: str, reason: str) -> None:
        """Count a URL that could not be fetched, once, after Scrapy's retries; the run report lists them."""
        stats = self.crawler.stats
        stats.inc_value(FAILED_COUNT)
        listed = stats.get_value(FAILED_URLS) or []
        if len(listed) < MAX_LISTED_FAILURES:  # a dead site of a million URLs must not fill the memory
            stats.set_value(FAILED_URLS, [*listed, {"url": url, "reason": reason}])

    def _seed_failed(self, url: str, reason: str) -> None:
        self.crawler.stats.inc_value("newsarchive/seed_failed")
        self.logger.error("%s: %s: %s", self.source.name, url, reason)

    def _unreadable(self, response: Response, kind: str, problem: UnreadableDiscovery) -> None:
        """A feed or sitemap that is archived but cannot be read: said in one line, and a seed counts as failed."""
        if response.status == 304:  # unchanged, its archived copy unreadable (so no body): nothing new to follow
            self._seed_ok(response)
        elif response.meta.get("seed"):
            self._seed_failed(response.url, f"not a readable {kind}: {problem}")
        else:
            self.logger.warning("%s: %s: not a readable %s: %s", self.source.name, response.url, kind, problem)

    def _seed_ok(self, response: Response) -> None:
        if response.meta.get("seed"):
            self.crawler.stats.inc_value("newsarchive/seed_ok")

    def robots_parsed(self, robotparser: RobotParser, request: Request) -> None:
        """Follow the ``Sitemap:`` lines of a robots.txt we had to read anyway."""
        base = f"{urlsplit(request.url).scheme}://{urlsplit(request.url).netloc}"
        for url in getattr(getattr(robotparser, "rp", None), "sitemaps", []) or []:
            if self._in_scope(url) and url not in self.source.sitemaps:
                self.crawler.engine.crawl(self._follow(url, ROLE_SITEMAP, self.parse_sitemap, base + "/robots.txt"))

    # -- scope ---------------------------------------------------------------
    def _in_scope(self, url: str) -> bool:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if not any(host == domain or host.endswith("." + domain) for domain in self.allowed_domains):
            return False
        # Several sites may share one IP address on different ports (as on loopback).
        return not host.replace(".", "").isdigit() or parts.netloc in self._seed_netlocs

    def _follow(self, url: str, role: str, callback, via: str) -> Request:
        return Request(url, callback=callback, errback=self.fetch_failed, meta={"role": role, "via": via})

    def _article(self, url: str, via: str) -> Request:
        return self._follow(url, ROLE_ARTICLE, self.parse_article, via)

    # -- callbacks -----------------------------------------------------------
    def parse_start(self, response: Response) -> Iterator[Request]:
        self._seed_ok(response)
        if not hasattr(response, "text"):
            return
        for url in feed_links(response.body, response.url):
            if self._in_scope(url) and url not in self.source.feeds:  # a configured feed is fetched anyway
                yield self._follow(url, ROLE_FEED, self.parse_feed, response.url)
        for link in page_links(response.body, response.url):
            if not self._in_scope(link.url):
                continue
            if looks_like_article(link.url, link.text):
                yield self._article(link.url, response.url)
            elif is_resource_url(link.url):
                yield self._follow(link.url, ROLE_RESOURCE, self.parse_resource, response.url)

    def parse_feed(self, response: Response) -> Iterator[Request]:
        try:
            urls = feed_entry_urls(response.body)
        except UnreadableDiscovery as problem:
            self._unreadable(response, "feed", problem)
            return
        self._seed_ok(response)
        for url in urls:
            if self._in_scope(url):
                yield self._article(url, response.url)

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        try:
            kind, entries = sitemap_entries(response.body)
        except UnreadableDiscovery as problem:
            self._unreadable(response, "sitemap", problem)
            return
        self._seed_ok(response)
        for entry in entries:
            if not self._in_scope(entry.url):
                continue
            if kind == "sitemapindex":
                yield self._follow(entry.url, ROLE_SITEMAP, self.parse_sitemap, response.url)
            elif entry.is_news or looks_like_article(entry.url):
                yield self._article(entry.url, response.url)

    def parse_article(self, response: Response) -> None:
        """Archived by the capture; the derivation reads it from the WARC."""

    def parse_resource(self, response: Response) -> None:
        """Archived by the capture; nothing to extract."""
