"""A hostile site costs one line per bad thing in the log and nothing else.

One site serves everything a crawler should survive: sitemaps with entity expansion
(billion laughs) and an external entity naming a local file (XXE), gzip bombs as a sitemap
file, as a content-encoded sitemap and as an article, a brotli bomb as an article, a feed
with entity expansion, a page that never finishes and a link to one that is gone.  The run
must stay within its memory, fetch nothing the XML made up, archive what it received as it
was received, say in one line what was wrong and where, and still write the one good article.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import brotli
import pytest
from archive_fixtures import assert_warcio_check, loopback_site
from warcio.archiveiterator import ArchiveIterator

SECRET = "the-marker-of-a-local-file-4711"
GOOD = "/2026/11/21/a-good-story-on-a-bad-site.html"
ARTICLE_BOMB = "/2026/11/21/the-article-that-explodes.html"
STALLED = "/2026/11/21/the-page-that-never-ends.html"
GONE = "/2026/11/21/a-story-that-is-gone.html"
BROTLI_BOMB = "/2026/11/21/the-article-that-explodes-in-brotli.html"
BAD_STATUS = "/2026/11/21/a-story-behind-a-broken-status-line.html"
ENDLESS = "/2026/11/21/a-story-that-goes-on-and-on.html"
TO_FTP = "/2026/11/21/a-story-moved-to-an-ftp-server.html"
ANNOUNCED = "/2026/11/21/a-story-whose-length-says-it-is-too-large.html"
LOSSY = "/2026/11/21/a-story-whose-connection-closes-halfway.html"
LARGE = "/files/a-long-report-within-the-download-limit.pdf"
INDEXED_BOMB = "/sitemaps/news-2026-11.xml"  # content-encoded, over 50 MB once decoded
INDEXED_GONE = "/sitemaps/news-2026-10.xml"  # 404
BOMB_SIZE = 64 << 20  # over the sitemap (50 MB), download (20 MB) and decoded article (50 MB) limits
MEMORY_LIMIT = 4 << 30  # address space per process: an expanded billion laughs needs far more
LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol0 "lol">'
          + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)) + "]>\n")


def gzip_bomb(fill: bytes) -> bytes:
    """``BOMB_SIZE`` bytes of ``fill`` in about 1/1000 of that; each bomb differs, so none is a revisit."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = fill * (1 << 20)
    return b"".join([compressor.compress(chunk) for _ in range(BOMB_SIZE >> 20)] + [compressor.flush()])


def brotli_bomb(gigabytes: int) -> bytes:
    """``gigabytes`` GB of spaces in a few KB: 16 KB of br, a block warcio decodes at once, hold far more."""
    compressor = brotli.Compressor(quality=5)
    chunk = b" " * (1 << 20)
    return b"".join([compressor.process(chunk) for _ in range(gigabytes << 10)] + [compressor.finish()])


