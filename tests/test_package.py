"""`newsarchive package`: a WACZ that validates, lists every article as a page, and pywb loads."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.index import index_lines
from archive.replay import replay_tool
from archive_fixtures import (REPLAY_BIN, REPO, crawl_demo, fetch, free_port, latest_not_modified, newsarchive, running,
                              timestamp14)
from corpus.export import read_corpus
from demo.farm import ArticleFarm
from test_incremental import write_config


DESCRIPTION = "Two crawls of the demo news sites."


@pytest.fixture(scope="module")
def packaged(tmp_path_factory) -> dict:
    archive = crawl_demo(tmp_path_factory.mktemp("package"), with_brotli=True, runs=2)
    out = archive["out"] / "export" / "archive.wacz"
    result = newsarchive("package", "--config", str(archive["config"]), "--out", str(out),
                         "--description", DESCRIPTION)
    assert result.returncode == 0, result.stderr
    return {**archive, "wacz": out}


def test_wacz_validates(packaged):
    result = subprocess.run([sys.executable, "-m", "wacz", "validate", "-f", str(packaged["wacz"])],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation succeeded" in result.stdout


def test_every_article_is_a_page_with_its_title(packaged):
    with zipfile.ZipFile(packaged["wacz"]) as wacz:
        header, *pages = [json.loads(line) for line in wacz.read("pages/pages.jsonl").splitlines()]
        archived = {name for name in wacz.namelist() if name.startswith("archive/")}
    assert header["format"] == "json-pages-1.0"
    rows = read_corpus(packaged["out"])
    assert len(rows) >= 10
    assert sorted((p["url"], p["title"]) for p in pages) == sorted((r["url"], r["title"]) for r in rows)
    warcs = {f"archive/{path.name}" for path in (packaged["out"] / "warc").glob("*.warc.gz")}
    assert archived == warcs


def test_title_and_description_are_also_in_the_datapackage_metadata_where_replaywebpage_reads_them(packaged):
    with zipfile.ZipFile(packaged["wacz"]) as wacz:
        raw = wacz.read("datapackage.json")
        digest = json.loads(wacz.read("datapackage-digest.json"))
    package = json.loads(raw)
    assert package["metadata"]["title"] == package["title"] == f"newsarchive: {packaged['out'].name}"
    assert package["metadata"]["description"] == package["description"] == DESCRIPTION
    assert digest["hash"] == "sha256:" + hashlib.sha256(raw).hexdigest()


def test_pywb_loads_the_wacz_and_replays_an_article(packaged, tmp_path):
    wb_manager = replay_tool("wb-manager")
    subprocess.run([str(wb_manager), "init", "pkg"], cwd=tmp_path, check=True, capture_output=True)
    subprocess.run([str(wb_manager), "add", "--unpack-wacz", "pkg", str(packaged["wacz"])],
                   cwd=tmp_path, check=True, capture_output=True)
    row = read_corpus(packaged["out"])[0]
    with open(packaged["out"] / "warc" / row["warc_file"], "rb") as stream:
        stream.seek(row["warc_offset"])
        record = next(iter(ArchiveIterator(stream)))
        encoding = record.http_headers.get_header("Content-Encoding")
        payload = record.raw_stream.read()
    revisit, original = latest_not_modified(packaged["out"])
    port = free_port()
    base = f"http://127.0.0.1:{port}/pkg"
    with running([str(REPLAY_BIN / "wayback"), "-b", "127.0.0.1", "-p", str(port)],
                 f"{base}/cdx?url=http://example.invalid/", cwd=tmp_path):
        status, _, body = fetch(f"{base}/{timestamp14(row['fetched_at'])}id_/{row['url']}", accept_encoding=encoding)
        assert status == 200
        assert body == payload
        # a URL whose latest capture is a 304: the package's index leaves it out, as the archive's does
        status, _, body = fetch(f"{base}/{timestamp14(revisit['date'])}id_/{revisit['url']}", accept_encoding="gzip")
        assert status == 200
        with open(packaged["out"] / "warc" / original["filename"], "rb") as stream:
            stream.seek(int(original["offset"]))
            assert body == next(iter(ArchiveIterator(stream))).raw_stream.read()


def test_extract_on_the_wacz_prints_every_article_of_the_archive(packaged):
    result = newsarchive("extract", str(packaged["wacz"]))
    assert result.returncode == 0, result.stderr
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    rows = read_corpus(packaged["out"])
    assert sorted((p["url"], p["version"], p["text_sha256"]) for p in printed) == \
        sorted((r["url"], r["version"], r["text_sha256"]) for r in rows)
    assert all(p["text"] for p in printed)


def _package_interrupted_while_writing(packaged, out, sig) -> tuple[int, str]:
    """A package run over ``out`` (a good package), sent ``sig`` once it is writing: once a temporary file
    beside ``out`` has bytes in it, or (as before packages were written aside) ``out`` itself changed.  SIGINT
    is sent as soon as its first one, the pages, has bytes: a small archive's package may be done a few
    milliseconds after its later ones have."""
    pattern = f".{out.name}.*" if sig == signal.SIGINT else f".{out.name}.*.tmp"
    before = out.stat()
    run = subprocess.Popen([sys.executable, "-m", "cli", "package", "--config", str(packaged["config"]),
                            "--out", str(out)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and run.poll() is None:
        now = out.stat() if out.exists() else None
        if any(t.stat().st_size for t in out.parent.glob(pattern)) or \
                now is None or (now.st_size, now.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            run.send_signal(sig)
            break
        time.sleep(0.002)
    _, stderr = run.communicate(timeout=60)
    return run.returncode, stderr


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_a_package_killed_while_overwriting_leaves_the_previous_package_byte_for_byte(packaged, tmp_path, sig):
    out = tmp_path / "archive.wacz"
    shutil.copyfile(packaged["wacz"], out)
    good = out.read_bytes()
    returncode, stderr = _package_interrupted_while_writing(packaged, out, sig)
    assert returncode == (-signal.SIGKILL if sig == signal.SIGKILL else 130), stderr
    assert out.read_bytes() == good
    if sig == signal.SIGKILL:  # killed while writing: its temporary files are left, hidden and named .tmp
        left = sorted(p.name for p in tmp_path.iterdir() if p.name != "archive.wacz")
        assert len(left) == 3 and all(n.startswith(".archive.wacz.") for n in left), left
        assert sum(n.endswith(".pages.jsonl") for n in left) == sum(n.endswith(".index.tmp") for n in left) == 1
    else:
        assert stderr.strip() == (f"newsarchive: package interrupted; nothing was written and the previous {out} "
                                      "is untouched; run it again to package")
        assert not list(tmp_path.glob(".*.tmp"))
    # the next package replaces it, removes what a killed one left, and is a valid WACZ
    result = newsarchive("package", "--config", str(packaged["config"]), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive.wacz"]
    validate = subprocess.run([sys.executable, "-m", "wacz", "validate", "-f", str(out)], capture_output=True, text=True)
    assert "Validation succeeded" in validate.stdout, validate.stdout + validate.stderr


# A Ctrl-C (a real SIGINT, to the package's own process) as the package's index computes a record's key,
# where the indexers spend most of their time.
SIGINT_AS_AN_INDEX_KEY_IS_COMPUTED = """
import os, runpy, signal, sys, surt
real, calls = surt.surt, []
def surt_then_ctrl_c(*args, **kwargs):
    calls.append(1)
    if len(calls) == 3:
        os.kill(os.getpid(), signal.SIGINT)
    return real(*args, **kwargs)
