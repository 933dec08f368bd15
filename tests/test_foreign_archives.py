"""Rebuild, import and extract over web archives other tools wrote, made here: wget's WARC of a
loopback site, warcio-written WARCs with dns:, warcinfo, resource and metadata records and a revisit
into another file, an ARC file, a WARC/0.17 file, a single-gzip-stream WARC and a WACZ from
`newsarchive package`.  Every command says per file what it found, and never prints a traceback.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import shutil
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive_fixtures import REPO, corpus_files, crawl_demo, free_port, newsarchive
from corpus.export import read_corpus
from corpus.store import CorpusStore
from demo.farm import article_html
from demo.site import DemoSite

HOST = "http://news.example"


def ok(result: subprocess.CompletedProcess, code: int = 0) -> str:
    """stderr of a command that exited with ``code`` and printed no traceback."""
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.returncode == code, result.stderr
    return result.stderr


def line_of(stderr: str, name: str) -> str:
    [line] = [line for line in stderr.splitlines() if line.startswith(name + ":")]
    return line


def http_response(writer: WARCWriter, url: str, body: bytes, status: str = "200 OK",
                  content_type: str = "text/html; charset=utf-8", **warc_headers: str):
    headers = StatusAndHeaders(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))],
                               protocol="HTTP/1.1")
    return writer.create_warc_record(url, "response", payload=io.BytesIO(body), length=len(body),
                                     http_headers=headers, warc_headers_dict=warc_headers)


def article_url(number: int) -> str:
    return f"{HOST}/2026/10/story-{number}"


def write_warc(path: Path, records, version: str = "1.1", gzipped: bool = True) -> Path:
    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=gzipped, warc_version=version)
        for make in records:
            writer.write_record(make(writer))
    return path


def identical_payload_revisit(writer: WARCWriter, url: str, number: int):
    """A revisit record at ``url`` of article ``number``'s payload (as ``http_response`` writes it)."""
    digest = http_response(WARCWriter(io.BytesIO()), article_url(number),
                           article_html(number)).rec_headers.get_header("WARC-Payload-Digest")
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
    return writer.create_revisit_record(url, digest, article_url(number), "2026-10-01T00:00:00Z", http_headers=headers)


def heritrix_like(path: Path, revisit_of: int) -> Path:
    """A warcinfo, a dns: response, an article with its request and a metadata record of another tool,
    a 404, an image, a resource record, and a revisit of article ``revisit_of`` (whose response is elsewhere)."""
    return write_warc(path, [
        lambda w: w.create_warcinfo_record(path.name, {"isPartOf": "crawl-2026", "operator": "a library"}),
        lambda w: w.create_warc_record("dns:news.example", "response", payload=io.BytesIO(b"20261001 news.example. "
                                       b"300 IN A 192.0.2.7\n"), warc_content_type="text/dns"),
        lambda w: w.create_warc_record(article_url(1), "request", payload=io.BytesIO(b"GET /2026/10/story-1 HTTP/1.1"
                                       b"\r\nHost: news.example\r\n\r\n"), warc_content_type="application/http"),
        lambda w: http_response(w, article_url(1), article_html(1)),
        lambda w: w.create_warc_record(article_url(1), "metadata", payload=io.BytesIO(b"via: http://news.example/\n"
                                       b"hopsFromSeed: L\n"), warc_content_type="application/warc-fields"),
        lambda w: http_response(w, f"{HOST}/gone", b"<html><body>Not found</body></html>", status="404 Not Found"),
        lambda w: http_response(w, f"{HOST}/logo.png", b"\x89PNG\r\n\x1a\n", content_type="image/png"),
        lambda w: w.create_warc_record(f"{HOST}/screenshot", "resource", payload=io.BytesIO(b"\x89PNG\r\n\x1a\n"),
                                       warc_content_type="image/png"),
        lambda w: identical_payload_revisit(w, f"{HOST}/amp/story-{revisit_of}", revisit_of),
    ])


def arc_file(path: Path, numbers: list[int]) -> Path:
    """An ARC v1 file, one gzip member per record, holding the articles ``numbers``."""
    version = b"1 0 a-crawler\nURL IP-address Archive-date Content-type Archive-length\n"
    records = [f"filedesc://{path.name} 0.0.0.0 20261001120000 text/plain {len(version)}\n".encode() + version]
    for number in numbers:
        body = article_html(number)
        http = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        records.append(f"{article_url(number)} 192.0.2.7 20261001120000 text/html {len(http)}\n".encode() + http)
    path.write_bytes(b"".join(gzip.compress(record + b"\n") for record in records))
    return path


@pytest.fixture(scope="module")
def foreign(tmp_path_factory) -> dict[str, Path]:
    """Foreign archives, by kind."""
    folder = tmp_path_factory.mktemp("foreign")
    other = write_warc(folder / "other.warc.gz", [lambda w: http_response(w, article_url(2), article_html(2))])
    plain = folder / "plain.warc"
    write_warc(plain, [lambda w: http_response(w, article_url(6), article_html(6))], gzipped=False)
    single = folder / "single-stream.warc.gz"
    single.write_bytes(gzip.compress(plain.read_bytes() * 2))
    not_an_archive = folder / "notes.warc.gz"
    not_an_archive.write_text("these are my notes, not a WARC\n")
    return {
        "heritrix": heritrix_like(folder / "heritrix.warc.gz", revisit_of=2),
        "other": other,
        "arc": arc_file(folder / "old-crawl.arc.gz", [3, 4]),
        "warc017": write_warc(folder / "old.warc", [lambda w: http_response(w, article_url(5), article_html(5))],
                              version="0.17", gzipped=False),
        "single": single,
        "bad": not_an_archive,
    }


def recorded_by_wget(url: str, folder: Path) -> Path:
    """``folder/wget.warc.gz``: the site at ``url`` recorded by `wget --recursive --warc-file` (Debian's wget)."""
    result = subprocess.run(["wget", "--recursive", "--level=2", "--no-verbose", "--delete-after",
                             "--no-directories", "-P", str(folder / "pages"), f"--warc-file={folder / 'wget'}",
                             "--no-warc-keep-log", url], capture_output=True, text=True, timeout=120)
    assert (folder / "wget.warc.gz").exists(), result.stderr
    return folder / "wget.warc.gz"


@pytest.fixture(scope="module")
def wget_warc(tmp_path_factory) -> dict:
    """The gazette demo site recorded by wget, and its articles."""
    with DemoSite() as site:
        warc = recorded_by_wget(site.base_urls["gazette"] + "/", tmp_path_factory.mktemp("wget"))
        articles = {site.url("gazette", f"/news/{article.slug}"): article for article in site.articles("gazette")}
    return {"warc": warc, "articles": articles}


def test_a_wget_warc_rebuilds_into_its_articles(wget_warc, tmp_path):
    result = newsarchive("rebuild", "--warc", str(wget_warc["warc"]), "--out", str(tmp_path / "out"))
    line = line_of(ok(result), "wget.warc.gz")
    assert "HTML pages" in line and "request" in line and "not HTML" in line, line
    rows = {row["url"]: row for row in read_corpus(tmp_path / "out")}
    for url, article in wget_warc["articles"].items():
        if url.endswith("withdrawn-story"):
            continue  # a 404 on the site
        assert rows[url]["title"] == article.title
        assert rows[url]["source"] == f"127.0.0.1_{urlsplit(url).port}"  # the site's address and port
        # The last paragraph: the first is also a teaser on the section pages, which are in the corpus
        # too until extraction tells articles from other pages.
        assert article.paragraphs[-1] in (tmp_path / "out" / rows[url]["text_path"]).read_text()


