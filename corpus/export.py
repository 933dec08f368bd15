"""The corpus as files for readers: ``corpus.jsonl`` kept current, and full exports (JSON Lines, Parquet).

Both stream rows from the store in order, so memory does not grow with the corpus.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from archive.atomic import atomic_output
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
    """Rows whose text file is gone: an export would not be whole, so none is written."""

    SHOWN = 5

    def __init__(self, paths: list[str], sent: int = 0) -> None:
        """``sent``: rows already written to standard output (a file deleted during the export; a file
        output is whole or not made)."""
        self.paths = paths
        named = ", ".join(paths[:self.SHOWN]) + (f" and {len(paths) - self.SHOWN} more" if len(paths) > self.SHOWN else "")
        files = "1 text file is" if len(paths) == 1 else f"{len(paths)} text files are"
        done = f"the first {sent} rows were written to standard output" if sent else "nothing was exported"
        super().__init__(f"{files} missing ({named}); `newsarchive check --repair` writes "
                         f"{'it' if len(paths) == 1 else 'them'} again; {done}")


def missing_text_files(store: CorpusStore) -> list[str]:
    """The text files the rows name that do not exist (a look at each name, no read)."""
    return sorted({row["text_path"] for row in store.rows() if not (store.root / row["text_path"]).exists()})


def _check_text_files(store: CorpusStore) -> None:
    """:class:`TextFilesMissing` if any row's text file is gone, before an export opens its output."""
    if missing := missing_text_files(store):
        raise TextFilesMissing(missing)


def _rows_with_text(store: CorpusStore) -> Iterator[dict]:
    """Every row with its text (a text file deleted while exporting: :class:`TextFilesMissing`)."""
    for row in store.rows():
        try:
            row["text"] = (store.root / row["text_path"]).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise TextFilesMissing(missing_text_files(store)) from None
        yield row


STDOUT = "-"  # an --out that means standard output


@contextmanager
def _jsonl_output(out: Path | str) -> Iterator[BinaryIO]:
    """``out`` written whole or not at all, or standard output for ``-`` (a pipe into another tool)."""
    if str(out) == STDOUT:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
    else:
        with atomic_output(Path(out)) as stream:
            yield stream


def export_jsonl(store: CorpusStore, out: Path | str) -> int:
    """Every row with its text (field ``text``), as JSON Lines, into ``out`` (``-``: stdout); the number of rows."""
    _check_text_files(store)
    count = 0
    with _jsonl_output(out) as stream:
        try:
            for row in _rows_with_text(store):
                stream.write(json.dumps(row, ensure_ascii=False).encode("utf-8") + b"\n")
                count += 1
        except TextFilesMissing as exc:
            if str(out) == STDOUT and count:
                raise TextFilesMissing(exc.paths, sent=count) from None
            raise
    return count


def export_parquet(store: CorpusStore, out: Path) -> int:
    """Every row with its text, as one Parquet file (what dataset tools read); the number of rows."""
    import pyarrow as pa  # loaded only for this export
    import pyarrow.parquet as pq

    from corpus.store import ROW_FIELDS

    types = {"warc_offset": pa.int64(), "version": pa.int32(), "dup_canonical": pa.bool_()}
    schema = pa.schema([(name, types.get(name, pa.string())) for name in (*ROW_FIELDS, "text")])
    _check_text_files(store)
    count = 0
    with atomic_output(Path(out)) as stream:
        writer = pq.ParquetWriter(stream, schema, compression="zstd")
        try:
            batch: list[dict] = []
            for row in _rows_with_text(store):
                batch.append(row)
                if len(batch) == PARQUET_BATCH:
                    writer.write_table(pa.Table.from_pylist(batch, schema))
                    count, batch = count + len(batch), []
            if batch or not count:
                writer.write_table(pa.Table.from_pylist(batch, schema))
                count += len(batch)
        finally:  # closed while its file is open (then removed, on an error), not by the collector after
            writer.close()
    return count
