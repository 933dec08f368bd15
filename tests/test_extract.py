"""Body and metadata of single pages: what a reader of the archive's text files relies on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from extract import EXTRACTOR, Document, extract_document

FIXTURES = Path(__file__).parent / "fixtures" / "extract"
URL = "https://courier.example.org/news/2024/03/harbour-ferry-returns"


@pytest.fixture(scope="module")
def article() -> Document:
    return extract_document((FIXTURES / "article_full.html").read_bytes(), URL)


@pytest.fixture(scope="module")
def legacy() -> Document:
    return extract_document((FIXTURES / "article_legacy_cp1252.html").read_bytes(), "https://valley.example.com/x")


def test_seed_format(article: Document) -> None:
    text = article.text()
    lines = text.split("\n")
    assert lines[0] == "Harbour ferry returns after two-year refit"
    assert lines[1] == ""
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert text == article.title + "\n\n" + "\n\n".join(article.paragraphs) + "\n"
    for paragraph in article.paragraphs:
        assert paragraph == paragraph.strip() and "\n\n" not in paragraph
        assert not paragraph.startswith(("- ", "* ", "#", "|", "> "))


def test_headline_not_repeated(article: Document) -> None:
    assert all("Harbour ferry returns" not in p for p in article.paragraphs)


def test_block_quotes_lists_and_subheadings_kept(article: Document) -> None:
    body = article.paragraphs
    assert any(p.startswith("We have had letters from nurses") for p in body)
    assert "A quicker trip to work" in body
    assert "an extra late crossing on Fridays and Saturdays," in body  # each list item its own paragraph
    assert body[0].startswith("The blue-hulled ferry")
    assert body[-1].startswith("Tickets can be bought on board")


@pytest.mark.parametrize(
    "furniture",
    [
        "Skip to main content",  # skip links
        "A+",  # font-size switcher
        "Coast road closed overnight",  # ticker
        "Share on Facebook",  # share bar
        "Get the morning briefing",  # newsletter box
        "delivered to your inbox",
        "Survey finds cracks",  # related stories
        "Join the conversation",  # comment widget
        "the detour was miserable",  # a reader's comment
        "Post comment",
        "Transport correspondent",  # byline
        "east quay on Wednesday morning",  # caption
        "Photo: Tomas Reyes",  # image credit
        "All rights reserved",  # footer
    ],
)
def test_furniture_dropped(article: Document, furniture: str) -> None:
    assert furniture not in article.text()


def test_metadata_from_json_ld_and_open_graph(article: Document) -> None:
    assert article.title == "Harbour ferry returns after two-year refit"
    assert article.author == "Priya Castellane"
    assert article.date is not None and article.date.startswith("2024-03-14")  # published, not modified
    assert article.sitename == "The Lowmoor Courier"
    assert article.language == "en"
    assert article.canonical_url == URL
    assert article.url == URL
    assert article.error is None and not article.is_empty


def test_legacy_page_charset_layout_table_and_visible_dateline(legacy: Document) -> None:
    assert legacy.title == "Café owners win appeal over terrace licence"
    assert legacy.author == "Dominic Ferreira"
    assert legacy.date == "2021-02-03"
    assert legacy.language == "en"
    assert legacy.paragraphs[0].startswith("The owners of a small café on Mill Lane")
    assert "“We never wanted a fight with anyone,” said co-owner Hanne Oduya." in legacy.text()
    assert all("Home" not in p.split() for p in legacy.paragraphs)  # the layout table's menu cell
    assert not any(p.startswith("Published") for p in legacy.paragraphs)  # dateline is metadata


def test_http_charset_overrides_meta() -> None:
    html = "<html><head><meta charset='utf-8'><title>t</title></head><body><article><h1>Crème brûlée</h1>" + (
        "<p>Un dessert très apprécié, servi froid avec une croûte de sucre caramélisé à la flamme.</p>" * 3
    ) + "</article></body></html>"
    doc = extract_document(html.encode("iso-8859-1"), content_type="text/html; charset=ISO-8859-1")
    assert "très apprécié" in doc.text()


def test_round_trip_dict(article: Document) -> None:
    assert Document.from_dict(article.to_dict()) == article


def test_extractor_names_versions() -> None:
    assert EXTRACTOR.startswith("newsarchive-extract/") and "trafilatura" in EXTRACTOR


def test_extractor_libraries_load_on_prepare_not_on_import() -> None:
    """A worker calls prepare at its start, so its first page does not pay the libraries'
    warm-up; a process that only handles documents never loads them."""
    check = (
        "import sys, extract; loaded = lambda: {'extract.extractor', 'trafilatura'} <= set(sys.modules);"
        "assert not loaded(); extract.prepare(); assert loaded()"
    )
    subprocess.run([sys.executable, "-c", check], check=True, cwd=Path(__file__).parent.parent, timeout=120)


def test_readability_takes_over_when_trafilatura_finds_nothing(monkeypatch) -> None:
    import extract.body

    monkeypatch.setattr(extract.body, "trafilatura_paragraphs", lambda *args, **kwargs: [])
    doc = extract_document((FIXTURES / "article_full.html").read_bytes(), URL)
    assert any(p.startswith("The blue-hulled ferry") for p in doc.paragraphs)
    assert any(p.startswith("We have had letters from nurses") for p in doc.paragraphs)
    assert "Share on Facebook" not in doc.text()


def test_odd_json_ld_does_not_lose_the_article() -> None:
    html = (
        '<html><head><script type="application/ld+json">{"@type": "NewsArticle", "headline": ["a", "b"],'
        ' "datePublished": 20200101}</script><script type="application/ld+json">{not json</script>'
        '<meta name="author" content="By Sam Lee"><title>Tram line opens | Metro Daily</title></head>'
        "<body><article><h1>Tram line opens</h1>"
        + "<p>The first trams ran along the new eastern line on Saturday, carrying several thousand riders.</p>" * 3
        + "</article></body></html>"
    )
    doc = extract_document(html)
    assert doc.title == "Tram line opens"
    assert doc.author == "Sam Lee"
    assert doc.paragraphs and doc.paragraphs[0].startswith("The first trams ran")


def _misnested(wrapper: str) -> str:
    """A header whose menu element is never closed: the parser puts the whole article inside it."""
    paragraphs = "".join(
        f"<p>Paragraph {i} of the council's budget story, long enough to read as body text and to count "
        f"for the extractor, with the figures the finance committee approved on Tuesday evening.</p>"
        for i in range(6)
    )
    return (
        f"<html><head><title>Budget approved</title></head><body><header><{wrapper} class='menu'>"
        "<ul><li><a href='/'>Home</a></li><li><a href='/news'>News</a></li></ul>"
        f"<main><article><h1>Budget approved</h1>{paragraphs}</article></main>"
        f"</{wrapper}></header><footer><nav><a href='/about'>About</a></nav></footer></body></html>"
    )


@pytest.mark.parametrize("wrapper", ["button", "nav", "aside"])
def test_article_inside_a_misnested_menu_is_kept(wrapper: str) -> None:
    doc = extract_document(_misnested(wrapper), "https://town.example.net/news/budget")
    assert len(doc.paragraphs) == 6 and doc.paragraphs[5].startswith("Paragraph 5 of the council's")
    assert "About" not in doc.text()


def test_fragment_from_fast_mode_is_compared_with_full_mode(monkeypatch) -> None:
    import extract.body

    real = extract.body.trafilatura_paragraphs
    modes = []

    def fast_keeps_a_fragment(tree, url, fast=True, again=False):
        modes.append(fast)
        found = real(tree, url, fast=fast, again=again)
        return found[:1] if fast else found

    monkeypatch.setattr(extract.body, "trafilatura_paragraphs", fast_keeps_a_fragment)
    doc = extract_document((FIXTURES / "article_full.html").read_bytes(), URL)
    assert modes == [True, False]
    assert doc.paragraphs[-1].startswith("Tickets can be bought on board")


def test_full_mode_not_run_when_fast_mode_finds_the_body(monkeypatch) -> None:
    import extract.body

    real = extract.body.trafilatura_paragraphs
    modes = []

    def recorded(tree, url, fast=True, again=False):
        modes.append(fast)
        return real(tree, url, fast=fast, again=again)

    monkeypatch.setattr(extract.body, "trafilatura_paragraphs", recorded)
    extract_document((FIXTURES / "article_full.html").read_bytes(), URL)
    assert modes == [True]


def test_streamed_server_rendered_parts_are_put_in_place() -> None:
    sentence = "of the streamed guide explains how index funds track a market, with enough words to be prose."
    html = (
        "<html><head><title>Index funds</title></head><body><main><article><h1>Index funds</h1>"
        '<template id="B:0"></template><p>Part two ' + sentence + "</p><p>Part three " + sentence + "</p>"
        '<template id="B:1"></template></article></main><div hidden id="S:1"><p>Part four ' + sentence + "</p></div>"
        '<div hidden id="S:0"><p>Part one ' + sentence + "</p></div></body></html>"
    )
    doc = extract_document(html, "https://money.example.com/guides/index-funds")
    assert [p.split()[1] for p in doc.paragraphs] == ["one", "two", "three", "four"]



def test_streamed_parts_placed_inside_other_streamed_parts_are_put_in_place() -> None:
    """A part's placeholder can be a <template id="P:n"> inside another streamed part (React's
    $RS): the part goes there, not at the end of the page outside the article."""
    sentence = "of the streamed guide explains how index funds track a market, with enough words to be prose."
    html = (
        "<html><head><title>Index funds</title></head><body><main><article><h1>Index funds</h1>"
        '<template id="B:0"></template><p>Part four ' + sentence + "</p><p>Part five " + sentence + "</p>"
        "</article></main><footer><p>Money Guides, 12 Bank Street. All rights reserved.</p></footer>"
        '<div hidden id="S:0"><p>Part one ' + sentence + '</p><template id="P:1"></template>'
        "<p>Part three " + sentence + "</p></div>"
        '<div hidden id="S:1"><p>Part two ' + sentence + "</p></div></body></html>"
    )
    doc = extract_document(html, "https://money.example.com/guides/index-funds")
    assert [p.split()[1] for p in doc.paragraphs] == ["one", "two", "three", "four", "five"]

def test_data_table_with_paragraphs_in_its_cells_stays_a_table() -> None:
    prose = "<p>Choosing a ledger depends on the size of the business, and the chart below sums up our tests.</p>"
    rows = [("Size", "Ledgerly", "Bookwise"), ("Small", "Too complex", "Good fit"), ("Medium", "Good fit", "Limited"),
            ("Large", "Best", "Not offered")]
    table = "".join("<tr>" + "".join(f"<td><p>{cell}</p></td>" for cell in row) + "</tr>" for row in rows)
    html = (f"<html><body><article><h1>Ledger software compared</h1>{prose * 3}<table><tbody>{table}</tbody></table>"
            f"{prose}</article></body></html>")
    doc = extract_document(html, "https://tools.example.com/blog/ledgers")
    assert "Medium Good fit Limited" in doc.paragraphs


INTRO = (
    "Online design services start you off with a style quiz and ask about the room you want to change, "
    "then pair you with a designer who works from your photos and measurements."
)
SLIDES = [f"Slide {i}: the service number {i} sends three design ideas and a shopping list to you." for i in range(8)]


def _slides_page(article_body: str) -> str:
    """A gallery page that shows its first slide; the others load in the browser."""
    data = json.dumps({"@type": "NewsArticle", "headline": "Design services", "articleBody": article_body})
    return (
        f'<html><head><script type="application/ld+json">{data}</script></head><body><article>'
        f"<h1>Design services</h1><p>{INTRO}</p><p>{SLIDES[0]}</p></article></body></html>"
    )


def test_declared_article_body_wins_when_the_page_shows_only_part_of_it() -> None:
    doc = extract_document(_slides_page("\n".join([INTRO, *SLIDES])), "https://decor.example.com/g1/design/")
    assert list(doc.paragraphs) == [INTRO, *SLIDES]


def test_declared_teaser_does_not_replace_the_body() -> None:
    doc = extract_document(_slides_page("A style quiz, then a designer."), "https://decor.example.com/g1/design/")
    assert list(doc.paragraphs) == [INTRO, SLIDES[0]]



def test_lists_and_subheadings_kept_in_a_container_with_an_unknown_name() -> None:
    prose = [
        f"<p>Paragraph {i}: cloud computing allows businesses and individuals to use powerful computing "
        "resources on demand, paying only for what they use.</p>"
        for i in range(4)
    ]
    body = (
        f"{prose[0]}{prose[1]}<h2>Know about cloud computing</h2>{prose[2]}<ul><li>Cost efficiency: no hardware to "
        f"buy up front.</li><li>Scalability: more capacity on a busy day.</li></ul>{prose[3]}"
    )
    html = f"<html><body><section class='sec'><div class='grid'><div class='rt w-richtext'>{body}</div></div></section>"
    doc = extract_document(html, "https://kitchens.example.com/blog/cloud")
    assert "Know about cloud computing" in doc.paragraphs
    assert "Scalability: more capacity on a busy day." in doc.paragraphs


def test_a_paragraph_of_invisible_characters_is_no_paragraph() -> None:
    """Page builders write a spacer as a paragraph holding a zero-width joiner or space: it shows
    nothing, so the text file has no line for it; a joiner inside a word or an emoji stays."""
    prose = [f"<p>Paragraph {i} of the guide to planting a hedge that birds will nest in each spring.</p>" for i in range(4)]
    spacers = ["<p>&#8205;</p>", "<p> &#8203;&#8203; </p>", "<p>&#8206;</p>", "<p>&#65279;</p>"]
    joined = "<p>The family \U0001f468&#8205;\U0001f469&#8205;\U0001f467 planted it in a day.</p>"
    body = "".join(p + s for p, s in zip(prose, spacers)) + joined
    doc = extract_document(f"<html><body><article><h1>Planting a hedge</h1>{body}</article></body></html>",
                           "https://garden.example.com/guides/hedge")
    assert len(doc.paragraphs) == 5
    assert doc.paragraphs[-1] == "The family \U0001f468\u200d\U0001f469\u200d\U0001f467 planted it in a day."


def _titled(head: str, h1: str = "") -> Document:
    body = "".join(f"<p>Paragraph {i} of a report on the new tram line and its riders.</p>" for i in range(5))
    return extract_document(f"<html><head>{head}</head><body><article>{h1}{body}</article></body></html>",
                            "https://www.metrodaily.example/news/tram")


def _bylined(byline: str) -> str | None:
    """The author of a page whose headline the byline follows."""
    return _titled("<title>Tram line opens</title>", f"<h1>Tram line opens</h1>{byline}").author


def test_headline_without_the_site_name() -> None:
    site = '<meta property="og:site_name" content="Metro Daily">'
    assert _titled(f"{site}<title>Tram line opens | Metro Daily</title>").title == "Tram line opens"
    assert _titled("<title>Metro Daily - Tram line opens</title>").title == "Tram line opens"  # the host's name
    assert _titled("<title>Tram line opens | City Desk</title>").title == "Tram line opens"  # short part after a bar
    assert _titled("<title>metrodaily.example Tram line opens</title>").title == "Tram line opens"  # the host, unset apart
    assert _titled("<title>Tram line opens: what riders need to know</title>").title == (
        "Tram line opens: what riders need to know"
    )


def test_headline_without_the_site_name_of_a_subdomain_s_page() -> None:
    """A page on a subdomain ("travel.metrodaily.co.uk") is titled with the name registered under
    the public suffix ("Metrodaily"), not with its first label."""
    html = "<html><head><title>Tram line opens - Metrodaily</title></head><body></body></html>"
    assert extract_document(html, "https://travel.metrodaily.co.uk/tram").title == "Tram line opens"


def test_an_h1_holding_the_site_name_is_the_masthead_not_the_headline() -> None:
    head = "<title>Tram line opens on Saturday • Metro Daily</title>"
    assert _titled(head, "<h1>Metro Daily</h1>").title == "Tram line opens on Saturday"


def test_soft_hyphens_in_the_headline_and_the_byline_are_dropped() -> None:
    """Sites that hyphenate write a soft hyphen (&shy;) at each break point of long words: shown
    only at a line's end, it is no part of the headline or the author's name."""
    body = "".join(f"<p>Para&shy;graph {i} of the story tells how the coun&shy;cil met on Tues&shy;day.</p>" for i in range(5))
    html = ("<html><head><title>Bundes&shy;regierung plant neue Regeln</title></head><body><article>"
            f"<h1>Bundes&shy;regierung plant neue Regeln</h1><p class='byline'>By Anna Mül&shy;ler</p>{body}</article></body></html>")
    doc = extract_document(html, "https://zeitung.example.de/politik/neue-regeln")
    assert (doc.title, doc.author) == ("Bundesregierung plant neue Regeln", "Anna Müller")
    assert doc.paragraphs[0] == "Paragraph 0 of the story tells how the council met on Tuesday."


def test_headline_entities_and_capitals() -> None:
    og = '<meta property="og:title" content="Trams &amp;#038; buses: the new timetable">'
    assert _titled(og).title == "Trams & buses: the new timetable"
    caps = _titled("<title>Tram Line Opens</title>", "<h1>TRAM LINE OPENS</h1>")
    assert caps.title == "Tram Line Opens"
    broken = _titled("<title>Tram Line Opens</title>", "<h1>TRAM<br>LINE OPENS</h1>")  # a line break is a space
    assert broken.title == "Tram Line Opens"
    reworded = _titled("<title>Tram Line Opens Saturday</title>", "<h1>TRAM LINE OPENS ON SATURDAY</h1>")
    assert reworded.title == "Tram Line Opens Saturday"


def test_a_headline_set_in_small_letters_has_the_declared_title_s_capitals() -> None:
    """A page's style may show the headline in small letters; the declared title writing the same
    words, whole or before a separator, gives their capitals. A headline in sentence case stays."""
    head = "<title>Tram Line Opens in May | Routes, Fares and Stops | Metro Daily</title>"
    assert _titled(head, "<h1>tram line opens in may</h1>").title == "Tram Line Opens in May"
    assert _titled(head, "<h1>Tram line opens in May</h1>").title == "Tram line opens in May"
    assert _titled(head, "<h1>tram line opens</h1>").title == "tram line opens"  # not the declared title's words


def test_a_headline_s_subtitle_element_is_not_run_into_its_last_word() -> None:
    # a subtitle in an element of its own, set on a line of its own by the page's style
    page = _titled("<title>Tram guide</title>", '<h1>The Tram Guide<span class="sub">Routes and Fares for Riders</span></h1>')
    assert page.title == "The Tram Guide Routes and Fares for Riders"
    # a drop capital and a styled part of one word stay one word
    assert _titled("<title>Tram guide</title>", "<h1><span>T</span>he tram guide</h1>").title == "The tram guide"
    assert _titled("<title>Tram guide</title>", "<h1>The tram guide<em>s</em></h1>").title == "The tram guides"


def test_only_h1_sharing_words_with_the_declared_title_is_the_headline() -> None:
    head = "<title>Tram line opening: timetable and fares</title>"
    assert _titled(head, "<h1>New tram line opens on Saturday</h1>").title == "New tram line opens on Saturday"
    assert _titled(head, "<h1>Subscribe to our newsletter</h1>").title == "Tram line opening: timetable and fares"
    twice = "<h1>New tram line opens on Saturday</h1>" * 2  # one headline, in the desktop and the phone layout
    assert _titled(head, twice).title == "New tram line opens on Saturday"


def test_an_h1_sharing_no_words_with_the_declared_title_leaves_the_headline_as_it_is() -> None:
    """A second <h1> that shares no word with the declared title (a masthead spelled unlike the
    site's declared name, a promotion's) is no rival to the headline: the one <h1> that shares a
    few words is taken as it is alone."""
    head = "<title>Tram line opening: timetable and fares</title>"
    for other in ("<h1>Metro Daily Online</h1>", "<h1>Subscribe to our newsletter</h1>"):
        for h1s in (other + "<h1>New tram line opens on Saturday</h1>", "<h1>New tram line opens on Saturday</h1>" + other):
            assert _titled(head, h1s).title == "New tram line opens on Saturday"


def test_declared_title_shown_as_a_heading_beats_an_h1_no_declaration_gives() -> None:
    head = "<title>What riders love about the new tram line | Metro Daily</title>"
    headings = "<h1>But what riders love is the quiet ride</h1><h2>What riders love about the new tram line</h2>"
    page = _titled(head, headings)
    assert page.title == "What riders love about the new tram line"
    retouched = _titled(head, "<h1>What riders love about the new tram</h1><h2>Timetable</h2>")
    assert retouched.title == "What riders love about the new tram"  # no heading shows the declared title


def test_headline_without_the_source_link_and_comment_count_the_template_runs_into_the_h1() -> None:
    head = '<meta property="og:site_name" content="Metro Daily"><title>Tram line opens | Metro Daily</title>'
    h1 = ('<h1><span><a href="/story/tram">Tram line opens</a> <span><a href="https://courier.example/t">'
          '(courier.example)</a></span></span> <span><a href="/story/tram#comments">87</a></span></h1>')
    assert _titled(head, h1).title == "Tram line opens"


def test_a_page_without_an_h1_has_the_part_of_its_title_a_heading_shows() -> None:
    """With no <h1>, the title's longest part shown as a heading is the headline; its other parts
    (a label, a section's name) are not, even where a heading shows them."""
    head = "<title>Tram line opens on Saturday - Explainer</title>"
    assert _titled(head, "<h3>Tram line opens on Saturday</h3>").title == "Tram line opens on Saturday"
    assert _titled(head, "<h3>Explainer</h3>").title == "Tram line opens on Saturday - Explainer"


def test_a_paragraph_set_as_the_h1_gives_way_to_the_declared_title() -> None:
    lede = ("<h1>The new tram line opens on Saturday: here is what riders need to know about the timetable, "
            "the fares on the eastern route and the buses it will replace next spring.</h1>")
    head = "<title>Tram line opens on Saturday: what riders need to know | Metro Daily</title>"
    assert _titled(head, lede).title == "Tram line opens on Saturday: what riders need to know"


def test_content_in_a_block_named_like_furniture_is_kept() -> None:
    """Page builders name whole layouts "sidebar-layout" or wrap a long chart in "w-embed"."""
    prose = "".join(
        f"<p>Paragraph {i}: tipping customs differ between a full service restaurant, a coffee shop and a "
        "delivery driver, and the chart below gives the usual amounts.</p>"
        for i in range(4)
    )
    services = ["Full service restaurant", "Coffee shop", "Delivery", "Bar", "Valet", "Hotel porter", "Taxi"]
    table = "".join(f"<tr><td>{name} in a city centre</td><td>{10 + i}% of the bill</td></tr>"
                    for i, name in enumerate(services))
    html = (
        "<html><body><div class='navbar'><a href='/'>Home</a></div><div class='sidebar-layout'><h1>Tipping guide</h1>"
        f"{prose}<div class='w-embed'><table>{table}</table></div></div></body></html>"
    )
    doc = extract_document(html, "https://guides.example.com/blog/tipping")
    assert "Coffee shop in a city centre 11% of the bill" in doc.paragraphs
    assert doc.paragraphs[0].startswith("Paragraph 0:")


def test_author_from_a_visible_byline_when_the_page_declares_none() -> None:
    byline = '<div class="post-meta"><span class="author-name">Written by: Jane Roe</span> <span>12 May 2025</span></div>'
    assert _titled("<title>Tram line opens</title>", f"<h1>Tram line opens</h1>{byline}").author == "Jane Roe"
    assert _titled("<title>Tram line opens</title>", "<h1>Tram line opens</h1>").author is None
    declared = '<meta name="author" content="Ann Other">'
    assert _titled(f"<title>Tram line opens</title>{declared}", f"<h1>Tram line opens</h1>{byline}").author == "Ann Other"


def test_visible_byline_without_the_job_title_set_after_the_name() -> None:
    card = ('<div class="author-name-wrap"><div class="author-name">Jane Roe</div>'
            '<div class="author-role">Transport Reporter, City Desk</div></div>')
    assert _titled("<title>Tram line opens</title>", f"<h1>Tram line opens</h1>{card}").author == "Jane Roe"
    pair = '<div class="byline"><span>Jane Roe</span> <span>Transport Reporter</span>, <span>John Doe</span></div>'
    assert _titled("<title>Tram line opens</title>", f"<h1>Tram line opens</h1>{pair}").author == "Jane Roe, John Doe"


def test_author_from_a_link_to_the_author_page_next_to_the_headline() -> None:
    byline = '<p><a href="/authors/jane-roe/">Jane Roe</a> · 12 May 2025</p>'
    assert _titled("<title>Tram line opens</title>", f"<h1>Tram line opens</h1>{byline}").author == "Jane Roe"
    titled = '<p><a href="/author/jane-roe/"><span>Jane Roe</span> <span>Transport Reporter</span></a></p>'
    assert _titled("<title>Tram line opens</title>", f"<h1>Tram line opens</h1>{titled}").author == "Jane Roe"
    tagged = '<p><a href="/tags/trams/">Trams</a></p>'
    assert _titled("<title>Tram line opens</title>", f"<h1>Tram line opens</h1>{tagged}").author is None


def test_author_from_a_labelled_byline_no_class_names() -> None:
    author = _bylined
    assert author('<p>By <a href="/people/jane-roe">Jane Roe</a></p>') == "Jane Roe"
    assert author("<div><span>Written by</span><span>Jane Roe</span></div>") == "Jane Roe"
    assert author("<p>Published May 5, 2025 by Jane Roe | 5 min read</p>") == "Jane Roe"
    assert author("<div><span>Par</span> <span>Jeanne Dupont</span> · 5 mai 2025</div>") == "Jeanne Dupont"
    # a title naming its author, a heading, a photo credit and a sentence are no bylines
    assert author("<p>Read <strong>Drawing Lessons by Jane Roe</strong> first.</p>") is None
    assert author("<h2>Step by Step Guide</h2>") is None
    assert author("<figure><figcaption>Photo by Jane Roe</figcaption></figure>") is None
    assert author("<p>By signing up you agree to the Terms of Service.</p>") is None
    # far from the headline (a footer's credit) it is not searched
    filler = "".join(f"<div><span>Stop {i}</span></div>" for i in range(50))
    assert author(f"{filler}<p>Powered by Metro Press</p>") is None


def test_the_name_of_a_labelled_byline_is_the_element_after_the_label() -> None:
    author = _bylined
    assert author('<p>By <a href="/people/jr">J. R. Roe</a> View the print edition</p>') == "J. R. Roe"
    assert author('<p>By <a href="/people/jr">Jane Roe</a>, <a href="/people/jd">John Doe</a> | May 5</p>') == (
        "Jane Roe, John Doe")
    assert author("<p>Written by:<span>Jane Roe</span></p>") == "Jane Roe"
    assert author("<p>by: <!-- -->Jane Roe<!-- -->, May 5, 2025</p>") == "Jane Roe"


def test_what_a_byline_holds_besides_a_name_is_no_name() -> None:
    author = _bylined
    # a label whose name the template left empty, a date line, an avatar's initials
    assert author('<div class="byline">Written By <a class="author-name" href="/blog?author=7"></a></div>') is None
    assert author('<p class="article-byline__dates">Updated March 13, 2024</p>') is None
    assert author('<div class="author"><svg><text>JR</text></svg><a rel="author" href="/u/jr">Jane Roe</a></div>') == (
        "Jane Roe")
    assert author('<div class="author"><svg><text>JR</text></svg> <span>Jane Roe</span></div>') == "Jane Roe"


def test_a_login_declared_as_author_gives_way_to_the_name_the_page_shows() -> None:
    shown = '<p>By <a href="/authors/jane-roe/">Jane Roe</a></p>'
    for login in ("jroe", "jane.roe", "page.head.author"):
        declared = f'<meta name="author" content="{login}">'
        assert _titled(declared, f"<h1>Tram line opens</h1>{shown}").author == "Jane Roe"
    assert _titled('<meta name="author" content="jroe">', "<h1>Tram line opens</h1>").author == "jroe"


def test_a_name_declared_again_in_a_list_of_names_is_listed_once() -> None:
    declared = '<meta name="author" content="Jane Roe, John Doe"><meta property="article:author" content="Jane Roe">'
    assert _titled(declared, "<h1>Tram line opens</h1>").author == "Jane Roe, John Doe"
    declared = '<meta name="author" content="Jane Roemer"><meta property="article:author" content="Jane Roe">'
    assert _titled(declared, "<h1>Tram line opens</h1>").author == "Jane Roemer, Jane Roe"


def test_the_authors_of_related_stories_are_not_the_author() -> None:
    def page(byline: str) -> str:
        cards = "".join(f'<article class="card"><h3>Story {i}</h3><a rel="author" href="/u/{i}">Writer {i}</a></article>'
                        for i in range(3))
        return (f"<html><body><article><h1>Tram line opens</h1>{byline}"
                + "".join(f"<p>Paragraph {i} of a report on the new tram line and its riders.</p>" for i in range(5))
                + f"</article><aside>{cards}</aside></body></html>")

    doc = extract_document(page('<a rel="author" href="/u/roe">Jane Roe</a>'), "https://www.metrodaily.example/tram")
    assert doc.author == "Jane Roe"
    doc = extract_document(page('<p>By Jane Roe</p>'), "https://www.metrodaily.example/tram")
    assert doc.author == "Jane Roe"


def test_author_declared_to_analytics_tools_when_no_other_declaration_names_one() -> None:
    for key in ("parsely-author", "sailthru.author"):
        assert _titled(f'<meta name="{key}" content="Jane Roe">', "<h1>Tram line opens</h1>").author == "Jane Roe"
    both = '<meta name="author" content="John Doe"><meta name="sailthru.author" content="John Doe, Staff writer">'
    assert _titled(both, "<h1>Tram line opens</h1>").author == "John Doe"


def test_a_comment_form_field_is_no_byline() -> None:
    form = ('<form class="comment-form"><p class="comment-form-author"><label for="author">Name</label>'
            '<input id="author" name="author"></p></form>')
    assert _titled("<title>Tram line opens</title>", f"<h1>Tram line opens</h1>{form}").author is None


def test_declared_author_without_the_site_it_writes_for() -> None:
    credit = '<script type="application/ld+json">{"@type": "NewsArticle", "author": "%s"}</script>'
    assert _titled(credit % "Jane Roe, Metro Daily", "<h1>Tram line opens</h1>").author == "Jane Roe"
    byline = '<div class="byline"><span class="author">John Doe</span></div>'
    assert _titled(credit % ", METRO DAILY", f"<h1>Tram line opens</h1>{byline}").author == "John Doe"


def test_an_author_credited_again_within_a_joint_credit_is_listed_once() -> None:
    credit = ('<script type="application/ld+json">{"@type": "NewsArticle", '
              '"author": [{"name": "Jane Roe and John Doe"}, {"name": "Jane Roe"}]}</script>')
    assert _titled(credit, "<h1>Tram line opens</h1>").author == "Jane Roe and John Doe"


def test_an_author_the_page_shows_beats_the_site_declared_as_author() -> None:
    credit = '<script type="application/ld+json">{"@type": "NewsArticle", "author": "Metro Daily"}</script>'
    byline = '<p>By <a href="/authors/john-doe/">John Doe</a></p>'
    assert _titled(credit, f"<h1>Tram line opens</h1>{byline}").author == "John Doe"
    assert _titled(credit, "<h1>Tram line opens</h1>").author == "Metro Daily"  # no one else named
    # a byline marked by its class only, without a link to the author's page
    marked = '<div class="story-byline"><span class="byline-name">John Doe and Jane Roe</span></div>'
    assert _titled(credit, f"<h1>Tram line opens</h1>{marked}").author == "John Doe, Jane Roe"


def test_an_author_box_after_the_story_links_to_the_author_page() -> None:
    """A template that credits the author only in a box after the text, with a link to the author's page: the
    linked name, written as people's names are; not a writer the site's menu lists."""
    body = "".join(f"<p>Paragraph {i} of a report on the new tram line and its riders.</p>" for i in range(5))
    menu = "<header><nav><ul><li><a href='/authors/desk/'>Metro Transport Desk</a></li></ul></nav></header>"
    box = "<div class='bio'><a href='/authors/jane-roe/'>Jane Roe</a><p>Jane covers transport.</p></div>"
    story = f"<div><div><div><div><article><h1>Tram line opens</h1>{body}</article></div></div></div></div>"
    page = f"<html><body>{menu}<main>{story}{box}</main></body></html>"
    assert extract_document(page, "https://www.metrodaily.example/news/tram").author == "Jane Roe"
    assert extract_document(page.replace(box, ""), "https://www.metrodaily.example/news/tram").author is None
    # a link that names no one is no credit
    unnamed = box.replace(">Jane Roe<", ">More stories<")
    assert extract_document(page.replace(box, unnamed), "https://www.metrodaily.example/news/tram").author is None


def test_the_name_on_the_date_line_next_to_the_headline() -> None:
    """A date line beside the headline that names its author after the date, with no label or class saying so."""
    line = "<div class='meta'><span>Dec 17, 2025</span><span>·</span><a href='/people/ann'>Ann Lee</a></div>"
    assert _bylined(line) == "Ann Lee"
    assert _bylined("<p>2025-12-17 · 4:05 pm · Ann Lee in <a href='/transport/'>Transport</a></p>") == "Ann Lee"
    # a section the story is filed under is no author, nor a sentence that mentions a date
    assert _bylined("<p>Dec 17, 2025 <a href='/category/transport/' rel='tag'>City Transport</a></p>") is None
    assert _bylined("<p>Since Dec 17, 2025 the Blue Line has run every ten minutes between the two depots "
                    "at both ends of the line, a spokesperson for the operator said.</p>") is None


def _dated(page: str, url: str = "https://www.metrodaily.example/news/tram") -> str | None:
    body = "".join(f"<p>Paragraph {i} of a report on the new tram line and its riders.</p>" for i in range(5))
    return extract_document(page.replace("{body}", body), url).date


def test_date_shown_near_the_headline_when_the_page_declares_none() -> None:
    page = (
        "<html><head><title>Tram line opens</title><script>var built = '2019-01-01';</script></head><body>"
        "<article><h1>Tram line opens</h1><p class='byline'>By Jane Roe · December 18th, 2025</p>{body}</article>"
        "<aside><h2>Related</h2><ul><li>Bus lanes planned <span>3 Nov 2025</span></li></ul></aside></body></html>"
    )
    assert _dated(page) == "2025-12-18"
    # a <time> in the article's header says it in machine form
    assert _dated(page.replace("December 18th, 2025", "<time datetime='2025-12-17'>yesterday</time>")) == "2025-12-17"
    # no date near the headline: the first one the page shows
    assert _dated(page.replace(" · December 18th, 2025", "")) == "2025-11-03"
    assert _dated(page.replace(" · December 18th, 2025", "").replace("3 Nov 2025", "")) is None


def test_a_date_that_prose_mentions_is_not_the_page_date() -> None:
    page = (
        "<html><body><article><h1>Tram line opens</h1><p>This guide to the network was first written on 21 June 2017"
        " and has been revised for riders many times since then.</p><div class='meta'>Posted on April 13, 2023</div>"
        "{body}</article></body></html>"
    )
    assert _dated(page) == "2023-04-13"
    assert _dated(page.replace("Posted on April 13, 2023", "")) is None
    # a date line split between elements is still one
    assert _dated(page.replace("April 13, 2023", "<span>April 13,</span> <b>2023</b>")) == "2023-04-13"
    # a dateline opening a report's first paragraph is the report's date
    dateline = "<p>LONDON, 18 December 2025 - The tram line opened to riders this morning after years of works.</p>"
    assert _dated(page.replace("Posted on April 13, 2023", "").replace("<p>This", f"{dateline}<p>This")) == "2025-12-18"


def test_slashed_date_read_day_first_unless_the_page_is_in_us_english() -> None:
    page = "<html lang='en'><body><article><h1>Tram line opens</h1><p>Posted 03/10/2023</p>{body}</article></body></html>"
    assert _dated(page) == "2023-10-03"
    assert _dated(page.replace("lang='en'", "lang='en-US'")) == "2023-03-10"
    assert _dated(page.replace("03/10/2023", "12/18/2025")) == "2025-12-18"  # 18 cannot be a month
    assert _dated(page.replace("03/10/2023", "18.12.2025").replace("lang='en'", "lang='en-US'")) == "2025-12-18"
    assert _dated(page.replace("03/10/2023", "2025.12.17 |")) == "2025-12-17"  # year first: no doubt


def test_date_written_with_month_names_of_other_languages() -> None:
    page = "<html><body><article><h1>Tram line opens</h1><p>{shown}</p>{body}</article></body></html>"
    for shown in ("18. Dezember 2025", "Publié le 18 décembre 2025", "18 de diciembre de 2025", "18 dicembre 2025",
                  "18 grudnia 2025", "18 december 2025", "18.Dec.2025", "18-Dec-2025"):
        assert _dated(page.replace("{shown}", shown)) == "2025-12-18", shown
    assert _dated(page.replace("{shown}", "1er mars 2024")) == "2024-03-01"
    # a word in a month's place is no month, and a date may begin inside what it matched
    assert _dated(page.replace("{shown}", "Number 5 2025, 5 maart 2024")) == "2024-03-05"


@pytest.mark.parametrize("language", ["chinese", "japanese"])
def test_an_article_in_a_language_written_without_spaces_comes_out_whole_with_its_date(language: str) -> None:
    """Chinese and Japanese write no spaces between words: a story's word counts are its characters', not
    its sentences' (one "word" each), and its date line reads "2025年3月4日"."""
    page = Path(__file__).parent / "fixtures" / "pagekind" / f"article_{language}.html"
    doc = extract_document(page.read_bytes(), "https://news.example.com/local/park")
    assert len(doc.paragraphs) == 5 and not doc.error
    assert doc.date == "2025-03-04"


def test_date_in_the_url_corrects_a_utc_timestamp_a_day_off() -> None:
    """A story filed at 9 pm in New York is declared at 02:00 the next day in UTC; its URL has the local day."""
    page = ("<html><head><meta property='article:published_time' content='2025-12-19T02:41:41+00:00'></head>"
            "<body><article><h1>Tram line opens</h1>{body}</article></body></html>")
    assert _dated(page, "https://blog.example.org/2025/12/18/tram-line-opens/") == "2025-12-18"
    assert _dated(page, "https://blog.example.org/news/tram-line-opens/") == "2025-12-19T02:41:41+00:00"
    assert _dated(page, "https://blog.example.org/2025/12/01/tram-line-opens/") == "2025-12-19T02:41:41+00:00"


def test_a_date_shown_at_the_headline_before_a_publication_stamped_at_the_last_save() -> None:
    """A CMS that stamps publication and modification alike at a save (a migration, a re-publication) declares
    neither the story's date; the date the page shows at its headline is that."""
    stamps = ("<script type='application/ld+json'>{\"@type\": \"BlogPosting\", \"headline\": \"Tram line opens\", "
              "\"datePublished\": \"2025-11-20T02:02:46Z\", \"dateModified\": \"2025-11-20T02:02:46Z\"}</script>")
    page = ("<html><head>" + stamps + "</head><body><article><h1>Tram line opens</h1>"
            "<div class='meta'><span>Jane Roe</span><div>{shown}</div></div>{body}</article></body></html>")
    assert _dated(page.replace("{shown}", "May 14, 2025")) == "2025-05-14"
    assert _dated(page.replace("{shown}", "<time datetime='2025-05-14'>last spring</time>")) == "2025-05-14"
    # modified later than published: the publication is the story's date where the page shows its day too
    updated = page.replace('"dateModified": "2025-11-20', '"dateModified": "2025-12-02')
    shows_both = updated.replace("</article>", "<footer>Published November 20, 2025</footer></article>")
    assert _dated(shows_both.replace("{shown}", "May 14, 2025")) == "2025-11-20T02:02:46+00:00"
    # ... but where the page shows it nowhere, it is a later save's stamp (a migration), as with no modification
    assert _dated(updated.replace("{shown}", "May 14, 2025")) == "2025-05-14"
    unmodified = page.replace(', \"dateModified\": \"2025-11-20T02:02:46Z\"', "")
    assert "dateModified" not in unmodified
    assert _dated(unmodified.replace("{shown}", "May 14, 2025")) == "2025-05-14"
    assert _dated(unmodified.replace("{shown}", "May 14, 2025").replace("</article>", "<p>20/11/2025</p></article>")) == (
        "2025-11-20T02:02:46+00:00")
    # a date in a link's address written out is no date the page shows
    linked = "Source: https://news.example.org/2015/03/24/trams"
    assert _dated(unmodified.replace("{shown}", linked)) == "2025-11-20T02:02:46+00:00"
    # nor are the dates of the sources cited after the story
    story = "<p>Riders waited for years while the works closed the main road and the shops along it.</p>" * 3
    cited = story + "<ol><li>Transit survey. [accessed 2024-06-18]</li></ol>"
    assert _dated(unmodified.replace("{shown}", cited)) == "2025-11-20T02:02:46+00:00"
    assert _dated(unmodified.replace("{shown}", "Published 14-May-2025" + cited)) == "2025-05-14"
    # the same moment in the page's timezone is no other date
    assert _dated(page.replace("{shown}", "<time datetime='2025-11-19T18:02:46-08:00'>Nov 19</time>")) == (
        "2025-11-20T02:02:46+00:00")
    # a date in an embedded post quoted in the story is the post's
    quoted = "<figure><blockquote><p>A tram at last!</p><a href='/post/1'>October 16, 2024</a></blockquote></figure>"
    assert _dated(page.replace("{shown}", quoted)) == "2025-11-20T02:02:46+00:00"


def test_dating_a_page_never_loads_the_slow_date_parser() -> None:
    """dateparser costs 2-3 s to start and much memory per worker; the page's own date formats need none of it."""
    check = (
        "import sys, extract; html = '<html><body><h1>Tram</h1><p>Sunday 7 December 2025: '"
        " + 'the tram line opened to riders. ' * 20 + '</p><p>Hace tres días</p></body></html>';"
        "assert extract.extract_document(html).date == '2025-12-07'; assert 'dateparser' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", check], check=True, cwd=Path(__file__).parent.parent, timeout=120)


