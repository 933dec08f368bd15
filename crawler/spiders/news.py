"""One spider for every news source: start pages, feeds and sitemaps lead to articles."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import datetime, timedelta, timezone
from functools import partial
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest, ResponseDataLossError
from scrapy.http import Response
from scrapy.robotstxt import RobotParser
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure
from w3lib.encoding import http_content_type_encoding

from archive.capture import (
    ROLE_ARTICLE, ROLE_FEED, ROLE_REQUISITE, ROLE_RESOURCE, ROLE_SITEMAP, ROLE_START, is_article_capture,
)
from config import DEFAULT_CONFIG, Config, ConfigError, Source, load_config
from crawler.bounds import MIDDLEWARES, REPLACED_MIDDLEWARES, OffsiteRedirect, PageBudgetSpent
from crawler.decoding import DecodedOverLimit
from crawler.discovery import (
    MAX_FEED_ENTRIES,
    MAX_LINKS_PER_PAGE,
    MAX_SITEMAP_ENTRIES,
    MAX_SITEMAPS,
    SITEMAP_MAX_SIZE,
    Entry,
    Listing,
    UnreadableDiscovery,
    clean_link,
    feed_entries,
    is_resource_url,
    looks_like_article,
    newest_first,
    page_links,
    sitemap_entries,
)
from crawler.incremental import crawl_state
from crawler.owed_requisites import OwedRequisites, owed_requisites
from crawler.politeness import HostLeftAlone, retry_after_refused
from crawler.quiet import drop_repeated_errors
from crawler.requisites import requisite_request
from crawler.robots import RobotsUnreachable
from crawler.sitemap_turns import SitemapTurns
from crawler.source_settings import configure_scrapy_crawl


FAILED_COUNT = "newsarchive/failed"
FAILED_URLS = "newsarchive/failed_urls"
SKIPPED_OLD = "newsarchive/skipped_old"
NOT_EXTRACTED = "newsarchive/not_extracted"
OFFSITE_REDIRECTS = "newsarchive/offsite_redirects"
OFFSITE_REDIRECT_EXAMPLE = "newsarchive/offsite_redirect_example"
SHARED_CRAWL_ENDED = "newsarchive/shared_crawl_ended"  # a cluster worker was the last out of its shared crawl
SEEDS_SETTLED = "newsarchive/seeds_settled"  # False: a cluster worker left while another could read a seed
_DEFAULT_PORTS = {"http": 80, "https": 443}
_STANDARD_ORIGINS = set(_DEFAULT_PORTS.items())  # (scheme, port)
MAX_LISTED_FAILURES = 1000


def failure_reason(exc: BaseException) -> str:
    """A failed fetch's reason as a person reads it: Twisted's ResponseFailed and its kin hold the causes as a list
    of Failures, which print as their reprs ("[<twisted.python.failure.Failure ...>]"), even once Scrapy has
    wrapped them in its DownloadFailedError."""
    for wrapper in (exc, exc.__cause__):
        if causes := getattr(wrapper, "reasons", None):
            return "; ".join(f"{type(cause.value).__name__}: {cause.getErrorMessage()}" for cause in causes)
    return str(exc) or type(exc).__name__


class NewsSpider(Spider):
    """Crawls one configured source.

    ``newsarchive run`` passes the ``Source``; ``scrapy crawl news -a source=NAME
    [-a config=PATH]`` loads it from the sources file.
    """

    name = "news"
    owed_requisites: OwedRequisites | None = None  # a cluster's queue is in Redis: it owes none

    def __init__(self, source: Source | str | None = None, config: str = DEFAULT_CONFIG, **kwargs):
        self.config: Config | None = None  # read here under `scrapy crawl`, whose settings then come from it
        if not isinstance(source, Source):
            try:
                self.config = load_config(config)
                source = _scrapy_crawl_source(self.config, source)
            except ConfigError as exc:  # `scrapy crawl` would print the traceback of a deferred: one line instead
                print(f"newsarchive: config error: {exc}", file=sys.stderr, flush=True)
                raise SystemExit(2) from None
        super().__init__(name=self.name, **kwargs)
        self.source = source
        self.allowed_domains = list(source.allowed_domains)
        self._seed_origins = {_origin(url)[::2] for url in source.seed_urls()}  # (scheme, port)
        self._oldest = (datetime.now(timezone.utc) - timedelta(days=source.max_age)) if source.max_age else None
        self.sitemaps_taken = len(source.sitemaps)  # toward max_sitemaps; the configured ones are always fetched

    @classmethod
    def update_settings(cls, settings) -> None:
        super().update_settings(settings)
        # Registered here, so `scrapy crawl news` keeps the bounds too; at the spider's priority, as
        # custom_settings would be (at the project's priority `scrapy crawl` lost them).
        middlewares = settings.getdict("DOWNLOADER_MIDDLEWARES")
        middlewares.update({middleware: middleware.ORDER for middleware in MIDDLEWARES})
        middlewares.update(dict.fromkeys(REPLACED_MIDDLEWARES))
        settings.set("DOWNLOADER_MIDDLEWARES", middlewares, priority="spider")

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        drop_repeated_errors()
        spider = super().from_crawler(crawler, *args, **kwargs)
        if spider.config is not None:
            configure_scrapy_crawl(crawler.settings, spider.config, spider.source)
        crawler.signals.connect(spider.robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(spider.request_dropped, signal=signals.request_dropped)
        settings = crawler.settings
        spider.max_links = settings.getint("NEWSARCHIVE_MAX_LINKS_PER_PAGE", MAX_LINKS_PER_PAGE)
        spider.max_feed_entries = settings.getint("NEWSARCHIVE_MAX_FEED_ENTRIES", MAX_FEED_ENTRIES)
        spider.max_sitemap_entries = settings.getint("NEWSARCHIVE_MAX_SITEMAP_ENTRIES", MAX_SITEMAP_ENTRIES)
        spider.max_sitemaps = settings.getint("NEWSARCHIVE_MAX_SITEMAPS", MAX_SITEMAPS)
        spider.max_redirects = settings.getint("REDIRECT_MAX_TIMES")
        state = crawl_state(settings)
        spider.sitemap_turns = SitemapTurns(state, spider.source.name) if state is not None else None
        if not settings.get("NEWSARCHIVE_REDIS_URL"):
            spider.owed_requisites = owed_requisites(settings, spider.source.name)
        return spider

    def closed(self, reason: str) -> None:
        if self.sitemap_turns is not None:  # a run cut short has not read all its sitemaps led to
            self.sitemap_turns.close(complete=reason == "finished")
        if self.owed_requisites is not None:
            self.owed_requisites.close()

    # -- seeds ---------------------------------------------------------------
    def _seed(self, url: str, role: str, callback) -> Request:
        return Request(url, callback=callback, errback=self.fetch_failed, dont_filter=True,
                       meta={"role": role, "seed": True, **_size_limits(role)})

    async def start(self) -> AsyncIterator[Request]:
        for url in self.source.start_urls:
            yield self._seed(url, ROLE_START, self.parse_start)
        for url in self.source.feeds:
            yield self._seed(url, ROLE_FEED, self.parse_feed)
        for url in self.source.sitemaps:
            yield self._seed(url, ROLE_SITEMAP, self.parse_sitemap)
        if self.owed_requisites is not None and self.source.requisites:  # what an earlier run left unasked
            for url, via, depth in self.owed_requisites.left():
                yield requisite_request(self, url, via, depth)

    def fetch_failed(self, failure: Failure) -> None:
        """One line saying what failed and why, not Scrapy's traceback; a seed's failure counts against the source."""
        request = failure.request
        if request.meta.get("role") == ROLE_REQUISITE:
            if not failure.check(PageBudgetSpent):
                self._asked_for(request)
            self._requisite_failed(failure)
            return
        if failure.check(HttpError):  # an IgnoreRequest too, but a fetch that failed
            reason = _http_error_reason(failure.value.response) + retry_after_refused(request)
        elif failure.check(PageBudgetSpent, HostLeftAlone):
            return  # max_pages reached, or the host asked to be left alone (said once a host): the next run takes it
        elif failure.check(DownloadCancelledError) and (not str(failure.value) or "download max size" in str(failure.value)):
            # Scrapy's cancel at the limit: bare once the body passed it, its warning when Content-Length announced it
            reason = f"larger than its download limit ({self._download_limit(request)}): not archived"
        elif failure.check(DecodedOverLimit):
            reason = f"over its download limit once decompressed ({self._download_limit(request)}): archived, not read"
        elif failure.check(ResponseDataLossError):
            reason = "cut short: the connection closed before the body was complete (data loss): not archived"
        elif failure.check(OffsiteRedirect) and not request.meta.get("seed"):
            self._offsite_redirect(failure.value)
            return
        elif failure.check(IgnoreRequest) and request.meta.get("redirect_times", 0) >= self.max_redirects:
            self._cannot_fetch(request, request.meta["redirect_urls"][0],
                               f"more than {self.max_redirects} redirects, the last followed to {request.url}")
            return
        elif failure.check(IgnoreRequest) and not failure.check(RobotsUnreachable) and not request.meta.get("seed"):
            return  # robots.txt said no, or a known URL was skipped: nothing failed
        else:
            reason = failure_reason(failure.value)
        self._cannot_fetch(request, request.url, reason)

    def _requisite_failed(self, failure: Failure) -> None:
        """One line, and not a failed fetch of the source: a page requisite (crawler/requisites.py) is not the
        source's content.  Its host's network failures are counted as they happen (``RequisiteHostsHandler``)."""
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            # robots.txt said no, max_pages was spent, or the host is left alone (its unreadable robots.txt was said
            # once, crawler/robots.py): nothing more to say
            return
        request = failure.request
        reason = (f"HTTP {failure.value.response.status}" if failure.check(HttpError)
                  else failure_reason(failure.value))
        self.logger.warning("%s: page requisite %s (of %s) not archived: %s", self.source.name, request.url,
                            request.meta.get("via"), reason)

    def _download_limit(self, request: Request) -> str:
        """"20 MB, DOWNLOAD_MAXSIZE", or a sitemap's "50 MB, the sitemap protocol's"."""
        limit = request.meta.get("download_maxsize", self.settings.getint("DOWNLOAD_MAXSIZE"))
        which = "the sitemap protocol's" if request.meta.get("role") == ROLE_SITEMAP else "DOWNLOAD_MAXSIZE"
        return f"{limit >> 20} MB, {which}"

    def request_dropped(self, request: Request) -> None:
        """A redirect back to a URL of its own chain is dropped as a duplicate by Scrapy, unsaid: a loop."""
        if request.url in request.meta.get("redirect_urls", ()):
            hops = [*request.meta["redirect_urls"], request.url]
            self._cannot_fetch(request, hops[0], f"a redirect loop: {' -> '.join(hops)}")

    def _cannot_fetch(self, request: Request, url: str, reason: str) -> None:
        """One line and an entry of the run report; a redirect that fails is said under the URL it started from."""
        self.record_failure(url, reason)
        if request.meta.get("seed"):
            self._seed_failed(url, f"cannot fetch it: {reason}")
        else:
            self.logger.warning("%s: cannot fetch %s: %s", self.source.name, url, reason)

    def _offsite_redirect(self, redirect: OffsiteRedirect) -> None:
        """Counted, with the first as an example: the run summary says it in one line, not one per URL."""
        stats = self.crawler.stats
        stats.inc_value(OFFSITE_REDIRECTS)
        if stats.get_value(OFFSITE_REDIRECT_EXAMPLE) is None:
            stats.set_value(OFFSITE_REDIRECT_EXAMPLE, f"{redirect.origin} -> {redirect.target}")
        self.logger.info("%s: %s: not followed", self.source.name, redirect)

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
        """Follow the ``Sitemap:`` lines of a robots.txt we had to read anyway (``clean_link``ed, as any link)."""
        robots = f"{urlsplit(request.url).scheme}://{urlsplit(request.url).netloc}/robots.txt"
        listed = [url for url in map(clean_link, getattr(getattr(robotparser, "rp", None), "sitemaps", []) or [])
                  if self.in_scope(url) and url not in self.source.sitemaps]
        for sitemap in self._sitemaps(dict.fromkeys(listed), robots):
            self.crawler.engine.crawl(sitemap)

    # -- scope ---------------------------------------------------------------
    def in_scope(self, url: str) -> bool:
        """On the source's site: an allowed host, on a scheme and port its seeds use.

        The same host on another port is another server (several sites share one address on
        loopback, and an admin or staging server may listen beside a site).  A site on the
        standard ports is one site over http and https, whichever its seeds name: old links
        and redirects cross between the two.
        """
        try:
            scheme, host, port = _origin(url)
        except ValueError:  # a port that is no number, or out of range
            return False
        if not any(host == domain or host.endswith("." + domain) for domain in self.allowed_domains):
            return False
        if (scheme, port) in self._seed_origins:
            return True
        return (scheme, port) in _STANDARD_ORIGINS and bool(_STANDARD_ORIGINS & self._seed_origins)

    def _recent(self, entries: list[Entry], listing: str) -> Iterator[Entry]:
        """The entries not older than the source's ``max_age`` (undated ones too); the others are counted."""
        skipped = 0
        for entry in entries:
            if self._oldest is not None and entry.date is not None and entry.date < self._oldest:
                skipped += 1
            else:
                yield entry
        if skipped:
            self.crawler.stats.inc_value(SKIPPED_OLD, skipped)
            self.logger.info("%s: %s: %d entries older than max_age (%g days) skipped",
                             self.source.name, listing, skipped, self.source.max_age)

    def _cut(self, url: str, what: str, limit: int, setting: str) -> None:
        self.crawler.stats.inc_value("newsarchive/truncated_listings")
        self.logger.warning("%s: %s: only the first %d %s taken ([crawl] %s)", self.source.name, url, limit,
                            what, setting)

    def _follow(self, url: str, role: str, callback, via: str) -> Iterator[Request]:
        """The request for ``url``, or (a URL too long to fetch) one line and a failure in the report.

        Scrapy's ``UrlLengthMiddleware`` would drop it with a line at INFO level only.
        """
        limit = self.settings.getint("URLLENGTH_LIMIT")
        if limit and len(url) > limit:
            reason = f"a URL of {len(url)} characters, over URLLENGTH_LIMIT ({limit})"
            self.record_failure(url, reason)
            self.logger.warning("%s: cannot fetch %s...: %s", self.source.name, url[:100], reason)
            return
        yield Request(url, callback=callback, errback=self.fetch_failed,
                      meta={"role": role, "via": via, **_size_limits(role)})

    def _sitemaps(self, urls: Iterable[str], via: str) -> Iterator[Request]:
        """Requests for the sitemaps ``via`` lists, while the run has fetched fewer than ``max_sitemaps``; one line
        says how many more it listed (a sitemap index may list 50,000, which only the time limit bounded)."""
        left = 0
        for url in urls:
            if self.sitemaps_taken >= self.max_sitemaps:
                left += 1
                continue
            self.sitemaps_taken += 1
            yield from self._follow(url, ROLE_SITEMAP, self.parse_sitemap, via)
        if left:
            self.crawler.stats.inc_value("newsarchive/sitemaps_not_fetched", left)
            self.logger.warning("%s: %s: %d more sitemaps not fetched: this run took its %d ([crawl] max_sitemaps), "
                                "changed and unread first", self.source.name, via, left, self.max_sitemaps)

    def _in_turn(self, entries: list[Entry]) -> list[Entry]:
        """An index's sitemaps in the order to read them: changed and unread first (crawler/sitemap_turns.py)."""
        return entries if self.sitemap_turns is None else self.sitemap_turns.order(entries)

    def _article(self, url: str, via: str) -> Iterator[Request]:
        return self._follow(url, ROLE_ARTICLE, self.parse_article, via)

    # -- callbacks -----------------------------------------------------------
    def parse_start(self, response: Response) -> Iterator[Request]:
        self._seed_ok(response)
        if not hasattr(response, "text"):
            return
        found = page_links(response.body, response.url, self.max_links, _links_encoding(response))
        if found.truncated:
            self._cut(response.url, "links", self.max_links, "max_links_per_page")
        for url in found.feeds:
            if self.in_scope(url) and url not in self.source.feeds:  # a configured feed is fetched anyway
                yield from self._follow(url, ROLE_FEED, self.parse_feed, response.url)
        for link in found.links:
            if not self.in_scope(link.url):
                continue
            if looks_like_article(link.url, link.text):
                yield from self._article(link.url, response.url)
            elif is_resource_url(link.url):
                yield from self._follow(link.url, ROLE_RESOURCE, self.parse_resource, response.url)

    def _listing(self, response: Response, kind: str) -> Listing | None:
        """The feed's or sitemap's entries, within their cap; None (and said why) if it cannot be read."""
        read, limit, setting = ((partial(feed_entries, url=response.url), self.max_feed_entries, "max_feed_entries")
                                if kind == "feed" else
                                (sitemap_entries, self.max_sitemap_entries, "max_sitemap_entries"))
        try:
            listing = read(response.body, limit)
        except UnreadableDiscovery as problem:
            self._unreadable(response, kind, problem)
            return None
        self._seed_ok(response)
        if listing.truncated:
            self._cut(response.url, "entries", limit, setting)
        return listing

    def _on_site(self, entries: Iterable[Entry], listing: str) -> Iterator[Entry]:
        """The entries on the source's site; one line says how many were elsewhere, with the first.

        A feed or sitemap listing another host's stories (feeds.example.com for www.example.com) gives
        nothing without ``allowed_domains``, and this line is how its owner learns so.
        """
        elsewhere, example = 0, ""
        for entry in entries:
            if self.in_scope(entry.url):
                yield entry
            else:
                elsewhere, example = elsewhere + 1, example or entry.url
        if elsewhere:
            self.logger.warning("%s: %s: %d entr%s on other sites not followed (allowed_domains), e.g. %s",
                                self.source.name, listing, elsewhere, "y" if elsewhere == 1 else "ies", example)

    def parse_feed(self, response: Response) -> Iterator[Request]:
        listing = self._listing(response, "feed")
        for entry in self._on_site(self._recent(newest_first(listing.entries) if listing else [], response.url),
                                   response.url):
            yield from self._article(entry.url, response.url)

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        listing = self._listing(response, "sitemap")
        # A sitemap of a sitemap index older than max_age lists nothing newer (its lastmod is its newest entry's).
        entries = self._on_site(self._recent(newest_first(listing.entries) if listing else [], response.url),
                                response.url)
        if listing and self.sitemap_turns is not None:
            self.sitemap_turns.read_one(response.meta.get("redirect_urls", [response.url])[0])
        if listing and listing.kind == "sitemapindex":
            yield from self._sitemaps((entry.url for entry in self._in_turn(list(entries))),
                                      response.url)
            return
        for entry in entries:
            if entry.is_news or looks_like_article(entry.url):
                yield from self._article(entry.url, response.url)

    def parse_article(self, response: Response) -> None:
        """Archived by the capture; the derivation reads it from the WARC, if it is an HTML page with status 200.

        What the derivation will pass over is said here, in one line and in the run report.
        """
        content_type = response.headers.get("Content-Type", b"").decode("latin-1")
        if not is_article_capture(ROLE_ARTICLE, response.status, content_type):
            reason = (f"HTTP {response.status}, not 200" if response.status != 200 else
                      f"not an HTML page (Content-Type {content_type!r})")
            stats = self.crawler.stats
            listed = stats.get_value(NOT_EXTRACTED) or []
            if len(listed) < MAX_LISTED_FAILURES:
                stats.set_value(NOT_EXTRACTED, [*listed, {"url": response.url, "reason": reason}])
            self.logger.warning("%s: %s: archived, not extracted: %s", self.source.name, response.url, reason)

    def parse_resource(self, response: Response) -> None:
        """Archived by the capture; nothing to extract."""
        self._asked_for(response.request)

    def _asked_for(self, request: Request) -> None:
        """A requisite is owed no more once asked for, whatever the answer (crawler/owed_requisites.py)."""
        if self.owed_requisites is not None and request.meta.get("role") == ROLE_REQUISITE:
            self.owed_requisites.asked_for(request.url)


