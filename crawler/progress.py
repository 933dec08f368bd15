"""The run's count of pages fetched, and a progress line per source while a run goes on, for people watching a terminal."""

from __future__ import annotations

import sys

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Request
from twisted.internet import task

# The run's "fetched": responses but robots.txt's (its retries too), each redirect hop and retry of a page
# counted, as ``max_pages`` counts them (Scrapy's downloader/response_count has robots.txt in it), once their
# records are in the WARC (``WarcCapture`` counts them): a page whose records could not be written is not in the
# archive, and the next run fetches it again.
PAGES_FETCHED = "newsarchive/pages_fetched"


def is_page_fetch(request: Request) -> bool:
    """Whether a fetch is one of the site's pages, as "fetched" and the revisit counts count them: not
    robots.txt (``dont_obey_robotstxt`` is Scrapy's mark of its robots.txt requests, kept on their retries)."""
    return not request.meta.get("dont_obey_robotstxt")


class ProgressReport:
    """With ``NEWSARCHIVE_PROGRESS_INTERVAL`` > 0, prints
    ``source: N fetched, M articles`` that often, and once more when the engine has stopped: then every
    exchange is written (the capture's ``spider_closed`` waits for the writer), so the last line gives
    the run's own figures."""

    def __init__(self, crawler: Crawler, interval: float):
        self.crawler = crawler
        self.interval = interval
        self.loop: task.LoopingCall | None = None
        self.spider: Spider | None = None
        self.last = None
        if interval > 0:
            crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
            crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
            crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ProgressReport":
        return cls(crawler, crawler.settings.getfloat("NEWSARCHIVE_PROGRESS_INTERVAL", 0))

    def spider_opened(self, spider: Spider) -> None:
        self.spider = spider
        self.loop = task.LoopingCall(self.report, spider)
        self.loop.start(self.interval, now=False)

    def report(self, spider: Spider) -> None:
        stats = self.crawler.stats
        articles = stats.get_value("newsarchive/articles_archived", 0)
        line = (
            f"  {getattr(spider, 'source', spider).name}: "
            f"{stats.get_value(PAGES_FETCHED, 0)} fetched, "
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
