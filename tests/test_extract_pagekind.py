"""Article or not, decided from the page itself: non-article pages never become documents."""

from __future__ import annotations

import json
import re
import sys
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import lxml.html
import pytest
from archive_fixtures import loopback_site, newsarchive

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.extraction import demo_pages  # noqa: E402

from extract import extract_document  # noqa: E402
from extract.extractor import classify_page  # noqa: E402
from extract.pagekind import gather_evidence, reconsider  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
NON_ARTICLES = sorted(p for p in (FIXTURES / "pagekind").glob("*.html") if not p.name.startswith("article_"))
ARTICLES = sorted((FIXTURES / "pagekind").glob("article_*.html")) + sorted((FIXTURES / "extract").glob("*.html"))


@pytest.mark.parametrize("page", NON_ARTICLES, ids=lambda p: p.stem)
def test_non_article_page_gives_no_document(page: Path) -> None:
    doc = extract_document(page.read_bytes(), f"https://news.example.com/{page.stem}")
    assert doc.is_empty and doc.error.startswith("not an article:")
    assert not classify_page(page.read_bytes()).is_article


@pytest.mark.parametrize("page", ARTICLES, ids=lambda p: p.stem)
def test_article_pages_without_telling_declarations_are_articles(page: Path) -> None:
    kind = classify_page(page.read_bytes(), f"https://news.example.com/{page.stem}")
    assert kind.is_article, kind.reason
    assert not extract_document(page.read_bytes()).is_empty


def _teasers(count: int, declaration: str) -> str:
    cards = "".join(
        f'<div class="card"><h3><a href="/news/story-{i}">Story number {i} of the day</a></h3>'
        f"<p>One line of summary for story {i}, as a section page shows it.</p></div>"
        for i in range(count)
    )
    return f"<html><head>{declaration}</head><body><main><h1>Local news</h1>{cards}</main></body></html>"


def test_declared_listings_are_listings_and_declared_articles_need_prose_of_their_own() -> None:
    article = '<meta property="og:type" content="article">'
    collection = '<script type="application/ld+json">{"@type": "CollectionPage"}</script>'
    listing = classify_page(_teasers(8, collection))
    assert listing.kind == "listing" and "collectionpage" in listing.reason
    undeclared = classify_page(_teasers(8, ""))
    assert undeclared.kind == "listing" and "8 teasers" in undeclared.reason
    # a CMS that declares every page an article: teasers without prose are still a listing ...
    declared = classify_page(_teasers(8, article))
    assert declared.kind == "listing" and declared.reason.startswith("declared an article, but 8 teasers")
    # ... and a declared article with a few paragraphs of prose beside its related stories is one
    lines = (
        "<p>The harbour master said the new pontoons would be in place before the summer season. Skippers, who "
        "had waited three years for the berths, welcomed the news at Tuesday's meeting.</p>"
        "<p>The council will pay for half of the work from its coastal fund; the rest comes from mooring fees, "
        "which rise by four per cent in April, the first rise since the harbour was dredged.</p>"
    )
    assert classify_page(_teasers(8, article).replace("<h1>Local news</h1>", f"<h1>Pontoons</h1>{lines}")).is_article


def test_prose_beside_teasers_is_an_article() -> None:
    prose = "".join(
        f"<p>Paragraph {i} of a long report on the harbour's future, with quotes from skippers, the harbour "
        f"master and the council, long enough to be prose rather than a teaser line.</p>"
        for i in range(4)
    )
    html = _teasers(8, "").replace("<h1>Local news</h1>", f"<h1>Harbour report</h1>{prose}")
    assert classify_page(html).is_article


def test_links_in_the_sentences_of_word_processor_paragraphs_are_no_teasers() -> None:
    """A word processor's export wraps each paragraph's text in a span (``<o:p>`` marks its end):
    a link in a sentence there sat in the span, not in the <p>, and the span was read as a teaser
    card, the whole paragraph as the cards' text, and the page as a listing."""
    topics = ["the harbour board's new dredging schedule", "the ferry operator's winter timetable",
              "last year's storm damage report", "the council's budget for coastal defences",
              "the fishermen's association statement"]
    paragraphs = "".join(
        f"<p class=MsoNormal><span lang=EN-US style='font-size:12.0pt;mso-bidi-font-size:11.0pt'>Part {i}: the quay "
        f"will close for three weeks in March while divers inspect the piles, as <a href='/news/item-{i}'>{topic}</a> "
        "sets out, and boats will moor at the north jetty meanwhile.<o:p></o:p></span></p>"
        for i, topic in enumerate(topics)
    )
    html = ("<html><head><title>Quay to close for repairs</title></head><body><div class=WordSection1>"
            f"<h1>Quay to close for repairs</h1>{paragraphs}</div></body></html>")
    doc = extract_document(html, "https://harbour.example.org/notices/quay-repairs")
    assert [p.split(":")[0] for p in doc.paragraphs] == [f"Part {i}" for i in range(5)]


SHORT_STORY = [
    "Ferry crossings resume on Monday after the refit of the harbour's only boat, the operator said.",
    "Residents of the island, who drove round the bay for two years, welcomed the news at the quay.",
    "Tickets cost what they cost before the refit, and the first boat leaves at six in the morning.",
    "Freight for the island's shops goes on the second boat, which leaves the mainland at eight.",
]


