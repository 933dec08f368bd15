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
import signal
import sqlite3
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from archive import WARC_DIR
from archive.atomic import write_atomic
from archive.check import StateDamaged, damaged_state_message
from archive.lock import ArchiveLock, check_writable, why_not_made
from archive.recover import close_abandoned_warcs
from archive.writer import warc_date
from archive.state import STATE_DIR, SourceHealth, open_state, state_path
from browse.report import HISTORY, write_run_html
from config import Config, ConfigError, Source
from corpus.counts import counted, new_texts
from corpus.derive import DeriveReport
from corpus.store import STORE_FILE, TEXT_DIR, CorpusStore
from corpus.process import DerivationProcess
from crawler.cluster_presence import present
from crawler.run_reports import RUNS_DIR, RunSpan, begin_run, end_run, open_index, read_last_runs, sources_with_runs
from supervision import note_stop_requests

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_SOURCE_FAILED = 0, 1
STOP_GRACE = 30.0  # after a stop request, how long the corpus may go on catching up before the run stops


@dataclass
class SourceResult:
    name: str
    fetched: int
    articles: int
    warc_files: list[str]
    finish_reason: str
    error: str | None
    new_articles: int = 0  # of the pages this run fetched: URLs new to the corpus
    new_versions: int = 0  # of the pages this run fetched: new versions (a correction) of articles the corpus held
    from_earlier_runs: int = 0  # articles derived from earlier runs' WARCs (their corpus did not catch up)
    from_unfinished_runs: int = 0  # articles of runs that did not finish, derived by them or by this run
    versions_from_earlier_runs: int = 0  # new versions of articles, likewise
    versions_from_unfinished_runs: int = 0
    derived: bool = True  # False when the run did not bring the corpus up to date (--no-extract, its derivation
    # failed or was stopped): its new articles are not counted
    unchanged: int = 0  # 304s and identical payloads, written as revisit records
    identical: int = 0  # of those, payloads archived before (at any URL): on a new archive too
    skipped_known: int = 0  # articles archived before, not fetched again
    skipped_old: int = 0  # feed and sitemap entries dated older than the source's max_age, not fetched
    offsite_redirects: int = 0  # redirects off the source's site (allowed_domains), not followed
    offsite_redirect_example: str = ""  # the first of them, "URL -> URL"
    failed_fetches: int = 0  # URLs that could not be fetched (HTTP >= 400, a network error), after retries
    failures: list[dict] = field(default_factory=list)  # {"url", "reason"} of each (the first 1,000)
    not_extracted: list[dict] = field(default_factory=list)  # article pages archived that are no HTML page with
    # status 200, so the derivation passes them over: {"url", "reason"} of each (the first 1,000)
    bytes_written: int = 0  # WARC bytes on disk
    duration: float = 0.0
    counts_for_backoff: bool = True  # False for a cluster worker that left a shared crawl another was still in
    backoff_until: float | None = None  # set when the run skipped the source

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def status(self) -> str:
        if self.finish_reason == "backing off":
            return "skipped"
        if self.finish_reason == "shutdown":  # Ctrl-C, SIGTERM, the service's time limit: on request
            return "stopped"
        return "failed" if self.failed else "ok"

    def summary(self) -> list[str]:
        """A few short lines for a person: the outcome, the counts, then revisits and failures if any."""
        if self.status == "skipped":
            until = datetime.fromtimestamp(self.backoff_until, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            return [f"{self.name} skipped (backing off until {until})"]
        outcome = {"failed": f"FAILED: {self.error}", "stopped": "STOPPED on request"}.get(self.status, "ok")
        made = (new_texts(self.new_articles, self.new_versions) if self.derived
                else f"{counted(self.articles, 'article')} archived, not derived")
        lines = [f"{self.name}: {outcome}",
                 f"  {self.fetched} fetched, {made}, {self.bytes_written / 1000:.1f} kB, {self.duration:.1f} s"]
        revisits = [f"{count} {what}" for count, what in (
            (self.unchanged - self.identical, "not modified since the last fetch"),
            (self.identical, "same bytes as an earlier capture")) if count]
        if revisits:
            lines.append("  archived as revisits: " + ", ".join(revisits))
        if self.skipped_known:
            lines.append(f"  not fetched again: {self.skipped_known} articles archived before")
        if self.skipped_old:
            lines.append(f"  not fetched: {self.skipped_old} entries dated older than max_age")
        if self.offsite_redirects:
            lines.append(f"  not followed: {self.offsite_redirects} redirect{'' if self.offsite_redirects == 1 else 's'}"
                         f" off the site (allowed_domains), e.g. {self.offsite_redirect_example}")
        if self.not_extracted:
            lines.append(f"  archived, not extracted: {len(self.not_extracted)} (not an HTML page with status 200)")
        if self.failed_fetches:
            reasons = Counter(failure["reason"] for failure in self.failures).most_common()
            said = reasons[0][0] if len(reasons) == 1 else ", ".join(
                f"{count} {reason}" for reason, count in reasons[:2]) + (", ..." if len(reasons) > 2 else "")
            lines.append(f"  failed fetches: {self.failed_fetches} ({said})")
        return lines


@dataclass
class RunReport:
    """What one run did, per source; the exit code follows from it."""

    sources: list[SourceResult]
    articles_written: dict[str, int]  # per source: the new articles (URLs new to the corpus) of this run's captures
    versions_written: dict[str, int] = field(default_factory=dict)  # and their new versions of articles held before
    derive_error: str | None = None  # the corpus could not be brought up to date
    incidents: list[str] = field(default_factory=list)  # a process of the run died; what was done about it
    rewritten_texts: int = 0  # earlier text files changed by what this run's articles taught
    not_extracted: list[dict] = field(default_factory=list)  # archived article pages that gave no row, and why
    taken_over: dict[str, int] = field(default_factory=dict)  # articles of an old layout's corpus derived again
    from_earlier_runs: dict[str, int] = field(default_factory=dict)  # articles derived from earlier runs' WARCs
    unfinished_runs: list[RunSpan] = field(default_factory=list)  # runs that did not finish, counted here
    from_unfinished_runs: dict[str, int] = field(default_factory=dict)  # their articles, derived by them or this run
    versions_from_earlier_runs: dict[str, int] = field(default_factory=dict)  # new versions, likewise
    versions_from_unfinished_runs: dict[str, int] = field(default_factory=dict)
    upgrade: str | None = None  # the derivation ended an upgrade from an old layout (corpus.upgrade): what it did
    started: float = field(default_factory=time.time)
    finished: float | None = None
    path: Path | None = None  # where the JSON report was written

    @property
    def exit_code(self) -> int:
        failed = self.derive_error is not None or self.incidents or any(result.failed for result in self.sources)
        return EXIT_SOURCE_FAILED if failed else EXIT_OK

    @property
    def fetched(self) -> int:
        return sum(result.fetched for result in self.sources)

    @property
    def warc_files(self) -> list[str]:
        return [name for result in self.sources for name in result.warc_files]

    @property
    def run_id(self) -> str:
        return run_id(self.started)

    def summary_lines(self) -> list[str]:
        """A few lines per source, then the archived article pages the derivation could not extract,
        what went wrong with the corpus or the run's processes, and the report."""
        lines = [line for result in self.sources for line in result.summary()]
        # the derivation catches up with every WARC: what earlier runs archived and did not derive, and what
        # a run that did not finish left (its own derivation's rows too: no report counted them)
        if self.from_earlier_runs or self.versions_from_earlier_runs:
            earlier, versions = self.from_earlier_runs, self.versions_from_earlier_runs
            lines.append(f"corpus: also {new_texts(sum(earlier.values()), sum(versions.values()))} from earlier "
                         f"runs' WARCs: {_per_source(earlier, versions)}")
        if self.unfinished_runs:
            unfinished = unfinished_line(self.unfinished_runs, self.from_unfinished_runs,
                                         self.versions_from_unfinished_runs)
            lines.append(f"corpus: {unfinished}")
        if self.upgrade:
            lines.append(f"corpus: {self.upgrade}")
        # Pages the crawl saw it would pass over said so as it went; these the derivation found.
        lines += [f"corpus: not extracted: {page['url']}: {page['reason']}" for page in self.not_extracted]
        if self.derive_error:
            lines.append(f"corpus: {self.derive_error}")
        lines += self.incidents
        if self.path:
            html = self.path.with_suffix(".html")
            lines.append(f"report: {html if html.exists() else self.path}")
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
            "corpus": {"new_articles": self.articles_written, "new_versions": self.versions_written,
                       "from_earlier_runs": self.from_earlier_runs, "from_unfinished_runs": self.from_unfinished_runs,
                       "versions_from_earlier_runs": self.versions_from_earlier_runs,
                       "versions_from_unfinished_runs": self.versions_from_unfinished_runs,
                       "unfinished_runs": [span.run for span in self.unfinished_runs],
                       "rewritten_texts": self.rewritten_texts, "not_extracted": self.not_extracted,
                       "error": self.derive_error, "taken_over": self.taken_over, "upgrade": self.upgrade},
            "incidents": self.incidents,
        }
        path = Path(archive_dir) / RUNS_DIR / f"{self.run_id}.json"
        index = open_index(archive_dir)  # (caught up with runs/ before this report is added)
        try:
            write_atomic(path, json.dumps(document, indent=1).encode("utf-8") + b"\n")
            self.path = path  # (only once written: the summary names it)
            names = [source["name"] for source in document["sources"]]
            if index is not None:
                index.add(path, document)
            history = index.last_runs(names, HISTORY, self.run_id) if index is not None \
                else read_last_runs(archive_dir, names, HISTORY, self.run_id)[0]
            write_run_html(path, document, history)
            if index is not None:
                # (A file someone copies into runs/ while these two are written is found when runs/ next changes.)
                index.mark_current()
        finally:
            if index is not None:
                index.close()
        return path


