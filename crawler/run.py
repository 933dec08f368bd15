"""``newsarchive run``: crawl the chosen sources in one Scrapy process, then write the corpus."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings
from scrapy.utils.reactor import install_reactor

from config import Config, Source
from crawler.pipelines import ExtractionService
from crawler.spiders.news import NewsSpider
from extract.corpus import write_corpus

EXIT_OK, EXIT_SOURCE_FAILED = 0, 1
_CLEAN_FINISH = {"finished", "closespider_pagecount", "closespider_timeout"}


@dataclass
class SourceResult:
    name: str
    fetched: int
    articles: int
    warc_files: list[str]
    finish_reason: str
    error: str | None

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass
class RunReport:
    """What one run did, per source; the exit code follows from it."""

    sources: list[SourceResult]
    articles_written: dict[str, int]

    @property
    def exit_code(self) -> int:
        return EXIT_SOURCE_FAILED if any(result.failed for result in self.sources) else EXIT_OK

    @property
    def fetched(self) -> int:
        return sum(result.fetched for result in self.sources)

    @property
    def warc_files(self) -> list[str]:
        return [name for result in self.sources for name in result.warc_files]

    def summary_lines(self) -> list[str]:
        lines = []
        for result in self.sources:
            status = f"FAILED: {result.error}" if result.failed else "ok"
            lines.append(
                f"{result.name}: {result.fetched} fetched, {self.articles_written.get(result.name, 0)} "
                f"articles written, {len(result.warc_files)} WARC file(s) — {status}"
            )
        return lines


def crawl_settings(config: Config, source: Source, extraction: ExtractionService | None,
                   progress_interval: float = 0.0, log_level: str = "WARNING") -> Settings:
    """The project settings plus what this source and this config say."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    archive_dir = config.archive.dir
    overrides = {
        "NEWSARCHIVE_ARCHIVE_DIR": str(archive_dir),
        "WARC_DIR": str(archive_dir / "warc"),
        "WARC_MAX_SIZE": config.archive.warc_max_size,
        "WARC_PREFIX": f"{config.archive.warc_prefix}-{source.name}",
        "NEWSARCHIVE_EXTRACT": extraction is not None,
        "NEWSARCHIVE_PROGRESS_INTERVAL": progress_interval,
        "LOG_LEVEL": log_level,
        **config.crawl_settings(),
    }
    if source.max_pages:
        overrides["CLOSESPIDER_PAGECOUNT"] = source.max_pages
    settings.update(overrides, priority="cmdline")
    return settings


def _result(crawler: Crawler, source: Source) -> SourceResult:
    stats = crawler.stats.get_stats()
    reason = stats.get("finish_reason", "not started")
    error = None
    if reason not in _CLEAN_FINISH:
        error = f"crawl ended: {reason}"
    elif not stats.get("newsarchive/seed_ok"):
        error = f"none of its {len(source.seed_urls())} start URLs, feeds or sitemaps could be fetched"
    return SourceResult(
        name=source.name,
        fetched=stats.get("downloader/response_count", 0),
        articles=stats.get("newsarchive/articles_queued", 0),
        warc_files=stats.get("warc/files", []),
        finish_reason=reason,
        error=error,
    )


def run_sources(config: Config, sources: tuple[Source, ...], *, extract: bool = True,
                progress_interval: float = 0.0, log_level: str = "WARNING") -> RunReport:
    """Crawl ``sources`` concurrently, archive everything, extract articles."""
    Path(config.archive.dir, "warc").mkdir(parents=True, exist_ok=True)
    extraction = ExtractionService(config.archive.extract_workers) if extract else None
    # Each source's Crawler is built here with its own settings, so install the reactor
    # that CrawlerProcess would otherwise install through the first crawler it creates.
    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    process = CrawlerProcess({"LOG_LEVEL": log_level, "TELNETCONSOLE_ENABLED": False,
                              "REMOTE_CONTROL_ENABLED": False})
    crawlers = []
    for source in sources:
        crawler = Crawler(NewsSpider, crawl_settings(config, source, extraction, progress_interval, log_level))
        process.crawl(crawler, source=source, extraction=extraction)
        crawlers.append((crawler, source))
    process.start()
    results = [_result(crawler, source) for crawler, source in crawlers]
    written = write_corpus(config.archive.dir, extraction.finish()) if extraction is not None else []
    per_source = {result.name: 0 for result in results}
    for row in written:
        per_source[row["source"]] = per_source.get(row["source"], 0) + 1
    return RunReport(sources=results, articles_written=per_source)
