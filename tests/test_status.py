"""``newsarchive status`` never crashes: whatever it finds in the archive it says so in a line,
exit 0, and a reader that stops early (``status | head -3``) costs no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from test_incremental import ROOT, newsarchive

SOURCES = """
[[sources]]
name = "gazette"
start_urls = ["http://127.0.0.1:9/"]

[[sources]]
name = "herald"
start_urls = ["http://127.0.0.1:9/"]
schedule = "0 0 29 2 *"
"""


def write_config(directory: Path) -> Path:
    """``directory``/sources.toml for the archive ``directory``/data (which need not exist)."""
    config = directory / "sources.toml"
    config.write_text(f"[archive]\ndir = {json.dumps(str(directory / 'data'))}\n{SOURCES}")
    return config


def report(name: str, **fields: object) -> dict:
    """A run report as ``newsarchive run`` writes it, one source."""
    entry = {"name": name, "fetched": 3, "articles": 1, "warc_files": [], "finish_reason": "finished",
             "error": None, "new_articles": 1, "unchanged": 2, "skipped_known": 0, "failed_fetches": 0,
             "bytes_written": 5200, "duration": 2.5, "backoff_until": None, "status": "ok", **fields}
    return {"run": "20261122T060000.000Z", "started": "2026-11-22T06:00:00+00:00",
            "finished": "2026-11-22T06:00:03+00:00", "duration": 3.0, "exit_code": 0, "sources": [entry]}


def test_status_of_an_archive_that_never_ran(tmp_path):
    result = newsarchive("status", "--config", str(write_config(tmp_path)))
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[1].startswith("gazette  '0 */6 * * *'  next ") and lines[2] == "  no runs yet"
    assert lines[3].startswith("herald  '0 0 29 2 *'  next 2028-02-29 00:00:00 UTC")  # a leap day: rare, not never


def test_status_reads_around_broken_reports_state_and_job_store(tmp_path):
    config = write_config(tmp_path)
    archive = tmp_path / "data"
    runs = archive / "runs"
    runs.mkdir(parents=True)
    (runs / "20261122T050000.000Z.json").write_text(json.dumps(report("gazette")))
    stopped = report("herald", finish_reason="shutdown", error="crawl ended: shutdown", status="failed")
    (runs / "20261122T050100.000Z.json").write_text(json.dumps(stopped))
    (runs / "20261122T060000.000Z.json").write_text('{"run": "2026')  # cut short
    (runs / "20261122T060100.000Z.json").write_text("[]")
    (runs / "20261122T060200.000Z.json").write_text(json.dumps({"started": "x", "sources": [{"name": "gazette"}]}))
    (runs / "20261122T060300.000Z.json").write_text(json.dumps(report("gazette", fetched="many")))
    (archive / "state").mkdir()
    (archive / "state" / "crawl.sqlite").write_bytes(b"not a database" * 100)
    (archive / "state" / "jobs.sqlite").write_bytes(b"\0" * 4096)
    result = newsarchive("status", "--config", str(config))
    assert result.returncode == 0 and result.stderr == "", result.stderr
    lines = result.stdout.splitlines()
    assert lines[1] == ("warning: 4 file(s) in runs/ are not run reports, not shown: 20261122T060300.000Z.json, "
                        "20261122T060200.000Z.json, 20261122T060100.000Z.json, …")
    assert lines[2].startswith(f"warning: the schedule service's job store {archive}/state/jobs.sqlite cannot be read")
    assert lines[3].startswith(f"warning: the crawl state {archive}/state/crawl.sqlite cannot be read")
    assert "  2026-11-22 06:00:00 ok      3 fetched, 1 new, 2 unchanged, 0 failed, 5.2 kB, 2.5 s" in lines
    # A run stopped on request (SIGTERM) closed its files: not the source's failure.
    assert "  2026-11-22 06:00:00 stopped 3 fetched, 1 new, 2 unchanged, 0 failed, 5.2 kB, 2.5 s" in lines


def test_status_into_a_pipe_the_reader_has_closed(tmp_path):
    """As ``newsarchive status | head -3`` when head has exited before status writes."""
    config = write_config(tmp_path)
    status = subprocess.Popen([sys.executable, "-m", "cli", "status", "--config", str(config)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    status.stdout.close()
    stderr = status.stderr.read()
    assert status.wait(timeout=60) == 0
    assert stderr == b""


def test_status_shows_at_least_one_run_per_source(tmp_path):
    result = newsarchive("status", "--config", str(write_config(tmp_path)), "--runs", "0")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines()[-1] == "newsarchive status: error: argument --runs: '0' is not a number of runs from 1 up"


def test_status_says_when_a_run_holds_the_archive(tmp_path):
    """Before: while a first run was going, status said only "no runs yet" for every source."""
    import os

    from archive.lock import ArchiveLock

    config = write_config(tmp_path)
    (tmp_path / "data").mkdir()
    with ArchiveLock(tmp_path / "data"):
        lines = newsarchive("status", "--config", str(config)).stdout.splitlines()
        assert lines[1].startswith(f"in use now by pid {os.getpid()} on "), lines
        assert lines[1].endswith(": its runs are shown once it has written its report")
        assert "  no runs yet" in lines
    assert not newsarchive("status", "--config", str(config)).stdout.splitlines()[1].startswith("in use now")


def test_status_of_a_run_whose_corpus_did_not_catch_up_says_its_articles_are_not_derived(tmp_path):
    """Before: a run stopped while its corpus caught up showed as "ok ... 0 new", as if it had found nothing."""
    config = write_config(tmp_path)
    runs = tmp_path / "data" / "runs"
    runs.mkdir(parents=True)
    (runs / "20261122T060000.000Z.json").write_text(json.dumps(report("gazette", articles=12, new_articles=0,
                                                                      derived=False)))
    lines = newsarchive("status", "--config", str(config)).stdout.splitlines()
    assert "  2026-11-22 06:00:00 ok      3 fetched, 12 archived, not derived, 2 unchanged, 0 failed, 5.2 kB, 2.5 s" \
        in lines, lines


def test_status_between_a_runs_report_and_its_end_says_the_report_is_written(tmp_path):
    """Before: "its runs are shown once it has written its report", above that run's row already shown."""
    from datetime import datetime, timezone

    from archive.lock import ArchiveLock

    config = write_config(tmp_path)
    runs = tmp_path / "data" / "runs"
    runs.mkdir(parents=True)
    with ArchiveLock(tmp_path / "data"):
        started = datetime.now(timezone.utc)
        written = {**report("gazette"), "run": started.strftime("%Y%m%dT%H%M%S.%f")[:-3] + "Z",
                   "started": started.isoformat()}
        (runs / f"{written['run']}.json").write_text(json.dumps(written))
        lines = newsarchive("status", "--config", str(config)).stdout.splitlines()
    assert lines[1].endswith(": its report is written (below); it is finishing"), lines
    assert any(line.startswith(f"  {started:%Y-%m-%d %H:%M:%S} ok ") for line in lines), lines


