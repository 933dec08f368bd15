"""An article's page requisites (images, stylesheets and what they name, scripts, a CDN's images) are archived, so
its replay shows the page as it was: real sites on two loopback hosts, real runs, real WARCs."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait
from warcio.archiveiterator import ArchiveIterator

from archive_fixtures import REPO, fill, free_port, running
from bench.owed_requisites import commits_take, crawl_through
from crawler.owed_requisites import OWED_FILE, STRIKES_PER_COMMIT, OwedRequisites
from crawler.requisites import html_requisites
from demo.redis_server import RedisServer
from test_browse import chromium  # noqa: F401 - the headless chromium fixture (the test asks for it by name)
from test_crawl_bounds import run as run_source

ARTICLE = "/2026/12/07/harbour-wall-repair-begins-next-week/"
SECOND_ARTICLE = "/2026/12/08/harbour-wall-repair-is-half-done/"
PARAGRAPHS = ("The harbour wall will be repaired from Monday, the council said, after the storms of November "
              "washed away a stretch of its old stones near the ferry ramp.",
              "Boats will moor at the north quay while the work goes on, and the ferry keeps its timetable.")
CSS = b'body { background: url("/img/bg.png") } h1 { color: rgb(1, 2, 3) } /* url(/not/this.png) */'
PAGE_REQUISITES = ("/css/site.css", "/img/photo.png", "/js/app.js", "/img/bg.png")


def png(width: int, height: int) -> bytes:
    """A real PNG of ``width`` x ``height`` grey pixels, so a browser decodes it (naturalWidth > 0)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    pages: dict[str, tuple[str, bytes]] = {}
    requested: list[str] = []

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.requested.append(self.path)
        content_type, body = self.pages.get(self.path, ("text/plain", b""))
        etag = f'"{zlib.crc32(body)}"'
        if self.path not in self.pages:
            self.send_response(404)
        elif self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        else:
            self.send_response(200)
            self.send_header("ETag", etag)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def _serving(host: str, pages: dict[str, tuple[str, bytes]], handler: type[_Handler] = _Handler
             ) -> Iterator[tuple[str, list[str]]]:
    requested: list[str] = []
    server = ThreadingHTTPServer((host, 0), type("Handler", (handler,), {"pages": pages, "requested": requested}))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}", requested
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def article_html(title: str, cdn: str) -> bytes:
    paragraphs = "".join(f"<p>{text}</p>" for text in PARAGRAPHS)
    return (f'<html><head><title>{title}</title><link rel="stylesheet" href="/css/site.css">'
            f'<link rel="icon" href="data:image/png;base64,iVBORw0KGgo="><script src="/js/app.js"></script></head>'
            f'<body><article><h1>{title}</h1><img id="photo" src="/img/photo.png" alt="The wall">'
            f'<picture><source srcset="{cdn}/img/wide.png 2x, {cdn}/img/wide.png 3x"><img src="data:,x"></picture>'
            f'{paragraphs}</article></body></html>').encode()


def site_pages(cdn: str, articles: tuple[str, ...] = (ARTICLE,)) -> dict[str, tuple[str, bytes]]:
    links = "".join(f'<li><a href="{path}">{path.strip("/").rsplit("/", 1)[1].replace("-", " ")}</a></li>'
                    for path in articles)
    pages = {"/": ("text/html", f"<html><body><h1>Harbour News</h1><ul>{links}</ul></body></html>".encode()),
             "/css/site.css": ("text/css", CSS), "/js/app.js": ("application/javascript", b"var loaded = 1;"),
             "/img/photo.png": ("image/png", png(40, 30)), "/img/bg.png": ("image/png", png(8, 8))}
    for path in articles:
        pages[path] = ("text/html; charset=utf-8", article_html(path.strip("/").rsplit("/", 1)[1], cdn))
    return pages


