"""Re-crawls store what changed: a revisit record instead of a second copy of a payload.

Two cases, as Heritrix and Browsertrix write them and pywb replays them:

- the server answered our conditional request with 304: a revisit with the
  server-not-modified profile;
- the payload's digest was archived before (non-empty payload, any URL, any source of the
  archive): a revisit with the identical-payload-digest profile, the response's HTTP
  headers, ``WARC-Truncated: length`` and WARC-Refers-To / -Target-URI / -Date pointing at
  the first full record (pywb needs the last two to find it).

Every capture also updates the crawl state (validators, digest, where it was written).
The archive writer decides and remembers one exchange at a time, so a payload written a
moment ago is already known to the next decision.
"""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass

from archive.capture import SOURCE_FIELD
from archive.exchange import Exchange
from archive.state import ArchivedPayload, CrawlState, UrlState
from archive.writer import RecordLocation

PROFILE_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
PROFILE_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"


def payload_digest(body: bytes) -> str:
    """WARC-Payload-Digest of a stored body: SHA-1, base32, as warcio computes it."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


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
    """Decides response vs revisit from the crawl state, and records each capture in it."""

    def __init__(self, state: CrawlState):
        self.state = state

    def decide(self, exchange: Exchange) -> Decision:
        if exchange.status == 304 and exchange.conditional:
            known = self.state.url(exchange.uri)
            digest = known.payload_digest if known else None
            return Decision(digest, PROFILE_NOT_MODIFIED, self.state.payload(digest) if digest else None)
        digest = payload_digest(exchange.body)
        original = self.state.payload(digest) if exchange.body else None
        if original is None:
            return Decision(digest)
        return Decision(digest, PROFILE_IDENTICAL, original)

    def remember(self, exchange: Exchange, decision: Decision, location: RecordLocation, warc_date: str) -> None:
        now = time.time()
        etag, last_modified = exchange.header("ETag"), exchange.header("Last-Modified")
        if decision.profile == PROFILE_NOT_MODIFIED:
            known = self.state.url(exchange.uri)
            if known is not None:
                etag, last_modified = etag or known.etag, last_modified or known.last_modified
        elif decision.profile is None and exchange.body:
            self.state.add_payload(ArchivedPayload(decision.digest, exchange.uri, warc_date, location.record_id,
                                                   location.warc_file, location.offset))
        source = exchange.metadata.get(SOURCE_FIELD, "")
        self.state.record_fetch(UrlState(exchange.uri, source, now, now, exchange.status, etag, last_modified,
                                         decision.digest, location.warc_file, location.offset))
