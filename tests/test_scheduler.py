"""``newsarchive schedule``: crontab(5) meaning, firing, catch-up after downtime, reload, SIGTERM.

The service runs as a real subprocess against the demo sites.  Its clock is set with
``NEWSARCHIVE_SCHEDULER_NOW`` (APScheduler believes it is that time at start, then time runs
normally), so a cron expression fires within seconds instead of at the next real 06:00.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from archive_fixtures import assert_warcio_check

from demo.site import DemoSite
from scheduler import CONFIG_POLL, FAKE_NOW_ENV, cron_trigger
from status import scheduled_times
from supervision import WHY_FD_ENV
from test_incremental import ROOT, newsarchive, write_config

WEDNESDAY = datetime(2026, 11, 18, 12, 0, tzinfo=timezone.utc)


def _next(expression: str, after: datetime = WEDNESDAY) -> datetime:
    return cron_trigger(expression).get_next_fire_time(None, after)


@pytest.mark.parametrize("expression, expected", [
    ("0 6 * * 0", datetime(2026, 11, 22, 6, 0)),  # Sunday, not Monday as from_crontab has it
    ("0 6 * * 7", datetime(2026, 11, 22, 6, 0)),  # 7 is Sunday too
    ("0 6 * * 1", datetime(2026, 11, 23, 6, 0)),  # Monday
    ("0 6 * * 1-5", datetime(2026, 11, 19, 6, 0)),  # Mon-Fri: Thursday is next
    ("0 6 * * 6", datetime(2026, 11, 21, 6, 0)),  # Saturday
    ("0 6 * * sun", datetime(2026, 11, 22, 6, 0)),
    ("0 0 1 * 0", datetime(2026, 11, 22, 0, 0)),  # day-of-month OR day-of-week: Sunday comes first
    ("0 0 20 * 0", datetime(2026, 11, 20, 0, 0)),  # ... the 20th comes first
])
def test_weekday_numbers_mean_what_crontab_says(expression, expected):
    assert _next(expression) == expected.replace(tzinfo=timezone.utc)


def test_saturday_through_sunday_range():
    fires = [_next("30 1 * * 5-7", datetime(2026, 11, day, 12, 0, tzinfo=timezone.utc)) for day in (18, 20, 21, 22)]
    assert [fire.strftime("%a %d") for fire in fires] == ["Fri 20", "Sat 21", "Sun 22", "Fri 27"]


class Service:
    """``newsarchive schedule`` in a subprocess, its log in a file."""

    def __init__(self, config: Path, fake_now: str, *options: str, python: str = sys.executable,
                 launcher: tuple[str, ...] = ("-m", "cli"), env: dict[str, str] | None = None):
        self.log_path = config.parent / f"schedule-{time.monotonic_ns()}.log"
        self.log = open(self.log_path, "w")
        self.started = time.monotonic()
        env = {**os.environ, **(env or {}), FAKE_NOW_ENV: fake_now}
        self.process = subprocess.Popen([python, *launcher, "schedule", "--config", str(config), *options],
                                        cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self, timeout: float = 60) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        self.log.close()
        return code

    def text(self) -> str:
        return self.log_path.read_text()


def reports(archive: Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted((archive / "runs").glob("*.json"))]


def wait_for(condition, timeout: float = 45.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def ran_once_and_stopped(config: Path, archive: Path, now: str) -> None:
    """A service started at ``now`` that ran a source once and was stopped."""
    first = Service(config, now)
    try:
        wait_for(lambda: len(reports(archive)) == 1, timeout=60)
    finally:
        assert first.stop() == 0, first.text()


def sources(site: DemoSite, **schedules: str) -> list[dict]:
    return [{**source, "schedule": schedules[source["name"]]} for source in site.sources() if source["name"] in schedules]


def test_service_fires_on_a_sunday_cron_expression_only(demo_site, tmp_path):
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path,
                          sources(demo_site, gazette="0 6 * * 0", herald="0 6 * * 1"))
    service = Service(config, "2026-11-22T05:59:57+00:00")  # a Sunday
    try:
        wait_for(lambda: len(reports(tmp_path)) == 1)
        time.sleep(2)
    finally:
        assert service.stop() == 0, service.text()
    assert [[entry["name"] for entry in report["sources"]] for report in reports(tmp_path)] == [["gazette"]]
    assert reports(tmp_path)[0]["sources"][0]["status"] == "ok"
    nxt = scheduled_times(tmp_path)
    assert datetime.fromtimestamp(nxt["gazette"], timezone.utc) == datetime(2026, 11, 29, 6, tzinfo=timezone.utc)
    assert datetime.fromtimestamp(nxt["herald"], timezone.utc) == datetime(2026, 11, 23, 6, tzinfo=timezone.utc)


@pytest.mark.parametrize("schedule_after, next_run", [
    ("0 * * * *", datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)),
    # Before: a schedule edited while the service was down replaced the next run time by one to come,
    # and the missed run was dropped.
    ("30 */2 * * *", datetime(2026, 11, 22, 10, 30, tzinfo=timezone.utc)),
])
def test_restart_after_missed_runs_catches_up_once(demo_site, tmp_path, schedule_after, next_run):
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path, sources(demo_site, gazette="0 * * * *"))
    ran_once_and_stopped(config, tmp_path, "2026-11-22T05:59:58+00:00")
    # Down from 06:00 to 09:30: the 07:00, 08:00 and 09:00 runs were missed.
    write_config(demo_site, config, tmp_path, sources(demo_site, gazette=schedule_after))
    second = Service(config, "2026-11-22T09:30:00+00:00")
    try:
        wait_for(lambda: len(reports(tmp_path)) == 2)
        time.sleep(4)
    finally:
        assert second.stop() == 0, second.text()
    assert len(reports(tmp_path)) == 2
    running = [line.split(": ", 1)[1] for line in second.text().splitlines() if "gazette: running" in line]
    assert running == ["gazette: running (due since 2026-11-22 07:00:00 UTC, 0 more waiting)"], second.text()
    nxt = scheduled_times(tmp_path)["gazette"]
    assert datetime.fromtimestamp(nxt, timezone.utc) == next_run


def test_a_damaged_job_store_is_set_aside_and_the_service_keeps_its_schedule(demo_site, tmp_path):
    """Before: the service stopped as on a bad config (exit 2), which systemd does not restart."""
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path, sources(demo_site, gazette="0 6 * * 0"))
    jobs = tmp_path / "state" / "jobs.sqlite"
    jobs.parent.mkdir(parents=True)
    jobs.write_bytes(b"not a database, a disk's garbage " * 100)
    service = Service(config, "2026-11-22T05:59:57+00:00")  # a Sunday
    try:
        wait_for(lambda: len(reports(tmp_path)) == 1)
    finally:
        assert service.stop() == 0, service.text()
    assert "jobs.sqlite is damaged" in service.text() and "Traceback" not in service.text(), service.text()
    assert [path.name.split(".damaged-")[0] for path in jobs.parent.glob("jobs.sqlite.damaged-*")] == ["jobs.sqlite"]
    assert reports(tmp_path)[0]["sources"][0]["status"] == "ok"


def test_one_schedule_service_per_archive_and_status_says_whether_it_runs(demo_site, tmp_path):
    """Before: a second service on the archive ran too (every source fired twice), and `status` went
    on showing the stopped service's next runs as its own."""
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path, sources(demo_site, gazette="0 7 * * *"))
    service = Service(config, "2026-11-22T05:00:00+00:00")
    try:
        wait_for(lambda: "Resumed scheduler job processing" in service.text(), timeout=20)
        second = newsarchive("schedule", "--config", str(config), timeout=30)
        assert second.returncode == 75, second.stderr
        assert "another schedule service serves this archive" in second.stderr and "Traceback" not in second.stderr
        serving = newsarchive("status", "--config", str(config)).stdout
    finally:
        assert service.stop() == 0, service.text()
    assert "next 2026-11-22 07:00:00 UTC (schedule service)" in serving, serving
    stopped = newsarchive("status", "--config", str(config)).stdout
    assert "(by schedule; no schedule service is running)" in stopped and "(schedule service)" not in stopped, stopped


