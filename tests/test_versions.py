"""Versions of a story in another tool's archive: the corpus follows the captures, revisits included."""

from __future__ import annotations

from warcio.statusandheaders import StatusAndHeaders

from archive_fixtures import newsarchive
from corpus.export import read_corpus
from demo.farm import article_html
from test_foreign_archives import HOST, http_response, write_warc

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
