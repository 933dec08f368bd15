"""A rolling WARC/1.1 writer: named, gzipped record by record, renamed from ``.open`` on close.

The writer holds an exclusive ``flock`` on each ``.open`` file for as long as it writes it, so
that recovery (``archive.recover``) tells a live writer's file, whatever process writes it (a
run, ``scrapy crawl``), from one a dead run left.

warcio builds the records and their digests.  We compress each record ourselves because
warcio's ``GzippingWrapper`` is fixed at zlib level 9, which costs a third of a crawler's
CPU for about 2 % smaller files; level 6 is the zlib default and what wget uses.  A payload
that is already compressed (gzip or brotli on the wire, JPEG, ...) goes into the member's
deflate stream as stored blocks: level 6 cannot shrink it, only spend CPU failing to
(measured on 600 gzipped news pages: 0.39 s for 22.78 MB with level 6 throughout, 0.05 s
for 22.72 MB with their payloads stored).
"""

from __future__ import annotations

import fcntl
import io
import os
import socket
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from warcio.recordbuilder import RecordBuilder
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import BaseWARCWriter

from archive.atomic import replace_durably

OPEN_SUFFIX = ".open"
COMPRESSION_LEVEL = 6
# What zlib writes with wbits 31 (no name, mtime 0, Unix), so that every member starts alike.
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
_COMPRESSED_ENCODINGS = frozenset({"gzip", "x-gzip", "deflate", "br", "zstd", "compress", "x-compress"})
_COMPRESSED_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/avif",
                               "application/zip", "application/gzip", "font/woff", "font/woff2"})


@dataclass(frozen=True)
class RecordLocation:
    """Where a record landed: the final file name (without ``.open``) and the byte offset."""

    warc_file: str
    offset: int
    record_id: str


def _payload_is_compressed(record) -> bool:
    headers = record.http_headers
    if headers is None or not record.payload_length or record.rec_type != "response":
        return False
    encoding = (headers.get_header("Content-Encoding") or "").split(",")[-1].strip().lower()  # the outermost
    media_type = (headers.get_header("Content-Type") or "").split(";")[0].strip().lower()
    return (encoding in _COMPRESSED_ENCODINGS or media_type in _COMPRESSED_TYPES
            or media_type.startswith(("video/", "audio/mpeg", "audio/ogg")))


def _gzip_member(data: bytes, stored_from: int) -> bytes:
    """``data`` as one gzip member: deflated at ``COMPRESSION_LEVEL`` up to ``stored_from``, stored after.

    zlib cannot change level within a stream from Python, so the member's deflate stream is
    two joined: the first ends on a sync flush (byte-aligned, not final), the second, at
    level 0, holds stored blocks and the final one.  Any inflater reads it as one stream.
    """
    head = zlib.compressobj(COMPRESSION_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    tail = zlib.compressobj(0, zlib.DEFLATED, -zlib.MAX_WBITS)
    view = memoryview(data)
    return b"".join((
        _GZIP_HEADER,
        head.compress(view[:stored_from]), head.flush(zlib.Z_SYNC_FLUSH),
        tail.compress(view[stored_from:]), tail.flush(),
        struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF),
    ))


class _BufferWriter(BaseWARCWriter):
    """warcio's record serialisation, into a buffer we compress ourselves."""

    def __init__(self) -> None:
        super().__init__(gzip=False, warc_version="1.1")

    def serialise(self, record) -> bytes:
        buffer = io.BytesIO()
        self._write_warc_record(buffer, record)
        return buffer.getvalue()


