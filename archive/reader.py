"""Reading captures back out of WARC files: one record by offset, or every article of a file."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord

import archive.warcio_brotli  # noqa: F401 - br bodies decode with the crawl venv's brotli
from archive.capture import ROLE_FIELD, SOURCE_FIELD, is_article_capture
from archive.writer import OPEN_SUFFIX

# A decoded body larger than this is a compression bomb or not a news page.
MAX_DECODED_BODY = 50 * 2**20


class RecordError(Exception):
    """A record that is not where it was said to be, or not a response."""


@dataclass(frozen=True)
class ArchivedResponse:
    """A response record with its body decoded (content-encoding undone) and its provenance."""

    url: str
    date: str
    record_id: str
    payload_digest: str
    status: int
    content_type: str
    body: bytes
    warc_file: str
    offset: int
    truncated: str | None = None  # why the body is incomplete, if it is


def open_warc(path: Path):
    """Open a WARC that may still carry its ``.open`` suffix or may have just lost it."""
    path = Path(path)
    # A file only ever goes from ``.open`` to its final name (an atomic rename), so if both
    # tries miss, it was renamed between them and the final name now exists.
    candidates = [path, Path(str(path) + OPEN_SUFFIX), path]
    if path.name.endswith(OPEN_SUFFIX):
        candidates = [path, Path(str(path)[: -len(OPEN_SUFFIX)])]
    for candidate in candidates:
        try:
            return open(candidate, "rb")
        except FileNotFoundError:
            continue
    raise RecordError(f"{path}: no such WARC file")


def _decoded_body(record: ArcWarcRecord) -> tuple[bytes, bool]:
    stream = record.content_stream()
    body = stream.read(MAX_DECODED_BODY + 1)
    return body[:MAX_DECODED_BODY], len(body) > MAX_DECODED_BODY


def _archived_response(record: ArcWarcRecord, warc_file: str, offset: int) -> ArchivedResponse:
    headers = record.rec_headers
    cut = headers.get_header("WARC-Truncated")
    try:
        body, too_big = _decoded_body(record)
    except Exception as exc:  # warcio surfaces zlib/brotli errors of a broken body as many types
        raise RecordError(f"{warc_file}@{offset}: cannot decode body: {exc}") from exc
    return ArchivedResponse(
        url=headers.get_header("WARC-Target-URI"),
        date=headers.get_header("WARC-Date"),
        record_id=headers.get_header("WARC-Record-ID"),
        payload_digest=headers.get_header("WARC-Payload-Digest") or "",
        status=int(record.http_headers.get_statuscode() or 0),
        content_type=record.http_headers.get_header("Content-Type") or "",
        body=body,
        warc_file=warc_file,
        offset=offset,
        truncated=(f"over {MAX_DECODED_BODY >> 20} MB once decoded" if too_big
                   else f"cut short when fetched (WARC-Truncated: {cut})" if cut else None),
    )


def read_response(warc_path: Path, offset: int) -> ArchivedResponse:
    """The response record at ``offset`` of ``warc_path``."""
    warc_path = Path(warc_path)
    name = warc_path.name.removesuffix(OPEN_SUFFIX)
    with open_warc(warc_path) as stream:
        stream.seek(offset)
        record = next(iter(ArchiveIterator(stream)), None)
        if record is None or record.rec_type != "response":
            raise RecordError(f"{name}@{offset}: not a response record")
        return _archived_response(record, name, offset)


def _fields(record: ArcWarcRecord) -> dict[str, str]:
    fields = {}
    for line in record.content_stream().read().decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip()] = value.strip()
    return fields


@dataclass(frozen=True)
class ArticleCapture:
    """Where an article response sits, and the source its metadata record names."""

    source: str
    url: str
    warc_path: Path
    offset: int
    record_id: str = ""
    date: str = ""
    payload_digest: str = ""


@dataclass(frozen=True)
class Scan:
    """The article captures found in a stretch of a WARC, and where the next scan starts."""

    captures: list[ArticleCapture]
    end: int  # every capture that starts before this offset was whole and has been seen
    error: str | None = None  # why a closed file could not be read to its end


def _member_is_whole(stream: BinaryIO, offset: int, length: int) -> bool:
    """Whether the gzip member at ``offset`` ends within ``length`` bytes (warcio reads a torn one silently)."""
    stream.seek(offset)
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        inflater.decompress(stream.read(length))
    except zlib.error:
        return False
    return inflater.eof


def scan_article_captures(warc_path: Path, start: int = 0, closed: bool = True) -> Scan:
    """The article responses of a WARC from ``start`` on, decided from their metadata records.

    A capture's records are written together, its metadata record last, so a capture is
    whole once its metadata record is.  In a file still being written (``closed`` False)
    the scan ends before the first record that is not whole yet and before any response
    still waiting for its metadata, and the next scan resumes there; a closed file is read
    to its end, and a response without metadata there is not ours to call an article.
    """
    found: list[ArticleCapture] = []
    waiting: dict[str, tuple[int, str, int, str, str, str]] = {}  # response id -> what its capture needs
    end = start
    with open_warc(Path(warc_path)) as stream:
        stream.seek(start)
        iterator = ArchiveIterator(stream)
        try:
            for record in iterator:
                headers = record.rec_headers
                if record.rec_type == "response":
                    http = record.http_headers
                    waiting[headers.get_header("WARC-Record-ID")] = (
                        iterator.get_record_offset(), headers.get_header("WARC-Target-URI"),
                        int(http.get_statuscode() or 0) if http else 0,
                        (http.get_header("Content-Type") or "") if http else "",
                        headers.get_header("WARC-Date") or "", headers.get_header("WARC-Payload-Digest") or "")
                    continue
                fields = _fields(record) if record.rec_type == "metadata" else {}
                offset, length = iterator.get_record_offset(), iterator.get_record_length()
                if not closed:
                    here = stream.tell()
                    whole = _member_is_whole(stream, offset, length)
                    stream.seek(here)
                    if not whole:
                        break
                response = waiting.pop(headers.get_header("WARC-Concurrent-To") or "", None) if fields else None
                if response is not None:
                    response_offset, url, status, content_type, date, digest = response
                    if is_article_capture(fields.get(ROLE_FIELD), status, content_type):
                        found.append(ArticleCapture(fields.get(SOURCE_FIELD, ""), url, Path(warc_path),
                                                    response_offset, headers.get_header("WARC-Concurrent-To"),
                                                    date, digest))
                if not waiting:
                    end = offset + length
        except Exception as exc:  # warcio surfaces a torn or foreign tail as many types
            if not closed:  # the rest is still being written
                return Scan(found, end)
            return Scan(found, stream.seek(0, 2), f"{Path(warc_path).name}: unreadable after offset {end}: "
                                                  f"{str(exc) or type(exc).__name__}")
        if closed:
            end = stream.seek(0, 2)
    return Scan(found, end)


def iter_article_captures(warc_path: Path) -> Iterator[ArticleCapture]:
    """The article responses of one closed WARC, decided from their metadata records alone."""
    yield from scan_article_captures(Path(warc_path)).captures
