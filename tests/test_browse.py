"""`newsarchive browse` over a real crawl of the demo sites, driven in headless Chromium (Debian's
``chromium`` and ``chromedriver``, through Selenium), with pywb beside it for the originals.

Screenshots of every page visited are kept in the module's tmp dir (``screenshots/``).
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import socket
import sys
import urllib.parse
from pathlib import Path

import pytest
from lxml import html as lxml_html
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from archive_fixtures import crawl_demo, fetch, free_port, newsarchive, running
from browse.corpus_view import page_id
from corpus.export import read_corpus
from demo.farm import article_html
from test_last_seen import crawled, story_captures

CHANGED_SLUG_SITE = "gazette"
LATE_PARAGRAPH = "Late update: the committee will hear objections from the boating club again in March."
FORMULA_HEADLINE = '=HYPERLINK("http://127.0.0.1:9/x","Click for the ferry timetable")'


def change_an_article(site) -> None:
    """One article gets a paragraph more, and one headline that a spreadsheet would run is published."""
    article = site.articles(CHANGED_SLUG_SITE)[0]
    site.set_article(CHANGED_SLUG_SITE, article.slug, paragraphs=[*article.paragraphs, LATE_PARAGRAPH])
    site.set_article("herald", "ferry-timetable-formula", title=FORMULA_HEADLINE,
                     paragraphs=["The spreadsheet of the winter ferry timetable is published on Monday, the harbour "
                                 "office said, after weeks of talks with the operators about the early sailings.",
                                 "Passengers will find the times of every crossing in it, with the changes for the "
                                 "holidays marked, and the office will print copies for the library and the quay.",
                                 "Operators said the new times keep the last evening sailing that commuters asked for "
                                 "at the public meeting in October, while the first morning boat leaves earlier."])


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> dict:
    """Two runs of the demo sites; between them an article changes (so it has two versions)."""
    return crawl_demo(tmp_path_factory.mktemp("browse"), runs=2, between_runs=change_an_article)


@pytest.fixture(scope="module")
def browser_app(archive) -> dict:
    port, replay_port = free_port(), free_port()
    command = [sys.executable, "-m", "cli", "browse", "--config", str(archive["config"]), "--port", str(port),
               "--replay-port", str(replay_port)]
    with running(command, f"http://127.0.0.1:{port}/") as process:
        yield {"base": f"http://127.0.0.1:{port}", "replay": f"http://127.0.0.1:{replay_port}/archive",
               "process": process}


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert binary and driver, "the browser tests need Debian's chromium and chromium-driver (./quickstart test installs them)"
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1200,1400"):
        options.add_argument(argument)
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    chrome.screenshots = tmp_path_factory.mktemp("screenshots")
    try:
        yield chrome
    finally:
        chrome.quit()


def shot(chrome, name: str) -> Path:
    path = chrome.screenshots / f"{name}.png"
    assert chrome.save_screenshot(str(path))
    return path


def loaded_from(chrome) -> set[str]:
    """The hosts of every resource the current page loaded."""
    urls = chrome.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    return {urllib.parse.urlsplit(url).hostname for url in urls}


def words(text_file: Path) -> set[str]:
    """The words of a text as the index tokenizes them (ASCII texts: lowercase runs of letters and digits)."""
    return set(re.findall(r"[a-z0-9]+", text_file.read_text(encoding="utf-8").lower()))


def wait(chrome, condition, timeout: float = 30):
    return WebDriverWait(chrome, timeout).until(condition)


def json_search(base: str, **params: str) -> dict:
    status, _, body = fetch(f"{base}/?{urllib.parse.urlencode({**params, 'format': 'json', 'limit': '500'})}")
    assert status == 200, body
    return json.loads(body)


def newest_of_each_article(rows: list[dict]) -> list[dict]:
    """Of ``rows``, each article's (source and URL) of the highest version: what a search lists."""
    newest = {}
    for row in rows:
        article = row["source"], row["url"]
        if article not in newest or row["version"] > newest[article]["version"]:
            newest[article] = row
    return list(newest.values())


def test_the_originals_replay_as_soon_as_the_browser_serves(browser_app):
    """The app's first page links to pywb: pywb answers once the app does (first of this module's tests)."""
    replay_port = int(browser_app["replay"].split(":")[2].split("/")[0])
    socket.create_connection(("127.0.0.1", replay_port), timeout=2).close()


