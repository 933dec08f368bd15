"""Re-crawls store what changed: a revisit record instead of a second copy of a payload.

Two cases, as Heritrix and Browsertrix write them and pywb replays them:

- the server answered our conditional request with 304: a revisit with the
  server-not-modified profile;
- the payload's digest was archived before (non-empty payload, any URL): a revisit with the
  identical-payload-digest profile, the response's HTTP headers, ``WARC-Truncated: length``
  and WARC-Refers-To / -Target-URI / -Date pointing at the first full record (pywb needs
  the last two to find it).

Every capture also updates the crawl state (validators, digest, where it was written).
"""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass

from scrapy import Request
from scrapy.http import Response

from archive.state import ArchivedPayload, CrawlState, UrlState
from archive.writer import RecordLocation

PROFILE_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
PROFILE_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
CONDITIONAL = "newsarchive_conditional"  # request.meta: validators were sent with this request


def payload_digest(body: bytes) -> str:
    """WARC-Payload-Digest of a stored body: SHA-1, base32, as warcio computes it."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


@dataclass(frozen=True)
class Decision:
    """How to write one response: ``profile`` None means a full response record."""

    digest: str | None
    profile: str | None = None
    original: ArchivedPayload | None = None

    def warc_headers(self) -> dict[str, str]:
        """The WARC header fields a revisit record adds to the response's own."""
        headers = {"WARC-Profile": self.profile}
        if self.original is not None:
            headers.update({
                "WARC-Refers-To": self.original.record_id,
                "WARC-Refers-To-Target-URI": self.original.uri,
                "WARC-Refers-To-Date": self.original.warc_date,
            })
        if self.digest:
            headers["WARC-Payload-Digest"] = self.digest
        if self.profile == PROFILE_IDENTICAL:
            headers["WARC-Truncated"] = "length"
        return headers


class RevisitPolicy:
    """Decides response vs revisit from the crawl state, and records each capture in it.

    Records reach the state only once the WARC writer thread has placed them, so payloads
    still queued for writing are kept in ``in_flight``, shared by every source's crawler in
    the process: identical payloads fetched moments apart (robots.txt files of sister
    sites) still become revisits.
    """

    in_flight: dict[str, ArchivedPayload] = {}

    def __init__(self, state: CrawlState, source: str):
        self.state = state
        self.source = source

    def decide(self, uri: str, request: Request, response: Response) -> Decision:
        if response.status == 304 and request.meta.get(CONDITIONAL):
            known = self.state.url(uri)
            digest = known.payload_digest if known else None
            return Decision(digest, PROFILE_NOT_MODIFIED, self.state.payload(digest) if digest else None)
        digest = payload_digest(response.body)
        original = (self.state.payload(digest) or self.in_flight.get(digest)) if response.body else None
        if original is None:
            return Decision(digest)
        return Decision(digest, PROFILE_IDENTICAL, original)

    def expect(self, uri: str, response: Response, decision: Decision, record_id: str, warc_date: str) -> None:
        """Note a new payload whose response record is queued but not yet written."""
        if decision.profile is None and response.body:
            self.in_flight.setdefault(decision.digest, ArchivedPayload(decision.digest, uri, warc_date, record_id, "", -1))

    def remember(self, uri: str, response: Response, decision: Decision, location: RecordLocation,
                 warc_date: str) -> None:
        now = time.time()
        etag, last_modified = _header(response, "ETag"), _header(response, "Last-Modified")
        if decision.profile == PROFILE_NOT_MODIFIED:
            known = self.state.url(uri)
            if known is not None:
                etag, last_modified = etag or known.etag, last_modified or known.last_modified
        elif decision.profile is None and response.body:
            self.state.add_payload(ArchivedPayload(decision.digest, uri, warc_date, location.record_id,
                                                   location.warc_file, location.offset))
            pending = self.in_flight.get(decision.digest)
            if pending is not None and pending.record_id == location.record_id:
                del self.in_flight[decision.digest]
        self.state.record_fetch(UrlState(uri, self.source, now, now, response.status, etag, last_modified,
                                         decision.digest, location.warc_file, location.offset))
