"""CDXJ indexes: one per closed WARC, and the replay index, a few sorted files that pywb reads as one.

cdxj-indexer writes the format pywb and WACZ read (its digests keep the ``sha1:`` prefix,
so never mix in lines from pywb's own indexer).  The replay index is a directory of sorted
CDXJ files in tiers, as a log-structured merge tree keeps its runs: the WARCs indexed
together become one small file of tier 0; once a tier holds ``FAN_OUT`` files they are
merged into one of the next tier.  Each line is so rewritten once per tier, about
log8(archive) times over its life, where merging every new WARC into one combined file
(``wb-manager add``) rewrites the whole index on every run; a lookup reads a few files per
tier instead of one.  pywb lists the directory on each lookup, so a file is written under
a name it ignores and renamed into place before the files it replaces are deleted: a lookup
in between finds a line twice, never not at all.

304s are left out of the replay index, as the Internet Archive's CDX writer does by
default: a server-not-modified revisit has no payload, and pywb replays any 3xx revisit
with its own headers, so it would serve an empty 304.  Without it, a lookup at its time
gets the closest full capture, the one the server said was still current.  The WARC keeps
the record.
"""

from __future__ import annotations

import fcntl
import heapq
import io
import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from itertools import groupby
from pathlib import Path

import surt
from cdxj_indexer.main import CDXJIndexer
from warcio.recordloader import ArcWarcRecord

import archive.warcio_brotli  # noqa: F401 - br bodies are decoded when the indexer needs to
from archive import WARC_DIR
from archive.atomic import atomic_output, write_atomic
from archive.warc_date import CAPTURE_TYPES, is_warc_date, undated_problem

logger = logging.getLogger("newsarchive.index")

INDEX_DIR = "indexes"
REPLAY_INDEX = "replay"
FAN_OUT = 8
_OLD_COMBINED = "index.cdxj"  # the single combined index of archives written before the tiers
_PER_WARC = "per-warc"
_WARC_SUFFIX = ".warc.gz"
_NOT_MODIFIED_PROFILE = "/revisit/server-not-modified"  # WARC 1.0 and 1.1 profile URIs end so


def replay_index_dir(archive_dir: Path) -> Path:
    """The directory of sorted CDXJ files that together are the archive's replay index."""
    return Path(archive_dir) / INDEX_DIR / REPLAY_INDEX


def index_lines(archive_dir: Path) -> Iterator[bytes]:
    """The replay index's lines, sorted, as one stream (what a pywb lookup sees)."""
    with ExitStack() as stack:
        files = [stack.enter_context(open(path, "rb")) for path in _tier_files(archive_dir)]
        yield from (line for line, _ in groupby(heapq.merge(*files)))


def _tier_files(archive_dir: Path) -> list[Path]:
    return sorted(replay_index_dir(archive_dir).glob("*.cdxj"))


def _tier_name(tier: int, number: int) -> str:
    return f"t{tier}-{number:09d}.cdxj"


def _per_warc_path(archive_dir: Path, warc_name: str) -> Path:
    return Path(archive_dir) / INDEX_DIR / _PER_WARC / (warc_name + ".cdxj")


def is_not_modified(record: ArcWarcRecord) -> bool:
    """A 304: a server-not-modified revisit, or any response or revisit whose HTTP status is 304."""
    if (record.rec_headers.get_header("WARC-Profile") or "").endswith(_NOT_MODIFIED_PROFILE):
        return True
    status = record.http_headers.get_statuscode() if record.http_headers is not None else None
    return record.rec_type in ("response", "revisit") and status == "304"


class DatedRecords:
    """An indexer mixin: cdxj-indexer and py-wacz read every record's WARC-Date as a date and fail on the first
    that is none; such a record is left out, one line each, as pywb cannot replay it (``archive.warc_date``)."""

    def process_index_entry(self, it, record: ArcWarcRecord, filename: str, *args: object) -> None:
        value = record.rec_headers.get_header("WARC-Date")
        if not is_warc_date(value):
            logger.warning("%s@%s: a %s record with %s: kept in the WARC, not indexed (replay cannot serve it)",
                           Path(filename).name, getattr(record, "file_offset", it.offset), record.rec_type,
                           undated_problem(value))
            return
        super().process_index_entry(it, record, filename, *args)


class InterruptibleKeys:
    """An indexer mixin: cdxj-indexer computes each record's key under a bare ``except:``, so a Ctrl-C there (where
    indexing spends most of its time) was taken for a bad URL and indexing went on; only errors fall back now."""

    def get_url_key(self, url: str) -> str:
        try:
            return surt.surt(url)
        except Exception:  # cdxj-indexer's fallback: the URL itself
            return url


