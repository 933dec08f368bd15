"""``newsarchive package``: the archive as one WACZ file, with each article as a page.

We hand py-wacz our own pages.jsonl (url, capture time, headline) because its ``--detect-pages``
only keeps pages that some other page names as Referer, which finds none in a crawler's WARCs.
Only closed WARCs go in; a crawl still writing ``.open`` files adds nothing half-written.  The
package's index leaves 304s out, like the archive's own (see ``archive/index.py``); the WARCs in
it keep them.

Memory does not grow with the archive.  The pages list is written row by row from the corpus
store, in the order and the form py-wacz gave the pages it matched to records, and py-wacz copies
it as it is (``--copy-pages``; reading it, py-wacz holds every page twice).  py-wacz's index is
sorted in runs of ``SORT_BUFFER`` characters, kept in one file beside the package and merged
(cdxj-indexer holds up to 32 MB of lines, and spills more to files in /tmp).  We index the WARCs
with py-wacz rather than hand it the archive's replay index: its lines carry fields ours lack
(``recordDigest``, ``referrer``), and the package must not change with the way it is made.
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import io
import json
import os
from collections.abc import Iterator
from itertools import groupby
from pathlib import Path
from typing import BinaryIO, TextIO

import cdxj_indexer.main
import wacz.main
from cdxj_indexer.main import SortingWriter
from wacz.waczindexer import WACZIndexer
from warcio.recordloader import ArcWarcRecord
from warcio.timeutils import timestamp_to_iso_date

import archive.warcio_brotli  # noqa: F401 - py-wacz reads br records in this venv too
from archive import WARC_DIR
from archive.atomic import atomic_path, held_temporary, remove_stale_temporaries
from archive.index import DatedRecords, InterruptibleKeys, is_not_modified
from archive.reader import not_a_warc
from archive.recover import torn_at
from archive.replay import timestamp14
from corpus.store import STORE_FILE, CorpusStore

PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "Archived articles"}
PAGES_SUFFIX = ".pages.jsonl"  # py-wacz copies a pages file only under a name ending .jsonl
SORT_BUFFER = 2**20  # characters of index lines sorted in memory at once
RUN_BLOCK = 8 * 2**10  # bytes read at once from each sorted run while merging them


class PackageError(Exception):
    """py-wacz refused to write the package; the message carries its output."""


class _ReplayWACZIndexer(InterruptibleKeys, DatedRecords, WACZIndexer):
    """py-wacz's indexer, less 304s, its records without a WARC-Date dated as the archive's index dates them, sorting ``SORT_BUFFER`` characters of lines at once (not 32 MB), naming
    the collection where ReplayWeb.page looks for its name."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.max_sort_buff_size = SORT_BUFFER  # py-wacz's create gives its indexer none

    def filter_record(self, record: ArcWarcRecord) -> bool:
        return super().filter_record(record) and not is_not_modified(record)

    def generate_datapackage(self, res: object, wacz: object) -> str:
        """py-wacz puts the title and description at the top of datapackage.json; ReplayWeb.page reads
        them from ``metadata`` (and shows the file name without a title), so they go there too.  py-wacz
        hashes what this returns for datapackage-digest.json, so the digest stays true."""
        package = json.loads(super().generate_datapackage(res, wacz))
        metadata = {key: package[key] for key in ("title", "description") if key in package}
        if metadata:
            package["metadata"] = metadata
        return json.dumps(package, indent=2)


class _SortedInRuns(SortingWriter):
    """cdxj-indexer's external sort, its sorted runs written one after another into one file (``runs``) and
    read back through that one descriptor, where it writes a file each in /tmp."""

    def __init__(self, out: TextIO, max_sort_buff_size: int | None = None, *, runs: BinaryIO) -> None:
        super().__init__(out, max_sort_buff_size)
        self.runs = runs

    def write_to_temp(self) -> tuple[int, int]:
        """Append the lines held, sorted, to the runs file; return where they start and end (cdxj-indexer
        keeps what this returns in ``tmp_files``)."""
        self.sortedlist.sort()
        start = self.runs.tell()
        self.runs.writelines(line.encode("utf-8") for line, _ in groupby(self.sortedlist))
        return start, self.runs.tell()

    def flush(self) -> None:
        if not self.tmp_files:
            super().flush()  # it all fitted in memory
            return
        if self.sortedlist:
            self.tmp_files.append(self.write_to_temp())
            self.sortedlist, self.count = [], 0
        self.runs.flush()
        self.write_to_file(heapq.merge(*(self._run_lines(start, end) for start, end in self.tmp_files)), self.out)

    def _run_lines(self, start: int, end: int) -> Iterator[str]:
        rest = b""
        while start < end:
            block = os.pread(self.runs.fileno(), min(RUN_BLOCK, end - start), start)
            start += len(block)
            *lines, rest = (rest + block).split(b"\n")
            yield from (line.decode("utf-8") + "\n" for line in lines)


