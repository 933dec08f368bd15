"""What asking for each source's last runs costs as run reports pile up: read one by one, or from the index.

A service running 30 sources every 6 hours writes 120 reports a day, 43,800 a year.  For
1,000, 10,000 and 100,000 reports (30 sources in turn) this times, side by side in one run:
- ``status``'s question (the last 3 runs of each of the 30 sources), answered by reading every
  report (as before the index, and still where the index cannot be written) and by the index;
- the index's one-off catch-up with reports it has never seen (an archive from before it);
- a run's report: the JSON, the index's row and the HTML with each source's last 20 runs (three
  runs' reports, the least).
Goal: the index's answer and a run's report cost the same at 100,000 reports as at 1,000.

    .venv/bin/python bench/run_reports.py [--sizes 1000,10000,100000]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.run import RunReport, SourceResult  # noqa: E402
from crawler.run_reports import RUNS_DIR, last_runs, open_index, read_last_runs  # noqa: E402

SOURCES = [f"source{number:02d}" for number in range(30)]


def write_reports(archive: Path, count: int) -> None:
    """``count`` reports as runs leave them, one source a run in turn, a run each 12 minutes."""
    runs = archive / RUNS_DIR
    runs.mkdir(parents=True)
    start = 1_700_000_000
    for number in range(count):
        run = time.strftime("%Y%m%dT%H%M%S.000Z", time.gmtime(start + 720 * number))
        entry = {"name": SOURCES[number % len(SOURCES)], "fetched": 40, "articles": 12, "warc_files": [],
                 "finish_reason": "finished", "error": None, "new_articles": 10, "unchanged": 28,
                 "skipped_known": 300, "failed_fetches": 1, "bytes_written": 900_000, "duration": 31.5,
                 "backoff_until": None, "status": "ok"}
        (runs / f"{run}.json").write_text(json.dumps(
            {"run": run, "started": run, "finished": run, "duration": 31.5, "exit_code": 0, "sources": [entry]},
            indent=1))


def timed(call) -> tuple[float, float]:
    """Wall and CPU seconds of ``call()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"{'reports':>8} {'read one by one':>16} {'index catch-up':>15} {'index':>8} {'a run report':>13}"
          "   (CPU seconds; wall in brackets)")
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-runs-") as scratch:
            archive = Path(scratch)
            write_reports(archive, size)
            scan = timed(lambda: read_last_runs(archive, SOURCES, 3))
            catch_up = timed(lambda: open_index(archive).close())
            query = min((timed(lambda: last_runs(archive, SOURCES, 3)) for _ in range(5)), key=lambda t: t[1])
            assert last_runs(archive, SOURCES, 3) == read_last_runs(archive, SOURCES, 3)
            results = [SourceResult(name, 40, 12, [], "finished", None) for name in SOURCES[:3]]
            # (three runs a minute apart, the least: the first in the process compiles the HTML template)
            report = min((timed(lambda: RunReport(results, {}, started=time.time() + 60 * run).write(archive))
                          for run in range(3)), key=lambda t: t[1])
            rows.append((size, scan, catch_up, query, report))
            print(f"{size:>8,} " + " ".join(f"{cpu:>{width - 9}.3f} [{wall:5.3f}]" for (wall, cpu), width in
                                              zip((scan, catch_up, query, report), (16, 15, 8, 13))), flush=True)
    (_, scan_small, _, query_small, report_small), (size, scan_big, _, query_big, report_big) = rows[0], rows[-1]
    print(f"\n{size:,} reports against {rows[0][0]:,} (CPU): read one by one {scan_big[1] / scan_small[1]:.1f}x, "
          f"index {query_big[1] / query_small[1]:.1f}x, a run report {report_big[1] / report_small[1]:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
