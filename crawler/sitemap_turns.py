"""Which sitemaps of an index a run reads first, when ``[crawl] max_sitemaps`` lets it read only some.

Each run took the same newest ones, so the older sitemaps of a large index were never reached.  Here the
sitemaps whose ``<lastmod>`` in the index changed since a run last read them and all they led to, and those
never read, go first, newest first; then the others (unchanged, or undated), the least recently read first:
runs work through the index.  An unchanged sitemap is put last, not left out: a site that forgets to update a
lastmod would otherwise have that sitemap's new stories missed for good, and within ``max_sitemaps`` every
sitemap is read as before.  The reads are kept in the crawl state, one per sitemap URL.
"""

from __future__ import annotations

import logging
import time

from archive.atomic import disk_full
from archive.state import CrawlState, SitemapRead
from crawler.discovery import Entry

logger = logging.getLogger(__name__)


def in_turn(entries: list[Entry], reads: dict[str, SitemapRead]) -> list[Entry]:
    """``entries`` (newest first) in the order to read them (see above)."""
    def changed(entry: Entry) -> bool:
        return entry.date is not None and (entry.url not in reads or reads[entry.url].lastmod != entry.date.isoformat())

    rest = sorted((entry for entry in entries if not changed(entry)),
                  key=lambda entry: reads[entry.url].read_at if entry.url in reads else 0.0)
    return [entry for entry in entries if changed(entry)] + rest


class SitemapTurns:
    """A source's run's side of it: what its indexes listed, what it read, and the reads stored as it ends."""

    def __init__(self, state: CrawlState, source: str):
        self.state = state
        self.source = source
        self.listed: dict[str, str | None] = {}  # sitemap URL -> its lastmod in the index that listed it
        self.read: set[str] = set()

    def order(self, entries: list[Entry]) -> list[Entry]:
        """``in_turn`` with the reads stored; the entries' lastmods are noted for the reads this run stores."""
        ordered = in_turn(entries, self.state.sitemap_reads([entry.url for entry in entries]))
        self.listed.update((entry.url, entry.date.isoformat() if entry.date else None) for entry in ordered)
        return ordered

    def read_one(self, url: str) -> None:
        if url in self.listed:
            self.read.add(url)

    def close(self, complete: bool) -> None:
        """Store this run's reads: their lastmod only if the run read all they led to (``complete``)."""
        now = time.time()
        try:
            self.state.record_sitemap_reads([SitemapRead(url, self.source, self.listed[url] if complete else None, now)
                                             for url in sorted(self.read)])
        except Exception as exc:  # a full disk (it ends crawls) costs only the reads' turn: the next run reads them
            if not disk_full(exc):
                raise
            logger.warning("%s: the disk is full (%s): which sitemaps this run read is not kept", self.source, exc)
        finally:
            self.state.close()