@pytest.mark.parametrize("markup", ["soft hyphens", "drop cap", "bold lead word"])
def test_a_short_story_whose_words_are_split_by_markup_is_an_article(markup: str) -> None:
    """A short story is found beside its headline by its paragraphs' first words in the page's
    text: soft hyphens (a word's break points, which our paragraphs drop), a drop cap's letter in a
    span of its own or a lead word in bold split those words in the page's text nodes, the
    paragraphs so set were not found, and the story read as the template's text away from its
    headline."""
    def marked(text: str) -> str:
        if markup == "soft hyphens":
            return re.sub(r"(\w{4})(\w{3,})", r"\1&shy;\2", text)
        if markup == "drop cap":
            return f"<span class='dropcap'>{text[0]}</span>{text[1:]}"
        first, rest = text.split(" ", 1)
        return f"<strong>{first}</strong> {rest}"

    menu = "".join(f"<li><a href='/section/{i}'>Section number {i}</a></li>" for i in range(12))
    story = f"<p>{SHORT_STORY[0]}</p>" + "".join(f"<p>{marked(text)}</p>" for text in SHORT_STORY[1:])
    html = ("<html><head><title>Ferry returns</title><meta property='og:type' content='article'></head><body>"
            f"<header><ul>{menu}</ul></header><main><div class='story'><h1>Ferry returns</h1>{story}</div></main>"
            "<footer><p>The Island Courier is published by the Island Press cooperative, owned by its readers and "
            "staff since 1952, and printed every Thursday on the mainland.</p></footer></body></html>")
    doc = extract_document(html, "https://courier.example.org/news/ferry-returns")
    assert doc.error is None
    assert list(doc.paragraphs) == SHORT_STORY


def test_demo_sites_articles_are_articles_and_their_other_pages_are_not() -> None:
    pages = demo_pages()
    assert sum(article for _, _, article in pages) >= 9 and sum(not article for _, _, article in pages) >= 9
    for url, html, article in pages:
        kind = classify_page(html, url)
        assert kind.is_article == article, (url, kind.reason)


def _fixture_kind(name: str):
    return classify_page((FIXTURES / "pagekind" / f"{name}.html").read_bytes(), f"https://news.example.com/{name}")


def _a_message_page_and_a_story_in_its_template(name: str, message: str, story: str, headlines: tuple[str, str]) -> None:
    """The fixture ``name`` is a not-found page, rejected for the message beside its search box; the
    same template with ``story`` in place of the message (a pattern) and the second headline in place
    of the first is an article."""
    page = (FIXTURES / "pagekind" / f"{name}.html").read_text()
    kind = classify_page(page, f"https://news.example.com/{name}")
    assert not kind.is_article and kind.reason.endswith("a search box beside its headline"), kind.reason
    page, replaced = re.subn(message, story, page, count=1, flags=re.DOTALL)
    assert replaced and headlines[0] in page
    kind = classify_page(page.replace(headlines[0], headlines[1]), "https://news.example.com/news/a-story")
    assert kind.is_article, kind.reason


def test_a_cms_that_declares_every_page_an_article_still_gets_its_listings_and_404s_rejected() -> None:
    category = _fixture_kind("declared_article_category")
    assert category.kind == "listing" and category.reason.startswith("declared an article, but 8 teasers")
    assert _fixture_kind("declared_article_soft_404").kind == "no article"


def test_a_declared_listing_with_an_intro_paragraph_is_a_listing() -> None:
    # its teasers' headlines and dates run into one paragraph with the intro: the headlines are
    # teaser text, and the intro alone is less prose than an article among teasers needs
    kind = _fixture_kind("declared_article_tag_with_intro")
    assert kind.kind == "listing", kind.reason


def test_teasers_inside_a_page_wide_form_count() -> None:
    # an ASP.NET page is one <form>: its listing is the page's content, not a form's furniture (the
    # page header's block of links, the site's name among them, is: 8 teasers, not 9)
    kind = _fixture_kind("page_form_listing")
    assert kind.kind == "listing" and kind.reason.startswith("8 teasers"), kind.reason


def test_a_second_opinion_that_reads_the_listing_again_with_its_template_is_not_taken() -> None:
    # the second opinion holds our body (the teasers) and the template's text around them: more
    # teaser text than prose is the listing again, whatever its length; mostly prose is an article
    # the repair had hidden
    tree = lxml.html.fromstring((FIXTURES / "pagekind" / "wordpress_category.html").read_bytes())
    evidence = gather_evidence(tree)
    teasers = [p.text_content() for p in tree.xpath("//div[contains(@class, 'entry-summary')]/p")]
    footer = (
        "The Riverside Post is published by Riverside Media, an independent company owned by its staff, "
        "and has covered the valley since 1872. Letters to the editor are welcome by post or email; we "
        "read every one, and publish a selection each Saturday, edited for length. Corrections are "
        "listed on the corrections page, and complaints go to the readers' editor, who answers within "
        "a week. Our journalists follow the editors' code of practice, and our advertising is kept "
        "apart from our reporting by the separate commercial team."
    )
    ours = teasers[:4]
    kind, body = reconsider(evidence, ours, lambda: [*teasers, footer])
    assert kind.kind == "listing" and body == ours, kind.reason
    report = [footer.replace("valley", f"valley {i}") for i in range(4)]
    # (our body with a line of its own beside the teasers: a body that is wholly the teasers' text
    # gets no second opinion, test_no_second_opinion_for_a_body_that_is_wholly_the_teasers_text)
    lead = "The paper's staff voted on Tuesday to buy the company from its owners."
    kind, body = reconsider(evidence, [lead, *ours], lambda: [lead, *teasers, *report])
    assert kind.is_article and body[-1] == report[-1], kind.reason


