"""One crawl of a source shared by any number of crawler processes, on any machines, through Redis.

The frontier is scrapy-redis's: its scheduler, its priority queue (a sorted set of pickled
requests) and its duplicate filter (a set of request fingerprints), persisted, under keys of
the source (``newsarchive:crawl:<source>:...``).  We use them with our own spider, not
scrapy-redis's spider mixin, which still relies on ``start_requests()`` (gone in Scrapy 2.16;
rmax/scrapy-redis#305, #317).  Three things scrapy-redis does not do are added here, each in a
Lua script so that it is one atomic step on the server:

- **First found, first fetched.**  scrapy-redis scores a request by its priority alone, and a
  sorted set orders equal scores by their bytes: a crawl cut short by ``max_pages`` took
  arbitrary stories, not a sitemap's newest.  The score here is the priority, then a number
  of the crawl (INCR) in the order requests arrive, as one machine's FIFO queues fetch them.
- **Nothing lost when a worker dies.**  scrapy-redis's ``pop`` removes a request from the
  queue, so a worker killed between pop and response loses it.  ``ReliableQueue.pop`` moves
  the request into the worker's in-flight hash instead; it leaves that hash only when the
  request is finished: its callback has run to the end (every request it led to is in the
  queue by then) and its response's records are written, its errback has run, or it went back
  to the queue (a redirect, a retry).
  Each worker keeps an ``alive`` key with a short TTL; any worker that finds a registered
  worker's key expired puts that worker's in-flight requests back in the queue.  A request
  whose response was archived but whose callback had not finished is fetched again by
  another worker: at least once, never lost.
- **One duplicate check and push.**  The dupefilter's SADD and the queue's ZADD happen in one
  script, so a kill between them cannot mark a URL seen that is in no queue.

A crawl ends for a worker when the queue is empty and no live worker holds a request in
flight (another worker's page may still lead to more).  The first worker of a run (no other
worker registered) pushes the seeds, in the same script, so two workers starting at once
seed it once; a worker that finds the crawl going joins it.  A worker stopped on request
puts its in-flight requests back (and one that its own ``max_pages`` keeps it from fetching goes back
to its place at once, for the others); the last worker out of a finished crawl removes its keys,
and one of an unfinished crawl (every worker stopped) leaves its queue and fingerprints for
the next run, which carries on with them after its own seeds.  The seeds read, by any worker, judge the
source only when the worker leaving is the last, or leaves nothing queued or in flight: until then another may
still read one.  A worker holds at most
``BACKLOG`` requests it has not started (Scrapy would take 32), so the others get theirs.  A
worker that loses Redis closes its crawl (the source fails, in one line); what it held in
flight waits in Redis for the others, or the next run, to find it gone.

The scripts build key names from a prefix, so this wants one Redis server, not Redis Cluster.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

import redis
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.utils.defer import _schedule_coro
from scrapy.utils.misc import load_object
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet import defer, task
from twisted.python.failure import Failure

from archive.redis_state import FailFastConnection, redis_client
from crawler.bounds import PageBudgetSpent
from crawler.capture import STATE_LOST, STOPPING, archiving, response_archived
from crawler.requisite_hold import requisite_waits
from crawler.spiders.news import SEEDS_SETTLED, SHARED_CRAWL_ENDED, NewsSpider

logger = logging.getLogger(__name__)

KEY_PREFIX = "newsarchive:crawl:"
LOST = STATE_LOST  # the finish reason of a crawl whose worker lost Redis
INFLIGHT = "newsarchive_inflight"  # request.meta: this request's field in its worker's in-flight hash
_FINISHED = "newsarchive_finished"  # request.meta: its callback has run; it waits for its response's records
SEED_OK = "newsarchive/seed_ok"
BACKLOG = 4  # requests a worker holds without having started them (the rest stay in the queue for others)
WORKER_TTL = 10.0  # seconds without a heartbeat after which a worker counts as dead
RECORDS_WAIT = 60.0  # seconds a closing worker waits for the records of the requests it finished (then they go back)
# Arrivals a crawl numbers within one priority: scores stay exact doubles for |priority| < 2**21.
ARRIVALS = 2**32

# Put every in-flight request of each dead worker (its alive key expired) back in the queue.
# KEYS: workers, queue; ARGV: key prefix, this worker.  Fields are "<score>|<n>".
_RECOVER = """
local moved = 0
for _, w in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if w ~= ARGV[2] and redis.call('EXISTS', ARGV[1] .. 'alive:' .. w) == 0 then
    local inflight = ARGV[1] .. 'inflight:' .. w
    local entries = redis.call('HGETALL', inflight)
    for i = 1, #entries, 2 do
      redis.call('ZADD', KEYS[2], string.match(entries[i], '^[^|]+'), entries[i + 1])
      moved = moved + 1
    end
    redis.call('DEL', inflight)
    redis.call('SREM', KEYS[1], w)
  end