class HostileSite(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    secret_file: Path
    bombs: dict[str, bytes]
    requested: list[str] = []
    released = threading.Event()  # lets the stalled page's thread go when the test ends

    def log_message(self, format: str, *args: object) -> None:
        pass

    def handle(self) -> None:
        try:
            super().handle()
        except ConnectionError:  # the crawler gave up on an answer, as it should
            pass

    def _send(self, body: bytes | str, content_type: str, encoding: str | None = None) -> None:
        body = body.encode() if isinstance(body, str) else body
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.requested.append(self.path)
        base = f"http://{self.headers['Host']}"
        urlset = '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{}</loc></url></urlset>'
        if self.path == "/robots.txt":
            self._send("User-agent: *\nAllow: /\n" + "".join(
                f"Sitemap: {base}/{name}\n" for name in
                ("sitemap-laughs.xml", "sitemap-xxe.xml", "sitemap-bomb.xml.gz", "sitemap-encoded-bomb.xml")),
                "text/plain")
        elif self.path == "/":
            self._send(f'<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml"></head>'
                       f'<body><a href="{GOOD}">A good story on a bad site</a>'
                       f'<a href="{ARTICLE_BOMB}">The article that explodes</a>'
                       f'<a href="{STALLED}">The page that never ends</a>'
                       f'<a href="{GONE}">A story that is gone</a></body></html>', "text/html; charset=utf-8")
        elif self.path == "/sitemap-laughs.xml":
            self._send(LAUGHS + urlset.format(f"{base}/laughs/&lol9;"), "application/xml")
        elif self.path == "/sitemap-xxe.xml":
            self._send(f'<?xml version="1.0"?>\n<!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file://{self.secret_file}">]>\n'
                       + urlset.format(f"{base}/xxe/&xxe;"), "application/xml")
        elif self.path == "/sitemap-bomb.xml.gz":
            self._send(self.bombs["sitemap"], "application/x-gzip")
        elif self.path in ("/sitemap-encoded-bomb.xml", INDEXED_BOMB):
            self._send(self.bombs["encoded sitemap"], "application/xml", "gzip")
        elif self.path == "/sitemap-index.xml":
            self._send('<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + "".join(
                f"<sitemap><loc>{base}{path}</loc></sitemap>" for path in (INDEXED_BOMB, INDEXED_GONE, "/news.xml"))
                + "</sitemapindex>", "application/xml")
        elif self.path == "/news.xml":
            self._send(urlset.format(base + GOOD), "application/xml")
        elif self.path == "/feed.xml":
            self._send(LAUGHS + f'<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>'
                       f'<link>{base}{GOOD}</link></item></channel></rss>', "application/rss+xml")
        elif self.path == GOOD:
            paragraphs = "".join(f"<p>Paragraph {n} of a story that is fine to read, told in whole sentences so "
                                 "that the extractor takes it for the text it is.</p>" for n in range(6))
            self._send(f"<html><head><title>A good story</title></head><body><article>"
                       f"<h1>A good story on a bad site</h1>{paragraphs}</article></body></html>",
                       "text/html; charset=utf-8")
        elif self.path == ARTICLE_BOMB:
            self._send(self.bombs["article"], "text/html; charset=utf-8", "gzip")
        elif self.path == "/brotli.html":
            self._send(f'<html><body><a href="{GOOD}">A good story on a bad site</a>'
                       f'<a href="{BROTLI_BOMB}">The article that explodes in brotli</a></body></html>',
                       "text/html; charset=utf-8")
        elif self.path == "/broken.html":
            self._send(f'<html><body><a href="{GOOD}">A good story on a bad site</a>'
                       f'<a href="{BAD_STATUS}">A story behind a broken status line</a>'
                       f'<a href="{ENDLESS}">A story that goes on and on</a>'
                       f'<a href="{TO_FTP}">A story moved to an FTP server</a></body></html>',
                       "text/html; charset=utf-8")
        elif self.path == ENDLESS:  # no length, one megabyte after another until the crawler hangs up
            self.close_connection = True
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n\r\n"
                             b"<html><body><p>")
            while not self.released.is_set():
                self.wfile.write(b"and on " * 150_000)
        elif self.path == "/oversized.html":
            self._send("<html><body>" + "".join(f'<a href="{path}">A story</a>' for path in (ENDLESS, ANNOUNCED, LOSSY, LARGE))
                       + "</body></html>", "text/html; charset=utf-8")
        elif self.path == ANNOUNCED:  # a Content-Length over the limit: hung up on before its body
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(21 << 20))
            self.end_headers()
            for _ in range(21):
                self.wfile.write(b" " * (1 << 20))
        elif self.path == LOSSY:  # less than its Content-Length, then the connection closes
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"<html><body><p>And then")
        elif self.path == LARGE:  # 6 MB: over Scrapy's default warning size, under the download limit
            self._send(b"%PDF-1.4\n" + b"0" * (6 << 20), "application/pdf")
        elif self.path == TO_FTP:
            self.send_response(301)
            self.send_header("Location", "ftp://files.example.invalid/story.html")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == BAD_STATUS:
            self.close_connection = True
            self.wfile.write(b"HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n")
        elif self.path == BROTLI_BOMB:
            self._send(self.bombs["brotli article"], "text/html; charset=utf-8", "br")
        elif self.path == STALLED:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"<html><body><p>And then")
            self.wfile.flush()
            self.released.wait(60)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()


def archived_responses(warc_dir: Path) -> dict[str, bytes]:
    """Each response record's target URI and its payload as stored (content-encoding kept)."""
    found = {}
    for warc in warc_dir.glob("*.warc.gz"):
        with open(warc, "rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "response":
                    found[record.rec_headers.get_header("WARC-Target-URI")] = record.raw_stream.read()
    return found


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory) -> Iterator[str]:
    secret_file = tmp_path_factory.mktemp("local") / "secret.txt"
    secret_file.write_text(SECRET)
    HostileSite.secret_file = secret_file
    HostileSite.bombs = {name: gzip_bomb(fill) for name, fill in
                         (("sitemap", b" "), ("encoded sitemap", b"\n"), ("article", b"x"))}
    HostileSite.bombs["brotli article"] = brotli_bomb(3)  # under MEMORY_LIMIT only if read as a stream
    HostileSite.released.clear()
    with loopback_site(HostileSite) as url:
        try:
            yield url
        finally:
            HostileSite.released.set()


