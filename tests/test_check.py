"""`newsarchive check`: a damaged crawl state or corpus costs one line, and `check --repair` mends it
from the WARCs, so that the next run neither fetches again what was archived nor loses an article."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys

from archive_fixtures import REPO, article_captures, fill, newsarchive, rot
from test_incremental import text_files, write_config
from warcio.archiveiterator import ArchiveIterator

from archive.index import index_lines, replay_index_dir
from corpus.export import read_corpus


def test_a_damaged_crawl_state_is_one_line_and_check_repair_rebuilds_it_from_the_warcs(demo_site, tmp_path):
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path)
    assert newsarchive("run", "--config", str(config)).returncode == 0
    corpus = (tmp_path / "corpus.jsonl").read_bytes()
    state = tmp_path / "state" / "crawl.sqlite"
    for suffix in ("-wal", "-shm"):
        (tmp_path / "state" / f"crawl.sqlite{suffix}").unlink(missing_ok=True)
    state.write_bytes(b"this is not a database " * 100)

    refused = newsarchive("run", "--config", str(config))
    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr
    assert "is damaged" in refused.stderr and "check --repair" in refused.stderr
    checked = newsarchive("check", "--config", str(config))
    assert checked.returncode == 1 and "problem: " in checked.stderr and "crawl.sqlite" in checked.stderr

    repaired = newsarchive("check", "--repair", "--config", str(config))
    assert repaired.returncode == 0, repaired.stderr
    assert "repaired: rebuilt crawl.sqlite" in repaired.stderr
    demo_site.clear_requests()
    again = newsarchive("run", "--config", str(config))
    assert again.returncode == 0, again.stderr
    article_paths = {a.path for name in ("gazette", "herald", "courier") for a in demo_site.articles(name)}
    assert not [request.path for request in demo_site.requests if request.path in article_paths]
    home = [request for request in demo_site.requests if request.path == "/"]
    assert home and all("If-None-Match" in request.headers for request in home)
    assert (tmp_path / "corpus.jsonl").read_bytes() == corpus


def test_lost_text_files_and_a_damaged_corpus_store_are_made_again(demo_site, tmp_path):
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path)
    assert newsarchive("run", "--config", str(config)).returncode == 0
    texts, corpus = text_files(tmp_path), (tmp_path / "corpus.jsonl").read_bytes()
    shutil.rmtree(tmp_path / "text" / "gazette")
    (tmp_path / "corpus.jsonl").write_text("")
    checked = newsarchive("check", "--config", str(config))
    assert checked.returncode == 1
    assert "text files are missing or changed" in checked.stderr and "corpus.jsonl differs" in checked.stderr
    assert newsarchive("check", "--repair", "--config", str(config)).returncode == 0
    assert text_files(tmp_path) == texts and (tmp_path / "corpus.jsonl").read_bytes() == corpus

    store = tmp_path / "derived" / "corpus.sqlite"
    store.write_bytes(b"\0" * 4096 * 4)
    damaged = newsarchive("run", "--config", str(config))
    assert damaged.returncode == 1 and "Traceback" not in damaged.stderr
    assert "corpus store is damaged" in damaged.stderr, damaged.stderr
    repaired = newsarchive("check", "--repair", "--config", str(config))
    assert repaired.returncode == 0, repaired.stderr
    assert text_files(tmp_path) == texts and (tmp_path / "corpus.jsonl").read_bytes() == corpus
    assert len(read_corpus(tmp_path)) == 15


def test_a_rotten_a_cut_and_a_deleted_warc_each_fail_the_check_and_repair_says_it_cannot_make_them_again(
        demo_site, tmp_path):
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path)
    assert newsarchive("run", "--config", str(config)).returncode == 0
    [rotten], [cut], [deleted] = ([path for path in (tmp_path / "warc").glob(f"*-{name}-*.warc.gz")]
                                  for name in ("gazette", "herald", "courier"))
    third = article_captures(rotten)[2][1]
    rot(rotten, third + 200)
    with open(cut, "r+b") as handle:
        handle.truncate(cut.stat().st_size - 5000)
    deleted.unlink()

    checked = newsarchive("check", "--config", str(config))
    assert checked.returncode == 1
    assert "Traceback" not in checked.stderr and "Error -3" not in checked.stderr
    problems = [line for line in checked.stderr.splitlines() if line.startswith("problem: ")]
    assert f"problem: {rotten.name}: unreadable after offset {third}: " in checked.stderr
    assert f"problem: {cut.name}: unreadable after offset " in checked.stderr
    assert any(f"replay index entries point past the readable end of {cut.name}" in line for line in problems)
    assert any(f"fetches recorded in the crawl state point past the readable end of {cut.name}" in line
               for line in problems)
    assert any(f"fetches recorded in the crawl state name {deleted.name}, which is not in warc/" in line
               for line in problems)
    assert f"corpus rows name {deleted.name}" in checked.stderr

    repaired = newsarchive("check", "--repair", "--config", str(config))
    assert repaired.returncode == 1, repaired.stderr
    assert "Traceback" not in repaired.stderr
    for warc in (rotten, cut, deleted):
        assert any(line.startswith("cannot be repaired: ") and warc.name in line
                   for line in repaired.stderr.splitlines()), repaired.stderr
    again = newsarchive("check", "--config", str(config))
    assert again.returncode == 1
    assert "replay index" not in again.stderr and "recorded in the crawl state" not in again.stderr, again.stderr

    demo_site.clear_requests()
    assert newsarchive("run", "--config", str(config)).returncode == 0
    fetched = {request.path for request in demo_site.requests}
    assert {article.path for article in demo_site.articles("courier")} <= fetched


def test_check_repair_on_a_full_disk_sets_no_database_aside_and_says_the_disk_is_full(demo_site, small_disk):
    config = write_config(demo_site, small_disk / "sources.toml", small_disk / "archive")
    assert newsarchive("run", "--config", str(config)).returncode == 0
    databases = {path: path.read_bytes() for path in (small_disk / "archive").glob("*/*.sqlite")}
    # closed: SQLite makes its shared-memory file again to read it, and the disk has no room for it
    assert not (small_disk / "archive" / "state" / "crawl.sqlite-shm").exists()
    filler = fill(small_disk)
    for repair in ([], ["--repair"]):
        checked = newsarchive("check", *repair, "--config", str(config))
        assert checked.returncode == 1 and "Traceback" not in checked.stderr
        assert ": damaged" not in checked.stderr and "set " not in checked.stderr, checked.stderr
        assert "disk is full" in checked.stderr, checked.stderr
    assert {path: path.read_bytes() for path in databases} == databases
    assert not list((small_disk / "archive").glob("*/*.damaged-*"))
    filler.unlink()
    assert newsarchive("check", "--config", str(config)).returncode == 0


def test_check_and_check_repair_count_the_same_fetches_and_payloads_in_the_same_words(demo_site, tmp_path):
    """`check` said "N crawl state rows" (a URL's last fetch and a payload each a row) where `--repair` then
    said it forgot "M fetches" (the URLs alone): two words and two numbers for one loss."""
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path)
    assert newsarchive("run", "--config", str(config)).returncode == 0
    [cut], [deleted] = ([path for path in (tmp_path / "warc").glob(f"*-{name}-*.warc.gz")]
                        for name in ("herald", "courier"))
    with open(cut, "r+b") as handle:
        handle.truncate(cut.stat().st_size - 5000)
    deleted.unlink()

    checked = newsarchive("check", "--config", str(config)).stderr
    said = {what: sum(int(count) for count in re.findall(rf"^problem: (\d+) {what} recorded in the crawl state ",
                                                          checked, re.MULTILINE))
            for what in ("fetches", "payloads")}
    assert said["fetches"] > 0 and said["payloads"] > 0, checked
    repaired = newsarchive("check", "--repair", "--config", str(config)).stderr
    assert (f"repaired: forgot the {said['fetches']} fetches and {said['payloads']} payloads recorded in the crawl "
            "state in lost WARC bytes: the next run fetches those URLs again") in repaired, (checked, repaired)


def test_pages_whose_bytes_a_cut_warc_lost_are_archived_whole_again_by_the_run_after_check_repair(
        demo_site, tmp_path):
    """Before: `check --repair` forgot only the fetches recorded in the lost bytes; a URL whose last fetch, in a
    later WARC, was a 304 or a revisit of a payload in them kept its validators, so every later run asked for it
    conditionally, got 304 again and archived a revisit of bytes no WARC holds: lost for good, though the site
    still served them."""
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path, refetch_after=0.0001)
    for _ in range(2):  # the second run's fetches of the articles are 304s, revisits of the first run's payloads
        assert newsarchive("run", "--config", str(config)).returncode == 0
    first = sorted((tmp_path / "warc").glob("*-gazette-*.warc.gz"))[0]
    captures = article_captures(first)
    cut = captures[1][1]
    lost = {url for url, start, _ in captures if start >= cut}
    with open(first, "r+b") as handle:
        handle.truncate(cut + 100)  # within a record, as a copy cut short ends

    repaired = newsarchive("check", "--repair", "--config", str(config))
    assert "Traceback" not in repaired.stderr and f"cannot be repaired: {first.name}" in repaired.stderr, repaired.stderr
    demo_site.clear_requests()
    written_before = set((tmp_path / "warc").glob("*.warc.gz"))
    assert newsarchive("run", "--config", str(config)).returncode == 0
    conditional = {url for url in lost for request in demo_site.requests if url.endswith(request.path)
                   and {"If-None-Match", "If-Modified-Since"} & set(request.headers)}
    assert not conditional, f"asked for conditionally (a 304 again), so their bytes stay lost: {sorted(conditional)}"
    archived = set()
    for warc in set((tmp_path / "warc").glob("*.warc.gz")) - written_before:
        with open(warc, "rb") as stream:
            archived |= {record.rec_headers.get_header("WARC-Target-URI") for record in ArchiveIterator(stream)
                         if record.rec_type == "response"}  # (not a revisit of what no WARC holds)
    assert lost <= archived, sorted(lost - archived)


def test_a_replay_index_file_deleted_fails_the_check_and_repair_makes_the_replay_index_whole_again(
        demo_site, tmp_path):
    """Before: with a file of the replay index deleted (a slip of `rm`, a disk losing it), `check` and `check
    --repair` said nothing and exited 0, and replay could no longer serve the captures it listed: `check` looked
    only for each WARC's own index, which the replay index is merged from."""
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path)
    assert newsarchive("run", "--config", str(config)).returncode == 0
    served = list(index_lines(tmp_path))
    largest = max(replay_index_dir(tmp_path).glob("*.cdxj"), key=lambda path: path.stat().st_size)
    lacking = len(largest.read_bytes().splitlines())
    largest.unlink()

    checked = newsarchive("check", "--config", str(config))
    assert checked.returncode == 1 and "Traceback" not in checked.stderr
    assert f"problem: the replay index lacks {lacking} of the {len(served)} entries of the WARCs' indexes" \
        in checked.stderr, checked.stderr
    repaired = newsarchive("check", "--repair", "--config", str(config))
    assert repaired.returncode == 0 and "repaired: made the replay index anew" in repaired.stderr, repaired.stderr
    assert list(index_lines(tmp_path)) == served
    assert newsarchive("check", "--config", str(config)).returncode == 0