def test_another_tools_records_are_skipped_with_why_and_revisits_followed_into_another_file(foreign, tmp_path):
    both = newsarchive("rebuild", "--warc", str(foreign["heritrix"]), str(foreign["other"]),
                       "--out", str(tmp_path / "both"))
    line = line_of(ok(both), "heritrix.warc.gz")
    assert line.startswith("heritrix.warc.gz: 9 records, 2 HTML pages, 2 articles; skipped: "), line
    for why in ("1 dns: record without HTTP headers", "1 HTTP 404", "1 not HTML", "1 resource", "1 warcinfo",
                "1 metadata", "1 request"):
        assert why in line, line
    rows = {row["url"]: row for row in read_corpus(tmp_path / "both")}
    assert set(rows) == {article_url(1), article_url(2), f"{HOST}/amp/story-2"}
    revisit = rows[f"{HOST}/amp/story-2"]
    assert revisit["warc_file"] == "heritrix.warc.gz" and revisit["source"] == "news.example"
    assert revisit["text_sha256"] == rows[article_url(2)]["text_sha256"]
    assert revisit["dup_cluster"] == rows[article_url(2)]["dup_cluster"]

    alone = newsarchive("rebuild", "--warc", str(foreign["heritrix"]), "--out", str(tmp_path / "alone"))
    assert "1 revisit of a payload in none of these files" in line_of(ok(alone), "heritrix.warc.gz")
    assert [row["url"] for row in read_corpus(tmp_path / "alone")] == [article_url(1)]


def test_arc_warc_017_and_uncompressed_files_rebuild_the_same_twice(foreign, tmp_path):
    given = [str(foreign[kind]) for kind in ("arc", "warc017")]
    first = newsarchive("rebuild", "--warc", *given, "--out", str(tmp_path / "first"))
    stderr = ok(first)
    assert line_of(stderr, "old-crawl.arc.gz").startswith("old-crawl.arc.gz: 3 records, 2 HTML pages, 2 articles")
    assert line_of(stderr, "old.warc").startswith("old.warc: 1 record, 1 HTML page, 1 article")
    rows = read_corpus(tmp_path / "first")
    assert sorted(row["url"] for row in rows) == [article_url(3), article_url(4), article_url(5)]
    assert all(row["payload_digest"].startswith("sha1:") for row in rows)
    second = newsarchive("rebuild", "--warc", *given, "--out", str(tmp_path / "second"))
    ok(second)
    assert corpus_files(tmp_path / "second") == corpus_files(tmp_path / "first")  # ARC records get stable keys


def test_a_bad_file_is_one_line_and_the_others_are_still_rebuilt(foreign, tmp_path):
    zip_without_warcs = tmp_path / "photos.wacz"
    shutil.make_archive(str(tmp_path / "photos"), "zip", foreign["bad"].parent, foreign["bad"].name)
    (tmp_path / "photos.zip").rename(zip_without_warcs)
    result = newsarchive("rebuild", "--warc", str(foreign["bad"]), str(zip_without_warcs),
                         str(foreign["other"]), "--out", str(tmp_path / "out"))
    stderr = ok(result, code=1)
    assert line_of(stderr, "notes.warc.gz").startswith("notes.warc.gz: not a WARC or ARC file")
    assert "not a WACZ" in line_of(stderr, "photos.wacz")
    assert [row["url"] for row in read_corpus(tmp_path / "out")] == [article_url(2)]
    assert "1 article from 3 files" in stderr


def test_a_warc_gzipped_whole_rebuilds_and_extracts_into_its_articles(tmp_path):
    """`gzip file.warc` makes one gzip stream, whose records cannot be read by offset: the rebuild reads a copy with
    a gzip member per record (as `warcio recompress` makes it) and gives what a rebuild of that copy gives."""
    plain = write_warc(tmp_path / "crawl.warc", [lambda w: http_response(w, article_url(7), article_html(7)),
                                                 lambda w: http_response(w, article_url(8), article_html(8))],
                       gzipped=False)
    whole = tmp_path / "whole" / "crawl.warc.gz"
    whole.parent.mkdir()
    whole.write_bytes(gzip.compress(plain.read_bytes()))
    per_record = tmp_path / "per-record" / "crawl.warc.gz"
    per_record.parent.mkdir()
    subprocess.run([str(Path(sys.executable).parent / "warcio"), "recompress", str(whole), str(per_record)],
                   check=True, capture_output=True)
    stderr = ok(newsarchive("rebuild", "--warc", str(whole), "--out", str(tmp_path / "out")))
    line = line_of(stderr, "crawl.warc.gz")
    assert line.startswith("crawl.warc.gz: 2 records, 2 HTML pages, 2 articles"), line
    assert "one gzip stream" in line and "copy with a gzip member per record" in line, line
    assert sorted(row["url"] for row in read_corpus(tmp_path / "out")) == [article_url(7), article_url(8)]
    ok(newsarchive("rebuild", "--warc", str(per_record), "--out", str(tmp_path / "copy")))
    assert corpus_files(tmp_path / "out") == corpus_files(tmp_path / "copy")
    extracted = newsarchive("extract", str(whole))
    ok(extracted)
    assert sorted(json.loads(line)["url"] for line in extracted.stdout.splitlines()) == [article_url(7),
                                                                                         article_url(8)]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory) -> dict:
    """A live archive of the demo sites and its WACZ package."""
    crawl = crawl_demo(tmp_path_factory.mktemp("crawled"))
    wacz = crawl["out"] / "package.wacz"
    ok(newsarchive("package", "--config", str(crawl["config"]), "--out", str(wacz)))
    return {**crawl, "wacz": wacz}


def test_a_wacz_rebuilds_into_the_archives_own_corpus(crawled, tmp_path):
    result = newsarchive("rebuild", "--warc", str(crawled["wacz"]), "--out", str(tmp_path / "out"))
    stderr = ok(result)
    assert "role start" in stderr  # our own WARCs in it: decided by their metadata records
    assert corpus_files(tmp_path / "out") == corpus_files(crawled["out"])


def archive_copy(crawled: dict, archive: Path) -> Path:
    """A copy of the crawled archive at ``archive``; its config."""
    shutil.copytree(crawled["out"], archive)
    config = archive / "sources.toml"
    config.write_text(config.read_text().replace(str(crawled["out"]), str(archive)))
    return config


def record_ids(warcs: list[Path]) -> Counter:
    """How many times each WARC-Record-ID is in ``warcs``."""
    found = Counter()
    for warc in warcs:
        with open(warc, "rb") as stream:
            found.update(record.rec_headers.get_header("WARC-Record-ID") for record in ArchiveIterator(stream))
    return found


def test_import_adds_foreign_captures_once_and_they_stay_derivable(crawled, foreign, wget_warc, tmp_path):
    archive = tmp_path / "archive"
    config = archive_copy(crawled, archive)
    before = len(read_corpus(archive))
    given = [str(foreign["heritrix"]), str(foreign["other"]), str(foreign["arc"]), str(foreign["single"])]
    first = ok(newsarchive("import", "--config", str(config), *given))
    assert "single-stream.warc.gz: imported as single-stream-" in first  # one gzip stream: recompressed
    urls = {row["url"] for row in read_corpus(archive)}
    assert {article_url(n) for n in (1, 2, 3, 4, 6)} | {f"{HOST}/amp/story-2"} <= urls
    after = len(read_corpus(archive))
    assert after > before

    ok(newsarchive("check", "--config", str(config)))  # indexed as the crawl's own WARCs are

    plain = tmp_path / "single-stream.warc"  # the same records, compressed otherwise
    plain.write_bytes(gzip.decompress(foreign["single"].read_bytes()))
    again = ok(newsarchive("import", "--config", str(config), *given, str(plain)))
    assert again.count("already in the archive") == 5 and "0 new articles" in again
    assert len(read_corpus(archive)) == after
    assert len(list((archive / "warc").glob("single-stream-*"))) == 1

    corpus = corpus_files(archive)
    for derived in ("derived", "text", "corpus.jsonl"):
        path = archive / derived
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    ok(newsarchive("derive", "--config", str(config)))
    assert corpus_files(archive) == corpus


