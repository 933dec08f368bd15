"""The run reports in ``runs/`` and their index, ``state/runs.sqlite``: each source's last runs
without reading every report.

A service that runs every few hours writes a report a run, hundreds of thousands over years,
while ``status``, each run's HTML report, ``browse`` and the service ask only for the last few
runs of a source.  Reading every report for that grows with the archive's age (0.95 s for
30,000), so they ask the index.  The JSON reports stay the record: the index is derived from
them, and it catches up whenever ``runs/`` changed behind its back (a run killed between its
report and the index, reports copied in or deleted, the index deleted or damaged).  The
directory's modification time tells that without listing it, as the index keeps the time it
last saw.  Where the index cannot be written (an archive read by a user who cannot write it),
the reports are read one by one, as before.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterable
from contextlib import closing
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from archive.atomic import write_atomic
from archive.derived_db import open_derived_db
from archive.state import STATE_DIR

logger = logging.getLogger(__name__)

RUNS_DIR = "runs"
INDEX_FILE = "runs.sqlite"
UNCOUNTED_FILE = "uncounted-runs.json"  # in state/: the run under way, and runs that did not finish, not counted yet
_RACY_NS = 2_000_000_000
_COUNTS = ("fetched", "new_articles", "unchanged", "failed_fetches", "bytes_written", "duration")
# a source's entry in a run that left it alone while it backs off: in its report, but no run of the source,
# so not among its last runs (a source skipped every minute would push out the failures that caused it)
SKIPPED = "skipped"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (name TEXT PRIMARY KEY, document TEXT);  -- NULL: not a run report
CREATE INDEX IF NOT EXISTS not_reports ON reports (name) WHERE document IS NULL;
CREATE TABLE IF NOT EXISTS entries (source TEXT, run TEXT, entry TEXT NOT NULL, PRIMARY KEY (source, run));
CREATE TABLE IF NOT EXISTS seen (id INTEGER PRIMARY KEY CHECK (id = 0), mtime_ns INTEGER);
"""


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def report_entries(report: object) -> list[dict] | None:
    """The per-source entries of a run report, each with the run's start and id; None if it is not one."""
    if not isinstance(report, dict) or not isinstance(report.get("started"), str) \
            or not isinstance(report.get("sources"), list):
        return None
    entries = []
    for entry in report["sources"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) \
                or not isinstance(entry.get("status"), str) or not all(_is_number(entry.get(key)) for key in _COUNTS):
            return None
        entries.append({**entry, "started": report["started"], "run": report.get("run"),
                        "unfinished_runs": (report.get("corpus") or {}).get("unfinished_runs") or []})
    return entries


