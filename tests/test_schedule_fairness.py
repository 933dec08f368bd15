"""``newsarchive schedule`` under overload: when runs take longer than the interval, every
source still gets its turn, oldest due first, its missed runs coalesced into one.

The service runs as a real subprocess with a shifted clock (see test_scheduler.py); its runs
are real ``newsarchive run`` processes against a loopback page that answers slowly.
"""

from __future__ import annotations

from pathlib import Path

from test_incremental import write_config
from test_scheduler import Service, reports, wait_for

from archive.lock import ArchiveLock
from status import scheduled_times

SOURCES = 6
SLOW_SECONDS = 2  # the page each source starts from; with start-up a run takes about 4 s


def every_minute(site, count: int = SOURCES) -> list[dict]:
    """``count`` sources due every minute, each starting from its own slow page."""
    return [{"name": f"s{index}", "start_urls": [site.url("gazette", f"/slow?seconds={SLOW_SECONDS}&s={index}")],
             "schedule": "* * * * *"} for index in range(count)]


def runs(archive: Path) -> list[str]:
    """The sources of the runs so far, in the order they started."""
    return [entry["name"] for report in reports(archive) for entry in report["sources"]]


def test_every_source_runs_once_before_any_runs_twice(demo_site, tmp_path):
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path, every_minute(demo_site))
    first = Service(config, "2026-11-22T06:00:30+00:00")  # stores the jobs; the first fires at 06:01
    try:
        wait_for(lambda: len(scheduled_times(tmp_path)) == SOURCES, timeout=20)
    finally:
        assert first.stop() == 0, first.text()
    assert runs(tmp_path) == []
    # Down from 06:01 to 06:10:48: every source is due at once, 12 s before the next minute, and
    # the six runs take some 25 s: the overload of runs longer than the interval, in short.
    second = Service(config, "2026-11-22T06:10:48+00:00")
    try:
        wait_for(lambda: len(set(runs(tmp_path))) == SOURCES, timeout=90)
    finally:
        assert second.stop() == 0, second.text()
    order = runs(tmp_path)
    assert sorted(order[:SOURCES]) == [f"s{index}" for index in range(SOURCES)], order
    log = second.text()
    # APScheduler's ways of dropping a run: too late, or the source's previous run still waiting.
    assert "was missed by" not in log and "maximum number of running instances" not in log, log


def test_a_source_that_meets_a_busy_archive_keeps_its_turn(demo_site, tmp_path):
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path, every_minute(demo_site, 1))
    with ArchiveLock(tmp_path):  # a cron-mode run, say
        service = Service(config, "2026-11-22T05:59:58+00:00")
        try:
            wait_for(lambda: "archive busy" in service.text(), timeout=30)
        except BaseException:
            service.stop()
            raise
    try:
        wait_for(lambda: runs(tmp_path) == ["s0"], timeout=30)
    finally:
        assert service.stop() == 0, service.text()
    assert reports(tmp_path)[0]["sources"][0]["status"] == "ok"
