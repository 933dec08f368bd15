"""Crawl-size memory benchmark: does a run's peak RSS stay flat as it crawls more pages?

For each size N, serves N real article pages from nginx on 127.0.0.1 (``bench/crawl.py``'s
site: a news sitemap listing them all, robots.txt, gzip_static) and runs on it, each in a
fresh archive, ``newsarchive run --no-extract`` (crawl + WARC writer) and ``newsarchive run``
(crawl + WARC writer + extraction workers).  Peak RSS is the largest sampled sum over the
run's whole process tree (``bench/crawl.py``'s sampler, every 0.1 s).  Goal (issue 15): at
20,000 pages at most 1.3x the peak at 600, in one run.  Prints figures; it is not a test.

    .venv/bin/python bench/crawl_memory.py [--pages 600,5000,20000] [--only "run"|"run --no-extract"] [--keep]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.crawl import Measure, Nginx, run_measured, write_config  # noqa: E402

GOAL = 1.3
MODES = {"run --no-extract": ["--no-extract"], "run": []}


def measure_size(work: Path, pages: int, modes: dict[str, list[str]], per_domain: int) -> dict[str, Measure]:
    """Each mode's run over a fresh site of ``pages`` articles, each into an empty archive."""
    nginx = Nginx(work / f"nginx-{pages}", pages)
    results = {}
    try:
        nginx.start()
        for mode, flags in modes.items():
            out = work / f"{pages}-{mode.replace(' ', '').replace('-', '')}"
            out.mkdir()
            config = write_config(out / "archive.toml", out / "archive", nginx.sitemap_url, per_domain)
            print(f"  {pages} pages: newsarchive {mode} ...", flush=True)
            command = [sys.executable, str(REPO / "cli.py"), "run", "--config", str(config), *flags]
            warcs = lambda out=out: (out / "archive" / "warc").glob("*.warc.gz*")  # noqa: E731
            results[mode] = run_measured(mode, command, nginx, warcs, cwd=out)
            shutil.rmtree(out / "archive", ignore_errors=True)  # a 20,000-page archive is 1 GB
    finally:
        nginx.stop()
        shutil.rmtree(nginx.prefix / "www", ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", default="600,5000,20000",
                        help="comma-separated site sizes, smallest first (default %(default)s)")
    parser.add_argument("--only", choices=MODES, help="measure one of the two runs")
    parser.add_argument("--per-domain", type=int, default=None,
                        help="CONCURRENT_REQUESTS_PER_DOMAIN (default: ours)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory and print its path")
    args = parser.parse_args(argv)
    from crawler import settings as our_settings

    sizes = [int(size) for size in args.pages.split(",")]
    per_domain = args.per_domain or our_settings.CONCURRENT_REQUESTS_PER_DOMAIN
    modes = {args.only: MODES[args.only]} if args.only else MODES
    work = Path(tempfile.mkdtemp(prefix="newsarchive-bench-memory-"))
    try:
        table = {pages: measure_size(work, pages, modes, per_domain) for pages in sizes}
    finally:
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print()
    print(f"{'pages':>6} " + " ".join(f"{mode + ' peak RSS':>26} {'responses':>9} {'wall s':>7} {'CPU s':>7}"
                                      for mode in modes))
    for pages, results in table.items():
        print(f"{pages:6d} " + " ".join(
            f"{results[mode].peak_rss / 2**20:23.0f} MB {results[mode].responses:9d} {results[mode].wall:7.1f} "
            f"{results[mode].cpu:7.1f}" + ("" if results[mode].exit_code == 0 else f" (exit {results[mode].exit_code})")
            for mode in modes))
    smallest, largest = table[sizes[0]], table[sizes[-1]]
    print()
    for mode in modes:
        ratio = largest[mode].peak_rss / smallest[mode].peak_rss
        print(f"{mode}: peak RSS {sizes[-1]} / {sizes[0]} pages = {ratio:.2f}   goal <= {GOAL}  "
              f"{'ok' if ratio <= GOAL else 'MISSED'}")
    return 0 if all(m.exit_code == 0 for results in table.values() for m in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
