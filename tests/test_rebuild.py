"""`newsarchive rebuild` reproduces a live run's text/ and corpus.jsonl from the WARCs alone.

No corpus field is excluded from the comparison: every one comes from the WARC records
(fetched_at is the record's WARC-Date, not the time of extraction) or from the extractor.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from io import BytesIO
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

from archive_fixtures import article_captures, corpus_files, newsarchive, rot
from demo.farm import ArticleFarm
from demo.run import write_demo_config
from demo.site import DemoSite
from corpus.counts import articles_held, counted
from corpus.export import export_corpus_jsonl, read_corpus
from corpus.rebuild import MANIFEST_FILE, UNFINISHED_FILE
from corpus.store import CorpusStore, ExtractedArticle
from extract import Document
from test_incremental import ROOT, write_config
from test_interruptions import ended_within, session_processes, wait_for

BANNER = "Support local journalism: subscribe today."


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Path:
    """Two live runs: the second sees a changed article and a new one on the gazette."""
    out = tmp_path_factory.mktemp("live")
    with DemoSite() as site:
        config = write_demo_config(site, out)
        first = newsarchive("run", "--config", str(config))
        assert first.returncode == 0, first.stderr
        slug = site.articles("gazette")[0].slug
        site.set_article("gazette", slug, paragraphs=[*site.articles("gazette")[0].paragraphs, "A late update."])
        site.set_article("gazette", "new-bus-shelters-installed", title="New bus shelters installed on High Street",
                         paragraphs=["Twelve new bus shelters with seating and timetables went up this week.",
                                     "The council said the remaining stops will be done by the end of the month."])
        second = newsarchive("run", "--config", str(config))
        assert second.returncode == 0, second.stderr
    return out


def test_rebuild_with_two_workers_matches_the_live_run_byte_for_byte(live, tmp_path):
    out = tmp_path / "rebuilt"
    warcs = sorted(str(path) for path in (live / "warc").glob("*.warc.gz"))
    result = newsarchive("rebuild", "--warc", *warcs, "--out", str(out), "--workers", "2", "--progress")
    assert result.returncode == 0, result.stderr
    assert any(line.startswith("  corpus: ") and "captures extracted" in line for line in result.stderr.splitlines())
    assert corpus_files(out) == corpus_files(live)
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert sorted(manifest["texts"]) == sorted(path for path in corpus_files(out) if path.startswith("text/"))
    assert [entry["file"] for entry in manifest["warcs"]] == sorted(Path(warc).name for warc in warcs)
    assert {"trafilatura", "warcio", "python"} <= set(manifest["versions"])


def test_a_warc_rotten_in_the_middle_gives_every_article_before_the_damage_and_one_line_saying_where(live, tmp_path):
    warc = tmp_path / sorted((live / "warc").glob("*gazette*.warc.gz"))[0].name
    shutil.copy(live / "warc" / warc.name, warc)
    captures = article_captures(warc)
    intact = newsarchive("rebuild", "--warc", str(warc), "--out", str(tmp_path / "intact"))
    assert intact.returncode == 0, intact.stderr
    # every row of the intact file before the third article capture (a redirect gives none)
    before = sorted(row["url"] for row in read_corpus(tmp_path / "intact") if row["warc_offset"] < captures[2][1])
    assert before
    damaged_at = captures[2][1] + 200  # inside the third article's response
    rot(warc, damaged_at)
    out = tmp_path / "rebuilt"
    result = newsarchive("rebuild", "--warc", str(warc), "--out", str(out))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "Error -3" not in result.stderr
    assert all(len(line) < 300 for line in result.stderr.splitlines()), result.stderr
    [line] = [line for line in result.stderr.splitlines() if "unreadable" in line]
    assert line.startswith(f"{warc.name}: ") and f"unreadable after offset {captures[2][1]}:" in line
    assert sorted(row["url"] for row in read_corpus(out)) == before


def test_rebuild_refuses_a_directory_that_holds_a_corpus(live):
    warc = str(next((live / "warc").glob("*.warc.gz")))
    result = newsarchive("rebuild", "--warc", warc, "--out", str(live))
    assert result.returncode == 2
    assert "already holds a corpus" in result.stderr


def article(site: str, slug: str, paragraphs: list[str], when: str) -> ExtractedArticle:
    url = f"http://{site}/news/{slug}"
    document = Document(url, url, slug.title(), None, None, site, "en", tuple(paragraphs))
    return ExtractedArticle(site.split(".")[0], url, when, f"{site}.warc.gz", len(slug), f"<urn:uuid:{slug}>",
                            f"sha1:{slug.upper()}", document, "test")


def write_corpus(root: Path, articles: list[ExtractedArticle]) -> None:
    """The articles into the corpus store under ``root``, and corpus.jsonl from it."""
    with CorpusStore(root) as store:
        store.add(articles)
        export_corpus_jsonl(store)


def body(slug: str) -> list[str]:
    return [f"{slug} paragraph {n}: " + " ".join(f"{slug}{n}word{i}" for i in range(30)) for n in range(3)]


def test_what_a_later_run_learns_about_a_site_updates_its_earlier_text_files(tmp_path):
    early = [article("a.example", slug, [BANNER, *body(slug)], "2026-01-01T00:00:00Z") for slug in ("one",)]
    other = [article("b.example", "elsewhere", body("elsewhere"), "2026-01-01T00:00:00Z")]
    late = [article("a.example", slug, [BANNER, *body(slug)], "2026-01-02T00:00:00Z") for slug in ("two", "three")]

    incremental = tmp_path / "incremental"
    write_corpus(incremental, early + other)
    [first] = [row for row in read_corpus(incremental) if row["url"].endswith("/one")]
    first_text = (incremental / first["text_path"]).read_text()
    assert BANNER in first_text  # one article: nothing to learn the template from
    untouched = {path: path.stat().st_mtime_ns for path in (incremental / "text" / "b").rglob("*")}
    write_corpus(incremental, late)
    assert all(BANNER not in (incremental / row["text_path"]).read_text() for row in read_corpus(incremental))
    assert {path: path.stat().st_mtime_ns for path in (incremental / "text" / "b").rglob("*")} == untouched

    at_once = tmp_path / "at-once"
    write_corpus(at_once, late + other + early)
    assert corpus_files(at_once) == corpus_files(incremental)


def test_a_lost_corpus_is_derived_again_from_the_archive(live, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(live, copy)
    for derived in ("derived", "text", "corpus.jsonl"):
        path = copy / derived
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    config = copy / "sources.toml"
    config.write_text(config.read_text().replace(str(live), str(copy)))
    result = newsarchive("derive", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert corpus_files(copy) == corpus_files(live)


def test_a_large_warc_is_rebuilt_in_pieces_cut_at_its_captures_with_the_same_corpus(live, tmp_path, monkeypatch):
    import corpus.derive
    from archive.index import capture_offsets
    from corpus.rebuild import rebuild

    monkeypatch.setattr(corpus.derive, "PIECE_BYTES", 4096)  # the demo's WARCs are small: cut them often
    warcs = sorted((live / "warc").glob("*.warc.gz"))
    largest = max(warcs, key=lambda path: path.stat().st_size)
    offsets = capture_offsets(largest)  # from the archive's per-WARC index
    assert len(corpus.derive._cuts(offsets, 0)) >= 3
    elsewhere = tmp_path / largest.name
    shutil.copy(largest, elsewhere)
    assert capture_offsets(elsewhere) == offsets  # a WARC with no index beside it is indexed
    with corpus.derive.Derivation(tmp_path / "plan", lambda finished: [corpus.derive.WarcFile(largest, largest.name, True)],
                                  workers=1) as derivation:
        assert len(derivation._pieces()) == len(corpus.derive._cuts(offsets, 0)) + 1  # the rebuild reads pieces

    report = rebuild(warcs, tmp_path / "rebuilt", workers=2)
    assert not report.failed
    assert corpus_files(tmp_path / "rebuilt") == corpus_files(live)


def test_a_page_whose_extraction_hangs_is_recorded_as_not_extracted_and_the_rest_rebuilt(live, tmp_path,
                                                                                          monkeypatch):
    import corpus.derive
    from corpus.rebuild import rebuild

    rows = read_corpus(live)
    hangs = rows[len(rows) // 2]["url"]
    extract = corpus.derive.extract_document

    def caught_in_a_loop_on_one_page(body: bytes, url: str, **options):
        while url == hangs:  # as a parser caught in a loop on one page would be
            time.sleep(1)
        return extract(body, url, **options)

    monkeypatch.setattr(corpus.derive, "extract_document", caught_in_a_loop_on_one_page)  # the workers fork from here
    monkeypatch.setenv("NEWSARCHIVE_PAGE_SECONDS", "2")
    started = time.monotonic()
    report = rebuild(sorted((live / "warc").glob("*.warc.gz")), tmp_path / "rebuilt", workers=2)
    assert time.monotonic() - started < 60
    reasons = [entry["reason"] for entry in report.not_extracted if entry["url"] == hangs]
    assert reasons and all(reason.endswith("its extraction ran over 2 s") for reason in reasons), report.not_extracted
    rebuilt = read_corpus(tmp_path / "rebuilt")
    assert [row["url"] for row in rebuilt] == [row["url"] for row in rows if row["url"] != hangs]


@pytest.fixture(scope="module")
def farm_archive(tmp_path_factory) -> Path:
    """An archive of a 150-article site: long enough a rebuild to be stopped midway."""
    archive = tmp_path_factory.mktemp("farm")
    with ArticleFarm(150) as farm:
        result = newsarchive("run", "--config", str(write_config(None, archive / "sources.toml", archive,
                                                                    [farm.source()])))
    assert result.returncode == 0, result.stderr
    return archive


def start_rebuild(warcs: list[str], out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cli", "rebuild", "--warc", *warcs, "--out", str(out),
                             "--workers", "2"], cwd=ROOT, stderr=subprocess.PIPE, text=True, start_new_session=True)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "sigkill"])
def test_a_rebuild_stopped_midway_is_finished_by_the_same_command_byte_for_byte(farm_archive, tmp_path, stop):
    """SIGINT is a terminal's Ctrl-C (sent to the whole process group): one line, exit 130, no traceback."""
    warcs = sorted(str(path) for path in (farm_archive / "warc").glob("*.warc.gz"))
    out = tmp_path / "rebuilt"
    rebuild = start_rebuild(warcs, out)
    assert wait_for(lambda: rebuild.poll() is not None or len(list((out / "text").rglob("*.txt"))) >= 40)
    assert rebuild.poll() is None, "rebuilt before it could be stopped"
    os.killpg(rebuild.pid, stop)
    stderr = rebuild.communicate(timeout=60)[1]
    assert wait_for(lambda: not session_processes(rebuild.pid), timeout=10), session_processes(rebuild.pid)
    if stop == signal.SIGINT:
        assert rebuild.returncode == 130
        assert stderr.splitlines() == ["newsarchive: interrupted; what was done is kept, and the same command "
                                       "goes on from there"]
    assert not (out / MANIFEST_FILE).exists()

    again = newsarchive("rebuild", "--warc", *warcs, "--out", str(out), "--workers", "2")
    assert again.returncode == 0, again.stderr
    assert corpus_files(out) == corpus_files(farm_archive)
    assert (out / MANIFEST_FILE).exists() and not (out / UNFINISHED_FILE).exists()
    finished = newsarchive("rebuild", "--warc", *warcs, "--out", str(out))
    assert finished.returncode == 2 and "already holds a corpus" in finished.stderr


