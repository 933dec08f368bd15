"""Which sources the configs sharing a cluster's Redis list, and what a source that none lists any more left there.

Keys stay named by source alone (``newsarchive:crawl:<source>:``), and each archive (a worker's machine and its
``[archive] dir``) registers the sources its config lists, at each run: a source's keys leave Redis only once no
archive lists it and no live worker crawls it.  Not a namespace per cluster or config: a name got wrong would split
one crawl in two, or hand a queue to a stranger.  Configs that should not share queues at all use a Redis database
of their own (the ``/DB`` of ``[cluster] redis``): the URLs' crawl state is kept by URL, and an archive of another
cluster would take their pages for its own.  So an archive new to a database is refused there if it is of another
cluster than those registered: of another ``[cluster] name`` than theirs (a name is only this guard's, not the
keys'), or, where they name none, listing none of their sources (nothing else a worker can see tells two clusters
apart, but a cluster whose machines split their sources has to name itself).  A config not run since this registry
was added is not registered yet: the live worker check is all that holds for it, as before.  A registration outlives
its archive when a machine is retired or its archive moved: ``check --repair`` drops one of this machine whose
directory is gone, and ``check --forget-archive`` one named, each with what only it kept; never one that is live (its
schedule service or a run of it is up, ``cluster_presence``; or a worker of its machine crawls), nor, unless forced,
one whose last run was within ``[cluster] forget_after`` days, or is not known (registered by an
older version): a machine run from cron is live only while it runs.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import redis

from archive.check import CheckReport
from archive.redis_state import SOURCES, StateUnreachable, connect, unreachable_as_state_error
from config import ConfigError
from crawler.cluster import KEY_PREFIX, crawl_keys, forget_gone_processes
from crawler.cluster_presence import archive_id, archive_live

logger = logging.getLogger(__name__)

LISTED = "newsarchive:listed:"  # + source: the set of archives whose config lists it
LISTING = "newsarchive:listing:"  # + archive: the set of sources its config lists
NAMES = "newsarchive:cluster-names"  # archive -> the [cluster] name of its config, if it gives one
LAST_SEEN = "newsarchive:last-seen"  # archive -> when its last run (or check --repair) registered it (ms, Redis clock)
REGISTRATIONS = "newsarchive:registrations"  # counts registrations: a check watches it while it reads the registry
_CRAWL_KEYS = ("workers", "requests", "seen", "run", "robots", "arrivals")

# What a source no longer configured in this archive left, and with ARGV[4] == '1' its removal: {-1, other archives
# listing it}, {-2, 0} (a live worker crawls it), else {keys, back-off entries} (counted, or deleted).  KEYS: its
# crawl's workers, queue, seen, run, robots, arrivals, the sources' health, its listing archives, this archive's
# sources; ARGV: key prefix, source, this archive, remove.  (Alive keys and robots.txt locks expire by themselves.)
_LEFTOVERS = """
if ARGV[4] == '1' then
  redis.call('SREM', KEYS[8], ARGV[3])
  redis.call('SREM', KEYS[9], ARGV[2])
end
local others = redis.call('SCARD', KEYS[8]) - redis.call('SISMEMBER', KEYS[8], ARGV[3])
if others > 0 then return {-1, others} end
local workers = redis.call('SMEMBERS', KEYS[1])
for _, w in ipairs(workers) do
  if redis.call('EXISTS', ARGV[1] .. 'alive:' .. w) == 1 then return {-2, 0} end
end
local count = ARGV[4] == '1' and 'DEL' or 'EXISTS'
local keys = redis.call(count, KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6])
for _, w in ipairs(workers) do keys = keys + redis.call(count, ARGV[1] .. 'inflight:' .. w) end
return {keys, redis.call(ARGV[4] == '1' and 'HDEL' or 'HEXISTS', KEYS[7], ARGV[2])}
"""


@dataclass
class Leftovers:
    """What the cluster's Redis holds of a source this archive no longer lists, or why it stays there."""

    source: str
    keys: int = 0  # its crawl's keys (queue, seen URLs, workers, ...)
    backoff: bool = False
    listed_elsewhere: int = 0  # other archives whose config lists it
    crawled: bool = False  # a live worker crawls it

    def kept(self) -> str | None:
        """Why its keys stay, if they do."""
        if self.listed_elsewhere:
            return (f"{self.source}: no longer configured, but {self.listed_elsewhere} other archive(s) sharing the "
                    "cluster's Redis list it: its keys stay there for them")
        if self.crawled:
            return (f"{self.source}: no longer configured, but a worker still crawls it: its keys stay in the "
                    "cluster's Redis")
        return None

    def what(self) -> str:
        return f"its crawl's {self.keys} keys" + (", its back-off" if self.backoff else "")


