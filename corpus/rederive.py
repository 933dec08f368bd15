"""``newsarchive derive --anew``: the corpus derived again by the extractor installed now.

An upgrade that extracts better (or judges a section page no article) reaches only the pages
derived after it; the articles archived before keep the text an older extractor gave them.
Deleting the corpus and deriving it again would leave an archive of years without a corpus
for hours and stop the scheduled runs meanwhile.  Instead the new corpus is derived beside
the live one, under ``<archive>/rederive/``, by the same journaled derivation as every run
(a kill costs only the batch in flight, and the result equals a rebuild of the WARCs), while
runs go on archiving and deriving into the live corpus.  Then, holding the archive's lock
(between runs), it derives what those runs archived and takes the live corpus's place
(``corpus.swap``).
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from archive import WARC_DIR
from archive.lock import ArchiveBusy, ArchiveLock
from archive.recover import close_abandoned_warcs
from corpus.derive import DeriveReport, Derivation, ArchiveWarcs, progress_lines, storage_error
from corpus.store import STORE_FILE, derived_by_another
from corpus.swap import CORPUS_PATHS, REDERIVE_DIR, REPLACED_DIR, SWAP_MARKER, finish_swap, swap_in
from extract import EXTRACTOR

BUSY_POLL = 5.0  # seconds between tries for the archive's lock while a run holds it


class RederiveBusy(Exception):
    """Another ``derive --anew`` is deriving this archive's corpus anew; the message names it."""


def other_extractor(root: Path) -> str | None:
    """An extractor other than the installed one that derived part of the corpus under ``root``; None if
    there is none, or no store that can be read (whatever writes it says why)."""
    path = Path(root) / STORE_FILE
    if not path.exists():
        return None
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            return derived_by_another(db, EXTRACTOR)
    except sqlite3.Error:
        return None


def rederive_archive(archive_dir: Path, workers: int = 2, waiting: Callable[[str], None] = lambda holder: None,
                     progress: float = 0.0) -> DeriveReport:
    """Derive the archive's corpus anew and put it in place of the live one; ``waiting(holder)`` is
    called while a run holds the archive, and a progress line printed every ``progress`` seconds if
    given.  Raises ``RederiveBusy`` if another re-derivation runs."""
    archive_dir = Path(archive_dir)
    new = archive_dir / REDERIVE_DIR
    try:
        with ArchiveLock(new):
            try:
                return _rederive(archive_dir, new, workers, waiting, progress)
            except (OSError, sqlite3.Error) as exc:
                return DeriveReport(error=storage_error(new, exc))
    except ArchiveBusy as exc:
        raise RederiveBusy(str(exc)) from None


def _rederive(archive_dir: Path, new: Path, workers: int, waiting: Callable[[str], None],
              progress: float) -> DeriveReport:
    """The new corpus derived while runs go on, then derived up to date and swapped in between two runs;
    a swap begun before (and cut short) is only finished.  One derivation throughout: while a run holds
    the archive, each try derives what it archived meanwhile, with the same store and workers."""
    if (new / SWAP_MARKER).exists():
        while True:
            try:
                with ArchiveLock(archive_dir):
                    finish_swap(archive_dir)  # unless a run has finished it meanwhile
                    return DeriveReport()
            except ArchiveBusy as exc:
                waiting(str(exc))
                time.sleep(BUSY_POLL)
    shutil.rmtree(new / REPLACED_DIR, ignore_errors=True)  # left by a swap killed while it cleaned up
    if other_extractor(new) is not None:  # begun by an extractor since replaced: begin again
        for name in CORPUS_PATHS:
            _remove(new / name)
    with (Derivation(new, ArchiveWarcs(archive_dir / WARC_DIR), workers) as derivation,
          progress_lines(derivation.report, progress)):
        report = derivation.catch_up()
        while not report.error:
            try:
                with ArchiveLock(archive_dir):
                    close_abandoned_warcs(archive_dir)
                    report = derivation.catch_up()  # what the runs archived meanwhile
                    if not report.error:
                        derivation.close()  # the store's files are moved next
                        swap_in(archive_dir)
                    return report
            except ArchiveBusy as exc:
                waiting(str(exc))
                time.sleep(BUSY_POLL)
                report = derivation.catch_up()
        return report


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