def test_runs_that_a_broken_sources_file_stops_are_errors_of_the_services_log(demo_site, tmp_path):
    """The service keeps the schedule it loaded, but each run reads the file: broken after the
    service started, it fails every run (exit 2), which was logged as INFO among the runs that went well."""
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path, sources(demo_site, gazette="0 6 * * *"))
    service = Service(config, "2026-11-22T05:59:52+00:00")
    try:
        wait_for(lambda: "Resumed scheduler job processing" in service.text(), timeout=20)
        with config.open("a") as out:
            out.write("this is = = broken\n")
        wait_for(lambda: "config error (exit 2" in service.text(), timeout=30)
    finally:
        assert service.stop() == 0, service.text()
    [line] = [line for line in service.text().splitlines() if "config error (exit 2" in line]
    assert " ERROR: gazette: config error (exit 2 after " in line and f"until {config} is mended" in line, line


def test_sighup_reloads_a_changed_schedule(demo_site, tmp_path):
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path, sources(demo_site, gazette="0 7 * * *"))
    service = Service(config, "2026-11-22T05:59:52+00:00")
    try:
        wait_for(lambda: "next run 2026-11-22 07:00" in service.text(), timeout=20)
        write_config(demo_site, config, tmp_path, sources(demo_site, gazette="0 6 * * *"))
        service.process.send_signal(signal.SIGHUP)
        wait_for(lambda: len(reports(tmp_path)) == 1, timeout=30)
    finally:
        assert service.stop() == 0, service.text()
    assert "config reloaded" in service.text()


def test_sigterm_stops_a_running_crawl_without_broken_files(tmp_path):
    with DemoSite(robots_delay=3.0) as site:
        config = write_config(site, tmp_path / "sources.toml", tmp_path, sources(site, gazette="0 6 * * *"))
        service = Service(config, "2026-11-22T05:59:59+00:00")
        wait_for(lambda: any(request.path == "/robots.txt" for request in site.requests), timeout=30)
        started = time.monotonic()
        assert service.stop() == 0, service.text()
        assert time.monotonic() - started < 30
    assert not list((tmp_path / "warc").glob("*.open"))
    (report,) = reports(tmp_path)
    assert report["sources"][0]["finish_reason"] == "shutdown"
    assert_warcio_check((tmp_path / "warc").glob("*"))
    # Stopped on request, not failed: in the service's log and in status.
    said = [line.split(" gazette: ")[1] for line in service.text().splitlines() if "schedule INFO: gazette: " in line]
    assert said[-1].startswith("stopped: the service is stopping (exit "), said
    status = newsarchive("status", "--config", str(config))
    assert status.returncode == 0, status.stderr
    (run_line,) = [line for line in status.stdout.splitlines() if line.startswith("  2")]
    assert run_line.split()[2] == "stopped", status.stdout
    # It was not its turn's fault: the source is due again and runs first when the service is back.
    assert "  due since 2026-11-22 06:00:00 UTC, waiting for the schedule service to start again" \
        in status.stdout.splitlines(), status.stdout


def test_a_run_past_the_time_limit_is_stopped_and_waits_for_its_next_turn(tmp_path):
    # The SIGTERM at 10 s comes while robots.txt is awaited, well after the run has started up.
    with DemoSite(robots_delay=12.0) as site:
        config = write_config(site, tmp_path / "sources.toml", tmp_path, sources(site, gazette="0 6 * * *"))
        service = Service(config, "2026-11-22T05:59:59+00:00", "--time-limit", "10")
        try:
            wait_for(lambda: len(reports(tmp_path)) == 1, timeout=30)
        finally:
            assert service.stop() == 0, service.text()
    assert "gazette: stopped at the time limit (10 s) (exit " in service.text()
    status = newsarchive("status", "--config", str(config)).stdout.splitlines()
    assert [line.split()[2] for line in status if line.startswith("  2")] == ["stopped"], status
    assert not any("due since" in line for line in status), status


def test_config_changes_are_logged_and_nothing_else(demo_site, tmp_path):
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path, sources(demo_site, gazette="0 7 * * *"))
    service = Service(config, "2026-11-22T05:00:00+00:00")
    try:
        # started: the config watch is added and the scheduler resumed after the first next run is said
        wait_for(lambda: "Resumed scheduler job processing" in service.text(), timeout=20)
        before = service.text()
        os.utime(config)  # touched, not changed: the check after it reloads silently
        time.sleep(CONFIG_POLL + 1)
        config.write_text(config.read_text().replace("0 7 * * *", "0 0 31 2 *"))
        wait_for(lambda: "config not reloaded" in service.text(), timeout=CONFIG_POLL + 5)
        time.sleep(CONFIG_POLL + 1)  # still bad at the next check: said once is enough
        write_config(demo_site, config, tmp_path, sources(demo_site, gazette="0 8 * * *"))
        # the reload's last line, not its first: the SIGTERM line would otherwise come between them
        wait_for(lambda: "next run 2026-11-22 08:00" in service.text(), timeout=CONFIG_POLL + 5)
    finally:
        assert service.stop() == 0, service.text()
    new_lines = [line.split(": ", 1)[1] for line in service.text().removeprefix(before).splitlines()]
    assert new_lines[:4] == [
        f"config not reloaded, keeping the previous one: {config}: source 'gazette': key 'schedule': "
        "'0 0 31 2 *' never fires: none of its months has that day of the month",
        "config reloaded",
        "gazette: '0 8 * * *', next run 2026-11-22 08:00:00+00:00",
        "SIGTERM: stopping; a running crawl is asked to finish and close its files",
    ], service.text()


