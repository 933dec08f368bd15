"""A crawl stays within its configured bounds: ``max_pages`` exactly, its own site (scheme, host
and port), capped links per page and entries per feed or sitemap, and ``max_age`` at discovery.

Every test crawls a real site on 127.0.0.1 with ``newsarchive run`` and reads what the site
was asked for, the WARCs and the run report.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from archive_fixtures import loopback_site
from warcio.archiveiterator import ArchiveIterator

from config import Source
from crawler.spiders.news import NewsSpider

REPO = Path(__file__).resolve().parent.parent
NOW = datetime.now(timezone.utc)
OLD, NEW = (NOW - timedelta(days=400)).date().isoformat(), (NOW - timedelta(days=2)).date().isoformat()
MOVED = "/2026/11/21/the-story-that-moved-to-another-port.html"


def story(n: int | str) -> str:
    return f"/2026/11/21/story-number-{n}-of-the-day.html"


LOOPS = {story("loop-self"): story("loop-self"), story("loop-a"): story("loop-b"), story("loop-b"): story("loop-a")}


class BoundsSite(BaseHTTPRequestHandler):
    """A news site with more of everything than a source's bounds let through.

    ``/`` links ``articles`` stories, ``/links.html`` 3,000, ``/feed.xml`` and ``/sitemap.xml``
    list dated stories (old and new) and undated ones, ``/sitemap-index.xml`` a new and an old sitemap; ``MOVED`` redirects to ``other`` (the
    same host on another port) and ``/`` links to ``other`` too.  ``/nested-N.xml`` is a sitemap index
    listing ``/nested-N+1.xml``, down to ``/nested-9.xml``, a sitemap of one story.  ``/redirects.html``
    links a story that redirects to itself, two that redirect to each other and one whose redirects never end;
    ``/refresh.html`` one left at an old address, a gzipped page whose meta refresh names the new one, and
    a live story that reloads itself every 30 s;
    ``/atom.xml`` is an Atom feed whose links are relative, as Atom allows; ``/feed-elsewhere.xml`` lists
    a story of the site and two of ``other``.
    """

    protocol_version = "HTTP/1.1"
    articles = 40
    other = ""
    requested: list[str]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, body: str | bytes, kind: str = "text/html; charset=utf-8", status: int = 200,
              headers: dict | None = None) -> None:
        body = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", kind)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.requested.append(self.path)
        base = f"http://{self.headers['Host']}"
        if self.path == "/robots.txt":
            self._send("User-agent: *\nAllow: /\n", "text/plain")
        elif self.path == "/":
            links = "".join(f'<a href="{story(n)}">Story {n}</a>' for n in range(self.articles))
            self._send(f'<html><body>{links}<a href="{MOVED}">Moved</a>'
                       f'<a href="{self.other}{story("elsewhere")}">Elsewhere</a></body></html>')
        elif self.path == "/links.html":
            self._send("<html><body>" + "".join(f'<p><a href="{story(f"linked-{n}")}"><b>Story</b> {n}</a></p>'
                                                 for n in range(3000)) + "</body></html>")
        elif self.path == "/redirects.html":
            self._send("".join(f'<a href="{story(name)}">{name}</a>' for name in ("loop-self", "loop-a", "hops-0")))
        elif self.path == "/feed-elsewhere.xml":
            listed = (base + story("here"), self.other + story("there-1"), self.other + story("there-2"))
            self._send('<rss version="2.0"><channel><title>Feed</title>' + "".join(
                f"<item><title>{url}</title><link>{url}</link></item>" for url in listed) + "</channel></rss>",
                "application/rss+xml")
        elif self.path == "/atom.xml":
            self._send('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Atom</title>'
                       + "".join(f'<entry><title>{n}</title><link href="{href}"/></entry>' for n, href in
                                 enumerate((story("atom-0"), story("atom-1").lstrip("/")))) + "</feed>",
                       "application/atom+xml")
        elif self.path == "/refresh.html":
            self._send(f'<a href="{story("at-its-old-address")}">Moved</a><a href="{story("live")}">Live</a>')
        elif self.path == story("at-its-old-address"):
            stub = (f'<html><head><title>Moved</title><meta http-equiv="refresh" content="0; url={story("moved")}">'
                    f'</head><body>{"<!-- the site template -->" * 100}This story has moved.</body></html>')
            self._send(gzip.compress(stub.encode()), headers={"Content-Encoding": "gzip"})
        elif self.path in LOOPS or "-hops-" in self.path:
            hop = LOOPS.get(self.path) or story(f"hops-{int(self.path.split('-')[-4]) + 1}")
            self._send("", status=301, headers={"Location": hop})
        elif self.path == MOVED:
            self._send("", status=301, headers={"Location": self.other + MOVED})
        elif self.path == "/feed.xml":
            items = "".join(f"<item><title>{n}</title><link>{base}{story(f'feed-{n}')}</link>"
                            f"<pubDate>{datetime.fromisoformat(day).strftime('%a, %d %b %Y 10:00:00 GMT')}</pubDate>"
                            f"</item>" for n, day in enumerate([OLD] * 3 + [NEW] * 2))
            items += f"<item><title>undated</title><link>{base}{story('feed-undated')}</link></item>"
            items += "".join(f"<item><title>{n}</title><link>{base}{story(f'feed-more-{n}')}</link></item>"
                             for n in range(100))
            self._send(f'<rss version="2.0"><channel><title>Feed</title>{items}</channel></rss>',
                       "application/rss+xml")
        elif self.path == "/sitemap-index.xml":
            self._send('<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + "".join(
                f"<sitemap><loc>{base}{path}</loc><lastmod>{day}</lastmod></sitemap>"
                for path, day in (("/sitemap.xml", NEW), ("/sitemap-2019.xml", OLD))) + "</sitemapindex>",
                "application/xml")
        elif self.path == "/sitemaps-2000.xml":  # an index of 2,000 sitemaps, each of one story
            self._send('<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + "".join(
                f"<sitemap><loc>{base}/day-{n}.xml</loc></sitemap>" for n in range(2000)) + "</sitemapindex>",
                "application/xml")
        elif self.path.startswith("/day-"):
            self._send(f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{base}'
                       f'{story(self.path[1:-4])}</loc></url></urlset>', "application/xml")
        elif self.path.startswith("/nested-"):
            level = int(self.path.removeprefix("/nested-").removesuffix(".xml"))
            self._send(f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{base}{story("nested")}'
                       f'</loc></url></urlset>' if level == 9 else
                       f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>{base}'
                       f'/nested-{level + 1}.xml</loc></sitemap></sitemapindex>', "application/xml")
        elif self.path in ("/sitemap.xml", "/sitemap-2019.xml"):
            news = ('<url><loc>{}</loc><news:news><news:publication_date>{}T08:00:00+01:00'
                    '</news:publication_date><news:title>t</news:title></news:news></url>')
            entries = [news.format(base + story(f"news-{n}"), day) for n, day in enumerate([OLD] * 4 + [NEW])]
            entries += [f"<url><loc>{base}{story(f'mod-{n}')}</loc><lastmod>{day}</lastmod></url>"
                        for n, day in enumerate([OLD, NEW])]
            entries += [f"<url><loc>{base}{story(f'map-{n}')}</loc></url>" for n in range(100)]
            self._send('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/'
                       'sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
                       + "".join(entries) + "</urlset>", "application/xml")
        else:
            paragraphs = "".join(f"<p>Paragraph {n} of the story at {self.path}, told in whole sentences so "
                                 "that the extractor takes it for the article it is.</p>" for n in range(5))
            reload = f'<meta http-equiv="refresh" content="30; url={self.path}">' if self.path == story("live") else ""
            self._send(f"<html><head><title>{self.path}</title>{reload}</head><body><article><h1>{self.path}</h1>"
                       f"{paragraphs}</article></body></html>")


@contextmanager
def bounds_site(articles: int = 40) -> Iterator[tuple[str, list[str], list[str]]]:
    """The site and another server on the same host; yields its base URL and the paths each was asked for."""
    requested: list[str] = []
    elsewhere: list[str] = []
    other_handler = type("Other", (BoundsSite,), {"requested": elsewhere})
    with loopback_site(other_handler) as other:
        handler = type("Site", (BoundsSite,), {"requested": requested, "articles": articles, "other": other})
        with loopback_site(handler) as base:
            yield base, requested, elsewhere


def run(tmp_path: Path, source: str, crawl: str = "") -> tuple[subprocess.CompletedProcess, dict]:
    """``newsarchive run`` of one source; the result and its run report."""
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{tmp_path / "archive"}"\n\n[crawl]\ndownload_delay = 0\n'
                      f'autothrottle = false\nconcurrent_requests_per_domain = 8\n{crawl}\n'
                      f'[[sources]]\nname = "site"\n{source}', encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "cli", "run", "--config", str(config)],
                            capture_output=True, text=True, timeout=180, cwd=REPO)
    assert "Traceback" not in result.stderr, result.stderr
    reports = list((tmp_path / "archive" / "runs").glob("*.json"))
    return result, json.loads(reports[0].read_text()) if reports else {}


def archived_urls(tmp_path: Path) -> list[str]:
    urls = []
    for warc in sorted((tmp_path / "archive" / "warc").glob("*.warc.gz")):
        with warc.open("rb") as stream:
            urls += [record.rec_headers.get_header("WARC-Target-URI") for record in ArchiveIterator(stream)
                     if record.rec_type in ("response", "revisit")]
    return urls


def pages(paths: list[str]) -> list[str]:
    return [path for path in paths if not path.endswith("/robots.txt")]


@pytest.mark.parametrize("max_pages", [1, 7])
def test_max_pages_is_the_exact_number_of_pages_fetched_and_archived(tmp_path, max_pages):
    with bounds_site() as (base, requested, _):
        result, report = run(tmp_path, f'start_urls = ["{base}/"]\nmax_pages = {max_pages}\n')
    assert result.returncode == 0, result.stderr
    assert len(pages(requested)) == max_pages, requested
    assert len(pages(archived_urls(tmp_path))) == max_pages
    [source] = report["sources"]
    assert source["fetched"] == max_pages  # robots.txt is not a page
    assert source["status"] == "ok" and source["failed_fetches"] == 0


def test_a_run_cut_short_by_max_pages_leaves_the_rest_for_the_next_run(tmp_path):
    with bounds_site(articles=6) as (base, requested, _):
        for _ in range(3):
            result, _ = run(tmp_path, f'start_urls = ["{base}/"]\nmax_pages = 4\n')
            assert result.returncode == 0, result.stderr
    fetched = [path for path in requested if path.startswith("/2026/") and path != MOVED]
    assert sorted(fetched) == sorted(story(n) for n in range(6))  # each once, none lost


def test_the_same_host_on_another_port_is_another_site_for_links_and_redirects(tmp_path):
    with bounds_site(articles=2) as (base, requested, elsewhere):
        result, report = run(tmp_path, f'start_urls = ["{base}/"]\n')
    assert result.returncode == 0, result.stderr
    assert MOVED in requested
    assert elsewhere == []  # neither the link nor the redirect to the other port was followed
    rows = [json.loads(line) for line in (tmp_path / "archive" / "corpus.jsonl").read_text().splitlines()]
    assert sorted(row["url"] for row in rows) == sorted(base + story(n) for n in range(2))


class _MovedToAnotherHost(BoundsSite):
    """``/`` links two stories; the first redirects to itself on ``localhost``: the site's own server under
    another host name, as when a site moves its stories to a CDN or a new domain."""

    def do_GET(self) -> None:
        host, port = self.headers["Host"].rsplit(":", 1)
        if self.path == "/":
            self._send(f'<html><body><a href="{story("moved")}">Moved</a><a href="{story(1)}">Stays</a></body></html>')
        elif self.path == story("moved") and host != "localhost":
            self._send("", status=301, headers={"Location": f"http://localhost:{port}{story('moved')}"})
        else:
            super().do_GET()


@pytest.mark.parametrize("allowed_domains", [None, ["127.0.0.1", "localhost"]])
def test_an_article_redirected_to_another_host_is_followed_if_allowed_and_counted_in_the_summary_if_not(
        tmp_path, allowed_domains):
    with loopback_site(type("Site", (_MovedToAnotherHost,), {"requested": []})) as base:
        result, report = run(tmp_path, f'start_urls = ["{base}/"]\n' + (
            f"allowed_domains = {json.dumps(allowed_domains)}\n" if allowed_domains else ""))
    assert result.returncode == 0, result.stderr
    moved, moved_to = base + story("moved"), f"http://localhost:{base.rsplit(':', 1)[1]}{story('moved')}"
    archived = archived_urls(tmp_path)
    assert moved in archived and base + story(1) in archived  # the redirect is archived either way
    [source] = report["sources"]
    said = [line for line in result.stdout.splitlines() + result.stderr.splitlines() if "not followed" in line]
    if allowed_domains:
        assert moved_to in archived
        assert source["offsite_redirects"] == 0 and said == []
    else:
        assert moved_to not in archived
        assert source["offsite_redirects"] == 1
        assert said == [f"  not followed: 1 redirect off the site (allowed_domains), e.g. {moved} -> {moved_to}"]


@pytest.mark.parametrize(("url", "in_scope"), [
    ("http://127.0.0.1:8001/a", True),
    ("http://127.0.0.1:8002/a", False),
    ("https://127.0.0.1:8001/a", False),
    ("http://news.example.org/a", True),
    ("https://news.example.org/a", True),  # standard ports: http and https are one site
    ("https://www.example.org:8443/a", False),
    ("http://example.net/a", False),
    ("http://127.0.0.1:notaport/a", False),
])
def test_the_off_site_check_compares_scheme_host_and_port(url, in_scope):
    source = Source(name="s", start_urls=("http://127.0.0.1:8001/", "http://www.example.org/"),
                    allowed_domains=("127.0.0.1", "example.org"))
    assert NewsSpider(source=source).in_scope(url) is in_scope


def test_max_age_skips_feed_and_sitemap_entries_dated_older_and_counts_them(tmp_path):
    with bounds_site() as (base, requested, _):
        result, report = run(tmp_path, f'feeds = ["{base}/feed.xml"]\nsitemaps = ["{base}/sitemap-index.xml"]\n'
                                       "max_age = 30\n", crawl="max_feed_entries = 6\nmax_sitemap_entries = 7\n")
    assert result.returncode == 0, result.stderr
    fetched = set(requested)
    assert "/sitemap.xml" in fetched and "/sitemap-2019.xml" not in fetched  # its lastmod is older
    assert {story(f"feed-{n}") for n in (3, 4)} | {story("feed-undated")} <= fetched
    assert {story("news-4"), story("mod-1")} <= fetched
    assert not {story(f"feed-{n}") for n in range(3)} & fetched
    assert not ({story(f"news-{n}") for n in range(4)} | {story("mod-0")}) & fetched
    [source] = report["sources"]
    assert source["skipped_old"] == 3 + 4 + 1 + 1


def test_without_max_age_old_entries_are_fetched(tmp_path):
    with bounds_site() as (base, requested, _):
        result, report = run(tmp_path, f'sitemaps = ["{base}/sitemap.xml"]\n', crawl="max_sitemap_entries = 7\n")
    assert result.returncode == 0, result.stderr
    assert {story(f"news-{n}") for n in range(5)} | {story(f"mod-{n}") for n in range(2)} <= set(requested)
    assert report["sources"][0]["skipped_old"] == 0


def test_links_per_page_and_entries_per_feed_or_sitemap_are_capped_and_the_cut_is_said(tmp_path):
    with bounds_site() as (base, requested, _):
        result, _ = run(tmp_path, f'start_urls = ["{base}/links.html"]\nfeeds = ["{base}/feed.xml"]\n'
                                  f'sitemaps = ["{base}/sitemap.xml"]\n',
                        crawl="max_links_per_page = 25\nmax_feed_entries = 10\nmax_sitemap_entries = 12\n")
    assert result.returncode == 0, result.stderr
    linked = [path for path in requested if "linked-" in path]
    assert sorted(linked) == sorted(story(f"linked-{n}") for n in range(25))
    assert len([path for path in requested if "-feed-" in path]) == 10
    assert len([path for path in requested if "-news-" in path or "-mod-" in path or "-map-" in path]) == 12
    for url, key in ((f"{base}/links.html", "max_links_per_page"), (f"{base}/feed.xml", "max_feed_entries"),
                     (f"{base}/sitemap.xml", "max_sitemap_entries")):
        [line] = [line for line in result.stderr.splitlines() if url + ":" in line]
        assert key in line, line


def test_a_sitemap_index_of_2000_sitemaps_gives_max_sitemaps_and_says_how_many_were_left(tmp_path):
    with bounds_site() as (base, requested, _):
        result, report = run(tmp_path, f'sitemaps = ["{base}/sitemaps-2000.xml"]\n', crawl="max_sitemaps = 6\n")
    assert result.returncode == 0, result.stderr
    assert sorted(path for path in requested if path.startswith("/day-")) == sorted(f"/day-{n}.xml" for n in range(5))
    assert sorted(pages(path for path in requested if "story" in path)) == sorted(story(f"day-{n}") for n in range(5))
    [line] = [line for line in result.stderr.splitlines() if "max_sitemaps" in line]
    assert line.endswith(f"site: {base}/sitemaps-2000.xml: 1995 more sitemaps not fetched: this run took its 6 "
                         "([crawl] max_sitemaps), changed and unread first"), line


def test_sitemap_indexes_nested_deeper_than_the_depth_limit_are_cut_and_the_cut_is_said(tmp_path):
    with bounds_site() as (base, requested, _):
        result, report = run(tmp_path, f'sitemaps = ["{base}/nested-0.xml"]\n')
    assert result.returncode == 0, result.stderr
    assert [path for path in requested if path.startswith("/nested-")] == [f"/nested-{n}.xml" for n in range(5)]
    [line] = [line for line in result.stderr.splitlines() if "DEPTH_LIMIT" in line]
    assert line.endswith(f"site: {base}/nested-4.xml: links more than 4 steps from the seeds not followed "
                         f"(DEPTH_LIMIT), e.g. {base}/nested-5.xml"), line


def test_a_redirect_loop_or_endless_redirects_are_a_failed_fetch_said_in_one_line(tmp_path):
    with bounds_site() as (base, requested, _):
        result, report = run(tmp_path, f'start_urls = ["{base}/redirects.html"]\n')
    assert result.returncode == 0, result.stderr
    assert [path for path in requested if "-hops-" in path] == [story(f"hops-{n}") for n in range(11)]
    self_loop, a, b, hops = (base + story(name) for name in ("loop-self", "loop-a", "loop-b", "hops-0"))
    said = {self_loop: f"a redirect loop: {self_loop} -> {self_loop}",
            a: f"a redirect loop: {a} -> {b} -> {a}",
            hops: f"more than 10 redirects, the last followed to {base + story('hops-10')}"}
    lines = result.stderr.splitlines()
    for url, reason in said.items():
        assert [line for line in lines if line.endswith(f"site: cannot fetch {url}: {reason}")], result.stderr
    [source] = report["sources"]
    assert {failure["url"]: failure["reason"] for failure in source["failures"]} == said


def test_an_article_moved_by_a_meta_refresh_is_followed_to_its_new_address_and_one_reloading_is_kept(tmp_path):
    with bounds_site() as (base, requested, _):
        result, report = run(tmp_path, f'start_urls = ["{base}/refresh.html"]\n')
    assert result.returncode == 0, result.stderr
    assert sorted(pages(requested)) == sorted(["/refresh.html", story("at-its-old-address"), story("moved"),
                                               story("live")])  # a page reloading itself is no move
    assert sorted(pages(archived_urls(tmp_path))) == sorted(base + path for path in pages(requested))
    rows = [json.loads(line) for line in (tmp_path / "archive" / "corpus.jsonl").read_text().splitlines()]
    assert sorted(row["url"] for row in rows) == sorted([base + story("moved"), base + story("live")])
    assert "cannot fetch" not in result.stderr and report["sources"][0]["failures"] == [], result.stderr


def test_feed_entries_on_other_sites_are_not_followed_and_said_in_one_line(tmp_path):
    with bounds_site() as (base, requested, elsewhere):
        result, report = run(tmp_path, f'feeds = ["{base}/feed-elsewhere.xml"]\n')
    assert result.returncode == 0, result.stderr
    assert sorted(pages(requested)) == sorted(["/feed-elsewhere.xml", story("here")]) and elsewhere == []
    [line] = [line for line in result.stderr.splitlines() if "other sites" in line]
    assert f"site: {base}/feed-elsewhere.xml: 2 entries on other sites not followed (allowed_domains), e.g. " \
           "http://127.0.0.1:" in line and line.endswith(story("there-1")), line


def test_the_relative_links_of_an_atom_feed_are_read_against_its_address(tmp_path):
    with bounds_site() as (base, requested, _):
        result, report = run(tmp_path, f'feeds = ["{base}/atom.xml"]\n')
    assert result.returncode == 0, result.stderr
    assert sorted(pages(requested)) == sorted(["/atom.xml", story("atom-0"), story("atom-1")])


@pytest.mark.parametrize(("table", "key", "value"), [
    ("sources", "max_age", "0"), ("sources", "max_age", "-3"), ("sources", "max_age", '"a week"'),
    ("crawl", "max_links_per_page", "0"), ("crawl", "max_feed_entries", "1.5"),
    ("crawl", "max_sitemap_entries", "-1"), ("crawl", "max_sitemaps", "0"),
])
def test_a_bad_bound_is_a_configuration_error_naming_file_source_and_key(tmp_path, table, key, value):
    config = tmp_path / "sources.toml"
    crawl, source = (f"{key} = {value}\n", "") if table == "crawl" else ("", f"{key} = {value}\n")
    config.write_text(f'[archive]\ndir = "{tmp_path}"\n[crawl]\n{crawl}\n[[sources]]\nname = "site"\n'
                      f'start_urls = ["http://127.0.0.1:9/"]\n{source}', encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "cli", "run", "--config", str(config)],
                            capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert str(config) in line and repr(key) in line
    assert ("source 'site'" in line) == (table == "sources")


class _HugeListings(BaseHTTPRequestHandler):
    """A page of ``listed`` links, a feed and a sitemap of ``listed`` entries each."""

    protocol_version = "HTTP/1.1"
    listed = 0

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        base = f"http://{self.headers['Host']}"
        if self.path == "/robots.txt":
            body, kind = "User-agent: *\nAllow: /\n", "text/plain"
        elif self.path == "/":
            body = "<html><body>" + "".join(f'<a href="{story(n)}">{n}</a>\n' for n in range(self.listed)) + "</body>"
            kind = "text/html"
        elif self.path == "/feed.xml":
            body = ('<rss version="2.0"><channel><title>f</title>' + "".join(
                f"<item><title>{n}</title><link>{base}{story(n)}</link></item>\n" for n in range(self.listed))
                + "</channel></rss>")
            kind = "application/rss+xml"
        else:
            body = ('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + "".join(
                f"<url><loc>{base}{story(n)}</loc></url>\n" for n in range(self.listed)) + "</urlset>")
            kind = "application/xml"
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


# Peak RSS of the process that waited for them: here the run's largest, the crawler.
_PEAK_OF_CHILDREN = ("import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
                     "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)")


def _peak_rss(tmp_path: Path, listed: int) -> tuple[int, str]:
    """Peak RSS in kB of a ``--no-extract`` run that reads a page, a feed and a sitemap listing ``listed`` each."""
    config = tmp_path / f"sources-{listed}.toml"
    with loopback_site(type("Huge", (_HugeListings,), {"listed": listed})) as base:
        config.write_text(f'[archive]\ndir = "{tmp_path / f"archive-{listed}"}"\n\n[crawl]\ndownload_delay = 0\n'
                          f'autothrottle = false\n\n[[sources]]\nname = "huge"\nstart_urls = ["{base}/"]\n'
                          f'feeds = ["{base}/feed.xml"]\nsitemaps = ["{base}/sitemap.xml"]\nmax_pages = 3\n')
        result = subprocess.run([sys.executable, "-c", _PEAK_OF_CHILDREN, sys.executable, str(REPO / "cli.py"),
                                 "run", "--config", str(config), "--no-extract"],
                                capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return int(result.stdout.split()[-1]), result.stderr


def test_a_huge_page_feed_or_sitemap_does_not_grow_the_crawl_s_memory(tmp_path):
    """Measured before the caps and streaming: 935 MB for a page of 200,000 links, 541 MB for a feed of 100,000."""
    small, _ = _peak_rss(tmp_path, 1000)
    large, said = _peak_rss(tmp_path, 100_000)
    assert len([line for line in said.splitlines() if "only the first" in line]) == 3, said
    assert large - small < 60_000, f"peak RSS {small} kB listing 1,000, {large} kB listing 100,000"


def test_scrapy_crawl_news_keeps_the_bounds(tmp_path):
    archive = tmp_path / "archive"
    with bounds_site() as (base, requested, elsewhere):
        config = tmp_path / "sources.toml"
        config.write_text(f'[archive]\ndir = "{archive}"\n\n[[sources]]\nname = "site"\nstart_urls = ["{base}/"]\n'
                          "max_pages = 5\n", encoding="utf-8")
        result = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "source=site", "-a", f"config={config}",
             "-s", f"NEWSARCHIVE_ARCHIVE_DIR={archive}", "-s", f"WARC_DIR={archive / 'warc'}",
             "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
             "-s", "LOG_LEVEL=WARNING"], capture_output=True, text=True, timeout=180, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert len(pages(requested)) == 5, requested
    assert elsewhere == []
