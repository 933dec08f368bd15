"""Versions of a story in another tool's archive: the corpus follows the captures, revisits included."""

from __future__ import annotations

import hashlib
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders

from archive_fixtures import REPO, corpus_files, fill, newsarchive
from corpus.export import read_corpus
from corpus.store import STORE_FILE, version_path
from demo.farm import article_html
from test_foreign_archives import HOST, http_response, write_warc
from test_incremental import write_config

STORY = f"{HOST}/2026/10/harbour-wall"


def revisit_of(writer, body: bytes, date: str):
    """Another tool's identical-payload revisit at ``STORY`` of ``body``, captured at ``date``."""
    digest = http_response(writer, STORY, body).rec_headers.get_header("WARC-Payload-Digest")
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
    record = writer.create_revisit_record(STORY, digest, STORY, "2026-10-01T00:00:00Z", http_headers=headers)
    record.rec_headers.replace_header("WARC-Date", date)
    return record


def test_another_tools_revisit_of_a_reverted_correction_makes_the_first_text_current_again(tmp_path):
    """Before: the revisit's payload, extracted, was one the URL had already, so it made no row and the
    story's current text stayed the correction."""
    story, corrected = article_html(7), article_html(8)
    warc = write_warc(tmp_path / "crawl.warc.gz", [
        lambda w: http_response(w, STORY, story, **{"WARC-Date": "2026-10-01T00:00:00Z"}),
        lambda w: http_response(w, STORY, corrected, **{"WARC-Date": "2026-10-02T00:00:00Z"}),
        lambda w: revisit_of(w, story, "2026-10-03T00:00:00Z"),
        lambda w: revisit_of(w, story, "2026-10-04T00:00:00Z"),
    ])
    result = newsarchive("rebuild", "--warc", str(warc), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    rows = read_corpus(tmp_path / "out")
    assert [(row["version"], row["fetched_at"]) for row in rows] == [
        (1, "2026-10-01T00:00:00.000000Z"), (2, "2026-10-02T00:00:00.000000Z"), (3, "2026-10-03T00:00:00.000000Z")]
    assert rows[2]["text_sha256"] == rows[0]["text_sha256"] != rows[1]["text_sha256"]


def _rows_of(archive: Path, url: str) -> list[tuple[int, str, bool]]:
    """(version, capture time, whether its text file holds the text its row names) of each row of ``url``."""
    rows = [row for row in read_corpus(archive) if row["url"] == url]
    return [(row["version"], row["fetched_at"], (archive / row["text_path"]).is_file() and hashlib.sha256(
        (archive / row["text_path"]).read_bytes()).hexdigest() == row["text_sha256"]) for row in rows]


def _a_story_in_two_versions_and_an_earlier_capture(demo_site, tmp_path: Path):
    """The gazette crawled twice into ``tmp_path/crawled``, its first story corrected between: (its sources, the
    archive, the story's URL, its rows as ``_rows_of`` gives them, a WARC of another tool's capture of it in 2020)."""
    gazette = [source for source in demo_site.sources() if source["name"] == "gazette"]
    archive = tmp_path / "crawled"
    config = write_config(None, tmp_path / "sources.toml", archive, gazette, refetch_after=0.0001)
    assert newsarchive("run", "--config", str(config)).returncode == 0
    article = demo_site.articles("gazette")[0]
    url = demo_site.url("gazette", article.path)
    demo_site.set_article("gazette", article.slug, paragraphs=[*article.paragraphs, "Late update: it is reviewed."])
    assert newsarchive("run", "--config", str(config)).returncode == 0
    crawled = _rows_of(archive, url)
    assert [(version, whole) for version, _, whole in crawled] == [(1, True), (2, True)]
    older = write_warc(tmp_path / "older.warc.gz", [
        lambda w: http_response(w, url, article_html(5), **{"WARC-Date": "2020-01-01T00:00:00Z"})])
    return gazette, archive, url, crawled, older


def test_an_import_that_renumbers_versions_and_stops_before_its_commit_leaves_every_row_its_own_text(
        demo_site, small_disk, tmp_path):
    """An import of an earlier capture of a story with two versions makes them versions 2 and 3.  Before: their
    texts were written over ``<key>.txt`` and ``<key>.v2.txt`` before the store's commit, so a derivation stopped
    there (a full disk, a kill) left the two stored rows naming files that held another version's text, and
    `import` said nothing of the disk ("0 new articles", exit 0)."""
    gazette, archive, url, crawled, older = _a_story_in_two_versions_and_an_earlier_capture(demo_site, tmp_path)
    on_disk = small_disk / "archive"
    config = write_config(None, small_disk / "sources.toml", on_disk, gazette, refetch_after=0.0001)
    for leave in range(64, 1024, 32):  # room for the copied WARC, not for the derivation's commit
        shutil.rmtree(on_disk, ignore_errors=True)
        shutil.copytree(archive, on_disk)
        filler = fill(small_disk, leave * 1024)
        imported = newsarchive("import", "--config", str(config), str(older))
        stored = [(version, at) for version, at, _ in _rows_of(on_disk, url)]
        if list((on_disk / "warc").glob("older-*")) and stored == [(version, at) for version, at, _ in crawled]:
            break
        filler.unlink()
    else:
        pytest.fail("no room left stops the import's derivation after its WARC is copied")
    assert "Traceback" not in imported.stderr
    assert imported.returncode != 0 and imported.stderr.count("newsarchive: cannot write the corpus") == 1
    assert _rows_of(on_disk, url) == crawled  # each stored row's text file holds its text
    checked = newsarchive("check", "--config", str(config))
    assert "text files are missing or changed" not in checked.stdout + checked.stderr

    filler.unlink()
    derived = newsarchive("derive", "--config", str(config))
    assert derived.returncode == 0, derived.stderr
    assert _rows_of(on_disk, url) == [(1, "2020-01-01T00:00:00.000000Z", True),
                                      *((version + 1, at, True) for version, at, _ in crawled)]
    assert [row["text_path"] for row in read_corpus(on_disk) if row["url"] == url] == [
        version_path("gazette", url, version) for version in (1, 2, 3)]  # the names a rebuild gives them
    checked = newsarchive("check", "--config", str(config))
    assert checked.returncode == 0 and "note:" not in checked.stderr, checked.stderr


# Runs the command line given, SIGKILLed as soon as a commit of the corpus store has named a text by its SHA-suffixed
# name (``version_path``): between that commit and the one that gives the rows their plain names.
_KILLED_BETWEEN_THE_COMMITS = """
import os, re, signal, sqlite3, sys
connect = sqlite3.connect
def connecting(*args, **kwargs):
    db, seen = connect(*args, **kwargs), []
    def killed_between_the_commits(statement):
        if seen == ["named", "COMMIT"]:
            os.kill(os.getpid(), signal.SIGKILL)
        if not seen and re.search(r"INTO rows .*[.]v[0-9]+[.][0-9a-f]{16}[.]txt", statement):
            seen.append("named")
        elif seen == ["named"] and statement == "COMMIT":
            seen.append("COMMIT")
    db.set_trace_callback(killed_between_the_commits)
    return db
sqlite3.connect = connecting
import cli
sys.exit(cli.main(sys.argv[1:]))
"""


def _text_paths(archive: Path, url: str) -> list[str]:
    """The text paths the corpus store's rows of ``url`` name, by version."""
    with sqlite3.connect(archive / STORE_FILE) as db:
        found = [path for (path,) in db.execute("SELECT text_path FROM rows WHERE url = ? ORDER BY version", (url,))]
    db.close()
    return found


def test_a_derive_killed_between_its_commit_and_the_renaming_leaves_plain_names_after_the_next_run(demo_site, tmp_path):
    """An import of an earlier capture of a story with two versions, SIGKILLed once its commit has named the
    renumbered texts by their SHA-suffixed names, before the commit that names them plainly.  Before: the rows kept
    those names until the story was derived again (maybe never for an old story), so the corpus and a rebuild of the
    same WARCs differed in text paths."""
    gazette, archive, url, crawled, older = _a_story_in_two_versions_and_an_earlier_capture(demo_site, tmp_path)
    config = write_config(None, tmp_path / "sources.toml", archive, gazette, refetch_after=0.0001)
    killed = subprocess.run([sys.executable, "-c", _KILLED_BETWEEN_THE_COMMITS, "import", "--config", str(config),
                             str(older)], cwd=REPO, capture_output=True, text=True, timeout=180)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert _text_paths(archive, url) != [version_path("gazette", url, version) for version in (1, 2, 3)]

    derived = newsarchive("derive", "--config", str(config))  # nothing new to derive: no URL of its own touched
    assert derived.returncode == 0, derived.stderr
    assert _text_paths(archive, url) == [version_path("gazette", url, version) for version in (1, 2, 3)]
    assert _rows_of(archive, url) == [(1, "2020-01-01T00:00:00.000000Z", True),
                                      *((version + 1, at, True) for version, at, _ in crawled)]
    checked = newsarchive("check", "--config", str(config))
    assert checked.returncode == 0 and "note:" not in checked.stderr, checked.stderr
    rebuilt = newsarchive("rebuild", "--warc", *map(str, sorted((archive / "warc").glob("*.warc.gz"))),
                          "--out", str(tmp_path / "rebuilt"))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert corpus_files(tmp_path / "rebuilt") == corpus_files(archive)


def test_an_import_of_a_capture_earlier_than_a_storys_first_is_a_new_version_not_a_new_article(demo_site, tmp_path):
    """The earlier capture becomes the story's version 1 and the crawled one its version 2: the corpus gains a row,
    not an article.  Before: `import` said "1 new article in the corpus" (the store's rows counted as articles)."""
    gazette = [source for source in demo_site.sources() if source["name"] == "gazette"]
    archive = tmp_path / "crawled"
    config = write_config(None, tmp_path / "sources.toml", archive, gazette)
    assert newsarchive("run", "--config", str(config)).returncode == 0
    url = demo_site.url("gazette", demo_site.articles("gazette")[0].path)
    older = write_warc(tmp_path / "older.warc.gz", [
        lambda w: http_response(w, url, article_html(5), **{"WARC-Date": "2020-01-01T00:00:00Z"})])
    imported = newsarchive("import", "--config", str(config), str(older))
    assert imported.returncode == 0, imported.stderr
    assert imported.stderr.splitlines()[-1] == "0 new articles, 1 new version in the corpus", imported.stderr
    assert [(version, at.startswith("2020-")) for version, at, _ in _rows_of(archive, url)] == [(1, True), (2, False)]