def test_a_sigterm_to_a_rebuild_midway_stops_it_as_ctrl_c_does_and_the_same_command_finishes_it(farm_archive,
                                                                                                  tmp_path):
    """`kill PID` or systemd's stop, to the rebuild's own process: before, it ended by the signal (exit -15),
    without a word, its extraction workers left to die with it."""
    warcs = sorted(str(path) for path in (farm_archive / "warc").glob("*.warc.gz"))
    out = tmp_path / "rebuilt"
    rebuild = start_rebuild(warcs, out)
    assert wait_for(lambda: rebuild.poll() is not None or len(list((out / "text").rglob("*.txt"))) >= 40)
    assert rebuild.poll() is None, "rebuilt before it could be stopped"
    os.kill(rebuild.pid, signal.SIGTERM)
    stderr = rebuild.communicate(timeout=60)[1]
    assert (rebuild.returncode, stderr.splitlines()) == (143, ["newsarchive: stopped by SIGTERM; what was done is "
                                                               "kept, and the same command goes on from there"])
    assert wait_for(lambda: not session_processes(rebuild.pid), timeout=10), session_processes(rebuild.pid)
    assert not (out / MANIFEST_FILE).exists()
    again = newsarchive("rebuild", "--warc", *warcs, "--out", str(out), "--workers", "2")
    assert again.returncode == 0, again.stderr
    assert corpus_files(out) == corpus_files(farm_archive)


