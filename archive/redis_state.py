"""``CrawlState`` in Redis: the crawl state every crawler machine of a cluster shares.

The same few operations as ``SqliteState``, each one atomic on the server, so a payload
archived by one worker is a revisit for every other, validators sent by one are known to
all, and a source's back-off counts its runs wherever they ran.  Values are JSON in four
hashes (URLs, payloads, sitemaps, sources), plus one hash of first-seen times (kept with HSETNX, as
the SQLite upsert keeps its column).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from functools import wraps

import redis

from archive.check import StateDamaged
from archive.state import ArchivedPayload, SitemapRead, SourceHealth, UrlState, backoff_seconds

PREFIX = "newsarchive:state:"
URLS, FIRST_SEEN, PAYLOADS, SITEMAPS, SOURCES = (
    PREFIX + name for name in ("urls", "first-seen", "payloads", "sitemaps", "sources"))


def _recorded_at(record: dict, warc_file: str, offset: int) -> bool:
    return record.get("warc_file") == warc_file and (record.get("warc_offset") or 0) >= offset


class StateUnreachable(StateDamaged, OSError):
    """The cluster's Redis does not answer; the message names it.

    Before a run it stops the run (one line, exit code 1); during one it is the kind of fault a
    full disk is (an ``OSError``): the capture it hit is not archived, said in one line."""


DOWN_FOR = 60.0  # seconds a Redis that let a call time out is taken as down, its calls failing at once


class FailFastConnection(redis.Connection):
    """A connection that fails at once, for ``DOWN_FOR`` seconds, to a Redis that let a call of this process time out.

    A Redis that stops answering without refusing (frozen, or cut off by the network) holds every call for the whole
    socket timeout, and a crawl that closes because of it makes hundreds more (in flight, state, politeness): the run
    never ended.  A refused connection fails at once anyway."""

    _down_until: dict[tuple[str, int], float] = {}  # (host, port) -> time.monotonic() until which it is down

    def _check_up(self) -> None:
        if time.monotonic() < self._down_until.get((self.host, self.port), 0.0):
            raise redis.ConnectionError(f"{self.host}:{self.port} let a call time out after {self.socket_timeout:g} s; "
                                        f"not asked again for {DOWN_FOR:g} s")

    def _timed_out(self) -> None:
        self._down_until[(self.host, self.port)] = time.monotonic() + DOWN_FOR

    def connect_check_health(self, *args, **kwargs):
        self._check_up()
        try:
            return super().connect_check_health(*args, **kwargs)
        except redis.TimeoutError:
            self._timed_out()
            raise

    def send_packed_command(self, *args, **kwargs):
        self._check_up()
        return super().send_packed_command(*args, **kwargs)

    def read_response(self, *args, **kwargs):
        try:
            return super().read_response(*args, **kwargs)
        except redis.TimeoutError:
            self._timed_out()
            raise


def redis_client(url: str) -> redis.Redis:
    """A client for the cluster's Redis whose calls fail at once while it is down (``FailFastConnection``)."""
    return redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10, retry_on_timeout=True,
                                connection_class=FailFastConnection)


def connect(url: str) -> redis.Redis:
    """A client for the cluster's Redis, checked with one PING (``StateUnreachable`` if it does not answer)."""
    client = redis_client(url)
    with unreachable_as_state_error(url):
        client.ping()
    return client


@contextmanager
def unreachable_as_state_error(url: str) -> Iterator[None]:
    try:
        yield
    except redis.RedisError as exc:
        raise StateUnreachable(f"cannot reach the cluster's Redis at {url}: {exc}") from None


def _reaching(method):
    @wraps(method)
    def reaching(self: RedisState, *args, **kwargs):
        with unreachable_as_state_error(self.address):
            return method(self, *args, **kwargs)
    return reaching