def test_a_not_found_page_read_with_its_template_text_is_no_article_and_a_short_story_there_is_one() -> None:
    # the page's own content is one line under its headline; the extractor reads the template's
    # cookie notice and "about us" text instead, far from the headline in a page of menus: no article,
    # though the CMS declares one
    page = (FIXTURES / "pagekind" / "declared_article_soft_404_in_template.html").read_text()
    kind = classify_page(page, "https://news.example.com/missing")
    assert not kind.is_article and "0 of them beside the headline" in kind.reason, kind.reason
    # the same template with a short story under the headline is an article
    story = (
        "<p>The footbridge over the river at Ashby will close for three weeks from Monday while its deck is "
        "replaced, the council said.</p><p>Walkers and cyclists will be sent over the road bridge in the town "
        "centre, and a shuttle bus will run every half hour for those who cannot manage the extra distance.</p>"
    )
    short = page.replace("<p>Sorry, the page you asked for is not here.</p>", story).replace("Page not found", "Footbridge to close")
    assert classify_page(short, "https://news.example.com/footbridge").is_article


# A listing whose intro sits beside its headline, with the same page made an article by a story
# of its own under the headline (its cards then its related stories): the fixture, the reason's
# end, where the story goes, and what the story is about.
LISTINGS_AND_STORIES = [
    # a topic page that declares an article: its cards hold seven times the intro's words; the cards are the page
    ("declared_article_topic_cards", "the teasers 5 times its words or more", '</div></div>\n<div class="card-grid">',
     "the council's transport plan report, with the fares, the new routes"),
    # a topic page that declares none (og:type website): an intro of 88 words, and the extractor reads
    # the cards under it as the body too; more of that body is the teasers' text than prose
    ("undeclared_topic_page_with_intro", "words of the teasers' text in its body", '<div class="topic-stories">',
     "the harbour board's report on the new berths, with the fees, the waiting list"),
]


@pytest.mark.parametrize(("name", "reason", "marker", "subject"), LISTINGS_AND_STORIES, ids=lambda v: v if v.isidentifier() else "")
def test_a_listing_with_an_intro_by_its_headline_is_a_listing_and_a_story_there_is_an_article(
    name: str, reason: str, marker: str, subject: str
) -> None:
    page = (FIXTURES / "pagekind" / f"{name}.html").read_text()
    kind = classify_page(page, f"https://news.example.com/topic/{name}")
    assert kind.kind == "listing" and kind.reason.endswith(reason), kind.reason
    story = "".join(
        f"<p>Paragraph {i} of {subject} and what was said about them at Tuesday's meeting in the town hall.</p>"
        for i in range(6)
    )
    assert classify_page(page.replace(marker, f"{story}{marker}")).is_article


def test_a_declared_article_whose_prose_lies_outside_its_headlines_block_beside_more_teasers_is_a_listing() -> None:
    # a tag page that declares an article: a standfirst beside its headline, cards under it, and the
    # summaries of cards without a headline link read as prose; its body is more teasers than prose,
    # and little of that prose sits in the headline's own block
    page = (FIXTURES / "pagekind" / "declared_article_tag_page_in_template.html").read_text()
    kind = classify_page(page, "https://news.example.com/topic/ferries")
    assert kind.kind == "listing" and kind.reason.endswith("words of the teasers' text in its body"), kind.reason
    # a round-up: the same cards under an introduction of its own beside the headline is an article
    intro = (
        "All our reporting on the crossing this week. The operator has named its new boat, the fares go up in "
        "January, and the strike that would have stopped the sailings over the holiday is off. Here is what "
        "changes for the people who cross every day, and what the harbour board will decide next month."
    )
    roundup = re.sub(r'<div class="story-card"><h2><a href="[^"]+">\w+</a></h2><p>[^<]+</p></div>', "", page)
    roundup = re.sub(r'<div class="hero">.*?</div>', "", roundup)
    roundup = roundup.replace('<div class="listing">', f'<div class="listing"><h1>The crossing this week</h1><p>{intro}</p>')
    kind = classify_page(roundup, "https://news.example.com/ferries/this-week")
    assert kind.is_article, kind.reason


def test_a_not_found_message_beside_a_search_box_is_no_article_whatever_body_the_template_gives() -> None:
    # a CMS that declares every page an article: its not-found page is a headline, two sentences and
    # a search box in the story's template, with "most read" links; the extractor reads the
    # sentences with the template's blurbs as a body of some 100 words. The same template holding a
    # story of 90 words (short of SHORT_BODY), search box and all, is one
    story = (
        "<p>The harbour board voted on Tuesday to dredge the inner basin this autumn, two years earlier than planned, "
        "after silt left three fishing boats aground at low tide in February.</p>"
        "<p>The work will close the slipway for a fortnight; the board will pay for it from its reserves, which "
        "the treasurer said were healthy after a good summer of visiting yachts. Skippers asked for the dredging "
        "to start after the sprat season, and the board agreed to wait until October.</p>"
    )
    _a_message_page_and_a_story_in_its_template(
        "declared_article_not_found_search_box", r"<p>We looked.*?</p>\s*<p>Check.*?</p>", story,
        ("Page not found", "Basin to be dredged"),
    )


def test_a_short_article_beside_a_sidebar_search_box_and_a_number_in_its_headline_stays_an_article() -> None:
    # a 40-word brief whose headline names a bus route 404, in a layout whose rail holds a search box:
    # the box shares a block with the headline, but the brief's prose sits in the headline's part of it
    page = (FIXTURES / "extract" / "article_brief_beside_search_box.html").read_bytes()
    kind = classify_page(page, "https://news.example.com/news/route-404-diverted")
    assert kind.is_article, kind.reason
    assert extract_document(page).paragraphs[0].startswith("Buses on route 404 will skip")