def read_report(path: Path) -> dict | None:
    """The report in ``path`` if it is one."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if report_entries(document) is not None else None


def _mtime_ns(directory: Path) -> int | None:
    try:
        return directory.stat().st_mtime_ns
    except OSError:
        return None


class RunIndex:
    """``state/runs.sqlite``: every report of ``runs/`` by name, and each source's entries by run.

    Opening it raises ``sqlite3.Error`` or ``OSError`` if it cannot be made or written.
    """

    def __init__(self, archive_dir: Path) -> None:
        self.runs_dir = Path(archive_dir) / RUNS_DIR
        path = Path(archive_dir) / STATE_DIR / INDEX_FILE
        self.db = open_derived_db(path, _SCHEMA, f"{RUNS_DIR}/", timeout=30, isolation_level=None)

    def close(self) -> None:
        self.db.close()

    def _seen(self) -> int | None:
        row = self.db.execute("SELECT mtime_ns FROM seen").fetchone()
        return row[0] if row else None

    def _mark_seen(self, mtime_ns: int | None) -> None:
        self.db.execute("INSERT OR REPLACE INTO seen VALUES (0, ?)", (mtime_ns,))

    def catch_up(self) -> None:
        """Index the reports added to ``runs/`` since the index last saw it, and forget those removed."""
        now = _mtime_ns(self.runs_dir)  # (before listing: a report added during the listing is caught next time)
        if now == self._seen():
            return
        names = {entry.name for entry in os.scandir(self.runs_dir) if entry.name.endswith(".json")} \
            if now is not None else set()
        self.db.execute("BEGIN IMMEDIATE")
        try:
            known = {name for (name,) in self.db.execute("SELECT name FROM reports")}
            for name in sorted(known - names):
                self.db.execute("DELETE FROM reports WHERE name = ?", (name,))
                self.db.execute("DELETE FROM entries WHERE run = ?", (name.removesuffix(".json"),))
            for name in sorted(names - known):
                self._add(name, read_report(self.runs_dir / name))
            # (a time within _RACY_NS of now is not trusted: file systems keep it coarsely, and a report
            # added after the listing in the same tick would leave it unchanged)
            self._mark_seen(now if now is None or time.time_ns() - now >= _RACY_NS else None)
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    def _add(self, name: str, report: dict | None) -> None:
        self.db.execute("INSERT OR REPLACE INTO reports VALUES (?, ?)", (name, report and json.dumps(report)))
        for entry in report_entries(report) or []:
            self.db.execute("INSERT OR REPLACE INTO entries VALUES (?, ?, ?)",
                            (entry["name"], name.removesuffix(".json"), json.dumps(entry)))

    def add(self, path: Path, report: dict) -> None:
        """Index the report just written to ``path``."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self._add(path.name, report)
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    def mark_current(self) -> None:
        """Say the index holds every report in ``runs/``: a run calls it once it has added its own report
        (and its HTML) to an index it caught up with, as nothing else writes there during a run."""
        self._mark_seen(_mtime_ns(self.runs_dir))

    def last_runs(self, sources: Iterable[str], per_source: int, until: str | None = None) -> dict[str, list[dict]]:
        """The newest ``per_source`` entries of each of ``sources``, newest first, skips left out."""
        found = {}
        for source in sources:
            rows = self.db.execute("SELECT entry FROM entries WHERE source = ? AND run <= ? "
                                   "AND json_extract(entry, '$.status') IS NOT ? ORDER BY run DESC LIMIT ?",
                                   (source, until if until is not None else "\U0010ffff", SKIPPED, per_source)).fetchall()
            if rows:
                found[source] = [json.loads(entry) for (entry,) in rows]
        return found

    def sources(self) -> list[str]:
        """The sources that have runs (skips left out), in order: each found by a seek in the entries' key
        (the next name after the last), not by reading every entry."""
        return [source for (source,) in self.db.execute(
            "WITH RECURSIVE named(source) AS (SELECT MIN(source) FROM entries UNION ALL SELECT "
            "(SELECT MIN(source) FROM entries WHERE source > named.source) FROM named WHERE named.source IS NOT NULL) "
            "SELECT source FROM named WHERE source IS NOT NULL AND EXISTS (SELECT 1 FROM entries "
            "WHERE entries.source = named.source AND json_extract(entry, '$.status') IS NOT ?)", (SKIPPED,))]

    def not_reports(self) -> list[str]:
        """The names of the files in ``runs/`` that are not run reports, newest first."""
        return [name for (name,) in self.db.execute(
            "SELECT name FROM reports WHERE document IS NULL ORDER BY name DESC")]

    def newest_reports(self, count: int, before: str | None = None) -> list[dict]:
        """The newest ``count`` run reports (of runs before run ``before``, if given), newest first."""
        return [json.loads(document) for (document,) in self.db.execute(
            "SELECT document FROM reports WHERE document IS NOT NULL AND name < ? ORDER BY name DESC LIMIT ?",
            (f"{before}.json" if before else "\U0010ffff", count))]


def open_index(archive_dir: Path) -> RunIndex | None:
    """The archive's run index, caught up with ``runs/``; None (and the reason logged) if it cannot be written."""
    try:
        index = RunIndex(archive_dir)
    except (sqlite3.Error, OSError) as exc:
        logger.info("run reports read one by one: their index cannot be written (%s)", exc)
        return None
    try:
        index.catch_up()
    except (sqlite3.Error, OSError) as exc:
        index.close()
        logger.info("run reports read one by one: their index cannot be brought up to date (%s)", exc)
        return None
    return index


def read_last_runs(archive_dir: Path, sources: Iterable[str], per_source: int = 3,
                   until: str | None = None) -> tuple[dict[str, list[dict]], list[str]]:
    """What ``last_runs`` gives, read from every report in turn: for an archive whose index cannot be
    written, and the benchmark's baseline."""
    wanted = set(sources)
    found: dict[str, list[dict]] = {}
    unreadable = []
    for path in sorted(Path(archive_dir, RUNS_DIR).glob("*.json"), reverse=True):
        if until is not None and path.stem > until:
            continue
        report = read_report(path)
        if report is None:
            unreadable.append(path.name)
            continue
        for entry in report_entries(report):
            if entry["name"] in wanted and entry["status"] != SKIPPED:
                runs = found.setdefault(entry["name"], [])
                if len(runs) < per_source:
                    runs.append(entry)
    return found, unreadable


