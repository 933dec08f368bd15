"""The archive writer process: what the crawler hands it ends up in sound WARCs, whatever happens."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from archive_fixtures import assert_warcio_check

from archive.index import index_lines
from archive.capture import ROLE_ARTICLE, ROLE_FIELD, SOURCE_FIELD
from archive.exchange import Exchange
from archive.messages import WriterOptions, encode_message, read_messages
from archive.revisits import PROFILE_IDENTICAL

REPO = Path(__file__).resolve().parent.parent


def exchange(path: str, body: bytes, source: str = "gazette") -> Exchange:
    return Exchange(
        uri=f"http://news.test{path}", started=datetime.now(timezone.utc), method="GET",
        request_headers=[(b"User-Agent", b"newsarchive-test")], request_body=b"", status=200,
        response_headers=[(b"Content-Type", b"text/html; charset=utf-8"), (b"Transfer-Encoding", b"chunked")],
        body=body, metadata={SOURCE_FIELD: source, ROLE_FIELD: ROLE_ARTICLE}, ip_address="127.0.0.1",
        protocol="HTTP/1.1",
    )


@pytest.fixture
def writer_process():
    process = subprocess.Popen([sys.executable, "-m", "archive.writer_process"], cwd=REPO,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    yield process
    process.kill()
    process.wait()


def send(process: subprocess.Popen, *messages: tuple) -> None:
    for message in messages:
        process.stdin.write(encode_message(message))
    process.stdin.flush()


def replies(process: subprocess.Popen, count: int) -> list[tuple]:
    found = []
    for reply in read_messages(process.stdout):
        found.append(reply)
        if len(found) == count:
            break
    return found


def options(tmp_path: Path, source: str) -> WriterOptions:
    return WriterOptions(warc_dir=str(tmp_path / "warc"), prefix=f"test-{source}", info={SOURCE_FIELD: source},
                         archive_dir=str(tmp_path))


def records(warc: Path) -> list[tuple[str, str]]:
    with open(warc, "rb") as stream:
        return [(record.rec_type, record.rec_headers.get_header("WARC-Target-URI") or "")
                for record in ArchiveIterator(stream, check_digests=True)]


def test_warcs_are_closed_and_complete_when_the_crawler_dies_without_closing(writer_process, tmp_path):
    send(writer_process, ("open", "g", options(tmp_path, "gazette")),
         *[("write", "g", n, exchange(f"/story-{n}", f"<p>story {n}</p>".encode())) for n in range(3)])
    assert [kind for kind, *_ in replies(writer_process, 3)] == ["written"] * 3
    writer_process.stdin.close()  # what the pipe looks like when the crawler is killed
    assert writer_process.wait(timeout=30) == 0
    [warc] = (tmp_path / "warc").iterdir()
    assert warc.name.endswith(".warc.gz")  # renamed from .open
    assert records(warc) == [("warcinfo", "")] + [
        (kind, f"http://news.test/story-{n}") for n in range(3) for kind in ("response", "request", "metadata")
    ]
    assert_warcio_check([warc])
    assert b"".join(index_lines(tmp_path)).count(b"news.test") == 3


def test_a_payload_archived_for_one_source_is_a_revisit_for_another(writer_process, tmp_path):
    body = b"<p>the same robots.txt on sister sites</p>"
    send(writer_process, ("open", "g", options(tmp_path, "gazette")), ("open", "h", options(tmp_path, "herald")),
         ("write", "g", 1, exchange("/robots.txt", body, "gazette")),
         ("write", "h", 2, exchange("/robots.txt?h", body, "herald")),
         ("close", "g"), ("close", "h"))
    (_, _, first), (_, _, second), *closed = replies(writer_process, 4)
    assert first.profile is None and second.profile == PROFILE_IDENTICAL
    assert [kind for kind, *_ in closed] == ["closed", "closed"]


def test_a_warc_directory_that_cannot_be_made_fails_each_write_and_other_crawlers_go_on(writer_process, tmp_path):
    (tmp_path / "blocked").write_text("a file where the WARC directory should be")
    blocked = WriterOptions(warc_dir=str(tmp_path / "blocked" / "warc"), prefix="test-blocked", info={})
    send(writer_process, ("open", "b", blocked), ("open", "g", options(tmp_path, "gazette")),
         ("write", "b", 1, exchange("/lost", b"<p>lost</p>")), ("write", "g", 2, exchange("/kept", b"<p>kept</p>")),
         ("close", "b"), ("close", "g"))
    failed, written, closed_b, closed_g = replies(writer_process, 4)
    assert failed[0] == "failed" and str(tmp_path / "blocked" / "warc") in failed[2]
    assert written[0] == "written" and closed_b == ("closed", "b", [])
    [warc_name] = closed_g[2]
    assert ("response", "http://news.test/kept") in records(tmp_path / "warc" / warc_name)


def test_a_cluster_crawl_whose_redis_is_gone_when_its_warc_opens_is_told_it_lost_redis_not_a_traceback(tmp_path):
    """The writer opens a crawler's WARC when its first exchange comes (late, on a loaded machine): with the cluster's
    Redis gone by then, it logged a traceback and failed each write as a broken WARC directory, so the crawl said
    "cannot write WARCs" for each page instead of stopping once on the lost Redis."""
    from archive_fixtures import free_port

    lost = WriterOptions(warc_dir=str(tmp_path / "warc"), prefix="test-farm", info={}, archive_dir=str(tmp_path),
                         state_url=f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    process = subprocess.Popen([sys.executable, "-m", "archive.writer_process"], cwd=REPO, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        send(process, ("open", "c", lost), ("write", "c", 1, exchange("/a", b"<p>a</p>")),
             ("write", "c", 2, exchange("/b", b"<p>b</p>")), ("close", "c"))
        first, second, closed = replies(process, 3)
        process.stdin.close()
        err = process.stderr.read().decode()
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
        process.wait()
    assert (first[0], second[0]) == ("lost", "lost") and "cannot reach the cluster's Redis" in first[2], first
    assert closed == ("closed", "c", [])
    assert "Traceback" not in err, err
