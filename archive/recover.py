"""Close the ``.open`` WARCs a dead run left behind: cut back to the last whole capture, rename, index.

A run that is killed (SIGKILL, power loss, OOM) never renames its WARCs, so they would stay
``.open`` forever, unindexed and unread by anything that lists ``warc/*.warc.gz``.  The next
run calls ``close_abandoned_warcs``.  The archive lock does not keep every writer away (``scrapy
crawl`` takes none), so a file is a dead run's only if no process holds the ``flock`` its writer
keeps on it (``archive.writer``): a live one's is left alone.

The writer writes one gzip member per record and each capture (response or revisit, request,
metadata) in one write, so a dead writer leaves the file ending on a whole capture or, if the
write was cut short, on a torn tail.  We walk the members from the start, inflating them in C
(``zlib.decompressobj``, fed 16 KiB at a time so that ``unused_data`` never copies much) and
parsing each record's WARC headers with warcio: a record is whole when its member inflates to
the end (CRC and length checked by zlib) and holds exactly the headers plus Content-Length
bytes.  Nothing is dropped silently: a file with no whole record, or with whole records
*after* the damage (not a torn tail but damage in the middle, which cutting would lose), is
moved untouched to ``warc/damaged/`` for a person to look at, with one log line.

The crawl state commits each capture as soon as it is written, while the WARC is fsynced
only when it is closed, so after a power cut the state can name captures in the tail that
is cut; those fetches are forgotten (in the SQLite state, or in a cluster's Redis), and the next
run fetches their URLs again.
"""

from __future__ import annotations

import fcntl
import io
import logging
import os
import sqlite3
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from warcio.recordloader import ArcWarcRecordLoader
from warcio.statusandheaders import StatusAndHeadersParser, StatusAndHeadersParserException

from archive import WARC_DIR
from archive.atomic import fsync_directory, replace_durably
from archive.index import last_entry_before
from archive.state import open_state, state_path
from archive.writer import OPEN_SUFFIX, still_named

logger = logging.getLogger("newsarchive.recover")

DAMAGED_DIR = "damaged"  # under warc/: out of every ``warc/*.warc.gz`` listing, kept byte for byte
_GZIP_MAGIC = b"\x1f\x8b\x08"  # ID1, ID2, CM = deflate: how every gzip member starts
_READ_SIZE = 1 << 20
_FEED_SIZE = 16 << 10  # input per decompress call: bounds what unused_data copies at each member's end
_HEAD_SIZE = 64 << 10  # a record's first inflated bytes kept to parse its WARC headers
_CAPTURE_HEADS = ("response", "revisit")
_WARC_HEADERS = StatusAndHeadersParser(ArcWarcRecordLoader.WARC_TYPES)

Action = Literal["closed", "set aside", "removed", "failed"]


@dataclass(frozen=True)
class RecoveredWarc:
    """What became of one ``.open`` file, for the run to say in one line (``str()``)."""

    name: str  # the file's closed name, without ``.open``
    action: Action  # closed (renamed and indexed), set aside (to warc/damaged/), removed (empty), failed
    records: int = 0  # whole records in the closed file
    bytes_cut: int = 0  # torn bytes cut off its end
    reason: str = ""  # why a file was set aside, removed or not recovered
    forgotten: list[tuple[str, str]] = field(default_factory=list)  # (source, URL) of the crawl state's
    # fetches recorded in the bytes cut, forgotten so that the next run fetches them again

    def __str__(self) -> str:
        if self.action == "closed":
            cut = f"cut {self.bytes_cut:,} bytes of a torn capture" if self.bytes_cut else "nothing to cut"
            return f"recovered {self.name} from a dead run: {cut}, {self.records:,} records"
        if self.action == "set aside":
            return f"moved {self.name}{OPEN_SUFFIX} from a dead run to {WARC_DIR}/{DAMAGED_DIR}/: {self.reason}"
        if self.action == "removed":
            return f"removed {self.name}{OPEN_SUFFIX} from a dead run: {self.reason}"
        return f"could not recover {self.name}{OPEN_SUFFIX} from a dead run: {self.reason}"


@dataclass(frozen=True)
class _Record:
    start: int
    end: int
    rec_type: str
    record_id: str
    concurrent_to: str


@dataclass(frozen=True)
class _Scan:
    keep: int  # where the file should end: after its last whole capture
    records: int  # whole records before ``keep``
    damaged_at: int | None  # the first byte that is not a whole record, None if the file is whole to its end


