"""Derivation: the corpus brought up to date with the archive, from the WARCs alone.

The crawl only archives; this step reads what was archived and is not derived yet, while
the crawl runs and after it, from any process: a run, ``newsarchive derive``, or a rebuild
into an empty store.  The WARC is the journal.  Each file's scanned offset is kept in the
store, committed with the captures found before it, so a derivation that dies anywhere
resumes where its last batch was committed, and the captures are keyed by WARC record, so
none is taken twice.  A closed file read to its end is never opened again: the cost of a
pass is what was archived since the last one.

The work is split into pieces of WARC: a file, or for a large closed file stretches of it
cut at capture boundaries taken from its CDXJ index.  A worker process (of a local pool, or
of a Dask cluster) reads its piece and extracts the articles in it (bytes in, documents
out); this process only writes the store, piece by piece in file order, each piece's
captures and scan position in one transaction, so the result does not depend on how many
workers there were.  A worker that dies (a page that crashes the parser, a kill) costs only
its piece, which is redone capture by capture on a fresh pool; a capture that kills a worker
on its own is recorded as failed with the reason, so it cannot stop every later derivation.
The pool's results come back through files (``corpus.workers``): a worker killed while it
sends one breaks the pool, where CPython's own would wait for the rest of the message for ever.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Container, Iterable, Iterator
from contextlib import contextmanager
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from archive import WARC_DIR
from archive.digests import digest_key
from archive.index import capture_offsets
from archive.reader import (NOT_MODIFIED, ArticleCapture, RecordError, Scan, ScanStats, digests_line, error_line,
                            positional_record_id, read_response, scan_article_captures)
from archive.writer import OPEN_SUFFIX
from corpus.counts import counted, new_texts
from corpus.export import export_corpus_jsonl
from corpus.store import CorpusStore, ExtractedArticle
from corpus.swap import finish_swap
from corpus.upgrade import OldLayout
from corpus.workers import ExtractionOverran, ResultFilePool, extracting, working_on
from extract import EXTRACTOR, Document, extract_document, prepare
from supervision import die_with_parent, leave_stop_signals_to_the_run

logger = logging.getLogger("newsarchive.derive")

# Captures per extraction task of revisits resolved across files: a few tenths of a second
# of work, so the processes finish together and each task's result is small to send back.
BATCH = 16
# A closed WARC larger than this is cut into pieces of about this size at capture boundaries
# (from its CDXJ index), so one large file keeps every worker busy and a task's result stays
# small.  A fixed size, not a share per worker: the pieces, and so the corpus, are the same
# on any number of workers.
PIECE_BYTES = 8 * 2**20
MAX_LISTED = 1000  # pages listed as not extracted in a report: a broken site must not fill the memory


@dataclass(frozen=True)
class WarcFile:
    path: Path  # as found (may still end in .open)
    name: str  # the final name, without .open
    closed: bool


@dataclass
class FileReport:
    """What a derivation found in one WARC file: what it read, took and skipped, and why."""

    stats: ScanStats = field(default_factory=ScanStats)
    articles: int = 0  # captures extracted as articles (a URL's same payload twice is still one corpus row)
    not_articles: int = 0  # pages extraction found no article in
    not_extracted: int = 0
    revisits: int = 0  # revisits of article payloads archived before: not extracted again
    shared_ids: int = 0  # captures with the WARC-Record-ID of another record: keyed by where they are
    shared_with: str = ""  # where the first of those other records is
    took_ids: int = 0  # captures whose WARC-Record-ID a record read before had: that one is keyed by where it is
    took_from: str = ""  # where the first of those records is
    held: int = 0  # captures the corpus holds already: the same records, from a copy of this file or before
    not_modified: int = 0  # other tools' 304s read: each confirms a capture, or waits for it to be in the archive
    waiting: int = 0  # of those, the ones whose capture is not in the archive yet
    confirmed_later: int = 0  # 304s read by an earlier derivation that confirm a capture this one took
    revisits_later: int = 0  # revisits read by an earlier derivation whose payload this one read
    error: str | None = None  # why the file could not be read to its end
    note: str = ""  # how the file was read, where that is not as it is (a copy of it)

    def line(self, name: str) -> str:
        """One line for a person: records, HTML pages, articles, and what was skipped and why."""
        stats = self.stats
        if self.error and not stats.html:
            return self.error
        later = (f"{counted(self.confirmed_later, 'not-modified confirmation')} read before the "
                 f"{'capture it confirms' if self.confirmed_later == 1 else 'captures they confirm'}, taken now")
        payloads_later = (f"{counted(self.revisits_later, 'revisit')} read before the "
                          f"{'payload it refers' if self.revisits_later == 1 else 'payloads they refer'} to, taken now")
        if not stats.records and (self.confirmed_later or self.revisits_later):  # read by an earlier derivation
            return f"{name}: " + "; ".join(part for count, part in ((self.confirmed_later, later),
                                                                    (self.revisits_later, payloads_later)) if count)
        parts = [f"{name}: {counted(stats.records, 'record')}, {counted(stats.html, 'HTML page')}, "
                 f"{counted(self.articles, 'article')}"]
        if self.not_articles:
            parts.append(f"not articles: {counted(self.not_articles, 'page')}")
        if self.not_extracted:
            parts.append(f"{self.not_extracted} not extracted")
        if self.not_modified:
            waiting = f", {self.waiting} for {'a capture' if self.waiting == 1 else 'captures'} not in the archive yet"
            parts.append(counted(self.not_modified, "not-modified confirmation") + (waiting if self.waiting else ""))
        if self.confirmed_later:
            parts.append(later)
        if self.revisits_later:
            parts.append(payloads_later)
        if self.revisits:
            parts.append(f"{counted(self.revisits, 'revisit')} of articles archived before")
        if self.held:
            parts.append(f"{counted(self.held, 'capture')} the corpus holds already (the same records: a copy of "
                         "a file read before)")
        if self.shared_ids:
            more = ", ..." if self.shared_ids > 1 else ""
            parts.append(f"{counted(self.shared_ids, 'capture')} with the WARC-Record-ID of another record "
                         f"({self.shared_with}{more}): keyed by file and offset")
        if self.took_ids:
            more = ", ..." if self.took_ids > 1 else ""
            parts.append(f"{counted(self.took_ids, 'capture')} keeping the WARC-Record-ID of a later record the corpus "
                         f"held ({self.took_from}{more}): that one keyed by file and offset")
        if stats.bad_digests:
            parts.append(digests_line(stats.bad_digests))
        if stats.skipped:
            parts.append("skipped: " + ", ".join(
                f"{count} {why}" for why, count in sorted(stats.skipped.items(), key=lambda item: (-item[1], item[0]))))
        if self.note:
            parts.append(self.note)
        if self.error:
            parts.append(f"then {self.error.removeprefix(name + ': ')}")
        return "; ".join(parts)


@dataclass
class DeriveReport:
    """What a derivation did: new corpus rows per source and of those the new articles (URLs the corpus held no row
    of; the rest are ``new_versions``), captures read, failures, and per WARC file.

    ``files`` stays in the process that derived (``to_dict`` carries the totals only).
    """

    new_rows: Counter = field(default_factory=Counter)  # once caught up, what the store gained (``_count_new_rows``)
    new_articles: Counter = field(default_factory=Counter)  # the same, of its articles (first versions, one per URL)
    captures: int = 0
    failed: int = 0  # captures that could not be read or extracted, and files that could not be read
    rewritten_texts: int = 0
    exported: bool = False
    error: str | None = None  # why the corpus could not be written (the disk, not a page)
    not_extracted: list[dict] = field(default_factory=list)  # {"url", "reason"}, the first MAX_LISTED
    failures: list[str] = field(default_factory=list)  # why captures or files could not be read, the first MAX_LISTED
    broken_bodies: list[str] = field(default_factory=list)  # extracted from a body broken partway: the first MAX_LISTED
    files: dict[str, FileReport] = field(default_factory=dict)
    taken_over: Counter = field(default_factory=Counter)  # rows of an old layout's corpus, not new (corpus.upgrade)
    upgrade: str | None = None  # the line that says an upgrade from an old layout is done, in the derivation that ended it

    @property
    def new_versions(self) -> Counter:
        """Per source, the new rows that are no new article: versions of articles the corpus held (a correction, an
        earlier capture of one read after its later ones, which numbers its versions anew)."""
        return self.new_rows - self.new_articles

    def new_texts(self) -> str:
        """The new articles and new versions, for a person."""
        return new_texts(sum(self.new_articles.values()), sum(self.new_versions.values()))

    def file(self, name: str) -> FileReport:
        return self.files.setdefault(name, FileReport())

    def file_errors(self) -> list[str]:
        return [found.error for _, found in sorted(self.files.items()) if found.error]

    def lines(self, most: int = 20) -> list[str]:
        """One line per WARC file, in name order, then the first ``most`` captures not extracted, with why."""
        lines = [found.line(name) for name, found in sorted(self.files.items())]
        file_errors = set(self.file_errors())
        captures = [why for why in self.failures if why not in file_errors]
        lines += self.broken_bodies[:most]
        lines += [f"not extracted: {why}" for why in captures[:most]]
        if self.failed - len(file_errors) > most:
            lines.append(f"... and {self.failed - len(file_errors) - most} more captures not extracted")
        return lines

    def fail(self, why: str) -> None:
        self.failed += 1
        if len(self.failures) < MAX_LISTED:
            self.failures.append(why)

    def to_dict(self) -> dict:
        return {"new_rows": dict(self.new_rows), "new_articles": dict(self.new_articles), "captures": self.captures,
                "failed": self.failed, "rewritten_texts": self.rewritten_texts, "exported": self.exported,
                "error": self.error, "not_extracted": self.not_extracted, "taken_over": dict(self.taken_over),
                "upgrade": self.upgrade}

    @classmethod
    def from_dict(cls, data: dict) -> DeriveReport:
        return cls(Counter(data.get("new_rows", {})), Counter(data.get("new_articles", {})), data.get("captures", 0),
                   data.get("failed", 0), data.get("rewritten_texts", 0), data.get("exported", False),
                   data.get("error"), data.get("not_extracted", []), taken_over=Counter(data.get("taken_over", {})),
                   upgrade=data.get("upgrade"))

    def not_extracted_because(self, url: str, reason: str) -> None:
        """An archived article page that gave no corpus row, and why (in the log, and the run report)."""
        logger.info("not extracted: %s: %s", url, reason)
        if len(self.not_extracted) < MAX_LISTED:
            self.not_extracted.append({"url": url, "reason": reason})


def storage_error(root: Path, exc: Exception) -> str:
    """One line for a corpus that cannot be written: what, where, and that nothing archived is lost."""
    what = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    where = getattr(exc, "filename", None) or root
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
        return (f"the corpus store is damaged ({what}: {root}); `newsarchive check --repair` sets it aside and "
                "derives the corpus again from the WARCs")
    return (f"cannot write the corpus ({what}: {where}); the WARCs keep every capture, and the next run "
            "or `newsarchive derive` catches up")


def archive_warcs(warc_dir: Path, finished: Container[str] = frozenset()) -> list[WarcFile]:
    """The archive's WARC files, closed and still open, in name order (names begin with their time), less
    the closed ones named in ``finished`` (derived whole already: passed over before anything is made
    of them, as a derivation following a crawl lists ``warc/`` every half second, and the files of
    years of runs pile up there)."""
    found: dict[str, WarcFile] = {}
    try:
        names = os.listdir(warc_dir)
    except FileNotFoundError:
        return []
    for entry in names:
        if entry in finished:
            continue
        if entry.endswith(".warc.gz"):
            found[entry] = WarcFile(warc_dir / entry, entry, True)
        elif entry.endswith(".warc.gz" + OPEN_SUFFIX):
            name = entry[: -len(OPEN_SUFFIX)]
            found.setdefault(name, WarcFile(warc_dir / entry, name, False))
    return [found[name] for name in sorted(found)]


class ArchiveWarcs:
    """``archive_warcs`` of a ``warc/`` directory, listed again only when the directory has changed.

    A derivation following a crawl asks every half second; a file is added to ``warc/`` or
    renamed there (``.open`` closed) a few times a run, which changes its modification time,
    while records appended to an open file do not.  A time within ``_RACY_NS`` of now is not
    trusted (file systems keep it coarsely), so the listing is made again until it is older.
    """

    _RACY_NS = 2_000_000_000

    def __init__(self, warc_dir: Path):
        self.warc_dir = Path(warc_dir)
        self._listed_at: int | None = None
        self._files: list[WarcFile] = []

    def __call__(self, finished: Container[str] = frozenset()) -> list[WarcFile]:
        try:
            changed = os.stat(self.warc_dir).st_mtime_ns
        except FileNotFoundError:
            return []
        if changed != self._listed_at or time.time_ns() - changed < self._RACY_NS:
            self._files, self._listed_at = archive_warcs(self.warc_dir, finished), changed
        return [warc for warc in self._files if warc.name not in finished]


def extract_capture(capture: ArticleCapture) -> ExtractedArticle:
    """Read an article's payload back and extract it (``RecordError`` if it cannot be read).

    The row's provenance is the capture's record (a revisit's own); its body may be in another.  A
    revisit of ours, or another tool's 304, is not read: its payload is one its URL archived before.
    """
    name = capture.warc_path.name.removesuffix(OPEN_SUFFIX)
    if capture.revisit:  # a payload archived before at its URL: the store gives it its first capture's text
        confirms = None
        if capture.foreign and capture.not_modified:  # the capture it names, or its URL's latest before it
            confirms = (capture.refers_to or capture.url, capture.refers_to_date) if capture.refers_to_date \
                else (capture.url, "")
        return ExtractedArticle(capture.source, capture.url, capture.date, name, capture.offset, capture.record_id,
                                "" if confirms else capture.payload_digest, Document.empty(capture.url, ""), EXTRACTOR,
                                revisit=True, foreign=capture.foreign, confirms=confirms)
    path, offset = capture.payload or (capture.warc_path, capture.offset)
    response = read_response(path, offset)
    if response.truncated:
        raise RecordError(f"{name}@{capture.offset} {capture.url}: body {response.truncated}, not extracted")
    document = extract_document(response.body, capture.url, content_type=response.content_type)
    note = ""
    if response.broken:  # what decoded is all the page there is: extracted, and said
        note = (f"{name}@{capture.offset} {capture.url}: body {response.broken}: "
                f"{'no article in what decoded' if document.is_empty else 'its text is from what decoded'}")
    return ExtractedArticle.prepared(capture.source, capture.url, capture.date, name, capture.offset,
                                     capture.record_id, capture.payload_digest, document=document, extractor=EXTRACTOR,
                                     foreign=capture.foreign, note=note)


def _waiting_row(name: str, revisit: ArticleCapture) -> tuple[str, int, str, str]:
    """A revisit as the store keeps it while it waits for its payload (``CorpusStore.wait_for_payloads``)."""
    fields = {key: value for key, value in asdict(revisit).items() if key not in ("warc_path", "offset", "payload")}
    return name, revisit.offset, digest_key(revisit.payload_digest), json.dumps(fields)


def _waiting_capture(path: Path, offset: int, fields: str) -> ArticleCapture:
    """The revisit ``_waiting_row`` kept, at ``path``."""
    return ArticleCapture(warc_path=path, offset=offset, **json.loads(fields))


def _failed(capture: ArticleCapture, why: str) -> tuple[ExtractedArticle, str]:
    name = capture.warc_path.name.removesuffix(OPEN_SUFFIX)
    placeholder = ExtractedArticle(capture.source, capture.url, capture.date, name, capture.offset,
                                   capture.record_id, capture.payload_digest, Document.empty(capture.url, why),
                                   EXTRACTOR, foreign=capture.foreign)
    return placeholder, why


def extract_batch(captures: list[ArticleCapture]) -> list[ExtractedArticle | tuple[ExtractedArticle, str]]:
    """Each capture's article, or the capture and why it could not be extracted."""
    outcomes: list[ExtractedArticle | tuple[ExtractedArticle, str]] = []
    with extracting():
        for capture in captures:
            working_on(f"{capture.warc_path.name.removesuffix(OPEN_SUFFIX)}@{capture.offset} {capture.url}")
            try:
                outcomes.append(extract_capture(capture))
            except RecordError as exc:  # its message names the record
                outcomes.append(_failed(capture, str(exc)))
            except Exception as exc:  # a bug on one page must not stop the others
                outcomes.append(_failed(capture, f"{capture.warc_path.name}@{capture.offset} {capture.url}: "
                                                 f"{type(exc).__name__}: {error_line(exc)}"))
    return outcomes


@dataclass(frozen=True)
class Piece:
    """The records of one WARC that start at or after ``start`` and before ``stop`` (None: to its end): one task."""

    warc: WarcFile
    start: int
    stop: int | None = None


@dataclass
class PieceResult:
    """What a worker found in a piece: its scan (``captures`` emptied: they are in ``outcomes``) and extractions."""

    scan: Scan | None  # None: the file could not be opened (``why_not``)
    outcomes: list
    why_not: str = ""


def derive_piece(piece: Piece, extract: Callable[[list[ArticleCapture]], list] | None = None) -> PieceResult:
    """On a worker: read a piece of a WARC and extract the article captures in it (bytes in, documents out),
    with ``extract`` (``extract_batch`` unless given)."""
    try:
        scan = scan_article_captures(piece.warc.path, piece.start, closed=piece.warc.closed, stop=piece.stop)
    except (OSError, RecordError) as exc:
        return PieceResult(None, [], str(exc))
    return PieceResult(replace(scan, captures=[]), (extract or extract_batch)(scan.captures))


def _article_of(outcome: ExtractedArticle | tuple[ExtractedArticle, str]) -> ExtractedArticle:
    return outcome if isinstance(outcome, ExtractedArticle) else outcome[0]


def _with_article(outcome: ExtractedArticle | tuple[ExtractedArticle, str],
                  article: ExtractedArticle) -> ExtractedArticle | tuple[ExtractedArticle, str]:
    return article if isinstance(outcome, ExtractedArticle) else (article, outcome[1])


def _cuts(offsets: list[int], start: int) -> list[int]:
    """Where to cut a file read from ``start``: capture offsets about ``PIECE_BYTES`` apart."""
    cuts, last = [], start
    for offset in offsets:
        if offset - last >= PIECE_BYTES:
            cuts.append(offset)
            last = offset
    return cuts


def _start_worker(parent: int) -> None:
    die_with_parent(parent)
    # A terminal's Ctrl-C reaches the whole process group: the derivation stops its pool (and says so
    # in one line); a worker's own KeyboardInterrupt would only print a traceback.  (Forked with the
    # stop signals blocked: one that came meanwhile was the derivation's, and is dropped here.)
    leave_stop_signals_to_the_run()
    # The derivation process ignores SIGTERM (the run stops it through its stdin); its workers
    # must not, or the executor could not terminate the survivors of a broken pool.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    prepare()  # the libraries' loading is paid here, not by the worker's first page


class Derivation:
    """Derives the captures of ``warcs(finished)`` (the WARC files, those named in ``finished`` may be left
    out) into the corpus under ``root`` with ``workers`` processes.

    ``executor`` (a Dask cluster's, say) reads and extracts instead of a pool of this
    process's own, with ``workers`` pieces in flight; the store is still written here alone.
    """

    def __init__(self, root: Path, warcs: Callable[[Container[str]], list[WarcFile]], workers: int = 2,
                 executor: Executor | None = None):
        self.root = Path(root)
        self.warcs = warcs
        self.workers = max(1, workers)
        self._given = executor
        self.parallel = self._in_flight()  # pieces in flight; fewer while a crawl shares the machine
        finish_swap(self.root)  # a corpus derived anew that a crash left half in place
        self.upgrade = OldLayout.found(self.root)  # an archive derived before the store: its articles are not new
        self.store = CorpusStore(self.root)
        self.report = DeriveReport()
        self._pool: ResultFilePool | None = None
        self._finished = self.store.finished_files()
        self._forget_cut_tails()
        self._rows_before, self._articles_before = self.store.rows_per_source(), self.store.articles_per_source()
        self._moved: Counter = Counter()  # (source, source): rows another tool's captures took from one to the other
        self._moved_articles: Counter = Counter()  # (source, source): of those, first versions
        self._taken_articles: Counter = Counter()  # of the rows of an old layout's corpus taken over, first versions
        self._cursor: dict[str, tuple[int, bool]] = {}  # scans not yet committed: nothing found there
        self._payloads: dict[str, tuple[Path, int]] = {}  # another tool's pages seen: payload key (digest_key) -> where
        self._revisits: dict[str, list[ArticleCapture]] = {}  # revisits to resolve found this pass, per file
        self._held: dict[str, tuple[int, bool]] = {}  # scan positions that wait for their file's revisits
        self._listed: dict[str, Path] = {}  # WARCs listed: name -> path (a rebuild's may be in several directories)
        self._arrived: set[str] = set()  # payload keys this pass read: revisits waiting for them are taken

    def _forget_cut_tails(self) -> None:
        """Captures read from bytes that recovery has since cut off a WARC (a power cut left it torn) are
        forgotten: only a file not read to its end since it was closed can have been cut."""
        for warc in self.warcs(self._finished):
            try:
                size = os.path.getsize(warc.path)
            except OSError:
                continue
            if size < self.store.scanned(warc.name)[0] and (lost := self.store.forget_from(warc.name, size)):
                logger.warning("%s: %d captures derived from bytes recovery cut off its end were forgotten; "
                               "their pages are fetched again", warc.name, lost)

    # -- the pool --------------------------------------------------------------------------
    def _in_flight(self) -> int:
        """Two pieces per process of our own pool, so none waits while its last result is stored; a given executor's
        ``workers`` already counts them."""
        return self.workers if self._given is not None else 2 * self.workers

    def _executor(self) -> Executor:
        if self._given is not None:
            return self._given
        if self._pool is None:
            # Forked from this process; a worker dies with it.
            self._pool = ResultFilePool(self.workers, initializer=_start_worker, initargs=(os.getpid(),))
        return self._pool

    def _discard_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self.store.close()

    def __enter__(self) -> Derivation:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- passes ----------------------------------------------------------------------------
    def _pieces(self) -> list[Piece]:
        """The stretches of WARC not derived yet, in file order: one per file, or several for a large closed one."""
        todo: list[tuple[WarcFile, int, int | None]] = []
        for warc in self.warcs(self._finished):
            self._listed[warc.name] = warc.path
            if warc.name in self._finished:
                continue
            start, _ = self._cursor.get(warc.name) or self.store.scanned(warc.name)
            try:
                size = os.path.getsize(warc.path)
            except OSError:  # renamed from .open since the listing, or gone: the scan finds out
                size = None
            if size is not None and size <= start and not warc.closed:
                continue  # nothing written since the last pass
            todo.append((warc, start, size))
        large = [(warc, start) for warc, start, size in todo
                 if warc.closed and size is not None and size - start > PIECE_BYTES]
        offsets = dict(zip((warc.name for warc, _ in large),
                           self._map(capture_offsets, [warc.path for warc, _ in large])))
        pieces = []
        for warc, start, _ in todo:
            cuts = _cuts(offsets.get(warc.name, []), start)
            pieces += [Piece(warc, begin, end) for begin, end in zip([start, *cuts], [*cuts, None])]
        return pieces

    def _map(self, function: Callable, items: list) -> list:
        """``function`` over ``items`` on the workers (reads of whole files); an item whose worker fails gives []."""
        results = []
        for future in [self._executor().submit(function, item) for item in items]:
            try:
                results.append(future.result())
            except Exception as exc:  # noqa: BLE001 - a dead worker or pool: the file is read as one piece
                logger.debug("%s: %s", function.__name__, exc)
                self._discard_pool()
                results.append([])
        return results

    def step(self) -> int:
        """One pass over the WARCs: derive every whole capture not derived yet; the number taken."""
        taken = self._run(self._pieces())
        batches: list[tuple[list[ArticleCapture], dict[str, tuple[int, bool]]]] = []
        for name, revisits in self._revisits.items():  # every file read first: a revisit's payload may be in a later one
            captures = self._with_payloads(name, revisits)
            position = self._held.pop(name)
            chunks = [captures[start:start + BATCH] for start in range(0, len(captures), BATCH)]
            for index, chunk in enumerate(chunks):
                batches.append((chunk, {name: position} if index == len(chunks) - 1 else {}))
            if not chunks:
                self._cursor[name] = position
        self._revisits.clear()
        taken += self._run(batches + self._revisits_of_arrived_payloads())
        self._commit_cursors()
        return taken

    def _with_payloads(self, name: str, revisits: list[ArticleCapture]) -> list[ArticleCapture]:
        """Revisits of another tool's pages, and of ours of a payload first archived at another URL, each with where its
        payload is: in a WARC of this derivation, or where an article of the corpus was made from it; one of ours whose
        text is made at its URL already (a story at a second address, seen again) is not extracted again.  One whose
        payload the corpus holds with no article (a section page an earlier import read) gives none, as it would
        read with its original; only one whose payload is nowhere is said to be missing."""
        resolved, unresolved = self._resolved(name, revisits)
        held = self.store.held_payloads(key for key, _ in unresolved) if unresolved else set()
        found = self.report.file(name)
        found.not_articles += sum(key in held for key, _ in unresolved)  # their originals gave no article
        if missing := [revisit for key, revisit in unresolved if key not in held]:
            found.stats.skipped["revisit of a payload in none of these files"] += len(missing)
            self.store.wait_for_payloads(_waiting_row(name, revisit) for revisit in missing)
        return resolved

    def _resolved(self, name: str, revisits: list[ArticleCapture]) -> tuple[list[ArticleCapture],
                                                                               list[tuple[str, ArticleCapture]]]:
        """The revisits with where their payloads are (or marked as a capture of a version made at their URL), and
        (payload key, revisit) of those whose payload no file read so far holds as a page."""
        resolved, unresolved = [], []
        for revisit in revisits:
            if not revisit.foreign and self.store.made_at(revisit.payload_digest, revisit.source, revisit.url):
                resolved.append(replace(revisit, revisit=True))  # its text is made here: a capture of that version
                continue
            if revisit.foreign and revisit.not_modified:  # another tool's 304: the store finds what it confirms
                resolved.append(replace(revisit, revisit=True))
                continue
            key = digest_key(revisit.payload_digest)
            payload = self._payloads.get(key)
            if payload is None and (derived := self.store.payload_at(revisit.payload_digest, revisit.refers_to)):
                name_there, offset = derived
                payload = (self._listed.get(name_there) or revisit.warc_path.parent / name_there, offset)
            if payload is None and revisit.not_modified:  # a 304 of a page whose payload made no article
                self.report.file(name).stats.skipped[NOT_MODIFIED] += 1
            elif payload is None:
                unresolved.append((key, revisit))
            else:
                resolved.append(replace(revisit, payload=payload))
        return resolved, unresolved

    def _revisits_of_arrived_payloads(self) -> list[tuple[list[ArticleCapture], dict]]:
        """Revisits an earlier derivation read before any file held their payload (a deduplicating crawl imported
        before the crawl it refers to), whose payload this pass read: batches to take them now, as a rebuild of every
        file would; those whose payload is a page with no article wait no more."""
        arrived, self._arrived = self._arrived, set()
        waiting: dict[str, list[ArticleCapture]] = {}
        for name, offset, capture in self.store.revisits_waiting_for(arrived):
            path = self._listed.get(name) or self.root / WARC_DIR / name
            if path.exists():  # (a rebuild's file not given this time waits)
                waiting.setdefault(name, []).append(_waiting_capture(path, offset, capture))
        batches = []
        for name, revisits in waiting.items():
            resolved, unresolved = self._resolved(name, revisits)
            held = self.store.held_payloads(key for key, _ in unresolved) if unresolved else set()
            self.store.stop_waiting((name, revisit.offset) for key, revisit in unresolved if key in held)
            self.report.file(name).revisits_later += len(resolved)
            batches += [(resolved[start:start + BATCH], {}) for start in range(0, len(resolved), BATCH)]
        return batches

    def _commit_cursors(self) -> None:
        for name, (offset, closed) in list(self._cursor.items()):
            if (offset, closed) != self.store.scanned(name):
                self.store.mark_scanned(name, offset, closed)
            if closed:
                self._finished.add(name)
            del self._cursor[name]

    def _submit(self, work: Piece | tuple[list[ArticleCapture], dict]) -> Future:
        if isinstance(work, Piece):
            return self._executor().submit(derive_piece, work)
        return self._executor().submit(extract_batch, work[0])

    def _run(self, work: list) -> int:
        """Derive pieces of WARC (or batches of captures, with the scan positions they complete) on the workers,
        ``parallel`` at a time, and store their results in the order given; the number of captures stored."""
        waiting = deque(work)
        in_flight: deque[tuple[Future, Piece | tuple]] = deque()
        taken = 0
        while waiting or in_flight:
            while waiting and len(in_flight) < self.parallel:
                item = waiting.popleft()
                try:
                    in_flight.append((self._submit(item), item))
                except BrokenProcessPool:  # found broken since the last result: its work shows whose fault
                    waiting.appendleft(item)
                    if in_flight:
                        break
                    self._discard_pool()
            future, item = in_flight.popleft()
            try:
                result = future.result()
            except BrokenProcessPool:
                # Every task in flight is lost with the pool: this one is redone capture by
                # capture, the others go back in the queue.
                resubmit = [item_ for _, item_ in in_flight]
                in_flight.clear()
                self._discard_pool()
                result = self._redo(item)
                waiting.extendleft(reversed(resubmit))
            except Exception as exc:  # noqa: BLE001 - a cluster gave up on the task (its workers died on it)
                logger.error("%s: %s", type(exc).__name__, exc)
                result = self._redo(item)
            taken += self._take(item, result)
        return taken

    def _redo(self, item: Piece | tuple) -> PieceResult | list:
        """A task whose worker died: its captures one by one, so only the one that kills a worker is lost."""
        if not isinstance(item, Piece):
            return self._one_by_one(item[0])
        return derive_piece(item, self._one_by_one)  # read here, extracted capture by capture on the workers

    def _one_by_one(self, chunk: list[ArticleCapture]) -> list:
        logger.error("an extraction process died or was stopped; its %d captures are redone one by one", len(chunk))
        outcomes = []
        for capture in chunk:
            try:
                outcomes += self._executor().submit(extract_batch, [capture]).result()
            except Exception as exc:  # noqa: BLE001 - the pool broke again, or the cluster gave up on it
                self._discard_pool()
                why = str(exc) if isinstance(exc, ExtractionOverran) else \
                    f"the extraction process died on it ({type(exc).__name__})"
                outcomes.append(_failed(capture, f"{capture.warc_path.name}@{capture.offset} {capture.url}: {why}"))
        return outcomes

    def _take(self, item: Piece | tuple, result: PieceResult | list) -> int:
        """Store what a task found; a file's scan position goes with its last captures (held while revisits wait)."""
        if isinstance(item, Piece):
            if result.scan is None:  # renamed from .open since the listing: seen next pass
                logger.debug("%s: %s", item.warc.path, result.why_not)
                return 0
            name, scan = item.warc.name, result.scan
            found = self.report.file(name)
            found.stats.add(scan.stats)
            if scan.error:  # what could be read is taken; the rest of the stretch is not read again
                logger.error("%s", scan.error)
                self.report.fail(scan.error)
                found.error = scan.error
            for digest, where in scan.payloads.items():
                self._payloads.setdefault(digest, where)
            self._arrived.update(scan.payloads)
            if scan.revisits:
                self._revisits.setdefault(name, []).extend(scan.revisits)
            position = (scan.end, item.warc.closed and item.stop is None)
            if name in self._held or scan.revisits:
                self._held[name], scanned = position, {}
            else:
                scanned = {name: position}
            outcomes = result.outcomes
        else:
            outcomes, scanned = result, item[1]
        outcomes, rekeyed = self._not_held(outcomes)
        if not outcomes:
            self._cursor.update(scanned)
            return 0
        for name in scanned:
            self._cursor.pop(name, None)
        self._store(outcomes, scanned, rekeyed)
        for name, (_, closed) in scanned.items():
            if closed:
                self._finished.add(name)
        return len(outcomes)

    def _not_held(self, outcomes: list) -> tuple[list, dict[str, str]]:
        """The outcomes whose captures the store does not hold yet, and the held captures to key anew (key -> key).

        Records that share a WARC-Record-ID but differ (some tools reuse IDs) are captures of their own: the ID
        goes to the one with the earliest WARC-Date, then the smallest (file name, offset), whatever order the
        files are read in; each other is keyed by where it is (``positional_record_id``), one line each.
        """
        held = self.store.known(_article_of(outcome).warc_record_id for outcome in outcomes)
        new: list = []
        taken: dict[str, int] = {}  # record key -> the index in ``new`` of the outcome that has it
        rekeyed: dict[str, str] = {}  # a stored capture's key -> its key now
        for outcome in outcomes:
            article = _article_of(outcome)
            holder = held.get(article.warc_record_id)
            # (a 304's payload in the store is the one it confirms, not its record's)
            if holder is not None and holder[:2] == (article.url, article.fetched_at) and \
                    (article.confirms is not None or holder[2] == article.payload_digest):
                self.report.file(article.warc_file).held += 1  # the same record again (taken before, or a copy
                continue  # of its file given too)
            if holder is not None:
                record_id, (url, fetched_at, _, warc_file, offset) = article.warc_record_id, holder
                if (fetched_at, warc_file, offset) < (article.fetched_at, article.warc_file, article.warc_offset):
                    key = positional_record_id(article.warc_file, article.warc_offset)
                    if key in self.store.known([key]):  # keyed so when it was taken
                        continue
                    self._shared_id(article.warc_file, article.warc_offset, article.url, record_id,
                                    f"{warc_file}@{offset}", key)
                    article = replace(article, warc_record_id=key)
                    outcome = _with_article(outcome, article)
                else:  # the ID is this one's: the one that had it is keyed by where it is
                    key = positional_record_id(warc_file, offset)
                    self._shared_id(warc_file, offset, url, record_id, f"{article.warc_file}@{article.warc_offset}",
                                    key)
                    if warc_file not in self.report.files:  # read by an earlier derivation: said under this file
                        found = self.report.file(article.warc_file)
                        found.took_ids += 1
                        found.took_from = found.took_from or f"{warc_file}@{offset}"
                    if record_id in taken:
                        index = taken.pop(record_id)
                        new[index] = _with_article(new[index], replace(_article_of(new[index]), warc_record_id=key))
                        taken[key] = index
                    else:
                        rekeyed[record_id] = key
                    held[key] = holder
            held[article.warc_record_id] = (article.url, article.fetched_at, article.payload_digest,
                                            article.warc_file, article.warc_offset)
            taken[article.warc_record_id] = len(new)
            new.append(outcome)
        return new, rekeyed

    def _shared_id(self, warc_file: str, offset: int, url: str, record_id: str, kept_by: str, key: str) -> None:
        """One line for a capture whose WARC-Record-ID another record keeps; its file's line counts it if it was read."""
        logger.warning("%s@%d %s: its WARC-Record-ID %s is that of another record (%s), which keeps it: keyed %s",
                       warc_file, offset, url, record_id, kept_by, key)
        if warc_file in self.report.files:
            found = self.report.files[warc_file]
            found.shared_ids += 1
            found.shared_with = found.shared_with or kept_by

    def _store(self, outcomes: list, scanned: dict[str, tuple[int, bool]], rekeyed: dict[str, str]) -> None:
        articles = [outcome for outcome in outcomes if isinstance(outcome, ExtractedArticle)]
        failures = [outcome for outcome in outcomes if not isinstance(outcome, ExtractedArticle)]
        for article, why in failures:
            logger.error("not extracted: %s", why)
            self.report.fail(why)
            self.report.not_extracted_because(article.url, why)
            self.report.file(article.warc_file).not_extracted += 1
        for article in articles:
            if article.note:
                logger.warning("%s", article.note)
                if len(self.report.broken_bodies) < MAX_LISTED:
                    self.report.broken_bodies.append(article.note)
            found = self.report.file(article.warc_file)
            if article.confirms is not None:  # counted by what the store found it confirms
                continue
            if article.revisit:
                found.revisits += 1
            elif article.document.is_empty:
                found.not_articles += 1
            else:
                found.articles += 1
        result = self.store.add(articles, failures, scanned, rekeyed)
        self._arrived.update(digest_key(article.payload_digest) for article in articles  # ours too: a revisit of
                             if not article.revisit and not article.document.is_empty)  # theirs may name them
        for page in result.not_extracted:
            self.report.not_extracted_because(page["url"], page["reason"])
        for name, count in result.confirmed.items():
            self.report.file(name).not_modified += count
        for name, count in result.waiting.items():
            self.report.file(name).not_modified += count
            self.report.file(name).waiting += count
        for name, count in result.confirmed_later.items():  # waiting since this derivation read them, or since one before
            found = self.report.file(name)
            now = min(count, found.waiting)
            found.waiting -= now
            found.confirmed_later += count - now
        self.report.captures += len(outcomes)
        taken, taken_articles = self.upgrade.taken_over(self.store, [article.warc_record_id for article in articles]) \
            if self.upgrade else (Counter(), Counter())
        self.report.taken_over.update(taken)
        self._taken_articles.update(taken_articles)
        self.report.new_rows.update(result.new_rows - taken)
        self.report.new_articles.update(result.new_articles - taken_articles)
        self._moved.update(result.moved_rows)
        self._moved_articles.update(result.moved_articles)
        self.report.rewritten_texts += result.rewritten_texts

    def catch_up(self) -> DeriveReport:
        """Derive until nothing is left, then write corpus.jsonl if the corpus changed."""
        self.parallel = self._in_flight()
        while self.step():
            pass
        self._count_new_rows()
        self.report.exported = export_corpus_jsonl(self.store)
        if self.upgrade:
            self.report.upgrade = self.upgrade.finish(self.store)
            self.upgrade = None
        return self.report

    def _count_new_rows(self) -> None:
        """The rows, and the articles, each source gained since the derivation began (``_gained``)."""
        self.report.new_rows = _gained(self.store.rows_per_source(), self._rows_before, self.report.taken_over,
                                       self._moved)
        self.report.new_articles = _gained(self.store.articles_per_source(), self._articles_before,
                                           self._taken_articles, self._moved_articles)

    def follow(self, crawl_running: Callable[[float], bool], poll: float = 0.5) -> None:
        """Derive while a crawl archives, a worker fewer than asked (the crawl needs a core).

        ``crawl_running(timeout)`` waits up to ``timeout`` seconds and says whether the crawl goes on.
        """
        self.parallel = max(1, self.workers - 1)
        while True:
            started = time.monotonic()
            taken = self.step()
            if not crawl_running(0.0 if taken else max(0.0, poll - (time.monotonic() - started))):
                return


def _gained(now: Counter, before: Counter, taken_over: Counter, moved: Counter) -> Counter:
    """What each source gained (rows, or articles) from the store's counts ``before`` a derivation to those ``now``,
    less an old layout's taken over: another tool's later copy of an article, read before our capture of it, was a
    row under its host until ours took it, and the batches counted both.  Another tool's rows the corpus held before,
    taken by our source of their host (``moved``: (source, source) -> count), are new to neither: neither loses nor
    gains them (the total stays the store's), and no count is negative."""
    gained = Counter(now)
    gained.subtract(before)
    gained.subtract(taken_over)
    held = Counter(before)
    for (left, went), count in sorted(moved.items()):
        earlier = min(count, held[left])  # (rows made under the host in this derivation are new where they went)
        held[left] -= earlier
        gained[left] += earlier
        gained[went] -= earlier
    return +gained


class ProgressLines:
    """A line on stderr every ``interval`` seconds when the counts moved, like the crawl's (crawler/progress.py),
    and the last counts when the derivation ends (its last pieces may take less than an interval)."""

    def __init__(self, report: DeriveReport, interval: float):
        self.report = report
        self.interval = interval
        self.last = self._line()

    def _line(self) -> str:
        return f"  corpus: {counted(self.report.captures, 'capture')} extracted, {self.report.new_texts()}"

    def say(self) -> None:
        try:
            now = self._line()
        except RuntimeError:  # the counter grew as it was read: the next tick says it
            return
        if now != self.last:
            print(now, file=sys.stderr, flush=True)
            self.last = now

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval):
            self.say()