def test_a_not_found_message_after_an_article_template_s_standfirst_and_byline_is_no_article() -> None:
    # a "not found" page in an article's template (declared an article): the headline shares its
    # header with the template's standfirst and byline, and the message and a search box follow
    # that header. The message is read after the header; the body the extractor finds (the
    # standfirst, the writer's box, a membership pitch) lies mostly outside it
    page = (FIXTURES / "pagekind" / "declared_article_not_found_after_standfirst.html").read_bytes()
    kind = classify_page(page)
    assert kind.kind == "no article" and "a search box beside its headline" in kind.reason, kind.reason
    # a story there instead of the message is more than a message: an article
    story = (
        "<p>The levy would be charged per hectare and set each spring by the board, which says the pumps used "
        "a third more power last winter than in any year since records began.</p><p>Landowners at a meeting in "
        "the corn exchange on Tuesday asked for the money to be spent on the oldest stations first, and for "
        "the board to publish what each one costs to run.</p><p>A decision is expected in the autumn, after "
        "a consultation that opens next month and runs for twelve weeks.</p>"
    )
    with_story = re.sub(rb'<p class="message">.*?</p>', story.encode(), page)
    assert classify_page(with_story).is_article, classify_page(with_story).reason
    # and a short story in the header itself, beside a line before the box, is one too
    in_header = page.replace(b'<p class="byline">', story.encode() + b'<p class="byline">')
    assert classify_page(in_header).is_article, classify_page(in_header).reason


def test_a_short_page_whose_headline_or_title_is_an_error_status_is_no_article() -> None:
    kind = _fixture_kind("soft_404_error_status")
    assert kind.kind == "no article" and kind.reason.endswith("an error status in its headline or title"), kind.reason
    page = (FIXTURES / "pagekind" / "soft_404_error_status.html").read_text()
    # the number opening a headline, named in it or closing a sentence is no status
    for headline in ("404 Wohnungen entstehen am Hang", "Linie 404 fährt wieder", "Abschied vom alten Peugeot 404"):
        renamed = page.replace("Fehler 404", headline)
        assert "error status" not in classify_page(renamed, "https://news.example.com/region/x").reason


@pytest.mark.parametrize(
    "name", ["soft_404_long_apology", "soft_404_long_apology_german", "declared_article_soft_404_oops_headline"]
)
def test_a_not_found_page_whose_apology_runs_past_80_words_and_names_no_404_is_no_article(name: str) -> None:
    # no number, no search box, no links: the headline or title says "not found" in words, and the
    # apology (over MIN_PROSE words, in article markup and declared an article in one of them) is no story
    kind = _fixture_kind(name)
    assert kind.kind == "no article" and kind.reason.endswith("an error status in its headline or title"), kind.reason


def test_a_short_story_whose_headline_mentions_something_not_found_stays_an_article() -> None:
    page = (FIXTURES / "pagekind" / "soft_404_long_apology.html").read_text()
    story = (
        "<p>Divers searched the outer harbour for a second day on Tuesday for the bronze bell that fell from the "
        "old ferry's mast in the gale last week, without success.</p><p>The bell, cast in 1906, had hung on the "
        "ferry since it first crossed to the islands, and the harbour trust says it will pay for a third day of "
        "searching if the weather allows. Fishermen have been asked to report anything that snags their nets "
        "near the breakwater, where the tide is thought to have carried it.</p>"
    )
    page = re.sub(r"<p>Apologies.*?</p>", story, page, flags=re.DOTALL)
    for headline in ("Not found: the ferry’s lost bell", "Ferry’s bell not found, search goes on"):
        kind = classify_page(page.replace("Page not found", headline), "https://news.example.com/news/bell")
        assert kind.is_article, kind.reason


@pytest.mark.parametrize(
    ("lang", "headline"),
    [
        ("en", "Sorry, we couldn’t find that page"),
        ("de", "Hoppla! Diese Seite gibt es nicht."),
        ("fr", "Cette page n’existe plus"),
        ("nl", "Deze pagina bestaat niet meer"),
    ],
)
@pytest.mark.parametrize("declared", [False, True], ids=["declaring nothing", "declared an article"])
def test_a_not_found_page_at_an_article_s_address_is_no_article_however_its_apology_is_worded(
    lang: str, headline: str, declared: bool
) -> None:
    # served with status 200 at the address of a withdrawn story: its headline and title, in words no
    # list knows, name none of the address's words, and its apology of 100 words few of them
    page = (FIXTURES / "pagekind" / "soft_404_long_apology.html").read_text()
    page = page.replace('lang="en"', f'lang="{lang}"').replace("Page not found", headline)
    if declared:
        page = page.replace("</head>", '<meta property="og:type" content="article"></head>')
    withdrawn = "https://news.example.com/2024/05/13/summer-ferry-timetable-changes-announced"
    kind = classify_page(page, withdrawn)
    assert not kind.is_article and "not one of its address's words" in kind.reason, kind.reason
    assert extract_document(page, withdrawn).is_empty
    # a short story at its own address, whose headline says it in other words, is an article
    story = (
        "<p>The council voted on Monday to pay for dredging the harbour’s channel from next year’s budget, ending "
        "six years in which the harbour board paid for it from its reserves.</p><p>Councillors approved the "
        "spending by nine votes to two. The channel silts up every winter, and the ferries to the islands "
        "have run aground twice since January. The work is to start in March and take eight weeks, with the "
        "ferries moved to the north quay while the dredger works.</p>"
    )
    page = re.sub(r"<p>Apologies.*?</p>", story, page, flags=re.DOTALL).replace(headline, "Harbour channel to be cleared")
    kind = classify_page(page, "https://news.example.com/2024/05/13/council-approves-harbour-dredging-budget")
    assert kind.is_article, kind.reason


