"""In a run bounded by ``max_pages``, a page requisite (crawler/requisites.py) waits while a page is in progress:
that page may name more articles, and the bound is spent on those first.  A requisite's lower priority alone
orders it only after the articles already queued.  Both schedulers ask here (crawler/frontier.py on one machine,
crawler/cluster.py for a worker of a shared crawl, its own pages).

A page is in progress while it waits its turn at its host, is fetched, or is being read; not once its server has
sent nothing for a third of the download timeout: it hangs, most likely, and it held every requisite through its
timeout and retries (3 x 30 s by default) to list nothing in the end.
"""

from __future__ import annotations

from collections.abc import Callable

from scrapy import Request
from scrapy.crawler import Crawler

from archive.capture import ROLE_REQUISITE

SILENCE_SHARE = 1 / 3  # of DOWNLOAD_TIMEOUT: a page's server silent that long no longer holds the requisites


def requisite_waits(crawler: Crawler, head: Callable[[], Request | None]) -> bool:
    """Whether the queue's next request, ``head()`` (asked only when it matters), is a page requisite that waits
    for the pages in progress."""
    if getattr(getattr(crawler.spider, "source", None), "max_pages", None) is None:
        return False
    engine = crawler.engine
    patience = crawler.settings.getfloat("DOWNLOAD_TIMEOUT") * SILENCE_SHARE

    def fetched_in_time(request: Request) -> bool:
        silent = engine.downloader.silent_for(request)
        return silent is None or silent < patience

    if not (any(_page(request) and fetched_in_time(request) for request in engine.downloader.active)
            or any(_page(request) for request in engine.scraper.slot.active)):
        return False
    request = head()
    return request is not None and request.meta.get("role") == ROLE_REQUISITE


def _page(request: Request) -> bool:
    """Not a requisite, nor robots.txt."""
    return request.meta.get("role") != ROLE_REQUISITE and not request.meta.get("dont_obey_robotstxt")