def test_import_of_a_wget_crawl_and_the_cdx_beside_it_takes_the_warc_and_refuses_the_cdx_in_one_line(tmp_path):
    """`wget --warc-cdx` writes a CDX index beside its WARC, and `import crawl/*` hands it over too: warcio reads
    any line of five words as an ARC record, so the import wrote the index into warc/ as a WARC of 26 records."""
    with DemoSite() as site:
        subprocess.run(["wget", "--recursive", "--level=2", "--no-verbose", "--delete-after", "--no-directories",
                        "-P", str(tmp_path / "pages"), f"--warc-file={tmp_path / 'crawl'}", "--warc-cdx",
                        "--no-warc-keep-log", site.base_urls["gazette"] + "/"], capture_output=True, timeout=120)
        articles = {site.url("gazette", f"/news/{article.slug}") for article in site.articles("gazette")}
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{tmp_path / "archive"}"\n')
    (tmp_path / "crawl-killed.warc.gz").write_bytes(b"")  # a crawl killed as it started
    stderr = ok(newsarchive("import", "--config", str(config), str(tmp_path / "crawl.cdx"),
                            str(tmp_path / "crawl.warc.gz"), str(tmp_path / "crawl-killed.warc.gz")), code=1)
    assert line_of(stderr, "crawl.cdx") == "crawl.cdx: not a WARC or ARC file (it begins b' CDX a b a m s k r M V g')"
    assert line_of(stderr, "crawl-killed.warc.gz") == "crawl-killed.warc.gz: not a WARC or ARC file (it is empty)"
    assert all(line.startswith(("crawl", "1 new article", f"{len(articles)} new articles")) for line in
               stderr.splitlines()), stderr  # warcio's warnings about the index's lines are not printed
    assert [path.name.split("-")[0] for path in (tmp_path / "archive" / "warc").iterdir()] == ["crawl.warc.gz"[:5]]
    assert {row["url"] for row in read_corpus(tmp_path / "archive")} == articles
    assert "problem" not in ok(newsarchive("check", "--config", str(config)))


def test_a_warc_another_tool_is_still_writing_is_read_under_the_name_it_gets_when_closed(tmp_path):
    """warcprox writes `NAME.warc.gz.open` and renames it `NAME.warc.gz` when done: rows name the WARC as closed,
    so its file line, and the copy an import makes, do too."""
    (tmp_path / "running").mkdir()
    writing = write_warc(tmp_path / "running" / "WARCPROX-1-00000.warc.gz.open",
                         [lambda w, n=n: http_response(w, article_url(n), article_html(n)) for n in (1, 2)])
    stderr = ok(newsarchive("rebuild", "--warc", str(writing), "--out", str(tmp_path / "out")))
    assert [line for line in stderr.splitlines() if "WARCPROX" in line] == [
        "WARCPROX-1-00000.warc.gz: 2 records, 2 HTML pages, 2 articles"], stderr
    assert {row["warc_file"] for row in read_corpus(tmp_path / "out")} == {"WARCPROX-1-00000.warc.gz"}
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{tmp_path / "archive"}"\n')
    ok(newsarchive("import", "--config", str(config), str(writing)))
    closed = tmp_path / "WARCPROX-1-00000.warc.gz"
    closed.write_bytes(writing.read_bytes() + write_warc(tmp_path / "third.warc.gz", [
        lambda w: http_response(w, article_url(3), article_html(3))]).read_bytes())
    assert "the other 2 it holds already" in ok(newsarchive("import", "--config", str(config), str(closed)))
    assert all(path.name.startswith("WARCPROX-1-00000-") and ".open" not in path.name
               for path in (tmp_path / "archive" / "warc").iterdir())
    assert sorted(row["url"] for row in read_corpus(tmp_path / "archive")) == [article_url(n) for n in (1, 2, 3)]


def test_the_archives_own_wacz_and_warcs_imported_back_add_nothing(crawled, tmp_path):
    archive = tmp_path / "archive"
    config = archive_copy(crawled, archive)
    warcs = {path.name: path.read_bytes() for path in (archive / "warc").glob("*.warc.gz")}
    corpus = corpus_files(archive)
    (tmp_path / "rsynced").mkdir()
    own = shutil.copy(sorted((archive / "warc").glob("*.warc.gz"))[0], tmp_path / "rsynced")  # copied back in

    stderr = ok(newsarchive("import", "--config", str(config), str(crawled["wacz"]), own))
    *lines, last = stderr.splitlines()
    assert sorted(line.partition(":")[0] for line in lines) == sorted([*warcs, Path(own).name]), stderr
    assert all(line.endswith(" records are already in the archive, in " + line.partition(":")[0]) for line in lines)
    assert last == "0 new articles in the corpus"
    assert {path.name: path.read_bytes() for path in (archive / "warc").glob("*.warc.gz")} == warcs
    ok(newsarchive("check", "--config", str(config)))
    assert corpus_files(archive) == corpus
    ok(newsarchive("rebuild", "--warc", *map(str, (archive / "warc").glob("*.warc.gz")), "--out", str(tmp_path / "re")))
    assert corpus_files(tmp_path / "re") == corpus


def test_a_warc_of_the_archives_records_and_new_ones_imports_the_new_ones(crawled, foreign, tmp_path):
    archive = tmp_path / "archive"
    config = archive_copy(crawled, archive)
    own = sorted((archive / "warc").glob("*.warc.gz"))[0]
    merged = tmp_path / "merged.warc.gz"  # one gzip member per record each: the records of both, one after the other
    merged.write_bytes(own.read_bytes() + foreign["other"].read_bytes())

    stderr = ok(newsarchive("import", "--config", str(config), str(merged)))
    known = len(record_ids([own]))
    assert f"its 1 records the archive did not hold; the other {known} it holds already" in line_of(stderr,
                                                                                                 merged.name)
    assert "1 new article in the corpus" in stderr
    assert article_url(2) in {row["url"] for row in read_corpus(archive)}
    assert set(record_ids(sorted((archive / "warc").glob("*.warc.gz"))).values()) == {1}
    ok(newsarchive("check", "--config", str(config)))


def test_extract_prints_each_article_of_a_warc_apart(wget_warc, tmp_path):
    result = newsarchive("extract", str(wget_warc["warc"]))
    assert "HTML pages" in line_of(ok(result), "wget.warc.gz")
    lines = {row["url"]: row for row in map(json.loads, result.stdout.splitlines())}
    for url, article in wget_warc["articles"].items():
        if url.endswith("withdrawn-story"):
            continue
        assert lines[url]["title"] == article.title
        assert lines[url]["text"].startswith(article.title + "\n\n") and article.paragraphs[-1] in lines[url]["text"]
        others = [other.paragraphs[-1] for other in wget_warc["articles"].values() if other is not article]
        assert not any(paragraph in lines[url]["text"] for paragraph in others)


def test_extract_refuses_pages_mixed_with_archives_and_a_url_for_an_archive(wget_warc, tmp_path):
    page = tmp_path / "page.html"
    page.write_bytes(article_html(1))
    mixed = newsarchive("extract", str(page), str(wget_warc["warc"]))
    assert "extract them apart" in ok(mixed, code=2) and not mixed.stdout
    with_url = newsarchive("extract", "--url", "http://x.example/", str(wget_warc["warc"]))
    assert "--url is for saved pages" in ok(with_url, code=2) and not with_url.stdout


