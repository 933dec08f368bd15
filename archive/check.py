"""``newsarchive check``: the archive's WARCs, indexes and crawl state checked against each other.

The WARCs are the source of truth; everything else can be made again from them.  A check
reads every closed WARC to its end (each gzip member's CRC and length, as recovery does),
finds WARCs without a replay index and entries of their own indexes that the replay index lacks,
asks SQLite to verify the crawl state, and checks that every WARC the indexes and the crawl
state point into is there and readable that far.
``--repair`` indexes what is missing and, when the crawl state is damaged, sets it aside and
rebuilds it from the WARCs: every URL's last fetch (status, validators, payload digest,
where it was written) and the first full record of every payload, which is what re-crawls
and revisit records need.  The sources' back-off counts are not in the WARCs; they start
again from zero.

Bytes of a WARC that are lost (bit rot, a cut copy, a deleted file) cannot be made again
from anything in the archive: ``--repair`` leaves the file as it is (a copy restored over it
mends everything), drops the index lines that point past its readable part, and forgets the
crawl state's fetches recorded there and those whose payload was (a 304, a revisit), so the next
run fetches those URLs again, whole; the check
still fails (``lost``), naming what only a copy can bring back.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


import archive.warcio_brotli  # noqa: F401 - br records are read too
from archive import WARC_DIR
from archive.atomic import replace_durably
from archive.capture import SOURCE_FIELD
from archive.index import (drop_entries_past, entries_past, has_index, indexed_warcs, make_replay_index_anew,
                           replay_index_lacks, update_index)
from archive.reader import bad_digests, digests_line, not_a_warc, warc_records
from archive.recover import readable_extent
from archive.state import ArchivedPayload, SqliteState, UrlState, state_path
from archive.writer import OPEN_SUFFIX

_EMPTY_PAYLOAD = "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"  # the digest of no bytes


class StateDamaged(Exception):
    """The crawl state cannot be read; the message says what and how to recover."""


@dataclass
class CheckReport:
    """What a check found (``problems``), with repair what it mended (``repaired``), and what no repair can
    (``lost``); ``unusable`` are the problems no repair should touch, as they are not the files' (a full disk, a
    lock, no permission: the check fails until they are gone); ``notes`` say what the next run will do of what an
    interrupted one left, no problem; ``readable`` is where each WARC's readable part ends, by name."""

    warcs: int = 0
    records: int = 0
    problems: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unusable: list[str] = field(default_factory=list)
    readable: dict[str, int] = field(default_factory=dict)

    def cannot_use(self, path: Path, exc: sqlite3.OperationalError) -> None:
        """A database that SQLite cannot open or read now, for a reason not in the file: it is no damage, and no
        repair sets it aside."""
        self.unusable.append(damaged_state_message(path, exc))

    def unreadable_references(self, what: str, references: Iterable[tuple[str, int]]) -> dict[str, int]:
        """A problem line per WARC that ``what`` (rows pointing into WARCs) names but is missing, or points into
        past its readable end; the offset of each such WARC from which they should be forgotten."""
        missing, past = Counter(), Counter()
        for name, offset in references:
            if name not in self.readable:
                missing[name] += 1
            elif not self.readable_at(name, offset):
                past[name] += 1
        for name, count in sorted(missing.items()):
            self.problems.append(f"{count} {what} name {name}, which is not in {WARC_DIR}/")
            self.gone(name)
        for name, count in sorted(past.items()):
            self.problems.append(f"{count} {what} point past the readable end of {name} (offset {self.readable[name]})")
        return {name: self.readable.get(name, 0) for name in [*missing, *past]}

    def readable_at(self, name: str | None, offset: int | None) -> bool:
        """Whether a record at ``offset`` of WARC ``name`` is in its readable part (one recorded nowhere is not lost)."""
        return name is None or offset < self.readable.get(name, 0)

    def gone(self, name: str) -> None:
        """A WARC the archive names is not there: only a copy can bring it back."""
        line = f"{name} is gone from {WARC_DIR}/; restore it from a copy if there is one"
        if line not in self.lost:
            self.lost.append(line)


def damaged_state_message(path: Path, exc: Exception) -> str:
    if isinstance(exc, sqlite3.OperationalError):  # locked, a full disk, no permission: not the file's fault
        return f"{path} cannot be used: {exc}{_FULL_DISK if _is_full(path) else ''}"
    return f"{path} is damaged ({exc}); `newsarchive check --repair` rebuilds it from the WARCs"


