"""Rewrites of the page tree that fix failure modes of the stock extractors before they run.

extract.body applies them in the order of this module.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from itertools import islice
from urllib.parse import urljoin, urlsplit

from lxml.etree import Element, XPath, strip_elements
from lxml.html import HtmlElement

from extract.namematch import BODY, OVERALL_DISCARD, REMOVE_COMMENTS_AND_LISTS, NameMatch, first_match
from extract.pagecues import MENU_LINK_CHARS, block_kind, link_target, opens_with
from extract.paragraphs import TEXT_LENGTH, text_of, word_count, word_key
from extract.unmarkedparagraphs import INLINE, alone_in, holds_only_inline, is_text_div

# Elements trafilatura deletes in every configuration we run, deleted here in one C-level pass:
# its XPath pruning passes scan the whole tree several times, so a smaller tree is a faster page.
# (Not <form>, <figure>, <math>: trafilatura keeps or salvages content from those.)
_NEVER_BODY = (
    "aside", "embed", "footer", "iframe", "menu", "object", "applet", "audio", "canvas", "map", "picture",
    "svg", "video", "button", "datalist", "dialog", "frame", "frameset", "fieldset", "input", "label",
    "marquee", "menuitem", "nav", "noscript", "optgroup", "option", "select", "source", "textarea", "track",
)


# (not //*[@aria-controls]/@aria-controls: a third slower; plain strings, not lxml's that know their
# element: a third of the time)
_CONTROLLED = XPath("//@aria-controls", smart_strings=False)
_NAMED = XPath("//*[@id]")
_HIDDEN_CLASSES = {"hidden", "hide", "d-none", "is-hidden"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_PANEL_WRAPPERS = 2  # levels of wrappers a collapsible component may hide its panel in


def open_collapsed_panels(tree: HtmlElement) -> None:
    """Show the hidden panels that a toggle names in ``aria-controls``: an accordion's sections, a
    tab's text, a "read more". They are the article's own text, which its reader opens; hidden,
    they would go with the hidden furniture (prune_furniture, and trafilatura's own pruning).
    Components hide the panel or a wrapper of it without a name (a "collapse" around the panel
    the toggle names): the wrappers that hold the panel only are shown too."""
    controlled = {name for names in _CONTROLLED(tree) for name in names.split()}
    if not controlled:
        return
    for panel in _NAMED(tree):
        if panel.get("id") not in controlled:
            continue
        _show(panel)
        wrapper = panel.getparent()
        for _ in range(_PANEL_WRAPPERS):
            if wrapper is None or wrapper.get("id") or not _holds_only(wrapper):
                break
            _show(wrapper)
            wrapper = wrapper.getparent()


def _holds_only(wrapper: HtmlElement) -> bool:
    """Whether a wrapper holds one element (the panel, or a wrapper of it) and no text of its own."""
    return len(wrapper) == 1 and not (wrapper.text or "").strip() and not (wrapper[0].tail or "").strip()


def _show(element: HtmlElement) -> None:
    element.attrib.pop("hidden", None)
    if _HIDDEN_STYLE.search(element.get("style", "")):
        del element.attrib["style"]
    if (css := element.get("class")) and any(t.lower() in _HIDDEN_CLASSES for t in css.split()):
        element.set("class", " ".join(t for t in css.split() if t.lower() not in _HIDDEN_CLASSES))


_COPY_CHARS = 500  # characters: a copy of the article, not a hidden label, menu or caption
_COPY_SHARE = 0.8  # of a hidden block's words: in texts the page shows elsewhere too


def _shown_elsewhere(element: HtmlElement, page: str) -> bool:
    """Whether most of (_COPY_SHARE) a block's words are in texts found again in ``page`` (the
    page's text, word_key), the block's own copy aside: a copy of text the page shows."""
    texts = [key for key in (word_key(t) for t in element.itertext()) if key]
    words = sum(len(key.split()) for key in texts)
    return words > 0 and sum(len(key.split()) for key in texts if page.count(key) >= 2) >= _COPY_SHARE * words


_QUOTE_WORDS = 4  # a quotation of fewer words is a label or an empty frame
_EMBEDDED_MEDIA = ("iframe", "video", "embed", "object", "table")


class _Paragraphs:
    """The page's paragraphs, their texts (spaces normalized, lower-cased), and the paragraphs that
    hold each quote's key word: a quote's first words are looked for in the paragraphs holding its
    key word, not in every paragraph of the page (a pull quote in each of thousands of blocks took
    seconds). A text holding a quote's first words (lower-cased, joined by spaces) holds each of
    their inner words as a word of its own (the first and the last may end or start a longer one):
    the key word is the inner word fewest of the quotes have (a number or a name, rather than "the")."""

    def __init__(self, tree: HtmlElement, heads: list[str]) -> None:
        self.texts = [(p, " ".join(text_of(p).split()).lower()) for p in tree.iter("p")]
        inner = {head: head.split(" ")[1:-1] for head in heads}
        counts = Counter(word for words in inner.values() for word in set(words))
        self.key = {head: min(words, key=counts.__getitem__) if words else None for head, words in inner.items()}
        wanted = set(self.key.values())
        self.holding_word: dict[str | None, list[int]] = {None: list(range(len(self.texts)))}
        for i, (_, text) in enumerate(self.texts):
            for word in wanted.intersection(text.split(" ")):
                self.holding_word.setdefault(word, []).append(i)

    def holding(self, head: str) -> Iterator[HtmlElement]:
        """The paragraphs whose text holds ``head``, in order."""
        found = self.holding_word.get(self.key[head], [])
        return (p for p, text in map(self.texts.__getitem__, found) if head in text)


def unwrap_quote_figures(tree: HtmlElement) -> None:
    """Make a <figure> that frames a quotation a <div>: trafilatura deletes every <figure> as an
    image (its captions and credits are not body), and with it the quotations that the article
    sets apart in one, the markup HTML prescribes for a quote with its attribution (a speaker's
    words between two paragraphs, a customer's testimony, with a head-shot and a name). A frame
    whose quotation holds a link is an embedded post (a tweet, a shared page: their text links
    its source), one holding media or a table is not a quote, and a pull quote repeating a
    paragraph of the page stays out, so as not to print the sentence twice. The frame loses its
    class and id, which name its style: merge_split_bodies would join the quotes of one style
    into the first. Before drop_non_content, which would take the embeds' frames away."""
    heads = {}  # the frames of quotations, and the first words of their quotes
    for figure in tree.iter("figure"):
        quotes = list(figure.iter("blockquote"))
        if not quotes or any(next(quote.iter("a"), None) is not None for quote in quotes):
            continue
        if next(figure.iter(*_EMBEDDED_MEDIA), None) is not None:
            continue
        words = " ".join(text_of(quote) for quote in quotes).split()
        if len(words) >= _QUOTE_WORDS:
            heads[figure] = " ".join(words[:2 * _QUOTE_WORDS]).lower()
    if not heads:
        return
    paragraphs = _Paragraphs(tree, list(heads.values()))
    for figure, head in heads.items():
        if any(figure not in p.iterancestors() for p in paragraphs.holding(head)):
            continue
        figure.tag = "div"
        _unname(figure)  # a frame's style: as a named block, merge_split_bodies would join the quotes


# Of those, the ones that can wrap other blocks. Misnested CMS markup (a header's menu <button> or
# <nav> left open) makes the parser put the whole article inside one: then it is the page's main
# container, not furniture, and deleting it loses the article (issue 17: 11 of 16 empty outputs).
_WRAPPERS = ("aside", "button", "dialog", "fieldset", "footer", "label", "menu", "nav")
_MISNESTED_SHARE = 0.4  # of the page's text: furniture never holds this much
_BODY_PARAGRAPH = 150  # characters; a container with three such paragraphs may hold the article
_LONG_PARAGRAPHS = f"count(.//p[string-length(normalize-space(.)) >= {_BODY_PARAGRAPH}]) >= 3"
_HOLDS_ARTICLE = XPath(_LONG_PARAGRAPHS)
_HOLDS_CONTENT = XPath(f".//main or .//article or .//h1 or {_LONG_PARAGRAPHS}")


_TITLE_WORDS = 4  # a disclosure's title: "Menu", "Search", "Show more" are shorter
_TITLE_BLOCKS = XPath(".//*[self::h2 or self::h3 or self::h4 or self::h5 or self::h6 or self::p]")


def _is_disclosure_title(button: HtmlElement) -> bool:
    """A button that is the title of a disclosure (a question of an FAQ, an accordion's section
    heading): it holds a heading or a paragraph, or toggles a panel (aria-expanded) with a title's
    words, and no link."""
    if next(button.iter("a"), None) is not None:
        return False
    if _TITLE_BLOCKS(button):
        return True
    return button.get("aria-expanded") is not None and word_count(text_of(button)) >= _TITLE_WORDS


_ASIDE_LINK_SHARE = 0.3
_AMID_PARAGRAPHS = XPath(f"count(./p[string-length(normalize-space(.)) >= {_BODY_PARAGRAPH}]) >= 2")


def _is_prose_aside(aside: HtmlElement, amid: dict[HtmlElement, bool]) -> bool:
    """An <aside> amid the article that holds prose: a box of background or an example the article
    sets apart between its paragraphs. Its parent holds the article's paragraphs (two long ones of
    its own), and the aside a paragraph of prose with few links (related stories, a sidebar's menus
    are links). ``amid`` keeps each parent's answer: asides set between thousands of paragraphs
    would each count them all again."""
    parent = aside.getparent()
    if parent is None:
        return False
    if parent not in amid:
        amid[parent] = _AMID_PARAGRAPHS(parent)
    if not amid[parent]:
        return False
    if not any(TEXT_LENGTH(p) >= _BODY_PARAGRAPH for p in aside.iter("p")):
        return False
    return _link_share(aside) < _ASIDE_LINK_SHARE


def drop_non_content(tree: HtmlElement) -> None:
    """Delete elements that never hold article text, keeping the text that follows them; a
    wrapper holding most of the page's text is misnested markup and becomes a plain <div>, a
    button that titles a disclosure (_is_disclosure_title) a <div> too, and a quotation's
    <footer> (its attribution) a paragraph of the quotation."""
    for button in tree.iter("button"):
        if _is_disclosure_title(button):
            button.tag = "div"
    amid: dict[HtmlElement, bool] = {}
    for aside in tree.iter("aside"):
        if _is_prose_aside(aside, amid):
            aside.tag = "div"
    body = tree.find("body")
    total = TEXT_LENGTH(tree if body is None else body) or 1
    small: set[HtmlElement] = set()  # wrappers below the share, and so everything inside them
    for wrapper in tree.iter(*_WRAPPERS):
        if wrapper.tag == "footer" and next(wrapper.iterancestors("blockquote"), None) is not None:
            # a quotation's attribution (HTML's <blockquote><p>...</p><footer>— Name</footer>): the
            # quote's own, a paragraph of it, not the page's footer (trafilatura drops <footer> too)
            wrapper.tag = "p"
            continue
        if any(outer in small for outer in wrapper.iterancestors(*_WRAPPERS)):
            continue
        if TEXT_LENGTH(wrapper) >= _MISNESTED_SHARE * total and _HOLDS_CONTENT(wrapper):
            wrapper.tag = "div"
        else:
            small.add(wrapper)
    strip_elements(tree, *_NEVER_BODY, with_tail=False)


# The headline's <header>: at most this much text (a headline, a standfirst, a byline, a date, labels)
_HEADLINE_HEADER_CHARS = 1500
_HOLDS_STORY = XPath(f".//article or .//main or {_LONG_PARAGRAPHS}")


def drop_headline_header(tree: HtmlElement, headings: list[HtmlElement]) -> None:
    """Remove the <header> that holds the page's <h1>: the headline's block, with the standfirst
    (a summary set as a subheading or a paragraph under the headline), the byline, the date, a
    credit or a label; no body. trafilatura keeps its subheading and paragraphs, inside the
    article container, as the body's first lines (issue 17: of the words of such blocks that the
    body kept on both tuning sets, the truths drop 200 and keep 32, mostly two-word labels). Not
    a header holding much text (over _HEADLINE_HEADER_CHARS characters, a quarter of the page's),
    an <article>, a <main> or three paragraphs of prose: misnested markup that wraps the article
    in it. ``headings`` are the page's <h1> elements (extract.body has read the headline's forms
    from them before)."""
    body = tree.find("body")
    if body is None or not headings:
        return
    headers = {
        header
        for heading in headings
        for header in heading.iterancestors("header")
        if TEXT_LENGTH(header) <= _HEADLINE_HEADER_CHARS and not _HOLDS_STORY(header)
    }
    if not headers:
        return
    quarter = TEXT_LENGTH(body) / 4
    doomed = [header for header in headers if TEXT_LENGTH(header) <= quarter and body in header.iterancestors()]
    for header in doomed:
        if not any(outer in doomed for outer in header.iterancestors("header")):
            header.drop_tree()


# the name trafilatura deletes a block by as an endless page's appended articles, unless the block
# holds an <h1> (its RAW_TREE_PRUNE_XPATH)
_SCROLL_NAME = re.compile(r"infinite-?scroll")


def unname_headline_scrollers(headings: list[HtmlElement]) -> None:
    """The blocks around the page's headline lose a name for infinite scroll: trafilatura deletes
    such a block as an appended article unless it holds an <h1>, and the page's own is known by its
    headline, which drop_headline_header takes away with its header (or which is no <h1>:
    extract.body.shown_headline). The appended articles, beside it, keep theirs."""
    for block in headings[0].iterancestors("div", "section", "aside") if headings else ():
        for attribute in ("class", "id"):
            value = block.get(attribute)
            if value and _SCROLL_NAME.search(value):
                block.set(attribute, _SCROLL_NAME.sub("", value))


_SEGMENTS = XPath("//div[@hidden][starts-with(@id, 'S:')]")


def place_streamed_segments(tree: HtmlElement) -> None:
    """Put the parts of a streamed server-rendered page where its script would show them.

    React streams each late part of a page as ``<div hidden id="S:n">`` at the end of the body,
    and a script moves it into the placeholder ``<template id="B:n">`` (a suspense boundary, $RC)
    or ``<template id="P:n">`` (a part of a part, $RS: its placeholder sits in another streamed
    part). With scripts gone the parts look hidden, and the article's first sections are dropped
    as hidden furniture.
    """
    segments = _SEGMENTS(tree)
    if not segments:
        return
    placeholders = {t.get("id"): t for t in tree.iter("template") if (t.get("id") or "")[:2] in ("B:", "P:")}
    for segment in segments:
        number = segment.get("id")[2:]
        placeholder = placeholders.get("P:" + number, placeholders.get("B:" + number))  # P:n is made for S:n
        if placeholder is None:
            del segment.attrib["hidden"]
            continue
        placeholder.tag, placeholder.text = "div", segment.text
        placeholder.extend(segment)
        segment.drop_tree()


_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_CLIMB = 3  # how far above a paragraph container a split wrapper may sit


_PARAGRAPH_CHARS = 40  # a <p> of more is a paragraph of the body, not a label or a caption


def _is_paragraph(p: HtmlElement) -> bool:
    return len(text_of(p).strip()) > _PARAGRAPH_CHARS


def _has_paragraphs(element: HtmlElement) -> bool:
    return any(map(_is_paragraph, element.iterdescendants("p")))


def _class_key(element: HtmlElement) -> tuple[str, str] | None:
    css = element.get("class") if isinstance(element.tag, str) else None
    return (element.tag, css) if css else None


def _holds_text(element: HtmlElement) -> bool:
    """Whether an element or the text after it shows any words (a comment's own text does not)."""
    if (element.tail or "").strip():
        return True
    return isinstance(element.tag, str) and any(t.strip() for t in element.itertext())


def _absorb(target: HtmlElement, source: HtmlElement, indexes: dict[HtmlElement, dict]) -> None:
    """Move source's children into target, descending into children both share (same tag and
    class) so that the paragraph containers themselves end up as one. ``indexes`` holds each
    target's first child of each tag and class, and its last child holding text, kept as children
    arrive: searching the target's children for every child moved took quadratic time over
    thousands of blocks.

    The descent keeps the text in order: it joins a child to its twin only while no text of the
    source has gone before it and no text of the target follows the twin. Sections whose heading
    stands beside their paragraphs' container (a numbered list of tips, each a block of a heading
    and a text block) would otherwise end as all the texts, then all the headings."""
    moved = bool(source.text and source.text.strip())
    if moved:
        last = target[-1] if len(target) else None
        if last is None:
            target.text = (target.text or "") + source.text
        else:
            last.tail = (last.tail or "") + source.text
    index = indexes.get(target)
    if index is None:
        index = indexes[target] = {}
        for c in target:
            if key := _class_key(c):
                index.setdefault(key, c)
        index[None] = next((c for c in reversed(target) if _holds_text(c)), None)
    for child in list(source):
        key = _class_key(child)
        twin = index.get(key) if key else None
        if twin is not None and not moved and index[None] in (None, twin) and _has_paragraphs(child):
            _absorb(twin, child, indexes)
            index[None] = twin
        else:
            target.append(child)
            if key:
                index.setdefault(key, child)
            if _holds_text(child):
                index[None], moved = child, True


def _same_text(one: HtmlElement, other: HtmlElement) -> bool:
    """A copy (drop_repeated_copies keeps one), not a continuation."""
    return TEXT_LENGTH(one) == TEXT_LENGTH(other) and text_of(one).split() == text_of(other).split()


def _take_leading_headings(node: HtmlElement) -> None:
    """Move the headings just before node (past blocks without text) to its start: the first
    section's title, when headings title the sections of a merged body."""
    headings = []
    for sibling in node.itersiblings(preceding=True):
        if sibling.tag in _HEADINGS:
            headings.append(sibling)
        elif _holds_text(sibling):
            break
    if not headings:
        return
    headings[0].tail = (headings[0].tail or "") + (node.text or "")
    node.text = None
    for heading in headings:  # nearest first: each goes before the one inserted after it
        node.insert(0, heading)


def _text_sums(parent: HtmlElement, members: dict[HtmlElement, int]) -> tuple[dict[HtmlElement, int], list[int], list[int]]:
    """Each child's position, and the running text lengths of the children that are not
    ``members`` and of those that are (before each position): the text between two members, read
    once per group rather than once per member (thousands of boxes amid a body)."""
    position: dict[HtmlElement, int] = {}
    amid, own = [0], [0]
    for i, child in enumerate(parent):
        position[child] = i
        length = TEXT_LENGTH(child) if isinstance(child.tag, str) else len((child.tail or "").strip())
        amid.append(amid[-1] + (0 if child in members else length))
        own.append(own[-1] + (length if child in members else 0))
    return position, amid, own


def _children_by_kind(parent: HtmlElement) -> dict[tuple[str, str | None], list[HtmlElement]]:
    """An element's children by tag and class, each kind's in order."""
    kinds: dict[tuple[str, str | None], list[HtmlElement]] = {}
    for child in parent:
        if isinstance(child.tag, str):
            kinds.setdefault((child.tag, child.get("class")), []).append(child)
    return kinds


def merge_split_bodies(tree: HtmlElement) -> None:
    """Join article bodies split over sibling containers of the same tag and class.

    Templates that interleave ads or widgets cut the body into siblings such as two
    ``div.article__body``; trafilatura keeps the first one only (notes, failure 2). Moving the
    later siblings' content into the first makes one container, whatever extractor runs next.
    """
    # in document order: source lines tie on minified pages, and set order varies between runs
    containers = dict.fromkeys(p.getparent() for p in tree.iter("p") if p.getparent() is not None)
    done: set[HtmlElement] = set()
    # a parent's children of one tag and class, their order, and those holding paragraphs: read
    # once per group, not once per member (thousands of short blocks took seconds)
    groups: dict[tuple, tuple[list[HtmlElement], dict[HtmlElement, int], list[HtmlElement]]] = {}
    texts: dict[tuple, tuple[dict[HtmlElement, int], list[int], list[int]]] = {}  # a group's _text_sums
    # a parent's children by tag and class, read once per parent rather than once per class (thousands
    # of blocks each of a class of its own, "note-1", "note-2", took seconds)
    by_kind: dict[HtmlElement, dict[tuple[str, str | None], list[HtmlElement]]] = {}
    for container in containers:
        node = container
        for _ in range(_CLIMB):
            if node is None or node in done or (parent := node.getparent()) is None:
                break
            css = node.get("class")
            if css:
                key = (parent, node.tag, css)
                if key not in groups:
                    if (kinds := by_kind.get(parent)) is None:
                        kinds = by_kind[parent] = _children_by_kind(parent)
                    members = kinds[node.tag, css]
                    groups[key] = (members, {c: i for i, c in enumerate(members)}, list(filter(_has_paragraphs, members)))
                members, order, holding = groups[key]
                if holding and order[holding[0]] < order[node] and holding[0] not in done:
                    node = holding[0]  # an earlier member, joined to this one by a merge above them
                siblings = [s for s in holding if order[s] > order[node]]
                twins = [s for s in siblings if not _same_text(s, node)]
                if not twins:  # copies of node, so of each other: not judged again, pair by pair
                    done.update(siblings)  # (a page of thousands of copies took minutes)
                else:
                    if key not in texts:
                        texts[key] = _text_sums(parent, order)
                    position, amid, own = texts[key]
                    first, last = position[node], position[twins[-1]]
                    if amid[last] - amid[first] > own[last + 1] - own[first]:
                        # blocks set amid a body holding more text than they do (boxes, banners
                        # repeated along the article) are not its parts; nor is any of them judged
                        # again (thousands of boxes would be, each against all that follow it)
                        done.update(members)
                        break
                    # and the blocks between them, where they stand (a list of key points, a table,
                    # a code listing, a section's heading, a box set amid the article): left out, they
                    # came after the merged body, out of the page's order, or fell outside the one
                    # container that is the body; in it, the furniture rules judge them as any other.
                    # When nothing between them but headings holds text, those title the sections,
                    # and the heading before the first section goes with it
                    copies = set(siblings).difference(twins)
                    indexes: dict[HtmlElement, dict] = {}
                    between = []
                    for sibling in node.itersiblings():
                        between.append(sibling)
                        if sibling is twins[-1]:
                            break
                    if any(s.tag == "p" and s not in order and _is_paragraph(s) for s in between):
                        # the parent holds the body's own paragraphs between them: they are blocks
                        # of one body (a list of steps before a section, another after it), not
                        # parts of a body split out of it
                        done.update(members)
                        break
                    titles = all(
                        s in order or s.tag in _HEADINGS or not _holds_text(s) for s in between
                    )
                    if titles:
                        _take_leading_headings(node)
                    for sibling in between:
                        if sibling in order and sibling not in copies:
                            _absorb(node, sibling, indexes)
                            sibling.getparent().remove(sibling)
                            done.add(sibling)
                        elif sibling not in copies:
                            node.append(sibling)
                            if node in indexes and _holds_text(sibling):
                                indexes[node][None] = sibling
                    done.add(node)
                    groups.clear()  # the tree changed
                    texts.clear()
                    by_kind.clear()
                    break
            node = parent


# Class/id words of page furniture that extractors keep when it sits inside or next to the article
# (notes, failures 1 and 4; seeds: share bars, newsletter boxes, comment widgets, skip links, font
# switchers, tickers; and standfirsts, which like the headline are not body). A class or id token
# must start with one ("Newsletter-title", "latest-news-box"), so that modifiers such as
# "field--label-hidden" or "article-overlay-handle" do not match.
_FURNITURE_WORDS = (
    "newsletter", "signup", "sign-up", "subscribe", "subscription", "promo", "related", "recirc",
    "latest-news", "more-stories", "trending", "popular", "most-read", "share", "sharing", "social",
    "sharebar", "article-tools", "tools", "reprint", "print-header", "scrim", "modal", "popup",
    "breadcrumb", "skip-link", "skiplinks", "sr-only", "visually-hidden", "screen-reader-text",
    "font-size", "fontsize", "text-size", "textsize", "ticker", "breaking-news", "outbrain", "taboola",
    "comment", "disqus", "byline", "author-bio", "caption", "credit", "copyright",
    "advert", "sponsored", "ad-container",
    "dek", "standfirst", "subheadline", "sub-headline", "article-subline",
)
# A class or id value holding a token (between str.split's spaces, which are the regular expression's
# \s) that starts with a furniture word, optionally plural, and ends there or goes on after a "-" or
# "_" or, the word ending in a small letter, at a capital ("PromoSmall", "ShareBar": camelCase parts;
# "Shareholders" goes on in the same word); or one of _HIDDEN_CLASSES in any case (lower() maps no other character to their letters, re.I
# some: the Kelvin sign, the long s). One search a value rather than one per token.
_FURNITURE_NAME = re.compile(
    rf"(?<!\S)(?:(?i:(?:{'|'.join(map(re.escape, _FURNITURE_WORDS))})s?)(?:[-_]|(?!\S)|(?<=[a-z])(?=[A-Z]))"
    rf"|(?:{'|'.join(''.join(f'[{c.upper()}{c}]' if c.isalpha() else re.escape(c) for c in name) for name in sorted(_HIDDEN_CLASSES))})(?!\S))"
)
_MAX_SHARE = 0.25  # furniture never holds most of a page's text: larger matches are the article itself


def _is_furniture_name(names: str) -> bool:
    """Whether a token of a class or id value is one of _HIDDEN_CLASSES or starts with a furniture word."""
    return _FURNITURE_NAME.search(names) is not None


_COMMENT_TYPES = {"comment", "usercomments"}  # schema.org's types of a reader's comment


def _declares_a_comment(name: str, value: str) -> bool:
    """Whether an element's microdata declares it a reader's comment (``itemprop="comment"``, or
    ``itemtype`` schema.org's Comment or UserComments): furniture as a comment section named so is,
    whatever its class and id say (a template of hashed names declares its comments all the same)."""
    if name == "itemprop":
        return "comment" in value.lower().split()
    return value.rstrip("/").rsplit("/", 1)[-1].lower() in _COMMENT_TYPES


def _furniture_candidates(body: HtmlElement) -> tuple[list[HtmlElement], list[HtmlElement]]:
    """The elements of the body named as furniture (class or id, _is_furniture_name, or declared
    readers' comments: _declares_a_comment), and the others but the body hidden (a hidden
    attribute, a style hiding them) or tooltips (role="tooltip"), in document order; and those
    hidden by their style."""
    # one walk rather than XPaths for the names and the styles (their string results cost more),
    # reading each element's attributes in one call (a fifth faster than one call a name); each
    # distinct class or id value judged once
    judged: dict[str, bool] = {}
    candidates = []
    hidden = []  # the candidates hidden by their style
    for element in body.iter(Element):
        named = styled = shown_apart = False
        for name, value in element.items():
            if name == "class" or name == "id":
                if (named := judged.get(value)) is None:
                    named = judged[value] = _is_furniture_name(value)
                if named:
                    break
            elif name == "style":
                styled = _HIDDEN_STYLE.search(value) is not None
            elif name == "hidden" or (name == "role" and value == "tooltip"):  # a tooltip: shown while the pointer rests on its anchor
                shown_apart = True
            elif (name == "itemtype" or name == "itemprop") and _declares_a_comment(name, value):
                named = True
                break
        if named:
            candidates.append(element)
        elif (styled or shown_apart) and element is not body:
            candidates.append(element)
            if styled:
                hidden.append(element)
    return candidates, hidden


def prune_furniture(tree: HtmlElement) -> None:
    """Remove hidden elements and containers named as page furniture, unless they hold a large
    share of the page's text (an article whose class merely mentions "share" or "related"). A
    tooltip (role="tooltip": a note a reader sees while the pointer rests on its marker) is hidden
    too: left in, its text splits the sentence around the marker. A hidden block kept that
    continues the story (_continues_prose) is shown."""
    body = tree.find("body")
    if body is None:
        return
    candidates, hidden = _furniture_candidates(body)
    total = TEXT_LENGTH(body) or 1
    # a hidden block of the article's paragraphs right after a paragraph of it is the rest of the
    # story behind a "read more" that its reader opens: shown, or trafilatura's own pruning of
    # hidden elements drops it (a hidden list of notes or a dialog's text stays hidden)
    continuing = {
        element for element in candidates
        if (element in hidden or element.get("hidden") is not None) and _continues_prose(element)
    }
    doomed = [
        element
        for element in dict.fromkeys(candidates)
        if element.tag not in ("main", "article")
        and TEXT_LENGTH(element) < _MAX_SHARE * total
        and not _HOLDS_ARTICLE(element)
        and element not in continuing
    ]
    # a large block hidden by its style whose text the page shows elsewhere: a copy for machines;
    # so is a continuation whose text the page shows (a phone layout's copy of the last paragraphs)
    spared = set(hidden).difference(doomed)
    copies = [e for e in hidden if e in spared and TEXT_LENGTH(e) >= _COPY_CHARS]
    copies += continuing.difference(copies)
    if copies:
        page = word_key(text_of(body))
        doomed += [e for e in copies if _shown_elsewhere(e, page)]
    for element in doomed:
        if element.getparent() is not None:
            element.drop_tree()
    for element in set(candidates).difference(doomed):
        if element in continuing or _continues_prose(element):
            _show(element)


CONTINUATION_PARAGRAPHS = 2  # a hidden block of this many paragraphs or more, after paragraphs like them
CONTINUATION_LENGTH = 0.5  # of the shown paragraphs' mean length, at least, in the hidden ones'


def _continues_prose(element: HtmlElement) -> bool:
    """Whether a block follows a paragraph and holds an article's paragraphs (_HOLDS_ARTICLE), or
    paragraphs only, CONTINUATION_PARAGRAPHS or more, of the class of the one it follows and of
    about the length of those shown before it (CONTINUATION_LENGTH): the rest of a story of short
    paragraphs, not a list of notes or sources."""
    previous = element.getprevious()
    if previous is None or previous.tag != "p":
        return False
    if _HOLDS_ARTICLE(element):
        return True
    children = list(element)
    if (len(children) < CONTINUATION_PARAGRAPHS or any(child.tag != "p" for child in children)
            or children[0].get("class") != previous.get("class")):
        return False
    shown = list(islice(element.itersiblings("p", preceding=True), CONTINUATION_PARAGRAPHS + 1))
    mean = sum(map(TEXT_LENGTH, shown)) / len(shown)
    return sum(map(TEXT_LENGTH, children)) / len(children) >= CONTINUATION_LENGTH * mean


_LAYOUT_CONTENT = XPath(
    ".//*[self::p or self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6 or self::ul"
    " or self::ol or self::blockquote or self::table or self::article or self::section]"
)
_PAGE_CONTENT = XPath(".//*[self::table or self::article or self::section or self::h1]")
_GRID_ROWS = 3  # a data table: at least this many rows of cells, and no cell holding most of its text
_MAIN_CELL = 0.5


def _is_layout(rows: list[HtmlElement], cells: list[HtmlElement]) -> bool:
    """Cells holding page structure (tables, articles, the headline) make a layout table; cells with
    paragraphs or lists only when the table is no grid, i.e. one cell holds the page's text.
    Editors write paragraphs into the cells of data tables too (comparison charts)."""
    if any(_PAGE_CONTENT(cell) for cell in cells):
        return True
    if not any(_LAYOUT_CONTENT(cell) for cell in cells):
        return False
    lengths = [TEXT_LENGTH(cell) for cell in cells]
    columns = sorted(len(row) for row in rows)[len(rows) // 2] if rows else 0
    return len(rows) < _GRID_ROWS or columns < 2 or max(lengths) > _MAIN_CELL * (sum(lengths) or 1)


def unwrap_layout_tables(tree: HtmlElement) -> None:
    """Turn tables used for page layout into plain blocks: extractors otherwise flatten each row
    into one line with the menu, headline and dateline beside the body (notes, failure 5). Data
    tables stay tables."""
    for table in reversed(list(tree.iter("table"))):
        rows = table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr")
        cells = [cell for row in rows for cell in row if cell.tag in ("td", "th")]
        if not _is_layout(rows, cells):
            continue
        for element in [table, *table.xpath("./thead|./tbody|./tfoot"), *rows, *cells]:
            element.tag = "div"
            for attribute in ("width", "valign", "colspan", "rowspan", "border"):
                element.attrib.pop(attribute, None)


# Characters of text directly in a block before it counts as paragraphs. Short bare text is mostly
# a teaser in a listing widget, unless it sits beside <p> (a bare lead) or among sibling blocks of
# bare text (templates that write every paragraph as a <div>).
_BARE_LEAD = 80
_BARE_TEXT = 200
_BARE_SIBLINGS = 3
_NEIGHBOURS = 3
_DIVS_READ = 750  # trafilatura: 3 x MIN_EXTRACTED_SIZE (main_extractor: potential_tags.add("div"))


def _direct_text(element: HtmlElement) -> str:
    return (element.text or "") + "".join(child.tail or "" for child in element)


def wrap_bare_text(tree: HtmlElement) -> None:
    """Wrap runs of text written directly in a <div> (with their inline markup) into <p>.

    Extractors score paragraphs; a lead or a whole article typed as bare text in a container is
    otherwise dropped, or rescued with the page's menus around it (notes, failure 4). The page's
    <body> too: hand-written pages type their text straight into it between headings, lists and
    a few <P> (issue 17: half of a page's sections lost).
    """
    reads_divs = _paragraph_text_under(tree, _DIVS_READ)
    bare = {b: len(_direct_text(b).strip()) for b in tree.iter("body", "div", "section", "article", "main", "td")}
    bare = {b: length for b, length in bare.items() if length >= _BARE_LEAD}
    per_parent = Counter(b.getparent() for b in bare)
    wrapped = set()
    for block, length in bare.items():
        if length < _BARE_TEXT and block.find("p") is None and per_parent[block.getparent()] < _BARE_SIBLINGS:
            continue
        wrapped.add(block)
        children = list(block)
        run = block.makeelement("p", {})
        run.text, block.text = block.text, None
        rebuilt: list[HtmlElement] = []
        for child in children:
            if isinstance(child.tag, str) and child.tag not in INLINE:
                rebuilt.extend(_flush(run))
                rebuilt.append(child)
                run = block.makeelement("p", {})
                run.text, child.tail = child.tail, None
            else:
                run.append(child)
        rebuilt.extend(_flush(run))
        block[:] = rebuilt
    if reads_divs:
        _wrap_short_neighbours(wrapped)


def _paragraph_text_under(tree: HtmlElement, most: int) -> bool:
    """Whether the text in the page's <p> elements (a nested one's counted again) is under ``most``
    characters: read until it is not, which on an article is a few paragraphs in."""
    length = 0
    for p in tree.iter("p"):
        for text in p.itertext():
            length += len(text)
        if length >= most:
            return False
    return True


def _wrap_short_neighbours(wrapped: set[HtmlElement]) -> None:
    """Wrap the short text blocks beside the blocks wrap_bare_text wrapped (within _NEIGHBOURS
    levels under their parent), on a page short of <p> text: a template writing paragraphs as
    <div> writes its labels, subheadings and rows of a schedule so too. trafilatura reads <div> as
    text only on a page with under _DIVS_READ characters in <p>; once the long blocks are
    paragraphs, the page has more, and it would drop the rest."""
    parents = {b.getparent() for b in wrapped if b.tag != "body"} - {None}
    for parent in parents:
        if parent.tag in ("body", "html"):
            continue
        for block in _leaf_text_blocks(parent, _NEIGHBOURS):
            run = block.makeelement("p", {})
            run.text, block.text = block.text, None
            run.extend(list(block))
            block.append(run)


def _leaf_text_blocks(parent: HtmlElement, depth: int) -> list[HtmlElement]:
    found = []
    for child in parent:
        if child.tag not in ("div", "section"):
            continue
        if holds_only_inline(child):
            if text_of(child).strip():
                found.append(child)
        elif depth > 1:
            found.extend(_leaf_text_blocks(child, depth - 1))
    return found


_GRID_BLOCKS = 3  # rows of a grid written as <div>: a specifications box, a list of key facts
_WORD = re.compile(r"[^\W\d_]")  # a letter: a cell of words, not a figure


def _is_text_row(element: HtmlElement) -> bool:
    """A text cell, or a <div> of two or more text cells (a label and its value)."""
    if is_text_div(element):
        return True
    return element.tag == "div" and len(element) >= 2 and all(isinstance(c.tag, str) and is_text_div(c) for c in element)


def wrap_text_grids(container: HtmlElement | None) -> None:
    """Wrap the cells of grids written as <div> in the body container into <p>: a block of
    _GRID_BLOCKS or more rows, each a text cell or a row of text cells, some of them rows (a
    product's specifications, pros and cons: "Battery" beside "Up to 150 hours"). trafilatura
    reads <div> as text only on pages short of <p> text (wrap_bare_text), so on an article it
    dropped them. Grids of figures ("100" over "Hours of research", a calculator's results) are
    a widget's, and stay as they are."""
    if container is None:
        return
    cells: list[HtmlElement] = []
    for block in container.iter("div"):
        rows = [c for c in block if isinstance(c.tag, str)]
        if len(rows) < _GRID_BLOCKS or not all(map(_is_text_row, rows)) or all(map(is_text_div, rows)):
            continue
        found = [cell for row in rows for cell in ([row] if is_text_div(row) else list(row))]
        if all(_WORD.search(text_of(cell)) for cell in found):
            cells.extend(found)
    for cell in cells:
        run = cell.makeelement("p", {})
        run.text, cell.text = cell.text, None
        run.extend(list(cell))
        cell.append(run)


def _flush(run: HtmlElement) -> list[HtmlElement]:
    """The run as a paragraph if it holds text, else its inline children as they were."""
    if "".join(run.itertext()).strip():
        return [run]
    return list(run)


_LINK_SHARE = 0.6  # of a paragraph's text inside links: a teaser or "read more" pointer
_TEASER_WORDS = 60  # words: a longer paragraph is prose, whatever its links (a pointer to three stories runs to 40)
_LABEL_WORDS = 3  # "DON'T MISS", "You may also like...": a label above a run of teasers


def _link_share(element: HtmlElement) -> float:
    text = sum(len(t.strip()) for t in element.itertext())
    linked = sum(len(t.strip()) for a in element.iter("a") for t in a.itertext())
    return linked / text if text else 0.0


def _link_counter() -> Callable[[HtmlElement], tuple[int, int, int]]:
    """For any element, the characters of its text and of its links' texts (spaces stripped, as
    _link_share counts them) and its links, each element read once however many of its ancestors
    are asked about: nested blocks are not read again for every level."""
    memo: dict[HtmlElement, tuple[int, int, int]] = {}

    def totals(element: HtmlElement) -> tuple[int, int, int]:
        if (found := memo.get(element)) is not None:
            return found
        text = len((element.text or "").strip()) if isinstance(element.tag, str) else 0  # (a comment's text is none)
        linked = links = 0
        for child in element:
            child_text, child_linked, child_links = totals(child)
            text += child_text + len((child.tail or "").strip())
            linked += child_linked
            links += child_links
        if element.tag == "a":
            linked, links = linked + text, links + 1
        memo[element] = found = (text, linked, links)
        return found

    return totals


def _elsewhere(href: str, own: str) -> bool:
    """Whether a link leads to a place on the page or (the page's own site known) to another site."""
    return href.startswith("#") or bool(own) and link_target(href) not in ("", own)


def _as_served(href: str, url: str | None) -> str:
    """A link to a place on the page itself written with the page's path or address ("/story#part")
    as the in-page link it is ("#part")."""
    before, hash_, fragment = href.partition("#")
    if not hash_ or not before or not url:
        return href
    target, page = urlsplit(urljoin(url, before)), urlsplit(url)
    return f"#{fragment}" if (target.netloc, target.path) == (page.netloc, page.path) else href


def _leads_off_site(href: str, own: str) -> bool:
    """Whether a link leads to another site than the page's own (known)."""
    return not href.startswith("#") and _elsewhere(href, own)


_SECTION_WORDS = 10  # a sentence's worth: a share bar's or a like button's labels hold fewer


def _introduces(heading: HtmlElement) -> bool:
    """Whether a sentence's worth of text follows a heading before the next heading: a subheading
    opens a section."""
    node = heading
    for _ in range(_CLIMB):  # a heading alone in its wrapper: the section follows the wrapper
        if node.getnext() is not None or node.getparent() is None:
            break
        node = node.getparent()
    for sibling in node.itersiblings():
        if not isinstance(sibling.tag, str) or sibling.tag in ("script", "style"):
            continue
        if sibling.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            return False
        if word_count(text_of(sibling)) >= _SECTION_WORDS:
            return True
    return False


def drop_link_paragraphs(tree: HtmlElement, url: str | None) -> None:
    """Remove paragraphs and headings that are mostly a link (related stories inserted in the body,
    "READ MORE: ..." pointers, teaser headlines) and the short label heading such a run. Extractors
    keep them because they sit inside the article container (notes, failure 4). A heading whose
    links lead to another site (the product, company or source a section is about) or to a place
    on the page, and that opens a section of text, is the article's own subheading: teaser
    headlines lead to the site's own stories. So is a paragraph whose links all lead to other sites:
    a source, a reference or an item of a reading list (issue 17: a report's list of patches). A
    heading or paragraph that is the whole text of a link (<a><h3>...</h3></a>: a card's title) is
    judged by that link alike; a link to the page's own address with a fragment leads to a place on
    the page (subheadings that link to themselves)."""
    own = link_target(url) if url else ""
    for p in list(tree.iter("p", "h2", "h3", "h4", "h5", "h6")):
        wrapper = None
        if next(p.iterdescendants("a"), None) is None:
            if (wrapper := p.getparent()) is None or wrapper.tag != "a":
                continue  # the common case, decided without reading the text
        if word_count(text_of(p)) > _TEASER_WORDS or (wrapper is None and _link_share(p) < _LINK_SHARE):
            continue
        # (a card's title is all link text: the link around it)
        hrefs = [_as_served(a.get("href") or "", url) for a in ([wrapper] if wrapper is not None else p.iter("a"))]
        if p.tag != "p" and all(_elsewhere(href, own) for href in hrefs) and _introduces(p):
            continue
        if p.tag == "p" and all(_leads_off_site(href, own) for href in hrefs):
            continue  # a source or reference the article lists
        label = p.getprevious()
        if (
            label is not None
            and label.tag in ("p", "h2", "h3", "h4", "h5", "h6", "strong")
            and word_count(text_of(label)) <= _LABEL_WORDS
            and label.find(".//a") is None
        ):
            label.drop_tree()
        p.drop_tree()


_PROSE_BLOCKS = ("p", "h2", "h3", "h4", "ul", "ol", "blockquote")
_SECTIONS_GAIN = 1.5
_ARTICLE_CHARS = 3 * _BODY_PARAGRAPH  # characters of prose that may be an article's
_MENU_LINK_SHARE = 0.5  # of a block's text in links: a menu, whose prose (its panels' blurbs) is no article's
_BODY_ATTRIBUTES = ("class", "id", "role", "itemprop")  # the attributes BODY_XPATH reads


def _body_container(tree: HtmlElement) -> HtmlElement | None:
    """The container trafilatura takes for the body: the first that BODY_XPATH names."""
    return next((found for expression in BODY if (found := first_match(expression, tree)) is not None), None)


OWN_ARTICLE_CHARS = 5 * _BODY_PARAGRAPH  # characters: the headline's block holding this much text besides its header holds an article


# a body word then a furniture word in one class or id token: the header (menu, footer) of the main
# content, which trafilatura's "main" and "primary" names take for the content ("main-header")
_HEADER_OF_BODY = re.compile(
    r"(?i)(?:^|[\s_-])(?:main|primary|content|article|post|entry|story|body|text)[-_]?"
    r"(?:header|nav|navigation|menu|footer|sidebar|breadcrumbs?|toolbar)(?:$|[\s_-])"
)


def _named_inside_links(tree: HtmlElement) -> list[HtmlElement]:
    """The blocks inside links that BODY's name tests take for a body container."""
    tests = [expression.test for expression in BODY if isinstance(expression, NameMatch)]
    return [
        element
        for link in tree.iter("a")
        for element in link.iterdescendants("article", "div", "main", "section")
        if element.attrib and any(test(element) for test in tests)
    ]


def unname_fragment_containers(
    tree: HtmlElement, least: float, around_headline: frozenset[HtmlElement] = frozenset()
) -> HtmlElement | None:
    """Take the body names off the container trafilatura would take for the body (the first that
    BODY_XPATH names) while it holds less than ``least`` characters of text: a "text" block around
    a lead, a "page-content" strip above the article, an <article> that is one teaser (all such
    <article> elements at once: trafilatura takes the first by its tag alone, and a page of teaser
    tiles or comments, each an <article>, would use up the walks; and all the blocks so named inside
    links at once, a menu's items' labels named "text" where no <nav> says it is a menu); and,
    whatever its size, a block named for the header, menu or footer of the content
    (_HEADER_OF_BODY: "main-header", which trafilatura's "main" names take). trafilatura
    takes the first it finds and drops what lies outside it (issue 17: the article's lists and
    subheadings, whole sections); without its names, the next candidate, or mark_main_container's
    densest one, is judged. At most as many containers as BODY_XPATH has expressions (a page of
    thousands of small named blocks would otherwise walk the tree once per block). Returns the
    container trafilatura now takes, None if it finds none."""
    def fragment(found: HtmlElement) -> bool:
        if any(_HEADER_OF_BODY.search(found.get(name) or "") for name in ("id", "class")):
            return True
        if TEXT_LENGTH(found) >= least:
            return False
        # the headline's own article: the page's prose elsewhere is others' (comments, teasers)
        return found not in around_headline or not (_HOLDS_ARTICLE(found) or TEXT_LENGTH(found) >= OWN_ARTICLE_CHARS)

    found = _body_container(tree)
    for _ in BODY:
        if found is None or not fragment(found):
            break
        # trafilatura takes the first <article> by its tag: every one that is a fragment goes at once
        # (a page of comments, each an <article>, would otherwise use up the walks)
        if found.tag == "article":
            fragments = [e for e in tree.iter("article") if fragment(e)]
        elif any(a.tag == "a" for a in found.iterancestors()):
            # a named block inside a link is a menu item's or a card title's: every such one goes at
            # once (a menu without a <nav>, its items named "text", would use up the walks)
            fragments = [found, *(e for e in _named_inside_links(tree) if e is not found and fragment(e))]
        else:
            fragments = [found]
        for element in fragments:
            for name in _BODY_ATTRIBUTES:
                element.attrib.pop(name, None)
            if element.tag in ("article", "main"):
                element.tag = "div"
        found = _body_container(tree)
    return found


def mark_main_container(tree: HtmlElement, named: HtmlElement | None) -> HtmlElement | None:
    """Make the page's densest prose container an <article> when trafilatura would find no body
    container by its names (BODY_XPATH): it then falls back to collecting loose <p> elements and
    drops the article's lists and subheadings (builder CMSs' "w-richtext" and the like). ``named``
    is the container it takes in the tree as it is (unname_fragment_containers' answer), so that
    the names are not looked for again. Returns the container trafilatura takes now."""
    body = tree.find("body")
    if body is None or (named is not None and body in named.iterancestors()):
        return named
    if named is not None:  # outside the <body> (left in the head by the parser): looked for there
        if _body_container(body) is None:
            _mark_densest(body)
        return _body_container(tree)
    return _mark_densest(body)  # (the only match, since none matched before)


_LINK_LIST_ITEMS = 3  # a list of teasers or links: this many items or more ...
_LINK_HEADED_SHARE = 2 / 3  # ... this share of them opening with a link


def _opens_with_link(item: HtmlElement) -> bool:
    """Whether an item's text opens with a link's: a teaser's headline, a link with a note."""
    link = next((a for a in item.iter("a") if text_of(a).strip()), None)
    return link is not None and opens_with(item, link)


def _is_link_list(block: HtmlElement) -> bool:
    """A list whose items mostly open with a link: teasers (a headline and its summary) or links
    with notes, whatever their names; not the article's prose, however long their summaries."""
    items = [item for item in block if item.tag == "li"]
    return len(items) >= _LINK_LIST_ITEMS and sum(map(_opens_with_link, items)) >= _LINK_HEADED_SHARE * len(items)


def _mark_densest(body: HtmlElement) -> HtmlElement | None:
    """The densest prose container made an <article>; None if there is none but the <body>. On a
    page short of <p> text, whose <div> elements trafilatura reads as text, a <div> of text with
    inline markup only and few links is a paragraph too (a template writing each paragraph as a
    <div> of <span>). Prose in a block mostly of links is a menu's (a mega-menu's panels hold
    blurbs and headings beside their links, denser than a short article where no <nav> says what
    they are), unless no other block holds a paragraph."""
    divs = ("div",) if _paragraph_text_under(body, _DIVS_READ) else ()
    counted = _link_counter()
    menus: dict[HtmlElement, bool] = {}

    def in_menu(block: HtmlElement) -> bool:
        parent = block.getparent()
        if parent not in menus:
            menus[parent] = _is_menu(*counted(parent))
        return menus[parent]

    skipped: Callable[[HtmlElement], bool] = in_menu
    direct, within = _prose_counts(body, divs, skipped)
    if not direct or direct.most_common(1)[0][1] < _BODY_PARAGRAPH:
        skipped = _never
        direct, within = _prose_counts(body, divs)
    if not direct:
        return None
    container, _ = direct.most_common(1)[0]
    # an article cut into sibling sections: climb while the parent adds much prose; past wrappers
    # that add none (a page builder nests each section in a column in a row in a widget) only to a
    # block holding prose before the section, the article's start: when all of it follows, the
    # section is the article and the rest what a page sets after one (comments, related stories);
    # past wrappers adding less than a paragraph to a container that may hold the article (the
    # section's heading) only to a block holding as much prose before it (an article's sections)
    node = container
    while (parent := node.getparent()) is not None:
        before = _ARTICLE_CHARS if within[node] > within[container] else _BODY_PARAGRAPH
        if within[parent] >= _SECTIONS_GAIN * within[container] and (
            node is container or _prose_before(parent, container, skipped) >= before
        ):
            container = parent
        elif within[parent] - within[container] >= (_BODY_PARAGRAPH if within[container] >= _ARTICLE_CHARS else 1):
            break
        node = parent
    if container is body or container.getparent() is None:
        return None
    container.tag = "article"
    return container


_PROSE_TEXT = ("p", "ul", "ol", "blockquote")  # prose blocks, headings aside


def _never(block: HtmlElement) -> bool:
    """No block is skipped."""
    return False


def _is_menu(text: int, linked: int, links: int) -> bool:
    """Whether a block of ``text`` characters, ``linked`` of them in its ``links``, is mostly
    (_MENU_LINK_SHARE) links of a few words each on average (MENU_LINK_CHARS): a menu; a roundup's
    or a report's links are headlines, longer."""
    return bool(text) and _MENU_LINK_SHARE * text <= linked <= MENU_LINK_CHARS * links


def _prose_counts(
    body: HtmlElement, divs: tuple[str, ...], skipped: Callable[[HtmlElement], bool] = _never
) -> tuple[Counter[HtmlElement], Counter[HtmlElement]]:
    """The characters of prose in each element's own blocks, and in its descendants' blocks: not a
    list of links, nor a <div> other than a text cell with few links, nor a ``skipped`` block."""
    direct: Counter[HtmlElement] = Counter()
    within: Counter[HtmlElement] = Counter()
    for block in body.iter(*_PROSE_BLOCKS, *divs):
        if block.tag in ("ul", "ol") and _is_link_list(block):
            continue
        if block.tag == "div" and (not is_text_div(block) or _link_share(block) >= _AMID_LINK_SHARE):
            continue
        if skipped(block):
            continue
        length = TEXT_LENGTH(block)
        # a paragraph's prose counts for the block holding it among others, above the wrappers that
        # hold it alone (a builder's, one per paragraph); not a list's (a menu's lists sit so)
        direct[(alone_in(block, body) if block.tag == "p" else block).getparent()] += length
        within.update(dict.fromkeys(block.iterancestors(), length))
    return direct, within


def _prose_before(block: HtmlElement, inner: HtmlElement, skipped: Callable[[HtmlElement], bool] = _never) -> int:
    """The characters of prose in ``block`` before ``inner``: paragraphs, lists and quotations
    with few links (not headings, menus or a sidebar's lists of links), not ``skipped``."""
    length = 0
    measured: HtmlElement | None = None  # the last block measured: its descendants are in it
    around = set(inner.iterancestors())
    for element in block.iter():
        if element is inner:
            break
        if element.tag not in _PROSE_TEXT or element in around:
            continue
        if measured is not None and measured in element.iterancestors():
            continue
        measured = element
        if _link_share(element) < _AMID_LINK_SHARE and not skipped(element):
            length += TEXT_LENGTH(element)
    return length


_CONTENT_SHARE = 0.25  # of the page's text: the page's content, whatever its name says
_HOLDS_PROSE = XPath(f"count(.//p[string-length(normalize-space(.)) >= {_BODY_PARAGRAPH}][not(.//a)]) >= 2"
                     " or .//table[count(.//tr) >= 3]")


_DISCLOSES_TEXT = XPath(f"string-length(normalize-space(.)) >= {_BODY_PARAGRAPH}")
_BODY_NAMED = XPath(
    "re:test(concat(@class, ' ', @id), 'post[-_]text|post-body|post-?entry|post[-_]?content|article|entry|"
    "(?:page|text|art)-content|body-text|story|content[-_]main|main-content|fulltext', 'i')",
    namespaces={"re": "http://exslt.org/regular-expressions"},
)


def large_blocks(tree: HtmlElement) -> dict[HtmlElement, int]:
    """The blocks holding a quarter of the page's text or more, with their text lengths, in
    breadth-first order: a block holds no more text than its parent, so only the children of large
    blocks are measured. The page's copies of its article and its layout blocks are among them."""
    body = tree.find("body")
    if body is None:
        return {}
    total = TEXT_LENGTH(body)
    least = max(1, _CONTENT_SHARE * total)
    found: dict[HtmlElement, int] = {}
    frontier = [(body, total)]
    while frontier:
        measured = [pair for element, length in frontier for pair in _child_lengths(element, length)]
        frontier = [(child, length) for child, length in measured if length >= least]
        found.update(frontier)
    return found


def _child_lengths(element: HtmlElement, length: int) -> list[tuple[HtmlElement, int]]:
    """An element's children with their text lengths, its ``length`` the text length of a child
    that holds all its text (the only child, nothing written beside it): a chain of wrappers
    around the article is not measured again at each level."""
    children = [child for child in element if isinstance(child.tag, str)]
    if len(children) == 1 and _blank(element.text) and all(_blank(node.tail) for node in element):
        return [(children[0], length)]
    return [(child, TEXT_LENGTH(child)) for child in children]


def _blank(text: str | None) -> bool:
    """Whether a text is none or white space that normalize-space drops (XPath's: space, tab and line ends)."""
    return not text or not text.strip(" \t\n\r")


_HOLDS_BLOCKS = XPath("count(.//p|.//li|.//h2|.//h3|.//h4|.//blockquote) >= 2")  # not a repeated paragraph


def drop_repeated_copies(blocks: dict[HtmlElement, int]) -> None:
    """Keep the first of several copies of the article: large blocks (``blocks``, see large_blocks)
    of several paragraphs holding the same text, neither inside the other. Responsive builders
    render the article once per screen size and style sheets show one; gated layouts repeat it
    under a hidden paywall. Extractors otherwise keep every copy (issue 17)."""
    by_length: dict[int, list[HtmlElement]] = {}
    for element, length in blocks.items():
        by_length.setdefault(length, []).append(element)
    for same_length in by_length.values():
        if len(same_length) < 2:
            continue
        group = set(same_length)  # a wrapper and its only child hold the same text: one block
        outermost = [e for e in same_length if not any(o in group for o in e.iterancestors())]
        outermost = [e for e in outermost if _HOLDS_BLOCKS(e)] if len(outermost) > 1 else []
        if len(outermost) < 2:
            continue
        first: dict[str, HtmlElement] = {}
        for element in sorted(outermost, key=lambda e: e.sourceline or 0):
            text = " ".join(text_of(element).split())
            if first.setdefault(text, element) is not element:
                element.drop_tree()


def unname_content_blocks(tree: HtmlElement, blocks: dict[HtmlElement, int], container: HtmlElement | None) -> None:
    """Drop the class and id of blocks that trafilatura deletes by name (OVERALL_DISCARD_XPATH:
    "embed", "slide", "sidebar", "footer", "bar" ... anywhere in a class) although they hold a
    quarter of the page's text (``blocks``, see large_blocks) as prose or a data table: a builder's
    "w-embed" around a chart, a layout named "sidebar-layout" or "page-footer" that wraps the whole
    page. (Smaller blocks so named are mostly furniture; a body name is what trafilatura looks
    for.) And of every <details> with text to disclose: a native disclosure (an expandable answer,
    a note) is named for its styling ("expandable"), which trafilatura reads as furniture once it
    has made it a <div>. And of the smaller prose blocks amid the body (_unname_blocks_amid_the_body).
    ``container`` is the body container trafilatura took before drop_repeated_copies (as
    mark_main_container returns it): the first still, unless it was in a copy dropped or loses its
    names here, as taking names or elements away makes no other element the first."""
    stale = container is not None and tree not in container.iterancestors()
    # a body container whose blocks trafilatura would prune all but a seventh of is kept whole
    # (_pruning_guarded): unnaming a block in it has trafilatura prune the others named alike, so a
    # block is unnamed there only when it holds more text than they do (a page builder names every
    # panel "widget": a prose panel is no reason to lose the price list beside it; a "sidebar-layout"
    # wrapping the article is, to lose the sidebar). ``least``: the text a block there must hold (0
    # where the container is not guarded), read when first needed: the expression costs on every page
    least: float | None = None
    kinds: set[tuple[str, frozenset[str]]] = set()  # (pagecues.block_kind) of the blocks unnamed as prose, by class
    for element in blocks:
        if element.getparent() is None:
            continue  # a copy dropped
        named = bool(element.attrib) and any(expression.matches(element) for expression in OVERALL_DISCARD)
        if named and not _BODY_NAMED(element) and _HOLDS_PROSE(element):
            if container is not None and not stale and container in element.iterancestors():
                if least is None:
                    guarded = _pruning_guarded(container, set(OVERALL_DISCARD[0](container)))
                    least = TEXT_LENGTH(container) / 2 if guarded else 0.0
                if TEXT_LENGTH(element) < least:
                    continue
            if (kind := block_kind(element))[1]:  # (a block without class words is of no kind)
                kinds.add(kind)
            _unname(element)
            stale = stale or element is container
    for element in tree.iter("details"):  # (never a body container)
        if element.attrib and _DISCLOSES_TEXT(element):
            _unname(element)
    body = _body_container(tree) if stale else container
    _unname_twins_of_prose(body, kinds)
    _unname_blocks_amid_the_body(body)


# trafilatura's discard by name leaves the body alone when it would keep less than this share of its text
_PRUNING_GUARD = 1 / 7


def _pruning_guarded(body: HtmlElement, named: set[HtmlElement]) -> bool:
    """Whether trafilatura's discard by name leaves this body container whole: the blocks it would
    delete (``named``, OVERALL_DISCARD's in it) hold all but _PRUNING_GUARD of its text, and it
    keeps its copy of the container instead."""
    outer = [e for e in named if not any(a in named for a in e.iterancestors())]
    total = TEXT_LENGTH(body)
    return total - sum(map(TEXT_LENGTH, outer)) <= total * _PRUNING_GUARD


def _unname_twins_of_prose(body: HtmlElement | None, kinds: set[tuple[str, frozenset[str]]]) -> None:
    """Drop the class and id of the prose blocks, in the body container trafilatura takes, of the
    same tag and class as a large block unnamed as prose (``kinds``): a builder's text widget holding
    the article's lead, beside the widget holding the rest. The same name is the same kind of
    block; one holding paragraphs of prose is the article's like its twin, wherever it stands."""
    if body is None or not kinds:
        return
    named = set(OVERALL_DISCARD[0](body))
    if _pruning_guarded(body, named):
        return  # trafilatura prunes none of them: unnaming some would have the others pruned
    for element in [e for e in named if block_kind(e) in kinds]:
        if element.getparent() is None or not _HOLDS_PROSE(element) or _link_share(element) >= _AMID_LINK_SHARE:
            continue
        for block in (element, *(inner for inner in element.iterdescendants() if inner in named)):
            if not _BODY_NAMED(block):
                _unname(block)



_LEAD_PARAGRAPH = 40  # characters: the body's first paragraph, not an empty or one-word <p>
_WRAPPED_SHARE = 0.5  # of the container's text: a block holding this much of it wraps the article


def unname_comment_wrappers(container: HtmlElement | None) -> None:
    """Drop the class and id of a block inside the body container that trafilatura deletes as a
    comment section (a class starting "comment": "commentOnSelection", "commentable") although
    it holds the container's first paragraph and most of its text: it wraps the article (a
    reader's tool to comment on a passage), as a comment section never comes before the text it
    answers. (A listing's container, its cards without paragraphs, has its comment rules for a
    first paragraph, in a section that holds a small part of its text.) ``container`` is the
    body container trafilatura takes."""
    if container is None:
        return
    first = next((p for p in container.iter("p") if TEXT_LENGTH(p) >= _LEAD_PARAGRAPH), None)
    if first is None:
        return
    matches = REMOVE_COMMENTS_AND_LISTS[0].matches
    most = _WRAPPED_SHARE * TEXT_LENGTH(container)
    for block in first.iterancestors():
        if block is container:
            break
        if block.attrib and matches(block) and TEXT_LENGTH(block) >= most:
            _unname(block)

# A block named like furniture inside the body container, with this share of the container's text
# both before and after it, sits amid the article ...
_AMID = 0.1
_AMID_LINK_SHARE = 0.3  # ... and is prose when under this share of its text is in links


def _unname_blocks_amid_the_body(body: HtmlElement | None) -> None:
    """Drop the class and id of the prose blocks, amid the body container trafilatura takes, that it
    would delete by name: an accordion's sections ("...-icon"), a builder's text widgets ("widget",
    "w-embed"), a comparison's cards ("embed", "banner"). Author boxes, related posts, calls to
    action and sidebars stand at the body's start or end, or are mostly links. Only where its
    pruning goes ahead (the named blocks hold at most half the container's text): when they hold
    most of it, trafilatura keeps them all, and unnaming some would have the rest pruned. A block
    repeated (a carousel's looping copies) stays named. ``body`` is that container."""
    named = set(OVERALL_DISCARD[0](body)) if body is not None else set()
    outer = [e for e in named if not any(a in named for a in e.iterancestors())]
    lengths = {e: TEXT_LENGTH(e) for e in outer}
    total = TEXT_LENGTH(body) if outer else 0
    if not outer or sum(lengths.values()) > total / 2:
        return
    starts: dict[HtmlElement, int] = {}
    seen = 0  # characters of text before each element, as normalize-space counts them, roughly
    for element in body.iter():
        if element in lengths:
            starts[element] = seen
            if len(starts) == len(lengths):
                break  # the text after the last one is not needed
        if isinstance(element.tag, str) and element.text:
            seen += len(element.text.strip())
        if element is not body and element.tail:
            seen += len(element.tail.strip())
    copies = Counter(" ".join(text_of(e).split()) for e in outer)
    for element, length in lengths.items():
        amid = min(starts[element], total - starts[element] - length) >= _AMID * total
        if not amid or length < _BODY_PARAGRAPH or _link_share(element) >= _AMID_LINK_SHARE:
            continue
        if copies[" ".join(text_of(element).split())] > 1:
            continue
        for block in (element, *(inner for inner in element.iterdescendants() if inner in named)):
            if not _BODY_NAMED(block):
                _unname(block)


def _unname(element: HtmlElement) -> None:
    element.attrib.pop("class", None)
    element.attrib.pop("id", None)


_LEAD_CLIMB = 3  # how far above the body container the lead's block may sit
_LEAD_SKIPS = 2  # small blocks (a notice, an image, a share bar) that may stand between the lead and the body
_LEAD_SMALL = 200  # characters: such a block's text, at most
_LEAD_PROSE = 0.6  # of a lead block's text: in paragraphs, lists, tables and subheadings
_LEAD_LINK_SHARE = 0.3
_LEAD_PARAGRAPHS = 2  # one paragraph set apart is a standfirst (a summary, an image's caption)
_LEAD_BLOCKS = ("p", "ul", "ol", "table", "blockquote", "h2", "h3", "h4")


def _lead_paragraphs(element: HtmlElement) -> list[HtmlElement]:
    return [p for p in element.iter("p") if TEXT_LENGTH(p) >= _LEAD_PARAGRAPH]


def _is_lead(block: HtmlElement, container: HtmlElement, styles: dict[str, set[str]]) -> bool:
    """A block of the article's prose, or one of its paragraphs standing loose: most of its text in
    paragraphs (lists, tables, subheadings), few links, no headline, and paragraphs styled as the
    body container's are (``styles``: the container's, read when first needed)."""
    if next(block.iter("h1"), None) is not None or _link_share(block) >= _LEAD_LINK_SHARE:
        return False
    if block.tag not in _LEAD_BLOCKS:
        blocks = [b for b in block.iter(*_LEAD_BLOCKS) if not any(a.tag in _LEAD_BLOCKS for a in b.iterancestors())]
        if not blocks or sum(map(TEXT_LENGTH, blocks)) < _LEAD_PROSE * TEXT_LENGTH(block):
            return False
    if "body" not in styles:
        styles["body"] = {p.get("class") or "" for p in _lead_paragraphs(container)}
    return {p.get("class") or "" for p in _lead_paragraphs(block)} <= styles["body"]


def join_leading_prose(container: HtmlElement | None, least: float) -> None:
    """Move into the body container the prose just before it: a lead, an introduction or a first
    section that the template sets in a block of its own (a hero's intro, the first part of a body
    cut off by a notice or an ad), or leaves loose beside it. trafilatura keeps the container it
    takes only, and drops the article's first paragraphs. The walk climbs a few levels, passes
    over small blocks, and stops at the first other block (the headline's, a menu, a teaser list,
    an item like the container): what stands before the headline is no lead. The blocks must agree
    with the container: their paragraphs styled as its paragraphs are (the same class, or none in
    both). And they must hold two paragraphs or more: a single one is a standfirst, which, like the
    headline, is no body. Only a container holding ``least`` characters of text or more: a smaller
    one is a fragment of the page's prose, which extract.body has trafilatura's full mode judge."""
    if container is None or TEXT_LENGTH(container) < least:
        return
    kind = block_kind(container)
    styles: dict[str, set[str]] = {}
    leads: list[HtmlElement] = []
    node, skips = container, 0
    for _ in range(_LEAD_CLIMB):
        parent = node.getparent()
        if parent is None or parent.tag == "body":
            break
        for sibling in node.itersiblings(preceding=True):
            if not isinstance(sibling.tag, str) or sibling.tag in ("script", "style", "template"):
                continue
            if block_kind(sibling) == kind and sibling.tag not in _LEAD_BLOCKS:
                return  # an item of a list like the container (a card, an entry): no lead of it
            length = TEXT_LENGTH(sibling)
            if not length:
                continue
            if _is_lead(sibling, container, styles):
                leads.append(sibling)
            elif length <= _LEAD_SMALL and skips < _LEAD_SKIPS and next(sibling.iter("h1"), None) is None:
                skips += 1
            else:
                break
        else:
            node = parent
            continue
        break
    if sum(len(_lead_paragraphs(lead)) for lead in leads) < _LEAD_PARAGRAPHS:
        return
    for lead in leads:  # nearest first: each goes before the ones moved already
        tail, lead.tail = lead.tail, None
        _keep_tail(lead, tail)
        container.insert(0, lead)


def _keep_tail(element: HtmlElement, tail: str | None) -> None:
    """Leave the text after an element where it is when the element moves."""
    if not tail:
        return
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    elif (parent := element.getparent()) is not None:
        parent.text = (parent.text or "") + tail
