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