end
"""
# Requests queued plus requests in flight at the registered workers but ``me``.
_PENDING_AT_OTHERS = """
local function pending_at_others(workers, queue, prefix, me)
  local pending = redis.call('ZCARD', queue)
  for _, w in ipairs(redis.call('SMEMBERS', workers)) do
    if w ~= me then pending = pending + redis.call('HLEN', prefix .. 'inflight:' .. w) end
  end
  return pending
end
"""
# KEYS: workers, queue; ARGV: key prefix, this worker.
_PENDING = _RECOVER + _PENDING_AT_OTHERS + """
return {pending_at_others(KEYS[1], KEYS[2], ARGV[1], ARGV[2]), moved}
"""
# Put this worker's in-flight requests back in the queue.  KEYS: queue, inflight.
_MOVE_OWN_BACK = """
local entries = redis.call('HGETALL', KEYS[2])
for i = 1, #entries, 2 do
  redis.call('ZADD', KEYS[1], string.match(entries[i], '^[^|]+'), entries[i + 1])
end
redis.call('DEL', KEYS[2])
"""
_REQUEUE_OWN = _MOVE_OWN_BACK + "return #entries / 2"
# Put one in-flight request back where it was in the queue.  KEYS: queue, inflight; ARGV: its field.
_GIVE_BACK = """
local request = redis.call('HGET', KEYS[2], ARGV[1])
if request then
  redis.call('ZADD', KEYS[1], string.match(ARGV[1], '^[^|]+'), request)
  redis.call('HDEL', KEYS[2], ARGV[1])
end
"""
# KEYS: workers, queue, alive, seen, run, robots, arrivals; ARGV: prefix, me, ttl ms, run id, seed requests...
_JOIN = _RECOVER + """
local others = redis.call('SCARD', KEYS[1]) - redis.call('SISMEMBER', KEYS[1], ARGV[2])
local new = others == 0
if new then
  -- A new run: fresh robots.txt rules and seeds; a finished crawl's fingerprints go, an
  -- unfinished one's stay with its queue (the new run carries on with it).
  if redis.call('ZCARD', KEYS[2]) == 0 then redis.call('DEL', KEYS[4], KEYS[7]) end
  redis.call('DEL', KEYS[5], KEYS[6])
  redis.call('HSET', KEYS[5], 'id', ARGV[4], 'seed_ok', 0)
  -- Seeds (priority 0) go ahead of what an unfinished crawl left at that priority, in their order.
  for i = 5, #ARGV do redis.call('ZADD', KEYS[2], i - 1 - #ARGV, ARGV[i]) end
