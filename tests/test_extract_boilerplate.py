"""Site-template boilerplate learned from several pages of one site."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from extract import Document, extract_document, remove_site_boilerplate

FIXTURES = Path(__file__).parent / "fixtures" / "extract"
SHARED_QUOTE = "“The sea wall was built for the storms of the last century"
DISCLAIMER = "Opinions expressed by contributors belong to them alone"


@pytest.fixture(scope="module")
def site() -> list[Document]:
    pages = sorted(FIXTURES.glob("site_page*.html"))
    return [extract_document(p.read_bytes(), f"https://ledger.example.com/{p.stem}") for p in pages]


def _has(doc: Document, start: str) -> bool:
    return any(p.startswith(start) for p in doc.paragraphs)


def test_single_pages_keep_the_template_text(site: list[Document]) -> None:
    # the premise: one page alone cannot tell the disclaimer from the article
    assert all(_has(doc, DISCLAIMER) for doc in site)


def test_template_paragraphs_removed(site: list[Document]) -> None:
    cleaned = remove_site_boilerplate(site)
    assert len(cleaned) == len(site)
    assert not any(_has(doc, DISCLAIMER) for doc in cleaned)
    for before, after in zip(site, cleaned):
        assert after.url == before.url and after.title == before.title
        assert len(after.paragraphs) == len(before.paragraphs) - 1


def test_paragraph_quoted_on_two_pages_kept(site: list[Document]) -> None:
    cleaned = remove_site_boilerplate(site)
    assert sum(_has(doc, SHARED_QUOTE) for doc in site) == 2
    assert sum(_has(doc, SHARED_QUOTE) for doc in cleaned) == 2


def test_independent_of_input_order(site: list[Document]) -> None:
    expected = {doc.url: doc for doc in remove_site_boilerplate(site)}
    for order in itertools.permutations(site):
        result = remove_site_boilerplate(list(order))
        assert [doc.url for doc in result] == [doc.url for doc in order]
        assert all(doc == expected[doc.url] for doc in result)


def test_one_page_alone_is_unchanged(site: list[Document]) -> None:
    assert remove_site_boilerplate(site[:1]) == site[:1]
    assert remove_site_boilerplate([]) == []


def test_two_articles_sharing_a_disclaimer_lose_it(site: list[Document]) -> None:
    # a small or new site: its second article already shows the disclaimer is template
    for pair in itertools.combinations(site, 2):
        cleaned = remove_site_boilerplate(list(pair))
        assert not any(_has(doc, DISCLAIMER) for doc in cleaned)
        for before, after in zip(pair, cleaned):
            assert len(after.paragraphs) == len(before.paragraphs) - 1


def test_copies_of_one_article_are_not_template(site: list[Document]) -> None:
    # the same article reached through three URLs (print, AMP, canonical) must not erase itself
    copies = [Document.from_dict({**site[2].to_dict(), "url": f"https://ledger.example.com/copy{i}"}) for i in range(3)]
    assert remove_site_boilerplate(copies) == copies


def test_first_article_of_a_site_loses_its_follow_line_and_trailing_note_by_structure() -> None:
    # no other page of the site to learn from: a line of short links to other sites, and a short
    # note styled apart from the body's paragraphs at its end, go; the last body paragraph stays
    html = (FIXTURES / "first_article.html").read_bytes()
    doc = extract_document(html, "https://gazette.example.net/library-late")
    assert doc.paragraphs[0].startswith("The town library on Quay Street")
    assert doc.paragraphs[-1] == "The café on the ground floor will keep its usual hours."
    assert not any(p.startswith(("Follow Gazette on", "Gazette readers write to us")) for p in doc.paragraphs)
    assert len(doc.paragraphs) == 5


def test_a_short_last_paragraph_written_like_the_body_is_kept() -> None:
    # the same note in the body's own paragraph style is the article's last paragraph
    html = (FIXTURES / "first_article.html").read_text(encoding="utf-8").replace("story-note", "story-par")
    doc = extract_document(html, "https://gazette.example.net/library-late")
    assert doc.paragraphs[-1].startswith("Gazette readers write to us")


def test_a_short_last_paragraph_boxed_apart_by_its_own_style_is_dropped() -> None:
    # the note in the body's class, set apart by an inline border and a smaller type, goes as well
    note = 'class="story-par" style="border-top: 1px solid #999; font-size: 11px; text-align: left"'
    html = (FIXTURES / "first_article.html").read_text(encoding="utf-8").replace('class="story-note"', note)
    doc = extract_document(html, "https://gazette.example.net/library-late")
    assert doc.paragraphs[-1] == "The café on the ground floor will keep its usual hours."


def test_a_short_last_paragraph_only_aligned_or_emphasised_apart_is_kept() -> None:
    # alignment and emphasis set no box: the article's closing line, centred or in italics, stays
    for style in ("text-align: center", "font-style: italic; margin: 0 0 10pt"):
        note = f'class="story-par" style="{style}"'
        html = (FIXTURES / "first_article.html").read_text(encoding="utf-8").replace('class="story-note"', note)
        doc = extract_document(html, "https://gazette.example.net/library-late")
        assert doc.paragraphs[-1].startswith("Gazette readers write to us"), style



def _boxed_note(title: str = "") -> str:
    # the note in a box of its own after the body's paragraphs, with a button beside it
    box = f'<div class="story-box">{title}<p class="box-line">{{}}</p><a class="button" href="/letters">Write to us</a></div>'
    html = (FIXTURES / "first_article.html").read_text(encoding="utf-8")
    note = "Gazette readers write to us every week; letters are edited for length and appear on Saturdays."
    return html.replace(f'<p class="story-note">{note}</p>', box.format(note))


def test_a_short_paragraph_in_another_style_boxed_with_a_button_is_dropped() -> None:
    doc = extract_document(_boxed_note(), "https://gazette.example.net/library-late")
    assert not any(p.startswith("Gazette readers write to us") for p in doc.paragraphs)
    assert doc.paragraphs[-1] == "The café on the ground floor will keep its usual hours."


def test_the_title_opening_the_box_of_a_dropped_note_goes_with_it() -> None:
    doc = extract_document(_boxed_note("<h3>Tell us what you think of the evening hours</h3>"), "https://gazette.example.net/library-late")
    assert doc.paragraphs[-1] == "The café on the ground floor will keep its usual hours."


def test_a_short_paragraph_closing_another_section_of_a_split_body_is_kept() -> None:
    # the body goes on in a second block of its own kind, in a section of its own: its closing line
    # is the article's
    html = (FIXTURES / "first_article.html").read_text(encoding="utf-8")
    html = html.replace('<div class="story-text">', '<section><div class="story-text">').replace("</div>\n</article>", "</div></section></article>")
    second = (
        '</div></section><section><div class="story-text"><p class="story-par">The committee will hear the '
        "readers' groups again in the autumn, when the first months of the evening opening can be judged on "
        'the numbers of visitors and loans.</p><p class="story-note">'
    )
    doc = extract_document(html.replace('<p class="story-note">', second), "https://gazette.example.net/library-late")
    assert doc.paragraphs[-1].startswith("Gazette readers write to us")
