"""The WARC writer's file discipline: .open while written, rollover between captures, never append."""

from __future__ import annotations

import gzip
import os
import random
import resource
import zlib
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from archive_fixtures import assert_warcio_check

from archive.reader import read_response
from archive.writer import RollingWarcWriter


def capture(writer: RollingWarcWriter, n: int, size: int = 200_000):
    uri = f"http://example.test/story-{n}"
    body = os.urandom(size)  # incompressible, so the file grows by about `size`
    headers = [("Content-Type", "text/html"), ("Content-Length", str(len(body)))]
    response = writer.response_record(uri, "200 OK", headers, body, {})
    request = writer.request_record(uri, f"GET /story-{n} HTTP/1.1", [("Host", "example.test")], b"",
                                    {"WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID")})
    return writer.write_capture([response, request])


def test_file_is_open_while_written_and_readable_before_it_is_closed(tmp_path):
    writer = RollingWarcWriter(tmp_path, "test-src", {"newsarchive-source": "src"}, max_size=10**9)
    location = capture(writer, 1)[0]
    assert [path.name for path in tmp_path.iterdir()] == [location.warc_file + ".open"]
    response = read_response(tmp_path / location.warc_file, location.offset)
    assert response.url == "http://example.test/story-1" and response.status == 200
    writer.close()
    assert [path.name for path in tmp_path.iterdir()] == [location.warc_file]


