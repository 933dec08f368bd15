"""When sources run: crontab(5) expressions turned into APScheduler triggers, and the
``newsarchive schedule`` service that runs each source on its schedule.

APScheduler's ``CronTrigger.from_crontab`` numbers weekdays from Monday (``0 6 * * 0``
fires on Mondays) and ANDs day-of-month with day-of-week, where crontab(5) numbers
them from Sunday and ORs the two when both are restricted.  ``cron_trigger`` keeps
crontab's meaning.
"""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import NamedTuple, TypeVar

from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from archive.lock import ArchiveBusy, ArchiveLock, is_held
from archive.state import STATE_DIR, SourceHealth, open_state, state_path
from supervision import SERVICE_PID_ENV, WHY_FD_ENV, stop_process, stop_signals_blocked_for_children

T = TypeVar("T")
_WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_SHORTCUTS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


class CronError(ValueError):
    """A crontab expression that crontab(5) would not accept."""


def _weekday_number(token: str) -> int:
    token = token.strip().lower()
    if token[:3] in _WEEKDAYS and len(token) >= 3:
        return _WEEKDAYS.index(token[:3])
    if not token.isdigit() or int(token) > 7:
        raise CronError(f"bad day of week {token!r} (0-7 or sun-sat)")
    return int(token)


def _weekday_names(field: str) -> str:
    """Expand a crontab day-of-week field into APScheduler's day names."""
    days: set[int] = set()
    for part in field.split(","):
        part, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"bad step {step_text!r} in day of week")
            step = int(step_text)
        if part == "*":
            low, high = 0, 6
        elif "-" in part:
            low_text, high_text = part.split("-", 1)
            low, high = _weekday_number(low_text), _weekday_number(high_text)
            if low > high:
                raise CronError(f"bad range {part!r} in day of week")
        else:
            low = high = _weekday_number(part)
            if step_text:
                high = 6
        days.update(day % 7 for day in range(low, high + 1, step))
    order = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    return ",".join(name for name in order if _WEEKDAYS.index(name) in days)


def cron_trigger(expression: str, timezone: str = "UTC"):
    """Return an APScheduler trigger that fires when crontab(5) would run ``expression``.

    An expression that never fires (``0 0 31 2 *``) is a ``CronError``: crontab accepts it, but
    a source with it would silently never run.
    """
    trigger = _trigger(expression, timezone)
    if trigger.get_next_fire_time(None, datetime.now().astimezone()) is None:
        raise CronError(f"{expression!r} never fires: none of its months has that day of the month")
    return trigger


def _trigger(expression: str, timezone: str):
    text = _SHORTCUTS.get(expression.strip().lower(), expression)
    fields = text.split()
    if len(fields) != 5:
        raise CronError(f"{expression!r} has {len(fields)} fields, crontab(5) needs 5")
    minute, hour, day, month, weekday = fields
    try:
        if day != "*" and weekday != "*":
            return OrTrigger(
                [
                    CronTrigger(minute=minute, hour=hour, day=day, month=month, timezone=timezone),
                    CronTrigger(
                        minute=minute, hour=hour, month=month,
                        day_of_week=_weekday_names(weekday), timezone=timezone,
                    ),
                ]
            )
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_weekday_names(weekday) if weekday != "*" else "*",
            timezone=timezone,
        )
    except ValueError as exc:
        if isinstance(exc, CronError):
            raise
        raise CronError(f"{expression!r}: {exc}") from None


# -- the service: ``newsarchive schedule`` -------------------------------------------------

JOBS_FILE = "jobs.sqlite"  # under <archive>/state/, next to the crawl state
SERVICE_LOCK = Path(STATE_DIR) / "schedule.lock"  # held by the archive's schedule service while it runs
DUE_TABLE = "newsarchive_due"  # in JOBS_FILE, next to APScheduler's own table: the sources waiting for their turn
RUNNING_TABLE = "newsarchive_running"  # in JOBS_FILE: the source whose run the service is watching, until it ends
# in JOBS_FILE: the schedule (crontab text) each source's job has, to count the runs missed by it after the config's
# changed while the service was down (APScheduler's table holds only the trigger, pickled)
SCHEDULES_TABLE = "newsarchive_schedules"
DEFAULT_TIME_LIMIT = 3 * 3600.0
KILL_GRACE = 60.0  # after SIGTERM, how long a run may take to close its files, derive them (crawler.run.STOP_GRACE) and report
CONFIG_POLL = 10.0  # seconds between checks of the config file's mtime (and of the clock, CLOCK_SET_BACK)
# A wall clock set back more than this (seconds) had been wrong, and the next runs computed by it are too late by as
# much: they are computed again from the corrected time.  NTP corrects a drifting clock by slewing it or stepping it
# by fractions of a second (ntpd steps only past 128 ms, chrony's makestep by default past 1 s); a step back of
# minutes is a clock that was wrong being set right.  Below this a step back keeps the next runs, so that a fire
# time the clock comes to again is not run twice; above it, the fire times that ran are not run twice either
# (``ClockWatch``, ``_next_not_run``).
CLOCK_SET_BACK = 300.0
BUSY_RETRY = 5.0  # archive busy (another run holds its lock): first retry after this, doubling ...
BUSY_RETRY_MAX = 300.0  # ... up to this
FAKE_NOW_ENV = "NEWSARCHIVE_SCHEDULER_NOW"  # tests: the wall-clock time the service starts at
EXIT_BUSY = 75  # ``newsarchive run``: another run holds the archive

