"""Reading captures back out of WARC files: one record by offset, or every article of a file."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO
from urllib.parse import SplitResult, urlsplit

import mimesniff
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import BufferedReader, ChunkedDataReader
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders

import archive.warcio_brotli  # noqa: F401 - br bodies decode with the crawl venv's brotli
from archive.capture import HTML_TYPES, ROLE_FIELD, SOURCE_FIELD, URL_FIELD, is_article_capture
from archive.digests import digest_key
from archive.recover import not_whole_after, readable_extent
from archive.index import is_not_modified
from archive.warc_date import canonical_warc_date, capture_date, is_warc_date
from archive.writer import OPEN_SUFFIX

# A decoded body larger than this is a compression bomb or not a news page.
MAX_DECODED_BODY = 50 * 2**20
# The body a browser sniffs a type from (the MIME Sniffing Standard's resource header), and the stored bytes
# read to decode that much of a compressed or chunked body.
_RESOURCE_HEADER_BYTES = 1445
_SNIFFED_RAW_BYTES = 1 << 16
# Types that name none: a browser sniffs the body's (the MIME Sniffing Standard, 7.1).
_UNKNOWN_TYPES = ("", "unknown/unknown", "application/unknown", "*/*")


class RecordError(Exception):
    """A record that is not where it was said to be, or not a response."""


def error_line(exc: Exception, limit: int = 160) -> str:
    """An exception as one short printable line: warcio quotes the raw (often gzipped) bytes it choked on."""
    text = " ".join((str(exc) or type(exc).__name__).split())
    text = text.encode("ascii", "backslashreplace").decode("ascii")
    return text if len(text) <= limit else text[:limit] + " ..."


def warc_records(stream: BinaryIO, name: str, **options: bool) -> ArchiveIterator:
    """warcio's iterator over the records of ``stream`` (the file ``name``).  Where a record is not followed by the
    blank lines that end one (a writer's Content-Length a few bytes off), warcio reads on from the next record and
    writes three lines to stderr, the stray bytes among them, and no file name: here one line, naming the file."""
    records = ArchiveIterator(stream, **options)
    records.INC_RECORD = (f"{name}: offset {{0}}: a record goes on past its Content-Length (the blank lines that "
                          "end a record are not there); read on from the next record\n")
    return records


class _ReadUpTo:
    """A file that ends at ``end`` for warcio, which would read what lies after it (bit rot, a torn record) as a
    short file, printing zlib's complaint to stderr."""

    def __init__(self, stream: BinaryIO, end: int):
        self._stream, self._end = stream, end

    def read(self, size: int = -1) -> bytes:
        left = self._end - self._stream.tell()
        return self._stream.read(min(size, left) if size >= 0 else left) if left > 0 else b""

    def tell(self) -> int:
        return self._stream.tell()


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
    broken: str | None = None  # where its coding breaks (corrupt, cut short) and why: the body is what decoded


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


def _codings(http: StatusAndHeaders, name: str) -> list[str]:
    return [coding.strip().lower() for value in http.headers if value[0].lower() == name
            for coding in value[1].split(",") if coding.strip()]


def _decoded_stream(http: StatusAndHeaders | None, stored: BinaryIO, breaks: list[str] | None = None) -> BinaryIO:
    """An HTTP body as stored with the codings applied to it undone, the last first: its transfer codings (HTTP/1.1
    allows gzip and deflate besides chunked, RFC 9112 7), then its content codings.

    warcio's ``content_stream`` undoes one content coding and a Transfer-Encoding of ``chunked`` alone; this
    stacks its decoders for every coding.  A coding warcio cannot undo is left, as it leaves one.  Given ``breaks``,
    a body broken partway ends there, why added to it (without, warcio writes why to stderr).
    """
    if http is None:
        return stored
    stream = stored
    for coding in reversed(_codings(http, "content-encoding") + _codings(http, "transfer-encoding")):
        if coding == "chunked":  # a body stored de-chunked under its header is read as it is
            stream = ChunkedDataReader(stream)
        elif coding in BufferedReader.get_supported_decompressors():
            stream = (BufferedReader(stream, decomp_type=coding) if breaks is None
                      else _Decoder(stream, coding, breaks))
    return stream


class _Decoder(BufferedReader):
    """warcio's decoder, which for a body broken partway writes zlib's message to stderr for every block left (no
    caller can say whose body it was) and reads on: this one stops at the break, and one whose compressed stream
    ends early stops there too, each adding why to ``breaks``."""

    def __init__(self, stream: BinaryIO, coding: str, breaks: list[str]):
        super().__init__(stream, decomp_type=coding)
        self.breaks = breaks

    def _decompress(self, data: bytes) -> bytes:
        if not (self.decompressor and data and self.num_block_read):  # warcio's first try: not compressed at all?
            return super()._decompress(data)
        try:
            return self.decompressor.decompress(data)
        except Exception as exc:  # noqa: BLE001 - zlib and brotli fail in their own types
            self.breaks.append(f"{self.decomp_type}: {error_line(exc)}")
            self.stream = io.BytesIO()  # read no further
            return b""

    def _process_read(self, data: bytes) -> None:
        if not data and not self.breaks and getattr(self.decompressor, "eof", True) is False:
            self.breaks.append(f"{self.decomp_type}: its compressed stream ends early")
        super()._process_read(data)


def decoded_head(http: StatusAndHeaders, body: bytes, size: int) -> tuple[bytes, str | None]:
    """The first ``size`` bytes of a body as stored, its codings undone, decoding not much more than that; and, if
    the body breaks (corrupt or cut short) before, why.

    A body that is not what its codings say from its start may raise anything warcio's decoders raise.
    """
    return _decoded(http, io.BytesIO(body), size)


def _decoded(http: StatusAndHeaders | None, stored: BinaryIO, size: int) -> tuple[bytes, str | None]:
    """Up to ``size`` bytes of a stored body with its codings undone, and why it breaks before, if it does."""
    breaks: list[str] = []
    data = _decoded_stream(http, stored, breaks).read(size)
    return data, next(iter(breaks), None)


def _decoded_body(record: ArcWarcRecord) -> tuple[bytes, bool, str | None]:
    """The body (at most ``MAX_DECODED_BODY``), whether it was larger, and where and why it breaks, if it does."""
    body, why = _decoded(record.http_headers, record.raw_stream, MAX_DECODED_BODY + 1)
    broken = f"breaks after {len(body)} bytes decoded ({why})" if why else None
    return body[:MAX_DECODED_BODY], len(body) > MAX_DECODED_BODY, broken


def _archived_response(record: ArcWarcRecord, warc_file: str, offset: int) -> ArchivedResponse:
    headers = record.rec_headers
    cut = headers.get_header("WARC-Truncated")
    try:
        body, too_big, broken = _decoded_body(record)
    except Exception as exc:  # warcio surfaces zlib/brotli errors of a broken body as many types
        raise RecordError(f"{warc_file}@{offset}: cannot decode body: {error_line(exc)}") from exc
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
        broken=broken,
    )


