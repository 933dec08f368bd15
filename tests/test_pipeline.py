"""`newsarchive run` end to end against the demo sites: WARCs, text files and corpus.jsonl."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typing import NamedTuple
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders

from demo.run import write_demo_config
from demo.site import DemoSite


def newsarchive(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, timeout=timeout)


class Record(NamedTuple):
    warc: Path
    offset: int
    kind: str
    headers: StatusAndHeaders
    http: StatusAndHeaders | None
    payload: bytes  # raw: still content-encoded


def records(warc: Path) -> list[Record]:
    out = []
    with open(warc, "rb") as stream:
        iterator = ArchiveIterator(stream)
        for record in iterator:
            payload = record.raw_stream.read()
            out.append(Record(warc, iterator.get_record_offset(), record.rec_type, record.rec_headers,
                              record.http_headers, payload))
    return out


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    """One run over the three demo sites, shared by the tests that only read its output."""
    out = tmp_path_factory.mktemp("archive")
    with DemoSite() as site:
        config = write_demo_config(site, out)
        result = newsarchive("run", "--config", str(config))
        logged = list(site.requests)
    assert result.returncode == 0, result.stderr
    warcs = sorted((out / "warc").glob("*.warc.gz"))
    return {"out": out, "site": site, "result": result, "requests": logged, "warcs": warcs,
            "records": [record for warc in warcs for record in records(warc)]}


def responses(crawl):
    return [r for r in crawl["records"] if r.kind == "response"]


def test_warcs_pass_warcio_check(crawl):
    assert crawl["warcs"], "no WARC written"
    check = subprocess.run([Path(sys.executable).parent / "warcio", "check", "-v", *map(str, crawl["warcs"])],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest pass" in check.stdout


def test_warc_files_are_named_closed_and_start_with_warcinfo(crawl):
    assert not list((crawl["out"] / "warc").glob("*.open"))
    for warc in crawl["warcs"]:
        assert re.fullmatch(r"newsarchive-[a-z]+-\d{17}-\d{5}-[\w-]+\.warc\.gz", warc.name), warc.name
        first = records(warc)[0]
        assert first.kind == "warcinfo"
        assert first.headers.get_header("WARC-Filename") == warc.name
        assert b"newsarchive-source: " in first.payload
        assert first.headers.protocol == "WARC/1.1"


def test_every_request_the_server_saw_has_request_and_response_records(crawl):
    # A payload archived before (e.g. identical robots.txt files) is stored as a revisit record.
    captures = [r for r in crawl["records"] if r.kind in ("response", "revisit")]
    seen = {r.headers.get_header("WARC-Target-URI") for r in captures}
    by_id = {r.headers.get_header("WARC-Record-ID"): r for r in crawl["records"]}
    for logged in crawl["requests"]:
        url = crawl["site"].url(logged.site, logged.path)
        assert url in seen, f"{url} was fetched but not archived"
    for record in crawl["records"]:
        if record.kind in ("request", "metadata"):
            parent = by_id[record.headers.get_header("WARC-Concurrent-To")]
            assert parent.kind in ("response", "revisit")
            assert parent.headers.get_header("WARC-Date") == record.headers.get_header("WARC-Date")
        if record.kind != "warcinfo":
            assert record.headers.get_header("WARC-Warcinfo-ID")
    kinds = [r.kind for r in crawl["records"]]
    assert kinds.count("request") == len(captures)


def test_gzip_page_is_stored_compressed_with_its_content_encoding(crawl):
    gzipped = [r for r in responses(crawl) if r.http.get_header("Content-Encoding") == "gzip"]
    assert gzipped, "the demo serves gzip pages"
    for record in gzipped:
        assert record.payload[:2] == b"\x1f\x8b"
        assert gzip.decompress(record.payload)
        assert record.http.get_header("Content-Length") == str(len(record.payload))
        assert record.headers.get_header("WARC-IP-Address") == "127.0.0.1"


def test_chunked_page_is_stored_dechunked_with_a_true_content_length(crawl):
    for record in responses(crawl):
        assert record.http.get_header("Transfer-Encoding") is None
        assert record.http.get_header("Content-Length") == str(len(record.payload))


def test_redirect_hop_robots_and_404_are_archived(crawl):
    statuses = {(r.headers.get_header("WARC-Target-URI"), r.http.get_statuscode()) for r in responses(crawl)}
    redirects = [r for r in responses(crawl) if r.http.get_statuscode() == "301"]
    assert redirects and redirects[0].http.get_header("Location")
    assert any(url.endswith("/robots.txt") for url, _ in statuses)
    assert any(status == "404" for _, status in statuses)


def test_text_files_have_the_seed_format(crawl):
    texts = sorted((crawl["out"] / "text").rglob("*.txt"))
    assert len(texts) >= 10
    for path in texts:
        assert re.fullmatch(r"[0-9a-f]{16}\.txt", path.name)
        text = path.read_text(encoding="utf-8")
        assert text.endswith("\n") and not text.endswith("\n\n")
        headline, blank, *rest = text.split("\n")
        assert headline.strip() and blank == "" and rest
        for paragraph in text.strip().split("\n\n")[1:]:
            assert paragraph.strip() == paragraph and "\n" not in paragraph
            assert not paragraph.startswith(("- ", "# ", "| ", "* "))


def test_corpus_rows_point_at_the_article_records(crawl):
    out = crawl["out"]
    rows = [json.loads(line) for line in (out / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(list((out / "text").rglob("*.txt")))
    for row in rows:
        with open(out / "warc" / row["warc_file"], "rb") as stream:
            stream.seek(row["warc_offset"])
            record = next(iter(ArchiveIterator(stream)))
            assert record.rec_type == "response"
            assert record.rec_headers.get_header("WARC-Record-ID") == row["warc_record_id"]
            assert record.rec_headers.get_header("WARC-Target-URI") == row["url"]
            assert record.rec_headers.get_header("WARC-Payload-Digest") == row["payload_digest"]
        text = (out / row["text_path"]).read_text(encoding="utf-8")
        assert text.split("\n", 1)[0] == row["title"]
        assert row["date"] and re.match(r"\d{4}-\d\d-\d\d", row["date"])
        assert row["extractor"] and row["source"] in ("gazette", "herald", "courier")


def test_pages_that_are_not_articles_are_archived_but_not_extracted(crawl):
    rows = [json.loads(line) for line in (crawl["out"] / "corpus.jsonl").read_text().splitlines()]
    extracted = {row["url"] for row in rows}
    archived = {r.headers.get_header("WARC-Target-URI") for r in responses(crawl)}
    for url in archived:
        path = urlsplit(url).path
        if path in ("/", "/robots.txt", "/about") or path.endswith((".xml", ".pdf", ".png")) or "/section/" in path:
            assert url not in extracted
    assert any(url.endswith(".pdf") for url in archived)
    assert any(url.endswith(".png") for url in archived)
    site = crawl["site"]
    articles = {url for name in site.base_urls for url in site.article_urls(name)}
    assert extracted <= articles | {url.rstrip("/") for url in articles}


def test_a_second_run_writes_new_warc_files(crawl):
    before = set(crawl["warcs"])
    with DemoSite() as site:
        config = write_demo_config(site, crawl["out"])
        assert newsarchive("run", "--config", str(config), "--source", "gazette").returncode == 0
    after = set((crawl["out"] / "warc").glob("*.warc.gz"))
    assert before < after
    for warc in before:
        assert warc.exists()
