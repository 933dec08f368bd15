"""Flatten trafilatura's XML body (p, head, list/item, quote, table/row/cell, code) into plain paragraphs.

Our own walk instead of trafilatura's text output, which marks lists with "- ", tables with "|"
and headings with "#": markers the seed format must not contain.
"""

from __future__ import annotations

import re

from lxml.etree import XPath, _Element, iterwalk, tostring

# Chinese and Japanese write no spaces between words: each ideograph or kana counts as a word of
# its own (a reader's count, as word processors count them), so a thousand-character story is not
# the "thirty words" of its sentences. Other scripts' words are runs of word characters.
_IDEOGRAPHIC = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORDS = re.compile(r"\w+")
_ASCII_WORDS = re.compile(r"\w+", re.ASCII)  # the same words in an ASCII text, a quarter faster to find
_WORDS_AND_IDEOGRAPHS = re.compile(rf"[{_IDEOGRAPHIC}]|[^\W{_IDEOGRAPHIC}]+")
_IDEOGRAPHIC_RUNS = re.compile(rf"[{_IDEOGRAPHIC}]{{2,}}")
IDEOGRAPH = re.compile(rf"[{_IDEOGRAPHIC}]")
# what shows nothing: white space and the format characters that have no glyph (zero-width space,
# joiners, direction marks, word joiner, byte order mark); a page builder's "empty" paragraph holds one
_INVISIBLE = re.compile(r"[\s\u200b-\u200f\u2060-\u2064\ufeff]*")
# A block's text length, its spaces normalized (XPath's: runs of space, tab and line ends one space,
# none at the ends): measured by libxml2 rather than by a walk in Python, as every page measures
# hundreds of blocks.
TEXT_LENGTH = XPath("string-length(normalize-space(.))")


def text_of(element: _Element) -> str:
    """An element's text, its descendants' included: lxml's text_content(), the same content of the
    node read by libxml2, without the XPath evaluation that text_content() sets up at every call
    (which cost a paragraph's or a link's text three times as much; pages read hundreds)."""
    return tostring(element, method="text", encoding="unicode", with_tail=False)


_BLOCKS = {"p", "head", "quote", "list", "item", "table", "row", "code", "div", "figure", "section"}


def _inline_text(element: _Element) -> list[str]:
    """Text of an element with no block children, split into lines at <lb/>."""
    lines, current = [], []
    for event, node in iterwalk(element, events=("start", "end")):
        if event == "start":
            if node.tag == "lb":
                lines.append("".join(current))
                current = []
            elif node.text:
                current.append(node.text)
        elif node is not element and node.tail:
            current.append(node.tail)
    lines.append("".join(current))
    return lines


def _normalise(text: str) -> str:
    """Runs of white space, line ends too, made one space, soft hyphens dropped, the ends stripped:
    a line end in a paragraph's source (markup written one tag a line) is a space as a browser
    shows it, not a break (a break is <lb/>: _inline_text makes each line a paragraph)."""
    return " ".join(text.replace("\u00ad", "").split())


def _listing(text: str) -> str:
    """A listing's lines as written, its blank lines left out: a blank line ends a paragraph in
    the text files (extract.document), and a listing is one."""
    return "\n".join(line.rstrip() for line in text.split("\n") if line.strip())


def shows_text(text: str) -> bool:
    """Whether a paragraph shows a reader anything: a line of invisible characters is an empty line."""
    return not _INVISIBLE.fullmatch(text)


def _inline_code(element: _Element) -> bool:
    """A <code> of one line inside a paragraph, a list item or a heading is a word of its text
    ("the <code>Content-Length</code> header"), not a listing of its own: the line goes on."""
    return element.tag == "code" and "\n" not in "".join(element.itertext()).strip("\n")


def _collect(element: _Element, out: list[str]) -> None:
    if element.tag == "row":
        cells = [_normalise(" ".join(cell.itertext())) for cell in element]
        out.append(" ".join(cell for cell in cells if cell))
        return
    if element.tag == "code":
        out.append(_listing("".join(element.itertext())))
        return
    if element.tag == "graphic":
        return
    if any(child.tag in _BLOCKS and not _inline_code(child) for child in element):
        if element.text:
            out.append(_normalise(element.text))
        for child in element:
            _collect(child, out)
            if child.tail:
                out.append(_normalise(child.tail))
        return
    out.extend(map(_normalise, _inline_text(element)))


def body_paragraphs(body: _Element) -> list[str]:
    """Plain-text paragraphs of a trafilatura body: list items, quotes and table rows each a paragraph."""
    raw: list[str] = []
    for child in body:
        _collect(child, raw)
    return [text for text in raw if shows_text(text)]


def words(text: str) -> list[str]:
    """A text's words: runs of word characters, each ideograph or kana one. (Most texts hold none,
    and the plain expression, a third faster, then gives the same words.) A soft hyphen is part of
    its word: it marks where the word may break (the page's text holds it, our paragraphs do not)."""
    if text.isascii():
        return _ASCII_WORDS.findall(text)
    if "\u00ad" in text:
        text = text.replace("\u00ad", "")
    if not IDEOGRAPH.search(text):
        return _WORDS.findall(text)
    return _WORDS_AND_IDEOGRAPHS.findall(text)


def word_key(text: str) -> str:
    """Lower-case words only (``words``): paragraphs that differ in case, spacing or punctuation compare equal."""
    return " ".join(words(text.lower()))


def text_width(text: str) -> int:
    """A text's length with each ideograph or kana two characters wide, as it is set (and holds a
    word's worth of meaning where a letter holds a fifth)."""
    return len(text) + len(IDEOGRAPH.findall(text))


def word_count(text: str) -> int:
    """A text's words as a reader counts them: its runs between spaces, each ideograph or kana one."""
    count = len(text.split())
    return count if text.isascii() else count + sum(len(run) - 1 for run in _IDEOGRAPHIC_RUNS.findall(text))