def test_headline_without_what_templates_nest_in_the_h1() -> None:
    title = "<title>Tram line opens on Saturday</title>"
    nested = ("<h1>Tram line opens on Saturday<div class='meta'><span>Posted on <time datetime='2025-12-18'>"
              "December 18, 2025</time></span> by Jane Roe</div></h1>")
    assert _titled(title, nested).title == "Tram line opens on Saturday"
    assert _titled(title, "<h1><time datetime='2025-12-18'>Dec 18 2025</time> Tram line opens on Saturday</h1>").title == (
        "Tram line opens on Saturday")
    assert _titled(title, "<h1><strong>News:</strong> Tram line opens on Saturday</h1>").title == (
        "Tram line opens on Saturday")
    assert _titled(title, "<h1>Tram line opens <span hidden>Read more</span>on Saturday</h1>").title == (
        "Tram line opens on Saturday")
    # words the headline itself styles stay
    assert _titled(title, "<h1>Tram line <em>opens</em> on Saturday</h1>").title == "Tram line opens on Saturday"


def test_of_two_headings_alike_the_one_written_as_declared() -> None:
    """A template that shows its headline twice, once retyped in title case, has both match the declared title
    word for word; the one written as the page declares it (in its words' case) is the headline, wherever it stands."""
    head = '<meta property="og:title" content="Tram line opens on Saturday!">'
    twice = "<h1>Tram line opens on Saturday</h1><div class='sticky'><h1>Tram Line Opens On Saturday</h1></div>"
    assert _titled(head, twice).title == "Tram line opens on Saturday"
    head = '<meta property="og:title" content="Tram Line Opens On Saturday!">'
    assert _titled(head, twice).title == "Tram Line Opens On Saturday"