class RedisState:
    """``CrawlState`` on a Redis server shared by the crawler machines."""

    def __init__(self, url: str):
        self.address = url
        self._redis = connect(url)

    @_reaching
    def url(self, url: str) -> UrlState | None:
        pipe = self._redis.pipeline(transaction=False)
        pipe.hget(URLS, url).hget(FIRST_SEEN, url)
        fetch, first_seen = pipe.execute()
        if fetch is None:
            return None
        values = json.loads(fetch)
        return UrlState(url=url, first_seen=float(first_seen or values["last_fetched"]), **values)

    @_reaching
    def record_fetch(self, fetch: UrlState) -> None:
        values = asdict(fetch)
        url, first_seen = values.pop("url"), values.pop("first_seen")
        pipe = self._redis.pipeline(transaction=True)
        pipe.hsetnx(FIRST_SEEN, url, repr(first_seen)).hset(URLS, url, json.dumps(values))
        pipe.execute()

    @_reaching
    def payload(self, digest: str) -> ArchivedPayload | None:
        value = self._redis.hget(PAYLOADS, digest)
        return ArchivedPayload(**json.loads(value)) if value else None

    @_reaching
    def add_payload(self, payload: ArchivedPayload) -> None:
        self._redis.hsetnx(PAYLOADS, payload.digest, json.dumps(asdict(payload)))

    @_reaching
    def forget_from(self, warc_file: str, offset: int) -> list[tuple[str, str]]:
        """Forget the fetches and payloads recorded at ``offset`` of ``warc_file`` or after (bytes lost), and the
        fetches whose payload was recorded there (as ``SqliteState.forget_from``), so that the next run fetches
        those URLs whole; the (source, URL) of each fetch forgotten.

        The hashes are keyed by URL and digest, so this reads them through (HSCAN): it runs only
        after a power cut left a torn WARC, and an index by WARC would cost every fetch a write.
        (A URL another worker fetches again meanwhile may be forgotten too: it costs one fetch.)
        """
        lost = {PAYLOADS: {field: record for field, value in self._redis.hscan_iter(PAYLOADS, count=1000)
                           if _recorded_at(record := json.loads(value), warc_file, offset)}}
        digests = {field.decode() for field in lost[PAYLOADS]}
        lost[URLS] = {field: record for field, value in self._redis.hscan_iter(URLS, count=1000)
                      if _recorded_at(record := json.loads(value), warc_file, offset)
                      or record.get("payload_digest") in digests}
        for key, records in lost.items():
            fields = list(records)
            for start in range(0, len(fields), 1000):
                pipe = self._redis.pipeline(transaction=True)
                pipe.hdel(key, *fields[start:start + 1000])
                if key == URLS:
                    pipe.hdel(FIRST_SEEN, *fields[start:start + 1000])
                pipe.execute()
        return [(record["source"], url.decode()) for url, record in lost[URLS].items()]

    @_reaching
    def sitemap_reads(self, urls: list[str]) -> dict[str, SitemapRead]:
        values = self._redis.hmget(SITEMAPS, urls) if urls else []
        return {url: SitemapRead(**json.loads(value)) for url, value in zip(urls, values) if value}

    @_reaching
    def record_sitemap_reads(self, reads: list[SitemapRead]) -> None:
        if reads:
            self._redis.hset(SITEMAPS, mapping={read.url: json.dumps(asdict(read)) for read in reads})

    @_reaching
    def source_health(self, name: str) -> SourceHealth:
        value = self._redis.hget(SOURCES, name)
        return SourceHealth(**json.loads(value)) if value else SourceHealth(name)

    @_reaching
    def record_source_outcome(self, name: str, ok: bool, error: str | None = None,
                              now: float | None = None) -> SourceHealth:
        now = time.time() if now is None else now
        with self._redis.pipeline(transaction=True) as pipe:  # WATCH: two workers ending at once count twice
            while True:
                try:
                    pipe.watch(SOURCES)
                    if ok:
                        health = SourceHealth(name)
                    else:
                        previous = pipe.hget(SOURCES, name)
                        failures = (json.loads(previous)["consecutive_failures"] if previous else 0) + 1
                        pause = backoff_seconds(failures)
                        health = SourceHealth(name, failures, None if pause is None else now + pause, error)
                    pipe.multi()
                    pipe.hset(SOURCES, name, json.dumps(asdict(health)))
                    pipe.execute()
                    return health
                except redis.WatchError:
                    continue

    def close(self) -> None:
        self._redis.close()
