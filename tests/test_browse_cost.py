"""What `newsarchive browse` costs: its pages read what they show, not the whole corpus.

Corpora are grown through the store's own API (``bench/browse.py``: 40 articles a day, every one
with the word "council"); SQLite's work is counted with its progress handler, on the connections
the pages use.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from archive_fixtures import fetch, free_port, running
from lxml import html as lxml_html
from lxml.html import HtmlElement
from bench.browse import ROOT, browser, english_article, grow_corpus, generated_article
from browse import corpus_view
from browse.corpus_view import MATCHES_COUNTED, Filters
from corpus.store import STORE_FILE, CorpusStore, ExtractedArticle

# rows: in both, each source has more articles than a search counts (``MATCHES_COUNTED``)
SMALL, LARGE = 3300, 9900

PAGE_REQUESTS = {
    "home page": lambda db: corpus_view.search(db, Filters()),
    "home page, page 3": lambda db: corpus_view.search(db, Filters(), offset=2 * corpus_view.PAGE_SIZE),
    "listing of a source": lambda db: corpus_view.search(db, Filters(source="gazette")),
    "listing of a language": lambda db: corpus_view.search(db, Filters(language="de")),
    "listing of the first three days": lambda db: corpus_view.search(db, Filters(date_from="2026-01-01",
                                                                                 date_to="2026-01-03")),
    "listing of second versions (none)": lambda db: corpus_view.search(db, Filters(version="2")),
    "listing of first versions": lambda db: corpus_view.search(db, Filters(version="1")),
    "listing by a part of a rare author's name": lambda db: corpus_view.search(db, Filters(author="rarel")),
    "listing by a name no author has": lambda db: corpus_view.search(db, Filters(author="Nobody")),
    "listing by a part of every author's name": lambda db: corpus_view.search(db, Filters(author="writer")),
    "search matching every article": lambda db: corpus_view.search(db, Filters(q="council")),
    "search matching every article of a source": lambda db: corpus_view.search(db, Filters(q="council",
                                                                                           source="gazette")),
    "source page summary": lambda db: corpus_view.source_summary(db, "gazette"),
}


def sqlite_work(archive: Path, request) -> int:
    """Thousands of SQLite virtual-machine instructions that ``request`` ran on a browser's connection."""
    ticks = []
    with corpus_view.connect(archive) as db:
        db.set_progress_handler(lambda: ticks.append(1), 1000)  # None: go on
        request(db)
    return len(ticks)


def test_the_home_page_listings_searches_and_source_pages_cost_the_same_in_a_corpus_three_times_larger(tmp_path):
    grow_corpus(tmp_path, SMALL)
    small = {name: sqlite_work(tmp_path, request) for name, request in PAGE_REQUESTS.items()}
    db = sqlite3.connect(tmp_path / STORE_FILE)  # as in a store from before it: the store's next opening makes it
    db.execute("DROP INDEX rows_by_version")
    db.close()
    grow_corpus(tmp_path, LARGE)
    large = {name: sqlite_work(tmp_path, request) for name, request in PAGE_REQUESTS.items()}
    grown = {name: (small[name], large[name]) for name in PAGE_REQUESTS if large[name] > 1.25 * small[name] + 5}
    assert not grown, f"SQLite's work (thousands of instructions) at {SMALL:,} and {LARGE:,} rows: {grown}"
    with corpus_view.connect(tmp_path) as db:
        rare = corpus_view.search(db, Filters(author="RARELY"))
    assert (rare.total, sorted(hit["author"] for hit in rare.hits)) == (2, ["Jo Rarely", "Jo Rarely"])
    # the plot of a source's articles per day reads a row per day, not the source's rows
    statements = []
    with corpus_view.connect(tmp_path) as db:
        db.set_trace_callback(statements.append)
        days, undated = corpus_view.articles_per_day(db, "gazette")
        plans = [detail for statement in statements
                 for *_, detail in db.execute("EXPLAIN QUERY PLAN " + statement)]
    assert not [plan for plan in plans if re.search(r"\brows\b", plan)], plans
    assert sum(count for _, count in days) == LARGE // 3 and undated == 0


def _counts(db: sqlite3.Connection) -> tuple[list, list, list, list]:
    return (sorted(db.execute("SELECT * FROM row_counts")), sorted(db.execute("SELECT * FROM source_days")),
            sorted(db.execute("SELECT * FROM author_rows")), sorted(db.execute("SELECT * FROM search_rows")))