def test_headline_without_labels_the_template_appends_to_the_h1() -> None:
    site = '<meta property="og:site_name" content="Metro Daily"><title>Tram line opens on Saturday</title>'
    assert _titled(site, "<h1>Tram line opens on Saturday – Metro Daily</h1>").title == "Tram line opens on Saturday"
    assert _titled(site, "<h1>Tram line opens on Saturday | Opinion</h1>").title == "Tram line opens on Saturday"
    stacked = "<title>Tram line opens on Saturday | Transport | Metro Daily</title>"
    assert _titled(stacked).title == "Tram line opens on Saturday"


def test_author_without_the_date_on_the_byline_line() -> None:
    author = _bylined
    assert author('<a rel="author" href="/staff/roe">Jane Roe • December 5, 2025</a>') == "Jane Roe"
    assert author('<a rel="author" href="/staff/roe">Jane Roe Last updated: Aug 1, 2025</a>') == "Jane Roe"
    assert author('<a rel="author" href="/staff/roe">Jane Roe, Saturday</a>') == "Jane Roe"
    assert author('<a rel="author" href="/staff/may">Tom May</a>') == "Tom May"  # a surname, not the month
    assert author('<a rel="author" href="/staff/march">Ann March</a>') == "Ann March"


def test_date_declared_under_another_name_when_the_page_shows_none() -> None:
    page = "<html><head>{meta}</head><body><article><h1>Tram line opens</h1>{body}</article></body></html>"
    parsely = "<meta name='parsely-pub-date' content='2020-02-10T16:48:12Z'>"
    assert _dated(page.replace("{meta}", parsely)) == "2020-02-10T16:48:12+00:00"
    modified = "<meta property='article:modified_time' content='2023-06-12T10:39:42+00:00'>"
    assert _dated(page.replace("{meta}", modified)) == "2023-06-12T10:39:42+00:00"
    # a date the page shows comes before a modification date
    shown = page.replace("{meta}", modified).replace("</h1>", "</h1><p>March 3, 2021</p>")
    assert _dated(shown) == "2021-03-03"
    written = "<meta name='published' content='July 17, 2025'><meta name='published-date' content='soon'>"
    assert _dated(page.replace("{meta}", written)) == "2025-07-17"  # declared as people write dates
    # of publication dates under two names, the earliest: the later one stamped at a save
    saved = "<meta name='published-time' content='2026-03-09T08:45:32Z'><meta name='published-date' content='2021-02-16'>"
    assert _dated(page.replace("{meta}", saved)) == "2021-02-16"


