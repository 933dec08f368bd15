"""CDXJ indexes: one per closed WARC, merged into the archive's sorted ``indexes/index.cdxj``.

cdxj-indexer writes the format pywb and WACZ read (its digests keep the ``sha1:`` prefix,
so never mix in lines from pywb's own indexer).  A per-WARC index is written once, when
its WARC is closed; the combined file is merged from them and renamed into place, so a
running pywb, which reopens it on every lookup, sees the old index or the new one.
"""

from __future__ import annotations

import fcntl
import heapq
import io
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from cdxj_indexer.main import CDXJIndexer

import archive.warcio_brotli  # noqa: F401 - br bodies are decoded when the indexer needs to
from archive.atomic import atomic_output, write_atomic

INDEX_DIR = "indexes"
COMBINED_INDEX = "index.cdxj"
WARC_DIR = "warc"
_PER_WARC = "per-warc"
_WARC_SUFFIX = ".warc.gz"


def combined_index_path(archive_dir: Path) -> Path:
    return Path(archive_dir) / INDEX_DIR / COMBINED_INDEX


def _per_warc_path(archive_dir: Path, warc_name: str) -> Path:
    return Path(archive_dir) / INDEX_DIR / _PER_WARC / (warc_name + ".cdxj")


@contextmanager
def _index_lock(archive_dir: Path) -> Iterator[None]:
    """Serialise index updates between the crawls of one run and between runs."""
    path = Path(archive_dir) / INDEX_DIR / ".lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def cdxj_lines(warc_path: Path) -> str:
    """The sorted CDXJ index of one WARC, as cdxj-indexer writes it."""
    out = io.StringIO()
    CDXJIndexer(output=out, inputs=[str(warc_path)], sort=True).process_all()
    return out.getvalue()


def _merge(archive_dir: Path) -> None:
    per_warc = sorted((Path(archive_dir) / INDEX_DIR / _PER_WARC).glob("*.cdxj"))
    with ExitStack() as stack, atomic_output(combined_index_path(archive_dir)) as out:
        sources = [stack.enter_context(open(path, "rb")) for path in per_warc]
        out.writelines(heapq.merge(*sources))


def update_index(archive_dir: Path, warcs: Iterable[Path] | None = None) -> Path:
    """Index closed WARCs and refresh the combined index; return its path.

    ``warcs`` are files just closed; without them every closed WARC of the archive that
    has no index yet (written before indexing existed, or by a crashed run) is indexed,
    and indexes whose WARC is gone are dropped.
    """
    archive_dir = Path(archive_dir)
    warc_dir = archive_dir / WARC_DIR
    combined = combined_index_path(archive_dir)
    with _index_lock(archive_dir):
        if warcs is None:
            present = {path.name for path in warc_dir.glob("*" + _WARC_SUFFIX)}
            stale = [path for path in (archive_dir / INDEX_DIR / _PER_WARC).glob("*.cdxj")
                     if path.name.removesuffix(".cdxj") not in present]
            warcs = [warc_dir / name for name in sorted(present)
                     if not _per_warc_path(archive_dir, name).exists()]
            for path in stale:
                path.unlink()
            changed = bool(stale)
        else:
            warcs = [Path(path) for path in warcs]
            changed = False
        for warc in warcs:
            write_atomic(_per_warc_path(archive_dir, warc.name), cdxj_lines(warc).encode("utf-8"))
            changed = True
        if changed or not combined.exists():
            _merge(archive_dir)
    return combined