class ReplayIndexer(InterruptibleKeys, DatedRecords, CDXJIndexer):
    """cdxj-indexer over the records replay serves: responses, revisits and resources, less 304s."""

    def filter_record(self, record: ArcWarcRecord) -> bool:
        # Not the parent's test: py-wacz adds warcinfo to cdxj-indexer's default record types on import.
        return record.rec_type in CAPTURE_TYPES and not is_not_modified(record)


@contextmanager
def _index_lock(archive_dir: Path) -> Iterator[None]:
    """Serialise index updates between the crawls of one run and between runs."""
    path = Path(archive_dir) / INDEX_DIR / ".lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def has_index(archive_dir: Path, warc_name: str) -> bool:
    """Whether a WARC's lines are in the replay index (its per-WARC index is written after they are)."""
    return _per_warc_path(archive_dir, warc_name).exists()


def cdxj_lines(warc_path: Path) -> str:
    """The sorted CDXJ index of one WARC, as cdxj-indexer writes it (304s left out)."""
    out = io.StringIO()
    ReplayIndexer(output=out, inputs=[str(warc_path)], sort=True).process_all()
    return out.getvalue()


def capture_offsets(warc_path: Path) -> list[int]:
    """Where the responses and revisits of a WARC start, from its CDXJ index: the places its records can be split
    so that no capture's records are cut apart (a capture's response comes first).

    The index is the archive's per-WARC one when the file sits in an archive's ``warc/``
    directory; any other file is indexed here (a whole read, done by the worker that asks).
    """
    warc_path = Path(warc_path)
    indexed = _per_warc_path(warc_path.parent.parent, warc_path.name)
    if warc_path.parent.name == WARC_DIR and indexed.exists():
        lines = indexed.read_text(encoding="utf-8")
    else:
        try:
            lines = cdxj_lines(warc_path)
        except Exception:  # noqa: BLE001 - a file the indexer cannot read is read whole, and its scan says why
            return []
    offsets = set()
    for line in lines.splitlines():
        try:
            offsets.add(int(json.loads(line.split(" ", 2)[2])["offset"]))
        except (IndexError, KeyError, ValueError):
            continue
    return sorted(offsets)


def indexed_warcs(archive_dir: Path) -> list[str]:
    """The WARCs that have a per-WARC index, by name (whether or not they still exist)."""
    per_warc = Path(archive_dir) / INDEX_DIR / _PER_WARC
    return sorted(path.name.removesuffix(".cdxj") for path in per_warc.glob("*.cdxj"))


def _entry_span(line: str) -> tuple[int, int]:
    """Where the record an index line points at starts and ends in its WARC."""
    entry = json.loads(line.split(" ", 2)[2])
    return int(entry["offset"]), int(entry["offset"]) + int(entry["length"])


def _entry_end(line: str) -> int:
    return _entry_span(line)[1]


def changed_since_indexed(archive_dir: Path, warc: Path) -> bool:
    """Whether a WARC was changed (cut, rewritten, restored) after its index was written, or has none: a stat of
    each, where reading it would cost as much as the file."""
    index = _per_warc_path(archive_dir, warc.name)
    try:
        return warc.stat().st_mtime_ns > index.stat().st_mtime_ns
    except FileNotFoundError:
        return True


def last_entry_before(archive_dir: Path, warc_name: str, end: int) -> int:
    """Where the last record a WARC's index names that starts before ``end`` starts (0 without one): a place to
    read the file's tail from."""
    path = _per_warc_path(archive_dir, warc_name)
    if not path.exists():
        return 0
    with open(path, encoding="utf-8") as lines:  # (read a line at a time: memory stays flat)
        return max((start for line in lines if line.strip() and (start := _entry_span(line)[0]) < end), default=0)


def entries_past(archive_dir: Path, warc_name: str, end: int) -> int:
    """How many of a WARC's index lines point at bytes past ``end`` (where its readable part ends)."""
    lines = _per_warc_path(archive_dir, warc_name).read_text(encoding="utf-8").splitlines()
    return sum(1 for line in lines if _entry_end(line) > end)


def drop_entries_past(archive_dir: Path, ends: dict[str, int]) -> None:
    """Keep only the index lines of each WARC of ``ends`` that point before its end, and make the replay index
    anew: replay must not serve the bytes of a damaged record."""
    with _index_lock(archive_dir):
        for name, end in ends.items():
            lines = _per_warc_path(archive_dir, name).read_text(encoding="utf-8").splitlines(True)
            _write_per_warc(archive_dir, {name: "".join(line for line in lines if _entry_end(line) <= end)})
        _rebuild_replay_index(archive_dir)


def _write_per_warc(archive_dir: Path, indexed: dict[str, str]) -> None:
    for name, lines in indexed.items():
        write_atomic(_per_warc_path(archive_dir, name), lines.encode("utf-8"))


