"""Whether an archive registered in a cluster's Redis is served: its machine's schedule service or a run of it is up.

A worker's heartbeat lasts only as long as its crawl, so a machine whose service waits for the next fire time looked
gone, and ``check --forget-archive`` on another machine dropped its registration.  Each long-running process of an
archive (``newsarchive schedule``, and ``newsarchive run`` for its whole run) renews its entry in a sorted set of the
archive's, scored by when it expires on Redis's clock; one that stops takes its entry out, and one killed is taken for
gone ``PRESENCE_TTL`` s later.  Kept apart from ``cluster_sources`` so that the service does not load Scrapy.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

logger = logging.getLogger(__name__)

PRESENT = "newsarchive:present:"  # + archive: its serving processes, scored by when each one's entry expires (ms)
PRESENCE_TTL = 30.0  # seconds an entry lasts without being renewed
PRESENCE_BEAT = 10.0  # seconds between renewals

_NOW = """
local now = redis.call('TIME')
local ms = now[1] * 1000 + math.floor(now[2] / 1000)
"""
# Renew (ARGV[2] > 0) or take out (ARGV[2] == 0) this process's entry.  KEYS: the archive's set; ARGV: process, ttl ms.
_BEAT = _NOW + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms)
if tonumber(ARGV[2]) > 0 then
  redis.call('ZADD', KEYS[1], ms + tonumber(ARGV[2]), ARGV[1])
else
  redis.call('ZREM', KEYS[1], ARGV[1])
end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if #last > 0 then redis.call('PEXPIREAT', KEYS[1], last[2]) end
"""
_LIVE = _NOW + "return redis.call('ZCOUNT', KEYS[1], '(' .. ms, '+inf')"


def archive_id(archive_dir: Path) -> str:
    """This archive among those sharing the cluster: its machine and directory (workers' host names differ)."""
    return f"{socket.gethostname()}:{Path(archive_dir).resolve()}"


def archive_live(client: redis.Redis, archive: str) -> int:
    """How many processes serve ``archive`` (an ``archive_id``) now: its schedule service, its runs."""
    return client.register_script(_LIVE)(keys=[PRESENT + archive])


@contextmanager
def present(archive_dir: Path, redis_url: Callable[[], str | None]) -> Iterator[None]:
    """While the block runs, this process says in the cluster's Redis (``redis_url()``, asked at each renewal: a
    reloaded config may change it; None: no cluster) that it serves ``archive_dir``.  A Redis out of reach is not this
    process's business: the crawls say so; its entry expires."""
    me, stop = archive_id(archive_dir), threading.Event()
    thread = threading.Thread(target=_beat, args=(me, redis_url, stop), name="cluster-presence", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def _beat(archive: str, redis_url: Callable[[], str | None], stop: threading.Event) -> None:
    process, url, client, beat = f"{socket.gethostname()}-{os.getpid()}", None, None, None
    try:
        while True:
            if redis_url() != url:
                if client is not None:
                    client.close()
                url = redis_url()
                client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5) if url else None
                beat = client.register_script(_BEAT) if client is not None else None  # once per client, not per beat
            ending = stop.is_set()
            if beat is not None:
                try:
                    beat(keys=[PRESENT + archive], args=[process, 0 if ending else int(PRESENCE_TTL * 1000)])
                except redis.RedisError as exc:
                    logger.debug("could not say in the cluster's Redis that %s is served: %s", archive, exc)
            if ending:
                return
            stop.wait(PRESENCE_BEAT)
    finally:
        if client is not None:
            client.close()