def _counted_from_rows(db: sqlite3.Connection) -> tuple[list, list, list, list]:
    """The browser's counts (and its search's rows of each text) as the rows say them, read from every row."""
    language = "IFNULL(json_extract(line, '$.language'), '')"
    day = "IFNULL(substr(json_extract(line, '$.date'), 1, 10), '')"
    return (sorted(db.execute(f"SELECT source, {language} AS l, COUNT(*), SUM(version = 1) FROM rows"
                              " GROUP BY source, l")),
            sorted(db.execute(f"SELECT source, {day} AS d, COUNT(*) FROM rows WHERE version = 1 GROUP BY source, d")),
            sorted(db.execute("SELECT IFNULL(json_extract(line, '$.author'), '') AS a, COUNT(*) FROM rows GROUP BY a")),
            sorted(db.execute(f"SELECT t.id, record_id, source, {language}, url, version FROM rows"
                              " JOIN search_texts t ON t.sha256 = text_sha256")))


def _capture(url: str, fetched_at: str, text_seed: int, language: str, record: int,
             author: str = "A. Writer") -> ExtractedArticle:
    """Capture number ``record`` of ``url``: a text of its own for each ``text_seed``."""
    article = generated_article(0, random.Random(text_seed))
    return ExtractedArticle.prepared(article.source, url, fetched_at, article.warc_file, record,
                                     f"<urn:uuid:{record:08d}-1111-4000-8000-000000000000>", f"sha1:x{record}",
                                     document=replace(article.document, url=url, canonical_url=url, language=language,
                                                      author=author),
                                     extractor="bench")


def test_the_counts_the_browser_shows_follow_the_rows_through_new_versions_and_in_an_older_store(tmp_path):
    grow_corpus(tmp_path, 90)
    first = generated_article(3, random.Random(0))  # its URL and source
    with CorpusStore(tmp_path) as store:
        store.add([_capture(first.url, "2026-03-01T00:00:00Z", 1, "fr", record=1, author="B. Other")])  # v2, French
        store.add([_capture(first.url, "2025-12-01T00:00:00Z", 2, "de", record=2)])  # earlier: versions renumbered
        store.add([_capture(first.url, "2025-11-01T00:00:00Z", 2, "de", record=3)])  # its text before it: it goes
    db = sqlite3.connect(tmp_path / STORE_FILE)
    versions = db.execute("SELECT version, json_extract(line, '$.language') FROM rows WHERE url = ? ORDER BY version",
                          (first.url,)).fetchall()
    assert versions == [(1, "de"), (2, "en"), (3, "fr")]
    assert _counts(db) == _counted_from_rows(db)
    with corpus_view.connect(tmp_path) as view:
        summary = corpus_view.source_summary(view, first.source)
    assert (summary["rows"], summary["urls"]) == db.execute(
        "SELECT COUNT(*), COUNT(DISTINCT url) FROM rows WHERE source = ?", (first.source,)).fetchone()
    # a store from before the counts: they are made on its next opening, from its rows
    for statement in ("DROP TRIGGER rows_replaced", "DROP TRIGGER rows_counted", "DROP TRIGGER rows_uncounted",
                      "DROP TRIGGER rows_recounted", "DROP TABLE row_counts", "DROP TABLE source_days",
                      "DROP TRIGGER authors_counted", "DROP TRIGGER authors_uncounted",
                      "DROP TRIGGER authors_recounted", "DROP TABLE author_rows", "DROP TRIGGER search_rows_added",
                      "DROP TRIGGER search_rows_removed", "DROP TRIGGER search_rows_changed",
                      "DROP TRIGGER search_rows_text_removed",
                      "DROP TABLE search_rows"):
        db.execute(statement)
    db.commit()
    CorpusStore(tmp_path).close()
    assert _counts(db) == _counted_from_rows(db) and _counts(db)[0]
    db.close()


def test_a_word_in_every_article_reads_little_more_than_the_index_does_to_rank_its_newest_matches(tmp_path):
    """`q=council` read 1.9 MiB at 5,000 rows and 5.1 MiB at 50,000 (2.5 MiB at 9,900 here, 11 times what FTS5 read):
    each of the newest 1,000 matches was joined to its row through the index of text hashes, a page of its own."""
    grow_corpus(tmp_path, LARGE)
    with corpus_view.connect(tmp_path) as db:
        found = corpus_view.search(db, Filters(q="council"))
    assert (found.total, found.capped, len(found.hits)) == (MATCHES_COUNTED, True, corpus_view.PAGE_SIZE), found.total
    read, ranked = _kib_read(tmp_path, "council"), _kib_ranked(tmp_path, "council")
    assert read < 3 * ranked, f"KiB read: the search {read}, FTS5 ranking its newest matches {ranked}"