def test_a_run_stopped_by_shutdown_and_the_runs_missed_after_it_run_once_on_restart(tmp_path):
    """Before: the restarted service ran the source still due from the stopped run, then at once
    again for the fire time missed while it was down ("due since 06:00", then "due since 07:30")."""
    with DemoSite(robots_delay=3.0) as site:
        config = write_config(site, tmp_path / "sources.toml", tmp_path, sources(site, gazette="0 * * * *"))
        first = Service(config, "2026-11-22T05:59:57+00:00")
        wait_for(lambda: any(request.path == "/robots.txt" for request in site.requests), timeout=30)
        assert first.stop() == 0, first.text()
        # Down from 06:00 to 07:30: the 07:00 run was missed, and the 06:00 one is still due.
        assert_the_stopped_run_runs_once_at_restart(config, tmp_path, "2026-11-22T07:30:00+00:00")


def assert_the_stopped_run_runs_once_at_restart(config: Path, archive: Path, fake_now: str) -> None:
    """A service started at ``fake_now`` runs gazette once, due since 06:00: the turn of its run that did not finish."""
    second = Service(config, fake_now)
    try:
        wait_for(lambda: len(reports(archive)) == 2)
        time.sleep(5)  # a second run would have started by now
    finally:
        assert second.stop() == 0, second.text()
    running = [line.split(": ", 1)[1] for line in second.text().splitlines() if "gazette: running" in line]
    assert running == ["gazette: running (due since 2026-11-22 06:00:00 UTC, 0 more waiting)"], second.text()
    assert len(reports(archive)) == 2


class ArticleSite:
    """A loopback news site of ``count`` long articles linked from its home page: fetched in a
    second or two, extracted in several, so a run's corpus is still catching up after its crawl."""

    def __init__(self, count: int):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        def article(number: int) -> str:
            paragraphs = "".join(
                f"<p>Paragraph {index} of story {number}: the harbour board met on day {index * number} and "
                f"heard {index + number} witnesses on the dredging of berth {number}, the tides of week {index} "
                "and what the silt costs the fishing fleet every winter since the breakwater was moved.</p>"
                for index in range(80))
            return (f"<html><head><title>Story {number}</title><meta property='og:type' content='article'></head>"
                    f"<body><article><h1>Story {number} about the harbour</h1>{paragraphs}</article></body></html>")

        pages = {f"/news/story-{number}-about-the-harbour": article(number) for number in range(count)}
        links = "".join(f"<p><a href='{path}'>{path}</a></p>" for path in pages)
        pages["/"] = f"<html><body>{links}</body></html>"

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = pages.get(self.path)
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write((body or "").encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_sigterm_while_the_corpus_catches_up_lets_it_catch_up_and_the_run_ends_ok(tmp_path):
    """Before: the SIGTERM stopped the derivation at once ("corpus: stopped before it caught up", exit 1),
    and `status` showed the run as "ok ... 0 new" although its articles were not derived."""
    site = ArticleSite(360)  # derived in about 10 s here: the stop comes well before that
    config = tmp_path / "sources.toml"
    config.write_text(f"[archive]\ndir = {json.dumps(str(tmp_path))}\nextract_workers = 1\n\n[crawl]\n"
                      "download_delay = 0\nautothrottle = false\n\n[[sources]]\nname = \"harbour\"\n"
                      f"start_urls = [{json.dumps(site.url)}]\nschedule = \"0 6 * * *\"\n")
    warcs = tmp_path / "warc"
    try:
        service = Service(config, "2026-11-22T05:59:57+00:00")
        # The crawl has closed its WARC and returned (a second later); the run's report, written once the
        # corpus caught up, is not there yet.
        wait_for(lambda: list(warcs.glob("*.warc.gz")) and not list(warcs.glob("*.open")), timeout=60)
        time.sleep(1)
        assert not reports(tmp_path), "the corpus caught up too fast for this test to stop it catching up"
        assert service.stop(timeout=80) == 0, service.text()
    finally:
        site.close()
    (report,) = reports(tmp_path)
    assert report["corpus"]["error"] is None and report["exit_code"] == 0, service.text()
    assert report["sources"][0]["new_articles"] == 360 and report["sources"][0]["derived"], report
    assert "SIGTERM: stopping once the corpus has caught up, in 30 s at most" in service.text()
    assert "harbour: ok (exit 0 after " in service.text(), service.text()
    status = newsarchive("status", "--config", str(config)).stdout
    assert any(line.split()[2:3] == ["ok"] and " fetched, 360 new, " in line for line in status.splitlines()), status


def test_a_source_backing_off_is_logged_once_and_once_when_it_runs_again(tmp_path):
    """Before: "backing off until T" at every fire time the source was skipped (288 lines a day on a 5-minute
    schedule), and nothing when it ran again; now one line when the back-off begins, one when it is over."""
    from http.server import BaseHTTPRequestHandler

    from archive_fixtures import loopback_site

    class Flaky(BaseHTTPRequestHandler):
        failing = True

        def do_GET(self):
            body = b"<html><head><title>Home</title></head><body><p>Nothing new today.</p></body></html>"
            self.send_response(503 if Flaky.failing else 200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    with loopback_site(Flaky) as url:
        flaky = {"name": "flaky", "start_urls": [f"{url}/"], "schedule": "* * * * *"}
        config = write_config(None, tmp_path / "sources.toml", tmp_path, [flaky])
        assert [newsarchive("run", "--config", str(config)).returncode for _ in range(2)] == [1, 1]
        service = Service(config, "2026-11-22T05:59:58+00:00")
        try:
            wait_for(lambda: "flaky: backing off until" in service.text(), timeout=30)
            second_fire = datetime(2026, 11, 22, 6, 2, tzinfo=timezone.utc).timestamp()  # 06:01 has fired
            wait_for(lambda: (scheduled_times(tmp_path).get("flaky") or 0) >= second_fire, timeout=90)
            time.sleep(2)  # the runner has taken it, and skipped it
            Flaky.failing = False
            assert newsarchive("run", "--config", str(config), "--ignore-backoff").returncode == 0
            wait_for(lambda: "flaky: ok (exit 0" in service.text(), timeout=90)
        finally:
            assert service.stop() == 0, service.text()
    lines = [line.split(" INFO: ", 1)[-1] for line in service.text().splitlines() if "flaky: " in line]
    [backing_off] = [line for line in lines if line.startswith("flaky: backing off until ")]
    assert backing_off.endswith(" UTC (2 failures)"), lines
    assert lines.index(backing_off) + 1 == lines.index("flaky: no longer backing off"), lines
    assert lines[lines.index("flaky: no longer backing off") + 1].startswith("flaky: running (due since "), lines


def test_a_source_backing_off_starts_no_run_and_status_keeps_its_failures(tmp_path):
    """Before: each fire time started `newsarchive run`, which skipped the source, logged as
    "dead: ok (exit 0 ...)", and wrote a report whose "skipped" row pushed the failures out of `status`."""
    dead = {"name": "dead", "start_urls": ["http://127.0.0.1:9/"], "schedule": "* * * * *"}
    config = write_config(None, tmp_path / "sources.toml", tmp_path, [dead])
    assert [newsarchive("run", "--config", str(config)).returncode for _ in range(3)] == [1, 1, 0]  # fail, fail, skip
    service = Service(config, "2026-11-22T05:59:58+00:00")
    try:
        wait_for(lambda: "dead: backing off until" in service.text(), timeout=30)
    finally:
        assert service.stop() == 0, service.text()
    assert len(reports(tmp_path)) == 3 and "dead: running" not in service.text(), service.text()
    [line] = [line for line in service.text().splitlines() if "dead: backing off until" in line]
    assert line.endswith(" UTC (2 failures)") and " INFO: " in line, line
    status = newsarchive("status", "--config", str(config), "--runs", "2").stdout.splitlines()
    assert [line.split()[2] for line in status if line.startswith("  2")] == ["failed", "failed"], status
    assert any(line.startswith("  backing off until ") for line in status), status


def test_a_run_the_service_stops_as_it_starts_stops_as_asked_and_reports(tmp_path):
    """The service stopping just as it starts a run sends the SIGTERM while the new process is still starting
    Python. Before: Python's default action ended it there, without a word or a report (exit -15); now it
stops as on any stop request, and its report says so."""
    from scheduler import run_source

    site = ArticleSite(3)
    config = tmp_path / "sources.toml"
    config.write_text(f"[archive]\ndir = {json.dumps(str(tmp_path))}\n\n[[sources]]\nname = \"harbour\"\n"
                      f"start_urls = [{json.dumps(site.url)}]\n")
    stopping = threading.Event()
    stopping.set()
    try:
        end = run_source(config, "harbour", 60, stopping)
    finally:
        site.close()
    assert end.stopped == "shutdown"
    assert end.code == 0, end  # (a run stopped on request ends well: its reason is in its report)
    (report,) = reports(tmp_path)
    assert report["exit_code"] == 0 and report["sources"][0]["status"] == "stopped", report


def test_a_job_store_another_program_holds_at_a_fire_time_delays_the_schedule_and_does_not_end_it(demo_site, tmp_path):
    """Before: APScheduler's write of the next fire time failed after 5 s ("database is locked"), which
    ended its thread with a traceback: the service went on, and never fired a source or read its config again."""
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path, sources(demo_site, gazette="* * * * *"))
    service = Service(config, "2026-11-22T05:59:55+00:00")
    try:
        wait_for(lambda: "Resumed scheduler job processing" in service.text(), timeout=20)
        with closing(sqlite3.connect(tmp_path / "state" / "jobs.sqlite", isolation_level=None)) as db:
            db.execute("BEGIN IMMEDIATE")  # a backup's or an sqlite3 shell's write lock, across 06:00
            time.sleep(15)
            db.execute("COMMIT")
        wait_for(lambda: len(reports(tmp_path)) == 1, timeout=30)
        write_config(demo_site, config, tmp_path, sources(demo_site, gazette="* * * * *", herald="0 7 * * *"))
        wait_for(lambda: "herald: '0 7 * * *', next run" in service.text(), timeout=CONFIG_POLL + 10)
    finally:
        assert service.stop() == 0, service.text()
    assert "Traceback" not in service.text(), service.text()
    assert "jobs.sqlite cannot be written (database is locked): the schedule waits" in service.text(), service.text()
    nxt = scheduled_times(tmp_path)["gazette"]
    assert datetime.fromtimestamp(nxt, timezone.utc) > datetime(2026, 11, 22, 6, 0, tzinfo=timezone.utc)


def test_a_run_whose_service_is_killed_stops_and_runs_again_at_the_next_start(tmp_path):
    """Before: the run went on alone, unwatched (no time limit; a hang held the archive for good), and a run
    that died with its service (a power cut, systemd's SIGKILL) was not due again: the source waited for its
    next fire time."""
    with DemoSite(robots_delay=3.0) as site:
        config = write_config(site, tmp_path / "sources.toml", tmp_path, sources(site, gazette="0 * * * *"))
        first = Service(config, "2026-11-22T05:59:57+00:00")
        wait_for(lambda: any(request.path == "/robots.txt" for request in site.requests), timeout=30)
        first.process.kill()  # the OOM killer, kill -9
        first.process.wait()
        wait_for(lambda: len(reports(tmp_path)) == 1, timeout=60)
        assert reports(tmp_path)[0]["sources"][0]["finish_reason"] == "shutdown", first.text()
        # no fire time missed (the next is 07:00): the stopped run alone makes it due
        assert_the_stopped_run_runs_once_at_restart(config, tmp_path, "2026-11-22T06:10:00+00:00")
    assert [report["sources"][0]["status"] for report in reports(tmp_path)] == ["stopped", "ok"]


def test_a_reload_asked_while_the_service_starts_does_not_end_it(demo_site, tmp_path):
    """Before: a SIGHUP in its first second (before it listened for one) ended the service, exit 129 and no line."""
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path, sources(demo_site, gazette="0 7 * * *"))
    service = Service(config, "2026-11-22T05:00:00+00:00")
    try:
        # from when the command's code runs (it has taken SIGTERM): the interpreter's start is not its to guard
        wait_for(lambda: catches(service.process.pid, signal.SIGTERM), timeout=20)
        while "Resumed scheduler job processing" not in service.text() and service.process.poll() is None:
            service.process.send_signal(signal.SIGHUP)  # `systemctl reload` right after a restart
            time.sleep(0.05)
        assert service.process.poll() is None, service.text()
    finally:
        assert service.stop() == 0, service.text()


