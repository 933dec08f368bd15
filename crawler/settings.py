"""Scrapy settings for an archival news crawler: polite, identifiable, and recording everything."""

from scrapy.settings import default_settings

BOT_NAME = "newsarchive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = "newsarchive-bot/0.1 (+https://github.com/newsarchive/newsarchive; archiving news for research)"
ROBOTSTXT_OBEY = True
ROBOTSTXT_USER_AGENT = "newsarchive-bot"
ROBOTSTXT_MAX_SIZE = 500 * 1024  # a larger robots.txt is read this far (RFC 9309 §2.5: at least 500 KiB)

# Politeness: few connections per site, AutoThrottle adapting to the server's latency.
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOADER = "crawler.politeness.SlotConcurrencyDownloader"  # Scrapy 2.19's lets a slot's queue all through
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
# Scrapy's, a page requisite's host given up as its 3rd network failure happens (crawler/politeness.py)
DOWNLOAD_HANDLERS = dict.fromkeys(("http", "https"), "crawler.politeness.RequisiteHostsHandler")
DOWNLOAD_MAXSIZE = 20 * 2**20  # extract/htmlinput.py MAX_PAGE_BYTES reads saved pages as far
DOWNLOAD_WARNSIZE = 0  # a page within the limit is archived as any other: no warning; one over it fails in one line
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 10
DEPTH_LIMIT = 4  # steps from a seed: start page, feed, article; sitemap indexes nested 3 deep
SPIDER_MIDDLEWARES = {  # each link the depth limit drops is said (crawler/bounds.py)
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "crawler.bounds.SaidDepthLimit": 900,
    "crawler.requisites.PageRequisites": 800,  # an article's images, CSS, scripts: however deep the article
}
# Pending requests wait on disk, not in memory: one sitemap can list 50,000 articles.
SCHEDULER = "crawler.frontier.DiskFrontierScheduler"
# First found, first fetched (Scrapy's default is last found first: a crawl cut short by max_pages
# took the end of a sitemap, its oldest stories, and a page's last links)
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"
# By priority across hosts: Scrapy's default (2.13 on) takes the host with the fewest requests in flight first, so a
# CDN's page requisites (a lower priority) went before the articles queued for the busy site, within max_pages.
SCHEDULER_PRIORITY_QUEUE = "scrapy.pqueues.ScrapyPriorityQueue"

# warcio reads gzip, deflate and (with a brotli module) br, never zstd.  We do not ask for br
# either: a br record needs a brotli module in every tool that ever reads the WARC, and the two
# Python ones conflict (pywb's brotlipy vs Google's Brotli).  Servers that send br anyway are
# archived as sent, extracted (archive/warcio_brotli.py) and replayed (tests/test_replay.py).
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en",
    "Accept-Encoding": "gzip, deflate",
}

COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = "INFO"

DOWNLOADER_MIDDLEWARES = {
    "crawler.incremental.ConditionalFetchMiddleware": 50,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.robots.ConcurrentSafeRobotsTxtMiddleware": 100,
    "crawler.politeness.RetryAfterMiddleware": 560,  # sees 429/503 before RetryMiddleware (550)
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.redirects.CleanMetaRefreshMiddleware": 580,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.redirects.CleanRedirectMiddleware": 600,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.decoding.DiscoveryDecompressionMiddleware": 590,
}
# Scrapy's stock extensions without RemoteControl, which is off (above) yet would still be
# imported, even if set to None in EXTENSIONS: its module loads aiohttp's web server, 0.1 s of
# every run's start.
EXTENSIONS_BASE = {name: order for name, order in default_settings.EXTENSIONS_BASE.items()
                   if not name.endswith(".RemoteControl")}
EXTENSIONS = {
    "crawler.capture.WarcCapture": 0,
    "crawler.progress.ProgressReport": 500,
    "crawler.politeness.CrawlDelay": 600,  # after AutoThrottle (0), so it has the last word on a slot's delay
}
CRAWL_DELAY_MAX = 60.0  # a robots.txt Crawl-delay above this is capped
RETRY_AFTER_MAX = 600.0  # a Retry-After above this gives the request up instead of waiting

# Where WarcCapture writes (WARC_DIR, NEWSARCHIVE_ARCHIVE_DIR, WARC_PREFIX, WARC_MAX_SIZE) comes from
# the sources file, under `newsarchive run` and `scrapy crawl` alike (crawler/source_settings.py).