def test_a_paywall_stub_gives_its_lead_without_the_pitch_to_subscribe_or_no_article() -> None:
    # a story for subscribers shows its lead and, longer than it, a pitch to subscribe or sign in: in
    # article markup the lead is the text; without markup or a declaration the lead alone is too
    # short for an article
    page = (FIXTURES / "pagekind" / "article_paywall_stub_lead.html").read_text()
    doc = extract_document(page, "https://news.example.com/news/harbourmaster")
    assert len(doc.paragraphs) == 1 and doc.paragraphs[0].startswith("After twenty-two years"), doc.paragraphs
    bare = (FIXTURES / "pagekind" / "paywall_stub_without_article_markup.html").read_bytes()
    assert not classify_page(bare, "https://news.example.com/news/ferry").is_article
    # an appeal to subscribe to a newsletter, offering no way in, is the story's own closing line
    appeal = re.sub(r'<div class="premium-wall">.*?</div>', "<p>Subscribe to our weekly newsletter for the harbour's news.</p>", page)
    assert extract_document(appeal).paragraphs[-1].startswith("Subscribe to our weekly newsletter")


def test_a_short_article_whose_headline_shares_its_header_with_a_dateline_and_a_search_box_stays_an_article() -> None:
    # the story's header holds the headline, the byline and date, and a search box; the brief's text
    # follows outside it: the byline and date beside the headline are labels, no message
    page = (FIXTURES / "extract" / "article_brief_beside_search_box.html").read_text()
    header = re.search(r'<h1 class="story-title">.*?</div>', page, flags=re.DOTALL).group(0)
    box = '<form role="search" action="/search"><input type="search" name="q"><button>Go</button></form>'
    page = page.replace(header, f'<div class="story-top">{header}{box}</div>')
    kind = classify_page(page, "https://news.example.com/news/route-404-diverted")
    assert kind.is_article, kind.reason


def test_a_not_found_page_whose_template_gives_a_long_body_away_from_its_headline_is_no_article() -> None:
    # the template's "about us" at the foot of the page runs to 170 words: the extractor reads it with
    # the message as a body longer than SHORT_BODY, most of it outside the headline's own block
    page = (FIXTURES / "pagekind" / "declared_article_not_found_search_box.html").read_text()
    more = (
        "<p>Our reporters live in the communities they cover, from the fishing quarter to the new estates on the hill, "
        "and they answer to readers first. Every week we publish the letters you send us, the questions you ask at our "
        "open newsroom and the answers we find, and every year we tell you how the trust spent its money.</p>"
        "<p>If you think we got something wrong, write to the readers' editor, who works apart from the newsroom and "
        "publishes her findings on this site. Complaints we cannot settle go to the press regulator, whose rulings we "
        "print in full and in the same place as the story that was complained about.</p>"
    )
    page = page.replace("in the open.</p></div>", f"in the open.</p>{more}</div>")
    kind = classify_page(page, "https://news.example.com/news/missing")
    assert not kind.is_article and kind.reason.endswith("a search box beside its headline"), kind.reason


@pytest.mark.parametrize(
    ("name", "grid"),
    [
        # the template leaves its <header> open, so the section's cards are parsed inside it
        ("section_in_unclosed_header", "section-page__grid"),
        # the template leaves a newsletter popup's <aside> open: the page's headline and cards are in it
        ("declared_article_tag_in_unclosed_aside", "page__list"),
    ],
)
def test_a_listing_parsed_inside_unclosed_furniture_is_a_listing(name: str, grid: str) -> None:
    # a page header or a sidebar holding most of the page's text holds its content, not the site's
    # furniture; the same template with a story where the cards were is an article
    kind = _fixture_kind(name)
    assert kind.kind == "listing", kind.reason
    page = (FIXTURES / "pagekind" / f"{name}.html").read_text()
    story = "".join(
        f"<p>Paragraph {n} of the council's report says the harbour's channel silts up every winter, and"
        " that the board has paid for dredging from its reserves for six years running.</p>"
        for n in range(1, 7)
    )
    page = re.sub(rf'<div class="{grid}">.*?</p>\s*</div>', f"<div>{story}</div>", page, flags=re.DOTALL)
    kind = classify_page(page, "https://news.example.com/local/harbour-dredging")
    assert kind.is_article, kind.reason


def test_teasers_with_long_excerpts_are_cards_and_sections_under_linked_headings_are_prose() -> None:
    # a blog's archive whose excerpts run past a card's length: each post is one of a run of alike
    # items holding one headline link and one paragraph, a teaser however long
    kind = _fixture_kind("blog_long_excerpts")
    assert kind.kind == "listing", kind.reason
    # a round-up whose sections sit under linked headings in alike blocks, each of several
    # paragraphs, is an article
    page = (FIXTURES / "pagekind" / "blog_long_excerpts.html").read_text()
    page = re.sub(
        r"<p>(.*?)</p>",
        lambda m: "".join(f"<p>{s}</p>" for s in re.split(r"(?<=\.) ", m.group(1))),
        page.replace('<div class="nav-links"><a href="/category/autumn/page/2">Older posts</a></div>', ""),
    )
    kind = classify_page(page, "https://news.example.com/blog/a-year-on-the-allotment")
    assert kind.is_article, kind.reason


