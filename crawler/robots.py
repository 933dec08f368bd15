"""robots.txt handling that keeps its promise under concurrency.

Scrapy ≥ 2.14's RobotsTxtMiddleware hands later waiters ``None`` ("no robots.txt") while the
file is still downloading: each ``asFuture`` callback on the shared Deferred returns None,
so the third request queued for a host goes out unchecked.  Here every waiter gets its own
Deferred fed from the shared one.

What robots.txt says when it gives no rules follows RFC 9309 §2.3.1, not Scrapy (which allows
everything whenever the file cannot be had, and reads an error page's body as rules): a 4xx
means there are none (allow all); a 5xx, a timeout or any network error means the site is
unreachable, so nothing is fetched from that host for the rest of the crawl (complete
disallow; the next run asks again).  Redirects that never reach a file (a loop, or more than
``REDIRECT_MAX_TIMES``) make it unavailable, as a 4xx (§2.3.1.2): everything is allowed.

A robots.txt larger than ``ROBOTSTXT_MAX_SIZE`` (500 KiB, the least RFC 9309 §2.5 lets a crawler read) is
read that far and its rules followed, as received or, content-coded, once decoded; Scrapy's download limit
cancelled it, which left the host unreachable.  One that is not in the coding its Content-Encoding names is read as
it came (a server that labels a plain file gzip); Scrapy made the host unreachable.  One whose coding breaks partway
(corrupt, or cut short) is read as far as it decodes, in one line of ours where zlib wrote one of its own per block.
"""

from __future__ import annotations

import logging
from weakref import WeakKeyDictionary

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.http import Headers, Request, Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred

from crawler.decoding import decoded_start

DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"

logger = logging.getLogger(__name__)


class RobotsUnreachable(IgnoreRequest):
    """A request not sent because its host's robots.txt is unreachable: counted as failed, unlike a disallow."""


def robots_rules(response: Response, max_size: int) -> tuple[bytes, str | None]:
    """The rules a robots.txt response gives (RFC 9309 §2.3.1.3-4): none for a 4xx, all disallowed for a 5xx,
    else its body decoded as far as one byte past ``max_size`` (a body not in its coding is read as it came, one
    broken partway as far as it decodes); and why its coding broke before, if it did."""
    if response.status >= 500:
        return DISALLOW_ALL, None
    return (b"", None) if response.status >= 400 else decoded_start(response, max_size + 1)


class ConcurrentSafeRobotsTxtMiddleware(RobotsTxtMiddleware):
    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self._unreachable: dict[str, str] = {}  # netloc -> why its robots.txt could not be read
        self.max_size = crawler.settings.getint("ROBOTSTXT_MAX_SIZE", 500 * 1024)
        self._received: WeakKeyDictionary[Request, int] = WeakKeyDictionary()  # robots.txt request -> bytes so far
        crawler.signals.connect(self._headers_received, signal=signals.headers_received)
        crawler.signals.connect(self._bytes_received, signal=signals.bytes_received)

    def _headers_received(self, headers: Headers, body_length: int | str, request: Request, **kwargs) -> None:
        """A robots.txt announced over ``max_size`` is not cancelled before its first byte for being over the
        download limit: its start is read (``_bytes_received`` stops it)."""
        # (``body_length`` is Twisted's UNKNOWN_LENGTH, a string, for a body sent in chunks: bytes_received stops it)
        if request.meta.get("dont_obey_robotstxt") and isinstance(body_length, int) and body_length > self.max_size:
            request.meta["download_maxsize"] = 0

    def _bytes_received(self, data: bytes, request: Request, **kwargs) -> None:
        """Stop a robots.txt past ``max_size``: Scrapy hands on what came so far, flagged "download_stopped"."""
        if request.meta.get("dont_obey_robotstxt"):
            received = self._received[request] = self._received.get(request, 0) + len(data)
            if received > self.max_size:
                raise StopDownload(fail=False)

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

    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        """Scrapy's check; a request refused because robots.txt was unreachable says so, for the run report."""
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest:
            reason = self._unreachable.get(urlparse_cached(request).netloc)
            if reason is None:
                raise
            raise RobotsUnreachable(f"robots.txt unreachable ({reason})") from None

    def _where(self, netloc: str) -> str:
        """A host as our lines name it: after the crawl's source, which can be told from the others on that host."""
        source = getattr(self.crawler.spider, "source", None)
        return f"{source.name}: {netloc}" if source else netloc

    def _disallow_all(self, netloc: str, reason: str) -> None:
        """One line: the host's robots.txt is unreachable, so nothing of it is fetched (RFC 9309 §2.3.1.4)."""
        self._unreachable[netloc] = reason
        logger.warning("%s: robots.txt unreachable (%s): nothing is fetched from this host in this crawl",
                       self._where(netloc), reason)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        rules, broken = robots_rules(response, self.max_size)
        coding = response.headers.get("Content-Encoding", b"identity").decode("latin-1")
        if response.status >= 500:
            self._stats.inc_value("robotstxt/server_error_disallow_all")
            self._disallow_all(netloc, f"HTTP {response.status}")
        elif rules and (len(rules) > self.max_size or "download_stopped" in response.flags):
            rules = rules[:self.max_size].rpartition(b"\n")[0]  # a line cut in two is not a rule
            self._stats.inc_value("robotstxt/cut")
            logger.warning("%s: robots.txt larger than %d KiB: its rules that far are followed, the rest is not read "
                           "(RFC 9309 §2.5)", self._where(netloc), self.max_size >> 10)
        elif broken:
            rules = rules.rpartition(b"\n")[0]  # a line cut in two is not a rule
            self._stats.inc_value("robotstxt/broken")
            logger.warning("%s: robots.txt breaks after %d bytes decoded (%s): its rules that far are followed, the "
                           "rest is not read (RFC 9309 §2.3.1.1)", self._where(netloc), len(rules), broken)
        elif coding.lower() != "identity" and rules and response.body.startswith(rules):  # the decoders gave up and read it as it came
            self._stats.inc_value("robotstxt/not_in_its_coding")
            logger.warning("%s: robots.txt is not %s as its Content-Encoding says: read as it came, its parseable "
                           "rules followed (RFC 9309 §2.3.1.1)", self._where(netloc), coding)
        await super()._parse_robots(response.replace(body=rules), netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        """No traceback (``crawler.quiet`` drops Scrapy's), and the host all disallowed: a dead host's pages
        go unasked rather than each waiting out its own timeouts and retries.  An ``IgnoreRequest`` with no
        cause is the redirect limit (a body over DOWNLOAD_MAXSIZE once decoded has its cause): the file is
        unavailable, so all is allowed."""
        if isinstance(exc, IgnoreRequest) and exc.__cause__ is None:
            self._stats.inc_value("robotstxt/redirects_allow_all")
            logger.warning("%s: robots.txt unavailable (%s): all allowed, as for a 404 (RFC 9309 §2.3.1.2)",
                           self._where(netloc), exc)
            rules = b""
        else:
            self._stats.inc_value("robotstxt/unreachable_disallow_all")
            self._disallow_all(netloc, str(exc) or type(exc).__name__)
            rules = DISALLOW_ALL
        parser = build_from_crawler(self._parserimpl, self.crawler, rules)
        waiting = self._parsers[netloc]
        self._parsers[netloc] = parser
        waiting.callback(parser)