def test_a_word_in_every_article_costs_the_same_in_an_archive_three_times_larger(tmp_path):
    """FTS5's bm25 counts every match of each word for its weight, so `q=council` read more the more articles held
    it (500 KiB at 9,900 rows, more than 1.2 times what it read at 3,300; 380 now).  A word found in more texts than are ranked now reads
    what its newest matches are, and its hits come headline matches first, then newest first."""
    grow_corpus(tmp_path, SMALL)
    small = _kib_read(tmp_path, "council")
    grow_corpus(tmp_path, LARGE)
    large = _kib_read(tmp_path, "council")
    assert large < 1.2 * small, f"KiB read by q=council at {SMALL:,} rows {small}, at {LARGE:,} {large}"
    with corpus_view.connect(tmp_path) as db:
        found = corpus_view.search(db, Filters(q="council"), limit=3)
        either = corpus_view.search(db, Filters(q="council OR w1*"), limit=500)
    numbers = [int(hit["url"].rsplit("/", 1)[1]) for hit in found.hits]
    assert min(numbers) >= LARGE - 100, numbers  # from the last batch added (its texts are indexed in their own order)
    titled = [bool(re.search(r" w1[0-9]*$", hit["title"])) for hit in either.hits]
    assert either.capped and any(titled) and titled == sorted(titled, reverse=True), titled


def _rows_holding(archive: Path, words: set[str]) -> dict[int, bool]:
    """Per row whose text holds every one of ``words`` (read from its text file), its article number: whether its
    headline holds one of them."""
    db = sqlite3.connect(archive / STORE_FILE)
    found = {}
    for url, text_path in db.execute("SELECT url, text_path FROM rows"):
        headline, *_ = text = (archive / text_path).read_text(encoding="utf-8").lower().split("\n")
        if words <= set(re.findall(r"\w+", " ".join(text))):
            found[int(url.rsplit("/", 1)[1])] = bool(words & set(re.findall(r"\w+", headline)))
    db.close()
    return found


def test_a_common_word_beside_a_rare_one_finds_the_rows_of_both_and_costs_what_the_rare_one_does(tmp_path):
    """`q=the 250` (a word said 90 times in every article beside a number in one headline) read 328 KiB more than
    `q=250` at 3,300 rows and 988 more at 9,900 (116 and 132 now): the match was driven by the rare word, but bm25
    weighed "the" by counting every one of its matches.  Such a search now finds the same rows, those with the rare
    word in the headline first (ranked by bm25 of the rare word alone), and reads what its rare word's matches are,
    whatever the size."""
    grow_corpus(tmp_path, SMALL, english_article)
    small = _kib_read(tmp_path, "the 250") - _kib_read(tmp_path, "250")
    grow_corpus(tmp_path, LARGE, english_article)
    large = _kib_read(tmp_path, "the 250") - _kib_read(tmp_path, "250")
    assert large < 1.2 * small + 16, f"KiB q=the 250 read more than q=250 at {SMALL:,} rows {small}, at {LARGE:,} {large}"
    db = sqlite3.connect(tmp_path / STORE_FILE)
    (title,) = db.execute("SELECT json_extract(line, '$.title') FROM rows WHERE url LIKE '%/4950'").fetchone()
    db.close()
    rare = title.rsplit(" ", 1)[1]  # the random word of the headline of article 4950
    expected = _rows_holding(tmp_path, {"the", rare})
    with corpus_view.connect(tmp_path) as db:
        found = corpus_view.search(db, Filters(q=f"the {rare}"), limit=500)
    numbers = [int(hit["url"].rsplit("/", 1)[1]) for hit in found.hits]
    in_headline = [expected[number] for number in numbers]
    assert sorted(numbers) == sorted(expected) and in_headline == sorted(in_headline, reverse=True), (rare, numbers)
    assert in_headline[0] and found.total == len(expected) < MATCHES_COUNTED and not found.capped


def _story(number: int, headline: str, *paragraphs: str) -> ExtractedArticle:
    """Article ``number`` of the English corpus (after those grown), with ``headline`` and ``paragraphs``."""
    article = english_article(number, random.Random(number))
    return ExtractedArticle.prepared(article.source, article.url, article.fetched_at, article.warc_file, number,
                                     article.warc_record_id, article.payload_digest, extractor="bench",
                                     document=replace(article.document, title=headline, paragraphs=paragraphs))


