"""``newsarchive run``: crawl the chosen sources in one Scrapy process, then write the corpus.

A run holds the archive's lock throughout, skips sources that are backing off after failing
run after run, and leaves a report in ``runs/<timestamp>.json``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings
from scrapy.utils.reactor import install_reactor

from archive.atomic import write_atomic
from archive.lock import ArchiveLock
from archive.state import SourceHealth, open_state
from config import Config, Source
from crawler.spiders.news import NewsSpider

if TYPE_CHECKING:
    from crawler.pipelines import ExtractionService

EXIT_OK, EXIT_SOURCE_FAILED = 0, 1
_CLEAN_FINISH = {"finished", "closespider_pagecount", "closespider_timeout"}
RUNS_DIR = "runs"


@dataclass
class SourceResult:
    name: str
    fetched: int
    articles: int
    warc_files: list[str]
    finish_reason: str
    error: str | None
    new_articles: int = 0
    unchanged: int = 0  # 304s and identical payloads, written as revisit records
    skipped_known: int = 0  # articles archived before, not fetched again
    failed_fetches: int = 0  # HTTP >= 400 or a network error
    bytes_written: int = 0  # WARC bytes on disk
    duration: float = 0.0
    backoff_until: float | None = None  # set when the run skipped the source

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def status(self) -> str:
        if self.finish_reason == "backing off":
            return "skipped"
        return "failed" if self.failed else "ok"

    def summary(self) -> str:
        if self.status == "skipped":
            until = datetime.fromtimestamp(self.backoff_until, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            return f"{self.name} skipped (backing off until {until})"
        return (f"{self.name} {self.fetched} fetched, {self.new_articles} new, {self.unchanged} unchanged, "
                f"{self.failed_fetches} failed, {self.bytes_written / 1000:.1f} kB, {self.duration:.1f} s"
                + (" FAILED" if self.failed else ""))


@dataclass
class RunReport:
    """What one run did, per source; the exit code follows from it."""

    sources: list[SourceResult]
    articles_written: dict[str, int]
    started: float = field(default_factory=time.time)
    finished: float | None = None
    path: Path | None = None  # where the JSON report was written

    @property
    def exit_code(self) -> int:
        return EXIT_SOURCE_FAILED if any(result.failed for result in self.sources) else EXIT_OK

    @property
    def fetched(self) -> int:
        return sum(result.fetched for result in self.sources)

    @property
    def warc_files(self) -> list[str]:
        return [name for result in self.sources for name in result.warc_files]

    @property
    def run_id(self) -> str:
        moment = datetime.fromtimestamp(self.started, timezone.utc)
        return moment.strftime("%Y%m%dT%H%M%S.%f")[:-3] + "Z"

    def summary_lines(self) -> list[str]:
        """One line for the whole run, then one per failed source saying why."""
        where = f" — report {self.path.parent.name}/{self.path.name}" if self.path else ""
        lines = [f"run {self.run_id}: " + "; ".join(result.summary() for result in self.sources) + where]
        lines += [f"{result.name}: FAILED: {result.error}" for result in self.sources if result.failed]
        return lines

    def write(self, archive_dir: Path) -> Path:
        """Write ``runs/<run id>.json`` atomically (``newsarchive status`` reads these)."""
        self.finished = self.finished or time.time()
        document = {
            "run": self.run_id,
            "started": datetime.fromtimestamp(self.started, timezone.utc).isoformat(),
            "finished": datetime.fromtimestamp(self.finished, timezone.utc).isoformat(),
            "duration": round(self.finished - self.started, 3),
            "exit_code": self.exit_code,
            "sources": [{**asdict(result), "status": result.status} for result in self.sources],
        }
        self.path = Path(archive_dir) / RUNS_DIR / f"{self.run_id}.json"
        write_atomic(self.path, json.dumps(document, indent=1).encode("utf-8") + b"\n")
        return self.path


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
        error = f"none of its {len(source.seed_urls())} start URLs, feeds or sitemaps could be fetched"
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


def _skipped(health: SourceHealth) -> SourceResult:
    return SourceResult(health.name, 0, 0, [], "backing off", None, backoff_until=health.backoff_until)


def run_sources(config: Config, sources: tuple[Source, ...], *, extract: bool = True,
                progress_interval: float = 0.0, log_level: str = "WARNING",
                ignore_backoff: bool = False) -> RunReport:
    """Crawl ``sources`` under the archive lock (``ArchiveBusy`` if another run holds it)."""
    with ArchiveLock(config.archive.dir):
        started = time.time()
        state = open_state(config.archive.dir)
        try:
            health = {source.name: state.source_health(source.name) for source in sources}
            due = tuple(source for source in sources if ignore_backoff or not health[source.name].backing_off())
            report = _crawl(config, due, extract, progress_interval, log_level) if due else RunReport([], {})
            for result in report.sources:
                if result.finish_reason != "shutdown":  # stopped by us, not the source's fault
                    state.record_source_outcome(result.name, not result.failed, result.error)
        finally:
            state.close()
        done = {result.name: result for result in report.sources}
        report.sources = [done.get(source.name) or _skipped(health[source.name]) for source in sources]
        report.started = started
        report.write(config.archive.dir)
        return report


def _crawl(config: Config, sources: tuple[Source, ...], extract: bool, progress_interval: float,
           log_level: str) -> RunReport:
    Path(config.archive.dir, "warc").mkdir(parents=True, exist_ok=True)
    extraction = None
    if extract:  # imported here: a crawl without extraction does without the extractor's start-up
        from crawler.pipelines import ExtractionService

        extraction = ExtractionService(config.archive.extract_workers)
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
    written = extraction.write_corpus(config.archive.dir) if extraction is not None else []
    per_source = {result.name: 0 for result in results}
    for row in written:
        per_source[row["source"]] = per_source.get(row["source"], 0) + 1
    for result in results:
        result.new_articles = per_source[result.name]
    return RunReport(sources=results, articles_written=per_source)