def test_records_whose_digests_do_not_match_are_all_read_and_counted_in_the_files_line(tmp_path):
    """Tools compute digests differently (of a chunked body, of a decoded one): a record whose WARC-Block-Digest is
    not that of its bytes is still read, and the file's line counts it, in rebuild, import and check alike."""
    wrong = {"WARC-Block-Digest": "sha1:" + "A" * 32}
    warc = write_warc(tmp_path / "digests.warc.gz", [
        lambda w, number=number: http_response(w, article_url(number), article_html(number),
                                                **(wrong if number <= 3 else {})) for number in range(1, 6)])
    assert [record.rec_headers.get_header("WARC-Block-Digest") == wrong["WARC-Block-Digest"]
            for record in ArchiveIterator(open(warc, "rb"))] == [True, True, True, False, False]
    rebuilt = newsarchive("rebuild", "--warc", str(warc), "--out", str(tmp_path / "out"))
    assert line_of(ok(rebuilt), "digests.warc.gz").startswith(
        "digests.warc.gz: 5 records, 5 HTML pages, 5 articles; 3 records whose digest does not match their content")
    assert len(read_corpus(tmp_path / "out")) == 5
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{tmp_path / "archive"}"\n')
    imported = ok(newsarchive("import", "--config", str(config), str(warc)))
    assert "3 records whose digest does not match their content" in imported, imported
    checked = ok(newsarchive("check", "--config", str(config)))
    assert "3 records whose digest does not match their content" in checked, checked


def test_extract_of_a_warc_and_the_cdx_beside_it_prints_the_articles_and_names_the_cdx_in_one_line(wget_warc, tmp_path):
    """`wget --warc-cdx` writes an index beside its WARC: extract of both is the WARC's articles, not a refusal to
    mix a saved page with archives."""
    cdx = tmp_path / "wget.cdx"
    cdx.write_bytes(b" CDX a b a m s k r M V g\n"
                    b"http://127.0.0.1/ 20261207080000 http://127.0.0.1/ text/html 200 ABC - - 512 wget.warc.gz\n")
    result = newsarchive("extract", str(wget_warc["warc"]), str(cdx))
    assert [line for line in ok(result, code=1).splitlines() if str(cdx) in line] == [
        f"newsarchive extract: {cdx}: not a saved page or a web archive "
        "(text with no HTML markup: it begins b' CDX a b a m s k r M V g')"]
    assert {row["url"] for row in map(json.loads, result.stdout.splitlines())} >= {
        url for url in wget_warc["articles"] if not url.endswith("withdrawn-story")}


@contextmanager
def dask_cluster_of(*worker_options: str, env: dict[str, str] | None = None, tries: int = 4) -> Iterator[str]:
    """A real `dask scheduler` (trying a task whose worker died ``tries`` times) and two `dask worker`
    processes on 127.0.0.1; yields the scheduler's address."""
    from distributed import Client

    dask = str(Path(sys.executable).parent / "dask")
    address = f"tcp://127.0.0.1:{free_port()}"
    env = {**os.environ, **(env or {}), "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": str(tries - 1)}
    processes = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                                   "--no-dashboard"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)]
    try:
        processes += [subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--host", "127.0.0.1",
                                        "--no-dashboard", *worker_options], cwd=REPO, env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def dask_cluster() -> Iterator[str]:
    with dask_cluster_of() as address:
        yield address


def test_a_rebuild_on_a_dask_cluster_gives_the_in_process_bytes(crawled, foreign, dask_cluster, tmp_path):
    given = [*map(str, sorted((crawled["out"] / "warc").glob("*.warc.gz"))),
             *(str(foreign[kind]) for kind in ("heritrix", "other", "arc"))]
    on_cluster = newsarchive("rebuild", "--warc", *given, "--out", str(tmp_path / "cluster"),
                             "--scheduler", dask_cluster)
    in_process = newsarchive("rebuild", "--warc", *given, "--out", str(tmp_path / "local"), "--workers", "2")
    assert ok(on_cluster) == ok(in_process).replace(str(tmp_path / "local"), str(tmp_path / "cluster"))
    assert corpus_files(tmp_path / "cluster") == corpus_files(tmp_path / "local")
    assert len(read_corpus(tmp_path / "cluster")) > len(read_corpus(crawled["out"]))


def test_large_warcs_are_cut_into_the_same_pieces_on_a_cluster_as_in_process(crawled, foreign, dask_cluster, tmp_path,
                                                                            monkeypatch):
    import corpus.derive
    from archive.index import capture_offsets
    from corpus.cluster import dask_executor
    from corpus.rebuild import rebuild

    monkeypatch.setattr(corpus.derive, "PIECE_BYTES", 2048)  # the pieces are planned here, read on the workers
    given = [*sorted((crawled["out"] / "warc").glob("*.warc.gz")), foreign["heritrix"], foreign["other"]]
    assert sum(len(corpus.derive._cuts(capture_offsets(warc), 0)) for warc in given) >= 4
    with dask_executor(dask_cluster, 2) as (executor, in_flight):
        on_cluster = rebuild(given, tmp_path / "cluster", workers=in_flight, executor=executor)
    in_process = rebuild(given, tmp_path / "local", workers=2)
    assert on_cluster.lines() == in_process.lines()
    assert not on_cluster.failed
    assert corpus_files(tmp_path / "cluster") == corpus_files(tmp_path / "local")


def test_revisits_in_every_piece_of_a_large_file_are_all_followed(foreign, tmp_path, monkeypatch):
    import corpus.derive
    from corpus.rebuild import rebuild

    records = []
    for n in range(4):
        records += [lambda w, n=n: http_response(w, article_url(10 + n), article_html(10 + n)),
                    lambda w, n=n: identical_payload_revisit(w, f"{HOST}/amp/{n}/story-2", 2)]
    warc = write_warc(tmp_path / "revisits.warc.gz", records)
    monkeypatch.setattr(corpus.derive, "PIECE_BYTES", 1)  # each capture a piece of its own
    report = rebuild([warc, foreign["other"]], tmp_path / "out", workers=2)
    assert not report.failed
    urls = {row["url"] for row in read_corpus(tmp_path / "out")}
    assert urls >= {f"{HOST}/amp/{n}/story-2" for n in range(4)} | {article_url(10 + n) for n in range(4)}