def _write_tier(archive_dir: Path, tier: int, lines: Iterable[bytes]) -> Path:
    """A new file of ``tier``, written under a name pywb ignores and renamed into place."""
    directory = replay_index_dir(archive_dir)
    directory.mkdir(parents=True, exist_ok=True)
    number = 1 + max((int(path.stem.split("-")[1]) for path in directory.glob("t*-*.cdxj")), default=0)
    path = directory / _tier_name(tier, number)
    with atomic_output(path) as out:
        out.writelines(line for line, _ in groupby(lines))
    return path


def _tier(path: Path) -> int:
    return int(path.name[1:].split("-")[0])


def _compact(archive_dir: Path) -> None:
    """Merge the files of any tier that holds ``FAN_OUT`` of them into one file of the next tier.

    Equal lines are one record (lines name their WARC and offset), so a WARC indexed twice
    (after a crash before its per-WARC index was written) is listed once after a merge.
    """
    tier = 0
    while files := [path for path in _tier_files(archive_dir) if _tier(path) >= tier]:
        level = [path for path in files if _tier(path) == tier]
        if len(level) >= FAN_OUT:
            with ExitStack() as stack:
                _write_tier(archive_dir, tier + 1, heapq.merge(*(stack.enter_context(open(path, "rb"))
                                                                 for path in level)))
            for path in level:
                path.unlink()
        tier += 1


def _rebuild_replay_index(archive_dir: Path) -> None:
    """The replay index made anew, as one file, from every per-WARC index."""
    old = _tier_files(archive_dir)
    per_warc = sorted((Path(archive_dir) / INDEX_DIR / _PER_WARC).glob("*.cdxj"))
    top = max(map(_tier, old), default=-1)
    with ExitStack() as stack:
        _write_tier(archive_dir, top + 1, heapq.merge(*(stack.enter_context(open(path, "rb")) for path in per_warc)))
    for path in old:
        path.unlink()
    (Path(archive_dir) / INDEX_DIR / _OLD_COMBINED).unlink(missing_ok=True)


def replay_index_lacks(archive_dir: Path) -> tuple[int, int]:
    """How many entries of the WARCs' own indexes the replay index lacks, of how many: a file of it lost (deleted,
    a disk's fault) leaves its captures unserved while every WARC still has its own index."""
    per_warc = sorted((Path(archive_dir) / INDEX_DIR / _PER_WARC).glob("*.cdxj"))
    if not per_warc:  # (nothing indexed yet: no lock file made)
        return 0, 0
    with _index_lock(archive_dir), ExitStack() as stack:
        wanted = heapq.merge(*(stack.enter_context(open(path, "rb")) for path in per_warc))
        served = (line for line in index_lines(archive_dir) if line.strip())
        have, lacking, entries = next(served, None), 0, 0
        for line, _ in groupby(line for line in wanted if line.strip()):  # both sorted: one pass over each
            entries += 1
            while have is not None and have < line:
                have = next(served, None)
            lacking += have != line
    return lacking, entries


def make_replay_index_anew(archive_dir: Path) -> None:
    """The replay index rewritten whole from the WARCs' own indexes."""
    with _index_lock(archive_dir):
        _rebuild_replay_index(archive_dir)


def update_index(archive_dir: Path, warcs: Iterable[Path] | None = None) -> Path:
    """Index closed WARCs and add them to the replay index; return its directory.

    ``warcs`` are files just closed; without them every closed WARC of the archive that
    has no index yet (written before indexing existed, or by a crashed run) is indexed,
    and indexes whose WARC is gone are dropped.  A WARC's per-WARC index is written once
    its lines are in the replay index, so its presence means they are.
    """
    archive_dir = Path(archive_dir)
    warc_dir = archive_dir / WARC_DIR
    with _index_lock(archive_dir):
        stale: list[Path] = []
        if warcs is None:
            present = {path.name for path in warc_dir.glob("*" + _WARC_SUFFIX)}
            stale = [path for path in (archive_dir / INDEX_DIR / _PER_WARC).glob("*.cdxj")
                     if path.name.removesuffix(".cdxj") not in present]
            warcs = [warc_dir / name for name in sorted(present)
                     if not _per_warc_path(archive_dir, name).exists()]
        indexed = {Path(warc).name: cdxj_lines(Path(warc)) for warc in warcs}
        if stale or not replay_index_dir(archive_dir).is_dir():
            for path in stale:
                path.unlink()
            _write_per_warc(archive_dir, indexed)
            _rebuild_replay_index(archive_dir)
        elif indexed:
            _write_tier(archive_dir, 0, sorted(line.encode("utf-8") for lines in indexed.values()
                                               for line in lines.splitlines(True)))
            _write_per_warc(archive_dir, indexed)
            _compact(archive_dir)
    return replay_index_dir(archive_dir)
