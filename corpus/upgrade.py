"""Taking over an archive derived before the corpus store (releases up to commit 5357f12).

Those kept their derivation in ``derived/site-documents/<source>/<host>.jsonl.gz`` (each site's
extracted documents) and ``derived/sketches.tsv`` (near-duplicate sketches), beside ``text/`` and a
``corpus.jsonl`` rewritten whole by each run; there was no ``derived/corpus.sqlite``.  The store
derives such an archive again from its WARCs, the truth, like any other; this module makes that
derivation say what it is.  The articles the old ``corpus.jsonl`` held are counted as taken over,
not as new; the old derived files, which nothing reads any more, are removed; and once the corpus
has caught up, the text files the old layout wrote that no row of the store names (a version the
old code numbered for new bytes of the same text, a page the current extractor judges no article)
are removed, so ``text/`` holds what the README says.

Each step can be done again: the old rows are recorded (durably) before anything old is removed,
and the record is removed last, so an upgrade killed anywhere is finished by the next derivation,
which still counts what it takes over as taken over.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from archive import WARC_DIR
from archive.atomic import fsync_directory, write_atomic
from corpus.counts import counted
from corpus.export import CORPUS_FILE
from corpus.store import TEXT_DIR, CorpusStore

logger = logging.getLogger("newsarchive.upgrade")

OLD_SITE_DOCUMENTS = "derived/site-documents"
OLD_SKETCHES = "derived/sketches.tsv"
# The old corpus's rows, record id -> [source, text path, WARC file], until the upgrade is done.
UPGRADE_RECORD = "derived/upgrading-from-site-documents.json"
_RETIRED = "derived/.site-documents.removed"  # the old directory, renamed at once, then removed


def _old_rows(root: Path) -> dict[str, list[str]]:
    """The rows of the old layout's ``corpus.jsonl``; a line that is no row (a torn last line) is passed over,
    counted in one line."""
    path = root / CORPUS_FILE
    rows: dict[str, list[str]] = {}
    bad = 0
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return rows
    for line in lines:
        try:
            row = json.loads(line)
            rows[row["warc_record_id"]] = [row["source"], row["text_path"], row["warc_file"]]
        except (ValueError, KeyError, TypeError):
            bad += 1
    if bad:
        logger.warning("%s: %s of the layout before the corpus store passed over (no corpus row)", path,
                       counted(bad, "line"))
    return rows


class OldLayout:
    """An upgrade from the layout before the corpus store, under way in the archive at ``root``."""

    def __init__(self, root: Path, rows: dict[str, list[str]]):
        self.root = root
        self.rows = rows

    @classmethod
    def found(cls, root: Path) -> OldLayout | None:
        """The upgrade under way at ``root``, begun here if the old layout's files are there; None if there is none.
        The caller holds the archive's lock."""
        root = Path(root)
        record = root / UPGRADE_RECORD
        old = [root / OLD_SITE_DOCUMENTS, root / OLD_SKETCHES, root / _RETIRED]
        if not record.exists():
            if not any(path.exists() for path in old):
                return None
            for temporary in record.parent.glob(f".{record.name}.*.tmp"):  # a record whose writing was killed
                temporary.unlink(missing_ok=True)
            write_atomic(record, json.dumps(_old_rows(root)).encode("utf-8"))
            fsync_directory(record.parent)
        rows = json.loads(record.read_bytes())
        if (root / OLD_SITE_DOCUMENTS).exists():
            os.replace(root / OLD_SITE_DOCUMENTS, root / _RETIRED)
        (root / OLD_SKETCHES).unlink(missing_ok=True)
        shutil.rmtree(root / _RETIRED, ignore_errors=True)
        return cls(root, rows)

    def taken_over(self, store: CorpusStore, record_ids: Iterable[str]) -> tuple[Counter, Counter]:
        """Per source, the rows the store now holds of these just derived records that the old corpus held, and of
        those the articles (first versions)."""
        old = [record_id for record_id in record_ids if record_id in self.rows]
        return Counter(store.row_sources(old).values()), Counter(store.row_sources(old, first_versions=True).values())

    def finish(self, store: CorpusStore) -> str:
        """Once the corpus has caught up with the WARCs: remove the old text files no row names, end the upgrade,
        and say in one line what was taken over."""
        named = {text_path for _, _, text_path, _ in store.text_rows()}
        taken = len(store.row_sources(self.rows))
        removed = kept = 0
        emptied = set()  # the folders of the text files removed (by this call, or by one killed before it ended)
        for _, text_path, warc_file in self.rows.values():
            parts = Path(text_path).parts
            if text_path in named or parts[:1] != (TEXT_DIR,) or ".." in parts:
                continue  # (a path out of text/ is none the old layout wrote)
            path = self.root / text_path
            if (self.root / WARC_DIR / warc_file).exists():  # derived again from it: no article, or no version now
                if path.is_file():
                    path.unlink()
                    removed += 1
                named.add(text_path)
                emptied.add(path.parent)
            elif path.is_file():  # nothing could make it again: a person decides
                kept += 1
        self._remove_empty(emptied)
        (self.root / UPGRADE_RECORD).unlink(missing_ok=True)
        fsync_directory(self.root / UPGRADE_RECORD.split("/")[0])
        line = (f"upgraded from the layout before the corpus store: {taken} of its {counted(len(self.rows), 'article')}"
                f" taken over, derived again from the WARCs; {OLD_SITE_DOCUMENTS}/ and {OLD_SKETCHES} removed")
        if removed:
            line += f", and {counted(removed, 'text file')} no row names now"
        if kept:
            line += (f"; {counted(kept, 'text file')} of it kept in {TEXT_DIR}/ without a row: "
                     "their WARCs are gone")
        return line

    def _remove_empty(self, folders: set[Path]) -> None:
        """Remove those of ``folders`` that are empty now, and their parents so emptied, up to ``text/`` (kept):
        a source none of whose old articles is one now leaves no empty ``text/<source>/``."""
        text = self.root / TEXT_DIR
        for folder in sorted(folders, key=lambda path: len(path.parts), reverse=True):
            while folder != text and folder.is_relative_to(text):
                try:
                    folder.rmdir()
                except OSError:  # it holds something (or went with a folder below it)
                    break
                folder = folder.parent
