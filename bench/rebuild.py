"""How fast `newsarchive rebuild` turns archived pages into a corpus, with 1 and 2 worker processes.

Writes WARCs with our RollingWarcWriter: the benchmark's real article pages (still gzip, as
a server would send them) repeated under many URLs on a few hosts, each response with a
metadata record saying role=article.  Then rebuilds the corpus from them with 1 and with 2
workers and prints docs/s and the speed-up (goal: at least 1.8x).  Prints figures; not a test.

    .venv/bin/python bench/rebuild.py [--pages 3000] [--warcs 24] [--data DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.capture import ROLE_ARTICLE, ROLE_FIELD, SOURCE_FIELD  # noqa: E402
from archive.writer import RollingWarcWriter  # noqa: E402
from corpus.rebuild import rebuild  # noqa: E402

DEFAULT_DATA = Path("/work/shared/benchmarks/article-extraction")
HOSTS = 8


def write_warcs(html_files: list[Path], pages: int, warcs: int, directory: Path) -> list[Path]:
    """``pages`` article captures spread round-robin over ``warcs`` files."""
    writers = [RollingWarcWriter(directory, f"bench{n:03d}", {SOURCE_FIELD: "bench"}) for n in range(warcs)]
    bodies = [path.read_bytes() for path in html_files]  # .html.gz: stored content-encoded, as received
    for page in range(pages):
        body = bodies[page % len(bodies)]
        url = f"http://news{page % HOSTS}.example/{page // len(bodies)}/{html_files[page % len(bodies)].stem}"
        writer = writers[page % warcs]
        response_id = writer.new_record_id()
        date = f"2026-11-{1 + page % 28:02d}T12:00:00Z"
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip"),
                   ("Content-Length", str(len(body)))]
        writer.write_capture([
            writer.response_record(url, "200 OK", headers, body, {"WARC-Record-ID": response_id, "WARC-Date": date}),
            writer.metadata_record(url, {SOURCE_FIELD: "bench", ROLE_FIELD: ROLE_ARTICLE},
                                   {"WARC-Date": date, "WARC-Concurrent-To": response_id}),
        ])
    for writer in writers:
        writer.close()
    return sorted(directory.glob("*.warc.gz"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=3000)
    parser.add_argument("--warcs", type=int, default=24)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=1, help="rebuilds per worker count; the best counts")
    args = parser.parse_args()
    html_files = sorted((args.data / "html").glob("*.html.gz"))
    if not html_files:
        print(f"no .html.gz pages under {args.data / 'html'}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-rebuild-") as scratch:
        scratch = Path(scratch)
        started = time.perf_counter()
        warcs = write_warcs(html_files, args.pages, args.warcs, scratch / "warc")
        size = sum(path.stat().st_size for path in warcs)
        print(f"{args.pages} pages ({len(html_files)} distinct) in {len(warcs)} WARCs, "
              f"{size / 1e6:.1f} MB, written in {time.perf_counter() - started:.1f} s")
        results: dict[int, float] = {}
        corpora: dict[int, bytes] = {}
        for _ in range(args.repeat):  # 1 and 2 workers alternate, so other load hits both alike
            for workers in (1, 2):
                out = scratch / f"out-{workers}"
                started = time.perf_counter()
                report = rebuild(warcs, out, workers=workers)
                elapsed = time.perf_counter() - started
                results[workers] = max(results.get(workers, 0), args.pages / elapsed)
                corpora[workers] = (out / "corpus.jsonl").read_bytes()
                print(f"workers={workers}: {elapsed:6.1f} s  {args.pages / elapsed:6.1f} docs/s  "
                      f"({sum(report.new_rows.values())} corpus rows)")
                shutil.rmtree(out)
        print(f"corpus.jsonl at 1 and 2 workers: {'identical' if corpora[1] == corpora[2] else 'DIFFERENT'}")
        if args.repeat > 1:
            print(f"best of {args.repeat}: workers=1 {results[1]:.1f} docs/s, workers=2 {results[2]:.1f} docs/s")
        print(f"speed-up 1 -> 2 workers: {results[2] / results[1]:.2f}x (goal >= 1.8x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
