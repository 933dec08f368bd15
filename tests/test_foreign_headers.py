"""Other tools' WARCs with record headers ours never have: UTF-8 header values (an IRI as WARC-Target-URI, a
non-ASCII file name in warcinfo), and records whose WARC-Date is missing or no date.  Rebuild, import, check,
replay and package read them whole, and say in one line what they could not date."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive_fixtures import fetch, free_port, newsarchive, running
from corpus.export import read_corpus
from demo.farm import article_html
from demo.site import DemoSite
from test_foreign_archives import article_url, http_response, line_of, ok, write_warc

IRI = "http://bücher.example/nachrichten/straße-ärger"
WARCINFO_DATE = "2026-10-01T12:00:00Z"


def empty_archive(archive: Path) -> Path:
    """The sources file of a new archive at ``archive``."""
    archive.mkdir()
    config = archive / "sources.toml"
    config.write_text(f'[archive]\ndir = "{archive}"\n\n[[sources]]\nname = "local"\n'
                      'start_urls = ["http://127.0.0.1:9/"]\nschedule = "0 * * * *"\n', encoding="utf-8")
    return config


def replay_lines(archive: Path) -> list[str]:
    return sorted(line for path in (archive / "indexes" / "replay").glob("*.cdxj")
                  for line in path.read_text(encoding="utf-8").splitlines())


def utf8_headers_warc(path: Path) -> Path:
    """A warcinfo naming the file ``path`` (UTF-8), a response at an IRI and one at an ASCII URL."""
    return write_warc(path, [
        lambda w: w.create_warcinfo_record(path.name, {"operator": "Bibliothèque municipale"}),
        lambda w: http_response(w, IRI, article_html(1)),
        lambda w: http_response(w, article_url(2), article_html(2)),
    ])


def test_a_warc_with_utf8_headers_loses_no_article_in_rebuild_import_check_or_recovery(tmp_path):
    warc = utf8_headers_warc(tmp_path / "café.warc.gz")
    rebuilt = ok(newsarchive("rebuild", "--warc", str(warc), "--out", str(tmp_path / "out")))
    line = line_of(rebuilt, "café.warc.gz")
    assert line.startswith("café.warc.gz: 3 records, 2 HTML pages, 2 articles") and "unreadable" not in line, line
    assert {row["url"] for row in read_corpus(tmp_path / "out")} == {IRI, article_url(2)}

    archive = tmp_path / "archive"
    config = empty_archive(archive)
    ok(newsarchive("import", "--config", str(config), str(warc)))
    assert {row["url"] for row in read_corpus(archive)} == {IRI, article_url(2)}
    checked = newsarchive("check", "--config", str(config))
    assert "problem" not in ok(checked), checked.stderr
    indexed = replay_lines(archive)
    assert len(indexed) == 2
    repaired = ok(newsarchive("check", "--repair", "--config", str(config)))
    assert "repaired" not in repaired and "problem" not in repaired, repaired
    assert replay_lines(archive) == indexed

    # a dead run's file with such headers is closed as it is, not set aside as damaged
    utf8_headers_warc(archive / "warc" / "dead-run.warc.gz.open")
    ok(newsarchive("derive", "--config", str(config)))
    assert (archive / "warc" / "dead-run.warc.gz").exists() and not (archive / "warc" / "damaged").exists()


@pytest.mark.skipif(shutil.which("wget") is None, reason="wget is not installed")
def test_a_wget_warc_named_in_utf8_rebuilds_and_imports_into_its_articles(tmp_path):
    with DemoSite() as site:
        result = subprocess.run(["wget", "--recursive", "--level=2", "--no-verbose", "--delete-after",
                                 "--no-directories", "-P", str(tmp_path / "pages"), f"--warc-file={tmp_path / 'café'}",
                                 "--no-warc-keep-log", site.base_urls["gazette"] + "/"],
                                capture_output=True, text=True, timeout=120)
        warc = tmp_path / "café.warc.gz"
        assert warc.exists(), result.stderr
        articles = {site.url("gazette", f"/news/{article.slug}"): article for article in site.articles("gazette")
                    if not article.slug.endswith("withdrawn-story")}
    rebuilt = ok(newsarchive("rebuild", "--warc", str(warc), "--out", str(tmp_path / "out")))
    assert "unreadable" not in line_of(rebuilt, "café.warc.gz")
    rows = {row["url"]: row for row in read_corpus(tmp_path / "out")}
    assert {url: rows[url]["title"] for url in articles} == {url: article.title for url, article in articles.items()}

    archive = tmp_path / "archive"
    config = empty_archive(archive)
    ok(newsarchive("import", "--config", str(config), str(warc)))
    assert set(articles) <= {row["url"] for row in read_corpus(archive)}
    indexed = replay_lines(archive)
    assert "problem" not in ok(newsarchive("check", "--config", str(config)))
    assert "repaired" not in ok(newsarchive("check", "--repair", "--config", str(config)))
    assert replay_lines(archive) == indexed


def undated_response(writer, number: int, date: str | None):
    """A response holding article ``number`` whose WARC-Date is ``date``, or that has none."""
    record = http_response(writer, article_url(number), article_html(number))
    if date is None:
        record.rec_headers.remove_header("WARC-Date")
    else:
        record.rec_headers.replace_header("WARC-Date", date)
    return record


def dated_warcinfo(writer, name: str):
    record = writer.create_warcinfo_record(name, {"software": "another crawler"})
    record.rec_headers.replace_header("WARC-Date", WARCINFO_DATE)
    return record


@pytest.fixture
def undated(tmp_path) -> dict[str, Path]:
    """A WARC whose warcinfo and first response are dated and whose two other responses are not (no WARC-Date;
    "yesterday"), and a WARC of one response with no WARC-Date."""
    return {
        "in dated file": write_warc(tmp_path / "in-dated-file.warc.gz", [
            lambda w: dated_warcinfo(w, "in-dated-file.warc.gz"),
            lambda w: undated_response(w, 30, "2026-10-01T12:00:05Z"),
            lambda w: undated_response(w, 31, None),
            lambda w: undated_response(w, 32, "yesterday"),
        ]),
        "alone": write_warc(tmp_path / "alone.warc.gz", [lambda w: undated_response(w, 33, None)]),
    }


def test_rebuild_dates_a_record_without_a_warc_date_by_its_files_warcinfo_or_skips_it_saying_why(undated, tmp_path):
    result = newsarchive("rebuild", "--warc", str(undated["in dated file"]), str(undated["alone"]),
                         "--out", str(tmp_path / "out"))
    stderr = ok(result)
    assert {row["url"]: row["fetched_at"] for row in read_corpus(tmp_path / "out")} == \
        {article_url(30): "2026-10-01T12:00:05.000000Z", article_url(31): "2026-10-01T12:00:00.000000Z",
         article_url(32): "2026-10-01T12:00:00.000000Z"}  # WARCINFO_DATE, read in one form with every WARC-Date
    assert "skipped: 1 no valid WARC-Date here or in the file's first record" in line_of(stderr, "alone.warc.gz")


def index_of(lines: list[str], number: int) -> list[str]:
    return [line for line in lines if json.loads(line.split(" ", 2)[2])["url"] == article_url(number)]


def test_import_leaves_out_records_without_a_warc_date_saying_where_and_takes_the_rest(undated, tmp_path):
    archive = tmp_path / "archive"
    config = empty_archive(archive)
    given = undated["in dated file"]
    stderr = ok(newsarchive("import", "--config", str(config), str(given), str(undated["alone"])), code=1)
    with open(given, "rb") as stream:
        records = ArchiveIterator(stream, no_record_parse=True)
        offsets = [records.get_record_offset() for _ in records]
    assert f"in-dated-file.warc.gz@{offsets[2]}: a response record with no WARC-Date: not imported" in stderr
    assert (f"in-dated-file.warc.gz@{offsets[3]}: a response record with a WARC-Date that is not a date "
            "('yesterday'): not imported") in stderr
    assert "alone.warc.gz@0: a response record with no WARC-Date: not imported" in stderr
    [copy] = (archive / "warc").glob("*.warc.gz")
    assert copy.name.startswith("in-dated-file-")  # alone.warc.gz had nothing else to import
    assert [json.loads(line.split(" ", 2)[2])["url"] for line in replay_lines(archive)] == [article_url(30)]
    assert [row["url"] for row in read_corpus(archive)] == [article_url(30)]
    assert "problem" not in ok(newsarchive("check", "--config", str(config)))


def test_an_archive_holding_records_without_a_warc_date_is_checked_replayed_and_packaged(undated, tmp_path):
    """As an import before this fix left it: the WARC in warc/, not indexed."""
    archive = tmp_path / "archive"
    config = empty_archive(archive)
    (archive / "warc").mkdir()
    shutil.copy(undated["in dated file"], archive / "warc" / "in-dated-file.warc.gz")
    shutil.copy(undated["alone"], archive / "warc" / "alone.warc.gz")
    repaired = ok(newsarchive("check", "--repair", "--config", str(config)))
    assert "repaired: indexed 2 WARC files" in repaired
    assert "alone.warc.gz@0: a response record with no WARC-Date: kept in the WARC, not indexed" in repaired
    assert "a response record with a WARC-Date that is not a date ('yesterday'): kept in the WARC" in repaired
    assert [json.loads(line.split(" ", 2)[2])["url"] for line in replay_lines(archive)] == [article_url(30)]
    assert "problem" not in ok(newsarchive("check", "--config", str(config)))

    ok(newsarchive("package", "--config", str(config), "--out", str(tmp_path / "archive.wacz")))
    with zipfile.ZipFile(tmp_path / "archive.wacz") as wacz:
        packaged = gzip.decompress(wacz.read("indexes/index.cdx.gz")).decode("utf-8").splitlines()
    assert index_of(packaged, 30) and not any(index_of(packaged, number) for number in (31, 32, 33))

    port = free_port()
    base = f"http://127.0.0.1:{port}/archive"
    with running([sys.executable, "-m", "cli", "replay", "--config", str(config), "--port", str(port)],
                 f"{base}/cdx?url=http://example.invalid/"):
        status, _, body = fetch(f"{base}/20261001120005id_/{article_url(30)}")
        undated_status, _, _ = fetch(f"{base}/20261001120000id_/{article_url(32)}")
    assert status == 200 and body == article_html(30)
    assert undated_status == 404
