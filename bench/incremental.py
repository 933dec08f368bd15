"""Re-crawl benchmark: what does a second run over an unchanged site cost?

Serves a generated news site on 127.0.0.1 (a home page linking N articles, a news sitemap,
robots.txt; gzip, ETag, Last-Modified and 304s like a real CMS behind a CDN).  Article
bodies are the extraction benchmark's real pages when present, each made unique.  Runs
``newsarchive run`` twice into a fresh archive and prints WARC bytes and wall time of both.
Goals: run 2 writes <= 10 % of run 1's WARC bytes and takes <= 50 % of its time.

    .venv/bin/python bench/incremental.py [--pages N] [--per-domain N]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import subprocess
import sys
import tempfile
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HTML_DIR = REPO.parent / "shared" / "benchmarks" / "article-extraction" / "html"
LAST_MODIFIED = formatdate(1_790_000_000, usegmt=True)


def article_bodies(count: int) -> list[bytes]:
    """``count`` distinct article pages: real ones repeated with a marker, else a filler page."""
    sources = [gzip.decompress(path.read_bytes()) for path in sorted(HTML_DIR.glob("*.html.gz"))]
    if not sources:
        paragraph = "<p>" + "The council met on Tuesday to discuss the new budget. " * 12 + "</p>"
        sources = [f"<html><head><title>Story</title></head><body><article><h1>Story</h1>{paragraph * 8}"
                   "</article></body></html>".encode()]
    return [sources[index % len(sources)] + f"<!-- copy {index} -->".encode() for index in range(count)]


class Site:
    """The pages, pre-gzipped, with validators; a handler class bound to them."""

    def __init__(self, pages: int):
        self.pages: dict[str, tuple[bytes, str]] = {}
        paths = [f"/news/2026/11/story-number-{index}-of-the-day.html" for index in range(pages)]
        for path, body in zip(paths, article_bodies(pages)):
            self._add(path, body, "text/html; charset=utf-8")
        links = "".join(f'<li><a href="{path}">Story number {index} of the day</a></li>' for index, path in enumerate(paths))
        self._add("/", f"<html><body><h1>Front page</h1><ul>{links}</ul></body></html>".encode(),
                  "text/html; charset=utf-8")
        self._add("/robots.txt", b"User-agent: *\nAllow: /\n", "text/plain")
        self.server: ThreadingHTTPServer | None = None

    def _add(self, path: str, body: bytes, content_type: str) -> None:
        self.pages[path] = (gzip.compress(body, 6, mtime=0), content_type)

    def start(self) -> str:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                page = site.pages.get(self.path)
                if page is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body, content_type = page
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                for name, value in (("Content-Type", content_type), ("Content-Encoding", "gzip"), ("ETag", etag),
                                    ("Last-Modified", LAST_MODIFIED), ("Content-Length", str(len(body)))):
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"


def run(config: Path) -> float:
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "cli", "run", "--config", str(config)], cwd=REPO,
                            capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"run failed ({result.returncode}):\n{result.stderr}")
    print("   ", result.stderr.strip().splitlines()[0])
    return elapsed


def warc_bytes(archive: Path, before: set[Path]) -> tuple[int, set[Path]]:
    files = set((archive / "warc").glob("*.warc.gz"))
    return sum(path.stat().st_size for path in files - before), files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--per-domain", type=int, default=4, help="concurrent requests to the site")
    args = parser.parse_args()
    site = Site(args.pages)
    base = site.start()
    with tempfile.TemporaryDirectory(prefix="newsarchive-bench-") as tmp:
        archive = Path(tmp)
        config = archive / "sources.toml"
        config.write_text(
            f'[archive]\ndir = "{archive}"\n\n[crawl]\ndownload_delay = 0\nautothrottle = false\n'
            f"concurrent_requests_per_domain = {args.per_domain}\n\n"
            f'[[sources]]\nname = "bench"\nstart_urls = ["{base}/"]\nschedule = "0 */6 * * *"\n'
            f"max_pages = {args.pages + 10}\n",
            encoding="utf-8",
        )
        print(f"site: {args.pages} articles at {base}")
        time_1 = run(config)
        bytes_1, files = warc_bytes(archive, set())
        time_2 = run(config)
        bytes_2, _ = warc_bytes(archive, files)
    print(f"run 1: {bytes_1:>10,} WARC bytes  {time_1:6.2f} s")
    print(f"run 2: {bytes_2:>10,} WARC bytes  {time_2:6.2f} s")
    print(f"run 2 / run 1: bytes {bytes_2 / bytes_1:.2%} (goal <= 10 %), time {time_2 / time_1:.1%} (goal <= 50 %)")


if __name__ == "__main__":
    main()
