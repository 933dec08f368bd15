"""Re-crawls against the demo sites: conditional GET, revisit records, versions, the archive lock,
back-off and the run report.  Real HTTP on loopback, real ``newsarchive run`` subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from archive_fixtures import assert_warcio_check, loopback_site

from archive.lock import ArchiveLock
from corpus.derive import derive_files
from corpus.export import read_corpus
from demo.farm import article_html

ROOT = Path(__file__).resolve().parent.parent
FAST_CRAWL = {"download_delay": 0, "autothrottle": False}


def write_config(site, path: Path, archive: Path, sources: list[dict] | None = None, **options) -> Path:
    """A sources file for the demo sites (``options`` added to every source), fast politeness."""
    lines = ["[archive]", f"dir = {json.dumps(str(archive))}", "", "[crawl]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in FAST_CRAWL.items()]
    for source in sources if sources is not None else site.sources():
        lines += ["", "[[sources]]"]
        lines += [f"{key} = {json.dumps(value)}" for key, value in {**source, **options}.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def newsarchive(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def warc_records(warcs: list[Path]) -> list:
    """(type, uri, profile) of every record of ``warcs``."""
    out = []
    for warc in warcs:
        with open(warc, "rb") as stream:
            for record in ArchiveIterator(stream):
                headers = record.rec_headers
                out.append((record.rec_type, headers.get_header("WARC-Target-URI"), headers.get_header("WARC-Profile")))
    return out


def text_files(archive: Path) -> dict[str, bytes]:
    return {str(path.relative_to(archive)): path.read_bytes() for path in (archive / "text").rglob("*.txt")}


def test_second_run_on_unchanged_site_revisits_and_writes_no_text(demo_site, tmp_path):
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path)
    first = newsarchive("run", "--config", str(config))
    assert first.returncode == 0, first.stderr
    warcs_1 = set((tmp_path / "warc").glob("*.warc.gz"))
    texts_1, corpus_1 = text_files(tmp_path), (tmp_path / "corpus.jsonl").read_bytes()
    assert texts_1
    demo_site.clear_requests()

    second = newsarchive("run", "--config", str(config))
    assert second.returncode == 0, second.stderr
    warcs_2 = set((tmp_path / "warc").glob("*.warc.gz")) - warcs_1
    assert text_files(tmp_path) == texts_1
    assert (tmp_path / "corpus.jsonl").read_bytes() == corpus_1

    captures = [(kind, profile) for kind, _, profile in warc_records(sorted(warcs_2)) if kind in ("response", "revisit")]
    revisits = [profile for kind, profile in captures if kind == "revisit"]
    assert len(revisits) >= 0.8 * len(captures), captures
    assert any(profile.endswith("/server-not-modified") for profile in revisits)
    assert any(profile.endswith("/identical-payload-digest") for profile in revisits)  # robots.txt
    assert sum(w.stat().st_size for w in warcs_2) < 0.3 * sum(w.stat().st_size for w in warcs_1)

    seen = demo_site.requests
    home = [request for request in seen if request.path == "/"]
    assert len(home) == 3 and all("If-None-Match" in request.headers for request in home)
    article_paths = {a.path for name in ("gazette", "herald", "courier") for a in demo_site.articles(name)}
    assert not [request.path for request in seen if request.path in article_paths]
    assert_warcio_check(warcs_1 | warcs_2)


def test_changed_article_becomes_version_2(demo_site, tmp_path):
    gazette = [source for source in demo_site.sources() if source["name"] == "gazette"]
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path, gazette, refetch_after=0.0001)
    assert newsarchive("run", "--config", str(config)).returncode == 0
    article = demo_site.articles("gazette")[0]
    url = demo_site.url("gazette", article.path)
    before = {row["url"]: row for row in read_corpus(tmp_path)}[url]
    first_text = (tmp_path / before["text_path"]).read_bytes()
    new_paragraph = "Late update: the council has confirmed the decision will be reviewed next spring."
    demo_site.set_article("gazette", article.slug, paragraphs=[*article.paragraphs, new_paragraph])

    result = newsarchive("run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    rows = [row for row in read_corpus(tmp_path) if row["url"] == url]
    assert [row["version"] for row in rows] == [1, 2]
    assert rows[0]["text_path"] == before["text_path"]
    assert (tmp_path / rows[0]["text_path"]).read_bytes() == first_text
    assert rows[1]["text_path"].endswith(".v2.txt")
    assert new_paragraph in (tmp_path / rows[1]["text_path"]).read_text(encoding="utf-8")
    assert rows[0]["payload_digest"] != rows[1]["payload_digest"]
    others = [row for row in read_corpus(tmp_path) if row["url"] != url]
    assert others and all(row["version"] == 1 for row in others)  # unchanged articles: 304, no new version


def test_run_while_archive_locked_exits_75(demo_site, tmp_path):
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path)
    with ArchiveLock(tmp_path):
        result = newsarchive("run", "--config", str(config))
    assert result.returncode == 75
    assert "in use by pid" in result.stderr and str(os.getpid()) in result.stderr
    assert not demo_site.requests


def test_backed_off_source_is_skipped_until_it_may_run_again(tmp_path):
    dead = {"name": "dead", "start_urls": ["http://127.0.0.1:9/"], "schedule": "0 * * * *"}
    config = write_config(None, tmp_path / "sources.toml", tmp_path, [dead])
    assert newsarchive("run", "--config", str(config)).returncode == 1
    assert newsarchive("run", "--config", str(config)).returncode == 1
    third = newsarchive("run", "--config", str(config))
    assert third.returncode == 0
    assert "dead skipped (backing off until" in third.stderr
    reports = sorted((tmp_path / "runs").glob("*.json"))
    assert [json.loads(path.read_text())["sources"][0]["status"] for path in reports] == ["failed", "failed", "skipped"]
    status = newsarchive("status", "--config", str(config))
    assert "backing off until" in status.stdout and "failed" in status.stdout
    assert newsarchive("run", "--config", str(config), "--ignore-backoff").returncode == 1


def test_a_304_whose_archived_copy_is_gone_is_no_failure(demo_site, tmp_path):
    """Its feed or sitemap cannot be read back, so there is nothing new to follow, and nothing failed."""
    config = write_config(demo_site, tmp_path / "sources.toml", tmp_path)
    assert newsarchive("run", "--config", str(config)).returncode == 0
    for warc in (tmp_path / "warc").glob("*.warc.gz"):
        warc.unlink()
    demo_site.clear_requests()
    second = newsarchive("run", "--config", str(config))
    revalidated = {request.path for request in demo_site.requests
                   if {"if-none-match", "if-modified-since"} & {name.lower() for name in request.headers}}
    assert {path for path in revalidated if path.endswith((".xml", "/feed/"))}, revalidated
    assert second.returncode == 0, second.stderr
    assert "not a readable" not in second.stderr


STORY_PATH = "/news/2026/12/harbour-wall-repairs.html"


class _OneStoryHandler(BaseHTTPRequestHandler):
    """A home page linking to one story whose page is ``story`` (set between runs; None: a 404), at each of ``paths``."""

    story: bytes | None = None
    paths: tuple[str, ...] = (STORY_PATH,)

    def do_GET(self) -> None:
        links = "".join(f'<a href="{path}">x</a>' for path in type(self).paths)
        body = {"/robots.txt": b"User-agent: *\nAllow: /\n",
                "/": f"<html><body>{links}</body></html>".encode()}.get(self.path)
        if body is None and self.path in type(self).paths:
            body = type(self).story
        status = 200 if body is not None else 404
        body = body if body is not None else b"<html><body><h1>Not found</h1></body></html>"
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_story_that_answered_404_before_it_was_published_is_archived_once_it_is(tmp_path):
    """Before: a 404 was a lasting answer, so the story was 'archived before' and never asked again."""
    handler = type("Handler", (_OneStoryHandler,), {"story": None})
    with loopback_site(handler) as site:
        source = {"name": "late", "start_urls": [f"{site}/"], "schedule": "0 * * * *"}
        config = write_config(None, tmp_path / "sources.toml", tmp_path, [source])
        first = newsarchive("run", "--config", str(config))
        assert "failed fetches: 1 (HTTP 404)" in first.stderr, first.stderr
        handler.story = article_html(7)
        second = newsarchive("run", "--config", str(config))
        assert second.returncode == 0, second.stderr
    assert "not fetched again" not in second.stderr, second.stderr
    assert [row["url"] for row in read_corpus(tmp_path)] == [f"{site}{STORY_PATH}"]


def corpora_after_runs(archive: Path, pages: list[bytes]) -> tuple[str, list[list[dict]]]:
    """A run per page, the one-story site serving it and the story refetched each run: the site's
    address and the corpus rows after each run."""
    handler = type("Handler", (_OneStoryHandler,), {"story": pages[0]})
    with loopback_site(handler) as site:
        source = {"name": "story", "start_urls": [f"{site}/"], "refetch_after": 0.0001}
        config = write_config(None, archive / "sources.toml", archive, [source])
        corpora = []
        for page in pages:
            handler.story = page
            result = newsarchive("run", "--config", str(config))
            assert result.returncode == 0, result.stderr
            corpora.append(read_corpus(archive))
    return site, corpora


def test_a_page_changed_outside_its_text_makes_no_version_and_a_text_that_comes_back_does(tmp_path):
    """Before: every payload made a version, so a page whose token or ad changed at each refetch
    gained a version a run, each the same text."""
    story = article_html(7)
    other = article_html(8).replace(b"<h1>", b"<h1>Corrected: ", 1)
    _, corpora = corpora_after_runs(tmp_path, [
        story, story.replace(b"</body>", b"<!-- token 1 --></body>"),
        story.replace(b"</body>", b"<!-- token 2 --></body>"), other,
        story.replace(b"</body>", b"<!-- token 3 --></body>")])
    texts = [[row["text_sha256"] for row in rows] for rows in corpora]
    assert texts[0] == texts[1] == texts[2] and len(texts[0]) == 1  # a token changed: no version
    assert len(texts[3]) == 2 and texts[3][0] != texts[3][1]  # the text changed: version 2
    assert len(texts[4]) == 3 and texts[4][0] == texts[4][2] != texts[4][1]  # the first text back: version 3
    # (served again byte for byte it is a revisit of version 1's payload: the test below)


def test_a_correction_reverted_byte_for_byte_makes_the_first_text_current_again(tmp_path):
    """Before: the third fetch, the first page's exact bytes, was archived as a revisit of version 1's
    payload and derived nothing, so the corpus kept the correction as the story's current text
    while the page and the WARCs said the first text."""
    story = article_html(7)
    corrected = article_html(8).replace(b"<h1>", b"<h1>Corrected: ", 1)
    site, (_, _, reverted, again) = corpora_after_runs(tmp_path, [story, corrected, story, story])
    warcs = sorted((tmp_path / "warc").glob("*.warc.gz"))
    story_records = [kind for kind, uri, _ in warc_records(warcs) if uri == f"{site}{STORY_PATH}"]
    assert story_records.count("revisit") == 2  # the third and fourth fetches: the first page's bytes
    assert [row["version"] for row in reverted] == [1, 2, 3]
    texts = [(tmp_path / row["text_path"]).read_bytes() for row in reverted]
    assert texts[2] == texts[0] != texts[1]
    assert reverted[2]["text_sha256"] == reverted[0]["text_sha256"]
    assert again == reverted  # the same bytes once more: no version
    rebuilt = newsarchive("rebuild", "--warc", *map(str, warcs), "--out", str(tmp_path / "rebuilt"))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert read_corpus(tmp_path / "rebuilt") == reverted
    # the revisits derived before the responses whose payloads they repeat: the same corpus
    derive_files(tmp_path / "newest-first", reversed(warcs), workers=1)
    assert read_corpus(tmp_path / "newest-first") == reverted


def test_a_story_served_byte_for_byte_at_a_second_address_is_in_the_corpus_at_both(tmp_path):
    """The second address's fetch is archived as a revisit of the first's payload (one copy of the bytes).
    Before, its text was looked for at its own address only: the corpus had no row for it."""
    first, second, third = STORY_PATH, STORY_PATH.replace("/news/", "/world/"), STORY_PATH.replace("/news/", "/uk/")
    handler = type("Handler", (_OneStoryHandler,), {"story": article_html(7), "paths": (first, second)})
    with loopback_site(handler) as site:
        source = {"name": "twice", "start_urls": [f"{site}/"], "schedule": "0 * * * *"}
        config = write_config(None, tmp_path / "sources.toml", tmp_path, [source])
        assert newsarchive("run", "--config", str(config)).returncode == 0
        handler.paths = (first, second, third)  # one more address, in a later run: its payload is in an older WARC
        result = newsarchive("run", "--config", str(config))
        assert result.returncode == 0, result.stderr
    warcs = sorted((tmp_path / "warc").glob("*.warc.gz"))
    kinds = {uri: kind for kind, uri, _ in warc_records(warcs) if kind in ("response", "revisit")}
    assert sorted(kinds[site + path] for path in (first, second, third)) == ["response", "revisit", "revisit"]
    rows = read_corpus(tmp_path)
    assert sorted(row["url"] for row in rows) == sorted(site + path for path in (first, second, third))
    assert len({row["text_sha256"] for row in rows}) == 1
    assert len({row["dup_cluster"] for row in rows}) == 1 and sum(row["dup_canonical"] for row in rows) == 1
    rebuilt = newsarchive("rebuild", "--warc", *map(str, warcs), "--out", str(tmp_path / "rebuilt"))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert read_corpus(tmp_path / "rebuilt") == rows
    derive_files(tmp_path / "newest-first", reversed(warcs), workers=1)
    assert read_corpus(tmp_path / "newest-first") == rows