def test_a_common_word_beside_a_rarer_one_shows_the_best_match_first_not_the_newest(tmp_path):
    """`q=the mayor` ("the" in every text) showed the mayor's stories newest first, those with "mayor" in the
    headline before the rest: bm25 was not asked, as it weighs "the" by reading every one of its matches.  The
    story about the mayor, in its headline and all through its text, is not the newest; it comes first now."""
    grown = MATCHES_COUNTED + 100
    grow_corpus(tmp_path, grown, english_article)
    stories = [_story(grown, "The mayor resigns", "The mayor resigned on Monday, the mayor's office said.",
                      "The mayor had led the city for ten years; the mayor thanked the voters.")]
    stories += [_story(number, f"The mayor opens the fair {number}", "The fair opened on Monday with the band.",
                       "The mayor cut the ribbon; the crowd cheered the clowns and the horses.")
                for number in range(grown + 1, grown + 4)]
    stories += [_story(number, f"The harbour {number}", "The ferry was late on Monday; the mayor was on it.")
                for number in range(grown + 4, grown + 6)]
    with article_pages(tmp_path, stories) as (_, port):
        status, _, body = fetch(f"http://127.0.0.1:{port}/?q=the+mayor&format=json&limit=500")
    assert status == 200, body[:300]
    found = json.loads(body)
    numbers = [int(hit["url"].rsplit("/", 1)[1]) for hit in found["hits"]]
    assert found["total"] == len(stories) and numbers[0] == grown, numbers
    assert sorted(numbers[1:4]) == list(range(grown + 1, grown + 4)), numbers  # "mayor" in the headline before


def test_a_search_matching_more_than_it_counts_says_so_and_pages_on(tmp_path):
    grow_corpus(tmp_path, MATCHES_COUNTED + 50)
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{tmp_path}"\n\n[[sources]]\nname = "gazette"\n'
                      'sitemaps = ["http://127.0.0.1:9/sitemap.xml"]\n', encoding="utf-8")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running([sys.executable, "-m", "cli", "browse", "--config", str(config), "--port", str(port),
                  "--no-replay"], base + "/"):
        status, _, body = fetch(base + "/?q=council")
        assert status == 200
        shown = re.search(r'<p class="muted" id="total">([^·]*)', body.decode()).group(1).split()
        assert shown[:3] == [f"{MATCHES_COUNTED}+", "matching", "articles"], shown
        assert "more →" in body.decode()
        status, _, body = fetch(base + "/?q=council&format=json&limit=500&p=2")
        found = json.loads(body)
        assert (found["total"], found["capped"], len(found["hits"])) == (MATCHES_COUNTED, True, 500)
        status, _, body = fetch(base + "/?format=json")  # the listing's total is counted, whatever its size
        assert json.loads(body)["total"] == MATCHES_COUNTED + 50


def test_a_source_of_many_years_is_plotted_by_week_or_month_with_every_article_counted():
    """One bar a day of ten years drew 3,650 bars (a third of a second a view, growing with the source's age)."""
    from datetime import date, timedelta

    from browse import plots

    frame = plots.articles_per_day([(date(2016, 1, 1), 1)]).count('<g id="patch_') - 1  # (figure, axes, spines)
    for span, unit, most in ((30, "day", 30), (500, "week", 73), (3650, "month", 121)):
        days = [(date(2016, 1, 1) + timedelta(days=number), 1 + number % 7) for number in range(span)]
        svg = plots.articles_per_day(days)
        assert f"articles a {unit}" in svg
        bars = svg.count('<g id="patch_') - frame
        assert bars <= most, (span, bars)
        bins, _, _ = plots._binned(days)
        assert sum(count for _, count in bins) == sum(count for _, count in days)


def test_the_runs_page_lists_the_newest_runs_and_pages_on_to_every_older_one(tmp_path):
    """Before: the newest 200 runs and nothing said of the others (the README said every run's report)."""
    from browse.app import RUNS_LISTED
    from test_run_reports import old_reports

    grow_corpus(tmp_path, 10)
    old_reports(tmp_path, RUNS_LISTED * 2 + 5)
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{tmp_path}"\n\n[[sources]]\nname = "gazette"\n'
                      'sitemaps = ["http://127.0.0.1:9/sitemap.xml"]\n', encoding="utf-8")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    listed, page_url = [], base + "/runs"
    with running([sys.executable, "-m", "cli", "browse", "--config", str(config), "--port", str(port),
                  "--no-replay"], base + "/"):
        while page_url:
            status, _, body = fetch(page_url)
            assert status == 200
            page = body.decode()
            listed.append(len(re.findall(r'<a href="/runs/[^"]+\.html">', page)))
            older = re.search(r'<a id="older" href="([^"]+)"', page)
            page_url = base + older.group(1) if older else None
    assert listed == [RUNS_LISTED, RUNS_LISTED, 5]


