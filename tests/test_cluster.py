"""Several `newsarchive run` processes share one crawl through a real redis-server on loopback.

Each worker has its own archive directory (as on its own machine) and the same `[cluster] redis`;
the crawl's frontier, state, robots.txt rules and host politeness live in Redis.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.state import ArchivedPayload, SitemapRead, UrlState, open_state
from archive_fixtures import loopback_site
from crawler.cluster import crawl_keys
from crawler.settings import RETRY_TIMES
from demo.farm import GATE_WAIT, ArticleFarm, article_path
from demo.redis_server import RedisServer
from demo.run import DEMO_CRAWL, write_demo_config
from demo.site import DemoSite

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="needs Debian's redis-server (./quickstart test installs it)")

FETCH_RECORDS = ("response", "revisit")
# Where a capture is, and when: they differ between any two crawls of the same pages (and so does
# dup_cluster, a digest of the cluster's first capture's URL and time; its members are compared).
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
PROVENANCE = ("fetched_at", "warc_file", "warc_offset", "warc_record_id", "dup_cluster")


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


def demo_config(site: DemoSite, directory: Path, redis_url: str | None, delay: float | None = None) -> Path:
    """The demo sites' sources file (no politeness delay on loopback unless ``delay``), as one worker."""
    directory.mkdir(parents=True, exist_ok=True)
    config = write_demo_config(site, directory)
    text = config.read_text()
    if delay is not None:
        text = text.replace(DEMO_CRAWL, f"\n[crawl]\ndownload_delay = {delay}\nautothrottle = false\n")
    if redis_url:
        text += f'\n[cluster]\nredis = "{redis_url}"\n'
    config.write_text(text)
    return config


_started: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def no_worker_outlives_its_test():
    yield
    while _started:
        worker = _started.pop()
        if worker.poll() is None:  # a test that failed half-way
            worker.kill()
            worker.communicate()


