"""SQLite files that only index files beside them (the records of ``warc/``, the reports of ``runs/``).

Such a file is made again, not mended, when damaged: what it holds can be read again from the
files it indexes.  A file that cannot be written now (locked, a full disk, no permission) is not
damaged, and stays: its caller says why it goes without it.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

logger = logging.getLogger(__name__)


def open_derived_db(path: Path, schema: str, what: str, **connect: object) -> sqlite3.Connection:
    """``path`` opened with ``schema`` made (``sqlite3.connect``'s ``connect`` arguments), or made anew if it is
    damaged, with one warning naming ``what`` it is made again from.  Raises ``sqlite3.Error`` or ``OSError`` if it
    cannot be made."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _open(path, schema, connect)
    except sqlite3.OperationalError:  # locked, a full disk, no permission: not damage
        raise
    except sqlite3.DatabaseError as exc:
        logger.warning("%s is damaged (%s): made again from %s", path, exc, what)
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return _open(path, schema, connect)


def _open(path: Path, schema: str, connect: dict) -> sqlite3.Connection:
    db = sqlite3.connect(path, **connect)
    try:
        db.executescript(schema)
    except sqlite3.Error:
        db.close()
        raise
    return db