def _minutes(paragraphs: int) -> ExtractedArticle:
    """A council's minutes of ``paragraphs`` items (about 95 characters each): 1,000 are about 95 kB of text."""
    article = generated_article(0, random.Random(7))
    url = "http://gazette.example/news/minutes"
    items = tuple(f"Minute item {number}: the council discussed agenda item number {number} at length and"
                  " resolved to defer it." for number in range(paragraphs))
    return ExtractedArticle.prepared(article.source, url, "2027-01-01T00:00:00Z", article.warc_file, 99999,
                                     "<urn:uuid:99999999-1111-4000-8000-000000000000>", "sha1:minutes",
                                     document=replace(article.document, url=url, canonical_url=url, paragraphs=items),
                                     extractor="bench")


def _search_cpu(archive: Path, query: str) -> tuple[float, dict]:
    """The least CPU time of three searches for ``query`` (SQLite's progress handler does not tick inside
    FTS5's snippet(), where the time went), and the first hit."""
    spent = []
    for _ in range(3):
        with corpus_view.connect(archive) as db:
            started = time.thread_time()
            result = corpus_view.search(db, Filters(q=query))
            spent.append(time.thread_time() - started)
    return min(spent), result.hits[0]


def test_a_search_costs_the_same_whatever_the_length_of_a_text_it_finds(tmp_path):
    """One 2.5 MB article made `q=minute item` take 3.4 s: FTS5's snippet() weighed every match in it
    against every other, for a snippet of 32 words."""
    spent = {}
    for size, paragraphs in (("1x", 1000), ("10x", 10000)):
        archive = tmp_path / size
        grow_corpus(archive, 50)
        with CorpusStore(archive) as store:
            store.add([_minutes(paragraphs)])
        spent[size], hit = _search_cpu(archive, "minute item")
        assert "<mark>Minute</mark> <mark>item</mark> 0" in hit["snippet_html"], hit["snippet_html"]
    assert spent["10x"] <= 2 * spent["1x"] + 0.05, spent
    # a store indexed before the excerpts gets them on its next opening
    db = sqlite3.connect(archive / STORE_FILE)
    db.execute("DROP TABLE search_excerpts")
    db.close()
    CorpusStore(archive).close()
    upgraded, hit = _search_cpu(archive, "minute item")
    assert upgraded <= 2 * spent["1x"] + 0.05 and "<mark>Minute</mark>" in hit["snippet_html"], (upgraded, spent)



def test_a_prefix_search_reads_the_index_for_its_prefixes_once_not_once_per_hit(tmp_path):
    """`q=c*` took 0.14 s in 5,000 articles and `q=c* h* s*` 0.29 s: each of a page's 20 hits had its
    matches marked by matching the query in the whole index again, a prefix looked up among every text."""
    grow_corpus(tmp_path, 10000)
    query = "w1* w2*"  # each a prefix of 1,111 words of the corpus's vocabulary
    spent, hit = _search_cpu(tmp_path, query)
    assert re.search(r"<mark>w[12]\d*</mark>", hit["snippet_html"]), hit["snippet_html"]
    looked_up = []
    for _ in range(3):
        with corpus_view.connect(tmp_path) as db:
            started = time.thread_time()
            db.execute("SELECT count(*) FROM (SELECT rowid FROM search WHERE search MATCH ? ORDER BY rowid DESC"
                       " LIMIT ?)", (query, MATCHES_COUNTED + 1)).fetchone()
            looked_up.append(time.thread_time() - started)
    assert spent <= 3 * min(looked_up) + 0.02, (spent, min(looked_up))


def _copies(count: int) -> list[ExtractedArticle]:
    """One article's text under ``count`` URLs of its source (a story the site serves at many addresses)."""
    article = generated_article(0, random.Random(11))
    return [ExtractedArticle.prepared(article.source, url, f"2027-01-01T00:00:{number % 60:02d}Z", article.warc_file,
                                      number, f"<urn:uuid:{number:08d}-2222-4000-8000-000000000000>", f"sha1:c{number}",
                                      document=replace(article.document, url=url, canonical_url=url), extractor="bench")
            for number, url in enumerate(f"http://gazette.example/news/copy-{n}" for n in range(count))]