def close_abandoned_warcs(archive_dir: Path, redis_url: str | None = None) -> list[RecoveredWarc]:
    """Close every ``warc/*.warc.gz.open`` of ``archive_dir`` that no live writer holds, and index the closed ones
    and every other closed WARC that has no replay index yet.

    An I/O error on one file is reported in its result and the others are still recovered.
    """
    warc_dir = Path(archive_dir) / WARC_DIR
    results, closed = [], []
    for path in sorted(warc_dir.glob("*.warc.gz" + OPEN_SUFFIX)):
        with _held_if_abandoned(path) as abandoned:
            if not abandoned:
                continue
            try:
                result = _recover(path)
            except OSError as exc:
                result = RecoveredWarc(path.name.removesuffix(OPEN_SUFFIX), "failed", reason=str(exc))
        level = {"closed": logging.WARNING if result.bytes_cut else logging.INFO, "failed": logging.ERROR}
        logger.log(level.get(result.action, logging.WARNING), "%s", result)
        if result.action == "closed":
            closed.append(warc_dir / result.name)
        results.append(result)
    forgotten = _forget_cut_captures(Path(archive_dir), [result for result in results if result.bytes_cut], redis_url)
    results = [replace(result, forgotten=forgotten.get(result.name, [])) for result in results]
    from archive.index import has_index, update_index  # (cdxj-indexer: 0.2 s to load)

    # and the closed WARCs a run could not index (the disk filled, or its writer was killed, after the rename)
    closed += [path for path in sorted(warc_dir.glob("*.warc.gz")) if path not in closed
               and not has_index(archive_dir, path.name)]
    if closed:
        update_index(archive_dir, closed)
    return results


@contextmanager
def _held_if_abandoned(path: Path) -> Iterator[bool]:
    """Whether ``path`` was left by a dead writer, holding its ``flock`` meanwhile (a writer that has only
    just made it waits, then finds it gone): False while a live writer holds it, or once it was closed
    (renamed) since it was listed."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.info("left %s alone: a live crawl is writing it", path.name)
            yield False
            return
        yield still_named(fd, path)
    finally:
        os.close(fd)


def _forget_cut_captures(archive_dir: Path, cut: list[RecoveredWarc],
                         redis_url: str | None) -> dict[str, list[tuple[str, str]]]:
    """Forget the crawl state's fetches recorded in the tails just cut, in ``state/crawl.sqlite`` or in
    the cluster's Redis that the crawler machines share; the (source, URL) of those forgotten, by file."""
    if not cut or (not redis_url and not state_path(archive_dir).exists()):
        return {}
    forgotten = {}
    try:
        state = open_state(archive_dir, redis_url)
        try:
            for result in cut:
                forgotten[result.name] = state.forget_from(result.name,
                                                           (archive_dir / WARC_DIR / result.name).stat().st_size)
                if forgotten[result.name]:
                    count = len(forgotten[result.name])
                    logger.warning("%s: %d %s recorded in the cut tail: the next run fetches %s again", result.name,
                                   count, "fetch was" if count == 1 else "fetches were", "it" if count == 1 else "them")
        finally:
            state.close()
    except (sqlite3.Error, OSError) as exc:  # (Redis unreachable is an OSError) the run that follows says the
        # state is damaged or unreachable, and `check --repair` rebuilds a damaged one
        logger.error("could not forget the fetches recorded in the cut tails of %s: %s",
                     ", ".join(result.name for result in cut), exc)
    return forgotten


def _recover(path: Path) -> RecoveredWarc:
    name = path.name.removesuffix(OPEN_SUFFIX)
    final = path.with_name(name)
    if final.exists():  # os.replace cannot leave both: a person or a tool put one back, so keep both for them
        _set_aside(path)
        return RecoveredWarc(name, "set aside", reason=f"{name} exists too; neither was changed")
    size = path.stat().st_size
    if size == 0:  # killed before its warcinfo was written: there is nothing to keep
        path.unlink()
        fsync_directory(path.parent)
        return RecoveredWarc(name, "removed", reason="empty, killed before its first record was written")
    with open(path, "r+b", buffering=0) as handle:
        scan = _scan(handle.fileno(), size)
        if scan.records == 0:
            reason = "no whole WARC record (not a WARC, or torn in its first record); nothing was cut"
        elif scan.damaged_at is not None and _whole_record_after(handle.fileno(), scan.damaged_at, size):
            reason = f"unreadable bytes at offset {scan.damaged_at:,} with whole records after them; nothing was cut"
        else:
            reason = ""
            if scan.keep < size:
                os.ftruncate(handle.fileno(), scan.keep)
            os.fsync(handle.fileno())
    if reason:
        _set_aside(path)
        return RecoveredWarc(name, "set aside", reason=reason)
    replace_durably(path, final)
    return RecoveredWarc(name, "closed", records=scan.records, bytes_cut=size - scan.keep)


