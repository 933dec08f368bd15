"""Politeness kept over every worker of a shared crawl, not per process.

- ``ClusterDownloader``: before a request leaves a download slot, the host's turn is taken
  in Redis, in one script on the server's clock (workers' clocks may differ): no request
  until the host's Retry-After hold has passed, none sooner than the slot's delay (the
  configured delay as AutoThrottle and robots.txt Crawl-delay have set it) after the last
  request any worker sent it, and at most ``CONCURRENT_REQUESTS_PER_DOMAIN`` in flight over
  all workers (leases in a sorted set, each naming its worker's heartbeat key: a dead worker's
  lease frees once its heartbeat has gone, and any lease after the download timeout).  Taking the turn where the slot sends, rather than in a
  downloader middleware, makes the time granted the time the request goes out.  A 429/503
  with Retry-After holds the host for every worker; one whose wait is longer than
  ``RETRY_AFTER_MAX`` leaves the host alone for every worker (``HostLeftAlone``) for that wait or the rest
  of the crawl, whichever ends first: the worker that got it says so in one line (crawler/politeness.py),
  and the others send the host nothing more (before, each learnt it for itself, from a 429 of its own).
- ``SharedRetryAfterMiddleware``: of workers that got such a 429 at once, the first says so (HSETNX in the
  crawl's run hash): one line per host and crawl over the cluster, not one per worker.
- ``SharedRobotsTxtMiddleware``: one worker fetches (and archives) a host's robots.txt per
  crawl; the others read its rules from Redis and parse them as if they had fetched it.  A
  robots.txt unreachable (a 5xx, a timeout, a network error) is shared with why: every worker
  says so in one line, and its pages there are failed fetches, as on one machine
  (crawler/robots.py); none fetches it again and waits out the same timeouts.  The lock names its worker: one
  taken for dead (its heartbeat gone, or its process gone on this machine) is taken over at once, not waited
  out (a worker killed while fetching robots.txt held up every other at that host for 150 s).
"""

from __future__ import annotations

import asyncio
import itertools

import redis
from scrapy import Request
from scrapy.core.downloader import Slot
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from archive.redis_state import redis_client
from crawler.cluster import forget_gone_processes
from crawler.politeness import HostLeftAlone, RetryAfterMiddleware, SlotConcurrencyDownloader, retry_after_seconds
from crawler.robots import DISALLOW_ALL, ConcurrentSafeRobotsTxtMiddleware, robots_rules

HOST_PREFIX = "newsarchive:host:"
FULL_POLL = 0.25  # seconds between asks while every place at a host is taken (by other workers)

# KEYS: last start, hold until, leases, the crawl's run hash; ARGV: delay ms, concurrency, token, lease ms, the
# run hash's field of the host's left-alone time.  Returns 0 (go; the turn is taken), -1 (every place taken),
# -2 (the host is left alone), else milliseconds to wait before asking again.
_TURN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if tonumber(redis.call('HGET', KEYS[4], ARGV[5]) or '0') > now then return -2 end
local hold = tonumber(redis.call('GET', KEYS[2]) or '0')
if hold > now then return hold - now end
local wait = tonumber(redis.call('GET', KEYS[1]) or '0') + tonumber(ARGV[1]) - now
if wait > 0 then return wait end
local limit = tonumber(ARGV[2])
if limit > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  if redis.call('ZCARD', KEYS[3]) >= limit then
    -- A lease is "<its worker's alive key>|<n>": a dead worker's place frees now, not at the lease's expiry.
    for _, lease in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
      local alive = string.match(lease, '^(.*)|')
      if alive and redis.call('EXISTS', alive) == 0 then redis.call('ZREM', KEYS[3], lease) end
    end
    if redis.call('ZCARD', KEYS[3]) >= limit then return -1 end
  end
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[4]), ARGV[3])
  redis.call('PEXPIRE', KEYS[3], ARGV[4])
