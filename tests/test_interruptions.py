"""A run killed at a bad moment loses nothing: the next run's corpus is what an uninterrupted run gives.

Real runs (``newsarchive run`` subprocesses) crawl a loopback site of generated articles;
the whole run, or one of its processes (the WARC writer, the derivation, an extraction
worker), is SIGKILLed at seeded moments; then the archive is run again.  After it:

- every article is in the corpus once, with the text a clean run gives it;
- the corpus is byte for byte what a rebuild of the archive's WARCs gives (so nothing
  archived was skipped, and nothing derived twice);
- no process of the killed run is left.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from archive_fixtures import fill, newsarchive, warc_captures
from test_incremental import ROOT, write_config
from archive_fixtures import corpus_files

from config import ArchiveSettings
from corpus.export import read_corpus
from demo.farm import ArticleFarm
from supervision import STACKS_SIGNAL

ARTICLES = 120
SEED = 20261203


@contextmanager
def running(config: Path, **environment: str) -> Iterator[subprocess.Popen]:
    """A run in a session of its own, so that whatever it leaves behind can be found; killed, with
    every process of its session, if the test is done with it first."""
    run = subprocess.Popen([sys.executable, "-m", "cli", "run", "--config", str(config)], cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                           env={**os.environ, **environment})
    try:
        yield run
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        run.stderr.close()


def session_processes(session: int) -> list[tuple[int, str]]:
    """The pids and command lines of the processes still in ``session``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getsid(int(entry.name)) == session:
                    found.append((int(entry.name), (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()))
            except (ProcessLookupError, FileNotFoundError, PermissionError):
                continue
    return found


def ended_within(run: subprocess.Popen, timeout: float) -> None:
    """Wait for ``run`` to end; if it does not, fail with what each of its processes was doing (their
    stacks, which ``kill -USR2`` prints) and the run's stderr."""
    try:
        run.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        for pid, _ in session_processes(run.pid):
            try:
                os.kill(pid, STACKS_SIGNAL)
            except ProcessLookupError:  # it ended meanwhile
                continue
        time.sleep(2)
        os.killpg(run.pid, signal.SIGKILL)
        stderr = run.stderr.read()
        pytest.fail(f"the run did not end within {timeout} s; its stderr, with its processes' stacks:\n"
                    + (stderr.decode(errors="replace") if isinstance(stderr, bytes) else stderr)[-30000:])


def children(pid: int) -> list[tuple[int, str]]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append((int(entry.name), (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()))
            except (FileNotFoundError, ProcessLookupError, ValueError):
                continue
    return found


def wait_for(condition, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def texts_by_url(archive: Path) -> dict[str, bytes]:
    rows = read_corpus(archive)
    assert len({row["url"] for row in rows}) == len(rows), "an article is in the corpus twice"
    return {row["url"]: (archive / row["text_path"]).read_bytes() for row in rows}


def made_whole_by_the_next_run(config: Path, archive: Path, reference: dict[str, bytes]) -> None:
    """The next run ends well and its corpus is a clean run's, and what a rebuild of the WARCs gives
    (nothing archived was skipped, nothing derived twice)."""
    again = newsarchive("run", "--config", str(config))
    assert again.returncode == 0, again.stderr
    assert texts_by_url(archive) == reference
    rebuilt = archive.parent / f"{archive.name}-rebuilt"
    result = newsarchive("rebuild", "--warc", *map(str, sorted((archive / "warc").glob("*.warc.gz"))),
                         "--out", str(rebuilt))
    assert result.returncode == 0, result.stderr
    assert corpus_files(rebuilt) == corpus_files(archive)


@pytest.fixture(scope="module")
def farm():
    with ArticleFarm(ARTICLES) as site:
        yield site


@pytest.fixture(scope="module")
def clean(farm, tmp_path_factory) -> tuple[dict[str, bytes], float]:
    """What an uninterrupted run gives, and how long it takes."""
    archive = tmp_path_factory.mktemp("clean")
    config = write_config(None, archive / "sources.toml", archive, [farm.source()])
    started = time.monotonic()
    result = newsarchive("run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    texts = texts_by_url(archive)
    assert len(texts) == ARTICLES
    return texts, time.monotonic() - started


def writer_process(run: subprocess.Popen) -> int | None:
    return next((pid for pid, command in children(run.pid) if "archive.writer_process" in command), None)


def derivation_process(run: subprocess.Popen) -> int | None:
    return next((pid for pid, command in children(run.pid) if "corpus.process" in command), None)


def extraction_worker(run: subprocess.Popen) -> int | None:
    deriver = derivation_process(run)
    return next((pid for pid, _ in children(deriver)), None) if deriver else None


def first_process(find, timeout: float = 30.0) -> int | None:
    """The process ``find`` names, once there is one: the derivation starts its extraction workers
    when work comes, so at a given moment there may be none yet."""
    found: list[int | None] = [None]

    def there() -> bool:
        found[0] = find()
        return found[0] is not None

    wait_for(there, timeout)
    return found[0]


def archived_articles(archive: Path) -> int:
    """Bytes of WARC written so far: the crawl is under way once there are some."""
    return sum(path.stat().st_size for path in (archive / "warc").glob("*.warc.gz*") if path.exists())


MOMENTS = {
    "mid-crawl, early": ("run", 0.35),
    "mid-crawl, late": ("run", 0.7),
    "after the WARCs are closed": ("run", "closed"),
    "at the end": ("run", "report"),
    "the WARC writer, mid-crawl": ("writer", 0.5),
    "the derivation, mid-crawl": ("derivation", 0.5),
    "an extraction worker, mid-crawl": ("worker", 0.5),
}


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_a_run_killed_at_a_bad_moment_is_made_whole_by_the_next_run(moment, farm, clean, tmp_path):
    reference, duration = clean
    victim, when = MOMENTS[moment]
    config = write_config(None, tmp_path / "sources.toml", tmp_path, [farm.source()])
    with running(config) as run:
        if when == "closed":  # the crawl is over, its WARCs renamed; the corpus is still being derived
            assert wait_for(lambda: archived_articles(tmp_path) and not list((tmp_path / "warc").glob("*.open")))
        elif when == "report":
            assert wait_for(lambda: list((tmp_path / "runs").glob("*.json")) or run.poll() is not None)
        else:  # a seeded moment within the crawl
            assert wait_for(lambda: archived_articles(tmp_path) > 0)
            time.sleep(random.Random(f"{SEED}{moment}").uniform(0.5, 1.5) * when * duration / 3)
        find = {"run": lambda: run.pid, "writer": lambda: writer_process(run),
                "derivation": lambda: derivation_process(run), "worker": lambda: extraction_worker(run)}[victim]
        target = first_process(find) if when != "report" else find()
        assert target is not None or when == "report", f"no {victim} process to kill"
        if target is not None:
            os.kill(target, signal.SIGKILL)
        ended_within(run, 120 if victim != "run" else 10)  # without it the run goes on, and ends
        assert wait_for(lambda: not session_processes(run.pid), timeout=10), session_processes(run.pid)

    made_whole_by_the_next_run(config, tmp_path, reference)
    assert not list((tmp_path / "warc").glob("*.open"))
    report = json.loads(sorted((tmp_path / "runs").glob("*.json"))[-1].read_text())
    assert report["exit_code"] == 0


# The seconds a worker may spend on a page: a hung one is stopped after them, and a page extracted on a
# machine its other work starves (a fresh worker forked for each page redone) must stay well under them.
HUNG_SECONDS = 10


def test_an_extraction_worker_that_hangs_is_stopped_and_the_run_loses_nothing(farm, clean, tmp_path):
    reference, _ = clean
    config = write_config(None, tmp_path / "sources.toml", tmp_path, [farm.source()])
    with running(config, NEWSARCHIVE_PAGE_SECONDS=str(HUNG_SECONDS)) as run:
        assert wait_for(lambda: archived_articles(tmp_path) > 0, timeout=120)
        assert first_process(lambda: extraction_worker(run), timeout=120) is not None, "no extraction worker to stop"
        # the pool forks its workers one after another: all of them, before they are stopped
        deriver = derivation_process(run)
        assert wait_for(lambda: len(children(deriver)) >= ArchiveSettings.extract_workers, timeout=30), children(deriver)
        for worker, _ in children(deriver):
            os.kill(worker, signal.SIGSTOP)  # hung, all of them: neither working nor dead
        ended_within(run, 240)
        stderr = run.stderr.read().decode(errors="replace")
        assert wait_for(lambda: not session_processes(run.pid), timeout=30), session_processes(run.pid)
    assert texts_by_url(tmp_path) == reference, stderr  # this run's own corpus: nothing lost, nothing twice
    # on a page, idle with the queue's lock, or idle without it (found when the pool ends): said in one line
    said = (f"for over {HUNG_SECONDS} s", f"in {HUNG_SECONDS} s", "did not end when told to")
    assert any(line in stderr for line in said), stderr
    assert "Traceback" not in stderr


def test_a_full_disk_costs_one_line_and_the_next_derivation_makes_the_corpus_whole(farm, clean, small_disk):
    reference, _ = clean
    archive = small_disk / "archive"
    config = write_config(None, small_disk / "sources.toml", archive, [farm.source()])
    crawled = newsarchive("run", "--no-extract", "--config", str(config))
    assert crawled.returncode == 0, crawled.stderr
    filler = fill(small_disk)

    full = newsarchive("derive", "--config", str(config))
    assert full.returncode == 1
    assert "Traceback" not in full.stderr
    assert [line for line in full.stderr.splitlines() if "cannot write the corpus" in line], full.stderr
    assert "No space left on device" in full.stderr or "disk is full" in full.stderr

    filler.unlink()
    again = newsarchive("run", "--config", str(config))
    assert again.returncode == 0, again.stderr
    assert texts_by_url(archive) == reference


def test_a_disk_that_fills_up_mid_crawl_ends_the_run_in_a_line_and_the_next_run_catches_up(farm, clean, small_disk):
    """The crawl's queue, its WARCs, its state and the corpus share the disk; whichever fills it
    first, the run ends (before: the crawl's queue on disk, cut short, was read again for ever,
    and every fetch after failed in a line of its own) and the next run, given room, loses nothing."""
    reference, _ = clean
    archive = small_disk / "archive"
    config = write_config(None, small_disk / "sources.toml", archive, [farm.source()])
    filler = fill(small_disk, leave=200_000)  # a third of what the crawl writes
    with running(config) as run:
        ended_within(run, 60)
        stderr = run.stderr.read().decode(errors="replace")
        assert wait_for(lambda: not session_processes(run.pid), timeout=10), session_processes(run.pid)
    assert run.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert "No space left on device" in stderr or "disk is full" in stderr, stderr
    assert len(stderr.splitlines()) < 20, stderr  # a few lines, not one per fetch

    filler.unlink()
    made_whole_by_the_next_run(config, archive, reference)


def test_a_warc_closed_on_a_disk_too_full_to_index_it_is_indexed_by_the_next_run(farm, clean, small_disk, tmp_path):
    """The writer closes a WARC, then writes its replay index; a disk that fills in between leaves the
    file whole but unindexed.  Before, no later run indexed it: `check` failed ("1 WARC files have no
    replay index") on every run after, until `check --repair`; now the next run indexes it."""
    reference, _ = clean
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "indexes").symlink_to(small_disk)  # the indexes on a disk of their own, full
    config = write_config(None, tmp_path / "sources.toml", archive, [farm.source()])
    filler = fill(small_disk)
    full = newsarchive("run", "--config", str(config))
    assert "could not index" in full.stderr and "Traceback" not in full.stderr, full.stderr
    assert list((archive / "warc").glob("*.warc.gz"))

    filler.unlink()
    made_whole_by_the_next_run(config, archive, reference)
    checked = newsarchive("check", "--config", str(config))
    assert checked.returncode == 0, checked.stderr


def test_a_corpus_file_that_cannot_be_replaced_is_written_by_the_next_run(farm, clean, tmp_path):
    reference, _ = clean
    config = write_config(None, tmp_path / "sources.toml", tmp_path, [farm.source()])
    (tmp_path / "corpus.jsonl").mkdir()  # rename over a directory fails
    blocked = newsarchive("run", "--config", str(config))
    assert blocked.returncode == 1
    assert "Traceback" not in blocked.stderr
    assert "corpus: cannot write the corpus" in blocked.stderr, blocked.stderr
    (tmp_path / "corpus.jsonl").rmdir()
    again = newsarchive("run", "--config", str(config))
    assert again.returncode == 0, again.stderr
    assert texts_by_url(tmp_path) == reference


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_stops_the_crawl_and_reports_the_source_stopped_not_failed(presses, clean, tmp_path):
    """Once: the crawl stops cleanly and what was archived is derived before the run ends. Twice:
    the run stops at once; Scrapy's forced shutdown leaves the crawl without its finish reason,
    which was read as a crawl that never started, a failure that put the source into back-off."""
    reference, _ = clean
    with ArticleFarm(ARTICLES, delay=0.05) as slow:
        config = write_config(None, tmp_path / "sources.toml", tmp_path, [slow.source()])
        with running(config) as run:
            assert wait_for(lambda: archived_articles(tmp_path) > 20_000)
            for _ in range(presses):
                os.kill(run.pid, signal.SIGINT)
                time.sleep(0.3)
            ended_within(run, 60)
            stderr = run.stderr.read().decode()
        assert run.returncode == 0, stderr
        assert "Traceback" not in stderr
        assert "farm: STOPPED" in stderr and "FAILED" not in stderr, stderr
        report = json.loads(next((tmp_path / "runs").glob("*.json")).read_text())
        assert [source["status"] for source in report["sources"]] == ["stopped"]
        assert not report["sources"][0]["counts_for_backoff"]
        assert report["sources"][0]["bytes_written"] > 20_000  # closed, or left open by a second press
        if presses == 1:
            stopped = texts_by_url(tmp_path)
            assert 0 < len(stopped) < ARTICLES
            rebuilt = tmp_path / "rebuilt"
            assert newsarchive("rebuild", "--warc", *map(str, sorted((tmp_path / "warc").glob("*.warc.gz"))),
                               "--out", str(rebuilt)).returncode == 0
            assert corpus_files(rebuilt) == corpus_files(tmp_path)  # everything archived was derived
        again = newsarchive("run", "--config", str(config))
        assert again.returncode == 0, again.stderr
        assert "skipped" not in again.stderr
    assert {url.split("/", 3)[3]: text for url, text in texts_by_url(tmp_path).items()} == \
        {url.split("/", 3)[3]: text for url, text in reference.items()}


def test_a_stop_request_while_a_server_hangs_ends_the_run_soon_not_after_the_download_timeout(tmp_path):
    """A graceful stop waits for the downloads in flight: with a host that accepts and never answers and
    `[crawl] timeout = 300`, a SIGTERM left the run logging nothing for minutes (a service's time limit then
    SIGKILLed it, with no report).  Now the stop is forced, as a second Ctrl-C forces it, STOP_DEADLINE s after."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(60)
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{tmp_path}"\n\n[crawl]\ntimeout = 300\n\n[[sources]]\nname = "slow"\n'
                      f'start_urls = ["http://127.0.0.1:{listener.getsockname()[1]}/"]\n')
    try:
        with running(config) as run:
            held, _ = listener.accept()  # its first request (robots.txt): never answered
            os.kill(run.pid, signal.SIGTERM)
            asked = time.monotonic()
            ended_within(run, 60)
            took, stderr = time.monotonic() - asked, run.stderr.read().decode()
        held.close()
    finally:
        listener.close()
    assert took < 45, (took, stderr)  # the deadline (15 s), then the corpus catching up and the report
    assert "Traceback" not in stderr, stderr
    assert "slow: STOPPED" in stderr and "FAILED" not in stderr, stderr
    assert len([line for line in stderr.splitlines() if "forcing" in line]) == 1, stderr
    [source] = json.loads(next((tmp_path / "runs").glob("*.json")).read_text())["sources"]
    assert source["status"] == "stopped" and not source["counts_for_backoff"]


# A SIGTERM as the command's modules load (from the import of its configuration's module), as a service
# that stops a run it has only just started sends it.
SIGTERM_AS_MODULES_LOAD = """
import importlib.abc, os, runpy, signal, sys
class StopAsConfigLoads(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "config":
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGTERM)
sys.meta_path.insert(0, StopAsConfigLoads())
sys.argv = ["cli", *sys.argv[1:]]
runpy.run_module("cli", run_name="__main__")
"""


def test_a_sigterm_as_a_run_loads_its_modules_stops_it_with_its_report(tmp_path):
    """Before: the signal's default action ended the run (exit 143), no report, no word."""
    with ArticleFarm(ARTICLES) as farm:
        config = write_config(None, tmp_path / "sources.toml", tmp_path, [farm.source()])
        run = subprocess.run([sys.executable, "-c", SIGTERM_AS_MODULES_LOAD, "run", "--config", str(config)], cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        assert "Traceback" not in run.stderr, run.stderr
        [source] = json.loads(next((tmp_path / "runs").glob("*.json")).read_text())["sources"]
        assert source["status"] == "stopped" and source["fetched"] < ARTICLES
        status = subprocess.run([sys.executable, "-c", SIGTERM_AS_MODULES_LOAD, "status", "--config", str(config)],
                                cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert (status.returncode, status.stderr.splitlines()) == (143, [
            "newsarchive: stopped by SIGTERM; what was done is kept, and the same command goes on from there"])
        assert newsarchive("run", "--config", str(config)).returncode == 0
    assert len(read_corpus(tmp_path)) == ARTICLES


@pytest.mark.parametrize("moment", [0.5, 1.5, 3.0, "the WARC writer started"])
def test_ctrl_c_in_the_first_seconds_of_a_run_stops_it_cleanly_and_its_report_counts_what_was_archived(
        moment, tmp_path):
    """A terminal sends Ctrl-C to the run's whole process group: its children, still loading their modules,
    died of it in tracebacks and the derivation was reported dead (exit 1); and one that came before Scrapy
    took the signals over (the writer starts just before) neither stopped the crawl nor let the report say
    what it fetched (0 fetched)."""
    with ArticleFarm(ARTICLES, delay=0.3) as slow:
        config = write_config(None, tmp_path / "sources.toml", tmp_path, [slow.source()])
        with running(config) as run:  # (a session of its own: its pid is its process group's)
            if isinstance(moment, float):
                time.sleep(moment)
            else:
                assert first_process(lambda: writer_process(run), timeout=60)
            os.killpg(run.pid, signal.SIGINT)
            ended_within(run, 120)
            stderr = run.stderr.read().decode(errors="replace")
        assert run.returncode == 0, stderr
        assert "Traceback" not in stderr and "incident" not in stderr, stderr
        [source] = json.loads(next((tmp_path / "runs").glob("*.json")).read_text())["sources"]
        pages = [capture for capture in warc_captures(tmp_path) if not capture["url"].endswith("/robots.txt")]
        assert source["status"] == "stopped" and source["fetched"] == len(pages) < ARTICLES  # ("fetched": the site's pages)
        assert not list((tmp_path / "warc").glob("*.open"))
        again = newsarchive("run", "--config", str(config))
        assert again.returncode == 0, again.stderr
    assert len(texts_by_url(tmp_path)) == ARTICLES
    rebuilt = tmp_path / "rebuilt"
    assert newsarchive("rebuild", "--warc", *map(str, sorted((tmp_path / "warc").glob("*.warc.gz"))),
                       "--out", str(rebuilt)).returncode == 0
    assert corpus_files(rebuilt) == corpus_files(tmp_path)


def test_a_run_that_seems_hung_shows_what_each_of_its_processes_is_doing_and_goes_on(tmp_path):
    with ArticleFarm(4, delay=1.5) as slow:
        config = write_config(None, tmp_path / "sources.toml", tmp_path, [slow.source()])
        with running(config) as run:
            # under way: each process has started (a signal before that would end it, as by default)
            assert wait_for(lambda: archived_articles(tmp_path) > 0 and derivation_process(run), timeout=60)
            time.sleep(0.5)
            asked = [run.pid, writer_process(run), derivation_process(run)]
            for pid in asked:
                os.kill(pid, STACKS_SIGNAL)
            ended_within(run, 120)
            stderr = run.stderr.read().decode(errors="replace")
    assert run.returncode == 0, stderr
    assert stderr.count("Current thread") == len(asked), stderr  # one dump each: every thread, the asked one first
    assert "File " in stderr and "Traceback" not in stderr


def test_a_disk_full_when_the_crawls_queue_is_closed_is_one_line_not_a_traceback(small_disk):
    """A sitemap of 1,100 stories queues them on disk; the disk fills while the crawl runs, and closing
    the queue (Scrapy writes its state) failed in a 25-line traceback."""
    archive = small_disk / "archive"
    with ArticleFarm(1100) as big:
        config = write_config(None, small_disk / "sources.toml", archive, [big.source()])
        fill(small_disk, leave=1_800_000)
        with running(config) as run:
            ended_within(run, 120)
            stderr = run.stderr.read().decode(errors="replace")
    assert run.returncode == 1, stderr
    assert "Traceback" not in stderr, stderr
    assert "cannot close the crawl's queue" in stderr, stderr
    assert len(stderr.splitlines()) < 20, stderr



def test_a_sigterm_as_the_crawl_closes_is_the_runs_stop_request_and_the_run_reports(tmp_path):
    """SIGTERMs sent 20 ms apart from the moment the crawl's WARC is closed (one run each, then a second SIGTERM
    to each).  Scrapy's handlers stay in place after its crawl has ended, until the run takes the signals
    back: one that came meanwhile went to a reactor that no longer ran, and the run never heard it.  With a
    corpus that cannot catch up, that run then never ended (the service kills it 60 s later, no report).
    Each must be the run's stop request, said as such: the second stops the run at once, with its report."""
    articles = 30
    with ArticleFarm(articles) as farm:
        clean_archive = tmp_path / "clean"
        clean_run = newsarchive("run", "--config", str(write_config(None, tmp_path / "clean.toml", clean_archive,
                                                                      [farm.source()])))
        assert clean_run.returncode == 0, clean_run.stderr
        reference = texts_by_url(clean_archive)
        for step in range(5):
            archive = tmp_path / f"stopped-{step}"
            config = write_config(None, tmp_path / f"stopped-{step}.toml", archive, [farm.source()])
            with running(config) as run:
                deriver = first_process(lambda: derivation_process(run))
                assert deriver is not None, "no derivation process"
                assert wait_for(lambda: list((archive / "warc").glob("*.open")))
                assert wait_for(lambda: not list((archive / "warc").glob("*.open")))  # closed: the crawl ends next
                os.kill(deriver, signal.SIGSTOP)  # a corpus that cannot catch up: only a stop request ends the run
                time.sleep(0.02 * step)
                os.kill(run.pid, signal.SIGTERM)
                time.sleep(0.5)
                os.kill(run.pid, signal.SIGTERM)  # a second one stops the run at once
                ended_within(run, 15)
                stderr = run.stderr.read().decode(errors="replace")
                assert wait_for(lambda: not session_processes(run.pid), timeout=10), session_processes(run.pid)
            assert run.returncode == 1, f"SIGTERM {0.02 * step:.2f} s after the WARC was closed: {stderr}"
            assert "corpus: stopped before it caught up" in stderr and "Traceback" not in stderr, stderr
            # whichever handler took it, the first says how the run acts on it, as one while the corpus catches up does
            assert "SIGTERM: stopping once the corpus has caught up, in 30 s at most (again: stop now)" in stderr, stderr
            [report] = [json.loads(path.read_text()) for path in (archive / "runs").glob("*.json")]
            assert report["exit_code"] == 1 and report["corpus"]["error"], report
            made_whole_by_the_next_run(config, archive, reference)
