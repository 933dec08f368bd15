"""Records of other tools' WARCs that bend the rules, written here with warcio: a WARC-Record-ID reused by a
different record, a response without a WARC-Record-ID, a page without a Content-Type, a body sent with a
transfer coding, a target URI with a fragment.  Each capture still becomes its row, once, and the same on
every rebuild.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive_fixtures import corpus_files, newsarchive
from corpus.export import read_corpus
from demo.farm import article_html
from test_foreign_archives import article_url, http_response, line_of, ok, write_warc

REUSED_ID = "<urn:uuid:00000000-0000-0000-0000-000000000001>"
OTHER_ID = "<urn:uuid:00000000-0000-0000-0000-000000000002>"
# A PNG's first bytes: what a browser sniffs as an image
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)


def with_headers(make, **changes: str | None):
    """``make``'s record with WARC headers replaced (a value) or removed (None), as another tool might write it."""
    def made(writer: WARCWriter):
        record = make(writer)
        for name, value in changes.items():
            name = name.replace("_", "-")
            if value is None:
                record.rec_headers.remove_header(name)
            else:
                record.rec_headers.replace_header(name, value)
        return record
    return made


def response_as_sent(writer: WARCWriter, url: str, body: bytes, headers: list[tuple[str, str]],
                     protocol: str = "HTTP/1.1"):
    """A response record whose HTTP headers are exactly ``headers``: none added."""
    return writer.create_warc_record(url, "response", payload=io.BytesIO(body), length=len(body),
                                     http_headers=StatusAndHeaders("200 OK", headers, protocol=protocol))


def article(number: int):
    return lambda writer: http_response(writer, article_url(number), article_html(number))


def chunked(body: bytes, size: int = 100) -> bytes:
    return b"".join(b"%x\r\n" % len(body[at:at + size]) + body[at:at + size] + b"\r\n"
                    for at in range(0, len(body), size)) + b"0\r\n\r\n"


def title_of(number: int) -> str:
    return article_html(number).decode().partition("<title>")[2].partition("</title>")[0]


def rows_by_url(out: Path) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for row in read_corpus(out):
        found.setdefault(row["url"], []).append(row)
    return found


def test_a_record_reusing_another_records_id_is_its_own_row_and_said_so(tmp_path):
    first = write_warc(tmp_path / "a-first.warc.gz", [with_headers(article(1), WARC_Record_ID=REUSED_ID)])
    reused = write_warc(tmp_path / "b-reused.warc.gz", [with_headers(article(2), WARC_Record_ID=REUSED_ID)])
    copy = tmp_path / "c-copy.warc.gz"  # the same record again: still one capture
    copy.write_bytes(first.read_bytes())
    twice = write_warc(tmp_path / "d-twice.warc.gz", [with_headers(article(3), WARC_Record_ID=REUSED_ID),
                                                       with_headers(article(4), WARC_Record_ID=OTHER_ID),
                                                       with_headers(article(5), WARC_Record_ID=OTHER_ID)])
    given = [str(path) for path in (first, reused, copy, twice)]

    stderr = ok(newsarchive("rebuild", "--warc", *given, "--out", str(tmp_path / "out")))
    assert line_of(stderr, "b-reused.warc.gz") == (
        "b-reused.warc.gz: 1 record, 1 HTML page, 1 article; 1 capture with the WARC-Record-ID of another record "
        "(a-first.warc.gz@0): keyed by file and offset")
    assert "; 2 captures with the WARC-Record-ID of another record (a-first.warc.gz@0, ...)" \
        in line_of(stderr, "d-twice.warc.gz")
    rows = rows_by_url(tmp_path / "out")
    assert sorted(rows) == sorted(article_url(number) for number in (1, 2, 3, 4, 5))
    assert all(len(found) == 1 for found in rows.values())
    assert rows[article_url(1)][0]["warc_record_id"] == REUSED_ID
    assert rows[article_url(2)][0]["warc_record_id"] == "<urn:warc:b-reused.warc.gz:0>"
    assert "5 articles from 4 files" in stderr

    ok(newsarchive("rebuild", "--warc", *given, "--out", str(tmp_path / "again")))
    assert corpus_files(tmp_path / "again") == corpus_files(tmp_path / "out")


