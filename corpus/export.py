"""The corpus as files for readers: ``corpus.jsonl`` kept current, and full exports (JSON Lines, Parquet).

Both stream rows from the store in order, so memory does not grow with the corpus.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

from archive.atomic import atomic_output
from corpus.store import CorpusStore

CORPUS_FILE = "corpus.jsonl"
EXPORTED = "exported"  # the store generation that corpus.jsonl shows
PARQUET_BATCH = 2048


def export_corpus_jsonl(store: CorpusStore) -> bool:
    """Rewrite ``corpus.jsonl`` from the store if the corpus changed since it was last written.

    Sorted by source, URL and version, one row a line.  The text files it names are synced
    first, and it is replaced atomically: a reader sees the old corpus or the new one.
    Returns whether it was written.
    """
    path = store.root / CORPUS_FILE
    generation = store.generation()
    if generation == store.generation(EXPORTED) and (path.exists() or not store.row_count()):
        return False
    os.sync()  # the text files first
    with atomic_output(path) as out:
        for line in store.lines():
            out.write(line.encode("utf-8") + b"\n")
    store.set_generation(EXPORTED, generation)
    return True


def read_corpus(root: Path) -> list[dict]:
    """The rows of ``corpus.jsonl`` (for tests and small tools; the store is the way in for big corpora)."""
    path = Path(root) / CORPUS_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _rows_with_text(store: CorpusStore) -> Iterator[dict]:
    for row in store.rows():
        row["text"] = (store.root / row["text_path"]).read_text(encoding="utf-8")
        yield row


def export_jsonl(store: CorpusStore, out: Path) -> int:
    """Every row with its text (field ``text``), as JSON Lines; the number of rows."""
    count = 0
    with atomic_output(Path(out)) as stream:
        for row in _rows_with_text(store):
            stream.write(json.dumps(row, ensure_ascii=False).encode("utf-8") + b"\n")
            count += 1
    return count


def export_parquet(store: CorpusStore, out: Path) -> int:
    """Every row with its text, as one Parquet file (what dataset tools read); the number of rows."""
    import pyarrow as pa  # loaded only for this export
    import pyarrow.parquet as pq

    from corpus.store import ROW_FIELDS

    types = {"warc_offset": pa.int64(), "version": pa.int32(), "dup_canonical": pa.bool_()}
    schema = pa.schema([(name, types.get(name, pa.string())) for name in (*ROW_FIELDS, "text")])
    count = 0
    with atomic_output(Path(out)) as stream:
        writer = pq.ParquetWriter(stream, schema, compression="zstd")
        batch: list[dict] = []
        for row in _rows_with_text(store):
            batch.append(row)
            if len(batch) == PARQUET_BATCH:
                writer.write_table(pa.Table.from_pylist(batch, schema))
                count, batch = count + len(batch), []
        if batch or not count:
            writer.write_table(pa.Table.from_pylist(batch, schema))
            count += len(batch)
        writer.close()
    return count