def run_id(started: float) -> str:
    """A run's id, the name of its report: its start, to the millisecond."""
    return datetime.fromtimestamp(started, timezone.utc).strftime("%Y%m%dT%H%M%S.%f")[:-3] + "Z"


def _per_source(articles: dict[str, int], versions: dict[str, int]) -> str:
    """Articles per source, and new versions where there are some: "gazette 3 (+1 version), herald 1"."""
    named = sorted(name for name in set(articles) | set(versions) if articles.get(name) or versions.get(name))
    return ", ".join(f"{name} {articles.get(name, 0)}"
                     + (f" (+{counted(versions[name], 'version')})" if versions.get(name) else "") for name in named)


def unfinished_line(spans: list[RunSpan], articles: dict[str, int], versions: dict[str, int]) -> str:
    """``articles`` and new ``versions`` (per source) of the runs that did not finish, ``spans``, for a person: a run
    counts them and ``derive`` names them, as no report of theirs does."""
    runs = "a run" if len(spans) == 1 else f"{len(spans)} runs"
    return (f"{new_texts(sum(articles.values()), sum(versions.values()), new='')} from {runs} that did not finish "
            f"({', '.join(span.started for span in spans)})"
            + (f": {_per_source(articles, versions)}" if articles or versions else ""))


def _skipped(health: SourceHealth) -> SourceResult:
    return SourceResult(health.name, 0, 0, [], "backing off", None, backoff_until=health.backoff_until)