def test_json_ld_kept_in_a_meta_s_content_is_read_as_declared() -> None:
    """A CMS that keeps the page's JSON-LD in a <meta> for a script to write out still declares it."""
    data = '{"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Tram line opens", "datePublished": "2025-11-17T09:00:00-05:00"}'
    page = f"<html><head><meta name='ld-json' content='{data}'></head><body><article><h1>Tram line opens</h1>{{body}}</article></body></html>"
    assert _dated(page) == "2025-11-17T09:00:00-05:00"
    other = page.replace("schema.org", "example.org/vocabulary")  # another vocabulary is no declaration of ours
    assert _dated(other) is None


def test_headline_written_in_mangled_utf8_is_repaired() -> None:
    """A CMS that stored UTF-8 as Latin-1 writes "’" as "â\\x80\\x99"; its control characters give it away."""
    mangled = "Riders’ guide to the blue line".encode("utf-8").decode("latin-1")
    doc = extract_document(f"<html><head><meta charset='utf-8'><title>{mangled}</title></head><body></body></html>")
    assert doc.title == "Riders’ guide to the blue line"
    assert _titled("<title>Café owners win appeal</title>").title == "Café owners win appeal"  # Latin-1 text kept


def test_headline_whose_characters_were_lost_to_question_marks_is_the_declared_title() -> None:
    """An <h1> saved through a wrong encoding shows "?" (or U+FFFD) where the declared title has
    the character; a "?" that asks stays."""
    head = "<title>Riders' guide: the blue line</title>"
    assert _titled(head, "<h1>Riders? guide? the blue line</h1>").title == "Riders' guide: the blue line"
    assert _titled(head, "<h1>Riders\ufffd guide: the blue line</h1>").title == "Riders' guide: the blue line"
    asks = _titled("<title>Is the blue line late</title>", "<h1>Is the blue line late?</h1>")
    assert asks.title == "Is the blue line late?"


