"""Reading captures back out of WARC files: one record by offset, or every article of a file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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


def iter_article_captures(warc_path: Path) -> Iterator[ArticleCapture]:
    """The article responses of one WARC, decided from their metadata records alone."""
    responses: dict[str, tuple[int, str, int, str]] = {}
    roles: dict[str, dict[str, str]] = {}
    with open_warc(Path(warc_path)) as stream:
        iterator = ArchiveIterator(stream)
        for record in iterator:
            headers = record.rec_headers
            if record.rec_type == "response":
                responses[headers.get_header("WARC-Record-ID")] = (
                    iterator.get_record_offset(),
                    headers.get_header("WARC-Target-URI"),
                    int(record.http_headers.get_statuscode() or 0),
                    record.http_headers.get_header("Content-Type") or "",
                )
            elif record.rec_type == "metadata" and headers.get_header("WARC-Concurrent-To"):
                roles[headers.get_header("WARC-Concurrent-To")] = _fields(record)
    for record_id, (offset, url, status, content_type) in responses.items():
        fields = roles.get(record_id, {})
        if is_article_capture(fields.get(ROLE_FIELD), status, content_type):
            yield ArticleCapture(fields.get(SOURCE_FIELD, ""), url, Path(warc_path), offset)
