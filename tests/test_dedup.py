"""Near-duplicates: one dup_cluster per article however many sites carry it, the most complete canonical."""

from __future__ import annotations

from collections import Counter

import pytest

from archive_fixtures import crawl_demo
from corpus.duplicates import are_copies, shingles
from corpus.export import read_corpus
from corpus.store import CorpusStore, ExtractedArticle
from extract import Document

ARTICLE = [
    "The county council has approved a plan to rebuild the harbour wall after winter storms damaged "
    "a forty metre section of the old stone structure last February.",
    "Engineers estimate the work will take eighteen months and cost about four million pounds, most of "
    "it paid from a national coastal resilience fund.",
    "Fishing crews said they welcomed the decision but asked that the work be phased so that at least "
    "two berths stay open throughout the rebuilding.",
    "A public meeting on the construction schedule will be held at the harbour office next Thursday "
    "evening, and residents can also comment online until the end of the month.",
    "The council leader said the harbour was the heart of the town and that repairs could not wait "
    "for another storm season to pass.",
]
SAME_SUBJECT = [
    "Harbour users have been told to expect disruption next year when the county council begins repairs "
    "to storm damage.",
    "Boat owners with moorings near the damaged wall will be moved to temporary pontoons, the harbour "
    "master said in a letter sent this week.",
    "The letter did not say how long the pontoons would be needed or whether mooring fees would be reduced.",
]
BANNER = "This story first appeared in the Coast Courier and is republished with permission."


def article(name: str, text: str, day: int = 1) -> ExtractedArticle:
    """``text`` as the article of its own site (one host per name: no site template to learn)."""
    url = f"http://{name}.example/story/{name}"
    document = Document(url, url, None, None, None, name, "en", tuple(text.split("\n\n")))
    return ExtractedArticle("test", url, f"2026-11-{day:02d}T00:00:00Z", "test.warc.gz", day,
                            f"<urn:uuid:{name}>", f"sha1:{name.upper()}", document, "test")


def cluster(root, texts: dict[str, str], days: dict[str, int] | None = None) -> dict[str, tuple[str, bool]]:
    """Each text's (dup_cluster, dup_canonical), as the corpus store assigns them."""
    with CorpusStore(root) as store:
        store.add([article(name, text, (days or {}).get(name, 1)) for name, text in texts.items()])
        rows = list(store.rows())
    return {row["url"].rsplit("/", 1)[1]: (row["dup_cluster"], row["dup_canonical"]) for row in rows}


def test_banner_copy_and_copy_with_lost_paragraphs_join_the_original_which_is_canonical(tmp_path):
    result = cluster(tmp_path, {
        "original": "\n\n".join(ARTICLE),
        "with-banner": "\n\n".join([BANNER, *ARTICLE]),
        "lost-paragraphs": "\n\n".join(ARTICLE[:2] + ARTICLE[3:]),
        "same-subject": "\n\n".join(SAME_SUBJECT),
    })
    assert result["original"][0] == result["with-banner"][0] == result["lost-paragraphs"][0]
    assert result["same-subject"][0] != result["original"][0]
    assert [name for name, (_, canonical) in result.items() if canonical] == ["original", "same-subject"]


def test_a_story_carried_verbatim_by_many_sites_is_one_cluster(tmp_path):
    story = "\n\n".join(ARTICLE)
    result = cluster(tmp_path, {f"site{n:03d}": story for n in range(250)} | {"other": "\n\n".join(SAME_SUBJECT)})
    assert len({cluster_id for name, (cluster_id, _) in result.items() if name != "other"}) == 1
    assert result["other"][0] != result["site000"][0]
    assert sorted(name for name, (_, canonical) in result.items() if canonical) == ["other", "site000"]


def test_recaptures_of_one_text_make_the_earliest_canonical(tmp_path):
    story = "\n\n".join(ARTICLE)
    result = cluster(tmp_path, {"b": story, "a": story, "c": story}, days={"b": 3, "a": 5, "c": 1})
    assert len({cluster_id for cluster_id, _ in result.values()}) == 1
    assert [name for name, (_, canonical) in sorted(result.items()) if canonical] == ["c"]


