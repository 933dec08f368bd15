"""robots.txt handling that keeps its promise under concurrency.

Scrapy ≥ 2.14's RobotsTxtMiddleware hands later waiters ``None`` ("no robots.txt") while the
file is still downloading: each ``asFuture`` callback on the shared Deferred returns None,
so the third request queued for a host goes out unchecked.  Here every waiter gets its own
Deferred fed from the shared one.  A robots.txt answered with a 5xx is read as "disallow
everything" (RFC 9309 §2.3.1.4) rather than Scrapy's allow-all.
"""

from __future__ import annotations

import logging

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

_DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"

logger = logging.getLogger(__name__)


class ConcurrentSafeRobotsTxtMiddleware(RobotsTxtMiddleware):
    async def robot_parser(self, request: Request) -> RobotParser | None:
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if isinstance(pending, Deferred):
            waiter: Deferred = Deferred()

            def relay(result):
                waiter.callback(result)
                return result

            pending.addBoth(relay)
            return await maybe_deferred_to_future(waiter)
        return await super().robot_parser(request)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status >= 500:
            self._stats.inc_value("robotstxt/server_error_disallow_all")
            response = response.replace(body=_DISALLOW_ALL)
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        """One line (Scrapy's traceback is dropped, ``crawler.quiet``): the host's pages are then fetched
        as if robots.txt allowed them, and a dead host's pages fail on their own, each with its reason."""
        if not isinstance(exc, IgnoreRequest):
            logger.warning("%s: robots.txt could not be fetched: %s", netloc, str(exc) or type(exc).__name__)
        super()._robots_error(exc, netloc)
