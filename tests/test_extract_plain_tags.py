"""Pages without HTML5 sectioning (older CMSs, table layouts, small sites): no <nav>, <header>,
<footer> or <article> says where the furniture and the story are, so the body and the article
decision must stand on structure (where blocks sit from the headline, how much of them is links)."""

from __future__ import annotations

import re
from pathlib import Path

from extract import extract_document
from extract.body import shown_headline
from extract.unmarkedparagraphs import mark_break_paragraphs, mark_div_paragraphs
from extract.htmlinput import load_tree

FIXTURES = Path(__file__).parent / "fixtures" / "plain"


def _extract(name: str):
    return extract_document((FIXTURES / name).read_bytes(), f"https://millbrook.example/news/{Path(name).stem}")


def test_a_short_article_between_undeclared_menus_is_an_article() -> None:
    """A short story whose page header and footer are plain blocks of many short links (a menu of
    160 three-word links, no <nav> or <footer>) is an article: those links are the page's menus,
    not teaser cards crowding out its prose."""
    doc = _extract("article_with_undeclared_menus.html")
    assert doc.error is None
    assert len(doc.paragraphs) == 3
    assert doc.paragraphs[0].startswith("The bakery on Mill Lane opened its doors again")


def test_an_article_whose_paragraphs_are_divs_is_read_from_its_first_paragraph() -> None:
    """A story whose every paragraph is a <div> (text in a styled <span>, as pasted from an editor)
    after a row of teaser tiles: the divs are its paragraphs, so the tiles' blurbs are no lead of
    it. Read as divs, the first tile's blurb opened the body."""
    doc = _extract("article_in_div_paragraphs.html")
    assert doc.error is None
    assert doc.paragraphs[0].startswith("The county archive has finished scanning")
    assert doc.paragraphs[-1].startswith("The archive will hold an open evening")
    assert len(doc.paragraphs) == 7
    assert "Work on the north wall" not in doc.text() and "A footbridge shown" not in doc.text()


def test_divs_become_paragraphs_only_where_they_hold_the_pages_prose() -> None:
    """Divs of text become <p> where a block holds a run of them with more text than any block
    holds in <p>; a page of <p> paragraphs keeps its divs (a tile's blurb, a footer line), and so
    does a listing whose cards hold one blurb each."""
    html = (FIXTURES / "article_in_div_paragraphs.html").read_text(encoding="utf-8")
    tree = load_tree(html)
    assert mark_div_paragraphs(tree) > 7
    assert [p.text_content()[:15] for p in tree.find_class("copy")[0]][:2] == ["The county arch", "Volunteers spen"]

    in_paragraphs = re.sub(r'<div><span style="font-weight: 400;">(.*?)</span></div>', r"<p>\1</p>", html)
    assert mark_div_paragraphs(load_tree(in_paragraphs)) == 0

    listing = re.sub(r'<article class="story">.*?</article>', "", html, flags=re.S)
    assert "The county archive" not in listing
    assert mark_div_paragraphs(load_tree(listing)) == 0


def test_divs_of_text_each_alone_in_a_wrapper_are_a_run_of_paragraphs() -> None:
    """An exporter's page (each paragraph a div of text in a ``<div class="paragraph">`` of its own,
    no <p>) holds its prose in a run of wrappers: those divs become paragraphs, as divs side by
    side do (one per block used to be no run, and trafilatura left the divs holding links out)."""
    html = (FIXTURES / "article_in_exported_sections.html").read_text(encoding="utf-8")
    tree = load_tree(html)
    assert mark_div_paragraphs(tree) >= 5
    assert all(wrapper[0].tag == "p" for wrapper in tree.find_class("paragraph"))
    doc = extract_document(html, "https://fieldnotes.example/posts/raw-http")
    assert doc.error is None
    assert any(p.startswith("The handler sits in the client's pipeline") for p in doc.paragraphs)
    assert any(p.startswith("Secrets in headers such as") for p in doc.paragraphs)


def test_an_article_whose_paragraphs_are_sections_of_text_is_read_as_one_of_divs() -> None:
    """A builder that sets every block in a <section> writes each paragraph as a section of text:
    those are its paragraphs as a div's text is (the story read whole, the tiles' blurbs left out)."""
    html = (FIXTURES / "article_in_div_paragraphs.html").read_text(encoding="utf-8")
    in_sections = re.sub(r"<div\b", "<section", re.sub(r"</div>", "</section>", html))
    doc = extract_document(in_sections, "https://millbrook.example/news/article_in_sections")
    assert doc.error is None
    assert doc.paragraphs == _extract("article_in_div_paragraphs.html").paragraphs