@contextmanager
def sites() -> Iterator[dict]:
    """The news site on 127.0.0.1 and its "CDN" on 127.0.0.2; what each was asked for."""
    with _serving("127.0.0.2", {"/img/wide.png": ("image/png", png(80, 60))}) as (cdn, cdn_requested):
        pages = site_pages(cdn)
        with _serving("127.0.0.1", pages) as (base, requested):
            yield {"base": base, "cdn": cdn, "pages": pages, "requested": requested, "cdn_requested": cdn_requested}


def run(tmp_path: Path, base: str, source: str = "", crawl: str = "") -> subprocess.CompletedProcess:
    """``newsarchive run`` of the site from its start page, which must succeed."""
    result, _ = run_source(tmp_path, f'start_urls = ["{base}/"]\n{source}', crawl)
    assert result.returncode == 0, result.stderr
    return result


def captures(tmp_path: Path) -> list[dict]:
    """Every response and revisit of the archive: URL, type, profile, status, role and WARC-Concurrent-To's."""
    found, roles = [], {}
    for warc in sorted((tmp_path / "archive" / "warc").glob("*.warc.gz")):
        with warc.open("rb") as stream:
            for record in ArchiveIterator(stream):
                headers = record.rec_headers
                if record.rec_type == "metadata":
                    fields = dict(line.split(": ", 1) for line in record.content_stream().read().decode().splitlines()
                                  if ": " in line)
                    roles[headers.get_header("WARC-Concurrent-To")] = fields.get("newsarchive-role")
                elif record.rec_type in ("response", "revisit"):
                    found.append({"url": headers.get_header("WARC-Target-URI"), "type": record.rec_type,
                                  "id": headers.get_header("WARC-Record-ID"),
                                  "profile": (headers.get_header("WARC-Profile") or "").rsplit("/", 1)[-1],
                                  "status": record.http_headers.get_statuscode()})
    for capture in found:
        capture["role"] = roles.get(capture["id"])
    return found


def requisite_urls(site: dict) -> list[str]:
    return sorted([site["base"] + path for path in PAGE_REQUISITES] + [site["cdn"] + "/img/wide.png"])


