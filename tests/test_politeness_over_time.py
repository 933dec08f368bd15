"""Crawl-delay and Retry-After honoured by real crawls on loopback."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from archive_fixtures import loopback_site
from corpus.export import read_corpus
from crawler.politeness import retry_after_seconds
from demo.farm import article_html
from demo.site import DemoSite
from test_incremental import newsarchive, write_config


def test_retry_after_parses_seconds_and_dates():
    assert retry_after_seconds(b"120") == 120
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10
    assert retry_after_seconds(b"soon") is None and retry_after_seconds(None) is None


def test_crawl_delay_spaces_requests(tmp_path):
    with DemoSite(crawl_delay=0.4) as site:
        gazette = [source for source in site.sources() if source["name"] == "gazette"]
        config = write_config(site, tmp_path / "sources.toml", tmp_path, gazette, max_pages=6)
        assert newsarchive("run", "--config", str(config)).returncode == 0
        # The pages after robots.txt, which gives the delay: robots.txt's own arrival also waits for the
        # first connection's set-up, which made its gap to the next request look 0.07 s short under load.
        times = [request.time for request in site.requests if request.path != "/robots.txt"]
    assert len(times) >= 5
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert min(gaps) >= 0.38, gaps


class _Flaky(BaseHTTPRequestHandler):
    """``/`` answers 503 with ``Retry-After: <retry_after>`` the first ``failures`` times."""

    protocol_version = "HTTP/1.1"
    retry_after = "1"
    failures = 1
    log: list[tuple[str, float]] = []

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.log.append((self.path, time.time()))
        if self.path == "/robots.txt":
            status, body, extra = 200, b"User-agent: *\nAllow: /\n", {}
        elif sum(path == "/" for path, _ in self.log) <= self.failures:
            status, body, extra = 503, b"busy", {"Retry-After": self.retry_after}
        else:
            status, body, extra = 200, b"<html><body><p>Front page</p></body></html>", {}
        self.send_response(status)
        for name, value in {"Content-Type": "text/html", "Content-Length": str(len(body)), **extra}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def flaky() -> Iterator[tuple[str, type[_Flaky]]]:
    handler = type("Handler", (_Flaky,), {"log": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", handler
    server.shutdown()
    server.server_close()


def test_retry_after_is_waited_for(flaky, tmp_path):
    url, handler = flaky
    config = write_config(None, tmp_path / "sources.toml", tmp_path, [{"name": "flaky", "start_urls": [url]}])
    assert newsarchive("run", "--config", str(config)).returncode == 0
    home = [at for path, at in handler.log if path == "/"]
    assert len(home) == 2 and home[1] - home[0] >= 0.95


def test_retry_after_too_long_gives_up_without_retrying(flaky, tmp_path):
    url, handler = flaky
    handler.retry_after, handler.failures = "86400", 99
    config = write_config(None, tmp_path / "sources.toml", tmp_path, [{"name": "flaky", "start_urls": [url]}])
    result = newsarchive("run", "--config", str(config))
    assert result.returncode == 1
    assert [path for path, _ in handler.log].count("/") == 1


@pytest.mark.parametrize("retry_after, said", [
    ("7200", "HTTP 503, asked to retry after 2 h: longer than this run waits (10 min at most); tried again next run"),
    (formatdate(time.time() + 3 * 86400, usegmt=True), "asked to retry after 3 days"),
    ("Fri, 31 Dec 9999 23:59:59 GMT", "asked to retry after more than a year"),
])
def test_a_retry_after_too_long_to_wait_says_how_long_the_site_asked(flaky, tmp_path, retry_after, said):
    """The operator reads that the site asked to be left alone, and for how long, not a bare "HTTP 503"."""
    url, handler = flaky
    handler.retry_after, handler.failures = retry_after, 99
    config = write_config(None, tmp_path / "sources.toml", tmp_path, [{"name": "flaky", "start_urls": [url]}])
    result = newsarchive("run", "--config", str(config))
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if url in line]
    assert len(lines) == 1 and said in lines[0], result.stderr
    report = json.loads(next((tmp_path / "runs").glob("*.json")).read_text())
    assert said in report["sources"][0]["failures"][0]["reason"]


@pytest.mark.parametrize("retry_after", ["Wed, 21 Oct 2015 07:28:00 GMT", "soon", "-5"])
def test_a_past_or_unreadable_retry_after_is_retried_as_any_503(flaky, tmp_path, retry_after):
    url, handler = flaky
    handler.retry_after, handler.failures = retry_after, 1
    config = write_config(None, tmp_path / "sources.toml", tmp_path, [{"name": "flaky", "start_urls": [url]}])
    result = newsarchive("run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "retry after" not in result.stderr


class _AskingToBeLeftAlone(BaseHTTPRequestHandler):
    """A home page linking to ``STORIES`` stories; while ``busy``, every page after the home page answers 503 with
    ``Retry-After: 7200``.  Each story request is logged."""

    STORIES = 20
    busy = True
    log: list[str] = []

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        links = "".join(f'<a href="/news/2026/12/story-number-{n}.html">x</a>' for n in range(self.STORIES))
        status, body, extra = 200, {"/robots.txt": b"User-agent: *\nAllow: /\n",
                                    "/": f"<html><body>{links}</body></html>".encode()}.get(self.path), {}
        if body is None:
            self.log.append(self.path)
            if self.busy:
                status, body, extra = 503, b"busy", {"Retry-After": "7200"}
            else:
                body = article_html(int(self.path.rsplit("-", 1)[1].split(".")[0]))
        self.send_response(status)
        for name, value in {"Content-Type": "text/html", "Content-Length": str(len(body)), **extra}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def test_a_host_that_asks_to_be_left_alone_for_hours_gets_no_more_requests_that_run(tmp_path):
    """Before: each of the site's 20 stories was asked for, each answered the same 503 Retry-After: 7200, each
    a failure line; now the stories not yet sent are not sent, one line says so, and the next run takes them."""
    handler = type("Handler", (_AskingToBeLeftAlone,), {"log": []})
    with loopback_site(handler) as site:
        config = write_config(None, tmp_path / "sources.toml", tmp_path, [{"name": "busy", "start_urls": [f"{site}/"]}])
        first = newsarchive("run", "--config", str(config))
        sent = len(handler.log)
        assert sent <= 2, (handler.log, first.stderr)  # the first 503, and what was on its way as it came
        lines = [line.split("WARNING: ", 1)[1] for line in first.stderr.splitlines() if "left alone" in line]
        assert lines == [f"busy: 127.0.0.1 asked to be left alone for 2 h (HTTP 503 Retry-After): its {20 - sent}"
                         " other requests this run were not sent; tried again next run"], first.stderr
        assert f"failed fetches: {sent} (HTTP 503, asked to retry after 2 h" in first.stderr, first.stderr
        handler.busy = False
        second = newsarchive("run", "--config", str(config))
        assert second.returncode == 0, second.stderr
    assert len(read_corpus(tmp_path)) == 20, second.stderr