def catches(pid: int, signum: int) -> bool:
    """Whether process ``pid`` has a handler of its own for ``signum`` (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False


def test_a_job_store_another_program_holds_exclusively_is_one_line_of_ours_not_apschedulers(demo_site, tmp_path):
    """A program holding the file's exclusive lock (a VACUUM, a backup that locks it) blocks reads too.
    Before: APScheduler's own warning, "Error getting due jobs from job store 'default': (sqlite3.OperationalError)
    database is locked", with SQLAlchemy's SQL and link on the lines below it, every 10 s while it lasted."""
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path, sources(demo_site, gazette="* * * * *"))
    service = Service(config, "2026-11-22T05:59:55+00:00")
    try:
        wait_for(lambda: "Resumed scheduler job processing" in service.text(), timeout=20)
        with closing(sqlite3.connect(tmp_path / "state" / "jobs.sqlite", isolation_level=None)) as db:
            db.execute("BEGIN EXCLUSIVE")  # across 06:00, when the scheduler reads its due jobs
            time.sleep(25)
            db.execute("COMMIT")
        wait_for(lambda: len(reports(tmp_path)) == 1, timeout=30)
    finally:
        assert service.stop() == 0, service.text()
    text = service.text()
    assert "apscheduler.scheduler WARNING" not in text, text
    assert "Traceback" not in text, text
    store_lines = [line for line in text.splitlines() if "jobs.sqlite" in line]
    assert len(store_lines) == 2, text
    assert " ERROR: " in store_lines[0] and "jobs.sqlite cannot be read (database is locked): the schedule waits" in store_lines[0], text
    assert store_lines[1].endswith("jobs.sqlite can be read again"), text
    assert reports(tmp_path)[0]["sources"][0]["status"] == "ok"


