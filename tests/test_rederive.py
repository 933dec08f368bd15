"""`newsarchive derive --anew`: after an extractor upgrade, the articles archived before get the
new extractor's text, while runs go on; a re-derivation killed anywhere loses nothing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archive.lock import ArchiveLock
from archive_fixtures import corpus_files, fill, newsarchive
from corpus import swap
from corpus.export import read_corpus
from corpus.rederive import BUSY_POLL
from corpus.store import STORE_FILE, derived_by_another
from demo.farm import ArticleFarm
from extract import EXTRACTOR
from test_incremental import ROOT, write_config
from test_interruptions import session_processes, wait_for

OLDER = "newsarchive-extract/older (trafilatura 1.0)"
SECTION_PAGE = "text/farm/an-older-extractor-wrote-this-section-page.txt"


@pytest.fixture(scope="module")
def archived(tmp_path_factory) -> tuple[Path, dict[str, bytes], Path]:
    """An archive of a 150-article site with its corpus (what this extractor derives from its WARCs), and
    the WARC of another site's run, archived later."""
    archive = tmp_path_factory.mktemp("archive")
    later = tmp_path_factory.mktemp("later")
    with ArticleFarm(150) as farm, ArticleFarm(3) as other:
        result = newsarchive("run", "--config", str(write_config(None, archive / "sources.toml", archive,
                                                                    [farm.source()])))
        assert result.returncode == 0, result.stderr
        other_source = {**other.source(), "name": "other"}
        result = newsarchive("run", "--config", str(write_config(None, later / "sources.toml", later, [other_source])))
        assert result.returncode == 0, result.stderr
    return archive, corpus_files(archive), next((later / "warc").glob("*.warc.gz"))


def older_corpus(archived, into: Path) -> Path:
    """A copy of the archive whose corpus an older extractor made (it wrote a section page as an article
    too); returns its sources file."""
    archive, _, _ = archived
    shutil.copytree(archive, into, dirs_exist_ok=True)
    config = into / "sources.toml"
    config.write_text(config.read_text().replace(json.dumps(str(archive)), json.dumps(str(into))))
    with sqlite3.connect(into / STORE_FILE) as db:
        db.execute("UPDATE captures SET extractor = ?", (OLDER,))
        db.execute("UPDATE rows SET line = replace(line, ?, ?)", (EXTRACTOR, OLDER))
    lines = (into / "corpus.jsonl").read_text().replace(EXTRACTOR, OLDER)
    (into / "corpus.jsonl").write_text(lines)
    (into / SECTION_PAGE).write_text("Breaking News\n\nSkip to main content\n")
    return config


