"""The Scrapy side of a run: one CrawlerProcess, a Crawler per source, and what each crawl did."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from types import FrameType

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings
from scrapy.utils.reactor import install_reactor

from config import Config, Source
from crawler.archive_writer import archive_writer
from archive.writer import OPEN_SUFFIX
from crawler.capture import DISK_FULL, STATE_LOST, WRITER_LOST, WRITTEN_TO
from crawler.progress import PAGES_FETCHED
from crawler.run import SourceResult
from crawler.source_settings import source_settings
from crawler.spiders.news import (FAILED_COUNT, FAILED_URLS, NOT_EXTRACTED, OFFSITE_REDIRECT_EXAMPLE,
                                  OFFSITE_REDIRECTS, SEEDS_SETTLED, SHARED_CRAWL_ENDED, SKIPPED_OLD,
                                  NewsSpider)
from supervision import STOP_SIGNALS, ask_to_stop, note_stop_requests

logger = logging.getLogger(__name__)
# How long a stop request lets the crawl close (its downloads in flight end) before it is forced (``_force_stop``).
STOP_DEADLINE = 15.0

_CLEAN_FINISH = {"finished", "closespider_pagecount", "closespider_timeout"}
# crawls ended by the archive's side, not the site's: no back-off for the source
_NOT_THE_SOURCES_FAULT = {"shutdown", DISK_FULL, WRITER_LOST, STATE_LOST}


def crawl_settings(config: Config, source: Source, progress_interval: float = 0.0,
                   log_level: str = "WARNING") -> Settings:
    """The project settings plus what this source and this config say."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    overrides = {
        **source_settings(config, source),
        "NEWSARCHIVE_PROGRESS_INTERVAL": progress_interval,
        "LOG_LEVEL": log_level,
    }
    if config.cluster.redis:  # one worker of a crawl shared through Redis (crawler/cluster.py)
        from crawler.cluster import cluster_settings

        overrides["WARC_PREFIX"] += f"-{os.getpid()}"  # the host is in the name too: no two workers' names collide
        overrides.update(cluster_settings(config.cluster.redis, source.name))
    settings.update(overrides, priority="cmdline")
    return settings


def _result(crawler: Crawler, source: Source) -> SourceResult:
    stats = crawler.stats.get_stats()
    warc_dir = Path(crawler.settings.get("WARC_DIR"))
    # a crawl under way that never closed was cut short by a second Ctrl-C (Scrapy's forced shutdown)
    reason = stats.get("finish_reason") or ("shutdown" if stats.get("start_time") else "not started")
    error = None
    if reason == "shutdown":  # stopped on request (Ctrl-C, SIGTERM): not the source's fault
        pass
    elif reason not in _CLEAN_FINISH:
        error = f"crawl ended: {reason}"
    elif not stats.get("newsarchive/seed_ok") and stats.get(SEEDS_SETTLED, True):
        error = f"none of its {len(source.seed_urls())} start URLs, feeds or sitemaps could be fetched and read"
    elif stats.get("warc/failed"):
        error = f"{stats['warc/failed']} fetches could not be archived (see the log)"
    return SourceResult(
        name=source.name,
        fetched=stats.get(PAGES_FETCHED, 0),
        articles=stats.get("newsarchive/articles_archived", 0),
        warc_files=stats.get("warc/files", []),
        finish_reason=reason,
        error=error,
        unchanged=sum(count for key, count in stats.items() if key.startswith("newsarchive/revisit/")),
        identical=stats.get("newsarchive/revisit/identical-payload-digest", 0),
        skipped_known=stats.get("newsarchive/skipped_known", 0),
        skipped_old=stats.get(SKIPPED_OLD, 0),
        offsite_redirects=stats.get(OFFSITE_REDIRECTS, 0),
        offsite_redirect_example=stats.get(OFFSITE_REDIRECT_EXAMPLE, ""),
        failed_fetches=stats.get(FAILED_COUNT, 0),
        failures=stats.get(FAILED_URLS, []),
        not_extracted=stats.get(NOT_EXTRACTED, []),
        bytes_written=_bytes_on_disk(warc_dir, stats.get("warc/files") or stats.get(WRITTEN_TO, [])),
        duration=round(stats.get("elapsed_time_seconds") or _since(stats.get("start_time")), 3),
        counts_for_backoff=stats.get(SHARED_CRAWL_ENDED, True) and reason not in _NOT_THE_SOURCES_FAULT,
    )


