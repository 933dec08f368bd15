"""A derivation following a crawl asks for the archive's WARCs every half second: it lists ``warc/``
again only when the directory changed, so years of WARCs there cost it nothing, and it still sees
every file a run adds or closes, however soon after its last look."""

from __future__ import annotations

import os
import sys
import time

from archive.writer import OPEN_SUFFIX
from corpus.derive import ArchiveWarcs

_LISTED: list[str] = []


def _count_listings(event: str, args: tuple) -> None:
    if event == "os.listdir":
        _LISTED.append(str(args[0]))


sys.addaudithook(_count_listings)


def listed(warcs: ArchiveWarcs, finished=frozenset()) -> tuple[list[tuple[str, bool]], int]:
    """The WARCs as (name, closed), and how many times ``warc/`` was listed for them."""
    _LISTED.clear()
    found = [(warc.name, warc.closed) for warc in warcs(finished)]
    return found, len(_LISTED)


def test_an_unchanged_warc_directory_is_not_listed_again_and_every_change_is_seen(tmp_path):
    warc_dir = tmp_path / "warc"
    warc_dir.mkdir()
    for number in range(3):
        (warc_dir / f"a-{number}.warc.gz").touch()
    a_minute_ago = time.time() - 60
    os.utime(warc_dir, (a_minute_ago, a_minute_ago))
    warcs = ArchiveWarcs(warc_dir)
    closed = [(f"a-{number}.warc.gz", True) for number in range(3)]
    assert listed(warcs) == (closed, 1)
    assert listed(warcs) == (closed, 0)
    assert listed(warcs, {"a-0.warc.gz"}) == (closed[1:], 0)  # derived whole: left out

    # A run opens a WARC, and at once another: both seen, as warc/'s time is too recent to trust.
    (warc_dir / f"b-0.warc.gz{OPEN_SUFFIX}").touch()
    assert listed(warcs) == ([*closed, ("b-0.warc.gz", False)], 1)
    (warc_dir / f"b-1.warc.gz{OPEN_SUFFIX}").touch()
    assert listed(warcs) == ([*closed, ("b-0.warc.gz", False), ("b-1.warc.gz", False)], 1)
    os.rename(warc_dir / f"b-0.warc.gz{OPEN_SUFFIX}", warc_dir / "b-0.warc.gz")
    assert listed(warcs) == ([*closed, ("b-0.warc.gz", True), ("b-1.warc.gz", False)], 1)
    os.utime(warc_dir, (a_minute_ago, a_minute_ago))
    assert listed(warcs)[1] == 1  # (its time changed: listed once more)
    assert listed(warcs)[1] == 0