end
redis.call('SADD', KEYS[1], ARGV[2])
redis.call('SET', KEYS[3], '1', 'PX', ARGV[3])
return {new and 1 or 0, moved}
"""
# KEYS: queue, seen, inflight, arrivals; ARGV: request, -priority, fingerprint ('' for dont_filter), in-flight
# field it replaces.  The score is -priority * ARRIVALS + the arrival number: first come, first out at a priority.
_ENQUEUE = """
if ARGV[4] ~= '' then redis.call('HDEL', KEYS[3], ARGV[4]) end
if ARGV[3] ~= '' and redis.call('SADD', KEYS[2], ARGV[3]) == 0 then return 0 end
local arrival = redis.call('INCR', KEYS[4])
redis.call('ZADD', KEYS[1], tonumber(ARGV[2]) * %d + arrival, ARGV[1])
return 1
""" % ARRIVALS
# KEYS: queue, inflight; ARGV: a number unique in this worker
_POP = """
local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #head == 0 then return false end
redis.call('ZREM', KEYS[1], head[1])
local field = head[2] .. '|' .. ARGV[1]
redis.call('HSET', KEYS[2], field, head[1])
return {field, head[1]}
"""
# KEYS: queue, inflight, workers, alive, seen, run, robots, arrivals; ARGV: me, key prefix.  Returns
# {1 if the crawl is over and cleared, 1 if no other worker is registered, requests left, seeds read (by any worker)}.
_LEAVE = _MOVE_OWN_BACK + _PENDING_AT_OTHERS + """
redis.call('DEL', KEYS[4])
redis.call('SREM', KEYS[3], ARGV[1])
local last = redis.call('SCARD', KEYS[3]) == 0
local left = pending_at_others(KEYS[3], KEYS[1], ARGV[2], ARGV[1])
local seeds_ok = tonumber(redis.call('HGET', KEYS[6], 'seed_ok') or 0)
local cleared = last and left == 0
if cleared then redis.call('DEL', KEYS[5], KEYS[6], KEYS[7], KEYS[8]) end
return {cleared and 1 or 0, last and 1 or 0, left, seeds_ok}
"""

def crawl_keys(source: str) -> str:
    return f"{KEY_PREFIX}{source}:"


def cluster_settings(redis_url: str, source: str) -> dict:
    """What settings change to make a crawl of ``source`` one worker of the crawl shared through ``redis_url``."""
    keys = crawl_keys(source)
    return {
        "REDIS_URL": redis_url,
        "NEWSARCHIVE_REDIS_URL": redis_url,
        "SCHEDULER": "crawler.cluster.ClusterScheduler",
        "SCHEDULER_PERSIST": True,  # other workers go on with the queue; the last one out clears it
        "SCHEDULER_QUEUE_CLASS": "crawler.cluster.ReliableQueue",
        "SCHEDULER_QUEUE_KEY": keys + "requests",
        "SCHEDULER_DUPEFILTER_KEY": keys + "seen",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "REDIS_PARAMS": {"connection_class": FailFastConnection},  # scrapy-redis's scheduler and dupefilter
        "DOWNLOADER": "crawler.cluster_politeness.ClusterDownloader",
    }


def forget_seen(redis_url: str, fetches: Iterable[tuple[str, str]]) -> None:
    """Let the shared crawls find again the URLs whose fetches recovery forgot (``(source, URL)``, cut
    from a torn WARC): their fingerprints leave their crawl's seen set, which an unfinished crawl
    keeps for the workers that go on with it, and which would filter them out as fetched."""
    from archive.redis_state import connect, unreachable_as_state_error
    from scrapy_redis.dupefilter import RFPDupeFilter

    client = connect(redis_url)
    try:
        with unreachable_as_state_error(redis_url):
            for source, url in fetches:
                seen = RFPDupeFilter(client, crawl_keys(source) + "seen")
                client.srem(seen.key, seen.request_fingerprint(Request(url)))
    finally:
        client.close()


def process_gone(worker: str) -> bool:
    """Whether the worker ``worker`` (a ``ClusterWorker.id``) ran on this machine and its process has ended (a
    process id taken again since is taken for the worker: its heartbeat's expiry tells then)."""
    host, pid, _ = worker.rsplit("-", 2)
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's process
        return False
    return False


def forget_gone_processes(server: redis.Redis, prefix: str) -> int:
    """Take the workers of the crawl at ``prefix`` registered from this machine whose process is gone (killed, or
    ended by a lost Redis) for dead now, not once their heartbeat expires: their in-flight requests go back at once
    and their places at hosts free themselves (a rerun right after a kill waited out both, 40 s).  How many."""
    gone = [worker.decode() for worker in server.smembers(prefix + "workers") if process_gone(worker.decode())]
    return server.delete(*(prefix + f"alive:{worker}" for worker in gone)) if gone else 0


class Departure(NamedTuple):
    """What a worker leaving a shared crawl leaves behind, in one step on the server."""

    cleared: bool  # the crawl is over: its keys are gone
    last: bool  # no other worker is registered
    left: int  # requests queued or in flight at the others
    seeds_ok: int  # the crawl's seeds fetched and read, by any worker

    @property
    def seeds_settled(self) -> bool:
        """Whether ``seeds_ok`` is the crawl's last word: no other worker can still read a seed."""
        return self.last or not self.left


class ClusterWorker:
    """This process's part in the shared crawl of one source: registration, heartbeat, in-flight requests."""

    def __init__(self, crawler: Crawler, server: redis.Redis, source: str, ttl: float = WORKER_TTL):
        self.crawler = crawler
        self.server = server
        self.source = source
        self.prefix = crawl_keys(source)
        self.id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.ttl_ms = int(ttl * 1000)
        self.workers, self.run, self.robots, self.arrivals = (
            self.prefix + name for name in ("workers", "run", "robots", "arrivals"))
        self.alive, self.inflight = self.prefix + f"alive:{self.id}", self.prefix + f"inflight:{self.id}"
        crawler.signals.connect(self._archived, signal=response_archived)
        self.waiting_for_records = 0  # requests finished but for their responses' records
        self._records_written: list[defer.Deferred] = []  # fired when none waits any more
        self._pending = server.register_script(_PENDING)
        self._join = server.register_script(_JOIN)
        self._leave = server.register_script(_LEAVE)
        self._requeue_own = server.register_script(_REQUEUE_OWN)
        self._give_back = server.register_script(_GIVE_BACK)
        self.recovered = 0
        self.joined = False
        self.lost = False  # the cluster's Redis stopped answering: this worker's crawl is closing
        self.queue: ReliableQueue  # set by the scheduler when it opens

    @contextmanager
    def reaching(self) -> Iterator[None]:
        """Around this worker's Redis calls: if Redis stops answering, the worker closes its crawl (said
        in one line; ``LOST`` is the crawl's finish reason, so the run counts the source as failed).
        What it had in flight stays in Redis, and goes back to the queue once the others find it gone."""
        try:
            yield
        except redis.RedisError as exc:
            if not self.lost:
                self.lost = True
                if not self.crawler.stats.get_value(STOPPING):  # else the archive writer found it first, and said so
                    self.crawler.stats.set_value(STOPPING, LOST)
                    logger.error("%s: the cluster's Redis is unreachable (%s); this worker stops crawling",
                                 self.source, exc)
                _schedule_coro(self.crawler.engine.close_spider_async(reason=LOST))

    def heartbeat(self) -> None:
        """Say this worker is alive (again, once it has joined: a worker once taken for dead re-registers); not
        once Redis is lost: a Redis that stopped answering holds each call for its whole timeout."""
        if not self.joined or self.lost:
            return
        pipe = self.server.pipeline(transaction=True)
        pipe.set(self.alive, "1", px=self.ttl_ms).sadd(self.workers, self.id)
        pipe.execute()

    def join(self, seeds: list[Request]) -> bool:
        """Join the crawl; True if this worker began it (and pushed ``seeds``)."""
        queue = self.queue
        self.joined = True
        forget_gone_processes(self.server, self.prefix)
        new, moved = self._join(keys=[self.workers, queue.key, self.alive, queue.seen_key, self.run, self.robots,
                                      self.arrivals],
                                args=[self.prefix, self.id, self.ttl_ms, uuid.uuid4().hex,
                                      *(queue._encode_request(request) for request in seeds)])
        self._said_recovered(moved)
        return bool(new)

    def pending(self, queue_key: str) -> int:
        """Requests queued or in flight anywhere; dead workers' in-flight requests are queued again first."""
        pending, moved = self._pending(keys=[self.workers, queue_key], args=[self.prefix, self.id])
        self._said_recovered(moved)
        return pending

    def _said_recovered(self, moved: int) -> None:
        if moved:
            self.recovered += moved
            logger.warning("%d requests in flight at a worker that stopped answering went back to the queue", moved)

    def finish(self, meta: dict) -> None:
        """A request popped by this worker is done with (its callback or errback ran to the end): it leaves the
        worker's in-flight requests once its response is in the archive too.  A callback runs while the response's
        records wait for the WARC writer, and a worker that died then (a power cut) lost the page for the crawl."""
        if archiving(meta):
            meta[_FINISHED] = True  # (finished by ``_archived``)
            self.waiting_for_records += 1
            return
        field = meta.pop(INFLIGHT, None)
        if field is None:
            return
        with self.reaching():
            pipe = self.server.pipeline(transaction=True)
            pipe.hdel(self.inflight, field)
            if meta.get("newsarchive_seed_ok"):
                pipe.hincrby(self.run, "seed_ok", 1)
            pipe.execute()

    def _archived(self, meta: dict, archived: bool) -> None:
        """A response's records are written (or could not be: its request stays in flight, and goes back to the
        queue when this worker leaves or is found gone)."""
        if meta.pop(_FINISHED, False):
            self.waiting_for_records -= 1
            if archived:
                self.finish(meta)
            else:
                meta.pop(INFLIGHT, None)
            if not self.waiting_for_records:
                waiters, self._records_written = self._records_written, []
                for waiter in waiters:
                    waiter.callback(None)

    def records_written(self) -> defer.Deferred:
        """Fires once no finished request waits for its response's records, or after ``RECORDS_WAIT`` seconds (those
        still waiting stay in flight, and go back to the queue as the worker leaves)."""
        if not self.waiting_for_records:
            return defer.succeed(None)
        from twisted.internet import reactor

        waiter = defer.Deferred()
        self._records_written.append(waiter)
        return waiter.addTimeout(RECORDS_WAIT, reactor).addErrback(lambda _: None)

    def give_back(self, meta: dict) -> None:
        """A request popped by this worker and not fetched goes back to its place in the queue, for the others."""
        field = meta.pop(INFLIGHT, None)
        if field is not None:
            with self.reaching():
                self._give_back(keys=[self.queue.key, self.inflight], args=[field])

    def leave(self, queue_key: str, seen_key: str) -> Departure:
        """Put this worker's in-flight requests back and unregister; what it leaves behind."""
        cleared, last, left, seeds_ok = self._leave(keys=[queue_key, self.inflight, self.workers, self.alive,
                                                          seen_key, self.run, self.robots, self.arrivals],
                                                    args=[self.id, self.prefix])
        return Departure(bool(cleared), bool(last), int(left), int(seeds_ok))

    def requeue_own(self, queue_key: str) -> int:
        """Put back this worker's in-flight requests; how many there were."""
        return self._requeue_own(keys=[queue_key, self.inflight])


class ReliableQueue(PriorityQueue):
    """scrapy-redis's priority queue, first in first out within a priority, whose pop moves a request
    into the worker's in-flight hash.

    ``push`` also does the duplicate check (the scheduler passes the fingerprint) and drops
    the in-flight entry a re-queued request (redirect, retry) replaces, in one script.
    """

    def __init__(self, server, spider, key, serializer=None):
        super().__init__(server, spider, key, serializer)
        self.worker: ClusterWorker = spider.cluster
        self.seen_key = spider.settings.get("SCHEDULER_DUPEFILTER_KEY")
        self._enqueue = server.register_script(_ENQUEUE)
        self._pop = server.register_script(_POP)
        self._numbers = itertools.count()

    def _encode_request(self, request: Request) -> bytes:
        if INFLIGHT in request.meta:  # an in-flight field means nothing to the worker that pops it next
            request = request.replace(meta={k: v for k, v in request.meta.items() if k != INFLIGHT})
        return super()._encode_request(request)

    def push(self, request: Request, fingerprint: str | None = None) -> bool:
        """Queue ``request`` unless its fingerprint was seen; False if it was."""
        return bool(self._enqueue(keys=[self.key, self.seen_key, self.worker.inflight, self.worker.arrivals],
                                  args=[self._encode_request(request), -request.priority, fingerprint or "",
                                        request.meta.get(INFLIGHT, "")]))

    def pop(self, timeout: int = 0) -> Request | None:
        popped = self._pop(keys=[self.key, self.worker.inflight], args=[next(self._numbers)])
        if not popped:
            return None
        field, data = popped
        request = self._decode_request(data)
        request.meta[INFLIGHT] = field.decode() if isinstance(field, bytes) else field
        return request


class ClusterScheduler(Scheduler):
    """scrapy-redis's scheduler, with the duplicate check inside the queue's push and a shared end of crawl."""

    crawler: Crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ClusterScheduler:
        scheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        scheduler.backlog = crawler.settings.getint("CLUSTER_BACKLOG", BACKLOG)
        return scheduler

    def open(self, spider: NewsSpider) -> None:
        self.spider = spider
        self.worker: ClusterWorker = spider.cluster
        self.queue = ReliableQueue(self.server, spider, self.queue_key % {"spider": spider.name}, self.serializer)
        self.worker.queue = self.queue
        if not self.df:
            self.df = load_object(self.dupefilter_cls).from_spider(spider)
        self._heartbeat = task.LoopingCall(self._beat)
        self._heartbeat.start(self.worker.ttl_ms / 5000, now=False)
        self.crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        # Scrapy looks for new requests every 5 s when idle; another worker's requests should start sooner.
        self.crawler.engine._SLOT_HEARTBEAT_INTERVAL = 0.5

    def _beat(self) -> None:
        with self.worker.reaching():
            self.worker.heartbeat()

    def __len__(self) -> int:
        with self.worker.reaching():
            return len(self.queue)
        return 0

    def enqueue_request(self, request: Request) -> bool:
        """Queue ``request`` unless seen.  Without Redis it is dropped here: the request it came from
        stays in flight in Redis, so another worker fetches that one again and finds it anew."""
        fingerprint = None if request.dont_filter else self.df.request_fingerprint(request)
        with self.worker.reaching():
            if not self.queue.push(request, fingerprint):
                self.df.log(request, self.spider)
                return False
            self.stats.inc_value("scheduler/enqueued/redis")
            return True
        return False

    def next_request(self) -> Request | None:
        """A request from the shared queue, unless this worker already holds enough it has not started.

        Scrapy takes requests while fewer than ``CONCURRENT_REQUESTS`` are in its downloader, so one
        worker would take 32 requests for a host it may send two at a time to, while the others idle.
        In a run bounded by ``max_pages``, a page requisite waits while one of this worker's pages is in progress
        (crawler/requisite_hold.py).
        """
        downloader = self.crawler.engine.downloader
        waiting = len(downloader.active) - sum(len(slot.transferring) for slot in downloader.slots.values())
        if waiting >= self.backlog or self.worker.lost:
            return None
        # Not scrapy-redis's next_request: it passes ``spider`` to the stats, which Scrapy 2.19 deprecates.
        with self.worker.reaching():
            request = self.queue.pop()
            if request is None:
                return None
            # taken and given back, rather than looked at first: a look would cost every request a call to Redis
            if requisite_waits(self.crawler, lambda: request):
                self.worker.give_back(request.meta)
                return None
            self.stats.inc_value("scheduler/dequeued/redis")
            return request
        return None

    def spider_idle(self) -> None:
        """Nothing to do here: wait while any worker still has requests queued or in flight."""
        # Idle, this worker has nothing in flight: an entry left in its hash is a request Scrapy
        # dropped without calling its callback or errback.  It goes back rather than being lost.
        if self.worker.waiting_for_records:  # done with but for their records: not leaked, and the crawl goes on
            raise DontCloseSpider
        with self.worker.reaching():
            leaked = self.worker.requeue_own(self.queue.key)
            if leaked:
                logger.warning("%d requests taken by this worker were never finished; they went back to the queue",
                               leaked)
            if leaked or self.worker.pending(self.queue.key):
                raise DontCloseSpider

    def close(self, reason: str) -> defer.Deferred:
        """Leave the crawl once the requests this worker finished are in the archive (the spider's pages are
        written as the crawl closes, after its scheduler; a worker that left before could not take them out of
        flight, nor count its seeds)."""
        return self.worker.records_written().addCallback(lambda _: self._leave(reason))

    def _leave(self, reason: str) -> None:
        if self._heartbeat.running:
            self._heartbeat.stop()
        self.stats.set_value("cluster/recovered", self.worker.recovered)
        if self.worker.lost:
            return
        with self.worker.reaching():
            departure = self.worker.leave(self.queue.key, self.queue.seen_key)
            self.stats.set_value(SEED_OK, departure.seeds_ok)
            # A worker that leaves while others may still read a seed does not judge the source by its seeds
            # (its own max_pages spent, one went on fetching the sitemap): the last out does, or one leaving none.
            self.stats.set_value(SEEDS_SETTLED, departure.seeds_settled)
            # The last worker out speaks for the whole crawl (its seeds, by any worker), be it over or cut short by
            # max_pages (its queue kept for the next run): the source's back-off counts a shared crawl once.
            self.stats.set_value(SHARED_CRAWL_ENDED, departure.last)
            if departure.cleared:
                logger.info("the shared crawl is over; its queue and fingerprints are cleared")


class ClusterNewsSpider(NewsSpider):
    """``NewsSpider`` as one worker of a shared crawl: seeds go to the shared queue once per crawl, and
    each request popped from it is finished (leaves the worker's in-flight hash) when its callback or
    errback has run to the end."""

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        """robots.txt and Retry-After's left-alone line through Redis, at the spider's priority with the crawl's
        bounds (``max_pages``, its site): middlewares set with the command line's priority would replace those."""
        super().update_settings(settings)
        middlewares = settings.getdict("DOWNLOADER_MIDDLEWARES")
        middlewares.update({"crawler.robots.ConcurrentSafeRobotsTxtMiddleware": None,
                            "crawler.cluster_politeness.SharedRobotsTxtMiddleware": 100,
                            "crawler.politeness.RetryAfterMiddleware": None,
                            "crawler.cluster_politeness.SharedRetryAfterMiddleware": 560})
        settings.set("DOWNLOADER_MIDDLEWARES", middlewares, priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args, **kwargs) -> ClusterNewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        server = redis_client(settings.get("REDIS_URL"))
        spider.cluster = ClusterWorker(crawler, server, spider.source.name,
                                       settings.getfloat("CLUSTER_WORKER_TTL", WORKER_TTL))
        return spider

    async def start(self) -> AsyncIterator[Request]:
        seeds = [request async for request in super().start()]
        with self.cluster.reaching():
            if self.cluster.join(seeds):
                self.logger.info("%s: began a shared crawl with %d seeds", self.source.name, len(seeds))
            else:
                self.logger.info("%s: joined the shared crawl in progress", self.source.name)
        return
        yield  # an async generator that yields nothing: the seeds are in the shared queue

    def _seed_ok(self, response: Response) -> None:
        super()._seed_ok(response)
        if response.meta.get("seed"):
            response.meta["newsarchive_seed_ok"] = True

    def fetch_failed(self, failure: Failure) -> None:
        super().fetch_failed(failure)
        if failure.check(PageBudgetSpent):  # this worker's max_pages, not the crawl's: another takes it
            self.cluster.give_back(failure.request.meta)
        else:
            self.cluster.finish(failure.request.meta)


def _finishing(name: str):
    """The spider's callback ``name``, finishing its request once the requests it yields are queued."""
    callback = getattr(NewsSpider, name)

    def finishing(self: ClusterNewsSpider, response: Response):
        try:
            yield from callback(self, response) or ()
        except Exception:
            self.cluster.finish(response.meta)
            raise
        self.cluster.finish(response.meta)

    finishing.__name__ = finishing.__qualname__ = name
    finishing.__doc__ = callback.__doc__
    return finishing


for _name in ("parse_start", "parse_feed", "parse_sitemap", "parse_article", "parse_resource"):
    setattr(ClusterNewsSpider, _name, _finishing(_name))
