"""Records of other tools' WARCs whose WARC-Date is missing or malformed: the record is data, its time unknown.

WARC-Date is mandatory, and pywb replays a record with its own WARC-Date as Memento-Datetime
(answering 500 for one that is no date, whatever the index says), so such a record cannot be
replayed.  ``import`` therefore leaves it out of the copy it makes (one line each, the rest of
the file imported); a WARC that holds one all the same (an older import's) is indexed without
it, one line each.  A rebuild, which replays nothing, dates it by its file's first record (the
warcinfo record wget, Heritrix, warcio and Browsertrix write first, when the file was started)
and skips it, saying why, when that has no date either.
"""

from __future__ import annotations

from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.timeutils import iso_date_to_datetime, iso_date_to_timestamp

from archive.writer import warc_date

CAPTURE_TYPES = ("response", "revisit", "resource")  # the records replay serves, at their WARC-Date


def is_warc_date(value: str | None) -> bool:
    """Whether ``value`` is a date warcio (and so cdxj-indexer, py-wacz and pywb) reads as one."""
    if not value:
        return False
    try:
        iso_date_to_timestamp(value)
    except (ValueError, TypeError, OverflowError):
        return False
    return True


def canonical_warc_date(value: str) -> str:
    """A WARC-Date in the one form our writer gives (UTC, microseconds), whatever precision another tool wrote it
    in (wget and Heritrix: seconds; Browsertrix: milliseconds): dates in that form sort as text in time order,
    which the corpus's versions and capture order rely on (as written, ``12:00:00.600Z`` sorts before
    ``12:00:00Z``).  Ours are unchanged."""
    return warc_date(iso_date_to_datetime(value, tz_aware=True))


def capture_date(value: str | None, warc_path: Path) -> str | None:
    """A record's WARC-Date ``value`` if it is a date, else its file's first record's, else None (no time); in the
    one form of ``canonical_warc_date``."""
    if is_warc_date(value):
        return canonical_warc_date(value)
    try:
        with open(warc_path, "rb") as stream:
            first = next(iter(ArchiveIterator(stream, no_record_parse=True)), None)
            date = first.rec_headers.get_header("WARC-Date") if first is not None else None
    except Exception:  # noqa: BLE001 - warcio fails in many types on a file that is no WARC
        return None
    return canonical_warc_date(date) if is_warc_date(date) else None


def undated_problem(value: str | None) -> str:
    """What is wrong with a record's WARC-Date ``value``, for a line that names the record."""
    return "no WARC-Date" if value is None else f"a WARC-Date that is not a date ({value!r})"