def test_search_an_article_and_its_original_in_the_replay(archive, browser_app, chromium):
    rows = read_corpus(archive["out"])
    base = browser_app["base"]
    chromium.get(base + "/")
    assert chromium.find_element(By.ID, "total").text.startswith(f"{len(newest_of_each_article(rows))} articles")
    shot(chromium, "1-home")

    box = chromium.find_element(By.NAME, "q")
    box.send_keys("footbridge")
    box.submit()
    wait(chromium, expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".hit mark")))
    marks = {element.text.lower() for element in chromium.find_elements(By.CSS_SELECTOR, ".hit mark")}
    assert marks == {"footbridge"}
    expected = {row["title"] for row in rows if "footbridge" in words(archive["out"] / row["text_path"])}
    titles = [element.text for element in chromium.find_elements(By.CSS_SELECTOR, ".hit h3")]
    assert expected and set(titles) == expected
    shot(chromium, "2-search")

    chromium.find_element(By.CSS_SELECTOR, ".hit h3 a").click()
    heading = wait(chromium, expected_conditions.presence_of_element_located((By.TAG_NAME, "h1"))).text
    row = next(row for row in newest_of_each_article(rows) if row["title"] == titles[0])
    assert heading == row["title"]
    provenance = chromium.find_element(By.ID, "provenance").text
    for name in ("warc_file", "warc_record_id", "payload_digest"):
        assert row[name] in provenance
    assert str(row["warc_offset"]) in provenance
    assert loaded_from(chromium) <= {"127.0.0.1"}
    shot(chromium, "3-article")

    chromium.find_element(By.ID, "replay").click()
    wait(chromium, expected_conditions.frame_to_be_available_and_switch_to_it((By.ID, "replay_iframe")))
    wait(chromium, lambda chrome: row["title"] in chrome.find_element(By.TAG_NAME, "body").text)
    chromium.switch_to.default_content()
    assert chromium.current_url.startswith(browser_app["replay"])
    shot(chromium, "4-replay")


def test_an_article_page_lists_its_versions_and_near_duplicates(archive, browser_app, chromium):
    rows = read_corpus(archive["out"])
    [latest] = [row for row in rows if row["version"] == 2]
    assert latest["source"] == CHANGED_SLUG_SITE
    page = latest["warc_record_id"].strip("<>").removeprefix("urn:uuid:")
    chromium.get(f"{browser_app['base']}/article/{page}")
    assert LATE_PARAGRAPH in chromium.find_element(By.CLASS_NAME, "text").text
    chromium.find_element(By.LINK_TEXT, "version 1").click()
    wait(chromium, expected_conditions.url_contains("/article/"))
    assert LATE_PARAGRAPH not in chromium.find_element(By.CLASS_NAME, "text").text
    copies = [row for row in rows if row["dup_cluster"] == latest["dup_cluster"] and row is not latest]
    listed = chromium.find_elements(By.CSS_SELECTOR, "#copies tr")
    assert copies and len(listed) == len(copies)  # version 1 at least; not the page's own row
    shot(chromium, "5-versions")


def test_source_pages_plot_articles_per_day_and_runs(archive, browser_app, chromium):
    chromium.get(f"{browser_app['base']}/source/herald")
    for figure in ("per-day", "runs-plot"):
        svg = chromium.find_element(By.CSS_SELECTOR, f"#{figure} svg")
        assert svg.size["width"] > 300 and svg.size["height"] > 100
    bars = chromium.find_elements(By.CSS_SELECTOR, "#per-day svg g[id^=patch]")
    herald_days = {row["date"][:10] for row in read_corpus(archive["out"]) if row["source"] == "herald"}
    assert len(bars) >= len(herald_days)
    assert loaded_from(chromium) <= {"127.0.0.1"}
    shot(chromium, "6-source")


def test_runs_are_listed_and_each_has_a_report_a_person_reads(archive, browser_app, chromium):
    reports = sorted((archive["out"] / "runs").glob("*.json"))
    assert len(reports) == 2 and all(path.with_suffix(".html").exists() for path in reports)
    chromium.get(f"{browser_app['base']}/runs")
    links = chromium.find_elements(By.CSS_SELECTOR, "#runs a")
    assert len(links) == 2
    links[0].click()  # the newest
    wait(chromium, expected_conditions.presence_of_element_located((By.ID, "sources")))
    report = json.loads(reports[-1].read_text())
    table = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
             for row in chromium.find_elements(By.CSS_SELECTOR, "#sources tr")[1:]]
    assert [(cells[0], *map(int, (cells[2], cells[3], cells[4], cells[5], cells[7]))) for cells in table] == [
        (source["name"], source["fetched"], source["new_articles"], source["new_versions"], source["unchanged"],
         source["failed_fetches"]) for source in report["sources"]]
    assert len(chromium.find_elements(By.CSS_SELECTOR, "figure svg")) == len(report["sources"])
    shot(chromium, "7-run")


