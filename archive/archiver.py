"""Exchanges in, WARC records out: the archive side of a crawl of one source.

For each exchange: decide response or revisit (``RevisitPolicy``), build the response (or
revisit), request and metadata records, write them together, then remember the capture in
the crawl state.  Runs in the archive writer process (``archive.writer_process``).
"""

from __future__ import annotations

from dataclasses import dataclass

from archive.exchange import Exchange
from archive.revisits import RevisitPolicy
from archive.writer import RecordLocation, RollingWarcWriter, warc_date


@dataclass(frozen=True)
class Archived:
    """What became of an exchange: ``profile`` is the revisit profile, None for a full response."""

    profile: str | None
    locations: list[RecordLocation]  # response (or revisit), request, metadata


class ExchangeArchiver:
    """Writes one source's exchanges to its rolling WARC files."""

    def __init__(self, writer: RollingWarcWriter, revisits: RevisitPolicy | None = None):
        self.writer = writer
        self.revisits = revisits

    def archive(self, exchange: Exchange) -> Archived:
        writer = self.writer
        date = warc_date(exchange.started)
        response_id = writer.new_record_id()
        response_warc = {"WARC-Record-ID": response_id, "WARC-Date": date}
        if exchange.ip_address is not None:
            response_warc["WARC-IP-Address"] = exchange.ip_address
        if exchange.protocol:
            response_warc["WARC-Protocol"] = exchange.protocol.lower()
        if exchange.truncated:
            response_warc["WARC-Truncated"] = exchange.truncated
        linked = {"WARC-Date": date, "WARC-Concurrent-To": response_id}
        decision = self.revisits.decide(exchange) if self.revisits else None
        if decision is not None and decision.digest and not decision.profile:
            response_warc["WARC-Payload-Digest"] = decision.digest  # computed already; warcio skips it
        headers = exchange.stored_response_headers()
        if decision is not None and decision.profile:
            first = writer.revisit_record(exchange.uri, exchange.status_line(), headers,
                                          {**response_warc, **decision.warc_headers()})
        else:
            first = writer.response_record(exchange.uri, exchange.status_line(), headers, exchange.body,
                                           response_warc)
        locations = writer.write_capture([
            first,
            writer.request_record(exchange.uri, exchange.request_line(), exchange.sent_request_headers(),
                                  exchange.request_body, dict(linked)),
            writer.metadata_record(exchange.uri, exchange.metadata, dict(linked)),
        ])
        if decision is not None:
            self.revisits.remember(exchange, decision, locations[0], date)
        return Archived(decision.profile if decision else None, locations)

    def close(self) -> list[str]:
        """Finish the current WARC; the names of every file written."""
        self.writer.close()
        return list(self.writer.files)
