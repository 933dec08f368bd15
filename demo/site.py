"""Three small fictional news sites served on 127.0.0.1, for ``newsarchive demo`` and the tests.

Every feature the pipeline must cope with lives here on purpose: gzip, chunked bodies, a
windows-1252 page, redirects, a 404, robots.txt (optionally slow, optionally with Crawl-delay),
RSS, Atom, a news sitemap, PDF and PNG files, conditional GET, boilerplate-heavy templates and
near-duplicate articles across sites.  Bodies depend only on ``demo/content`` and on changes
made with ``set_article``, so an unchanged site serves identical bytes on every crawl.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import html
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template
from typing import Any, Iterable, Mapping
from urllib.parse import parse_qs, urlsplit

CONTENT = Path(__file__).resolve().parent / "content"
SITE_NAMES = ("gazette", "herald", "courier")
SCHEDULE = "0 */6 * * *"
SLOW_SECONDS = 5.0
DEMO_PORT = 8101  # `newsarchive demo`'s gazette; the herald and the courier on the next two ports
_COMPRESSIBLE = ("text/html", "application/xml", "application/rss+xml", "application/atom+xml")
_MEDIA_TYPES = {".pdf": "application/pdf", ".png": "image/png"}


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the server received it."""

    site: str
    method: str
    path: str  # with the query string
    headers: dict[str, str]
    time: float  # time.time() on arrival


@dataclass
class Article:
    """One article of a site; ``blocks`` are paragraphs (str) or {"h2"|"quote"|"list": ...}."""

    site: str
    slug: str
    path: str
    title: str
    author: str
    section: str
    published: datetime
    modified: datetime
    blocks: list[Any]
    caption: str = ""
    credit: str = ""
    comments: list[dict[str, str]] = field(default_factory=list)
    charset: str = "utf-8"
    chunked: bool = False

    @property
    def paragraphs(self) -> list[str]:
        """The body as plain text blocks, list items one per entry: what an extractor should find."""
        out: list[str] = []
        for block in self.blocks:
            if isinstance(block, str):
                out.append(block)
            elif "list" in block:
                out.extend(block["list"])
            else:
                out.append(block.get("h2") or block["quote"])
        return out


@dataclass
class _Response:
    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    last_modified: datetime | None = None
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = False


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(timezone.utc)


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _render_blocks(blocks: Iterable[Any]) -> str:
    parts = []
    for block in blocks:
        if isinstance(block, str):
            parts.append(f"<p>{_esc(block)}</p>")
        elif "h2" in block:
            parts.append(f"<h2>{_esc(block['h2'])}</h2>")
        elif "quote" in block:
            cite = f"<footer>— {_esc(block['cite'])}</footer>" if block.get("cite") else ""
            parts.append(f"<blockquote><p>{_esc(block['quote'])}</p>{cite}</blockquote>")
        else:
            items = "".join(f"<li>{_esc(item)}</li>" for item in block["list"])
            parts.append(f"<ul>{items}</ul>")
    return "\n".join(parts)


def _accepts_gzip(accept_encoding: str | None) -> bool:
    for token in (accept_encoding or "").split(","):
        coding, _, params = token.strip().partition(";")
        if coding.strip().lower() in ("gzip", "x-gzip", "*"):
            q = params.strip()
            if q.startswith("q="):
                try:
                    return float(q[2:]) > 0
                except ValueError:
                    return False
            return True
    return False


def _not_modified(headers: Mapping[str, str], etag: str, last_modified: datetime | None) -> bool:
    """RFC 9110 §13.2.2: If-None-Match wins; If-Modified-Since only when it is absent."""
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or etag in tags
    if_modified_since = headers.get("If-Modified-Since")
    if if_modified_since and last_modified is not None:
        try:
            return last_modified <= parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
    return False


