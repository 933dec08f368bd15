"""A dead run's ``.open`` WARCs are closed by the next run: cut back to whole captures, renamed, indexed."""

from __future__ import annotations

import gzip
import json
import logging
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from archive_fixtures import assert_warcio_check, newsarchive
from test_incremental import ROOT, write_config
from test_interruptions import wait_for, writer_process
from warcio.archiveiterator import ArchiveIterator

from archive.index import index_lines
from archive.archiver import ExchangeArchiver
from archive.capture import ROLE_ARTICLE, ROLE_FIELD, SOURCE_FIELD
from archive.exchange import Exchange
from archive.messages import WriterOptions, encode_message, read_messages
from archive.recover import DAMAGED_DIR, close_abandoned_warcs
from archive.state import state_path
from archive.writer import OPEN_SUFFIX, RollingWarcWriter
from corpus.export import read_corpus
from demo.farm import ArticleFarm

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Capture:
    url: str
    start: int  # offset of its response record
    end: int  # offset just past its metadata record


def exchange(url: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> Exchange:
    return Exchange(uri=url, started=datetime.now(timezone.utc), method="GET",
                    request_headers=[(b"User-Agent", b"newsarchive-test")], request_body=b"", status=200,
                    response_headers=headers, body=body, metadata={SOURCE_FIELD: "gazette", ROLE_FIELD: ROLE_ARTICLE},
                    ip_address="127.0.0.1", protocol="HTTP/1.1")


def page(n: int, rng: random.Random) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """Bodies of every kind the writer compresses differently: gzip-encoded and images stored, HTML deflated."""
    html = b"<html><body>" + b"".join(b"<p>story %d paragraph %d %d</p>" % (n, i, rng.randrange(10**9))
                                      for i in range(rng.randrange(20, 400))) + b"</body></html>"
    if n % 3 == 0:
        return gzip.compress(html, mtime=0), [(b"Content-Type", b"text/html"), (b"Content-Encoding", b"gzip")]
    if n % 3 == 1:
        return rng.randbytes(rng.randrange(1_000, 40_000)), [(b"Content-Type", b"image/jpeg")]
    return html, [(b"Content-Type", b"text/html; charset=utf-8")]


def dead_run_warc(warc_dir: Path, captures: int, seed: int = 1) -> tuple[Path, list[Capture]]:
    """A WARC as a run killed right after its last capture leaves it: whole, still ``.open``.

    The writer's close only fsyncs and renames, so renaming its file back gives those bytes.
    """
    rng = random.Random(seed)
    writer = RollingWarcWriter(warc_dir, "test-gazette", {SOURCE_FIELD: "gazette"})
    archiver = ExchangeArchiver(writer)
    urls, starts = [], []
    for n in range(captures):
        url = f"http://news.test/story-{n}"
        archived = archiver.archive(exchange(url, *page(n, rng)))
        urls.append(url)
        starts.append(archived.locations[0].offset)
    [name] = archiver.close()
    path = warc_dir / (name + OPEN_SUFFIX)
    os.replace(warc_dir / name, path)
    ends = starts[1:] + [path.stat().st_size]
    return path, [Capture(url, start, end) for url, start, end in zip(urls, starts, ends)]


def records(warc: Path) -> list[tuple[str, str, str]]:
    """Each record's type, target URI and the record it is concurrent to (its capture's response)."""
    with open(warc, "rb") as stream:
        return [(record.rec_type, record.rec_headers.get_header("WARC-Target-URI") or "",
                 record.rec_headers.get_header("WARC-Concurrent-To") or record.rec_headers.get_header("WARC-Record-ID"))
                for record in ArchiveIterator(stream)]


def captured_urls(warc: Path) -> list[str]:
    """The URLs of the whole captures in ``warc``, checking each has its response, request and metadata."""
    found = records(warc)
    assert found[0][0] == "warcinfo"
    captures = [found[i:i + 3] for i in range(1, len(found), 3)]
    for capture in captures:
        assert [kind for kind, _, _ in capture] == ["response", "request", "metadata"]
        assert len({(uri, capture_id) for _, uri, capture_id in capture}) == 1
    return [capture[0][1] for capture in captures]


def indexed(archive: Path) -> set[tuple[str, str]]:
    """(URL, WARC file) of each line of the archive's replay index."""
    return {(entry["url"], entry["filename"])
            for entry in (json.loads(line.split(b" ", 2)[2]) for line in index_lines(archive))}


def test_a_whole_open_warc_is_closed_byte_for_byte_and_indexed(tmp_path):
    path, captures = dead_run_warc(tmp_path / "warc", 12)
    before = path.read_bytes()
    [result] = close_abandoned_warcs(tmp_path)
    final = path.with_name(path.name.removesuffix(OPEN_SUFFIX))
    assert (result.name, result.action, result.bytes_cut, result.records) == (final.name, "closed", 0, 1 + 3 * 12)
    assert str(result) == f"recovered {final.name} from a dead run: nothing to cut, 37 records"
    assert [p.name for p in (tmp_path / "warc").iterdir()] == [final.name]
    assert final.read_bytes() == before
    assert indexed(tmp_path) == {(capture.url, final.name) for capture in captures}
    assert_warcio_check([final])


def test_a_warc_torn_anywhere_keeps_every_capture_whole_before_the_tear_and_passes_warcio_check(tmp_path):
    """Seeded tears at random bytes and inside each record of a capture; also inside the warcinfo."""
    pristine, captures = dead_run_warc(tmp_path / "pristine", 30)
    data = pristine.read_bytes()
    rng = random.Random(15)
    middle = captures[len(captures) // 2]
    with open(pristine, "rb") as stream:
        offsets = _record_offsets(stream)
    inside_each_record = [offset + 7 for offset in offsets if middle.start <= offset < middle.end]
    positions = sorted(set(rng.sample(range(1, len(data)), 30) + inside_each_record
                           + [captures[0].start - 1, middle.end, middle.end + 1, len(data) - 1]))
    closed = []
    for n, position in enumerate(positions):
        archive = tmp_path / f"archive-{n}"
        (archive / "warc").mkdir(parents=True)
        torn = archive / "warc" / pristine.name
        torn.write_bytes(data[:position])
        [result] = close_abandoned_warcs(archive)
        whole = [capture for capture in captures if capture.end <= position]
        assert not list((archive / "warc").glob("*" + OPEN_SUFFIX)), position
        if position < captures[0].start:  # not even the warcinfo is whole: nothing to close, all kept aside
            assert result.action == "set aside"
            assert (archive / "warc" / DAMAGED_DIR / torn.name).read_bytes() == data[:position]
            continue
        keep = whole[-1].end if whole else captures[0].start
        final = archive / "warc" / result.name
        assert (result.action, result.bytes_cut, result.records) == ("closed", position - keep, 1 + 3 * len(whole))
        assert final.read_bytes() == data[:keep], position
        assert captured_urls(final) == [capture.url for capture in whole]
        assert {url for url, _ in indexed(archive)} == {capture.url for capture in whole}
        closed.append(final)
    assert sum(1 for position in positions if position >= captures[0].start) == len(closed) > 30
    assert_warcio_check(closed)


def _record_offsets(stream) -> list[int]:
    records = ArchiveIterator(stream)
    return [records.get_record_offset() for _ in records]


def test_no_response_is_left_without_its_request_and_metadata(tmp_path):
    """Torn in the last capture's metadata record: its whole response and request go too."""
    path, captures = dead_run_warc(tmp_path / "warc", 5)
    with open(path, "rb") as stream:
        metadata_offset = _record_offsets(stream)[-1]
    os.truncate(path, metadata_offset + 20)
    [result] = close_abandoned_warcs(tmp_path)
    final = tmp_path / "warc" / result.name
    assert captured_urls(final) == [capture.url for capture in captures[:4]]
    assert result.bytes_cut == metadata_offset + 20 - captures[4].start
    assert str(result) == (f"recovered {result.name} from a dead run: cut {result.bytes_cut:,} bytes of a torn "
                           f"capture, {1 + 3 * 4} records")
    assert_warcio_check([final])


def test_a_file_with_no_whole_record_is_set_aside_untouched_with_one_log_line(tmp_path, caplog):
    warc_dir = tmp_path / "warc"
    path, _ = dead_run_warc(warc_dir, 1)
    torn_warcinfo = path.read_bytes()[:40]
    path.unlink()
    inputs = {"test-a-00000.warc.gz.open": b"<html>not a WARC at all</html>\n" * 100,
              "test-b-00000.warc.gz.open": torn_warcinfo,
              "test-c-00000.warc.gz.open": gzip.compress(b"a gzip file, but no WARC record in it\r\n\r\n")}
    for name, data in inputs.items():
        (warc_dir / name).write_bytes(data)
    with caplog.at_level(logging.INFO, logger="newsarchive.recover"):
        results = close_abandoned_warcs(tmp_path)
    assert [result.action for result in results] == ["set aside"] * 3
    assert sorted(p.name for p in warc_dir.iterdir()) == [DAMAGED_DIR]
    assert {p.name: p.read_bytes() for p in (warc_dir / DAMAGED_DIR).iterdir()} == inputs
    assert [(record.levelname, record.getMessage(), record.exc_info) for record in caplog.records] == [
        ("WARNING", str(result), None) for result in results]
    assert "no whole WARC record" in str(results[0]) and "nothing was cut" in str(results[0])
    assert not list(index_lines(tmp_path))


def test_damage_in_the_middle_sets_the_file_aside_rather_than_cutting_the_whole_captures_after_it(tmp_path):
    """Zeroed blocks (what a power cut can leave) before whole captures: cutting there would lose them."""
    path, captures = dead_run_warc(tmp_path / "warc", 10)
    data = bytearray(path.read_bytes())
    data[captures[3].start + 30:captures[3].start + 4126] = bytes(4096)
    path.write_bytes(data)
    [result] = close_abandoned_warcs(tmp_path)
    assert result.action == "set aside"
    assert f"unreadable bytes at offset {captures[3].start:,}" in result.reason
    assert (tmp_path / "warc" / DAMAGED_DIR / path.name).read_bytes() == data
    assert not list((tmp_path / "warc").glob("*.warc.gz*"))


def test_a_torn_tail_holding_a_whole_gzipped_payload_is_still_cut(tmp_path):
    """A response torn in its member's trailer: the gzip body stored in it is whole, but is no WARC record."""
    path, captures = dead_run_warc(tmp_path / "warc", 4)  # story-3 is gzip-encoded, so stored as is
    with open(path, "rb") as stream:
        request_offset = [offset for offset in _record_offsets(stream) if offset > captures[3].start][0]
    data = path.read_bytes()
    assert data.find(b"\x1f\x8b\x08", captures[3].start + 1) < request_offset  # a gzip member inside the response
    path.write_bytes(data[:request_offset - 3])
    [result] = close_abandoned_warcs(tmp_path)
    assert (result.action, result.bytes_cut) == ("closed", request_offset - 3 - captures[3].start)
    assert captured_urls(tmp_path / "warc" / result.name) == [capture.url for capture in captures[:3]]


def test_an_empty_open_file_is_removed_and_an_open_file_whose_closed_name_exists_is_set_aside(tmp_path, caplog):
    warc_dir = tmp_path / "warc"
    warc_dir.mkdir()
    (warc_dir / "test-a-00000.warc.gz.open").touch()  # killed between creating the file and its warcinfo
    closed, _ = dead_run_warc(warc_dir, 2)
    final = closed.with_name(closed.name.removesuffix(OPEN_SUFFIX))
    shutil.copyfile(closed, final)
    with open(closed, "ab") as handle:
        handle.write(b"different bytes")
    before = closed.read_bytes()
    with caplog.at_level(logging.INFO, logger="newsarchive.recover"):
        results = close_abandoned_warcs(tmp_path)
    assert [(result.name, result.action) for result in results] == [
        ("test-a-00000.warc.gz", "removed"), (final.name, "set aside")]
    assert sorted(p.name for p in warc_dir.iterdir()) == sorted([DAMAGED_DIR, final.name])
    assert (warc_dir / DAMAGED_DIR / closed.name).read_bytes() == before
    assert final.read_bytes() == before[:-len(b"different bytes")]
    assert len(caplog.records) == 2 and all(record.exc_info is None for record in caplog.records)


def test_every_open_file_of_the_archive_is_recovered_in_one_call_and_indexed_together(tmp_path):
    warc_dir = tmp_path / "warc"
    first, first_captures = dead_run_warc(warc_dir, 3, seed=1)
    second, second_captures = dead_run_warc(warc_dir, 4, seed=2)
    os.truncate(second, second_captures[-1].end - 5)
    results = close_abandoned_warcs(tmp_path)
    assert [(result.action, result.records) for result in results] == [("closed", 10), ("closed", 10)]
    names = [path.name.removesuffix(OPEN_SUFFIX) for path in (first, second)]
    assert indexed(tmp_path) == ({(capture.url, names[0]) for capture in first_captures}
                                 | {(capture.url, names[1]) for capture in second_captures[:3]})
    assert close_abandoned_warcs(tmp_path) == []  # nothing left to do
    assert_warcio_check(warc_dir / name for name in names)


def test_an_open_warc_a_live_writer_holds_is_left_alone_beside_a_dead_runs_and_its_writer_closes_it(tmp_path):
    """Any live writer (`scrapy crawl`, a cluster worker) holds its file; only a dead run's is closed."""
    warc_dir = tmp_path / "warc"
    dead, _ = dead_run_warc(warc_dir, 2)
    writer = ExchangeArchiver(RollingWarcWriter(warc_dir, "test-live", {SOURCE_FIELD: "gazette"}))
    writer.archive(exchange("http://news.test/live-0", *page(0, random.Random(3))))
    [live] = warc_dir.glob("test-live-*.warc.gz.open")
    before = live.read_bytes()
    assert [(result.name, result.action) for result in close_abandoned_warcs(tmp_path)] == [
        (dead.name.removesuffix(OPEN_SUFFIX), "closed")]
    assert live.read_bytes() == before and "http://news.test/live-0" not in {url for url, _ in indexed(tmp_path)}
    writer.archive(exchange("http://news.test/live-1", *page(1, random.Random(4))))
    [name] = writer.close()
    assert captured_urls(warc_dir / name) == ["http://news.test/live-0", "http://news.test/live-1"]


def test_a_warc_of_a_writer_process_killed_mid_write_is_recovered_with_every_acknowledged_capture(tmp_path):
    """The real archive writer process, SIGKILLed at seeded moments while it writes 8 MB captures.

    Trials go on until one kill has torn a capture (7 in 10 do), at least three, at most eight.
    """
    rng = random.Random(7)
    trials = torn = 0
    while trials < 8 and (trials < 3 or not torn):
        archive = tmp_path / f"archive-{trials}"
        acknowledged = _kill_writer_mid_write(archive, rng)
        [open_file] = (archive / "warc").glob("*" + OPEN_SUFFIX)
        [result] = close_abandoned_warcs(archive)
        assert result.action == "closed"
        final = archive / "warc" / result.name
        urls = captured_urls(final)
        assert urls[:len(acknowledged)] == acknowledged  # and perhaps one written but not yet acknowledged
        assert {url for url, _ in indexed(archive)} == set(urls)
        assert not list((archive / "warc").glob("*" + OPEN_SUFFIX)) and not open_file.exists()
        assert_warcio_check([final])
        trials, torn = trials + 1, torn + (result.bytes_cut > 0)
    assert torn


def _kill_writer_mid_write(archive: Path, rng: random.Random) -> list[str]:
    """Stream captures to a writer process and SIGKILL it as soon as its WARC grows past a seeded size.

    The size falls inside the third to fifth capture, and the kernel grows the file page by
    page while it writes, so the kill mostly lands in the middle of a capture's write.
    Returns the URLs of the captures it acknowledged before it died.
    """
    process = subprocess.Popen([sys.executable, "-m", "archive.writer_process"], cwd=REPO,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    options = WriterOptions(warc_dir=str(archive / "warc"), prefix="test-gazette", info={SOURCE_FIELD: "gazette"},
                            archive_dir=str(archive))
    urls = [f"http://news.test/story-{n}" for n in range(8)]
    size = 8_000_000
    body = os.urandom(size)  # said to be gzip, so stored as is: the writer spends its time writing, not deflating
    headers = [(b"Content-Type", b"text/html"), (b"Content-Encoding", b"gzip")]
    kill_at = rng.randrange(2 * size, 5 * size)

    def feed() -> None:
        try:
            process.stdin.write(encode_message(("open", "g", options)))
            for n, url in enumerate(urls):  # the body differs in its first bytes, so no capture is a revisit
                process.stdin.write(encode_message(("write", "g", n, exchange(url, b"%08d" % n + body, headers))))
                process.stdin.flush()
        except (BrokenPipeError, ValueError):  # killed, or closed under us
            pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
                path.stat().st_size >= kill_at for path in (archive / "warc").glob("*" + OPEN_SUFFIX)):
            pass
        process.send_signal(signal.SIGKILL)
        return [urls[n] for kind, n, *_ in read_messages(process.stdout)]  # what it said before it died
    finally:
        process.kill()
        process.wait()
        process.stdin.close()
        process.stdout.close()
        feeder.join(timeout=10)


def _recorded_fetches(archive: Path) -> list[tuple[str, str, int]]:
    """(URL, WARC file, offset) of every fetch the crawl state holds."""
    if not state_path(archive).exists():
        return []
    with sqlite3.connect(f"file:{state_path(archive)}?mode=ro", uri=True, timeout=30) as db:
        try:
            return db.execute("SELECT url, warc_file, warc_offset FROM urls WHERE warc_file IS NOT NULL").fetchall()
        except sqlite3.OperationalError:  # the run has made the file but not its tables yet
            return []


def power_cut_mid_crawl(config: Path, archive: Path, ready, extract: bool = False, recorded=None) -> Path:
    """Start a run and, once ``ready()``, stop it as a power cut would: its processes stopped, its writer
    killed, the last 300 bytes of its open WARC cut, or, given ``recorded()`` (the crawl state's fetches
    as (URL, WARC file, offset)), the file cut from there or from inside the last fetch the state
    recorded in it, whichever comes first: the state is then ahead of the WARC whatever the writer had
    flushed when it died. The torn WARC."""
    command = [sys.executable, "-m", "cli", "run", "--config", str(config), *([] if extract else ["--no-extract"])]
    run = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    try:
        while True:
            assert wait_for(ready)
            os.killpg(run.pid, signal.SIGSTOP)
            if ready():  # (still, now that nothing moves)
                break
            os.killpg(run.pid, signal.SIGCONT)
        writer = writer_process(run)
        os.kill(writer, signal.SIGKILL)
        assert wait_for(lambda: not Path(f"/proc/{writer}/cmdline").exists() or
                        Path(f"/proc/{writer}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z")
        [torn] = (archive / "warc").glob("*" + OPEN_SUFFIX)
        size = torn.stat().st_size - 300
        if recorded is not None:
            name = torn.name.removesuffix(OPEN_SUFFIX)
            offsets = [offset for _, warc, offset in recorded() if warc == name]
            if offsets:
                size = min(size, max(offsets) + 100)
        os.truncate(torn, size)
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
    return torn


def _derived_to_the_open_files_end(archive: Path) -> bool:
    """The derivation following the crawl has read its open WARC to the end, 20 articles or more."""
    opened = list((archive / "warc").glob("*" + OPEN_SUFFIX))
    store = archive / "derived" / "corpus.sqlite"
    if len(opened) != 1 or not store.exists():
        return False
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=30) as db:
            [scanned] = db.execute("SELECT scanned FROM scans WHERE warc_file = ?",
                                   (opened[0].name.removesuffix(OPEN_SUFFIX),)).fetchone() or [None]
            captures = db.execute("SELECT COUNT(*) FROM captures").fetchone()[0]
    except sqlite3.OperationalError:  # not made yet
        return False
    return captures >= 20 and scanned == opened[0].stat().st_size


def test_an_article_derived_from_bytes_a_power_cut_lost_leaves_the_corpus_and_the_next_run_fetches_it(tmp_path):
    """The derivation follows the crawl and reads the open WARC before its bytes are on disk for good: the
    corpus kept an article whose bytes recovery then cut, and differed from a rebuild of the WARCs."""
    articles = 60
    with ArticleFarm(articles, delay=0.1) as farm:
        config = write_config(None, tmp_path / "sources.toml", tmp_path, [farm.source()])
        power_cut_mid_crawl(config, tmp_path, lambda: _derived_to_the_open_files_end(tmp_path), extract=True)
        again = newsarchive("run", "--config", str(config))
    assert again.returncode == 0, again.stderr
    assert "captures derived from bytes recovery cut off its end were forgotten" in again.stderr, again.stderr
    urls = [row["url"] for row in read_corpus(tmp_path)]
    assert len(urls) == len(set(urls)) == articles
    rebuilt = tmp_path / "rebuilt"
    assert newsarchive("rebuild", "--warc", *map(str, sorted((tmp_path / "warc").glob("*.warc.gz"))),
                       "--out", str(rebuilt)).returncode == 0
    assert (rebuilt / "corpus.jsonl").read_bytes() == (tmp_path / "corpus.jsonl").read_bytes()
    checked = newsarchive("check", "--config", str(config))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_capture_cut_by_recovery_after_a_power_cut_is_fetched_again_by_the_next_run(tmp_path):
    """The crawl state commits a capture before its WARC bytes are durable (fsynced when the file is closed), so
    after a power cut the state can be ahead of the WARC: the run is stopped, its writer killed and the last
    300 bytes of its WARC cut, as a power cut leaves them."""
    articles = 120
    with ArticleFarm(articles) as farm:
        config = write_config(None, tmp_path / "sources.toml", tmp_path, [farm.source()])
        torn = power_cut_mid_crawl(config, tmp_path, lambda: len(_recorded_fetches(tmp_path)) >= 30,
                                   recorded=lambda: _recorded_fetches(tmp_path))

        again = newsarchive("run", "--config", str(config))
        assert again.returncode == 0, again.stderr
        assert "of a torn capture" in again.stderr
        assert "recorded in the cut tail" in again.stderr, again.stderr
        closed = torn.with_name(torn.name.removesuffix(OPEN_SUFFIX))
        fetches = _recorded_fetches(tmp_path)
        assert not [url for url, warc, offset in fetches if warc == closed.name and offset >= closed.stat().st_size]
        urls = [row["url"] for row in read_corpus(tmp_path)]
        assert len(urls) == len(set(urls)) == articles
        checked = newsarchive("check", "--config", str(config))
        assert checked.returncode == 0, checked.stderr
