"""Which steps cost more as the archive ages, with no new work: the same steps on archives of 1x, 10x, 100x.

One loopback site of generated articles (``demo/farm.py``) is archived at each size (a small
``warc_max_size``, so the WARC count grows with it too); then, with the site unchanged (its
sitemap lists its newest 100 articles, all archived), each step is measured:

- ``run`` and ``derive`` with nothing new, ``run`` with 10 new articles, ``check``, ``package``:
  CPU of the process tree, peak RSS, bytes read (``rchar``), and the archive's files each opens,
  reads and writes (``strace -f -y``), per directory of the archive;
- ``browse`` (the real server): the home page, a search, a source page, an article, the runs
  list: milliseconds, server CPU and bytes read per request;
- every SQL statement those steps ran (traced in each process), with SQLite's plan: a full
  scan of a table or index is listed, timed at each size;
- one pass of the derivation over ``warc/`` (a run repeats it every 0.5 s while it crawls) in
  archives of 1,000 to 100,000 closed WARCs (a run writes one per source at least).

    .venv/bin/python bench/growth.py [--sizes 200,2000,20000] [--warc-size 1000000]
                                     [--warc-counts 1000,10000,100000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from archive_age import ADDED, NEWS_SITEMAP, write_config  # noqa: E402
from corpus.derive import ArchiveWarcs, Derivation  # noqa: E402
from corpus.store import STORE_FILE, CorpusStore  # noqa: E402
from demo.farm import ArticleFarm  # noqa: E402
from measure import Measured, measure  # noqa: E402

BROWSE_REQUESTS = 5  # per page, after one warm-up request
# Loaded by every Python process of a measured step (PYTHONPATH): each SQLite statement to SQL_LOG.
SQL_TRACER = """
import os, sqlite3
_log, _connect = os.environ["GROWTH_SQL_LOG"], sqlite3.connect
def _traced(*args, **kwargs):
    db = _connect(*args, **kwargs)
    out = open(_log, "a", encoding="utf-8")
    db.set_trace_callback(lambda statement: (out.write(" ".join(statement.split()) + "\\n"), out.flush()))
    return db
sqlite3.connect = _traced
"""
_SMALL = re.compile(r"SCAN (sources|sites|corpus_file|sqlite_\w+|CONSTANT ROW)\b")  # a row per source, setting


def cli(*argv: str) -> list[str]:
    return [sys.executable, "-m", "cli", *argv]


@dataclass
class FileTraffic:
    """What a step did to the archive's files, per top-level entry of the archive (``warc``, ``text``...)."""

    opened: Counter = field(default_factory=Counter)
    read: Counter = field(default_factory=Counter)  # bytes
    written: Counter = field(default_factory=Counter)  # bytes

    def line(self) -> str:
        def kib(counts: Counter) -> str:
            return ", ".join(f"{name} {value / 2**10:,.0f}" for name, value in counts.most_common() if value >= 1024)
        return (f"opened {', '.join(f'{name} {n}' for name, n in self.opened.most_common())}; "
                f"KiB read {kib(self.read) or '-'}; KiB written {kib(self.written) or '-'}")


_OPENAT = re.compile(r'openat\([^,]+, "([^"]+)", [^)]*\) = \d+')
_TRANSFER = re.compile(r'(p?read|p?write)(?:64)?\(\d+<([^>]+)>.*\) = (\d+)$')


