"""``newsarchive check``: the archive's WARCs, indexes and crawl state checked against each other.

The WARCs are the source of truth; everything else can be made again from them.  A check
reads every closed WARC to its end, finds WARCs without a replay index, and asks SQLite to
verify the crawl state.  ``--repair`` indexes what is missing and, when the crawl state is
damaged, sets it aside and rebuilds it from the WARCs: every URL's last fetch (status,
validators, payload digest, where it was written) and the first full record of every
payload, which is what re-crawls and revisit records need.  The sources' back-off counts
are not in the WARCs; they start again from zero.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

import archive.warcio_brotli  # noqa: F401 - br records are read too
from archive import WARC_DIR
from archive.capture import SOURCE_FIELD
from archive.index import has_index, update_index
from archive.state import ArchivedPayload, SqliteState, UrlState, state_path

_EMPTY_PAYLOAD = "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"  # the digest of no bytes


class StateDamaged(Exception):
    """The crawl state cannot be read; the message says what and how to recover."""


@dataclass
class CheckReport:
    """What a check found (``problems``) and, with repair, what it mended (``repaired``)."""

    warcs: int = 0
    records: int = 0
    problems: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)


def damaged_state_message(path: Path, exc: Exception) -> str:
    if isinstance(exc, sqlite3.OperationalError):  # locked, a full disk, no permission: not the file's fault
        return f"{path} cannot be used: {exc}"
    return f"{path} is damaged ({exc}); `newsarchive check --repair` rebuilds it from the WARCs"


def set_aside(database: Path) -> Path:
    """Move a damaged SQLite file aside (kept for a person to look at), its log and index with it."""
    aside = database.with_name(f"{database.name}.damaged-{int(time.time())}")
    database.rename(aside)
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
        records = ArchiveIterator(stream)
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
    readable = []
    for warc in warcs:
        try:
            with open(warc, "rb") as stream:
                report.records += sum(1 for _ in ArchiveIterator(stream))
            readable.append(warc)
        except Exception as exc:  # warcio reports a damaged file as many types
            report.problems.append(f"{warc.name}: unreadable: {str(exc) or type(exc).__name__}")
    report.warcs = len(warcs)
    unindexed = [warc.name for warc in readable if not has_index(archive_dir, warc.name)]
    if unindexed:
        report.problems.append(f"{len(unindexed)} WARC files have no replay index: {', '.join(unindexed[:3])}"
                               + (" ..." if len(unindexed) > 3 else ""))
        if repair:
            update_index(archive_dir)
            report.repaired.append(f"indexed {len(unindexed)} WARC files")
    why = verify_state(archive_dir)
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
    return report