def dropped_sources(redis_url: str, archive_dir: Path, configured: Iterable[str], crawled: Iterable[str],
                    register: bool, name: str | None = None) -> tuple[list[str], set[str]]:
    """The sources this archive ``crawled`` or registered and its config no longer lists, and of them those it had
    registered; with ``register``, this archive is registered as listing ``configured`` (in the cluster ``name``)
    first."""
    me, configured = archive_id(archive_dir), set(configured)
    registering = register and bool(configured)

    def check_and_register(pipe: redis.client.Pipeline) -> None:
        if registering:
            _refuse_another_clusters(pipe, redis_url, me, configured, name)
            now = _redis_ms(pipe)
        pipe.multi()
        if registering:
            for source in configured:
                pipe.sadd(LISTED + source, me)
            pipe.sadd(LISTING + me, *configured)
            if name:
                pipe.hset(NAMES, me, name)
            else:
                pipe.hdel(NAMES, me)
            pipe.hset(LAST_SEEN, me, now)
            pipe.incr(REGISTRATIONS)
        pipe.smembers(LISTING + me)

    client = connect(redis_url)
    try:
        with unreachable_as_state_error(redis_url):
            # One step: what the check read is what it registers against, or it is read again (WATCH): two machines
            # of different clusters starting at once on a fresh database both found it empty, and both registered.
            listed = client.transaction(check_and_register, REGISTRATIONS)[-1]
            unlisted = {source.decode() for source in listed} - configured
    finally:
        client.close()
    return sorted(unlisted | (set(crawled) - configured)), unlisted


def _refuse_another_clusters(client: redis.Redis, redis_url: str, me: str, configured: set[str],
                             name: str | None) -> None:
    """``ConfigError`` if this archive, not registered yet, is of another cluster than the archives registered in this
    database: whose URLs' crawl state (validators, payload digests, kept by URL) it would take for its own, skipping
    their pages as unchanged and archiving revisits of records in their WARCs.  Archives that name their cluster
    (``[cluster] name``) are of it whatever sources each lists; archives that name none are of one cluster if this
    one lists a source one of them lists.  An archive registered already is not refused later for what the others'
    configs changed."""
    others = [archive for archive in _registered(client) if archive != me]
    if not others or client.exists(LISTING + me):  # (one registered shares this database already: nothing to spare)
        return
    named = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
    theirs = sorted({value.decode() for value in client.hmget(NAMES, others) if value})
    if theirs:
        if name in theirs:
            return
        raise ConfigError(f"[cluster] redis: {redis_url} is the database of the cluster {' and '.join(theirs)} "
                          f"(its archives {named}), and this config "
                          + (f"names the cluster {name}" if name else "names none (its [cluster] name)")
                          + ": give it that cluster's name if it is one of its machines, else a database of its own "
                          "(redis://HOST:PORT/N)")
    pipe = client.pipeline(transaction=False)
    for archive in others:
        pipe.smembers(LISTING + archive)
    if not any(configured & {source.decode() for source in listed} for listed in pipe.execute()):
        raise ConfigError(f"[cluster] redis: {redis_url} is the database of another cluster (its archives {named} "
                          "list none of this config's sources), whose pages this archive would take for its own, "
                          "unchanged: give this config a database of its own (redis://HOST:PORT/N), or, if its "
                          "machines split their sources, every machine's config the same [cluster] name")


