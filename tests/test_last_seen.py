"""When each version was last seen online: the latest capture of its URL showing it, from the WARCs.

Real ``newsarchive run`` subprocesses against a one-story site on 127.0.0.1, real WARCs, real SQLite."""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import zlib
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive_fixtures import loopback_site, newsarchive
from test_incremental import ROOT, write_config
from test_interruptions import session_processes, wait_for

from archive.warc_date import canonical_warc_date
from browse.corpus_view import article, page_id
from corpus.export import export_jsonl, export_parquet, read_corpus
from corpus.store import STORE_FILE, CorpusStore
from demo.farm import article_html

STORY_PATH = "/news/2026/12/harbour-wall-repairs.html"


class _StoryHandler(BaseHTTPRequestHandler):
    """A home page linking to one story whose page is ``story`` (set between runs); with ``etags``, each page
    carries an ETag and a request that sends it back gets 304 Not Modified."""

    story: bytes = b""
    etags: bool = False
    paths: tuple[str, ...] = (STORY_PATH,)  # the story's addresses

    def do_GET(self) -> None:
        links = "".join(f'<a href="{path}">x</a>' for path in self.paths)
        body = {"/robots.txt": b"User-agent: *\nAllow: /\n", "/": f"<html><body>{links}</body></html>".encode(),
                **dict.fromkeys(self.paths, type(self).story)}.get(self.path)
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


def crawled(archive: Path, pages: list[bytes], etags: bool = False, paths: tuple[str, ...] = (STORY_PATH,),
            runs: list | None = None) -> str:
    """A run per page, the story (at each of ``paths``) refetched each run; the story's (first) URL.  Each run's
    result is appended to ``runs``, if given."""
    handler = type("Handler", (_StoryHandler,), {"story": pages[0], "etags": etags, "paths": paths})
    with loopback_site(handler) as site:
        source = {"name": "story", "start_urls": [f"{site}/"], "refetch_after": 0.0001}
        config = write_config(None, archive / "sources.toml", archive, [source])
        for page in pages:
            handler.story = page
            result = newsarchive("run", "--config", str(config))
            assert result.returncode == 0, result.stderr
            assert "revisit of a payload in none" not in result.stderr, result.stderr
            if runs is not None:
                runs.append(result)
    return site + paths[0]


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


def not_modified_record(writer: WARCWriter, kind: str, url: str, date: str, refers_to_date: str = ""):
    """Another tool's 304 for ``url`` at ``date``: wget's ``response`` record of status 304, or a server-not-modified
    ``revisit`` (Heritrix's WARC 1.0 profile naming the capture it confirms; pywb's and Browsertrix's 1.1 one)."""
    headers = StatusAndHeaders("304 Not Modified", [("ETag", '"abc"')], protocol="HTTP/1.1")
    if kind == "response":
        return writer.create_warc_record(url, "response", payload=io.BytesIO(b""), length=0, http_headers=headers,
                                         warc_headers_dict={"WARC-Date": date})
    profile = f"http://netpreserve.org/warc/{kind}/revisit/server-not-modified"
    record = writer.create_warc_record(url, "revisit", payload=io.BytesIO(b""), length=0, http_headers=headers,
                                       warc_headers_dict={"WARC-Date": date, "WARC-Profile": profile})
    if refers_to_date:
        record.rec_headers.add_header("WARC-Refers-To-Target-URI", url)
        record.rec_headers.add_header("WARC-Refers-To-Date", refers_to_date)
    return record


def foreign_warc(path: Path, records: list) -> Path:
    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for make in records:
            writer.write_record(make(writer))
    return path


def foreign_response(writer: WARCWriter, url: str, body: bytes, date: str):
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                          ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
    return writer.create_warc_record(url, "response", payload=io.BytesIO(body), length=len(body), http_headers=headers,
                                     warc_headers_dict={"WARC-Date": date})


FOREIGN_URL = "http://news.example/2026/10/harbour-wall"
DAYS = [f"2026-10-0{day}T08:00:00Z" for day in range(1, 7)]


