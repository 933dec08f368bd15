"""Finding article URLs: links on section pages, feed entries and sitemap entries.

Pure functions over bytes and URLs, so they can be tested without a crawl.
"""

from __future__ import annotations

import posixpath
import re
import struct
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import courlan
import feedparser
from lxml import html as lxml_html
from scrapy.linkextractors import IGNORED_EXTENSIONS
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap

# Pages that list or describe rather than report.
_NAVIGATION_SEGMENTS = {
    "tag", "tags", "topic", "topics", "category", "categories", "author", "authors", "page",
    "search", "login", "signin", "register", "subscribe", "account", "about", "contact",
    "privacy", "terms", "newsletter", "newsletters", "feed", "rss", "video", "videos",
    "gallery", "galleries", "podcast", "podcasts", "live", "weather", "games", "puzzles",
}
_ID_IN_PATH = re.compile(r"\d{5,}")
_DATE_IN_PATH = re.compile(r"/(?:19|20)\d\d/(?:0?[1-9]|1[0-2])/")
_RESOURCE_EXTENSIONS = {"pdf", "png", "jpg", "jpeg", "gif", "webp", "svg"}
_FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/feed+json"}
SITEMAP_MAX_SIZE = 50 * 2**20


@dataclass(frozen=True)
class Link:
    url: str
    text: str


def _extension(path: str) -> str:
    return posixpath.splitext(path)[1].lstrip(".").lower()


def is_resource_url(url: str) -> bool:
    """Documents and images worth archiving when a section page links them."""
    return _extension(urlsplit(url).path) in _RESOURCE_EXTENSIONS


def looks_like_article(url: str, anchor_text: str = "") -> bool:
    """A URL that names one story: a slug, a numeric id or a date in its path."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or _extension(parts.path) in IGNORED_EXTENSIONS:
        return False
    segments = [segment.lower() for segment in parts.path.split("/") if segment]
    if not segments or _NAVIGATION_SEGMENTS.intersection(segments) or courlan.is_navigation_page(url):
        return False
    slug = posixpath.splitext(segments[-1])[0]
    if _ID_IN_PATH.search(parts.path) or _DATE_IN_PATH.search(parts.path + "/"):
        return True
    if slug.count("-") >= 2 or slug.count("_") >= 2:
        return True
    return len(segments) >= 2 and len(anchor_text.split()) >= 5


def page_links(body: bytes, base_url: str) -> list[Link]:
    """The ``<a href>`` links of an HTML page, absolute and without fragments."""
    try:
        tree = lxml_html.document_fromstring(body)
    except (ValueError, TypeError, lxml_html.etree.ParserError):
        return []
    base = tree.xpath("string(//base/@href)") or base_url
    links = []
    for anchor in tree.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        url = urljoin(urljoin(base_url, base), href).split("#", 1)[0]
        links.append(Link(url, " ".join(anchor.text_content().split())))
    return links


def feed_links(body: bytes, base_url: str) -> list[str]:
    """Feeds a page advertises with ``<link rel="alternate">``."""
    try:
        tree = lxml_html.document_fromstring(body)
    except (ValueError, TypeError, lxml_html.etree.ParserError):
        return []
    return [
        urljoin(base_url, element.get("href"))
        for element in tree.iter("link")
        if "alternate" in (element.get("rel") or "").lower().split()
        and (element.get("type") or "").lower() in _FEED_TYPES
        and element.get("href")
    ]


class UnreadableDiscovery(ValueError):
    """A feed or sitemap that cannot be read; the message says why."""


def feed_entry_urls(body: bytes) -> list[str]:
    """Article links of an RSS or Atom feed (feedparser never fetches anything, nor expands entities here).

    Raises ``UnreadableDiscovery`` for a body that is no feed at all; a feed without entries is fine.
    """
    parsed = feedparser.parse(body)
    if not parsed.entries and not parsed.get("version"):
        problem = parsed.get("bozo_exception")
        raise UnreadableDiscovery("not an RSS or Atom feed" + (f" ({problem})" if problem else ""))
    urls = []
    for entry in parsed.entries:
        link = entry.get("link")
        if not link:
            link = next((item.get("href") for item in entry.get("links", []) if item.get("href")), None)
        if link:
            urls.append(link.strip())
    return urls


@dataclass(frozen=True)
class SitemapEntry:
    url: str
    is_news: bool  # listed with a <news:news> element, so an article whatever its URL


def sitemap_entries(body: bytes) -> tuple[str, list[SitemapEntry]]:
    """``("sitemapindex" | "urlset", entries)`` of a sitemap, gzipped or not.

    Scrapy's ``Sitemap`` parses with entity resolution off, so hostile XML stays inert.
    Raises ``UnreadableDiscovery`` for a body that is no sitemap, or too big once gunzipped.
    """
    if body[:2] == b"\x1f\x8b":
        try:
            body = gunzip(body, max_size=SITEMAP_MAX_SIZE)
        except ValueError as exc:  # Scrapy's size-limit error is one
            raise UnreadableDiscovery(f"over {SITEMAP_MAX_SIZE >> 20} MB once gunzipped") from exc
        except (OSError, EOFError, struct.error) as exc:
            raise UnreadableDiscovery(f"broken gzip data ({exc})") from exc
    try:
        sitemap = Sitemap(body)
    except (StopIteration, SyntaxError, ValueError) as exc:
        raise UnreadableDiscovery("not XML") from exc
    if sitemap.type not in ("urlset", "sitemapindex"):
        raise UnreadableDiscovery(f"not a sitemap (its root element is <{sitemap.type}>)")
    return sitemap.type, [SitemapEntry(entry["loc"], "news" in entry) for entry in sitemap if entry.get("loc")]


