"""Item pipeline: hand archived article records to the extraction service's worker processes."""

from __future__ import annotations

from pathlib import Path

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.utils.defer import maybe_deferred_to_future

from crawler.items import ArchivedArticle
from extract.service import ExtractionService


class ExtractionPipeline:
    """Queues each ``ArchivedArticle`` for extraction.

    Under ``newsarchive run`` the run owns the service (handed to the spider as its
    ``extraction`` argument) and writes the corpus once all sources are done; under a bare ``scrapy crawl`` the
    pipeline owns one and writes the corpus when the spider closes.
    """

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.archive_dir = Path(settings.get("NEWSARCHIVE_ARCHIVE_DIR", "data"))
        self.warc_dir = Path(settings.get("WARC_DIR"))
        self.enabled = settings.getbool("NEWSARCHIVE_EXTRACT", True)
        self.crawler = crawler
        self.stats = crawler.stats
        self.shared: ExtractionService | None = None
        self.service: ExtractionService | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ExtractionPipeline":
        return cls(crawler)

    def open_spider(self, spider: Spider | None = None) -> None:
        if not self.enabled:
            return
        self.shared = getattr(self.crawler.spider, "extraction", None)
        self.service = self.shared or ExtractionService(workers=2)

    async def process_item(self, item: ArchivedArticle, spider: Spider | None = None) -> ArchivedArticle:
        if not self.enabled:
            return item
        archived = await maybe_deferred_to_future(item.archived)
        if archived is not None:
            location = archived.locations[0]
            self.service.submit(item.source, self.warc_dir / location.warc_file, location.offset)
            self.stats.inc_value("newsarchive/articles_queued")
        return item

    def close_spider(self, spider: Spider | None = None) -> None:
        if self.enabled and self.shared is None:
            self.service.write_corpus(self.archive_dir)