@pytest.mark.parametrize("kind", ["response", "1.0", "1.1"])
def test_another_tools_304s_move_the_last_seen_of_the_version_they_confirm(kind, tmp_path):
    """Version 1 on day 1, a 304 naming it (Refers-To-Date) on day 2, version 2 on day 3, a 304 naming nothing on
    day 4 (the URL's latest): version 1 was last seen on day 2, version 2 on day 4; a 304 for a URL the corpus
    does not hold is skipped as before.  Before: every other tool's 304 was skipped, each version seen once."""
    first, changed = article_html(7), article_html(8).replace(b"<h1>", b"<h1>Corrected: ", 1)
    pages = foreign_warc(tmp_path / "pages.warc.gz", [
        lambda w: foreign_response(w, FOREIGN_URL, first, DAYS[0]),
        lambda w: foreign_response(w, FOREIGN_URL, changed, DAYS[2])])
    refers = DAYS[0] if kind != "response" else ""  # (wget's records name no capture: the latest is the one)
    not_modified = foreign_warc(tmp_path / "not-modified.warc.gz", [
        lambda w: not_modified_record(w, kind, FOREIGN_URL, DAYS[1], refers),
        lambda w: not_modified_record(w, kind, FOREIGN_URL, DAYS[3]),
        lambda w: not_modified_record(w, kind, "http://news.example/2026/10/never-archived", DAYS[4])])
    result = newsarchive("rebuild", "--warc", str(pages), str(not_modified), "--out", str(tmp_path / "rebuilt"))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "3 not-modified confirmations, 1 for a capture not in the archive yet" in result.stderr, result.stderr
    expected = [(1, canonical_warc_date(DAYS[0]), canonical_warc_date(DAYS[1])),
                (2, canonical_warc_date(DAYS[2]), canonical_warc_date(DAYS[3]))]
    assert [(row["version"], row["fetched_at"], row["last_seen"]) for row in exported(tmp_path / "rebuilt")] == expected


def test_another_tools_304_imported_later_moves_the_last_seen_of_a_version_in_the_archive(tmp_path):
    """Our run archived the story; a Heritrix WARC with a 304 naming that capture is imported afterwards.
    Before: the import skipped it, the version's last_seen stayed at our capture."""
    url = crawled(tmp_path, [article_html(7)])
    [(captured, _, _)] = story_captures(tmp_path, url)
    later = "2030-01-01T00:00:00Z"
    heritrix = foreign_warc(tmp_path / "heritrix.warc.gz",
                            [lambda w: not_modified_record(w, "1.0", url, later, captured)])
    result = newsarchive("import", "--config", str(tmp_path / "sources.toml"), str(heritrix))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    [row] = exported(tmp_path)
    assert (row["fetched_at"], row["last_seen"]) == (captured, canonical_warc_date(later))


@pytest.mark.parametrize("etags", [True, False], ids=["304", "same-bytes"])
def test_a_story_at_a_second_address_is_extracted_once_not_again_each_run(etags, tmp_path):
    """The story at two addresses, unchanged over three runs: its second address's text is made from the first's
    payload once; the later runs' captures there (304s, or revisits of the same bytes) only move its last_seen.
    Before: run 2 and run 3 each extracted it again (1 extraction a run), and stored its document again."""
    second = "/amp/harbour-wall-repairs.html"
    url = crawled(tmp_path, [article_html(7)] * 3, etags=etags, paths=(STORY_PATH, second))
    db = sqlite3.connect(tmp_path / STORE_FILE)
    extracted = dict(db.execute("SELECT warc_file, SUM(document IS NOT NULL) FROM captures GROUP BY warc_file"))
    db.close()
    assert [extracted[name] for name in sorted(extracted)] == [2, 0, 0]  # the run's WARC names sort in time
    last = {address: story_captures(tmp_path, address)[-1][0] for address in (url, url.replace(STORY_PATH, second))}
    rows = exported(tmp_path)
    assert {row["url"]: (row["version"], row["last_seen"]) for row in rows} == \
        {address: (1, seen) for address, seen in last.items()}
    assert rebuilt(tmp_path) == rows


