"""One line per failed URL: Scrapy's own error lines for the events the spider reports itself are dropped.

The retry middleware logs "Gave up retrying" for every URL it gives up on, the robots.txt
middleware logs a whole traceback when a host's robots.txt cannot be downloaded, and the
download handler a warning for a body over its download limit and for the first connection
that loses data, and the decompression middleware one for a body over it once decoded; the
spider already says, in one line naming the source, which URL failed and why (and the run
report lists it), and ``ConcurrentSafeRobotsTxtMiddleware`` says so for robots.txt.  Scrapy has no setting for these, so a logging filter on their loggers drops them.
"""

from __future__ import annotations

import logging

_SIZE_AND_DATA_LOSS = ("larger than download max size", "Got data loss in")
_REPEATS = {  # logger -> what its lines that repeat ours hold
    "scrapy.downloadermiddlewares.retry": ("Gave up retrying",),
    "scrapy.downloadermiddlewares.robotstxt": ("Error downloading",),
    "scrapy.core.downloader.handlers.http11": _SIZE_AND_DATA_LOSS,
    "scrapy.core.downloader.handlers._base_streaming": _SIZE_AND_DATA_LOSS,
    "scrapy.downloadermiddlewares.httpcompression": ("during decompression",),
}


class _Repeats(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        return not any(part in message for part in _REPEATS.get(record.name, ()))


_FILTER = _Repeats()


def drop_repeated_errors() -> None:
    """Install the filter (once, however many crawlers call it)."""
    for name in _REPEATS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