def test_filters_narrow_the_search_as_the_corpus_says(archive, browser_app):
    rows = read_corpus(archive["out"])
    base = browser_app["base"]

    def ids(found: dict) -> set[str]:
        assert found["total"] == len(found["hits"])
        return {hit["record_id"] for hit in found["hits"]}

    def rows_where(test) -> set[str]:  # each article's newest version passing ``test``
        return {row["warc_record_id"] for row in newest_of_each_article([row for row in rows if test(row)])}

    assert ids(json_search(base)) == rows_where(lambda row: True)
    assert ids(json_search(base, source="courier")) == rows_where(lambda row: row["source"] == "courier")
    author = rows[0]["author"].split()[-1].lower()
    assert ids(json_search(base, author=author)) == rows_where(lambda row: author in (row["author"] or "").lower())
    assert ids(json_search(base, date_from="2026-11-17", date_to="2026-11-18")) == rows_where(
        lambda row: row["date"] and "2026-11-17" <= row["date"][:10] <= "2026-11-18")
    assert ids(json_search(base, version="2")) == rows_where(lambda row: row["version"] == 2)
    cluster = max(rows, key=lambda row: sum(other["dup_cluster"] == row["dup_cluster"] for other in rows))["dup_cluster"]
    assert len(ids(json_search(base, cluster=cluster))) >= 2
    assert ids(json_search(base, cluster=cluster)) == rows_where(lambda row: row["dup_cluster"] == cluster)
    # words and filters together; a query that is not FTS5 syntax is searched as words
    council = rows_where(lambda row: "council" in words(archive["out"] / row["text_path"]) and row["source"] == "gazette")
    assert council and ids(json_search(base, q="council", source="gazette")) == council
    assert json_search(base, q='council "')["note"]
    status, _, body = fetch(f"{base}/?date_from=November&format=json")
    assert status == 400 and body.decode().strip() == "date from: 'November' is not a date like 2026-11-20"
    status, _, body = fetch(f"{base}/?q=footbridge&format=csv")
    assert status == 200 and body.decode().splitlines()[0].startswith("id,source,url,version")


@pytest.mark.parametrize("damage", ["missing", "unreadable"])
def test_an_article_whose_text_file_is_missing_or_unreadable_shows_its_page_and_how_to_write_it_again(
        damage, archive, browser_app):
    row = read_corpus(archive["out"])[0]
    text_file = archive["out"] / row["text_path"]
    aside = text_file.with_name(text_file.name + ".aside")
    text_file.rename(aside)
    if damage == "unreadable":  # bytes changed on disk: not UTF-8 any more
        text_file.write_bytes(b"\xff\xfe\x00broken")
    try:
        status, _, body = fetch(f"{browser_app['base']}/article/{row['warc_record_id'][10:-1]}")
    finally:
        aside.replace(text_file)
    assert status == 200, body[:300]
    page = lxml_html.fromstring(body)
    said = " ".join(page.xpath("string(//p[@id='text-missing'])").split())
    assert said.startswith(f"Its text file, {row['text_path']}, {'is missing' if damage == 'missing' else 'cannot be read ('}")
    assert said.endswith(": newsarchive check --repair writes it again.")
    assert row["warc_file"] in page.xpath("string(//dl[@id='provenance'])")


def test_page_and_version_numbers_past_any_article_find_nothing_rather_than_fail(archive, browser_app):
    base = browser_app["base"]
    total = len(newest_of_each_article(read_corpus(archive["out"])))
    council = json_search(base, q="council")["total"]
    for query, matching in (("p=99999999999999999999", total), ("p=99999999999999999999&q=council", council),
                            ("version=99999999999999999999999", 0)):
        status, _, body = fetch(f"{base}/?{query}&format=json")
        assert status == 200, (query, body[:300])
        assert json.loads(body) == {"total": matching, "hits": [], "note": ""}
        status, _, body = fetch(f"{base}/?{query}")  # the page as a person sees it
        assert status == 200, (query, body[:300])


def test_a_run_report_without_its_html_is_drawn_from_its_json(archive, browser_app):
    report = sorted((archive["out"] / "runs").glob("*.json"))[0]
    written = report.with_suffix(".html").read_bytes()
    report.with_suffix(".html").unlink()
    try:
        status, _, body = fetch(f"{browser_app['base']}/runs/{report.stem}.html")
    finally:
        report.with_suffix(".html").write_bytes(written)
    assert status == 200
    page = lxml_html.fromstring(body)
    assert [row.xpath("td[1]")[0].text for row in page.xpath("//table[@id='sources']/tr")[1:]] == [
        source["name"] for source in json.loads(report.read_text())["sources"]]