def test_another_tools_304_naming_an_older_version_makes_that_text_current_again(tmp_path):
    """Version 1 on day 1, version 2 on day 3, then a Heritrix 304 on day 4 naming the day-1 capture: the client sent
    version 1's validators and the server said it is still what it serves, so on day 4 the page shows version 1's
    text again, as a refetch of version 1's bytes would: a third version with that text, first and last seen on day 4;
    versions 1 and 2 keep their spans, and browse shows the third as the latest."""
    first, changed = article_html(7), article_html(8).replace(b"<h1>", b"<h1>Corrected: ", 1)
    pages = foreign_warc(tmp_path / "pages.warc.gz", [
        lambda w: foreign_response(w, FOREIGN_URL, first, DAYS[0]),
        lambda w: foreign_response(w, FOREIGN_URL, changed, DAYS[2])])
    heritrix = foreign_warc(tmp_path / "heritrix.warc.gz",
                            [lambda w: not_modified_record(w, "1.0", FOREIGN_URL, DAYS[3], DAYS[0])])
    result = newsarchive("rebuild", "--warc", str(pages), str(heritrix), "--out", str(tmp_path / "rebuilt"))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    rows = exported(tmp_path / "rebuilt")
    day = [canonical_warc_date(date) for date in DAYS]
    assert [(row["version"], row["fetched_at"], row["last_seen"]) for row in rows] == \
        [(1, day[0], day[0]), (2, day[2], day[2]), (3, day[3], day[3])]
    assert rows[2]["text"] == rows[0]["text"] != rows[1]["text"]
    db = sqlite3.connect(tmp_path / "rebuilt" / STORE_FILE)
    shown = article(db, tmp_path / "rebuilt", page_id(rows[0]["warc_record_id"]))
    db.close()
    assert (shown["latest_version"]["version"], shown["latest_version"]["last_seen"]) == (3, day[3])


def file_line(stderr: str, stem: str) -> str:
    [line] = [line for line in stderr.splitlines() if line.startswith(stem)]
    return line