def test_a_search_finding_one_text_at_many_urls_shows_each_with_its_matches_marked(tmp_path):
    """Before, the page of hits sharing a text was a server error: its text went twice into the index the
    matches are marked in ('constraint failed')."""
    with CorpusStore(tmp_path) as store:
        store.add(_copies(30))
    with corpus_view.connect(tmp_path) as db:
        found = corpus_view.search(db, Filters(q="council"))
    assert found.total == 30 and len(found.hits) == corpus_view.PAGE_SIZE
    assert all("<mark>Council</mark>" in hit["snippet_html"] for hit in found.hits)


@contextmanager
def article_pages(root: Path, articles: list[ExtractedArticle]) -> Iterator[tuple[Callable[[str], HtmlElement], int]]:
    """The browser over a corpus of ``articles``: a function from an article's page id to its page, parsed, and the port."""
    with CorpusStore(root) as store:
        store.add(articles)
    port = free_port()

    def page(article_id: str) -> HtmlElement:
        status, _, body = fetch(f"http://127.0.0.1:{port}/article/{article_id}")
        assert status == 200, body[:300]
        return lxml_html.fromstring(body)

    with browser(ROOT, root, port):
        yield page, port


def test_an_article_page_lists_the_first_near_duplicates_and_links_to_all_of_them(tmp_path):
    """An article served at 5,000 URLs had a page of 583 kB listing 4,999 copies, growing with them."""
    with article_pages(tmp_path, _copies(200)) as (article_page, port):
        page = article_page("00000007-2222-4000-8000-000000000000")
        assert len(page.xpath("//table[@id='copies']/tr")) == 50  # (COPIES_LISTED)
        [every] = page.xpath("//p[@id='more-copies']/a/@href")
        status, _, body = fetch(f"http://127.0.0.1:{port}{every}&format=json&limit=500")
        assert status == 200 and json.loads(body)["total"] == 200


def _versions(count: int) -> list[ExtractedArticle]:
    """``count`` captures of one URL, each with a text of its own (a live page refetched for years)."""
    article = generated_article(0, random.Random(12))
    return [ExtractedArticle.prepared(article.source, article.url, f"2027-01-{1 + number // 24:02d}T{number % 24:02d}:00:00Z",
                                      article.warc_file, number, f"<urn:uuid:{number:08d}-3333-4000-8000-000000000000>",
                                      f"sha1:v{number}", extractor="bench",
                                      document=replace(article.document, paragraphs=(f"Update {number}: the council met.",
                                                                                     *article.document.paragraphs)))
            for number in range(count)]


def _listed_versions(page: HtmlElement) -> list[str]:
    return [" ".join(cell.text_content().split()) for cell in page.xpath("//table[@id='versions']/tr/td[1]")]


def test_an_article_page_lists_the_versions_nearest_it_and_links_to_the_first_and_the_latest(tmp_path):
    """A live page refetched every run for years has thousands of versions: each of their pages listed them all."""
    with article_pages(tmp_path, _versions(200)) as (article_page, _):
        page = article_page("00000100-3333-4000-8000-000000000000")
        listed = _listed_versions(page)
        assert len(listed) == 50 and "version 101 (this one)" in listed, listed  # (VERSIONS_LISTED, around it)
        assert listed[0] == "version 76" and listed[-1] == "version 125", listed
        ends = page.xpath("//p[@id='more-versions']/a/@href")
        assert ends == ["/article/00000000-3333-4000-8000-000000000000",
                        "/article/00000199-3333-4000-8000-000000000000"], ends
        assert "Versions 76 to 125 of 200" in page.xpath("string(//p[@id='more-versions'])")
        listed = _listed_versions(article_page("00000199-3333-4000-8000-000000000000"))
        assert listed[0] == "version 151" and listed[-1] == "version 200 (this one)", listed  # the latest: 49 before it