def test_a_page_that_hangs_its_cluster_worker_is_recorded_as_not_extracted_and_the_rest_rebuilt(crawled, tmp_path,
                                                                                              monkeypatch):
    rows = read_corpus(crawled["out"])
    hangs = rows[len(rows) // 2]["url"]
    monkeypatch.setenv("NEWSARCHIVE_PAGE_SECONDS", "2")
    warcs = sorted(str(path) for path in (crawled["out"] / "warc").glob("*.warc.gz"))
    with dask_cluster_of("--preload", str(REPO / "tests" / "hanging_extractor.py"),
                         env={"NEWSARCHIVE_HANG_ON": hangs}, tries=2) as address:
        result = newsarchive("rebuild", "--warc", *warcs, "--out", str(tmp_path / "rebuilt"), "--scheduler", address,
                             timeout=120)  # without a limit on the page, for ever
    why = [line for line in result.stderr.splitlines() if "not extracted" in line and hangs in line]
    assert why and all(line.endswith("the extraction process died on it (KilledWorker)") for line in why), \
        result.stderr
    rebuilt = read_corpus(tmp_path / "rebuilt")
    assert [row["url"] for row in rebuilt] == [row["url"] for row in rows if row["url"] != hangs]


def test_a_page_that_hangs_a_local_clusters_worker_costs_two_tries(crawled, tmp_path, monkeypatch):
    """`--scheduler local` tries a task whose worker died twice, not Dask's four times."""
    from corpus.cluster import LOCAL_TRIES

    rows = read_corpus(crawled["out"])
    hangs = rows[len(rows) // 2]["url"]
    monkeypatch.setenv("NEWSARCHIVE_PAGE_SECONDS", "2")
    monkeypatch.setenv("NEWSARCHIVE_HANG_ON", hangs)
    monkeypatch.setenv("DASK_DISTRIBUTED__WORKER__PRELOAD", json.dumps([str(REPO / "tests" / "hanging_extractor.py")]))
    warcs = sorted(str(path) for path in (crawled["out"] / "warc").glob("*.warc.gz"))
    result = newsarchive("rebuild", "--warc", *warcs, "--out", str(tmp_path / "rebuilt"), "--scheduler", "local",
                         "--workers", "2", timeout=120)
    assert f"{hangs}: the extraction process died on it (KilledWorker)" in ok(result)
    # each try ends a worker, which prints its stacks: two for the piece, two for the page alone
    assert result.stderr.count("Timeout (0:00:02)!") == 2 * LOCAL_TRIES, result.stderr
    assert len(read_corpus(tmp_path / "rebuilt")) == len(rows) - 1


def test_a_scheduler_that_does_not_answer_is_one_line(foreign, tmp_path):
    result = newsarchive("rebuild", "--warc", str(foreign["other"]), "--out", str(tmp_path / "out"),
                         "--scheduler", f"tcp://127.0.0.1:{free_port()}")
    assert ok(result, code=2).startswith("newsarchive: cannot reach the Dask scheduler tcp://127.0.0.1:")


def test_another_tools_warc_cut_short_or_damaged_still_gives_every_article_before_the_damage(tmp_path):
    cut = write_warc(tmp_path / "cut.warc.gz", [lambda w, n=n: http_response(w, article_url(n), article_html(n))
                                                 for n in (1, 2, 3)])
    cut.write_bytes(cut.read_bytes()[:-700])  # a copy cut short in its last record
    plain = write_warc(tmp_path / "damaged.warc", [lambda w: http_response(w, article_url(4), article_html(4))],
                       gzipped=False)
    whole = plain.stat().st_size
    plain.write_bytes(plain.read_bytes() + b"\xfe\xff\0" * 1000)  # bytes that are no record after it
    result = newsarchive("rebuild", "--warc", str(cut), str(plain), "--out", str(tmp_path / "out"))
    stderr = ok(result, code=1)
    assert "2 records, 2 HTML pages, 2 articles; then unreadable after offset" in line_of(stderr, "cut.warc.gz")
    assert f"unreadable after offset {whole}:" in line_of(stderr, "damaged.warc")
    assert sorted(row["url"] for row in read_corpus(tmp_path / "out")) == [article_url(n) for n in (1, 2, 4)]


def test_import_of_a_warc_cut_short_or_damaged_adds_its_whole_records_and_leaves_the_archive_whole(tmp_path):
    cut = write_warc(tmp_path / "cut.warc.gz", [lambda w, n=n: http_response(w, article_url(n), article_html(n))
                                                 for n in (1, 2, 3)])
    cut.write_bytes(cut.read_bytes()[:-700])  # a crawl killed, a download cut short: its last record torn
    plain = write_warc(tmp_path / "damaged.warc", [lambda w: http_response(w, article_url(4), article_html(4))],
                       gzipped=False)
    plain.write_bytes(plain.read_bytes() + b"\xfe\xff\0" * 1000)  # bytes that are no record after it
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{tmp_path / "archive"}"\n')
    stderr = ok(newsarchive("import", "--config", str(config), str(cut), str(plain)), code=1)
    assert "cut.warc.gz: damaged or cut short after its first 2 records (unreadable after offset " in stderr
    assert "damaged.warc: damaged or cut short after its first 1 records (" in stderr
    assert sorted(row["url"] for row in read_corpus(tmp_path / "archive")) == [article_url(n) for n in (1, 2, 4)]
    # the archive holds no torn record: nothing for `check` to find, nothing to restore
    assert "problem" not in ok(newsarchive("check", "--config", str(config)))


def test_an_uncompressed_warc_cut_in_its_last_record_gives_the_articles_before_it_and_says_so(tmp_path):
    cut = write_warc(tmp_path / "cut.warc", [lambda w, n=n: http_response(w, article_url(n), article_html(n))
                                             for n in (1, 2)], gzipped=False)
    last = next(offset for url, offset in _record_offsets(cut) if url == article_url(2))
    cut.write_bytes(cut.read_bytes()[:last + 1500])  # cut amid the second article's page
    result = newsarchive("rebuild", "--warc", str(cut), "--out", str(tmp_path / "out"))
    line = line_of(ok(result, code=1), "cut.warc")
    assert f"then unreadable after offset {last}: its last record is cut short" in line, line
    assert [row["url"] for row in read_corpus(tmp_path / "out")] == [article_url(1)]


def _record_offsets(warc: Path) -> list[tuple[str, int]]:
    with open(warc, "rb") as stream:
        records = ArchiveIterator(stream)
        return [(record.rec_headers.get_header("WARC-Target-URI"), records.get_record_offset()) for record in records]


def test_import_of_a_warc_cut_in_the_head_of_its_last_record_says_so(tmp_path):
    """A tool killed as it began a record leaves a gzip member too short to hold the record's WARC headers, which
    warcio's recompressor passes over as the file's end: the import still says the file is cut short."""
    cut = write_warc(tmp_path / "killed.warc.gz", [lambda w, n=n: http_response(w, article_url(n), article_html(n))
                                                    for n in (1, 2, 3)])
    last = _record_offsets(cut)[-1][1]
    cut.write_bytes(cut.read_bytes()[:last + 60])  # the first 60 bytes of the third record's gzip member
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{tmp_path / "archive"}"\n')
    stderr = ok(newsarchive("import", "--config", str(config), str(cut)), code=1)
    assert (f"killed.warc.gz: damaged or cut short after its first 2 records (unreadable after offset {last}: the 60 "
            "bytes after it are not whole WARC records): those are imported") in stderr, stderr
    assert sorted(row["url"] for row in read_corpus(tmp_path / "archive")) == [article_url(1), article_url(2)]
    assert "problem" not in ok(newsarchive("check", "--config", str(config)))


def test_a_warc_whose_file_name_is_no_utf8_rebuilds_and_imports_under_a_name_the_corpus_can_hold(tmp_path):
    latin1 = tmp_path / os.fsdecode(b"caf\xe9.warc.gz")  # named on a Latin-1 system
    write_warc(latin1, [lambda w: http_response(w, article_url(1), article_html(1))])
    result = newsarchive("rebuild", "--warc", str(latin1), "--out", str(tmp_path / "out"))
    ok(result)
    [row] = read_corpus(tmp_path / "out")
    assert row["url"] == article_url(1) and row["warc_file"] == "caf\ufffd.warc.gz"

    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{tmp_path / "archive"}"\n')
    assert "caf\ufffd.warc.gz: imported as caf\ufffd-" in ok(newsarchive("import", "--config", str(config), str(latin1)))
    assert [row["url"] for row in read_corpus(tmp_path / "archive")] == [article_url(1)]
    ok(newsarchive("check", "--config", str(config)))


def test_a_rebuild_and_an_import_count_a_page_captured_earlier_in_a_later_file_once(tmp_path):
    """Read in name order, the later capture makes the row first, and the earlier one of the same text takes its
    place: one new article, not two."""
    later = write_warc(tmp_path / "a-later.warc.gz", [
        lambda w: http_response(w, article_url(1), article_html(1), **{"WARC-Date": "2026-10-02T00:00:00Z"})])
    earlier = write_warc(tmp_path / "b-earlier.warc.gz", [
        lambda w: http_response(w, article_url(1), article_html(1), **{"WARC-Date": "2026-10-01T00:00:00Z"}),
        lambda w: http_response(w, article_url(2), article_html(2), **{"WARC-Date": "2026-10-01T00:00:00Z"})])
    rebuilt = ok(newsarchive("rebuild", "--warc", str(later), str(earlier), "--out", str(tmp_path / "out")))
    assert rebuilt.splitlines()[-1] == f"2 articles from 2 files written to {tmp_path / 'out'}"
    assert [row["warc_file"] for row in read_corpus(tmp_path / "out")] == ["b-earlier.warc.gz"] * 2

    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{tmp_path / "archive"}"\n')
    imported = ok(newsarchive("import", "--config", str(config), str(later), str(earlier)))
    assert imported.splitlines()[-1] == "2 new articles in the corpus"

    # the same, the earlier file imported by a later command: its page's capture replaces a row already there
    config.write_text(f'[archive]\ndir = "{tmp_path / "second"}"\n')
    ok(newsarchive("import", "--config", str(config), str(later)))
    imported = ok(newsarchive("import", "--config", str(config), str(earlier)))
    assert imported.splitlines()[-1] == "1 new article in the corpus"
    assert [row["warc_file"].startswith("b-earlier-") for row in read_corpus(tmp_path / "second")] == [True] * 2


def test_a_deduplicating_crawl_imported_before_the_crawl_it_refers_to_gets_its_rows_once_that_one_is_imported(
        foreign, tmp_path):
    """Heritrix, wget --warc-dedup and warcprox write a page unchanged since an earlier crawl as a revisit of that
    crawl's record: imported first, its revisit waits for that payload, and the import of the earlier crawl takes it,
    so the corpus is the one a rebuild of the archive's WARCs gives, whatever order the crawls were imported in."""
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{tmp_path / "archive"}"\n')
    first = ok(newsarchive("import", "--config", str(config), str(foreign["heritrix"])))
    assert "1 revisit of a payload in none of these files" in first, first
    assert [row["url"] for row in read_corpus(tmp_path / "archive")] == [article_url(1)]

    second = ok(newsarchive("import", "--config", str(config), str(foreign["other"])))
    [heritrix] = (tmp_path / "archive" / "warc").glob("heritrix-*.warc.gz")
    assert f"{heritrix.name}: 1 revisit read before the payload it refers to, taken now" in second, second
    assert second.splitlines()[-1] == "2 new articles in the corpus", second
    rows = {row["url"]: row for row in read_corpus(tmp_path / "archive")}
    assert set(rows) == {article_url(1), article_url(2), f"{HOST}/amp/story-2"}
    assert rows[f"{HOST}/amp/story-2"]["text_sha256"] == rows[article_url(2)]["text_sha256"]

    rebuilt = tmp_path / "rebuilt"
    ok(newsarchive("rebuild", "--warc", str(tmp_path / "archive" / "warc"), "--out", str(rebuilt)))
    assert corpus_files(tmp_path / "archive") == corpus_files(rebuilt)
    again = ok(newsarchive("import", "--config", str(config), str(foreign["other"])))  # nothing waits any more
    assert "taken now" not in again and again.splitlines()[-1] == "0 new articles in the corpus", again


def test_a_record_whose_content_length_is_wrong_is_one_line_naming_the_file_and_the_rest_is_read(tmp_path):
    """warcio wrote three lines to stderr, the stray bytes among them, for a record not followed by the blank
    lines that end it (a tool that wrote a Content-Length a few bytes short), and named no file."""
    warc = write_warc(tmp_path / "short-length.warc", [lambda w, n=n: http_response(w, article_url(n), article_html(n))
                                                       for n in (1, 2)], gzipped=False)
    data = warc.read_bytes()
    declared = data.index(b"Content-Length: ", data.index(b"WARC-Type: response"))
    end = data.index(b"\r\n", declared)
    length = int(data[declared + 16:end])
    warc.write_bytes(data[:declared + 16] + str(length - 7).encode() + data[end:])  # "</html>" left over
    stderr = ok(newsarchive("rebuild", "--warc", str(warc), "--out", str(tmp_path / "out")))
    assert "Remainder" not in stderr and "</html>" not in stderr, stderr
    [line] = [line for line in stderr.splitlines() if "Content-Length" in line]
    assert line.startswith("short-length.warc: offset "), line
    assert sorted(row["url"] for row in read_corpus(tmp_path / "out")) == [article_url(1), article_url(2)]


def test_a_copy_of_a_file_under_another_name_says_why_it_gives_no_article(tmp_path):
    """Its line said "2 HTML pages, 0 articles", as if its pages were no articles."""
    first = write_warc(tmp_path / "a.warc.gz", [lambda w, n=n: http_response(w, article_url(n), article_html(n))
                                                for n in (1, 2)])
    copy = tmp_path / "b-copy.warc.gz"
    shutil.copyfile(first, copy)
    stderr = ok(newsarchive("rebuild", "--warc", str(first), str(copy), "--out", str(tmp_path / "out")))
    assert line_of(stderr, "a.warc.gz") == "a.warc.gz: 2 records, 2 HTML pages, 2 articles", stderr
    assert line_of(stderr, "b-copy.warc.gz") == ("b-copy.warc.gz: 2 records, 2 HTML pages, 0 articles; 2 captures the "
                                                 "corpus holds already (the same records: a copy of a file read "
                                                 "before)"), stderr
    assert len(read_corpus(tmp_path / "out")) == 2


def test_an_article_whose_gzip_body_breaks_partway_is_extracted_from_what_decoded_and_said_in_one_line(tmp_path):
    """warcio's decoder writes zlib's message to stderr for every block left of a corrupt body, naming nothing: the
    derivation stops at the break, extracts what decoded and says so once, naming the file, the URL and how far."""
    def gzipped_article(writer: WARCWriter, number: int, corrupt: bool):
        # the story, then 200 KB of random bytes in a comment: the break falls after the story's text
        html = article_html(number).replace(
            b"</article>", b"</article><!-- " + base64.b64encode(os.urandom(150_000)) + b" -->")
        body = gzip.compress(html)
        if corrupt:  # random bytes from half its length on
            body = body[:len(body) // 2] + os.urandom(len(body) - len(body) // 2)
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                              ("Content-Encoding", "gzip"), ("Content-Length", str(len(body)))],
                                   protocol="HTTP/1.1")
        return writer.create_warc_record(article_url(number), "response", payload=io.BytesIO(body),
                                         length=len(body), http_headers=headers)

    warc = write_warc(tmp_path / "broken.warc.gz", [lambda w: gzipped_article(w, 1, corrupt=True),
                                                    lambda w: gzipped_article(w, 2, corrupt=False)])
    stderr = ok(newsarchive("rebuild", "--warc", str(warc), "--out", str(tmp_path / "out")))
    assert "Error -3" not in stderr.replace("(gzip: Error -3", ""), stderr
    assert "decompressing" not in stderr.replace("(gzip: Error -3 while decompressing", ""), stderr
    [said] = [line for line in stderr.splitlines() if "breaks" in line]
    assert said.startswith(f"broken.warc.gz@0 {article_url(1)}: body breaks after ") and \
        said.endswith("its text is from what decoded"), said
    assert "bytes decoded (gzip: " in said, said
    assert line_of(stderr, "broken.warc.gz").startswith("broken.warc.gz: 2 records, 2 HTML pages, 2 articles")
    rows = read_corpus(tmp_path / "out")
    assert [row["url"] for row in rows] == [article_url(1), article_url(2)]
    text = (tmp_path / "out" / rows[0]["text_path"]).read_text()  # the story came before the break
    assert text.startswith("Story 1:") and text.count("\n") > 10, text


def test_a_folder_given_to_rebuild_import_and_extract_is_read_as_the_archives_in_it(tmp_path):
    """Researchers give the folder of a crawl: its web archives at any depth are read as if named, and the files in
    it that are none (wget's .cdx) are left aside in one line, not an error, as the crawl's folder holds them."""
    crawl = tmp_path / "crawl"
    (crawl / "warcs").mkdir(parents=True)
    first = write_warc(crawl / "warcs" / "a.warc.gz", [lambda w: http_response(w, article_url(1), article_html(1))])
    second = write_warc(crawl / "warcs" / "b.warc.gz", [lambda w: http_response(w, article_url(2), article_html(2))])
    (crawl / "crawl.cdx").write_text(" CDX a b a m s k r M V g\n")
    aside = f"{crawl}: left aside 1 file(s) in it that are no web archive: crawl.cdx"
    named = newsarchive("rebuild", "--warc", str(first), str(second), "--out", str(tmp_path / "named"))
    assert "2 articles from 2 files" in ok(named)
    folder = newsarchive("rebuild", "--warc", str(crawl), "--out", str(tmp_path / "folder"))
    stderr = ok(folder)
    assert aside in stderr.splitlines() and "not a WARC or ARC file" not in stderr, stderr
    assert "2 articles from 2 files" in stderr
    assert corpus_files(tmp_path / "folder") == corpus_files(tmp_path / "named") != {}
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{tmp_path / "archive"}"\n')
    imported = ok(newsarchive("import", "--config", str(config), str(crawl)))
    assert "2 new articles in the corpus" in imported and aside in imported.splitlines(), imported
    extracted = newsarchive("extract", str(crawl))
    assert f"newsarchive extract: {aside}" in ok(extracted).splitlines()
    assert [json.loads(line)["url"] for line in extracted.stdout.splitlines()] == [article_url(1), article_url(2)]


def two_ports_warc(path: Path, numbers: tuple[int, int], date: str = "2026-10-01T00:00:00Z") -> Path:
    """Another tool's captures of two sites on one loopback address, on ports 8851 and 8852, and of one without a
    port: article ``numbers[0]`` at each, ``numbers[1]`` at the second."""
    first, second = numbers
    return write_warc(path, [
        lambda w: http_response(w, "http://127.0.0.1:8851/2026/10/story", article_html(first), **{"WARC-Date": date}),
        lambda w: http_response(w, "http://127.0.0.1:8852/2026/10/story", article_html(first), **{"WARC-Date": date}),
        lambda w: http_response(w, "http://127.0.0.1:8852/2026/10/other", article_html(second), **{"WARC-Date": date}),
        lambda w: http_response(w, f"{HOST}/2026/10/story", article_html(first), **{"WARC-Date": date})])


def test_two_sites_on_one_host_and_two_ports_are_two_sources(tmp_path):
    warc = two_ports_warc(tmp_path / "two-ports.warc.gz", (1, 2))
    ok(newsarchive("rebuild", "--warc", str(warc), "--out", str(tmp_path / "out")))
    sources = {(row["source"], row["url"].rpartition("/")[2]) for row in read_corpus(tmp_path / "out")}
    assert sources == {("127.0.0.1_8851", "story"), ("127.0.0.1_8852", "story"), ("127.0.0.1_8852", "other"),
                       ("news.example", "story")}


def test_a_store_that_put_two_ports_under_one_source_takes_the_sources_a_rebuild_gives(tmp_path, monkeypatch):
    """A store made when another tool's captures were under their host alone: the next derivation moves those of a
    port to the port's source, so a later capture of their URLs joins their rows (not a second row under another
    source), and the corpus is the rebuild's; those of a host without a port are not touched."""
    import sqlite3
    from functools import partial

    import archive.reader
    from corpus.derive import derive_files
    from corpus.store import STORE_FILE, CorpusStore

    first = two_ports_warc(tmp_path / "a.warc.gz", (1, 2))
    later = two_ports_warc(tmp_path / "b.warc.gz", (3, 4), date="2026-10-02T00:00:00Z")
    with monkeypatch.context() as old:
        old.setattr(archive.reader, "foreign_source", partial(archive.reader.foreign_source, port=False))
        derive_files(tmp_path / "old", [first], workers=1)
    with sqlite3.connect(tmp_path / "old" / STORE_FILE) as db:
        assert {source for (source,) in db.execute("SELECT source FROM captures")} == {"127.0.0.1", "news.example"}
        db.execute("PRAGMA user_version = 1")  # as the store was then
    unported = {name: data for name, data in corpus_files(tmp_path / "old").items() if "news.example" in name}
    with CorpusStore(tmp_path / "old"):  # opened by the next command
        pass
    assert {name: data for name, data in corpus_files(tmp_path / "old").items() if "news.example" in name} == unported

    derive_files(tmp_path / "old", [later], workers=1)
    derive_files(tmp_path / "rebuilt", [first, later], workers=1)
    assert corpus_files(tmp_path / "old") == corpus_files(tmp_path / "rebuilt")
    assert len({(row["source"], row["url"]) for row in read_corpus(tmp_path / "old")}) == 4


# `CorpusStore(ROOT)` in a process SIGKILLed as the first upgrade that replaced text files has committed, before it
# removes the ones it replaced
KILLED_AFTER_COMMIT = """
import os, signal, sys
from corpus.store import CorpusStore
def killed(self, paths):
    if set(paths):
        os.kill(os.getpid(), signal.SIGKILL)
CorpusStore._remove_stale = killed
CorpusStore(sys.argv[1])
"""


def texts_of(root: Path) -> dict[str, bytes]:
    return {name: data for name, data in corpus_files(root).items() if name != "corpus.jsonl"}


def two_ports_upgrade_killed_after_its_commit(tmp_path: Path, monkeypatch) -> Path:
    """A store made when another tool's captures were under their host alone, whose upgrade (moving those of a port
    to the port's source) was SIGKILLed after its commit: the store, its texts as a rebuild makes them in
    ``tmp_path / "rebuilt"``."""
    import sqlite3
    from functools import partial

    import archive.reader
    from corpus.derive import derive_files
    from corpus.store import STORE_FILE

    first = two_ports_warc(tmp_path / "a.warc.gz", (1, 2))
    with monkeypatch.context() as old:
        old.setattr(archive.reader, "foreign_source", partial(archive.reader.foreign_source, port=False))
        derive_files(tmp_path / "old", [first], workers=1)
    with sqlite3.connect(tmp_path / "old" / STORE_FILE) as db:
        db.execute("PRAGMA user_version = 1")  # as the store was then
    db.close()
    killed = subprocess.run([sys.executable, "-c", KILLED_AFTER_COMMIT, str(tmp_path / "old")], cwd=REPO)
    assert killed.returncode == -9
    derive_files(tmp_path / "rebuilt", [first], workers=1)
    assert set(texts_of(tmp_path / "old")) > set(texts_of(tmp_path / "rebuilt"))  # the moved ones' old texts too
    return tmp_path / "old"


def test_a_store_upgrade_killed_after_its_commit_leaves_the_texts_it_replaced_to_the_next_opening(tmp_path,
                                                                                                  monkeypatch):
    """Before: the text files of the captures the upgrade had moved to their port's source stayed under the host's
    folder for good, named by no row, and no command removed or named them."""
    old = two_ports_upgrade_killed_after_its_commit(tmp_path, monkeypatch)
    with CorpusStore(old):  # opened by the next command
        pass
    assert texts_of(old) == texts_of(tmp_path / "rebuilt")


def test_text_files_no_corpus_row_names_are_named_by_check_and_removed_by_check_repair(tmp_path, monkeypatch):
    """Before: text files that a process killed after its commit left (here by a version that kept no note of them
    for the next opening) stayed for good, and `check` said nothing of them."""
    from corpus.store import STORE_FILE

    old = two_ports_upgrade_killed_after_its_commit(tmp_path, monkeypatch)
    with sqlite3.connect(old / STORE_FILE) as db:
        db.execute("DROP TABLE IF EXISTS stale_texts")
    db.close()
    unnamed = len(texts_of(old)) - len(texts_of(tmp_path / "rebuilt"))
    (old / "warc").mkdir()
    shutil.copy(tmp_path / "a.warc.gz", old / "warc")  # the archive's WARC its rows cite
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{old}"\n')
    checked = newsarchive("check", "--config", str(config))
    # a note (exit 0 but for the replay index this bare archive lacks, a problem of its own)
    assert f"note: {unnamed} text files in text/ that no corpus row names" in checked.stderr, checked.stderr
    repaired = newsarchive("check", "--repair", "--config", str(config))
    assert repaired.returncode == 0 and f"removed {unnamed} text files in text/ that no corpus row names" in repaired.stderr, \
        repaired.stdout + repaired.stderr
    assert texts_of(old) == texts_of(tmp_path / "rebuilt")


def revisit_of(writer: WARCWriter, url: str, body: bytes, date: str = "2026-10-02T00:00:00Z"):
    """A revisit record at ``url`` of the payload ``body`` as ``http_response`` writes it (its original at ``url``)."""
    digest = http_response(WARCWriter(io.BytesIO()), url, body).rec_headers.get_header("WARC-Payload-Digest")
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
    return writer.create_revisit_record(url, digest, url, "2026-10-01T00:00:00Z", http_headers=headers,
                                        warc_headers_dict={"WARC-Date": date})


SECTION_PAGE = b"<html><head><title>News</title></head><body><ul><li><a href='/2026/10/story-1'>Story 1</a></li>" \
               b"</ul></body></html>"


def test_a_second_import_of_revisits_of_pages_the_archive_holds_says_none_is_missing(tmp_path):
    """warcprox and `wget --warc-dedup` write an unchanged page again as a revisit of the first crawl's response:
    imported after that crawl, each revisit's original is in the archive, whether it gave an article or not."""
    first = write_warc(tmp_path / "first.warc.gz", [
        lambda w: http_response(w, article_url(1), article_html(1)),
        lambda w: http_response(w, f"{HOST}/news", SECTION_PAGE)])
    second = write_warc(tmp_path / "second.warc.gz", [
        lambda w: revisit_of(w, article_url(1), article_html(1)),
        lambda w: revisit_of(w, f"{HOST}/news", SECTION_PAGE),
        lambda w: revisit_of(w, article_url(2), article_html(2))])  # its original is nowhere
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{tmp_path / "archive"}"\n')
    ok(newsarchive("import", "--config", str(config), str(first)))
    imported = ok(newsarchive("import", "--config", str(config), str(second)))
    [line] = [line for line in imported.splitlines() if line.startswith("second-")]
    assert "skipped: 1 revisit of a payload in none of these files" in line, line
    rebuilt = line_of(ok(newsarchive("rebuild", "--warc", str(first), str(second), "--out", str(tmp_path / "out"))),
                      "second.warc.gz")
    assert line.partition(":")[2] == rebuilt.partition(":")[2]
    assert [row["url"] for row in read_corpus(tmp_path / "archive")] == [article_url(1)]


def test_a_revisit_whose_digest_is_in_another_encoding_of_its_originals_hash_is_matched_to_it(tmp_path):
    """One tool writes the SHA-1 of a payload in hex, warcprox and pywb in base 32: one payload all the same, in a
    rebuild of both files and in an import of the revisits after the originals."""
    body = article_html(1)
    sha1 = hashlib.sha1(body).digest()
    original = write_warc(tmp_path / "hex.warc.gz", [
        lambda w: http_response(w, article_url(1), body, **{"WARC-Payload-Digest": f"sha1:{sha1.hex()}",
                                                           "WARC-Date": "2026-10-01T00:00:00Z"})])
    revisit = write_warc(tmp_path / "base32.warc.gz", [lambda w: revisit_of(w, article_url(1), body)])
    assert f"sha1:{base64.b32encode(sha1).decode()}" in gzip.decompress(revisit.read_bytes()).decode("latin-1")
    line = line_of(ok(newsarchive("rebuild", "--warc", str(original), str(revisit), "--out", str(tmp_path / "out"))),
                   "base32.warc.gz")
    assert "none of these files" not in line and "1 article" in line, line
    rows = read_corpus(tmp_path / "out")
    assert [(row["url"], row["version"], row["payload_digest"]) for row in rows] == [
        (article_url(1), 1, f"sha1:{sha1.hex()}")]  # the rows as the records have them

    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{tmp_path / "archive"}"\n')
    ok(newsarchive("import", "--config", str(config), str(original)))
    imported = ok(newsarchive("import", "--config", str(config), str(revisit)))
    assert "none of these files" not in imported, imported
    with sqlite3.connect(tmp_path / "archive" / "derived" / "corpus.sqlite") as db:
        assert db.execute("SELECT count(*) FROM captures WHERE is_primary = 1").fetchone() == (1,)


def test_the_look_up_of_a_revisits_original_among_the_archives_captures_reads_the_index_not_every_capture(tmp_path):
    """An import of revisits whose originals are not in its files looks them up among every capture the archive
    holds: by the payload index, so that its cost does not grow with the archive's age."""
    with CorpusStore(tmp_path) as store:
        plan = store._db.execute("EXPLAIN QUERY PLAN SELECT DISTINCT payload_key FROM captures WHERE payload_key IN "
                                 "(SELECT value FROM json_each(?))", ("[]",)).fetchall()
    assert any(step[-1].startswith("SEARCH captures USING COVERING INDEX") for step in plan), plan
    assert not any(step[-1].startswith("SCAN captures") for step in plan), plan


def test_a_run_that_takes_over_another_tools_imported_copy_counts_no_article_new_twice_and_none_negative(tmp_path):
    """Another tool's copy of an article, imported before we ever crawled its site, is a row under its host's source;
    our run of the site takes it under ours.  Before: the run's derivation counted the host -1 and ours +3, and the
    run's report said 2 new articles and '1 from earlier runs' WARCs' (3 for a corpus that grew by 2)."""
    from demo.farm import ArticleFarm, article_path
    from test_incremental import write_config

    with ArticleFarm(3) as farm:
        config = write_config(None, tmp_path / "sources.toml", tmp_path, [farm.source()])
        copy = write_warc(tmp_path / "wget.warc.gz", [lambda writer: http_response(
            writer, farm.url + article_path(0), article_html(0), **{"WARC-Date": "2020-01-01T00:00:00Z"})])
        assert "1 new article in the corpus" in ok(newsarchive("import", "--config", str(config), str(copy)))
        ok(newsarchive("run", "--config", str(config)))
    [report] = [json.loads(path.read_text()) for path in (tmp_path / "runs").glob("*.json")]
    corpus, [source] = report["corpus"], report["sources"]
    counts = [*corpus["new_articles"].values(), *corpus["from_earlier_runs"].values(),
              *corpus["from_unfinished_runs"].values()]
    assert min(counts) >= 0 and sum(counts) == len(read_corpus(tmp_path)) - 1 == 2, corpus
    assert (source["new_articles"], source["from_earlier_runs"]) == (2, 0), source
    assert "earlier runs" not in ok(newsarchive("status", "--config", str(config)))


def test_captures_an_older_version_wrote_after_the_upgrade_join_the_upgraded_corpus(tmp_path, monkeypatch):
    """An operator rolls back one release over an upgraded store: the older version writes captures without a payload
    key, another tool's of a port under the host alone and dates as pages wrote them.  The next opening by this
    version takes them in as the upgrades took the store's, and the corpus is the rebuild's."""
    import sqlite3
    from functools import partial

    import archive.reader
    from corpus.derive import derive_files
    from corpus.store import STORE_FILE, CorpusStore

    first = two_ports_warc(tmp_path / "a.warc.gz", (1, 2))
    rolled_back = two_ports_warc(tmp_path / "b.warc.gz", (3, 4), date="2026-10-02T00:00:00Z")
    later = two_ports_warc(tmp_path / "c.warc.gz", (3, 5), date="2026-10-03T00:00:00Z")
    derive_files(tmp_path / "live", [first], workers=1)  # upgraded
    with monkeypatch.context() as old:
        old.setattr(archive.reader, "foreign_source", partial(archive.reader.foreign_source, port=False))
        derive_files(tmp_path / "live", [rolled_back], workers=1)
    with sqlite3.connect(tmp_path / "live" / STORE_FILE) as db:  # the older version knew no payload key
        db.execute("UPDATE captures SET payload_key = NULL WHERE warc_file = 'b.warc.gz'")
        assert {source for (source,) in db.execute("SELECT source FROM captures WHERE warc_file = 'b.warc.gz'")} \
            == {"127.0.0.1", "news.example"}
    with CorpusStore(tmp_path / "live"):  # opened by the next command
        pass
    derive_files(tmp_path / "live", [later], workers=1)
    derive_files(tmp_path / "rebuilt", [first, rolled_back, later], workers=1)
    assert corpus_files(tmp_path / "live") == corpus_files(tmp_path / "rebuilt")
    with sqlite3.connect(tmp_path / "live" / STORE_FILE) as db:
        assert db.execute("SELECT count(*) FROM captures WHERE payload_key IS NULL").fetchone() == (0,)
