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
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from archive.state import STATE_DIR

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
DEFAULT_TIME_LIMIT = 3 * 3600.0
KILL_GRACE = 60.0  # after SIGTERM, how long a crawl may take to close its files
CONFIG_POLL = 10.0  # seconds between checks of the config file's mtime
FAKE_NOW_ENV = "NEWSARCHIVE_SCHEDULER_NOW"  # tests: the wall-clock time the service starts at

logger = logging.getLogger("newsarchive.schedule")
_ROOT = Path(__file__).resolve().parent
_running: set[subprocess.Popen] = set()
_running_lock = threading.Lock()
_stopping = threading.Event()


def run_source(config_path: str, name: str, time_limit: float) -> int | None:
    """One scheduled run: ``newsarchive run --source NAME`` in a subprocess, SIGTERM at the limit.

    A subprocess per run because the Twisted reactor cannot be restarted, and so that a
    leak or a crash ends with the run.  The job store refers to this function by name.
    """
    if _stopping.is_set():
        return None
    command = [sys.executable, "-m", "cli", "run", "--config", config_path, "--source", name]
    # Its own session: a terminal's Ctrl-C reaches only us, and we forward exactly one SIGTERM
    # (a second one would make Scrapy stop without closing its WARC files).
    child = subprocess.Popen(command, cwd=_ROOT, start_new_session=True)
    with _running_lock:
        _running.add(child)
    started = time.monotonic()
    try:
        code = child.wait(timeout=time_limit)
    except subprocess.TimeoutExpired:
        logger.warning("%s: still running after %.0f s, stopping it", name, time_limit)
        code = _stop(child)
    finally:
        with _running_lock:
            _running.discard(child)
    outcome = {0: "ok", 1: "a source failed", 2: "config error", 75: "archive busy, skipped"}.get(code, "killed")
    logger.info("%s: exit %s (%s) after %.1f s", name, code, outcome, time.monotonic() - started)
    return code


def _stop(child: subprocess.Popen) -> int:
    """SIGTERM (Scrapy finishes what is in flight and closes its WARCs), SIGKILL if it hangs."""
    child.terminate()
    try:
        return child.wait(timeout=KILL_GRACE)
    except subprocess.TimeoutExpired:
        child.kill()
        return child.wait()


def _interval(trigger, now: datetime) -> float:
    """Seconds between the trigger's next two fire times."""
    first = trigger.get_next_fire_time(None, now)
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1))
    return (second - first).total_seconds()


