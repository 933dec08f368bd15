"""Reads and writes of the schedule service's job store that wait while it cannot be used, instead of failing.

Another program holding the SQLite file's write lock (a backup, an ``sqlite3`` shell) or a full disk
made one write fail: in APScheduler's own thread it ended the thread, and the service went on without
ever firing a source again, silently.  A write that waits loses no fire time and runs none twice.
One holding its exclusive lock (a VACUUM) made reads fail too: APScheduler logged its own warning, with
SQLAlchemy's SQL on the lines below it, every 10 s; a read that waits says so once, in our words.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import STATE_STOPPED

STORE_RETRY = 5.0  # seconds between tries of a write the job store refused

logger = logging.getLogger("newsarchive.schedule")
T = TypeVar("T")
# (file, "read" or "written") that cannot be, as said: the threads that meet it at once (APScheduler's write of
# the next fire time, the source's mark as due) say it in one line, not one each, and its end in one line
_said_failing: set[tuple[str, str]] = set()
_said_lock = threading.Lock()


def when_usable(use: Callable[[], T], path: object, stopping: Callable[[], bool],
              done: str = "written") -> T | None:
    """``use()``, tried again every STORE_RETRY s while SQLite refuses it (locked, disk full, read-only),
    with one line when it first fails and one when it works again; None if ``stopping()`` before then.
    ``done`` is what ``use`` does to the file, for those lines: "written" or "read"; callers waiting at once
    on the same file share them."""
    episode = (str(path), done)
    failed = False
    while True:
        try:
            result = use()
        except Exception as exc:
            if not isinstance(getattr(exc, "orig", exc), sqlite3.OperationalError):  # SQLAlchemy wraps it
                raise
            if not failed:
                failed = True
                with _said_lock:
                    first = episode not in _said_failing
                    _said_failing.add(episode)
                if first:
                    logger.error("the schedule's job store %s cannot be %s (%s): the schedule waits, "
                                 "trying again every %.0f s", path, done, getattr(exc, "orig", exc), STORE_RETRY)
            if stopping():
                if done == "written":
                    logger.error("the service is stopping: a change to the job store %s is not saved", path)
                return None
            time.sleep(STORE_RETRY)
            continue
        if failed:
            with _said_lock:
                last = episode in _said_failing
                _said_failing.discard(episode)
            if last:
                logger.info("the schedule's job store %s can be %s again", path, done)
        return result


class PatientJobStore(SQLAlchemyJobStore):
    """APScheduler's SQLite job store, whose reads and writes wait while the file cannot be used."""

    def _patiently(self, use: Callable[[], T], done: str = "written") -> T | None:
        return when_usable(use, self.engine.url.database,
                             lambda: self._scheduler is not None and self._scheduler.state == STATE_STOPPED, done)

    def lookup_job(self, job_id):
        return self._patiently(lambda: super(PatientJobStore, self).lookup_job(job_id), "read")

    def get_due_jobs(self, now) -> list:
        return self._patiently(lambda: super(PatientJobStore, self).get_due_jobs(now), "read") or []

    def get_next_run_time(self):
        return self._patiently(lambda: super(PatientJobStore, self).get_next_run_time(), "read")

    def get_all_jobs(self) -> list:
        return self._patiently(lambda: super(PatientJobStore, self).get_all_jobs(), "read") or []

    def add_job(self, job) -> None:
        self._patiently(lambda: super(PatientJobStore, self).add_job(job))

    def update_job(self, job) -> None:
        self._patiently(lambda: super(PatientJobStore, self).update_job(job))

    def remove_job(self, job_id) -> None:
        self._patiently(lambda: super(PatientJobStore, self).remove_job(job_id))
