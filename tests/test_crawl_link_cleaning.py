"""Links carrying a session ID or trackers whose values change from run to run name the same story:
a crawl must fetch and record it under one URL, so the next run knows it.

A real site on 127.0.0.1 crawled by ``newsarchive run`` subprocesses, read back from its WARCs and corpus.
"""

from __future__ import annotations

import secrets
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import pytest
from archive_fixtures import loopback_site
from test_incremental import newsarchive, warc_records, write_config

from corpus.export import read_corpus
from crawler import discovery
from demo.farm import article_html

HARBOUR = "/news/2026/12/harbour-wall-repairs.html"
BUDGET = "/news/2026/12/council-budget-vote.html"
ROOF = "/news/2026/12/school-roof-fixed.html"
LONG_READ = "/news/2026/12/long-read-on-the-harbour.html"
STORIES = {HARBOUR: 1, BUDGET: 2, ROOF: 3}


class SessionSite(BaseHTTPRequestHandler):
    """A site that puts its visitor's session ID (``session``, new each run) and trackers in every link,
    on its home page, in its feed and in its sitemap; its long read has two pages (``?page=``)."""

    session = ""
    requested: list[str]

    def do_GET(self) -> None:
        self.requested.append(self.path)
        path, query = urlsplit(self.path).path.split(";", 1)[0], parse_qs(urlsplit(self.path).query)
        session, site = type(self).session, f"http://{self.headers['Host']}"
        links = (f'<a href="{HARBOUR};jsessionid={session}?utm_source=home&amp;utm_medium=web">Harbour</a>'
                 f'<a href="{LONG_READ}?section=uk&amp;sid={session}&amp;page=1&amp;gclid={session}">Long read</a>'
                 f'<a href="{LONG_READ}?section=uk&amp;sid={session}&amp;page=2&amp;gclid={session}">Page 2</a>')
        pages = {
            "/robots.txt": b"User-agent: *\nAllow: /\n",
            "/": f"<html><body>{links}</body></html>".encode(),
            "/feed.xml": (f'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title><item><title>Budget</title>'
                          f"<link>{site}{BUDGET}?utm_source=rss&amp;PHPSESSID={session}&amp;fbclid={session}</link>"
                          f"</item></channel></rss>").encode(),
            "/sitemap.xml": (f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url>'
                             f"<loc>{site}{ROOF};jsessionid={session}?mc_cid=c1&amp;mc_eid={session}</loc>"
                             f"</url></urlset>").encode(),
        }
        if path in STORIES:
            body = article_html(STORIES[path])
        elif path == LONG_READ:
            body = article_html(4 if query.get("page") == ["1"] else 5)
        else:
            body = pages.get(path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "application/rss+xml" if path == "/feed.xml" else
                         "application/xml" if path == "/sitemap.xml" else "text/html; charset=utf-8")
        body = body if body is not None else b"not found"
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_links_with_a_session_id_and_trackers_give_each_article_once_over_runs(tmp_path):
    """Before, each run's new session ID made every story a new URL: fetched again, a new corpus row a run."""
    handler = type("Handler", (SessionSite,), {"requested": []})
    with loopback_site(handler) as site:
        source = {"name": "sessions", "start_urls": [f"{site}/"], "feeds": [f"{site}/feed.xml"],
                  "sitemaps": [f"{site}/sitemap.xml"]}
        config = write_config(None, tmp_path / "sources.toml", tmp_path, [source])
        corpora, warcs = [], []
        for _ in range(2):
            handler.session = secrets.token_hex(16)
            handler.requested.clear()
            result = newsarchive("run", "--config", str(config))
            assert result.returncode == 0, result.stderr
            corpora.append(read_corpus(tmp_path))
            warcs.append(sorted(set((tmp_path / "warc").glob("*.warc.gz")) - {w for run in warcs for w in run}))
        second_run_requests = list(handler.requested)

    cleaned = {site + path for path in (HARBOUR, BUDGET, ROOF)} | {
        f"{site}{LONG_READ}?section=uk&page=1", f"{site}{LONG_READ}?section=uk&page=2"}
    assert sorted(row["url"] for row in corpora[0]) == sorted(cleaned)
    assert len({row["text_sha256"] for row in corpora[0]}) == 5  # the long read's two pages are two texts
    assert corpora[1] == corpora[0]  # each article once, after two runs
    first_run = {uri for kind, uri, _ in warc_records(warcs[0]) if kind == "response"}
    assert cleaned <= first_run, first_run
    assert not [uri for uri in first_run if any(mark in uri.lower() for mark in ("sid", "session", "utm_", "clid", "mc_"))]
    # the second run skips the archived articles, as on a site without session IDs
    assert not [path for path in second_run_requests if path.startswith("/news/")], second_run_requests
    assert not [uri for kind, uri, _ in warc_records(warcs[1]) if uri in cleaned]


@pytest.mark.parametrize("link, cleaned", [
    ("http://a.example/story.html;jsessionid=0A1B2C?x=1", "http://a.example/story.html?x=1"),
    ("http://a.example/story.html;JSESSIONID=0A1B2C", "http://a.example/story.html"),
    ("http://a.example/s?b=2&utm_source=x&a=1&UTM_Medium=y&fbclid=z#top", "http://a.example/s?b=2&a=1#top"),
    ("http://a.example/s?PHPSESSID=abc&id=7&mc_cid=1&mc_eid=2", "http://a.example/s?id=7"),
    ("http://a.example/s?sid=9f86d081884c7d659a2feaa0c55ad015&p=2", "http://a.example/s?p=2"),
    ("http://a.example/s?sid=12345&p=2", "http://a.example/s?sid=12345&p=2"),  # a story's number, not a session
    ("http://a.example/s?cid=5&ref=home&source=rss&page=2", "http://a.example/s?cid=5&ref=home&source=rss&page=2"),
    ("http://a.example/A%20b/?q=x+y&q=z", "http://a.example/A%20b/?q=x+y&q=z"),
])
def test_a_link_loses_its_session_id_and_trackers_and_keeps_the_rest_as_it_was(link, cleaned):
    assert discovery.clean_link(link) == cleaned