end
redis.call('SET', KEYS[1], now, 'PX', math.max(tonumber(ARGV[1]), 1) + 60000)
return 0
"""
# KEYS: hold until; ARGV: milliseconds from now
_HOLD = """
local t = redis.call('TIME')
local hold = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
if hold > tonumber(redis.call('GET', KEYS[1]) or '0') then redis.call('SET', KEYS[1], hold, 'PX', ARGV[1]) end
"""
# Take a host's robots.txt lock, free or held by a worker taken for dead (its alive key gone).  KEYS: the lock;
# ARGV: this worker, lock ms, the crawl's key prefix.  Returns 1 if taken.
_TAKE_LOCK = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
local holder = redis.call('GET', KEYS[1])
if holder and redis.call('EXISTS', ARGV[3] .. 'alive:' .. holder) == 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
# KEYS: the crawl's run hash (gone with the crawl); ARGV: the host's left-alone field, milliseconds from now
_LEAVE_ALONE = """
local t = redis.call('TIME')
local ends = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[2])
if ends > tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') then redis.call('HSET', KEYS[1], ARGV[1], ends) end
"""


def _client(crawler: Crawler) -> redis.Redis:
    return redis_client(crawler.settings.get("NEWSARCHIVE_REDIS_URL"))


class ClusterDownloader(SlotConcurrencyDownloader):
    """Our downloader, each request waiting for its host's turn over the whole cluster (see above)."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.server = _client(crawler)
        self._take_turn = self.server.register_script(_TURN)
        self._hold = self.server.register_script(_HOLD)
        self._leave_alone = self.server.register_script(_LEAVE_ALONE)
        # No download outlives its timeout; a killed worker's places free themselves a little after.
        self.lease_ms = int((crawler.settings.getfloat("DOWNLOAD_TIMEOUT") + 5) * 1000)
        self.max_wait = crawler.settings.getfloat("RETRY_AFTER_MAX", 600.0)
        self.stats = crawler.stats
        self._leases: dict[Request, tuple[str, str]] = {}  # request -> (leases key, token)
        self._full: set[Slot] = set()  # slots waiting for a place at their host
        self._numbers = itertools.count()

    def _host(self, request: Request) -> str:
        return HOST_PREFIX + self.get_slot_key(request) + ":"

    def _turn(self, slot: Slot) -> float | None:
        request = slot.queue[0][0]
        worker = self.crawler.spider.cluster
        host, token = self._host(request), f"{worker.alive}|{next(self._numbers)}"
        self.stats.inc_value("cluster/host_turn_asks")
        self._full.discard(slot)
        wait_ms = 0  # without Redis the crawl is closing: what this worker holds goes by its own politeness
        with worker.reaching():
            wait_ms = self._take_turn(keys=[host + "last", host + "hold", host + "leases", worker.run],
                                      args=[int(slot.delay * 1000), slot.concurrency, token, self.lease_ms,
                                            self._left_alone_field(request)])
        if wait_ms == -2:  # another worker was asked to leave the host alone: said there
            self.stats.inc_value("politeness/left_alone_not_sent")
            slot.queue.popleft()[1].errback(HostLeftAlone(self.get_slot_key(request)))
            return None
        if wait_ms < 0:  # every place taken: asked again when one of ours frees, or after FULL_POLL
            self._full.add(slot)
            return FULL_POLL
        if wait_ms:
            return wait_ms / 1000
        self._leases[request] = (host + "leases", token)
        return 0.0

    async def _download(self, slot: Slot, request: Request) -> Response:
        try:
            response = await super()._download(slot, request)
        finally:
            lease = self._leases.pop(request, None)
            if lease is not None:
                with self.crawler.spider.cluster.reaching():
                    self.server.zrem(*lease)
                # Scrapy looked at the queue before the place was given back: look again now.
                if slot in self._full and slot.latercall is not None:
                    slot.latercall.cancel()
                    slot.latercall = None
                    self._process_queue(slot)
        if response.status in (429, 503):
            seconds = retry_after_seconds(response.headers.get("Retry-After"))
            worker = self.crawler.spider.cluster
            if seconds is not None and 0 < seconds <= self.max_wait:
                with worker.reaching():
                    self._hold(keys=[self._host(request) + "hold"], args=[int(seconds * 1000)])
            elif seconds is not None and seconds > self.max_wait:
                with worker.reaching():
                    self._leave_alone(keys=[worker.run], args=[self._left_alone_field(request), int(seconds * 1000)])
        return response

    def _left_alone_field(self, request: Request) -> str:
        return "left-alone:" + self.get_slot_key(request)


