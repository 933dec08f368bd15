"""Item pipeline: hand archived article records to extraction worker processes.

Extraction runs in other processes so that crawling and extracting use both cores; the
workers read the record back from the WARC, exactly as a later rebuild does.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.utils.defer import maybe_deferred_to_future

from crawler.items import ArchivedArticle
from extract.corpus import ExtractedArticle, extract_capture, write_corpus

logger = logging.getLogger(__name__)


class ExtractionService:
    """A pool of extraction processes shared by the crawls of one run."""

    def __init__(self, workers: int):
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"),
                                         initializer=importlib.import_module, initargs=("extract.corpus",))
        # Start the workers now, so that their imports overlap the crawl's start rather than delay
        # the first extraction.
        for _ in range(workers):
            self._pool.submit(int)
        self._jobs: list[tuple[str, Future]] = []

    def submit(self, source: str, warc_path: Path, offset: int) -> None:
        self._jobs.append((f"{warc_path.name}@{offset}", self._pool.submit(extract_capture, source, warc_path, offset)))

    def _extracted(self) -> list[ExtractedArticle]:
        """Wait for every job; log the ones that failed, return the others."""
        articles = []
        for where, future in self._jobs:
            try:
                articles.append(future.result())
            except Exception as exc:
                logger.error("extraction failed for %s: %s", where, exc)
        self._jobs.clear()
        return articles

    def write_corpus(self, archive_dir: Path) -> list[dict]:
        """Wait for the extractions, then write the corpus, its sites redone on the pool's processes."""
        try:
            return write_corpus(archive_dir, self._extracted(), executor=self._pool)
        finally:
            self._pool.shutdown()


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