def test_full_width_punctuation_in_a_latin_headline_is_ascii_and_in_a_japanese_one_stays() -> None:
    """An East Asian input method types "？" into an English headline; Japanese writes it so."""
    assert _titled("<title>Does the tram run late？</title>").title == "Does the tram run late?"
    assert _titled("<title>路面電車は遅れる？</title>").title == "路面電車は遅れる？"


def test_headline_cut_at_the_search_engine_limit_is_taken_whole() -> None:
    whole = ("Tram line opens on Saturday: riders on the eastern route get a new timetable, new fares and "
             "three more stops by the harbour")
    cut = whole[:110].rsplit(" ", 1)[0]
    head = (f'<script type="application/ld+json">{{"@type": "NewsArticle", "headline": "{cut}"}}</script>'
            f'<meta property="og:title" content="{whole} - Metro Daily">')
    assert _titled(head).title == whole
    short = ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Tram line opens"}</script>'
             '<meta property="og:title" content="Tram line opens · City Guide">')
    assert _titled(short).title == "Tram line opens"


@pytest.mark.parametrize("classes", [("variant", "variant", "variant"), ("v-desktop", "v-tablet", "v-phone")])
def test_article_rendered_once_per_screen_size_is_kept_once(classes: tuple[str, ...]) -> None:
    paragraphs = [
        f"<p>Step {i}: a kitchen remodel starts with a budget, a layout that keeps the plumbing where it is, "
        "and quotes from three contractors who have done similar work nearby.</p>"
        for i in range(5)
    ]
    copy = "".join(paragraphs[:2]) + "<h2>Planning the work</h2>" + "".join(paragraphs[2:])
    variants = "".join(f'<div><div class="{css}">{copy}</div></div>' for css in classes)
    html = (f"<html><head><title>Remodel costs</title></head><body><main><h1>Remodel costs</h1>{variants}</main>"
            "<footer><p>Builder footer</p></footer></body></html>")
    doc = extract_document(html, "https://build.example.com/blog/remodel-costs")
    assert [p.split(":")[0] for p in doc.paragraphs if p.startswith("Step")] == [f"Step {i}" for i in range(5)]
    assert doc.paragraphs.count("Planning the work") == 1


@pytest.mark.parametrize("collapsed", ['style="display:none"', "hidden", 'class="panel hidden"'])
def test_sections_of_an_accordion_are_kept_though_collapsed(collapsed: str) -> None:
    sentence = "of the installation guide: permits, the site survey and the inspection each take a few weeks."
    steps = "".join(
        f'<h3><button aria-controls="step-{i}" aria-expanded="false">Step {i}</button></h3>'
        f'<div id="step-{i}" {collapsed}><p>Part {i} {sentence}</p><p>More of part {i} {sentence}</p></div>'
        for i in range(4)
    )
    html = (
        "<html><head><title>Installing solar panels</title></head><body><main><article><h1>Installing solar panels</h1>"
        f"<p>Installing panels takes two to three months from the first quote to the day the system runs.</p>{steps}"
        f'<div id="newsletter-box" {collapsed}><p>Sign up for our weekly letter on home energy and savings.</p></div>'
        "</article></main></body></html>"
    )
    doc = extract_document(html, "https://energy.example.com/solar/installation-guide")
    assert [p.split()[1] for p in doc.paragraphs if p.startswith("Part")] == ["0", "1", "2", "3"]
    assert "Sign up for our weekly letter" not in doc.text()  # hidden, and no toggle opens it


_STORY = [
    f"Paragraph {i} of the story: the river authority says the new flood wall along the old town quay will be "
    "finished before the winter storms, and residents were asked to keep the path clear for the work crews."
    for i in range(8)
]


def _story_paragraphs(story: str) -> list[str]:
    """The paragraphs read from a story page whose article holds ``story``, each by its label."""
    html = (
        "<html><head><title>Flood wall nears completion</title></head><body><main><article>"
        f'<h1>Flood wall nears completion</h1><div class="story">{story}</div></article></main></body></html>'
    )
    return [p.split(" of ")[0] for p in extract_document(html, "https://river.example.org/news/flood-wall").paragraphs]


@pytest.mark.parametrize("hidden", ['style="display:none"', "hidden"])
def test_the_rest_of_a_story_behind_a_read_more_button_is_kept(hidden: str) -> None:
    """A template shows the first paragraphs and hides the rest until the reader clicks; no
    aria-controls names the hidden block. trafilatura drops hidden elements, so the story came
    out as its first three paragraphs."""
    shown = "".join(f"<p>{p}</p>" for p in _STORY[:3])
    rest = "".join(f"<p>{p}</p>" for p in _STORY[3:])
    story = f'{shown}<div class="story-more" {hidden}>{rest}</div><button>Read more</button>'
    assert _story_paragraphs(story) == [f"Paragraph {i}" for i in range(8)]


@pytest.mark.parametrize("hidden", ['style="display:none"', "hidden"])
def test_the_rest_of_a_story_of_short_paragraphs_behind_a_read_more_button_is_kept(hidden: str) -> None:
    """A story of one-sentence paragraphs, as news briefs are written: its hidden rest holds no
    paragraph of prose's length, but its paragraphs are like the ones shown before it (their
    class, about their length), so it is the story's, not a list of notes."""
    short = [f"Paragraph {i} of the brief: the quay path reopens on Monday after the flood wall works." for i in range(6)]
    shown = "".join(f"<p>{p}</p>" for p in short[:3])
    rest = "".join(f"<p>{p}</p>" for p in short[3:])
    story = f'{shown}<div class="story-more" {hidden}>{rest}</div><button>Read more</button>'
    assert _story_paragraphs(story) == [f"Paragraph {i}" for i in range(6)]


def test_a_hidden_copy_of_a_storys_last_paragraphs_is_not_read_twice() -> None:
    """A hidden block like a continuation (paragraphs of the story's class and length, after its
    last paragraph) that repeats paragraphs the page shows, as a phone layout's copy does, stays
    out: shown, the story would end with them twice."""
    short = [f"Paragraph {i} of the brief: the quay path reopens on Monday after the flood wall works." for i in range(6)]
    shown = "".join(f"<p>{p}</p>" for p in short)
    copy = "".join(f"<p>{p}</p>" for p in short[4:])
    assert _story_paragraphs(f'{shown}<div style="display:none">{copy}</div>') == [f"Paragraph {i}" for i in range(6)]


def test_a_hidden_list_of_notes_after_the_story_stays_out() -> None:
    """A hidden block after the story's paragraphs that holds no paragraph of prose (a list of
    notes or sources, the text of a dialog) is no continuation of the story: it stays hidden."""
    story = "".join(f"<p>{p}</p>" for p in _STORY[:5])
    notes = "".join(f"<p>[{i}] River Authority annual report, {2000 + i}, page {i * 7}.</p>" for i in range(40))
    assert _story_paragraphs(f'{story}<div style="display:none">{notes}</div>') == [f"Paragraph {i}" for i in range(5)]


def test_article_written_mostly_in_links_is_not_lost_to_the_teaser_repair() -> None:
    """Its paragraphs look like teasers to drop_link_paragraphs: the page as served, extracted
    without our repairs, is the second opinion that keeps the article from coming out empty."""
    paragraphs = "".join(
        f"<p>Week {i}: <a href='https://minutes{i}.example.net/a'>the city council approved the new tram depot plans "
        f"after a long debate</a> and <a href='/works/{i}'>residents asked for quieter night works</a>, the minutes say.</p>"
        for i in range(5)
    )
    html = f"<html><head><title>Council week</title></head><body><main><article><h1>Council week</h1>{paragraphs}</article></main></body></html>"
    doc = extract_document(html, "https://town.example.org/news/council-week")
    assert [p.split(":")[0] for p in doc.paragraphs] == [f"Week {i}" for i in range(5)]


def test_answers_in_expandable_disclosures_are_kept() -> None:
    answer = ("Think of the plate as a guide for the pot: fill half of it with vegetables, a quarter with whole grains "
              "and a quarter with beans, fish or chicken, whatever the dish.")
    html = (
        "<html><head><title>Healthy eating plate</title></head><body><main><article><h1>Healthy eating plate</h1>"
        + "<p>Use the plate as a guide for creating healthy, balanced meals, whether served on a plate or packed in a box.</p>" * 3
        + '<details class="expandable bg-light border-left"><summary>What if I eat from a bowl?</summary>'
        f"<p>{answer}</p></details>"
        + "<p>Choose water, tea or coffee with little or no sugar, and keep dairy to one or two servings a day.</p>"
        + "</article></main></body></html>"
    )
    doc = extract_document(html, "https://health.example.edu/healthy-eating-plate/")
    assert answer in doc.paragraphs


def test_a_sign_up_box_in_the_body_is_dropped_and_an_article_inside_a_page_form_kept() -> None:
    """A box around a field the reader types into, with a pitch and fine print but no prose, is a
    sign-up, whatever its words; an article inside a page-wide <form> (ASP.NET) is no such box."""
    points = [
        f"<p>Point {i}: the refurbished laptop has a bright screen, a battery that lasts a working day and a "
        "keyboard that stays comfortable for hours of typing. The seller grades it A, which means no marks on "
        "the case, and ships it with a charger and a year of warranty.</p>"
        for i in range(6)
    ]
    box = ('<section class="p-8 border"><div class="absolute">Daily Deals</div><div class="flex-col">'
           "<div><div class='font-bold'>Be the first to know!</div></div>"
           "<div>Get the best offers texted right to your phone, twice a week at most.</div>"
           '<form><input type="tel"><input type="hidden"><button type="submit">Sign me up</button></form>'
           "<div>By joining you agree to receive recurring automated messages at the number given; rates may "
           "apply, up to two messages a day, and you can reply to opt out or ask for help at any time; consent "
           "is no condition of any purchase. See our <a href='/privacy'>Privacy Policy</a>.</div></div></section>")
    html = (f"<html><head><title>Laptop offer</title></head><body><main><article><h1>Laptop offer</h1>"
            f"{''.join(points[:3])}{box}{''.join(points[3:])}</article></main></body></html>")
    doc = extract_document(html, "https://deals.example.com/laptop-offer")
    assert [p.split(":")[0] for p in doc.paragraphs] == [f"Point {i}" for i in range(6)]
    in_form = html.replace("<body>", '<body><form method="post"><input type="text" name="state">').replace(
        "</body>", "</form></body>")
    assert [p.split(":")[0] for p in extract_document(in_form).paragraphs] == [f"Point {i}" for i in range(6)]


def test_a_short_article_of_short_paragraphs_keeps_its_text_around_a_sign_up_form() -> None:
    """A sign-up form set between the paragraphs of a short story whose paragraphs are all short:
    the block holding the form and three paragraphs of its own is the story, not the sign-up box
    (the whole story went with the box, for holding no paragraph of 150 characters)."""
    results = [f"<p>Heat {i}: the relay team from the north school won in a time of {50 + i} seconds.</p>" for i in range(6)]
    box = ('<div><h3>The morning letter</h3><p>Our top stories, in your inbox every weekday.</p>'
           '<form><input type="email"><button>Sign me up</button></form></div>')
    menu = "".join(f"<a href='/clubs/{i}'>Club{i}</a> " for i in range(300))  # most of the page's text
    html = (f"<html><head><title>Swim results</title><meta property='og:type' content='article'></head><body>"
            f"<div class='menu'>{menu}</div><div><h1>Swim results</h1>"
            f"<div class='story'>{''.join(results[:3])}{box}{''.join(results[3:])}</div></div></body></html>")
    doc = extract_document(html, "https://sport.example.com/swim-results")
    assert [p.split(":")[0] for p in doc.paragraphs] == [f"Heat {i}" for i in range(6)]