def read_response(warc_path: Path, offset: int) -> ArchivedResponse:
    """The response record at ``offset`` of ``warc_path``."""
    warc_path = Path(warc_path)
    name = warc_path.name.removesuffix(OPEN_SUFFIX)
    with open_warc(warc_path) as stream:
        stream.seek(offset)
        record = next(iter(ArchiveIterator(stream, arc2warc=True)), None)
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
    """Where an article response sits, and the source its metadata record (or its host) names.

    ``payload`` is set for a revisit record: the file and offset of the response that holds
    the payload it refers to; ``warc_path`` and ``offset`` are the revisit's own.  ``revisit`` marks
    an identical-payload revisit of ours of a payload its own URL archived: not extracted again,
    its text is its payload's at its URL.
    """

    source: str
    url: str
    warc_path: Path
    offset: int
    record_id: str = ""
    date: str = ""
    payload_digest: str = ""
    content_type: str = ""
    payload: tuple[Path, int] | None = None
    revisit: bool = False
    refers_to: str = ""  # a revisit's WARC-Refers-To-Target-URI: where its payload was archived
    not_modified: bool = False  # a 304: ours name the URL's last payload; another tool's, the capture it confirms
    refers_to_date: str = ""  # another tool's 304's WARC-Refers-To-Date (canonical form): the capture it confirms
    foreign: bool = False  # archived by another tool: its source is the one our captures of its host are under