def test_the_temporary_text_file_a_killed_derivation_leaves_is_named_by_check_and_removed_by_repair(
        demo_site, tmp_path):
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path)
    assert newsarchive("run", "--config", str(config)).returncode == 0
    texts = text_files(tmp_path)
    target = next((tmp_path / "text" / "gazette").glob("*.txt"))
    killed = subprocess.run([sys.executable, "-c", "import os, signal, sys\nfrom archive.atomic import held_temporary\n"
                             "with held_temporary(sys.argv[1]) as (path, fd):\n    os.write(fd, b'half a text')\n"
                             "    os.kill(os.getpid(), signal.SIGKILL)", str(target)], cwd=REPO)
    assert killed.returncode == -signal.SIGKILL
    checked = newsarchive("check", "--config", str(config))
    assert checked.returncode == 0 and "1 temporary text files that killed derivations left" in checked.stderr
    repaired = newsarchive("check", "--repair", "--config", str(config))
    assert repaired.returncode == 0 and "removed 1 temporary text files" in repaired.stderr, repaired.stderr
    assert not list((tmp_path / "text").rglob("*.tmp")) and text_files(tmp_path) == texts


def test_check_of_an_archive_dir_that_is_not_there_says_so_and_makes_nothing(tmp_path):
    """A typo in `[archive] dir`, or a disk not mounted, is no archive that passes its check."""
    config = tmp_path / "sources.toml"
    config.write_text('[archive]\ndir = "not-mounted/archive"\n\n[[sources]]\nname = "news"\n'
                      'start_urls = ["http://127.0.0.1:9/"]\n')
    for options in ([], ["--repair"]):
        checked = newsarchive("check", "--config", str(config), *options)
        assert checked.returncode == 1, checked.stderr
        assert "Traceback" not in checked.stderr
        [line] = checked.stderr.splitlines()
        assert str(tmp_path / "not-mounted" / "archive") in line and "no such directory" in line, line
    assert sorted(path.name for path in tmp_path.iterdir()) == ["sources.toml"]


def test_checking_a_corpus_ten_times_larger_takes_no_more_memory_and_names_the_same_leftovers(tmp_path):
    """check held a set of every text path (about 100 MB of Python heap per million rows) to find the text files no
    row names. A real store of 2,000 and of 20,000 rows, each text file on disk; the leftovers named as before."""
    import tracemalloc

    from bench.check_memory import SOURCES, write_corpus

    from archive.check import CheckReport
    from corpus.check import check_corpus

    peaks, said = [], []
    for rows in (2_000, 20_000):
        root = tmp_path / str(rows)
        write_corpus(root, rows)
        for source in sorted(SOURCES, reverse=True):  # (text/news/ comes before text/news-uk/, as a listing has them)
            (root / "text" / source / "0000000000000000.txt").write_text("left by a killed process\n")
        report = CheckReport()
        tracemalloc.start()
        check_corpus(root, report)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        said.append(report.notes + report.problems)
    assert said[0] == said[1] == [f"{len(SOURCES)} text files in text/ that no corpus row names "
                                  "(text/news/0000000000000000.txt ...): `newsarchive check --repair` removes them"]
    assert peaks[1] < 1.5 * peaks[0] + 2**18, peaks
