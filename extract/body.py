"""Choose the article body of a page and return it as paragraphs.

trafilatura does the choosing, on a tree our DOM fixes have repaired first (extract.domfixes) and
rid of share and follow widgets, sign-up boxes, author boxes and readers' comments (extract.pagecues), in
its fast mode; candidates are compared where that mode is known to fail: its full mode (which
weighs readability's and justext's bodies) when the fast body is a fragment of the page's prose,
readability-lxml when trafilatura finds nothing, the page's JSON-LD articleBody when it is much
longer and agrees, and trafilatura's full mode on the page as served, without our repairs, when
the body reads as no article (unrepaired_paragraphs, weighed by extract.pagekind.reconsider). Then
the edges of the body lose the headline, bylines, datelines and labels that templates put inside
the article container, and its end the short notes set apart from its paragraphs
(extract.pagecues).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

import lxml.html
from lxml.etree import Element, ParserError, XPath
from lxml.html import HtmlElement
from readability import Document as ReadabilityDocument
from trafilatura.core import trafilatura_sequence
from trafilatura.settings import Extractor

from extract.domfixes import (
    OWN_ARTICLE_CHARS,
    drop_headline_header,
    drop_link_paragraphs,
    drop_non_content,
    drop_repeated_copies,
    join_leading_prose,
    large_blocks,
    mark_main_container,
    merge_split_bodies,
    open_collapsed_panels,
    place_streamed_segments,
    prune_furniture,
    unname_comment_wrappers,
    unname_content_blocks,
    unname_fragment_containers,
    unname_headline_scrollers,
    unwrap_layout_tables,
    unwrap_quote_figures,
    wrap_bare_text,
    wrap_text_grids,
)
from extract import linearjustext, linkdensity  # noqa: F401 - stand-ins for library walks quadratic in a page's blocks
from extract.fewercopies import fewer_copies, forget_extraction
from extract.linearjustext import faster_justext
from extract.linkdensity import faster_link_tests
from extract.namematch import emulated_name_matches
from extract.pagecues import drop_author_boxes, drop_link_widgets, drop_reader_comments, drop_set_apart_tail, drop_signup_boxes
from extract.paragraphs import body_paragraphs, shows_text, text_of, word_count, word_key, words
from extract.textreads import linear_text_reads
from extract.unmarkedparagraphs import INLINE

_READABILITY_BLOCKS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "dd", "dt", "td")
MIN_BODY_CHARS = 200  # below this trafilatura found no article: readability-lxml gets a chance
# A fast-mode body under this share of the text in the page's <p> elements is suspect (issue 17:
# 0-94 words where the full mode finds 2,000-4,750); on 3 % of the tuning pages it is.
FRAGMENT_SHARE = 0.3
OWN_SHARE = 0.5  # of the text of the headline's own block that trafilatura took: the body is no fragment
# a declared articleBody (or a second opinion) this much longer than the extracted body replaces it ...
DECLARED_GAIN = 1.5
DECLARED_AGREEMENT = 0.7  # ... if it holds this share of the extracted body's words
MIN_DECLARED_WORDS = 50
_MARKUP = re.compile(r"<[a-z/!]", re.I)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = re.compile(
    rf"\b\d{{1,4}}[./-]\d{{1,2}}[./-]\d{{1,4}}\b|\b{_MONTH}\s+\d{{1,2}}\b|\b\d{{1,2}}\.?\s+{_MONTH}|\b\d{{1,2}}:\d{{2}}\b",
    re.I,
)
HEADLINE_SPAN = 3
AUTHOR_NOTE_WORDS = 80  # an author's bio is a few sentences
EDGE = 2  # bylines and datelines sit among the first or last paragraphs of a body
SHORT = 12  # words: a byline is a label, not a sentence
TAG_WORDS = 4  # a fragment this short without a sentence end, at the body's edge, is a label
TAG_CHARS = 32  # ... and this short in characters too: a CJK sentence is one "word" for split()
DATELINE = 20  # words: datelines run longer ("05/10/2018 - Posted by ... - Category ... - Tags ...")
_SENTENCE_END = re.compile(r"[.!?…\"”»。！？]\s*$")


# trafilatura's options, made once: fast=True skips its readability/justext comparison, which
# swaps a good text for a larger, worse one (notes, failure 3) and costs a third of the time.
_TRAFILATURA = {fast: Extractor(output_format="python", fast=fast, comments=False) for fast in (True, False)}


def trafilatura_paragraphs(tree: HtmlElement, url: str | None, fast: bool = True, again: bool = False) -> list[str]:
    """trafilatura's body without comments. Its extraction sequence is called directly rather than
    through bare_extraction, which copies the whole tree and renders a text we do not use (a tenth
    of a page's time); the sequence only deletes comment sections and infinite-scroll appendages
    from the tree, which no later step wants either. ``again``: the full mode on the tree that the
    fast mode has just read, unchanged since (its main extraction is the fast mode's: fewer_copies)."""
    options = _TRAFILATURA[fast]
    with emulated_name_matches(), fewer_copies(again), faster_link_tests(), faster_justext(), linear_text_reads():
        body, text, _, _ = trafilatura_sequence(tree, options, url)
    return body_paragraphs(body) if len(text) >= options.min_output_size else []


def _chars(paragraphs: list[str]) -> int:
    return sum(map(len, paragraphs))


def _paragraph_chars(tree: HtmlElement) -> int:
    return sum(len(text_of(p)) for p in tree.iter("p"))  # one string per paragraph, made by libxml2


def readability_paragraphs(tree: HtmlElement) -> list[str]:
    """readability-lxml's article candidate as paragraphs (innermost text blocks, in order)."""
    summary = ReadabilityDocument(tree).summary(html_partial=True)
    try:
        root = lxml.html.fragment_fromstring(summary, create_parent="div")
    except (AssertionError, ParserError):  # a page without a body gives back a whole document, or nothing
        return []
    blocks = [b for b in root.iter(*_READABILITY_BLOCKS) if next(b.iterdescendants(*_READABILITY_BLOCKS), None) is None]
    return [text for text in (" ".join(text_of(b).split()) for b in blocks) if shows_text(text)]


def longer_and_agreeing(candidate: str, extracted: list[str]) -> bool:
    """Whether another body is much longer than the extracted one and holds most of its words."""
    other = Counter(words(candidate.lower()))
    ours = Counter(words(" ".join(extracted).lower()))
    if other.total() < max(DECLARED_GAIN * ours.total(), MIN_DECLARED_WORDS):
        return False
    return (ours & other).total() >= DECLARED_AGREEMENT * ours.total()


def declared_or_extracted(paragraphs: list[str], declared: str | None) -> list[str]:
    """The page's JSON-LD articleBody when it is much longer than the extracted body and holds most
    of its words: the visible page then shows a part only (slides, a script-rendered body)."""
    if not declared or _MARKUP.search(declared) or not longer_and_agreeing(declared, paragraphs):
        return paragraphs
    return [text for text in (" ".join(line.split()) for line in declared.splitlines()) if shows_text(text)]


# where a block showing the title is a link's, a list's or a menu's item, not the headline
_NOT_HEADLINE_PLACES = ("a", "li", "nav", "option", "button", "label")
# The headline's other forms: the page's <title> and the titles it declares for sharing (with the
# site name the metadata's headline goes without), and its visible <h1> headings
_HEADLINE_FORMS = XPath(
    "/html/head/title|//meta[@property='og:title' or @name='og:title' or @name='twitter:title']/@content|//h1"
)


def headline_forms(tree: HtmlElement, title: str | None, headings: list[HtmlElement] | None = None) -> set[str]:
    """The word keys of the page's headline as it gives it: the extracted title, the <title>, the
    sharing titles and the <h1> headings (added to ``headings`` when given; on a page without an
    <h1>, the block that shows the title, ``shown_headline``). Read before the body is extracted,
    which changes the tree."""
    forms = {word_key(title or "")}
    for found in _HEADLINE_FORMS(tree):
        if isinstance(found, str):
            forms.add(word_key(found))
            continue
        forms.add(word_key(text_of(found)))
        if headings is not None and found.tag == "h1":
            headings.append(found)
    if headings is not None and not headings and (shown := shown_headline(tree, title)) is not None:
        headings.append(shown)
    forms.discard("")
    return forms


def shown_headline(tree: HtmlElement, title: str | None) -> HtmlElement | None:
    """The first block of the body that shows the title and nothing else, outside links, lists and
    menus (a breadcrumb's last step, a link to the page): a headline set as a styled div or as an
    <h2> on a page without an <h1>, whose header and block the body's repairs read as they read an
    <h1>'s: the block around the inline element showing it ("<div><span>Headline</span></div>")."""
    key = word_key(title or "")
    body = tree.find("body")
    if not key or body is None:
        return None
    most = 2 * len(title or "") + 200  # (a block's text is read only up to this: a page's wrapper is no headline)
    for element in body.iter(Element):
        own = word_key(element.text or "")
        if not own or not key.startswith(own) or word_key("".join(_text_up_to(element, most))) != key:
            continue
        block = element
        while block.tag in INLINE and (outer := block.getparent()) is not body and outer is not None:
            block = outer
        if not any(a.tag in _NOT_HEADLINE_PLACES for a in (block, *block.iterancestors())):
            return block
    return None


def _text_up_to(element: HtmlElement, most: int) -> Iterator[str]:
    """An element's text, its pieces until ``most`` characters have been read."""
    read = 0
    for piece in element.itertext():
        yield piece
        read += len(piece)
        if read > most:
            return


def drop_headline(paragraphs: list[str], headlines: set[str]) -> list[str]:
    """The headline is the first line of the text: drop its copies at the top of the body (among its
    first HEADLINE_SPAN paragraphs: a label may stand before the copy), in any of
    the forms the page gives it (headline_forms: a template sets the <title> or the site-named
    sharing title as the article's first line as often as the headline itself)."""
    if not headlines:
        return paragraphs
    return [p for i, p in enumerate(paragraphs) if i >= HEADLINE_SPAN or word_key(p) not in headlines]


def is_label(paragraph: str, author: str | None, heading: bool = False) -> bool:
    """A dateline ("Published: 3 February 2021"), a byline ("By A. Writer, Staff reporter") or a
    tag-like fragment ("Breaking News", "Press Release", a size switcher's "XS SM MD LG"), unless
    it is a ``heading`` over the text that follows it ("Key takeaways", "Conclusion")."""
    tokens = paragraph.split()
    if len(tokens) <= DATELINE and _DATE.search(paragraph) and not _SENTENCE_END.search(paragraph):
        return True
    if len(tokens) > SHORT:
        return False
    if _DATE.search(paragraph) and word_count(_DATE.sub("", paragraph)) <= SHORT // 2:
        return True
    if paragraph[:3].lower() == "by " and paragraph[3:4].isupper():
        return True
    if not heading and len(tokens) <= TAG_WORDS and len(paragraph) <= TAG_CHARS and not _SENTENCE_END.search(paragraph):
        return True
    return bool(author) and word_key(paragraph).startswith(word_key(f"by {author}"))


def _subheadings(tree: HtmlElement) -> frozenset[str]:
    """The texts of the page's subheadings (``<h2>`` to ``<h6>``), spaces normalised."""
    return frozenset(" ".join(text_of(h).split()) for h in tree.iter("h2", "h3", "h4", "h5", "h6"))


def drop_labels(paragraphs: list[str], author: str | None, tree: HtmlElement | None = None) -> list[str]:
    """Bylines, datelines and labels are not body: drop them at the edges of the body, never inside
    it. A short line that is one of the page's subheadings (in ``tree``) and has text after it in
    the body heads that text (a summary box's "Key takeaways", a first section's "Introduction"); as
    the body's last line, over another heading or over a label, it heads nothing of it (a comment
    section's, a sign-up's)."""
    last = len(paragraphs) - 1
    labels = {i for i in range(len(paragraphs)) if (i < EDGE or i > last - EDGE) and is_label(paragraphs[i], author)}
    if not labels or tree is None:
        return [p for i, p in enumerate(paragraphs) if i not in labels]
    headings = _subheadings(tree)  # (read only for a body with a label at its edge)

    def heads_text(i: int) -> bool:
        following = i + 1
        return (
            i < last
            and following not in labels
            and paragraphs[i] in headings
            and paragraphs[following] not in headings
            and not is_label(paragraphs[i], author, heading=True)
        )

    return [p for i, p in enumerate(paragraphs) if i not in labels or heads_text(i)]


def drop_author_note(paragraphs: list[str], author: str | None) -> list[str]:
    """The author's note that closes the body: a last paragraph of at most AUTHOR_NOTE_WORDS words
    that opens with the full name of one of the page's authors (``author``, names joined by ", ";
    two words or more) is about the author (a bio, the author's holdings or affiliation), not the
    article, and goes. A name alone is a byline or a signature (drop_labels)."""
    names = [key for key in (word_key(name) for name in (author or "").split(", ")) if len(key.split()) >= 2]
    if not names or not paragraphs:
        return paragraphs
    last = word_key(paragraphs[-1])
    if len(last.split()) <= AUTHOR_NOTE_WORDS and any(last.startswith(f"{name} ") for name in names):
        return paragraphs[:-1]
    return paragraphs


def _own_article(paragraphs: list[str], container: HtmlElement | None, around_headline: frozenset[HtmlElement]) -> bool:
    """Whether a body of OWN_ARTICLE_CHARS or more is most of (OWN_SHARE) the text of the container
    trafilatura took, a block around the headline: the page's own article, whatever the prose
    elsewhere (readers' comments, teasers), not a fragment of it; the full mode, comparing it with
    readability's and justext's larger bodies, would take that prose too. (A smaller body there is
    a lead under the headline, the article going on outside the block.)"""
    if container is None or container not in around_headline or container.getparent() is None:
        return False
    chars = _chars(paragraphs)
    return chars >= OWN_ARTICLE_CHARS and chars >= OWN_SHARE * len(" ".join(text_of(container).split()))


def extract_body(
    tree: HtmlElement, url: str | None, title: str | None, author: str | None, declared: str | None = None
) -> list[str]:
    """The body paragraphs of a parsed page (the tree is modified); ``declared`` is the page's
    JSON-LD articleBody, if any."""
    headings: list[HtmlElement] = []
    headlines = headline_forms(tree, title, headings)
    # the blocks around the headline, before its header goes (drop_headline_header)
    around_headline = frozenset(headings[0].iterancestors()) if headings else frozenset()
    open_collapsed_panels(tree)
    drop_reader_comments(tree, headings[0] if headings else None)
    drop_author_boxes(tree, author, headings[0] if headings else None)  # (while the headline is in the tree)
    unname_headline_scrollers(headings)
    drop_headline_header(tree, headings)
    unwrap_quote_figures(tree)
    drop_signup_boxes(tree)
    drop_non_content(tree)
    drop_link_widgets(tree, url)
    place_streamed_segments(tree)
    merge_split_bodies(tree)
    prune_furniture(tree)
    unwrap_layout_tables(tree)
    wrap_bare_text(tree)
    drop_link_paragraphs(tree, url)
    prose = _paragraph_chars(tree)
    container = mark_main_container(tree, unname_fragment_containers(tree, FRAGMENT_SHARE * prose, around_headline))
    blocks = large_blocks(tree)
    drop_repeated_copies(blocks)
    unname_content_blocks(tree, blocks, container)
    unname_comment_wrappers(container)
    join_leading_prose(container, FRAGMENT_SHARE * prose)
    wrap_text_grids(container)
    try:
        paragraphs = trafilatura_paragraphs(tree, url)
        if _chars(paragraphs) < FRAGMENT_SHARE * prose and not _own_article(paragraphs, container, around_headline):
            # fast mode kept a fragment of the page's prose (a first section, a lead): the full mode
            # compares that with readability's and justext's bodies and keeps the better one
            full = trafilatura_paragraphs(tree, url, fast=False, again=True)
            if _chars(full) > _chars(paragraphs):
                paragraphs = full
    finally:
        forget_extraction()
    if _chars(paragraphs) < MIN_BODY_CHARS:
        # trafilatura copies the tree, so ours is still whole; readability may now consume it
        fallback = readability_paragraphs(tree)
        if _chars(fallback) > _chars(paragraphs):
            paragraphs = fallback
    paragraphs = drop_headline(declared_or_extracted(paragraphs, declared), headlines)
    return drop_author_note(drop_set_apart_tail(tree, drop_labels(paragraphs, author, tree)), author)


def unrepaired_paragraphs(tree: HtmlElement, url: str | None, title: str | None, author: str | None) -> list[str]:
    """trafilatura's full mode on the page as served, without our repairs, its edges cleaned like
    ours: a second opinion on a page whose repaired body reads as no article (a merge that joined
    the wrong blocks, a furniture name on the article's own block)."""
    headlines = headline_forms(tree, title)
    return drop_labels(drop_headline(trafilatura_paragraphs(tree, url, fast=False), headlines), author, tree)
