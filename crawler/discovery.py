"""Finding article URLs: links on section pages, feed entries and sitemap entries.

Every URL found is ``clean_link``ed here, so the requests, the dupefilter, the crawl state and the
WARCs all see one URL for a story whatever session ID or tracker its links carried.

Pure functions over bytes and URLs, so they can be tested without a crawl.
"""

from __future__ import annotations

import gzip
import io
import posixpath
import re
import struct
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import IO
from urllib.parse import urljoin, urlparse, urlsplit, urlunparse

import courlan
import feedparser
from lxml import etree
from scrapy.linkextractors import IGNORED_EXTENSIONS
from w3lib.url import url_query_cleaner

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
_FEED_ENTRY_END = re.compile(rb"</(?:[\w.-]+:)?(?:item|entry)\s*>", re.IGNORECASE)
SITEMAP_MAX_SIZE = 50 * 2**20  # the sitemap protocol's limit, uncompressed
_READ_SIZE = 2**16
# Defaults of the [crawl] caps: far above what a real section page, feed or sitemap lists
# (the sitemap protocol allows 50,000 URLs a file), and what keeps one page's memory small.
MAX_LINKS_PER_PAGE = 5000
MAX_FEED_ENTRIES = 5000
MAX_SITEMAP_ENTRIES = 50_000
# Sitemaps one source's run fetches, newest first: a sitemap index may list 50,000 (one a day since the 1990s),
# which without max_pages only the time limit bounded.  500 is over a year of daily sitemaps.
MAX_SITEMAPS = 500
# Session IDs a server writes into links for a visitor without cookies (the crawler sends none), and
# trackers of the click or campaign that shared a link: the page is the same without them, and their
# values change from run to run, which made the same story a new URL on every run.  The session names are
# Heritrix's (org.archive.modules.canonicalize.StripSessionIDs and StripSessionCFIDs: jsessionid, phpsessid,
# sid, classic ASP's ASPSESSIONID<8 letters>, cfid and cftoken), and sessionid, session_id and sessid, names other
# frameworks give theirs (Django's is sessionid).
_SESSION_NAMES = {"jsessionid", "phpsessid", "sessionid", "session_id", "sessid", "cfid", "cftoken"}
_SESSION_TOKEN = re.compile(r"(?=.*[a-z])[0-9a-z,-]{16,}", re.IGNORECASE)  # sid=<token>; sid=12345 may be a story
# ASP.NET's cookieless session, anonymous ID and forms ticket, a path segment of their own: /(S(x))/story.aspx.
_COOKIELESS_SEGMENT = re.compile(r"\((?:[A-Z]\([^()/]*\))+\)")
# A session ID under a name of its own: a value random-looking (16 characters or more, letters and digits changing
# places TOKEN_SWITCHES times or more, as a hash or a random token does) that a page's links to SHARED_PATHS paths or
# more all carry under one name.  A story's id (?id=12345) or slug differs from link to link; a visitor's session
# does not, and a word, a date or an edition's name ("uk-2024-print") does not look random.
_TOKEN = re.compile(r"[0-9a-z_-]{16,}", re.IGNORECASE)
_SWITCH = re.compile(r"(?=[a-z][0-9]|[0-9][a-z])", re.IGNORECASE)
TOKEN_SWITCHES = 4
SHARED_PATHS = 3
_TRACKER_PREFIXES = ("utm_", "mtm_")
_TRACKER_NAMES = {"fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
                  "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "pk_campaign", "pk_kwd",
                  "pk_source", "pk_medium", "pk_content", "oly_anon_id", "oly_enc_id", "vero_id"}


def _session_or_tracker(name: str, value: str) -> bool:
    name = name.lower()
    return (name in _SESSION_NAMES or name in _TRACKER_NAMES or name.startswith(_TRACKER_PREFIXES)
            or name.startswith("aspsessionid")
            or (name == "sid" and _SESSION_TOKEN.fullmatch(value) is not None))