def source_leftovers(redis_url: str, me: str, source: str, remove: bool) -> Leftovers:
    """What the shared crawl of ``source``, no longer configured in the archive ``me`` (an ``archive_id``), left in
    the cluster's Redis (its queue, seen URLs, workers, back-off), and with ``remove`` its removal, this archive's
    listing of it first; nothing goes while another archive lists it or a worker anywhere crawls it.  Its URLs'
    crawl state stays, as on one machine: it is the source's history, and a source put back in the config is not
    fetched again whole."""
    client = connect(redis_url)
    prefix = crawl_keys(source)
    try:
        with unreachable_as_state_error(redis_url):
            dead = forget_gone_processes(client, prefix) if remove else 0
            keys, backoff = client.register_script(_LEFTOVERS)(
                keys=[prefix + name for name in _CRAWL_KEYS] + [SOURCES, LISTED + source, LISTING + me],
                args=[prefix, source, me, int(remove)])
            if keys == -1:
                return Leftovers(source, listed_elsewhere=backoff)
            if keys == -2:
                return Leftovers(source, crawled=True)
            return Leftovers(source, keys + dead + _robots_locks(client, prefix, remove), bool(backoff))
    finally:
        client.close()


def _robots_locks(client: redis.Redis, prefix: str, remove: bool) -> int:
    locks = list(client.scan_iter(match=prefix + "robots-lock:*", count=1000))  # (names have no glob characters)
    return client.delete(*locks) if locks and remove else len(locks)


def forget_removed_sources(redis_url: str, archive_dir: Path, configured: Iterable[str],
                           crawled: Iterable[str], name: str | None = None) -> None:
    """At a run: register the config's sources, and remove from the cluster's Redis what the sources this archive
    ``crawled`` or listed and no longer lists left there, each in one line (see ``source_leftovers``)."""
    dropped, unlisted = dropped_sources(redis_url, archive_dir, configured, crawled, register=True, name=name)
    for source in dropped:
        leftovers = source_leftovers(redis_url, archive_id(archive_dir), source, remove=True)
        if leftovers.crawled or (leftovers.listed_elsewhere and source in unlisted):  # (theirs: said once)
            logger.warning(leftovers.kept())
        elif leftovers.keys or leftovers.backoff:  # (nothing: removed before)
            logger.warning("%s: no longer configured: removed from the cluster's Redis %s (its URLs' crawl state "
                           "stays, for should it come back)", source, leftovers.what())


def forget_archive(redis_url: str, archive: str) -> list[Leftovers]:
    """Drop the registration of ``archive`` (an ``archive_id``: a retired machine's, a moved directory's), and remove
    what each source it listed left in the cluster's Redis, by the rules of ``source_leftovers``."""
    client = connect(redis_url)
    try:
        with unreachable_as_state_error(redis_url):
            sources = sorted(name.decode() for name in client.smembers(LISTING + archive))
            client.hdel(NAMES, archive)
            client.hdel(LAST_SEEN, archive)
    finally:
        client.close()
    return [source_leftovers(redis_url, archive, source, remove=True) for source in sources]


def _redis_ms(client: redis.Redis) -> int:
    """Now on Redis's clock (the machines' clocks may differ), in ms."""
    seconds, microseconds = client.time()
    return seconds * 1000 + microseconds // 1000


def _run_recently(client: redis.Redis, archive: str, days: float) -> str | None:
    """Why ``archive`` may have run within ``days`` (when it last registered, at its last run), if it may: a machine
    run from cron has no live process between its runs, and is not retired for it.  One registered before the last
    runs were kept may be such a machine as well: until its next run, only ``--force`` (``days`` 0) forgets it."""
    if not days:
        return None
    cron = "a machine run from cron is live only while it runs"
    seen = client.hget(LAST_SEEN, archive)
    if seen is None:
        return f"when its last run began is not known (it registered before newsarchive kept it; {cron})"
    ago = (_redis_ms(client) - int(seen)) / 1000
    if ago >= days * 86400:
        return None
    when = f"{ago / 60:.0f} min" if ago < 7200 else f"{ago / 3600:.0f} h" if ago < 172800 else f"{ago / 86400:.0f} days"
    return f"its last run began {when} ago, within [cluster] forget_after ({days:g} days; {cron})"


def _registered(client: redis.Redis) -> list[str]:
    """The archives registered as listing sources (those whose config listed any at their last run)."""
    return sorted(key.decode().removeprefix(LISTING) for key in client.scan_iter(match=LISTING + "*", count=1000))


def _gone_from_here(archive: str) -> bool:
    host, _, directory = archive.partition(":")
    return host == socket.gethostname() and not Path(directory).is_dir()