def test_a_job_store_on_a_full_disk_is_one_line_when_it_fills_and_one_when_it_has_room_again(demo_site, small_disk,
                                                                                             tmp_path):
    """Before: "jobs.sqlite cannot be written (database or disk is full)" twice at the same fire time, once for
    APScheduler's write of the next fire time and once for the source's mark as due, each waiting on its own."""
    from archive_fixtures import fill

    config = write_config(demo_site, tmp_path / "sources.toml", small_disk, sources(demo_site, gazette="* * * * *"))
    service = Service(config, "2026-11-22T05:59:50+00:00")
    try:
        wait_for(lambda: "Resumed scheduler job processing" in service.text(), timeout=20)
        filler = fill(small_disk)  # across 06:00
        wait_for(lambda: "cannot be written" in service.text(), timeout=30)
        time.sleep(8)  # both writers of the fire time have met the full disk, and tried again
        filler.unlink()
        wait_for(lambda: len(reports(small_disk)) == 1, timeout=60)
    finally:
        assert service.stop() == 0, service.text()
    text = service.text()
    assert "Traceback" not in text, text
    store_lines = [line for line in text.splitlines() if "jobs.sqlite" in line]
    assert len(store_lines) == 2, text
    assert "jobs.sqlite cannot be written (database or disk is full): the schedule waits" in store_lines[0], text
    assert store_lines[1].endswith("jobs.sqlite can be written again"), text
    assert reports(small_disk)[0]["sources"][0]["status"] == "ok"


def outcome(service: Service, name: str) -> str:
    """The service's line saying how the source's run ended."""
    wait_for(lambda: len(service.text().split(f"{name}: running")) == 2
             and f" {name}: " in service.text().split(f"{name}: running")[1], timeout=60)
    return service.text().split(f"{name}: running")[1].split(f" {name}: ", 1)[1].splitlines()[0]


def test_a_run_that_wrote_no_report_is_logged_with_why_not_pointing_at_a_report(demo_site, tmp_path):
    """Before: "gazette: failed, see its report (exit 1 ...)", and there was no report to see."""
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path, sources(demo_site, gazette="0 6 * * *"))
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "crawl.sqlite").write_bytes(b"not a database, a disk's garbage " * 100)
    service = Service(config, "2026-11-22T05:59:57+00:00")
    try:
        said = outcome(service, "gazette")
    finally:
        assert service.stop() == 0, service.text()
    assert not reports(tmp_path)
    assert "see its report" not in said, service.text()
    assert said.startswith("failed, no report written (exit 1 after "), said
    assert said.endswith(f"): newsarchive: not running: {tmp_path}/state/crawl.sqlite is damaged (file is not a "
                         "database); `newsarchive check --repair` rebuilds it from the WARCs"), said


def test_a_run_ending_in_a_config_error_is_logged_with_the_error_not_only_the_file(demo_site, tmp_path):
    """Before: "gazette: config error (exit 2 after 1.2 s); every run fails so until …/sources.toml is mended",
    without the run's line saying what is wrong in it."""
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path, sources(demo_site, gazette="0 6 * * *"))
    service = Service(config, "2026-11-22T05:59:55+00:00")
    try:
        wait_for(lambda: "Resumed scheduler job processing" in service.text(), timeout=20)
        # edited after the service read it: the service keeps its schedule, the run reads the file and stops
        write_config(demo_site, config, tmp_path, sources(demo_site, gazette="0 6 * * *"), max_age=1e300)
        said = outcome(service, "gazette")
    finally:
        assert service.stop() == 0, service.text()
    assert said.startswith("config error (exit 2 after "), said
    assert said.endswith(f"): newsarchive: config error: {config}: source 'gazette': key 'max_age' must be a positive "
                         f"number of days (at most 36500); every run fails so until {config} is mended"), said


def test_a_run_that_dies_in_a_traceback_is_logged_with_the_exception_and_where_in_our_code(demo_site, tmp_path):
    """A library damaged on disk (a file cut short, as an upgrade on a full disk leaves it), which the run imports
    and the service does not.  Before: "gazette: failed, no report written (exit 1 after 2.0 s): its lines above
    say why", and the lines above were a traceback."""
    broken = tmp_path / "broken" / "scrapy"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("from scrapy.http import (\n")
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path, sources(demo_site, gazette="0 6 * * *"))
    path = os.pathsep.join(filter(None, [str(broken.parent), os.environ.get("PYTHONPATH")]))
    service = Service(config, "2026-11-22T05:59:57+00:00", env={"PYTHONPATH": path})
    try:
        said = outcome(service, "gazette")
    finally:
        assert service.stop() == 0, service.text()
    assert said.startswith("failed, no report written (exit 1 after "), said
    where, error = said.split("): newsarchive: crashed at ", 1)[1].split(": ", 1)
    assert (ROOT / where.split(":")[0]).is_file() and where.startswith(("cli.py:", "crawler/")), said  # a run's import
    assert error == "SyntaxError: '(' was never closed (__init__.py, line 1)", said
    assert "Traceback (most recent call last)" in service.text(), service.text()  # the operator still reads it


def test_a_run_given_options_it_does_not_know_tells_the_service_its_usage_error(tmp_path):
    """As a service of one version starting a run of another (upgraded under it) would.  Before: nothing came
    down the pipe, and the service's line had no reason."""
    read, write = os.pipe()
    result = subprocess.run([sys.executable, "-m", "cli", "run", "--no-such-option"], cwd=ROOT, capture_output=True,
                            text=True, env={**os.environ, WHY_FD_ENV: str(write)}, pass_fds=(write,))
    os.close(write)
    with os.fdopen(read) as pipe:
        said = pipe.read()
    assert (result.returncode, said) == (2, "newsarchive run: error: unrecognized arguments: --no-such-option\n"), \
        result.stderr


def test_a_run_whose_python_is_gone_says_it_could_not_start_and_the_service_goes_on(demo_site, tmp_path):
    """An upgrade that removed the virtualenv's python under a running service.  Before: the service ended
    at the source's fire time with a FileNotFoundError traceback (and again at each restart's first run)."""
    if sys.prefix == sys.base_prefix:
        pytest.skip("needs the tests to run in a virtualenv, to make one of their own")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(Path(sys.executable).resolve())
    (venv / "pyvenv.cfg").write_text((Path(sys.prefix) / "pyvenv.cfg").read_text())
    (venv / "lib").symlink_to(Path(sys.prefix) / "lib")
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path,
                          sources(demo_site, gazette="0 6 * * *"))
    service = Service(config, "2026-11-22T05:59:55+00:00", python=str(venv / "bin" / "python"))
    try:
        wait_for(lambda: "Resumed scheduler job processing" in service.text(), timeout=20)
        (venv / "bin" / "python").unlink()
        said = outcome(service, "gazette")
        assert service.process.poll() is None, service.text()
    finally:
        assert service.stop() == 0, service.text()
    assert "Traceback" not in service.text(), service.text()
    assert said == f"could not start: {venv}/bin/python: No such file or directory", said
    assert [line for line in service.text().splitlines() if " ERROR: gazette: could not start" in line], service.text()