def test_cards_whose_headline_is_a_word_or_two_are_cards_beside_their_alike_ones() -> None:
    # three of six teasers have a one- or two-word headline, too short for a headline link by
    # itself: their blocks, alike to the other cards, are cards, and their summaries no prose
    kind = _fixture_kind("declared_article_section_one_word_headlines")
    assert kind.kind == "listing" and "6 teasers" in kind.reason, kind.reason


def test_a_not_found_message_is_read_between_the_headline_and_the_search_box_not_in_the_template_after_them() -> None:
    # a blog that declares every page a post: its not-found page is a headline, a line and a search box,
    # followed in the same column by the writer's card, whose bio the extractor reads with the line as a
    # body of some 90 words; the column holds more than a message's words, but its parts from the
    # headline to the box hold a line. The same template holding a post of some 90 words before the box
    # is an article
    post = (
        "<p>The ridge road reopened on Friday after the landslip repairs, and the new surface is the smoothest on "
        "the climb. The council has added a barrier on the second hairpin, where the old wall fell, and a passing "
        "place halfway up.</p><p>Expect gravel at the edges for a few weeks yet; the sweeper comes on Mondays. The "
        "café at the top opens again at Easter, and the car park has new bike racks beside the gate.</p>"
    )
    _a_message_page_and_a_story_in_its_template(
        "declared_article_not_found_blurb_after_search_box",
        re.escape("<p>This address leads nowhere: the post was moved when we tidied up the archive.</p>"), post,
        ("Nothing here", "The ridge road reopens"),
    )


def test_a_not_found_message_is_the_text_between_the_headline_and_the_search_box() -> None:
    # the paper's subscription pitch follows the search box inside the story's text block: read with
    # the message as a body of some 90 words, it is the template's, not the page's message. The same
    # template holding a report of some 90 words before the box is an article
    report = (
        "<p>Ewe prices at the Thursday auction rose by a tenth on last month, helped by the dry spring and a "
        "good crop of early grass on the lower farms. Buyers came from three counties, and the ring stayed "
        "busy until after four.</p><p>The auctioneer said hill breeds sold best, and that store lambs would "
        "follow in August. The mart will close its cattle pens for repairs in July; the sale moves to the "
        "showground for the two weeks of the work.</p>"
    )
    _a_message_page_and_a_story_in_its_template(
        "declared_article_not_found_pitch_in_story_text",
        re.escape("<p>That link is out of date, and the page it led to has gone.</p>"), report,
        ("Not here any more", "Ewe prices rise at the mart"),
    )


def test_a_teaser_card_is_not_split_by_a_byline_link_of_three_words() -> None:
    # each card: a kicker, a headline link in a heading, a summary, and a byline whose author's name
    # is a link of three words: the summary is the card's text, not prose beside the cards
    kind = _fixture_kind("declared_article_tag_cards_with_byline_links")
    assert kind.kind == "listing" and kind.reason.startswith("declared an article, but 8 teasers"), kind.reason
    assert "0 words of prose" in kind.reason, kind.reason


def test_a_cards_headline_is_teaser_text_though_its_kicker_and_summary_are_blocks_beside_it() -> None:
    # a card's text is read block by block: its kicker and summary do not run into the headline's
    # first and last words, so a body paragraph that is the headline alone is the cards' text
    card = (
        '<div class="card"><div class="kicker">{k}</div><h2><a href="/s/{i}">{t}</a></h2>'
        "<p>{s}</p></div>"
    )
    heads = ["Tram line reaches the old docks", "Orchard saved by a village vote", "Choir sings in the empty quarry"]
    cards = "".join(
        card.format(k="Local", i=i, t=t, s="A few words of summary follow the headline in each card here.")
        for i, t in enumerate(heads)
    )
    tree = lxml.html.fromstring(f"<html><body><main><h1>Around town</h1><div>{cards}</div></main></body></html>")
    kind, _ = reconsider(gather_evidence(tree), heads, lambda: [], declared=True)
    assert ", 0 words of prose" in kind.reason, kind.reason


def test_a_cards_headline_shorter_than_a_shingle_read_as_a_paragraph_is_teaser_text() -> None:
    # a card's headline of three words, read as a paragraph of its own, has no 4-word shingle to
    # find in the cards: it is the cards' text when it is one of their headings
    heads = ["Letters from readers", "Night walks resume", "The ferry explainer", "Quay history corner", "Lost property office"]
    summary = (
        "Readers and reporters look back at a week on the estuary, from the queues at the landing to "
        "the new timetable, the boats and the people who work on them."
    )
    cards = "".join(f'<div class="card"><h3><a href="/c/{i}">{h}</a></h3><p>{summary} {h}.</p></div>' for i, h in enumerate(heads))
    tree = lxml.html.fromstring(f"<html><body><main><h1>The estuary</h1><div>{cards}</div></main></body></html>")
    body = [text for h in heads for text in (h, f"{summary} {h}.")]
    kind, _ = reconsider(gather_evidence(tree), body, lambda: [], declared=True)
    assert kind.kind == "listing" and kind.reason.startswith("declared an article, but 5 teasers"), kind.reason
    assert ", 0 words of prose" in kind.reason, kind.reason


