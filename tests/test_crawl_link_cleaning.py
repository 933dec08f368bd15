"""Links carrying a session ID or trackers whose values change from run to run name the same story:
a crawl must fetch and record it under one URL, so the next run knows it.

A real site on 127.0.0.1 crawled by ``newsarchive run`` subprocesses, read back from its WARCs and corpus.
"""

from __future__ import annotations

import hashlib
import secrets
import subprocess
import sys
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from archive_fixtures import loopback_site
from test_incremental import ROOT, warc_records, write_config

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
        session, site = self.session, f"http://{self.headers['Host']}"
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

    def _answer(self, status: int, content_type: str, body: bytes, **headers: str) -> None:
        self.requested.append(self.path)
        self.send_response(status)
        for name, value in {"Content-Type": content_type, "Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class Runs:
    """What two runs of a session site gave, each run with a new session ID."""

    site: str
    corpora: list[list[dict]]  # every archive's corpus rows after each run
    requested: list[list[str]]  # the paths each run asked the site for
    warcs: list[list[Path]]  # the WARCs each run wrote


def crawl_twice(site_class: type[SessionSite], archives: list[Path], redis_url: str | None = None) -> Runs:
    """Two runs over the session site by one ``newsarchive run`` per archive at once, sharing the crawl through
    ``redis_url`` if given (a cluster worker per archive)."""
    handler = type("Handler", (site_class,), {"requested": []})
    runs = Runs("", [], [], [])
    with loopback_site(handler) as runs.site:
        source = {"name": "sessions", "start_urls": [f"{runs.site}/"], "feeds": [f"{runs.site}/feed.xml"],
                  "sitemaps": [f"{runs.site}/sitemap.xml"]}
        for archive in archives:
            archive.mkdir(parents=True, exist_ok=True)
        configs = [write_config(None, archive / "sources.toml", archive, [source]) for archive in archives]
        for config in configs if redis_url else ():
            config.write_text(config.read_text() + f'\n[cluster]\nredis = "{redis_url}"\n')
        for _ in range(2):
            handler.session = secrets.token_hex(12)
            handler.requested.clear()
            workers = [subprocess.Popen([sys.executable, "-m", "cli", "run", "--config", str(config)], cwd=ROOT,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for config in configs]
            for worker in workers:
                _, err = worker.communicate(timeout=120)
                assert worker.returncode == 0, err
            runs.corpora.append([row for archive in archives for row in read_corpus(archive)])
            runs.requested.append(list(handler.requested))
            earlier = {warc for run in runs.warcs for warc in run}
            runs.warcs.append(sorted({warc for archive in archives for warc in (archive / "warc").glob("*.warc.gz")}
                                     - earlier))
    return runs


def test_links_with_a_session_id_and_trackers_give_each_article_once_over_runs(tmp_path):
    """Before, each run's new session ID made every story a new URL: fetched again, a new corpus row a run."""
    runs = crawl_twice(SessionSite, [tmp_path])
    site, corpora = runs.site, runs.corpora
    cleaned = {site + path for path in (HARBOUR, BUDGET, ROOF)} | {
        f"{site}{LONG_READ}?section=uk&page=1", f"{site}{LONG_READ}?section=uk&page=2"}
    assert sorted(row["url"] for row in corpora[0]) == sorted(cleaned)
    assert len({row["text_sha256"] for row in corpora[0]}) == 5  # the long read's two pages are two texts
    assert corpora[1] == corpora[0]  # each article once, after two runs
    first_run = {uri for kind, uri, _ in warc_records(runs.warcs[0]) if kind == "response"}
    assert cleaned <= first_run, first_run
    assert not [uri for uri in first_run if any(mark in uri.lower() for mark in ("sid", "session", "utm_", "clid", "mc_"))]
    # the second run skips the archived articles, as on a site without session IDs
    assert not [path for path in runs.requested[1] if path.startswith("/news/")], runs.requested[1]
    assert not [uri for kind, uri, _ in warc_records(runs.warcs[1]) if uri in cleaned]


class RedirectingSessionSite(SessionSite):
    """The session site whose robots.txt lists its sitemap with trackers, and whose home page reaches one story
    through a redirect to it with the session ID, another with ASP.NET's cookieless session in its path."""

    def do_GET(self) -> None:
        session, site = type(self).session, f"http://{self.headers['Host']}"
        if self.path == "/robots.txt":
            self._answer(200, "text/plain", f"User-agent: *\nSitemap: {site}/sitemap.xml?utm_source=robots\n".encode())
        elif self.path == "/":
            self._answer(200, "text/html", f'<a href="/go/harbour-wall-story">Harbour</a>'
                                           f'<a href="/(S({session}))/{BUDGET.lstrip("/")}">Budget</a>'.encode())
        elif self.path == "/go/harbour-wall-story":
            self._answer(302, "text/html", b"", Location=f"{HARBOUR}?sessionid={session}")
        else:  # an ASP.NET site serves a page with or without the session in its path
            self.path = "/".join(part for part in self.path.split("/") if not part.startswith("(S("))
            super().do_GET()


def test_redirects_robots_sitemaps_and_cookieless_paths_give_each_article_once_over_runs(tmp_path):
    """Before, a 302 to the story with ?sessionid=, the sitemap listed in robots.txt with a tracker and ASP.NET's
    /(S(<session>))/ path were requested as given: the sitemap fetched twice a run, stories archived under URLs
    that change each run (a new corpus row, fetched again next run)."""
    assert_each_story_once(crawl_twice(RedirectingSessionSite, [tmp_path]))


def assert_each_story_once(runs: Runs) -> None:
    """The redirecting session site's three stories archived once each over both runs, one corpus row each, and
    its sitemap fetched once with its seeds (once a crawl: a worker that starts after the others have finished
    begins a crawl of its own)."""
    stories = sorted(runs.site + path for path in (HARBOUR, BUDGET, ROOF))
    assert sorted(row["url"] for row in runs.corpora[0]) == stories
    assert runs.corpora[1] == runs.corpora[0]
    fetched = [uri for run in runs.warcs for kind, uri, _ in warc_records(run) if kind == "response"]
    assert sorted(uri for uri in fetched if "/news/" in uri) == stories
    for paths in runs.requested:
        assert [path for path in paths if path.startswith("/sitemap.xml")] == ["/sitemap.xml"] * paths.count("/"), paths
    assert not [path for path in runs.requested[1] if "/news/" in path], runs.requested[1]


class InsistingSessionSite(SessionSite):
    """The session site as an old CMS without cookies runs it: an address without its session (in the ``form`` it
    takes) is redirected to the same address with a new one, each visit's own, which every link of the page then
    carries."""

    form = ";jsessionid="

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        self.session = (parts.path.partition(";jsessionid=")[2] if self.form.startswith(";") else
                        parse_qs(parts.query).get(self.form.strip("?="), [""])[0])
        if self.session or self.path == "/robots.txt":
            super().do_GET()
            return
        self.requested.append(self.path)
        token, query = secrets.token_hex(16), f"?{parts.query}" if parts.query else ""
        self.send_response(302)
        self.send_header("Location", f"{parts.path}{self.form}{token}{query}" if self.form.startswith(";") else
                         f"{parts.path}{query or '?'}{'&' if query else ''}{self.form.strip('?')}{token}")
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.mark.parametrize("form", [";jsessionid=", "?PHPSESSID=", "?sid="])
def test_a_site_that_insists_on_a_session_in_its_addresses_gives_each_article_once_under_its_clean_url(tmp_path, form):
    """The site is fetched as it insists (its session in the address the WARC records), the article known by its
    address without it.  Before, each article was in the corpus under its visit's session address (one refetched
    came back under another: a new article, not a version)."""
    runs = crawl_twice(type("Site", (InsistingSessionSite,), {"form": form}), [tmp_path])
    site, corpora = runs.site, runs.corpora
    cleaned = {site + path for path in (HARBOUR, BUDGET, ROOF)} | {
        f"{site}{LONG_READ}?section=uk&page=1", f"{site}{LONG_READ}?section=uk&page=2"}
    assert sorted(row["url"] for row in corpora[0]) == sorted(cleaned)
    assert corpora[1] == corpora[0]  # each article once, after two runs
    articles = [uri for kind, uri, _ in warc_records(runs.warcs[0]) if kind == "response" and "/news/" in uri]
    assert {discovery.clean_link(uri) for uri in articles} == cleaned
    assert all(form.strip("?;") in uri for uri in articles if uri not in cleaned)  # fetched as the site insists
    assert not [path for path in runs.requested[1] if path.startswith("/news/")], runs.requested[1]


class UnnamedSessionSite(SessionSite):
    """The session site under a CMS that names its session ``visit`` (on no list): every link of its home page
    carries it, beside the article ids of two stories read by ``?id=``."""

    def do_GET(self) -> None:
        token = hashlib.sha256(type(self).session.encode()).hexdigest()
        path, query = urlsplit(self.path).path, parse_qs(urlsplit(self.path).query)
        if self.path == "/":
            links = "".join(f'<a href="{path}?visit={token}">Story</a>' for path in (HARBOUR, BUDGET, ROOF))
            links += "".join(f'<a href="{READ}?id={number}&amp;visit={token}">Story</a>' for number in (12345, 67890))
            self._answer(200, "text/html", f"<html><body>{links}</body></html>".encode())
        elif path == READ and query.get("id", [""])[0] in ("12345", "67890"):
            self._answer(200, "text/html", article_html(int(query["id"][0]) % 7 + 4))
        else:
            super().do_GET()


READ = "/news/2026/12/story"


def test_a_session_under_a_name_no_list_knows_is_dropped_from_links_and_article_ids_are_kept(tmp_path):
    """A random-looking value every link of a page carries under one name is the visitor's session.  Before, each
    run's session made every story a new URL (?visit=<token>): fetched again, a new corpus row each run."""
    runs = crawl_twice(UnnamedSessionSite, [tmp_path])
    site, corpora = runs.site, runs.corpora
    cleaned = {site + path for path in (HARBOUR, BUDGET, ROOF, f"{READ}?id=12345", f"{READ}?id=67890")}
    assert sorted(row["url"] for row in corpora[0]) == sorted(cleaned)
    assert corpora[1] == corpora[0]  # each article once, after two runs
    assert not [path for path in runs.requested[1] if path.startswith("/news/")], runs.requested[1]


@pytest.mark.parametrize("link, cleaned", [
    ("http://a.example/story.html;jsessionid=0A1B2C?x=1", "http://a.example/story.html?x=1"),
    ("http://a.example/story.html;JSESSIONID=0A1B2C", "http://a.example/story.html"),
    ("http://a.example/s?b=2&utm_source=x&a=1&UTM_Medium=y&fbclid=z#top", "http://a.example/s?b=2&a=1#top"),
    ("http://a.example/s?PHPSESSID=abc&id=7&mc_cid=1&mc_eid=2", "http://a.example/s?id=7"),
    ("http://a.example/s.asp?id=7&ASPSESSIONIDQQGGGNCU=KHNBDIOCNMJFLGPHMNPKLEAG", "http://a.example/s.asp?id=7"),
    ("http://a.example/s?sid=9f86d081884c7d659a2feaa0c55ad015&p=2", "http://a.example/s?p=2"),
    ("http://a.example/s?sid=12345&p=2", "http://a.example/s?sid=12345&p=2"),  # a story's number, not a session
    ("http://a.example/s?cid=5&ref=home&source=rss&page=2", "http://a.example/s?cid=5&ref=home&source=rss&page=2"),
    ("http://a.example/A%20b/?q=x+y&q=z", "http://a.example/A%20b/?q=x+y&q=z"),
    ("http://a.example/(S(lit3py55t21z5v55vlm25s55))/story.aspx?id=7", "http://a.example/story.aspx?id=7"),
    ("http://a.example/app/(A(x1)S(y2)F(z3))/story.aspx", "http://a.example/app/story.aspx"),
    ("http://a.example/wiki/Harbour_(Dover)", "http://a.example/wiki/Harbour_(Dover)"),
])
def test_a_link_loses_its_session_id_and_trackers_and_keeps_the_rest_as_it_was(link, cleaned):
    assert discovery.clean_link(link) == cleaned


def test_a_server_that_insists_on_its_session_id_in_a_redirect_is_followed_as_it_says():
    """Cleaning a redirect back to the page it came from would loop (ASP.NET's cookieless mode sends a first visit
    from /story.aspx to /(S(<id>))/story.aspx); another target is cleaned."""
    from scrapy import Request
    from scrapy.http import Response
    from scrapy.utils.test import get_crawler

    from crawler.redirects import CleanRedirectMiddleware

    middleware = CleanRedirectMiddleware.from_crawler(get_crawler())
    request = Request("http://a.example/story.aspx")
    for location, followed in [("/(S(lit3py55t21z5v55vlm25s55))/story.aspx", "http://a.example/(S(lit3py55t21z5v55vlm25s55))/story.aspx"),
                               ("/other.aspx?sessionid=0123456789abcdef", "http://a.example/other.aspx")]:
        response = Response(request.url, status=302, headers={"Location": location}, request=request)
        assert middleware.process_response(request, response).url == followed
