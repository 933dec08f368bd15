"""Pages built of web components: their wrappers are custom elements (``<story-body>``), which no
extraction rule knows, so the extractor reads each as the div or span it displays as."""

from __future__ import annotations

import sys
from pathlib import Path

import lxml.html
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from bench.perturb import custom  # noqa: E402
from extract import extract_document  # noqa: E402
from extract.htmlinput import load_tree  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
PAGES = sorted(FIXTURES.rglob("*.html"))


def _named_divs(html: bytes) -> bytes:
    """The page with each div named as ``custom`` names the element it makes of it (its last class word)."""
    tree = lxml.html.document_fromstring(html)
    for div in tree.iter("div"):
        div.set("class", f"{div.get('class') or ''} x-node".lstrip())
    return lxml.html.tostring(tree, encoding="utf-8")


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(FIXTURES)) for p in PAGES])
def test_a_page_built_of_custom_elements_reads_as_the_same_page_built_of_divs(page: Path) -> None:
    """Every fixture page with each of its divs a custom element gives the document of the page
    with each div named so: read as unknown elements, a tag page and a soft 404 passed for articles,
    and paragraphs written as divs were read with their neighbours' text."""
    html = page.read_bytes()
    url = f"https://example.com/news/{page.stem}"
    as_divs, as_custom = extract_document(_named_divs(html), url), extract_document(custom(html), url)
    kind = lambda doc: (doc.error or "").split(",")[0]  # noqa: E731 - what the page was judged, not the counts
    assert (kind(as_custom), as_custom.title, as_custom.paragraphs) == (kind(as_divs), as_divs.title, as_divs.paragraphs)


def test_custom_elements_display_as_blocks_or_inline_as_they_sit() -> None:
    """A custom element holding blocks, or standing alone among blocks, is a div; one amid text or
    inside a paragraph is a span; each keeps its name as its last class word."""
    tree = load_tree((FIXTURES / "plain" / "article_in_custom_elements.html").read_bytes())
    [body] = tree.find_class("story-body")
    assert body.tag == "div" and {child.tag for child in body} == {"div"}  # its story-text wrappers
    assert [p.tag for p in body.iter("p")] == ["p"] * 5
    [term] = tree.find_class("glossary-term")
    assert term.tag == "span" and term.getparent().tag == "p"  # a word in a paragraph
    [date] = tree.find_class("story-date")
    assert date.tag == "span"  # after "on", in the byline
    [menu] = tree.find_class("site-menu")
    assert menu.tag == "div"  # its links alone in the header
    [caption] = tree.find_class("photo-caption")
    assert caption.tag == "div"  # its text alone, after the photo
    named = load_tree('<html><body><story-body class="main-col wide"><p>Text.</p></story-body></body></html>')
    assert named.find("body")[0].get("class") == "main-col wide story-body"


def test_an_article_in_custom_elements_keeps_a_word_marked_inside_a_paragraph() -> None:
    doc = extract_document((FIXTURES / "plain" / "article_in_custom_elements.html").read_bytes(), "https://estuary.example/news/tide-gauge")
    assert doc.error is None and len(doc.paragraphs) == 5
    assert doc.paragraphs[1].endswith("by the slipway for anyone launching a boat.")
    assert not any("Lock gates" in p or "About us" in p for p in doc.paragraphs)