def test_a_config_file_deleted_or_made_a_directory_is_said_once_each_and_once_when_it_is_back(demo_site, tmp_path):
    """Before: the 10 s check said nothing (it could not stat the file), and each SIGHUP said "config not
    reloaded, keeping the previous one: [Errno 2] No such file or directory: '…'"."""
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path, sources(demo_site, gazette="0 7 * * *"))
    service = Service(config, "2026-11-22T05:00:00+00:00")
    try:
        wait_for(lambda: "Resumed scheduler job processing" in service.text(), timeout=20)
        before = service.text()
        text = config.read_text()
        config.unlink()  # as `git checkout` of another branch, or a clean-up, does
        wait_for(lambda: "was deleted" in service.text(), timeout=CONFIG_POLL + 5)
        service.process.send_signal(signal.SIGHUP)
        time.sleep(CONFIG_POLL + 1)  # a SIGHUP and another check while it is still gone: said once is enough
        assert scheduled_times(tmp_path).get("gazette"), "the schedule was dropped"
        config.mkdir()
        wait_for(lambda: "is a directory" in service.text(), timeout=CONFIG_POLL + 5)
        config.rmdir()
        config.write_text(text.replace("0 7 * * *", "0 8 * * *"))
        wait_for(lambda: "next run 2026-11-22 08:00" in service.text(), timeout=CONFIG_POLL + 5)
    finally:
        assert service.stop() == 0, service.text()
    new_lines = [line.split(" newsarchive.schedule ", 1)[1] for line in service.text().removeprefix(before).splitlines()
                 if " newsarchive.schedule " in line]
    assert new_lines == [
        f"ERROR: config: {config} was deleted: keeping the last schedule (1 source(s)) until it is back",
        f"ERROR: config: {config} is a directory now: keeping the last schedule (1 source(s)) until it is back",
        f"INFO: config: {config} is back",
        "INFO: config reloaded",
        "INFO: gazette: '0 8 * * *', next run 2026-11-22 08:00:00+00:00",
        "INFO: SIGTERM: stopping; a running crawl is asked to finish and close its files",
        "INFO: stopped",
    ], service.text()


# `newsarchive schedule` whose clock jumps by DAYS days AFTER seconds after it started: a machine that slept (its
# monotonic clock, which APScheduler waits by, stood still), or whose clock was set back; AFTER and DAYS may be
# lists, "3,20" and "1,-1": a day ahead 3 s after the start, set right 17 s later
CLOCK_JUMP = """
import sys, threading, time
from datetime import timedelta
import cli, scheduler
afters, days = sys.argv.pop(1).split(","), sys.argv.pop(1).split(",")
def jump():
    start = time.monotonic()
    for after, shift in zip(afters, days):
        time.sleep(max(0.0, start + float(after) - time.monotonic()))
        scheduler._shift_clock(scheduler._now() + timedelta(days=float(shift)))
threading.Thread(target=jump, daemon=True).start()
sys.exit(cli.main(sys.argv[1:]))
"""


def next_runs(archive: Path) -> dict[str, datetime]:
    """Each source's next run, as the service's job store has it."""
    return {name: datetime.fromtimestamp(when, timezone.utc) for name, when in scheduled_times(archive).items()}


def running_lines(service: Service) -> list[str]:
    return [line.split(" INFO: ", 1)[1] for line in service.text().splitlines() if ": running (due since" in line]


def test_a_day_asleep_runs_each_source_once_not_once_per_missed_fire_time(demo_site, tmp_path):
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path,
                          sources(demo_site, gazette="* * * * *", herald="0 * * * *"))
    # asleep from 05:59:53 to 05:59:53 the next day: 1,441 fire times of gazette and 25 of herald missed
    service = Service(config, "2026-11-22T05:59:50+00:00", launcher=("-c", CLOCK_JUMP, "3", "1"))
    try:
        wait_for(lambda: len(reports(tmp_path)) == 2, timeout=60)
        time.sleep(5)  # a second run of either would have started by now
    finally:
        assert service.stop() == 0, service.text()
    # (how many more wait depends on whether herald was marked due before the runner took gazette)
    assert [line.split(" more waiting")[0][:-2] for line in running_lines(service)] == [
        "gazette: running (due since 2026-11-23 06:00:00 UTC,", "herald: running (due since 2026-11-23 06:00:00 UTC,"], \
        service.text()
    assert len(reports(tmp_path)) == 2
    nxt = next_runs(tmp_path)
    assert nxt == {"gazette": datetime(2026, 11, 23, 6, 1, tzinfo=timezone.utc),
                   "herald": datetime(2026, 11, 23, 7, 0, tzinfo=timezone.utc)}, nxt


def test_a_clock_set_back_across_a_fire_time_does_not_run_the_source_twice(demo_site, tmp_path):
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path, sources(demo_site, gazette="0 * * * *"))
    # runs at 06:00, then at about 06:00:20 the clock is set back 40 s, to before 06:00 again
    service = Service(config, "2026-11-22T05:59:55+00:00", launcher=("-c", CLOCK_JUMP, "25", str(-40 / 86400)))
    try:
        wait_for(lambda: len(reports(tmp_path)) == 1, timeout=60)
        time.sleep(max(0.0, 55 - (time.monotonic() - service.started)))  # 06:00 has come again, 15 s ago
    finally:
        assert service.stop() == 0, service.text()
    assert running_lines(service) == ["gazette: running (due since 2026-11-22 06:00:00 UTC, 0 more waiting)"], \
        service.text()
    assert len(reports(tmp_path)) == 1
    nxt = datetime.fromtimestamp(scheduled_times(tmp_path)["gazette"], timezone.utc)
    assert nxt == datetime(2026, 11, 22, 7, 0, tzinfo=timezone.utc)


def test_a_clock_set_right_after_a_day_ahead_runs_the_sources_at_their_next_time_not_a_day_later(demo_site, tmp_path):
    """Before: the next run stayed where the clock a day ahead had put it, 2026-11-23 06:01: a day with no run and no
    line."""
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path, sources(demo_site, gazette="* * * * *"))
    # 05:59:55; 2 s later the clock is a day ahead, 2026-11-23 05:59:57 (06:00 runs, the next run is 11-23 06:01);
    # 8 s later it is set right, to about 2026-11-22 06:00:25: the next run is 11-22 06:01
    back = str(-(86400 - 20) / 86400)
    service = Service(config, "2026-11-22T05:59:55+00:00", launcher=("-c", CLOCK_JUMP, "2,10", f"1,{back}"))
    try:
        wait_for(lambda: len(reports(tmp_path)) == 2, timeout=60)
    finally:
        assert service.stop() == 0, service.text()
    assert [line.split(" (due since ")[1][:16] for line in running_lines(service)] == [
        "2026-11-23 06:00", "2026-11-22 06:01"], service.text()
    said = [line.split(" WARNING: ", 1)[1] for line in service.text().splitlines() if "the clock went back" in line]
    assert said == ["the clock went back 24 h 0 min: next run recomputed from now for gazette "
                    "(2026-11-22 06:01:00+00:00)"], service.text()