def clean_link(url: str) -> str:
    """``url`` without session IDs (``;jsessionid=`` path parameters, ``?PHPSESSID=``, ``?sid=<token>``, ASP.NET's
    cookieless ``/(S(<id>))/`` path segment) and well-known trackers (``utm_*``, ``fbclid``, ``gclid``, ``mc_cid``, ...); the rest as it was, in its order.

    Not courlan's ``clean_url``/``normalize_url``: they sort the query, re-quote the path, know no path
    parameters, and drop names such as ``cid``, ``ref``, ``source`` or ``uid`` (any name merely containing
    ``ga`` or ``gl``), which choose the content on many sites. w3lib's ``url_query_cleaner`` removes the
    names found here, keeping the others byte for byte.
    """
    parts = urlparse(url)
    path = "/".join(segment for segment in parts.path.split("/") if not _COOKIELESS_SEGMENT.fullmatch(segment))
    params = ";".join(param for param in parts.params.split(";")
                      if not _session_or_tracker(*param.partition("=")[::2])) if parts.params else ""
    dropped = {name for name, _, value in (pair.partition("=") for pair in parts.query.split("&"))
               if _session_or_tracker(name, value)}
    if path == parts.path and params == parts.params and not dropped:
        return url
    url = urlunparse(parts._replace(path=path or "/", params=params))
    return url_query_cleaner(url, dropped, remove=True, unique=False, keep_fragments=True) if dropped else url


def _random_looking(value: str) -> bool:
    return _TOKEN.fullmatch(value) is not None and len(_SWITCH.findall(value)) >= TOKEN_SWITCHES


def _query_pairs(url: str) -> list[tuple[str, str]]:
    return [(name, value) for name, _, value in (pair.partition("=") for pair in urlsplit(url).query.split("&"))]


def without_shared_sessions(urls: list[str]) -> list[str]:
    """``urls`` (one page's links) without the query parameters that carry one random-looking value on the links to
    SHARED_PATHS paths or more: a session ID under a name no list knows, written into every link for a visitor
    without cookies, which made each story a new URL each visit."""
    paths: dict[tuple[str, str], set[str]] = {}
    for url in urls:
        for name, value in _query_pairs(url):
            if _random_looking(value):
                paths.setdefault((name, value), set()).add(urlsplit(url).path)
    shared = {name for (name, _), found in paths.items() if len(found) >= SHARED_PATHS}
    if not shared:
        return urls
    return [url_query_cleaner(url, shared, remove=True, unique=False, keep_fragments=True)
            if shared.intersection(name for name, _ in _query_pairs(url)) else url for url in urls]


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


@dataclass(frozen=True)
class PageLinks:
    links: list[Link]  # the first ``max_links`` ``<a href>`` links, absolute, without fragments, ``clean_link``ed
    feeds: list[str]  # feeds the page advertises with ``<link rel="alternate">``
    truncated: bool  # the page had more links than were taken


def _streamed(source: IO[bytes], **options):
    """``(event, element)`` of an lxml parse of ``source``, for callers that ``_free`` what they have read.

    A page with 200,000 links, or a sitemap with 500,000 entries, would otherwise be held
    whole as a tree (as Scrapy's ``Sitemap`` and lxml's ``document_fromstring`` hold it);
    iterparse with the elements freed once read keeps little more than the path from the root.
    """
    events = etree.iterparse(source, events=("start", "end"), no_network=True,
                             resolve_entities=False, remove_comments=True, remove_pis=True, **options)
    try:
        yield from events
    except etree.XMLSyntaxError:  # nothing at all to parse, or past what recovery can mend: keep what was read
        return


