"""Custom elements (``<story-body>``, ``<share-bar>``): sites built of web components write their
wrappers, and sometimes their paragraphs' boxes, as elements they name themselves. A browser lays
them out as the site's style sheets say; every later step (ours and trafilatura's) knows only
HTML's own elements and reads an unknown one as neither a block nor a paragraph, so an article
inside them lost its paragraphs or was judged a listing. Here each becomes the ``div`` or ``span`` it
is displayed as, its name kept as a class word (a name such as ``share-bar`` says what a block is,
as a class does).
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from extract.unmarkedparagraphs import INLINE, holds_only_inline

# HTML's custom element names: a letter first, a hyphen within (lower-case, as libxml2 makes every
# tag). Found in the markup: a scan of its text takes a fourth of the time of a walk or an XPath over
# the tree's elements (0.1 against 0.38 ms a page on web-articles-dev), and most pages have none.
_CUSTOM_START_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*-[-.\w]*)")
_IN_TEXT = INLINE | {"p", "h1", "h2", "h3", "h4", "h5", "h6", "label", "button", "dt", "caption"}


def read_custom_elements(tree: HtmlElement, markup: str) -> None:
    """Rename each custom element (named by the start tags in ``markup``, the page's) to a ``div``
    where it holds a block or stands alone among blocks, else (among text, or inside a paragraph or a
    phrase) to a ``span``: CSS decides in a browser, and its default, inline, is what an element
    amid text displays as."""
    names = {name.lower() for name in _CUSTOM_START_TAG.findall(markup)}
    body = tree.find("body")
    if not names or body is None:
        return
    # innermost first: a custom element holding one that is a block is a block. (One walk: lxml's
    # iter(*names) matches each element against every name, 0.5 s for a page of 20,000 names.)
    for element in reversed([e for e in body.iter() if e.tag in names]):
        name = element.tag
        element.tag = "div" if _displays_as_block(element) else "span"
        # after the element's classes: trafilatura and our names read some by their first word
        element.set("class", f"{element.get('class') or ''} {name}".lstrip())


def _displays_as_block(element: HtmlElement) -> bool:
    """Whether a custom element holds a block, or stands alone among blocks (no text beside it)."""
    if not holds_only_inline(element):
        return True
    parent = element.getparent()
    if parent is None or parent.tag in _IN_TEXT:
        return False
    previous = element.getprevious()
    before = previous.tail if previous is not None else parent.text
    return not (
        (before and not before.isspace())
        or (element.tail and not element.tail.isspace())
    )
