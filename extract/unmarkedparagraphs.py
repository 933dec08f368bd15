"""Paragraphs not marked as ``<p>``: page builders, editors' exports and hand-written sites set each
paragraph of an article in a div of text, and blogs and older sites separate them by two line
breaks. Every later step reads prose from ``<p>`` elements (trafilatura's body choice and its
paragraphs, the body's container, the article decision's prose against teasers and a teaser's
excerpt against an article's section), so such a page has none: its article was cut to a few lines
or judged a listing. Here, where the page's prose is in such paragraphs and not in ``<p>``, they
become the paragraphs they are.

Written here, not left to trafilatura (which reads divs when a body holds too little ``<p>`` text):
the article decision and our body's container need the paragraphs before trafilatura runs.
"""

from __future__ import annotations

import re
from collections import Counter

from lxml.etree import Comment, Entity, ProcessingInstruction
from lxml.html import HtmlElement

from extract.paragraphs import text_of

# what a paragraph holds (HTML's phrasing content, less its controls): text, links, emphasis, breaks
INLINE = frozenset({
    "a", "abbr", "b", "bdi", "bdo", "br", "cite", "code", "data", "del", "dfn", "em", "font", "i", "img",
    "ins", "kbd", "mark", "picture", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "svg",
    "time", "u", "var", "wbr",
})
PARAGRAPH_CHARS = 80  # a paragraph of prose holds this much text; two in one block are a run of prose
_SENTENCE_END = re.compile(r"[.!?…:;。！？][\"'”’)\]]*$")  # a paragraph ends a sentence; a card's title or tags line does not
LINK_SHARE = 0.5  # a paragraph with this share of its text in links or more is a menu's row or a card's


def _is_paragraph(text: str, linked: int) -> bool:
    """Prose: PARAGRAPH_CHARS or more, ending a sentence, less than LINK_SHARE in links."""
    return len(text) >= PARAGRAPH_CHARS and bool(_SENTENCE_END.search(text)) and linked < LINK_SHARE * len(text)


def _most_held_in_p(tree: HtmlElement) -> int:
    """The most ``<p>`` text one block holds."""
    held: Counter[HtmlElement] = Counter()
    body = tree.find("body")
    for p in tree.iter("p"):
        held[alone_in(p, body).getparent() if body is not None else p.getparent()] += _chars(p)
    return max(held.values(), default=0)


def _chars(element: HtmlElement) -> int:
    return len(text_of(element).strip())


_INLINE_OR_NOTES = INLINE | {Comment, ProcessingInstruction, Entity}


def holds_only_inline(element: HtmlElement) -> bool:
    """Whether an element's children are all inline (or comments): what a paragraph holds, no block."""
    for child in element:  # (a loop that stops at the first block: most divs open with one)
        if child.tag not in _INLINE_OR_NOTES:
            return False
    return True


def is_text_div(element: HtmlElement) -> bool:
    """A <div> of text with inline markup only."""
    return element.tag == "div" and holds_only_inline(element) and bool(text_of(element).strip())


def _linked(element: HtmlElement) -> int:
    return sum(map(_chars, element.iter("a")))


def alone_in(element: HtmlElement, body: HtmlElement) -> HtmlElement:
    """The outermost of the blocks below ``body`` holding ``element`` alone (no other child, no text
    of their own), or ``element`` when its parent holds more."""
    node = element
    while (
        (parent := node.getparent()) is not None
        and parent is not body
        and node.getprevious() is None
        and node.getnext() is None
        and not (parent.text and not parent.text.isspace())
        and not (node.tail and not node.tail.isspace())
    ):
        node = parent
    return node


def _holder(div: HtmlElement, body: HtmlElement | None) -> HtmlElement | None:
    """The block a div of text is counted in (``alone_in``'s parent); None on a page without a body."""
    return alone_in(div, body).getparent() if body is not None else None


def mark_div_paragraphs(tree: HtmlElement) -> int:
    """Make the page's divs (and sections, as builders that set every block in one write them) of
    text ``<p>`` when they hold its prose: when a block holds a run of them (two of PARAGRAPH_CHARS
    or more that end a sentence; a div alone in wrappers of its own counts for the block holding
    the wrappers) and more of their text than any block holds of ``<p>`` text (counted alike). A
    div of text holds only inline content (text, links, emphasis, line breaks) and less than
    LINK_SHARE of its text in links. Returns how many divs became paragraphs.

    A page of ``<p>`` paragraphs keeps its divs as they are (a label, a byline, an author's bio, a
    product's blurb), and so does a listing whose cards each hold a blurb: one per block is no run.
    """
    body = tree.find("body")
    texts = [(div, text) for div in tree.iter("div", "section") if holds_only_inline(div) and (text := text_of(div).strip())]
    # a div set alone in a wrapper of its own (an exporter's <div class="paragraph"><div>) is its
    # wrapper's, in the block holding the wrappers (the other divs' blocks are found only on a page
    # with a run of paragraphs)
    paragraphs = Counter(  # (the length first: most divs are short, and their links need no count)
        _holder(div, body) for div, text in texts if len(text) >= PARAGRAPH_CHARS and _is_paragraph(text, _linked(div))
    )
    if not any(count >= 2 for block, count in paragraphs.items() if block is not None):
        return 0
    holder = {div: _holder(div, body) for div, _ in texts}
    divs = [(div, len(text)) for div, text in texts if _linked(div) < LINK_SHARE * len(text)]
    runs: Counter[HtmlElement] = Counter()
    for div, chars in divs:
        if paragraphs[holder.get(div)] >= 2:
            runs[holder[div]] += chars
    if _most_held_in_p(tree) >= max(runs.values()):
        return 0
    for div, _ in divs:
        div.tag = "p"
    return len(divs)


