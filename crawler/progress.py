"""A progress line per source while a run goes on, for people watching a terminal."""

from __future__ import annotations

import sys

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task


class ProgressReport:
    """Prints ``source: N fetched, M articles`` every ``NEWSARCHIVE_PROGRESS_INTERVAL`` seconds, and
    once more when the engine has stopped: then every exchange is written (the capture's
    ``spider_closed`` waits for the writer), so the last line gives the run's own figures."""

    def __init__(self, crawler: Crawler, interval: float):
        self.crawler = crawler
        self.interval = interval
        self.loop: task.LoopingCall | None = None
        self.spider: Spider | None = None
        self.last = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ProgressReport":
        interval = crawler.settings.getfloat("NEWSARCHIVE_PROGRESS_INTERVAL", 0)
        if interval <= 0:
            raise NotConfigured
        return cls(crawler, interval)

    def spider_opened(self, spider: Spider) -> None:
        self.spider = spider
        self.loop = task.LoopingCall(self.report, spider)
        self.loop.start(self.interval, now=False)

    def report(self, spider: Spider) -> None:
        stats = self.crawler.stats
        articles = stats.get_value("newsarchive/articles_archived", 0)
        line = (
            f"  {getattr(spider, 'source', spider).name}: "
            f"{stats.get_value('downloader/response_count', 0)} fetched, "
            f"{articles} article{'' if articles == 1 else 's'} archived"
        )
        if line != self.last:
            print(line, file=sys.stderr, flush=True)
            self.last = line

    def spider_closed(self, spider: Spider) -> None:
        if self.loop and self.loop.running:
            self.loop.stop()

    def engine_stopped(self) -> None:
        if self.spider is not None:
            self.report(self.spider)