def test_rollover_happens_between_captures_and_every_file_starts_with_warcinfo(tmp_path):
    writer = RollingWarcWriter(tmp_path, "test-src", {"newsarchive-source": "src"}, max_size=500_000)
    locations = [capture(writer, n) for n in range(6)]
    writer.close()
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert len(files) >= 2
    for path in files:
        with open(path, "rb") as stream:
            kinds = [record.rec_type for record in ArchiveIterator(stream)]
        assert kinds[0] == "warcinfo"
        # request and response of one capture never end up in different files
        assert kinds[1:] == ["response", "request"] * ((len(kinds) - 1) // 2)
    for response_location, request_location in locations:
        assert response_location.warc_file == request_location.warc_file
    assert_warcio_check(files)


def test_a_new_writer_never_appends_to_an_earlier_file(tmp_path):
    first = RollingWarcWriter(tmp_path, "test-src", {}, max_size=10**9)
    capture(first, 1)
    first.close()
    before = {path: path.read_bytes() for path in tmp_path.iterdir()}
    second = RollingWarcWriter(tmp_path, "test-src", {}, max_size=10**9)
    capture(second, 2)
    second.close()
    assert len(list(tmp_path.iterdir())) == 2
    for path, data in before.items():
        assert path.read_bytes() == data


def test_a_reader_finds_a_record_whose_file_is_renamed_between_its_tries(tmp_path, monkeypatch):
    """The writer closes a WARC just as an extraction worker opens it (a race the live run hits)."""
    import archive.reader

    writer = RollingWarcWriter(tmp_path, "test-src", {"newsarchive-source": "src"}, max_size=10**9)
    location = capture(writer, 1)[0]
    final, still_open = tmp_path / location.warc_file, tmp_path / (location.warc_file + ".open")
    real_open = open

    def open_racing_the_rename(path, *args, **kwargs):
        if Path(path) == final and still_open.exists():
            still_open.rename(final)  # the writer closes the file right after this miss
            raise FileNotFoundError(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(archive.reader, "open", open_racing_the_rename, raising=False)
    response = read_response(final, location.offset)
    assert response.url == "http://example.test/story-1" and response.status == 200
    final.rename(still_open)  # give the writer back the file it is still writing
    writer.close()


def test_a_capture_that_cannot_be_written_leaves_the_file_whole_and_the_next_capture_follows(tmp_path):
    """A write cut short (here the file size limit, a full disk alike) is cut back to the last whole record."""
    writer = RollingWarcWriter(tmp_path, "test-src", {"newsarchive-source": "src"}, max_size=10**9)
    first = capture(writer, 1)[0]
    path = tmp_path / (first.warc_file + ".open")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (path.stat().st_size + 100_000, hard))
    try:
        with pytest.raises(OSError):
            capture(writer, 2)  # 200 kB more than the limit allows: written part-way, then refused
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    third = capture(writer, 3)[0]
    writer.close()
    warc = tmp_path / first.warc_file
    gzip.decompress(warc.read_bytes())  # EOFError if a torn member were left inside
    with open(warc, "rb") as stream:
        uris = [record.rec_headers.get_header("WARC-Target-URI") for record in ArchiveIterator(stream)]
    assert uris[1:] == ["http://example.test/story-1"] * 2 + ["http://example.test/story-3"] * 2
    assert read_response(warc, third.offset).url == "http://example.test/story-3"


def test_records_are_compressed_at_level_6_and_an_already_compressed_payload_is_stored_not_deflated(tmp_path):
    """A gzipped payload would only cost CPU to deflate again; stored, its member is as small."""
    words = "the council met on tuesday to discuss a budget mayor said residents school road housing vote".split()
    rng = random.Random(1)
    html = b"<html><body>%s</body></html>" % "".join(
        "<p>" + " ".join(rng.choice(words) for _ in range(40)) + ".</p>\n" for _ in range(300)).encode()
    writer = RollingWarcWriter(tmp_path, "test-src", {"newsarchive-source": "src"}, max_size=10**9)
    offsets, bodies = [], {}
    for n, (encoding, body) in enumerate([("identity", html), ("gzip", gzip.compress(html, mtime=0))]):
        uri = f"http://example.test/story-{n}"
        headers = [("Content-Type", "text/html"), ("Content-Encoding", encoding), ("Content-Length", str(len(body)))]
        offsets.append(writer.write_capture([writer.response_record(uri, "200 OK", headers, body, {})])[0].offset)
        bodies[encoding] = body
    name = writer.files[0]
    writer.close()
    data = (tmp_path / name).read_bytes()
    members = dict(zip(bodies, (data[offsets[0]:offsets[1]], data[offsets[1]:])))

    def level_6(member: bytes) -> bytes:
        compressor = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS + 16)
        return compressor.compress(gzip.decompress(member)) + compressor.flush()

    assert members["identity"] == level_6(members["identity"])
    assert bodies["gzip"] in members["gzip"]  # verbatim: stored, not deflated again
    assert len(members["gzip"]) <= len(level_6(members["gzip"])) * 1.001
    with open(tmp_path / name, "rb") as stream:
        payloads = [record.content_stream().read() for record in ArchiveIterator(stream, check_digests=True)
                    if record.rec_type == "response"]
    assert payloads == [html, html]  # warcio inflates both members and undoes the Content-Encoding
    assert read_response(tmp_path / name, offsets[1]).body == html


@pytest.mark.parametrize("finish", ["write_atomic", "close a WARC"])
def test_a_file_renamed_into_place_has_its_directory_fsynced_after_the_rename(tmp_path, monkeypatch, finish):
    """A rename is a change to the directory: until the directory is fsynced a power cut may undo it, though the
    file's data was synced.  No power cut here: each fsync of a directory is seen (the real one runs) with the names
    the directory held then, and the final name must be among them."""
    from archive.atomic import write_atomic

    synced: list[set[str]] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if os.path.isdir(f"/proc/self/fd/{fd}") and os.path.realpath(f"/proc/self/fd/{fd}") == str(tmp_path):
            synced.append({path.name for path in tmp_path.iterdir()})
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    if finish == "write_atomic":
        write_atomic(tmp_path / "manifest.json", b"{}\n")
        final = "manifest.json"
    else:
        writer = RollingWarcWriter(tmp_path, "test-src", {"newsarchive-source": "src"}, max_size=10**9)
        final = capture(writer, 1)[0].warc_file
        writer.close()
    assert any(final in names for names in synced), synced