def file_traffic(argv: list[str], archive: Path, log: Path) -> FileTraffic:
    """The archive's files ``argv`` opens, reads and writes (every process, ``strace -f -y``)."""
    subprocess.run(["strace", "-f", "-qq", "-y", "-s", "0", "-e", "trace=openat,read,pread64,write,pwrite64",
                    "-o", str(log), *argv], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False)
    traffic = FileTraffic()
    prefix = str(archive.resolve()) + "/"

    def entry(path: str) -> str | None:
        path = os.path.normpath(path if path.startswith("/") else str(ROOT / path))
        return path[len(prefix):].split("/")[0] if path.startswith(prefix) else None

    with open(log, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if (opened := _OPENAT.search(line)) and (name := entry(opened[1])):
                traffic.opened[name] += 1
            elif (moved := _TRANSFER.search(line)) and (name := entry(moved[2])):
                (traffic.read if "read" in moved[1] else traffic.written)[name] += int(moved[3])
    log.unlink()
    return traffic


def traced(argv: list[str], sql_log: Path) -> Measured:
    """``measure(argv)`` with every SQL statement of its processes appended to ``sql_log``."""
    tracer = sql_log.parent / "sqltrace"
    tracer.mkdir(exist_ok=True)
    (tracer / "sitecustomize.py").write_text(SQL_TRACER, encoding="utf-8")
    saved = dict(os.environ)
    os.environ.update(GROWTH_SQL_LOG=str(sql_log), PYTHONPATH=os.pathsep.join(filter(None, [str(tracer),
                                                                                            saved.get("PYTHONPATH")])))
    try:
        return measure(argv, cwd=ROOT)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def distinct_statements(sql_log: Path, step: str, shapes: dict[str, tuple[str, set[str]]]) -> None:
    """Add to ``shapes`` one traced statement of each shape (literals taken out) and the step that ran it."""
    if not sql_log.exists():  # the step opened no SQLite database
        return
    for statement in sql_log.read_text(encoding="utf-8").splitlines():
        shape = re.sub(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b", "?", statement)
        shapes.setdefault(shape, (statement, set()))[1].add(step)
    sql_log.unlink()


def full_scans(statements: dict[str, tuple[str, set[str]]], databases: list[Path]) -> dict[str, tuple[str, float]]:
    """Statements (by shape) whose plan scans a whole table or index, with that plan line and, for a SELECT,
    the milliseconds it takes here."""
    found = {}
    for path in databases:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        for shape, (statement, _) in statements.items():
            if shape in found or not statement.upper().startswith(("SELECT", "UPDATE", "DELETE", "INSERT", "WITH")):
                continue
            try:
                plan = db.execute("EXPLAIN QUERY PLAN " + statement).fetchall()
            except sqlite3.Error:
                continue  # another database's statement
            scans = [detail for *_, detail in plan if detail.startswith("SCAN ") and not _SMALL.match(detail)]
            if not scans:
                continue
            took = float("nan")
            if statement.upper().startswith("SELECT"):
                started = time.perf_counter()
                db.execute(statement).fetchall()
                took = (time.perf_counter() - started) * 1000
            found[shape] = ("; ".join(scans), took)
        db.close()
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cpu_and_read(pid: int) -> tuple[float, int]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    rchar = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/io").read_text().splitlines()
                 if line.startswith("rchar:"))
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), rchar


