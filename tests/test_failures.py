"""One source failing never costs the others their archive."""

from __future__ import annotations

import base64
import gzip
import json
import os
import resource
import subprocess
import sys
from http.server import BaseHTTPRequestHandler

import pytest
from archive_fixtures import assert_warcio_check, free_port, loopback_site
from warcio.archiveiterator import ArchiveIterator

from demo.run import write_demo_config
from demo.site import DemoSite


def test_dead_host_makes_run_exit_1_while_other_sources_are_written(tmp_path):
    dead = {"name": "deadhost", "start_urls": [f"http://127.0.0.1:{free_port()}/"], "schedule": "0 * * * *"}
    with DemoSite() as site:
        config = write_demo_config(site, tmp_path)
        text = config.read_text()
        config.write_text(text.replace("\n[crawl]", f'\n[[sources]]\nname = "deadhost"\n'
                                       f'start_urls = {json.dumps(dead["start_urls"])}\n\n[crawl]', 1)
                          + "timeout = 5\n")
        result = subprocess.run([sys.executable, "-m", "cli", "run", "--config", str(config)],
                                capture_output=True, text=True, timeout=180)
    assert result.returncode == 1, result.stderr
    assert "deadhost" in result.stderr and "FAILED" in result.stderr
    rows = [json.loads(line) for line in (tmp_path / "corpus.jsonl").read_text().splitlines()]
    assert {"gazette", "herald", "courier"} == {row["source"] for row in rows}
    assert not list((tmp_path / "warc").glob("*.open"))


def test_a_url_that_cannot_be_fetched_is_one_line_and_one_entry_of_the_report_with_its_reason(tmp_path):
    port = free_port()
    urls = [f"http://127.0.0.1:{port}/{path}" for path in ("", "a", "b")]
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{tmp_path}"\n\n[crawl]\ndownload_delay = 0\nautothrottle = false\n'
                      f'timeout = 5\n\n[[sources]]\nname = "deadhost"\nstart_urls = {json.dumps(urls)}\n',
                      encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "cli", "run", "--config", str(config)],
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    for url in urls:  # once each, after the retries, saying why
        assert len([line for line in result.stderr.splitlines() if url + ":" in line]) == 1, result.stderr
    # + robots.txt, then the summary: the source and why it failed, its counts, its failed fetches, the report
    assert len(result.stderr.splitlines()) <= len(urls) + 5, result.stderr
    [report] = [json.loads(path.read_text()) for path in (tmp_path / "runs").glob("*.json")]
    [source] = report["sources"]
    assert source["failed_fetches"] == 3
    assert [failure["url"] for failure in source["failures"]] == urls
    assert all("refused" in failure["reason"] for failure in source["failures"])


FILE_SIZE_LIMIT = 1 << 20
BIG_STORY = "/2026/11/21/the-whole-budget-line-by-line.html"


