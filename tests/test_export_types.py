"""What a researcher loads from an export: typed times in Parquet, ISO 8601 strings in JSON Lines."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import date, datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq

from archive_fixtures import newsarchive
from corpus.export import export_corpus_jsonl, export_jsonl, export_parquet, read_corpus
from corpus.store import CorpusStore
from demo.farm import article_html
from test_foreign_archives import HOST, http_response, write_warc

# the publication dates pages declare, in the forms sites write them
DECLARED = {1: "2026-10-04T10:00:00.123+02:00", 2: "2026-10-05", 3: "2026-10-06T09:30:00"}


def _page(number: int) -> bytes:
    day = 1 + number % 28
    return article_html(number).replace(f"2026-10-{day:02d}T08:00:00Z".encode(), DECLARED[number].encode())


def _rebuilt_corpus(tmp_path):
    """A corpus rebuilt from a WARC of the three pages, fetched at 12:00:0N.5 UTC."""
    warc = write_warc(tmp_path / "crawl.warc.gz", [
        (lambda w, n=number: http_response(w, f"{HOST}/news/story-{n}", _page(n),
                                           **{"WARC-Date": f"2026-10-07T12:00:0{n}.500000Z"}))
        for number in DECLARED])
    result = newsarchive("rebuild", "--warc", str(warc), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    return tmp_path / "out"


def test_parquet_gives_capture_and_publication_times_as_typed_columns(tmp_path):
    """Before: ``fetched_at`` and ``date`` were strings in Parquet, which pandas, polars and duckdb read as text."""
    out = _rebuilt_corpus(tmp_path)
    export_parquet(CorpusStore(out), tmp_path / "corpus.parquet")
    table = pq.read_table(tmp_path / "corpus.parquet")
    assert table.schema.field("fetched_at").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("published_at").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("published_day").type == pa.date32()
    rows = {row["url"].rsplit("-", 1)[1]: row for row in table.to_pylist()}
    assert rows["1"]["fetched_at"] == datetime(2026, 10, 7, 12, 0, 1, 500000, tzinfo=timezone.utc)
    # a time with an offset is an instant; a day alone, or a time the page gives with no offset, is none
    assert rows["1"]["published_at"] == datetime(2026, 10, 4, 8, 0, 0, tzinfo=timezone.utc)
    assert [rows[n]["published_at"] for n in "23"] == [None, None]
    assert [rows[n]["published_day"] for n in "123"] == [date(2026, 10, 4), date(2026, 10, 5), date(2026, 10, 6)]
    export_jsonl(CorpusStore(out), tmp_path / "corpus.jsonl")
    exported = {row["url"].rsplit("-", 1)[1]: row for row in map(json.loads, (tmp_path / "corpus.jsonl").open())}
    assert exported["1"]["fetched_at"] == "2026-10-07T12:00:01.500000Z"  # JSON Lines keeps ISO 8601 strings
    assert "published_at" not in exported["1"]


def test_a_publication_date_is_given_in_one_form_whatever_precision_the_page_wrote_it_in(tmp_path):
    """Before: a page's milliseconds came out as ``10:00:00.123000+02:00``, beside others' ``10:00:00+02:00``: one
    form is the day, or the time to the second with the offset the page gives (none when it gives none)."""
    out = _rebuilt_corpus(tmp_path)
    dates = {row["url"].rsplit("-", 1)[1]: row["date"] for row in read_corpus(out)}
    assert dates == {"1": "2026-10-04T10:00:00+02:00", "2": "2026-10-05", "3": "2026-10-06T09:30:00"}


def test_a_store_from_before_gets_its_publication_dates_in_one_form_once_it_is_opened(tmp_path):
    """A store whose rows hold a date as a page wrote it, to the millisecond, has it put in the one form when a
    command first opens it, in its rows and in corpus.jsonl written from them; the rest of each row is as it was."""
    out = _rebuilt_corpus(tmp_path)
    with closing(sqlite3.connect(out / "derived" / "corpus.sqlite")) as db, db:  # the store as it was made before
        [(record_id, line)] = db.execute("SELECT record_id, line FROM rows WHERE url LIKE '%-1'").fetchall()
        before = {**json.loads(line), "date": "2026-10-04T10:00:00.123000+02:00"}
        written = json.dumps(before, ensure_ascii=False)
        db.execute("UPDATE rows SET line = ? WHERE record_id = ?", (written, record_id))
        db.execute("PRAGMA user_version = 1")
    with CorpusStore(out) as store:
        export_corpus_jsonl(store)
        after = {**before, "date": "2026-10-04T10:00:00+02:00"}
        assert [json.loads(line) for line in store.lines() if record_id in line] == [after]
    assert [row for row in read_corpus(out) if row["warc_record_id"] == record_id] == [after]
