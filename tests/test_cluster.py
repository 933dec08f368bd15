"""Several `newsarchive run` processes share one crawl through a real redis-server on loopback.

Each worker has its own archive directory (as on its own machine) and the same `[cluster] redis`;
the crawl's frontier, state, robots.txt rules and host politeness live in Redis.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from demo.farm import ArticleFarm, article_path
from demo.redis_server import RedisServer
from demo.run import DEMO_CRAWL, write_demo_config
from demo.site import DemoSite

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="needs Debian's redis-server (./quickstart test installs it)")

FETCH_RECORDS = ("response", "revisit")
# Where a capture is, and when: they differ between any two crawls of the same pages.
PROVENANCE = ("fetched_at", "warc_file", "warc_offset", "warc_record_id")


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_url(redis_server):
    """The module's redis-server, emptied for each test."""
    client = redis_server.client()
    client.flushall()
    client.close()
    return redis_server.url


def farm_config(directory: Path, farm: ArticleFarm, redis_url: str | None, **crawl) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    crawl = {"download_delay": 0, "autothrottle": False, **crawl}
    lines = ["[archive]", f'dir = "{directory}"', "", "[crawl]", *(f"{k} = {json.dumps(v)}" for k, v in crawl.items())]
    if redis_url:
        lines += ["", "[cluster]", f'redis = "{redis_url}"']
    source = farm.source()
    lines += ["", "[[sources]]", *(f"{k} = {json.dumps(v)}" for k, v in source.items())]
    path = directory / "sources.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def start_worker(config: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cli", "run", "--config", str(config), "--no-extract"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run_workers(configs: list[Path], timeout: float = 240) -> list[subprocess.CompletedProcess]:
    workers = [start_worker(config) for config in configs]
    done = []
    for worker, config in zip(workers, configs):
        out, err = worker.communicate(timeout=timeout)
        done.append(subprocess.CompletedProcess(worker.args, worker.returncode, out, err))
    return done


def fetches(archive_dirs: list[Path]) -> list[tuple[str, str, dict]]:
    """(URI, record type, WARC headers) of every response and revisit record in the archives' WARCs."""
    out = []
    for archive in archive_dirs:
        for warc in sorted((archive / "warc").glob("*.warc.gz*")):
            with open(warc, "rb") as stream:
                for record in ArchiveIterator(stream):
                    if record.rec_type in FETCH_RECORDS:
                        out.append((record.rec_headers.get_header("WARC-Target-URI"), record.rec_type,
                                    dict(record.rec_headers.headers), warc.name))
    return out


def crawl_keys_left(redis_url: str) -> list[bytes]:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return sorted(client.keys("newsarchive:crawl:*"))
    finally:
        client.close()


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_share_one_crawl_and_fetch_each_url_once(tmp_path, redis_url, workers):
    with ArticleFarm(40, delay=0.2) as farm:
        configs = [farm_config(tmp_path / f"w{i}", farm, redis_url) for i in range(workers)]
        results = run_workers(configs)
    for result in results:
        assert result.returncode == 0, result.stderr
    records = fetches([config.parent for config in configs])
    uris = Counter(uri for uri, *_ in records)
    assert [uri for uri, count in uris.items() if count > 1] == []  # robots.txt and the sitemap too
    assert {farm.url + article_path(n) for n in range(40)} <= set(uris)
    per_worker = Counter(warc.split("-")[2] for *_, warc in records)  # the pid in the WARC name
    assert len(per_worker) == workers, per_worker  # every worker fetched its share
    names = [warc.name for config in configs for warc in (config.parent / "warc").glob("*.warc.gz")]
    assert len(set(names)) == len(names) == workers
    assert crawl_keys_left(redis_url) == []  # the last worker out cleared the finished crawl
