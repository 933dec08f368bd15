"""Which sitemaps of an index a run reads, when ``[crawl] max_sitemaps`` lets it read only some.

Each run took the same newest ones, so the older sitemaps of a large index were never reached.  Here a sitemap
whose ``<lastmod>`` in its index is the one it had when a run last read it and all it led to is skipped (it lists
nothing new); the changed and unread ones go first, newest first, then the undated ones, the least recently read
first: runs work through the index.  The reads are kept in the crawl state, one per sitemap URL.
"""

from __future__ import annotations

import time

from archive.state import CrawlState, SitemapRead
from crawler.discovery import Entry


def in_turn(entries: list[Entry], reads: dict[str, SitemapRead]) -> tuple[list[Entry], int]:
    """``entries`` (newest first) to read in this order, without the unchanged ones; and how many those were."""
    unchanged = {entry.url for entry in entries if entry.date is not None and entry.url in reads
                 and reads[entry.url].lastmod == entry.date.isoformat()}
    dated = [entry for entry in entries if entry.date is not None and entry.url not in unchanged]
    undated = sorted((entry for entry in entries if entry.date is None),
                     key=lambda entry: reads[entry.url].read_at if entry.url in reads else 0.0)
    return dated + undated, len(unchanged)


class SitemapTurns:
    """A source's run's side of it: what its indexes listed, what it read, and the reads stored as it ends."""

    def __init__(self, state: CrawlState, source: str):
        self.state = state
        self.source = source
        self.listed: dict[str, str | None] = {}  # sitemap URL -> its lastmod in the index that listed it
        self.read: set[str] = set()

    def order(self, entries: list[Entry]) -> tuple[list[Entry], int]:
        """``in_turn`` with the reads stored; the entries' lastmods are noted for the reads this run stores."""
        ordered, unchanged = in_turn(entries, self.state.sitemap_reads([entry.url for entry in entries]))
        self.listed.update((entry.url, entry.date.isoformat() if entry.date else None) for entry in ordered)
        return ordered, unchanged

    def read_one(self, url: str) -> None:
        if url in self.listed:
            self.read.add(url)

    def close(self, complete: bool) -> None:
        """Store this run's reads: their lastmod only if the run read all they led to (``complete``)."""
        now = time.time()
        self.state.record_sitemap_reads([SitemapRead(url, self.source, self.listed[url] if complete else None, now)
                                         for url in sorted(self.read)])
        self.state.close()
