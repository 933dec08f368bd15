"""The demo sites behave like the real-world servers the crawler must handle."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import threading
import time
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest

from config import load_config
from demo.site import DemoSite


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_gzip_only_when_accepted(demo_site: DemoSite) -> None:
    url = demo_site.article_urls("gazette")[0]
    status, headers, body = fetch(url, {"Accept-Encoding": "gzip, deflate"})
    assert status == 200 and headers["Content-Encoding"] == "gzip" and headers["Vary"] == "Accept-Encoding"
    assert int(headers["Content-Length"]) == len(body)
    html = gzip.decompress(body)
    assert b"<title>Council approves" in html
    for refused in ({}, {"Accept-Encoding": "gzip;q=0, identity"}):
        status, headers, body = fetch(url, refused)
        assert "Content-Encoding" not in headers and body == html


def test_conditional_get_and_set_article(demo_site: DemoSite) -> None:
    url = demo_site.article_urls("herald")[0]
    _, headers, body = fetch(url)
    etag, last_modified = headers["ETag"], headers["Last-Modified"]
    assert re.fullmatch(r'"[0-9a-f]+"', etag)
    assert fetch(url)[2] == body, "an unchanged page must serve identical bytes"
    assert fetch(url, {"If-None-Match": etag})[0] == 304
    assert fetch(url, {"If-Modified-Since": last_modified})[0] == 304
    assert fetch(url, {"If-None-Match": '"other"', "If-Modified-Since": last_modified})[0] == 200

    slug = demo_site.articles("herald")[0].slug
    demo_site.set_article("herald", slug, paragraphs=["A corrected first paragraph.", "And a second."])
    status, new_headers, new_body = fetch(url, {"If-None-Match": etag})
    assert status == 200 and b"A corrected first paragraph." in new_body
    assert new_headers["ETag"] != etag and new_headers["Last-Modified"] != last_modified
    assert fetch(url, {"If-Modified-Since": last_modified})[0] == 200


def test_new_article_is_listed(demo_site: DemoSite) -> None:
    url = demo_site.set_article("courier", "pier-reopens", ["The pier is open again."], title="Pier reopens")
    assert demo_site.article_urls("courier")[0] == url
    assert b"Pier reopens" in fetch(demo_site.url("courier", "/"))[2]


def test_robots_delay_and_crawl_delay() -> None:
    with DemoSite(robots_delay=1.0, crawl_delay=2.5) as site:
        robots_url = site.url("herald", "/robots.txt")
        result = {}
        thread = threading.Thread(target=lambda: result.setdefault("robots", fetch(robots_url)))
        started = time.monotonic()
        thread.start()
        time.sleep(0.2)
        assert fetch(site.url("herald", "/"))[0] == 200
        assert "robots" not in result, "other pages are served while robots.txt is held back"
        thread.join()
        assert time.monotonic() - started >= 1.0
        status, _, body = result["robots"]
        text = body.decode()
        assert status == 200 and "Disallow: /private/" in text and "Crawl-delay: 2.5" in text
        assert f"Sitemap: {site.url('herald', '/sitemap.xml')}" in text
        assert [r.path for r in site.requests if r.site == "herald"] == ["/robots.txt", "/"]


def test_redirect_from_old_url(demo_site: DemoSite) -> None:
    home = fetch(demo_site.url("gazette", "/"))[2].decode()
    old = re.search(r'href="(/old/[^"]+)"', home).group(1)
    status, headers, _ = fetch(demo_site.url("gazette", old))
    assert status == 301
    assert headers["Location"] in demo_site.article_urls("gazette")


def test_chunked_and_windows_1252(demo_site: DemoSite) -> None:
    chunked = next(a for a in demo_site.articles("herald") if a.chunked)
    _, headers, body = fetch(demo_site.url("herald", chunked.path))
    assert headers["Transfer-Encoding"] == "chunked" and "Content-Length" not in headers
    assert body.rstrip().endswith(b"</html>")

    page = next(a for a in demo_site.articles("courier") if a.charset == "windows-1252")
    _, headers, body = fetch(demo_site.url("courier", page.path))
    assert headers["Content-Type"] == "text/html; charset=windows-1252"
    assert b"\x93You can\x92t" in body and b"caf\xe9" in body
    assert "“You can’t" in body.decode("windows-1252")


def test_discovery_files_and_media(demo_site: DemoSite) -> None:
    herald = demo_site.article_urls("herald")
    index = ET.fromstring(fetch(demo_site.url("herald", "/sitemap.xml"))[2])
    news_url = [loc.text for loc in index.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")][0]
    news = ET.fromstring(fetch(news_url)[2])
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "news": "http://www.google.com/schemas/sitemap-news/0.9"}
    assert [u.findtext("s:loc", namespaces=ns) for u in news.findall("s:url", ns)] == herald
    assert news.find(".//news:publication_date", ns) is not None and news.find(".//news:title", ns) is not None

    rss = ET.fromstring(fetch(demo_site.url("gazette", "/rss.xml"))[2])
    assert [link.text for link in rss.iter("link")][1:] == demo_site.article_urls("gazette")
    atom = ET.fromstring(fetch(demo_site.url("herald", "/atom.xml"))[2])
    assert len(atom.findall("{http://www.w3.org/2005/Atom}entry")) == len(herald)

    for path, kind, magic in (("/media/newsroom.png", "image/png", b"\x89PNG"),
                              ("/media/annual-report-2025.pdf", "application/pdf", b"%PDF")):
        status, headers, body = fetch(demo_site.url("courier", path))
        assert status == 200 and headers["Content-Type"] == kind and body.startswith(magic)
    assert fetch(demo_site.url("courier", "/story/regatta-2025-results.html"))[0] == 404


def test_article_metadata(demo_site: DemoSite) -> None:
    for name in ("gazette", "herald"):
        url = demo_site.article_urls(name)[0]
        html = fetch(url)[2].decode()
        data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html).group(1))
        assert data["@type"] == "NewsArticle" and data["mainEntityOfPage"] == url
        assert f'<link rel="canonical" href="{url}">' in html
    courier = fetch(demo_site.article_urls("courier")[0])[2].decode()
    assert "application/ld+json" not in courier and 'class="dateline">Published ' in courier


def test_near_duplicates(demo_site: DemoSite) -> None:
    slug = "flood-defence-work-begins-at-ashby-weir"
    original = next(a for a in demo_site.articles("gazette") if a.slug == slug).paragraphs
    republished = next(a for a in demo_site.articles("herald") if a.slug == slug).paragraphs
    trimmed = next(a for a in demo_site.articles("courier") if a.slug == slug).paragraphs
    assert republished[1:] == original and "Millbrook Gazette" in republished[0]
    assert len(trimmed) == len(original) - 2 and set(trimmed) < set(original)


def test_config_and_request_log(demo_site: DemoSite, tmp_path) -> None:
    extra = {"name": "dead", "start_urls": ["http://127.0.0.1:9/"], "max_pages": 5}
    path = demo_site.write_config(tmp_path / "sources.toml", tmp_path / "data", [extra])
    config = load_config(path)
    assert [s.name for s in config.sources] == ["gazette", "herald", "courier", "dead"]
    assert config.archive.dir == tmp_path / "data"
    assert config.sources[1].sitemaps == (demo_site.url("herald", "/sitemap.xml"),)

    demo_site.clear_requests()
    fetch(demo_site.url("courier", "/about?ref=x"), {"User-Agent": "probe/1"}, method="HEAD")
    [logged] = demo_site.requests
    assert (logged.site, logged.method, logged.path, logged.headers["User-Agent"]) == ("courier", "HEAD", "/about?ref=x", "probe/1")


def test_stop_closes_kept_alive_connections() -> None:
    site = DemoSite().start()
    parts = urlsplit(site.url("gazette", "/"))
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    connection.request("GET", "/")
    connection.getresponse().read()
    site.stop()
    assert not any(t.name.startswith("demo-") for t in threading.enumerate())
    connection.close()


def test_slow_page_is_slow_and_unlinked(demo_site: DemoSite) -> None:
    parts = urlsplit(demo_site.url("courier", "/slow?seconds=2"))
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=0.5)
    connection.request("GET", "/slow?seconds=2")
    with pytest.raises(TimeoutError):
        connection.getresponse()
    connection.close()
    assert b"/slow" not in fetch(demo_site.url("courier", "/"))[2]
