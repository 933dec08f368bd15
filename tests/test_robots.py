"""What a robots.txt that gives no rules means (RFC 9309 §2.3.1): a 4xx allows everything; a 5xx, a
timeout or a dead host is "unreachable", so nothing of that host is fetched, and the run does not wait
on it.

Each test crawls a real site on 127.0.0.1 with ``newsarchive run`` and reads what the site was asked for.
"""

from __future__ import annotations

import base64
import functools
import gzip
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from archive_fixtures import loopback_site
from warcio.archiveiterator import ArchiveIterator

REPO = Path(__file__).resolve().parent.parent
STORY = "/2026/11/21/the-council-votes-on-the-harbour-plan.html"
RULES = "User-agent: *\nDisallow: /\n"
PRIVATE = "/private/2026/11/21/the-council-plans-in-secret.html"
BIG_RULES = "User-agent: *\nDisallow: /private/\n"


class RobotsSite(BaseHTTPRequestHandler):
    """A home page linking one story; robots.txt answers as ``robots`` says:

    - an HTTP status, its body ``RULES`` (which a 4xx page does not give);
    - ``"never"``: accepted, never answered; ``"dead"``: no request is ever answered;
    - ``"moved"``: a redirect to the robots.txt of ``localhost`` (this server under another host
      name), which disallows the story;
    - ``"elsewhere"``: the story is linked on ``localhost``, whose robots.txt is never answered;
    - ``"loop"``: a redirect to itself;
    - ``"1MB"``, ``"21MB"``: that large, all comments but ``BIG_RULES`` at its start and ``Disallow: /`` past
      its first 500 KiB; the home page also links ``PRIVATE``; ``"1MB chunked"``: sent in chunks, its length untold;
      ``"30MB gzip"``: 30 MB sent gzipped in a few KB; ``"30MB gzip noise"``: its comments random, 23 MB gzipped;
    - ``"mislabelled"``: ``BIG_RULES`` as they are, sent as gzip; the home page also links ``PRIVATE``;
    - ``"broken gzip corrupt"``, ``"broken gzip truncated"``: ``broken_gzip_robots``; the home page also links
      ``PRIVATE``.
    """

    protocol_version = "HTTP/1.1"
    robots = "never"
    requested: list[str]
    released: threading.Event

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.requested.append(self.path)
        on_localhost = self.headers["Host"].startswith("localhost")
        localhost = f"http://localhost:{self.server.server_address[1]}"
        if self.robots == "dead" or self.path == "/robots.txt" and (
                self.robots == "never" or self.robots == "elsewhere" and on_localhost):
            self.released.wait(60)
            self.close_connection = True
            return
        status, headers = 200, {}
        body = f'<html><body><a href="{localhost if self.robots == "elsewhere" else ""}{STORY}">The vote</a>'
        size, _, sending = self.robots.partition(" ")
        if size.endswith("MB") or self.robots == "mislabelled" or size == "broken":
            body += f'<a href="{PRIVATE}">The plan</a>'
        if self.path == "/robots.txt":
            if self.robots.isdigit():
                status, body = int(self.robots), RULES
            elif self.robots == "moved" and not on_localhost:
                status, body, headers = 301, "", {"Location": f"{localhost}/robots.txt"}
            elif self.robots == "loop":
                status, body, headers = 301, "", {"Location": "/robots.txt"}
            elif self.robots == "mislabelled":
                body, headers = BIG_RULES, {"Content-Encoding": "gzip"}
            elif size.endswith("MB"):
                comments = "# " + "x" * 97 + "\n"
                body = BIG_RULES + comments * 6000 + RULES + comments * (int(size[:-2]) * 10_000)

            else:
                body = f"User-agent: *\nDisallow: {STORY if self.robots == 'moved' else ''}\n"
        elif self.path == STORY:
            body = "<html><body><article><h1>Vote</h1>" + "<p>The council voted on the plan today.</p>" * 5
        data = body.encode()
        if sending.startswith("gzip") and self.path == "/robots.txt":
            data = (broken_gzip_robots(sending.split()[-1]) if size == "broken"
                    else gzipped_robots(int(size[:-2]), sending == "gzip noise"))
            headers["Content-Encoding"] = "gzip"
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain" if self.path == "/robots.txt" else "text/html")
        if sending == "chunked" and self.path == "/robots.txt":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(data), 65536):
                chunk = data[start:start + 65536]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@functools.cache
def gzipped_robots(megabytes: int, noise: bool) -> bytes:
    """A robots.txt of ``megabytes`` MB gzipped, as ``"1MB"`` (see RobotsSite) but its comments random with
    ``noise`` (23 MB gzipped for 30 MB)."""
    text = base64.b64encode(os.urandom(megabytes * 750_000)).decode() if noise else "x" * 97 * megabytes * 10_000
    comments = [f"# {text[at:at + 97]}\n" for at in range(0, len(text), 97)]
    body = BIG_RULES + "".join(comments[:6000]) + RULES + "".join(comments[6000:])
    return gzip.compress(body.encode(), 1 if noise else 9)