_FULL_DISK = " (its disk is full: it is not damaged; run this again once there is room)"


def _is_full(path: Path) -> bool:
    """Whether the file system holding ``path`` has no room left for SQLite's journal files."""
    try:
        stats = os.statvfs(path.parent)
    except OSError:
        return False
    return stats.f_bavail * stats.f_frsize < 2**20


def set_aside(database: Path) -> Path:
    """Move a damaged SQLite file aside (kept for a person to look at), its log and index with it."""
    aside = database.with_name(f"{database.name}.damaged-{int(time.time())}")
    replace_durably(database, aside)
    for suffix in ("-wal", "-shm"):
        Path(str(database) + suffix).unlink(missing_ok=True)
    return aside


def verify_state(archive_dir: Path) -> str | None:
    """Why the crawl state cannot be used, or None when SQLite finds it sound."""
    path = state_path(archive_dir)
    if not path.exists():
        return None
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            verdict = db.execute("PRAGMA quick_check").fetchone()[0]
            db.execute("SELECT COUNT(*) FROM urls").fetchone()
    except sqlite3.OperationalError:  # not the file's fault: the caller says what
        raise
    except sqlite3.Error as exc:
        return str(exc)
    return None if verdict == "ok" else verdict


def _epoch(warc_date: str) -> float:
    try:
        return datetime.fromisoformat(warc_date.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return time.time()


def _replay_into_state(warc: Path, state: SqliteState) -> int:
    """Record every capture of one WARC in ``state``, as the writer did when it wrote them; the records read."""
    source, count = "", 0
    with open(warc, "rb") as stream:
        records = warc_records(stream, warc.name)
        for record in records:
            count += 1
            headers = record.rec_headers
            if record.rec_type == "warcinfo":
                for line in record.content_stream().read().decode("utf-8", "replace").splitlines():
                    name, _, value = line.partition(":")
                    if name.strip() == SOURCE_FIELD:
                        source = value.strip()
                continue
            if record.rec_type not in ("response", "revisit") or record.http_headers is None:
                continue
            uri, date = headers.get_header("WARC-Target-URI"), headers.get_header("WARC-Date") or ""
            digest = headers.get_header("WARC-Payload-Digest")
            offset, http = records.get_record_offset(), record.http_headers
            status = int(http.get_statuscode() or 0)
            known = state.url(uri)
            etag, modified = http.get_header("ETag"), http.get_header("Last-Modified")
            if status == 304 and known is not None:
                etag, modified = etag or known.etag, modified or known.last_modified
                digest = digest or known.payload_digest
            if record.rec_type == "response" and digest and digest != _EMPTY_PAYLOAD:
                state.add_payload(ArchivedPayload(digest, uri, date, headers.get_header("WARC-Record-ID"),
                                                  warc.name, offset))
            when = _epoch(date)
            state.record_fetch(UrlState(uri, source, when, when, status, etag, modified, digest, warc.name, offset))
    return count


def check_archive(archive_dir: Path, repair: bool = False) -> CheckReport:
    """Check (and with ``repair`` mend) the WARCs' readability, their indexes and the crawl state."""
    archive_dir = Path(archive_dir)
    report = CheckReport()
    warcs = sorted((archive_dir / WARC_DIR).glob("*.warc.gz"))
    readable, damaged = [], {}
    for warc in warcs:
        if (why := not_a_warc(warc)) and why != "not a WARC file":  # (other bytes: unreadable from offset 0)
            report.problems.append(f"{warc.name}: {why}, among the WARCs: move it out of {WARC_DIR}/")
            continue
        with open(warc, "rb") as stream:
            end, records = readable_extent(stream.fileno())
            size = stream.seek(0, 2)
        report.records += records
        report.readable[warc.name] = end
        if end == size:
            readable.append(warc)
            if wrong := bad_digests(warc):  # another tool's way of computing them, or a change: read all the same
                report.notes.append(f"{warc.name}: {digests_line(wrong)}")
            continue
        damaged[warc.name] = end
        report.problems.append(f"{warc.name}: unreadable after offset {end}: the {size - end} bytes after it are "
                               "not whole WARC records (bit rot, or a copy cut short)")
        report.lost.append(f"{warc.name}: its {size - end} bytes after offset {end} cannot be made again from the "
                           "archive; restore the file from a copy if there is one")
    for warc in (archive_dir / WARC_DIR).glob("*.warc.gz" + OPEN_SUFFIX):  # a dead run's, closed by the next run
        report.readable[warc.name.removesuffix(OPEN_SUFFIX)] = warc.stat().st_size
    report.warcs = len(warcs)
    _check_index(archive_dir, report, damaged, repair)
    unindexed = [warc.name for warc in readable if not has_index(archive_dir, warc.name)]
    if unindexed:
        report.problems.append(f"{len(unindexed)} WARC files have no replay index: {', '.join(unindexed[:3])}"
                               + (" ..." if len(unindexed) > 3 else ""))
        if repair:
            update_index(archive_dir)
            report.repaired.append(f"indexed {len(unindexed)} WARC files")
    _check_replay_index(archive_dir, report, repair)
    try:
        why = verify_state(archive_dir)
    except sqlite3.OperationalError as exc:
        report.cannot_use(state_path(archive_dir), exc)
        return report
    if why is not None:
        path = state_path(archive_dir)
        report.problems.append(f"{path}: damaged: {why}")
        if repair:
            aside = set_aside(path)
            state = SqliteState(path)
            try:
                for warc in readable:
                    _replay_into_state(warc, state)
            finally:
                state.close()
            report.repaired.append(f"rebuilt {path.name} from {len(readable)} WARC files (the damaged one is "
                                   f"{aside.name})")
    elif state_path(archive_dir).exists():
        state = SqliteState(state_path(archive_dir))
        try:
            # Counted in the same words by the problem lines and the repair: fetches (a URL's last) and payloads.
            fetches, payloads = state.warc_locations()
            lost = report.unreadable_references("fetches recorded in the crawl state", fetches)
            lost |= report.unreadable_references("payloads recorded in the crawl state", payloads)
            # A fetch readable itself whose payload is lost (a 304, a revisit): forgotten too, or its validators would
            # get a 304 again and the next run would not archive the bytes the site still serves.
            revisits = [payload for fetch, payload in state.revisit_locations() if report.readable_at(*fetch)]
            lost |= report.unreadable_references("fetches recorded in the crawl state as revisits of payloads that",
                                                 revisits)
            if repair and lost:
                fetches_lost, payloads_lost = (sum(name in lost and offset >= lost[name] for name, offset in rows)
                                               for rows in (fetches + revisits, payloads))
                for name, offset in lost.items():
                    state.forget_from(name, offset)
                report.repaired.append(f"forgot the {fetches_lost} fetches and {payloads_lost} payloads recorded in the "
                                       "crawl state in lost WARC bytes: the next run fetches those URLs again")
        finally:
            state.close()
    return report


def _check_replay_index(archive_dir: Path, report: CheckReport, repair: bool) -> None:
    """Entries of the WARCs' own indexes that the replay index (merged from them) lacks: replay cannot serve them."""
    lacking, entries = replay_index_lacks(archive_dir)
    if lacking:
        report.problems.append(f"the replay index lacks {lacking} of the {entries} entries of the WARCs' indexes "
                               "(a file of it lost): replay cannot serve those captures")
        if repair:
            make_replay_index_anew(archive_dir)
            report.repaired.append(f"made the replay index anew from the indexes of {len(indexed_warcs(archive_dir))} "
                                   "WARC files")


def _check_index(archive_dir: Path, report: CheckReport, damaged: dict[str, int], repair: bool) -> None:
    """Index lines of WARCs that are gone, or that point past a WARC's readable end (replay would serve garbage)."""
    gone = [name for name in indexed_warcs(archive_dir) if name not in report.readable]
    for name in gone:
        report.gone(name)
    if gone:
        report.problems.append(f"the replay index lists {len(gone)} WARC files that are not in {WARC_DIR}/: "
                               + ", ".join(gone[:3]) + (" ..." if len(gone) > 3 else ""))
    past = {}
    for name, end in damaged.items():
        if has_index(archive_dir, name) and (count := entries_past(archive_dir, name, end)):
            past[name] = end
            report.problems.append(f"{count} replay index entries point past the readable end of {name} "
                                   f"(offset {end})")
    if repair and past:
        drop_entries_past(archive_dir, past)
        report.repaired.append(f"dropped the replay index entries past the readable end of {len(past)} WARC files")
    if repair and gone:
        update_index(archive_dir)
        report.repaired.append(f"dropped the replay index entries of {len(gone)} WARC files that are gone")