def _prepare_archive(config: Config) -> None:
    """Create the archive directory and the ones a run needs first, or say in the config's terms why not.

    Each directory a run writes in is tried (``ArchiveUnwritable``): one read-only (a mount, a
    permission) is one line before anything is fetched, not a line per fetch after.
    """
    root = config.archive.dir
    for path in (root, root / WARC_DIR, root / STATE_DIR):
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"{config.path}: [archive] dir: cannot create {path}: {why_not_made(exc)}") from None
    for path in (root, root / WARC_DIR, root / STATE_DIR, (root / STORE_FILE).parent, root / TEXT_DIR, root / RUNS_DIR):
        check_writable(path)


def run_sources(config: Config, sources: tuple[Source, ...], *, extract: bool = True,
                progress_interval: float = 0.0, log_level: str = "WARNING",
                ignore_backoff: bool = False, stop: threading.Event | None = None) -> RunReport:
    """Crawl ``sources`` under the archive lock (``ArchiveBusy`` if another run holds it), deriving the corpus.

    ``stop`` is set by a Ctrl-C or SIGTERM that came before Scrapy took the signals over.

    An archive directory that cannot be made raises ``ConfigError`` before anything is fetched.
    """
    _prepare_archive(config)
    with ArchiveLock(config.archive.dir), present(config.archive.dir, lambda: config.cluster.redis):
        started = time.time()
        # a dead run's .open files, for the derivation to read; fetches recorded in their torn tails are forgotten
        recovered = close_abandoned_warcs(config.archive.dir, config.cluster.redis)
        if config.cluster.redis and (forgotten := [fetch for result in recovered for fetch in result.forgotten]):
            from crawler.cluster import forget_seen

            forget_seen(config.cluster.redis, forgotten)
        if config.cluster.redis:
            from crawler.cluster_sources import forget_removed_sources

            forget_removed_sources(config.cluster.redis, config.archive.dir,
                                   [source.name for source in config.sources], sources_with_runs(config.archive.dir),
                                   config.cluster.name)
        try:  # not a whole-file check on every run: what the run reads must be readable
            state = open_state(config.archive.dir, config.cluster.redis)
            health = {source.name: state.source_health(source.name) for source in sources}
        except sqlite3.DatabaseError as exc:
            raise StateDamaged(damaged_state_message(state_path(config.archive.dir), exc)) from None
        try:
            due = tuple(source for source in sources if ignore_backoff or not health[source.name].backing_off())
            this_run = RunSpan(run_id(started), warc_date(datetime.fromtimestamp(started, timezone.utc)))
            unfinished = begin_run(config.archive.dir, this_run)
            try:  # what the derivations of runs that did not finish made, before this run's adds to it
                before = articles_of(config.archive.dir, unfinished) if extract else (Counter(), Counter())
            except (OSError, sqlite3.Error):  # a store that cannot be read: the derivation says so
                before = Counter(), Counter()
            derivation = (DerivationProcess(config.archive.dir, config.archive.extract_workers,
                                            progress=progress_interval) if extract else None)
            incidents: list[str] = []
            stop = stop or note_stop_requests()
            results: list[SourceResult] = []
            try:
                if stop.is_set():  # asked to stop before the crawl began
                    results = [SourceResult(source.name, 0, 0, [], "shutdown", None) for source in due]
                else:  # (asked while it starts, the crawl stops once under way, as Scrapy stops it later)
                    results = _crawl(config, due, progress_interval, log_level, stop) if due else []
            finally:
                if derivation:
                    _stop_on_signals(stop, any(result.finish_reason == "shutdown" for result in results))
                derived = _finish(derivation, config, incidents) if derivation else None
            try:
                for result in results:
                    # Stopped by us is not the source's fault; a shared crawl is counted by its last worker.
                    if result.finish_reason != "shutdown" and result.counts_for_backoff:
                        state.record_source_outcome(result.name, not result.failed, result.error)
            except (sqlite3.Error, StateDamaged) as exc:  # a full disk, Redis gone: only the back-off counts are lost
                logger.error("cannot record the sources' outcomes in %s: %s", STATE_DIR, exc)
        finally:
            state.close()
        report = RunReport(results, {}, incidents=incidents)
        if derived is not None and derived.error:
            report.derive_error = derived.error
        elif derived is not None:
            _count_articles(report, derived, config.archive.dir, this_run, unfinished, before)
            report.rewritten_texts = derived.rewritten_texts
            report.not_extracted = derived.not_extracted
            report.taken_over, report.upgrade = dict(derived.taken_over), derived.upgrade
        for result in results:  # (a derivation stopped or failed did not count what it derived: no "0 new")
            result.derived = extract and derived is not None and not derived.error
        done = {result.name: result for result in report.sources}
        report.sources = [done.get(source.name) or _skipped(health[source.name]) for source in sources]
        report.started = started
        _done_with_signals()
        try:
            report.write(config.archive.dir)
            end_run(config.archive.dir, [span for span in unfinished if span not in report.unfinished_runs])
        except (OSError, sqlite3.Error) as exc:  # a full disk: the summary still says what the run did
            logger.error("cannot write the run report in %s: %s", config.archive.dir / RUNS_DIR,
                         getattr(exc, "strerror", None) or exc)
        return report