def test_a_subheading_at_the_edge_of_the_body_is_kept_over_its_text_and_a_label_is_not() -> None:
    """A summary box's heading that opens the body ("Key takeaways") and the heading of the last
    section are headings of the text after them, kept; a label at the body's edge ("Breaking
    news", no heading) and a heading with nothing after it in the body go."""
    points = "".join(f"<li>Point {i}: the new timetable adds a late bus on weekdays and on Saturdays.</li>" for i in range(3))
    paragraphs = "".join(
        f"<p>Paragraph {i} of the report on the town's bus routes, which change in the spring for the first time in years.</p>"
        for i in range(4)
    )
    html = (
        "<html><head><title>Bus routes change</title></head><body><article><h1>Bus routes change</h1>"
        f"<div class='tag'>Breaking news</div><h2>Key takeaways</h2><ul>{points}</ul>{paragraphs}"
        "<h2>What comes next</h2><p>The council will review the routes again after a year of the new timetable.</p>"
        "<h3>Comments</h3></article></body></html>"
    )
    doc = extract_document(html, "https://towndaily.example.com/news/bus-routes")
    assert doc.paragraphs[0] == "Key takeaways"
    assert doc.paragraphs[-2:] == ("What comes next", "The council will review the routes again after a year of the new timetable.")
    assert "Breaking news" not in doc.paragraphs and "Comments" not in doc.paragraphs


def test_the_author_box_after_the_article_is_dropped_and_the_lead_beside_the_byline_kept() -> None:
    """A portrait, a link named as the page's author and a short text after the article are the
    author's box, whatever its words; the same block before the article is the byline beside the lead."""
    points = "".join(
        f"<p>Point {i}: a deep clean takes a crew of two about four hours for a three-bedroom house, "
        "longer when the oven and the windows are on the list, and the crew brings its own supplies.</p>"
        for i in range(6)
    )
    author = "<a href='/team/dana-reyes/'>Dana Reyes</a>"
    lead = "<p>Cleaning trends this year favour fewer products, more steam and longer intervals between visits.</p>"
    bio = ("<p>Dana Reyes runs a cleaning company of twelve people in the north of the city and writes about homes, "
           "habits and the small businesses that look after them, from the first quote to the last invoice.</p>"
           "<p>Before that she managed the stores of a fashion retailer across three countries for a decade, and "
           "she still serves on the board of a local charity that trains young people for trades.</p>")
    html = ("<html><head><title>Cleaning trends</title><meta name='author' content='Dana Reyes'></head><body><main>"
            f"<article><h1>Cleaning trends</h1><div class='intro'><div><img src='/dana.jpg'>{author}</div>{lead}</div>"
            f"{points}<div class='box'><div><img src='/dana.jpg'></div><div>{author}</div><div>{bio}</div></div>"
            "</article></main></body></html>")
    doc = extract_document(html, "https://clean.example.com/blog/cleaning-trends")
    assert doc.author == "Dana Reyes"
    assert doc.paragraphs[0].startswith("Cleaning trends this year")
    assert doc.paragraphs[-1].startswith("Point 5")


def test_an_author_box_set_in_the_story_s_last_section_takes_none_of_its_paragraphs() -> None:
    """The author's box at the end of the story's last block (a short section of short paragraphs,
    the box inside it): the box goes, the section's paragraphs before it stay."""
    sections = "".join(
        f"<div class='section'><h2>Part {i}</h2>" + "".join(
            f"<p>Part {i}, point {j}: a deep clean takes a crew of two about four hours for a three-bedroom house.</p>"
            for j in range(4)) + ("</div>" if i < 3 else "")
        for i in range(4)
    )
    box = ("<div><img src='/dana.jpg'><div><a href='/team/dana-reyes/'>Dana Reyes</a><p>Dana Reyes runs a cleaning "
           "company of twelve people in the north of the city and writes about homes and habits.</p></div></div></div>")
    menu = "".join(f"<li><a href='/topics/{i}'>Topic number {i} of the site's long menu of topics</a></li>" for i in range(40))
    html = ("<html><head><title>Cleaning trends</title><meta name='author' content='Dana Reyes'></head><body>"
            f"<nav><ul>{menu}</ul></nav><main><article><h1>Cleaning trends</h1>{sections}{box}</article></main></body></html>")
    doc = extract_document(html, "https://clean.example.com/blog/cleaning-trends")
    assert [p.split(":")[0] for p in doc.paragraphs if p.startswith("Part")][-4:] == [f"Part 3, point {j}" for j in range(4)]
    assert not any("runs a cleaning company" in p for p in doc.paragraphs)


def test_a_short_article_held_by_its_byline_box_stays_under_a_banner_above_the_headline() -> None:
    """A short story whose byline block (portrait, author link) holds its paragraphs is the article,
    not an author box after it: a banner's paragraph above the headline is no part of the article."""
    banner = ("<div class='notice'><p>This site stores small files on your device to remember your choices, to count "
              "visits and to show you content that suits you; you can change this at any time in the settings.</p>"
              "<button>Accept</button></div>")
    story = ("<div class='story'><div class='byline'><img src='/lee.jpg'><a href='/authors/sam-lee'>Sam Lee</a></div>"
             "<p>The harbour ferry will run every twenty minutes from Monday, the operator said on Friday.</p>"
             "<p>Evening trips stay hourly until the new boats arrive in the spring.</p></div>")
    more = "".join(f"<li><a href='/news/story-{i}'>Another story about the town's week, number {i}</a></li>" for i in range(12))
    html = ("<html><head><title>Ferry every twenty minutes</title><meta property='og:type' content='article'>"
            "<meta name='author' content='Sam Lee'></head><body>"
            f"{banner}<h1>Ferry every twenty minutes</h1>{story}<h2>More stories</h2><ul>{more}</ul></body></html>")
    doc = extract_document(html, "https://harbour.example.com/news/ferry-every-twenty-minutes")
    assert doc.paragraphs[:2] == (
        "The harbour ferry will run every twenty minutes from Monday, the operator said on Friday.",
        "Evening trips stay hourly until the new boats arrive in the spring.",
    )


def test_a_section_holding_only_a_list_stays_in_an_article_split_over_sections() -> None:
    """merge_split_bodies joins the sections of one class into the first; a section of that class
    between them with no paragraph (a list of key points, a table) is the article's too."""
    sentence = "the survey crews mapped the old harbour wall, and the council set aside funds for its repair next spring."
    sections = [
        f'<div class="section"><h2>Part {i}</h2><p>In part {i} {sentence}</p><p>Later in part {i} {sentence}</p></div>'
        for i in range(4)
    ]
    points = '<div class="section"><h2>Key points</h2><ul><li>Point one: the wall is older than the pier.</li>' \
             "<li>Point two: repairs start in April.</li></ul></div>"
    html = (
        "<html><head><title>Harbour wall survey</title></head><body><div class='page'><h1>Harbour wall survey</h1>"
        f"{sections[0]}{points}{sections[1]}<div class='promo'><p>Try our app</p></div>{sections[2]}{sections[3]}"
        "</div><div class='foot'><p>Site footer text</p></div></body></html>"
    )
    doc = extract_document(html, "https://harbour.example.org/guides/wall-survey")
    starts = [" ".join(p.split()[:3]) for p in doc.paragraphs if p.startswith(("In part", "Point"))]
    assert starts == ["In part 0", "Point one: the", "Point two: repairs", "In part 1", "In part 2", "In part 3"]


def test_blocks_between_the_parts_of_a_split_body_keep_their_place_in_it() -> None:
    """An exporter's page sets each paragraph in a wrapper of one class, a code listing between two
    of them in a block of another: merge_split_bodies joins the wrappers, and the listing stays
    between the paragraphs it stood between (it came after the whole body, and went as a note
    set apart at its end)."""
    html = (Path(__file__).parent / "fixtures" / "plain" / "article_in_exported_sections.html").read_text(encoding="utf-8")
    doc = extract_document(html, "https://fieldnotes.example/posts/raw-http")
    starts = [p[:20] for p in doc.paragraphs]
    listing = starts.index("GET /orders/42 HTTP/")
    assert starts[listing - 1] == "The handler sits in "
    assert starts[listing + 1] == "Bodies are read into"
    assert doc.paragraphs[listing] == "GET /orders/42 HTTP/1.1\nHost: partner.example"


def test_two_lists_of_one_class_around_the_body_s_own_paragraphs_are_not_joined() -> None:
    """A guide's checklist of steps before its main section and another after it, in the block that
    holds the guide's own paragraphs: blocks of one body, not a body split by ads. Joined, the
    second list came up to the first, ahead of the section between them."""
    step = "<li><h3>{0}</h3><p>{0}: the crew checks the roof, the wiring and the permits before the next step starts.</p></li>"
    before = "".join(step.format(f"Before step {i}") for i in range(1, 4))
    after = "".join(step.format(f"After step {i}") for i in range(1, 4))
    main = "".join(f"<p>Main step {i}: the panels go up on the rails, row by row, and are clamped and wired in turn.</p>"
                   for i in range(1, 4))
    html = (
        "<html><head><title>Solar panels, step by step</title></head><body><div class='page'>"
        "<h1>Solar panels, step by step</h1><div class='guide'>"
        "<p>Putting panels on a roof takes a weekend of work and a month of paperwork before it.</p>"
        f"<h2>Before</h2><ul class='checklist'>{before}</ul><h2>Installation</h2>{main}"
        f"<h2>After</h2><p>Once the panels are up, a few steps remain before they may feed the grid.</p>"
        f"<ul class='checklist'>{after}</ul></div></div><div class='foot'><p>Site footer</p></div></body></html>"
    )
    doc = extract_document(html, "https://solar.example.org/guides/step-by-step")
    steps = [p.split(":")[0] for p in doc.paragraphs if p.startswith(("Before step", "Main step", "After step")) and ":" in p]
    assert steps == [f"{kind} step {i}" for kind in ("Before", "Main", "After") for i in range(1, 4)]


def test_inline_code_is_a_word_of_its_sentence_not_a_line_of_its_own() -> None:
    """A one-line <code> inside a paragraph (a header's name, a command) stays in its sentence; a
    listing of several lines is a paragraph of its own."""
    html = (Path(__file__).parent / "fixtures" / "plain" / "article_in_exported_sections.html").read_text(encoding="utf-8")
    doc = extract_document(html, "https://fieldnotes.example/posts/raw-http")
    assert "Secrets in headers such as Authorization are masked before anything is written, and the list of masked " \
        "names can be extended for a partner's own keys." in doc.paragraphs
    assert any(p.endswith("and the Content-Length the client computed.") for p in doc.paragraphs)
    assert "Authorization" not in doc.paragraphs and "Content-Length" not in doc.paragraphs


STORY = [
    "The harbour ferry returns to service on Monday after a refit that took two years and cost twice what the council planned.",
    "Crossings will run every half hour in the morning and every hour after noon, with the first boat leaving at six.",
    "The operator said the new engines burn a third less fuel, and that the fares stay as they were before the refit.",
    "Residents of the island, who drove round the bay for two years, said the return would save them an hour a day.",
]


def _story_page(middle: str) -> str:
    first, rest = "".join(f"<p>{p}</p>" for p in STORY[:2]), "".join(f"<p>{p}</p>" for p in STORY[2:])
    return (
        "<html><head><title>Harbour ferry returns</title></head><body><article><h1>Harbour ferry returns</h1>"
        f"{first}{middle}{rest}</article><footer>Courier, 4 Quay Street</footer></body></html>"
    )