def _scrapy_crawl_source(config: Config, name: str | None) -> Source:
    """The source `scrapy crawl news -a source=NAME` names (none named: the first)."""
    known = [source.name for source in config.sources]
    if not known:
        raise ConfigError(f"{config.path}: no [[sources]] to crawl")
    if name and name not in known:
        raise ConfigError(f"{config.path}: no source named {name!r} (known: {', '.join(known)})")
    return config.select([name] if name else None)[0]


def _http_error_reason(response: Response) -> str:
    """"HTTP 404"; a redirect Scrapy did not follow (to an ftp:, file: or mailto: address) says where it led."""
    location = response.headers.get("Location", b"").decode("latin-1").strip()
    if not 300 <= response.status < 400 or not location:
        return f"HTTP {response.status}"
    scheme = urlsplit(location).scheme.lower()
    why = " (not an http or https address)" if scheme and scheme not in ("http", "https") else ""
    return f"HTTP {response.status} to {location[:200]}, not followed{why}"


def _links_encoding(response: Response) -> str | None:
    """The charset to read a page's links in: Scrapy's reading (header, <meta>, detection), but for a header's
    ISO-8859-1 (w3lib: cp1252), which servers send unasked as HTTP/1.1's default: the page's own <meta> goes
    first, as the parser reads it (None), and without one the parser reads ISO-8859-1 as the header says."""
    declared = http_content_type_encoding(response.headers.get("Content-Type", b"").decode("latin-1"))
    return None if declared == "cp1252" else response.encoding


def _size_limits(role: str) -> dict[str, int]:
    """A sitemap may be as large as its protocol allows (50 MB uncompressed), over DOWNLOAD_MAXSIZE; the other
    fetches keep the settings' limit."""
    return {"download_maxsize": SITEMAP_MAX_SIZE} if role == ROLE_SITEMAP else {}


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, the port its scheme's default when none is given."""
    parts = urlsplit(url)
    return parts.scheme, parts.hostname or "", parts.port or _DEFAULT_PORTS.get(parts.scheme)