def restarted_at(config: Path, archive: Path, first_now: str, then_now: str) -> str:
    """The log of a service started at ``then_now``, after one started at ``first_now`` ran a source and stopped."""
    ran_once_and_stopped(config, archive, first_now)
    then = Service(config, then_now)
    try:
        wait_for(lambda: "Resumed scheduler job processing" in then.text(), timeout=20)
    finally:
        assert then.stop() == 0, then.text()
    return then.text()


def test_a_clock_set_right_while_the_service_was_down_runs_the_sources_at_their_next_time_not_a_day_later(
        demo_site, tmp_path):
    """A service that ran by a clock a day ahead, stopped, and started again after the clock was set right: before,
    each next run stayed where the wrong clock had put it, a day away, with no line."""
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path, sources(demo_site, gazette="* * * * *"))
    # runs 06:00 by a clock a day ahead (next run 11-23 06:01), then starts again by the clock set right
    right = restarted_at(config, tmp_path, "2026-11-23T05:59:55+00:00", "2026-11-22T06:00:20+00:00")
    assert "gazette: '* * * * *', next run 2026-11-22 06:01:00+00:00" in right, right
    said = [line.split(" WARNING: ", 1)[1] for line in right.splitlines() if "was set by a clock" in line]
    assert said == ["gazette: its next run, 2026-11-23 06:01:00+00:00, was set by a clock at least 24 h 0 min ahead "
                    "of this one (set back while the service was down): recomputed from now"], right


def test_a_config_edited_after_the_clock_was_set_back_a_day_is_reloaded_within_the_check_interval(demo_site, tmp_path):
    """Before: the 10 s check was an APScheduler interval job, whose next time, by the clock, was then a day
    ahead: no edit of the config was seen for a day (SIGHUP alone reloaded it)."""
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path, sources(demo_site, gazette="0 7 * * *"))
    service = Service(config, "2026-11-22T05:59:55+00:00", launcher=("-c", CLOCK_JUMP, "3", "-1"))
    try:
        wait_for(lambda: "Resumed scheduler job processing" in service.text(), timeout=20)
        time.sleep(max(0.0, 5 - (time.monotonic() - service.started)))  # the clock has been set back
        write_config(demo_site, config, tmp_path, sources(demo_site, gazette="0 8 * * *"))
        wait_for(lambda: "config reloaded" in service.text(), timeout=CONFIG_POLL + 5)
    finally:
        assert service.stop() == 0, service.text()
    assert "gazette: '0 8 * * *', next run 2026-11-21 08:00:00+00:00" in service.text(), service.text()


def test_a_clock_set_back_minutes_across_a_fire_time_that_ran_does_not_run_it_again(demo_site, tmp_path):
    """Before: a step back of more than 5 min recomputed every next run from now, and gazette's 06:00, which had
    run, was its next run again.  herald's 05:55 never ran: it is genuinely to come after the step back, and runs."""
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path,
                          sources(demo_site, gazette="0 * * * *", herald="55 5 * * *"))
    # 05:59:50; gazette runs at 06:00; about 20 s in (06:00:08 or so) the clock is set back 5 min 15 s, to 05:54:5x
    service = Service(config, "2026-11-22T05:59:50+00:00", launcher=("-c", CLOCK_JUMP, "20", str(-315 / 86400)))
    try:
        wait_for(lambda: len(reports(tmp_path)) == 2, timeout=20 + CONFIG_POLL + 40)
        time.sleep(3)
    finally:
        assert service.stop() == 0, service.text()
    assert [line.split(" (due since ")[1][:16] for line in running_lines(service)] == [
        "2026-11-22 06:00", "2026-11-22 05:55"], service.text()
    nxt = next_runs(tmp_path)
    assert nxt == {"gazette": datetime(2026, 11, 22, 7, 0, tzinfo=timezone.utc),
                   "herald": datetime(2026, 11, 23, 5, 55, tzinfo=timezone.utc)}, service.text()


def test_a_clock_set_back_minutes_while_the_service_was_down_does_not_run_the_last_fire_time_again(demo_site, tmp_path):
    """Before: at the next start the next run, 07:00, was recomputed from the clock set back to 05:54, and 06:00,
    which had run, was the next run again, with a line saying it was a clock's mistake."""
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path, sources(demo_site, gazette="0 * * * *"))
    second = restarted_at(config, tmp_path, "2026-11-22T05:59:55+00:00", "2026-11-22T05:54:00+00:00")
    assert "gazette: '0 * * * *', next run 2026-11-22 07:00:00+00:00" in second, second
    assert "was set by a clock" not in second, second


def test_a_clock_set_back_that_changes_no_next_run_says_so_not_that_it_recomputed_them(demo_site, tmp_path):
    """Before: every step back of more than 5 min was the warning "next runs recomputed from now", also when every
    next run stayed as it was."""
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path, sources(demo_site, gazette="0 7 * * *"))
    service = Service(config, "2026-11-22T05:59:55+00:00", launcher=("-c", CLOCK_JUMP, "3", str(-600 / 86400)))
    try:
        wait_for(lambda: "the clock went back" in service.text(), timeout=3 + CONFIG_POLL + 10)
    finally:
        assert service.stop() == 0, service.text()
    said = [line.split(" newsarchive.schedule ", 1)[1] for line in service.text().splitlines()
            if "the clock went back" in line]
    assert said == ["INFO: the clock went back 0 h 10 min: no next run needed changing"], service.text()
    nxt = datetime.fromtimestamp(scheduled_times(tmp_path)["gazette"], timezone.utc)
    assert nxt == datetime(2026, 11, 22, 7, 0, tzinfo=timezone.utc)


def test_a_source_added_after_its_fire_time_passed_runs_it_when_a_clock_set_back_comes_to_it_again(demo_site, tmp_path):
    """Before: herald, added at 06:01:03 (its 06:01 had passed before it was in the config), had its 06:01 taken for
    one that ran when the clock was set back to 06:00:3x: its next run was the next day's.  gazette, scheduled
    since the start, ran at 06:01 and does not run again.  (The 5 min threshold is 5 s here, not to wait 5 min.)"""
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path, sources(demo_site, gazette="1 6 * * *"))
    # 06:00:55; gazette runs at 06:01; herald is added at about 06:01:03; 16 s in, the clock is set back 40 s
    launcher = ("-c", "import scheduler; scheduler.CLOCK_SET_BACK = 5.0\n" + CLOCK_JUMP, "16", str(-40 / 86400))
    service = Service(config, "2026-11-22T06:00:55+00:00", launcher=launcher)
    try:
        wait_for(lambda: "gazette: running" in service.text(), timeout=20)
        time.sleep(max(0.0, 8 - (time.monotonic() - service.started)))
        write_config(demo_site, config, tmp_path, sources(demo_site, gazette="1 6 * * *", herald="1 6 * * *"))
        service.process.send_signal(signal.SIGHUP)
        wait_for(lambda: "the clock went back" in service.text(), timeout=16 + CONFIG_POLL + 10)
        wait_for(lambda: len(reports(tmp_path)) == 2, timeout=45)
        time.sleep(3)  # a second run of gazette would have started by now
    finally:
        assert service.stop() == 0, service.text()
    assert [line.split(" (due since ")[1][:20] for line in running_lines(service)] == [
        "2026-11-22 06:01:00 ", "2026-11-22 06:01:00 "] and running_lines(service)[1].startswith("herald"), \
        service.text()
    tomorrow = datetime(2026, 11, 23, 6, 1, tzinfo=timezone.utc)
    assert next_runs(tmp_path) == {"gazette": tomorrow, "herald": tomorrow}, service.text()