def browse_costs(config: Path, archive: Path, sql_log: Path) -> dict[str, tuple[float, float, int]]:
    """Per page of the real browse server: ms, server CPU ms and bytes read per request."""
    port = free_port()
    env = {**os.environ, "GROWTH_SQL_LOG": str(sql_log), "PYTHONPATH": str(sql_log.parent / "sqltrace")}
    server = subprocess.Popen(cli("browse", "--config", str(config), "--port", str(port), "--no-replay"),
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/runs", timeout=60).read()
                break
            except OSError:
                time.sleep(0.1)
        db = sqlite3.connect(f"file:{archive / 'derived' / 'corpus.sqlite'}?mode=ro", uri=True)
        (record_id,) = db.execute("SELECT record_id FROM rows ORDER BY fetched_at LIMIT 1").fetchone()
        db.close()
        pages = {"home": "/", "search": "/?q=council", "search rare": "/?q=%22Story+7%3A%22",
                 "source": "/source/farm", "article": "/article/" + record_id.strip("<>").removeprefix("urn:uuid:"),
                 "runs": "/runs"}
        costs = {}
        for name, path in pages.items():
            urllib.request.urlopen(base + path, timeout=600).read()
            cpu, read = _cpu_and_read(server.pid)
            started = time.perf_counter()
            for _ in range(BROWSE_REQUESTS):
                urllib.request.urlopen(base + path, timeout=600).read()
            wall = (time.perf_counter() - started) / BROWSE_REQUESTS
            cpu_after, read_after = _cpu_and_read(server.pid)
            costs[name] = (wall * 1000, (cpu_after - cpu) * 1000 / BROWSE_REQUESTS, (read_after - read) // BROWSE_REQUESTS)
        return costs
    finally:
        server.terminate()
        server.wait(30)


def measure_size(config: Path, archive: Path, work: Path, sql_log: Path,
                 statements: dict[str, tuple[str, set[str]]], farm: ArticleFarm) -> dict:
    steps = {"run (nothing new)": cli("run", "--config", str(config)),
             "derive (nothing new)": cli("derive", "--config", str(config)),
             "check": cli("check", "--config", str(config)),
             "package": cli("package", "--config", str(config), "--out", str(work / "archive.wacz"))}
    found = {}
    for name, argv in steps.items():
        measured = traced(argv, sql_log)
        if measured.returncode:
            print(f"  {name}: exit {measured.returncode}: {measured.stderr[-500:]}", file=sys.stderr)
        distinct_statements(sql_log, name.split()[0], statements)
        found[name] = (measured, file_traffic(argv, archive, work / "strace.log"))
    found["browse"] = browse_costs(config, archive, sql_log)
    distinct_statements(sql_log, "browse", statements)
    farm.add(ADDED)  # constant new work: its cost must not grow with the archive either
    measured = traced(cli("run", "--config", str(config)), sql_log)
    distinct_statements(sql_log, "run+10", statements)
    farm.add(ADDED)
    found[f"run ({ADDED} new)"] = (measured, file_traffic(cli("run", "--config", str(config)), archive,
                                                          work / "strace.log"))
    return found


def derivation_pass_costs(counts: list[int], work: Path) -> list[tuple[int, float, float]]:
    """CPU ms of one derivation pass after its first (repeated every 0.5 s while a run crawls) and of opening a
    derivation, in an archive of ``count`` closed WARCs all derived already (empty files: a run adds one per
    source) whose ``warc/`` last changed a minute ago."""
    costs = []
    for count in counts:
        root = work / f"warcs-{count}"
        (root / "warc").mkdir(parents=True)
        names = [f"newsarchive-farm-2026120612{number:09d}-00000-host.warc.gz" for number in range(count)]
        for name in names:
            (root / "warc" / name).touch()
        os.utime(root / "warc", (time.time() - 60, time.time() - 60))  # warc/ last changed a minute ago
        CorpusStore(root).close()
        with sqlite3.connect(root / STORE_FILE) as db:
            db.executemany("INSERT INTO scans (warc_file, scanned, closed) VALUES (?, 0, 1)", [(n,) for n in names])
        started = time.process_time()
        with Derivation(root, ArchiveWarcs(root / "warc"), workers=1) as derivation:
            opened = time.process_time() - started
            derivation.step()  # (the first pass lists warc/; the next ones find it unchanged)
            started = time.process_time()
            for _ in range(5):
                derivation.step()
            costs.append((count, (time.process_time() - started) / 5 * 1000, opened * 1000))
        shutil.rmtree(root)
    return costs


def archive_counts(archive: Path) -> str:
    db = sqlite3.connect(f"file:{archive / 'derived' / 'corpus.sqlite'}?mode=ro", uri=True)
    rows = db.execute("SELECT COUNT(*) FROM rows").fetchone()[0]
    db.close()
    warcs = sum(1 for name in os.listdir(archive / "warc") if name.endswith(".warc.gz"))
    runs = sum(1 for name in os.listdir(archive / "runs") if name.endswith(".json"))
    return f"{rows:,} rows, {warcs:,} WARCs, {runs:,} runs"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="200,2000,20000")
    parser.add_argument("--warc-size", type=int, default=1_000_000, help="warc_max_size: WARCs grow with the archive")
    parser.add_argument("--warc-counts", default="1000,10000,100000",
                        help="archives of this many WARCs for the derivation's pass over warc/")
    parser.add_argument("--keep", type=Path, help="build the archive here and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="newsarchive-growth-"))
    work.mkdir(parents=True, exist_ok=True)
    archive, sql_log = work / "archive", work / "sql.log"
    results, statements = [], {}
    with ArticleFarm(0) as farm:
        config = write_config(work / "sources.toml", archive, farm)
        config.write_text(config.read_text().replace("[crawl]\n", f"warc_max_size = {args.warc_size}\n\n[crawl]\n"))
        for size in map(int, args.sizes.split(",")):
            farm.sitemap_size = None  # growing: every article listed
            farm.add(size - farm.articles)
            grown = measure(cli("run", "--config", str(config)), cwd=ROOT)
            if grown.returncode:
                print(grown.stderr[-2000:], file=sys.stderr)
                return 1
            farm.sitemap_size = NEWS_SITEMAP
            found = measure_size(config, archive, work, sql_log, statements, farm)
            scans = full_scans(statements, [archive / "derived" / "corpus.sqlite", archive / "state" / "crawl.sqlite"])
            results.append((size, archive_counts(archive), found, scans))
            print(f"  {size:,}: grown in {grown.wall:.0f} s; {results[-1][1]}", file=sys.stderr, flush=True)
    for size, counts, found, _ in results:
        print(f"\narchive of {size:,} articles ({counts})")
        for name, value in found.items():
            if name == "browse":
                for page, (wall, cpu, read) in value.items():
                    print(f"  browse {page:<12} {wall:8.1f} ms {cpu:8.1f} ms CPU {read / 2**10:10.0f} KiB read")
                continue
            m, traffic = value
            print(f"  {name:<21} {m.wall:6.1f} s {m.cpu:6.1f} s CPU {m.peak_rss / 2**20:6.0f} MB peak "
                  f"{m.read / 2**20:8.1f} MiB read (all files)\n      archive: {traffic.line()}")
    print(f"\n{len(statements):,} distinct SQL statements; those that scan a whole table or index, "
          f"ms at {', '.join(f'{size:,}' for size, *_ in results)} articles:")
    for shape, (detail, _) in sorted(results[-1][3].items()):
        took = " / ".join(f"{scans[shape][1]:.1f}" if shape in scans else "-" for *_, scans in results)
        print(f"  {took} ms  {'/'.join(sorted(statements[shape][1]))}: {detail}:\n      {shape[:400]}")
    print("\nclosed WARCs, all derived: CPU of one derivation pass (every 0.5 s during a crawl) / of opening one")
    for count, one_pass, opening in derivation_pass_costs([int(n) for n in args.warc_counts.split(",")], work):
        print(f"  {count:>9,} WARCs {one_pass:8.1f} ms / {opening:6.1f} ms")
    if not args.keep:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