def last_runs(archive_dir: Path, sources: Iterable[str], per_source: int = 3,
              until: str | None = None) -> tuple[dict[str, list[dict]], list[str]]:
    """The newest ``per_source`` entries of each of ``sources`` in the run reports up to run ``until``,
    newest first (skips left out: ``SKIPPED``), and the names of the files in ``runs/`` that are not run reports."""
    if not Path(archive_dir, RUNS_DIR).is_dir():
        return {}, []
    index = open_index(archive_dir)
    if index is None:
        return read_last_runs(archive_dir, sources, per_source, until)
    with closing(index):
        return index.last_runs(sources, per_source, until), index.not_reports()


def sources_with_runs(archive_dir: Path) -> list[str]:
    """The sources the run reports name (skips left out): those no longer configured, with no articles, have
    pages too."""
    if not Path(archive_dir, RUNS_DIR).is_dir():
        return []
    index = open_index(archive_dir)
    if index is None:
        reports = filter(None, map(read_report, Path(archive_dir, RUNS_DIR).glob("*.json")))
        return sorted({entry["name"] for report in reports for entry in report_entries(report)
                       if entry["status"] != SKIPPED})
    with closing(index):
        return index.sources()


def newest_reports(archive_dir: Path, count: int, before: str | None = None) -> list[dict]:
    """The newest ``count`` run reports (of runs before run ``before``, if given), newest first; files in
    ``runs/`` that are none are left out."""
    if not Path(archive_dir, RUNS_DIR).is_dir():
        return []
    index = open_index(archive_dir)
    if index is None:
        paths = sorted((path for path in Path(archive_dir, RUNS_DIR).glob("*.json")
                        if before is None or path.stem < before), reverse=True)
        return [report for report in map(read_report, paths) if report is not None][:count]
    with closing(index):
        return index.newest_reports(count, before)


@dataclass(frozen=True)
class RunSpan:
    """A run's captures: those dated from its start up to the next run's (runs on one archive hold its lock in
    turn, so nothing else archives meanwhile); ``end`` is None while no run has come after it."""

    run: str  # the run's id, its report's name
    start: str  # WARC-Dates, as the corpus rows have them
    end: str | None = None

    @property
    def started(self) -> str:
        """When it started, for a person."""
        return f"started {self.start[:19].replace('T', ' ')} UTC"


def _uncounted_path(archive_dir: Path) -> Path:
    return Path(archive_dir) / STATE_DIR / UNCOUNTED_FILE


def _read_spans(archive_dir: Path) -> list[RunSpan]:
    path = _uncounted_path(archive_dir)
    try:
        return [RunSpan(**span) for span in json.loads(path.read_text(encoding="utf-8"))["runs"]]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logger.error("%s cannot be read (%s): the articles of a run that did not finish before this one are "
                     "counted as new or as earlier runs'", path, exc)
        return []


def _write_spans(archive_dir: Path, spans: list[RunSpan]) -> None:
    path = _uncounted_path(archive_dir)
    if spans:
        write_atomic(path, json.dumps({"runs": [asdict(span) for span in spans]}, indent=1).encode("utf-8") + b"\n")
    else:
        path.unlink(missing_ok=True)


def unfinished_runs(archive_dir: Path, ended: str | None = None) -> list[RunSpan]:
    """The runs that did not finish (killed, a power cut) whose articles no report has counted, the last closed at
    ``ended`` if given.  The caller holds the archive's lock, so the run the file says is under way is dead: unless
    its report is there (killed after writing it), with the runs that report counted."""
    spans = _read_spans(archive_dir)
    if spans and spans[-1].end is None:
        report = read_report(Path(archive_dir) / RUNS_DIR / f"{spans[-1].run}.json")
        if report is not None:
            counted = set((report.get("corpus") or {}).get("unfinished_runs") or ())
            return [span for span in spans[:-1] if span.run not in counted]
        spans[-1] = replace(spans[-1], end=ended)
    return spans


def begin_run(archive_dir: Path, run: RunSpan) -> list[RunSpan]:
    """Note ``run`` as under way (so that, if it is killed, the next run counts its articles) after the runs that
    did not finish; those runs, for this one to count."""
    unfinished = unfinished_runs(archive_dir, run.start)
    try:
        _write_spans(archive_dir, [*unfinished, run])
    except OSError as exc:  # a full disk: the run goes on; killed, its articles would be counted as the next one's
        logger.error("cannot note the run under way in %s: %s", _uncounted_path(archive_dir), exc.strerror or exc)
    return unfinished


def end_run(archive_dir: Path, uncounted: list[RunSpan]) -> None:
    """The run's report is written; ``uncounted`` are the runs that did not finish that it could not count (its
    corpus did not catch up), left for the next run."""
    try:
        _write_spans(archive_dir, uncounted)
    except OSError as exc:  # the next run finds this run's report, and what it counted
        logger.error("cannot write %s: %s", _uncounted_path(archive_dir), exc.strerror or exc)