def assert_status_says_every_hour_from_07_00_was_missed(config: Path, by: str = "") -> None:
    """``status`` by the real clock, now, says every hour from 07:00 on 2026-11-22 was missed, ``by`` that schedule."""
    before = datetime.now(timezone.utc)
    down = newsarchive("status", "--config", str(config))
    after = datetime.now(timezone.utc)
    said = [line.strip() for line in down.stdout.splitlines() if line.strip().startswith("missed")]
    expected = [f"missed {(hour - datetime(2026, 11, 22, 7, tzinfo=timezone.utc)) // timedelta(hours=1) + 1} fire "
                f"times, 2026-11-22 07:00:00 UTC to {hour:%Y-%m-%d %H:%M:%S UTC}{by} while no schedule service ran: "
                "one run for them when it starts" for hour in {moment.replace(minute=0, second=0, microsecond=0)
                                                              for moment in (before, after)}]
    assert down.returncode == 0 and len(said) == 1 and said[0] in expected, down.stdout + down.stderr


def test_a_restart_after_downtime_says_how_many_fire_times_were_missed_and_the_first_and_last(demo_site, tmp_path):
    """Before: the catch-up line named only the first fire time missed ("missed 2026-11-22 07:00:00+00:00 while the
    service was down") and status nothing: how many runs were missed, and until when, was nowhere."""
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path, sources(demo_site, gazette="0 * * * *"))
    ran_once_and_stopped(config, tmp_path, "2026-11-22T05:59:58+00:00")
    assert_status_says_every_hour_from_07_00_was_missed(config)
    # down from 06:00 to 09:30 by the service's clock: 07:00, 08:00 and 09:00 were missed, and run once
    second = Service(config, "2026-11-22T09:30:00+00:00")
    try:
        wait_for(lambda: len(reports(tmp_path)) == 2)
    finally:
        assert second.stop() == 0, second.text()
    assert "gazette: '0 * * * *', next run 2026-11-22 10:00:00+00:00 (missed 3 fire times, 2026-11-22 07:00:00 UTC "\
        "to 2026-11-22 09:00:00 UTC while the service was down: due now, one run for them)" in second.text(), \
        second.text()


def test_runs_missed_after_the_schedule_was_edited_while_down_are_counted_by_the_schedule_the_service_had(
        demo_site, tmp_path):
    """Before: with the config's schedule edited while the service was down (hourly to every 10 min), status counted
    the new schedule's fire times over the whole downtime ("missed 2224 fire times, ... 07:00:00 UTC to ... 17:30:00
    UTC") while the service at its start counted and ran the old one's ("missed 3 fire times"), neither saying the
    schedule had changed.  When it changed is unknown: both count by the schedule the service had, and say so."""
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path, sources(demo_site, gazette="0 * * * *"))
    ran_once_and_stopped(config, tmp_path, "2026-11-22T05:59:58+00:00")
    write_config(demo_site, config, tmp_path, sources(demo_site, gazette="*/10 * * * *"))
    changed = "by '0 * * * *', its schedule before the config changed it,"
    assert_status_says_every_hour_from_07_00_was_missed(config, f" {changed}")
    second = Service(config, "2026-11-22T09:30:00+00:00")
    try:
        wait_for(lambda: len(reports(tmp_path)) == 2)
    finally:
        assert second.stop() == 0, second.text()
    assert "gazette: '*/10 * * * *', next run 2026-11-22 09:40:00+00:00 (missed 3 fire times, 2026-11-22 07:00:00 UTC "\
        f"to 2026-11-22 09:00:00 UTC {changed} while the service was down: due now, one run for them)" in second.text(), \
        second.text()
    # the service has the new schedule now: no more word of the old one
    again = [line.strip() for line in newsarchive("status", "--config", str(config)).stdout.splitlines()]
    assert [line.startswith("missed ") and line.endswith(" while no schedule service ran: one run for them when it "
                                                          "starts") for line in again].count(True) == 1, again
    assert not any("the config changed it" in line for line in again), again


def test_a_source_rescheduled_twice_before_a_clock_set_back_runs_by_its_latest_schedule_once(demo_site, tmp_path):
    """Each source is rescheduled twice (SIGHUP after each edit) in one stretch of the clock, which is then set back
    across 06:00.  gazette's 06:00 came only under its first new schedule (08:00): by its latest (06:00) it never ran,
    so it runs once when the clock comes to it again.  herald's ran at 06:00 by its first new schedule (06:00 daily):
    its latest (06:00 on Sundays) does not run it again.  (The 5 min threshold is 5 s here, not to wait 5 min.)"""
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path,
                          sources(demo_site, gazette="0 7 * * *", herald="0 7 * * *"))
    # 05:59:50; edits at about 05:59:53 and 06:00:03 (after herald's 06:00 ran); 18 s in the clock is set back 40 s
    launcher = ("-c", "import scheduler; scheduler.CLOCK_SET_BACK = 5.0\n" + CLOCK_JUMP, "18", str(-40 / 86400))
    service = Service(config, "2026-11-22T05:59:50+00:00", launcher=launcher)
    try:
        for schedules, at in [({"gazette": "0 8 * * *", "herald": "0 6 * * *"}, 3),
                              ({"gazette": "0 6 * * *", "herald": "0 6 * * 0"}, 13)]:
            wait_for(lambda: "Resumed scheduler job processing" in service.text(), timeout=20)
            time.sleep(max(0.0, at - (time.monotonic() - service.started)))
            write_config(demo_site, config, tmp_path, sources(demo_site, **schedules))
            service.process.send_signal(signal.SIGHUP)
            wait_for(lambda: f"herald: {schedules['herald']!r}, next run" in service.text(), timeout=5)
        assert time.monotonic() - service.started < 18, "the edits came too late for the test's timing"
        wait_for(lambda: "the clock went back" in service.text(), timeout=18 + CONFIG_POLL + 10)
        wait_for(lambda: len(reports(tmp_path)) == 2, timeout=60)
        time.sleep(3)  # a second run of either would have started by now
    finally:
        assert service.stop() == 0, service.text()
    assert [line.split(" more waiting")[0][:-2] for line in running_lines(service)] == [
        "herald: running (due since 2026-11-22 06:00:00 UTC,", "gazette: running (due since 2026-11-22 06:00:00 UTC,"], \
        service.text()
    assert next_runs(tmp_path) == {"gazette": datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc),
                                   "herald": datetime(2026, 11, 29, 6, 0, tzinfo=timezone.utc)}, service.text()
