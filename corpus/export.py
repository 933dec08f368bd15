"""The corpus as files for readers: ``corpus.jsonl`` kept current, and full exports (JSON Lines, Parquet).

Both stream rows from the store in order, so memory does not grow with the corpus.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import BinaryIO

from archive.atomic import atomic_output, remove_stale_temporaries
from corpus.store import CorpusStore

CORPUS_FILE = "corpus.jsonl"
PARQUET_BATCH = 2048


def export_corpus_jsonl(store: CorpusStore, whole: bool = False) -> bool:
    """Bring ``corpus.jsonl`` up to date with the store; whether anything was written.

    Rows are in capture order (``fetched_at``, then WARC record id), so a run's new rows
    go at the end: the file is cut back to the line before the earliest row that changed
    and written on from there, and a run that adds 10 articles to 30,000 writes 10 lines,
    not 30,010.  An earlier row changes only when its text or duplicate cluster does (a
    site's template learned, a copy found), and then the rewrite starts there.  The text
    files the rows name are synced first.  A write cut short (a crash, a full disk) is
    noticed by the next export, which writes from the same line again; a file that is not
    what the store last wrote (edited, truncated, gone) is rewritten whole and atomically,
    as is everything with ``whole``.
    """
    path = store.root / CORPUS_FILE
    start = store.changed_from()
    size = path.stat().st_size if path.exists() else None
    if not whole and start is None and size is not None and size == store.file_state("size"):
        return False  # (a store with no rows has no size either: its file, empty, is still written)
    offset = None if whole or start is None or size is None else store.line_end_before(start)
    if offset is not None and size != store.file_state("size") and offset != store.file_state("writing_from"):
        offset = None  # the file is not what the store wrote, nor a write from here cut short
    if offset is None or size < offset:
        start, offset = None, 0
    os.sync()  # the text files first
    if start is None:
        with atomic_output(path) as out:
            _write_lines(out, store.lines_from(None))
    else:
        store.set_file_state(writing_from=offset)
        with open(path, "r+b") as out:
            out.truncate(offset)
            out.seek(offset)
            _write_lines(out, store.lines_from(start))
            out.flush()
            os.fsync(out.fileno())
    store.written(_line_ends(store.lines_from(start), offset), path.stat().st_size)
    return True


def _write_lines(out, lines) -> None:
    for _, line in lines:
        out.write(line.encode("utf-8") + b"\n")


def _line_ends(lines, offset: int):
    """(end, record id) of each line written from ``offset`` on, computed again rather than kept: memory stays flat."""
    for record_id, line in lines:
        offset += len(line.encode("utf-8")) + 1
        yield offset, record_id


def read_corpus(root: Path) -> list[dict]:
    """The rows of ``corpus.jsonl`` (for tests and small tools; the store is the way in for big corpora)."""
    path = Path(root) / CORPUS_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class TextFilesMissing(Exception):
    """Rows whose text file is gone (or, ``changed``, holds other bytes): an export would not be whole, so none is
    written."""

    SHOWN = 5

    def __init__(self, paths: list[str], sent: int = 0, changed: bool = False) -> None:
        """``sent``: rows already written to standard output (a file deleted during the export; a file
        output is whole or not made)."""
        self.paths = paths
        named = ", ".join(paths[:self.SHOWN]) + (f" and {len(paths) - self.SHOWN} more" if len(paths) > self.SHOWN else "")
        files = "1 text file is" if len(paths) == 1 else f"{len(paths)} text files are"
        done = f"the first {sent} rows were written to standard output" if sent else "nothing was exported"
        state = "not the text its row names" if changed else "missing"
        super().__init__(f"{files} {state} ({named}); `newsarchive check --repair` writes "
                         f"{'it' if len(paths) == 1 else 'them'} again; {done}")


PASSES = 3  # an export taken again this many times while runs keep rewriting the texts it reads, then given up


class CorpusChanged(Exception):
    """Runs derived while the export read the corpus and rewrote or removed texts of rows it had read from the
    store: those rows are no longer the store's, and their texts are gone."""

    def __init__(self, sent: int = 0) -> None:
        done = (f"the first {sent} rows were written to standard output; export again for the whole corpus" if sent
                else f"it was begun again {PASSES} times; nothing was exported; export between runs")
        super().__init__(f"the corpus changed while it was exported (a run derived meanwhile): {done}")


class _Stale(Exception):
    """A row of the export's snapshot of the store whose text file is not the text it names."""

    def __init__(self, record_id: str, line: str, path: str) -> None:
        self.record_id, self.line, self.path = record_id, line, path


def missing_text_files(store: CorpusStore) -> list[str]:
    """The text files the rows name that do not exist (a look at each name, no read)."""
    return sorted({row["text_path"] for row in store.rows() if not (store.root / row["text_path"]).exists()})


def _check_text_files(store: CorpusStore) -> None:
    """:class:`TextFilesMissing` if any row's text file is gone, before an export opens its output (and reads the
    store again, in passes that keep nothing)."""
    store.reading_once()
    if missing := missing_text_files(store):
        raise TextFilesMissing(missing)


def _with_last_seen(line: str, last_seen: str | None) -> dict:
    """A row's fields with ``last_seen`` after ``fetched_at`` (kept beside its line in the store)."""
    row = {}
    for name, value in json.loads(line).items():
        row[name] = value
        if name == "fetched_at":
            row["last_seen"] = last_seen
    return row


def _rows_with_text(store: CorpusStore) -> Iterator[dict]:
    """Every row with its text and ``last_seen``, in one snapshot of the store (:class:`_Stale` at a row whose file
    is not its text: a derivation rewrote or removed it meanwhile, or it is damaged)."""
    with closing(store.lines_last_seen()) as lines:  # the snapshot ends with the pass
        for record_id, line, last_seen in lines:
            row = _with_last_seen(line, last_seen)
            try:
                text = (store.root / row["text_path"]).read_bytes()
            except FileNotFoundError:
                text = None
            if text is None or hashlib.sha256(text).hexdigest() != row["text_sha256"]:
                raise _Stale(record_id, line, row["text_path"])
            row["text"] = text.decode("utf-8")
            yield row


def _export_rows(store: CorpusStore, write: Callable[[dict], None], begin_again: Callable[[], None] | None) -> int:
    """``write`` every row with its text, in one snapshot of the store; the number of rows.

    A text file found changed or gone since the snapshot was taken is a run's derivation at work: the export is
    begun again (``begin_again`` empties the output) over the store as it is now, or, with rows gone out that
    cannot be taken back (``begin_again`` None: standard output), ends with :class:`CorpusChanged`.  One the store
    still names as it did is damaged: :class:`TextFilesMissing`."""
    for _ in range(PASSES):
        count = 0
        try:
            for row in _rows_with_text(store):
                write(row)
                count += 1
            return count
        except _Stale as stale:
            sent = 0 if begin_again else count
            if store.line_now(stale.record_id) == stale.line:
                missing = missing_text_files(store)
                raise TextFilesMissing(missing or [stale.path], sent=sent, changed=not missing) from None
            if sent:
                raise CorpusChanged(sent) from None
            if begin_again:
                begin_again()
    raise CorpusChanged()


STDOUT = "-"  # an --out that means standard output


@contextmanager
def _jsonl_output(out: Path | str) -> Iterator[BinaryIO]:
    """``out`` written whole or not at all, or standard output for ``-`` (a pipe into another tool)."""
    if str(out) == STDOUT:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
    else:
        with _file_output(Path(out)) as stream:
            yield stream


@contextmanager
def _file_output(out: Path) -> Iterator[BinaryIO]:
    """``out`` written whole or not at all; what killed exports to it left beside it is removed first."""
    remove_stale_temporaries(out)
    with atomic_output(out) as stream:
        yield stream


def _emptied(stream: BinaryIO) -> None:
    stream.seek(0)
    stream.truncate()


def export_jsonl(store: CorpusStore, out: Path | str) -> int:
    """Every row with its text (field ``text``), as JSON Lines, into ``out`` (``-``: stdout); the number of rows."""
    _check_text_files(store)
    with _jsonl_output(out) as stream:
        return _export_rows(store, lambda row: stream.write(json.dumps(row, ensure_ascii=False).encode("utf-8") + b"\n"),
                            None if str(out) == STDOUT else partial(_emptied, stream))


def _publication(value: str | None) -> tuple[datetime | None, date | None]:
    """A row's ``date`` as the instant it names (when it gives a time with an offset) and as the day the page gives;
    Nones for no date (or, from a store of an older extractor, a value that is none: the string stays in ``date``)."""
    try:
        published = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None, None
    return (published if published and published.tzinfo else None), (published.date() if published else None)


def _parquet_row(row: dict) -> dict:
    """A row with its times typed as dataset tools read them: ``fetched_at`` and ``last_seen`` UTC timestamps, the
    publication date also as ``published_at`` (a UTC timestamp) and ``published_day`` (a date)."""
    published_at, published_day = _publication(row["date"])
    last_seen = row["last_seen"] and datetime.fromisoformat(row["last_seen"])
    return {**row, "fetched_at": datetime.fromisoformat(row["fetched_at"]), "last_seen": last_seen,
            "published_at": published_at, "published_day": published_day}


class _ParquetRows:
    """Rows into one Parquet file, a row group per ``PARQUET_BATCH``; :meth:`begin_again` empties it."""

    def __init__(self, stream: BinaryIO) -> None:
        import pyarrow as pa  # loaded only for this export
        import pyarrow.parquet as pq

        from corpus.store import ROW_FIELDS

        utc = pa.timestamp("us", tz="UTC")
        types = {"warc_offset": pa.int64(), "version": pa.int32(), "dup_canonical": pa.bool_(), "fetched_at": utc,
                 "last_seen": utc, "published_at": utc, "published_day": pa.date32()}
        dated, fetched = ROW_FIELDS.index("date") + 1, ROW_FIELDS.index("fetched_at") + 1
        names = (*ROW_FIELDS[:dated], "published_at", "published_day", *ROW_FIELDS[dated:fetched], "last_seen",
                 *ROW_FIELDS[fetched:], "text")
        self.schema = pa.schema([(name, types.get(name, pa.string())) for name in names])
        self.stream, self._table, self._writer = stream, pa.Table.from_pylist, pq.ParquetWriter
        self._start()

    def _start(self) -> None:
        self.writer, self.batch, self.groups = self._writer(self.stream, self.schema, compression="zstd"), [], 0

    def write(self, row: dict) -> None:
        self.batch.append(_parquet_row(row))
        if len(self.batch) == PARQUET_BATCH:
            self._flush()

    def _flush(self) -> None:
        self.writer.write_table(self._table(self.batch, self.schema))
        self.batch, self.groups = [], self.groups + 1

    def begin_again(self) -> None:
        self.writer.close()
        _emptied(self.stream)
        self._start()

    def close(self) -> None:
        """The last rows (a corpus with none still gets a row group, of none), then the footer."""
        try:
            if self.batch or not self.groups:
                self._flush()
        finally:  # closed while its file is open (then removed, on an error), not by the collector after
            self.writer.close()


def export_parquet(store: CorpusStore, out: Path) -> int:
    """Every row with its text, as one Parquet file (what dataset tools read); the number of rows."""
    _check_text_files(store)
    with _file_output(Path(out)) as stream:
        rows = _ParquetRows(stream)
        try:
            count = _export_rows(store, rows.write, rows.begin_again)
        finally:
            rows.close()
    return count
