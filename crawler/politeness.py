"""What a site asks of crawlers that come back every few hours, honoured.

- ``CrawlDelay`` (extension): robots.txt ``Crawl-delay``.  Scrapy parses it
  (``RobotParser.crawl_delay``, 2.18) but does not apply it (scrapy#892).  Once robots.txt
  is parsed, when a slot is made, and after AutoThrottle retunes a slot on each response, the host's
  download slot is held to at least the Crawl-delay, without jitter (which could halve it).
- ``RetryAfterMiddleware`` (downloader middleware): a 429 or 503 with ``Retry-After`` holds
  every request to that slot until the time given; Scrapy's RetryMiddleware would retry at
  once.  A wait longer than ``RETRY_AFTER_MAX`` is not waited for: the request is given up
  (a failed fetch; the source's run fails, which feeds the back-off between runs, only if no seed
  was read); its ``retry_after_refused`` meta holds the wait asked and the longest waited, so the failure line can say it.
  The host has asked to be left alone for longer than the run lasts: its other requests this run
  are not sent (``HostLeftAlone``, neither failed nor fetched, so the next run asks for them), and
  one line per host says how many.
- ``RequisiteHostsHandler`` (the http and https ``DOWNLOAD_HANDLERS``): a host on which ``MAX_HOST_FAILURES`` page
  requisites failed on the network is given up (``hosts_given_up``) as the last of them fails.
- ``SlotConcurrencyDownloader`` (the ``DOWNLOADER``): Scrapy's, with
  ``CONCURRENT_REQUESTS_PER_DOMAIN`` kept when a slot has several requests queued at once; a page requisite
  queued for a host given up is dropped when its turn comes; how long the server of a request on its way has
  said nothing (``silent_for``), so that a hanging page is told from one still coming (crawler/requisite_hold.py).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

from scrapy import Request, signals
from scrapy.core.downloader import Downloader, Slot
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.asyncio import call_later, sleep
from scrapy.utils.defer import _schedule_coro

from archive.capture import ROLE_REQUISITE


class CrawlDelay:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.user_agent = settings.get("ROBOTSTXT_USER_AGENT") or settings.get("USER_AGENT")
        self.max_delay = settings.getfloat("CRAWL_DELAY_MAX", 60.0)
        self.delays: dict[str, float] = {}  # download slot key -> Crawl-delay
        crawler.signals.connect(self.robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(self.hold_slot, signal=signals.response_downloaded)
        # A slot made after robots.txt was read (rules read from a cluster's Redis, a slot made anew
        # after Scrapy dropped an idle one) gets the Crawl-delay before its first request goes out.
        crawler.signals.connect(self.hold_slot, signal=signals.request_reached_downloader)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlDelay:
        return cls(crawler)

    def robots_parsed(self, robotparser: RobotParser, request: Request) -> None:
        delay = robotparser.crawl_delay(self.user_agent)
        if delay:
            key = self.crawler.engine.downloader.get_slot_key(request)
            self.delays[key] = min(delay, self.max_delay)
            self.crawler.stats.set_value(f"politeness/crawl_delay/{key}", self.delays[key])
            self._hold(key)

    def hold_slot(self, request: Request) -> None:
        key = self.crawler.engine.downloader.get_slot_key(request)
        if key in self.delays:
            self._hold(key)

    def _hold(self, key: str) -> None:
        slot = self.crawler.engine.downloader.slots.get(key)
        if slot is not None:
            slot.delay = max(slot.delay, self.delays[key])
            slot.jitter = 0.0


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delay-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


def wait_words(seconds: float) -> str:
    """A wait as an operator reads it: "90 s", "10 min", "2 h", "3 days"; a Retry-After may name any year."""
    for unit, size, below in (("s", 1, 120), ("min", 60, 7200), ("h", 3600, 172800), ("days", 86400, 3.2e7)):
        if seconds < below:
            return f"{round(seconds / size)} {unit}"
    return "more than a year"


def retry_after_refused(request: Request) -> str:
    """What a failure line adds for a Retry-After longer than the crawl waits; "" for any other failure."""
    asked = request.meta.get("retry_after_refused")  # (the wait asked, the longest the crawl waits)
    if asked is None:
        return ""
    seconds, max_wait = asked
    return (f", asked to retry after {wait_words(seconds)}: longer than this run waits"
            f" ({wait_words(max_wait)} at most); tried again next run")


# Page requisites of one host that failed on the network (timeouts, refused or reset connections) before the rest of
# that host's are not asked for this run: a CDN that hangs costs a few timeouts, not one a file.
MAX_HOST_FAILURES = 3
_given_up: WeakKeyDictionary[Crawler, set[str]] = WeakKeyDictionary()


def hosts_given_up(crawler: Crawler) -> set[str]:
    """The hosts (``host:port``) whose page requisites a crawl no longer asks for: a CDN that hangs."""
    return _given_up.setdefault(crawler, set())


class RequisiteHostsHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP(S) download handler, counting each page requisite that fails on the network as it fails.

    Counted here, before its download slot takes its next request: counted in the request's errback, later, each
    failure had let one more request out to the host, a round of its concurrency after it was given up.
    """

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.network_failures: Counter[str] = Counter()

    async def download_request(self, request: Request) -> Response:
        try:
            return await super().download_request(request)
        except Exception:
            if request.meta.get("role") == ROLE_REQUISITE:
                self._failed(urlsplit(request.url).netloc)
            raise

    def _failed(self, host: str) -> None:
        self.network_failures[host] += 1
        if self.network_failures[host] == MAX_HOST_FAILURES:
            hosts_given_up(self._crawler).add(host)
            spider = self._crawler.spider
            spider.logger.warning("%s: %s: %d page requisites failed on the network: its others are not asked for "
                                  "this run", spider.source.name, host, MAX_HOST_FAILURES)


