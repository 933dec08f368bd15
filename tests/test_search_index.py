"""The corpus store's full-text index holds exactly the texts its rows hold, batch after batch."""

from __future__ import annotations

import random
import sqlite3
from dataclasses import replace

from test_corpus_store import _page

from corpus.store import STORE_FILE, CorpusStore


def indexed(root) -> dict[str, str]:
    """Each indexed text, put back together from its headline and body columns."""
    with sqlite3.connect(root / STORE_FILE) as db:
        return {sha: f"{headline}\n\n{body}\n" for sha, headline, body in db.execute(
            "SELECT t.sha256, s.headline, s.body FROM search s JOIN search_texts t ON t.id = s.rowid")}


def held(store: CorpusStore) -> dict[str, str]:
    return {row["text_sha256"]: (store.root / row["text_path"]).read_text(encoding="utf-8") for row in store.rows()}


def matching(root, query: str) -> set[str]:
    with sqlite3.connect(root / STORE_FILE) as db:
        return {sha for (sha,) in db.execute(
            "SELECT t.sha256 FROM search JOIN search_texts t ON t.id = search.rowid WHERE search MATCH ?", (query,))}


def test_the_index_follows_texts_rewritten_and_dropped_as_a_site_template_is_learned(tmp_path):
    rng = random.Random(11)
    shared = ["Subscribe to the Gazette today.", "Follow us on the river walk.", "Share this story"]
    pages = [_page("gazette.example", number, rng, shared) for number in range(40)]
    for number in (6, 7):  # a note on two articles in a row, in two runs: template from the second on
        document = pages[number].document
        pages[number] = replace(pages[number], document=replace(
            document, paragraphs=(*document.paragraphs, "Read our corrections policy.")))
    ever = set()
    with CorpusStore(tmp_path) as store:
        for start in range(0, len(pages), 7):
            store.add(pages[start:start + 7])
            now = indexed(tmp_path)
            assert now == held(store)
            ever |= set(now)
        assert ever - set(now), "some texts were rewritten (a template paragraph learned) and left the index"
        words = {sha for sha, text in now.items() if "bridge" in text.split()}
        assert words and matching(tmp_path, "bridge") == words
        assert matching(tmp_path, "subscribe") == set()  # template paragraphs left every text


def test_a_store_made_before_the_index_gets_it_from_its_texts_when_opened(tmp_path):
    rng = random.Random(3)
    with CorpusStore(tmp_path) as store:
        store.add([_page("herald.example", number, rng, []) for number in range(12)])
        expected = held(store)
    with sqlite3.connect(tmp_path / STORE_FILE) as db:
        db.execute("DROP TABLE search")
        db.execute("DROP TABLE search_texts")
    with CorpusStore(tmp_path):
        assert indexed(tmp_path) == expected