class SharedRetryAfterMiddleware(RetryAfterMiddleware):
    """``RetryAfterMiddleware`` whose line about a host asking to be left alone is said by one worker of the crawl."""

    say_with_none_held = True  # the other workers held theirs back, and say nothing

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.server = _client(crawler)

    def _first_to_say(self, key: str) -> bool:
        worker = self.crawler.spider.cluster
        first = True  # without Redis the crawl is closing: better said twice than never
        with worker.reaching():
            first = bool(self.server.hsetnx(worker.run, "left-alone-said:" + key, 1))
        return first


class SharedRobotsTxtMiddleware(ConcurrentSafeRobotsTxtMiddleware):
    """robots.txt once per host and crawl over all workers: the first to need it takes a lock and fetches it."""

    POLL = 0.2

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.server = _client(crawler)
        # The lock outlasts the slowest fetch of robots.txt (every retry's timeout, and a minute), so no other
        # worker takes it over and waits out the same timeouts again; a killed worker's frees itself.
        settings = crawler.settings
        attempts = settings.getint("RETRY_TIMES") + 1
        self.lock_ms = int((settings.getfloat("DOWNLOAD_TIMEOUT") * attempts + 60) * 1000)
        self._take_lock = self.server.register_script(_TAKE_LOCK)

    def _keys(self, netloc: str) -> tuple[str, str]:
        """The crawl's hash of robots.txt bodies (cleared with the crawl), and the lock on this host's."""
        worker = self.crawler.spider.cluster
        return worker.robots, worker.prefix + "robots-lock:" + netloc

    @staticmethod
    def _unreachable_field(netloc: str) -> str:
        """The rules hash's field saying why ``netloc``'s robots.txt was unreachable (no netloc has a space)."""
        return netloc + " unreachable"

    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        if netloc not in self._parsers:
            shared = await self._shared_rules(netloc)
            if shared is not None and netloc not in self._parsers:  # (no other request of ours read it meanwhile)
                body, unreachable = shared
                self._parsers[netloc] = Deferred()
                if unreachable is not None:
                    self._disallow_all(netloc, unreachable.decode())
                url = f"{urlparse_cached(request).scheme}://{netloc}/robots.txt"
                await super()._parse_robots(Response(url, body=body, request=request), netloc, request)
        return await super().robot_parser(request)

    async def _shared_rules(self, netloc: str) -> tuple[bytes, bytes | None] | None:
        """The rules another worker stored and why robots.txt was unreachable if it was, or None once this
        worker holds the lock to fetch it itself."""
        rules, lock = self._keys(netloc)
        worker = self.crawler.spider.cluster
        while not worker.lost:
            with worker.reaching():
                body, unreachable = self.server.hmget(rules, [netloc, self._unreachable_field(netloc)])
                if body is not None:
                    self._stats.inc_value("cluster/robots_shared")
                    return body, unreachable
                if self._take_lock(keys=[lock], args=[worker.id, self.lock_ms, worker.prefix]):
                    return None
                forget_gone_processes(self.server, worker.prefix)  # a holder killed here: taken over next time
            if netloc in self._parsers:  # this worker began fetching it meanwhile
                return None
            await asyncio.sleep(self.POLL)
        return None

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        await super()._parse_robots(response, netloc, request)
        self._share(netloc, robots_rules(response, self.max_size)[0])

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        super()._robots_error(exc, netloc)
        self._share(netloc, DISALLOW_ALL)

    def _share(self, netloc: str, rules: bytes) -> None:
        """Give the other workers ``netloc``'s rules, and why its robots.txt was unreachable if it was; free the lock."""
        shared_rules, lock = self._keys(netloc)
        shared = {netloc: rules}
        if netloc in self._unreachable:
            shared[self._unreachable_field(netloc)] = self._unreachable[netloc]
        with self.crawler.spider.cluster.reaching():
            self.server.pipeline(transaction=True).hset(shared_rules, mapping=shared).delete(lock).execute()
