"""What noting and striking off page requisites costs a crawl (crawler/owed_requisites.py), and how it grows.

A crawl notes a page's requisites in one commit as it queues them, then strikes each off as it is asked for.  Each
commit is an fsync of the note's write-ahead log, so the cost is the commits' count: struck off one commit each, 100
images a page make 100 a page.  For N requisites (100 a page) this notes and strikes them the way a crawl does, once
with a commit a strike and once with the strikes batched (``STRIKES_PER_COMMIT``), each in a fresh note on the disk
of ``--dir``, and prints the time a requisite.  Goal: the batched cost a requisite flat in N, and a small share of
fetching it.

    .venv/bin/python bench/owed_requisites.py [--sizes 1000 10000 100000] [--dir DIR]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if __name__ == "__main__":  # bench/ comes first on sys.path, where its incremental.py shadows Twisted's
    sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]

from crawler.owed_requisites import STRIKES_PER_COMMIT, OwedRequisites  # noqa: E402

PER_PAGE = 100


def crawl_through(note: OwedRequisites, count: int) -> float:
    """Seconds to note ``count`` requisites a page at a time and strike each off, then close, as a run does."""
    started = time.perf_counter()
    for page in range(count // PER_PAGE):
        via = f"http://news.test/2026/12/07/story-{page}/"
        requisites = [(f"http://news.test/img/{page}/{n}.png", via, 1) for n in range(PER_PAGE)]
        note.note(requisites)
        for url, _, _ in requisites:
            note.asked_for(url)
    note.close()
    return time.perf_counter() - started


def commits_take(path: Path, count: int) -> float:
    """Seconds ``count`` commits of one row each take in a note like the crawl's (WAL) at ``path``: the disk's price."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (n INTEGER)")
        started = time.perf_counter()
        for n in range(count):
            db.execute("INSERT INTO t VALUES (?)", (n,))
        return time.perf_counter() - started
    finally:
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()),
                        help="where the notes are made: a disk like the archive's (not a tmpfs, where fsync is free)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="owed-bench-", dir=args.dir) as scratch:
        print(f"a commit on this disk: {commits_take(Path(scratch) / 'commits.sqlite', 200) / 200 * 1e3:.2f} ms")
        print(f"{'requisites':>10} {'strikes/commit':>14} {'seconds':>8} {'us/requisite':>12}")
        for count in args.sizes:
            for batch in (1, STRIKES_PER_COMMIT):
                path = Path(scratch) / f"owed-{count}-{batch}.sqlite"
                took = crawl_through(OwedRequisites(path, "site", strikes_per_commit=batch), count)
                print(f"{count:>10} {batch:>14} {took:>8.2f} {took / count * 1e6:>12.0f}", flush=True)


if __name__ == "__main__":
    main()