class _Site:
    """One news site: its content, its templates and the responses it gives."""

    def __init__(self, name: str, owner: DemoSite) -> None:
        folder = CONTENT / name
        self.name = name
        self.owner = owner
        self.conf: dict[str, Any] = json.loads((folder / "site.json").read_text(encoding="utf-8"))
        self.layout = Template((folder / "layout.html").read_text(encoding="utf-8"))
        self.article_template = Template((folder / "article.html").read_text(encoding="utf-8"))
        self.static_date = _dt(self.conf["static_date"])
        self.articles: dict[str, Article] = {}
        self.base_url = ""
        self.server: ThreadingHTTPServer | None = None
        self.connections: set[socket.socket] = set()

    def load_articles(self, sites: Mapping[str, _Site]) -> None:
        """Build the articles; copies of another site's article are resolved from its JSON."""
        for entry in self.conf["articles"]:
            entry = dict(entry)
            source = entry.pop("copy_of", None)
            if source:
                original = next(a for a in sites[source["site"]].conf["articles"] if a["slug"] == source["slug"])
                drop = set(source.get("drop_paragraphs", ()))
                blocks = [b for i, b in enumerate(original["blocks"]) if i not in drop]
                if source.get("banner"):
                    blocks.insert(0, source["banner"])
                inherited = {key: value for key, value in original.items()
                             if key in ("title", "author", "caption", "credit")}
                entry = {**copy.deepcopy(inherited), "blocks": blocks, **entry}
            self._add(entry)

    def _add(self, entry: Mapping[str, Any]) -> Article:
        published = _dt(entry["published"])
        article = Article(
            site=self.name,
            slug=entry["slug"],
            path=self.conf["article_path"].format(slug=entry["slug"], date=published),
            title=entry["title"],
            author=entry["author"],
            section=entry["section"],
            published=published,
            modified=_dt(entry.get("modified", entry["published"])),
            blocks=copy.deepcopy(entry["blocks"]),
            caption=entry.get("caption", ""),
            credit=entry.get("credit", ""),
            comments=list(entry.get("comments", ())),
            charset=entry.get("charset", "utf-8"),
            chunked=entry.get("chunked", False),
        )
        self.articles[article.slug] = article
        return article

    def update(self, slug: str, paragraphs: list[str] | None, title: str | None) -> Article:
        """Change (or, for a new slug, publish) an article; Last-Modified always moves forward."""
        now = datetime.now(timezone.utc).replace(microsecond=0)
        article = self.articles.get(slug)
        if article is None:
            if paragraphs is None or title is None:
                raise KeyError(f"{self.name} has no article {slug!r}; give title and paragraphs to publish one")
            stamp = now.isoformat()
            entry = {"slug": slug, "title": title, "author": self.conf["staff_author"], "section": "News",
                     "published": stamp, "blocks": paragraphs}
            article = self._add(entry)
            self.articles = {slug: article, **{k: v for k, v in self.articles.items() if k != slug}}
            return article
        if paragraphs is not None:
            article.blocks = list(paragraphs)
        if title is not None:
            article.title = title
        article.modified = max(now, article.modified + timedelta(seconds=1))
        return article

    # ----------------------------------------------------------------- rendering

    def url(self, path: str) -> str:
        return self.base_url + path

    def _sections(self) -> dict[str, str]:
        return {_slug(a.section): a.section for a in self.articles.values()}

    def _last_modified(self) -> datetime:
        return max([self.static_date, *(a.modified for a in self.articles.values())])

    def _human_date(self, when: datetime) -> str:
        return when.strftime(self.conf["date_format"])

    def _page(self, title: str, main: str, head: str = "", lang: str | None = None,
              charset: str = "utf-8") -> str:
        return self.layout.substitute(
            lang=lang or self.conf["lang"],
            charset=charset,
            page_title=_esc(title),
            head=head,
            main=main,
            site_title=_esc(self.conf["title"]),
            subscribe=_esc(self.conf["subscribe"]),
            ticker="".join(f"<li>{_esc(item)}</li>" for item in self.conf["ticker"]),
            nav="".join(f'<li><a href="/section/{slug}">{_esc(name)}</a></li>'
                        for slug, name in self._sections().items()),
        )

    def _teasers(self, articles: Iterable[Article]) -> str:
        old_link = self.conf.get("old_link")
        items = []
        for article in articles:
            href = f"/old/{article.slug}" if article.slug == old_link else article.path
            summary = article.paragraphs[0].split(". ")[0].rstrip(".") + "."
            items.append(
                f'<article class="teaser"><h3><a href="{href}">{_esc(article.title)}</a></h3>'
                f"<p>{_esc(summary)}</p><p class=\"meta\">By {_esc(article.author)} · "
                f"{_esc(self._human_date(article.published))}</p></article>"
            )
        return "\n".join(items)

    def home(self) -> _Response:
        conf = self.conf
        links = [f'<li><a href="/section/{slug}">More {_esc(name)} stories</a></li>'
                 for slug, name in self._sections().items()]
        links += [
            '<li><a href="/about">About us</a></li>',
            f'<li><a href="{conf["pdf"]}">{_esc(conf["pdf_label"])} (PDF)</a></li>',
            f'<li><a href="{conf["png"]}">Our newsroom (photo)</a></li>',
            f'<li><a href="{conf["private"]}">Staff area</a></li>',
            f'<li><a href="{conf["missing"]}">{_esc(conf["missing_label"])}</a></li>',
        ]
        main = (
            f'<section class="latest"><h2>Latest news</h2>\n{self._teasers(self.articles.values())}\n</section>\n'
            f'<aside class="more"><h2>More from the {_esc(conf["short_title"])}</h2><ul>{"".join(links)}</ul>'
            f'<img src="{conf["png"]}" alt="The newsroom" width="32" height="32"></aside>'
        )
        head = f'<link rel="canonical" href="{self.url("/")}">\n<meta name="description" content="{_esc(conf["tagline"])}">'
        body = self._page(f'{conf["title"]} | {conf["tagline"]}', main, head)
        return _Response(200, body.encode(), last_modified=self._last_modified())

    def section(self, slug: str) -> _Response:
        name = self._sections().get(slug)
        if name is None:
            return self.not_found()
        articles = [a for a in self.articles.values() if _slug(a.section) == slug]
        main = f'<section class="section"><h1>{_esc(name)}</h1>\n{self._teasers(articles)}\n</section>'
        head = f'<link rel="canonical" href="{self.url("/section/" + slug)}">'
        body = self._page(f'{name} | {self.conf["title"]}', main, head)
        return _Response(200, body.encode(), last_modified=max(a.modified for a in articles))

    def about(self) -> _Response:
        paragraphs = "".join(f"<p>{_esc(p)}</p>" for p in self.conf["about"])
        main = f'<section class="about"><h1>About the {_esc(self.conf["short_title"])}</h1>{paragraphs}</section>'
        body = self._page(f'About us | {self.conf["title"]}', main)
        return _Response(200, body.encode(), last_modified=self.static_date)

    def private(self) -> _Response:
        main = "<h1>Staff area</h1><p>Rota, expenses and draft copy. Not for publication.</p>"
        body = self._page(f'Staff area | {self.conf["title"]}', main, '<meta name="robots" content="noindex">')
        return _Response(200, body.encode(), last_modified=self.static_date)

    def not_found(self) -> _Response:
        main = "<h1>Page not found</h1><p>The story you were looking for has moved or been withdrawn.</p>"
        body = self._page(f'Page not found | {self.conf["title"]}', main, '<meta name="robots" content="noindex">')
        return _Response(404, body.encode())

    def article(self, article: Article) -> _Response:
        conf = self.conf
        url = self.url(article.path)
        others = [a for a in self.articles.values() if a.slug != article.slug][:3]
        related = "".join(f'<li><a href="{a.path}">{_esc(a.title)}</a></li>' for a in others)
        comments = "".join(
            f'<li class="comment"><p class="comment-author">{_esc(c["name"])}</p><p>{_esc(c["text"])}</p></li>'
            for c in article.comments
        ) or '<li class="comment-empty">No comments yet. Be the first to have your say.</li>'
        summary = article.paragraphs[0]
        head = [
            f'<link rel="canonical" href="{url}">',
            f'<meta name="description" content="{_esc(summary)}">',
            f'<meta property="og:title" content="{_esc(article.title)}">',
            f'<meta property="og:site_name" content="{_esc(conf["title"])}">',
            '<meta property="og:type" content="article">',
            f'<meta property="og:url" content="{url}">',
            f'<meta property="og:image" content="{self.url(conf["png"])}">',
            f'<meta name="author" content="{_esc(article.author)}">',
            f'<meta property="article:published_time" content="{article.published.isoformat()}">',
            f'<meta property="article:modified_time" content="{article.modified.isoformat()}">',
            f'<meta property="article:section" content="{_esc(article.section)}">',
        ]
        if conf["json_ld"]:
            data = {
                "@context": "https://schema.org",
                "@type": "NewsArticle",
                "headline": article.title,
                "author": {"@type": "Person", "name": article.author},
                "datePublished": article.published.isoformat(),
                "dateModified": article.modified.isoformat(),
                "publisher": {"@type": "Organization", "name": conf["title"],
                              "logo": {"@type": "ImageObject", "url": self.url(conf["png"])}},
                "image": self.url(conf["png"]),
                "mainEntityOfPage": url,
                "inLanguage": conf["lang"],
            }
            head.append(f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>')
        main = self.article_template.substitute(
            headline=_esc(article.title),
            section=_esc(article.section),
            section_href=f"/section/{_slug(article.section)}",
            author=_esc(article.author),
            published_iso=article.published.isoformat(),
            published_human=_esc(self._human_date(article.published)),
            image_src=conf["png"],
            caption=_esc(article.caption),
            credit=_esc(article.credit),
            body=_render_blocks(article.blocks),
            share_url=_esc(url),
            related=related,
            comments=comments,
            comment_count=len(article.comments),
            disclaimer=_esc(conf["disclaimer"]),
        )
        page = self._page(f'{article.title} | {conf["title"]}', main, "\n".join(head), charset=article.charset)
        return _Response(
            200,
            page.encode(article.charset, errors="xmlcharrefreplace"),
            content_type=f"text/html; charset={article.charset}",
            last_modified=article.modified,
            chunked=article.chunked,
        )

    def robots(self) -> _Response:
        lines = ["User-agent: *", "Disallow: /private/"]
        if self.owner.crawl_delay is not None:
            lines.append(f"Crawl-delay: {self.owner.crawl_delay:g}")
        if self.conf.get("sitemap"):
            lines += ["", f"Sitemap: {self.url('/sitemap.xml')}"]
        body = "\n".join(lines) + "\n"
        return _Response(200, body.encode(), "text/plain; charset=utf-8", self.static_date)

    def rss(self) -> _Response:
        items = []
        for a in self.articles.values():
            url = _esc(self.url(a.path))
            items.append(
                f"<item><title>{_esc(a.title)}</title><link>{url}</link>"
                f'<guid isPermaLink="true">{url}</guid><dc:creator>{_esc(a.author)}</dc:creator>'
                f"<category>{_esc(a.section)}</category><pubDate>{format_datetime(a.published, usegmt=True)}</pubDate>"
                f"<description>{_esc(a.paragraphs[0])}</description></item>"
            )
        body = (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
            f'<title>{_esc(self.conf["title"])}</title><link>{self.url("/")}</link>'
            f'<description>{_esc(self.conf["tagline"])}</description><language>{self.conf["lang"]}</language>'
            f"<lastBuildDate>{format_datetime(self._last_modified(), usegmt=True)}</lastBuildDate>\n"
            + "\n".join(items) + "\n</channel></rss>\n"
        )
        return _Response(200, body.encode(), "application/rss+xml; charset=utf-8", self._last_modified())

    def atom(self) -> _Response:
        entries = []
        for a in self.articles.values():
            url = _esc(self.url(a.path))
            entries.append(
                f"<entry><title>{_esc(a.title)}</title><link rel=\"alternate\" href=\"{url}\"/><id>{url}</id>"
                f"<published>{a.published.isoformat()}</published><updated>{a.modified.isoformat()}</updated>"
                f"<author><name>{_esc(a.author)}</name></author><category term=\"{_esc(a.section)}\"/>"
                f"<summary>{_esc(a.paragraphs[0])}</summary></entry>"
            )
        body = (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{self.conf["lang"]}">'
            f'<title>{_esc(self.conf["title"])}</title><id>{self.url("/")}</id>'
            f'<link rel="alternate" href="{self.url("/")}"/><link rel="self" href="{self.url("/atom.xml")}"/>'
            f"<updated>{self._last_modified().isoformat()}</updated>\n"
            + "\n".join(entries) + "\n</feed>\n"
        )
        return _Response(200, body.encode(), "application/atom+xml; charset=utf-8", self._last_modified())

    def sitemap_index(self) -> _Response:
        maps = "".join(
            f"<sitemap><loc>{self.url(path)}</loc><lastmod>{self._last_modified().isoformat()}</lastmod></sitemap>"
            for path in ("/sitemap-news.xml", "/sitemap-pages.xml")
        )
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{maps}</sitemapindex>\n')
        return _Response(200, body.encode(), "application/xml; charset=utf-8", self._last_modified())

    def news_sitemap(self) -> _Response:
        urls = []
        for a in self.articles.values():
            urls.append(
                f"<url><loc>{_esc(self.url(a.path))}</loc><lastmod>{a.modified.isoformat()}</lastmod>"
                f"<news:news><news:publication><news:name>{_esc(self.conf['title'])}</news:name>"
                f"<news:language>{self.conf['lang'].split('-')[0]}</news:language></news:publication>"
                f"<news:publication_date>{a.published.isoformat()}</news:publication_date>"
                f"<news:title>{_esc(a.title)}</news:title></news:news></url>"
            )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n' + "\n".join(urls) + "\n</urlset>\n"
        )
        return _Response(200, body.encode(), "application/xml; charset=utf-8", self._last_modified())

    def pages_sitemap(self) -> _Response:
        paths = ["/", "/about", *(f"/section/{slug}" for slug in self._sections())]
        urls = "".join(f"<url><loc>{self.url(path)}</loc></url>" for path in paths)
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>\n')
        return _Response(200, body.encode(), "application/xml; charset=utf-8", self.static_date)

    def media(self, path: str) -> _Response:
        if path not in (self.conf["pdf"], self.conf["png"]):
            return self.not_found()
        data = (CONTENT / "media" / path.rsplit("/", 1)[1]).read_bytes()
        return _Response(200, data, _MEDIA_TYPES[Path(path).suffix], self.static_date)

    def delay(self, raw_path: str) -> float:
        """How long the server stalls before answering: robots_delay for robots.txt, /slow?seconds=."""
        parts = urlsplit(raw_path)
        if parts.path == "/robots.txt":
            return self.owner.robots_delay
        if parts.path == "/slow":
            return float(parse_qs(parts.query).get("seconds", [SLOW_SECONDS])[0])
        return 0.0

    def route(self, raw_path: str) -> _Response:
        """The response for a path, before content negotiation and conditional GET."""
        parts = urlsplit(raw_path)
        path = parts.path
        conf = self.conf
        if path == "/":
            return self.home()
        if path == "/robots.txt":
            return self.robots()
        if path == "/slow":
            return _Response(200, self._page("Slow page", "<h1>Slow page</h1><p>Finally here.</p>").encode(),
                             last_modified=self.static_date)
        if path == "/about":
            return self.about()
        if path.startswith("/private/"):
            return self.private()
        if path.startswith("/section/"):
            return self.section(path.removeprefix("/section/"))
        if path.startswith("/media/"):
            return self.media(path)
        if path.startswith("/old/"):
            article = self.articles.get(path.removeprefix("/old/"))
            if article is None:
                return self.not_found()
            location = self.url(article.path)
            body = f'<html><body><p>Moved to <a href="{location}">{location}</a></p></body></html>'
            return _Response(301, body.encode(), headers={"Location": location})
        feeds = {"rss": ("/rss.xml", self.rss), "atom": ("/atom.xml", self.atom)}
        if conf.get("feed") in feeds and path == feeds[conf["feed"]][0]:
            return feeds[conf["feed"]][1]()
        if conf.get("sitemap"):
            sitemaps = {"/sitemap.xml": self.sitemap_index, "/sitemap-news.xml": self.news_sitemap,
                        "/sitemap-pages.xml": self.pages_sitemap}
            if path in sitemaps:
                return sitemaps[path]()
        for article in self.articles.values():
            if article.path == path:
                return self.article(article)
        return self.not_found()


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive; the site is bound by a subclass made per server."""

    protocol_version = "HTTP/1.1"
    server_version = "DemoNews/1.0"
    timeout = 60
    site: _Site

    def setup(self) -> None:
        super().setup()
        with self.site.owner.lock:
            self.site.connections.add(self.connection)

    def finish(self) -> None:
        with self.site.owner.lock:
            self.site.connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log on DemoSite is the record."""

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, head: bool) -> None:
        owner = self.site.owner
        owner.log(LoggedRequest(self.site.name, self.command, self.path, dict(self.headers.items()), time.time()))
        with owner.answering(self.site.name):
            self._respond(head)

    def _respond(self, head: bool) -> None:
        owner = self.site.owner
        owner.stopping.wait(self.site.delay(self.path))
        with owner.lock:
            response = self.site.route(self.path) if not owner.stopping.is_set() else _Response(503)
        body = response.body
        headers = {"Content-Type": response.content_type, **response.headers}
        if self.site.conf.get("gzip") and response.content_type.split(";")[0] in _COMPRESSIBLE:
            headers["Vary"] = "Accept-Encoding"
            if _accepts_gzip(self.headers.get("Accept-Encoding")):
                body = gzip.compress(body, compresslevel=6, mtime=0)
                headers["Content-Encoding"] = "gzip"
        status = response.status
        if status == 200:
            etag = '"' + hashlib.sha256(body).hexdigest()[:24] + '"'
            headers["ETag"] = etag
            headers["Last-Modified"] = format_datetime(response.last_modified, usegmt=True)
            if _not_modified(self.headers, etag, response.last_modified):
                status, body = 304, b""
                headers.pop("Content-Type")
                headers.pop("Content-Encoding", None)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if response.chunked and status == 200:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if not head:
                for start in range(0, len(body), 1024):
                    chunk = body[start:start + 1024]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            return
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and status != 304:
            self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (timeouts, stop()) are normal here; anything else is a bug to show."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class PortInUse(Exception):
    """A demo site's port is taken; the message names it."""


