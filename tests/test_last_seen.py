"""When each version was last seen online: the latest capture of its URL showing it, from the WARCs.

Real ``newsarchive run`` subprocesses against a one-story site on 127.0.0.1, real WARCs, real SQLite."""

from __future__ import annotations

import json
import sqlite3
import zlib
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pyarrow.parquet as pq
from warcio.archiveiterator import ArchiveIterator

from archive_fixtures import loopback_site, newsarchive
from test_incremental import write_config

from archive.warc_date import canonical_warc_date
from corpus.export import export_jsonl, export_parquet, read_corpus
from corpus.store import STORE_FILE, CorpusStore
from demo.farm import article_html

STORY_PATH = "/news/2026/12/harbour-wall-repairs.html"


class _StoryHandler(BaseHTTPRequestHandler):
    """A home page linking to one story whose page is ``story`` (set between runs); with ``etags``, each page
    carries an ETag and a request that sends it back gets 304 Not Modified."""

    story: bytes = b""
    etags: bool = False

    def do_GET(self) -> None:
        body = {"/robots.txt": b"User-agent: *\nAllow: /\n",
                "/": f'<html><body><a href="{STORY_PATH}">x</a></body></html>'.encode(),
                STORY_PATH: type(self).story}.get(self.path)
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        etag = '"%08x"' % zlib.crc32(body)
        if type(self).etags and self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if type(self).etags:
            self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def crawled(archive: Path, pages: list[bytes], etags: bool = False) -> str:
    """A run per page, the story refetched each run; the story's URL."""
    handler = type("Handler", (_StoryHandler,), {"story": pages[0], "etags": etags})
    with loopback_site(handler) as site:
        source = {"name": "story", "start_urls": [f"{site}/"], "refetch_after": 0.0001}
        config = write_config(None, archive / "sources.toml", archive, [source])
        for page in pages:
            handler.story = page
            result = newsarchive("run", "--config", str(config))
            assert result.returncode == 0, result.stderr
            assert "revisit of a payload in none" not in result.stderr, result.stderr
    return site + STORY_PATH


def story_captures(archive: Path, url: str) -> list[tuple[str, str, str]]:
    """(WARC-Date in the corpus's form, record type, HTTP status) of every capture of ``url``, in time order."""
    found = []
    for warc in sorted((archive / "warc").glob("*.warc.gz")):
        with open(warc, "rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type in ("response", "revisit") and record.rec_headers.get_header("WARC-Target-URI") == url:
                    found.append((canonical_warc_date(record.rec_headers.get_header("WARC-Date")), record.rec_type,
                                  record.http_headers.get_statuscode()))
    return sorted(found)


def exported(root: Path) -> list[dict]:
    """The rows of ``newsarchive export``'s JSON Lines of the corpus under ``root``."""
    with CorpusStore(root) as store:
        export_jsonl(store, root / "export.jsonl")
    return [json.loads(line) for line in (root / "export.jsonl").read_text(encoding="utf-8").splitlines()]


def rebuilt(archive: Path) -> list[dict]:
    """The exported rows of a rebuild of ``archive``'s WARCs."""
    warcs = sorted((archive / "warc").glob("*.warc.gz"))
    result = newsarchive("rebuild", "--warc", *map(str, warcs), "--out", str(archive / "rebuilt"))
    assert result.returncode == 0, result.stderr
    return exported(archive / "rebuilt")


def test_a_version_answered_304_later_was_last_seen_at_that_304_and_a_rebuild_says_the_same(tmp_path):
    """Before: the 304 was skipped by the reader, so nothing said the story was still online then."""
    url = crawled(tmp_path, [article_html(7)] * 2, etags=True)
    captures = story_captures(tmp_path, url)
    assert [(kind, status) for _, kind, status in captures] == [("response", "200"), ("revisit", "304")]
    [row] = [row for row in exported(tmp_path) if row["url"] == url]
    assert (row["fetched_at"], row["last_seen"]) == (captures[0][0], captures[1][0])
    assert [(row["url"], row["fetched_at"], row["last_seen"]) for row in rebuilt(tmp_path)] == \
        [(url, captures[0][0], captures[1][0])]
    assert "last_seen" not in read_corpus(tmp_path)[0]  # corpus.jsonl's lines do not change each run


def test_an_unchanged_page_fetched_again_moves_its_last_seen(tmp_path):
    """Before: the second fetch, a revisit of the same payload, made no row and left no trace in the corpus."""
    url = crawled(tmp_path, [article_html(7)] * 2)
    captures = story_captures(tmp_path, url)
    assert [kind for _, kind, _ in captures] == ["response", "revisit"]
    [row] = exported(tmp_path)
    assert (row["fetched_at"], row["last_seen"]) == (captures[0][0], captures[1][0])
    assert rebuilt(tmp_path) == [row]
    with CorpusStore(tmp_path) as store:
        export_parquet(store, tmp_path / "export.parquet")
    [typed] = pq.read_table(tmp_path / "export.parquet", columns=["last_seen"]).to_pylist()
    assert typed["last_seen"] == datetime.fromisoformat(captures[1][0])


def test_a_changed_articles_first_version_was_last_seen_at_its_last_capture_before_the_change(tmp_path):
    """A refetch whose page changed outside the text (a token) shows version 1 still; then the text changes.
    Before: no last_seen at all."""
    story = article_html(7)
    corrected = article_html(8).replace(b"<h1>", b"<h1>Corrected: ", 1)
    url = crawled(tmp_path, [story, story.replace(b"</body>", b"<!-- token --></body>"), corrected])
    captures = story_captures(tmp_path, url)
    assert len(captures) == 3
    rows = exported(tmp_path)
    assert [(row["version"], row["fetched_at"], row["last_seen"]) for row in rows] == [
        (1, captures[0][0], captures[1][0]), (2, captures[2][0], captures[2][0])]
    assert rebuilt(tmp_path) == rows


def test_a_store_from_before_last_seen_gets_it_from_its_captures_when_opened(tmp_path):
    """Before: a store of user_version 3 had no last_seen column; the export could not give one."""
    url = crawled(tmp_path, [article_html(7)] * 2)
    captures = story_captures(tmp_path, url)
    db = sqlite3.connect(tmp_path / STORE_FILE)
    if "last_seen" in {name for (_, name, *_) in db.execute("PRAGMA table_info(rows)")}:
        db.execute("ALTER TABLE rows DROP COLUMN last_seen")
    db.execute("PRAGMA user_version = 3")
    db.commit()
    db.close()
    [row] = exported(tmp_path)
    assert row["last_seen"] == captures[1][0]
    db = sqlite3.connect(tmp_path / STORE_FILE)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 4
    db.close()