@functools.cache
def broken_gzip_robots(how: str) -> bytes:
    """``BIG_RULES``, 100 KB of random comments, ``RULES`` and as many comments, gzipped, then its gzip stream
    ``"truncated"`` or ``"corrupt"`` (random bytes) from 40% of its length on: ``RULES`` are past the break."""
    comments = "".join(f"# {base64.b64encode(os.urandom(72)).decode()}\n" for _ in range(1000))
    data = gzip.compress((BIG_RULES + comments + RULES + comments).encode())
    return data[:len(data) * 2 // 5] + (os.urandom(len(data) - len(data) * 2 // 5) if how == "corrupt" else b"")


def crawl(tmp_path: Path, robots: str, source: str = "") -> tuple[subprocess.CompletedProcess, list[str], float]:
    """A run over a site whose robots.txt answers as ``robots`` says, with 1 s timeouts; the paths asked
    for and how long the run took."""
    requested: list[str] = []
    released = threading.Event()
    handler = type("Site", (RobotsSite,), {"robots": robots, "requested": requested, "released": released})
    try:
        with loopback_site(handler) as base:
            config = tmp_path / "sources.toml"
            config.write_text(f'[archive]\ndir = "{tmp_path / "archive"}"\n\n[crawl]\ntimeout = 1\ndownload_delay = 0\n'
                              f'autothrottle = false\n\n[[sources]]\nname = "site"\nstart_urls = ["{base}/"]\n{source}\n',
                              encoding="utf-8")
            started = time.monotonic()
            result = subprocess.run([sys.executable, "-m", "cli", "run", "--config", str(config), "--no-extract"],
                                    capture_output=True, text=True, timeout=120, cwd=REPO)
            took = time.monotonic() - started
    finally:
        released.set()
    assert "Traceback" not in result.stderr, result.stderr
    return result, requested, took


@pytest.mark.parametrize(("robots", "allowed"), [("404", True), ("403", True), ("503", False), ("never", False)])
def test_a_robots_txt_that_gives_no_rules_allows_all_on_a_4xx_and_nothing_when_unreachable(tmp_path, robots, allowed):
    result, requested, _ = crawl(tmp_path, robots)
    pages = [path for path in requested if path != "/robots.txt"]
    if allowed:  # the error page's body is no rules
        assert result.returncode == 0, result.stderr
        assert pages == ["/", STORY]
    else:
        assert pages == []
        assert result.returncode == 1  # the source's start page could not be fetched
        said = [line for line in result.stderr.splitlines() if "robots.txt unreachable" in line]
        assert len(said) == 3, result.stderr  # the host's line, the start page's, the summary's
        assert "nothing is fetched from this host" in said[0] and "127.0.0.1:" in said[0], said


def test_a_dead_host_is_asked_only_for_its_robots_txt_and_does_not_hold_up_the_run(tmp_path):
    result, requested, took = crawl(tmp_path, "dead")
    assert result.returncode == 1
    assert set(requested) == {"/robots.txt"}, requested
    assert took < 30, f"{took:.0f} s"


def test_a_robots_txt_redirected_to_another_host_is_read_there(tmp_path):
    result, requested, _ = crawl(tmp_path, "moved")
    assert result.returncode == 0, result.stderr
    assert [path for path in requested if path != "/robots.txt"] == ["/"]


def test_a_robots_txt_whose_redirects_loop_is_unavailable_so_all_is_allowed_and_said(tmp_path):
    result, requested, _ = crawl(tmp_path, "loop")
    assert result.returncode == 0, result.stderr
    assert [path for path in requested if path != "/robots.txt"] == ["/", STORY]
    [said] = [line for line in result.stderr.splitlines() if "robots.txt" in line]
    assert said.endswith("robots.txt unavailable (max redirections reached): all allowed, as for a 404 "
                         "(RFC 9309 §2.3.1.2)") and "127.0.0.1:" in said, said


def test_pages_of_a_host_whose_robots_txt_is_unreachable_are_counted_as_failed_fetches(tmp_path):
    result, requested, _ = crawl(tmp_path, "elsewhere", 'allowed_domains = ["127.0.0.1", "localhost"]')
    assert result.returncode == 0, result.stderr
    assert STORY not in requested
    [summary] = [line for line in result.stdout.splitlines() if "failed fetches" in line] or [result.stdout + result.stderr]
    assert "failed fetches: 1 (robots.txt unreachable (" in summary, summary


@pytest.mark.parametrize(("robots", "pages"), [("503", 0), ("404", 2)])
def test_the_runs_fetched_figure_counts_the_sites_pages_not_robots_txt_or_its_retries(tmp_path, robots, pages):
    """Before: "3 fetched" for a site whose robots.txt answered 503 thrice (Scrapy's retries) and that gave no page."""
    result, requested, _ = crawl(tmp_path, robots)
    assert len([path for path in requested if path != "/robots.txt"]) == pages, requested
    [counts] = [line for line in result.stderr.splitlines() if line.endswith(" s") and " fetched, " in line] or [
        result.stderr]
    assert counts.startswith(f"  {pages} fetched, "), counts
    [report] = (tmp_path / "archive" / "runs").glob("*.json")
    assert json.loads(report.read_text())["sources"][0]["fetched"] == pages


@pytest.mark.parametrize("size", ["1MB", "21MB", "1MB chunked", "30MB gzip", "30MB gzip noise"])
def test_a_robots_txt_over_500_kib_is_obeyed_as_far_as_500_kib_and_said_once(tmp_path, size):
    """RFC 9309 §2.5: its first 500 KiB are read and followed; Disallow: / past them is not, nor is the host shut out.

    21 MB, and 30 MB gzipped as noise (23 MB sent), are over the 20 MB download limit as sent, 30 MB gzipped in a
    few KB once decoded: Scrapy cancelled them, and the host was unreachable."""
    megabytes, _, sending = size.partition("MB ")
    if sending.startswith("gzip"):  # made before the run's 1 s timeout starts
        sent = len(gzipped_robots(int(megabytes), sending == "gzip noise"))
        assert sent > 20 << 20 if "noise" in size else sent < 200_000
    result, requested, _ = crawl(tmp_path, size)
    assert result.returncode == 0, result.stderr
    assert [path for path in requested if path != "/robots.txt"] == ["/", STORY]
    said = [line for line in result.stderr.splitlines() if "robots.txt" in line]
    assert len(said) == 1, result.stderr
    assert said[0].endswith("robots.txt larger than 500 KiB: its rules that far are followed, the rest is not read "
                         "(RFC 9309 §2.5)") and "127.0.0.1:" in said[0], said
    [warc] = (tmp_path / "archive" / "warc").glob("*.warc.gz")
    with warc.open("rb") as stream:  # archived as far as it was read, and said to be cut there
        kept = [(record.rec_headers["WARC-Truncated"], len(record.content_stream().read()))
                for record in ArchiveIterator(stream)
                if record.rec_type == "response" and record.rec_headers["WARC-Target-URI"].endswith("/robots.txt")]
    if size == "30MB gzip":  # all of it came
        assert kept == [(None, 30 * 10_000 * 100 + len(BIG_RULES + RULES))], kept
    else:
        assert len(kept) == 1 and kept[0][0] == "length" and 500 * 1024 < kept[0][1] < 2**20, kept


def test_a_robots_txt_sent_as_gzip_that_is_not_is_read_as_it_came_and_said(tmp_path):
    """RFC 9309 §2.3.1.1: a file had is followed as far as it parses.  Before, Scrapy's gunzip failed on it and the
    host was unreachable: nothing of it fetched."""
    result, requested, _ = crawl(tmp_path, "mislabelled")
    assert result.returncode == 0, result.stderr
    assert [path for path in requested if path != "/robots.txt"] == ["/", STORY]
    [said] = [line for line in result.stderr.splitlines() if "robots.txt" in line] or [result.stderr]
    assert said.endswith("robots.txt is not gzip as its Content-Encoding says: read as it came, its parseable rules "
                         "followed (RFC 9309 §2.3.1.1)") and "127.0.0.1:" in said, said


@pytest.mark.parametrize("how", ["corrupt", "truncated"])
def test_a_gzip_robots_txt_broken_partway_is_obeyed_as_far_as_it_decodes_and_said_once(tmp_path, how):
    """Before, a corrupt one printed zlib's "Error -3 while decompressing data" for each block left, a truncated one
    nothing, and neither said the rules were only those before the break."""
    result, requested, _ = crawl(tmp_path, f"broken gzip {how}")
    assert result.returncode == 0, result.stderr
    assert [path for path in requested if path != "/robots.txt"] == ["/", STORY]  # BIG_RULES obeyed, RULES not
    said = [line for line in result.stderr.splitlines() if "robots.txt" in line or "rror" in line]
    assert len(said) == 1, result.stderr
    assert " site: 127.0.0.1:" in said[0] and ": robots.txt breaks after " in said[0], said
    assert " bytes decoded (gzip: " in said[0] and said[0].endswith(
        "): its rules that far are followed, the rest is not read (RFC 9309 §2.3.1.1)"), said
    [warc] = (tmp_path / "archive" / "warc").glob("*.warc.gz")
    with warc.open("rb") as stream:  # archived as it came
        [kept] = [record.raw_stream.read() for record in ArchiveIterator(stream)
                  if record.rec_type == "response" and record.rec_headers["WARC-Target-URI"].endswith("/robots.txt")]
    assert kept == broken_gzip_robots(how)