def test_a_busy_port_or_an_archive_without_a_corpus_is_one_line(archive, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = newsarchive("browse", "--config", str(archive["config"]), "--port", str(port), "--no-replay")
    assert result.returncode == 1
    assert result.stderr == f"newsarchive: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    empty = tmp_path / "sources.toml"
    empty.write_text(archive["config"].read_text().replace(str(archive["out"]), str(tmp_path / "none")))
    (tmp_path / "none").mkdir()  # an archive with no corpus yet (one not there is test_operator_faults.py's)
    result = newsarchive("browse", "--config", str(empty), "--no-replay")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "holds no corpus yet" in result.stderr


def test_runs_before_a_value_that_is_no_run_id_is_refused_in_one_line(archive, browser_app):
    status, _, body = fetch(f"{browser_app['base']}/runs?before=abc")
    assert status == 400
    assert body.decode() == "before: 'abc' is not a run id like 20261120T101500.000Z\n"


def test_a_date_that_is_no_calendar_day_is_refused_in_one_line(archive, browser_app):
    for name, value in (("date_from", "2026-13-45"), ("date_to", "2026-02-30"), ("date_from", "2026-00-10")):
        status, _, body = fetch(f"{browser_app['base']}/?{name}={value}&format=json")
        assert status == 400
        assert body.decode() == f"{name.replace('_', ' ')}: '{value}' is not a date like 2026-11-20\n"
    status, _, body = fetch(f"{browser_app['base']}/?date_from=2024-02-29&format=json")  # a leap day is one
    assert status == 200


def test_the_csv_export_prefixes_cells_a_spreadsheet_would_run_as_formulas(archive, browser_app):
    status, _, body = fetch(f"{browser_app['base']}/?q=spreadsheet&format=csv")
    assert status == 200
    cells = [row["title"] for row in csv.DictReader(io.StringIO(body.decode()))]
    assert cells == ["'" + FORMULA_HEADLINE]
    assert json_search(browser_app["base"], q="spreadsheet")["hits"][0]["title"] == FORMULA_HEADLINE  # JSON as it is


def test_a_query_of_control_characters_is_searched_as_the_words_around_them_never_a_server_error(archive, browser_app):
    base = browser_app["base"]
    council = json_search(base, q="council")
    for query in ("council\x00", '"council\x00', "\x00council\x00\x00", "council\x01\x7f"):
        found = json_search(base, q=query)  # (asserts 200)
        assert (found["total"], found["hits"]) == (council["total"], council["hits"]), repr(query)
        assert "is not a search expression" in found["note"]
        status, _, body = fetch(f"{base}/?{urllib.parse.urlencode({'q': query})}")
        assert status == 200, (query, body[:300])
    assert json_search(base, q='"\x00')["total"] == 0  # what remains, a quote, is searched for
    for query in ("%00", "%00%00", "%01%1F"):  # no words at all: one line saying so
        status, _, body = fetch(f"{base}/?q={query}&format=json")
        assert status == 400 and body.decode().count("\n") == 1 and "has no words to search for" in body.decode()
        status, _, body = fetch(f"{base}/?q={query}")
        assert status == 400 and b"has no words to search for" in body and b"Traceback" not in body


def test_a_source_without_articles_has_its_page_and_link_while_configured_or_known_from_its_runs(archive, tmp_path):
    """Before: /source/empty was 404 ("No article comes from a source named empty") and not in the navigation;
    then, once no longer configured, it had its page (its failed runs) but still no link in the navigation."""
    copy = shutil.copytree(archive["out"], tmp_path / "archive")
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{copy}"\n\n[[sources]]\nname = "empty"\n'
                      f'start_urls = ["http://127.0.0.1:{free_port()}/"]\n', encoding="utf-8")  # nothing listens
    assert newsarchive("run", "--config", str(config)).returncode != 0
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running([sys.executable, "-m", "cli", "browse", "--config", str(config), "--port", str(port),
                  "--no-replay"], base + "/"):
        status, _, body = fetch(f"{base}/source/empty")
        assert status == 200, body[:300]
        page = lxml_html.fromstring(body)
        assert page.xpath("string(//p[@id='no-articles'])") == "0 articles yet."
        assert [row.xpath("string(td[2])") for row in page.xpath("//table/tr")[1:]] == ["failed"]
        assert "/source/empty" in page.xpath("//nav/a/@href")
        assert fetch(f"{base}/source/nowhere")[0] == 404
    config.write_text(config.read_text().split("[[sources]]")[0] + '[[sources]]\nname = "other"\n'
                      'start_urls = ["http://127.0.0.1:9/"]\n', encoding="utf-8")
    with running([sys.executable, "-m", "cli", "browse", "--config", str(config), "--port", str(port),
                  "--no-replay"], base + "/"):
        status, _, body = fetch(f"{base}/source/empty")  # configured no more, but its runs are there
        assert status == 200, body[:300]
        assert "/source/empty" in lxml_html.fromstring(body).xpath("//nav/a/@href")


