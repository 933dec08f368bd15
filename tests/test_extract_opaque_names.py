"""Pages whose class and id names say nothing (CSS-module hashes, utility classes): the body and
the article decision must stand on structure (tag roles, repetition, links, what is shown)."""

from __future__ import annotations

import re
from pathlib import Path

from extract import extract_document
from extract.body import FRAGMENT_SHARE
from extract.domfixes import unname_fragment_containers
from extract.htmlinput import load_tree
from extract.pagekind import drop_teaser_tail, gather_evidence

FIXTURES = Path(__file__).parent / "fixtures" / "opaque"


def _extract(name: str):
    return extract_document((FIXTURES / name).read_bytes(), f"https://millbrook.example/news/{Path(name).stem}")


def _assert_article(doc, opening: str, paragraphs: int, absent: str) -> None:
    """The page is an article whose body opens with ``opening``, has ``paragraphs`` paragraphs and
    holds nothing of ``absent`` (the teasers', comments' or copy's text)."""
    assert doc.error is None
    assert doc.paragraphs[0].startswith(opening)
    assert len(doc.paragraphs) == paragraphs
    assert not any(absent in p for p in doc.paragraphs)


def test_a_list_of_teasers_is_not_the_densest_prose() -> None:
    """Without a named container, the densest prose container is made the body; a list whose items
    open with a link (teasers with summaries) is no prose, however long its summaries."""
    _assert_article(_extract("article_beside_teaser_list.html"), "The town council of Millbrook voted", 5, "Ferry timetable")


def test_a_hidden_copy_of_the_article_is_not_its_body() -> None:
    """A microdata copy of the article in a block hidden by its style, its paragraphs run into one,
    is not taken for the body: the visible article's paragraphs and list items are, and the page,
    whose list items link to other stories, is still an article."""
    doc = _extract("article_with_hidden_copy.html")
    assert doc.error is None
    assert doc.paragraphs[0].startswith("Good evening. Here is what happened")
    assert len(doc.paragraphs) == 7
    assert doc.paragraphs[1].startswith("Harbour wall repairs begin next week")


def test_the_headlines_article_is_not_a_fragment_of_the_readers_prose() -> None:
    """The <article> holding the headline and paragraphs of prose is the body, though the readers'
    comments after it (each an <article> of its own, their names saying nothing) hold more prose:
    it is not unnamed as a fragment of the page's prose."""
    _assert_article(_extract("article_before_reader_comments.html"), "Anyone who keeps a fern on a windowsill", 4, "grandmother")


def test_the_headlines_article_is_not_compared_with_the_readers_prose() -> None:
    """A body that is most of the headline's own <article> is no fragment of the page's prose, though
    the readers' comments after it hold more: trafilatura's full mode, which would compare it with
    readability's body (the comments' section, denser), is not asked."""
    nested = (FIXTURES / "article_before_reader_comments.html").read_text(encoding="utf-8")
    flat = re.sub(r"</?(?:ol|li)>|<div>(?=<p)|(?<=</p>)</div>", "", nested)  # each comment an <article> holding a <p>
    doc = extract_document(flat, "https://millbrook.example/news/ferns")
    _assert_article(doc, "Anyone who keeps a fern on a windowsill", 4, "grandmother")


def test_teaser_tiles_as_articles_do_not_use_up_the_body_search() -> None:
    """trafilatura takes the first <article> for the body; a row of small teaser tiles, each an
    <article>, before an article set in <main>: every tile that is a fragment of the page's prose
    loses its tag at once (one at a time, they used up the walks and left a tile the container),
    so that <main> is taken, and the page reads as the article it is."""
    html = (FIXTURES / "article_after_teaser_tiles.html").read_bytes()
    tree = load_tree(html)
    prose = sum(len(p.text_content()) for p in tree.iter("p"))
    found = unname_fragment_containers(tree, FRAGMENT_SHARE * prose)
    assert found is not None and found.tag == "main"
    doc = _extract("article_after_teaser_tiles.html")
    assert doc.error is None
    assert doc.paragraphs[0].startswith("A week on the trail asks for less")
    assert "Spare laces, which weigh nothing and save a walk" in doc.paragraphs
    assert not any("Night trains" in p or "paper map" in p for p in doc.paragraphs)