def _free(element) -> None:
    """Drop an element that has been read, and its earlier siblings (freed before it)."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    while parent is not None and element.getprevious() is not None:
        del parent[0]


def page_links(body: bytes, base_url: str, max_links: int = MAX_LINKS_PER_PAGE,
               encoding: str | None = None) -> PageLinks:
    """The links of an HTML page to follow: its ``<a href>`` (at most ``max_links``) and advertised feeds.

    ``encoding``: the page's, as the response gives it (header, <meta>, detection); the parser alone reads
    a page without a <meta> charset as ISO-8859-1, which made "café" in a link "cafÃ©", an address that
    does not exist."""
    base = base_url
    links: list[Link] = []
    feeds: list[str] = []
    open_anchors = 0  # an anchor's text is read at its end: what is inside it is kept until then
    for event, element in _streamed(io.BytesIO(body), html=True, recover=True, encoding=encoding):
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if event == "start":
            open_anchors += tag == "a"
            continue
        open_anchors -= tag == "a"
        if tag == "base" and element.get("href") and base is base_url:
            base = urljoin(base_url, element.get("href"))
        elif tag == "link" and element.get("href") \
                and "alternate" in (element.get("rel") or "").lower().split() \
                and (element.get("type") or "").lower() in _FEED_TYPES:
            feeds.append(clean_link(urljoin(base_url, element.get("href"))))
        elif tag == "a" and (href := (element.get("href") or "").strip()) \
                and not href.startswith(("#", "javascript:", "mailto:", "tel:")):
            if len(links) == max_links:
                return _links_of_the_page(links, feeds, truncated=True)
            links.append(Link(clean_link(urljoin(base, href).split("#", 1)[0]), " ".join("".join(element.itertext()).split())))
        if not open_anchors:
            _free(element)
    return _links_of_the_page(links, feeds, truncated=False)


def _links_of_the_page(links: list[Link], feeds: list[str], truncated: bool) -> PageLinks:
    urls = without_shared_sessions([link.url for link in links])
    return PageLinks([Link(url, link.text) for url, link in zip(urls, links)], feeds, truncated)


class UnreadableDiscovery(ValueError):
    """A feed or sitemap that cannot be read; the message says why."""


@dataclass(frozen=True)
class Entry:
    """An entry of a feed or sitemap: where it points and the date discovery gives it, if any."""

    url: str
    date: datetime | None = None  # publication date (news sitemap, feed), else last modified (lastmod, feed)
    is_news: bool = False  # a news sitemap entry (<news:news>), so an article whatever its URL


@dataclass(frozen=True)
class Listing:
    kind: str  # "feed", "urlset" or "sitemapindex"
    entries: list[Entry]  # the first ``max_entries``
    truncated: bool  # it listed more


def newest_first(entries: list[Entry]) -> list[Entry]:
    """Dated entries newest first, then the undated in the listing's order: the order they are fetched in,
    so a crawl that ``max_pages`` cuts short takes the newest (a news sitemap lists oldest first as often)."""
    return sorted(entries, key=lambda entry: (entry.date is None, -entry.date.timestamp() if entry.date else 0.0))


def _entry_ends(body: bytes, count: int) -> int | None:
    """Where the ``count``-th ``</item>`` or ``</entry>`` ends, if the body has more entries than that."""
    ends = _FEED_ENTRY_END.finditer(body)
    for _ in range(count):
        if next(ends, None) is None:
            return None
    end = next(ends, None)
    return end.start() if end else None


def _struct_date(value) -> datetime | None:
    try:
        return datetime(*value[:6], tzinfo=timezone.utc) if value else None
    except (TypeError, ValueError):
        return None


def feed_entries(body: bytes, max_entries: int = MAX_FEED_ENTRIES, url: str | None = None) -> Listing:
    """Article links of an RSS or Atom feed, with their dates (feedparser never fetches anything, nor
    expands entities here); a relative link (Atom allows them) is read against the feed's ``url``
    (and its ``xml:base``).

    feedparser builds a dict of every entry (about 5 kB each), so a feed listing more than
    ``max_entries`` is cut after that many before it is parsed, and the cut is said.
    Raises ``UnreadableDiscovery`` for a body that is no feed at all; a feed without entries is fine.
    """
    cut = _entry_ends(body, max_entries)
    parsed = feedparser.parse(body if cut is None else body[:cut],
                              response_headers={"content-location": url} if url else None)
    if not parsed.entries and not parsed.get("version"):
        problem = parsed.get("bozo_exception")
        raise UnreadableDiscovery("not an RSS or Atom feed" + (f" ({problem})" if problem else ""))
    entries = []
    for entry in parsed.entries[:max_entries]:
        link = entry.get("link")
        if not link:
            link = next((item.get("href") for item in entry.get("links", []) if item.get("href")), None)
        if link:
            date = _struct_date(entry.get("published_parsed")) or _struct_date(entry.get("updated_parsed"))
            entries.append(Entry(clean_link(link.strip()), date))
    return Listing("feed", entries, truncated=cut is not None)


def _w3c_date(text: str | None) -> datetime | None:
    """A sitemap's W3C datetime (2026-11-21, 2026-11-21T10:00:00+01:00, ...) in UTC; None if it is none."""
    try:
        date = datetime.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return date.replace(tzinfo=timezone.utc) if date.tzinfo is None else date.astimezone(timezone.utc)