@dataclass
class ScanStats:
    """What a scan saw: records, HTML pages (HTTP 200 responses and revisits of one) and the rest, by why."""

    records: int = 0
    html: int = 0
    skipped: Counter = field(default_factory=Counter)
    bad_digests: int = 0  # records whose WARC-Block-Digest or WARC-Payload-Digest is not that of their bytes

    def add(self, other: ScanStats) -> None:
        self.records += other.records
        self.html += other.html
        self.skipped.update(other.skipped)
        self.bad_digests += other.bad_digests


def bad_digests(path: Path) -> int:
    """The records of a whole WARC whose digests do not match (those before any damage)."""
    stats = ScanStats()
    with open(path, "rb") as stream:
        try:
            for _ in digests_counted(warc_records(stream, path.name, check_digests=True), stats):
                pass
        except Exception:  # noqa: BLE001 - warcio surfaces damage as many types: the check says it apart
            pass
    return stats.bad_digests


def digests_line(count: int) -> str:
    """What a file's line says of its records whose digests do not match."""
    return f"{count} record whose digest does not match its content" if count == 1 else \
        f"{count} records whose digest does not match their content"


def digests_counted(records: ArchiveIterator, stats: ScanStats) -> Iterator[ArcWarcRecord]:
    """The records of an iterator made with ``check_digests=True``, counting in ``stats`` those whose digests do
    not match: kept all the same (tools compute them differently).  warcio checks a record once its block is read
    to the end, which it does as it moves to the next."""
    previous = None
    for record in records:
        if previous is not None and previous.digest_checker.passed is False:
            stats.bad_digests += 1
        previous = record
        yield record
    if previous is not None and previous.digest_checker.passed is False:
        stats.bad_digests += 1


@dataclass(frozen=True)
class Scan:
    """The article captures found in a stretch of a WARC, and where the next scan starts.

    Responses with no metadata record of ours (another tool's archive) are candidates when
    they are HTML with status 200; extraction decides whether each is an article.  Their
    identical-payload revisits are in ``revisits`` (``payload`` unset: the response may be
    in another file), with ours of a payload first archived at another URL (the same story at a
    second address: its text is made from that payload at its own URL); ``payloads`` says where
    this stretch holds each candidate's payload (ours are found in the corpus store).
    """

    captures: list[ArticleCapture]
    end: int  # every capture that starts before this offset was whole and has been seen
    error: str | None = None  # why a closed file could not be read to its end
    stats: ScanStats = field(default_factory=ScanStats)
    revisits: list[ArticleCapture] = field(default_factory=list)
    payloads: dict[str, tuple[Path, int]] = field(default_factory=dict)  # payload key (digest_key) -> where


def _member_is_whole(stream: BinaryIO, offset: int, length: int) -> bool:
    """Whether the gzip member at ``offset`` ends within ``length`` bytes (warcio reads a torn one silently)."""
    stream.seek(offset)
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        inflater.decompress(stream.read(length))
    except zlib.error:
        return False
    return inflater.eof


def positional_record_id(warc_file: str, offset: int, arc: bool = False) -> str:
    """The key of a record that has no WARC-Record-ID of its own (an ARC record: warcio makes a random one; a WARC
    record without one, or whose ID another record has too): where it is, the same at every read."""
    return f"<urn:{'arc' if arc else 'warc'}:{warc_file}:{offset}>"