def test_a_run_stopped_twice_while_its_corpus_catches_up_shows_its_articles_as_not_derived(tmp_path):
    """The first Ctrl-C leaves the corpus 30 s to catch up, the second stops the run at once: what
    the derivation did not write waits in the WARCs, and status says so rather than "ok ... 0 new"."""
    import os
    import signal
    import time

    from test_scheduler import ArticleSite, wait_for

    site = ArticleSite(400)  # more than one extraction worker derives in the seconds the test takes
    config = tmp_path / "sources.toml"
    config.write_text(f"[archive]\ndir = {json.dumps(str(tmp_path / 'data'))}\nextract_workers = 1\n\n[crawl]\n"
                      "download_delay = 0\nautothrottle = false\n\n[[sources]]\nname = \"harbour\"\n"
                      f"start_urls = [{json.dumps(site.url)}]\n")
    warcs = tmp_path / "data" / "warc"
    try:
        run = subprocess.Popen([sys.executable, "-m", "cli", "run", "--config", str(config)], cwd=ROOT,
                               stderr=subprocess.PIPE, text=True)
        wait_for(lambda: list(warcs.glob("*.warc.gz")) and not list(warcs.glob("*.open")), timeout=60)
        time.sleep(0.2)  # the crawl has returned; the corpus catches up
        os.kill(run.pid, signal.SIGINT)
        time.sleep(0.3)
        os.kill(run.pid, signal.SIGINT)
        stderr = run.communicate(timeout=60)[1]
    finally:
        site.close()
    assert "SIGINT: stopping once the corpus has caught up, in 30 s at most (again: stop now)" in stderr, stderr
    assert "corpus: stopped before it caught up" in stderr and "Traceback" not in stderr, stderr
    assert run.returncode == 1
    lines = newsarchive("status", "--config", str(config)).stdout.splitlines()
    assert any(line.split()[2:3] == ["ok"] and " fetched, 400 archived, not derived, " in line for line in lines), lines


def test_status_shows_under_a_run_the_articles_of_a_run_that_did_not_finish_and_of_earlier_runs(tmp_path):
    """Before: a run that counted a killed run's articles showed only its own, and they were in no run's line."""
    config = write_config(tmp_path)
    runs = tmp_path / "data" / "runs"
    runs.mkdir(parents=True)
    counted = report("gazette", new_articles=19, from_unfinished_runs=21, from_earlier_runs=1)
    counted["corpus"] = {"unfinished_runs": ["20261122T055912.345Z"]}
    (runs / "20261122T060000.000Z.json").write_text(json.dumps(counted))
    lines = newsarchive("status", "--config", str(config)).stdout.splitlines()
    at = lines.index("  2026-11-22 06:00:00 ok      3 fetched, 19 new, 2 unchanged, 0 failed, 5.2 kB, 2.5 s")
    assert lines[at + 1:at + 3] == ["    also 21 articles from a run that did not finish (started 2026-11-22 05:59:12 UTC)",
                                    "    also 1 article from earlier runs' WARCs"], lines