def test_a_second_opinion_whose_prose_sits_away_from_the_headline_is_not_taken() -> None:
    # a section page (declared an article, as some CMSs declare every page) whose own content is an
    # intro and its teasers: a second extraction reads the paper's "about us" block, outside the
    # block holding the headline and the teasers; the same prose under the headline is an article
    # the repair had hidden
    page = (FIXTURES / "second_opinion" / "section_template_text_afar.html").read_bytes()
    tree = lxml.html.fromstring(page)
    evidence = gather_evidence(tree)
    intro = tree.xpath("//div[@class='section-intro']/p")[0].text_content()
    about = [p.text_content() for p in tree.xpath("//div[@class='about-the-paper']/p")]
    kind, body = reconsider(evidence, [intro], lambda: [intro, *about], declared=True)
    assert not kind.is_article and body == [intro], kind.reason
    story = b"".join(b"<p>" + text.encode() + b"</p>" for text in about)
    moved = page.replace(b"<h1>Harbour</h1>", b"<article><h1>Harbour</h1>" + story + b"</article>", 1)
    moved_tree = lxml.html.fromstring(moved)
    kind, body = reconsider(gather_evidence(moved_tree), [intro], lambda: [intro, *about], declared=True)
    assert kind.is_article and body == [intro, *about], kind.reason


def test_a_body_outside_the_block_of_the_headline_and_its_listing_is_the_template_s_text() -> None:
    # an author page: the headline and a list of teasers with summaries share a column; the body the
    # extractor reads is the site's blurb in the other column, fewer words than the teasers hold.
    # The same blurb in the headline's column, beside the teasers, is that page's own prose
    page = (FIXTURES / "pagekind" / "author_page_with_template_blurb.html").read_bytes()
    kind = classify_page(page)
    assert kind.kind == "listing" and "outside the block of its headline and its listing" in kind.reason, kind.reason
    blurb = re.search(rb"<h4>About Valley Life</h4>(.*?)</div>", page, re.S).group(1)
    moved = page.replace(b'<p class="role">Contributing writer</p>', b'<div class="story">' + blurb + b"</div>")
    moved = re.sub(rb'<div class="col-side">.*?</div></div>', b"", moved, flags=re.S)
    assert classify_page(moved).is_article, classify_page(moved).reason


def test_cards_whose_link_wraps_heading_and_summary_make_a_listing_beside_which_the_template_s_text_is_no_article() -> None:
    # a tag page: tiles whose one link wraps image, heading and a line of summary share a column
    # with the headline; the body the extractor reads is the site's blurb in the side column. The
    # summary inside each tile's link is a summary as one beside it is: the tiles are the page's
    # listing, and the blurb outside its block the template's text
    page = (FIXTURES / "pagekind" / "tag_page_cards_wrapped_in_links_with_template_blurb.html").read_bytes()
    kind = classify_page(page)
    assert kind.kind == "listing" and "outside the block of its headline and its listing" in kind.reason, kind.reason


def test_a_card_whose_first_link_is_its_image_s_is_headed_by_its_titled_link() -> None:
    # media cards: an image's link, then a linked heading and a line of summary; the headings of a
    # word are cards as the longer ones beside them are, their first link being the image's
    tree = lxml.html.fromstring((FIXTURES / "pagekind" / "section_cards_with_image_links.html").read_bytes())
    evidence = gather_evidence(tree)
    assert evidence.cards == 8, evidence.cards


def test_a_list_item_opening_with_a_short_linked_title_beside_cards_is_a_card() -> None:
    # a section's list items: a linked title, a date and a line of summary; the titles of a word,
    # outside any heading, head their items as the longer titles beside them do
    tree = lxml.html.fromstring((FIXTURES / "pagekind" / "section_list_items_with_short_titles.html").read_bytes())
    assert gather_evidence(tree).cards == 7


def test_no_second_opinion_for_a_body_that_is_the_message_beside_a_search_box() -> None:
    # a "not found" page: its headline, a line of message and a search box; a second extraction
    # reads the message with the template's newsletter pitch below it. The page's content is the
    # message whatever is read around it: the second opinion is not asked for
    tree = lxml.html.fromstring((FIXTURES / "second_opinion" / "not_found_with_newsletter_pitch.html").read_bytes())
    evidence = gather_evidence(tree)
    message = tree.xpath("//p[@class='message']")[0].text_content()
    pitch = [p.text_content() for p in tree.xpath("//div[@class='newsletter-pitch']/p")]
    kind, body = reconsider(evidence, [message], lambda: [message, *pitch], declared=True)
    assert kind.kind == "no article" and body == [message], kind.reason


def test_no_second_opinion_for_a_body_that_is_wholly_the_teasers_text() -> None:
    # a tag page (declared an article): the extractor reads its teasers and nothing of its own; a
    # second extraction reads them again with the journal's note in the side column, enough prose to
    # pass for an article. The page's content is the listing the extractor found: the second opinion
    # is not asked for. With a line of prose of its own beside the teasers (an article whose repair
    # hid its story), the body gets it
    tree = lxml.html.fromstring((FIXTURES / "second_opinion" / "tag_page_read_as_its_teasers.html").read_bytes())
    evidence = gather_evidence(tree)
    teasers = [text for li in tree.xpath("//li[@class='tag-item']") for text in (li.find("h3").text_content(), li.find("div").text_content())]
    note = [p.text_content() for p in tree.xpath("//div[@class='journal-note']/p")]
    asked = []

    def second() -> list[str]:
        asked.append(True)
        return [*teasers, *note]

    kind, body = reconsider(evidence, teasers, second, declared=True)
    assert kind.kind == "listing" and body == teasers and not asked, kind.reason
    own = "Blossom counts from the members' farms came in over the weekend, and most were low."
    kind, body = reconsider(evidence, [own, *teasers], lambda: [own, *teasers, *note], declared=True)
    assert kind.is_article and body[-1] == note[-1], kind.reason