def _live_pages(pages: int, first: int, last: int) -> list[ExtractedArticle]:
    """Versions ``first`` + 1 to ``last`` of ``pages`` live pages of the gazette, refetched each hour in 2027, each
    version a text of its own."""
    article, rng = generated_article(0, random.Random(13)), random.Random(first)
    urls = [f"http://gazette.example/live/{page}" for page in range(pages)]
    return [ExtractedArticle.prepared(
        article.source, url,
        f"2027-{1 + number // 720:02d}-{1 + number // 24 % 30:02d}T{number % 24:02d}:{page:02d}:00Z",
        article.warc_file, number * pages + page, f"<urn:uuid:{number:08d}-{page:04d}-4444-8000-000000000000>",
        f"sha1:live{page}.{number}", extractor="bench", document=replace(
            article.document, url=url, canonical_url=url,
            paragraphs=(" ".join(f"w{rng.randrange(5000)}" for _ in range(40)),)))
        for number in range(first, last) for page, url in enumerate(urls)]


def test_a_listing_costs_the_same_however_many_versions_its_newest_articles_have_and_says_what_it_leaves_out(tmp_path):
    """Each article is listed once, its newest version: a page skips the older versions of those it shows among its
    rows and at most ``MATCHES_COUNTED`` more, so five live pages refetched 900 times cost the home page what they
    cost at 300 versions, and the articles behind them are said to be unlisted there, not silently missing."""
    grow_corpus(tmp_path, 200)
    with CorpusStore(tmp_path) as store:
        store.add(_live_pages(5, 0, 300))
    home = sqlite_work(tmp_path, lambda db: corpus_view.search(db, Filters()))
    with CorpusStore(tmp_path) as store:
        store.add(_live_pages(5, 300, 900))
    assert sqlite_work(tmp_path, lambda db: corpus_view.search(db, Filters())) <= 1.25 * home + 5, home
    with corpus_view.connect(tmp_path) as db:
        listed = corpus_view.search(db, Filters())
        by_source = corpus_view.search(db, Filters(source="courier"))
    assert (listed.total, [hit["versions"] for hit in listed.hits], listed.more) == (205, [900] * 5, False)
    assert listed.cut_short and not by_source.cut_short and len(by_source.hits) == corpus_view.PAGE_SIZE


def _rchar() -> int:
    """Bytes this process has read (SQLite's reads, cached by the system or not)."""
    return next(int(line.split()[1]) for line in Path("/proc/self/io").read_text().splitlines()
                if line.startswith("rchar:"))


def _kib_read(archive: Path, query: str) -> int:
    """KiB a search for ``query`` read from the store, on a connection of its own (its cache empty): SQLite's
    progress handler does not tick inside FTS5's reading of its index, where a prefix's cost went."""
    with corpus_view.connect(archive) as db:
        before = _rchar()
        corpus_view.search(db, Filters(q=query))
        return (_rchar() - before) // 1024


def _kib_ranked(archive: Path, query: str) -> int:
    """KiB FTS5 reads to rank the newest matches of ``query`` (bm25 reads every match's entry for its weights)."""
    with corpus_view.connect(archive) as db:
        before = _rchar()
        db.execute("SELECT rowid, bm25(search, 5.0, 1.0) FROM search WHERE search MATCH ? ORDER BY rowid DESC LIMIT ?",
                   (query, MATCHES_COUNTED + 1)).fetchall()
        return (_rchar() - before) // 1024


OLD_INDEX = "CREATE VIRTUAL TABLE search USING fts5(headline, body, tokenize = 'unicode61 remove_diacritics 2')"


def _made_before_prefix_indexes(archive: Path) -> None:
    """The store's index as it was made before it had prefix indexes, its content without the zero-width spaces
    that part Chinese, Japanese and Korean characters."""
    db = sqlite3.connect(archive / STORE_FILE, isolation_level=None)
    db.execute("ALTER TABLE search RENAME TO search_now")
    db.execute(OLD_INDEX)
    db.execute("INSERT INTO search (rowid, headline, body) SELECT rowid, replace(headline, char(8203), ''),"
               " replace(body, char(8203), '') FROM search_now")
    db.execute("DROP TABLE search_now")
    db.close()