def _localname(element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _sitemap_entry(element) -> Entry | None:
    fields = {}
    for child in element.iter():
        name = _localname(child)
        if name in ("loc", "lastmod", "publication_date") and name not in fields:
            fields[name] = (child.text or "").strip()
    if not fields.get("loc"):
        return None
    published = _w3c_date(fields.get("publication_date"))
    is_news = any(_localname(child) == "news" for child in element)
    return Entry(clean_link(fields["loc"]), published or _w3c_date(fields.get("lastmod")), is_news)


def sitemap_entries(body: bytes, max_entries: int = MAX_SITEMAP_ENTRIES) -> Listing:
    """The entries of a sitemap (gzipped or not): a ``sitemapindex``'s sitemaps or a ``urlset``'s pages.

    Parsed as a stream (a gzipped one decompressed as it is read) with entity resolution and
    network access off, so hostile XML stays inert and memory does not grow with the entries;
    past ``max_entries`` (the sitemap protocol's own limit by default) the rest is left unread.
    Raises ``UnreadableDiscovery`` for a body that is no sitemap, or over the protocol's 50 MB
    once gunzipped (a gzip bomb is stopped there).
    """
    try:
        return _sitemap_listing(_SitemapStream(body), max_entries)
    except _TooLarge:
        raise UnreadableDiscovery(f"over {SITEMAP_MAX_SIZE >> 20} MB once gunzipped") from None


class _TooLarge(Exception):
    """A sitemap past the protocol's size limit."""


class _SitemapStream:
    """A sitemap's XML as the parser reads it: gunzipped as it goes, from its first non-blank byte (an
    XML declaration after white space is an error), no further than ``SITEMAP_MAX_SIZE`` bytes."""

    def __init__(self, body: bytes):
        self._source: IO[bytes] = gzip.GzipFile(fileobj=io.BytesIO(body)) if body[:2] == b"\x1f\x8b" else io.BytesIO(body)
        self._size = 0
        self._started = False

    def read(self, size: int = -1) -> bytes:
        while True:
            try:
                chunk = self._source.read(size if size > 0 else _READ_SIZE)
            except (OSError, EOFError, zlib.error, struct.error) as exc:  # broken or cut short: what was read stands
                if not self._size:
                    raise UnreadableDiscovery(f"broken gzip data ({exc})") from exc
                return b""
            self._size += len(chunk)
            if self._size > SITEMAP_MAX_SIZE:
                raise _TooLarge
            if self._started or not chunk:
                return chunk
            if chunk := chunk.lstrip():
                self._started = True
                return chunk


def _sitemap_listing(source: IO[bytes], max_entries: int) -> Listing:
    root = None
    entries: list[Entry] = []
    for event, element in _streamed(source, recover=True):
        if root is None:
            root = element
            if _localname(root) not in ("urlset", "sitemapindex"):
                raise UnreadableDiscovery(f"not a sitemap (its root element is <{_localname(root) or root.tag}>)")
            continue
        if event != "end" or element.getparent() is not root:
            continue
        if len(entries) == max_entries:
            return Listing(_localname(root), entries, truncated=True)
        entry = _sitemap_entry(element)
        if entry is not None:
            entries.append(entry)
        _free(element)
    if root is None:
        raise UnreadableDiscovery("not XML")
    return Listing(_localname(root), entries, truncated=False)
