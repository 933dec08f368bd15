"""Page requisites a run found but did not ask for, owed to the source's next run.

A requisite is asked for by the run that fetches the page naming it, after that run's articles; a run that
``max_pages`` ends, or one killed, leaves some unasked, and no later run would ask for them: it does not fetch an
archived article again, so its images were never archived.  Each requisite is noted here (in the archive's state
directory, committed with its page) as it is queued and struck off once asked for, whatever the answer; the next run
of the source queues what is left.  A cluster's crawl keeps its queue in Redis and needs none of this.

A page's requisites are noted in one commit, before they are queued: a run killed at any moment leaves each one it
queued and did not ask for owed.  Those asked for are struck off together: in the next page's commit, at the
``STRIKES_PER_COMMIT``-th strike or the first ``STRIKE_SECONDS`` after the first, and as the run closes.  A commit is
an fsync (3 to 5 ms here); one a strike made a run of 1,000 pages of 100 images spend 309 s on its note, 3.6 s now
(bench/owed_requisites.py).  A run killed before such a commit leaves owed what it asked for since the last one, and
the next run asks for those again: an image fetched twice (a revisit, most often), never one lost.

The note is a help, not the archive: a disk too full for it (or a broken file) costs one line, and the run goes on
without it (the WARCs' own disk-full handling ends the run if the archive's disk is full).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

from scrapy.settings import BaseSettings

from archive.state import STATE_DIR

OWED_FILE = "requisites-owed.sqlite"
STRIKES_PER_COMMIT = 1000  # asked for, struck off in one commit
STRIKE_SECONDS = 5.0  # nor kept from their commit longer than this, while requisites are asked for

logger = logging.getLogger(__name__)


class OwedRequisites:
    """The requisites of one source queued and not yet asked for: URL, the page naming it, its depth."""

    def __init__(self, path: Path, source: str, strikes_per_commit: int = STRIKES_PER_COMMIT):
        self.source = source
        self.asked: set[str] = set()  # this run's: a page naming one again queues no second request (dupefilter)
        self.path = path
        self.strikes_per_commit = strikes_per_commit
        self._struck: list[str] = []  # asked for, struck off at the next commit
        self._struck_since = 0.0  # when the first of them was asked for (time.monotonic)
        self._db: sqlite3.Connection | None = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS owed (source TEXT NOT NULL, url TEXT NOT NULL, via TEXT,"
                             " depth INTEGER NOT NULL, PRIMARY KEY (source, url)) WITHOUT ROWID")
        except sqlite3.Error:
            self._disconnect()
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
        """Queued now (url, via, depth): owed until asked for.  On disk when this returns, so it must be called
        before they are queued."""
        self._commit(requisites)

    def asked_for(self, url: str) -> None:
        """Owed no more: struck off at the next commit."""
        self.asked.add(url)
        if self._db is None:
            return
        if not self._struck:
            self._struck_since = time.monotonic()
        self._struck.append(url)
        if len(self._struck) >= self.strikes_per_commit or time.monotonic() - self._struck_since >= STRIKE_SECONDS:
            self._commit()

    def _commit(self, requisites: Sequence[tuple[str, str, int]] = ()) -> None:
        """The strikes since the last commit and the requisites noted now, in one transaction: one fsync."""
        if self._db is None:
            return
        try:
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany("DELETE FROM owed WHERE source = ? AND url = ?",
                                     ((self.source, url) for url in self._struck))
                self._db.executemany("INSERT OR IGNORE INTO owed (source, url, via, depth) VALUES (?, ?, ?, ?)",
                                     ((self.source, url, via, depth) for url, via, depth in requisites
                                      if url not in self.asked))
        except sqlite3.Error as exc:
            self._lost(exc)
        self._struck.clear()

    def _lost(self, exc: sqlite3.Error) -> None:
        """One line, and no more notes this run: those left stay owed, and asked again by a later run at worst."""
        _cannot_keep(self.source, self.path, exc)
        self._disconnect()

    def close(self) -> None:
        """The last strikes committed, as the run ends."""
        if self._struck:
            self._commit()
        self._disconnect()

    def _disconnect(self) -> None:
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
