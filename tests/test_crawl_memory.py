"""A crawl's memory does not grow with the number of pages it has yet to fetch (issue 15).

A loopback site whose sitemap lists many small articles, crawled by ``newsarchive run
--no-extract`` with ``max_pages`` low: every listed article is scheduled, few are fetched.
The crawler's peak RSS with 20,000 listed may exceed that with 200 by little more than the
sitemap's own bytes and the dupefilter's fingerprints (measured: 10 MB); with the pending
requests in memory it was 57 MB more.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from archive_fixtures import fill
from scrapy.utils.misc import load_object

from archive.state import STATE_DIR

REPO = Path(__file__).resolve().parent.parent
FETCHED = 40
# Peak RSS of the process that waited for them: here the run's largest, the crawler.
_PEAK_OF_CHILDREN = ("import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
                     "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    listed = 0

    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            body, kind = b"User-agent: *\nAllow: /\n", "text/plain"
        elif self.path == "/sitemap.xml":
            base = f"http://{self.headers['Host']}"
            body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                    + "".join(f"<url><loc>{base}/2026/11/story-{n:06d}.html</loc></url>\n" for n in range(self.listed))
                    + "</urlset>\n").encode()
            kind = "application/xml"
        else:
            body = f"<html><body><article><h1>{self.path}</h1><p>Story.</p></article></body></html>".encode()
            kind = "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def sitemap_site(listed: int) -> Iterator[str]:
    """A site on 127.0.0.1 whose sitemap lists ``listed`` articles; yields the sitemap's URL."""
    handler = type("Handler", (_Handler,), {"listed": listed})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sitemap.xml"
    finally:
        server.shutdown()
        server.server_close()


def crawler_peak_rss(tmp_path: Path, listed: int) -> int:
    """Peak RSS in kB of a ``--no-extract`` run that schedules ``listed`` articles and fetches a few."""
    archive = tmp_path / f"archive-{listed}"
    config = tmp_path / f"sources-{listed}.toml"
    with sitemap_site(listed) as sitemap:
        config.write_text(
            f'[archive]\ndir = "{archive}"\n\n[crawl]\ndownload_delay = 0\nautothrottle = false\n\n'
            f'[[sources]]\nname = "big"\nsitemaps = ["{sitemap}"]\nmax_pages = {FETCHED}\n'
        )
        result = subprocess.run(
            [sys.executable, "-c", _PEAK_OF_CHILDREN,
             sys.executable, str(REPO / "cli.py"), "run", "--config", str(config), "--no-extract"],
            capture_output=True, text=True, timeout=120, cwd=tmp_path,
        )
    assert result.returncode == 0, result.stderr
    assert not list((archive / STATE_DIR).glob("frontier-*")), "the crawl left its request queue behind"
    return int(result.stdout.split()[-1])


def test_pending_requests_do_not_stay_in_memory(tmp_path):
    small = crawler_peak_rss(tmp_path, 200)
    large = crawler_peak_rss(tmp_path, 20_000)
    assert large - small < 20_000, f"peak RSS {small} kB with 200 articles pending, {large} kB with 20,000"


def test_a_crawl_queue_on_a_disk_that_fills_up_neither_raises_nor_holds_the_crawl_open(small_disk, caplog):
    """Scrapy's scheduler with its queue on a disk that fills up: a request that cannot be written is
    kept in memory, and a queue file the full disk left unreadable is given up in one line (before:
    every read of it raised, and the engine, finding requests still pending, read it again for ever)."""
    from scrapy import Request, Spider
    from scrapy.settings import Settings
    from scrapy.utils.test import get_crawler

    settings = Settings()
    settings.setmodule("crawler.settings")
    settings.set("NEWSARCHIVE_ARCHIVE_DIR", str(small_disk / "archive"))
    settings.set("TWISTED_REACTOR_ENABLED", False)  # the scheduler alone: no crawl, no reactor, no engine
    settings.set("SCHEDULER_PRIORITY_QUEUE", "scrapy.pqueues.ScrapyPriorityQueue")  # (the per-slot one asks the engine)
    crawler = get_crawler(Spider, settings.copy_to_dict())
    spider = Spider.from_crawler(crawler, name="full")
    scheduler = load_object(settings["SCHEDULER"]).from_crawler(crawler)
    scheduler.open(spider)
    fill(small_disk, leave=20_000)
    urls = [f"http://127.0.0.1/story-{n:05d}" for n in range(2000)]  # 200 kB pickled
    assert all(scheduler.enqueue_request(Request(url)) for url in urls)
    popped = []
    while (request := scheduler.next_request()) is not None:
        popped.append(request.url)
    assert not scheduler.has_pending_requests()
    assert popped and set(popped) <= set(urls) and len(set(popped)) == len(popped)
    failures = [record.getMessage() for record in caplog.records if record.name == "crawler.frontier"]
    assert len(failures) <= 2 and any("No space left on device" in line for line in failures), failures
    scheduler.close("finished")
    assert not list((small_disk / "archive" / STATE_DIR).glob("frontier-*"))
