"""What a body must not hold beside the article: copies of the headline, the template's blocks
after the article's end. Pages written for these tests."""

from __future__ import annotations

from extract import extract_document

URL = "https://metro.example.net/city/2024/05/tram-line-opens"
PROSE = [
    "The new tram line between the station and the university opens on Saturday morning, after four "
    "years of building work that closed two of the city's busiest streets to cars and buses.",
    "Trams will run every six minutes during the day and every fifteen minutes after nine in the "
    "evening, the transport authority said, with a single fare valid on buses for an hour.",
    "Shopkeepers along the route, who had complained about lost trade during the works, said they "
    "hoped the line would bring customers back to the old town within the first months.",
    "The authority expects forty thousand riders a day by the end of the year and plans a second "
    "line towards the hospital once the first has run for a full winter without trouble.",
]


def _page(head: str, article: str, after: str = "") -> bytes:
    return (
        f"<html><head>{head}</head><body><header><a href='/'>Metro Daily</a></header><main><article>"
        f"{article}</article>{after}</main><footer>Metro Daily, 1 Main Street</footer></body></html>"
    ).encode()


def test_headline_copy_with_the_site_name_after_a_label_is_dropped() -> None:
    head = '<title>Tram line opens on Saturday | Metro Daily</title><meta property="og:site_name" content="Metro Daily">'
    article = "<p>Analysis</p><p>Tram line opens on Saturday | Metro Daily</p>" + "".join(f"<p>{p}</p>" for p in PROSE)
    doc = extract_document(_page(head, article), URL)
    assert doc.title == "Tram line opens on Saturday"
    assert list(doc.paragraphs) == PROSE


def test_a_paragraph_repeating_the_headline_further_down_is_kept() -> None:
    head = "<title>Tram line opens on Saturday</title>"
    article = "".join(f"<p>{p}</p>" for p in PROSE[:3]) + "<p>Tram line opens on Saturday</p>" + f"<p>{PROSE[3]}</p>"
    doc = extract_document(_page(head, article), URL)
    assert "Tram line opens on Saturday" in doc.paragraphs


NOTES = [
    "Transport authority, annual ridership forecast for the new lines, published in March.",
    "City council, minutes of the planning committee meeting on the tram works, page four.",
    "Chamber of commerce, survey of the shopkeepers along the route, conducted in the autumn.",
]


MORE = [
    "Engineers tested the trams at night for three months, running empty cars along the whole route to "
    "check the signals, the overhead wires and the timing of the traffic lights at every crossing.",
    "The old town's narrow streets needed the most work: the rails there are laid in a bed of rubber "
    "that keeps the vibration from the houses, some of which are more than three hundred years old.",
    "Drivers were trained on a simulator first and then on the line itself, and the authority says "
    "that sixty of them are ready, enough for the timetable of the first year with some to spare.",
    "Cyclists' groups have asked for safer crossings where the rails cut across the cycle lanes, "
    "and the city has promised to paint the dangerous places and to watch the accidents closely.",
]
BODY = PROSE + MORE


def _with_notes(list_class: str, marker_class: str) -> bytes:
    article = (
        f"<p>{BODY[0]}<sup class='{marker_class}'><a href='#n1'>1</a></sup></p>"
        + "".join(f"<p>{p}</p>" for p in BODY[1:])
        + f"<section class='{list_class}'><ol>"
        + "".join(f"<li id='n{i}'>{n}</li>" for i, n in enumerate(NOTES, 1))
        + "</ol></section>"
    )
    return _page("<title>Tram line opens on Saturday</title>", article)


def test_the_list_of_footnotes_a_template_names_leaves_the_body() -> None:
    for name in ("entry-footnotes", "article_citations"):
        doc = extract_document(_with_notes(name, "footnote-ref"), URL)
        assert not any(note.split(",")[0] in p for p in doc.paragraphs for note in NOTES), name
        assert len(doc.paragraphs) == len(BODY)


def test_a_note_marker_named_footnote_takes_no_paragraph_with_it() -> None:
    doc = extract_document(_with_notes("notes-list", "footnote"), URL)
    assert doc.paragraphs[0].startswith(BODY[0][:40])
    assert len(doc.paragraphs) == len(BODY) + len(NOTES)


def _signed(last: str) -> bytes:
    head = '<title>Tram line opens on Saturday</title><meta name="author" content="Dana Whitfield">'
    return _page(head, "".join(f"<p>{p}</p>" for p in [*BODY, last]))


def test_a_bio_of_the_author_closing_the_body_is_dropped() -> None:
    bio = "Dana Whitfield is the paper's transport correspondent and has covered the city's trams since 2015."
    doc = extract_document(_signed(bio), URL)
    assert doc.author == "Dana Whitfield"
    assert list(doc.paragraphs) == BODY


def test_a_closing_paragraph_that_names_the_author_further_on_is_kept() -> None:
    last = "Asked about the delays, the mayor told Dana Whitfield that the city had learnt its lesson."
    assert extract_document(_signed(last), URL).paragraphs[-1] == last


STANDFIRST = "Four years of works end as the first trams carry passengers between the station and the university"


def test_the_standfirst_in_the_headline_header_leaves_the_body() -> None:
    header = f"<header><h1>Tram line opens on Saturday</h1><h2>{STANDFIRST}</h2><p>By Ann Writer</p></header>"
    doc = extract_document(_page("<title>Tram line opens on Saturday</title>", header + "".join(f"<p>{p}</p>" for p in BODY)), URL)
    assert not any(STANDFIRST in p for p in doc.paragraphs)
    assert list(doc.paragraphs) == BODY


