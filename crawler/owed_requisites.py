"""Page requisites a run found but did not ask for, owed to the source's next run.

A requisite is asked for by the run that fetches the page naming it, after that run's articles; a run that
``max_pages`` ends, or one killed, leaves some unasked, and no later run would ask for them: it does not fetch an
archived article again, so its images were never archived.  Each requisite is noted here (in the archive's state
directory, committed with its page) as it is queued and struck off once asked for, whatever the answer; the next run
of the source queues what is left.  A cluster's crawl keeps its queue in Redis and needs none of this.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from scrapy.settings import BaseSettings

from archive.state import STATE_DIR

OWED_FILE = "requisites-owed.sqlite"


class OwedRequisites:
    """The requisites of one source queued and not yet asked for: URL, the page naming it, its depth."""

    def __init__(self, path: Path, source: str):
        self.source = source
        self.asked: set[str] = set()  # this run's: a page naming one again queues no second request (dupefilter)
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS owed (source TEXT NOT NULL, url TEXT NOT NULL, via TEXT,"
                         " depth INTEGER NOT NULL, PRIMARY KEY (source, url)) WITHOUT ROWID")

    def left(self) -> list[tuple[str, str, int]]:
        """What earlier runs left: (url, via, depth)."""
        return self._db.execute("SELECT url, via, depth FROM owed WHERE source = ? ORDER BY url",
                                (self.source,)).fetchall()

    def note(self, requisites: list[tuple[str, str, int]]) -> None:
        """Queued now (url, via, depth): owed until asked for."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR IGNORE INTO owed (source, url, via, depth) VALUES (?, ?, ?, ?)",
                                 ((self.source, url, via, depth) for url, via, depth in requisites
                                  if url not in self.asked))

    def asked_for(self, url: str) -> None:
        self.asked.add(url)
        self._db.execute("DELETE FROM owed WHERE source = ? AND url = ?", (self.source, url))

    def close(self) -> None:
        self._db.close()


def owed_requisites(settings: BaseSettings, source: str) -> OwedRequisites | None:
    """The source's owed requisites in its archive (None for a crawl without an archive directory)."""
    archive_dir = settings.get("NEWSARCHIVE_ARCHIVE_DIR")
    if not archive_dir:
        return None
    (Path(archive_dir) / STATE_DIR).mkdir(parents=True, exist_ok=True)
    return OwedRequisites(Path(archive_dir) / STATE_DIR / OWED_FILE, source)
