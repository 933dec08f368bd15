"""trafilatura's XPath expressions that find elements by name, evaluated in Python with the same
results: the discard rules, the body containers it looks for, and its search for bylines.

Their ``re:test`` is lxml's EXSLT regexp extension, a call from libxml2 back into Python for every
element it tests, and ``.//*`` tests every element of the tree: these few expressions took a quarter
of a page's extraction time. Here one walk reads the attributes and applies precompiled regular
expressions, taken from the expressions themselves, with XPath's semantics: ``.//*`` is the
element descendants of the context node, a missing attribute is '', and ``@id|@class`` converted
to a string is the value of whichever attribute comes first in the element's source order.

Each emulation stands in only for an expression whose text is the one emulated here, apart from
its ``re:test`` patterns, which it reads from the expression: if an upgrade of trafilatura
changes an expression otherwise, the XPath itself runs (``name_match``).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from importlib import import_module
from itertools import islice

from lxml.etree import Element, XPath, _Element
from trafilatura import core, external, main_extractor, settings, xpaths
from trafilatura import metadata as trafilatura_metadata

from extract.paragraphs import text_of

_REGEXP_NS = {"re": xpaths.REGEXP_NS}
_Test = Callable[[_Element], bool]
_Search = Callable[[str], bool]
_BLOCKS = ("div", "item", "list", "p", "section", "span")
_COMMENT_BLOCKS = ("div", "list", "section", "details", "ol", "ul")
_WRAPPERS = ("div", "section", "aside")
_NEVER_TEXT = ("aside", "fencedframe", "footer", "script", "style", "svg", "template")


def memoized_search(pattern: re.Pattern) -> _Search:
    """Whether the regular expression occurs in a value, remembered per value: a page repeats its
    class and id values (a third of them are distinct), and these alternations of dozens of words
    cost more to search than a look-up."""

    @lru_cache(maxsize=4096)
    def occurs(value: str) -> bool:
        return pattern.search(value) is not None

    return occurs


def _first(element: _Element, name: str, value: str | None, other: str, second: str | None) -> str:
    """XPath's string of ``@name|@other``, whose values the test has read (``value``, ``second``):
    the one first in source order, '' if neither is set."""
    if value is None or second is None:
        return (second if value is None else value) or ""
    names = element.keys()
    return value if names.index(name) < names.index(other) else second


class NameMatch:
    """An XPath expression that selects elements by their tag and attributes, as a walk over the
    element descendants of the tree it is called on. ``matches`` tests one element (for a
    ``.//*[...]`` expression, the expression with ``self::*`` for ``.//*``). ``first``: "document" for ``(.//*[...])[1]``,
    the first match; "siblings" for ``.//*[...][1]``, the first match among each one's siblings.
    ``document`` for ``//*[...]``: the elements of the whole document, its root element included."""

    def __init__(self, tags: tuple[str, ...], test: _Test, first: str = "", document: bool = False) -> None:
        self.tags = tags
        self.test = test
        self.first = first
        self.document = document  # a ``//*[...]`` expression: every element of the context node's document

    def __call__(self, tree: _Element) -> list[_Element]:
        if self.document:
            root = tree.getroottree().getroot()
            elements = root.iter(*self.tags) if self.tags else root.iter(Element)
        else:
            elements = tree.iterdescendants(*self.tags) if self.tags else tree.iterdescendants(Element)
        found = filter(self.test, elements)
        if self.first == "document":
            return list(islice(found, 1))
        if self.first == "siblings":
            firsts: dict[_Element, _Element] = {}
            for element in found:
                firsts.setdefault(element.getparent(), element)
            return list(firsts.values())
        return list(found)

    def matches(self, element: _Element) -> bool:
        return (not self.tags or element.tag in self.tags) and self.test(element)


class StockMatch:
    """The XPath itself, where an expression is not the one emulated; the same interface."""

    def __init__(self, expression: XPath) -> None:
        self.expression = expression
        self.single = XPath(expression.path.strip().replace(".//*[", "self::*[", 1), namespaces=_REGEXP_NS)

    def __call__(self, tree: _Element) -> list[_Element]:
        return self.expression(tree)

    def matches(self, element: _Element) -> bool:
        return bool(self.single(element))


def first_match(expression: NameMatch | StockMatch | XPath, tree: _Element) -> _Element | None:
    """The first element in document order that ``expression`` selects, the others not collected:
    of BODY's expressions in turn, it is the container trafilatura takes for the body."""
    if isinstance(expression, NameMatch):
        elements = tree.iterdescendants(*expression.tags) if expression.tags else tree.iterdescendants(Element)
        return next(filter(expression.test, elements), None)
    return next((found for found in expression(tree) if found is not None), None)


def name_match(
    expression: XPath, template: str, tags: tuple[str, ...], test: Callable[..., _Test], first: str = "",
    document: bool = False,
) -> NameMatch | StockMatch:
    """The emulation of ``expression`` when its text is ``template`` with its regular expressions
    in the ``{}`` slots (``test`` makes the element test from them, each compiled, ignoring case
    where the template gives the flag 'i', into a memoized_search), else the XPath."""
    parts = template.split("{}")
    found = re.fullmatch("([^']*)".join(map(re.escape, parts)), expression.path)
    if found is None:
        return StockMatch(expression)
    flags = [re.IGNORECASE if after.startswith("', 'i')") else 0 for after in parts[1:]]
    searches = (memoized_search(re.compile(p, f)) for p, f in zip(found.groups(), flags))
    return NameMatch(tags, test(*searches), first, document)


def _overall_blocks(cookie: _Search, ids: _Search, classes: _Search) -> _Test:
    def test(element: _Element) -> bool:
        if not element.attrib:
            return False  # (each rule reads an attribute: a bare element, two in five, is decided here)
        get = element.get
        ident, css = get("id"), get("class")
        return (
            (ident is not None and ids(ident))
            or (css is not None and classes(css))
            or cookie(_first(element, "id", ident, "class", css))
            or get("data-lp-replacement-content") is not None
            or "nav" in (get("role") or "").replace("N", "n")
            or "MostPopularStories" in (get("data-component") or "")
        )

    return test


def _overall_hidden(hidden: _Search, ids: _Search, classes: _Search) -> _Test:
    def test(element: _Element) -> bool:
        if not element.attrib:
            return False  # (as above)
        get = element.get
        ident, css, style = get("id"), get("class"), get("style")
        return (
            (ident is not None and ids(ident))
            or (css is not None and classes(css))
            or get("aria-hidden") == "true"
            or (style is not None and ("display:none" in style or "display: none" in style))
            or css == "comments-title"
            or _first(element, "id", ident, "class", css).startswith("reply-")
            or hidden(_first(element, "id", ident, "style", style))
        )

    return test


def _comment_blocks(ids: _Search, classes: _Search, list_ids: _Search, list_classes: _Search) -> _Test:
    def test(element: _Element) -> bool:
        ident, css = element.get("id") or "", element.get("class") or ""
        return (ids(ident) or classes(css)) and (element.tag not in ("ol", "ul") or list_ids(ident) or list_classes(css))

    return test


def _appended_articles(ids: _Search, classes: _Search, own_ids: _Search, own_classes: _Search) -> _Test:
    def test(element: _Element) -> bool:
        ident, css = element.get("id") or "", element.get("class") or ""
        return (ids(ident) or classes(css)) and (
            next(element.iterdescendants("h1"), None) is None or own_ids(ident) or own_classes(css)
        )

    return test


def _share_buttons() -> _Test:
    return lambda element: "elementor-share-buttons" in (element.get("class") or "")


def _teasers() -> _Test:
    def test(element: _Element) -> bool:
        ident, css = element.get("id"), element.get("class")
        return (ident is not None and "teaser" in ident.replace("T", "t")) or (
            css is not None and "teaser" in css.replace("T", "t")
        )

    return test


def _captions() -> _Test:
    def test(element: _Element) -> bool:
        ident, css = element.get("id"), element.get("class")
        return (ident is not None and "caption" in ident) or (css is not None and "caption" in css)

    return test


def _article_names(ids: _Search, classes: _Search) -> _Test:
    def test(element: _Element) -> bool:
        ident, css = element.get("id"), element.get("class")
        return (
            css in ("post", "entry")
            or element.get("itemprop") == "articleBody"
            or ident == "articleContent"
            or (ident is not None and ids(ident))
            or (css is not None and classes(css))
        )

    return test


def _story_names(ids: _Search, fulltext: _Search, classes: _Search) -> _Test:
    def test(element: _Element) -> bool:
        ident, css = element.get("id"), element.get("class")
        return (
            element.get("role") == "article"
            or ident in ("article", "story")
            or css in ("postarea", "art-postcontent", "text", "cell", "story")
            or ids(ident or "")
            or fulltext(css or "")
            or classes(css or "")
        )

    return test


def _content_names(ids: _Search, classes: _Search) -> _Test:
    def test(element: _Element) -> bool:
        ident, css = element.get("id") or "", element.get("class") or ""
        return (
            ident == "content"
            or css == "content"
            or ids(ident)
            or classes(css)
            or "main-content" in ident.replace("C", "c").replace("M", "m")
            or "main-content" in css.replace("C", "c").replace("M", "m")
            or "page-content" in css.replace("C", "c").replace("P", "p")
        )

    return test


def _never_text(classes: _Search, ids: _Search) -> _Test:
    def test(element: _Element) -> bool:
        css, ident = element.get("class"), element.get("id")
        return (
            element.tag in _NEVER_TEXT
            or (element.tag == "div" and "footer" in _first(element, "class", css, "id", ident))
            or (css is not None and classes(css))
            or (ident is not None and ids(ident))
        )

    return test


def _author_marks(classes: _Search) -> _Test:
    bare = classes("")

    def test(element: _Element) -> bool:
        if element.tag == "author":
            return True
        if element.attrib:
            get = element.get
            css = get("class")
            if (
                get("rel") == "author"
                or get("id") == "author"
                or css == "author"
                or get("itemprop") == "author name"
                or get("data-testid") in ("AuthorCard", "AuthorURL")
                or classes(css or "")
            ):
                return True
        elif bare:
            return True
        for rel in element.iterchildren("rel"):  # rel='me' (no @): a child element <rel> whose text is "me"
            if text_of(rel) == "me":
                return True
        return False

    return test


def _named(
    css_names: tuple[str, ...] = (), id_names: tuple[str, ...] = (), component: str = "", itemprop: str = ""
) -> Callable[[_Search, _Search], _Test]:
    """The test of the author rules that read class, id, data-component and itemprop: a class among
    ``css_names`` or an id among ``id_names``, a data-component or itemprop holding ``component`` or
    ``itemprop`` ('' for none), or the id or class found by the rule's searches."""

    def make(ids: _Search, classes: _Search) -> _Test:
        bare = ids("") or classes("")

        def test(element: _Element) -> bool:
            if not element.attrib:
                return bare
            get = element.get
            ident, css = get("id"), get("class")
            return (
                css in css_names
                or ident in id_names
                or (bool(component) and component in (get("data-component") or ""))
                or (bool(itemprop) and itemprop in (get("itemprop") or ""))
                or ids(ident or "")
                or classes(css or "")
            )

        return test

    return make


_BLOCK_TAGS = "self::div or self::item or self::list or self::p or self::section or self::span"
OVERALL_DISCARD = [
    name_match(xpaths.OVERALL_DISCARD_XPATH[0], f"""
        .//*[{_BLOCK_TAGS}][
        @data-lp-replacement-content or
        contains(translate(@role, 'N', 'n'), 'nav') or
        contains(@data-component, 'MostPopularStories') or
        re:test(@id|@class, '{{}}') or
        re:test(@id, '{{}}') or
        re:test(@class, '{{}}')]
        """, _BLOCKS, _overall_blocks),
    name_match(xpaths.OVERALL_DISCARD_XPATH[1], """
        .//*[@class='comments-title' or
        starts-with(@id|@class, 'reply-') or
        re:test(@id|@style, '{}') or
        contains(@style, 'display:none') or contains(@style, 'display: none') or
        re:test(@id, '{}') or
        re:test(@class, '{}') or @aria-hidden='true']
        """, (), _overall_hidden),
]
REMOVE_COMMENTS_AND_LISTS = [
    name_match(xpaths.REMOVE_COMMENTS_AND_LISTS_XPATH[0], """
        .//*[self::div or self::list or self::section or self::details or self::ol or self::ul][
        re:test(@id, '{}') or
        re:test(@class, '{}')][
        not(self::ol or self::ul) or re:test(@id, '{}') or re:test(@class, '{}')]
        """, _COMMENT_BLOCKS, _comment_blocks),
]
RAW_TREE_PRUNE = [
    name_match(xpaths.RAW_TREE_PRUNE_XPATH[0], """
        .//*[self::div or self::section or self::aside][
        re:test(@id, '{}') or
        re:test(@class, '{}')][
        not(.//h1) or re:test(@id, '{}') or re:test(@class, '{}')]
        """, _WRAPPERS, _appended_articles),
    name_match(xpaths.RAW_TREE_PRUNE_XPATH[1],
               ".//*[self::div or self::section or self::aside][contains(@class, 'elementor-share-buttons')]",
               _WRAPPERS, _share_buttons),
]
TEASER_DISCARD = [
    name_match(xpaths.TEASER_DISCARD_XPATH[0], f"""
    .//*[{_BLOCK_TAGS}][
    contains(translate(@id, 'T', 't'), 'teaser') or contains(translate(@class, 'T', 't'), 'teaser')]
    """, _BLOCKS, _teasers),
]
DISCARD_IMAGE_ELEMENTS = [
    name_match(xpaths.DISCARD_IMAGE_ELEMENTS[0], f"""
    .//*[{_BLOCK_TAGS}][
    contains(@id, 'caption') or contains(@class, 'caption')]
    """, _BLOCKS, _captions),
]
_CONTAINERS = ("article", "div", "main", "section")
_CONTAINER_TAGS = "self::article or self::div or self::main or self::section"
# trafilatura's body containers, tried in turn: plain XPaths where no regular expression is tested
BODY = [
    name_match(xpaths.BODY_XPATH[0], f"""
        .//*[{_CONTAINER_TAGS}][
        @class='post' or @class='entry' or
        @itemprop='articleBody' or @id='articleContent' or
        re:test(@id, '{{}}') or
        re:test(@class, '{{}}')
        ][1]
        """, _CONTAINERS, _article_names, "siblings"),
    xpaths.BODY_XPATH[1],
    name_match(xpaths.BODY_XPATH[2], f"""
        (.//*[{_CONTAINER_TAGS}][
        @role='article' or
        @id='article' or @id='story' or
        @class='postarea' or @class='art-postcontent' or @class='text' or @class='cell' or @class='story' or
        re:test(@id, '{{}}') or
        re:test(@class, '{{}}', 'i') or
        re:test(@class, '{{}}')
        ])[1]
        """, _CONTAINERS, _story_names, "document"),
    name_match(xpaths.BODY_XPATH[3], f"""
        (.//*[{_CONTAINER_TAGS}][
        @id='content' or @class='content' or
        re:test(@id, '{{}}') or
        re:test(@class, '{{}}') or
        contains(translate(@id, 'CM','cm'), 'main-content') or contains(translate(@class, 'CM','cm'), 'main-content') or
        contains(translate(@class, 'CP','cp'), 'page-content')
        ])[1]
        """, _CONTAINERS, _content_names, "document"),
    *xpaths.BODY_XPATH[4:],
]


class FirstOnly:
    """An emulation whose caller reads the first element it selects and no other: that element
    alone (``first_match``), found without walking the rest of the tree. For a ``.//*[...][1]``
    expression ("siblings") the first of its results is the first match in document order."""

    def __init__(self, expression: NameMatch) -> None:
        self.expression = expression

    def __call__(self, tree: _Element) -> list[_Element]:
        found = first_match(self.expression, tree)
        return [] if found is None else [found]


# trafilatura's main extractor takes the first element of each body expression's results in turn,
# and reads no other (the line below, in its code): the emulations there need select no more
_READS_FIRST = "subtree = next((s for s in expr(tree) if s is not None), None)"
_EXTRACT_SOURCE = inspect.getsource(main_extractor._extract)
_BODY_READ = [
    FirstOnly(e) if isinstance(e, NameMatch) and _EXTRACT_SOURCE.count("expr(tree)") == 1 and _READS_FIRST in _EXTRACT_SOURCE else e
    for e in BODY
]
# what trafilatura's baseline and page measure (html2txt) leave out of a page's text
BASIC_CLEAN = name_match(
    settings.BASIC_CLEAN_XPATH,
    ".//aside|.//div[contains(@class|@id, 'footer')]|.//fencedframe|.//footer|.//script|.//style|.//svg|.//template"
    "|.//*[re:test(@class, '{}', 'i') or re:test(@id, '{}', 'i')]",
    (),
    _never_text,
)

# trafilatura's search of bylines (trafilatura.metadata.extract_author, which extract.metadata
# calls on the block around the headline): what it leaves out of a copy of the block, and the
# marks of a byline, tried in turn
AUTHOR_DISCARD = [
    name_match(xpaths.AUTHOR_DISCARD_XPATHS[0], """
        .//*[self::a or self::div or self::section or self::span][
        @id='comments' or @class='comments' or @class='title' or @class='date' or
        re:test(@id, '{}') or
        re:test(@class, '{}') or
        contains(@data-component, 'Figure')]
        """, ("a", "div", "section", "span"), _named(("comments", "title", "date"), ("comments",), "Figure")),
    *xpaths.AUTHOR_DISCARD_XPATHS[1:],
]
AUTHOR = [
    name_match(xpaths.AUTHOR_XPATHS[0], """
        //*[self::a or self::address or self::div or self::link or self::p or self::span or self::strong][
        @rel='author' or @id='author' or @class='author' or @itemprop='author name' or rel='me' or
        @data-testid='AuthorCard' or @data-testid='AuthorURL' or
        re:test(@class, '{}')]|//author
        """, ("a", "address", "div", "link", "p", "span", "strong", "author"), _author_marks, document=True),
    name_match(xpaths.AUTHOR_XPATHS[1], """
        //*[self::a or self::div or self::h3 or self::h4 or self::p or self::span][
        @class='byline' or @class='username' or @class='byl' or @class='BBL' or
        contains(@itemprop, 'author') or
        re:test(@id, '{}') or
        re:test(@class, '{}')]
        """, ("a", "div", "h3", "h4", "p", "span"), _named(("byline", "username", "byl", "BBL"), itemprop="author"),
        document=True),
    name_match(xpaths.AUTHOR_XPATHS[2], """
        //*[
        contains(@data-component, 'Byline') or contains(@itemprop, 'author') or
        re:test(@id, '{}') or
        re:test(@class, '{}')]
        """, (), _named(component="Byline", itemprop="author"), document=True),
]

# the module globals trafilatura's extraction reads these lists from, and their emulations
_STAND_INS = [
    (import_module("trafilatura.baseline"), "BASIC_CLEAN_XPATH", BASIC_CLEAN),  # the package's "baseline" is a function
    (core, "RAW_TREE_PRUNE_XPATH", RAW_TREE_PRUNE),
    (core, "REMOVE_COMMENTS_AND_LISTS_XPATH", REMOVE_COMMENTS_AND_LISTS),
    (main_extractor, "BODY_XPATH", _BODY_READ),
    (main_extractor, "OVERALL_DISCARD_XPATH", OVERALL_DISCARD),
    (main_extractor, "DISCARD_IMAGE_ELEMENTS", DISCARD_IMAGE_ELEMENTS),
    (main_extractor, "TEASER_DISCARD_XPATH", TEASER_DISCARD),
    (external, "OVERALL_DISCARD_XPATH", OVERALL_DISCARD),
    (trafilatura_metadata, "AUTHOR_DISCARD_XPATHS", AUTHOR_DISCARD),
    (trafilatura_metadata, "AUTHOR_XPATHS", AUTHOR),
]
_STOCK = [(module, name, getattr(module, name)) for module, name, _ in _STAND_INS]


@contextmanager
def emulated_name_matches() -> Iterator[None]:
    """trafilatura's extraction with the emulations in place of its XPath expressions, for the duration.

    Only for the duration: trafilatura elsewhere in the process (the benchmark's peers) runs as
    installed. Another thread's trafilatura meanwhile gets the same results, from either."""
    for module, name, emulation in _STAND_INS:
        setattr(module, name, emulation)
    try:
        yield
    finally:
        for module, name, stock in _STOCK:
            setattr(module, name, stock)