def articles_of(archive_dir: Path, spans: list[RunSpan]) -> tuple[Counter, Counter]:
    """The corpus rows per source of the captures of ``spans`` (runs), as articles (first versions) and later
    versions; raises ``sqlite3.Error`` or ``OSError``."""
    articles, versions = Counter(), Counter()
    if not spans or not (Path(archive_dir) / STORE_FILE).exists():
        return articles, versions
    with CorpusStore(archive_dir) as store:
        for span in spans:
            first, later = store.rows_captured(span.start, span.end)
            articles.update(first)
            versions.update(later)
    return articles, versions


def _count_articles(report: RunReport, derived: DeriveReport, archive_dir: Path, run: RunSpan,
                    unfinished: list[RunSpan], before: tuple[Counter, Counter]) -> None:
    """Split the articles, and apart the new versions, the derivation added: this run's (of captures since it
    started), those of the runs that did not finish (whole: their own derivations' rows too, which no report
    counted), and those of earlier runs' WARCs that their runs did not derive (stopped, ``--no-extract``)."""
    try:
        own, of_unfinished = articles_of(archive_dir, [run]), articles_of(archive_dir, unfinished)
    except (OSError, sqlite3.Error) as exc:  # (the derivation has just written it): all new, the others left
        logger.error("cannot count the corpus's articles by run: %s", exc)
        own, of_unfinished = (derived.new_articles, derived.new_versions), (Counter(), Counter())
        unfinished, before = [], (Counter(), Counter())
    # (articles, then versions): what the derivation added that is neither this run's nor an unfinished run's
    earlier = [new - ours - (theirs - held) for new, ours, theirs, held in
               zip((derived.new_articles, derived.new_versions), own, of_unfinished, before)]
    names = {result.name: 0 for result in report.sources}
    report.articles_written, report.versions_written = {**names, **own[0]}, {**names, **own[1]}
    report.from_earlier_runs, report.versions_from_earlier_runs = dict(earlier[0]), dict(earlier[1])
    report.from_unfinished_runs, report.versions_from_unfinished_runs = dict(of_unfinished[0]), dict(of_unfinished[1])
    report.unfinished_runs = unfinished
    for result in report.sources:
        result.new_articles, result.new_versions = own[0][result.name], own[1][result.name]
        result.from_earlier_runs, result.versions_from_earlier_runs = earlier[0][result.name], earlier[1][result.name]
        result.from_unfinished_runs = of_unfinished[0][result.name]
        result.versions_from_unfinished_runs = of_unfinished[1][result.name]