@contextmanager
def progress_lines(report: DeriveReport, interval: float) -> Iterator[None]:
    """Progress lines on stderr while the block derives into ``report`` (none if ``interval`` is 0)."""
    if interval <= 0:
        yield
        return
    lines, stop = ProgressLines(report, interval), threading.Event()
    ticker = threading.Thread(target=lines.run, args=(stop,), daemon=True)
    ticker.start()
    try:
        yield
    finally:
        stop.set()
        ticker.join()
        lines.say()


def derive_files(root: Path, warcs: Iterable[Path], workers: int = 2,
                 executor: Executor | None = None, progress: float = 0.0) -> DeriveReport:
    """Derive the given closed WARC files into the corpus under ``root`` (a rebuild), on ``executor`` if given,
    with a progress line every ``progress`` seconds if given."""
    files = [WarcFile(Path(path), Path(path).name, True) for path in warcs]
    with Derivation(root, lambda finished: files, workers, executor) as derivation, progress_lines(derivation.report, progress):
        return derivation.catch_up()


def derive_archive(archive_dir: Path, workers: int = 2, progress: float = 0.0) -> DeriveReport:
    """Bring an archive's corpus up to date with its WARCs; a disk or store that fails is the report's ``error``."""
    archive_dir = Path(archive_dir)
    try:
        with (Derivation(archive_dir, ArchiveWarcs(archive_dir / WARC_DIR), workers) as derivation,
              progress_lines(derivation.report, progress)):
            return derivation.catch_up()
    except (OSError, sqlite3.Error) as exc:
        return DeriveReport(error=storage_error(archive_dir, exc))
