"""One HTTP exchange as the crawler saw it on the wire: what the archive is asked to store.

The crawler fills it from its request and response objects and hands it over; everything
after that (revisit decision, WARC records, digests, compression, crawl state) happens in
the archive writer, so the crawler's event loop pays only for copying the fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from urllib.parse import urlsplit

# Hop-by-hop framing that describes the wire transfer, not the stored (de-chunked) body.
_FRAMING_HEADERS = {"transfer-encoding", "content-length", "connection", "keep-alive"}


@dataclass
class Exchange:
    """A request and its response; header names and values are the raw bytes sent and received."""

    uri: str
    started: datetime  # when the request went out: the records' WARC-Date
    method: str
    request_headers: list[tuple[bytes, bytes]]
    request_body: bytes
    status: int
    response_headers: list[tuple[bytes, bytes]]
    body: bytes  # as received: still content-encoded, de-chunked
    metadata: dict[str, str] = field(default_factory=dict)  # the metadata record's fields
    ip_address: str | None = None
    protocol: str | None = None
    truncated: str = ""  # why the body is incomplete, as WARC-Truncated says: "disconnect", "length" (read that far)
    conditional: bool = False  # the request carried validators, so a 304 means "not modified"

    def status_line(self) -> str:
        try:
            return f"{self.status} {HTTPStatus(self.status).phrase}"
        except ValueError:
            return str(self.status)

    def request_line(self) -> str:
        parts = urlsplit(self.uri)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return f"{self.method} {target} HTTP/1.1"

    def stored_response_headers(self) -> list[tuple[str, str]]:
        """The response's headers made consistent with the stored body (Content-Length true)."""
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in self.response_headers
                   if name.decode("latin-1").lower() not in _FRAMING_HEADERS]
        if self.status != 304:  # a 304's Content-Length would describe the unsent representation
            headers.append(("Content-Length", str(len(self.body))))
        return headers

    def sent_request_headers(self) -> list[tuple[str, str]]:
        """The request's headers as sent, with the Host header Twisted adds on the wire."""
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in self.request_headers]
        if not any(name.lower() == "host" for name, _ in headers):
            headers.insert(0, ("Host", urlsplit(self.uri).netloc))
        return headers

    def header(self, name: str) -> str | None:
        """A response header's first value, decoded."""
        wanted = name.lower().encode("latin-1")
        for key, value in self.response_headers:
            if key.lower() == wanted:
                return value.decode("latin-1")
        return None