def test_an_article_in_a_builders_nested_sections_is_read_whole() -> None:
    """A page builder nests each section of the article in wrappers of its own (a widget in a column
    in a row); the densest section is not the body: the block that holds the sections before it
    is, past the wrappers that add no prose."""
    doc = _extract("article_in_builder_sections.html")
    assert doc.error is None
    assert doc.paragraphs[0].startswith("A balcony of a few square metres")
    assert doc.paragraphs[1] == "Choose the containers first"  # the first section's heading, after the lead
    assert "Find the light" in doc.paragraphs
    assert doc.paragraphs[-1].startswith("Mulching the surface")
    assert len(doc.paragraphs) == 17


def test_an_article_whose_sections_wrap_their_headings_is_read_whole() -> None:
    """Each section in wrappers of its own that add the section's heading to its paragraphs: a
    sources list, denser than any one section, is not the body; the climb passes the wrapper that
    adds only its heading and takes the block holding the sections before it."""
    doc = _extract("article_in_headed_sections.html")
    assert doc.error is None
    assert doc.paragraphs[0] == "Why the river floods"  # the first section's heading
    assert doc.paragraphs[1].startswith("The river that runs through the lower town")
    assert "What residents say" in doc.paragraphs
    assert any(p.startswith("If the grant is approved") for p in doc.paragraphs)


def test_a_mega_menus_blurbs_are_not_the_densest_prose() -> None:
    """A menu whose panels each hold a heading and a blurb beside their short links, in no <nav>:
    its blurbs outweigh a short article's paragraphs, but a block mostly of short links is a menu,
    whose prose is neither the body's container nor prose before it."""
    doc = _extract("article_below_mega_menu.html")
    _assert_article(doc, "The town's summer fair will return", 3, "town hall.")


def test_a_roundup_of_linked_headlines_is_no_menu() -> None:
    """An article whose text is mostly a list of links to stories: its links are headlines, longer
    than a menu's few words, so its container stays the body, not a sidebar's paragraph."""
    doc = _extract("roundup_of_linked_stories.html")
    _assert_article(doc, "Every week the council gathers the news", 2, "eleven thousand residents")


def test_what_follows_an_article_in_a_builders_wrappers_is_not_its_body() -> None:
    """The same builder's wrappers around one text widget, the site's teasers and a reader's
    testimonial in blocks after it: all of that prose follows the article, which is the body alone."""
    doc = _extract("article_before_builder_teasers.html")
    _assert_article(doc, "Frost is the end of the season", 5, "wormery")
    assert not any("picking tomatoes" in p for p in doc.paragraphs)


def test_an_article_written_as_divs_of_spans_is_its_body() -> None:
    """A template that writes each paragraph as a <div> of styled <span> and no <p> at all: its
    paragraphs are the densest prose, not a sidebar's two headings, whose block trafilatura would
    take for the body and then fall back to the whole page's text, the menu first."""
    doc = _extract("article_in_span_divs.html")
    _assert_article(doc, "The lighthouse keeper's cottage on the headland", 4, "Popular Posts")


def test_readers_comments_stamped_with_times_are_not_the_article() -> None:
    """Readers' comments inside the <article>, after its text, their names saying nothing: a run of
    alike blocks each with a different reader's name, a <time> and a short text, after the
    article's paragraphs, goes with its heading; the article's own <time> under the headline stays."""
    doc = _extract("article_with_timed_reader_thread.html")
    _assert_article(doc, "The town library will open from one until five", 5, "homework club since they heard")
    assert not any("Readers' thoughts" in p for p in doc.paragraphs)


def test_a_live_blogs_timed_entries_stay_its_body() -> None:
    """A live blog's entries are alike blocks with a <time> each too, after a long introduction;
    signed by one desk, not by many readers, they are the article."""
    doc = _extract("live_blog_timed_entries.html")
    assert doc.error is None
    assert doc.paragraphs[0].startswith("We followed the harvest fair")
    assert doc.paragraphs[-1].startswith("Stallholders are packing up")
    assert len(doc.paragraphs) == 10



