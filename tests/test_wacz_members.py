"""A WACZ may hold two WARCs of one file name in two folders (its ``resources`` paths are what tell
files apart): `rebuild`, `extract` and `import` take every WARC of it, each under a name of its own,
with its captures, positions and revisits right, and taking it again adds nothing.
"""

from __future__ import annotations

import hashlib
import io
import json
import urllib.request
import zipfile
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.capture_http import capture_http
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive_fixtures import corpus_files, newsarchive
from corpus.export import read_corpus
from demo.site import DemoSite

MEMBERS = ("archive/a/data.warc.gz", "archive/b/data.warc.gz")


def ok(result, code: int = 0) -> str:
    """stderr of a command that exited with ``code`` and printed no traceback."""
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.returncode == code, result.stderr
    return result.stderr


def payload_digest(warc: Path, url: str) -> str:
    with open(warc, "rb") as stream:
        return next(record.rec_headers.get_header("WARC-Payload-Digest") for record in ArchiveIterator(stream)
                    if record.rec_type == "response" and record.rec_headers.get_header("WARC-Target-URI") == url)


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> dict:
    """A WACZ holding ``archive/a/data.warc.gz`` (three gazette articles fetched from the demo site over HTTP by
    warcio) and ``archive/b/data.warc.gz`` (three herald articles, and a revisit at another URL of the first
    gazette article's payload, as Heritrix writes one: its response is in the other file of the same name)."""
    folder = tmp_path_factory.mktemp("wacz")
    with DemoSite() as site, zipfile.ZipFile(folder / "two-folders.wacz", "w") as wacz:
        urls = {member: site.article_urls(name)[:3] for member, name in zip(MEMBERS, ("gazette", "herald"))}
        warcs = {member: folder / member.replace("/", "-") for member in MEMBERS}
        for member, member_urls in urls.items():
            with capture_http(str(warcs[member])):
                for url in member_urls:
                    urllib.request.urlopen(url).read()
        first = urls[MEMBERS[0]][0]
        revisit_url = first.replace("/news/", "/amp/")
        with open(warcs[MEMBERS[1]], "ab") as stream:
            writer = WARCWriter(stream, gzip=True)
            revisit = writer.create_revisit_record(
                revisit_url, payload_digest(warcs[MEMBERS[0]], first), first, "2026-10-01T00:00:00Z",
                http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1"))
            revisit.rec_headers.add_header("WARC-Refers-To-Filename", "data.warc.gz")
            writer.write_record(revisit)
        for member, warc in warcs.items():
            wacz.write(warc, member)
        wacz.writestr("datapackage.json", json.dumps({"profile": "data-package", "wacz_version": "1.1.1",
                                                      "resources": [{"name": "data.warc.gz", "path": member}
                                                                    for member in MEMBERS]}))
        (folder / "archive").mkdir()
        config = site.write_config(folder / "archive" / "sources.toml", folder / "archive")
    members = {member: warc.read_bytes() for member, warc in warcs.items()}
    return {"wacz": folder / "two-folders.wacz", "config": config, "members": members,
            "articles": sorted(urls[MEMBERS[0]] + urls[MEMBERS[1]]), "revisit": (revisit_url, first)}


def read_as(member: bytes) -> str:
    """The name a WARC of the package is read as: its name, told from the other's by its SHA-256."""
    return f"data-{hashlib.sha256(member).hexdigest()[:12]}.warc.gz"


def record_at(member: bytes, offset: int) -> str:
    """The WARC-Target-URI of the record at ``offset``."""
    stream = io.BytesIO(member)
    stream.seek(offset)
    return next(iter(ArchiveIterator(stream))).rec_headers.get_header("WARC-Target-URI")


def test_a_wacz_with_two_warcs_of_one_name_rebuilds_into_the_articles_of_both(package, tmp_path):
    stderr = ok(newsarchive("rebuild", "--warc", str(package["wacz"]), "--out", str(tmp_path / "out")))
    rows = read_corpus(tmp_path / "out")
    revisit_url, revisited = package["revisit"]
    assert sorted(row["url"] for row in rows) == sorted([*package["articles"], revisit_url]), stderr
    by_name = {read_as(member): member for member in package["members"].values()}
    assert len(by_name) == 2 and {row["warc_file"] for row in rows} == set(by_name)
    for row in rows:  # each row names the record it was made from, in the WARC of the package that holds it
        assert record_at(by_name[row["warc_file"]], row["warc_offset"]) == row["url"]
    text = {row["url"]: (tmp_path / "out" / row["text_path"]).read_bytes() for row in rows}
    assert text[revisit_url] == text[revisited]  # the revisit's payload, from the other file of the same name
    for name in by_name:
        assert f"{name}: " in stderr

    ok(newsarchive("rebuild", "--warc", str(package["wacz"]), "--out", str(tmp_path / "again")))
    assert corpus_files(tmp_path / "again") == corpus_files(tmp_path / "out")


def test_a_wacz_with_two_warcs_of_one_name_imports_both_once(package, tmp_path):
    archive = package["config"].parent
    first = ok(newsarchive("import", "--config", str(package["config"]), str(package["wacz"])))
    revisit_url, _ = package["revisit"]
    rows = read_corpus(archive)
    assert sorted(row["url"] for row in rows) == sorted([*package["articles"], revisit_url]), first
    warcs = {path.name: path.read_bytes() for path in (archive / "warc").glob("*.warc.gz")}
    assert len(warcs) == 2
    ok(newsarchive("check", "--config", str(package["config"])))  # indexed for replay where the records are

    again = ok(newsarchive("import", "--config", str(package["config"]), str(package["wacz"])))
    assert again.count("records are already in the archive") == 2 and "0 new articles" in again
    assert read_corpus(archive) == rows
    assert {path.name: path.read_bytes() for path in (archive / "warc").glob("*.warc.gz")} == warcs


def test_warcs_of_one_name_in_two_folders_given_in_either_order_rebuild_as_their_package_does(package, tmp_path):
    ok(newsarchive("rebuild", "--warc", str(package["wacz"]), "--out", str(tmp_path / "from-package")))
    given = []
    for member, data in reversed(package["members"].items()):
        (tmp_path / member).parent.mkdir(parents=True)
        (tmp_path / member).write_bytes(data)
        given.append(str(tmp_path / member))
    ok(newsarchive("rebuild", "--warc", *given, "--out", str(tmp_path / "from-folders")))
    assert corpus_files(tmp_path / "from-folders") == corpus_files(tmp_path / "from-package")
