"""``newsarchive status``: the last runs of each source and when each runs next.

Reads only files a run or the service leaves behind (the run reports' index, the crawl state and
the scheduler's job store), so it works while a run or the service is going.  Whatever state
it finds them in, it says so in one line and goes on: a file in ``runs/`` that is not a run
report is skipped and named, an unreadable crawl state or job store is named.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

from archive.lock import LOCK_FILE, holder
from archive.state import state_path
from config import Config
from corpus.counts import counted, new_texts
from crawler.run_reports import RUNS_DIR, last_runs
from scheduler import (DUE_TABLE, SCHEDULES_TABLE, CronError, cron_trigger, jobs_path, missed_by, service_running,
                       sources_health)


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "never"
    try:
        return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return f"{timestamp!r} (not a time)"


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _job_store(archive_dir: Path) -> tuple[dict[str, float | None], dict[str, float], dict[str, str]]:
    """Next run per source, the sources waiting for their turn and the schedule each source's job has, as the
    service's job store has them.

    Raises ``sqlite3.Error`` if the store cannot be read.
    """
    path = jobs_path(archive_dir)
    if not path.exists():
        return {}, {}, {}
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        jobs = db.execute("SELECT id, next_run_time FROM apscheduler_jobs").fetchall() \
            if "apscheduler_jobs" in tables else []
        due = db.execute(f"SELECT source, due FROM {DUE_TABLE}").fetchall() if DUE_TABLE in tables else []
        schedules = db.execute(f"SELECT source, schedule FROM {SCHEDULES_TABLE}").fetchall() \
            if SCHEDULES_TABLE in tables else []
    scheduled = {job_id.removeprefix("source:"): next_run if _is_number(next_run) else None
                 for job_id, next_run in jobs if isinstance(job_id, str) and job_id.startswith("source:")}
    return (scheduled, {name: since for name, since in due if _is_number(since)},
            {name: schedule for name, schedule in schedules if isinstance(schedule, str)})


def scheduled_times(archive_dir: Path) -> dict[str, float | None]:
    """Next run per source as the service's job store has it (missing: not scheduled yet)."""
    try:
        return _job_store(archive_dir)[0]
    except sqlite3.Error:
        return {}


def _run_line(entry: dict) -> str:
    # Stopped on request (SIGTERM from the service at its time limit or shutdown, or an operator):
    # the crawl closed its files and the source is not to blame, whatever the report's status says.
    stopped = entry.get("finish_reason") == "shutdown"
    error = None if stopped else entry.get("error")
    # A run whose corpus did not catch up (stopped, failed, --no-extract) counted no new rows: its articles wait
    archived = entry.get("articles")
    versions = _count(entry, "new_versions")
    made = (f"{archived} archived, not derived" if entry.get("derived") is False and _is_number(archived)
            else f"{entry['new_articles']} new" + (f", {counted(versions, 'new version')}" if versions else ""))
    return (f"  {entry['started'][:19].replace('T', ' ')} {'stopped' if stopped else entry['status']:<7} "
            f"{entry['fetched']} fetched, {made}, {entry['unchanged']} unchanged, "
            f"{entry['failed_fetches']} failed, {entry['bytes_written'] / 1000:.1f} kB, {entry['duration']:.1f} s"
            + (f" — {error}" if error else ""))


