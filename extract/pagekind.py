"""Article or not, decided from the page itself.

The crawler's URL test only decides what to fetch; a section, tag, author, search or home page, or
a "not found" page served with status 200, can pass it. Such pages are archived but must not be
written as articles. The page says what it is in its declarations (JSON-LD or microdata type,
og:type) and in its structure: a listing is teaser cards (a headline link, a line of summary, a
byline) and little else; an article has prose beside whatever teasers it shows, and its extracted
body is more than the cards' text. A declared listing is one; a declared article is not taken on
its word, as some CMSs declare every page an article. Measured on 821 article pages, 35 non-article
pages and the non-article pages bench/nonarticles.py makes from the tuning pages' templates
(bench/extraction.py --kinds).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import cached_property
from itertools import islice

from lxml.etree import XPath
from lxml.html import HtmlElement

from extract.address import folded_words, unanswered
from extract.body import is_label, longer_and_agreeing
from extract.metadata import Metadata
from extract.pagecues import HOLDS_BODY, MENU_LINK_CHARS, opens_with
from extract.paragraphs import IDEOGRAPH, TEXT_LENGTH, text_of, text_width, word_count, word_key
from extract.unmarkedparagraphs import INLINE

_ARTICLE_TYPES = re.compile(r"Article$|BlogPosting$|LiveBlogPosting$|^Report$|^Review$|^Recipe$|^HowTo$", re.I)
_LISTING_TYPES = {"collectionpage", "searchresultspage", "profilepage", "series"}
# Page furniture: headings and paragraphs inside these are no evidence either way.
_FURNITURE = {"nav", "aside", "form", "menu"}
_PAGE_EDGES = {"header", "footer"}
_CONTENT = {"article", "main", "section"}
_HEADINGS = ("h2", "h3", "h4", "h5", "h6")
_UNREAD = {"script", "style", "noscript", "template", "head", "title"}
# a story's headline as a link: HEADLINE_CHARS characters and three words or more (a teaser's, not
# "More", "Next" or a tag; two spaces or more in the normalised text, one after the first), or on a
# page written without spaces, by width and words (_headline_links)
HEADLINE_CHARS = 12
_HEADLINE_LINKS = XPath(
    f".//a[string-length(normalize-space(.)) >= {HEADLINE_CHARS}][contains(substring-after(normalize-space(.), ' '), ' ')]"
)
_HALF_HEADLINE_LINKS = XPath(f".//a[string-length(normalize-space(.)) >= {HEADLINE_CHARS // 2}]")
EDGE_SHARE = 0.5  # furniture (a page header, footer, menu, sidebar) holding more of the page's text than this holds its content
LINK_BLOCK_SHARE = 0.7  # of a block's text in its links: a menu, a page's header or footer (``_link_blocks_around``)
CARD_CHARS = 500  # a teaser card: headline, a line or two of summary, byline and date
MIN_CARDS = 3  # a list of teasers
EXCERPT_PARAGRAPHS = 2  # a longer card of a list: its excerpt and a line of byline and date
SHINGLE = 4
TEASER_SHARE = 0.5  # of a body paragraph's 4-word shingles found in cards: teaser text, not prose
GRID_SHARE = 0.8  # of a block's text in its pictured cards: a grid of teasers
MIN_PROSE = 80  # words: less prose than this, without a declaration, is no article ...
MIN_MARKED_PROSE = 25  # ... unless it sits in article markup or the page declares an article,
MIN_LISTED_PROSE = 50  # and this, when its body holds more teaser text than prose (SHORT_BODY on a page that declares no article)
SHORT_BODY = 150  # words of prose: a shorter body must have some of it beside the page's headline ...
MIN_OWN_PROSE = 30  # ... this many words, in a block holding the headline and at most
NEAR = 5  # this many times the body's words; the rest is the template's text around a page without one
OWN_BLOCK = 1.5  # a block holding the headline and at most this many times the body's words: the page's own
CROWDED = 5  # the cards' words against a short body's: more than this many times, the cards are the page
HEAD_WORDS = 5  # a text's first words, to find a body paragraph in the page
# a body whose prose mostly (OUTSIDE_SHARE) lies outside the smallest block holding the headline and
# MIN_CARDS teaser cards, when those cards hold as many words as its prose or more and have a line of summary
# (text beside their links, LISTING_SUMMARY of their words: a listing's cards, not a menu or a row of
# related headlines)
OUTSIDE_SHARE = 2 / 3
LISTING_SUMMARY = 0.2
AFAR = 2  # a second opinion's prose in a block holding the headline of more than this many times its words sits away from it
# A short body whose headline shares a block with a search box, the block holding besides its
# links and teaser cards a message (HEAD_WORDS words or more, outside the headline's part of it)
# and less than MESSAGE_PAGE words in all (the prose a page declaring nothing needs): the page is a
# message and a box (a "not found" page, a search page), whatever text of the template the
# extractor read as its body
MESSAGE_PAGE = MIN_PROSE
_SEARCH_MARK = {"input": "type", "form": "role"}  # <input type=search>, <form role=search>
# an error status in the headline or the page's title: the number closing it or one of its parts
# ("404", "Error 404", "404 - Page not found", "Not found (404) | Site"), in a part of at most
# STATUS_WORDS words; not a number that a headline opens with, names in a sentence or closes
# ("404 jobs to go", "Route 404 bus diverted", "Fans say farewell to the Peugeot 404")
STATUS_WORDS = 3
_TITLE_PARTS = re.compile(r"\s[-–—|:·•/]\s|[|()\[\]]")
_ERROR_STATUS = re.compile(r"(?:^|\s)404[^\w$€£¥]*$")
# or the status's reason phrase ("Not Found", RFC 9110) closing a part of at most PHRASE_WORDS words,
# as a CMS words it in the page's language ("Page not found", "Oops! That page can't be found.",
# "Seite nicht gefunden", "Page introuvable", "Página no encontrada"): a page that names no number
# says so only in words, and its message may run past MIN_PROSE. A short list: the phrase in the
# languages of the tuning and demo sites; a headline that only mentions it is no status
# ("Not found: the ferry's lost bell", "Missing climber not found, search goes on")
PHRASE_WORDS = 8
_NOT_FOUND = re.compile(
    r"(?:(?:\bnot|\bcannot|n[’']t)\s+(?:be\s+)?found|nicht\s+gefunden|introuvable|\bn(?:o|ão)\s+encontrad[ao]|non\s+trovat[ao]|niet\s+gevonden)"
    r"[^\w$€£¥]*$",
    re.I,
)
# A paywall's pitch: an offer to subscribe beside a way in for subscribers, in one paragraph
# ("Subscribe now for unlimited access ... Already a subscriber? Log in"). Words, as the pitch is
# prose like the story's and its buttons are not always markup; both together, as a newsletter's
# or a campaign's appeal to subscribe offers no way in. Stems of the words in a few languages.
_SUBSCRIBE = re.compile(r"\b(?:subscri|abonn|abbon|suscri|assin)", re.I)
_SIGN_IN = re.compile(r"\b(?:log\s?in|sign\s?in|einloggen|anmelden|connectez|inicia\s+sesión|inloggen|accedi)\b", re.I)
DECIDED = max(MIN_PROSE, MIN_MARKED_PROSE, MIN_LISTED_PROSE, SHORT_BODY)  # words of prose that make an article whatever else


@dataclass(frozen=True)
class PageKind:
    """The decision and why: ``kind`` is "article", "listing" or "no article"."""

    kind: str
    reason: str

    @property
    def is_article(self) -> bool:
        return self.kind == "article"


@dataclass(frozen=True)
class Evidence:
    """The teaser cards of a page, outside its furniture: blocks headed by a headline link, with a
    few words of summary, byline or date."""

    cards: int
    card_words: int
    marked_up: bool  # one <article> element outside the furniture, holding the page's <h1>
    beside_search: int | None  # the words (links and cards aside) of the smallest block holding the headline and a search box, when it holds a message
    error_status: bool  # a 404 in the headline or the page's title
    card_shingles: frozenset[tuple[str, ...]]  # the 4-word shingles of their text
    measure_headline_blocks: Callable[[], dict[str, int]]  # headline_blocks' measure, called when first needed
    listing_words: int = 0  # the words of the cards in the smallest block holding the headline and MIN_CARDS cards, when they have a line of summary
    measure_listing_text: Callable[[], tuple[str, str]] = lambda: ("", "")  # that block's text and the page's (_run_together), read when first needed
    headline_part: str = ""  # (_run_together) the headline's part of beside_search's block, when it holds prose and the message follows it
    grid_shingles: frozenset[tuple[str, ...]] = frozenset()  # the shingles of the cards in a grid of pictured cards (``_grid_cards``)
    grid_headings: frozenset[str] = frozenset()  # the word keys of such a grid's own headings ("More stories")
    unanswered: frozenset[str] = frozenset()  # the words of the page's address, when its headline and title name none (extract.address)
    read: dict[str, tuple[list[str], int]] = dataclass_field(default_factory=dict, repr=False, compare=False)  # prose_words' answers

    def prose_words(self, paragraph: str) -> tuple[list[str], int]:
        """A body paragraph's words (``word_key``) and how many of them are not the cards' text
        (``_teaser_words``), read once: the decision measures a body several ways."""
        found = self.read.get(paragraph)
        if found is None:
            key = word_key(paragraph)
            words = key.split()
            found = self.read[paragraph] = (words, len(words) - (_teaser_words(key, self.card_shingles) if self.card_shingles and key else 0))
        return found

    @cached_property
    def headline_blocks(self) -> dict[str, int]:
        """For a text's first HEAD_WORDS words, the words of the smallest block holding it and the
        page's headline (its first <h1> outside the furniture); empty without one. Only a short
        body is judged by them (2 % of the tuning pages), and the page's every text is read to
        measure them (a thirteenth of a page's time): measured when first asked for."""
        return self.measure_headline_blocks()

    @cached_property
    def listing_text(self) -> tuple[str, str]:
        """The text (``_run_together``) of the block holding the headline and its listing (``_headline_listing``),
        and the page's: read only for a body whose prose is no more than the listing's words (27 of
        the tuning sets' 821 articles)."""
        return self.measure_listing_text()


def _furniture(tree: HtmlElement) -> set[HtmlElement]:
    """The page's navigation, sidebars, forms (not one holding the page's headline, article or main
    content: an ASP.NET page is one form), and the page's own header and footer (a header inside an
    article or a teaser card is the card's own). Any of them holding most of the page's text (a
    header, a menu or a popup's aside left unclosed) is misnested markup around the content, not
    furniture. Found once a page, not by climbing from every link."""
    furniture = [e for e in tree.iter(*_FURNITURE) if e.tag != "form" or not HOLDS_BODY(e)]
    furniture += [e for e in tree.iter(*_PAGE_EDGES) if not any(a.tag in _CONTENT for a in e.iterancestors())]
    if all(e.tag == "form" for e in furniture):  # no element says what is furniture: the page's structure does
        furniture += _link_blocks_around(tree)
    if not furniture:
        return set()
    page = EDGE_SHARE * TEXT_LENGTH(tree)
    return {e for e in furniture if TEXT_LENGTH(e) <= page}


def _link_blocks_around(tree: HtmlElement) -> list[HtmlElement]:
    """The blocks beside the headline's branch, at every level from it up to the page, whose text
    is mostly (LINK_BLOCK_SHARE) the text of MIN_CARDS links or more: the page's header, menus
    and footer where no <header>, <nav> or <footer> says so (an older CMS's or a table layout's
    page). A listing beside the headline holding most of the page's text stays content
    (EDGE_SHARE, in ``_furniture``)."""
    headline = next(tree.iter("h1"), None)
    if headline is None:
        return []
    found = []
    for branch in (headline, *headline.iterancestors()):
        parent = branch.getparent()
        if parent is None:
            break
        for block in parent:
            if block is branch or not isinstance(block.tag, str) or block.tag in _UNREAD:
                continue
            links = [TEXT_LENGTH(a) for a in block.iter("a")]
            if len(links) >= MIN_CARDS and MENU_LINK_CHARS * len(links) >= sum(links) >= LINK_BLOCK_SHARE * TEXT_LENGTH(block):
                found.append(block)
    return found


def _in_furniture(element: HtmlElement, furniture: set[HtmlElement]) -> bool:
    return any(ancestor in furniture for ancestor in element.iterancestors())


def _shingles(key: str) -> set[tuple[str, ...]]:
    words = key.split()
    return {tuple(words[i : i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}


def _headline_links(tree: HtmlElement) -> list[HtmlElement]:
    """The links long enough to be a story's headline. On a page in Chinese or Japanese (its title
    holds an ideograph or kana), where a headline of eight characters has no space, each of those
    is two characters wide and a word (text_width, word_count); elsewhere one XPath gives the same."""
    title = tree.findtext("head/title") or ""
    if not IDEOGRAPH.search(title):
        return _HEADLINE_LINKS(tree)
    texts = ((link, " ".join(text_of(link).split())) for link in _HALF_HEADLINE_LINKS(tree))
    return [link for link, text in texts if text_width(text) >= HEADLINE_CHARS and word_count(text) >= 3]


def _cards(tree: HtmlElement, furniture: set[HtmlElement]) -> list[HtmlElement]:
    """Blocks headed by one headline link, of at most CARD_CHARS characters: for each headline link
    outside the furniture, its highest ancestor holding no other headline link; none for a link
    inside a paragraph of prose. A longer block is a card when it is an item of a list of alike
    ones (``_repeated_item``): a teaser with a long excerpt."""
    # (the links inside the furniture, listed from it: not every headline link's ancestors climbed)
    inside = {link for block in furniture for link in block.iterdescendants("a")}
    links = [link for link in _headline_links(tree) if link not in inside]
    holding: Counter[HtmlElement] = Counter(a for link in links for a in link.iterancestors())
    # a link in a heading heads the block holding no other such heading: a byline or tag link of
    # three words beside it in the card does not split the card from its summary
    headings = {link: next(link.iterancestors(*_HEADINGS), None) for link in links}
    headed: Counter[HtmlElement] = Counter(a for h in set(headings.values()) if h is not None for a in (h, *h.iterancestors()))
    cards: dict[HtmlElement, None] = {}
    for link in links:
        if _in_a_sentence(link):
            continue
        node, card = link, None
        held = holding if headings[link] is None else headed
        while (parent := node.getparent()) is not None and held[parent] == 1:
            if TEXT_LENGTH(parent) > CARD_CHARS:
                item = _repeated_item(parent, held)
                card = card if item is None else item
                break
            node = card = parent
        if card is not None:
            cards[card] = None
    found = [card for card in cards if not any(a in cards for a in card.iterancestors())]
    return found + _alike_cards(found)


def _in_a_sentence(link: HtmlElement) -> bool:
    """Whether a link is part of a sentence: the paragraph around it (past the inline elements
    around the link: a word processor's span, emphasis) holds more than twice its text."""
    block = next((a for a in link.iterancestors() if a.tag not in INLINE), None)
    return block is not None and block.tag == "p" and TEXT_LENGTH(block) > 2 * TEXT_LENGTH(link)


def _alike_cards(cards: list[HtmlElement]) -> list[HtmlElement]:
    """The blocks beside a list's cards (MIN_CARDS - 1 or more under one parent) of their tag and
    class, of at most CARD_CHARS characters, headed by a link (their first link with text: an
    image's link may come first) in a heading or opening the block's text, as a list item's or a
    grid row's title does, and holding a line of text besides it (HEAD_WORDS words):
    cards whose headline is a word or two, too short to be told from a "More" or a tag by itself.
    Not paragraphs: a sentence's links beside a paragraph holding one are prose."""
    shapes: Counter[tuple] = Counter((card.getparent(), card.tag, card.get("class")) for card in cards)
    found = set(cards)
    alike = []
    for (parent, tag, cls), count in shapes.items():
        if parent is None or count < MIN_CARDS - 1 or tag == "p":
            continue
        for block in parent:
            if block.tag != tag or block.get("class") != cls or block in found:
                continue
            link = next((a for a in block.iter("a") if text_of(a).strip()), None)  # not an image's link
            if link is None or (next(link.iterancestors(*_HEADINGS), None) is None and not opens_with(block, link)):
                continue  # a card's headline: a link in a heading, or one the block opens with
            if TEXT_LENGTH(block) <= CARD_CHARS and _words_beside(block, set(), HEAD_WORDS) >= HEAD_WORDS:
                alike.append(block)
    return alike


def _repeated_item(block: HtmlElement, held: Counter[HtmlElement]) -> HtmlElement | None:
    """The highest block from ``block`` up holding one headline link, when it is one of MIN_CARDS
    siblings or more of its tag and class each holding one: an item of a list of teasers, however
    long its excerpt; None otherwise."""
    while (parent := block.getparent()) is not None and held[parent] == 1:
        block = parent
    parent = block.getparent()
    if parent is None:
        return None
    alike = sum(1 for s in parent if s.tag == block.tag and s.get("class") == block.get("class") and held[s] == 1)
    if alike < MIN_CARDS or next(islice(block.iter("p"), EXCERPT_PARAGRAPHS, None), None) is not None:
        return None  # more paragraphs: a section of an article under a linked heading (a round-up's, a listicle's)
    return block


def _headline(tree: HtmlElement, furniture: set[HtmlElement]) -> HtmlElement | None:
    """The page's headline: its first <h1> outside the furniture."""
    return next((h for h in tree.iter("h1") if not _in_furniture(h, furniture)), None)


def _texts_beside(block: HtmlElement, skipped: set[HtmlElement]) -> Iterator[str]:
    """The texts of a block outside links and the ``skipped`` elements, in document order."""
    pending = [block]
    while pending:
        element = pending.pop()
        if element not in skipped and element.tag != "a" and isinstance(element.tag, str) and element.tag not in _UNREAD:
            if element.text:
                yield element.text
            pending.extend(reversed(element))
        if element is not block and element.tail:
            yield element.tail


def _count_words(texts: Iterator[str], most: int) -> int:
    """The words of texts, counted up to ``most``."""
    count = 0
    for text in texts:
        count += word_count(text)
        if count >= most:
            break
    return count


def _words_beside(block: HtmlElement, skipped: set[HtmlElement], most: int) -> int:
    """The words of a block's text outside links and the ``skipped`` elements, counted up to ``most``."""
    return _count_words(_texts_beside(block, skipped), most)


def _part_of(block: HtmlElement, inner: HtmlElement) -> HtmlElement:
    """The child of ``block`` holding ``inner`` (or ``inner`` itself)."""
    return next(b for b in (inner, *inner.iterancestors()) if b.getparent() is block)


def _texts_between(block: HtmlElement, first: HtmlElement, last: HtmlElement, skipped: set[HtmlElement]) -> Iterator[str]:
    """The texts of a block after ``first`` ends and before ``last`` begins, in document order,
    outside links and the ``skipped`` elements."""
    # a block around the headline or the box (a header holding the headline and a link, taken for a
    # card) is read through, not skipped
    skipped = skipped - {*first.iterancestors(), *last.iterancestors()}
    state = {"in": False, "done": False}

    def walk(element: HtmlElement) -> Iterator[str]:
        if element is last:
            state["done"] = True
            return
        if element is first or element in skipped or element.tag == "a":
            return
        if not isinstance(element.tag, str) or element.tag in _UNREAD:
            return
        if element.text and state["in"]:
            yield element.text
        for child in element:
            yield from walk(child)
            if state["done"]:
                return
            if child is first:
                state["in"] = True
            if child.tail and state["in"]:
                yield child.tail

    yield from walk(block)


def _search_boxes(block: HtmlElement) -> list[HtmlElement]:
    """The search fields and forms in a block (by lxml's walk by tag: a third faster than an XPath)."""
    return [e for e in block.iter(*_SEARCH_MARK) if (e.get(_SEARCH_MARK[e.tag]) or "").strip().lower() == "search"]


def _beside_search(
    headline: HtmlElement, furniture: set[HtmlElement], cards: set[HtmlElement]
) -> tuple[int, str] | None:
    """The words between the headline and a search box outside the furniture, in the smallest block
    holding both (links, teaser cards and other boxes aside; MESSAGE_PAGE at most; the template's
    text before the one or after the other, a blurb or an author box that the extractor may read as
    the body, is not the page's message), when they hold a message (HEAD_WORDS words or more of
    texts that are no byline, dateline or label, as extract.body tells them); and the headline's
    own part of the block (``_run_together``) when that holds prose (MIN_MARKED_PROSE words besides the
    headline): then the message is read between that part and the box, and counts only for a body
    whose prose lies outside that part (``_decide``): a short article in a column beside a
    sidebar's search box has its prose there, a "not found" page in an article's template has its
    standfirst and byline there, and its message after them. None without such a block."""
    around = {block: depth for depth, block in enumerate(headline.iterancestors())}
    shared = box_of_shared = None
    for field in _search_boxes(headline.getroottree().getroot()):
        box = next(field.iterancestors("form"), field) if field.tag != "form" else field
        if _in_furniture(box, furniture):
            continue
        block = next((b for b in box.iterancestors() if b in around), None)
        if block is not None and (shared is None or around[block] < around[shared]):
            shared, box_of_shared = block, box
    if shared is None:
        return None
    skipped = cards | set(_search_boxes(shared))
    own_part, box_part = _part_of(shared, headline), _part_of(shared, box_of_shared)
    own_prose = _words_beside(own_part, skipped, MESSAGE_PAGE) - _words_beside(headline, skipped, MESSAGE_PAGE) >= MIN_MARKED_PROSE
    if own_prose:
        if own_part is box_part:
            return None
        headline = own_part
    # the texts between the headline and the box: the template's text before or after them (a
    # sidebar's blurb, an author box, a newsletter pitch, the site's "about us") is no message
    first, last = (headline, box_of_shared) if shared.index(own_part) <= shared.index(box_part) else (box_of_shared, headline)
    words = _count_words(_texts_between(shared, first, last, skipped), MESSAGE_PAGE)
    if words >= MESSAGE_PAGE:
        return None if own_prose else (words, "")
    # the message: those texts that are no byline, dateline or label
    texts = (" ".join(text.split()) for text in _texts_between(shared, first, last, skipped))
    message = sum(word_count(text) for text in texts if text and not is_label(text, None))
    if message < HEAD_WORDS:
        return None
    return words, _block_text(own_part) if own_prose else ""


def _head(words: list[str]) -> str:
    return " ".join(words[:HEAD_WORDS])


def _headline_blocks(tree: HtmlElement, furniture: set[HtmlElement]) -> dict[str, int]:
    """For the first words of each text in the page, the size in words of the smallest block that
    holds it and the headline: how far from the headline a paragraph of the body sits. Each block
    around the headline adds the texts of its other children to the one below it; a text seen
    before adds no words."""
    headline = _headline(tree, furniture)
    if headline is None:
        return {}
    blocks: dict[str, int] = {}
    seen: set[str] = set()  # a text repeated (a box in every section of a page) counts once
    size, inner = 0, None
    for block in (headline, *headline.iterancestors()):
        texts = _text_runs(block, inner)
        heads = []
        for text in texts:
            if text and (words := text.split()) and (text := " ".join(words)) not in seen:
                seen.add(text)
                size += word_count(text)
                heads.append(_head(word_key(" ".join(words[:HEAD_WORDS])).split()))
        for head in heads:
            blocks.setdefault(head, size)
        inner = block
    return blocks


def _summary_words(card: HtmlElement) -> int:
    """The words of a card's summary: its text beside its links, and in a link that wraps its
    heading (a card whose link wraps heading, image and summary alike), the text beside that heading."""
    words = _words_beside(card, set(), CARD_CHARS)
    for link in card.iter("a"):
        if (headings := set(link.iter(*_HEADINGS))) and words < CARD_CHARS:
            words += _count_words((text for child in link for text in (*_texts_beside(child, headings), child.tail) if text), CARD_CHARS)
    return words


def _headline_listing(headline: HtmlElement | None, cards: list[HtmlElement], keys: list[str]) -> tuple[HtmlElement, int] | None:
    """The smallest block holding the headline and MIN_CARDS teaser cards or more, and their words,
    when their summaries (``_summary_words``) are LISTING_SUMMARY of it or more: the page's listing,
    the headline's own content on a section, tag, author or search page; None otherwise."""
    if headline is None or len(cards) < MIN_CARDS:
        return None
    under = Counter(a for card in cards for a in card.iterancestors())
    block = next((a for a in headline.iterancestors() if under[a] >= MIN_CARDS), None)
    if block is None:
        return None
    held = [(card, key) for card, key in zip(cards, keys) if any(a is block for a in card.iterancestors())]
    words = sum(len(key.split()) for _, key in held)
    summary = sum(_summary_words(card) for card, _ in held)
    return (block, words) if summary >= LISTING_SUMMARY * words else None


def _text_runs(element: HtmlElement, skipped: HtmlElement | None = None) -> list[str]:
    """An element's texts as a reader sees them: an inline element's text run together with the
    text around it (a drop cap's letter with the rest of its word, a bold lead word with its
    sentence), as our paragraphs hold it; a block element's ends and a line break end a run. Not
    the text of ``skipped`` (its tail is read) nor of scripts and styles."""
    runs: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            runs.append("".join(current))
            current.clear()

    def walk(node: HtmlElement) -> None:
        breaks = node.tag not in INLINE or node.tag == "br"
        if breaks:
            flush()
        if node.text:
            current.append(node.text)
        for child in node:
            if child is skipped:
                flush()
            elif isinstance(child.tag, str) and child.tag not in _UNREAD:
                walk(child)
            if child.tail:
                current.append(child.tail)
        if breaks:
            flush()

    walk(element)
    flush()
    return runs


def _run_together(words: list[str]) -> str:
    """Words without the spaces between them: the page's text nodes split some words (a drop cap's
    letter in a span of its own, a bold first syllable), which a body's paragraph holds whole, and
    a text is found in the page's whatever its spaces."""
    return "".join(words)


def _block_text(block: HtmlElement) -> str:
    return _run_together(word_key(" ".join(block.itertext())).split())


def _listing_texts(block: HtmlElement) -> tuple[str, str]:
    """The text of a block and its page's (word_key)."""
    return _block_text(block), _block_text(block.getroottree().getroot())


def _names_status(part: str) -> bool:
    """Whether a part of the headline or title is an error status: its number or its phrase."""
    words = len(part.split())
    return (words <= STATUS_WORDS and _ERROR_STATUS.search(part) is not None) or (
        words <= PHRASE_WORDS and _NOT_FOUND.search(part) is not None
    )


def _measured_headline_blocks(tree: HtmlElement) -> dict[str, int]:
    return _headline_blocks(tree, _furniture(tree))


def gather_evidence(tree: HtmlElement, reread: Callable[[], HtmlElement] | None = None, url: str | None = None) -> Evidence:
    """The teaser cards of a page, where its text sits from its headline, and whether its headline
    names what its address ``url`` does (the tree is not modified). ``reread`` parses the page anew:
    given, where the text sits is measured on that tree when first asked for (the caller may change
    this one meanwhile); else on this one now."""
    furniture = _furniture(tree)
    cards = _cards(tree, furniture)
    keys = [word_key(" ".join(card.itertext())) for card in cards]  # a kicker, headline and summary in blocks of their own are not run together
    headline = _headline(tree, furniture)
    beside_search = None if headline is None else _beside_search(headline, furniture, set(cards))
    title = tree.find("head/title")
    error_status = any(
        _names_status(part.strip())
        for text in (None if headline is None else text_of(headline), None if title is None else title.text)
        for part in _TITLE_PARTS.split(" ".join((text or "").split()))
    )
    articles = [a for a in tree.iter("article") if not _in_furniture(a, furniture)]
    marked_up = len(articles) == 1 and next(articles[0].iter("h1"), None) is not None
    # a headline shorter than a shingle, read as a paragraph of its own, is the cards' text too
    short = {
        tuple(words)
        for card in cards
        for heading in card.iter(*_HEADINGS)
        if 0 < len(words := word_key(" ".join(heading.itertext())).split()) < SHINGLE
    }
    shingles = frozenset().union(short, *map(_shingles, keys))
    listing = _headline_listing(headline, cards, keys)
    listing_text: Callable[[], tuple[str, str]] = lambda: ("", "")  # noqa: E731
    if reread is None:
        blocks = _headline_blocks(tree, furniture)
        measure = lambda: blocks  # noqa: E731
        if listing is not None:
            texts = _listing_texts(listing[0])
            listing_text = lambda: texts  # noqa: E731
    else:
        measure = lambda: _measured_headline_blocks(reread())  # noqa: E731
        if listing is not None:
            path = tree.getroottree().getpath(listing[0])
            listing_text = lambda: next(map(_listing_texts, reread().getroottree().xpath(path)), ("", ""))  # noqa: E731
    grid = _grid_cards(cards)
    grid_headings = frozenset(
        word_key(" ".join(heading.itertext()))
        for parent in {card.getparent() for card in grid}
        for heading in parent
        if heading.tag in _HEADINGS
    )
    return Evidence(
        len(keys), sum(len(k.split()) for k in keys), marked_up, None if beside_search is None else beside_search[0],
        error_status, shingles, measure, 0 if listing is None else listing[1], listing_text,
        "" if beside_search is None else beside_search[1],
        frozenset().union(*(_shingles(key) for card, key in zip(cards, keys) if card in grid)), grid_headings,
        unanswered(url, [text for text in (None if headline is None else text_of(headline),
                                           None if title is None else title.text) if text]),
    )


def _grid_cards(cards: list[HtmlElement]) -> set[HtmlElement]:
    """The cards holding a picture that sit MIN_CARDS or more under one parent holding little else
    (GRID_SHARE of its text in them): a grid of teasers (each a thumbnail, a headline, a summary),
    as a "more stories" block sets them, not cards set amid an article's prose."""
    by_parent: dict[HtmlElement, list[HtmlElement]] = {}
    for card in cards:
        if next(card.iter("img", "picture"), None) is not None:
            by_parent.setdefault(card.getparent(), []).append(card)
    return {
        card
        for parent, alike in by_parent.items()
        if len(alike) >= MIN_CARDS and sum(map(TEXT_LENGTH, alike)) >= GRID_SHARE * TEXT_LENGTH(parent)
        for card in alike
    }


def _teaser_words(key: str, card_shingles: frozenset) -> int:
    """How many words of a body paragraph are the cards' text: all of one mostly made of it, else
    those in its shingles found in cards (a block that ran a list of teasers into one paragraph
    beside a line of its own)."""
    words = key.split()
    shingles = _shingles(key)
    if len(shingles & card_shingles) >= TEASER_SHARE * len(shingles):
        return len(words)
    covered = set()
    for start in range(len(words) - SHINGLE + 1):
        if tuple(words[start : start + SHINGLE]) in card_shingles:
            covered.update(range(start, start + SHINGLE))
    return len(covered)


_CUT = ("...", "…")  # a summary cut short: a teaser's, whose full text is on the page it links to


def drop_teaser_tail(evidence: Evidence, paragraphs: list[str]) -> list[str]:
    """An article's body without the teaser cards it ran on into at its end (a row of related
    stories after the article, named by nothing): of the last paragraphs that are mostly the cards'
    text (``_teaser_words``), those from the first summary cut short (``_CUT``) on go, or all of
    them and the grid's heading when MIN_CARDS or more are a grid's cards (``_grid_cards``). A
    card's text alone is no proof (a listicle's own sections read as cards, their headings linked),
    nor is a cut sentence (an article may trail off): a cut summary of a card is, and so is a grid
    of pictured cards at the body's end. Never most of the body: that is a listing, for the article
    decision."""
    if not evidence.card_shingles:
        return paragraphs
    end = cut = len(paragraphs)
    in_grid = 0
    while end > 1:
        words, own = evidence.prose_words(paragraphs[end - 1])
        if not words or len(words) - own < TEASER_SHARE * len(words):
            break
        end -= 1
        if paragraphs[end].rstrip().endswith(_CUT):
            cut = end
        if evidence.grid_shingles:
            shingles = _shingles(" ".join(words))
            in_grid += len(shingles & evidence.grid_shingles) >= TEASER_SHARE * len(shingles) > 0
    if in_grid >= MIN_CARDS:
        cut = end - (end > 1 and word_key(paragraphs[end - 1]) in evidence.grid_headings)  # with the grid's heading
    if 2 * sum(map(len, paragraphs[cut:])) > sum(map(len, paragraphs)):
        return paragraphs
    return paragraphs[:cut]


def declared_kind(meta: Metadata) -> PageKind | None:
    """What the page declares it is: an article type or og:type article, or a collection, search
    results, profile or series page; None when it declares neither. A declared listing is one; a
    declared article is weighed against the page's structure (``decide``), as some CMSs declare
    every page an article."""
    if meta.og_type == "article" or any(_ARTICLE_TYPES.search(t) for t in meta.schema_types):
        return PageKind("article", "declared an article")
    listing = {t.lower() for t in meta.schema_types} & _LISTING_TYPES
    if listing or meta.og_type == "profile":
        return PageKind("listing", f"declared {', '.join(sorted(listing)) or 'og:type profile'}")
    return None


def _prose_and_teasers(
    evidence: Evidence, paragraphs: Sequence[str], enough: int | None = None
) -> tuple[int, int, int | None, int | None]:
    """How many words of a body are prose, how many the cards' text, how many of the prose words
    sit beside the headline (in a block of NEAR times the body's words) and how many in the
    headline's own block (OWN_BLOCK times); the last two None when not measured: SHORT_BODY words
    of prose or more, no headline, or no paragraph found in the page; counted until ``enough``
    words of prose if given (past DECIDED, no decision changes: a long article's every paragraph need not be matched
    against the cards, a tenth of a page's time)."""
    prose = teasers = 0
    counted: list[tuple[list[str], int]] = []
    for paragraph in paragraphs:
        words, own = evidence.prose_words(paragraph)
        if words:
            prose += own
            teasers += len(words) - own
            counted.append((words, own))
            if enough is not None and prose >= enough:
                break
    if prose >= SHORT_BODY:
        return prose, teasers, None, None
    blocks = [(evidence.headline_blocks.get(_head(words)), own) for words, own in counted]
    if all(block is None for block, _ in blocks):
        return prose, teasers, None, None
    near, close = NEAR * (prose + teasers), OWN_BLOCK * (prose + teasers)
    beside = sum(own for block, own in blocks if block is not None and block <= near)
    return prose, teasers, beside, sum(own for block, own in blocks if block is not None and block <= close)


def _mostly_away(evidence: Evidence, paragraphs: Sequence[str]) -> bool:
    """Whether most of a body's words sit away from the headline: in paragraphs not found in its
    own block (OWN_BLOCK times the body's words around it): the template's text, read as the body
    of a page whose content is a message."""
    keys = [words for words, _ in map(evidence.prose_words, paragraphs) if words]
    near = OWN_BLOCK * sum(map(len, keys))
    blocks = evidence.headline_blocks
    beside = sum(len(words) for words in keys if (block := blocks.get(_head(words))) is not None and block <= near)
    return 2 * beside < sum(map(len, keys))


def _read_afar(evidence: Evidence, paragraphs: Sequence[str]) -> bool:
    """Whether most of a body's prose is found in the page and most of what is found sits away from
    the headline, in blocks holding it of more than AFAR times the body's words: the template's text
    (a sidebar's blurb, an "about us" block, a form's small print, a cookie notice) read beside a
    listing or a message, not an article's paragraphs, which sit with their headline."""
    found = near = prose = words = 0
    rows = []
    for paragraph in paragraphs:
        head, own = evidence.prose_words(paragraph)
        if head:
            rows.append((evidence.headline_blocks.get(_head(head)), own))
            prose += own
            words += len(head)
    for block, own in rows:
        if block is not None:
            found += own
            near += own if block <= AFAR * words else 0
    return 2 * found >= prose > 0 and 2 * near < found


def _beyond_listing(evidence: Evidence, paragraphs: Sequence[str]) -> int | None:
    """The prose words of a body found in the page outside the block holding the headline and its
    listing, when the listing's cards hold as many words as the body's prose or more and
    OUTSIDE_SHARE of that prose lies there: the headline's content is the listing, and the body the
    template's text elsewhere (a sidebar's blurb, an author box, a newsletter pitch, a cookie
    notice); None otherwise. (The tuning articles nearest to it: a body with 46 % of its prose
    outside, and one outside whose listing holds half its prose's words.)"""
    if not evidence.listing_words:
        return None
    owns, prose = [], 0
    for paragraph in paragraphs:
        words, own = evidence.prose_words(paragraph)
        if words:
            owns.append((words, own))
            prose += own
            if prose > evidence.listing_words:
                return None
    block, page = evidence.listing_text
    found = []
    for words, own in owns:
        text = _run_together(words)
        # a paragraph the extractor ran together from several blocks is found by its first words
        found.append((text if text in page else _run_together(words[:HEAD_WORDS]), own))
    outside = sum(own for text, own in found if text in page and text not in block)
    return outside if prose and outside >= OUTSIDE_SHARE * prose else None


def _in_headline_part(evidence: Evidence, paragraphs: Sequence[str]) -> bool:
    """Whether half a body's words or more are found in the headline's part of the block it shares
    with a search box (``Evidence.headline_part``, when that holds prose): a story beside the box."""
    if not evidence.headline_part:
        return False
    keys = [words for words, _ in map(evidence.prose_words, paragraphs) if words]
    found = sum(len(words) for words in keys if _run_together(words[:HEAD_WORDS]) in evidence.headline_part)
    return 2 * found >= sum(map(len, keys))


def _decide(evidence: Evidence, paragraphs: Sequence[str], declared: bool = False) -> tuple[PageKind, bool]:
    """The decision from the structure of a page that declares nothing, or ``declared`` an article:
    its teaser cards against the prose of its extracted body (the paragraphs that are not the
    cards' text). A declaration counts as article markup does, and neither alone makes an article:
    some CMSs declare every page one, and listings sit in the template's <article>. A page with
    less prose than that needs, or whose body is more teasers than prose and short of
    MIN_LISTED_PROSE (SHORT_BODY on a page that declares no article), is a listing or no article; so is a short body with almost none of its prose
    near its headline: a page whose own content is a line or two (a "not found" message, a
    listing's intro), read by the extractor together with the template's text around it; a
    short body beside teaser cards of CROWDED times its words, which are the page's content; and a
    short body on a page whose headline shares a small block with a search box and a message
    (``Evidence.beside_search``) or names a 404 (``Evidence.error_status``): a "not found" page,
    whose body, whichever the extractor found, is the template's text, and which a declaration
    does not make an article; beside such a box, a longer body most of whose words sit away from
    the headline is that text too; and a body whose prose lies outside the block holding the
    headline and its listing (``_beyond_listing``): the template's text beside a listing; and a
    short body on a page whose headline and title name none of the words of its address and whose
    body names at most a third of them (``Evidence.unanswered``): a page served at an article's
    address that does not answer it, a "not found" page, however long its apology, which a
    declaration does not make an article either."""
    prose, teasers, own, in_own_block = _prose_and_teasers(evidence, paragraphs, DECIDED)
    away = own is not None and own < MIN_OWN_PROSE
    # a short body on a page whose content is a message beside a search box, or that names an error
    boxed = (
        evidence.beside_search is not None
        and evidence.beside_search < MESSAGE_PAGE
        and not _in_headline_part(evidence, paragraphs)
    )
    message = (prose < SHORT_BODY and (boxed or evidence.error_status)) or (
        boxed and prose >= SHORT_BODY and _mostly_away(evidence, paragraphs)
    )
    crowded = evidence.cards >= MIN_CARDS and prose < SHORT_BODY and evidence.card_words >= CROWDED * (prose + teasers)
    counts = f"{evidence.cards} teasers of {evidence.card_words} words, {prose}{'+' * (prose >= DECIDED)} words of prose"
    counts += f", {own} of them beside the headline" if away else ""
    counts += ", an error status in its headline or title" if message and evidence.error_status and prose < SHORT_BODY else ""
    counts += ", a search box beside its headline" if message and boxed else ""
    counts += f", the teasers {CROWDED} times its words or more" if crowded else ""
    beyond_words = _beyond_listing(evidence, paragraphs)
    beyond = beyond_words is not None
    counts += f", {beyond_words} of them outside the block of its headline and its listing of {evidence.listing_words} words" if beyond else ""
    not_article = "listing" if evidence.cards >= MIN_CARDS else "no article"
    # a body of more teaser text than prose is the listing itself, read with the template's text
    # around it, unless it has enough prose: a page that declares none SHORT_BODY words; a declared
    # article (a round-up of linked stories under a few lines of its own) MIN_LISTED_PROSE words,
    # and SHORT_BODY unless most of its prose sits in the headline's own block (the round-up's intro
    # does; a listing's intro in a template, or the template's text read with it, sits further out)
    scattered = in_own_block is not None and in_own_block < prose / 2
    listed = (
        evidence.cards >= MIN_CARDS
        and teasers >= prose
        and prose < (MIN_LISTED_PROSE if declared and not scattered else SHORT_BODY)
    )
    counts += f", {teasers} words of the teasers' text in its body" if listed else ""
    # (the last test: a page it rejects is rejected for that alone)
    astray = (
        bool(evidence.unanswered)
        and prose < SHORT_BODY
        and not (away or message or crowded or listed or beyond)
        and 3 * len(evidence.unanswered & folded_words(" ".join(paragraphs))) <= len(evidence.unanswered)
    )
    counts += ", not one of its address's words in its headline or title, few in its body" if astray else ""
    # the body's prose sits away from the headline (a body with less prose than MIN_OWN_PROSE is
    # short of it anyway), or the page's content is a message, or the body is wholly the teasers'
    # text (less than a line, HEAD_WORDS words, of prose of its own): the extractor read the
    # page's listing
    read_listing = evidence.cards >= MIN_CARDS and prose < HEAD_WORDS <= teasers
    placed = (away and prose >= MIN_OWN_PROSE) or message or read_listing or astray
    if (declared or evidence.marked_up) and prose >= MIN_MARKED_PROSE and not (listed or away or message or crowded or beyond or astray):
        return PageKind("article", f"{'declared an article' if declared else 'article markup'}, {counts}"), False
    if declared:
        return PageKind(not_article, f"declared an article, but {counts}"), placed
    if prose < MIN_PROSE or away or message or crowded or listed or beyond or astray:
        return PageKind(not_article, counts), placed
    return PageKind("article", counts), False


def decide(evidence: Evidence, paragraphs: Sequence[str], declared: bool = False) -> PageKind:
    """The decision from the structure of a page (``_decide``)."""
    return _decide(evidence, paragraphs, declared)[0]


def _without_paywall_pitch(paragraphs: list[str]) -> list[str]:
    """A body without the paywall's pitch it ends on (``_SUBSCRIBE`` and ``_SIGN_IN`` in a
    paragraph): the stub of a story for subscribers is its lead, and without one no article."""
    end = len(paragraphs)
    while end and _SUBSCRIBE.search(paragraphs[end - 1]) and _SIGN_IN.search(paragraphs[end - 1]):
        end -= 1
    return paragraphs[:end]


def reconsider(
    evidence: Evidence, paragraphs: list[str], second: Callable[[], list[str]], declared: bool = False
) -> tuple[PageKind, list[str]]:
    """The decision, and the body to keep (without a paywall's pitch). A body that reads as no article gets a second opinion
    (``second``: another extraction of the page): taken when that is much longer, holds most of
    our body's words and reads as an article, so that no article a peer extractor finds is lost
    to a repair that misled ours (issue 17); but not when it is more the cards' text than prose,
    which is a listing read again with more of its template, nor when its prose sits away from the
    headline (``_read_afar``): the template's text around a page whose own content our body read.
    (Of the tuning sets' 821 articles, 4 take the second opinion, their prose found beside the
    headline or not found at all; of the non-articles made from their templates, 120 took it.)
    No second opinion is asked for a body that reads as no article for where it sits (away from
    the headline), for the page's message (a search box or an error status beside its headline)
    or for being wholly the teasers' text (the extractor read the page's listing, a line of prose
    of its own at most): that is the page's structure, not our body's length, and another reading
    holding our body's words holds that text again with the template's around it (none of the 4
    tuning articles that take it was judged so: each has prose of its own or an empty body; of the
    non-articles made from their templates, 23 were read so and took it)."""
    paragraphs = _without_paywall_pitch(paragraphs)
    kind, placed = _decide(evidence, paragraphs, declared)
    if kind.is_article or placed:
        return kind, paragraphs
    other = _without_paywall_pitch(second())
    if longer_and_agreeing(" ".join(other), paragraphs) and (other_kind := decide(evidence, other, declared)).is_article:
        prose, teasers, *_ = _prose_and_teasers(evidence, other)
        if prose >= teasers and not _read_afar(evidence, other):
            return other_kind, other
    return kind, paragraphs

