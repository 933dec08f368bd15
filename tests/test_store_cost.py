"""What the corpus store's writes cost: the captures, site and texts they touch, not the whole corpus.

Corpora are grown through the store's own API; SQLite's work is counted with its progress handler
on the store's connection, in a copy of the store at each size, so every count starts the same way.
"""

from __future__ import annotations

import random
import shutil
import threading
from dataclasses import replace
from pathlib import Path

from corpus.store import CorpusStore, ExtractedArticle
from extract.document import Document

SITE_ARTICLES = 40  # of the source whose page is captured earlier or cut off; the others grow
SMALL, LARGE = 1000, 4000  # articles of the other sources
WARC = "gazette.warc.gz"
STOCK_PHRASE = "Reporting by the regional news agency."  # in every text of ``credited``: three shingles all share


def article(source: str, number: int, host: str = "", ending: tuple[str, ...] = ()) -> ExtractedArticle:
    """Article ``number`` of ``source`` (on ``host``, its source's by default): three paragraphs of its own random
    words, then ``ending``; captured in that order."""
    rng = random.Random(f"{source} {number}")
    url = f"http://{host or source + '.example'}/news/{number}"
    paragraphs = tuple(" ".join(f"w{rng.randrange(5000)}" for _ in range(30)) + "." for _ in range(3)) + ending
    document = Document(url, url, f"Story {number}", "A. Writer", "2026-01-01", source, "en", paragraphs)
    return ExtractedArticle.prepared(source, url, f"2026-01-01T{number // 3600 % 24:02d}:{number // 60 % 60:02d}:"
                                     f"{number % 60:02d}Z", f"{source}.warc.gz", 1000 * number,
                                     f"<urn:uuid:{source}-{number}>", f"sha1:{source}{number}",
                                     document=document, extractor="test")


def grow(root: Path, source: str, articles: int) -> None:
    with CorpusStore(root) as store:
        for first in range(0, articles, 500):
            store.add([article(source, number) for number in range(first, min(first + 500, articles))])


def sqlite_work(root: Path, copy: Path, operation) -> int:
    """Hundreds of SQLite virtual-machine instructions (in statements of more than 100) ``operation(store)`` runs on a copy of the store under ``root``."""
    shutil.copytree(root, copy)
    ticks = []
    with CorpusStore(copy) as store:
        store._db.set_progress_handler(lambda: ticks.append(1), 100)  # None: go on
        operation(store)
    return len(ticks)


def captured_earlier(store: CorpusStore) -> None:
    """A page the store holds, found captured earlier (another tool's WARC, read after ours): it becomes the row's."""
    page = article("gazette", SITE_ARTICLES // 2)
    store.add([replace(page, warc_record_id="<urn:uuid:earlier>", fetched_at="2025-12-31T00:00:00Z",
                       warc_file="earlier.warc.gz")])


def torn_tail_forgotten(store: CorpusStore) -> None:
    """The gazette's WARC cut back before its last capture (recovery after a power cut)."""
    assert store.forget_from(WARC, 1000 * (SITE_ARTICLES - 1)) == 1


def test_an_earlier_capture_and_a_torn_tail_cost_the_same_when_the_other_sources_hold_four_times_more(tmp_path):
    archive = tmp_path / "archive"
    grow(archive, "gazette", SITE_ARTICLES)
    grow(archive, "courier", SMALL)
    small = {operation.__name__: sqlite_work(archive, tmp_path / f"small-{operation.__name__}", operation)
             for operation in (captured_earlier, torn_tail_forgotten)}
    grow(archive, "courier", LARGE)
    large = {operation.__name__: sqlite_work(archive, tmp_path / f"large-{operation.__name__}", operation)
             for operation in (captured_earlier, torn_tail_forgotten)}
    grown = {name: (small[name], large[name]) for name in small if large[name] > 1.25 * small[name] + 5}
    assert not grown, f"SQLite's work (hundreds of instructions) beside {SMALL:,} and {LARGE:,} other articles: {grown}"


def credited(number: int) -> ExtractedArticle:
    """An agency's article, each on a site of its own (too few pages to learn a template): it ends in its credit."""
    return article("wire", number, f"site{number}.example", (STOCK_PHRASE,))


def ten_credited_added(store: CorpusStore) -> None:
    first = 10 ** 6 + store.row_count()
    for number in range(first, first + 10):
        store.add([credited(number)])


def test_a_text_holding_a_stock_phrase_every_text_holds_costs_the_same_in_a_corpus_four_times_larger(tmp_path):
    """Its sketch holds values every text holds: which of its values are the most common is decided without
    counting every text that holds them."""
    archive = tmp_path / "archive"
    costs = []
    for size in (SMALL, LARGE):
        with CorpusStore(archive) as store:
            for first in range(store.row_count(), size, 500):
                store.add([credited(number) for number in range(first, first + 500)])
        costs.append(sqlite_work(archive, tmp_path / str(size), ten_credited_added))
    small, large = costs
    assert large <= 1.25 * small + 5, f"SQLite's work (hundreds of instructions) in {SMALL:,} and {LARGE:,} texts: {small}, {large}"


def bytes_read() -> int:
    """Bytes this thread has read from files so far (SQLite reads the store in the thread that calls it)."""
    with open(f"/proc/self/task/{threading.get_native_id()}/io", encoding="ascii") as io:
        return next(int(line.split()[1]) for line in io if line.startswith("rchar:"))


def test_a_large_batch_reads_the_store_at_most_once_over(tmp_path):
    """A derivation takes a piece of WARC (hundreds of articles) in one transaction: the pages it has changed
    must not push the pages it reads out of SQLite's cache, or each is read again for every statement."""
    grow(tmp_path, "courier", SMALL)
    size = (tmp_path / "derived" / "corpus.sqlite").stat().st_size
    with CorpusStore(tmp_path) as store:
        started = bytes_read()
        store.add([article("gazette", number) for number in range(400)])
        read = bytes_read() - started
    assert read <= size, f"a batch of 400 articles read {read:,} bytes of a store of {size:,}"