def _scan(fd: int, size: int) -> _Scan:
    """Where the file's last whole capture ends, and where its damage (if any) starts.

    The cut goes back to the end of the last whole *capture*, not record: a response whose
    request or metadata record was torn off would stay archived without the metadata that
    says what it is (its role, article or not, and its source), while the crawl state,
    which the writer updates only once a capture is written, does not know of it, so the
    next run fetches that URL again anyway.  A capture is whole once its metadata record
    (WARC-Concurrent-To its response or revisit) follows, or once any other record does
    (captures written without metadata).
    """
    keep = records = kept = 0
    capture: str | None = None  # the response or revisit whose capture is still open
    end = 0
    for record in _whole_records(fd, 0):
        records += 1
        end = record.end
        if record.rec_type in _CAPTURE_HEADS:  # a new capture: the one before it (if open) was whole
            keep, kept = record.start, records - 1
            capture = record.record_id
        elif capture is None or record.concurrent_to != capture or record.rec_type == "metadata":
            keep, kept = record.end, records
            capture = None
    return _Scan(keep, kept, None if end == size else end)


def torn_at(archive_dir: Path, warc: Path) -> int | None:
    """Where a closed WARC cut short (a copy cut, a full disk, bit rot at its end) stops being whole records, or
    None: its tail is read from the last record its index names before its end, so this costs a few records a
    file, not a read of the archive (damage amid a file is `check`'s to find)."""
    with open(warc, "rb") as stream:
        size = os.fstat(stream.fileno()).st_size
        end, _ = readable_extent(stream.fileno(), last_entry_before(archive_dir, warc.name, size))
    return end if end < size else None


def readable_extent(fd: int, start: int = 0, stop: int | None = None) -> tuple[int, int]:
    """Where the whole records from ``start`` end (the first that starts at or after ``stop`` excluded), and
    how many there are: past that offset warcio would read bit rot or a torn record as a short file."""
    end, count = start, 0
    for record in _whole_records(fd, start):
        if stop is not None and record.start >= stop:
            break
        end, count = record.end, count + 1
    return end, count


def not_whole_after(readable: int, end: int) -> str:
    """Why the bytes of a WARC gzipped per record from ``readable`` to ``end`` are not read."""
    return f"unreadable after offset {readable}: the {end - readable} bytes after it are not whole WARC records"


def _whole_records(fd: int, offset: int) -> Iterator[_Record]:
    """The whole records from ``offset`` on, up to the first member that is not one (or the end)."""
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    start, head, inflated, last = offset, bytearray(), 0, b""
    while chunk := os.pread(fd, _READ_SIZE, offset):
        view = memoryview(chunk)
        while view:
            feed = view[:_FEED_SIZE]
            try:
                out = inflater.decompress(feed)
            except zlib.error:
                return
            if len(head) < _HEAD_SIZE:
                head += out[:_HEAD_SIZE - len(head)]
                if not head.startswith(b"WARC/"[:len(head)]):  # not a record (say, a gzipped payload): stop early
                    return
            inflated += len(out)
            last = (last + out[-4:])[-4:]
            used = len(feed) - len(inflater.unused_data)
            offset += used
            view = view[used:]
            if inflater.eof:
                record = _parse(head, inflated, last, start, offset)
                if record is None:
                    return
                yield record
                inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
                start, head, inflated, last = offset, bytearray(), 0, b""


def _parse(head: bytearray, inflated: int, last: bytes, start: int, end: int) -> _Record | None:
    """The record whose member inflated to ``inflated`` bytes starting with ``head``, if it is whole."""
    stream = io.BytesIO(head)
    try:
        headers = _WARC_HEADERS.parse(stream)
        length = int(headers.get_header("Content-Length"))
    except (StatusAndHeadersParserException, EOFError, TypeError, ValueError, UnicodeDecodeError):
        return None
    # the headers' length in bytes, as warcio reads a record (its ``total_len`` counts decoded characters, fewer
    # than the bytes of a UTF-8 header value such as an IRI)
    if stream.tell() + length + 4 != inflated or last != b"\r\n\r\n":
        return None
    return _Record(start, end, headers.get_header("WARC-Type") or "", headers.get_header("WARC-Record-ID") or "",
                   headers.get_header("WARC-Concurrent-To") or "")


def _whole_record_after(fd: int, damaged_at: int, size: int) -> bool:
    """Whether a whole record starts anywhere after ``damaged_at``: damage in the middle, not a torn tail."""
    offset = damaged_at + 1
    while offset < size:
        chunk = os.pread(fd, _READ_SIZE + len(_GZIP_MAGIC) - 1, offset)
        found = chunk.find(_GZIP_MAGIC)
        while found != -1:
            if next(_whole_records(fd, offset + found), None) is not None:
                return True
            found = chunk.find(_GZIP_MAGIC, found + 1)
        offset += _READ_SIZE
    return False


def _set_aside(path: Path) -> None:
    """Move ``path`` into ``warc/damaged/`` under a name not taken there."""
    damaged = path.parent / DAMAGED_DIR
    damaged.mkdir(exist_ok=True)
    target, n = damaged / path.name, 1
    while target.exists():
        target, n = damaged / f"{path.name}.{n}", n + 1
    os.replace(path, target)
    fsync_directory(damaged)
    fsync_directory(path.parent)
