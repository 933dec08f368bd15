"""``newsarchive run``: crawl the chosen sources in one Scrapy process while a derivation
process brings the corpus up to date with the WARCs.

The two meet only in the archive: the crawl writes WARCs, the derivation reads them (what
this run archives and whatever an interrupted run left underived).  A run holds the
archive's lock throughout, skips sources that are backing off after failing run after run,
and leaves a report in ``runs/<timestamp>.json``.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from archive import WARC_DIR
from archive.atomic import write_atomic
from archive.lock import ArchiveLock
from archive.recover import close_abandoned_warcs
from archive.state import STATE_DIR, SourceHealth, open_state
from browse.report import write_run_html
from config import Config, ConfigError, Source
from corpus.derive import DeriveReport
from corpus.process import DerivationProcess

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_SOURCE_FAILED = 0, 1
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
    derive_error: str | None = None  # the corpus could not be brought up to date
    rewritten_texts: int = 0  # earlier text files changed by what this run's articles taught
    started: float = field(default_factory=time.time)
    finished: float | None = None
    path: Path | None = None  # where the JSON report was written

    @property
    def exit_code(self) -> int:
        failed = self.derive_error is not None or any(result.failed for result in self.sources)
        return EXIT_SOURCE_FAILED if failed else EXIT_OK

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
        if self.derive_error:
            lines.append(f"corpus: FAILED: {self.derive_error}")
        return lines

    def write(self, archive_dir: Path) -> Path:
        """Write ``runs/<run id>.json`` atomically (``newsarchive status`` reads these), and its HTML beside it."""
        self.finished = self.finished or time.time()
        document = {
            "run": self.run_id,
            "started": datetime.fromtimestamp(self.started, timezone.utc).isoformat(),
            "finished": datetime.fromtimestamp(self.finished, timezone.utc).isoformat(),
            "duration": round(self.finished - self.started, 3),
            "exit_code": self.exit_code,
            "sources": [{**asdict(result), "status": result.status} for result in self.sources],
            "corpus": {"new_articles": self.articles_written, "rewritten_texts": self.rewritten_texts,
                       "error": self.derive_error},
        }
        self.path = Path(archive_dir) / RUNS_DIR / f"{self.run_id}.json"
        write_atomic(self.path, json.dumps(document, indent=1).encode("utf-8") + b"\n")
        write_run_html(self.path)
        return self.path


def _skipped(health: SourceHealth) -> SourceResult:
    return SourceResult(health.name, 0, 0, [], "backing off", None, backoff_until=health.backoff_until)


def _prepare_archive(config: Config) -> None:
    """Create the archive directory and the ones a run needs first, or say in the config's terms why not."""
    for path in (config.archive.dir, config.archive.dir / WARC_DIR, config.archive.dir / STATE_DIR):
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"{config.path}: [archive] dir: cannot create {path}: {exc.strerror or exc}") from None


def run_sources(config: Config, sources: tuple[Source, ...], *, extract: bool = True,
                progress_interval: float = 0.0, log_level: str = "WARNING",
                ignore_backoff: bool = False) -> RunReport:
    """Crawl ``sources`` under the archive lock (``ArchiveBusy`` if another run holds it), deriving the corpus.

    An archive directory that cannot be made raises ``ConfigError`` before anything is fetched.
    """
    _prepare_archive(config)
    with ArchiveLock(config.archive.dir):
        started = time.time()
        close_abandoned_warcs(config.archive.dir)  # a dead run's .open files, for the derivation to read
        state = open_state(config.archive.dir)
        try:
            health = {source.name: state.source_health(source.name) for source in sources}
            due = tuple(source for source in sources if ignore_backoff or not health[source.name].backing_off())
            derivation = DerivationProcess(config.archive.dir, config.archive.extract_workers) if extract else None
            try:
                results = _crawl(config, due, progress_interval, log_level) if due else []
            finally:
                derived = _finish(derivation, config) if derivation else None
            for result in results:
                if result.finish_reason != "shutdown":  # stopped by us, not the source's fault
                    state.record_source_outcome(result.name, not result.failed, result.error)
        finally:
            state.close()
        report = RunReport(results, {})
        if derived is not None:
            report.articles_written = {result.name: derived.new_rows.get(result.name, 0) for result in results}
            for result in results:
                result.new_articles = report.articles_written[result.name]
            report.rewritten_texts = derived.rewritten_texts
        elif extract:
            report.derive_error = ("the derivation process died twice; the WARCs keep every capture, "
                                   "and `newsarchive derive` brings the corpus up to date")
        done = {result.name: result for result in report.sources}
        report.sources = [done.get(source.name) or _skipped(health[source.name]) for source in sources]
        report.started = started
        report.write(config.archive.dir)
        return report


def _finish(derivation: DerivationProcess, config: Config) -> DeriveReport | None:
    """Let the derivation catch up; if it died, a new one takes over from what it committed."""
    report = derivation.finish()
    if report is None:
        logger.error("the derivation process died (exit code %s); a new one catches up from the WARCs",
                     derivation.exit_code())
        report = DerivationProcess(config.archive.dir, config.archive.extract_workers, follow=False).finish()
    return report


def _crawl(config: Config, sources: tuple[Source, ...], progress_interval: float,
           log_level: str) -> list[SourceResult]:
    # Scrapy is imported only now (a run that skips every source never loads it).
    from crawler.crawl import crawl_sources

    return crawl_sources(config, sources, progress_interval, log_level)