def test_a_prefix_search_costs_what_its_hits_cost_not_the_words_it_begins_in_a_corpus_three_times_larger(tmp_path):
    """`q=c*` took 0.06 s at 5,000 rows and 0.38 s at 50,000: FTS5 merged the entries of every word the prefix
    begins.  ``w*`` begins all 5,000 words of the corpus's vocabulary, ``w1*`` 1,111, ``w17*`` 11.  A search grows no
    faster than FTS5's own ranking of its matches, whose bm25 reads the entry of every match (of ``w*``, every
    article's 90 words), and reads less than three times what a word in every article does."""
    prefixes = ("w*", "w1*", "w17*")
    grow_corpus(tmp_path, SMALL)
    small = {query: (_kib_read(tmp_path, query), _kib_ranked(tmp_path, query)) for query in ("council", *prefixes)}
    grow_corpus(tmp_path, LARGE)
    large = {query: (_kib_read(tmp_path, query), _kib_ranked(tmp_path, query)) for query in ("council", *prefixes)}
    grown = {query: (small[query], large[query]) for query in prefixes
             if large[query][0] > 1.5 * large[query][1] / small[query][1] * small[query][0]}
    assert not grown, f"(KiB read, KiB FTS5 read ranking) at {SMALL:,} and {LARGE:,} rows: {grown}"
    assert large["w*"][0] < 3 * large["council"][0], large


def test_articles_an_older_version_wrote_into_the_store_are_found_by_searches_after_the_next_opening(tmp_path, caplog):
    """A version from before ``search_rows`` (69e1f19^) indexes a text after its rows went in, so the trigger finds
    no text then and it writes no row there: its articles were never found, even after this version wrote more
    (checked with that checkout).  Its writing is made here as it leaves the store: the rows of its texts deleted."""
    grow_corpus(tmp_path, 20)
    with CorpusStore(tmp_path) as store:
        store.add([generated_article(number, random.Random(number)) for number in range(20, 25)])
    db = sqlite3.connect(tmp_path / STORE_FILE, isolation_level=None)
    db.execute("DELETE FROM search_rows WHERE text_id IN (SELECT id FROM search_texts ORDER BY id DESC LIMIT 5)")
    db.close()
    with CorpusStore(tmp_path) as store:  # this version writes again
        store.add([generated_article(25, random.Random(25))])
    with corpus_view.connect(tmp_path) as db:
        found = corpus_view.search(db, Filters(q="council"), limit=100)
    assert sorted(int(hit["url"].rsplit("/", 1)[1]) for hit in found.hits) == list(range(26)), found.hits
    assert [record.getMessage() for record in caplog.records if "older version" in record.getMessage()] == [
        "newsarchive: 5 articles an older version indexed are now found by searches"]


def test_an_index_made_before_prefix_indexes_is_made_again_once_and_a_kill_during_it_leaves_the_old_one(tmp_path):
    """Made again, it has the prefix indexes, and a word inside a Chinese sentence is found."""
    grow_corpus(tmp_path, LARGE)
    article = generated_article(LARGE, random.Random(0))
    chinese = ExtractedArticle.prepared(article.source, article.url, article.fetched_at, article.warc_file, LARGE,
                                        f"<urn:uuid:{LARGE:08d}-0000-4000-8000-000000000000>", "sha1:zh",
                                        document=replace(article.document, paragraphs=("市议会周一批准了新港口的预算。",)),
                                        extractor="bench")
    with CorpusStore(tmp_path) as store:
        store.add([chinese])
    _made_before_prefix_indexes(tmp_path)
    with corpus_view.connect(tmp_path) as db:
        found = corpus_view.search(db, Filters(q="w17*"), limit=500)
        assert corpus_view.search(db, Filters(q="港口")).total == 0
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{tmp_path}"\n\n[[sources]]\nname = "gazette"\n'
                      'sitemaps = ["http://127.0.0.1:9/sitemap.xml"]\n', encoding="utf-8")
    export = [sys.executable, "-m", "cli", "export", "--config", str(config), "--out", str(tmp_path / "out.jsonl")]
    opening = subprocess.Popen(export, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    said = opening.stderr.readline()
    opening.kill()  # while it makes the index again
    opening.wait()
    assert "search index" in said, said
    with corpus_view.connect(tmp_path) as db:  # the old index, as it was
        assert db.execute("SELECT sql FROM sqlite_master WHERE name = 'search'").fetchone() == (OLD_INDEX,)
        assert corpus_view.search(db, Filters(q="w17*"), limit=500).hits == found.hits
    lines = []
    for _ in range(2):
        done = subprocess.run(export, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        lines.append([line for line in done.stderr.splitlines() if "search index" in line])
    assert [len(said) for said in lines] == [1, 0], lines
    with corpus_view.connect(tmp_path) as db:
        assert corpus_view.search(db, Filters(q="w17*"), limit=500).hits == found.hits
        assert [hit["url"] for hit in corpus_view.search(db, Filters(q="港口")).hits] == [chinese.url]
    assert _kib_read(tmp_path, "w*") < 3 * _kib_read(tmp_path, "council")
