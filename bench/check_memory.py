"""Check-size memory benchmark: does ``check``'s corpus pass keep its memory flat as the corpus grows?

For each size N, writes a corpus of N rows straight into a fresh store (no crawl, no extraction: each row names an
empty text file, written too, and corpus.jsonl holds the rows' lines), then runs ``corpus.check.check_corpus`` on it
in a process of its own and prints the Python heap's peak (tracemalloc) and the process's peak RSS, with what the
check said (nothing, on a sound corpus).  Prints figures; it is not a test.

    .venv/bin/python bench/check_memory.py [--rows 10000,100000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SOURCES = ("news", "news-uk", "wire")  # one name a prefix of another: the text folders' order is by name
EMPTY = hashlib.sha256(b"").hexdigest()


def write_corpus(root: Path, rows: int) -> None:
    """``rows`` rows in a new store under ``root``, each with its (empty) text file, and corpus.jsonl."""
    from corpus.export import CORPUS_FILE
    from corpus.store import STORE_FILE, CorpusStore, version_path

    CorpusStore(root).close()  # the schema
    db = sqlite3.connect(root / STORE_FILE)
    with db:
        for n in range(rows):
            source, url = SOURCES[n % len(SOURCES)], f"http://127.0.0.1/{n}"
            text_path, fetched = version_path(source, url, 1), f"2026-12-07T08:{n // 6000 % 60:02}:{n // 100 % 60:02}Z"
            line = json.dumps({"source": source, "url": url, "title": "", "text_path": text_path})
            db.execute("INSERT INTO rows (record_id, source, url, version, fetched_at, text_path, text_sha256, line) "
                       "VALUES (?, ?, ?, 1, ?, ?, ?, ?)",
                       (f"<urn:uuid:{n:032x}>", source, url, fetched, text_path, EMPTY, line))
            (root / text_path).parent.mkdir(parents=True, exist_ok=True)
            (root / text_path).touch()
    lines = [line for (line,) in db.execute("SELECT line FROM rows ORDER BY fetched_at, record_id")]
    db.close()
    (root / CORPUS_FILE).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


def measure(root: Path) -> None:
    """Run in a process of its own: the check's peaks, and what it said."""
    import resource
    import tracemalloc

    from archive.check import CheckReport
    from corpus.check import check_corpus

    report = CheckReport()
    tracemalloc.start()
    check_corpus(root, report)
    _, peak = tracemalloc.get_traced_memory()
    said = report.problems + report.notes + report.repaired + report.lost + report.unusable
    print(f"  python heap peak {peak / 2**20:6.1f} MiB, peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:6.1f}"
          f" MiB; check said {said or 'nothing'}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="10000,100000", help="corpus sizes, comma-separated")
    parser.add_argument("--measure", metavar="ROOT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        return measure(Path(args.measure))
    with tempfile.TemporaryDirectory(prefix="check-memory-") as work:
        for rows in map(int, args.rows.split(",")):
            root = Path(work) / str(rows)
            write_corpus(root, rows)
            print(f"{rows} rows:", flush=True)
            subprocess.run([sys.executable, __file__, "--measure", str(root)], check=True)


if __name__ == "__main__":
    main()