def run(tmp_path: Path, source: str) -> subprocess.CompletedProcess:
    """``newsarchive run`` of one source (TOML lines) into ``tmp_path/archive``, within ``MEMORY_LIMIT``."""
    HostileSite.requested = []
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{tmp_path / "archive"}"\n\n[crawl]\ndownload_delay = 0\n'
                      f'autothrottle = false\ntimeout = 1\n\n[[sources]]\nname = "hostile"\n{source}\n')
    return subprocess.run([sys.executable, "-m", "cli", "run", "--config", str(config)], capture_output=True,
                          text=True, timeout=120,
                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT,) * 2))


def test_hostile_xml_bombs_and_a_stalled_page_cost_a_line_each_and_the_good_article_is_written(tmp_path, hostile_site):
    url, archive = hostile_site, tmp_path / "archive"
    result = run(tmp_path, f'start_urls = ["{url}/"]')
    log = result.stderr
    assert result.returncode == 0, log
    assert "Traceback" not in log

    # Nothing the XML made up was fetched, and the local file went nowhere.
    assert not [path for path in HostileSite.requested if "lollol" in path or SECRET in path or "/xxe/" in path]
    archived = archived_responses(archive / "warc")
    assert not [uri for uri, payload in archived.items() if SECRET.encode() in payload or SECRET in uri]

    # Every bomb is archived as it came, compressed; each bad thing is named in one line of the log.
    for path, bomb in ((ARTICLE_BOMB, "article"), ("/sitemap-bomb.xml.gz", "sitemap"),
                       ("/sitemap-encoded-bomb.xml", "encoded sitemap")):
        assert archived[url + path] == HostileSite.bombs[bomb]
    lines = log.splitlines()
    for path, says in ((ARTICLE_BOMB, "body over 50 MB once decoded, not extracted"),
                       ("/sitemap-bomb.xml.gz", "not a readable sitemap: over 50 MB once gunzipped"),
                       ("/sitemap-encoded-bomb.xml", "over its download limit once decompressed"),
                       (STALLED, "cannot fetch"), (GONE, "HTTP 404")):
        assert [line for line in lines if url + path in line and says in line], f"no line on {path}: {log}"
    [report] = [json.loads(path.read_text()) for path in (archive / "runs").glob("*.json")]
    assert [(page["url"], "over 50 MB once decoded" in page["reason"])
            for page in report["corpus"]["not_extracted"]] == [(url + ARTICLE_BOMB, True)]
    failed = {failure["url"]: failure["reason"] for failure in report["sources"][0]["failures"]}
    assert failed[url + GONE] == "HTTP 404" and url + STALLED in failed

    # The good article, found on the start page and in the feed, is written once.
    rows = [json.loads(line) for line in (archive / "corpus.jsonl").read_text().splitlines()]
    assert [row["url"] for row in rows] == [url + GOOD]
    text = (archive / rows[0]["text_path"]).read_text()
    assert text.startswith("A good story on a bad site\n\nParagraph 0 of a story")
    assert_warcio_check((archive / "warc").iterdir())