def _live_workers_on(client: redis.Redis, archive: str) -> int:
    """Workers alive on the machine of ``archive`` (their ids begin with its host name; host names have no glob
    characters)."""
    host = archive.partition(":")[0]
    return sum(1 for _ in client.scan_iter(match=f"{KEY_PREFIX}*:alive:{host}-*", count=1000))


def _registrations_to_drop(redis_url: str, me: str, forget: Iterable[str], report: CheckReport,
                           forget_after: float) -> list[tuple[str, str]]:
    """(archive, why) of the registrations to drop: those asked (unknown or live ones, or ones run within
    ``forget_after`` days, refused, one line each), and those of this machine whose directory is gone (the others'
    cannot be seen from here)."""
    client = connect(redis_url)
    try:
        with unreachable_as_state_error(redis_url):
            registered, drop = _registered(client), []
            for archive in dict.fromkeys(forget):
                if archive not in registered:
                    report.unusable.append(f"{archive}: no archive of that name is registered in the cluster's Redis "
                                           f"(registered: {', '.join(registered) or 'none'})")
                elif archive == me or archive.startswith(socket.gethostname() + ":") and not _gone_from_here(archive):
                    report.unusable.append(f"{archive}: not forgotten: its directory is on this machine")
                elif serving := archive_live(client, archive):
                    report.unusable.append(f"{archive}: not forgotten: it is live ({serving} process(es) of its "
                                           "machine serve it: its schedule service, a run)")
                elif live := _live_workers_on(client, archive):
                    report.unusable.append(f"{archive}: not forgotten: {live} worker(s) of its machine are crawling")
                elif recently := _run_recently(client, archive, forget_after):
                    report.unusable.append(f"{archive}: not forgotten: {recently}: --force forgets it")
                else:
                    drop.append((archive, "forgotten as asked"))
            asked = {archive for archive, _ in drop}
            drop += [(archive, "its directory is gone from this machine") for archive in registered
                     if archive != me and archive not in asked and _gone_from_here(archive)
                     and not archive_live(client, archive)]
            return drop
    finally:
        client.close()


def check_removed_sources(redis_url: str, archive_dir: Path, configured: Iterable[str], crawled: Iterable[str],
                          report: CheckReport, repair: bool, forget: Iterable[str] = (),
                          name: str | None = None, forget_after: float = 0.0) -> None:
    """``check``: a problem line for each source no longer configured whose keys are still in the cluster's Redis,
    which ``repair`` removes as a run does (never those another archive lists or a live worker crawls: a note); first,
    a problem line for each registration of this machine whose directory is gone, which ``repair`` drops with what
    only it kept, as it does the registrations ``forget`` names (not one run within ``forget_after`` days)."""
    me = archive_id(archive_dir)
    try:  # (this archive registered first: its sources are not another's to take)
        dropped, _ = dropped_sources(redis_url, archive_dir, configured, crawled, register=repair, name=name)
        for archive, why in _registrations_to_drop(redis_url, me, forget, report, forget_after):
            if not repair and why != "forgotten as asked":
                report.problems.append(f"{archive}: registered in the cluster's Redis as an archive sharing it, but "
                                       f"{why}")
                continue
            removed = []
            for leftovers in forget_archive(redis_url, archive):
                if leftovers.crawled:
                    report.notes.append(leftovers.kept())
                elif leftovers.keys or leftovers.backoff:
                    removed.append(f"{leftovers.source}'s {leftovers.what().removeprefix('its ')}")
            report.repaired.append(f"{archive}: {why}: dropped its registration in the cluster's Redis"
                                   + (f", and what no other archive lists: {'; '.join(removed)}" if removed else ""))
        for source in dropped:
            leftovers = source_leftovers(redis_url, me, source, remove=repair)
            if leftovers.kept():
                report.notes.append(leftovers.kept())
            elif not (leftovers.keys or leftovers.backoff):
                continue
            elif repair:
                report.repaired.append(f"{source}: no longer configured: removed from the cluster's Redis "
                                       f"{leftovers.what()} (its URLs' crawl state stays)")
            else:
                report.problems.append(f"{source}: no longer configured, but {leftovers.what()} are still in the "
                                       "cluster's Redis")
    except StateUnreachable as exc:
        report.unusable.append(str(exc))
