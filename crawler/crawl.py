"""The Scrapy side of a run: one CrawlerProcess, a Crawler per source, and what each crawl did."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings
from scrapy.utils.reactor import install_reactor

from archive import WARC_DIR
from config import Config, Source
from crawler.archive_writer import archive_writer
from crawler.run import RunReport, SourceResult
from crawler.spiders.news import NewsSpider

if TYPE_CHECKING:
    from extract.service import ExtractionService

_CLEAN_FINISH = {"finished", "closespider_pagecount", "closespider_timeout"}


def crawl_settings(config: Config, source: Source, extraction: ExtractionService | None,
                   progress_interval: float = 0.0, log_level: str = "WARNING") -> Settings:
    """The project settings plus what this source and this config say."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    archive_dir = config.archive.dir
    overrides = {
        "NEWSARCHIVE_ARCHIVE_DIR": str(archive_dir),
        "WARC_DIR": str(archive_dir / WARC_DIR),
        "WARC_MAX_SIZE": config.archive.warc_max_size,
        "WARC_PREFIX": f"{config.archive.warc_prefix}-{source.name}",
        "NEWSARCHIVE_EXTRACT": extraction is not None,
        "WARC_INDEX_ON_CLOSE": extraction is None,  # else the extraction pool indexes them at the end
        "NEWSARCHIVE_PROGRESS_INTERVAL": progress_interval,
        "LOG_LEVEL": log_level,
        **config.crawl_settings(),
    }
    if extraction is None:  # nor is the extractor imported
        overrides["ITEM_PIPELINES"] = {}
    if source.max_pages:
        overrides["CLOSESPIDER_PAGECOUNT"] = source.max_pages
    settings.update(overrides, priority="cmdline")
    return settings


def _failed_fetches(stats: dict) -> int:
    prefix = "downloader/response_status_count/"
    errors = sum(count for key, count in stats.items() if key.startswith(prefix) and int(key[len(prefix):]) >= 400)
    ignored = stats.get("downloader/exception_type_count/scrapy.exceptions.IgnoreRequest", 0)  # robots, known
    return errors + stats.get("downloader/exception_count", 0) - ignored


def _result(crawler: Crawler, source: Source) -> SourceResult:
    stats = crawler.stats.get_stats()
    warc_dir = Path(crawler.settings.get("WARC_DIR"))
    reason = stats.get("finish_reason", "not started")
    error = None
    if reason not in _CLEAN_FINISH:
        error = f"crawl ended: {reason}"
    elif not stats.get("newsarchive/seed_ok"):
        error = f"none of its {len(source.seed_urls())} start URLs, feeds or sitemaps could be fetched and read"
    elif stats.get("warc/failed"):
        error = f"{stats['warc/failed']} fetches could not be archived (see the log)"
    return SourceResult(
        name=source.name,
        fetched=stats.get("downloader/response_count", 0),
        articles=stats.get("newsarchive/articles_queued", 0),
        warc_files=stats.get("warc/files", []),
        finish_reason=reason,
        error=error,
        unchanged=sum(count for key, count in stats.items() if key.startswith("newsarchive/revisit/")),
        skipped_known=stats.get("newsarchive/skipped_known", 0),
        failed_fetches=_failed_fetches(stats),
        bytes_written=sum((warc_dir / name).stat().st_size for name in stats.get("warc/files", [])
                          if (warc_dir / name).exists()),
        duration=round(stats.get("elapsed_time_seconds", 0.0), 3),
    )


def crawl_sources(config: Config, sources: tuple[Source, ...], extraction: ExtractionService | None,
                  progress_interval: float, log_level: str) -> RunReport:
    """Crawl ``sources`` in one Scrapy process, then have ``extraction`` (if any) write the corpus."""
    # Each source's Crawler is built here with its own settings, so install the reactor
    # that CrawlerProcess would otherwise install through the first crawler it creates.
    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    # The WARC writer process loads while the crawlers are built; the first to open takes it over.
    # (Should none open it, it reads end of input when this process exits, and stops.)
    archive_writer()
    process = CrawlerProcess({"LOG_LEVEL": log_level, "TELNETCONSOLE_ENABLED": False,
                              "REMOTE_CONTROL_ENABLED": False})
    crawlers = []
    for source in sources:
        crawler = Crawler(NewsSpider, crawl_settings(config, source, extraction, progress_interval, log_level))
        process.crawl(crawler, source=source, extraction=extraction)
        crawlers.append((crawler, source))
    process.start()
    results = [_result(crawler, source) for crawler, source in crawlers]
    written = []
    if extraction is not None:
        extraction.index_warcs(config.archive.dir)
        written = extraction.write_corpus(config.archive.dir)
    per_source = {result.name: 0 for result in results}
    for row in written:
        per_source[row["source"]] = per_source.get(row["source"], 0) + 1
    for result in results:
        result.new_articles = per_source[result.name]
    return RunReport(sources=results, articles_written=per_source)
