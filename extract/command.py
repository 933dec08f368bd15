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