@contextlib.contextmanager
def _with_our_indexing(runs: BinaryIO) -> Iterator[None]:
    """py-wacz builds its indexer inside ``create`` with no way to pass one in, and cdxj-indexer its sorter,
    so swap the classes they name: ours leaves 304s out and sorts in runs in ``runs``."""
    wacz.main.WACZIndexer = _ReplayWACZIndexer
    cdxj_indexer.main.SortingWriter = functools.partial(_SortedInRuns, runs=runs)
    try:
        yield
    finally:
        wacz.main.WACZIndexer = WACZIndexer
        cdxj_indexer.main.SortingWriter = SortingWriter


def write_pages(archive_dir: Path, warc_names: set[str], out: BinaryIO) -> None:
    """One page per corpus row whose record is in one of ``warc_names``, in the order of the records in the WARCs:
    its record id, URL, headline and capture time (to the second), as py-wacz writes the pages it finds records of."""
    out.write((json.dumps(PAGES_HEADER) + "\n").encode("utf-8"))
    if not (archive_dir / STORE_FILE).exists():  # an archive never derived has no articles, and gets no store here
        return
    with CorpusStore(archive_dir) as store:
        for warc_file, record_id, url, title, fetched_at in store.rows_in_record_order():
            if warc_file in warc_names:
                page = {"id": record_id.strip("<>").removeprefix("urn:uuid:"), "url": url, "title": title or url,
                        "ts": timestamp_to_iso_date(timestamp14(fetched_at))}
                out.write((json.dumps(page) + "\n").encode("utf-8"))


def package(archive_dir: Path, out: Path, title: str | None = None, description: str | None = None) -> Path:
    """Write ``out`` (a .wacz) from every closed WARC of the archive and its corpus.

    py-wacz writes a hidden temporary file beside ``out`` (``.NAME.XXXX.tmp``), renamed over ``out`` when
    complete: an interrupted or killed package leaves the previous ``out`` as it was.  The temporary files a
    killed one left (that, the pages list and the index's sorted runs) are removed by the next package to the
    same ``out``."""
    archive_dir, out = Path(archive_dir), Path(out)
    warcs = sorted((archive_dir / WARC_DIR).glob("*.warc.gz"))
    if not warcs:
        raise PackageError(f"{archive_dir / WARC_DIR}: no closed WARC files to package")
    if strays := [f"{warc.name} ({why})" for warc in warcs if (why := not_a_warc(warc))]:
        raise PackageError(f"{archive_dir / WARC_DIR}: {', '.join(strays[:3])}{', ...' if len(strays) > 3 else ''}: "
                           "move what is not a WARC out of it to package the archive")
    if torn := [f"{warc.name} (unreadable after offset {end})" for warc in warcs
            if (end := torn_at(archive_dir, warc)) is not None]:
        raise PackageError(f"{archive_dir / WARC_DIR}: {', '.join(torn[:3])}{', ...' if len(torn) > 3 else ''}: cut "
                           "short or damaged, so the package would not be whole; restore it from a copy (`newsarchive "
                           "check` says what is lost), or move it out of warc/ to package the rest")
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)
    remove_stale_temporaries(out, suffix=PAGES_SUFFIX)
    # beside the package too (not in /tmp), so what a killed package leaves is found and removed there
    with held_temporary(out, suffix=PAGES_SUFFIX) as (pages, _), held_temporary(out, suffix=".index.tmp") as (_, fd):
        with open(pages, "wb") as pages_out:
            write_pages(archive_dir, {warc.name for warc in warcs}, pages_out)
        log = io.StringIO()
        with open(fd, "w+b", closefd=False) as runs, atomic_path(out) as partial, \
                contextlib.redirect_stdout(log), _with_our_indexing(runs):
            status = wacz.main.main(["create", "-o", str(partial), "-p", str(pages), "--copy-pages",
                                     "--title", title or f"newsarchive: {archive_dir.name}",
                                     *(["--desc", description] if description else []), *map(str, warcs)])
            if status:
                raise PackageError(f"wacz create failed: {log.getvalue().strip()}")
    return out