def _bytes_on_disk(warc_dir: Path, names: list[str]) -> int:
    """The size of the WARCs ``names``, closed or (after a forced shutdown) still ``.open``.  A file only goes from
    ``.open`` to its name (the writer may be closing it now), so its name is tried again after ``.open``."""
    total = 0
    for name in names:
        for path in (warc_dir / name, warc_dir / (name + OPEN_SUFFIX), warc_dir / name):
            try:
                total += path.stat().st_size
                break
            except FileNotFoundError:
                continue
    return total


def _since(start: datetime | None) -> float:
    """Seconds since a crawl started: a crawl cut short by a forced shutdown has no elapsed time."""
    return (datetime.now(timezone.utc) - start.astimezone(timezone.utc)).total_seconds() if start else 0.0


def _spider_class(config: Config) -> type[NewsSpider]:
    if config.cluster.redis:
        from crawler.cluster import ClusterNewsSpider

        return ClusterNewsSpider
    return NewsSpider


def crawl_sources(config: Config, sources: tuple[Source, ...], progress_interval: float,
                  log_level: str, stop: threading.Event | None = None) -> list[SourceResult]:
    """Crawl ``sources`` in one Scrapy process; what each crawl did.

    ``stop``, set by a Ctrl-C or SIGTERM that came before Scrapy took the signals over (it does once its
    reactor has started), is passed on to Scrapy then: the crawl stops as on a Ctrl-C while it runs.
    It is also set by every stop request Scrapy takes, and by one that comes once the reactor has
    stopped: Scrapy's handlers stay in place after their reactor, and one of a crawl that was ending
    anyway or had ended would be lost to the run (no grace for the corpus; a service kills it later).
    """
    # Each source's Crawler is built here with its own settings, so install the reactor
    # that CrawlerProcess would otherwise install through the first crawler it creates.
    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    # The WARC writer process loads while the crawlers are built; the first to open takes it over.
    # (Should none open it, it reads end of input when this process exits, and stops.)
    archive_writer()
    process = CrawlerProcess({"LOG_LEVEL": log_level, "TELNETCONSOLE_ENABLED": False,
                              "REMOTE_CONTROL_ENABLED": False})
    crawlers = []
    for source in sources:
        crawler = Crawler(_spider_class(config), crawl_settings(config, source, progress_interval, log_level))
        process.crawl(crawler, source=source)
        crawlers.append((crawler, source))
    if stop is not None:
        from twisted.internet import reactor

        # (a call in the reactor's first turn comes after every start-up trigger, Scrapy's handlers' too)
        reactor.callWhenRunning(reactor.callLater, 0, _take_over_stop_requests, stop)
        reactor.addSystemEventTrigger("after", "shutdown", note_stop_requests, stop)
    process.start()
    return [_result(crawler, source) for crawler, source in crawlers]


def _take_over_stop_requests(stop: threading.Event) -> None:
    """Scrapy's handlers note each stop request for the run too; one that came before them is passed on."""
    for signum in STOP_SIGNALS:
        if callable(scrapys := signal.getsignal(signum)):
            signal.signal(signum, partial(_noted, stop, scrapys))
    if stop.is_set():
        os.kill(os.getpid(), signal.SIGINT)


def _noted(stop: threading.Event, handler: Callable[[int, FrameType | None], object], signum: int,
           frame: FrameType | None) -> None:
    """The first stop request Scrapy takes (it then puts its forcing handler in place of this one): noted for
    the run, and forced after ``STOP_DEADLINE`` seconds should the crawl still be closing."""
    from twisted.internet import reactor

    ask_to_stop(stop, signum)
    handler(signum, frame)
    reactor.callFromThread(reactor.callLater, STOP_DEADLINE, _force_stop, signum)


def _force_stop(signum: int) -> None:
    """Scrapy's graceful stop waits for the downloads in flight, which a server that hangs holds for the whole
    download timeout (minutes if configured so: past a service's patience, which then kills the run with no
    report).  Past the deadline the stop is forced as a second Ctrl-C forces it, by Scrapy's own handler: the
    WARCs keep every record written, and the next run fetches what was in flight."""
    logger.warning("the crawl did not stop within %g s of the stop request (a download in flight that its server "
                   "does not answer): forcing it, as a second Ctrl-C would", STOP_DEADLINE)
    os.kill(os.getpid(), signum)