def test_a_row_of_teaser_cards_after_the_article_is_not_its_end() -> None:
    """A row of teaser cards after the article's paragraphs, in the same container and named by
    nothing (each a picture link, a headline link, a summary, most of them cut short, and a date):
    the summaries the body ran on into are the cards' text, not the article's last paragraphs."""
    _assert_article(_extract("article_before_teaser_row.html"), "Most cacti only need a new pot", 5, "Shorter days slow")


def test_a_grid_of_pictured_teasers_after_the_article_is_not_its_end() -> None:
    """A grid of teaser cards after the article (each a picture link, a headline link, a whole
    summary of a sentence or two, a date) under a heading, in the article's container and named by
    nothing: no summary is cut short, but a block of pictured cards and nothing else is a grid of
    other stories, and goes from the body's end with its heading."""
    doc = _extract("article_before_teaser_grid.html")
    _assert_article(doc, "The path along the river between the old mill", 4, "evening buses")
    assert doc.paragraphs[-1].startswith("Walkers are asked to keep dogs on leads")


def test_pictured_sections_amid_an_articles_prose_are_not_a_grid_of_teasers() -> None:
    """An article whose own sections are pictured cards (a picture link, a linked heading, a line
    of text) set in its column between its paragraphs: their block holds the prose too, so they
    are its content, and the last of them, at the body's end, stay."""
    tree = load_tree((FIXTURES / "guide_with_pictured_sections.html").read_bytes())
    evidence = gather_evidence(tree)
    paragraphs = [" ".join(p.text_content().split()) for p in tree.iter("p")]
    assert evidence.card_shingles and drop_teaser_tail(evidence, paragraphs) == paragraphs


def test_comments_declared_in_microdata_are_not_the_article() -> None:
    """Readers' comments inside the story's block, named by nothing, with no date or reply form,
    but declared as schema.org Comments in their microdata: they go, as a comment section named so
    would; the story's paragraphs stay."""
    story = "".join(f"<p>Paragraph {i} of the story: the harbour trust has agreed to rebuild the old sea wall at the "
                    "north end of the beach before the winter storms, the chair said on Tuesday.</p>" for i in range(10))
    comments = "".join(
        f'<div class="c7f2" itemscope itemtype="https://schema.org/Comment"><span class="c1a9" itemprop="author">'
        f'{name}</span><div class="c3d4" itemprop="text"><p>{text}</p></div></div>'
        for name, text in (
            ("Ann Lee", "About time too. The wall has been crumbling for as long as I have walked my dog along that "
                        "beach, and every winter another stretch of it falls onto the sand."),
            ("Bo Park", "I hope they keep the steps down to the rock pools, which my children love, and do not close "
                        "the car park for the whole of the summer while the work goes on."),
        )
    )
    html = (f'<html><head><title>Sea wall</title></head><body><div class="a1"><h1 class="a2">Harbour trust to rebuild '
            f'the sea wall</h1><div class="a3">{story}<div class="a4"><h3 class="a5">2 responses</h3>{comments}</div>'
            "</div></div></body></html>")
    doc = extract_document(html, "https://coast.example.org/news/sea-wall")
    _assert_article(doc, "Paragraph 0 of the story", 10, "About time too")


def test_a_short_thread_with_dates_written_as_text_goes_with_its_reply_form() -> None:
    """Two readers' replies with no <time>, their dates written as text, in one block with the form
    to reply in (a <textarea>): that block is the comments section, and goes whole, its heading, the
    replies and the form's notes; the article's paragraphs stay."""
    doc = _extract("article_with_written_date_replies.html")
    _assert_article(doc, "The waiting list for the town's allotments", 5, "Splitting the big plots")
    assert not any("Stan P." in p or "email address" in p or "2 responses" in p for p in doc.paragraphs)


def test_dated_letters_signed_by_readers_stay_the_article_beside_a_form_elsewhere() -> None:
    """A letters page: readers' letters with names and dates are its content. The page's form to
    write in follows them in the column that holds the introduction too: a block of more than the
    letters and a form's notes, so no comments section."""
    doc = _extract("letters_with_a_contact_form.html")
    assert doc.error is None
    assert doc.paragraphs[0].startswith("The footbridge over the river opened")
    assert any(p.startswith("The ramps are too steep") for p in doc.paragraphs)
    assert any(p.startswith("Please could the lights") for p in doc.paragraphs)