def _stop_on_signals(stop: threading.Event, crawl_stopped: bool) -> None:
    """After the crawl, a stop request (Ctrl-C, SIGTERM) leaves the corpus STOP_GRACE seconds to catch up
    with what was archived, then stops the run; a second one stops it at once. A request came already
    (``stop`` is set, or ``crawl_stopped``: one stopped the crawl): the grace begins now.

    Bounded, so that a service stopping (systemd waits 90 s, the schedule service 60 s) still gets the
    run's report rather than killing it; Scrapy's handlers only stop a crawl."""
    if threading.current_thread() is not threading.main_thread():
        return

    def stop_now(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    def grace(signum: int | None = None, frame: object = None) -> None:
        # (printed: Scrapy's log handler has gone with its crawl); a request that came as the crawl
        # stopped or ended, which ``stop`` noted, is named too: a second one still stops the run at once
        asked = signal.Signals(signum).name if signum is not None else getattr(stop, "signal_name", None)
        print(f"{asked or 'stop request'}: stopping once the corpus has caught up, in {STOP_GRACE:.0f} s "
              "at most (again: stop now)", file=sys.stderr, flush=True)
        signal.signal(signal.SIGINT, stop_now)
        signal.signal(signal.SIGTERM, stop_now)
        signal.signal(signal.SIGALRM, stop_now)
        signal.setitimer(signal.ITIMER_REAL, STOP_GRACE)

    signal.signal(signal.SIGINT, grace)
    signal.signal(signal.SIGTERM, grace)
    if crawl_stopped or stop.is_set():  # (tested once these handlers are in place: no request falls between)
        grace()


def _done_with_signals() -> None:
    """Once the corpus has caught up the run is over: a stop asked for while its reports are written
    (the HTML one takes a second) must not leave them half done or make the run look stopped."""
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)


def _finish(derivation: DerivationProcess, config: Config, incidents: list[str]) -> DeriveReport:
    """Let the derivation catch up; if it died, a new one takes over from what it committed."""
    try:
        report = derivation.finish()
        if report is None:
            incidents.append(f"incident: the derivation process died (exit code {derivation.exit_code()}); "
                             "a new one caught up from the WARCs")
            logger.error("%s", incidents[-1])
            report = DerivationProcess(config.archive.dir, config.archive.extract_workers, follow=False).finish()
        signal.setitimer(signal.ITIMER_REAL, 0)  # caught up within the grace a stop request gave
    except KeyboardInterrupt:  # what it committed stays; the rest waits in the WARCs
        signal.setitimer(signal.ITIMER_REAL, 0)
        derivation.kill()
        return DeriveReport(error="stopped before it caught up with the archive; the next run or "
                                  "`newsarchive derive` catches up")
    return report or DeriveReport(error="the derivation process died twice; the WARCs keep every capture, "
                                        "and `newsarchive derive` brings the corpus up to date")


def _crawl(config: Config, sources: tuple[Source, ...], progress_interval: float,
           log_level: str, stop: threading.Event) -> list[SourceResult]:
    # Scrapy is imported only now (a run that skips every source never loads it).
    from crawler.crawl import crawl_sources

    return crawl_sources(config, sources, progress_interval, log_level, stop)