def foreign_source(url: str, port: bool = True) -> str:
    """The source of a capture another tool archived of a host none of ours is of: its host, without ``www.``, with
    a port the URL names other than its scheme's (two sites on one address are two sources), as a safe path part
    (``127.0.0.1_8001``).  ``port`` False: the host alone, as stores made before the port was kept named it."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    number = _port(parts) if port else None
    if number is not None and number != _DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{number}"
    return re.sub(r"[^a-z0-9.-]", "_", host) or "unknown"


def site_host(url: str) -> str:
    """The host our captures and another tool's of one site share: without ``www.``, with the port if the URL names
    one (two sites on one address and two ports are two sites)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    port = _port(parts)
    return host if port is None else f"{host}:{port}"


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _port(parts: SplitResult) -> int | None:
    """The port a URL names, if it names one that is a number."""
    try:
        return parts.port
    except ValueError:  # a port that is no number: none
        return None


def not_a_warc(path: Path) -> str | None:
    """Why ``path``, found among an archive's WARCs, is none (a directory, a broken link, other bytes); None if it
    starts as one."""
    if path.is_dir():
        return "a directory"
    try:
        with open(path, "rb") as stream:
            head = file_head(stream)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return None if head.startswith(b"WARC/") else "not a WARC file"


def not_an_archive_start(name: str, head: bytes) -> str | None:
    """Why a file that starts with ``head`` (:func:`file_head`) is no WARC or ARC file, which warcio would read all
    the same (any line of five words as an ARC record: a CDX index); None if it starts as one."""
    if head.startswith((b"WARC/", b"filedesc://")):
        return None
    return f"{name}: not a WARC or ARC file ({f'it begins {head[:24]!r}' if head else 'it is empty'})"


def file_head(stream: BinaryIO) -> bytes:
    """The first bytes of a file, gunzipped if it is gzip (what kind of archive it is); the stream is rewound."""
    head = stream.read(512)
    stream.seek(0)
    if head[:2] == b"\x1f\x8b":
        try:
            return zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(head)
        except zlib.error:
            return b""
    return head


def _payload_digest(record: ArcWarcRecord) -> str:
    """The record's payload digest; computed as a WARC writer would where the record has none (ARC, WARC/0.17)."""
    stated = record.rec_headers.get_header("WARC-Payload-Digest")
    if stated:
        return stated
    digest = hashlib.sha1()
    for block in iter(lambda: record.raw_stream.read(1 << 16), b""):
        digest.update(block)
    return "sha1:" + base64.b32encode(digest.digest()).decode("ascii")


def _sniffed_type(record: ArcWarcRecord) -> str:
    """The media type a browser takes a response that names none for, from the start of its body (the MIME Sniffing
    Standard, as old servers sent pages without Content-Type); the bytes read are put back for the record's readers."""
    head = record.raw_stream.read(_SNIFFED_RAW_BYTES)
    record.raw_stream = BufferedReader(record.raw_stream, starting_data=head)
    try:
        start, _ = decoded_head(record.http_headers, head, _RESOURCE_HEADER_BYTES)  # (a head: cut short)
    except Exception:  # noqa: BLE001 - warcio's decoders fail in many types on a body that is not what it says
        return ""
    return mimesniff.what(start).split(";", 1)[0]


NOT_MODIFIED = "HTTP 304"  # why a 304 is skipped: another tool's, or ours of a page that is no article


def _refers_to_date(headers: StatusAndHeaders) -> str:
    """A revisit's WARC-Refers-To-Date in the corpus's form, or "" (none, or no date)."""
    value = headers.get_header("WARC-Refers-To-Date")
    return canonical_warc_date(value) if is_warc_date(value) else ""


def _page_or_why_not(record: ArcWarcRecord) -> str | None:
    """None for an HTML page with status 200 (or an identical-payload revisit of one), or a 304 (ours name the
    payload they confirm, and their metadata record whether it is an article's; another tool's confirms the capture
    it names or its URL's latest before it, which the corpus may hold); else why it is skipped."""
    if is_not_modified(record):
        return None
    http = record.http_headers
    if http is None:
        scheme = (record.rec_headers.get_header("WARC-Target-URI") or "").partition(":")[0]
        return f"{scheme}: record without HTTP headers" if scheme else "record without HTTP headers"
    status = http.get_statuscode() or "no status"
    if status != "200":
        return f"HTTP {status}"
    media_type = (http.get_header("Content-Type") or "").split(";", 1)[0].strip().lower()
    if media_type in _UNKNOWN_TYPES and record.rec_type == "response":
        media_type = _sniffed_type(record)
    if media_type not in HTML_TYPES:
        return "not HTML"
    if record.rec_type == "revisit" and not (record.rec_headers.get_header("WARC-Profile") or "").endswith(
            "/revisit/identical-payload-digest"):
        return "revisit of another profile"
    return None