def test_a_paragraph_written_one_tag_a_line_comes_out_as_one_line_of_text() -> None:
    """Markup set one tag a line (a template's indentation, a pretty-printer's) puts line ends
    inside a paragraph's text: a browser shows them as spaces, and a text file must too, or a
    paragraph comes apart into lines and blank lines."""
    middle = (
        "<p>\n        <strong>\n          Timetable</strong>\n        for the winter:\n        <a href='/ferry/winter'>\n"
        "          weekdays</a> [\n        <em>\n          six crossings]<br></em>\n        <a href='/ferry/weekend'>\n"
        "          weekends and holidays</a>\n        <em>\n           [four crossings]</em></p>"
    )
    doc = extract_document(_story_page(middle), URL)
    assert "Timetable for the winter: weekdays [ six crossings]" in doc.paragraphs
    assert "weekends and holidays [four crossings]" in doc.paragraphs
    assert all("\n" not in p and "  " not in p for p in doc.paragraphs)


def test_a_preformatted_block_keeps_its_lines_without_blank_ones() -> None:
    """A <pre> holds text whose line ends are its own (a notice, a mail's header, a listing):
    its lines stay lines; a blank line among them would end the paragraph in a text file."""
    notice = ["SAILINGS FROM 4 MARCH", "  Mon-Fri   06:00  then every 30 min", "  Sat-Sun   08:00  then hourly"]
    doc = extract_document(_story_page(f"<pre>{notice[0]}\n\n{notice[1]}\n{notice[2]}\n</pre>"), URL)
    assert "\n".join(notice) in doc.paragraphs
    assert [p for p in doc.paragraphs if p in STORY] == STORY


def test_a_list_of_tips_split_over_blocks_keeps_each_heading_before_its_text() -> None:
    """Each tip a block of a picture and a text block (a heading beside the container of its
    paragraph): merge_split_bodies joins the tips, and their headings stay before their texts."""
    sentence = "a rain barrel under the downpipe fills in one storm and waters the beds for a fortnight of dry weather."
    tips = "".join(
        f"<div class='tip'><div class='pic'><img src='/t{i}.jpg'></div><div class='text-wrap'>"
        f"<h4>{i}. Tip number {i} for the garden</h4><div class='rich'><p>For tip {i}, {sentence} "
        f"Neighbours share the cost of the barrels, and {sentence}</p></div></div></div>"
        for i in range(1, 7)
    )
    html = (
        "<html><head><title>Six garden tips</title></head><body><div class='page'><h1>Six garden tips</h1>"
        f"<section class='tips-list'><div class='inner'>{tips}</div></section>"
        "</div><div class='foot'><p>Site footer text</p></div></body></html>"
    )
    doc = extract_document(html, "https://garden.example.org/guides/six-tips")
    starts = [p.split(",")[0] for p in doc.paragraphs]
    assert starts == [s for i in range(1, 7) for s in (f"{i}. Tip number {i} for the garden", f"For tip {i}")]


def test_boxes_of_one_class_set_amid_a_larger_body_are_not_merged_out_of_it() -> None:
    """Boxes of one class along an article (a fact box per section) hold less text than the
    sections between them: they are not a body split by widgets, and stay where they are. Joined,
    they moved away from their sections, and made a dense block that could be taken for the body."""
    sentence = "the ferry crossed twice a day, and the harbour kept its timetable through every winter storm."
    sections = [
        f"<div><h2>Crossing {i}</h2><p>In crossing {i}, {sentence}</p><ul><li>Crew of {i + 3}</li>"
        f"<li>Cars carried: {i * 10 + 20}</li></ul><p>After crossing {i}, {sentence} {sentence}</p></div>"
        for i in range(4)
    ]
    boxes = [f"<div class='box'><p>Fact {i}: the pier was rebuilt in stone after the flood.</p><p>Fact {i}: its lamp is lit at dusk in every season.</p></div>" for i in range(4)]
    html = (
        "<html><head><title>Ferry crossings</title></head><body><div class='page'><h1>Ferry crossings</h1><div class='wrap'>"
        + "".join(box + section for box, section in zip(boxes, sections))
        + "</div></div></body></html>"
    )
    doc = extract_document(html, "https://harbour.example.org/history/ferry-crossings")
    starts = [p for p in doc.paragraphs if p.startswith(("Crossing", "Fact")) and "lamp" not in p]
    assert [p[:10] for p in starts] == [s for i in range(4) for s in (f"Fact {i}: th", f"Crossing {i}")]
    assert [p for p in doc.paragraphs if p.startswith("After crossing")] == [f"After crossing {i}, {sentence} {sentence}" for i in range(4)]


def test_lists_and_subheadings_kept_when_a_small_block_carries_a_body_name() -> None:
    """trafilatura takes the first block its body names match ("main...": here an author box) and
    drops what lies outside it; the fallback then keeps the paragraphs but not the lists."""
    sentence = "the new benchmark replays the same blocks on every client, so the results are stable from run to run."
    findings = "".join(
        f"<h3>Finding {i}</h3><p>Finding {i}: {sentence} {sentence}</p>"
        f"<ul><li>Point {i}a: the gap widens under load.</li><li>Point {i}b: smaller blocks run alike.</li></ul>"
        for i in range(4)
    )
    html = (
        "<html><head><title>Clients under load</title></head><body><div class='page'><h1>Clients under load</h1>"
        "<div class='main_author_container'><p>Ana Ruiz</p><p>Research engineer</p></div>"
        f"<div class='rich-text-block'><p>We measured five clients over a week of replayed blocks. {sentence}</p>{findings}</div>"
        "</div></body></html>"
    )
    doc = extract_document(html, "https://lab.example.com/blog/clients-under-load")
    assert [p.split(":")[0] for p in doc.paragraphs if p.startswith("Point")] == [
        f"Point {i}{x}" for i in range(4) for x in "ab"
    ]
    assert "Finding 2" in doc.paragraphs


def test_a_section_named_like_furniture_amid_the_article_is_kept() -> None:
    """trafilatura deletes blocks by name ("...-icon" here, an accordion's styling): amid the body
    and written as prose, such a block is the article's; a named box after it still goes."""
    sentence = "the clinic's new schedule opens the doors an hour earlier on weekdays and adds two evening sessions for working parents."
    before = "".join(f"<p>Before {i}: {sentence}</p>" for i in range(8))
    after = "".join(f"<p>After {i}: {sentence}</p>" for i in range(8))
    html = (
        "<html><head><title>Clinic hours</title></head><body><div class='entry-content'><h1>Clinic hours</h1>"
        f"{before}<div class='faq-block accordion-icon-right'><h2>How do I book?</h2>"
        f"<p>Answer one: {sentence} {sentence}</p><p>Answer two: {sentence} {sentence}</p></div>{after}"
        "<div class='related-stories'><p>Related one: the library extends its hours for the exam season in the spring term.</p>"
        "<p>Related two: the pool closes for repairs in August while the new changing rooms are fitted.</p></div>"
        "</div></body></html>"
    )
    doc = extract_document(html, "https://clinic.example.org/news/new-hours")
    starts = [p.split(":")[0] for p in doc.paragraphs]
    assert starts[7:11] == ["Before 7", "How do I book?", "Answer one", "Answer two"]
    assert starts[-1] == "After 7" and "Related one" not in starts


def test_subheadings_linking_to_another_site_are_kept_and_teaser_headlines_dropped() -> None:
    """A heading that is mostly a link is a teaser headline when it leads to the site's own
    stories; the subheadings of a guide link the products they are about, elsewhere, and open a
    section of text. A link elsewhere with nothing after it (a newsletter's) stays out."""
    sentence = "it grinds evenly at every setting, holds a week of beans and cleans up in a minute with the brush that ships with it."
    items = "".join(
        f"<h3><a href='https://maker{i}.example.com/grinder'>Grinder {i}</a></h3><p>Grinder {i}: {sentence}</p>"
        for i in range(6)
    )
    html = (
        "<html><head><title>The best coffee grinders</title></head><body><article><h1>The best coffee grinders</h1>"
        f"<p>We tested twelve grinders over a month of daily brewing. {sentence}</p>{items}"
        "<h2><a href='https://letters.example.net/join'>Get our weekly coffee letter</a></h2>"
        "<h3><a href='/reviews/kettles'>Our favourite kettles this year</a></h3>"
        "<h3><a href='/reviews/scales'>The coffee scales we use every day</a></h3>"
        "</article></body></html>"
    )
    doc = extract_document(html, "https://brew.example.org/reviews/grinders")
    assert [p for p in doc.paragraphs if p in {f"Grinder {i}" for i in range(6)}] == [f"Grinder {i}" for i in range(6)]
    assert "letter" not in doc.text() and "kettles" not in doc.text()


def test_a_list_of_sources_linking_other_sites_is_kept_and_a_teaser_to_the_site_dropped() -> None:
    """A paragraph that is all a link is a teaser when it leads to the site's own stories; one that
    leads to another site is a source or a reference the article lists, and its own text."""
    doc = extract_document((FIXTURES / "article_reading_list.html").read_bytes(), "https://gazette.example.org/town/harbour-survey")
    sources = [p for p in doc.paragraphs if p.endswith(("2024", "2025", "2030"))]
    assert sources == [
        "Condition of historic quay walls on the west coast, 2024",
        "Grants for listed harbour structures: the rules for 2025",
        "Storm surge outlook for small harbours, 2025 to 2030",
    ]
    assert "Ferry timetable" not in doc.text() and doc.paragraphs[-1].startswith("The board will vote")


def test_an_article_typed_directly_in_the_page_body_is_kept() -> None:
    """Hand-written pages put their text straight into <body>, between headings and lists,
    without <p>: it is the article, not loose template text."""
    doc = extract_document((FIXTURES / "article_bare_body.html").read_bytes(), "https://keeper.example.edu/tides")
    text = doc.text()
    assert "How did the harbour master know" in text
    assert "The first written record of the harbour's tides" in text and "Later masters copied his method" in text
    assert doc.paragraphs[-1].startswith("The museum asks anyone")


def test_short_text_blocks_beside_bare_paragraphs_are_kept() -> None:
    """A template that writes paragraphs as bare <div> text writes its schedule rows and labels so
    too; wrapping its long blocks as paragraphs must not make trafilatura, which reads <div> as
    text only on pages short of <p> text, drop the short ones."""
    rows = "".join(f"<div>Week {i} Tuesday 6pm Room 12 River Hall</div>" for i in range(1, 6))
    about = ("Over six weeks the class walks the river path and learns to name the birds of the reed beds by "
             "their calls, from the first warblers of spring to the geese that arrive with the autumn rain, "
             "and each week ends at the hide by the old mill.")
    leader = ("Sam Ortiz has counted birds on this river for twenty years and led the county survey of the reed "
              "beds; bring boots and binoculars if you have them, and a notebook for the calls you hear, "
              "since the best way to learn them is to write them down.")
    html = (
        "<html><head><title>River birds class</title></head><body><div class='page'><h1>River birds class</h1>"
        f"<div class='body'><div><div><p><strong>When we meet</strong></p><div>{rows}</div></div>"
        f"<div>{about} {about}</div><div><strong>Leader: Sam Ortiz</strong></div><div>{leader}</div>"
        f"<div>{about.replace('Over six weeks', 'After the last week')}</div></div></div></div></body></html>"
    )
    doc = extract_document(html, "https://classes.example.edu/river-birds")
    assert [p for p in doc.paragraphs if p.startswith("Week")][-4:] == [f"Week {i} Tuesday 6pm Room 12 River Hall" for i in range(2, 6)]
    assert "Leader: Sam Ortiz" in doc.paragraphs and doc.paragraphs[-2].startswith("Sam Ortiz has counted")


