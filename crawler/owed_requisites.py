"""Page requisites a run found but did not ask for, owed to the source's next run.

A requisite is asked for by the run that fetches the page naming it, after that run's articles; a run that
``max_pages`` ends, or one killed, leaves some unasked, and no later run would ask for them: it does not fetch an
archived article again, so its images were never archived.  Each requisite is noted here (in the archive's state
directory, committed with its page) as it is queued and struck off once asked for, whatever the answer; the next run
of the source queues what is left.  A cluster's crawl keeps its queue in Redis and needs none of this.

The note is a help, not the archive: a disk too full for it (or a broken file) costs one line, and the run goes on
without it (the WARCs' own disk-full handling ends the run if the archive's disk is full).
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from scrapy.settings import BaseSettings

from archive.state import STATE_DIR

OWED_FILE = "requisites-owed.sqlite"

logger = logging.getLogger(__name__)


class OwedRequisites:
    """The requisites of one source queued and not yet asked for: URL, the page naming it, its depth."""

    def __init__(self, path: Path, source: str):
        self.source = source
        self.asked: set[str] = set()  # this run's: a page naming one again queues no second request (dupefilter)
        self.path = path
        self._db: sqlite3.Connection | None = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS owed (source TEXT NOT NULL, url TEXT NOT NULL, via TEXT,"
                             " depth INTEGER NOT NULL, PRIMARY KEY (source, url)) WITHOUT ROWID")
        except sqlite3.Error:
            self.close()
            raise

    def left(self) -> list[tuple[str, str, int]]:
        """What earlier runs left: (url, via, depth)."""
        try:
            return self._db.execute("SELECT url, via, depth FROM owed WHERE source = ? ORDER BY url",
                                    (self.source,)).fetchall() if self._db is not None else []
        except sqlite3.Error as exc:
            self._lost(exc)
            return []

    def note(self, requisites: list[tuple[str, str, int]]) -> None:
        """Queued now (url, via, depth): owed until asked for."""
        if self._db is None:
            return
        try:
            self._note(requisites)
        except sqlite3.Error as exc:
            self._lost(exc)

    def _note(self, requisites: list[tuple[str, str, int]]) -> None:
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR IGNORE INTO owed (source, url, via, depth) VALUES (?, ?, ?, ?)",
                                 ((self.source, url, via, depth) for url, via, depth in requisites
                                  if url not in self.asked))

    def asked_for(self, url: str) -> None:
        self.asked.add(url)
        if self._db is None:
            return
        try:
            self._db.execute("DELETE FROM owed WHERE source = ? AND url = ?", (self.source, url))
        except sqlite3.Error as exc:
            self._lost(exc)

    def _lost(self, exc: sqlite3.Error) -> None:
        """One line, and no more notes this run: those left stay owed, and asked again by a later run at worst."""
        _cannot_keep(self.source, self.path, exc)
        self.close()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def owed_requisites(settings: BaseSettings, source: str) -> OwedRequisites | None:
    """The source's owed requisites in its archive (None for a crawl without an archive directory)."""
    archive_dir = settings.get("NEWSARCHIVE_ARCHIVE_DIR")
    if not archive_dir:
        return None
    try:
        (Path(archive_dir) / STATE_DIR).mkdir(parents=True, exist_ok=True)
        return OwedRequisites(Path(archive_dir) / STATE_DIR / OWED_FILE, source)
    except (OSError, sqlite3.Error) as exc:  # a full disk: the run goes on without the note
        _cannot_keep(source, Path(archive_dir) / STATE_DIR / OWED_FILE, exc)
        return None


def _cannot_keep(source: str, path: Path, exc: Exception) -> None:
    logger.warning("%s: cannot keep the page requisites owed to later runs in %s (%s): this run's unasked ones are "
                   "not kept", source, path, exc)
