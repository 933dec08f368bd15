"""Which of a sitemap's stories a crawl capped by ``max_pages`` takes, and how large a sitemap it reads.

Each test crawls a real site on 127.0.0.1 with ``newsarchive run`` and reads what the site was asked for.
"""

from __future__ import annotations

import gzip
import logging
import random
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from archive_fixtures import fill, loopback_site

from archive.state import SqliteState
from crawler.discovery import Entry
from crawler.sitemap_turns import SitemapTurns

REPO = Path(__file__).resolve().parent.parent
URLSET = '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
MB = 2**20


def story(n: int) -> str:
    return f"/2026/11/21/story-number-{n}-of-the-day.html"


Sitemaps = dict[str, tuple[bytes, dict[str, str]]]  # path -> body, headers


class SitemapSite(BaseHTTPRequestHandler):
    """Serves ``sitemaps`` (path -> body and headers) and a short story at any other path."""

    protocol_version = "HTTP/1.1"
    sitemaps: Sitemaps
    requested: list[str]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.requested.append(self.path)
        headers = {"Content-Type": "text/html"}
        if self.path == "/robots.txt":
            body = b"User-agent: *\nAllow: /\n"
        elif self.path in self.sitemaps:
            body, headers = self.sitemaps[self.path]
        else:
            body = b"<html><body><article><h1>Story</h1>" + b"<p>What happened, told in a sentence.</p>" * 5
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def crawl(tmp_path: Path, sitemaps: Callable[[str], Sitemaps], seed: str, source: str = ""
          ) -> tuple[subprocess.CompletedProcess, list[str]]:
    """A run of the site's sitemap ``seed``; ``sitemaps`` makes the site's sitemaps from its URL."""
    requested: list[str] = []
    handler = type("Site", (SitemapSite,), {"sitemaps": {}, "requested": requested})
    with loopback_site(handler) as base:
        handler.sitemaps = sitemaps(base)
        config = tmp_path / "sources.toml"
        config.write_text(f'[archive]\ndir = "{tmp_path / "archive"}"\n\n[crawl]\ndownload_delay = 0\n'
                          f'autothrottle = false\nconcurrent_requests_per_domain = 8\n\n[[sources]]\nname = "site"\n'
                          f'sitemaps = ["{base}{seed}"]\n{source}', encoding="utf-8")
        result = subprocess.run([sys.executable, "-m", "cli", "run", "--config", str(config), "--no-extract"],
                                capture_output=True, text=True, timeout=180, cwd=REPO)
    assert "Traceback" not in result.stderr, result.stderr
    return result, requested


def stories(requested: list[str]) -> set[int]:
    return {int(path.split("-")[2]) for path in requested if path.startswith("/2026/")}


NOW = datetime.now(timezone.utc)


@pytest.mark.parametrize("listed", ["newest first by lastmod", "shuffled, news publication dates", "undated"])
def test_a_crawl_capped_by_max_pages_takes_a_sitemap_s_newest_stories_else_its_first(tmp_path, listed):
    """Story n is n hours old; 20 are listed, max_pages lets the sitemap and 5 stories through."""
    order = list(range(20))
    if listed.startswith("shuffled"):
        random.Random(7).shuffle(order)
    day = "{:%Y-%m-%dT%H:%M:%S+00:00}"
    entry = {"newest first by lastmod": f"<url><loc>{{base}}{{path}}</loc><lastmod>{day}</lastmod></url>",
             "shuffled, news publication dates": f"<url><loc>{{base}}{{path}}</loc><news:news><news:publication_date>"
                                                 f"{day}</news:publication_date></news:news></url>",
             "undated": "<url><loc>{base}{path}</loc></url>"}[listed]
    body = URLSET + "".join(entry.format(NOW - timedelta(hours=n), base="{base}", path=story(n)) for n in order)
    result, requested = crawl(tmp_path, lambda base: {"/sitemap.xml": (
        (body + "</urlset>").replace("{base}", base).encode(), {})}, "/sitemap.xml", "max_pages = 6\n")
    assert result.returncode == 0, result.stderr
    assert stories(requested) == ({0, 1, 2, 3, 4} if listed != "undated" else set(order[:5]))


def big_sitemap(base: str, size: int) -> bytes:
    """A urlset of 10 stories padded with white space to ``size`` bytes, as a sitemap listing long image
    captions or pretty-printed a tag a line reaches the protocol's limit."""
    entries = "".join(f"<url><loc>{base}{story(n)}</loc></url>\n" for n in range(10))
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n{URLSET}\n{entries}'.encode()
    return head + b" " * (size - len(head) - len(b"</urlset>")) + b"</urlset>"


@pytest.mark.parametrize("served", ["plain", "Content-Encoding gzip", ".xml.gz file"])
def test_a_sitemap_up_to_the_protocol_s_50_mb_is_read(tmp_path, served):
    path = "/sitemap.xml.gz" if served == ".xml.gz file" else "/sitemap.xml"

    def sitemaps(base: str) -> Sitemaps:
        body, headers = big_sitemap(base, 45 * MB), {"Content-Type": "application/xml"}
        if served == "Content-Encoding gzip":
            return {path: (gzip.compress(body, 1), {**headers, "Content-Encoding": "gzip"})}
        if served == ".xml.gz file":
            return {path: (gzip.compress(body, 1), {"Content-Type": "application/x-gzip"})}
        return {path: (body, headers)}

    result, requested = crawl(tmp_path, sitemaps, path)
    assert result.returncode == 0, result.stderr
    assert stories(requested) == set(range(10))
    assert "warn size" not in result.stderr