def _is_break(children: list, i: int) -> bool:
    """Whether children[i] is a <br> followed, past white space only, by another: a paragraph's end."""
    child = children[i]
    return child.tag == "br" and not (child.tail or "").strip() and i + 1 < len(children) and children[i + 1].tag == "br"


def _break_runs(block: HtmlElement) -> list[tuple[str, list[HtmlElement]] | HtmlElement]:
    """A block's content cut at its paragraph breaks (two <br> or more) and at its block children:
    runs of (leading text, inline children, each with its tail), and the block children."""
    parts: list[tuple[str, list[HtmlElement]] | HtmlElement] = []
    text, inline = block.text or "", []
    children = list(block)
    i = 0
    while i < len(children):
        child = children[i]
        if _is_break(children, i) or (isinstance(child.tag, str) and child.tag not in INLINE):
            parts.append((text, inline))
            if child.tag == "br":
                while _is_break(children, i):
                    i += 1  # to the last <br> of the break, whose tail opens the next run
            else:
                parts.append(child)
            text, inline = children[i].tail or "", []
        else:
            inline.append(child)
        i += 1
    parts.append((text, inline))
    return parts


def _run_text(run: tuple[str, list[HtmlElement]]) -> str:
    text, inline = run
    return (text + "".join(text_of(child) + (child.tail or "") for child in inline)).strip()


def mark_break_paragraphs(tree: HtmlElement) -> int:
    """Wrap in ``<p>`` the paragraphs that blocks separate by two line breaks, when a block holds
    two such paragraphs of prose or more (as ``mark_div_paragraphs`` judges a div) and more of
    their text than any block holds of ``<p>`` text: then in every block that so separates them
    (a teaser's single paragraph too). Returns how many paragraphs were made.

    A page of ``<p>`` paragraphs keeps its breaks (an address, a poem's stanzas in a quotation)."""
    blocks = {
        br.getparent() for br in tree.iter("br")
        if not (br.tail or "").strip() and (after := br.getnext()) is not None and after.tag == "br"
    }
    blocks = {block for block in blocks if block.tag not in INLINE and block.tag != "p"}  # (no paragraph in one)
    cut = {block: _break_runs(block) for block in blocks}
    prose = 0  # the most text a block holds in paragraphs of prose, two of them or more
    for parts in cut.values():
        runs = [(_run_text(part), sum(map(_linked, part[1]))) for part in parts if isinstance(part, tuple)]
        if sum(_is_paragraph(text, linked) for text, linked in runs) >= 2:
            prose = max(prose, sum(len(text) for text, linked in runs if linked < LINK_SHARE * len(text)))
    if not prose or _most_held_in_p(tree) >= prose:
        return 0
    made = 0
    for block, parts in cut.items():  # every block the page cuts so, as a page writes its paragraphs one way
        rebuilt = []
        for part in parts:
            if not isinstance(part, tuple):
                part.tail = None
                rebuilt.append(part)
            elif _run_text(part) or part[1]:
                paragraph = block.makeelement("p", {})
                paragraph.text = part[0]
                paragraph.extend(part[1])
                rebuilt.append(paragraph)
                made += 1
        block.text = None
        block[:] = rebuilt
    return made


def mark_preformatted_code(tree: HtmlElement) -> int:
    """Wrap in ``<code>`` the content of each ``<pre>`` that holds none: its line ends are its
    text's (a listing, a mail's header, a config file). trafilatura reads such a ``<pre>`` as a
    quotation, whose line ends are the markup's spacing and become spaces in the paragraphs
    (extract.paragraphs); a ``<code>`` keeps its lines. Returns how many were wrapped."""
    made = 0
    for pre in tree.iter("pre"):
        if next(pre.iter("code"), None) is None and "\n" in text_of(pre).strip():
            code = pre.makeelement("code", {})
            code.text, pre.text = pre.text, None
            code.extend(list(pre))
            pre.append(code)
            made += 1
    return made
