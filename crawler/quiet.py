"""One line per failed URL: Scrapy's own error lines for the events the spider reports itself are dropped.

The retry middleware logs "Gave up retrying" for every URL it gives up on, and the robots.txt
middleware logs a whole traceback when a host's robots.txt cannot be downloaded; the spider
already says, in one line naming the source, which URL failed and why (and the run report
lists it), and ``ConcurrentSafeRobotsTxtMiddleware`` says so for robots.txt.  Scrapy has no
setting for either, so a logging filter on their loggers drops them.
"""

from __future__ import annotations

import logging

_RETRY_LOGGER = "scrapy.downloadermiddlewares.retry"
_ROBOTS_LOGGER = "scrapy.downloadermiddlewares.robotstxt"


class _Repeats(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == _RETRY_LOGGER:
            return not str(record.msg).startswith("Gave up retrying")
        return not str(record.msg).startswith("Error downloading")


_FILTER = _Repeats()


def drop_repeated_errors() -> None:
    """Install the filter (once, however many crawlers call it)."""
    for name in (_RETRY_LOGGER, _ROBOTS_LOGGER):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
