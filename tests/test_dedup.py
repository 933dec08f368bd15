"""Near-duplicates: one dup_cluster per article however many sites carry it, the most complete canonical."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest

from archive_fixtures import REPO, crawl_demo
from extract.corpus import read_corpus
from extract.duplicates import MAX_BUCKET, Sketch, are_copies, assign_duplicates, shingles

SEEDS = REPO.parent / "shared" / "seeds"  # the seed texts the issues refer to as ../shared/seeds
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


def cluster(texts: dict[str, str]) -> dict[str, tuple[str, bool]]:
    rows = [{"url": name, "source": "test", "fetched_at": "2026-11-01T00:00:00Z",
             "text_sha256": hashlib.sha256(text.encode()).hexdigest()} for name, text in texts.items()]
    assign_duplicates(rows, lambda row: Sketch.of(texts[row["url"]]), lambda row: texts[row["url"]])
    return {row["url"]: (row["dup_cluster"], row["dup_canonical"]) for row in rows}


def test_banner_copy_and_copy_with_lost_paragraphs_join_the_original_which_is_canonical():
    result = cluster({
        "original": "\n\n".join(ARTICLE),
        "with-banner": "\n\n".join([BANNER, *ARTICLE]),
        "lost-paragraphs": "\n\n".join(ARTICLE[:2] + ARTICLE[3:]),
        "same-subject": "\n\n".join(SAME_SUBJECT),
    })
    assert result["original"][0] == result["with-banner"][0] == result["lost-paragraphs"][0]
    assert result["same-subject"][0] != result["original"][0]
    assert [name for name, (_, canonical) in result.items() if canonical] == ["original", "same-subject"]


def test_seed_000_and_its_mirror_001_are_one_article_and_the_other_seeds_are_not():
    texts = {path.name[:3]: path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("0*.txt"))}
    result = cluster(texts)
    assert result["000"][0] == result["001"][0]
    assert result["000"][1] and not result["001"][1]  # 001 lost every block-quoted paragraph
    assert len({cluster_id for cluster_id, _ in result.values()}) == 4


def test_a_story_carried_verbatim_by_more_sites_than_a_sketch_bucket_holds_is_one_cluster():
    story = "\n\n".join(ARTICLE)
    result = cluster({f"site{n}": story for n in range(MAX_BUCKET + 50)} | {"other": "\n\n".join(SAME_SUBJECT)})
    assert len({cluster_id for name, (cluster_id, _) in result.items() if name != "other"}) == 1
    assert result["other"][0] != result["site0"][0]
    assert [name for name, (_, canonical) in result.items() if canonical] == ["site0", "other"]


def test_recaptures_of_one_text_make_the_earliest_canonical_without_reading_any_text():
    story = "\n\n".join(ARTICLE)
    digest = hashlib.sha256(story.encode()).hexdigest()
    rows = [{"url": f"https://example.org/{name}", "source": "test", "fetched_at": f"2026-11-0{day}T00:00:00Z",
             "text_sha256": digest} for name, day in (("b", 3), ("a", 5), ("c", 1))]

    def text_of(row: dict) -> str:
        raise AssertionError(f"read the text of {row['url']}")

    assign_duplicates(rows, lambda row: Sketch.of(story), text_of)
    assert len({row["dup_cluster"] for row in rows}) == 1
    assert [row["url"] for row in rows if row["dup_canonical"]] == ["https://example.org/c"]


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