def _shift_clock(start: datetime) -> None:
    """Test hook: APScheduler believes it is ``start`` now; time then runs at normal speed."""
    import apscheduler.executors.base
    import apscheduler.schedulers.base

    offset = start - datetime.now(timezone.utc)

    class ShiftedDatetime(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + offset

    apscheduler.schedulers.base.datetime = ShiftedDatetime
    apscheduler.executors.base.datetime = ShiftedDatetime


def jobs_path(archive_dir: Path) -> Path:
    return Path(archive_dir) / STATE_DIR / JOBS_FILE


class ScheduleService:
    """APScheduler 3.11 ``BlockingScheduler`` running each source's crawl on its schedule.

    - Job store: SQLite under the archive dir, so a restart knows which runs it missed;
      coalescing turns any number of missed runs into one, run at start.  Jobs are added
      only when missing and rescheduled only when their schedule changed (re-adding with
      ``replace_existing`` would recompute the next run time and drop the missed run).
    - One worker thread: runs of different sources queue rather than meet the archive lock.
    - Misfire grace = the source's interval, so the latest missed run is always caught up.
    - SIGTERM/SIGINT: stop starting runs, SIGTERM the running crawl, wait for it, exit.
    - SIGHUP, or a changed config file mtime: reload the config and resync the jobs.
    """

    def __init__(self, config_path: Path, time_limit: float = DEFAULT_TIME_LIMIT):
        # Imported here: ``config`` imports this module for ``cron_trigger`` on every command.
        from apscheduler.events import EVENT_SCHEDULER_STARTED
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.jobstores.memory import MemoryJobStore
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.blocking import BlockingScheduler

        from config import load_config

        self._load = load_config
        self.config_path = Path(config_path).resolve()
        self.config = load_config(self.config_path)
        self.mtime = self.config_path.stat().st_mtime
        self.time_limit = time_limit
        self.archive_dir = self.config.archive.dir
        jobs = jobs_path(self.archive_dir)
        jobs.parent.mkdir(parents=True, exist_ok=True)
        self.scheduler = BlockingScheduler(
            timezone="UTC",
            jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{jobs}"), "internal": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(1), "internal": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        )
        self.scheduler.add_listener(lambda event: self.sync_jobs(), EVENT_SCHEDULER_STARTED)
        self._shutdown: threading.Thread | None = None

    def run(self) -> None:
        """Serve until SIGTERM/SIGINT."""
        signal.signal(signal.SIGTERM, self._terminate)
        signal.signal(signal.SIGINT, self._terminate)
        signal.signal(signal.SIGHUP, lambda signum, frame: threading.Thread(target=self.reload).start())
        self.scheduler.add_job(self.check_config, "interval", seconds=CONFIG_POLL, id="config-watch",
                               jobstore="internal", executor="internal")
        logger.info("scheduling %d source(s) from %s", len(self.config.sources), self.config_path)
        self.scheduler.start()
        if self._shutdown is not None:
            self._shutdown.join()
        logger.info("stopped")

    def sync_jobs(self) -> None:
        """Make the job store match the config: add, reschedule or remove source jobs."""
        now = datetime.now(timezone.utc)
        wanted = {f"source:{source.name}": source for source in self.config.sources}
        for job in self.scheduler.get_jobs(jobstore="default"):
            if job.id not in wanted:
                logger.info("%s: no longer in the config, unscheduled", job.name)
                job.remove()
        for job_id, source in wanted.items():
            trigger = cron_trigger(source.schedule)
            options = {"args": [str(self.config_path), source.name, self.time_limit],
                       "misfire_grace_time": max(60, int(_interval(trigger, now)))}
            job = self.scheduler.get_job(job_id, jobstore="default")
            if job is None:
                job = self.scheduler.add_job("scheduler:run_source", trigger, id=job_id, name=source.name,
                                             jobstore="default", executor="default", **options)
            else:
                if str(job.trigger) != str(trigger):
                    job = job.reschedule(trigger)
                if job.args != tuple(options["args"]) or job.misfire_grace_time != options["misfire_grace_time"]:
                    job = job.modify(**options)
            logger.info("%s: %r, next run %s", source.name, source.schedule, job.next_run_time)

    def check_config(self) -> None:
        try:
            mtime = self.config_path.stat().st_mtime
        except OSError:
            return
        if mtime != self.mtime:
            self.reload()

    def reload(self) -> None:
        from config import ConfigError

        try:
            self.mtime = self.config_path.stat().st_mtime
            config = self._load(self.config_path)
        except (ConfigError, OSError) as exc:
            logger.error("config not reloaded, keeping the previous one: %s", exc)
            return
        if config.archive.dir != self.archive_dir:
            logger.error("the archive dir changed to %s: restart the service to use it", config.archive.dir)
            return
        logger.info("config reloaded")
        self.config = config
        self.sync_jobs()

    def _terminate(self, signum, frame) -> None:
        if _stopping.is_set():
            return
        logger.info("%s: stopping; a running crawl is asked to finish and close its files",
                    signal.Signals(signum).name)
        _stopping.set()
        with _running_lock:
            for child in _running:
                child.terminate()
        # Not from the handler itself: shutdown takes locks the interrupted main loop may hold.
        self._shutdown = threading.Thread(target=self.scheduler.shutdown, kwargs={"wait": True})
        self._shutdown.start()


def serve(config_path: Path, time_limit: float = DEFAULT_TIME_LIMIT) -> None:
    """``newsarchive schedule``: run the service in the foreground until SIGTERM."""
    fake_now = os.environ.get(FAKE_NOW_ENV)
    if fake_now:
        _shift_clock(datetime.fromisoformat(fake_now))
    ScheduleService(config_path, time_limit).run()
