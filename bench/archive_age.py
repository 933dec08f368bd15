"""What a run costs as the archive ages: one run adding 10 articles to a site of 300, 3,000 and 30,000.

One loopback site of generated articles (``demo/farm.py``) grows in steps; after each step
the archive is brought up to date (not measured), then 10 articles are published and one
``newsarchive run`` is measured: CPU time of the whole process tree, peak RSS, bytes written,
and wall time.  The site's sitemap lists its newest 100 articles, as a news sitemap does, so
every measured run crawls the same amount; what grows is the archive behind it.  Goal:
30,000 against 300 at most 1.5x the CPU and 1.3x the peak RSS.

    .venv/bin/python bench/archive_age.py [--sizes 300,3000,30000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from demo.farm import ArticleFarm  # noqa: E402
from measure import measure  # noqa: E402

NEWS_SITEMAP = 100
ADDED = 10


def write_config(path: Path, archive: Path, farm: ArticleFarm) -> Path:
    source = farm.source()
    path.write_text(
        f'[archive]\ndir = "{archive}"\n\n[crawl]\ndownload_delay = 0\nautothrottle = false\n'
        f'concurrent_requests_per_domain = 8\n\n[[sources]]\nname = "{source["name"]}"\n'
        f'sitemaps = {json.dumps(source["sitemaps"])}\nschedule = "{source["schedule"]}"\n', encoding="utf-8")
    return path


def run(config: Path):
    return measure([sys.executable, "-m", "cli", "run", "--config", str(config)], cwd=ROOT)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="300,3000,30000")
    parser.add_argument("--keep", type=Path, help="build the archive here and keep it")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    work = args.keep or Path(tempfile.mkdtemp(prefix="newsarchive-age-"))
    work.mkdir(parents=True, exist_ok=True)
    archive = work / "archive"
    rows = []
    with ArticleFarm(0) as farm:
        config = write_config(work / "sources.toml", archive, farm)
        for size in sizes:
            farm.sitemap_size = None  # growing: every article listed
            farm.add(size - farm.articles)
            grown = run(config)
            if grown.returncode:
                print(grown.stderr[-2000:], file=sys.stderr)
                return 1
            farm.sitemap_size = NEWS_SITEMAP
            farm.add(ADDED)
            measured = run(config)
            corpus = (archive / "corpus.jsonl").read_text().count("\n")
            rows.append((size, measured, corpus))
            print(f"  archive of {size:,}: grown in {grown.wall:.0f} s; measured run exit {measured.returncode}, "
                  f"{corpus:,} corpus rows", file=sys.stderr, flush=True)
    print(f"{'archived':>10} {'wall s':>8} {'CPU s':>8} {'peak RSS':>10} {'written':>10}")
    for size, m, _ in rows:
        print(f"{size:>10,} {m.wall:>8.2f} {m.cpu:>8.2f} {m.peak_rss / 2**20:>7.0f} MB {m.written / 2**20:>7.1f} MB")
    first, last = rows[0][1], rows[-1][1]
    cpu, rss = last.cpu / first.cpu, last.peak_rss / first.peak_rss
    print(f"\n{rows[-1][0]:,} against {rows[0][0]:,}: CPU {cpu:.2f}x (goal <= 1.5: {'ok' if cpu <= 1.5 else 'MISSED'}), "
          f"peak RSS {rss:.2f}x (goal <= 1.3: {'ok' if rss <= 1.3 else 'MISSED'})")
    if not args.keep:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