@pytest.mark.parametrize("served", ["plain", ".xml.gz file"])
def test_a_sitemap_over_the_protocol_s_50_mb_is_refused_in_one_line(tmp_path, served):
    path = "/sitemap.xml.gz" if served == ".xml.gz file" else "/sitemap.xml"

    def sitemaps(base: str) -> Sitemaps:
        body = big_sitemap(base, 51 * MB)
        return {path: (gzip.compress(body, 1) if served == ".xml.gz file" else body, {})}

    result, requested = crawl(tmp_path, sitemaps, path)
    assert result.returncode == 1  # its only seed
    assert stories(requested) == set()
    said = [line for line in result.stderr.splitlines() if path in line and "ERROR" in line]
    assert len(said) == 1, result.stderr
    assert said[0].endswith("larger than its download limit (50 MB, the sitemap protocol's): not archived"
                            if served == "plain" else "over 50 MB once gunzipped"), said


def index_of_days(base: str, dated: bool, newer: int | None = None) -> Sitemaps:
    """/index.xml lists /day-0.xml ... /day-5.xml, day n n days old (``newer``: that day changed today, adding
    story 50 + n); /day-n.xml lists story n."""
    sitemaps: Sitemaps = {}
    entries = []
    for n in range(6):
        lastmod = NOW if n == newer else NOW - timedelta(days=n)
        entries.append(f"<sitemap><loc>{base}/day-{n}.xml</loc>"
                       + (f"<lastmod>{lastmod:%Y-%m-%dT%H:%M:%S+00:00}</lastmod>" if dated else "") + "</sitemap>")
        listed = [n, 50 + n] if n == newer else [n]
        sitemaps[f"/day-{n}.xml"] = ((URLSET + "".join(f"<url><loc>{base}{story(k)}</loc></url>" for k in listed)
                                      + "</urlset>").encode(), {})
    index = '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + "".join(entries) + "</sitemapindex>"
    sitemaps["/index.xml"] = (index.encode(), {})
    return sitemaps


@pytest.mark.parametrize("dated", [True, False], ids=["with lastmod", "without lastmod"])
def test_runs_capped_by_max_sitemaps_work_through_a_sitemap_index_the_changed_sitemaps_first(tmp_path, dated):
    """max_sitemaps = 3: the index and two of its six sitemaps a run.  Before, every run read the same two newest."""
    requested: list[str] = []
    handler = type("Site", (SitemapSite,), {"sitemaps": {}, "requested": requested})
    days_read = []
    with loopback_site(handler) as base:
        config = tmp_path / "sources.toml"
        config.write_text(f'[archive]\ndir = "{tmp_path / "archive"}"\n\n[crawl]\ndownload_delay = 0\n'
                          f'autothrottle = false\nmax_sitemaps = 3\n\n[[sources]]\nname = "site"\n'
                          f'sitemaps = ["{base}/index.xml"]\n', encoding="utf-8")
        for run in range(5):
            handler.sitemaps = index_of_days(base, dated, newer=5 if run == 4 else None)
            requested.clear()
            result = subprocess.run([sys.executable, "-m", "cli", "run", "--config", str(config), "--no-extract"],
                                    capture_output=True, text=True, timeout=180, cwd=REPO)
            assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
            days_read.append(sorted(int(path[5:-4]) for path in requested if path.startswith("/day-")))
            if run < 3:  # each day's story archived the run its sitemap is read, and only then
                assert stories(requested) == set(days_read[run]), (run, requested)
    assert sorted(sum(days_read[:3], [])) == [0, 1, 2, 3, 4, 5], days_read
    # then in turn, the least recently read first; with lastmods, one that changed goes before them
    assert days_read[3] == [0, 1], days_read
    assert days_read[4] == ([2, 5] if dated else [2, 3]), days_read
    if dated:
        assert stories(requested) == {55}  # story 5 was archived in run 3


def test_a_disk_full_as_a_crawl_ends_costs_its_sitemap_reads_one_line_not_a_traceback(small_disk, caplog):
    """Seen in a chaos loop of runs whose disk filled mid-crawl: the spider's closing stored the sitemaps it read,
    SQLite found the disk full, and Scrapy printed the traceback of its closed handler among the run's lines.
    Losing them costs only their turn: the next run reads them as if unread."""
    path = small_disk / "state" / "crawl.sqlite"
    url = "http://127.0.0.1:9/sitemap-2026-12.xml"
    turns = SitemapTurns(SqliteState(path), "herald")
    turns.order([Entry(url, datetime(2026, 12, 1, tzinfo=timezone.utc))])
    turns.read_one(url)
    filler = fill(small_disk)
    with caplog.at_level(logging.WARNING):
        turns.close(complete=False)  # before: sqlite3.OperationalError: database or disk is full
    assert [record.getMessage() for record in caplog.records] == [
        "herald: the disk is full (database or disk is full): which sitemaps this run read is not kept"]
    filler.unlink()
    assert SqliteState(path).sitemap_reads([url]) == {}