# Short articles at addresses that spell their headline's words as slug makers transliterate them: umlauts
# written out and ß as ss (German, no article markup), ł as l (Polish), ø as o and æ as ae (Danish), ı as i
# (Turkish): path -> language, in <article>, headline, paragraphs.
TRANSLITERATED = {
    "/lokales/buergermeister-kuendigt-ruecktritt-strassenbau": (
        "de", False, "Bürgermeister kündigt Rücktritt an",
        ["Der Bürgermeister der Stadt hat am Montagabend im Rathaus seinen Rücktritt zum Ende des Jahres "
         "angekündigt. Er begründete den Schritt mit dem anhaltenden Streit um den Straßenbau am Hafen, "
         "der den Stadtrat seit dem Frühjahr lähmt.",
         "Die Fraktionen reagierten überrascht. Eine Nachfolgerin oder ein Nachfolger soll im März gewählt "
         "werden; bis dahin führt die erste Stellvertreterin die Geschäfte. Die Arbeiten an der Uferstraße "
         "ruhen weiter, bis das Gericht über die Klage der Anwohner entschieden hat, die gegen den Lärm und "
         "den Verlust ihrer Parkplätze vorgehen."]),
    "/wiadomosci/lodzkie-wladze-zlozyly": (
        "pl", True, "Łódzkie władze złożyły skargę",
        ["Władze Łodzi złożyły w poniedziałek skargę do wojewody na decyzję o zamknięciu linii tramwajowej "
         "do Zgierza. Według urzędników miasto nie zostało wysłuchane przed podjęciem decyzji.",
         "Skarga trafi teraz do sądu administracyjnego, który ma trzy miesiące na jej rozpatrzenie."]),
    "/nyheder/oresundsfaergen-saettes-kobenhavn": (
        "da", True, "Øresundsfærgen sættes ind fra København",
        ["Den gamle Øresundsfærge sættes igen ind mellem København og Malmø fra næste måned, mens broen "
         "repareres. Rederiet venter flere tusinde passagerer om dagen.",
         "Færgen sejler hver time fra klokken seks om morgenen, og billetterne kan købes om bord."]),
    "/haber/kisin-yagisli-sicaklik": (
        "tr", True, "Kışın ilk haftası yağışlı, sıcaklık düşük",
        ["Meteoroloji, kışın ilk haftasında İstanbul'da yağışlı havanın etkili olacağını ve sıcaklığın "
         "sıfırın altına düşeceğini açıkladı. Sürücülerin köprü ve tünellerde dikkatli olması istendi.",
         "Yağışın hafta sonuna kadar sürmesi, pazartesi günü ise havanın açması bekleniyor."]),
}
# and a not-found page at a story's address in that spelling: its headline and apology name none of its words
GONE = ("/lokales/buergermeister-eroeffnet-strassenfest", ("de", True, "Hoppla! Diese Seite gibt es nicht mehr", [
    "Der Beitrag, den Sie suchen, wurde verschoben, zusammengelegt oder zurückgezogen. Bitte prüfen Sie die Adresse "
    "auf Tippfehler, falls Sie sie selbst eingegeben haben, oder beginnen Sie auf der Startseite, wo unsere neuesten "
    "Berichte stehen."]))


def _brief_page(language: str, marked: bool, headline: str, paragraphs: list[str]) -> bytes:
    body = f"<h1>{headline}</h1>" + "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    body = f"<article>{body}</article>" if marked else body
    return (f'<html lang="{language}"><head><meta charset="utf-8"><title>{headline}</title></head>'
            f"<body><nav><a href=\"/\">Start</a></nav>{body}</body></html>").encode()


class _TransliteratingSite(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        pages = {**TRANSLITERATED, GONE[0]: GONE[1]}
        if self.path == "/":
            body = "".join(f'<p><a href="{path}">{headline}</a></p>' for path, (_, _, headline, _) in pages.items()).encode()
        elif self.path in pages:
            body = _brief_page(*pages[self.path])
        else:
            body = b"User-agent: *\nAllow: /\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_a_short_article_at_an_address_that_transliterates_its_headline_is_written_to_the_corpus(tmp_path) -> None:
    """A brief under 150 words whose address spells its words as slug makers do ("Bürgermeister" buergermeister,
    "Łódzkie" lodzkie) names its address's words: it is an article, not a soft 404; a not-found page at such an
    address is still none."""
    with loopback_site(_TransliteratingSite) as base:
        config = tmp_path / "sources.toml"
        config.write_text(f'[archive]\ndir = "{tmp_path}"\n\n[crawl]\ndownload_delay = 0\nautothrottle = false\n\n'
                          f'[[sources]]\nname = "site"\nstart_urls = ["{base}/"]\n', encoding="utf-8")
        result = newsarchive("run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    rows = {row["url"]: row for row in map(json.loads, (tmp_path / "corpus.jsonl").read_text(encoding="utf-8").splitlines())}
    for path, (_, _, _, paragraphs) in TRANSLITERATED.items():
        assert base + path in rows, sorted(rows)
        assert paragraphs[0] in (tmp_path / rows[base + path]["text_path"]).read_text(encoding="utf-8")
    assert base + GONE[0] not in rows