def test_another_tools_304s_imported_before_the_captures_they_confirm_move_their_last_seen_once_they_come(tmp_path):
    """A Heritrix WARC of 304s is imported first (one naming the day-1 capture, one naming none on day 4, one for a
    URL never archived); the pages come in a later import, killed partway and derived again, then derived once more:
    version 1 was last seen on day 2, version 2 on day 4, as a rebuild of the same WARCs says, each 304 counted once.
    Before: the first import counted them `3 HTTP 304` and they were lost, each version last seen at its capture."""
    archive = tmp_path / "archive"
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{archive}"\n')
    not_modified = foreign_warc(tmp_path / "a-heritrix.warc.gz", [
        lambda w: not_modified_record(w, "1.0", FOREIGN_URL, DAYS[1], DAYS[0]),
        lambda w: not_modified_record(w, "1.0", FOREIGN_URL, DAYS[3]),
        lambda w: not_modified_record(w, "1.0", "http://news.example/2026/10/never-archived", DAYS[4])])
    first = newsarchive("import", "--config", str(config), str(not_modified))
    assert first.returncode == 0 and "Traceback" not in first.stderr, first.stderr
    assert "3 not-modified confirmations, 3 for captures not in the archive yet" in file_line(first.stderr, "a-heritrix-")

    story, changed = article_html(7), article_html(8).replace(b"<h1>", b"<h1>Corrected: ", 1)
    others = [lambda w, n=n: foreign_response(w, f"http://news.example/2026/10/other-{n}", article_html(20 + n),
                                              DAYS[0]) for n in range(40)]
    pages = [foreign_warc(tmp_path / "b-pages.warc.gz", others[:20]),
             foreign_warc(tmp_path / "c-pages.warc.gz", [lambda w: foreign_response(w, FOREIGN_URL, story, DAYS[0]),
                                                         lambda w: foreign_response(w, FOREIGN_URL, changed, DAYS[2])]),
             foreign_warc(tmp_path / "d-pages.warc.gz", others[20:])]
    killed = subprocess.Popen([sys.executable, "-m", "cli", "import", "--config", str(config), *map(str, pages)],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:  # killed once the first pages are in the corpus, the story's perhaps not yet
        assert wait_for(lambda: killed.poll() is not None or len(list(archive.glob("text/**/*.txt"))) >= 5)
        assert killed.poll() is None, "imported before it could be killed"
    finally:
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait()
    assert wait_for(lambda: not session_processes(killed.pid), timeout=10), session_processes(killed.pid)
    again = newsarchive("derive", "--config", str(config))
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
    assert newsarchive("derive", "--config", str(config)).returncode == 0  # nothing left, nothing counted twice

    day = [canonical_warc_date(date) for date in DAYS]
    rows = exported(archive)
    assert [(row["version"], row["fetched_at"], row["last_seen"]) for row in rows if row["url"] == FOREIGN_URL] == \
        [(1, day[0], day[1]), (2, day[2], day[3])]
    assert len(rows) == 42
    assert rebuilt(archive) == rows


def test_the_file_lines_say_how_many_304s_confirm_a_capture_and_how_many_wait_for_theirs(tmp_path):
    """Two 304s imported before their pages, then the pages: the first import's line says both wait for captures
    not in the archive, the second's says they were taken then.  Before: `skipped: 2 HTTP 304`, then nothing."""
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{tmp_path / "archive"}"\n')
    not_modified = foreign_warc(tmp_path / "a-heritrix.warc.gz", [
        lambda w: not_modified_record(w, "1.0", FOREIGN_URL, DAYS[1], DAYS[0]),
        lambda w: not_modified_record(w, "1.1", FOREIGN_URL, DAYS[3])])
    first = newsarchive("import", "--config", str(config), str(not_modified))
    assert file_line(first.stderr, "a-heritrix-").endswith(
        ": 2 records, 0 HTML pages, 0 articles; 2 not-modified confirmations, 2 for captures not in the archive yet")
    pages = foreign_warc(tmp_path / "b-pages.warc.gz", [
        lambda w: foreign_response(w, FOREIGN_URL, article_html(7), DAYS[0]),
        lambda w: foreign_response(w, FOREIGN_URL, article_html(9), DAYS[2])])
    second = newsarchive("import", "--config", str(config), str(pages))
    assert file_line(second.stderr, "a-heritrix-").endswith(
        ": 2 not-modified confirmations read before the captures they confirm, taken now"), second.stderr
    assert [row["last_seen"] for row in exported(tmp_path / "archive")] == \
        [canonical_warc_date(DAYS[1]), canonical_warc_date(DAYS[3])]


def test_another_tools_304_naming_its_revisit_read_later_in_the_same_rebuild_moves_the_last_seen(tmp_path):
    """Heritrix's day-2 capture of an unchanged page is an identical-payload revisit (in a WARC named after the 304's),
    and its day-3 304 names that revisit.  Before: the 304 was looked up before the revisits were taken, counted
    `HTTP 304`, and the version was last seen on day 2."""
    body = article_html(7)
    pages = foreign_warc(tmp_path / "b-pages.warc.gz", [lambda w: foreign_response(w, FOREIGN_URL, body, DAYS[0])])
    with open(pages, "rb") as stream:
        digest = next(iter(ArchiveIterator(stream))).rec_headers.get_header("WARC-Payload-Digest")
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
    revisit = foreign_warc(tmp_path / "c-revisit.warc.gz", [lambda w: w.create_revisit_record(
        FOREIGN_URL, digest, FOREIGN_URL, DAYS[0], http_headers=headers, warc_headers_dict={"WARC-Date": DAYS[1]})])
    not_modified = foreign_warc(tmp_path / "a-heritrix.warc.gz",
                                [lambda w: not_modified_record(w, "1.0", FOREIGN_URL, DAYS[2], DAYS[1])])
    result = newsarchive("rebuild", "--warc", str(not_modified), str(pages), str(revisit), "--out", str(tmp_path / "out"))
    assert file_line(result.stderr, "a-heritrix") == \
        "a-heritrix.warc.gz: 1 record, 0 HTML pages, 0 articles; 1 not-modified confirmation", result.stderr
    assert [(row["fetched_at"], row["last_seen"]) for row in exported(tmp_path / "out")] == \
        [(canonical_warc_date(DAYS[0]), canonical_warc_date(DAYS[2]))]


@pytest.mark.parametrize("kind", ["response", "1.1"])
def test_another_tools_304_naming_no_capture_confirms_one_imported_later_between_them(kind, tmp_path):
    """Version 1 of day 1 imported, then wget's (or pywb's) 304 of day 4 that names no capture, then version 2 of
    day 3: the 304 confirms the URL's latest capture before it, version 2, whatever the order the WARCs came in, as a
    rebuild of them says.  Before: it stayed version 1's, so day 4 made a third version with version 1's text."""
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{tmp_path / "archive"}"\n')
    first, changed = article_html(7), article_html(8).replace(b"<h1>", b"<h1>Corrected: ", 1)
    for name, make in [("a-first", lambda w: foreign_response(w, FOREIGN_URL, first, DAYS[0])),
                       ("b-not-modified", lambda w: not_modified_record(w, kind, FOREIGN_URL, DAYS[3])),
                       ("c-changed", lambda w: foreign_response(w, FOREIGN_URL, changed, DAYS[2]))]:
        result = newsarchive("import", "--config", str(config), str(foreign_warc(tmp_path / f"{name}.warc.gz", [make])))
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    day = [canonical_warc_date(date) for date in DAYS]
    rows = exported(tmp_path / "archive")
    assert [(row["version"], row["fetched_at"], row["last_seen"]) for row in rows] == \
        [(1, day[0], day[0]), (2, day[2], day[3])]
    assert rebuilt(tmp_path / "archive") == rows