def test_a_brotli_bomb_article_is_archived_as_sent_and_derived_and_packaged_within_the_memory_limit(
        tmp_path, hostile_site):
    url, archive = hostile_site, tmp_path / "archive"
    result = run(tmp_path, f'start_urls = ["{url}/brotli.html"]')
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr
    assert archived_responses(archive / "warc")[url + BROTLI_BOMB] == HostileSite.bombs["brotli article"]
    assert [line for line in result.stderr.splitlines()
            if url + BROTLI_BOMB in line and "body over 50 MB once decoded, not extracted" in line], result.stderr
    rows = [json.loads(line) for line in (archive / "corpus.jsonl").read_text().splitlines()]
    assert [row["url"] for row in rows] == [url + GOOD]
    # Packaging reads every record; warcio would take a MemoryError for a body that is no br, so no limit here.
    with open(tmp_path / "package.log", "w+") as log:
        package = subprocess.Popen([sys.executable, "-m", "cli", "package", "--config", str(tmp_path / "sources.toml"),
                                    "--out", str(tmp_path / "a.wacz")], stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(package.pid, 0)
        log.seek(0)
        assert os.waitstatus_to_exitcode(status) == 0, log.read()
    assert usage.ru_maxrss < 1 << 20, f"{usage.ru_maxrss >> 10} MB"  # KB


def test_a_configured_sitemap_or_feed_that_is_none_fails_its_source_saying_so(tmp_path, hostile_site):
    url = hostile_site
    result = run(tmp_path, f'sitemaps = ["{url}/"]\nfeeds = ["{url}/robots.txt"]')
    assert result.returncode == 1, result.stderr
    assert f"hostile: {url}/: not a readable sitemap: not a sitemap (its root element is <html>)" in result.stderr
    assert f"hostile: {url}/robots.txt: not a readable feed: not an RSS or Atom feed" in result.stderr
    assert "hostile: FAILED: none of its 2 start URLs, feeds or sitemaps could be fetched and read" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_page_over_its_download_limit_or_cut_short_is_one_line_in_the_log_not_scrapys_too(tmp_path, hostile_site):
    """Scrapy's warnings ("Received N bytes which is larger than download warn size", "... max size", "Got data
    loss in URL") named each URL again beside ours, and a page within the limit but over 5 MB had one too."""
    result = run(tmp_path, f'start_urls = ["{hostile_site}/oversized.html"]')
    lines = result.stderr.splitlines()
    said = {path: [line for line in lines if hostile_site + path in line] for path in (ENDLESS, ANNOUNCED, LOSSY, LARGE)}
    assert {path: len(found) for path, found in said.items()} == {ENDLESS: 1, ANNOUNCED: 1, LOSSY: 1, LARGE: 0}, said
    for path in (ENDLESS, ANNOUNCED):
        assert said[path][0].endswith(": larger than its download limit (20 MB, DOWNLOAD_MAXSIZE): not archived"), said
    assert said[LOSSY][0].endswith(": cut short: the connection closed before the body was complete (data loss): "
                                   "not archived"), said
    assert hostile_site + LARGE in archived_responses(tmp_path / "archive" / "warc")


def test_a_response_that_is_not_http_never_ends_or_leaves_http_is_one_readable_line(tmp_path, hostile_site):
    """Their reasons read "[<twisted.python.failure.Failure twisted.web._newclient.ParseError: ...>]",
    "DownloadCancelledError" and "HTTP 301"."""
    result = run(tmp_path, f'start_urls = ["{hostile_site}/broken.html"]')
    [line] = [line for line in result.stderr.splitlines() if BAD_STATUS in line]
    assert "cannot fetch" in line and "ParseError: ('non-integer status code'" in line, line
    assert "<twisted" not in line and "Failure" not in line, line
    [line] = [line for line in result.stderr.splitlines() if "cannot fetch" in line and ENDLESS in line]
    assert line.endswith(": larger than its download limit (20 MB, DOWNLOAD_MAXSIZE): not archived"), line
    [line] = [line for line in result.stderr.splitlines() if "cannot fetch" in line and TO_FTP in line]
    assert line.endswith(": HTTP 301 to ftp://files.example.invalid/story.html, not followed (not an http or https "
                         "address)"), line


def test_each_sitemap_of_an_index_that_fails_is_one_line_of_ours_and_fails_no_seed(tmp_path, hostile_site):
    """The sitemap over its limit once decoded was said by Scrapy alone ("Ignored response <200 ...> because its
    body ... exceeded DOWNLOAD_MAXSIZE (52428800 B) during decompression."), without the source's name."""
    url = hostile_site
    result = run(tmp_path, f'sitemaps = ["{url}/sitemap-index.xml"]')
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    said = {path: [line.split("WARNING: ", 1)[-1] for line in lines if url + path in line]
            for path in (INDEXED_BOMB, INDEXED_GONE)}
    assert said == {
        INDEXED_BOMB: [f"hostile: cannot fetch {url}{INDEXED_BOMB}: over its download limit once decompressed "
                       "(50 MB, the sitemap protocol's): archived, not read"],
        INDEXED_GONE: [f"hostile: cannot fetch {url}{INDEXED_GONE}: HTTP 404"]}, result.stderr
    rows = [json.loads(line) for line in (tmp_path / "archive" / "corpus.jsonl").read_text().splitlines()]
    assert [row["url"] for row in rows] == [url + GOOD]
