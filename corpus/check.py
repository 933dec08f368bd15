"""The corpus checked against its store: every text file there with the bytes its row names,
corpus.jsonl what the store holds; with repair, what differs is made again from the store
(or, if the store itself is damaged, the corpus is derived anew from the WARCs)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from archive.atomic import unheld
from archive.check import CheckReport, set_aside
from corpus.export import CORPUS_FILE, export_corpus_jsonl
from corpus.store import STORE_FILE, TEXT_DIR, CorpusStore
from corpus.swap import finish_swap


def _sha256(path: str) -> str | None:
    """(A string, not a Path: pathlib interns each name it parses, and CPython's table of them grows with the corpus.)"""
    try:
        with open(path, "rb") as text:
            return hashlib.file_digest(text, "sha256").hexdigest()
    except OSError:
        return None


def _jsonl_matches(store: CorpusStore) -> bool:
    path = store.root / CORPUS_FILE
    if not path.exists():
        return store.row_count() == 0
    with open(path, encoding="utf-8") as lines:
        expected = store.lines()
        for line in lines:
            if next(expected, None) != line.rstrip("\n"):
                return False
        return next(expected, None) is None


def _leftovers(store: CorpusStore) -> tuple[list[Path], list[Path]]:
    """In one streamed listing of each text folder: the temporary text files killed derivations left, and the text
    files no row names (looked up in the store: no set of every text path is held)."""
    texts, temporaries = store.root / TEXT_DIR, []

    def listed() -> Iterator[tuple[str, str]]:
        for folder in texts.glob("*/"):
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith(".") and entry.name.endswith(".tmp"):
                        temporaries.append(Path(entry.path))
                    elif os.path.splitext(entry.name)[1] == ".txt":  # (no Path per file: see _sha256)
                        yield folder.name, entry.name

    unnamed = [texts / folder / name for folder, name in store.unnamed_texts(listed())]
    return list(unheld(sorted(temporaries))), unnamed


def _note_or_remove(report: CheckReport, root: Path, paths: list[Path], what: str, repair: bool) -> None:
    """Files a killed process left in text/: counted in a note (they cost nothing but room), or with repair removed."""
    if paths and not repair:
        report.notes.append(f"{len(paths)} {what} ({paths[0].relative_to(root)} ...): "
                            "`newsarchive check --repair` removes them")
    elif paths:
        for path in paths:
            path.unlink(missing_ok=True)
        report.repaired.append(f"removed {len(paths)} {what}")


def check_corpus(root: Path, report: CheckReport, repair: bool = False) -> None:
    """Add the corpus's problems (and repairs) to ``report``."""
    root = Path(root)
    finish_swap(root)
    path = root / STORE_FILE
    if not path.exists():
        return
    try:
        with CorpusStore(root) as store:
            verdict = store.quick_check()
            if verdict != "ok":
                raise sqlite3.DatabaseError(verdict)
            wrong = set()
            for source, url, text_path, sha in store.text_rows():
                if _sha256(os.path.join(root, text_path)) != sha:
                    wrong.add((source, url))
            if wrong:
                report.problems.append(f"{len(wrong)} articles' text files are missing or changed")
                if repair:
                    for source, url, text_path, _ in store.text_rows():
                        if (source, url) in wrong:
                            (root / text_path).unlink(missing_ok=True)
                    store.redo(wrong)
                    report.repaired.append(f"wrote {len(wrong)} articles' text files again")
            left, unnamed = _leftovers(store)
            # a derivation killed as it wrote them (or ``derive --anew``'s, swapped in); a process killed between its
            # commit and its removal of the texts it replaced, of a version that noted none for the next opening
            _note_or_remove(report, root, left, f"temporary text files that killed derivations left in {TEXT_DIR}/",
                            repair)
            _note_or_remove(report, root, unnamed, f"text files in {TEXT_DIR}/ that no corpus row names", repair)
            cited = report.unreadable_references("corpus rows", store.row_records())
            if cited:
                report.lost.append(f"the corpus rows that cite {', '.join(sorted(cited))} keep their texts, but no "
                                   "rebuild can make them again from the WARCs")
            if store.rows_upgraded and export_corpus_jsonl(store):  # the upgrade's, not a cut-short derivation
                report.notes.append(f"the store was upgraded from an older version's; "
                                    f"{CORPUS_FILE} was brought along")
            matches = _jsonl_matches(store)
            if not matches and store.changed_from() is not None and not repair:  # what the next export writes
                report.notes.append(f"{CORPUS_FILE} lags the corpus store (a derivation was cut short): the next run "
                                    "or `newsarchive derive` writes it")
            elif not matches:
                report.problems.append(f"{CORPUS_FILE} differs from the corpus store")
                if repair:
                    export_corpus_jsonl(store, whole=True)
                    report.repaired.append(f"wrote {CORPUS_FILE} again")
    except sqlite3.OperationalError as exc:
        report.cannot_use(path, exc)
    except sqlite3.DatabaseError as exc:
        report.problems.append(f"{path}: damaged: {exc}")
        if repair:
            aside = set_aside(path)
            report.repaired.append(f"set {path.name} aside as {aside.name}; the next derivation makes it again "
                                   "from the WARCs")
