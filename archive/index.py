"""CDXJ indexes: one per closed WARC, merged into the archive's sorted ``indexes/index.cdxj``.

cdxj-indexer writes the format pywb and WACZ read (its digests keep the ``sha1:`` prefix,
so never mix in lines from pywb's own indexer).  Adding a WARC merges its sorted lines into
the combined file in one streaming pass (as pywb's ``wb-manager add`` does) instead of
re-merging every per-WARC index, written beside it and renamed, so a running pywb, which
reopens it on every lookup, sees the old index or the new one.  A directory of per-WARC
files, which pywb could also read, would cost every lookup one open and search per WARC.

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
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from itertools import groupby
from pathlib import Path

from cdxj_indexer.main import CDXJIndexer
from warcio.recordloader import ArcWarcRecord

import archive.warcio_brotli  # noqa: F401 - br bodies are decoded when the indexer needs to
from archive import WARC_DIR
from archive.atomic import atomic_output, write_atomic

INDEX_DIR = "indexes"
COMBINED_INDEX = "index.cdxj"
_PER_WARC = "per-warc"
_WARC_SUFFIX = ".warc.gz"
_REPLAYED = ("response", "revisit", "resource")
_NOT_MODIFIED_PROFILE = "/revisit/server-not-modified"  # WARC 1.0 and 1.1 profile URIs end so


def combined_index_path(archive_dir: Path) -> Path:
    return Path(archive_dir) / INDEX_DIR / COMBINED_INDEX


def _per_warc_path(archive_dir: Path, warc_name: str) -> Path:
    return Path(archive_dir) / INDEX_DIR / _PER_WARC / (warc_name + ".cdxj")


def is_not_modified(record: ArcWarcRecord) -> bool:
    """A 304: a server-not-modified revisit, or any response or revisit whose HTTP status is 304."""
    if (record.rec_headers.get_header("WARC-Profile") or "").endswith(_NOT_MODIFIED_PROFILE):
        return True
    status = record.http_headers.get_statuscode() if record.http_headers is not None else None
    return record.rec_type in ("response", "revisit") and status == "304"


class ReplayIndexer(CDXJIndexer):
    """cdxj-indexer over the records replay serves: responses, revisits and resources, less 304s."""

    def filter_record(self, record: ArcWarcRecord) -> bool:
        # Not the parent's test: py-wacz adds warcinfo to cdxj-indexer's default record types on import.
        return record.rec_type in _REPLAYED and not is_not_modified(record)


@contextmanager
def _index_lock(archive_dir: Path) -> Iterator[None]:
    """Serialise index updates between the crawls of one run and between runs."""
    path = Path(archive_dir) / INDEX_DIR / ".lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def has_index(archive_dir: Path, warc_name: str) -> bool:
    """Whether a WARC's lines are in the combined index (its per-WARC index is written after they are)."""
    return _per_warc_path(archive_dir, warc_name).exists()


def cdxj_lines(warc_path: Path) -> str:
    """The sorted CDXJ index of one WARC, as cdxj-indexer writes it (304s left out)."""
    out = io.StringIO()
    ReplayIndexer(output=out, inputs=[str(warc_path)], sort=True).process_all()
    return out.getvalue()


def _write_per_warc(archive_dir: Path, indexed: dict[str, str]) -> None:
    for name, lines in indexed.items():
        write_atomic(_per_warc_path(archive_dir, name), lines.encode("utf-8"))


def _rebuild_combined(archive_dir: Path) -> None:
    """The combined index merged anew from every per-WARC index."""
    per_warc = sorted((Path(archive_dir) / INDEX_DIR / _PER_WARC).glob("*.cdxj"))
    with ExitStack() as stack, atomic_output(combined_index_path(archive_dir)) as out:
        sources = [stack.enter_context(open(path, "rb")) for path in per_warc]
        out.writelines(heapq.merge(*sources))


def _merge_into_combined(archive_dir: Path, lines: list[bytes]) -> None:
    """Merge sorted ``lines`` into the combined index in one pass; a line already there is not repeated.

    Lines name their WARC and offset, so equal lines are one record: merging a WARC again
    (after a crash before its per-WARC index was written) changes nothing.
    """
    combined = combined_index_path(archive_dir)
    with ExitStack() as stack, atomic_output(combined) as out:
        old = stack.enter_context(open(combined, "rb")) if combined.exists() else iter(())
        out.writelines(line for line, _ in groupby(heapq.merge(old, lines)))


def update_index(archive_dir: Path, warcs: Iterable[Path] | None = None) -> Path:
    """Index closed WARCs and add them to the combined index; return its path.

    ``warcs`` are files just closed; without them every closed WARC of the archive that
    has no index yet (written before indexing existed, or by a crashed run) is indexed,
    and indexes whose WARC is gone are dropped.  A WARC's per-WARC index is written once
    its lines are in the combined one, so its presence means they are.
    """
    archive_dir = Path(archive_dir)
    warc_dir = archive_dir / WARC_DIR
    combined = combined_index_path(archive_dir)
    with _index_lock(archive_dir):
        stale: list[Path] = []
        if warcs is None:
            present = {path.name for path in warc_dir.glob("*" + _WARC_SUFFIX)}
            stale = [path for path in (archive_dir / INDEX_DIR / _PER_WARC).glob("*.cdxj")
                     if path.name.removesuffix(".cdxj") not in present]
            warcs = [warc_dir / name for name in sorted(present)
                     if not _per_warc_path(archive_dir, name).exists()]
        indexed = {Path(warc).name: cdxj_lines(Path(warc)) for warc in warcs}
        if stale or not combined.exists():
            for path in stale:
                path.unlink()
            _write_per_warc(archive_dir, indexed)
            _rebuild_combined(archive_dir)
        elif indexed:
            new = sorted(line.encode("utf-8") for lines in indexed.values() for line in lines.splitlines(True))
            _merge_into_combined(archive_dir, new)
            _write_per_warc(archive_dir, indexed)
    return combined