def start_worker(config: Path) -> subprocess.Popen:
    worker = subprocess.Popen([sys.executable, "-m", "cli", "run", "--config", str(config), "--no-extract"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _started.append(worker)
    return worker


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


def holding(redis_url: str, source: str) -> int:
    """How many workers of the shared crawl of ``source`` hold a request in flight (popped, not finished)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return sum(1 for key in client.keys(crawl_keys(source) + "inflight:*") if client.hlen(key))
    finally:
        client.close()


def crawl_keys_left(redis_url: str) -> list[bytes]:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return sorted(client.keys("newsarchive:crawl:*"))
    finally:
        client.close()


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_share_one_crawl_and_fetch_each_url_once(tmp_path, redis_url, workers):
    # Articles are held until every worker holds one: each then fetches its share however slowly
    # it started (on a loaded machine one worker may otherwise crawl the farm before another begins).
    with ArticleFarm(40, delay=0.2, gate=lambda: holding(redis_url, "farm") >= workers) as farm:
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
    assert not any("never finished" in result.stderr for result in results)
    # Each worker's run report counts its share: summed, every page (but robots.txt) and article once.
    reports = [json.loads(path.read_text())["sources"]
               for config in configs for path in (config.parent / "runs").glob("*.json")]
    assert len(reports) == workers
    assert sum(source["fetched"] for [source] in reports) == len([uri for uri in uris if not uri.endswith("/robots.txt")])
    assert sum(source["articles"] for [source] in reports) == 40


def inflight_at(redis_url: str, pid: int) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return sum(client.hlen(key) for key in client.keys(f"newsarchive:crawl:*:inflight:*-{pid}-*"))
    finally:
        client.close()


def test_a_killed_workers_requests_are_fetched_by_the_others(tmp_path, redis_url):
    """SIGKILL one of three workers mid-crawl: what it had taken from the queue and not finished
    goes back once its heartbeat expires, and the others fetch it; every article is archived."""
    with ArticleFarm(60, delay=0.3) as farm:
        configs = [farm_config(tmp_path / f"w{i}", farm, redis_url) for i in range(3)]
        workers = [start_worker(config) for config in configs]
        victim = workers[0]
        deadline = time.monotonic() + 60
        while not (farm.served >= 12 and inflight_at(redis_url, victim.pid)):
            assert time.monotonic() < deadline and victim.poll() is None, "the crawl never got going at worker 0"
            time.sleep(0.02)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        survivors = [worker.communicate(timeout=240) + (worker.returncode,) for worker in workers[1:]]
    for _, err, code in survivors:
        assert code == 0, err
    assert any("went back to the queue" in err for _, err, _ in survivors)
    records = fetches([config.parent for config in configs])
    uris = Counter(uri for uri, *_ in records)
    assert {farm.url + article_path(n) for n in range(60)} <= set(uris)  # nothing lost
    # Fetched twice only what the killed worker had fetched but not finished (at most its backlog and
    # the requests it was downloading or parsing).
    twice = {uri for uri, count in uris.items() if count > 1}
    victim_pid = str(victim.pid)
    assert twice <= {uri for uri, _, _, warc in records if warc.split("-")[2] == victim_pid}
    assert len(twice) <= 8
    assert crawl_keys_left(redis_url) == []


def test_a_rerun_right_after_a_worker_was_killed_goes_on_at_once(tmp_path, redis_url):
    """SIGKILL the only worker while it downloads, and run again at once on the same machine: the dead process's
    heartbeat and its places at the host are known dead at once (its pid is gone), not waited out.  Before, the
    rerun waited for its leases to expire (the download timeout and 5 s: 35 s by default, 125 s here)."""
    with ArticleFarm(40, delay=0.3) as farm:
        config = farm_config(tmp_path / "w", farm, redis_url, timeout=120)
        victim = start_worker(config)
        deadline = time.monotonic() + 60
        while not (farm.served >= 10 and inflight_at(redis_url, victim.pid)):
            assert time.monotonic() < deadline and victim.poll() is None, "the crawl never got going"
            time.sleep(0.02)
        victim.kill()
        victim.communicate()
        started = time.monotonic()
        rerun = start_worker(config)
        try:
            _, err = rerun.communicate(timeout=100)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the rerun had not ended {time.monotonic() - started:.0f} s after the kill")
        took = time.monotonic() - started
    assert rerun.returncode == 0, err
    assert took < 60, f"{took:.0f} s"  # (about 10 s here: as long as a crawl of the farm from the start)
    records = fetches([config.parent])
    uris = Counter(uri for uri, *_ in records)
    assert {farm.url + article_path(n) for n in range(40)} <= set(uris)  # nothing lost
    # Fetched twice: what the killed worker had fetched but not finished, and each run's robots.txt and sitemap.
    twice = {uri for uri, count in uris.items() if count > 1} - {farm.url + "/robots.txt", farm.url + "/sitemap.xml"}
    assert twice <= {uri for uri, _, _, warc in records if warc.split("-")[2] == str(victim.pid)}
    assert len(twice) <= 8
    assert crawl_keys_left(redis_url) == []


def test_what_a_stopped_crawl_left_queued_is_fetched_by_the_next_run(tmp_path, redis_url):
    with ArticleFarm(40, delay=0.3) as farm:
        config = farm_config(tmp_path / "w", farm, redis_url)
        worker = start_worker(config)
        deadline = time.monotonic() + 60
        while farm.served < 10:
            assert time.monotonic() < deadline and worker.poll() is None, "the crawl never got going"
            time.sleep(0.02)
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        assert "STOPPED" in err
        left = crawl_keys_left(redis_url)
        assert b"newsarchive:crawl:farm:requests" in left  # what was not fetched waits in the queue
        [resumed] = run_workers([config])
    assert resumed.returncode == 0, resumed.stderr
    uris = Counter(uri for uri, *_ in fetches([config.parent]))
    assert {farm.url + article_path(n) for n in range(40)} <= set(uris)
    # Each run fetches its seeds and robots.txt; an article, only once.
    assert sorted(uri for uri, count in uris.items() if count > 1) == [farm.url + "/robots.txt",
                                                                      farm.url + "/sitemap.xml"]
    assert crawl_keys_left(redis_url) == []


def sources_config(directory: Path, redis_url: str, sources: dict[str, ArticleFarm], per_host: int = 2,
                   cluster: str | None = None) -> Path:
    """A worker's config crawling each farm of ``sources`` as the source of its name (in the cluster so named)."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = ["[archive]", f'dir = "{directory}"', "", "[crawl]", "download_delay = 0", "autothrottle = false",
             f"concurrent_requests_per_domain = {per_host}", "",
             "[cluster]", f'redis = "{redis_url}"', *([f'name = "{cluster}"'] if cluster else [])]
    for name, farm in sources.items():
        lines += ["", "[[sources]]", *(f"{k} = {json.dumps(v)}" for k, v in farm.source(name).items())]
    path = directory / "sources.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def keys_of(redis_url: str, source: str) -> list:
    """What the cluster's Redis holds of ``source``: its crawl's keys, its back-off entry, its URLs' state."""
    import redis

    from archive.redis_state import SOURCES, URLS

    client = redis.Redis.from_url(redis_url)
    try:
        return (client.keys(crawl_keys(source) + "*") + ([b"back-off"] if client.hexists(SOURCES, source) else [])
                + [url for url, value in client.hgetall(URLS).items() if json.loads(value)["source"] == source])
    finally:
        client.close()


def asked_of_redis(redis_url: str, ask: Callable) -> object:
    """What ``ask`` (given a client) answers of the Redis at ``redis_url``."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return ask(client)
    finally:
        client.close()


def queued(redis_url: str, source: str) -> int:
    return asked_of_redis(redis_url, lambda client: client.zcard(crawl_keys(source) + "requests"))


def test_a_source_removed_from_the_config_leaves_the_clusters_redis_once_no_config_lists_it(tmp_path, redis_url):
    """A crawl stopped with "gone" unfinished; the config then drops it.  While another config lists it (a worker of
    it crawls it), its keys stay; once that config drops it too (its worker killed), its next run removes them, in one
    line, and nothing of "kept"; its URLs' crawl state stays, as on one machine.  Before cluster5, a removed source's
    queue, seen URLs and back-off stayed in Redis for good."""
    class HeldFarm(ArticleFarm):
        """Its pages and sitemap wait while ``open`` is clear."""

        open = threading.Event()

        def route(self, path: str) -> tuple[int, str, bytes]:
            if path != "/robots.txt":
                self.open.wait(60)
            return super().route(path)

    HeldFarm.open.set()
    with ArticleFarm(40, delay=0.2) as kept, HeldFarm(100, delay=0.2) as gone:  # ("gone" is left unfinished)
        both = sources_config(tmp_path / "a", redis_url, {"kept": kept, "gone": gone})
        worker = start_worker(both)
        deadline = time.monotonic() + 60
        while queued(redis_url, "gone") < 10:
            assert time.monotonic() < deadline and worker.poll() is None, "the crawl never got going"
            time.sleep(0.02)
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        HeldFarm.open.clear()  # the other config's crawl holds a request while this config runs without "gone"
        # (one place at 127.0.0.1, the farms' host, of the three the other run takes)
        other = start_worker(sources_config(tmp_path / "b", redis_url, {"gone": gone}, per_host=1))
        deadline = time.monotonic() + 60
        while not holding(redis_url, "gone"):
            assert time.monotonic() < deadline and other.poll() is None, "the other config's crawl never got going"
            time.sleep(0.02)
        one = sources_config(tmp_path / "a", redis_url, {"kept": kept}, per_host=3)
        [while_crawled] = run_workers([one])
        kept_while_crawled = keys_of(redis_url, "gone")
        other.kill()
        other.communicate()
        HeldFarm.open.set()
        before = keys_of(redis_url, "gone")
        [after] = run_workers([sources_config(tmp_path / "b", redis_url, {"kept": kept}, per_host=3)])
    assert while_crawled.returncode == 0, while_crawled.stderr
    assert ("gone: no longer configured, but 1 other archive(s) sharing the cluster's Redis list it: its keys stay "
            "there for them") in while_crawled.stderr
    crawl = [key for key in before if key.startswith(crawl_keys("gone").encode())]
    assert {(crawl_keys("gone") + name).encode() for name in ("requests", "seen", "workers")} <= set(crawl)
    assert set(crawl) <= set(kept_while_crawled)
    assert after.returncode == 0, after.stderr
    [said] = [line for line in after.stderr.splitlines() if "no longer configured" in line]
    urls = [key for key in before if key.startswith(b"http")]
    assert b"back-off" not in before  # (neither a stopped nor a killed crawl counts towards it)
    assert said.endswith(f"gone: no longer configured: removed from the cluster's Redis its crawl's {len(crawl)} keys "
                         "(its URLs' crawl state stays, for should it come back)"), (said, before)
    assert urls and sorted(keys_of(redis_url, "gone")) == sorted(urls)
    assert len(keys_of(redis_url, "kept")) == 1 + 42  # its back-off, the state of its 40 articles, sitemap and robots.txt
    again = run_workers([one])[0]
    assert "no longer configured" not in again.stderr, again.stderr


def stop_when(config: Path, crawling: Callable[[], bool]) -> subprocess.CompletedProcess:
    """Run a worker of ``config`` and stop it (SIGTERM) once ``crawling()``."""
    worker = start_worker(config)
    deadline = time.monotonic() + 60
    while not crawling():
        assert time.monotonic() < deadline and worker.poll() is None, "the crawl never got going"
        time.sleep(0.02)
    worker.send_signal(signal.SIGTERM)
    out, err = worker.communicate(timeout=120)
    assert worker.returncode == 0, err
    return subprocess.CompletedProcess(worker.args, worker.returncode, out, err)


def test_a_source_one_config_drops_keeps_its_queue_while_another_config_sharing_the_redis_lists_it(tmp_path, redis_url):
    """Configs A and B share one Redis and both list "gazette"; both crawls of it are stopped, its queue waiting in
    Redis.  A drops it: its next run leaves gazette's keys to B, in one line, and B's next run goes on with them.
    Before, A's run removed gazette's queue and seen URLs (keys are named by source alone), B's queue with them."""
    with ArticleFarm(20, delay=0.2) as kept, ArticleFarm(100, delay=0.2) as gazette:
        stop_when(sources_config(tmp_path / "a", redis_url, {"kept": kept, "gazette": gazette}),
                  lambda: queued(redis_url, "gazette") >= 10)
        b = sources_config(tmp_path / "b", redis_url, {"gazette": gazette})
        stop_when(b, lambda: holding(redis_url, "gazette") > 0)
        left = queued(redis_url, "gazette")
        [dropped] = run_workers([sources_config(tmp_path / "a", redis_url, {"kept": kept})])
        after_drop = queued(redis_url, "gazette")
        [again] = run_workers([sources_config(tmp_path / "a", redis_url, {"kept": kept})])
        [resumed] = run_workers([b])
    assert dropped.returncode == 0, dropped.stderr
    assert ("gazette: no longer configured, but 1 other archive(s) sharing the cluster's Redis list it: its keys stay "
            "there for them") in dropped.stderr, dropped.stderr
    assert after_drop == left > 0
    assert "gazette" not in again.stderr, again.stderr  # said once
    assert resumed.returncode == 0, resumed.stderr
    uris = Counter(uri for uri, *_ in fetches([tmp_path / "a", tmp_path / "b"])
                   if uri.startswith(gazette.url + "/news/"))
    assert {gazette.url + article_path(n) for n in range(100)} <= set(uris)  # nothing lost
    assert max(uris.values()) == 1  # nor fetched twice


def check(config: Path, *options: str) -> list[str]:
    """``newsarchive check``'s lines about the source "gone"."""
    done = subprocess.run([sys.executable, "-m", "cli", "check", "--config", str(config), *options],
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    return [line for line in done.stderr.splitlines() if "gone" in line]


def test_check_reports_a_removed_sources_keys_in_the_clusters_redis_and_repair_removes_them(tmp_path, redis_url):
    """Configs A and B both crawled "gone", each crawl stopped with its queue in Redis, and both drop it.  `check
    --repair` of A leaves its keys to B, which still lists it (a note); `check` of B, which no longer does, names
    them in one line; `check --repair` of B removes them, its URLs' crawl state staying.  Before, only a run did."""
    with ArticleFarm(20, delay=0.2) as kept, ArticleFarm(100, delay=0.2) as gone:
        stop_when(sources_config(tmp_path / "a", redis_url, {"kept": kept, "gone": gone}),
                  lambda: queued(redis_url, "gone") >= 10)
        stop_when(sources_config(tmp_path / "b", redis_url, {"gone": gone}), lambda: holding(redis_url, "gone") > 0)
        before = keys_of(redis_url, "gone")
        a, b = (sources_config(tmp_path / name, redis_url, {"kept": kept}) for name in "ab")
        kept_for_b = check(a, "--repair")
        after_a = keys_of(redis_url, "gone")
        reported, repaired, again = check(b), check(b, "--repair"), check(b)
    crawl = [key for key in before if key.startswith(crawl_keys("gone").encode())]
    assert kept_for_b == ["note: gone: no longer configured, but 1 other archive(s) sharing the cluster's Redis list "
                          "it: its keys stay there for them"]
    assert sorted(after_a) == sorted(before)
    assert reported == [f"problem: gone: no longer configured, but its crawl's {len(crawl)} keys are still in the "
                        "cluster's Redis"]
    assert repaired == [f"repaired: gone: no longer configured: removed from the cluster's Redis its crawl's "
                        f"{len(crawl)} keys (its URLs' crawl state stays)"]
    urls = [key for key in before if key.startswith(b"http")]
    assert urls and sorted(keys_of(redis_url, "gone")) == sorted(urls)
    assert again == []


def test_a_moved_archives_or_retired_machines_registration_is_dropped_with_the_keys_only_it_kept(tmp_path, redis_url):
    """An archive that crawled "gone" (its crawl stopped, its queue in Redis) is moved to another directory, whose
    config drops "gone"; a retired machine's archive is registered as listing "gone" too.  `check` names the old
    directory's registration; `check --repair` drops it, and "gone" stays for the retired machine; `check
    --forget-archive` of the retired one drops it and "gone"'s crawl keys.  Before, nothing dropped a registration:
    "gone"'s keys stayed for good, held by "1 other archive(s)" whose directory was gone."""
    import redis

    from crawler.cluster_sources import LAST_SEEN, LISTED, LISTING, archive_id

    retired = "retired-host:/srv/archive"
    with ArticleFarm(20, delay=0.2) as kept, ArticleFarm(100, delay=0.2) as gone:
        stop_when(sources_config(tmp_path / "a", redis_url, {"kept": kept, "gone": gone}),
                  lambda: queued(redis_url, "gone") >= 10)
        old = archive_id(tmp_path / "a")
        client = redis.Redis.from_url(redis_url)
        client.sadd(LISTED + "gone", retired)  # what a run on that machine registered, its last a month ago
        client.sadd(LISTING + retired, "gone")
        client.hset(LAST_SEEN, retired, (client.time()[0] - 30 * 86400) * 1000)
        client.close()
        crawl = [key for key in keys_of(redis_url, "gone") if key.startswith(crawl_keys("gone").encode())]
        shutil.move(tmp_path / "a", tmp_path / "moved")
        moved = sources_config(tmp_path / "moved", redis_url, {"kept": kept})

        def check_lines(*options: str) -> list[str]:
            done = subprocess.run([sys.executable, "-m", "cli", "check", "--config", str(moved), *options],
                                  capture_output=True, text=True, timeout=120)
            assert "Traceback" not in done.stderr, done.stderr
            return [line for line in done.stderr.splitlines() if "Redis" in line]

        reported, repaired = check_lines(), check_lines("--repair")
        after_repair = keys_of(redis_url, "gone")
        unknown = check_lines("--forget-archive", "nowhere:/x")
        forgotten = check_lines("--forget-archive", retired)
    assert reported == ["note: gone: no longer configured, but 2 other archive(s) sharing the cluster's Redis list it: "
                        "its keys stay there for them",
                        f"problem: {old}: registered in the cluster's Redis as an archive sharing it, but its "
                        "directory is gone from this machine"]
    assert repaired == ["note: gone: no longer configured, but 1 other archive(s) sharing the cluster's Redis list it: "
                        "its keys stay there for them",
                        f"repaired: {old}: its directory is gone from this machine: dropped its registration in the "
                        "cluster's Redis"]
    assert set(crawl) <= set(after_repair)  # the retired machine's archive still lists it
    assert unknown[-1] == ("problem: nowhere:/x: no archive of that name is registered in the cluster's Redis "
                           f"(registered: {', '.join(sorted([archive_id(tmp_path / 'moved'), retired]))})")
    assert forgotten == [f"repaired: {retired}: forgotten as asked: dropped its registration in the cluster's Redis, "
                         f"and what no other archive lists: gone's crawl's {len(crawl)} keys"]
    assert not [key for key in keys_of(redis_url, "gone") if key.startswith(crawl_keys("gone").encode())]


def _can_name_another_machine() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(
        ["unshare", "-Uru", "hostname", "another-machine"], capture_output=True).returncode == 0


def on_another_machine(*command: str, **popen) -> subprocess.Popen:
    """``newsarchive COMMAND`` as on a machine named "another-machine" (its own UTS namespace; same network)."""
    return subprocess.Popen(["unshare", "-Uru", "sh", "-c", 'hostname another-machine && exec "$@"', "sh",
                             sys.executable, "-m", "cli", *command], **popen)


@pytest.mark.skipif(not _can_name_another_machine(), reason="needs unshare -Uru (user namespaces)")
@pytest.mark.parametrize("end", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
def test_an_idle_machines_archive_is_live_and_forget_archive_refuses_it_until_its_service_ends(tmp_path, redis_url,
                                                                                               end):
    """Another machine's archive crawled once, then its schedule service waits for the next fire time (no crawl):
    `check --forget-archive` of it here refuses in one line, its registration staying; once its service has stopped
    (at once) or was killed (its entry's 30 s later), the same command drops it.  Before, only a crawling worker made
    a machine live: an idle one's registration was dropped, and with it the keys of the sources only it listed.  (Its
    run just now would keep it too, within [cluster] forget_after: --force, which does not forget a live one.)"""
    import redis

    from crawler.cluster_presence import PRESENT
    from crawler.cluster_sources import LISTING

    archive = f"another-machine:{(tmp_path / 'other').resolve()}"
    with ArticleFarm(4) as farm:
        other = sources_config(tmp_path / "other", redis_url, {"news": farm})
        other.write_text(other.read_text().replace('schedule = "0 * * * *"', 'schedule = "0 0 1 1 *"'))
        crawled = on_another_machine("run", "--config", str(other), "--no-extract", stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        _started.append(crawled)
        assert crawled.wait(timeout=120) == 0, crawled.communicate()
        service = on_another_machine("schedule", "--config", str(other), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        _started.append(service)
        client = redis.Redis.from_url(redis_url)
        deadline = time.monotonic() + 15
        while not client.exists(PRESENT + archive) and time.monotonic() < deadline:  # (before: never)
            time.sleep(0.2)
        here = sources_config(tmp_path / "here", redis_url, {"news": farm})

        def forget() -> tuple[list[str], bool]:  # (forced: its run just now is not what keeps it, nor lets it go)
            done = subprocess.run([sys.executable, "-m", "cli", "check", "--config", str(here), "--forget-archive",
                                   archive, "--force"], capture_output=True, text=True, timeout=120)
            assert "Traceback" not in done.stderr, done.stderr
            return [line for line in done.stderr.splitlines() if archive in line], bool(client.exists(LISTING + archive))

        while_idle = forget()
        service.send_signal(end)
        service.wait(timeout=60)
        ended = time.monotonic()
        while client.exists(PRESENT + archive) and time.monotonic() < ended + 45:
            time.sleep(0.2)
        live_for = time.monotonic() - ended
        once_stopped = forget()
        client.close()
    assert while_idle == ([f"problem: {archive}: not forgotten: it is live (1 process(es) of its machine serve it: its "
                           "schedule service, a run)"], True)
    assert live_for < 5 if end == signal.SIGTERM else 20 < live_for < 40
    assert once_stopped == ([f"repaired: {archive}: forgotten as asked: dropped its registration in the cluster's "
                             "Redis, and what no other archive lists: news's crawl's 0 keys, its back-off"], False)


@pytest.mark.skipif(not _can_name_another_machine(), reason="needs unshare -Uru (user namespaces)")
def test_a_cron_machines_archive_is_not_forgotten_between_its_runs_and_its_next_run_loses_nothing(tmp_path, redis_url):
    """Another machine runs its archive from cron, no schedule service: its run is cut short (SIGTERM, what was not
    fetched left queued in Redis) and it exits, so no process of it is up.  `check --forget-archive` of it here refuses
    in one line saying when it last ran, its registration and queue staying, and its next run fetches the rest, each
    article once.  `--force` forgets it, and its run after that registers it again.  Before, the forget between two
    runs dropped its registration and the queue its next run was to carry on with."""
    import redis

    from crawler.cluster_sources import LISTING

    archive = f"another-machine:{(tmp_path / 'other').resolve()}"
    client = redis.Redis.from_url(redis_url)

    def run_there() -> subprocess.Popen:
        worker = on_another_machine("run", "--config", str(other), "--no-extract", stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
        _started.append(worker)
        return worker

    def forget(*options: str) -> list[str]:
        done = subprocess.run([sys.executable, "-m", "cli", "check", "--config", str(here), "--forget-archive",
                               archive, *options], capture_output=True, text=True, timeout=120)
        assert "Traceback" not in done.stderr, done.stderr
        return [line for line in done.stderr.splitlines() if archive in line]

    with ArticleFarm(40, delay=0.2) as farm:
        other = sources_config(tmp_path / "other", redis_url, {"news": farm})
        here = sources_config(tmp_path / "here", redis_url, {"news": farm})
        cut = run_there()
        deadline = time.monotonic() + 60
        while queued(redis_url, "news") < 10:
            assert time.monotonic() < deadline and cut.poll() is None, "the crawl never got going"
            time.sleep(0.02)
        cut.send_signal(signal.SIGTERM)
        assert cut.wait(timeout=120) == 0, cut.communicate()
        left = queued(redis_url, "news")
        between_runs = forget()
        kept = (queued(redis_url, "news"), bool(client.exists(LISTING + archive)))
        nxt = run_there()
        assert nxt.wait(timeout=240) == 0, nxt.communicate()
        forced = forget("--force")
        forgotten = bool(client.exists(LISTING + archive))
        again = run_there()
        _, again_err = again.communicate(timeout=240)
        registered_again = bool(client.exists(LISTING + archive))
    client.close()
    assert left >= 10
    assert between_runs == [f"problem: {archive}: not forgotten: its last run began 0 min ago, within [cluster] "
                            "forget_after (7 days; a machine run from cron is live only while it runs): --force "
                            "forgets it"]
    assert kept == (left, True)
    articles = Counter(uri for uri, *_ in fetches([tmp_path / "other"]) if "/news/" in uri)
    assert set(articles) == {farm.url + article_path(n) for n in range(40)}
    assert max(articles.values()) == 1
    assert forced == [f"repaired: {archive}: forgotten as asked: dropped its registration in the cluster's Redis, "
                      "and what no other archive lists: news's crawl's 0 keys, its back-off"]
    assert not forgotten
    assert again.returncode == 0 and "error" not in again_err, again_err
    assert registered_again


def test_an_archive_registered_before_last_runs_were_kept_is_not_forgotten_without_force(tmp_path, redis_url):
    """Another machine's archive registered by a version that kept no last run (upgrade), its run stopped with the
    rest queued: whether it runs from cron cannot be told, so `check --forget-archive` refuses it in one line and
    its queue stays; `--force` forgets it.  Before, it was forgotten at once with the queue its next run needed."""
    import redis

    from crawler.cluster_sources import LISTED, LISTING

    archive = "another-machine:/srv/news"
    client = redis.Redis.from_url(redis_url)
    client.sadd(LISTING + archive, "news")  # a registration as the older version left it: no last-seen time
    client.sadd(LISTED + "news", archive)
    client.zadd(crawl_keys("news") + "requests", {b"a request its stopped run left": 0})
    with ArticleFarm(1) as farm:
        here = sources_config(tmp_path / "here", redis_url, {"news": farm})

    def forget(*options: str) -> list[str]:
        done = subprocess.run([sys.executable, "-m", "cli", "check", "--config", str(here), "--forget-archive",
                               archive, *options], capture_output=True, text=True, timeout=120)
        assert "Traceback" not in done.stderr, done.stderr
        return [line for line in done.stderr.splitlines() if archive in line]

    try:
        refused = forget()
        kept = (queued(redis_url, "news"), bool(client.exists(LISTING + archive)))
        forced = forget("--force")
        forgotten = bool(client.exists(LISTING + archive))
    finally:
        client.close()
    assert refused == [f"problem: {archive}: not forgotten: when its last run began is not known (it registered "
                       "before newsarchive kept it; a machine run from cron is live only while it runs): --force "
                       "forgets it"]
    assert kept == (1, True)
    assert forced and forced[0].startswith(f"repaired: {archive}: forgotten as asked"), forced
    assert not forgotten


def test_an_unrelated_archive_on_another_clusters_redis_database_is_refused_and_gets_its_own_full_copy_on_its_own(
        tmp_path, redis_url):
    """Archive A crawls a site as source "alpha" on Redis database 0; archive B, unrelated (its source "beta" crawls
    the same site), is pointed at the same database: its run is refused in one line, fetching nothing and leaving A's
    state as it was; on a database of its own it archives its own full copy, as A did.  Before, B's run went ahead on
    A's crawl state: every page it fetched was a revisit of a record in A's WARCs, which B's archive does not hold."""
    import redis

    from crawler.cluster_sources import archive_id

    with ArticleFarm(12) as farm:
        [a] = run_workers([sources_config(tmp_path / "a", redis_url, {"alpha": farm})])
        client = redis.Redis.from_url(redis_url)
        state = sorted(client.keys("*"))
        client.close()
        [refused] = run_workers([sources_config(tmp_path / "b", redis_url, {"beta": farm})])
        b_refused = fetches([tmp_path / "b"])
        client = redis.Redis.from_url(redis_url)
        state_after = sorted(client.keys("*"))
        client.close()
        [own] = run_workers([sources_config(tmp_path / "b", redis_url.rsplit("/", 1)[0] + "/1", {"beta": farm})])
    assert a.returncode == 0, a.stderr
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.strip().splitlines() == [
        f"newsarchive: config error: [cluster] redis: {redis_url} is the database of another cluster (its archives "
        f"{archive_id(tmp_path / 'a')} list none of this config's sources), whose pages this archive would take for "
        "its own, unchanged: give this config a database of its own (redis://HOST:PORT/N), or, if its machines split "
        "their sources, every machine's config the same [cluster] name"]
    assert b_refused == [] and state_after == state
    assert own.returncode == 0, own.stderr
    copies = {name: Counter(kind for uri, kind, *_ in fetches([tmp_path / name]) if "/news/" in uri) for name in "ab"}
    assert copies["a"] == copies["b"] == Counter({"response": 12})


def test_machines_that_split_a_named_clusters_sources_each_crawl_theirs_and_another_name_is_refused(
        tmp_path, redis_url):
    """Machines A and B share one Redis database as the cluster "newsroom", A listing only source "a", B only "b":
    both runs crawl their source into their own archive, and `check` finds nothing wrong on either.  An archive
    naming another cluster, or none, on that database is refused in one line, fetching nothing.  Before, B's run was
    refused as "the database of another cluster", its machines needing one source in common."""
    import redis

    from crawler.cluster_sources import archive_id

    with ArticleFarm(6) as farm_a, ArticleFarm(6) as farm_b, ArticleFarm(6) as farm_c:
        [a] = run_workers([sources_config(tmp_path / "a", redis_url, {"a": farm_a}, cluster="newsroom")])
        [b] = run_workers([sources_config(tmp_path / "b", redis_url, {"b": farm_b}, cluster="newsroom")])
        checks = [subprocess.run([sys.executable, "-m", "cli", "check", "--config", str(config)], capture_output=True,
                                 text=True, timeout=120) for config in (tmp_path / "a" / "sources.toml",
                                                                        tmp_path / "b" / "sources.toml")]
        client = redis.Redis.from_url(redis_url)
        state = sorted(client.keys("*"))
        client.close()
        refused = run_workers([sources_config(tmp_path / "c", redis_url, {"c": farm_c}, cluster="sports"),
                               sources_config(tmp_path / "d", redis_url, {"a": farm_a})])
        client = redis.Redis.from_url(redis_url)
        state_after = sorted(client.keys("*"))
        client.close()
    assert (a.returncode, b.returncode) == (0, 0), a.stderr + b.stderr
    for name, farm in (("a", farm_a), ("b", farm_b)):
        assert {uri for uri, *_ in fetches([tmp_path / name]) if "/news/" in uri} == {
            farm.url + article_path(n) for n in range(6)}
    assert [(done.returncode, done.stderr.splitlines()[1:]) for done in checks] == [(0, []), (0, [])]  # "checked ..."
    assert [done.returncode for done in refused] == [2, 2]
    archives = ", ".join(sorted(archive_id(tmp_path / name) for name in "ab"))
    assert [done.stderr.strip().splitlines() for done in refused] == [
        [f"newsarchive: config error: [cluster] redis: {redis_url} is the database of the cluster newsroom (its "
         f"archives {archives}), and this config names {what}: give it that cluster's name if it is one of its "
         "machines, else a database of its own (redis://HOST:PORT/N)"]
        for what in ("the cluster sports", "none (its [cluster] name)")]
    assert fetches([tmp_path / "c", tmp_path / "d"]) == [] and state_after == state


def test_of_many_machines_of_two_cluster_names_starting_at_once_on_a_fresh_database_one_name_wins(tmp_path, redis_url):
    """Six machines start their first run at the same moment on a fresh Redis database, three of the cluster "alpha",
    three of "beta": Redis holds every write (CLIENT PAUSE WRITE, as a busy server would) until each run has checked
    the database and is about to register.  One name wins: its runs crawl; each run of the other exits 2 with the one
    line, fetching nothing, and the database names one cluster.  Before, the check and the registration were two
    steps: every run saw an empty database, all six registered, and both clusters crawled on it."""
    import re

    import redis

    client = redis.Redis.from_url(redis_url)
    names = ["alpha", "beta"] * 3
    with ArticleFarm(4) as farm_a, ArticleFarm(4) as farm_b:
        configs = [sources_config(tmp_path / f"{name}{n}", redis_url, {name: farm_a if name == "alpha" else farm_b},
                                  cluster=name) for n, name in enumerate(names)]
        client.client_pause(120_000, all=False)  # writes wait; reads go on
        try:
            workers = [start_worker(config) for config in configs]
            deadline = time.monotonic() + 25  # (a held registration gives up after 30 s)
            while (sum("x" in c["flags"] and "b" in c["flags"] for c in client.client_list()) < len(workers)
                   and time.monotonic() < deadline):
                time.sleep(0.1)
        finally:
            client.client_unpause()
        done = [(name, worker.wait(timeout=240), worker.communicate()[1]) for name, worker in zip(names, workers)]
        registered = {value.decode() for value in client.hvals("newsarchive:cluster-names")}
    client.close()
    winners = {name for name, code, _ in done if code == 0}
    assert len(winners) == 1, [(name, code, err[-300:]) for name, code, err in done]
    [winner], [loser] = winners, set(names) - winners
    assert registered == {winner}
    line = re.compile(rf"newsarchive: config error: \[cluster\] redis: {re.escape(redis_url)} is the database of the "
                      rf"cluster {winner} \(its archives [^)]+\), and this config names the cluster {loser}: give it "
                      r"that cluster's name if it is one of its machines, else a database of its own "
                      r"\(redis://HOST:PORT/N\)")
    for (name, code, err), config in zip(done, configs):
        if name == loser:
            assert code == 2 and [bool(line.fullmatch(text)) for text in err.strip().splitlines()] == [True], err
            assert fetches([config.parent]) == []
    assert [code for name, code, _ in done if name == winner] == [0, 0, 0]
    theirs = [config.parent for name, config in zip(names, configs) if name == winner]  # (any of them fetches any)
    farm = farm_a if winner == "alpha" else farm_b
    assert {uri for uri, *_ in fetches(theirs) if "/news/" in uri} == {farm.url + article_path(n) for n in range(4)}


@pytest.mark.parametrize("download_delay, crawl_delay", [(0.3, None), (0, 0.4)])
def test_host_spacing_and_concurrency_hold_across_workers(tmp_path, redis_url, download_delay, crawl_delay):
    """Three workers crawl the demo sites (one host, 127.0.0.1) with a delay, configured or asked for by
    robots.txt's Crawl-delay: requests reach the host at least the delay apart over all workers
    together (after robots.txt, which sets the Crawl-delay), never more than two at once."""
    delay = crawl_delay or download_delay
    with DemoSite(crawl_delay=crawl_delay) as site:
        configs = [demo_config(site, tmp_path / f"w{i}", redis_url, download_delay) for i in range(3)]
        results = run_workers(configs)
        arrivals = sorted(request.time for request in site.requests if request.path != "/robots.txt")
        peak = site.peak_in_flight
    for result in results:
        assert result.returncode == 0, result.stderr
    gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:])]
    assert len(arrivals) > 20
    # The turn is taken on Redis's clock as the request leaves; on a loaded machine the request
    # may leave a little after its turn, the next one on time.  Without the shared turn, nine
    # crawlers (three sources in each worker) would send at once.
    assert min(gaps) >= delay / 2, sorted(gaps)[:5]
    assert max(peak.values()) <= 2, peak


def corpus(archive: Path) -> tuple[dict[str, bytes], list[dict]]:
    """The text files, and the rows less where and when each capture was made, by URL and version
    (corpus.jsonl lists rows in capture order, which differs between any two crawls)."""
    texts = {str(path.relative_to(archive / "text")): path.read_bytes() for path in (archive / "text").rglob("*.txt")}
    rows = [json.loads(line) for line in (archive / "corpus.jsonl").read_text().splitlines()]
    clusters: dict[str, list[str]] = {}
    for row in rows:
        clusters.setdefault(row["dup_cluster"], []).append(row["url"])
    return texts, [{**{key: value for key, value in row.items() if key not in PROVENANCE},
                    "cluster_members": sorted(clusters[row["dup_cluster"]])}
                   for row in sorted(rows, key=lambda row: (row["source"], row["url"], row["version"]))]


def derive(config: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "cli", "derive", "--config", str(config)],
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr


def test_corpus_from_all_workers_warcs_equals_a_single_machine_crawl(tmp_path, redis_url):
    with DemoSite() as site:
        alone = demo_config(site, tmp_path / "alone", None)
        [single] = run_workers([alone])
        configs = [demo_config(site, tmp_path / f"w{i}", redis_url) for i in range(2)]
        results = run_workers(configs)
        merged = demo_config(site, tmp_path / "merged", None)
    for result in [single, *results]:
        assert result.returncode == 0, result.stderr
    (tmp_path / "merged" / "warc").mkdir()
    for config in configs:
        for warc in (config.parent / "warc").glob("*.warc.gz"):
            shutil.copy(warc, tmp_path / "merged" / "warc" / warc.name)
    derive(alone)
    derive(merged)
    texts, rows = corpus(tmp_path / "merged")
    assert len(rows) >= 10
    assert (texts, rows) == corpus(tmp_path / "alone")


def test_a_cluster_crawl_of_a_site_that_puts_session_ids_everywhere_archives_each_article_once(tmp_path, redis_url):
    """As on one machine (tests/test_crawl_link_cleaning.py): links, a redirect, robots.txt's sitemap and ASP.NET
    paths carrying a session ID or tracker give each story one capture and one corpus row over two workers and
    two runs."""
    from test_crawl_link_cleaning import RedirectingSessionSite, assert_each_story_once, crawl_twice

    assert_each_story_once(crawl_twice(RedirectingSessionSite, [tmp_path / "w0", tmp_path / "w1"], redis_url))
    assert crawl_keys_left(redis_url) == []


def test_a_payload_archived_by_one_worker_is_a_revisit_for_another(tmp_path, redis_url):
    with ArticleFarm(10) as farm:
        first, second = (farm_config(tmp_path / name, farm, redis_url) for name in ("first", "second"))
        run_workers([first])
        [result] = run_workers([second])
    assert result.returncode == 0, result.stderr
    originals = {headers["WARC-Record-ID"]: uri for uri, kind, headers, _ in fetches([first.parent])
                 if kind == "response"}
    later = fetches([second.parent])
    assert later, "the second worker fetched nothing"
    assert {kind for _, kind, _, _ in later} == {"revisit"}  # robots.txt and the sitemap, unchanged
    assert all(originals[headers["WARC-Refers-To"]] == uri for uri, _, headers, _ in later)
    assert not any("/news/" in uri for uri, *_ in later)  # the articles: known to the cluster, not fetched again


@pytest.mark.parametrize("value, problem", [
    ('"http://127.0.0.1:6379/0"', "'http://127.0.0.1:6379/0' is not a redis://HOST:PORT/DB address"),
    ('"redis://127.0.0.1/0"', "'redis://127.0.0.1/0' is not a redis://HOST:PORT/DB address"),
    ('"redis://127.0.0.1:port/0"', "'redis://127.0.0.1:port/0' is not a redis://HOST:PORT/DB address"),
    ('"redis://127.0.0.1:6379/zero"', "'redis://127.0.0.1:6379/zero' is not a redis://HOST:PORT/DB address"),
    ("6379", "key 'redis' must be a string, not an integer"),
])
def test_a_bad_cluster_address_is_one_line_naming_file_and_key(tmp_path, value, problem):
    config = tmp_path / "sources.toml"
    config.write_text(f'[cluster]\nredis = {value}\n\n[[sources]]\nname = "x"\nstart_urls = ["http://127.0.0.1:1/"]\n')
    result = subprocess.run([sys.executable, "-m", "cli", "run", "--config", str(config)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    problem = problem if problem.startswith("key") else f"key 'redis': {problem}"
    assert result.stderr.strip().splitlines() == [f"newsarchive: config error: {config}: [cluster]: {problem}"]


@pytest.mark.parametrize("line, problem", [('name = " "', "key 'name' must not be empty"),
                                           ("name = 7", "key 'name' must be a string, not an integer"),
                                           ("forget_after = -1", "key 'forget_after' must be a number of days, 0 or "
                                                                 "more"),
                                           ('forget_after = "7d"', "key 'forget_after' must be a number, not a "
                                                                   "string")])
def test_a_bad_cluster_name_or_forget_after_is_one_line_naming_file_and_key(tmp_path, line, problem):
    config = tmp_path / "sources.toml"
    config.write_text(f'[cluster]\nredis = "redis://127.0.0.1:1/0"\n{line}\n\n[[sources]]\nname = "x"\n'
                      'start_urls = ["http://127.0.0.1:1/"]\n')
    result = subprocess.run([sys.executable, "-m", "cli", "run", "--config", str(config)],
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr.strip().splitlines()) == (
        2, [f"newsarchive: config error: {config}: [cluster]: {problem}"])


def test_an_unreachable_redis_is_one_line_and_nothing_is_crawled(tmp_path):
    with ArticleFarm(3) as farm:
        config = farm_config(tmp_path / "w", farm, "redis://127.0.0.1:1/0")
        [result] = run_workers([config])
        served = farm.served
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "newsarchive: not running: cannot reach the cluster's Redis at redis://127.0.0.1:1/0: "
        "Error 111 connecting to 127.0.0.1:1. Connection refused."]
    assert served == 0


@pytest.mark.parametrize("fault", ["stopped", "frozen"])
def test_a_worker_that_loses_redis_mid_crawl_stops_and_says_why(tmp_path, fault):
    """Frozen: a Redis that answers nothing and refuses nothing (SIGSTOP; cut off by the network). Before, each call
    waited out its 30 s timeout, the closing crawl made ever more, and the run had not ended 400 s later."""
    with RedisServer(tmp_path / "redis") as server, ArticleFarm(40, delay=0.3) as farm:
        worker = start_worker(farm_config(tmp_path / "w", farm, server.url))
        deadline = time.monotonic() + 60
        while farm.served < 10:
            assert time.monotonic() < deadline and worker.poll() is None, "the crawl never got going"
            time.sleep(0.02)
        if fault == "stopped":
            server.stop()
        else:
            server.process.send_signal(signal.SIGSTOP)
        try:
            _, err = worker.communicate(timeout=180)
        finally:
            if server.process is not None:
                server.process.send_signal(signal.SIGCONT)
    assert worker.returncode == 1
    assert "farm: FAILED: crawl ended: cluster Redis unreachable" in err
    assert "Traceback" not in err
    # the pages in flight are not archived for the same reason, and the back-off is not the site's: said once
    assert len([line for line in err.splitlines() if "ERROR" in line]) == 1, err


def test_a_worker_that_lost_redis_counts_the_pages_its_warcs_hold_and_the_next_run_fetches_the_rest(tmp_path):
    """Redis stopped mid-crawl: the pages whose records could not be written (the writer could not reach the crawl
    state) are not counted as fetched, in the run's report and in ``status``.  Before, every page downloaded was."""
    from corpus.export import read_corpus

    articles, archive = 40, tmp_path / "w"
    with RedisServer(tmp_path / "redis") as server, ArticleFarm(articles, delay=0.3) as farm:
        config = farm_config(archive, farm, server.url)
        worker = start_worker(config)
        deadline = time.monotonic() + 60
        while farm.served < 10:
            assert time.monotonic() < deadline and worker.poll() is None, "the crawl never got going"
            time.sleep(0.02)
        server.stop()
        _, err = worker.communicate(timeout=180)
        assert worker.returncode == 1, err
        [report] = [json.loads(path.read_text())["sources"] for path in (archive / "runs").glob("*.json")]
        pages = [uri for uri, *_ in fetches([archive]) if not uri.endswith("/robots.txt")]
        assert farm.served > len(pages)  # pages were fetched that are not in the WARCs
        assert (report[0]["fetched"], report[0]["articles"]) == (len(pages), sum("/news/" in uri for uri in pages))
        status = subprocess.run([sys.executable, "-m", "cli", "status", "--config", str(config)],
                                capture_output=True, text=True, timeout=60)
        assert f" {len(pages)} fetched, " in status.stdout, status.stdout
        server.start()
        again = subprocess.run([sys.executable, "-m", "cli", "run", "--config", str(config)],
                               capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr
    urls = [row["url"] for row in read_corpus(archive)]
    assert len(urls) == len(set(urls)) == articles


def test_status_shows_the_back_off_the_cluster_keeps(tmp_path, redis_url):
    from archive.state import open_state

    with ArticleFarm(1) as farm:
        config = farm_config(tmp_path / "w", farm, redis_url)
    state = open_state(tmp_path, redis_url)  # two failed runs, on whichever workers
    for _ in range(2):
        state.record_source_outcome("farm", False, "none of its seeds could be fetched")
    state.close()
    result = subprocess.run([sys.executable, "-m", "cli", "status", "--config", str(config)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "backing off until" in result.stdout
    assert "none of its seeds could be fetched" in result.stdout


def test_redis_state_answers_as_the_sqlite_state_does(tmp_path, redis_url):
    """The same operations on both backends give the same answers: first_seen kept, the first payload
    kept, back-off growing with failures in a row and cleared by a success, one read kept per sitemap."""
    answers = []
    for state in (open_state(tmp_path), open_state(tmp_path, redis_url)):
        state.record_fetch(UrlState("http://a/1", "s", 100.0, 100.0, 200, '"e1"', None, "sha1:X", "f.warc.gz", 0))
        state.record_fetch(UrlState("http://a/1", "s", 200.0, 200.0, 304, '"e2"', "Mon", "sha1:X", "g.warc.gz", 9))
        state.add_payload(ArchivedPayload("sha1:X", "http://a/1", "2026-01-01T00:00:00Z", "<urn:1>", "f.warc.gz", 0))
        state.add_payload(ArchivedPayload("sha1:X", "http://a/2", "2026-01-02T00:00:00Z", "<urn:2>", "g.warc.gz", 5))
        outcomes = [state.record_source_outcome("s", ok, "down", now=1000.0) for ok in (False, False, False, True)]
        state.record_sitemap_reads([SitemapRead("http://a/day-1.xml", "s", "2026-01-01T00:00:00+00:00", 100.0),
                                    SitemapRead("http://a/day-2.xml", "s", None, 100.0)])
        state.record_sitemap_reads([SitemapRead("http://a/day-1.xml", "s", None, 200.0)])
        answers.append((state.url("http://a/1"), state.url("http://a/none"), state.payload("sha1:X"),
                        state.payload("sha1:Y"), outcomes, state.source_health("s"), state.source_health("t"),
                        state.sitemap_reads(["http://a/day-1.xml", "http://a/day-2.xml", "http://a/day-3.xml"])))
        state.close()
    sqlite, shared = answers
    assert shared == sqlite
    assert shared[0].first_seen == 100.0 and shared[0].status == 304
    assert [health.backoff_until for health in shared[4]] == [None, 1000.0 + 1800, 1000.0 + 3600, None]
    assert shared[7] == {"http://a/day-1.xml": SitemapRead("http://a/day-1.xml", "s", None, 200.0),
                         "http://a/day-2.xml": SitemapRead("http://a/day-2.xml", "s", None, 100.0)}


class ThrottlingSite:
    """Articles on 127.0.0.1 (the farm's pages) that answer the first request for one of them with
    429 and ``Retry-After``; every request's arrival time is logged."""

    def __init__(self, articles: int, retry_after: int, slow: float):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from demo.farm import article_html

        self.arrivals: list[tuple[float, str, int]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                arrived = time.time()
                status, headers, body = 200, {"Content-Type": "text/html"}, b""
                if self.path == "/robots.txt":
                    headers["Content-Type"], body = "text/plain", b"User-agent: *\nAllow: /\n"
                elif self.path == "/sitemap.xml":
                    urls = "".join(f"<url><loc>{site.url}{article_path(n)}</loc></url>" for n in range(articles))
                    headers["Content-Type"] = "application/xml"
                    body = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'.encode()
                elif self.path == article_path(2) and not any(path == self.path for _, path, _ in site.arrivals):
                    status, headers["Retry-After"] = 429, str(retry_after)
                else:
                    time.sleep(slow)
                    body = article_html(int(self.path.split("-")[1]))
                site.arrivals.append((arrived, self.path, status))
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> ThrottlingSite:
        import threading

        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def source(self) -> dict:
        return {"name": "farm", "sitemaps": [f"{self.url}/sitemap.xml"], "schedule": "0 * * * *"}


def throttled_cluster_crawl(tmp_path: Path, redis_url: str, retry_after: int
                            ) -> tuple[list[subprocess.CompletedProcess], list[tuple[float, str, int]], float]:
    """Two workers crawl a ``ThrottlingSite`` of 30 articles, each successful; their runs, the site's arrivals in
    order, and when the 429 arrived."""
    with ThrottlingSite(30, retry_after=retry_after, slow=0.2) as site:
        configs = [farm_config(tmp_path / f"w{i}", site, redis_url) for i in range(2)]
        results = run_workers(configs)
        arrivals = sorted(site.arrivals)
    for result in results:
        assert result.returncode == 0, result.stderr
    [refused] = [moment for moment, _, status in arrivals if status == 429]
    return results, arrivals, refused


def test_retry_after_holds_the_host_for_every_worker(tmp_path, redis_url):
    """One worker gets a 429 with Retry-After: 4; no worker sends the host anything until then."""
    _, arrivals, refused = throttled_cluster_crawl(tmp_path, redis_url, 4)
    # A request another worker sent while the 429 was on its way back may arrive just after it.
    held = [moment - refused for moment, _, _ in arrivals if refused + 0.5 < moment < refused + 4 - 0.3]
    assert held == []
    assert any(moment > refused + 4 for moment, _, _ in arrivals)
    assert sum(1 for _, path, status in arrivals if path == article_path(2) and status == 200) == 1


def registered(redis_url: str, source: str) -> int:
    """How many workers are in the shared crawl of ``source``."""
    return asked_of_redis(redis_url, lambda client: client.scard(crawl_keys(source) + "workers"))


class DeadSite(BaseHTTPRequestHandler):
    """A site that is down: every page answers 503 once ``gate()`` is true (30 s at most); no robots.txt."""

    protocol_version = "HTTP/1.1"
    gate: Callable[[], bool]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        deadline = time.monotonic() + 30
        while self.path != "/robots.txt" and not self.gate() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.send_response(404 if self.path == "/robots.txt" else 503)
        self.send_header("Content-Length", "0")
        self.end_headers()


def dead_configs(tmp_path: Path, dead: str, redis_url: str) -> list[Path]:
    """Two workers' configs of the source "dead", starting at ``dead`` (a timeout longer than ``DeadSite``'s gate)."""
    configs = []
    for index in range(2):
        directory = tmp_path / f"w{index}"
        directory.mkdir()
        configs.append(directory / "sources.toml")
        configs[-1].write_text(f'[archive]\ndir = "{directory}"\n[crawl]\ndownload_delay = 0\nautothrottle = false\n'
                               f'timeout = 60\n[cluster]\nredis = "{redis_url}"\n'
                               f'[[sources]]\nname = "dead"\nstart_urls = ["{dead}"]\n')
    return configs


def test_a_shared_crawl_that_fails_counts_once_towards_its_sources_back_off(tmp_path, redis_url):
    """The seed answers once both workers are in the crawl: on a loaded machine the second may start after the
    first has ended (a refused connection fails at once), and each is then a crawl of its own (2 failures)."""
    handler = type("Site", (DeadSite,), {"gate": staticmethod(lambda: registered(redis_url, "dead") >= 2)})
    with loopback_site(handler) as dead:
        results = run_workers(dead_configs(tmp_path, f"{dead}/", redis_url))
    assert [result.returncode for result in results] == [1, 1], [result.stderr for result in results]
    state = open_state(tmp_path, redis_url)
    try:
        assert state.source_health("dead").consecutive_failures == 1  # not one per worker
    finally:
        state.close()


def test_a_shared_crawl_cut_short_by_max_pages_counts_towards_its_sources_back_off(tmp_path, redis_url):
    """Its last worker out leaves stories queued for the next run, and still speaks for the crawl: a run that
    went well ends the failures in a row, so one failure later does not put the source into back-off at once."""
    state = open_state(tmp_path, redis_url)
    try:
        state.record_source_outcome("farm", False, "HTTP 503")  # one failure: no back-off yet
        with ArticleFarm(10) as farm:
            config = farm_config(tmp_path / "w", farm, redis_url)
            config.write_text(config.read_text() + "max_pages = 3\n")  # its [[sources]] entry ends the file
            result = subprocess.run([sys.executable, "-m", "cli", "run", "--config", str(config), "--no-extract"],
                                    capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        assert queued(redis_url, "farm")  # the crawl was cut short: its queue waits for the next run
        assert state.source_health("farm").consecutive_failures == 0
    finally:
        state.close()


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_a_304_or_a_revisit_of_a_payload_in_lost_bytes_is_forgotten_so_the_next_run_fetches_it_whole(
        tmp_path, redis_url, backend):
    """Before: only the fetches recorded in the lost bytes were forgotten; a URL whose last fetch, in a later WARC,
    was a 304 or a revisit of a payload there kept its validators, got a 304 again and its bytes stayed lost."""
    state = open_state(tmp_path, redis_url if backend == "redis" else None)
    try:
        lost, kept = "sha1:LOST", "sha1:KEPT"
        state.add_payload(ArchivedPayload(lost, "http://a/1", "2026-01-01T00:00:00Z", "<urn:1>", "first.warc.gz", 900))
        state.add_payload(ArchivedPayload(kept, "http://a/3", "2026-01-01T00:00:00Z", "<urn:3>", "first.warc.gz", 100))
        for url, status, digest, offset in (("http://a/1", 304, lost, 10), ("http://a/2", 200, lost, 20),
                                            ("http://a/3", 304, kept, 30)):  # a 304, a revisit, a 304 of kept bytes
            state.record_fetch(UrlState(url, "a", 1.0, 2.0, status, '"etag"', None, digest, "second.warc.gz", offset))
        assert sorted(state.forget_from("first.warc.gz", 500)) == [("a", "http://a/1"), ("a", "http://a/2")]
        assert state.url("http://a/1") is state.url("http://a/2") is state.payload(lost) is None
        assert state.url("http://a/3") is not None and state.payload(kept) is not None
    finally:
        state.close()


def test_a_capture_cut_by_recovery_after_a_power_cut_is_fetched_again_with_the_clusters_state(tmp_path, redis_url):
    """As with the SQLite state (tests/test_recover.py): the cluster's Redis records a capture before its
    WARC bytes are durable; recovery on the worker's machine cuts the torn tail and forgets, in Redis, the
    fetches recorded there, so the next run fetches those URLs again."""
    import redis

    from archive.redis_state import URLS
    from archive.writer import OPEN_SUFFIX
    from corpus.export import read_corpus
    from test_recover import power_cut_mid_crawl

    def recorded() -> list[tuple[str, str, int]]:
        client = redis.Redis.from_url(redis_url)
        try:
            return [(url.decode(), record["warc_file"], record["warc_offset"])
                    for url, value in client.hgetall(URLS).items()
                    if (record := json.loads(value))["warc_file"] is not None]
        finally:
            client.close()

    articles, archive = 120, tmp_path / "w"
    with ArticleFarm(articles) as farm:
        config = farm_config(archive, farm, redis_url)
        torn = power_cut_mid_crawl(config, archive, lambda: len(recorded()) >= 30, recorded=recorded)
        closed = torn.with_name(torn.name.removesuffix(OPEN_SUFFIX))
        client = redis.Redis.from_url(redis_url)
        try:  # the machine is back after the dead worker's heartbeat has expired, as after a reboot
            deadline = time.monotonic() + 60
            while client.keys(crawl_keys("farm") + "alive:*"):
                assert time.monotonic() < deadline
                time.sleep(0.2)
            assert client.zcard(crawl_keys("farm") + "requests")  # the shared crawl is unfinished: it goes on
        finally:
            client.close()
        again = subprocess.run([sys.executable, "-m", "cli", "run", "--config", str(config)],
                               capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr
        assert "recorded in the cut tail" in again.stderr, again.stderr
    assert not [url for url, warc, offset in recorded() if warc == closed.name and offset >= closed.stat().st_size]
    urls = [row["url"] for row in read_corpus(archive)]
    assert len(urls) == len(set(urls)) == articles


def test_pages_a_worker_fetched_while_its_writer_lagged_are_not_lost_when_it_dies(tmp_path, redis_url):
    """A worker's callbacks run as its pages arrive, while their records wait for the WARC writer. A request
    left the worker's in-flight hash once its callback ran, so a worker that died before the writer wrote
    them (a power cut) lost those pages for the crawl for good: marked seen, in no queue and in no WARC."""
    import os

    from corpus.export import read_corpus
    from test_interruptions import wait_for, writer_process

    articles, archive = 60, tmp_path / "w"
    with ArticleFarm(articles, delay=0.05) as farm:
        config = farm_config(archive, farm, redis_url)
        worker = start_worker(config)
        assert wait_for(lambda: farm.served >= 10 and writer_process(worker) is not None)
        writer = writer_process(worker)
        os.kill(writer, signal.SIGSTOP)  # the writer lags: the pages fetched from now on wait for it
        lagging = farm.served
        assert wait_for(lambda: farm.served >= lagging + 5), "the worker stopped fetching while its writer lagged"
        worker.kill()  # the power cut
        os.kill(writer, signal.SIGKILL)
        worker.communicate()
        assert wait_for(lambda: not _alive_workers(redis_url), timeout=60)  # its heartbeat ends, as after a reboot
        again = subprocess.run([sys.executable, "-m", "cli", "run", "--config", str(config)],
                               capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr
    urls = [row["url"] for row in read_corpus(archive)]
    assert len(urls) == len(set(urls)) == articles


def _alive_workers(redis_url: str) -> list[bytes]:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return client.keys(crawl_keys("farm") + "alive:*")
    finally:
        client.close()


class NewestFirstFarm(ArticleFarm):
    """The farm whose sitemap lists its articles newest first, each dated: article n is (articles - n) hours old."""

    def route(self, path: str) -> tuple[int, str, bytes]:
        if path != "/sitemap.xml":
            return super().route(path)
        now = datetime.now(timezone.utc)
        urls = "".join(f"<url><loc>{self.url}{article_path(n)}</loc>"
                       f"<lastmod>{now - timedelta(hours=self.articles - n):%Y-%m-%dT%H:%M:%S+00:00}</lastmod></url>"
                       for n in reversed(range(self.articles)))
        return 200, "application/xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="{SITEMAP_NS}">{urls}</urlset>').encode()


def capped_cluster_crawl(tmp_path: Path, redis_url: str, articles: int) -> list[list[str]]:
    """Two workers crawl a ``NewestFirstFarm``, each with max_pages = 6; the URLs each fetched but robots.txt.

    A page waits at the farm until both workers hold one (``GATE_WAIT``, 25 s, at most): on a loaded machine the
    second worker may take that long to start, and a download timeout of 30 s (the default) then timed the held
    pages out, each a fetch of the first worker's six without a page: it archived 4.  The timeout here outlasts it."""
    with NewestFirstFarm(articles, gate=lambda: holding(redis_url, "farm") >= 2) as farm:
        configs = [farm_config(tmp_path / f"w{i}", farm, redis_url, timeout=GATE_WAIT * 4) for i in range(2)]
        for config in configs:  # its [[sources]] entry ends the file
            config.write_text(config.read_text() + "max_pages = 6\n")
        results = run_workers(configs)
    for result in results:
        assert result.returncode == 0, result.stderr
    return [[uri for uri, *_ in fetches([config.parent]) if not uri.endswith("/robots.txt")] for config in configs]


def test_each_worker_of_a_capped_cluster_crawl_fetches_its_max_pages(tmp_path, redis_url):
    """max_pages counts per worker (README), as its crawl's bounds hold in a cluster as on one machine."""
    fetched = capped_cluster_crawl(tmp_path, redis_url, 30)
    assert [len(urls) for urls in fetched] == [6, 6], fetched


def test_a_capped_cluster_crawl_takes_a_sitemap_s_newest_stories(tmp_path, redis_url):
    """As on one machine (tests/test_crawl_sitemaps.py), over two workers each with max_pages = 6: the
    stories fetched are the sitemap's newest, the shared queue handing them out in the order found, and
    what a worker took beyond its max_pages going back to its place for the other."""
    articles = 30
    fetched = capped_cluster_crawl(tmp_path, redis_url, articles)
    stories = sorted(int(url.split("/story-")[1].split("-")[0]) for urls in fetched for url in urls if "/story-" in url)
    assert stories == list(range(articles - 11, articles))  # 6 pages each, the sitemap one of them


class SlowSitemapFarm(ArticleFarm):
    """A farm whose source also starts at a page that is gone (404), answered once its sitemap is asked for; the
    sitemap answers once ``release`` is set.  With max_pages = 1, one worker fetches each: the one with the gone
    page ends its part of the crawl while the other is still reading the sitemap."""

    def __init__(self, articles: int) -> None:
        super().__init__(articles)
        self.sitemap_asked = threading.Event()
        self.release = threading.Event()

    def route(self, path: str) -> tuple[int, str, bytes]:
        if path == "/sitemap.xml":
            self.sitemap_asked.set()
            self.release.wait(120)
        elif path == "/gone":
            self.sitemap_asked.wait(60)
        return super().route(path)


def test_a_worker_that_ends_its_part_while_another_reads_the_sitemap_does_not_call_the_source_failed(
        tmp_path, redis_url):
    """A worker that leaves a shared crawl (its max_pages spent) while another still fetches a seed cannot know
    whether any seed will be read: the source is judged by the worker that leaves last, or once none is left."""
    with SlowSitemapFarm(3) as farm:
        configs = [farm_config(tmp_path / f"w{i}", farm, redis_url) for i in range(2)]
        for config in configs:  # its [[sources]] entry ends the file
            config.write_text(config.read_text() + f'start_urls = ["{farm.url}/gone"]\nmax_pages = 1\n')
        workers = [start_worker(config) for config in configs]
        deadline = time.monotonic() + 180
        while all(worker.poll() is None for worker in workers):
            assert time.monotonic() < deadline, "no worker ended"
            time.sleep(0.2)
        first = next(worker for worker in workers if worker.poll() is not None)
        farm.release.set()  # the sitemap is read once a worker has left
        results = [(worker, *worker.communicate(timeout=180)) for worker in workers]
    assert farm.sitemap_asked.is_set()
    for worker, _, stderr in results:
        assert worker.returncode == 0, (worker is first, stderr)
        assert "FAILED" not in stderr and "Traceback" not in stderr, stderr


class UnreachableRobotsSite(BaseHTTPRequestHandler):
    """Pages linking nowhere; robots.txt answers 503 once ``gate()`` is true (30 s at most): each worker holds a page by then."""

    protocol_version = "HTTP/1.1"
    gate: Callable[[], bool]
    requested: list[str]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.requested.append(self.path)
        status, body = 200, b"<html><body><p>A page.</p></body></html>"
        if self.path == "/robots.txt":
            deadline = time.monotonic() + 30
            while not self.gate() and time.monotonic() < deadline:
                time.sleep(0.05)
            status, body = 503, b"Service Unavailable"
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def site_configs(tmp_path: Path, base: str, redis_url: str, crawl: str = "") -> list[Path]:
    """Two workers' configs crawling eight pages of the site at ``base`` (source "site"), with ``crawl``'s [crawl] lines."""
    configs = []
    for i in range(2):
        archive = tmp_path / f"w{i}"
        archive.mkdir()
        pages = json.dumps([f"{base}/page-{n}" for n in range(8)])
        (archive / "sources.toml").write_text(
            f'[archive]\ndir = "{archive}"\n\n[crawl]\ndownload_delay = 0\nautothrottle = false\n{crawl}\n'
            f'[cluster]\nredis = "{redis_url}"\n\n[[sources]]\nname = "site"\nstart_urls = {pages}\n')
        configs.append(archive / "sources.toml")
    return configs


def assert_unreachable_for_every_worker(results: list[subprocess.CompletedProcess], reason: str) -> None:
    """Each worker said once that the host's robots.txt is unreachable and why, and failed its pages for it."""
    for result in results:
        assert "Traceback" not in result.stderr, result.stderr
        said = [line for line in result.stderr.splitlines() if f"robots.txt unreachable ({reason}" in line]
        assert len([line for line in said if "nothing is fetched from this host" in line]) == 1, result.stderr
        [failed] = [line for line in said if "failed fetches:" in line] or [result.stderr]
        assert f"(robots.txt unreachable ({reason}" in failed, failed  # its pages, not "Forbidden by robots.txt"


def test_a_robots_txt_answering_503_is_unreachable_for_every_worker(tmp_path, redis_url):
    """As on one machine (tests/test_robots.py): one worker asks for robots.txt, and every worker says in one
    line that the host's robots.txt is unreachable and counts its pages as failed fetches; none is fetched."""
    requested: list[str] = []
    handler = type("Site", (UnreachableRobotsSite,), {"requested": requested,
                                                      "gate": staticmethod(lambda: holding(redis_url, "site") >= 2)})
    with loopback_site(handler) as base:  # (a timeout longer than the gate's: a worker slow to start is no timeout)
        results = run_workers(site_configs(tmp_path, base, redis_url, "timeout = 60\n"))
    assert set(requested) == {"/robots.txt"}, requested  # (asked again by Scrapy's retries of a 503)
    assert_unreachable_for_every_worker(results, "HTTP 503")


class SilentRobotsSite(UnreachableRobotsSite):
    """Pages linking nowhere; robots.txt is accepted and never answered (until ``released``)."""

    arrivals: list[float]
    released: threading.Event

    def do_GET(self) -> None:
        if self.path != "/robots.txt":
            return super().do_GET()
        self.requested.append(self.path)
        self.arrivals.append(time.monotonic())
        self.released.wait(120)
        self.close_connection = True


def test_a_robots_txt_that_times_out_is_waited_for_once_and_unreachable_for_every_worker(tmp_path, redis_url):
    """Before: the worker that fetched robots.txt shared nothing when it timed out, so the other fetched it again
    and waited out its own timeouts (robots.txt asked twice as often, the run twice as long)."""
    timeout, attempts = 5, RETRY_TIMES + 1  # a timeout is retried, as any fetch's
    requested: list[str] = []
    arrivals: list[float] = []
    released = threading.Event()
    handler = type("Site", (SilentRobotsSite,), {"requested": requested, "arrivals": arrivals, "released": released})
    try:
        with loopback_site(handler) as base:
            results = run_workers(site_configs(tmp_path, base, redis_url, f"timeout = {timeout}\n"))
            ended = time.monotonic()
    finally:
        released.set()
    assert set(requested) == {"/robots.txt"}, requested
    assert len(arrivals) == attempts, arrivals  # one worker's fetch and its retries
    assert ended - arrivals[0] < attempts * timeout + 10, f"{ended - arrivals[0]:.0f} s"  # one wait, not one per worker
    assert_unreachable_for_every_worker(results, "")


def test_no_other_worker_takes_over_a_robots_txt_fetch_while_its_retries_may_still_time_out(tmp_path, redis_url):
    """With the default 30 s timeout a fetch of robots.txt and its retries may take 90 s.  Before: its lock
    lasted 60 s, then another worker took it and fetched robots.txt again, waiting out its own timeouts."""
    import redis

    from crawler.settings import DOWNLOAD_TIMEOUT

    requested: list[str] = []
    arrivals: list[float] = []
    released = threading.Event()
    handler = type("Site", (SilentRobotsSite,), {"requested": requested, "arrivals": arrivals, "released": released})
    client = redis.Redis.from_url(redis_url)
    try:
        with loopback_site(handler) as base:
            workers = [start_worker(config) for config in site_configs(tmp_path, base, redis_url)]
            deadline = time.monotonic() + 60
            while not arrivals:
                assert time.monotonic() < deadline and all(worker.poll() is None for worker in workers), "no robots.txt"
                time.sleep(0.02)
            lock_ms = client.pttl(crawl_keys("site") + "robots-lock:" + base.removeprefix("http://"))
            for worker in workers:
                worker.kill()
                worker.communicate()
    finally:
        released.set()
        client.close()
    assert lock_ms > (RETRY_TIMES + 1) * DOWNLOAD_TIMEOUT * 1000, lock_ms


def test_a_host_that_asks_to_be_left_alone_gets_no_more_requests_from_any_worker(tmp_path, redis_url):
    """One worker gets a 429 whose Retry-After (2 h) is over RETRY_AFTER_MAX: no worker sends that host more this run,
    and one line says so.  Before, only that worker stopped; the other fetched the host's every other article."""
    results, arrivals, refused = throttled_cluster_crawl(tmp_path, redis_url, 7200)
    # A request another worker sent while the 429 was on its way back may arrive just after it.
    assert [path for moment, path, _ in arrivals if moment > refused + 0.5] == []
    said = [line for result in results for line in result.stderr.splitlines() if "asked to be left alone" in line]
    assert len(said) == 1, said
    assert "asked to be left alone for 2 h (HTTP 429 Retry-After)" in said[0], said


class RefusingSite(ThrottlingSite):
    """The farm's pages, whose article requests are held until one of every worker (told apart by its user
    agent) has come, 25 s at most, and then refused with 429 Retry-After: 2 h: the workers get the same 429 at once."""

    def __init__(self, articles: int, agents: set[str]):
        super().__init__(articles, retry_after=7200, slow=0)
        handler, site, seen = self.server.RequestHandlerClass, self, set()
        get = handler.do_GET

        def do_GET(request) -> None:
            if not request.path.startswith("/news/"):
                return get(request)
            seen.add(request.headers.get("User-Agent"))
            deadline = time.monotonic() + GATE_WAIT
            while not seen >= agents and time.monotonic() < deadline:
                time.sleep(0.05)
            site.arrivals.append((time.time(), request.path, 429))
            request.send_response(429)
            for name, value in {"Retry-After": "7200", "Content-Length": "0"}.items():
                request.send_header(name, value)
            request.end_headers()

        handler.do_GET = do_GET


def test_a_host_that_refuses_two_workers_at_once_is_said_to_want_to_be_left_alone_once(tmp_path, redis_url):
    """Two workers get the same 429 with Retry-After: 2 h at once: one line in both workers' logs together says the
    host asked to be left alone.  Before, each worker that got the 429 said so."""
    agents = {f"worker-{i}" for i in range(2)}
    with RefusingSite(120, agents) as site:
        # (places at the host for both: a worker holds at most 32 requests and 4 more)
        configs = [farm_config(tmp_path / agent, site, redis_url, user_agent=agent, concurrent_requests_per_domain=64)
                   for agent in sorted(agents)]
        results = run_workers(configs)
    for result in results:
        assert result.returncode == 0, result.stderr
        assert "HTTP 429, asked to retry after 2 h" in result.stderr  # (the test's premise: each got it)
    said = [line for result in results for line in result.stderr.splitlines() if "asked to be left alone" in line]
    assert len(said) == 1, said
    assert "asked to be left alone for 2 h (HTTP 429 Retry-After)" in said[0], said


class HeldRobotsSite(UnreachableRobotsSite):
    """Pages linking nowhere; the first robots.txt request is never answered (until ``released``), the next ones
    allow everything; each request's path and arrival are logged."""

    arrivals: list[tuple[float, str]]
    released: threading.Event

    def do_GET(self) -> None:
        self.arrivals.append((time.monotonic(), self.path))
        if self.path != "/robots.txt":
            return super().do_GET()
        if [path for _, path in self.arrivals].count("/robots.txt") == 1:
            self.released.wait(120)
            self.close_connection = True
            return
        body = b"User-agent: *\nAllow: /\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_a_worker_killed_while_fetching_robots_txt_does_not_hold_up_the_others(tmp_path, redis_url):
    """SIGKILL the worker that fetches a host's robots.txt (the site holds it) while another waits for its rules: the
    other takes the robots.txt lock over at once, as the dead worker's process is gone, and fetches the host's pages
    within seconds, each once.  Before, it waited for the lock to expire (every retry's timeout and a minute: 150 s)."""
    import redis

    arrivals: list[tuple[float, str]] = []
    released = threading.Event()
    handler = type("Site", (HeldRobotsSite,), {"requested": [], "arrivals": arrivals, "released": released})
    client = redis.Redis.from_url(redis_url)
    try:
        with loopback_site(handler) as base:
            configs = site_configs(tmp_path, base, redis_url)
            workers = [start_worker(config) for config in configs]
            lock = crawl_keys("site") + "robots-lock:" + base.removeprefix("http://")
            deadline = time.monotonic() + 60
            while not (arrivals and holding(redis_url, "site") >= 2):  # one fetches robots.txt, the other waits
                assert time.monotonic() < deadline and all(worker.poll() is None for worker in workers), "no robots.txt"
                time.sleep(0.02)
            holder = client.get(lock).decode()
            [victim] = [worker for worker in workers if str(worker.pid) in holder.split("-")]
            victim.kill()
            victim.communicate()
            killed = time.monotonic()
            [survivor] = [worker for worker in workers if worker is not victim]
            try:
                _, err = survivor.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                pytest.fail(f"the other worker had fetched {[path for _, path in arrivals]} 60 s after the kill")
    finally:
        released.set()
        client.close()
    assert survivor.returncode == 0, err
    pages = [(moment, path) for moment, path in arrivals if path.startswith("/page-")]
    assert pages and pages[0][0] - killed < 5, f"{pages[0][0] - killed:.0f} s"
    fetched = Counter(uri for uri, *_ in fetches([configs[workers.index(survivor)].parent]))
    assert fetched == Counter({f"{base}/page-{n}": 1 for n in range(8)} | {f"{base}/robots.txt": 1})
