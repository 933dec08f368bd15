"""`newsarchive extract FILE...`: the clean text of saved pages, for a reader or a script."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

from extract import extract_document


def _read(path: str) -> bytes:
    data = Path(path).read_bytes()
    return gzip.decompress(data) if path.endswith(".gz") else data


def run_extract_command(files: list[str], url: str | None = None, jsonl: bool = False) -> int:
    """One file: its seed-format text. Several files or jsonl: one JSON object per line.
    An unreadable file is reported on stderr and the others still run; the exit status is then 1."""
    status = 0
    as_lines = jsonl or len(files) > 1
    for path in files:
        try:
            html = _read(path)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            print(f"newsarchive extract: cannot read {path}: {exc}", file=sys.stderr)
            status = 1
            continue
        doc = extract_document(html, url)
        if doc.error:
            print(f"newsarchive extract: {path}: {doc.error}", file=sys.stderr)
        if as_lines:
            record = {"file": path, "title": doc.title if not doc.is_empty else None, "text": doc.text()}
            record.update({k: v for k, v in doc.to_dict().items() if k not in ("title", "paragraphs")})
            print(json.dumps(record, ensure_ascii=False))
        else:
            sys.stdout.write(doc.text())
    return status


def run_extract_archives(files: list[str], url: str | None = None, workers: int = 2) -> int:
    """Each article page of web archives (WARC, ARC, WACZ) as one JSON object per line, the text with it.

    The pages are derived as a rebuild derives them (site boilerplate removed, duplicates
    clustered), into a scratch corpus; stderr gets one line per WARC file saying what was
    found.  Saved pages and archives are not mixed in one call, and ``url`` has no meaning
    here: each record names its own.  Exit status 2 for either, 1 if a file could not be read.
    """
    import shutil
    import tempfile

    from archive.inputs import is_web_archive
    from corpus.export import export_jsonl
    from corpus.rebuild import RebuildError, rebuild
    from corpus.store import CorpusStore

    pages = [path for path in files if not is_web_archive(path)]
    if pages or url:
        print("newsarchive extract: " + (f"{pages[0]} is a saved page, the others web archives; extract them apart"
                                         if pages else "--url is for saved pages: an archive's records name their URLs"),
              file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="newsarchive-extract-") as scratch:
        corpus = Path(scratch) / "corpus"
        try:
            report = rebuild([Path(path) for path in files], corpus, workers)
        except RebuildError as exc:
            print(f"newsarchive extract: {exc}", file=sys.stderr)
            return 2
        for line in report.lines():
            print(line, file=sys.stderr)
        with CorpusStore(corpus) as store:
            export_jsonl(store, Path(scratch) / "rows.jsonl")
        sys.stdout.flush()
        with open(Path(scratch) / "rows.jsonl", "rb") as rows:
            shutil.copyfileobj(rows, sys.stdout.buffer)
    return 1 if report.file_errors() else 0