class DemoSite:
    """The three demo sites; ``with DemoSite() as site:`` serves them on ephemeral ports.

    ``DemoSite(port=P)`` serves them on P, P+1 and P+2 instead, so a sources file written for
    them still works against the same sites started again later (``newsarchive demo --serve``).
    """

    def __init__(self, robots_delay: float = 0.0, crawl_delay: float | None = None, port: int = 0) -> None:
        self.port = port
        self.robots_delay = robots_delay
        self.crawl_delay = crawl_delay
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self._log: list[LoggedRequest] = []
        self._log_lock = threading.Lock()
        self._in_flight: dict[str, int] = dict.fromkeys(SITE_NAMES, 0)
        self.peak_in_flight: dict[str, int] = dict.fromkeys(SITE_NAMES, 0)  # most requests answered at once
        self._sites = {name: _Site(name, self) for name in SITE_NAMES}
        for site in self._sites.values():
            site.load_articles(self._sites)
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------ lifecycle

    def start(self) -> DemoSite:
        """Bind every site to 127.0.0.1 (on a free port, or on its fixed one) and serve it from a thread.

        A fixed port that is taken raises ``PortInUse``, with no site left running.
        """
        if self._threads:
            raise RuntimeError("DemoSite is already running")
        self.stopping.clear()
        for offset, site in enumerate(self._sites.values()):
            handler = type(f"_{site.name.title()}Handler", (_Handler,), {"site": site})
            port = self.port + offset if self.port else 0
            try:
                site.server = _Server(("127.0.0.1", port), handler)
            except OSError as exc:
                self.stop()
                raise PortInUse(f"cannot serve the {site.name} demo site on 127.0.0.1:{port}: "
                                f"{exc.strerror or exc}") from None
            site.base_url = f"http://127.0.0.1:{site.server.server_address[1]}"
            thread = threading.Thread(target=site.server.serve_forever, kwargs={"poll_interval": 0.05},
                                      name=f"demo-{site.name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop serving and hang up kept-alive connections, so no thread outlives the site."""
        self.stopping.set()
        for site in self._sites.values():
            if site.server is None:
                continue
            site.server.shutdown()
            with self.lock:
                connections = list(site.connections)
            for connection in connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            site.server.server_close()
            site.server = None
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    def __enter__(self) -> DemoSite:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ------------------------------------------------------------ request log

    def log(self, request: LoggedRequest) -> None:
        with self._log_lock:
            self._log.append(request)

    @contextmanager
    def answering(self, site_name: str) -> Iterator[None]:
        """Count a request as in flight at ``site_name`` while it is answered."""
        with self._log_lock:
            self._in_flight[site_name] += 1
            self.peak_in_flight[site_name] = max(self.peak_in_flight[site_name], self._in_flight[site_name])
        try:
            yield
        finally:
            with self._log_lock:
                self._in_flight[site_name] -= 1

    @property
    def requests(self) -> list[LoggedRequest]:
        """A snapshot of every request received so far, in arrival order."""
        with self._log_lock:
            return list(self._log)

    def clear_requests(self) -> None:
        with self._log_lock:
            self._log.clear()

    # ------------------------------------------------------------ URLs and config

    @property
    def base_urls(self) -> dict[str, str]:
        return {name: site.base_url for name, site in self._sites.items()}

    def url(self, site_name: str, path: str) -> str:
        return self._sites[site_name].url(path if path.startswith("/") else "/" + path)

    def sources(self) -> list[dict]:
        """One ``[[sources]]`` table per site, as the config file wants it."""
        out = []
        for name, site in self._sites.items():
            feed = {"rss": "/rss.xml", "atom": "/atom.xml"}.get(site.conf.get("feed"))
            out.append({
                "name": name,
                "start_urls": [site.url("/")],
                "feeds": [site.url(feed)] if feed else [],
                "sitemaps": [site.url("/sitemap.xml")] if site.conf.get("sitemap") else [],
                "schedule": SCHEDULE,
            })
        return out

    def write_config(self, path: str | Path, archive_dir: str | Path,
                     extra_sources: Iterable[Mapping[str, Any]] = (),
                     source_options: Mapping[str, Any] | None = None, **archive_options: Any) -> Path:
        """Write a sources.toml for these sites (plus ``extra_sources``); ``source_options`` go to each
        demo site's [[sources]] table, ``archive_options`` to [archive]."""
        path = Path(path)
        lines = ["[archive]", f"dir = {_toml(str(archive_dir))}"]
        lines += [f"{key} = {_toml(value)}" for key, value in archive_options.items()]
        demo_sources = [{**source, **(source_options or {})} for source in self.sources()]
        for source in [*demo_sources, *extra_sources]:
            lines += ["", "[[sources]]"] + [f"{key} = {_toml(value)}" for key, value in source.items()]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    # ------------------------------------------------------------ articles

    def articles(self, site_name: str) -> list[Article]:
        """The site's articles as currently served (copies: don't mutate, use set_article)."""
        with self.lock:
            return [copy.deepcopy(a) for a in self._sites[site_name].articles.values()]

    def article_urls(self, site_name: str) -> list[str]:
        site = self._sites[site_name]
        with self.lock:
            return [site.url(a.path) for a in site.articles.values()]

    def publish(self, site_name: str, entry: Mapping[str, Any]) -> str:
        """Publish an article given as in ``site.json``.  Its dates come from ``entry``, so it is the same
        bytes every time, and it goes last, so no other article's "related" links change.

        Returns the article's URL.
        """
        site = self._sites[site_name]
        with self.lock:
            return site.url(site._add(entry).path)

    def correct(self, site_name: str, slug: str, correction: str, modified: str) -> str:
        """Append ``correction`` to an article, modified at ``modified`` (ISO 8601): the same bytes every time.

        Returns the article's URL.
        """
        site = self._sites[site_name]
        with self.lock:
            article = site.articles[slug]
            article.blocks = [*article.blocks, correction]
            article.modified = _dt(modified)
            return site.url(article.path)

    def set_article(self, site_name: str, slug: str, paragraphs: list[str] | None = None,
                    title: str | None = None) -> str:
        """Change an article live (new body, ETag, Last-Modified); an unknown slug publishes a new one.

        Returns the article's URL.
        """
        site = self._sites[site_name]
        with self.lock:
            return site.url(site.update(slug, paragraphs, title).path)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (str, Path)):
        return json.dumps(str(value), ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")