def test_an_older_extractors_corpus_is_derived_anew_into_what_this_one_gives(archived, tmp_path):
    _, reference, _ = archived
    config = older_corpus(archived, tmp_path)
    told = newsarchive("derive", "--config", str(config))
    assert told.returncode == 0, told.stderr
    assert f"another extractor ({OLDER})" in told.stderr and "derive --anew" in told.stderr

    result = newsarchive("derive", "--anew", "--progress", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "  corpus: 150 captures extracted, 150 new articles" in result.stderr.splitlines()  # the last count
    assert corpus_files(tmp_path) == reference  # the section page is gone with the older text
    assert {row["extractor"] for row in read_corpus(tmp_path)} == {EXTRACTOR}
    assert not (tmp_path / swap.REDERIVE_DIR).exists()
    again = newsarchive("derive", "--config", str(config))
    assert again.returncode == 0 and "another extractor" not in again.stderr


def test_runs_go_on_while_the_corpus_is_derived_anew_and_reach_the_new_corpus(archived, tmp_path):
    _, reference, later_warc = archived
    config = older_corpus(archived, tmp_path)
    before = corpus_files(tmp_path)
    with ArchiveLock(tmp_path):  # a run holds the archive
        anew = subprocess.Popen([sys.executable, "-m", "cli", "derive", "--anew", "--config", str(config)],
                                cwd=ROOT, stderr=subprocess.PIPE, text=True)
        try:
            assert "waits for the archive" in anew.stderr.readline()
            assert corpus_files(tmp_path) == before  # the live corpus is whole meanwhile
            shutil.copy(later_warc, tmp_path / "warc")  # what the run archives
            time.sleep(2.5 * BUSY_POLL)  # the run goes on: the re-derivation tries again, and says nothing new
        except BaseException:
            anew.kill()
            raise
    assert anew.wait(timeout=120) == 0, anew.stderr.read()
    assert "waits for the archive" not in anew.stderr.read()
    rows = read_corpus(tmp_path)
    assert {row["source"] for row in rows} == {"farm", "other"}
    others = {path: text for path, text in corpus_files(tmp_path).items() if not path.startswith("text/other/")}
    assert len(others) == len(reference)
    assert {path: text for path, text in others.items() if path != "corpus.jsonl"} == \
        {path: text for path, text in reference.items() if path != "corpus.jsonl"}


def test_a_rederivation_killed_at_any_moment_is_finished_by_the_next_as_if_never_killed(archived, tmp_path):
    _, reference, _ = archived
    config = older_corpus(archived, tmp_path)
    older = corpus_files(tmp_path)
    new_texts = tmp_path / swap.REDERIVE_DIR / "text"
    for derived in (10, 60, 120):  # of 150 articles: killed early, midway and late in the derivation
        anew = subprocess.Popen([sys.executable, "-m", "cli", "derive", "--anew", "--config", str(config)],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        assert wait_for(lambda: anew.poll() is not None or len(list(new_texts.rglob("*.txt"))) >= derived)
        assert anew.poll() is None, "derived before it could be killed"
        os.killpg(anew.pid, signal.SIGKILL)
        anew.wait()
        assert wait_for(lambda: not session_processes(anew.pid), timeout=10), session_processes(anew.pid)
        assert corpus_files(tmp_path) == older  # the live corpus is untouched until the new one is whole
    result = newsarchive("derive", "--anew", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert corpus_files(tmp_path) == reference
    assert not (tmp_path / swap.REDERIVE_DIR).exists()


@pytest.mark.parametrize("moves", range(7))
def test_a_swap_cut_short_after_any_rename_is_finished_by_the_next_derivation(archived, tmp_path, monkeypatch, moves):
    """A kill between two renames, made here by a rename that fails after ``moves`` of them: the marker's,
    then the store's, text/'s and corpus.jsonl's, each moved aside and the new one moved in.  Cut short
    before the marker, the swap has not begun: the next ``derive --anew`` does it."""
    archive, reference, _ = archived
    config = older_corpus(archived, tmp_path)
    warcs = sorted(str(path) for path in (archive / "warc").glob("*.warc.gz"))
    rebuilt = newsarchive("rebuild", "--warc", *warcs, "--out", str(tmp_path / swap.REDERIVE_DIR))
    assert rebuilt.returncode == 0, rebuilt.stderr
    (tmp_path / swap.REDERIVE_DIR / "manifest.json").unlink()
    done = []
    real_replace = os.replace

    def replace_then_die(source, target):
        if len(done) == moves:
            raise KeyboardInterrupt("killed")
        done.append(target)
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace_then_die)
    with pytest.raises(KeyboardInterrupt):
        swap.swap_in(tmp_path)
    monkeypatch.undo()
    assert (tmp_path / swap.REDERIVE_DIR / swap.SWAP_MARKER).exists() == (moves > 0)
    result = newsarchive("derive", *["--anew"] * (moves == 0), "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert corpus_files(tmp_path) == reference
    assert not (tmp_path / swap.REDERIVE_DIR).exists()


def test_a_second_rederivation_at_the_same_time_is_refused_with_the_busy_status(archived, tmp_path):
    config = older_corpus(archived, tmp_path)
    with ArchiveLock(tmp_path / swap.REDERIVE_DIR):
        result = newsarchive("derive", "--anew", "--config", str(config))
    assert result.returncode == 75
    assert result.stderr.startswith("newsarchive: not deriving anew:") and "pid" in result.stderr
    assert not (tmp_path / swap.REDERIVE_DIR / STORE_FILE).exists()


def test_telling_an_older_extractors_articles_apart_reads_an_index_not_the_corpus(archived):
    archive, _, _ = archived
    with sqlite3.connect(archive / STORE_FILE) as db:
        statements: list[str] = []
        db.set_trace_callback(statements.append)
        assert derived_by_another(db, EXTRACTOR) is None
        db.set_trace_callback(None)
        assert statements
        for statement in statements:
            plan = " ".join(str(row) for row in db.execute(f"EXPLAIN QUERY PLAN {statement}"))
            assert "INDEX captures_by_extractor" in plan, (statement, plan)


def test_a_disk_that_fills_up_stops_the_rederivation_in_one_line_and_the_next_goes_on(archived, small_disk):
    _, reference, _ = archived
    archive = small_disk / "archive"
    config = older_corpus(archived, archive)
    older = corpus_files(archive)
    filler = fill(small_disk)
    with open(filler, "r+b") as room:  # room for a part of the new corpus, not all of it
        room.truncate(filler.stat().st_size - 200_000)

    full = newsarchive("derive", "--anew", "--config", str(config))
    assert full.returncode == 1
    assert "Traceback" not in full.stderr
    assert "No space left on device" in full.stderr or "disk is full" in full.stderr, full.stderr
    assert corpus_files(archive) == older

    filler.unlink()
    again = newsarchive("derive", "--anew", "--config", str(config))
    assert again.returncode == 0, again.stderr
    assert corpus_files(archive) == reference
