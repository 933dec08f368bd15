"""Other tools' WARCs with record headers ours never have: UTF-8 header values (an IRI as WARC-Target-URI, a
non-ASCII file name in warcinfo).  Rebuild, import, check and recovery read them whole."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from archive_fixtures import newsarchive
from corpus.export import read_corpus
from demo.farm import article_html
from demo.site import DemoSite
from test_foreign_archives import article_url, http_response, line_of, ok, write_warc

IRI = "http://bücher.example/nachrichten/straße-ärger"


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