def test_an_article_whose_paragraphs_are_separated_by_line_breaks_is_an_article() -> None:
    """A blog post written as text with two line breaks between paragraphs, its books listed as
    items that open with a linked title: read as paragraphs, each item is a section of the post with
    two paragraphs, not a teaser card whose text crowds out its prose (it was judged a listing)."""
    doc = extract_document((FIXTURES / "article_in_break_paragraphs.html").read_bytes(), "https://hearthside.example.com/blog/winter-reads")
    assert doc.error is None
    assert doc.paragraphs[0].startswith("The nights are drawing in")
    assert any(p.startswith("Lindqvist's descriptions of snow") for p in doc.paragraphs)
    assert doc.paragraphs[-1].startswith("All four are on the table")
    assert "Poetry night returns" not in doc.text()


def test_line_breaks_become_paragraphs_only_where_they_hold_the_pages_prose() -> None:
    """Text between double line breaks becomes <p> where a block holds two paragraphs of prose so
    and more text than any block holds in <p>; a page of <p> paragraphs keeps its breaks (an
    address in the footer)."""
    html = (FIXTURES / "article_in_break_paragraphs.html").read_text(encoding="utf-8")
    tree = load_tree(html)
    assert mark_break_paragraphs(tree) >= 10
    body = tree.find_class("post-body")[0]
    assert body[0].tag == "p" and body[0].text_content().strip().startswith("The nights are drawing in")
    assert not body.findall("br")

    footer = '<div class="footer">Hearthside Books<br><br>4 Mill Street, by the old bridge, open every day but Monday from nine in the morning until six.<br><br>Call us on the shop phone for orders, events and gift tokens, or write to us at the shop.</div>'
    in_paragraphs = "<html><body><h1>Notes</h1>" + "".join(
        f"<p>Paragraph {i} of the story, long enough to be prose and ending as a sentence does.</p>" for i in range(4)
    ) + footer + "</body></html>"
    assert mark_break_paragraphs(load_tree(in_paragraphs)) == 0
    assert mark_break_paragraphs(load_tree("<html><body>" + footer + "</body></html>")) == 3  # (alone, it is the page's prose)


def test_an_article_whose_paragraphs_each_sit_in_a_wrapper_is_read_whole() -> None:
    """A builder's page that names nothing and sets each paragraph and subheading in a block of its
    own, the article in two sections: the prose of a paragraph's wrapper is its section's, so both
    sections are read, not the sidebar's blurb. (The longest paragraph's wrapper was taken for the
    article, and its one paragraph was the body.)"""
    doc = _extract("article_in_wrapped_paragraphs.html")
    assert doc.error is None
    assert doc.paragraphs[0].startswith("Five summers ago")
    assert "What the neighbours copied" in doc.paragraphs
    assert doc.paragraphs[-1].startswith("Next year they plan")
    assert not any("published every month" in p for p in doc.paragraphs)


def _headline_as(tag: str) -> bytes:
    """The endless-page fixture with its headlines set in ``tag`` instead of <h1>."""
    html = (FIXTURES / "article_on_endless_page.html").read_bytes()
    return re.sub(rb"<(/?)h1\b", rb"<\1" + tag.encode(), html)


def test_an_article_on_an_endless_page_is_read_whatever_its_headline_is_set_in() -> None:
    """An endless page (the next story appended under the first, each in a block named for infinite
    scroll) whose headline is an <h1>, a styled <div> or an <h2> in a header above the story: the
    first story is the body, the appended one is not. (trafilatura deletes a block named so unless
    it holds an <h1>: with the headline's header dropped, or a headline in no <h1>, the story's
    block went and the page read as no article.)"""
    for tag in ("h1", "div", "h2"):
        doc = extract_document(_headline_as(tag), "https://harbourpost.example/travel/ferry-timetable-winter/")
        assert doc.error is None, tag
        assert len(doc.paragraphs) == 4, tag
        assert doc.paragraphs[0].startswith("The island ferry will run four crossings"), tag
        assert not any("car park" in p or "Parking" in p for p in doc.paragraphs), tag


def test_the_headline_of_a_page_without_an_h1_is_the_block_showing_the_title_not_a_breadcrumb() -> None:
    """Without an <h1>, the headline is the first block showing the title alone outside links,
    lists and menus: the styled div of the header, not the breadcrumb's last step before it."""
    title = "Ferry timetable changes for the winter months"
    shown = shown_headline(load_tree(_headline_as("div")), title)
    assert shown is not None and shown.tag == "div" and shown.get("class") == "entry-title"
    shown = shown_headline(load_tree(_headline_as("h2")), title)
    assert shown is not None and shown.tag == "h2"
    assert shown_headline(load_tree(_headline_as("div")), "A title no block shows") is None