def test_import_takes_a_record_whose_id_the_archive_holds_for_another_record(tmp_path):
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{tmp_path / "archive"}"\n')
    first = write_warc(tmp_path / "first.warc.gz", [with_headers(article(1), WARC_Record_ID=REUSED_ID)])
    reused = write_warc(tmp_path / "reused.warc.gz", [with_headers(article(2), WARC_Record_ID=REUSED_ID)])
    ok(newsarchive("import", "--config", str(config), str(first)))

    stderr = ok(newsarchive("import", "--config", str(config), str(reused)))
    assert "reused.warc.gz: imported as reused-" in stderr, stderr
    assert "1 capture with the WARC-Record-ID of another record (first-" in stderr
    assert "1 new article in the corpus" in stderr
    assert sorted(rows_by_url(tmp_path / "archive")) == [article_url(1), article_url(2)]

    again = ok(newsarchive("import", "--config", str(config), str(reused)))
    assert "reused.warc.gz: its 1 records are already in the archive, in reused-" in again


def test_which_of_two_records_sharing_an_id_keeps_it_does_not_depend_on_the_order_they_are_read(tmp_path):
    """Before: the ID went to the record read first, so importing the two files in the other order, or naming them
    so they sort the other way, gave another corpus (each row naming the other key)."""
    changed = lambda writer: http_response(writer, article_url(3), article_html(4))  # noqa: E731 - story 3 changed
    early = write_warc(tmp_path / "z-early.warc.gz", [
        with_headers(article(1), WARC_Record_ID=REUSED_ID, WARC_Date="2020-01-01T00:00:00Z"),
        with_headers(article(3), WARC_Record_ID=OTHER_ID, WARC_Date="2020-01-01T00:00:00Z")])
    late = write_warc(tmp_path / "a-late.warc.gz", [
        with_headers(article(2), WARC_Record_ID=REUSED_ID, WARC_Date="2024-01-01T00:00:00Z"),
        with_headers(changed, WARC_Record_ID=OTHER_ID, WARC_Date="2024-01-01T00:00:00Z")])
    corpora, logs = [], []
    for name, order in (("early-first", (early, late)), ("late-first", (late, early))):
        config = tmp_path / f"{name}.toml"
        config.write_text(f'[archive]\ndir = "{tmp_path / name}"\n')
        logs.append("".join(ok(newsarchive("import", "--config", str(config), str(warc))) for warc in order))
        corpora.append(corpus_files(tmp_path / name))
    assert corpora[0] == corpora[1]
    rows = rows_by_url(tmp_path / "late-first")
    assert rows[article_url(1)][0]["warc_record_id"] == REUSED_ID  # the earliest WARC-Date keeps the ID
    assert rows[article_url(2)][0]["warc_record_id"] == f"<urn:warc:{rows[article_url(2)][0]['warc_file']}:0>"
    assert [row["warc_record_id"] for row in rows[article_url(3)]] == [
        OTHER_ID, f"<urn:warc:{rows[article_url(2)][0]['warc_file']}:{rows[article_url(3)][1]['warc_offset']}>"]
    for log in logs:  # one line names both files, whichever came first
        said = [line for line in log.splitlines() if "WARC-Record-ID" in line]
        assert len(said) == 1 and "z-early-" in said[0] and "a-late-" in said[0], log
    # The archive's WARCs rebuilt give its corpus, as they do for the archive's own.
    ok(newsarchive("rebuild", "--warc", *map(str, (tmp_path / "late-first" / "warc").glob("*.warc.gz")),
                   "--out", str(tmp_path / "late-first-rebuilt")))
    assert corpus_files(tmp_path / "late-first-rebuilt") == corpora[1]

    # A rebuild reads a-late first (by name), and gives the ID to z-early too.
    ok(newsarchive("rebuild", "--warc", str(late), str(early), "--out", str(tmp_path / "rebuilt")))
    rebuilt = rows_by_url(tmp_path / "rebuilt")
    assert rebuilt[article_url(1)][0]["warc_record_id"] == REUSED_ID
    assert rebuilt[article_url(2)][0]["warc_record_id"] == "<urn:warc:a-late.warc.gz:0>"