def test_a_search_of_too_many_words_or_prefixes_is_refused_in_one_line_not_run_for_minutes(archive, browser_app):
    """A 10 kB query ('c* ' 3,000 times) held a request for 6 minutes and 'council ' 10,000 times (80 kB) for 2."""
    base = browser_app["base"]
    for query, said in ((" ".join(["council"] * 1250), "q: 1250 words, 0 of them prefixes (c*)"),
                        ("c* " * 3000, "q: 3000 words, 3000 of them prefixes (c*)"),
                        ("c*" * 9, "q: 9 words, 9 of them prefixes (c*)")):
        for output in ("json", "html"):
            status, _, body = fetch(f"{base}/?{urllib.parse.urlencode({'q': query, 'format': output})}")
            assert status == 400, (query[:20], output, body[:300])
            assert f"{said}: a search takes at most 32 words and 8 prefixes" in body.decode()
            assert output == "html" or body.decode().count("\n") == 1
    council = json_search(base, q="council")["total"]
    assert council and json_search(base, q=" ".join(["council"] * 32))["total"] == council  # as many words as it takes
    assert json_search(base, q="counc* " * 8)["total"] == json_search(base, q="counc*")["total"] >= council


def test_a_corpus_store_moved_away_while_browsing_is_one_line_on_every_page_and_pages_come_back_with_it(
        archive, browser_app):
    """Before, every page was 'Internal Server Error' (HTTP 500) and the terminal a traceback per request."""
    base = browser_app["base"]
    row = read_corpus(archive["out"])[0]
    store = archive["out"] / "derived" / "corpus.sqlite"
    aside = store.with_name("corpus.sqlite.aside")
    store.rename(aside)
    try:
        answers = [fetch(base + path) for path in ("/", "/?q=council&format=json", f"/article/{row['warc_record_id'][10:-1]}",
                                                    "/source/gazette", "/runs")]
    finally:
        aside.rename(store)
    for status, _, body in answers:
        assert status == 503, body[:300]
        said = " ".join(lxml_html.fromstring(body).xpath("string(//main/p)").split())
        assert said == f"The corpus store {store} is gone: `newsarchive derive` makes it again from the WARCs."
    assert fetch(base + "/")[0] == 200


def test_an_article_in_a_right_to_left_script_reads_right_to_left_in_the_browser(tmp_path, chromium):
    """Before: Arabic and Hebrew headlines and paragraphs were laid out left to right, their punctuation at the
    wrong end; each block now takes its direction from its own text, as the reader's browser decides it."""
    from bench.browse import ROOT, browser
    from corpus.store import CorpusStore, ExtractedArticle
    from extract.document import Document

    url = "http://gazette.example/news/arabic"
    document = Document(url, url, "مجلس المدينة يقر ميزانية الميناء الجديد", None, "2026-11-20", "gazette", "ar",
                        ("وافق مجلس المدينة مساء الاثنين على ميزانية الميناء الجديد بعد نقاش طويل.",
                         "The harbour office will publish the figures in English on Friday."))
    with CorpusStore(tmp_path) as store:
        store.add([ExtractedArticle.prepared("gazette", url, "2026-11-20T10:00:00Z", "gazette.warc.gz", 0,
                                             "<urn:uuid:00000001-4444-4000-8000-000000000000>", "sha1:a",
                                             document=document, extractor="test")])
    port = free_port()
    with browser(ROOT, tmp_path, port):
        chromium.get(f"http://127.0.0.1:{port}/article/00000001-4444-4000-8000-000000000000")
        direction = "return getComputedStyle(arguments[0]).direction"
        headline = chromium.find_element(By.TAG_NAME, "h1")
        arabic, english = chromium.find_elements(By.CSS_SELECTOR, "div.text p")
        assert [chromium.execute_script(direction, element) for element in (headline, arabic, english)] == \
            ["rtl", "rtl", "ltr"]
        chromium.get(f"http://127.0.0.1:{port}/?q=" + urllib.parse.quote("الميناء"))
        assert chromium.execute_script(direction, chromium.find_element(By.CSS_SELECTOR, "div.hit h3")) == "rtl"