def still_named(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd`` (not removed or renamed since it was opened)."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def _create_held(path: Path) -> io.FileIO:
    """Make ``path`` (``FileExistsError`` if it exists) and take the ``flock`` the writer holds on it until
    it is closed.

    Recovery may find the file in the moment between its making and the lock, take it for a dead
    run's empty file and remove it: then the name no longer leads to it, and ``FileExistsError``
    says to take another name.
    """
    out = open(path, "xb", buffering=0)  # unbuffered: _write_all decides what reaches the file
    try:
        fcntl.flock(out.fileno(), fcntl.LOCK_EX)  # (waits only while recovery looks at the empty file)
        if not still_named(out.fileno(), path):
            raise FileExistsError(f"{path} was removed as it was made")
    except BaseException:
        out.close()
        raise
    return out


def warc_timestamp(moment: datetime) -> str:
    """Annex C's 17-digit timestamp, to the millisecond."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}"


def warc_date(moment: datetime) -> str:
    """A WARC/1.1 WARC-Date (UTC, microseconds)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class RollingWarcWriter:
    """Writes ``PREFIX-TIMESTAMP-SERIAL-HOST.warc.gz`` files under ``directory``.

    Each file starts with a warcinfo record built from ``info``.  A new file is started
    when the current one passes ``max_size``, only ever between capture events, and each
    writer (each run) starts new files rather than appending to old ones.  ``on_close`` is
    called with the final path of each file once it is complete (to index it).
    """

    def __init__(self, directory: Path, prefix: str, info: dict[str, str], max_size: int = 1_000_000_000,
                 on_close: Callable[[Path], None] | None = None):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        self.info = info
        self.max_size = max_size
        self.on_close = on_close
        self.hostname = socket.gethostname().split(".")[0] or "localhost"
        self.builder = _BufferWriter()
        self.files: list[str] = []
        self._serial = 0
        self._out: io.FileIO | None = None
        self._name: str | None = None
        self._warcinfo_id: str | None = None

    # -- files -------------------------------------------------------------
    def _next_name(self) -> str:
        while True:
            name = (
                f"{self.prefix}-{warc_timestamp(datetime.now(timezone.utc))}-"
                f"{self._serial:05d}-{self.hostname}.warc.gz"
            )
            self._serial += 1
            if not (self.directory / name).exists() and not (self.directory / (name + OPEN_SUFFIX)).exists():
                return name

    def _open(self) -> None:
        """Start a file with its warcinfo record; a file whose warcinfo cannot be written is removed."""
        while True:  # another writer in this directory (another run, `scrapy crawl`) may take a name first
            name = self._next_name()
            path = self.directory / (name + OPEN_SUFFIX)
            try:
                out = _create_held(path)
                break
            except FileExistsError:
                continue
        fields = {"software": "newsarchive", "format": "WARC File Format 1.1",
                  "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
                  "hostname": socket.gethostname(), **self.info}
        record = self.builder.create_warcinfo_record(name, fields)
        try:
            self._write_all(out, self._compress(record))
        except OSError:
            path.unlink(missing_ok=True)
            out.close()
            raise
        self._out, self._name = out, name
        self._warcinfo_id = record.rec_headers.get_header("WARC-Record-ID")
        self.files.append(name)

    def close(self) -> None:
        """Finish the current file: fsync it and drop the ``.open`` suffix."""
        self._close_current()

    def _close_current(self) -> None:
        if self._out is None:
            return
        out, self._out = self._out, None
        try:  # renamed before the lock is dropped: recovery never finds this file unlocked under its .open name
            os.fsync(out.fileno())
            replace_durably(self.directory / (self._name + OPEN_SUFFIX), self.directory / self._name)
        finally:
            out.close()
        if self.on_close is not None:
            self.on_close(self.directory / self._name)

    # -- records -----------------------------------------------------------
    def _compress(self, record) -> bytes:
        """The record as one gzip member, an already compressed payload stored rather than deflated."""
        data = self.builder.serialise(record)
        if not _payload_is_compressed(record):
            compressor = zlib.compressobj(COMPRESSION_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)
            return compressor.compress(data) + compressor.flush()
        payload_start = len(data) - len(b"\r\n\r\n") - record.payload_length
        return _gzip_member(data, stored_from=payload_start)

    @staticmethod
    def _write_all(out: io.RawIOBase, data: bytes) -> None:
        """Write all of ``data``, or truncate the file back to where it was and raise.

        A write that fails part-way (disk full, file size limit) would leave a torn gzip
        member, and every record appended after it unreadable; cut back, the file still ends
        on a whole record and later captures can follow it.
        """
        start = out.tell()
        view = memoryview(data)
        try:
            while view:
                view = view[out.write(view):]
        except OSError:
            os.ftruncate(out.fileno(), start)
            out.seek(start)
            raise

    def write_capture(self, records: list) -> list[RecordLocation]:
        """Write the records of one capture event together, in order, or none of them (``OSError``).

        They go to the file in one write, so readers see whole captures.
        """
        if self._out is None or self._out.tell() >= self.max_size:
            self._close_current()
            self._open()
        offset = self._out.tell()
        members, locations = [], []
        for record in records:
            record.rec_headers.replace_header("WARC-Warcinfo-ID", self._warcinfo_id)
            member = self._compress(record)
            locations.append(RecordLocation(self._name, offset, record.rec_headers.get_header("WARC-Record-ID")))
            members.append(member)
            offset += len(member)
        self._write_all(self._out, b"".join(members))
        return locations

    # -- record builders (warcio computes the digests) ---------------------
    def response_record(self, uri: str, status_line: str, headers: list[tuple[str, str]], body: bytes,
                        warc_headers: dict[str, str]):
        http_headers = StatusAndHeaders(status_line, headers, protocol="HTTP/1.1")
        return self.builder.create_warc_record(
            uri, "response", payload=io.BytesIO(body), length=len(body),
            http_headers=http_headers, warc_headers_dict=warc_headers,
        )

    def revisit_record(self, uri: str, status_line: str, headers: list[tuple[str, str]],
                       warc_headers: dict[str, str]):
        """A revisit: the response's HTTP headers only; ``warc_headers`` carry the profile and Refers-To."""
        http_headers = StatusAndHeaders(status_line, headers, protocol="HTTP/1.1")
        return self.builder.create_warc_record(
            uri, "revisit", http_headers=http_headers, warc_headers_dict=warc_headers,
        )

    def request_record(self, uri: str, request_line: str, headers: list[tuple[str, str]], body: bytes,
                       warc_headers: dict[str, str]):
        http_headers = StatusAndHeaders(request_line, headers, is_http_request=True)
        return self.builder.create_warc_record(
            uri, "request", payload=io.BytesIO(body), length=len(body),
            http_headers=http_headers, warc_headers_dict=warc_headers,
        )

    def metadata_record(self, uri: str, fields: dict[str, str], warc_headers: dict[str, str]):
        payload = "".join(f"{name}: {value}\r\n" for name, value in fields.items()).encode("utf-8")
        return self.builder.create_warc_record(
            uri, "metadata", payload=io.BytesIO(payload), length=len(payload),
            warc_content_type="application/warc-fields", warc_headers_dict=warc_headers,
        )

    @staticmethod
    def new_record_id() -> str:
        return RecordBuilder._make_warc_id()
