"""Cluster benchmark: does a crawl shared through Redis go faster with more workers, where politeness allows?

A real redis-server and an article farm (``demo/farm.py``) on 127.0.0.1 whose article pages
each answer after a delay.  Every worker is a ``newsarchive run --no-extract`` process with its
own archive directory and the same ``[cluster] redis``.  Three cases, side by side:

- politeness-bound: a per-host limit (2 in flight over all workers): throughput must stay at
  what the limit allows, whatever the number of workers;
- no per-host limit (the host admits 64 in flight: what many hosts give a crawl): throughput
  should grow with workers (goal: at least 1.8x from 1 to 2);
- one worker with Redis against the embedded default (no ``[cluster]``), same site: goal within 10 %.

Pages/s is articles over the span of their WARC-Dates (the crawl itself, not process start-up);
wall is from the workers' start to the last one's exit.  Redis commands per page is the server's
``total_commands_processed`` over the run, per article.  Prints figures; it is not a test.

    .venv/bin/python bench/cluster.py [--articles 160] [--delay 1.0] [--workers 1,2,4]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from demo.farm import ArticleFarm  # noqa: E402
from demo.redis_server import RedisServer  # noqa: E402


def write_config(directory: Path, farm: ArticleFarm, redis_url: str | None, per_host: int) -> Path:
    directory.mkdir(parents=True)
    lines = ["[archive]", f'dir = "{directory}"', "", "[crawl]", "download_delay = 0", "autothrottle = false",
             f"concurrent_requests_per_domain = {per_host}", "timeout = 60"]
    if redis_url:
        lines += ["", "[cluster]", f'redis = "{redis_url}"']
    lines += ["", "[[sources]]", *(f"{key} = {json.dumps(value)}" for key, value in farm.source().items())]
    path = directory / "sources.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def article_dates(directory: Path) -> list[float]:
    dates = []
    for warc in (directory / "warc").glob("*.warc.gz"):
        with open(warc, "rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "response" and "/news/" in record.rec_headers.get_header("WARC-Target-URI"):
                    date = record.rec_headers.get_header("WARC-Date").replace("Z", "+00:00")
                    dates.append(datetime.fromisoformat(date).timestamp())
    return dates


def crawl(work: Path, name: str, workers: int, articles: int, delay: float, per_host: int,
          redis: RedisServer | None) -> dict:
    """One crawl of a fresh farm by ``workers`` processes; its figures."""
    client = redis.client() if redis else None
    if client:
        client.flushall()
        commands_before = client.info("stats")["total_commands_processed"]
    with ArticleFarm(articles, delay=delay) as farm:
        configs = [write_config(work / f"{name}-{i}", farm, redis.url if redis else None, per_host)
                   for i in range(workers)]
        started = time.monotonic()
        processes = [subprocess.Popen([sys.executable, str(REPO / "cli.py"), "run", "--no-extract", "--config",
                                       str(config)], stderr=subprocess.PIPE, text=True) for config in configs]
        errors = [process.communicate()[1] for process in processes]
        wall = time.monotonic() - started
    failed = [error for process, error in zip(processes, errors) if process.returncode != 0]
    if failed:
        raise SystemExit(f"{name}: a worker failed:\n{failed[0]}")
    dates = sorted(date for config in configs for date in article_dates(config.parent))
    commands = client.info("stats")["total_commands_processed"] - commands_before if client else 0
    return {"articles": len(dates), "pages_s": (len(dates) - 1) / (dates[-1] - dates[0]), "wall": wall,
            "redis_per_page": commands / max(len(dates), 1) if client else None}


def line(label: str, figures: dict, base: float | None = None) -> str:
    ratio = f"{figures['pages_s'] / base:5.2f}x" if base else "     "
    redis = f"{figures['redis_per_page']:6.1f}" if figures["redis_per_page"] is not None else "     -"
    return (f"  {label:<28} {figures['articles']:5d} {figures['pages_s']:8.1f} {ratio} {figures['wall']:7.1f}"
            f" {redis}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=160)
    parser.add_argument("--delay", type=float, default=1.0, help="seconds each article page takes to answer")
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args(argv)
    counts = [int(count) for count in args.workers.split(",")]
    header = f"  {'case':<28} {'pages':>5} {'pages/s':>8} {'':6} {'wall s':>7} {'redis/page':>6}"
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as scratch, RedisServer(Path(scratch) / "redis") as redis:
        work = Path(scratch)
        for title, per_host in (("politeness-bound: 2 in flight per host over all workers", 2),
                                ("no per-host limit (64 in flight)", 64)):
            print(f"{title}, {args.articles} articles answering after {args.delay} s", flush=True)
            print(header)
            base = None
            for workers in counts:
                figures = crawl(work, f"{per_host}-{workers}", workers, args.articles, args.delay, per_host, redis)
                base = base or figures["pages_s"]
                print(line(f"{workers} worker(s)", figures, base), flush=True)
        print("one worker, no per-host limit: embedded default vs [cluster] redis", flush=True)
        print(header)
        alone = crawl(work, "alone", 1, args.articles, args.delay, 64, None)
        print(line("embedded (no [cluster])", alone), flush=True)
        shared = crawl(work, "shared", 1, args.articles, args.delay, 64, redis)
        print(line("[cluster] redis", shared, alone["pages_s"]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