logger = logging.getLogger("newsarchive.schedule")
_ROOT = Path(__file__).resolve().parent
_clock_offset = timedelta(0)  # see _shift_clock
_wakeup = threading.Event()  # set when a source becomes due (or the service stops)
_stopping = threading.Event()  # set when the service stops
_clock_at_fires: list[tuple[float, float, str]] = []  # the wall clock, _wall_minus_monotonic() and source at each fire
# since the clock watch last looked


def _now() -> datetime:
    return datetime.now(timezone.utc) + _clock_offset


def _wall_minus_monotonic() -> float:
    """The wall clock less the monotonic one: it drops by as much as the wall clock is set back."""
    return _now().timestamp() - time.monotonic()


def _shift_clock(start: datetime) -> None:
    """Test hook: the service and APScheduler believe it is ``start`` now; time then runs at normal speed."""
    global _clock_offset
    import apscheduler.executors.base
    import apscheduler.schedulers.base

    _clock_offset = start - datetime.now(timezone.utc)

    class ShiftedDatetime(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + _clock_offset

    apscheduler.schedulers.base.datetime = ShiftedDatetime
    apscheduler.executors.base.datetime = ShiftedDatetime


def jobs_path(archive_dir: Path) -> Path:
    return Path(archive_dir) / STATE_DIR / JOBS_FILE


class DueList:
    """The sources waiting for their turn, oldest due first, in a table of the job store's file.

    Our own queue rather than APScheduler's: its executors count a run waiting for the worker as
    a running instance (the source's later fire times are skipped) and drop it once it has waited
    longer than ``misfire_grace_time``, so when runs take longer than their interval the sources
    first in line win every time and the rest never run (measured: of 20 sources due every
    minute, runs of 4-10 s, 10 to 12 never ran in 5 minutes).  Here a due source keeps its place
    until it runs, a fire time that comes while it waits coalesces into the one it has, and the
    list outlives a restart.  A source taken is noted running until ``ran``: a service that dies
    meanwhile finds it at its next start (``unfinished``).  Beside them, the schedule each source's job has
    (``scheduled_by``).
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        with self._connect() as db:
            db.execute(f"CREATE TABLE IF NOT EXISTS {DUE_TABLE} (source TEXT PRIMARY KEY, due REAL NOT NULL)")
            db.execute(f"CREATE TABLE IF NOT EXISTS {RUNNING_TABLE} "
                       "(source TEXT PRIMARY KEY, due REAL NOT NULL, started REAL NOT NULL)")
            db.execute(f"CREATE TABLE IF NOT EXISTS {SCHEDULES_TABLE} "
                       "(source TEXT PRIMARY KEY, schedule TEXT NOT NULL)")

    def _connect(self) -> closing[sqlite3.Connection]:
        return closing(sqlite3.connect(self.path, timeout=30, isolation_level=None))

    def _patiently(self, write: Callable[[], T]) -> T | None:
        """``write()``, waiting while the file cannot be written (``job_store.when_usable``)."""
        from job_store import when_usable  # (SQLAlchemy's: loaded by the service only; ``config`` imports this module)

        return when_usable(write, self.path, _stopping.is_set)

    def mark(self, name: str, due: float) -> None:
        """``name`` is due since ``due``; if it already waits, it keeps the older time (coalescing)."""
        self._patiently(lambda: self._mark(name, due))

    def _mark(self, name: str, due: float) -> None:
        with self._connect() as db:
            db.execute(f"INSERT INTO {DUE_TABLE} (source, due) VALUES (?, ?) "
                       "ON CONFLICT (source) DO UPDATE SET due = min(due, excluded.due)", (name, due))

    def take(self, names: set[str]) -> tuple[str, float, int] | None:
        """Remove and return the source of ``names`` due longest, its due time and how many still wait;
        it is noted running from now (wall-clock time, as run reports have it) until ``ran``."""
        return self._patiently(lambda: self._take(names))

    def _take(self, names: set[str]) -> tuple[str, float, int] | None:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")  # a fire time marked between the SELECT and the DELETE is kept
            try:
                rows = [row for row in db.execute(f"SELECT source, due FROM {DUE_TABLE} ORDER BY due, source")
                        if row[0] in names]
                if rows:
                    db.execute(f"DELETE FROM {DUE_TABLE} WHERE source = ?", (rows[0][0],))
                    db.execute(f"INSERT OR REPLACE INTO {RUNNING_TABLE} (source, due, started) VALUES (?, ?, ?)",
                               (*rows[0], time.time()))
            finally:
                db.execute("COMMIT")
        return (*rows[0], len(rows) - 1) if rows else None

    def ran(self, name: str) -> None:
        """``name``'s run has ended, as the service saw."""
        self._patiently(lambda: self._delete(RUNNING_TABLE, name))

    def _delete(self, table: str, name: str) -> None:
        with self._connect() as db:
            db.execute(f"DELETE FROM {table} WHERE source = ?", (name,))

    def unfinished(self) -> list[tuple[str, float, float]]:
        """The sources whose run a service was watching when it died: name, due time, when it started."""
        with self._connect() as db:
            return db.execute(f"SELECT source, due, started FROM {RUNNING_TABLE}").fetchall()

    def scheduled_by(self, name: str, schedule: str) -> None:
        """``name``'s job fires by ``schedule`` from now on."""
        self._patiently(lambda: self._schedule(name, schedule))

    def _schedule(self, name: str, schedule: str) -> None:
        with self._connect() as db:
            db.execute(f"INSERT OR REPLACE INTO {SCHEDULES_TABLE} (source, schedule) VALUES (?, ?)", (name, schedule))

    def schedules(self) -> dict[str, str]:
        """The schedule each source's job has (none: a job store older than this table)."""
        with self._connect() as db:
            return dict(db.execute(f"SELECT source, schedule FROM {SCHEDULES_TABLE}").fetchall())

    def keep_only(self, names: set[str]) -> None:
        """Forget sources no longer in the config."""
        with self._connect() as db:
            for table in (DUE_TABLE, SCHEDULES_TABLE):
                for (name,) in db.execute(f"SELECT source FROM {table}").fetchall():
                    if name not in names:
                        self._delete(table, name)


def sources_health(archive_dir: Path, names: list[str], redis_url: str | None = None) -> dict[str, SourceHealth]:
    """Each source's failures and back-off from the crawl state, the cluster's if there is one
    (raises ``sqlite3.Error`` or ``OSError`` if unreadable)."""
    if not redis_url and not state_path(archive_dir).exists():
        return {}
    state = open_state(archive_dir, redis_url)
    try:
        return {name: state.source_health(name) for name in names}
    finally:
        state.close()


def _last_fire_after(trigger, stored: datetime, now: datetime) -> datetime | None:
    """The fire time the service last ran a job whose next run APScheduler stored as ``stored``, if it is later than
    ``now``: the trigger's last before ``stored``, run by a clock since set back (while the service was down:
    ``check_clock`` sees it while up)."""
    fire, last = trigger.get_next_fire_time(None, now), None
    for _ in range(100_000):  # a minutely schedule's fires in ten weeks: a clock further ahead is ahead enough
        if fire is None or fire >= stored:
            break
        last, fire = fire, trigger.get_next_fire_time(fire, fire)
    return last


def missed_fire_times(trigger, first: datetime, now: datetime) -> str:
    """The fire times of ``trigger`` from ``first`` (the next run the job store kept: its runs before it ran) to
    ``now``, in words: how many, the first and the last; counted up to 10,000 (a minutely schedule's week), in 0.5 s."""
    count, last, fire = 0, first, first
    while fire is not None and fire <= now and count < 10_000:
        count, last = count + 1, fire
        fire = trigger.get_next_fire_time(fire, fire)
    over = fire is not None and fire <= now
    span = timedelta(hours=1)
    while over and (fire := trigger.get_next_fire_time(None, now - span)) > now:  # the last, looked for back from now
        span *= 2
    while over and (later := trigger.get_next_fire_time(fire, fire)) is not None and later <= now:
        last, fire = later, later
    many = f"{'over ' if over else ''}{count} fire time{'' if count == 1 else 's'}"
    return f"{many}, {first:%Y-%m-%d %H:%M:%S %Z}" + (f" to {last:%Y-%m-%d %H:%M:%S %Z}" if count > 1 else "")


def missed_by(trigger, first: datetime, now: datetime, then: str | None, schedule: str) -> str:
    """``missed_fire_times`` of ``trigger``, the schedule ``then`` the service last had for a source (if known),
    saying so when the config's, ``schedule``, is another since: when it changed during the downtime is unknown, and
    the service counts and runs the fire times of the schedule it had."""
    words = missed_fire_times(trigger, first, now)
    if then is None or then == schedule:
        return words
    return f"{words} by {then!r}, its schedule before the config changed it,"


def _next_not_run(trigger, now: datetime, ran: list[tuple[datetime, datetime]]) -> datetime | None:
    """The trigger's first fire time from ``now`` on that is in none of the spans ``ran``: the fire times in them ran by
    the clock before it was set back, and each scheduled time runs once."""
    fire = trigger.get_next_fire_time(None, now)
    while fire is not None and (end := max((to for start, to in ran if start <= fire <= to), default=None)):
        fire = trigger.get_next_fire_time(None, end + timedelta(microseconds=1))
    return fire


class Stretch(NamedTuple):
    """The wall-clock time a clock since set back had run through, and in it which sources got their schedule
    (added or rescheduled: the fire times of theirs before that had not run) and when they last fired before."""

    start: datetime
    end: datetime
    scheduled: dict[str, datetime]
    fired_before: dict[str, datetime]

    def ran(self, name: str) -> list[tuple[datetime, datetime]]:
        """The spans of the stretch whose fire times of ``name``'s schedule ran."""
        if name not in self.scheduled:
            return [(self.start, self.end)]
        return [(self.scheduled[name], self.end),
                *([(self.start, self.fired_before[name])] if name in self.fired_before else [])]


class ClockWatch:
    """The wall-clock time the service saw pass without a jump since it started or the clock last jumped: the fire
    times in it have run, but those of a source from before it got its schedule there.  Looked at every CONFIG_POLL s
    by the monotonic clock."""

    def __init__(self) -> None:
        self.looked = time.monotonic()
        self.offset = _wall_minus_monotonic()  # the wall clock less the monotonic one when it last looked
        self.since = self.looked + self.offset  # the wall-clock time the stretch without a jump began at
        self.scheduled: dict[str, tuple[float, float]] = {}  # source: wall, monotonic time it got its schedule
        self.fired: dict[str, tuple[float, float]] = {}  # source: wall, monotonic time it last fired in the stretch

    def got_schedule(self, name: str) -> None:
        """``name`` was added or rescheduled now: its fire times before now in the stretch did not run."""
        self.scheduled[name] = (_now().timestamp(), time.monotonic())

    def _begin(self, wall: float, monotonic: float) -> None:
        """A new stretch begins at ``wall``, monotonic time ``monotonic``: what the old one knew is forgotten."""
        self.since = wall
        self.scheduled = {name: at for name, at in self.scheduled.items() if at[1] >= monotonic}
        self.fired.clear()

    def set_back(self) -> tuple[float, Stretch] | None:
        """If the wall clock was set back more than CLOCK_SET_BACK since the last look or a fire time since: by how many
        seconds, and the stretch of wall-clock time it had run through before (a new one starts now)."""
        now, looked = _wall_minus_monotonic(), time.monotonic()
        before, reached = self.offset, self.looked + self.offset
        while _clock_at_fires:  # (a clock a day ahead for less than CONFIG_POLL s still put the next run a day late)
            wall, offset, name = _clock_at_fires.pop(0)
            if offset - before > CLOCK_SET_BACK:  # set forward before this fire: the fire times it passed did not run
                self._begin(self.looked + offset, self.looked)
            self.fired[name] = (wall, wall - offset)
            before, reached = max(before, offset), max(reached, wall)
        if now - before > CLOCK_SET_BACK:
            self._begin(self.looked + now, self.looked)
        self.looked, self.offset = looked, now
        if before - now <= CLOCK_SET_BACK:
            return None
        utc = lambda wall: datetime.fromtimestamp(wall, timezone.utc)  # noqa: E731
        stretch = Stretch(utc(self.since), utc(reached), {name: utc(at[0]) for name, at in self.scheduled.items()},
                          {name: utc(wall) for name, (wall, monotonic) in self.fired.items()  # by an older schedule
                           if monotonic < self.scheduled.get(name, (0.0, 0.0))[1]})
        self._begin(looked + now, looked)
        return before - now, stretch


def mark_due(jobs_file: str, name: str) -> None:
    """The APScheduler job of every source: it only marks the source due; the runner runs it."""
    _clock_at_fires.append((_now().timestamp(), _wall_minus_monotonic(), name))  # APScheduler computes the next one by it
    DueList(Path(jobs_file)).mark(name, _now().timestamp())
    _wakeup.set()


class RunEnd(NamedTuple):
    """How a run the service started ended."""

    code: int | None  # its exit code (negative: the signal that killed it); None: it could not be started
    stopped: str | None  # why we stopped it, if we did: "time limit", "shutdown"
    why: str  # why it ended before it could write a report, as it said (WHY_FD_ENV), or why it could not start


def run_source(config_path: Path, name: str, time_limit: float, stopping: threading.Event) -> RunEnd:
    """One run: ``newsarchive run --source NAME`` in a subprocess.

    A subprocess per run because the Twisted reactor cannot be restarted, and so that a
    leak or a crash ends with the run.  It gets one SIGTERM at ``time_limit`` or when
    ``stopping`` is set ("time limit", "shutdown"), SIGKILL if it has not ended KILL_GRACE later.
    A service that dies (SIGKILL) leaves no run going alone, unwatched: the run gets SIGTERM and stops.
    A run that ends before it can write its report (a damaged crawl state, a full disk, a config error, a traceback)
    says why on its stderr, which is ours, and in a pipe of its own to us, so that the service's line about it says
    why too (its stderr stays ours: a run whose service died still writes its lines and its report).
    """
    command = [sys.executable, "-m", "cli", "run", "--config", str(config_path), "--source", name]
    # Its own session: a terminal's Ctrl-C reaches only us, and we forward exactly one SIGTERM
    # (a second one would make Scrapy stop without closing its WARC files).
    # It starts with SIGTERM blocked, until cli.py has its handler: one that comes while Python is still
    # starting is then a stop request, not the end of a run that reports nothing.  It is told our pid, to
    # stop if we die (not by preexec_fn, which may deadlock the child of a process with threads).
    why_read, why_write = os.pipe()
    env = {**os.environ, SERVICE_PID_ENV: str(os.getpid()), WHY_FD_ENV: str(why_write)}
    try:
        with stop_signals_blocked_for_children():
            child = subprocess.Popen(command, cwd=_ROOT, start_new_session=True, env=env, pass_fds=(why_write,))
    except OSError as exc:  # the virtualenv's python gone or replaced, say by an upgrade under the service
        os.close(why_read)
        return RunEnd(None, None, f"{exc.filename or command[0]}: {exc.strerror or exc}")
    finally:
        os.close(why_write)
    code, stopped = _watch(child, time_limit, stopping)
    os.set_blocking(why_read, False)  # what it wrote before it ended; a process it left holding the pipe is not waited for
    with os.fdopen(why_read, "rb") as pipe:
        said = pipe.read() or b""
    return RunEnd(code, stopped, said.decode("utf-8", "replace").strip())


def _watch(child: subprocess.Popen, time_limit: float, stopping: threading.Event) -> tuple[int, str | None]:
    """Wait for the run to end, stopping it at ``time_limit`` or when ``stopping`` is set: its exit code and why
    we stopped it, if we did."""
    deadline = time.monotonic() + time_limit
    while True:
        if stopping.is_set():
            return stop_process(child, KILL_GRACE), "shutdown"  # Scrapy closes its WARCs on SIGTERM
        if time.monotonic() >= deadline:
            return stop_process(child, KILL_GRACE), "time limit"
        try:
            return child.wait(timeout=0.5), None
        except subprocess.TimeoutExpired:
            pass


def _outcome(end: RunEnd, reported: bool, time_limit: float) -> str:
    """What a run's exit means, in words for the service's log."""
    if end.stopped == "shutdown":
        return "stopped: the service is stopping"
    if end.stopped == "time limit":
        return f"stopped at the time limit ({time_limit:.0f} s)"
    if end.code < 0:
        return f"killed by {signal.Signals(-end.code).name}"
    if end.code == 1 and not reported:
        return "failed, no report written"
    return {0: "ok", 1: "failed, see its report", 2: "config error",
            EXIT_BUSY: "archive busy, another run holds it"}.get(end.code, "failed")


class ScheduleService:
    """Each source's crawl on its schedule: APScheduler 3.11 says when a source is due, one runner runs them.

    - APScheduler (``BackgroundScheduler``, SQLite job store under the archive dir): one job per
      source that only marks it due (``DueList``).  Its job store lets a restart know which runs
      it missed; ``coalesce`` turns any number of missed fire times into one and
      ``misfire_grace_time=None`` keeps it however late.  Jobs are added only when missing and
      rescheduled only when their schedule changed (re-adding with ``replace_existing`` would
      recompute the next run time and drop the missed run).
    - The runner (the main thread) runs the source due longest, one run at a time, since runs
      would only meet the archive lock.  A source fired again while it waits keeps its place;
      one fired while it runs is due again afterwards.  An archive busy with another run (exit
      75) leaves the source first in line and is tried again 5 s later, doubling up to 5 min.
    - SIGTERM/SIGINT: stop starting runs, SIGTERM the running crawl (it stays due), wait, exit.
    - SIGHUP, or a changed config file mtime: reload the config and resync the jobs.
    """

    def __init__(self, config_path: Path, time_limit: float = DEFAULT_TIME_LIMIT):
        # Imported here: ``config`` imports this module for ``cron_trigger`` on every command.
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        from config import ConfigError, load_config
        from job_store import PatientJobStore

        self._load = load_config
        self.config_path = Path(config_path).resolve()
        self.config = load_config(self.config_path)
        self.mtime = self.config_path.stat().st_mtime
        self.time_limit = time_limit
        self.archive_dir = self.config.archive.dir
        self.jobs_file = jobs_path(self.archive_dir)
        try:
            self.jobs_file.parent.mkdir(parents=True, exist_ok=True)
            self.due = self._open_due_list()
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"{self.config_path}: [archive] dir: cannot keep the schedule in {self.jobs_file}: "
                              f"{getattr(exc, 'strerror', None) or exc}") from None
        self.scheduler = BackgroundScheduler(
            timezone="UTC",
            jobstores={"default": PatientJobStore(url=f"sqlite:///{self.jobs_file}")},
            executors={"default": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        # APScheduler logs two INFO lines per job it runs, at every fire time of every source.
        # The runner logs what matters: each run and its outcome.
        logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
        self._stopping = _stopping
        self._reload_lock = threading.Lock()
        self._said_backing_off: dict[str, float | None] = {}  # the back-off the log last said of each source
        self._config_gone: str | None = None  # why the config file cannot be read, as the log said

    def _open_due_list(self) -> DueList:
        """The due list, in a new job store if the file is damaged: set aside, said in one line.

        The store holds when each job fires next and which sources wait for their turn; all of it
        follows from the config but the runs missed while the service was down, which the
        damage has taken anyway.  A service that stopped on it would stay down (systemd does not
        restart on a config error): it goes on, and each source runs at its next fire time."""
        try:
            return DueList(self.jobs_file)
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError):  # locked, a full disk, no permission: not the file
                raise
            from archive.check import set_aside

            aside = set_aside(self.jobs_file)
            logger.error("the schedule's job store %s is damaged (%s); set aside as %s: a new one is made, and "
                         "each source runs at its next scheduled time", self.jobs_file, exc, aside.name)
            return DueList(self.jobs_file)

    def run(self) -> None:
        """Serve until SIGTERM/SIGINT."""
        signal.signal(signal.SIGTERM, self._terminate)
        signal.signal(signal.SIGINT, self._terminate)
        signal.signal(signal.SIGHUP, lambda signum, frame: threading.Thread(target=self.reload).start())
        logger.info("scheduling %d source(s) from %s", len(self.config.sources), self.config_path)
        # Paused until the jobs match the config, so that no job of an older config fires.
        self.scheduler.start(paused=True)
        try:
            self._resume_unfinished()
            self.clock = ClockWatch()
            self.sync_jobs(initial=True)
            threading.Thread(target=self._watch_config_and_clock, name="config-watch", daemon=True).start()
            self.scheduler.resume()
            self._serve_due()
        finally:
            self.scheduler.shutdown(wait=True)
        logger.info("stopped")

    def _serve_due(self) -> None:
        """The runner: run the source due longest, one at a time, until the service stops."""
        busy_retry = BUSY_RETRY
        while not self._stopping.is_set():
            _wakeup.clear()
            taken = self.due.take({source.name for source in self.config.sources})
            if taken is None:
                _wakeup.wait()
                continue
            name, due, waiting = taken
            if (health := self._backing_off(name)) is not None:
                if self._said_backing_off.get(name) != health.backoff_until:  # once a back-off, not every fire time
                    logger.info("%s: backing off until %s (%d failures)", name, _utc(health.backoff_until),
                                health.consecutive_failures)
                    self._said_backing_off[name] = health.backoff_until
                self.due.ran(name)
                continue
            if self._said_backing_off.pop(name, None) is not None:
                logger.info("%s: no longer backing off", name)
            logger.info("%s: running (due since %s, %d more waiting)", name, _utc(due), waiting)
            started, started_at = time.monotonic(), time.time()
            end = run_source(self.config_path, name, self.time_limit, self._stopping)
            if end.code is None:
                logger.error("%s: could not start: %s", name, end.why)  # each fire time, until it can
                self.due.ran(name)
                continue
            if end.stopped and end.code == 0 and not self._stopped_midway(name):
                end = end._replace(stopped=None)  # the signal came as it was ending: it did all its work
            code, stopped = end.code, end.stopped
            reported = code != 1 or self._report_since(name, started_at) is not None
            # a run that failed, or could not read the sources file, is an error of the service's log:
            # a config broken after the service loaded it fails every run until it is mended
            level = logging.INFO if code in (0, EXIT_BUSY) or stopped else logging.ERROR
            logger.log(level, "%s: %s (exit %s after %.1f s)%s%s", name, _outcome(end, reported, self.time_limit),
                       code, time.monotonic() - started,
                       f": {end.why}" if end.why else "" if reported else ": its lines above say why",
                       f"; every run fails so until {self.config_path} is mended" if code == 2 else "")
            if code == EXIT_BUSY or stopped == "shutdown":
                self.due.mark(name, due)  # not its fault: it keeps its place
            self.due.ran(name)
            if code == EXIT_BUSY:
                logger.info("%s: trying again in %.0f s", name, busy_retry)
                self._stopping.wait(busy_retry)
                busy_retry = min(2 * busy_retry, BUSY_RETRY_MAX)
            else:
                busy_retry = BUSY_RETRY

    def _backing_off(self, name: str) -> SourceHealth | None:
        """The source's health if it is backing off: no process is started for it, and no report written
        (its run would only skip it). A crawl state that cannot be read lets the run start and say why."""
        try:
            health = sources_health(self.archive_dir, [name], self.config.cluster.redis).get(name)
        except (sqlite3.Error, OSError):
            return None
        return health if health is not None and health.backing_off() else None

    def _last_run(self, name: str) -> dict | None:
        """The source's last run report entry, if any."""
        from crawler.run_reports import last_runs

        runs, _ = last_runs(self.config.archive.dir, [name], 1)
        return runs[name][0] if runs.get(name) else None

    def _report_since(self, name: str, since: float) -> dict | None:
        """The source's last run report entry, if that run started at ``since`` (a POSIX time) or later."""
        last = self._last_run(name)
        return last if last is not None and _timestamp(last.get("started")) >= since else None

    def _stopped_midway(self, name: str) -> bool:
        """Whether the source's last run report says it was stopped (a run that finished says ok)."""
        return (self._last_run(name) or {}).get("status") == "stopped"

    def _resume_unfinished(self) -> None:
        """Mark due again the runs a service that died was watching, those that did not finish (stopped with it,
        or killed): they keep their place, as a run the service's shutdown stops does."""
        names = {source.name for source in self.config.sources}
        for name, due, started in self.due.unfinished():
            last = self._report_since(name, started)
            finished = last is not None and last.get("status") != "stopped"
            if name in names and not finished:
                logger.info("%s: its run did not finish when the service last stopped: due again", name)
                self.due.mark(name, due)
            self.due.ran(name)

    def sync_jobs(self, initial: bool = False) -> None:
        """Make the job store match the config: add, reschedule or remove source jobs.

        Logs every source's next run at start, afterwards only what changed.
        """
        wanted = {f"source:{source.name}": source for source in self.config.sources}
        for job in self.scheduler.get_jobs(jobstore="default"):
            if job.id not in wanted:
                logger.info("%s: no longer in the config, unscheduled", job.name)
                job.remove()
        self.due.keep_only({source.name for source in self.config.sources})
        had = self.due.schedules()
        for job_id, source in wanted.items():
            trigger = cron_trigger(source.schedule)
            options = {"func": "scheduler:mark_due", "args": (str(self.jobs_file), source.name),
                       "misfire_grace_time": None}
            job = self.scheduler.get_job(job_id, jobstore="default")
            # a fire time that passed while the service was down, by the schedule of then (a new one would drop it)
            missed = job.next_run_time if job is not None and job.next_run_time is not None \
                and job.next_run_time <= _now() else None
            missed_trigger = job.trigger if missed else None
            changed = job is None
            if job is None:
                job = self.scheduler.add_job(trigger=trigger, id=job_id, name=source.name,
                                             jobstore="default", executor="default", **options)
            else:
                # The scheduler's methods, not the Job's: those return the stale copy they were called on.
                if str(job.trigger) != str(trigger):
                    job = self.scheduler.reschedule_job(job_id, "default", trigger)
                    changed = True
                if (job.func_ref, job.args, job.misfire_grace_time) != tuple(options.values()):
                    job = self.scheduler.modify_job(job_id, "default", **options)
            if initial and missed:
                # Marked due here, before the runner starts, not when APScheduler fires it a moment
                # later: by then the runner may be running the source (still due from a run the last
                # shutdown stopped), and a fire time during a run makes it due once more afterwards.
                self.due.mark(source.name, missed.timestamp())
                job = self.scheduler.modify_job(job_id, "default",
                                                next_run_time=trigger.get_next_fire_time(None, _now()))
            elif initial and job.next_run_time is not None:
                now = _now()
                last = _last_fire_after(trigger, job.next_run_time, now)
                ahead = (last - now).total_seconds() if last is not None else 0.0
                fire = _next_not_run(trigger, now, [(last, last)]) if ahead > CLOCK_SET_BACK else None
                if fire is not None and fire < job.next_run_time:
                    late = job.next_run_time
                    job = self.scheduler.modify_job(job_id, "default", next_run_time=fire)
                    hours, minutes = divmod(round(ahead / 60), 60)
                    logger.warning("%s: its next run, %s, was set by a clock at least %d h %d min ahead of this one "
                                   "(set back while the service was down): recomputed from now", source.name, late,
                                   hours, minutes)
            if had.get(source.name) != source.schedule:
                self.due.scheduled_by(source.name, source.schedule)
            if changed and not initial:
                self.clock.got_schedule(source.name)
            if initial or changed:
                then = had.get(source.name)
                logger.info("%s: %r, next run %s%s", source.name, source.schedule, job.next_run_time,
                            f" (missed {missed_by(missed_trigger, missed, _now(), then, source.schedule)} while the "
                            "service was down: due now, one run for them)" if missed else "")

    def _watch_config_and_clock(self) -> None:
        """``check_config`` and ``check_clock`` every CONFIG_POLL s until the service stops, by the monotonic clock: as
        an APScheduler interval job it waited for its next time by the wall clock, a day when the clock was set back a day."""
        while not self._stopping.wait(CONFIG_POLL):
            try:
                self.check_clock(self.clock)
                self.check_config()
            except Exception:  # (as APScheduler did for its job:) said, and the watch goes on
                logger.exception("the config watch failed; it goes on")

    def check_clock(self, clock: ClockWatch) -> None:
        """Recompute every source's next run from now if the wall clock was set back more than CLOCK_SET_BACK since
        ``clock`` last looked, leaving out the fire times that ran before.

        A clock that was a day ahead and is set right left each next run where the wrong clock put it: a day of
        silence, as APScheduler waits for the stored time.  A jump forward needs nothing: the runs it passed are due."""
        with self._reload_lock:  # (a source added or rescheduled meanwhile is in the stretch or after it)
            set_back = clock.set_back()
            if set_back is None:
                return
            back, stretch = set_back
            changed = []
            corrected = _now()
            for job in self.scheduler.get_jobs(jobstore="default"):
                fire = _next_not_run(job.trigger, corrected, stretch.ran(job.name))
                if job.next_run_time is not None and fire is not None and fire < job.next_run_time:
                    self.scheduler.modify_job(job.id, "default", next_run_time=fire)
                    changed.append(f"{job.name} ({fire})")
        hours, minutes = divmod(round(back / 60), 60)
        # one line either way: a clock stepped back minutes is worth knowing of, a warning if it moved a run
        if changed:
            logger.warning("the clock went back %d h %d min: next run recomputed from now for %s", hours, minutes,
                           ", ".join(changed))
        else:
            logger.info("the clock went back %d h %d min: no next run needed changing", hours, minutes)

    def check_config(self) -> None:
        """Reload the config when its file's mtime changed, or it is gone or back (the config watch)."""
        try:
            mtime = self.config_path.stat().st_mtime
        except OSError:
            mtime = None
        if mtime != self.mtime or self._config_gone is not None:
            self.reload()

    def _config_unreadable(self) -> bool:
        """Whether the config file cannot be read now: deleted, a directory, unreadable (a `git checkout`, a
        clean-up, a mistaken chmod). Said once when first noticed, and once when it is back; the schedule goes on."""
        try:
            with open(self.config_path, "rb"):
                pass
        except OSError as exc:
            why = ("was deleted" if isinstance(exc, FileNotFoundError) else
                   "is a directory now" if isinstance(exc, IsADirectoryError) else
                   f"cannot be read ({exc.strerror or exc})")
            if why != self._config_gone:
                logger.error("config: %s %s: keeping the last schedule (%d source(s)) until it is back",
                             self.config_path, why, len(self.config.sources))
                self._config_gone = why
            return True
        if self._config_gone is not None:
            logger.info("config: %s is back", self.config_path)
            self._config_gone = None
        return False

    def reload(self) -> None:
        """Load the config again and resync the jobs; a bad config is logged once and the old one kept."""
        from config import ConfigError

        with self._reload_lock:
            if self._config_unreadable():
                return
            try:
                self.mtime = self.config_path.stat().st_mtime
                config = self._load(self.config_path)
            except (ConfigError, OSError) as exc:
                logger.error("config not reloaded, keeping the previous one: %s", exc)
                return
            if config == self.config:
                return
            if config.archive.dir != self.archive_dir:
                logger.error("the archive dir changed to %s: restart the service to use it", config.archive.dir)
                return
            logger.info("config reloaded")
            self.config = config
            self.sync_jobs()
            _wakeup.set()  # a source added back may be due

    def _terminate(self, signum: int, frame: object) -> None:
        if self._stopping.is_set():
            return
        logger.info("%s: stopping; a running crawl is asked to finish and close its files",
                    signal.Signals(signum).name)
        self._stopping.set()
        _wakeup.set()


def _timestamp(iso: object) -> float:
    """A report's ISO 8601 time as a POSIX timestamp; 0 if it is none."""
    try:
        return datetime.fromisoformat(str(iso)).timestamp()
    except ValueError:
        return 0.0


def _utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def serve(config_path: Path, time_limit: float = DEFAULT_TIME_LIMIT) -> None:
    """``newsarchive schedule``: run the service in the foreground until SIGTERM."""
    fake_now = os.environ.get(FAKE_NOW_ENV)
    if fake_now:
        _shift_clock(datetime.fromisoformat(fake_now))
    from crawler.cluster_presence import present

    service = ScheduleService(config_path, time_limit)
    # one service per archive (two would fire every source twice); `status` sees whether one runs; an idle service
    # keeps its archive live for the cluster (`check --forget-archive` elsewhere)
    with _service_lock(service.archive_dir), present(service.archive_dir, lambda: service.config.cluster.redis):
        service.run()


@contextmanager
def _service_lock(archive_dir: Path) -> Iterator[None]:
    """Hold the archive's service lock; ``ArchiveBusy`` naming the service that holds it. Tried for
    a second, as ``newsarchive status`` may be testing it at that moment."""
    lock = ArchiveLock(archive_dir, SERVICE_LOCK)
    for attempt in range(10):
        try:
            lock.__enter__()
            break
        except ArchiveBusy as exc:
            if attempt == 9:
                raise ArchiveBusy(f"{exc}: another schedule service serves this archive") from None
            time.sleep(0.1)
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


def service_running(archive_dir: Path) -> bool:
    """Whether a schedule service serves the archive (holds its service lock)."""
    return is_held(Path(archive_dir) / SERVICE_LOCK)