def test_a_response_without_a_record_id_is_a_row_and_the_files_add_up_to_the_total(tmp_path):
    no_id = write_warc(tmp_path / "no-id.warc.gz", [with_headers(article(1), WARC_Record_ID=None)])
    other = write_warc(tmp_path / "other.warc.gz", [article(2), article(3)])

    stderr = ok(newsarchive("rebuild", "--warc", str(no_id), str(other), "--out", str(tmp_path / "out")))
    assert line_of(stderr, "no-id.warc.gz") == "no-id.warc.gz: 1 record, 1 HTML page, 1 article"
    assert "3 articles from 2 files" in stderr
    rows = rows_by_url(tmp_path / "out")
    assert rows[article_url(1)][0]["warc_record_id"] == "<urn:warc:no-id.warc.gz:0>"

    ok(newsarchive("rebuild", "--warc", str(no_id), str(other), "--out", str(tmp_path / "again")))
    assert corpus_files(tmp_path / "again") == corpus_files(tmp_path / "out")


def test_a_page_without_content_type_is_sniffed_as_a_browser_would(tmp_path):
    page = article_html(1)
    old_server = write_warc(tmp_path / "old-server.warc.gz", [
        # HTTP/1.0, no Content-Type, no payload digest: sniffed, and its digest still that of the whole payload
        with_headers(lambda w: response_as_sent(w, article_url(1), page, [("Server", "old")], "HTTP/1.0"),
                     WARC_Payload_Digest=None),
        lambda w: response_as_sent(w, article_url(2), gzip.compress(article_html(2)), [("Content-Encoding", "gzip")]),
        lambda w: response_as_sent(w, f"{article_url(3)}.png", PNG, [("Server", "old")], "HTTP/1.0"),
        lambda w: response_as_sent(w, article_url(4), b"Story four, in plain words.\n" * 50, [("Server", "old")]),
    ])

    stderr = ok(newsarchive("rebuild", "--warc", str(old_server), "--out", str(tmp_path / "out")))
    assert line_of(stderr, "old-server.warc.gz") == \
        "old-server.warc.gz: 4 records, 2 HTML pages, 2 articles; skipped: 2 not HTML"
    rows = rows_by_url(tmp_path / "out")
    assert sorted(rows) == [article_url(1), article_url(2)]
    assert rows[article_url(1)][0]["payload_digest"] == \
        "sha1:" + base64.b32encode(hashlib.sha1(page).digest()).decode("ascii")


def test_a_body_sent_with_a_gzip_transfer_coding_is_decoded(tmp_path):
    transfer_coded = write_warc(tmp_path / "transfer-coded.warc.gz", [
        lambda w: response_as_sent(w, article_url(1), gzip.compress(article_html(1)),
                                   [("Content-Type", "text/html"), ("Transfer-Encoding", "gzip")]),
        lambda w: response_as_sent(w, article_url(2), chunked(gzip.compress(article_html(2))),
                                   [("Content-Type", "text/html"), ("Transfer-Encoding", "gzip, chunked")]),
    ])

    stderr = ok(newsarchive("rebuild", "--warc", str(transfer_coded), "--out", str(tmp_path / "out")))
    assert line_of(stderr, "transfer-coded.warc.gz") == "transfer-coded.warc.gz: 2 records, 2 HTML pages, 2 articles"
    titles = {url: found[0]["title"] for url, found in rows_by_url(tmp_path / "out").items()}
    assert titles == {article_url(number): title_of(number) for number in (1, 2)}


def test_a_fragment_in_a_target_uri_is_the_page_without_it(tmp_path):
    with_fragment = write_warc(tmp_path / "with-fragment.warc.gz", [
        lambda w: http_response(w, article_url(1) + "#comments", article_html(1)),
        lambda w: http_response(w, article_url(2) + "#", article_html(2)),
    ])
    without = write_warc(tmp_path / "without.warc.gz", [article(1)])

    ok(newsarchive("rebuild", "--warc", str(with_fragment), str(without), "--out", str(tmp_path / "out")))
    rows = rows_by_url(tmp_path / "out")
    assert sorted(rows) == [article_url(1), article_url(2)]
    assert len(rows[article_url(1)]) == 1  # one payload at one URL, captured twice: one row