surt.surt = surt_then_ctrl_c
sys.argv = ["cli", *sys.argv[1:]]
runpy.run_module("cli", run_name="__main__")
"""


def test_ctrl_c_while_the_package_is_indexed_stops_it_and_writes_nothing(packaged, tmp_path):
    """Seen in a chaos loop: before, a Ctrl-C that came as cdxj-indexer computed a record's key was taken by its
    bare except (the key became the URL itself), and the package was finished and written, exit 0."""
    out = tmp_path / "archive.wacz"
    result = subprocess.run([sys.executable, "-c", SIGINT_AS_AN_INDEX_KEY_IS_COMPUTED, "package", "--config",
                             str(packaged["config"]), "--out", str(out)], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 130, result.stderr
    assert result.stderr.strip() == (f"newsarchive: package interrupted; nothing was written and {out} was not made; "
                                     "run it again to package")
    assert list(tmp_path.iterdir()) == []


def test_extract_on_the_wacz_into_a_reader_that_has_had_enough_ends_quietly(packaged):
    """`newsarchive extract ARCHIVE | head -c 0` (or a `head` that has had its lines before the
    articles are printed): the reader has closed the pipe; no traceback, exit 0."""
    run = subprocess.Popen([sys.executable, "-m", "cli", "extract", str(packaged["wacz"])], cwd=REPO,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    run.stdout.close()  # before the archive is read: the articles are written into a closed pipe
    stderr = run.stderr.read().decode()
    assert run.wait(timeout=120) == 0, stderr
    assert "Traceback" not in stderr and "Broken pipe" not in stderr, stderr
    assert "articles" in stderr.splitlines()[0]  # the per-file lines still say what was found


SMALL_ARCHIVE = 300  # articles; the large one has ten times as many


def _package_peak_rss(config, out) -> int:
    """The peak resident memory, in bytes, of a real `newsarchive package`, as the kernel counted it (wait4)."""
    run = subprocess.Popen([sys.executable, "-m", "cli", "package", "--config", str(config), "--out", str(out)],
                           cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = run.stderr.read().decode()
    _, status, usage = os.wait4(run.pid, 0)
    run.returncode = os.waitstatus_to_exitcode(status)
    assert run.returncode == 0, stderr
    return usage.ru_maxrss * 1024


def _index_positions(lines) -> list[tuple[str, ...]]:
    """What each CDXJ line points at: its URL key, time, WARC file and offset."""
    found = []
    for line in lines:
        key, ts, fields = line.split(" ", 2)
        entry = json.loads(fields)
        found.append((key, ts, entry["filename"], entry["offset"]))
    return found


def test_packaging_ten_times_the_articles_takes_about_the_same_memory(tmp_path):
    """The package of a big archive must fit the machine of a small one: it grew by 3-4 KB per article
    (all pages, twice, and the whole index sorted in memory), 4 GB at a million articles."""
    archive = tmp_path / "archive"
    with ArticleFarm(SMALL_ARCHIVE) as farm:
        config = write_config(None, tmp_path / "sources.toml", archive, [farm.source()])
        crawled = newsarchive("run", "--config", str(config), timeout=600)
        assert crawled.returncode == 0, crawled.stderr
        small = _package_peak_rss(config, tmp_path / "small.wacz")
        farm.add(9 * SMALL_ARCHIVE)
        crawled = newsarchive("run", "--config", str(config), timeout=600)
        assert crawled.returncode == 0, crawled.stderr
        large = _package_peak_rss(config, tmp_path / "large.wacz")
    growth = large - small
    assert growth < 2.5 * 2**20, f"peak RSS {small / 2**20:.1f} MB at {SMALL_ARCHIVE} articles, " \
                                 f"{large / 2**20:.1f} MB at {10 * SMALL_ARCHIVE}"
    # the large index was sorted in runs and merged: every record once, in order, as in the archive's own index
    with zipfile.ZipFile(tmp_path / "large.wacz") as wacz:
        packaged = gzip.decompress(wacz.read("indexes/index.cdx.gz")).decode().splitlines()
        pages = wacz.read("pages/pages.jsonl").splitlines()[1:]
    assert packaged == sorted(packaged)
    assert _index_positions(packaged) == _index_positions(line.decode() for line in index_lines(archive))
    assert len(pages) == len(read_corpus(archive)) == 10 * SMALL_ARCHIVE


@pytest.mark.parametrize("repaired", [False, True], ids=["as-cut", "after-check-repair"])
def test_a_package_of_an_archive_with_a_warc_cut_short_is_refused_in_one_line_not_written_invalid(packaged, tmp_path,
                                                                                                   repaired):
    archive = tmp_path / "archive"
    shutil.copytree(packaged["out"], archive, ignore=shutil.ignore_patterns("export"))
    config = archive / "sources.toml"
    config.write_text(config.read_text().replace(str(packaged["out"]), str(archive)))
    warc = max((archive / "warc").glob("*.warc.gz"), key=lambda path: path.stat().st_size)
    os.truncate(warc, warc.stat().st_size * 2 // 3)  # a copy cut short
    if repaired:  # drops the index entries past the cut: the file is still cut
        newsarchive("check", "--repair", "--config", str(config))
    out = tmp_path / "archive.wacz"
    result = newsarchive("package", "--config", str(config), "--out", str(out))
    assert result.returncode == 1, result.stderr
    [line] = result.stderr.splitlines()
    assert f"{warc.name} (unreadable after offset " in line and "cut short or damaged" in line, line
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["archive"]
