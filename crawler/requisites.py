"""An article's page requisites (images, stylesheets, scripts, icons, and the fonts and images its CSS names), so
that its replay shows the page as it was, as wget's --page-requisites, Heritrix and Browsertrix capture them.

``PageRequisites`` (a spider middleware) adds to an article page's callback output a request for each requisite,
and to a stylesheet's the ``url()`` and ``@import`` addresses it names.  Requisites come from any host (CDNs are the
norm), through robots.txt, AutoThrottle and the download limit as pages do; they go after the articles in the queue
(a lower priority), at most ``MAX_REQUISITES_PER_PAGE`` a page.  They are never articles (their role is
``requisite``) and are fetched again, conditionally, by each run that fetches a page naming them: unchanged, they
are archived as revisits.  A source's ``requisites = false`` turns them off.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, Response, TextResponse

from archive.capture import HTML_TYPES, ROLE_ARTICLE, ROLE_REQUISITE
from crawler.decoding import decoded_start
from crawler.politeness import hosts_given_up

logger = logging.getLogger(__name__)

MAX_REQUISITES_PER_PAGE = 100
PRIORITY = -10  # after every page (Scrapy's default priority is 0): a run cut short has its articles first
# What a page embeds and a browser loads to show it (the HTML standard's "fetch" of each element); rel is
# case-insensitive, and "shortcut icon" and "apple-touch-icon" are icons too.
_REL = "concat(' ', translate(@rel, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), ' ')"
_SRCSETS = "//img/@srcset | //picture/source/@srcset"
_EMBEDDED = ("//img/@src | //input[@type='image']/@src | //video/@poster | //script/@src"
             f" | //link[contains({_REL}, ' stylesheet ') or contains({_REL}, 'icon ')]/@href")
_INLINE_CSS = "//style/text() | //@style"  # a <style> block's backgrounds and @font-face, a style= attribute's
# CSS's url(...) and @import "..." (CSS Syntax 3 §4.3.6, the quoted and unquoted forms), as Heritrix's ExtractorCSS.
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)"'\s]*))\s*\)|@import\s+(?:"([^"]*)"|'([^']*)')""",
                      re.IGNORECASE)
_SRCSET_URL = re.compile(r"[\s,]*(\S+)")
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_TYPE = "text/css"


def _srcset_urls(srcset: str) -> Iterator[str]:
    """The URLs of a srcset, parsed as the HTML standard says: a URL, then descriptors up to a comma outside
    parentheses (a URL may hold commas, and "a.png 1x,b.png 2x" is two candidates)."""
    position = 0
    while match := _SRCSET_URL.match(srcset, position):
        url, position = match.group(1), match.end()
        if url.endswith(","):  # a candidate without descriptors
            yield url.rstrip(",")
            continue
        yield url
        depth = 0
        while position < len(srcset) and not (srcset[position] == "," and depth <= 0):
            depth += {"(": 1, ")": -1}.get(srcset[position], 0)
            position += 1


def _absolute(urls: Iterable[str], base: str) -> Iterator[str]:
    """Absolute http(s) addresses without fragments; ``data:`` and the like are not fetched."""
    for url in urls:
        url = urljoin(base, url.strip()).split("#", 1)[0]
        if urlsplit(url).scheme in ("http", "https"):
            yield url


def html_requisites(response: HtmlResponse) -> list[str]:
    """What the page embeds and its own CSS names, each once (its ``<base href>`` respected)."""
    base = urljoin(response.url, response.xpath("//base/@href").get(default=""))
    found = response.xpath(_EMBEDDED).getall()
    for srcset in response.xpath(_SRCSETS).getall():
        found += _srcset_urls(srcset)
    urls = list(_absolute(found, base))
    for css in response.xpath(_INLINE_CSS).getall():
        urls += css_requisites(css, base)
    return list(dict.fromkeys(urls))


def css_requisites(text: str, base_url: str) -> list[str]:
    """The fonts, images and imported stylesheets a stylesheet names, each once, read against its address."""
    named = ("".join(groups) for groups in _CSS_URL.findall(_CSS_COMMENT.sub("", text)))
    return list(dict.fromkeys(_absolute((url for url in named if url.strip()), base_url)))


class PageRequisites:
    """Spider middleware: the requisites of article pages and stylesheets, requested after the spider's own output.

    Ordered before the depth limit (``SaidDepthLimit``, 900), so a page's requisites are fetched however deep the
    page was found."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.given_up = hosts_given_up(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageRequisites:
        return cls(crawler)

    async def process_spider_output(self, response: Response, result: AsyncIterator) -> AsyncIterator:
        async for item in result:
            yield item
        for request in self._requisites(response):
            yield request

    def _requisites(self, response: Response) -> Iterator[Request]:
        spider = self.crawler.spider
        if not getattr(getattr(spider, "source", None), "requisites", False) or response.status != 200:
            return
        role = response.meta.get("role")
        if role == ROLE_ARTICLE and (page := self._decoded(response)) is not None:
            urls = html_requisites(page)
        elif role == ROLE_REQUISITE and isinstance(response, TextResponse) and _media_type(response) == _CSS_TYPE:
            urls = css_requisites(response.text, response.url)
        else:
            return
        if len(urls) > MAX_REQUISITES_PER_PAGE:
            logger.warning("%s: %s: only the first %d of its %d page requisites taken", spider.source.name,
                           response.url, MAX_REQUISITES_PER_PAGE, len(urls))
        depth = response.meta.get("depth", 0) + 1
        taken = [(url, response.url, depth) for url in urls[:MAX_REQUISITES_PER_PAGE]
                 if urlsplit(url).netloc not in self.given_up]
        if spider.owed_requisites is not None:
            spider.owed_requisites.note(taken)
        for url, via, depth in taken:
            yield requisite_request(spider, url, via, depth)

    def _decoded(self, response: Response) -> HtmlResponse | None:
        """The article as a page to read: the crawl hands it on as it came (crawler/decoding.py), for the extractor
        reads it from the WARC; decoded here, within the download limit."""
        if isinstance(response, HtmlResponse):  # decoded for its meta refresh
            return response
        if _media_type(response) not in HTML_TYPES:
            return None
        try:
            body, _ = decoded_start(response, self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
        except Exception:  # noqa: BLE001 - a body that is not what its codings say: the extractor will say so
            return None
        return HtmlResponse(url=response.url, body=body, headers={"Content-Type": response.headers[b"Content-Type"]})


def requisite_request(spider, url: str, via: str, depth: int) -> Request:
    """The request for a requisite of the page ``via``: the spider's own callback and errback, so that it can be
    pickled and waits on disk with the pages, in one queue ordered by priority (Scrapy's scheduler takes the requests
    it holds in memory first)."""
    return Request(url, callback=spider.parse_resource, errback=spider.fetch_failed, priority=PRIORITY,
                   # not retried: a host that hangs is given up after a few timeouts, not a few per file;
                   # the next run that fetches a page naming it asks again
                   meta={"role": ROLE_REQUISITE, "via": via, "depth": depth, "dont_retry": True})


def _media_type(response: Response) -> str:
    content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
    return content_type.split(";", 1)[0].strip().lower()