class HostLeftAlone(IgnoreRequest):
    """A request not sent: its host asked earlier in the run for a longer wait than the run waits."""

    def __init__(self, slot_key: str):
        super().__init__(f"not sent: {slot_key} asked to be left alone")


@dataclass
class LeftAlone:
    seconds: float  # the Retry-After that asked for it
    status: int
    says_so: bool = True  # this process says it (in a cluster, the first worker that got it)
    not_sent: int = 0


class RetryAfterMiddleware:
    STATUSES = (429, 503)

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.max_wait = crawler.settings.getfloat("RETRY_AFTER_MAX", 600.0)
        self.paused_until: dict[str, float] = {}  # download slot key -> time.monotonic()
        self.left_alone: dict[str, LeftAlone] = {}  # download slot key -> what its host asked
        crawler.signals.connect(self.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        key = self.crawler.engine.downloader.get_slot_key(request)
        wait = self.paused_until.get(key, 0.0) - time.monotonic()
        if wait > 0 and key not in self.left_alone:
            self.stats.inc_value("politeness/retry_after_waits")
            await sleep(wait)
        if key in self.left_alone:  # (asked while this one waited, too)
            raise self._not_sent(key)

    def _asked_wait(self, response: Response) -> float | None:
        if response.status not in self.STATUSES:
            return None
        return retry_after_seconds(response.headers.get("Retry-After"))

    def process_response(self, request: Request, response: Response) -> Response:
        seconds = self._asked_wait(response)
        if seconds is None:
            return response
        if seconds > self.max_wait:
            self.stats.inc_value("politeness/retry_after_too_long")
            request.meta["dont_retry"] = True
            request.meta["retry_after_refused"] = (seconds, self.max_wait)
            return response
        key = self.crawler.engine.downloader.get_slot_key(request)
        self.paused_until[key] = max(self.paused_until.get(key, 0.0), time.monotonic() + seconds)
        return response

    def response_downloaded(self, response: Response, request: Request) -> None:
        """No more requests to a host that asked for more than the run waits, those in its slot's queue too.

        Said here, before the slot takes its next request off the queue (process_response comes later).
        """
        seconds = self._asked_wait(response)
        key = self.crawler.engine.downloader.get_slot_key(request)
        if seconds is None or seconds <= self.max_wait or key in self.left_alone:
            return
        self.left_alone[key] = LeftAlone(seconds, response.status, self._first_to_say(key))
        slot = self.crawler.engine.downloader.slots.get(key)
        while slot is not None and slot.queue:
            _, queued = slot.queue.popleft()
            queued.errback(self._not_sent(key))

    # Whether the line is said when this process held back none of the host's requests (it is the one to say it)
    say_with_none_held = False

    def _first_to_say(self, key: str) -> bool:
        """Whether this process is the one to say that ``key``'s host asked to be left alone."""
        return True

    def _not_sent(self, key: str) -> HostLeftAlone:
        self.left_alone[key].not_sent += 1
        self.stats.inc_value("politeness/left_alone_not_sent")
        return HostLeftAlone(key)

    def spider_closed(self, spider) -> None:
        for key, host in self.left_alone.items():
            if host.says_so and (host.not_sent or self.say_with_none_held):
                held = f"its {host.not_sent} other requests this run were not sent" if host.not_sent else \
                    "no other request of it is sent this run"
                spider.logger.warning(
                    "%s: %s asked to be left alone for %s (HTTP %d Retry-After): %s; tried again next run",
                    spider.source.name, key, wait_words(host.seconds), host.status, held)


class SlotConcurrencyDownloader(Downloader):
    """Scrapy's downloader, its per-slot concurrency kept with no download delay.

    Scrapy 2.19 starts each request it takes from a slot's queue as an asyncio task, and the
    request only counts against the slot's concurrency once that task first runs.  So one pass
    over a queue, or several passes before the loop turns, start every queued request: with
    ``DOWNLOAD_DELAY = 0``, a sitemap's articles went out 30 at a time to one host with
    ``CONCURRENT_REQUESTS_PER_DOMAIN = 2`` (a new connection each, as the pool keeps two).
    Here a request counts from the moment it leaves the queue; the rest is Scrapy's own.
    """

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self._heard: WeakKeyDictionary[Request, float] = WeakKeyDictionary()  # sent, or last bytes from its server
        crawler.signals.connect(self._heard_from, signal=signals.headers_received)
        crawler.signals.connect(self._heard_from, signal=signals.bytes_received)

    def _heard_from(self, request: Request, **kwargs) -> None:
        self._heard[request] = time.monotonic()

    def silent_for(self, request: Request) -> float | None:
        """Seconds since ``request`` was sent or its server last sent anything; None while it waits its turn."""
        heard = self._heard.get(request)
        return None if heard is None else time.monotonic() - heard

    def _process_queue(self, slot: Slot) -> None:
        if slot.latercall:
            return
        now = time.monotonic()
        delay = slot.download_delay()
        if delay:
            penalty = delay - now + slot.lastseen
            if penalty > 0:
                slot.latercall = call_later(penalty, self._latercall, slot)
                return
        given_up = hosts_given_up(self.crawler)
        while slot.queue and slot.free_transfer_slots() > 0:
            request = slot.queue[0][0]
            if request.meta.get("role") == ROLE_REQUISITE and (host := urlsplit(request.url).netloc) in given_up:
                slot.queue.popleft()[1].errback(IgnoreRequest(f"{host}: its page requisites are not asked this run"))
                continue
            wait = self._turn(slot)
            if wait is None:  # the request at the head is not sent, and has left the queue
                continue
            if wait > 0:
                slot.latercall = call_later(wait, self._latercall, slot)
                return
            slot.lastseen = now
            request, queue_dfd = slot.queue.popleft()
            slot.transferring.add(request)  # Scrapy adds it only when the task below starts
            self._heard[request] = now
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))
            if delay:
                self._process_queue(slot)
                break

    def _turn(self, slot: Slot) -> float | None:
        """Seconds before the request at the head of ``slot``'s queue may go out; 0: now; None: never (it has been
        taken off the queue and failed).

        This process alone decides here; a cluster's downloader also asks the other workers.
        """
        return 0.0