def test_an_article_s_images_stylesheet_and_what_it_names_scripts_and_cdn_images_are_archived_once(tmp_path):
    with sites() as site:
        run(tmp_path, site["base"])
    archived = captures(tmp_path)
    requisites = sorted(capture["url"] for capture in archived if capture["role"] == "requisite")
    assert requisites == requisite_urls(site)  # each once; data: URIs and CSS comments not fetched
    assert all(capture["type"] == "response" and capture["status"] == "200" for capture in archived
               if capture["role"] == "requisite")
    # the stored bytes are what the server sent
    with next((tmp_path / "archive" / "warc").glob("*.warc.gz")).open("rb") as stream:
        css = next(record.content_stream().read() for record in ArchiveIterator(stream)
                   if record.rec_headers.get_header("WARC-Target-URI") == site["base"] + "/css/site.css")
    assert css == CSS
    # requisites never become corpus rows: only the article is one
    corpus = (tmp_path / "archive" / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(corpus) == 1 and ARTICLE in corpus[0]


def test_a_second_run_archives_unchanged_requisites_as_revisits_not_new_responses(tmp_path):
    with sites() as site:
        run(tmp_path, site["base"])
        first = len(captures(tmp_path))
        site["pages"].update(site_pages(site["cdn"], (ARTICLE, SECOND_ARTICLE)))  # a new story, the same CSS
        run(tmp_path, site["base"])
    second = captures(tmp_path)[first:]
    requisites = [capture for capture in second if capture["role"] == "requisite"]
    assert sorted(capture["url"] for capture in requisites) == requisite_urls(site)
    assert {(capture["type"], capture["profile"]) for capture in requisites} == {("revisit", "server-not-modified")}


def _hanging(host: str) -> tuple[socket.socket, str]:
    """A host that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind((host, 0))
    listener.listen(50)
    return listener, f"http://{host}:{listener.getsockname()[1]}"


def timed_run(tmp_path: Path, base: str, timeout: float) -> tuple[subprocess.CompletedProcess, float]:
    """A run with the given request timeout, and how long it took."""
    started = time.monotonic()
    result = run(tmp_path, base, crawl=f"timeout = {timeout}\n")
    return result, time.monotonic() - started


def test_a_dead_or_hanging_requisite_host_ends_the_run_in_bounded_time_with_every_article_archived(tmp_path):
    listener, hanging = _hanging("127.0.0.3")
    dead = socket.socket()
    dead.bind(("127.0.0.4", 0))  # bound, not listening: connections are refused
    dead_url = f"http://127.0.0.4:{dead.getsockname()[1]}"
    try:
        with sites() as site:
            for path in (ARTICLE, SECOND_ARTICLE):
                site["pages"][path] = ("text/html", article_html("Harbour wall repair", hanging).replace(
                    b'src="/img/photo.png"', f'src="{dead_url}/img/photo.png"'.encode()))
            site["pages"].update({"/": site_pages(site["cdn"], (ARTICLE, SECOND_ARTICLE))["/"]})
            result, took = timed_run(tmp_path, site["base"], timeout=3)
    finally:
        listener.close()
        dead.close()
    assert took < 60, took
    archived = captures(tmp_path)
    assert {capture["url"] for capture in archived if capture["role"] == "article"} == {
        site["base"] + ARTICLE, site["base"] + SECOND_ARTICLE}
    said = [line for line in result.stderr.splitlines() if "127.0.0.3" in line or "127.0.0.4" in line]
    assert len(said) == 2, result.stderr  # a line a host: its robots.txt cannot be read, nothing is asked of it
    assert "FAILED" not in result.stderr


class _HangingFiles(_Handler):
    """robots.txt at once (404), every other file never in time."""

    def do_GET(self) -> None:
        self.requested.append(self.path)
        if self.path != "/robots.txt":
            time.sleep(15)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_a_host_hanging_on_its_files_is_given_up_after_3_failures_not_waited_for_file_by_file(tmp_path):
    with _serving("127.0.0.5", {}, _HangingFiles) as (hanging, requested), sites() as site:
        images = "".join(f'<img src="{hanging}/img/{n}.png">' for n in range(40))
        site["pages"][ARTICLE] = ("text/html", article_html("Harbour wall", site["cdn"]).replace(
            b"<article>", f"<article>{images}".encode()))
        result, took = timed_run(tmp_path, site["base"], timeout=2)
    # 8 at a time, 2 s each: about two rounds, not 5 rounds of 3 tries (30 s)
    assert took < 15, (took, result.stderr)
    assert len([path for path in requested if path != "/robots.txt"]) < 40
    said = [line for line in result.stderr.splitlines() if "127.0.0.5" in line]
    assert any("3 page requisites failed on the network" in line for line in said), result.stderr
    # a line for each sent before it was given up: 8 at a time, and the next 8 at most, sent as the first failed
    # (a slot is free before its request's failure is read), and the line that says so
    assert len(said) <= 2 * 8 + 1, result.stderr
    assert {capture["url"] for capture in captures(tmp_path) if capture["role"] == "article"} == {
        site["base"] + ARTICLE}


@contextmanager
def replayed(tmp_path: Path, browser, url: str, shown: str) -> Iterator[None]:
    """``url`` open in ``browser`` as the archive's replay (pywb) shows it, inside pywb's frame, once the script
    ``shown`` is true."""
    port = free_port()
    replay = f"http://127.0.0.1:{port}/archive"
    command = [sys.executable, "-m", "cli", "replay", "--config", str(tmp_path / "sources.toml"), "--port", str(port)]
    with running(command, f"{replay}/cdx?url=http://example.invalid/"):
        browser.get(f"{replay}/{url}")
        WebDriverWait(browser, 30).until(expected_conditions.frame_to_be_available_and_switch_to_it(
            (By.TAG_NAME, "iframe")))  # pywb's frame around the page as archived
        WebDriverWait(browser, 30).until(lambda chrome: chrome.execute_script(shown))
        yield


def test_the_replayed_article_shows_its_archived_images_and_stylesheet_in_a_browser(tmp_path, request):
    browser = request.getfixturevalue("chromium")
    with sites() as site:
        run(tmp_path, site["base"])
    # the live sites are gone: whatever the page shows now comes from the archive
    with replayed(tmp_path, browser, site["base"] + ARTICLE,
                  "return document.getElementById('photo') && [...document.images].every(image => image.complete)"):
        shown = browser.execute_script(
            "return {photo: document.getElementById('photo').naturalWidth,"
            " cdn: document.querySelector('picture img').naturalWidth,"
            " heading: getComputedStyle(document.querySelector('h1')).color,"
            " background: getComputedStyle(document.body).backgroundImage}")
    assert shown["photo"] == 40 and shown["cdn"] > 0, shown  # the CDN's 80-pixel image, chosen for 2x
    assert shown["heading"] == "rgb(1, 2, 3)", shown
    assert "/img/bg.png" in shown["background"], shown


def test_a_page_s_requisites_past_100_are_not_fetched_and_the_cut_is_said_in_one_line(tmp_path):
    with sites() as site:
        images = "".join(f'<img src="/img/{n}.png">' for n in range(120))
        site["pages"][ARTICLE] = ("text/html", article_html("Harbour wall", site["cdn"]).replace(
            b"<article>", f"<article>{images}".encode()))
        site["pages"].update({f"/img/{n}.png": ("image/png", png(4, 4)) for n in range(120)})
        result = run(tmp_path, site["base"])
    requisites = [capture for capture in captures(tmp_path) if capture["role"] == "requisite"]
    assert len(requisites) == 100 + 1  # and bg.png, which the stylesheet names
    said = [line for line in result.stderr.splitlines() if "page requisites" in line]
    assert len(said) == 1 and "only the first 100 of its 124 page requisites taken" in said[0], result.stderr


def test_a_source_with_requisites_false_fetches_none(tmp_path):
    with sites() as site:
        run(tmp_path, site["base"], source="requisites = false\n")
    assert sorted(site["requested"]) == sorted(["/", "/robots.txt", ARTICLE])
    assert site["cdn_requested"] == []


@pytest.mark.parametrize("html, expected", [
    ('<img srcset="a.png 1x,b.png 2x, c.png 3x">', ["a/a.png", "a/b.png", "a/c.png"]),
    ('<base href="/static/"><img src="x.png"><link rel="Shortcut Icon" href="/favicon.ico">',
     ["static/x.png", "favicon.ico"]),
])
def test_the_requisites_of_a_page_are_read_as_a_browser_reads_them(html, expected):
    response = HtmlResponse("http://news.test/a/", body=html.encode(), encoding="utf-8")
    assert html_requisites(response) == [f"http://news.test/{path}" for path in expected]


INLINE_CSS = (b'<style>@font-face { font-family: Harbour; src: url("/fonts/harbour.woff2") format("woff2") }'
              b" .banner { background-image: url('/img/banner.png') }</style>")
INLINE_STYLED = (b'<div class="banner" id="banner">Harbour</div>'
                 b'<div id="inline" style="background-image:url(/img/inline.png)">News</div>')


def test_the_images_and_fonts_a_page_s_style_block_and_style_attributes_name_are_archived_and_replayed(
        tmp_path, request):
    with sites() as site:
        site["pages"][ARTICLE] = ("text/html", article_html("Harbour wall", site["cdn"]).replace(
            b"</head>", INLINE_CSS + b"</head>").replace(b"<article>", b"<article>" + INLINE_STYLED))
        site["pages"].update({"/fonts/harbour.woff2": ("font/woff2", b"wOF2 not really a font"),
                              "/img/banner.png": ("image/png", png(12, 6)),
                              "/img/inline.png": ("image/png", png(14, 7))})
        run(tmp_path, site["base"])
    requisites = {capture["url"] for capture in captures(tmp_path) if capture["role"] == "requisite"}
    assert {site["base"] + path for path in ("/fonts/harbour.woff2", "/img/banner.png", "/img/inline.png")} \
        <= requisites, requisites
    browser = request.getfixturevalue("chromium")
    with replayed(tmp_path, browser, site["base"] + ARTICLE, "return document.getElementById('inline')"):
        # each element's background as the replayed page has it, loaded: its width, 0 if it did not load
        shown = browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "const width = id => new Promise(resolve => {"
            "  const url = getComputedStyle(document.getElementById(id)).backgroundImage.match(/url\\(\"?(.*?)\"?\\)/);"
            "  if (!url) { resolve(0); return; }"
            "  const image = new Image(); image.onload = () => resolve(image.naturalWidth);"
            "  image.onerror = () => resolve(0); image.src = url[1]; });"
            "Promise.all([width('banner'), width('inline')]).then(([banner, inline]) => done({banner, inline}));")
    assert shown == {"banner": 12, "inline": 14}, shown


class _SlowFeed(_Handler):
    """The feed answers a second late: the articles it lists are found after the start page's."""

    def do_GET(self) -> None:
        if self.path == "/feed.xml":
            time.sleep(1)
        super().do_GET()


def feed(paths: tuple[str, ...]) -> bytes:
    items = "".join(f"<item><title>Story {n}</title><link>{path}</link></item>" for n, path in enumerate(paths))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>{items}</channel></rss>'.encode()


def assert_bounded_run_takes_articles_first(tmp_path: Path, articles: int, max_pages: int, in_feed: int,
                                            crawl: str = "") -> None:
    """Articles on the site, requisites on the site and its CDN: the CDN's must not go first as the host with
    nothing in flight, nor those of the start page's articles while a feed still to come lists more."""
    paths = tuple(f"/2026/12/07/harbour-story-number-{n}/" for n in range(articles))
    pages: dict[str, tuple[str, bytes]] = {}  # filled once the addresses are known
    with _serving("127.0.0.2", {}) as (cdn, _), _serving("127.0.0.1", pages, _SlowFeed) as (base, _):
        images = "".join(f'<img src="/img/{n}.png"><img src="{cdn}/img/{n}.png">' for n in range(10))
        pages.update(site_pages(cdn, paths[:articles - in_feed]))
        pages.update({path: ("text/html", article_html(path.strip("/").rsplit("/", 1)[1], cdn).replace(
            b"<article>", f"<article>{images}".encode())) for path in paths})
        pages["/feed.xml"] = ("application/rss+xml", feed(tuple(base + path for path in paths[articles - in_feed:])))
        feeds = f'feeds = ["{base}/feed.xml"]\n' if in_feed else ""
        run(tmp_path, base, source=f"max_pages = {max_pages}\n{feeds}", crawl=crawl)
    roles = Counter(capture["role"] for capture in captures(tmp_path))
    taken = min(articles, max_pages - 1 - bool(in_feed))  # the start page takes one, the feed one
    assert roles["article"] == taken, roles
    assert roles["requisite"] == max_pages - 1 - bool(in_feed) - taken, roles


@pytest.mark.parametrize("articles, max_pages, in_feed", [(20, 12, 0), (6, 15, 0), (60, 50, 0), (20, 12, 18)])
def test_a_run_bounded_by_max_pages_archives_every_article_it_can_before_any_requisite(tmp_path, articles,
                                                                                       max_pages, in_feed):
    assert_bounded_run_takes_articles_first(tmp_path, articles, max_pages, in_feed)


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs Debian's redis-server")
@pytest.mark.parametrize("articles, max_pages, in_feed", [(60, 50, 0), (20, 12, 18)])
def test_a_cluster_worker_bounded_by_max_pages_archives_every_article_it_can_before_any_requisite(
        tmp_path, articles, max_pages, in_feed):
    """As on one machine, a worker of a shared crawl (a real redis-server) whose feed lists more articles."""
    with RedisServer(tmp_path / "redis") as redis:
        assert_bounded_run_takes_articles_first(tmp_path, articles, max_pages, in_feed,
                                                crawl=f'\n[cluster]\nredis = "{redis.url}"\n')


class _ClosingFiles(_Handler):
    """robots.txt at once (404), every other connection closed unanswered."""

    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            super().do_GET()
            return
        self.requested.append(self.path)
        self.close_connection = True


def test_a_requisite_host_given_up_is_asked_for_nothing_more_not_even_what_was_queued_for_it(tmp_path):
    with _serving("127.0.0.6", {}, _ClosingFiles) as (closing, asked), sites() as site:
        images = "".join(f'<img src="{closing}/img/{n}.png">' for n in range(30))
        site["pages"][ARTICLE] = ("text/html", article_html("Harbour wall", site["cdn"]).replace(
            b"<article>", f"<article>{images}".encode()))
        result = run(tmp_path, site["base"])
    # the files asked for (Twisted sends a request again, once, when a kept-alive connection closes unanswered)
    files = {path for path in asked if path != "/robots.txt"}
    # the 3 failures that give the host up, and those in flight as the 3rd fails (8 at a time, the test's
    # concurrent_requests_per_domain, the 3rd among them): none sent after
    assert 3 <= len(files) <= 2 + 8, (files, result.stderr)
    said = [line for line in result.stderr.splitlines() if "127.0.0.6" in line]
    assert sum("3 page requisites failed on the network" in line for line in said) == 1, result.stderr
    assert len(said) == len(files) + 1, result.stderr
    assert {capture["url"] for capture in captures(tmp_path) if capture["role"] == "article"} == {
        site["base"] + ARTICLE}


class _SlowLastStory(_Handler):
    """The last story answers 4 s late: the requisites of those before it are held meanwhile (max_pages)."""
    asked = threading.Event()

    def do_GET(self) -> None:
        if self.path.endswith("-5/"):
            self.asked.set()
            time.sleep(4)
        super().do_GET()


@contextmanager
def _stories_with_own_images(handler: type[_Handler] = _Handler, images: int = 1
                             ) -> Iterator[tuple[str, list[str]]]:
    """6 articles, each with ``images`` of its own (/own/0.png, ...) besides the site's stylesheet, script, photo and
    CDN image."""
    paths = tuple(f"/2026/12/07/harbour-story-number-{n}/" for n in range(6))
    pages: dict[str, tuple[str, bytes]] = {}
    with _serving("127.0.0.2", {"/img/wide.png": ("image/png", png(80, 60))}) as (cdn, _), \
            _serving("127.0.0.1", pages, handler) as (base, requested):
        pages.update(site_pages(cdn, paths))
        for n, path in enumerate(paths):
            own = range(n * images, (n + 1) * images)
            pages[path] = ("text/html", article_html(path.strip("/").rsplit("/", 1)[1], cdn).replace(
                b"<article>", ("<article>" + "".join(f'<img src="/own/{m}.png">' for m in own)).encode()))
            pages.update({f"/own/{m}.png": ("image/png", png(3, 3 + m)) for m in own})
        yield base, requested


def _own_images(tmp_path: Path, requested: list[str]) -> tuple[Counter, Counter]:
    """How often each story's own image was asked for, and archived."""
    return (Counter(path for path in requested if path.startswith("/own/")),
            Counter(capture["url"].split("/own/")[1] for capture in captures(tmp_path) if "/own/" in capture["url"]))


def test_the_requisites_a_run_cut_by_max_pages_left_are_fetched_by_the_next_runs_each_once(tmp_path):
    """max_pages = 5: the first run takes the start page and 4 stories, the next the 2 others, and holds every
    requisite for them; no later run fetches an archived story again.  Before, the stories' own images were never
    archived, whatever the number of runs."""
    with _stories_with_own_images() as (base, requested):
        for _ in range(5):
            run(tmp_path, base, source="max_pages = 5\n")
        asked, archived = _own_images(tmp_path, requested)
    assert asked == Counter({f"/own/{n}.png": 1 for n in range(6)}), asked
    assert archived == Counter({f"{n}.png": 1 for n in range(6)}), archived


def _killed_run(tmp_path: Path, source: str, moment: threading.Event, settle: float = 0) -> None:
    """``newsarchive run`` of the source, SIGKILLed with every process of its session ``settle`` s after ``moment``."""
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{tmp_path / "archive"}"\n\n[crawl]\ndownload_delay = 0\n'
                      f'autothrottle = false\nconcurrent_requests_per_domain = 8\n\n[[sources]]\nname = "site"\n'
                      f'{source}')
    killed = subprocess.Popen([sys.executable, "-m", "cli", "run", "--config", str(config)], cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        assert moment.wait(60)
        time.sleep(settle)
    finally:
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait()


def test_the_requisites_held_by_a_run_that_was_killed_are_fetched_by_the_next_run_each_once(tmp_path):
    """A bounded run SIGKILLed while the last story hangs, the others' requisites held behind it: the next run fetches
    each of them once.  Before, the killed run's queue was removed as an orphan and they were never archived."""
    with _stories_with_own_images(_SlowLastStory) as (base, requested):
        # once the 5 others are fetched and read: their requisites queued, held
        _killed_run(tmp_path, f'start_urls = ["{base}/"]\nmax_pages = 30\n', _SlowLastStory.asked, settle=1)
        assert not any(path.startswith("/own/") for path in requested), requested
        run(tmp_path, base, source="max_pages = 30\n")
        asked, archived = _own_images(tmp_path, requested)
    assert asked == Counter({f"/own/{n}.png": 1 for n in range(6)}), asked
    assert archived == Counter({f"{n}.png": 1 for n in range(6)}), archived


def test_a_page_whose_server_hangs_holds_a_bounded_run_s_requisites_only_a_while_not_for_its_timeouts(tmp_path):
    """A second start page that never answers: the articles' requisites are asked while its first try still hangs,
    not once its three tries (the timeout, twice retried) have timed out."""
    asked: list[tuple[float, str]] = []  # (when, path), both hosts
    released = threading.Event()

    class Hanging(_Handler):
        def do_GET(self) -> None:
            asked.append((time.monotonic(), self.path))
            if self.path == "/section/":
                released.wait(60)
                return
            super().do_GET()

    with _serving("127.0.0.2", {"/img/wide.png": ("image/png", png(80, 60))}, Hanging) as (cdn, _):
        pages = site_pages(cdn)
        with _serving("127.0.0.1", pages, Hanging) as (base, _):
            try:
                started = time.monotonic()
                run_source(tmp_path, f'start_urls = ["{base}/", "{base}/section/"]\nmax_pages = 50\n', "timeout = 12\n")
                took = time.monotonic() - started
            finally:
                released.set()
    site = {"base": base, "cdn": cdn}
    assert sorted(capture["url"] for capture in captures(tmp_path) if capture["role"] == "requisite") == \
        requisite_urls(site)
    tries = [when - started for when, path in asked if path == "/section/"]
    requisites = [when - started for when, path in asked if path in (*PAGE_REQUISITES, "/img/wide.png")]
    assert len(tries) == 3, tries  # the hanging page is still tried 3 times, 12 s each
    assert max(requisites) < tries[1], (f"requisites asked at {requisites}, the hanging page at {tries}, "
                                        f"run {took:.1f} s")


def _settled(requested: list[str], quiet: float = 0.5) -> None:
    """Wait until the server has noted no new request for ``quiet`` seconds."""
    seen = -1
    while seen != len(requested):
        seen = len(requested)
        time.sleep(quiet)


def test_a_run_killed_while_it_fetches_hundreds_of_requisites_leaves_none_unfetched_and_fetches_few_twice(tmp_path):
    """6 stories of 40 images each, the images slow: the run is SIGKILLed once 100 were asked for, its strikes of those
    asked since its last commit not yet on disk.  The next run fetches every image not asked for, and asks again at
    most those the killed run asked for since its last commit (fewer than STRIKES_PER_COMMIT): fetched twice, not
    lost."""
    hundredth = threading.Event()

    class SlowImages(_Handler):
        def do_GET(self) -> None:
            if self.path.startswith("/own/"):
                if sum(path.startswith("/own/") for path in self.requested) >= 99:
                    hundredth.set()
                time.sleep(0.05)
            super().do_GET()

    with _stories_with_own_images(SlowImages, images=40) as (base, requested):
        _killed_run(tmp_path, f'start_urls = ["{base}/"]\n', hundredth)
        _settled(requested)  # the server notes a request once its 50 ms are up: those under way as the run died too
        asked_by_killed = {path for path in requested if path.startswith("/own/")}
        assert 100 <= len(asked_by_killed) < 240, len(asked_by_killed)
        run(tmp_path, base)
        asked, archived = _own_images(tmp_path, requested)
    assert set(archived) == {f"{m}.png" for m in range(240)}, sorted(set(range(240)) - {
        int(name.split(".")[0]) for name in archived})
    twice = {path for path, times in asked.items() if times > 1}
    assert max(asked.values()) <= 2 and twice <= asked_by_killed and len(twice) < STRIKES_PER_COMMIT, asked


def test_noting_and_striking_off_a_run_s_requisites_costs_a_few_commits_not_one_a_requisite(tmp_path):
    """2,000 requisites, 100 a page, noted as queued and struck off as asked for, as a crawl does, on the archive's
    disk: each strike was a commit of its own (an fsync), 2,020 commits; they cost now less than 200 commits take on
    the same disk, and none is left owed."""
    budget = commits_take(tmp_path / "commits.sqlite", 200)
    took = crawl_through(OwedRequisites(tmp_path / OWED_FILE, "site"), 2000)
    assert took < budget, f"{took:.2f} s for 2,000 requisites, {budget:.2f} s for 200 commits"
    left = OwedRequisites(tmp_path / OWED_FILE, "site")
    assert left.left() == []
    left.close()


def test_a_disk_full_before_a_run_s_last_strikes_are_committed_costs_one_line_and_leaves_them_owed(small_disk, caplog):
    """3 requisites queued, 2 asked for and struck off at the run's close, on a disk full by then: one warning line, no
    traceback, and the next run asks for the 3 (2 fetched twice, none lost)."""
    queued = [(f"http://news.test/img/{n}.png", "http://news.test/2026/12/07/story/", 1) for n in range(3)]
    note = OwedRequisites(small_disk / OWED_FILE, "site")
    note.note(queued)
    for url, _, _ in queued[:2]:
        note.asked_for(url)
    filler = fill(small_disk)
    with caplog.at_level(logging.WARNING):
        note.close()
    filler.unlink()
    assert [record.getMessage() for record in caplog.records] == [
        f"site: cannot keep the page requisites owed to later runs in {small_disk / OWED_FILE} (database or disk is "
        "full): this run's unasked ones are not kept"]
    next_run = OwedRequisites(small_disk / OWED_FILE, "site")
    assert next_run.left() == queued
    next_run.close()
