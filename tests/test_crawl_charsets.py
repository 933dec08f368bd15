"""An article's text is read in the charset its author declared when the server's HTTP header names only
HTTP/1.1's default, ISO-8859-1; the WARC keeps the bytes as they came.

A real site on 127.0.0.1 crawled and derived by ``newsarchive run``; the corpus and the WARC are read.
"""

from __future__ import annotations

import json
import urllib.parse
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from archive_fixtures import loopback_site, newsarchive
from warcio.archiveiterator import ArchiveIterator

CYRILLIC = "/2026/11/21/sovet-utverdil-plan-gavani.html"
ITALIAN = "/2026/11/21/la-citta-rinnova-il-porto.html"
SENTENCES = {
    CYRILLIC: "Городской совет утвердил план реконструкции гавани: работы начнутся весной и продлятся два года.",
    ITALIAN: "Il consiglio comunale ha approvato il piano per il porto della città: i lavori cominceranno già in primavera.",
}
# What each page's author declared in its markup, and the charset it is written in
PAGES = {CYRILLIC: ("windows-1251", "cp1251"), ITALIAN: ("utf-8", "latin-1")}  # the second <meta> is stale


def page(path: str) -> bytes:
    declared, written = PAGES[path]
    paragraphs = "".join(f"<p>{SENTENCES[path]} ({n})</p>" for n in range(6))
    return (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={declared}">'
            f"<title>{SENTENCES[path][:30]}</title></head><body><article><h1>{SENTENCES[path][:30]}</h1>"
            f"{paragraphs}</article></body></html>").encode(written)


class DefaultCharsetSite(BaseHTTPRequestHandler):
    """Every page is sent with ``charset=ISO-8859-1``, as a server configured with a default charset does."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/":
            body = "".join(f'<a href="{path}">{SENTENCES[path][:40]}</a>' for path in PAGES).encode("ascii", "xmlcharrefreplace")
        elif self.path in PAGES:
            body = page(self.path)
        else:
            body = b"User-agent: *\nAllow: /\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=ISO-8859-1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def run_site(base: str, archive: Path):
    """``newsarchive run`` of the site at ``base`` into ``archive``."""
    config = archive / "sources.toml"
    config.write_text(f'[archive]\ndir = "{archive}"\n\n[crawl]\ndownload_delay = 0\nautothrottle = false\n\n'
                      f'[[sources]]\nname = "site"\nstart_urls = ["{base}/"]\n', encoding="utf-8")
    return newsarchive("run", "--config", str(config))


def test_a_page_whose_header_says_only_iso_8859_1_is_read_in_the_charset_its_meta_declares(tmp_path):
    with loopback_site(DefaultCharsetSite) as base:
        result = run_site(base, tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {row["url"]: row for row in map(json.loads, (tmp_path / "corpus.jsonl").read_text().splitlines())}
    for path, sentence in SENTENCES.items():
        text = (tmp_path / rows[base + path]["text_path"]).read_text(encoding="utf-8")
        assert sentence in text, text[:200]  # a stale <meta> the bytes do not decode in yields to the header
    payloads = {}
    for warc in (tmp_path / "warc").glob("*.warc.gz"):
        with warc.open("rb") as stream:
            payloads |= {record.rec_headers.get_header("WARC-Target-URI"): record.content_stream().read()
                         for record in ArchiveIterator(stream) if record.rec_type == "response"}
    assert all(payloads[base + path] == page(path) for path in PAGES)


ACCENTED = "/2026/11/21/café-über-die-brücke.html"  # as the link writes it, in UTF-8 bytes


class AccentedLinkSite(BaseHTTPRequestHandler):
    """A start page in UTF-8 with a link with non-ASCII letters in its path; its charset is said by ``header``
    (the Content-Type's) and ``meta`` (in the page)."""

    protocol_version = "HTTP/1.1"
    header, meta = "utf-8", ""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        status = 200
        if self.path == "/":
            body = f'<html><head>{self.meta}</head><body><a href="{ACCENTED}">Le café sur le pont</a></body></html>'.encode()
        elif urllib.parse.unquote(self.path) == ACCENTED:
            body = "<html><body><article><h1>Café über die Brücke</h1>" \
                   f"{''.join(f'<p>{SENTENCES[ITALIAN]} ({n})</p>' for n in range(6))}</article></body></html>".encode()
        elif self.path == "/robots.txt":
            body = b"User-agent: *\nAllow: /\n"
        else:
            status, body = 404, b"not found"
        self.send_response(status)
        self.send_header("Content-Type", f"text/html; charset={self.header}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.mark.parametrize("header, meta", [("utf-8", ""), ("ISO-8859-1", '<meta charset="utf-8">')],
                         ids=["the header alone", "a default header and the page's meta"])
def test_a_link_with_accented_letters_is_read_in_the_pages_charset_and_followed(tmp_path, header, meta):
    """Before: with the charset in the header alone, the links were read as ISO-8859-1 (the parser's default
    without a <meta>): café became cafÃ©, the article was asked for at an address that does not exist (HTTP 404)
    and never archived.  A header's ISO-8859-1, sent unasked by many servers, yields to the page's <meta>."""
    site = type("Site", (AccentedLinkSite,), {"header": header, "meta": meta})
    with loopback_site(site) as base:
        result = run_site(base, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "404" not in result.stderr, result.stderr
    rows = [json.loads(line) for line in (tmp_path / "corpus.jsonl").read_text().splitlines()]
    assert [urllib.parse.unquote(row["url"]) for row in rows] == [base + ACCENTED], rows