# A terminal's Ctrl-C, sent to the process group at the moment the rebuild forks its extraction workers
# (from the first fork's hook, as it would come between two instructions of the fork), and a second
# one that reaches each worker as it begins.
CTRL_C_AS_WORKERS_FORK = """
import os, runpy, signal, sys
sent = []
def ctrl_c_to_the_group():
    if not sent:
        sent.append(True)
        os.killpg(0, signal.SIGINT)
os.register_at_fork(before=ctrl_c_to_the_group, after_in_child=lambda: os.kill(os.getpid(), signal.SIGINT))
sys.argv = ["cli", *sys.argv[1:]]
runpy.run_module("cli", run_name="__main__")
"""


def test_ctrl_c_as_a_rebuild_forks_its_workers_stops_it_in_one_line(farm_archive, tmp_path):
    """Python acts on a signal at its next instruction; during a fork those are the at-fork hooks, which
    swallowed the KeyboardInterrupt: the rebuild went on to the end (exit 0) under tracebacks."""
    warcs = sorted(str(path) for path in (farm_archive / "warc").glob("*.warc.gz"))
    out = tmp_path / "rebuilt"
    rebuild = subprocess.Popen([sys.executable, "-c", CTRL_C_AS_WORKERS_FORK, "rebuild", "--warc", *warcs, "--out",
                                str(out), "--workers", "2"], cwd=ROOT, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    stderr = rebuild.communicate(timeout=60)[1]
    assert (rebuild.returncode, stderr.splitlines()) == (130, ["newsarchive: interrupted; what was done is kept, "
                                                               "and the same command goes on from there"])
    assert wait_for(lambda: not session_processes(rebuild.pid), timeout=10), session_processes(rebuild.pid)
    again = newsarchive("rebuild", "--warc", *warcs, "--out", str(out), "--workers", "2")
    assert again.returncode == 0, again.stderr
    assert corpus_files(out) == corpus_files(farm_archive)


def test_a_ctrl_c_as_a_finished_rebuild_exits_leaves_it_finished(farm_archive, tmp_path):
    """A Ctrl-C after the last line, as the interpreter ends: it ended the process by the signal (exit -2)."""
    ctrl_c_after_the_command = ('import os, runpy, signal, sys\nsys.argv = ["cli", *sys.argv[1:]]\ntry:\n'
                                '    runpy.run_module("cli", run_name="__main__")\nfinally:\n'
                                '    os.kill(os.getpid(), signal.SIGINT)\n')
    warcs = sorted(str(path) for path in (farm_archive / "warc").glob("*.warc.gz"))
    out = tmp_path / "rebuilt"
    rebuild = subprocess.run([sys.executable, "-c", ctrl_c_after_the_command, "rebuild", "--warc", *warcs, "--out",
                              str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert rebuild.returncode == 0, rebuild.stderr
    assert rebuild.stderr.splitlines()[-1].endswith(f"written to {out}")
    assert corpus_files(out) == corpus_files(farm_archive)


def test_a_rebuild_of_a_wacz_killed_midway_leaves_no_unpacked_warcs_after_the_next(farm_archive, tmp_path):
    wacz = tmp_path / "farm.wacz"
    packaged = newsarchive("package", "--config", str(farm_archive / "sources.toml"), "--out", str(wacz))
    assert packaged.returncode == 0, packaged.stderr
    out = tmp_path / "rebuilt"
    rebuild = start_rebuild([str(wacz)], out)
    assert wait_for(lambda: rebuild.poll() is not None or len(list((out / "text").rglob("*.txt"))) >= 40)
    assert rebuild.poll() is None, "rebuilt before it could be stopped"
    os.killpg(rebuild.pid, signal.SIGKILL)
    rebuild.wait()
    assert list(out.glob(".unpacked-*/**/*.warc.gz"))  # what a SIGKILL leaves

    again = newsarchive("rebuild", "--warc", str(wacz), "--out", str(out), "--workers", "2")
    assert again.returncode == 0, again.stderr
    assert not list(out.glob(".unpacked*"))
    assert corpus_files(out) == corpus_files(farm_archive)


def test_the_unpacked_warcs_of_a_run_still_going_are_left_alone(tmp_path):
    from archive.inputs import scratch_directory

    code = ("import sys, time\nfrom pathlib import Path\nfrom archive.inputs import scratch_directory\n"
            "with scratch_directory(Path(sys.argv[1])) as scratch:\n"
            "    (scratch / 'a.warc.gz').write_bytes(b'')\n    print(scratch, flush=True)\n    time.sleep(120)\n")
    running = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE,
                               text=True)
    try:
        used = Path(running.stdout.readline().strip())
        with scratch_directory(tmp_path):
            assert (used / "a.warc.gz").exists()
    finally:
        running.kill()
        running.wait()
    with scratch_directory(tmp_path) as scratch:
        assert [path.name for path in tmp_path.glob(".unpacked-*")] == [scratch.name]
    assert not list(tmp_path.iterdir())


def test_an_unfinished_rebuild_is_not_finished_with_other_archives(farm_archive, live, tmp_path):
    warcs = sorted(str(path) for path in (farm_archive / "warc").glob("*.warc.gz"))
    out = tmp_path / "rebuilt"
    rebuild = start_rebuild(warcs, out)
    assert wait_for(lambda: rebuild.poll() is not None or (out / UNFINISHED_FILE).exists())
    os.killpg(rebuild.pid, signal.SIGKILL)
    rebuild.wait()
    others = sorted(str(path) for path in (live / "warc").glob("*.warc.gz"))
    result = newsarchive("rebuild", "--warc", *others, "--out", str(out))
    assert result.returncode == 2
    assert "holds an unfinished rebuild of other archives" in result.stderr


def _rows_in(out: Path) -> int:
    """The rows the corpus store in ``out`` holds, read without writing (0 before it exists)."""
    try:
        with sqlite3.connect(f"file:{out / 'derived' / 'corpus.sqlite'}?mode=ro", uri=True, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM rows").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_a_rebuild_resumed_after_ctrl_c_says_what_the_corpus_holds_and_what_it_added(farm_archive, tmp_path):
    warcs = sorted(str(path) for path in (farm_archive / "warc").glob("*.warc.gz"))
    for attempt in range(3):  # the rows come in late, and a Ctrl-C can come after the rebuild's last line
        out = tmp_path / f"rebuilt-{attempt}"
        rebuild = start_rebuild(warcs, out)
        assert wait_for(lambda: rebuild.poll() is not None or _rows_in(out) >= 20)
        if rebuild.poll() is not None:
            continue
        os.killpg(rebuild.pid, signal.SIGINT)
        ended_within(rebuild, 60)
        if rebuild.returncode == 130:
            break
        assert rebuild.returncode == 0, rebuild.stderr.read()  # it finished first: a Ctrl-C then changes nothing
    else:
        pytest.fail("the rebuild finished before it could be stopped, three times")
    kept = _rows_in(out)
    again = newsarchive("rebuild", "--warc", *warcs, "--out", str(out), "--workers", "2")
    assert again.returncode == 0, again.stderr
    total = len(read_corpus(farm_archive))
    assert 0 < kept <= total  # the stopped rebuild may have stored every row, and not yet finished
    assert again.stderr.splitlines()[-1] == (f"{total} articles from {counted(len(warcs), 'file')} in {out}: {total - kept} "
                                             f"written now, {kept} by the rebuild stopped before")


def _later_copy(live: Path, copy: Path) -> None:
    """Another tool's WARC ``copy`` holding a capture, years after ours, of the live archive's first article."""
    row = read_corpus(live)[0]
    with open(live / "warc" / row["warc_file"], "rb") as stream:
        stream.seek(row["warc_offset"])
        record = next(iter(ArchiveIterator(stream)))
        headers, body = record.http_headers, record.content_stream().read()
    with open(copy, "wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        headers.replace_header("Content-Length", str(len(body)))
        headers.remove_header("Content-Encoding")
        writer.write_record(writer.create_warc_record(row["url"], "response", payload=BytesIO(body),
                                                      http_headers=headers,
                                                      warc_headers_dict={"WARC-Date": "2030-01-01T00:00:00Z"}))


def test_a_fresh_rebuild_says_it_wrote_every_row_when_another_tools_copy_is_read_before_ours(live, tmp_path):
    """Another tool's later capture of an article, in a file named before ours, is a row under its host until our
    capture of it comes and takes it: the line counts the rows the corpus holds, not the rows made on the way."""
    copy = tmp_path / "a-wget.warc.gz"
    _later_copy(live, copy)
    warcs = [str(copy), *sorted(str(path) for path in (live / "warc").glob("*.warc.gz"))]
    out = tmp_path / "rebuilt"
    result = newsarchive("rebuild", "--warc", *warcs, "--out", str(out))
    assert result.returncode == 0, result.stderr
    rows = read_corpus(out)
    assert len(rows) == len(read_corpus(live))  # the copy's text is its URL's last version's: no row of its own
    assert result.stderr.splitlines()[-1] == f"{len(rows)} articles from {len(warcs)} files written to {out}"


def test_derive_anew_says_how_many_articles_the_corpus_now_holds(live, tmp_path):
    """As a rebuild: another tool's later copy of an article, imported under a name read before our WARCs, is one
    row made and dropped on the way, not an article more."""
    archive = tmp_path / "archive"
    shutil.copytree(live, archive)
    config = archive / "sources.toml"
    config.write_text(config.read_text().replace(json.dumps(str(live)), json.dumps(str(archive))))
    _later_copy(live, tmp_path / "a-wget.warc.gz")
    imported = newsarchive("import", "--config", str(config), str(tmp_path / "a-wget.warc.gz"))
    assert imported.returncode == 0, imported.stderr
    result = newsarchive("derive", "--anew", "--config", str(config))
    assert result.returncode == 0, result.stderr
    rows = read_corpus(archive)
    assert len(rows) == len(read_corpus(live))
    articles = articles_held(sum(row["version"] == 1 for row in rows), len(rows))
    assert f" into {articles}, copies at other URLs included, now in place of the corpus" in \
        result.stderr.splitlines()[-1]


def test_an_import_says_how_many_articles_the_corpus_gained_when_another_tools_copy_is_read_before_ours(live, tmp_path):
    """Import into an empty archive of another tool's later copy of an article (read first) and of our WARCs: the
    copy is a row under its host until our capture of the URL takes it, one row made and dropped, not one more."""
    archive = tmp_path / "archive"
    archive.mkdir()
    config = archive / "sources.toml"
    config.write_text((live / "sources.toml").read_text().replace(json.dumps(str(live)), json.dumps(str(archive))))
    copy = tmp_path / "a-wget.warc.gz"
    _later_copy(live, copy)
    result = newsarchive("import", "--config", str(config), str(copy),
                         *sorted(str(path) for path in (live / "warc").glob("*.warc.gz")))
    assert result.returncode == 0, result.stderr
    rows = read_corpus(archive)
    assert len(rows) == len(read_corpus(live))
    assert result.stderr.splitlines()[-1] == f"{len(rows)} new articles in the corpus"


def one_second_versions(live: Path, folder: Path) -> Path:
    """A WARC as another tool writes it: a draft of one of ``live``'s articles at 12:00:00Z and its update at
    12:00:00.600Z (written first)."""
    row = read_corpus(live)[0]
    with open(live / "warc" / row["warc_file"], "rb") as stream:
        stream.seek(row["warc_offset"])
        record = next(iter(ArchiveIterator(stream)))
        headers, draft = record.http_headers, record.content_stream().read()
    first_paragraph = (live / row["text_path"]).read_text().split("\n\n")[1][:20].encode()
    end = draft.index(b"</p>", draft.index(b">" + first_paragraph)) + 4  # in the body, not a meta description
    update = draft[:end] + b"<p>This story was updated at noon with the council's reply to the residents.</p>" + draft[end:]
    warc = folder / "foreign.warc.gz"
    with open(warc, "wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        headers.remove_header("Content-Encoding")
        for date, body in (("2026-11-22T12:00:00.600Z", update), ("2026-11-22T12:00:00Z", draft)):
            headers.replace_header("Content-Length", str(len(body)))
            writer.write_record(writer.create_warc_record(row["url"], "response", payload=BytesIO(body),
                                                          http_headers=headers, warc_headers_dict={"WARC-Date": date}))
    return warc


def test_versions_of_another_tools_captures_in_one_second_are_numbered_in_time_order(live, tmp_path):
    """Tools write WARC-Date to the second (wget, Heritrix) or the millisecond (Browsertrix); a draft at 12:00:00Z
    and its update at 12:00:00.600Z are versions 1 and 2.  Before, dates were ordered as they were written, as
    text, and ``12:00:00.600Z`` came before ``12:00:00Z``: the update was version 1."""
    warc = one_second_versions(live, tmp_path)
    out = tmp_path / "rebuilt"
    result = newsarchive("rebuild", "--warc", str(warc), "--out", str(out))
    assert result.returncode == 0, result.stderr
    versions = sorted(read_corpus(out), key=lambda row: row["version"])
    assert [(row["version"], "updated at noon" in (out / row["text_path"]).read_text()) for row in versions] == [
        (1, False), (2, True)], versions
    assert [row["fetched_at"] for row in versions] == ["2026-11-22T12:00:00.000000Z", "2026-11-22T12:00:00.600000Z"]



def _captures_at(warc: Path, url: str, dates: dict[str, str], out: Path) -> dict[str, str]:
    """``warc``'s responses dated as keys of ``dates``, written to ``out`` as another tool's captures of ``url`` at
    the date each maps to; their record IDs -> WARC-Dates."""
    with open(warc, "rb") as stream:
        responses = [(record.rec_headers.get_header("WARC-Date"), record.http_headers, record.content_stream().read())
                     for record in ArchiveIterator(stream)]
    written = {}
    with open(out, "wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for date, headers, body in responses:
            if date in dates:
                record = writer.create_warc_record(url, "response", payload=BytesIO(body), http_headers=headers,
                                                   warc_headers_dict={"WARC-Date": dates[date]})
                writer.write_record(record)
                written[record.rec_headers.get_header("WARC-Record-ID")] = dates[date]
    return written


def _archive_of_dates_as_written(live: Path, tmp_path: Path) -> tuple[Path, Path, Path, str]:
    """An archive whose store is from before every WARC-Date was read in one form (``user_version`` 0), holding
    another tool's captures of a draft at 12:00:00Z and its update at 12:00:00.600Z as written; its config, the
    WARC of those versions and their URL."""
    archive = tmp_path / "archive"
    shutil.copytree(live, archive)
    config = archive / "sources.toml"
    config.write_text(config.read_text().replace(json.dumps(str(live)), json.dumps(str(archive))))
    url = "http://other-tool.example/news/draft-and-update"
    versions = one_second_versions(live, tmp_path)
    draft, update = "2026-11-22T12:00:00Z", "2026-11-22T12:00:00.600Z"
    held = _captures_at(versions, url, {draft: draft, update: update}, tmp_path / "crawl.warc.gz")
    assert newsarchive("import", "--config", str(config), str(tmp_path / "crawl.warc.gz")).returncode == 0
    with sqlite3.connect(archive / "derived" / "corpus.sqlite") as db:  # as the store was before: dates as written
        for record_id, date in held.items():
            db.execute("UPDATE captures SET fetched_at = ? WHERE record_id = ?", (date, record_id))
            db.execute("UPDATE rows SET fetched_at = ?, line = json_set(line, '$.fetched_at', ?) WHERE record_id = ?",
                       (date, date, record_id))
    db.close()
    assert newsarchive("check", "--config", str(config), "--repair").returncode == 0  # its corpus.jsonl, as written
    with sqlite3.connect(archive / "derived" / "corpus.sqlite") as db:
        db.execute("PRAGMA user_version = 0")
    db.close()
    return archive, config, versions, url


def test_the_first_check_after_the_upgrade_of_dates_says_no_lag_and_leaves_corpus_jsonl_current(live, tmp_path):
    """Putting an older store's dates in one form changes its rows: the first `check` (it opens the store, so it
    upgrades it) said 'corpus.jsonl lags the corpus store (a derivation was cut short)', though none was."""
    archive, config, _, url = _archive_of_dates_as_written(live, tmp_path)
    assert "2026-11-22T12:00:00.600Z" in (archive / "corpus.jsonl").read_text()
    checks = [newsarchive("check", "--config", str(config)) for _ in range(2)]
    assert [(done.returncode, "lags" in done.stdout + done.stderr) for done in checks] == [(0, False), (0, False)], [
        done.stdout + done.stderr for done in checks]
    assert sorted(row["fetched_at"] for row in read_corpus(archive) if row["url"] == url) == [
        "2026-11-22T12:00:00.000000Z", "2026-11-22T12:00:00.600000Z"]


def test_an_archive_upgraded_from_dates_as_written_numbers_a_later_capture_in_their_second_as_a_rebuild_does(
        live, tmp_path):
    """A store made before every WARC-Date was read in one form holds another tool's as written; a draft at
    12:00:00Z and its update at 12:00:00.600Z imported so, the draft captured again at 12:00:00.300Z and imported
    since was ordered among them as text (.300000Z, .600Z, Z): the draft was versions 1 and 3.  The store's dates
    are put in the one form when it is first opened, and the corpus is what a rebuild of its WARCs gives."""
    archive, config, versions, url = _archive_of_dates_as_written(live, tmp_path)
    draft = "2026-11-22T12:00:00Z"
    _captures_at(versions, url, {draft: "2026-11-22T12:00:00.300Z"}, tmp_path / "again.warc.gz")
    result = newsarchive("import", "--config", str(config), str(tmp_path / "again.warc.gz"))
    assert result.returncode == 0, result.stderr
    assert [(row["version"], row["fetched_at"]) for row in read_corpus(archive) if row["url"] == url] == [
        (1, "2026-11-22T12:00:00.000000Z"), (2, "2026-11-22T12:00:00.600000Z")]
    out = tmp_path / "rebuilt"
    rebuilt = newsarchive("rebuild", "--warc", *sorted(str(path) for path in (archive / "warc").iterdir()),
                          "--out", str(out))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert corpus_files(archive) == corpus_files(out)


def _archive_of_a_publication_date_as_written(live: Path, tmp_path: Path) -> tuple[Path, Path, str]:
    """A copy of ``live`` as a store from before publication dates were put in one form left it (user_version 1, a
    date to the millisecond in a row and in corpus.jsonl): the archive, its config and that row's record id."""
    archive = tmp_path / "archive"
    shutil.copytree(live, archive)
    config = archive / "sources.toml"
    config.write_text(config.read_text().replace(json.dumps(str(live)), json.dumps(str(archive))))
    with sqlite3.connect(archive / "derived" / "corpus.sqlite") as db:  # a date as a page wrote it, as stored before
        [record_id] = db.execute("SELECT record_id FROM rows ORDER BY fetched_at, record_id LIMIT 1").fetchone()
        db.execute("UPDATE rows SET line = json_set(line, '$.date', '2026-10-04T10:00:00.123000+02:00') "
                   "WHERE record_id = ?", (record_id,))
        db.execute("PRAGMA user_version = 1")
    db.close()
    with sqlite3.connect(archive / "derived" / "corpus.sqlite") as db:
        [line] = db.execute("SELECT line FROM rows WHERE record_id = ?", (record_id,)).fetchone()
    db.close()
    corpus = archive / "corpus.jsonl"  # its corpus.jsonl, as that store wrote it
    corpus.write_text("".join(line + "\n" if record_id in row else row
                              for row in corpus.read_text().splitlines(keepends=True)))
    return archive, config, record_id


def test_the_first_check_after_the_upgrade_of_publication_dates_says_no_lag_and_leaves_corpus_jsonl_current(
        live, tmp_path):
    """As for the capture dates: putting an older store's publication dates in one form changes its rows, and the
    first `check` after it said 'corpus.jsonl lags the corpus store (a derivation was cut short)', though none was."""
    archive, config, record_id = _archive_of_a_publication_date_as_written(live, tmp_path)
    checks = [newsarchive("check", "--config", str(config)) for _ in range(2)]
    assert [(done.returncode, "lags" in done.stdout + done.stderr) for done in checks] == [(0, False), (0, False)], [
        done.stdout + done.stderr for done in checks]
    assert [row["date"] for row in read_corpus(archive) if row["warc_record_id"] == record_id] == [
        "2026-10-04T10:00:00+02:00"]


def test_a_check_after_another_command_upgraded_the_store_brings_corpus_jsonl_along_without_calling_it_lagging(
        live, tmp_path):
    """`browse` opens the store as it starts, and a command killed as it upgraded may have committed the upgrade: the
    store's rows changed with no corpus.jsonl written after.  The next `check` said 'corpus.jsonl lags the corpus store
    (a derivation was cut short)' and left it so, naming text files the upgrade moved, until a run."""
    archive, config, record_id = _archive_of_a_publication_date_as_written(live, tmp_path)
    CorpusStore(archive).close()  # as `browse` starts, or a command killed after its upgrade committed
    done = newsarchive("check", "--config", str(config))
    assert (done.returncode, "lags" in done.stdout + done.stderr) == (0, False), done.stdout + done.stderr
    assert "corpus.jsonl was brought along" in done.stdout + done.stderr
    assert [row["date"] for row in read_corpus(archive) if row["warc_record_id"] == record_id] == [
        "2026-10-04T10:00:00+02:00"]
