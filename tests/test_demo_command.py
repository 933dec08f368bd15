"""`newsarchive demo` as a newcomer uses it: two runs that show a re-crawl, and `demo --serve` to crawl again."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from archive_fixtures import REPO, free_ports, newsarchive, wait_for_http
from corpus.export import read_corpus
from demo.site import SITE_NAMES


def demo(*args: str) -> subprocess.Popen:
    """`newsarchive demo ...` in its own process group, as a terminal runs it (Ctrl-C reaches the group)."""
    return subprocess.Popen([sys.executable, "-m", "cli", "demo", *args], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def runs(archive: Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted((archive / "runs").glob("*.json"))]


def assert_gone(pids: list[int]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(psutil.pid_exists(pid) and psutil.Process(pid).status()
                                              != psutil.STATUS_ZOMBIE for pid in pids):
        time.sleep(0.2)
    alive = [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"processes left behind: {alive}"


def test_demo_crawls_twice_showing_a_recrawl_and_a_second_demo_adds_only_the_correction_undone_and_redone(tmp_path):
    port = free_ports()
    out = tmp_path / "demo"
    process = demo("--out", str(out), "--port", str(port))
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    first, second = runs(out)
    new = {source["name"]: (source["new_articles"], source["new_versions"]) for source in second["sources"]}
    assert new == {"gazette": (0, 1), "herald": (1, 0), "courier": (0, 0)}, "the new story, and the correction"
    assert all(source["unchanged"] - source["identical"] > 0 for source in second["sources"]), "304 revisits"
    rows = read_corpus(out)
    assert len(rows) == sum(source["new_articles"] + source["new_versions"] for run in (first, second)
                            for source in run["sources"])
    articles = sum(source["new_articles"] for run in (first, second) for source in run["sources"])
    assert f"\n{articles} articles ({len(rows)} versions) in the corpus, " in stdout and articles == len(rows) - 1
    assert {row["version"] for row in rows if row["source"] == "gazette"} == {1, 2}
    assert f"127.0.0.1:{port}" in stderr and "HTTP 404" in stderr
    assert f"newsarchive demo --serve --port {port}" in stdout and f"--config {out / 'sources.toml'}" in stdout

    again = demo("--out", str(out), "--port", str(port))
    _, stderr = again.communicate(timeout=300)
    assert again.returncode == 0, stderr
    # The sites start again as they were: the correction is undone, then made again, and the
    # corpus says so (versions 3 and 4); nothing else is written again.
    [corrected] = [row for row in rows if row["version"] == 2]
    later = read_corpus(out)
    story = [(row["version"], row["text_sha256"]) for row in later if row["url"] == corrected["url"]]
    first_text, correction = story[0][1], corrected["text_sha256"]
    assert story == [(1, first_text), (2, correction), (3, first_text), (4, correction)]
    assert [row for row in later if row["url"] != corrected["url"]] == [
        row for row in rows if row["url"] != corrected["url"]], "the same URLs re-crawled: nothing written again"
    assert [[(source["new_articles"], source["new_versions"]) for source in run["sources"]]
            for run in runs(out)[2:]] == [[(0, 1), (0, 0), (0, 0)]] * 2


def test_demo_serve_keeps_the_sites_up_for_newsarchive_run_until_sigterm(tmp_path):
    port = free_ports()
    out = tmp_path / "archive"
    server = demo("--serve", "--port", str(port), "--out", str(out))
    try:
        wait_for_http(f"http://127.0.0.1:{port + 2}/", server)
        for attempt in ("first", "second"):
            result = newsarchive("run", "--config", str(out / "sources.toml"), timeout=300)
            assert result.returncode == 0, result.stderr
        first, second = runs(out)
        assert sum(source["new_articles"] for source in first["sources"]) == len(read_corpus(out)) >= 15
        assert [source["new_articles"] for source in second["sources"]] == [0, 0, 0]
        assert all(source["unchanged"] for source in second["sources"])
        assert {row["source"] for row in read_corpus(out)} == set(SITE_NAMES)
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    assert server.returncode == 0, stderr
    assert "Traceback" not in stderr
    with socket.socket() as sock:  # the ports are free again
        sock.bind(("127.0.0.1", port))


def test_a_busy_demo_port_is_one_line_and_exit_1(tmp_path):
    port = free_ports()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port + 1))
        taken.listen()
        for args in (["--serve"], ["--out", str(tmp_path / "demo")]):
            process = demo(*args, "--port", str(port))
            _, stderr = process.communicate(timeout=60)
            assert process.returncode == 1
            assert stderr.splitlines() == [stderr.strip()] and f"127.0.0.1:{port + 1}" in stderr, stderr
    assert not (tmp_path / "demo").exists()


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_a_demo_stopped_during_its_first_run_stops_its_run_cleanly_and_leaves_no_process(tmp_path, how):
    port = free_ports()
    out = tmp_path / "demo"
    process = demo("--out", str(out), "--port", str(port))
    deadline = time.monotonic() + 120
    while not list((out / "warc").glob("*.open")) and time.monotonic() < deadline:  # the crawl is writing
        time.sleep(0.05)
    family = [process.pid] + [child.pid for child in psutil.Process(process.pid).children(recursive=True)]
    if how == "ctrl-c":
        os.killpg(process.pid, signal.SIGINT)  # the terminal signals the whole foreground group
    else:
        process.send_signal(signal.SIGTERM)  # the demo alone: it passes the stop on to its run
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    [run] = runs(out)  # no second run after a stop
    assert {source["status"] for source in run["sources"]} <= {"stopped", "ok"}
    assert "between the runs" not in stderr
    assert_gone(family)
    assert not list((out / "warc").glob("*.open"))


def test_an_out_dir_that_cannot_be_made_or_a_port_out_of_range_is_exit_2_without_a_traceback(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    port = free_ports()
    for args in (["--out", str(blocker / "demo")], ["--serve", "--out", str(blocker / "demo")]):
        process = demo(*args, "--port", str(port))
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 2
        assert stderr == f"newsarchive: --out: cannot create {blocker / 'demo'}: Not a directory\n"
    process = demo("--port", "65534")
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2 and "65533" in stderr and "Traceback" not in stderr


@pytest.mark.parametrize("serve", [False, True])
@pytest.mark.parametrize(("mine", "problem"), [
    ("sources.toml", "holds a sources.toml that is not a demo's"),
    ("notes.txt", "holds files and no demo's sources.toml"),
])
def test_demo_out_into_a_directory_of_ones_own_is_refused_and_leaves_it_as_it_was(tmp_path, serve, mine, problem):
    (tmp_path / mine).write_text('[archive]\ndir = "elsewhere"\n')
    process = demo(*(["--serve"] if serve else []), "--out", str(tmp_path), "--port", str(free_ports()))
    try:
        _, stderr = process.communicate(timeout=60)
    finally:  # a --serve that took the directory would serve on
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    assert process.returncode == 2, stderr
    assert stderr == f"newsarchive: --out: {tmp_path} {problem}; give a new or empty directory, or a demo's\n"
    assert [path.name for path in tmp_path.iterdir()] == [mine]
    assert (tmp_path / mine).read_text() == '[archive]\ndir = "elsewhere"\n'
