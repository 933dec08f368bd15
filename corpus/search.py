"""The corpus's full-text index (SQLite FTS5), kept in the store's own transactions.

One entry per distinct text (rows that share a text share its entry): the headline (the text's
first line) and the rest in two columns, so a hit in a headline can rank higher.  The store
calls ``index_text`` when it first holds a text and ``unindex_text`` when no row holds it any
more, inside the transaction of the batch that did it, so the index is current whenever a batch
commits and costs what the batch's new texts cost.  A store made before the index existed gets
it filled once, from its text files, the first time it is opened (``prepare_search``).

The FTS rowid is the id of ``search_texts``, an INTEGER PRIMARY KEY, so VACUUM cannot move it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

SEARCH_SCHEMA = (
    "CREATE TABLE search_texts (id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE)",
    "CREATE VIRTUAL TABLE search USING fts5(headline, body, tokenize = 'unicode61 remove_diacritics 2')",
    # The browser lists a row's near-duplicates and filters by cluster.
    "CREATE INDEX IF NOT EXISTS rows_by_cluster ON rows (dup_cluster)",
)


def split_text(text: str) -> tuple[str, str]:
    """A text file's headline (first line) and the rest."""
    headline, _, body = text.partition("\n")
    return headline, body.strip("\n")


def index_text(db: sqlite3.Connection, sha256: str, text: str) -> None:
    """Add a text the store now holds to the index."""
    rowid = db.execute("INSERT INTO search_texts (sha256) VALUES (?)", (sha256,)).lastrowid
    db.execute("INSERT INTO search (rowid, headline, body) VALUES (?, ?, ?)", (rowid, *split_text(text)))


def unindex_text(db: sqlite3.Connection, sha256: str) -> None:
    """Drop a text no row holds any more from the index."""
    found = db.execute("SELECT id FROM search_texts WHERE sha256 = ?", (sha256,)).fetchone()
    if found:
        db.execute("DELETE FROM search WHERE rowid = ?", found)
        db.execute("DELETE FROM search_texts WHERE id = ?", found)


def prepare_search(db: sqlite3.Connection, root: Path) -> None:
    """Create the index if the store has none yet, filled from the texts it holds (once per store)."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'search'").fetchone():
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'search'").fetchone():  # another process won
            for statement in SEARCH_SCHEMA:
                db.execute(statement)
            held = db.execute("SELECT t.sha256, (SELECT text_path FROM rows WHERE text_sha256 = t.sha256 LIMIT 1)"
                              " FROM texts t").fetchall()
            for sha256, text_path in held:
                index_text(db, sha256, (Path(root) / text_path).read_text(encoding="utf-8"))
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
