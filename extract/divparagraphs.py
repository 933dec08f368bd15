"""Paragraphs written as ``<div>``: page builders, editors' exports and hand-written sites set each
paragraph of an article in a div of text. Every later step reads prose from ``<p>`` elements
(trafilatura's body choice and its paragraphs, the body's container, the article decision's prose
against teasers), so such a page has none: its article was cut to a few lines or judged a listing.
Here, where the page's prose is in divs and not in ``<p>``, those divs become the paragraphs they are.

Written here, not left to trafilatura (which reads divs when a body holds too little ``<p>`` text):
the article decision and our body's container need the paragraphs before trafilatura runs.
"""

from __future__ import annotations

import re
from collections import Counter

from lxml.etree import Comment, Entity, ProcessingInstruction
from lxml.html import HtmlElement

# what a paragraph holds (HTML's phrasing content, less its controls): text, links, emphasis, breaks
INLINE = frozenset({
    "a", "abbr", "b", "bdi", "bdo", "br", "cite", "code", "data", "del", "dfn", "em", "font", "i", "img",
    "ins", "kbd", "mark", "picture", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "svg",
    "time", "u", "var", "wbr",
})
PARAGRAPH_CHARS = 80  # a div of text this long is a paragraph; two in one block, a run of prose
_SENTENCE_END = re.compile(r"[.!?…:;。！？][\"'”’)\]]*$")  # a paragraph ends a sentence; a card's title or tags line does not
LINK_SHARE = 0.5  # a div of text with this share of it in links or more is a menu's or a card's


def _chars(element: HtmlElement) -> int:
    return len(element.text_content().strip())


_INLINE_OR_NOTES = INLINE | {Comment, ProcessingInstruction, Entity}


def holds_only_inline(element: HtmlElement) -> bool:
    """Whether an element's children are all inline (or comments): what a paragraph holds, no block."""
    for child in element:  # (a loop that stops at the first block: most divs open with one)
        if child.tag not in _INLINE_OR_NOTES:
            return False
    return True


def is_text_div(element: HtmlElement) -> bool:
    """A <div> of text with inline markup only."""
    return element.tag == "div" and holds_only_inline(element) and bool(element.text_content().strip())


def _few_links(div: HtmlElement, chars: int) -> bool:
    """Less than LINK_SHARE of a div's text in links: not a menu's row or a card's title."""
    return sum(map(_chars, div.iter("a"))) < LINK_SHARE * chars


def mark_div_paragraphs(tree: HtmlElement) -> int:
    """Make the page's divs of text ``<p>`` when they hold its prose: when a block holds a run of
    them (two of PARAGRAPH_CHARS or more that end a sentence) and more of their text than any
    block holds of ``<p>`` text. A div of text holds only inline content (text, links, emphasis,
    line breaks) and less than LINK_SHARE of its text in links. Returns how many divs became
    paragraphs.

    A page of ``<p>`` paragraphs keeps its divs as they are (a label, a byline, an author's bio, a
    product's blurb), and so does a listing whose cards each hold a blurb: one per block is no run.
    """
    texts = [(div, text) for div in tree.iter("div") if holds_only_inline(div) and (text := div.text_content().strip())]
    paragraphs = Counter(
        div.getparent() for div, text in texts
        if len(text) >= PARAGRAPH_CHARS and _SENTENCE_END.search(text) and _few_links(div, len(text))
    )
    if not any(count >= 2 for count in paragraphs.values()):
        return 0
    divs = [div for div, text in texts if _few_links(div, len(text))]
    runs: Counter[HtmlElement] = Counter()
    for div, text in texts:
        if paragraphs[div.getparent()] >= 2 and _few_links(div, len(text)):
            runs[div.getparent()] += len(text)
    held: Counter[HtmlElement] = Counter()
    for p in tree.iter("p"):
        held[p.getparent()] += _chars(p)
    if max(held.values(), default=0) >= max(runs.values()):
        return 0
    for div in divs:
        div.tag = "p"
    return len(divs)