def _started(run: object) -> str:
    """A run id (its start, ``20261206T185915.381Z``) for a person."""
    try:
        return datetime.strptime(str(run), "%Y%m%dT%H%M%S.%fZ").strftime("started %Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        return str(run)


def _run_lines(entry: dict) -> list[str]:
    """A run's line, then the articles it derived that were not its own: those of runs that did not finish before
    it (no report counted them) and those earlier runs archived but did not derive."""
    lines = [_run_line(entry)]
    unfinished = _count(entry, "from_unfinished_runs"), _count(entry, "versions_from_unfinished_runs")
    earlier = _count(entry, "from_earlier_runs"), _count(entry, "versions_from_earlier_runs")
    if any(unfinished):
        runs = entry.get("unfinished_runs") if isinstance(entry.get("unfinished_runs"), list) else []
        lines.append(f"    also {new_texts(*unfinished, new='')} from "
                     f"{'a run' if len(runs) < 2 else f'{len(runs)} runs'} that did not finish"
                     + (f" ({', '.join(map(_started, runs))})" if runs else ""))
    if any(earlier):
        lines.append(f"    also {new_texts(*earlier, new='')} from earlier runs' WARCs")
    return lines


def _count(entry: dict, key: str) -> int:
    """A count of a run entry, 0 where its report has none (the new versions, in a report written before they were
    counted apart)."""
    return entry[key] if _is_number(entry.get(key)) else 0


def _reported_since(busy: str, runs: dict[str, list[dict]]) -> bool:
    """Whether a run shown started after the lock's holder took it: that run is the holder, between
    writing its report and letting the archive go."""
    try:
        since = datetime.fromisoformat(busy.rpartition("running since ")[2])
        return any(datetime.fromisoformat(entry["started"]) >= since for entries in runs.values() for entry in entries)
    except (ValueError, TypeError):  # a holder that has not said when it started, a report's odd date
        return False


def status_lines(config: Config, per_source: int = 3) -> list[str]:
    """What ``newsarchive status`` prints: a line per source and per recent run, warnings first."""
    archive_dir = config.archive.dir
    lines = [f"archive {archive_dir}"]
    runs, unreadable = last_runs(archive_dir, [source.name for source in config.sources], per_source)
    if (busy := holder(Path(archive_dir) / LOCK_FILE)) is not None:  # a run (or derive, import) going now
        lines.append(f"in use now by {busy}: " + ("its report is written (below); it is finishing"
                                                  if _reported_since(busy, runs) else
                                                  "its runs are shown once it has written its report"))
    if unreadable:
        shown = ", ".join(unreadable[:3]) + (", …" if len(unreadable) > 3 else "")
        lines.append(f"warning: {len(unreadable)} file(s) in {RUNS_DIR}/ are not run reports, not shown: {shown}")
    try:
        scheduled, due, had = _job_store(archive_dir)
    except sqlite3.Error as exc:
        scheduled, due, had = {}, {}, {}
        lines.append(f"warning: the schedule service's job store {jobs_path(archive_dir)} cannot be read ({exc}); "
                     "next runs shown by schedule")
    try:
        health = sources_health(archive_dir, [source.name for source in config.sources], config.cluster.redis)
    except (sqlite3.Error, OSError) as exc:
        health = {}
        lines.append(f"warning: the crawl state {state_path(archive_dir)} cannot be read ({exc}); "
                     "back-off not shown")
    now = datetime.now(timezone.utc)
    serving = service_running(archive_dir)
    for source in config.sources:
        if serving and source.name in scheduled:
            upcoming = f"next {_when(scheduled[source.name])} (schedule service)"
        else:
            fire = cron_trigger(source.schedule).get_next_fire_time(None, now)
            why = "no schedule service is running" if not serving else "the service has not scheduled it"
            upcoming = f"next {_when(fire and fire.timestamp())} (by schedule; {why})"
        lines.append(f"{source.name}  {source.schedule!r}  {upcoming}")
        if not serving and _is_number(kept := scheduled.get(source.name)) and kept <= now.timestamp():
            then = had.get(source.name)
            try:  # by the schedule the service had: it counts and runs those at its start
                trigger = cron_trigger(then if then is not None else source.schedule)
            except CronError:  # (not one the service wrote)
                then, trigger = None, cron_trigger(source.schedule)
            missed = missed_by(trigger, datetime.fromtimestamp(kept, timezone.utc), now, then, source.schedule)
            lines.append(f"  missed {missed} while no schedule service ran: one run for them when it starts")
        if source.name in due:
            waiting = "waiting for its turn" if serving else "waiting for the schedule service to start again"
            lines.append(f"  due since {_when(due[source.name])}, {waiting}")
        source_health = health.get(source.name)
        if source_health is not None and source_health.backing_off():
            lines.append(f"  backing off until {_when(source_health.backoff_until)} after "
                         f"{source_health.consecutive_failures} failed runs: {source_health.last_error}")
        lines += [line for entry in runs.get(source.name, []) for line in _run_lines(entry)]
        if source.name not in runs:
            lines.append("  no runs yet")
    return lines