def test_a_stock_passage_on_every_page_of_a_site_neither_joins_its_articles_nor_hides_a_copy(tmp_path):
    """The stock passage's sketch values are in every text's sketch: the lookup skips the most
    common ones and must still find the copy, and the shared passage alone is no copy."""
    stock = " ".join(f"stock{n}" for n in range(200))
    bodies = {f"s{n:03d}": " ".join(f"w{n}x{i}" for i in range(100)) for n in range(60)}
    texts = {name: f"{stock}\n\n{body}" for name, body in bodies.items()}
    texts["copy"] = f"Republished with permission.\n\n{texts['s007']}"
    result = cluster(tmp_path, texts)
    assert result["copy"][0] == result["s007"][0]
    assert len({cluster_id for cluster_id, _ in result.values()}) == 60


def test_clusters_do_not_depend_on_the_order_texts_arrive_in(tmp_path):
    texts = {"original": "\n\n".join(ARTICLE), "banner": "\n\n".join([BANNER, *ARTICLE]),
             "lost": "\n\n".join(ARTICLE[:2] + ARTICLE[3:]), "other": "\n\n".join(SAME_SUBJECT)}
    at_once = cluster(tmp_path / "at-once", texts)
    one_by_one = tmp_path / "one-by-one"
    for name in ("lost", "other", "banner", "original"):
        result = cluster(one_by_one, {name: texts[name]})
    assert result == at_once


def test_a_short_text_quoted_inside_a_long_one_is_not_its_copy():
    brief = shingles(ARTICLE[0])
    assert not are_copies(brief, shingles("\n\n".join(ARTICLE + SAME_SUBJECT)))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[dict]:
    return read_corpus(crawl_demo(tmp_path_factory.mktemp("dedup"))["out"])


def test_every_crawled_article_has_a_cluster_and_only_the_republished_story_shares_one(corpus):
    assert corpus and all(isinstance(row["dup_cluster"], str) and len(row["dup_cluster"]) == 16 for row in corpus)
    sizes = Counter(row["dup_cluster"] for row in corpus)
    [(shared, size)] = [(cluster_id, size) for cluster_id, size in sizes.items() if size > 1]
    members = {row["source"]: row for row in corpus if row["dup_cluster"] == shared}
    assert size == 3 and set(members) == {"gazette", "herald", "courier"}
    assert [source for source, row in members.items() if row["dup_canonical"]] == ["gazette"]
    assert all(row["dup_canonical"] for row in corpus if sizes[row["dup_cluster"]] == 1)


def test_sketches_made_from_a_workers_word_ids_are_those_of_the_text_files(tmp_path):
    """The store joins the word ids a worker made of the paragraphs it keeps; a site template dropped, the sketch
    must still be that of the text written."""
    import sqlite3

    from corpus.duplicates import Sketch
    from corpus.store import STORE_FILE

    articles = []
    for day, paragraphs in enumerate([ARTICLE[:3], ARTICLE[2:], SAME_SUBJECT], 1):
        url = f"http://one.example/story/{day}"
        document = Document(url, url, f"Headline {day}", None, None, "one", "en", (BANNER, *paragraphs))
        articles.append(ExtractedArticle.prepared("test", url, f"2026-11-{day:02d}T00:00:00Z", "test.warc.gz", day,
                                                  f"<urn:uuid:{day}>", f"sha1:{day}", document=document,
                                                  extractor="test"))
    with CorpusStore(tmp_path) as store:
        store.add(articles)
        rows = list(store.rows())
    texts = {row["text_sha256"]: (tmp_path / row["text_path"]).read_text() for row in rows}
    assert not any(BANNER in text for text in texts.values())  # the template was dropped
    with sqlite3.connect(tmp_path / STORE_FILE) as db:
        stored = dict(db.execute("SELECT sha256, sketch FROM texts"))
    assert stored == {sha: Sketch.of_shingles(shingles(text)).to_str() for sha, text in texts.items()}
