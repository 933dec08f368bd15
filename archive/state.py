"""What the crawler remembers between runs: every URL it fetched, every payload it archived,
and how each source has been doing.

Re-crawls use it to ask only for what changed (conditional GET, articles fetched once) and to
write revisit records instead of second copies.  ``CrawlState`` is the interface the crawler
uses; ``SqliteState`` (a WAL database under the archive dir) is the embedded backend, and a
shared backend (Redis, for several crawler machines) only has to provide the same methods.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Protocol

STATE_DIR = "state"
STATE_FILE = "crawl.sqlite"

# A source that failed this many runs in a row is skipped for a while, doubling each time.
BACKOFF_AFTER = 2
BACKOFF_BASE = 30 * 60.0
BACKOFF_MAX = 24 * 3600.0


@dataclass(frozen=True)
class UrlState:
    """The last fetch of a URL; ``warc_file``/``warc_offset`` locate the record written for it."""

    url: str
    source: str
    first_seen: float
    last_fetched: float
    status: int
    etag: str | None = None
    last_modified: str | None = None
    payload_digest: str | None = None
    warc_file: str | None = None
    warc_offset: int | None = None

    @property
    def settled(self) -> bool:
        """Whether the server gave a lasting answer: the page (2xx, 3xx), or 410 Gone. Not a 5xx or a
        429, nor another 4xx: a story listed before it is live answers 404 and one behind bot
        protection 403 for a while, and settled they would never be archived (asked again, a URL
        that stays dead costs one fetch a run while a listing still names it, each said as failed)."""
        return self.status < 400 or self.status == 410


@dataclass(frozen=True)
class ArchivedPayload:
    """The first full response record holding a payload: what a revisit record refers to."""

    digest: str
    uri: str
    warc_date: str
    record_id: str
    warc_file: str
    warc_offset: int


@dataclass(frozen=True)
class SourceHealth:
    name: str
    consecutive_failures: int = 0
    backoff_until: float | None = None
    last_error: str | None = None

    def backing_off(self, now: float | None = None) -> bool:
        return self.backoff_until is not None and (now or time.time()) < self.backoff_until


@dataclass(frozen=True)
class SitemapRead:
    """A sitemap's last read: its ``lastmod`` in its index then (ISO 8601), if it had one and the run read all it
    led to, else None; and when (a run reads the sitemaps of an index it may not read all of in turn)."""

    url: str
    source: str
    lastmod: str | None
    read_at: float


class CrawlState(Protocol):
    """The crawler's memory; every method is one small, atomic operation."""

    def url(self, url: str) -> UrlState | None: ...

    def record_fetch(self, fetch: UrlState) -> None:
        """Store the latest fetch of ``fetch.url``; the first ``first_seen`` is kept."""

    def payload(self, digest: str) -> ArchivedPayload | None: ...

    def add_payload(self, payload: ArchivedPayload) -> None:
        """Remember where a payload was first archived; later calls for the digest are ignored."""

    def sitemap_reads(self, urls: list[str]) -> dict[str, SitemapRead]:
        """The last reads of those of ``urls`` that were read."""

    def record_sitemap_reads(self, reads: list[SitemapRead]) -> None:
        """Store each sitemap's latest read, one per URL."""

    def source_health(self, name: str) -> SourceHealth: ...

    def record_source_outcome(self, name: str, ok: bool, error: str | None = None,
                              now: float | None = None) -> SourceHealth:
        """Count a run of a source; failures in a row put it in a growing back-off."""

    def close(self) -> None: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS urls (
    url TEXT PRIMARY KEY, source TEXT NOT NULL, first_seen REAL NOT NULL, last_fetched REAL NOT NULL,
    status INTEGER NOT NULL, etag TEXT, last_modified TEXT, payload_digest TEXT,
    warc_file TEXT, warc_offset INTEGER
);
CREATE TABLE IF NOT EXISTS payloads (
    digest TEXT PRIMARY KEY, uri TEXT NOT NULL, warc_date TEXT NOT NULL, record_id TEXT NOT NULL,
    warc_file TEXT NOT NULL, warc_offset INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sitemaps (
    url TEXT PRIMARY KEY, source TEXT NOT NULL, lastmod TEXT, read_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sources (
    name TEXT PRIMARY KEY, consecutive_failures INTEGER NOT NULL, backoff_until REAL, last_error TEXT
);
"""


def backoff_seconds(consecutive_failures: int) -> float | None:
    """How long to leave a source alone after this many failed runs in a row."""
    if consecutive_failures < BACKOFF_AFTER:
        return None
    return min(BACKOFF_BASE * 2 ** (consecutive_failures - BACKOFF_AFTER), BACKOFF_MAX)


class SqliteState:
    """``CrawlState`` in one SQLite file (WAL: ``newsarchive status`` reads while a run writes)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def url(self, url: str) -> UrlState | None:
        row = self._db.execute(f"SELECT {_columns(UrlState)} FROM urls WHERE url = ?", (url,)).fetchone()
        return UrlState(*row) if row else None

    def record_fetch(self, fetch: UrlState) -> None:
        names = _columns(UrlState)
        updates = ", ".join(f"{field.name} = excluded.{field.name}" for field in fields(UrlState)
                            if field.name not in ("url", "first_seen"))
        self._db.execute(
            f"INSERT INTO urls ({names}) VALUES ({_marks(UrlState)}) ON CONFLICT(url) DO UPDATE SET {updates}",
            astuple(fetch),
        )

    def payload(self, digest: str) -> ArchivedPayload | None:
        row = self._db.execute(
            f"SELECT {_columns(ArchivedPayload)} FROM payloads WHERE digest = ?", (digest,)
        ).fetchone()
        return ArchivedPayload(*row) if row else None

    def add_payload(self, payload: ArchivedPayload) -> None:
        self._db.execute(
            f"INSERT OR IGNORE INTO payloads ({_columns(ArchivedPayload)}) VALUES ({_marks(ArchivedPayload)})",
            astuple(payload),
        )

    def forget_from(self, warc_file: str, offset: int) -> list[tuple[str, str]]:
        """Forget the fetches and payloads recorded at ``offset`` of ``warc_file`` or after (bytes lost), and the
        fetches whose payload was recorded there (a 304 or a revisit of it: its validators would get a 304 again,
        and its bytes would stay lost), so that the next run fetches those URLs whole; the (source, URL) of each
        fetch forgotten."""
        where = "warc_file = ? AND warc_offset >= ?"
        with self._db:
            self._db.execute("BEGIN")
            forgotten = self._db.execute(
                f"DELETE FROM urls WHERE ({where}) OR payload_digest IN (SELECT digest FROM payloads WHERE {where}) "
                "RETURNING source, url", (warc_file, offset) * 2).fetchall()
            self._db.execute(f"DELETE FROM payloads WHERE {where}", (warc_file, offset))
            return forgotten

    def warc_locations(self) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
        """Where every URL's last fetch, and every payload (what revisits refer to), is recorded: (WARC file, offset)."""
        fetches = self._db.execute("SELECT warc_file, warc_offset FROM urls WHERE warc_file IS NOT NULL").fetchall()
        return fetches, self._db.execute("SELECT warc_file, warc_offset FROM payloads").fetchall()

    def revisit_locations(self) -> list[tuple[tuple[str | None, int | None], tuple[str, int]]]:
        """Of every URL whose last fetch refers to a payload recorded elsewhere (a 304, a revisit), where that fetch
        and where the payload are recorded: (WARC file, offset) each."""
        rows = self._db.execute("SELECT u.warc_file, u.warc_offset, p.warc_file, p.warc_offset FROM urls u "
                                "JOIN payloads p ON p.digest = u.payload_digest "
                                "WHERE u.warc_file IS NOT p.warc_file OR u.warc_offset IS NOT p.warc_offset")
        return [((fetch_file, fetch_offset), (file, offset)) for fetch_file, fetch_offset, file, offset in rows]

    def sitemap_reads(self, urls: list[str]) -> dict[str, SitemapRead]:
        reads: dict[str, SitemapRead] = {}
        for start in range(0, len(urls), 500):  # within SQLite's limit of bound parameters
            chunk = urls[start:start + 500]
            rows = self._db.execute(f"SELECT {_columns(SitemapRead)} FROM sitemaps WHERE url IN "
                                    f"({', '.join('?' * len(chunk))})", chunk)
            reads.update((row[0], SitemapRead(*row)) for row in rows)
        return reads

    def record_sitemap_reads(self, reads: list[SitemapRead]) -> None:
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(f"INSERT OR REPLACE INTO sitemaps ({_columns(SitemapRead)}) "
                                 f"VALUES ({_marks(SitemapRead)})", map(astuple, reads))

    def source_health(self, name: str) -> SourceHealth:
        row = self._db.execute(f"SELECT {_columns(SourceHealth)} FROM sources WHERE name = ?", (name,)).fetchone()
        return SourceHealth(*row) if row else SourceHealth(name)

    def record_source_outcome(self, name: str, ok: bool, error: str | None = None,
                              now: float | None = None) -> SourceHealth:
        now = time.time() if now is None else now
        if ok:
            health = SourceHealth(name)
        else:
            failures = self.source_health(name).consecutive_failures + 1
            pause = backoff_seconds(failures)
            health = SourceHealth(name, failures, None if pause is None else now + pause, error)
        self._db.execute(
            f"INSERT OR REPLACE INTO sources ({_columns(SourceHealth)}) VALUES ({_marks(SourceHealth)})",
            astuple(health),
        )
        return health

    def close(self) -> None:
        self._db.close()


def _columns(cls: type) -> str:
    return ", ".join(field.name for field in fields(cls))


def _marks(cls: type) -> str:
    return ", ".join("?" for _ in fields(cls))


def state_path(archive_dir: Path) -> Path:
    return Path(archive_dir) / STATE_DIR / STATE_FILE


def open_state(archive_dir: Path, redis_url: str | None = None) -> CrawlState:
    """The state of the archive at ``archive_dir``: the embedded SQLite backend, or the cluster's Redis."""
    if redis_url:
        from archive.redis_state import RedisState  # redis is loaded only by a cluster's crawlers

        return RedisState(redis_url)
    return SqliteState(state_path(archive_dir))