def test_a_page_past_the_end_of_the_results_says_how_many_pages_there_are_and_links_to_the_last(tmp_path):
    """Before: ?p=999 of a 3-page result showed no hit and a "← newer" link to page 998, which does not exist
    either.  A listing counted among its newest matches (a date filter, over 1,000 rows) is counted to the end;
    a page size asked for stays in the links."""
    from bench.browse import ROOT, browser, grow_corpus

    grow_corpus(tmp_path, 1050)
    port = free_port()
    with browser(ROOT, tmp_path, port):
        for query, pages in (("q=w17", None), ("source=gazette", 350 // 20 + 1),
                             ("date_from=2026-01-01", 1050 // 20 + 1), ("q=council", 1000 // 20),
                             ("source=gazette&limit=50", 7)):
            if pages is None:  # a rare word: its few hits
                pages = -(-json_search(f"http://127.0.0.1:{port}", q="w17")["total"] // 20)
            status, _, body = fetch(f"http://127.0.0.1:{port}/?{query}&p=999")
            assert status == 200, (query, body[:300])
            page = lxml_html.fromstring(body)
            links = {urllib.parse.parse_qs(urllib.parse.urlsplit(href).query).get("p", ["1"])[0]
                     for href in page.xpath("//main//a/@href") if href.startswith("/?")
                     and "format" not in href and "p=" in href}
            assert links == {str(pages)}, (query, links)
            message = page.get_element_by_id("past-the-end").text_content()
            assert "page 999" in message.lower() and f"{pages} page" in message, (query, message)


def test_an_article_captured_twice_in_one_second_says_its_replay_link_may_show_the_other_capture(tmp_path):
    """pywb resolves a replay link's timestamp to the second (pywb 2.10 reads no more digits, and has no link to
    one record): of two captures of a URL with other bodies in one second, both links replay the same one.
    Before, the article page linked to it as the capture's own original without a word."""
    from bench.browse import ROOT, browser
    from corpus.store import CorpusStore, ExtractedArticle
    from extract.document import Document

    url = "http://gazette.example/news/harbour"
    captures = [ExtractedArticle.prepared(
        "gazette", url, fetched_at, "gazette.warc.gz", number,
        f"<urn:uuid:0000000{number}-5555-4000-8000-000000000000>", f"sha1:{digest}",
        document=Document(url, url, "Harbour fees", None, "2026-11-20", "gazette", "en", (paragraph,)),
        extractor="test")
        for number, fetched_at, digest, paragraph in (
            (1, "2026-11-20T10:00:00.100000Z", "A", "The harbour board set the fees for next year."),
            (2, "2026-11-20T10:00:00.900000Z", "B", "The harbour board set the fees for next year, and the quay's."),
            (3, "2026-11-20T10:00:01.000000Z", "C", "The harbour board set the fees for next year, and the ferry's."))]
    with CorpusStore(tmp_path) as store:
        store.add(captures)
    port = free_port()
    with browser(ROOT, tmp_path, port):
        notes = {}
        for number in (1, 2, 3):
            status, _, body = fetch(f"http://127.0.0.1:{port}/article/0000000{number}-5555-4000-8000-000000000000")
            assert status == 200, body[:300]
            note = lxml_html.fromstring(body).xpath('//*[@id="replay-same-second"]')
            notes[number] = note[0].text_content() if note else None
    assert notes[3] is None, notes
    for number in (1, 2):
        assert notes[number] and "same second" in notes[number], notes


def gazette_articles(root: Path, texts: dict[str, tuple[str, str]], group: str) -> None:
    """A corpus under ``root`` of one article per language of ``texts`` (its headline and its one paragraph), their
    record ids numbered in ``group``."""
    from corpus.store import CorpusStore, ExtractedArticle
    from extract.document import Document

    articles = []
    for number, (language, (headline, paragraph)) in enumerate(texts.items(), 1):
        url = f"http://gazette.example/news/{language}"
        articles.append(ExtractedArticle.prepared(
            "gazette", url, f"2026-11-20T10:00:0{number}Z", "gazette.warc.gz", number,
            f"<urn:uuid:0000000{number}-{group}-4000-8000-000000000000>", f"sha1:{language}",
            document=Document(url, url, headline, None, "2026-11-20", "gazette", language, (paragraph,)),
            extractor="test"))
    with CorpusStore(root) as store:
        store.add(articles)


def test_a_chinese_or_japanese_word_inside_a_sentence_is_found_and_marked(tmp_path):
    """unicode61 took an unspaced run of Chinese or Japanese as one token: a word inside a sentence (most of
    them) found nothing, only the whole run did."""
    from bench.browse import ROOT, browser

    sentences = {"zh": ("市议会批准港口预算", "市议会周一批准了新港口的预算，工程明年开始。"),
                 "ja": ("東京都の知事が予算を承認", "東京都の知事は新しい港の予算を承認した。工事は来年始まる。")}
    gazette_articles(tmp_path, sentences, "6666")
    port = free_port()
    with browser(ROOT, tmp_path, port):
        base = f"http://127.0.0.1:{port}"
        for query, language in (("港口", "zh"), ("市议会", "zh"), ("工程", "zh"),
                                ("知事", "ja"), ("東京都", "ja"), ("新しい港", "ja"), ("工事", "ja")):
            found = json_search(base, q=query)
            assert [hit["language"] for hit in found["hits"]] == [language], (query, found)
            status, _, body = fetch(f"{base}/?q={urllib.parse.quote(query)}")
            marks = [mark.text_content() for mark in lxml_html.fromstring(body).xpath("//div[@class='hit']//mark")]
            assert status == 200 and marks and set(marks) == {query}, (query, marks)
        for query in ("港预算", "予算東京"):  # its characters, not side by side
            assert json_search(base, q=query)["hits"] == [], query


def test_a_chinese_hits_snippet_shows_as_much_context_as_a_latin_one(tmp_path):
    """Each Chinese character is a token of its own in the index, and the snippet was 32 tokens: 32 characters
    around a Chinese hit against about 190 around a Latin one."""
    from bench.browse import ROOT, browser

    chinese = ("市议会周一召开特别会议，讨论港口扩建计划的预算问题。多名议员表示，工程费用比去年的估计高出三成，需要重新审查。"
               "市长在会上说，新码头将为本地渔民和货运公司带来更多就业机会。反对者则担心施工期间的噪音和交通问题会影响附近居民的生活。"
               "会议最后决定成立专门委员会，在三个月内提交详细的评估报告。委员会成员包括工程师、环保专家以及港区居民代表。")
    english = ("The council met on Monday in a special session to discuss the budget of the harbour expansion plan. "
               "Several members said the cost of the works was a third higher than last year's estimate and needed review. "
               "The mayor said the new quay would bring more jobs to local fishermen and freight companies. Opponents "
               "worried that noise and traffic during the works would disturb the lives of residents nearby. The meeting "
               "decided to form a committee to submit a detailed assessment within three months.")
    gazette_articles(tmp_path, {"zh": ("市议会讨论港口预算", chinese), "en": ("Council discusses harbour budget", english)},
                     "7777")
    port = free_port()
    snippets = {}
    with browser(ROOT, tmp_path, port):
        for query in ("码头", "quay"):
            status, _, body = fetch(f"http://127.0.0.1:{port}/?q={urllib.parse.quote(query)}")
            [snippet] = lxml_html.fromstring(body).xpath("//div[@class='hit']/p[@dir='auto']") or [body]
            assert status == 200 and query in snippet.text_content(), body
            snippets[query] = snippet.text_content().strip("…")
    assert len(snippets["码头"]) >= 80, snippets  # (a Chinese character is about two Latin letters wide)
    assert len(snippets["quay"]) >= 150, snippets


def test_each_version_of_a_story_says_when_it_was_first_and_last_seen(tmp_path, chromium):
    """Captured at t1, the same page again at t2 (a revisit), changed at t3: version 1 was seen t1 – t2, version 2 at
    t3, as the store's ``last_seen`` says.  Before: each version showed its first capture alone."""
    story = article_html(7)
    url = crawled(tmp_path, [story, story, article_html(8).replace(b"<h1>", b"<h1>Corrected: ", 1)])
    (t1, _, _), (t2, kind, _), (t3, _, _) = story_captures(tmp_path, url)
    assert kind == "revisit"
    versions = {row["version"]: page_id(row["warc_record_id"]) for row in read_corpus(tmp_path)}
    port = free_port()
    command = [sys.executable, "-m", "cli", "browse", "--config", str(tmp_path / "sources.toml"), "--port", str(port),
               "--no-replay"]
    with running(command, f"http://127.0.0.1:{port}/"):
        for version in (1, 2):
            chromium.get(f"http://127.0.0.1:{port}/article/{versions[version]}")
            seen = [cell.text for cell in chromium.find_elements(By.CSS_SELECTOR, "#versions td.seen")]
            assert seen == [f"{t1} – {t2}", t3]
            assert chromium.find_element(By.ID, "last-seen").text.startswith((t2, t3)[version - 1] + " ")
        shot(chromium, "8-last-seen")


BRIDGE_PARAGRAPHS = (
    "The council approved the riverside footbridge on Monday night after a long debate about its cost, its height "
    "above the water and the path it will take across the old mill meadow to the station.",
    "Building starts in the spring and the bridge should open to walkers and cyclists before the summer regatta, the "
    "engineers told the meeting, if the river stays low enough for the piles to go in.",
    "The bridge will carry lights along its railings and a ramp at each end, and the council will pay for the upkeep "
    "from the harbour fund rather than from the rates, the treasurer said.")
DRAFT_PARAGRAPH = ("A draft ferry timetable for the weeks of the works was handed out, with an extra crossing at dawn "
                   "for the workers of the mill and two more on market days.")


def test_a_story_with_two_versions_is_one_hit_with_its_versions_noted_and_a_phrase_only_in_version_1_finds_it(
        tmp_path):
    """The demo's gazette corrected a story between two runs: a search for `footbridge` said "2 matching articles"
    and listed it twice, version 2 and version 1 "· a copy" (version 1 is in version 2's near-duplicate cluster).
    Each article (source and URL) is one hit now, its newest matching version, with its versions noted; a phrase
    that only version 1 holds still finds it, said as version 1 of 2; "a copy" is a copy of another URL's article."""
    from bench.browse import ROOT, browser
    from corpus.store import CorpusStore, ExtractedArticle
    from extract.document import Document

    def story(number: int, url: str, fetched_at: str, paragraphs: tuple[str, ...]) -> ExtractedArticle:
        document = Document(url, url, "Council approves riverside footbridge", "Ann Example", "2026-11-20", "gazette",
                            "en", paragraphs)
        return ExtractedArticle.prepared("gazette", url, fetched_at, "gazette.warc.gz", number,
                                         f"<urn:uuid:0000000{number}-8888-4000-8000-000000000000>", f"sha1:{number}",
                                         document=document, extractor="test")

    url, copy_url = "http://gazette.example/news/footbridge", "http://gazette.example/print/footbridge"
    with CorpusStore(tmp_path) as store:
        store.add([story(1, url, "2026-11-20T10:00:00Z", (*BRIDGE_PARAGRAPHS, DRAFT_PARAGRAPH))])
        store.add([story(2, url, "2026-11-21T10:00:00Z", BRIDGE_PARAGRAPHS)])  # corrected: the draft timetable gone
        store.add([story(3, copy_url, "2026-11-22T10:00:00Z", BRIDGE_PARAGRAPHS)])  # the same story at another URL
    ids = {number: f"0000000{number}-8888-4000-8000-000000000000" for number in (1, 2, 3)}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with browser(ROOT, tmp_path, port):
        found = json_search(base, q="footbridge")
        assert found["total"] == 2, found
        assert [(hit["id"], hit["version"], hit["versions"], hit["copy_of_another"]) for hit in found["hits"]] == [
            (ids[2], 2, 2, False), (ids[3], 1, 1, True)], found["hits"]
        listed = json_search(base)  # the listing without a query: the same two articles, newest capture first
        assert (listed["total"], [hit["id"] for hit in listed["hits"]]) == (2, [ids[3], ids[2]]), listed
        draft = json_search(base, q='"draft ferry timetable"')  # only version 1 holds it
        assert [(hit["id"], hit["version"], hit["versions"]) for hit in draft["hits"]] == [(ids[1], 1, 2)], draft
        assert [hit["id"] for hit in json_search(base, version="1")["hits"]] == [ids[3], ids[1]]  # that version only
        for query, expected in (("footbridge", {ids[2]: "2 versions", ids[3]: "a copy"}),
                                ("draft", {ids[1]: "version 1 of 2"})):
            status, _, body = fetch(f"{base}/?q={query}")
            assert status == 200, body[:300]
            page = lxml_html.fromstring(body)
            assert " ".join(page.xpath("string(//p[@id='total'])").split()).startswith(
                f"{len(expected)} matching article"), body[:300]
            metas = {hit.xpath("string(h3/a/@href)").rsplit("/", 1)[1]:
                     " ".join(hit.xpath("string(p[@class='meta'])").split())
                     for hit in page.xpath("//div[@class='hit']")}
            assert metas.keys() == expected.keys(), metas
            for article_id, said in expected.items():
                assert metas[article_id].endswith(f"· {said}"), metas
            for link in page.xpath("//div[@class='hit']//a[@class='versions']/@href"):
                versions = lxml_html.fromstring(fetch(base + link)[2])  # the article page's list of its versions
                assert link.endswith("#versions") and len(versions.xpath("//table[@id='versions']/tr/td")) == 6, link
        status, _, body = fetch(f"{base}/?q=footbridge&format=csv")
        assert [(row["id"], row["versions"]) for row in csv.DictReader(io.StringIO(body.decode()))] == [
            (ids[2], "2"), (ids[3], "1")]
