"""A news site of any number of generated articles on 127.0.0.1, for tests and benchmarks of scale.

Every article has a headline, a byline, a date, eight to twelve paragraphs of its own and
the site's standing banner (template text for the site-template step); a news sitemap lists
them all.  Pages are made from the article number, so two farms of the same size serve the
same bytes.  ``add`` publishes more articles while it runs; ``delay`` makes every article
answer late (a server that hangs, or a politeness-bound crawl).
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

GATE_WAIT = 25.0  # seconds a request waits for the gate: under the crawl's DOWNLOAD_TIMEOUT (30 s)
BANNER = "Independent local news since 1921. Support our newsroom with a subscription."
_WORDS = ("council harbour school budget river station market winter bridge library museum festival "
          "hospital railway farmers election weather tourism housing transport police museum theatre "
          "funding residents mayor planning climate energy water court report county village").split()


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(12, 24))]
    return " ".join(words).capitalize() + "."


def article_html(number: int) -> bytes:
    """The page of article ``number``: always the same bytes."""
    rng = random.Random(number)
    title = f"Story {number}: " + " ".join(rng.choice(_WORDS) for _ in range(6)).capitalize()
    paragraphs = [" ".join(_sentence(rng) for _ in range(rng.randint(2, 4))) for _ in range(rng.randint(8, 12))]
    body = "".join(f"<p>{text}</p>\n" for text in [*paragraphs, BANNER])
    day = 1 + number % 28
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>"
            f"<meta property=\"og:type\" content=\"article\">"
            f"<meta name=\"author\" content=\"Reporter {number % 7}\">"
            f"<meta property=\"article:published_time\" content=\"2026-10-{day:02d}T08:00:00Z\"></head>"
            f"<body><header><nav><a href=\"/\">Home</a></nav></header><main><article><h1>{title}</h1>"
            f"<p class=\"byline\">By Reporter {number % 7}</p>\n{body}</article></main>"
            f"<footer><p>Farm Gazette</p></footer></body></html>").encode("utf-8")


_ARTICLE = re.compile(r"/news/2026/10/story-(\d+)-about-the-local-council")


def article_path(number: int) -> str:
    return f"/news/2026/10/story-{number}-about-the-local-council"


class ArticleFarm:
    """``ArticleFarm(articles)`` serves on 127.0.0.1 until ``stop`` (or the end of a ``with``)."""

    def __init__(self, articles: int, delay: float = 0.0, sitemap_size: int | None = None,
                 gate: Callable[[], bool] | None = None) -> None:
        self.articles = articles
        self.delay = delay
        self.gate = gate  # pages wait until it is true (GATE_WAIT at most), then it is no longer asked
        self.sitemap_size = sitemap_size  # the sitemap lists this many newest articles (None: all)
        self.served = 0
        self._lock = threading.Lock()
        farm = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                status, content_type, body = farm.route(self.path)
                if content_type == "text/html":  # a page: robots.txt and the sitemap are never held
                    farm.wait_for_gate()
                    if farm.delay:
                        threading.Event().wait(farm.delay)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="article-farm", daemon=True)

    def wait_for_gate(self) -> None:
        """Hold a page until the gate opens: a test of a shared crawl holds the pages until every worker
        holds one, as on a loaded machine one worker may otherwise crawl the whole farm before the next starts."""
        deadline = time.monotonic() + GATE_WAIT
        while self.gate is not None and not self.gate() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.gate = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(self, count: int) -> None:
        """Publish ``count`` more articles."""
        with self._lock:
            self.articles += count

    def route(self, path: str) -> tuple[int, str, bytes]:
        with self._lock:
            self.served += 1
            articles = self.articles
        if path == "/robots.txt":
            return 200, "text/plain", f"User-agent: *\nAllow: /\nSitemap: {self.url}/sitemap.xml\n".encode()
        if path == "/sitemap.xml":
            first = 0 if self.sitemap_size is None else max(0, articles - self.sitemap_size)
            urls = "".join(f"<url><loc>{self.url}{article_path(n)}</loc></url>" for n in range(first, articles))
            return 200, "application/xml", (
                '<?xml version="1.0" encoding="UTF-8"?>'
                f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>').encode()
        found = _ARTICLE.fullmatch(path)
        if found and int(found[1]) < articles and path == article_path(int(found[1])):
            return 200, "text/html", article_html(int(found[1]))
        return 404, "text/html", b"<html><body><h1>Not found</h1></body></html>"

    def source(self, name: str = "farm", **options: Any) -> dict:
        """A ``[[sources]]`` entry that crawls the farm through its sitemap."""
        return {"name": name, "sitemaps": [f"{self.url}/sitemap.xml"], "schedule": "0 * * * *", **options}

    def start(self) -> ArticleFarm:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ArticleFarm:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