class _BigStoryHandler(BaseHTTPRequestHandler):
    """A home page linking to one article too big (incompressible, 2 MB) for a 1 MB file size limit."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/":
            body = f'<html><body><h1>Budget</h1><a href="{BIG_STORY}">The whole budget</a></body></html>'.encode()
        elif self.path == BIG_STORY:
            body = b"<html><body><h1>The whole budget</h1><p>" + base64.b64encode(os.urandom(1_500_000)) + b"</p>"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_fetches_that_cannot_be_archived_fail_their_source_and_leave_its_warc_readable(tmp_path):
    """A WARC that cannot grow (here RLIMIT_FSIZE; a full disk alike) loses no record already written."""
    with DemoSite() as site, loopback_site(_BigStoryHandler) as bulky_url:
        config = write_demo_config(site, tmp_path)
        config.write_text(config.read_text().replace(
            "\n[crawl]", f'\n[[sources]]\nname = "bulky"\nstart_urls = ["{bulky_url}/"]\n\n[crawl]', 1))
        result = subprocess.run(
            [sys.executable, "-m", "cli", "run", "--config", str(config)], capture_output=True, text=True,
            timeout=180, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT,) * 2))
    assert result.returncode == 1, result.stderr
    assert "bulky: FAILED: 1 fetches could not be archived" in result.stderr
    rows = [json.loads(line) for line in (tmp_path / "corpus.jsonl").read_text().splitlines()]
    assert {"gazette", "herald", "courier"} == {row["source"] for row in rows}
    assert not list((tmp_path / "warc").glob("*.open"))
    bulky_warcs = sorted((tmp_path / "warc").glob("*-bulky-*.warc.gz"))
    assert bulky_warcs
    assert_warcio_check(bulky_warcs)
    captured = []
    for warc in bulky_warcs:
        gzip.decompress(warc.read_bytes())  # EOFError if the file ends in a torn member
        with warc.open("rb") as stream:
            captured += [(record.rec_type, record.rec_headers.get_header("WARC-Target-URI"))
                         for record in ArchiveIterator(stream)]
    assert ("response", f"{bulky_url}/") in captured
    assert ("response", f"{bulky_url}/robots.txt") in captured
    assert not [uri for _, uri in captured if uri and uri.endswith(BIG_STORY)]


@pytest.mark.parametrize("blocked", ["warc", "state"])
def test_an_archive_directory_that_cannot_be_made_exits_2_naming_the_config_and_the_path(tmp_path, blocked):
    (tmp_path / blocked).write_text("a file where the directory should be")
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "."\n\n[[sources]]\nname = "news"\n'
                      f'start_urls = ["http://127.0.0.1:{free_port()}/"]\n', encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "cli", "run", "--config", str(config)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert f"{config}: [archive] dir: cannot create {tmp_path / blocked}" in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / blocked).read_text() == "a file where the directory should be"


LONG_LINE = "/2026/11/21/one-very-long-line-story.html"
NUL_TYPE = "/2026/11/21/a-nul-in-the-content-type.html"
LONG_URL = "/2026/11/21/" + "a-" * 4000 + "story.html"
STORY = "".join("<p>A sentence of a story that is told in words, and more words follow it here.</p>" * 10)


class _OddPagesHandler(BaseHTTPRequestHandler):
    """A home page linking a 5 MB one-line article, one with a NUL in its Content-Type and an 8,000-character URL."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        kind = "text/html; charset=utf-8"
        if self.path == "/robots.txt":
            body = b"User-agent: *\nAllow: /\n"
        elif self.path == "/":
            body = "".join(f'<a href="{path}">story</a>' for path in (LONG_LINE, NUL_TYPE, LONG_URL)).encode()
        elif self.path == LONG_LINE:
            body = b"<html><body><article><h1>Long</h1><p>" + b"word " * 1_000_000 + b"</p></article></body></html>"
        else:
            kind = "text/html\x00; charset=utf-8"
            body = f"<html><body><article><h1>Nul</h1>{STORY}</article></body></html>".encode()
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_an_article_page_archived_but_not_extracted_or_not_fetched_says_why_in_the_log_and_the_report(tmp_path):
    with loopback_site(_OddPagesHandler) as base:
        config = tmp_path / "sources.toml"
        config.write_text(f'[archive]\ndir = "{tmp_path}"\n\n[crawl]\ndownload_delay = 0\nautothrottle = false\n\n'
                          f'[[sources]]\nname = "odd"\nstart_urls = ["{base}/"]\n', encoding="utf-8")
        result = subprocess.run([sys.executable, "-m", "cli", "run", "--config", str(config)],
                                capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    [report] = [json.loads(path.read_text()) for path in (tmp_path / "runs").glob("*.json")]
    [source] = report["sources"]
    said = {(base + LONG_LINE): "page too large", (base + NUL_TYPE): "not an HTML page",
            (base + LONG_URL)[:100]: "over URLLENGTH_LIMIT"}
    for url, reason in said.items():
        [line] = [line for line in result.stderr.splitlines() if url in line]
        assert reason in line
    reported = report["corpus"]["not_extracted"] + source["not_extracted"] + source["failures"]
    assert sorted((page["url"][:100], reason) for page in reported for reason in said.values()
                  if reason in page["reason"]) == sorted(said.items())