def test_a_grid_of_specifications_written_as_divs_is_kept() -> None:
    """A product's specifications in the article, each row a <div> of a label and a value: the
    article's text, though trafilatura reads no <div> as text on a page with paragraphs. A grid of
    figures (a widget's counters) stays out."""
    sentence = "the lamp lights a desk evenly from one side, and its arm holds any angle without drifting down."
    paragraphs = "".join(f"<p>In our test {i}, {sentence} {sentence}</p>" for i in range(5))
    specs = "".join(
        f"<div class='spec'><div class='label'>{label}</div><div class='value'>{value}</div></div>"
        for label, value in (("Battery", "Up to forty hours"), ("Light", "Warm and cold white"), ("Arm", "Steel, two joints"))
    )
    counters = "".join(f"<div class='stat'><div>{n}</div><div>{what}</div></div>" for n, what in (("120", "Hours tested"), ("14", "Lamps compared"), ("3", "Picks")))
    html = (
        "<html><head><title>Best desk lamps</title></head><body><div class='page'><article><h1>Best desk lamps</h1>"
        f"<div class='stats'>{counters}</div>{paragraphs}<h2>Our pick</h2><div class='specs'>{specs}</div>"
        f"<p>After the test, {sentence}</p><p>A week later, {sentence}</p></article></div></body></html>"
    )
    doc = extract_document(html, "https://lamps.example.com/reviews/desk-lamps")
    body = list(doc.paragraphs)
    assert body[body.index("Our pick") + 1 : body.index("Our pick") + 7] == [
        "Battery", "Up to forty hours", "Light", "Warm and cold white", "Arm", "Steel, two joints"
    ]
    assert "Hours tested" not in body and "120" not in body


def test_quotations_framed_in_figures_are_kept() -> None:
    """A quotation set apart in a <figure> (a speaker's words with a head-shot and a name) is the
    article's text, though trafilatura deletes figures as images; an embedded post (its quote
    links its source) stays out, and a pull quote repeating a paragraph is not printed twice."""
    doc = extract_document((FIXTURES / "article_quote_figures.html").read_bytes(), "https://valley.example.org/farming/older-apples")
    paragraphs = list(doc.paragraphs)
    first = "We lost the whole crop of the new trees twice in three years, and the old russets beside them never missed a season."
    second = "The packing houses will follow the customers, and the customers are already asking for the names they remember."
    assert first in paragraphs and second in paragraphs
    assert paragraphs.index(first) == 2 and paragraphs.index(second) == len(paragraphs) - 2  # in place, not joined
    assert "Grafting day" not in doc.text()
    assert doc.text().count("loses a part of its crop in a bad spring") == 1


def test_a_quotations_attribution_in_its_footer_is_kept_with_it_and_the_pages_footer_is_not() -> None:
    """HTML sets who is quoted in the quotation's own <footer>; both trafilatura and our furniture
    rules deleted every <footer>, so each quote of the demo sites lost its speaker."""
    html = b"""<html><head><title>Footbridge approved</title></head><body><article>
<h1>Council approves the riverside footbridge</h1>
<p>The council approved the new footbridge on Tuesday evening after a long debate about the cost of the crossing.</p>
<blockquote><p>It will connect the two halves of the town for the first time in a century.</p>
<footer>&mdash; Gemma Hartley, project manager</footer></blockquote>
<p>Construction is expected to begin in the spring, and the bridge should open to pedestrians the year after.</p>
<p>Residents who spoke at the meeting were mostly in favour, though some worried about parking near the landing.</p>
</article><footer><p>Copyright 2026 The Gazette. All rights reserved.</p></footer></body></html>"""
    paragraphs = list(extract_document(html, "https://gazette.example.org/news/footbridge").paragraphs)
    quote = "It will connect the two halves of the town for the first time in a century."
    assert paragraphs[paragraphs.index(quote) + 1] == "\u2014 Gemma Hartley, project manager"
    assert not any("Copyright" in paragraph for paragraph in paragraphs)


def test_a_comment_tool_wrapping_the_article_is_not_a_comment_section() -> None:
    """A block inside the body named for comments ("commentOnSelection": a tool to comment on a
    passage) that holds the body's first paragraph wraps the article: trafilatura deleted it as a
    comment section and the page read as no article. The comments after it stay out."""
    doc = extract_document((FIXTURES / "article_comment_tool_wrapper.html").read_bytes(), "https://readers.example.org/posts/ship-logs")
    assert doc.error is None
    assert doc.paragraphs[0].startswith("Ship logs are the closest thing") and doc.paragraphs[-1].startswith("Keep a list")
    assert "great-grandfather" not in doc.text()
    # a listing's container: the comment rules are its first paragraph, the cards most of its text
    import lxml.html

    from extract.domfixes import unname_comment_wrappers

    cards = "".join(f"<div class='card'><h3><a href='/posts/log-{i}'>Reading the log of ship number {i}</a></h3></div>" for i in range(12))
    container = lxml.html.fromstring(
        f"<div class='post-body'>{cards}<section class='comments'><p>Comments are moderated by our editors and"
        " appear once approved, usually within a day.</p></section></div>"
    )
    unname_comment_wrappers(container)
    assert container.find("section").get("class") == "comments"


def test_a_lead_in_a_text_widget_like_the_body_widget_is_kept() -> None:
    """Page builders write an article as text widgets of one kind (tag and class, but for the class
    word that numbers each): the widget holding most of the text is unnamed as prose, and its twin
    holding the lead was deleted by its "widget" name. A twin that is mostly links stays out."""
    doc = extract_document((FIXTURES / "article_builder_widgets.html").read_bytes(), "https://courier.example.org/news/new-ferries")
    starts = [p.split(":")[0] for p in doc.paragraphs]
    assert starts[:4] == ["Lead 0", "Lead 1", "Lead 2", "Part 0"]
    assert "Part 5 goes on" in starts and "Another story" not in doc.text()


def test_a_builders_panels_all_named_widget_are_read_whole() -> None:
    """A page builder names every panel "widget": trafilatura would delete them all, so it keeps the
    whole body. Unnaming the largest prose panel had it delete the others: the price list before
    that panel was lost. A panel holding less than half the body is left named with the rest."""
    doc = extract_document((FIXTURES / "article_builder_panels.html").read_bytes(), "https://spokes.example.org/repairs/prices")
    text = doc.text()
    assert doc.paragraphs[0].startswith("This guide gives our workshop prices")
    assert "includes the patch, the tyre levers" in text and "the new bearing fitted with the right torque" in text
    assert "cargo and electric bikes take longer" in text
    assert doc.paragraphs[-1].startswith("When the work is done we ride the bike around the block")
    assert "open every day but Sunday" not in text


def test_a_menus_items_named_like_a_body_do_not_cost_the_article_its_lists() -> None:
    """Where no <nav> says what a menu is, its items' labels named "text" (a body name to
    trafilatura) were taken one by one for the body and passed over, until the tries ran out and
    trafilatura read only the article's loose paragraphs: its subheadings and lists were lost.
    Blocks named like a body inside links are a menu's or a card's, all passed over at once."""
    doc = extract_document(
        (FIXTURES / "article_after_menu_of_named_items.html").read_bytes(), "https://signpost.example.com/blog/website-builders"
    )
    paragraphs = list(doc.paragraphs)
    assert "Pick one that keeps pages fast as the site grows" in paragraphs
    assert "The builders we compared" in paragraphs and "A hosted builder with templates" in paragraphs
    assert paragraphs[-1] == "The shop system was the only one that handled payments without plugins"
    assert not {"Insurance", "Mortgage", "Partners"} & set(paragraphs)


def test_a_header_named_main_header_is_not_the_body() -> None:
    """trafilatura takes a block whose id starts with "main" for the body: on a page whose header is
    a <div id="main-header"> (no <header> tag), the masthead's notices were read as the article's
    start. A body word followed by a furniture word in one name is the header (menu, footer) of
    the content, not the content."""
    doc = extract_document((FIXTURES / "article_after_main_header.html").read_bytes(), "https://valleypost.example.com/news/footbridge")
    assert doc.paragraphs[0].startswith("The county will replace the old footbridge")
    assert "Temporary crossing opens on 2 June" in doc.paragraphs
    assert "Letters to the editor" not in doc.text() and "Advertising in the Valley Post" not in doc.text()


def test_publisher_notices_named_for_what_they_are_leave_the_body() -> None:
    """A block named as a disclaimer, a disclosure or a call to action in any part of a class
    ("post-affiliate-disclosure", "box-cta", "review_disclaimer") is the publisher's notice, not the
    article, at the body's start or end."""
    doc = extract_document((FIXTURES / "article_publisher_notices.html").read_bytes(), "https://bench.example.com/reviews/kettles")
    assert doc.paragraphs[0].startswith("Test 0:") and doc.paragraphs[-1].startswith("We filled, boiled and poured")
    assert "small fee" not in doc.text() and "Prices were checked" not in doc.text()
    assert "Want more kitchen reviews" not in doc.text()


def test_publisher_notices_inside_a_larger_block_named_alike_leave_the_body() -> None:
    """A page section named like a notice ("page-cta-wrapper") around the whole article is too large
    to be one, and the notices inside it are still found."""
    html = (FIXTURES / "article_publisher_notices.html").read_text(encoding="utf-8")
    html = html.replace("<main>", '<main><div class="page-cta-wrapper">').replace("</main>", "</div></main>")
    doc = extract_document(html, "https://bench.example.com/reviews/kettles")
    assert doc.paragraphs[0].startswith("Test 0:") and doc.paragraphs[-1].startswith("We filled, boiled and poured")
    assert "small fee" not in doc.text() and "Prices were checked" not in doc.text()


def test_a_lead_set_in_a_block_before_the_body_is_kept() -> None:
    """A template sets the article's first paragraphs in a block of their own between the headline
    and the body container (here with a notice in between): trafilatura kept the container only.
    Two paragraphs or more, styled as the body's, join the body; a single one is a standfirst and
    stays out, as do paragraphs of another style and the headline's block."""
    html = (FIXTURES / "article_lead_beside_body.html").read_text(encoding="utf-8")
    url = "https://courier.example.org/news/electric-ferries"
    doc = extract_document(html, url)
    assert doc.paragraphs[0].startswith("For the people who cross") and doc.paragraphs[1].startswith("Commuters who")
    assert doc.paragraphs[2].startswith("The harbour ferries will run")
    assert "Ana Ferreira" not in doc.text() and "small fee" not in doc.text()
    opening = html[html.index('<div class="story-opening">') : html.index('<div class="story-notice">')]
    standfirst = html.replace(opening, opening[: opening.index("<p>Commuters")] + "</div>")
    styled = html.replace(opening, opening.replace("<p>", "<p class='teaser-text'>"))
    for variant in (standfirst, styled):
        assert extract_document(variant, url).paragraphs[0].startswith("The harbour ferries will run")


def test_an_faq_set_as_an_accordion_is_kept_with_its_questions() -> None:
    """An accordion's questions are buttons (a heading around the button that toggles the answer,
    or a button around the heading or paragraph), deleted with every button; its answers' panels
    are hidden by an unnamed wrapper around the panel the button names (aria-controls). A button
    that holds a heading or paragraph, or that toggles a panel with a title's words, is a title;
    the wrappers holding only a named panel are shown. A menu's toggle and a short "show" button
    stay out."""
    doc = extract_document((FIXTURES / "article_faq_accordion.html").read_bytes(), "https://courier.example.org/news/ferries")
    text = doc.text()
    for question in ("Will the fares change", "What happens to the old diesel", "Can bicycles still be taken"):
        assert question in text
    for answer in ("No. The authority keeps", "They will be sold to a river", "Yes, each boat keeps a rack"):
        assert answer in text
    assert doc.paragraphs[-1].startswith("The authority will publish")
    assert "Menu" not in text and "Show notes" not in text


def test_a_box_of_prose_set_aside_amid_the_article_is_kept() -> None:
    """An <aside> between the article's paragraphs holding a paragraph of prose (background, an
    example) is the article's, though every <aside> was deleted as furniture. One of links (related
    stories) and one beside the article (a sidebar) stay out."""
    doc = extract_document((FIXTURES / "article_prose_aside.html").read_bytes(), "https://courier.example.org/news/ferries")
    text = doc.text()
    assert "A battery ferry stores its energy" in text and doc.paragraphs[-1].startswith("Crews were trained")
    assert "The bridge reopens" not in text and "harbour's own newspaper" not in text