ONE_GZIP_STREAM = "one gzip stream, not a gzip member per record"


def _unreadable(name: str, end: int, records: int, exc: Exception) -> str:
    """One line: why a file could not be read, with the fix where there is one."""
    text = error_line(exc)
    if "non-chunked gzip" in text:
        return (f"{name}: {ONE_GZIP_STREAM}, so its records cannot be read by offset; "
                f"`warcio recompress {name} FIXED.warc.gz` makes a readable copy")
    if records == 0:
        return f"{name}: not a WARC or ARC file ({text})"
    return f"{name}: unreadable after offset {end}: {text}"


def scan_article_captures(warc_path: Path, start: int = 0, closed: bool = True, stop: int | None = None) -> Scan:
    """The article responses of a WARC or ARC file from ``start`` on (of a closed file: the records that start
    before ``stop``, if given; ``stop`` must be the offset of a capture's first record, as ``capture_offsets`` gives).

    Ours are decided from their metadata records: a capture's records are written together,
    its metadata record last, so a capture is whole once its metadata record is.  In a file
    still being written (``closed`` False) the scan ends before the first record that is not
    whole yet and before any response still waiting for its metadata, and the next scan
    resumes there.  A closed file is read to its end; there, an HTML page that no metadata
    record of ours names is another tool's capture, a candidate for extraction to decide on.
    """
    warc_path = Path(warc_path)
    name = warc_path.name.removesuffix(OPEN_SUFFIX)
    found: list[ArticleCapture] = []
    stats = ScanStats()
    waiting: dict[str, tuple[ArticleCapture, bool]] = {}  # HTML page id -> capture, is a revisit; until metadata
    elsewhere: list[ArticleCapture] = []  # ours: revisits of a payload first archived at another URL

    def scanned(end: int, error: str | None = None, offsets_hold: bool = True) -> Scan:
        """What the scan found; of a closed file whose offsets can be read (not one gzip stream), also what no
        metadata record of ours claimed: another tool's captures, those before any damage too."""
        pending = list(waiting.values()) if closed and offsets_hold else []  # (another tool's 304s: revisits)
        foreign = [capture for capture, revisit in pending if not revisit]
        payloads = {digest_key(capture.payload_digest): (warc_path, capture.offset) for capture in reversed(foreign)}
        return Scan([*found, *foreign], end, error, stats,
                    [*elsewhere, *(capture for capture, revisit in pending if revisit)], payloads)
    end = start
    with open_warc(warc_path) as stream:
        head = file_head(stream)
        if foreign_bytes := not_an_archive_start(name, head):
            if not closed:  # nothing written yet
                return Scan([], start)
            return Scan([], stream.seek(0, 2), foreign_bytes)
        arc = head.startswith(b"filedesc://")
        size = stream.seek(0, 2)
        stream.seek(0)
        # Of a closed file gzipped per record, warcio reads only the whole records (zlib checks each).
        readable = None
        if closed and not arc and stream.read(2) == b"\x1f\x8b":
            readable, _ = readable_extent(stream.fileno(), start, stop)
        stream.seek(start)
        iterator = warc_records(_ReadUpTo(stream, readable) if readable and readable > start else stream, name,
                                arc2warc=True, check_digests=True)
        last: tuple[int, BinaryIO] | None = None  # the last record read: where it starts, its block
        try:
            for record in digests_counted(iterator, stats):
                # The record's start, read before the record is (``get_record_offset`` would consume it).
                if stop is not None and iterator.offset >= stop:
                    break
                last = (iterator.offset, record.raw_stream)  # its block, however its readers wrap it later
                stats.records += 1
                headers = record.rec_headers
                if record.rec_type in ("response", "revisit"):
                    why_not = _page_or_why_not(record)
                    if why_not:
                        stats.skipped[why_not] += 1
                        continue
                    date = capture_date(headers.get_header("WARC-Date"), warc_path)
                    if date is None:
                        stats.skipped["no valid WARC-Date here or in the file's first record"] += 1
                        continue
                    not_modified = is_not_modified(record)
                    stats.html += not not_modified  # (a 304 is counted once its role is known)
                    digest = _payload_digest(record)  # first: the record's offset is known once it is read
                    offset = iterator.get_record_offset()
                    # warcio gives an ARC record a random id, and a WARC record may have none: a capture's key
                    # must not change between reads.
                    record_id = (None if arc else headers.get_header("WARC-Record-ID")) \
                        or positional_record_id(name, offset, arc)
                    url = (headers.get_header("WARC-Target-URI") or "").split("#", 1)[0]  # a fragment: the same page
                    # Another record with this ID waits apart; the derivation gives the later one another key.
                    key = record_id if record_id not in waiting else positional_record_id(name, offset)
                    waiting[key] = (ArticleCapture(
                        foreign_source(url), url, warc_path, offset, record_id, date,
                        digest, record.http_headers.get_header("Content-Type") or "",
                        refers_to=headers.get_header("WARC-Refers-To-Target-URI") or "", foreign=True,
                        not_modified=not_modified, refers_to_date=_refers_to_date(headers)),
                        record.rec_type == "revisit" or not_modified)
                    continue
                fields = _fields(record) if record.rec_type == "metadata" else {}
                offset, length = iterator.get_record_offset(), iterator.get_record_length()
                if not closed:
                    here = stream.tell()
                    whole = _member_is_whole(stream, offset, length)
                    stream.seek(here)
                    if not whole:
                        break
                stats.skipped[record.rec_type] += 1
                capture, revisit = waiting.pop(headers.get_header("WARC-Concurrent-To") or "", (None, False)) \
                    if ROLE_FIELD in fields else (None, False)
                if capture is not None:
                    role = fields.get(ROLE_FIELD)
                    ours = {"source": fields.get(SOURCE_FIELD, ""), "url": fields.get(URL_FIELD) or capture.url,
                            "foreign": False}
                    # a 304 has no type of its own: the article's payload it confirms is HTML
                    article = is_article_capture(role, 200, "text/html" if capture.not_modified
                                                 else capture.content_type)
                    if capture.not_modified:
                        stats.html += article
                    # a revisit of a payload first archived at another URL (its text is made there, at this URL)
                    if article and revisit and capture.refers_to not in ("", capture.url):
                        elsewhere.append(replace(capture, **ours))
                    elif article:
                        # a revisit still dates its payload at its URL: a correction reverted byte
                        # for byte makes the first text current again
                        found.append(replace(capture, revisit=revisit, **ours))
                    else:  # (a start page, feed or sitemap not modified: skipped as a 304, as before)
                        stats.skipped[NOT_MODIFIED if capture.not_modified else f"role {role}"] += 1
                if not waiting:
                    end = offset + length
        except Exception as exc:  # warcio surfaces a torn or foreign tail as many types
            if not closed:  # the rest is still being written
                return scanned(end)
            end_of_stretch = size if stop is None else stop
            # where the readable part ends: the start of the record that failed (another tool's records before it
            # are whole, though ``end`` counts only ours)
            why = _unreadable(name, max(end, iterator.offset), stats.records, exc)
            return scanned(end_of_stretch, why, offsets_hold=ONE_GZIP_STREAM not in why)
        if not closed:
            return scanned(end)
        end = size if stop is None else stop
        if readable is not None and readable < end:
            return scanned(end, f"{name}: {not_whole_after(readable, end)} (damaged or cut short)")
        # A file not gzipped, cut in its last record: warcio reads what is there as the record's block.
        if last is not None and (missing := getattr(last[1], "limit", 0)) > 0:
            for key in [key for key, (capture, _) in waiting.items() if capture.offset == last[0]]:
                del waiting[key]
            return scanned(end, f"{name}: unreadable after offset {last[0]}: its last record is cut short ({missing} "
                                "bytes of it are missing)")
    return scanned(end)
