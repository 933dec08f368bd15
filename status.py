"""``newsarchive status``: the last runs of each source and when each runs next.

Reads only files a run or the service leaves behind (``runs/*.json``, the crawl state and
the scheduler's job store), so it works while a run or the service is going.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from archive.state import open_state, state_path
from config import Config
from crawler.run import RUNS_DIR
from scheduler import cron_trigger, jobs_path


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "never"
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def last_runs(archive_dir: Path, per_source: int = 3, until: str | None = None) -> dict[str, list[dict]]:
    """The newest ``per_source`` entries of each source in the run reports (up to run ``until``), newest first."""
    found: dict[str, list[dict]] = {}
    for path in sorted(Path(archive_dir, RUNS_DIR).glob("*.json"), reverse=True):
        if until is not None and path.stem > until:
            continue
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for entry in report.get("sources", []):
            runs = found.setdefault(entry["name"], [])
            if len(runs) < per_source:
                runs.append({**entry, "started": report["started"], "run": report["run"]})
    return found


def scheduled_times(archive_dir: Path) -> dict[str, float | None]:
    """Next run per source as the service's job store has it (missing: not scheduled yet)."""
    path = jobs_path(archive_dir)
    if not path.exists():
        return {}
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            rows = db.execute("SELECT id, next_run_time FROM apscheduler_jobs").fetchall()
    except sqlite3.Error:
        return {}
    return {job_id.removeprefix("source:"): next_run for job_id, next_run in rows if job_id.startswith("source:")}


def status_lines(config: Config, per_source: int = 3) -> list[str]:
    archive_dir = config.archive.dir
    runs = last_runs(archive_dir, per_source)
    scheduled = scheduled_times(archive_dir)
    state = open_state(archive_dir) if state_path(archive_dir).exists() else None
    now = datetime.now(timezone.utc)
    lines = [f"archive {archive_dir}"]
    for source in config.sources:
        if source.name in scheduled:
            upcoming = f"next {_when(scheduled[source.name])} (schedule service)"
        else:
            upcoming = f"next {_when(cron_trigger(source.schedule).get_next_fire_time(None, now).timestamp())}" \
                       " (by schedule; the service has not scheduled it)"
        lines.append(f"{source.name}  {source.schedule!r}  {upcoming}")
        health = state.source_health(source.name) if state else None
        if health is not None and health.backing_off():
            lines.append(f"  backing off until {_when(health.backoff_until)} after "
                         f"{health.consecutive_failures} failed runs: {health.last_error}")
        for entry in runs.get(source.name, []):
            started = entry["started"][:19].replace("T", " ")
            lines.append(
                f"  {started} {entry['status']:<7} {entry['fetched']} fetched, {entry['new_articles']} new, "
                f"{entry['unchanged']} unchanged, {entry['failed_fetches']} failed, "
                f"{entry['bytes_written'] / 1000:.1f} kB, {entry['duration']:.1f} s"
                + (f" — {entry['error']}" if entry.get("error") else "")
            )
        if source.name not in runs:
            lines.append("  no runs yet")
    if state is not None:
        state.close()
    return lines