def test_a_header_that_wraps_the_story_keeps_it() -> None:
    header = f"<header><h1>Tram line opens on Saturday</h1>{''.join(f'<p>{p}</p>' for p in BODY)}</header>"
    doc = extract_document(_page("<title>Tram line opens on Saturday</title>", header), URL)
    assert list(doc.paragraphs) == BODY


TAGS = ["tram line", "city transport", "old town shops", "university district", "public works of the city",
        "transport authority", "cycle lanes and crossings", "night trams"]


def test_the_tag_list_of_the_page_leaves_the_body() -> None:
    tags = ", ".join(f"<a href='/tag/{t.replace(' ', '-')}/' rel='tag'>{t}</a>" for t in TAGS)
    article = "".join(f"<p>{p}</p>" for p in BODY) + f"<strong>Tags<br>{tags}</strong>"
    doc = extract_document(_page("<title>Tram line opens on Saturday</title>", article), URL)
    assert list(doc.paragraphs) == BODY


def test_a_tooltip_note_inside_a_paragraph_leaves_its_text() -> None:
    note = "The authority counts riders at the ticket machines, not at the doors of the trams"
    first = BODY[0].replace("university opens", f"university<span class='fn'><sup>1</sup><span role='tooltip'>{note}</span></span> opens")
    article = f"<p>{first}</p>" + "".join(f"<p>{p}</p>" for p in BODY[1:])
    doc = extract_document(_page("<title>Tram line opens on Saturday</title>", article), URL)
    assert not any("ticket machines" in p for p in doc.paragraphs)
    assert doc.paragraphs[0].replace("university1 opens", "university opens") == BODY[0]



CARDS = ["Bus lanes on the ring road to be painted red", "Council votes on the price of night parking",
         "Station square reopens after the summer works"]


def test_card_titles_that_are_each_a_link_to_another_story_leave_the_body() -> None:
    # a heading that is the whole text of a link to another of the site's pages: a teaser card's title
    cards = "".join(
        f"<div class='card'><a href='/city/2024/05/story-{i}'><h3>{title}</h3></a>"
        f"<p>What the change means for the people who live and work along route {i + 4}.</p></div>"
        for i, title in enumerate(CARDS)
    )
    article = "".join(f"<p>{p}</p>" for p in BODY) + f"<div class='grid'>{cards}</div>"
    doc = extract_document(_page("<title>Tram line opens on Saturday</title>", article), URL)
    assert list(doc.paragraphs[: len(BODY)]) == BODY
    assert not any(p in CARDS for p in doc.paragraphs)


TITLES = ["The works", "The old town", "The drivers", "The cyclists"]


def test_subheadings_that_are_links_to_their_place_on_the_page_are_kept() -> None:
    # the page's own address with a fragment is a place on the page, whatever the link spells
    sections = "".join(
        f"<a href='/city/2024/05/tram-line-opens#part-{i}'><h3>{title}</h3></a><p>{text}</p>"
        for i, (title, text) in enumerate(zip(TITLES, MORE))
    )
    doc = extract_document(_page("<title>Tram line opens on Saturday</title>", "".join(f"<p>{p}</p>" for p in PROSE) + sections), URL)
    assert all(title in doc.paragraphs for title in TITLES[:3])


PROMO_TEXT = "The city wants buses to beat the traffic on the ring road by spring and has asked the police to keep the lanes clear."


def test_a_block_named_as_furniture_in_camel_case_leaves_the_body() -> None:
    # "PromoSmall" names a promotion as "promo-small" does; "Shareholders" names no share bar
    promo = (
        f"<div class='PromoSmall'><div class='PromoSmall-title'><a href='/city/2024/05/story-1'>{CARDS[0]}</a></div>"
        f"<p class='PromoSmall-description'>{PROMO_TEXT}</p></div>"
    )
    article = "".join(f"<p>{p}</p>" for p in BODY[:4]) + promo + "".join(f"<p>{p}</p>" for p in BODY[4:])
    doc = extract_document(_page("<title>Tram line opens on Saturday</title>", article), URL)
    assert list(doc.paragraphs) == BODY
    kept = article.replace("PromoSmall", "Shareholders")
    assert PROMO_TEXT in extract_document(_page("<title>Tram line opens on Saturday</title>", kept), URL).paragraphs


RELATED = ["Bus lanes on the ring road to be painted red before the winter, the council confirms",
           "Council votes on the price of night parking in the old town after a year of complaints",
           "Station square reopens after the summer works with new benches, trees and a fountain"]


def test_a_paragraph_of_links_to_other_stories_leaves_the_body_however_many_their_words() -> None:
    # three related stories' headlines in one paragraph, each with its kind after it: a teaser
    # pointer of forty words, mostly link text, however long its headlines run
    links = " | ".join(f"<a href='/city/2024/05/related-{i}'>{title}</a> [<b>{kind}</b>]"
                       for i, (title, kind) in enumerate(zip(RELATED, ("ANALYSIS", "VIDEO", "PICTURES"))))
    article = "".join(f"<p>{p}</p>" for p in PROSE[:2]) + "<p><strong>READ MORE</strong></p>" + f"<p>{links}</p>" + "".join(f"<p>{p}</p>" for p in PROSE[2:])
    doc = extract_document(_page("<title>Tram line opens on Saturday</title>", article), URL)
    assert list(doc.paragraphs) == PROSE
