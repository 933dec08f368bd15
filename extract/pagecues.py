"""Page furniture that one page shows by its structure: the cues for a site's first article.

The site template (extract.boilerplate) sees a disclaimer or a "follow us" line once it recurs on
two articles of a site; on the site's first article, and on a page extracted alone, only the page
itself can tell. Structure does, never wording, so the cues hold in any language:

- a share or follow widget is a block of links to several other sites (or mail) whose texts are
  a word or two or nothing (icons), with hardly any text besides: it is removed before extraction;
  so is the list of the page's tags, the block of links marked rel="tag" (found in the same walk);
- a sign-up box is the block around a field the reader types into (an e-mail or phone number for
  a newsletter, a lead form) with little text and no prose paragraph: it is removed before the
  fields themselves go (extract.domfixes.drop_non_content), which would leave its pitch and fine
  print as loose text; a menu around a search field goes too, which is no body either;
- an author box is the block around a link named as the page's author, with a picture (the
  portrait) and little text, after most of the page's paragraphs: the truths of both tuning sets
  drop 8 such bios and keep 3; before the paragraphs the block is the byline, often beside the lead;
- a note set apart at the end of the body (a short paragraph of another class than the body's
  paragraphs in their container or boxed apart by its own inline border, background or type size,
  a short paragraph in such another style outside that container, unless in another block of the
  container's kind (a body split in sections: the truths keep such lines), or a short text block
  boxed apart inside that container or standing after it), unlike the blocks before it, is the
  template's: the body ends at its last paragraph written like the others, less the title that
  opens the box of the first note outside the container (a call to action's heading). On both
  tuning sets (bench/extraction.py), whose truths keep some such notes and drop others,
  italic-only or emphasised final paragraphs are kept as often as dropped: emphasis alone is no
  cue, nor is alignment (any inline style as a cue dropped three centred or aligned closing lines
  the truths keep); nor is the same test at the start of the body (disclosures there go, but as
  many standfirsts and leads the truths keep);
- a publisher's notice (an affiliate disclosure, an editorial or legal disclaimer, a call to
  action) is the piece of furniture a template names for what it is, whatever part of a class or
  id names its place or component ("affiliate-disclaimer", "header-disclaimer", "post-cta"): its
  paragraphs leave the body once the page is judged an article (the decision weighs the body as
  extracted, so that a short article is not judged a listing for its notice's words going). Three
  or more blocks of one kind with different texts are a grid of cards (a builder's "cta" modules
  linking the site's guides), which the truths keep. The list of notes or citations that a template
  sets after the text and names as such ("footnotes", "citations") leaves the body alike: the truths
  of web-articles-dev drop it on 5 of the 6 pages where it was kept.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from itertools import accumulate, islice

from lxml.etree import Element, XPath
from lxml.html import HtmlElement

from extract.paragraphs import TEXT_LENGTH, text_of, word_count, word_key, words
from extract.unmarkedparagraphs import PARAGRAPH_CHARS

MENU_LINK_CHARS = 30  # a menu's links are a few words each on average; a listing's headlines are longer
SHARE_TARGETS = 3  # distinct other sites a widget's links lead to ...
SHARE_LINK_WORDS = 2  # ... by link texts this short or empty (icons) ...
SHARE_OTHER_WORDS = 4  # ... with at most a label besides ("Share this:")
SHARE_CLIMB = 3  # how far above its links a widget's block may sit
_WIDGET_CHARS = 400  # a widget's short links and label hold no more text: larger blocks are not measured
TAG_SHARE = 0.6  # of a block's text in its tag links: the block is the tag list (with its label)
NOTE_WORDS = 30  # a note at the end of the body is short ...
TAIL = 3  # ... and one of its last few paragraphs
_SLACK = 100  # characters an element's text may have beyond its paragraph's words (punctuation)
_MESSAGE_SCHEMES = ("mailto", "sms", "whatsapp", "tg")
# The starts of links that may lead off the site: absolute, protocol-relative or messaging ones (a
# page's own links are mostly relative, and go no further)
_OUTBOUND = ("http", "//", *(f"{scheme}:" for scheme in _MESSAGE_SCHEMES))
_TARGET = re.compile(rf"\s*(?:(?P<scheme>{'|'.join(_MESSAGE_SCHEMES)}):|(?:https?:)?//(?:[^@/?#]*@)?(?P<host>[^:/?#\s]+))", re.I)


def _site(host: str) -> str:
    """The host's last two labels: a site's subdomains are one site (and all of a country's
    "co.uk" hosts, which only makes a widget's links count fewer sites)."""
    return ".".join(host.lower().split(".")[-2:])


def opens_with(block: HtmlElement, link: HtmlElement) -> bool:
    """Whether a block's text opens with a link's: the link heads the block (a teaser's headline)."""
    first = next((text for text in block.itertext() if text.strip()), None)
    return first is not None and first == next((text for text in link.itertext() if text.strip()), None)


def link_target(href: str) -> str:
    """Where an absolute link leads: a site or a messaging scheme ("" when it names neither)."""
    match = _TARGET.match(href)
    if match is None:
        return ""
    return match["scheme"].lower() if match["scheme"] else _site(match["host"])


def _words(element: HtmlElement) -> int:
    """Words of an element's text (punctuation aside), each text node on its own: adjacent
    blocks' words do not join."""
    return sum(len(words(text)) for text in element.itertext())


def drop_link_widgets(tree: HtmlElement, url: str | None) -> None:
    """Remove share and follow widgets: blocks of short or empty links to SHARE_TARGETS other
    sites or more, holding SHARE_OTHER_WORDS words at most besides their links. And the lists of
    the page's tags: the block around links marked rel="tag" (HTML's link type for a tag of the
    page, which blogging CMSs set) whose text is mostly theirs, with its label; tags index the
    site's pages on a topic, and templates set them inside the article container after its text,
    where a line of them is no <p> for extract.domfixes.drop_link_paragraphs to judge."""
    own = link_target(url) if url else ""
    targets: defaultdict[HtmlElement, set[str]] = defaultdict(set)
    tagged: Counter[HtmlElement] = Counter()  # the tag links' parents, with the tag links' text in them
    # (lxml's walk by tag rather than an XPath testing each link's start: half the time)
    for link in tree.iter("a"):
        if (rel := link.get("rel")) and "tag" in rel.lower().split() and (parent := link.getparent()) is not None:
            tagged[parent] += len(text_of(link).strip())
        if not (link.get("href") or "").startswith(_OUTBOUND):
            continue
        target = link_target(link.get("href"))
        if not target or target == own or word_count(text_of(link)) > SHARE_LINK_WORDS:
            continue
        for block in islice(link.iterancestors(), SHARE_CLIMB):
            if block.tag in ("body", "html"):
                break
            targets[block].add(target)
    widgets = set()
    for block, found in targets.items():
        if len(found) < SHARE_TARGETS or TEXT_LENGTH(block) > _WIDGET_CHARS:
            continue
        linked = sum(_words(link) for link in block.iter("a"))
        if _words(block) - linked <= SHARE_OTHER_WORDS:
            widgets.add(block)
    for block in widgets:
        if not any(outer in widgets for outer in block.iterancestors()) and block.getparent() is not None:
            block.drop_tree()
    for block, linked in tagged.items():
        if block.getparent() is not None and block.tag not in ("body", "html") and linked >= TAG_SHARE * (TEXT_LENGTH(block) or 1):
            block.drop_tree()


THREAD = 4  # alike entries, each with its date stamp, under one block: a thread of comments ...
ENTRY_WORDS = 15  # ... holding a sentence or two each besides a name and a date, on average ...
THREAD_LINK_SHARE = 0.5  # ... mostly outside links ...
HEADLINE_WORDS = 4  # ... most of them without a link this long (a teaser's headline; the stamp's link aside) ...
NAME_WORDS = 3  # ... most of them opening with a name (a short text without figures) ...
ARTICLE_BEFORE = 750  # ... after this much text outside links from the headline on: the article they answer
SECTION_EXTRA = 300  # characters besides the entries in the thread's block: a heading with a count, a link, a form's labels
REPLY_THREAD = 2  # ... or, beside a form to reply in, this many entries ...
REPLY_EXTRA = 600  # ... in a block holding no more text besides them than the form's heading, labels and notes
STAMP_CHARS = 40  # a date written as text: a short text holding a year or a time of day
_DATE_TEXT = re.compile(r"\b(?:1[89]|20)\d\d\b|\b\d{1,2}:\d\d\b")
_ENTRIES = ("li", "div", "article", "section")
_UNREAD = ("script", "style", "template", "noscript")


def _name(entry: HtmlElement, stamp: HtmlElement) -> str | None:
    """The entry's first text outside its stamp, when it is a name: NAME_WORDS words at most, no figure."""
    inside = set(stamp.iter())
    for element in entry.iter():
        if element in inside or not isinstance(element.tag, str) or not (text := (element.text or "").strip()):
            continue
        return text if len(text.split()) <= NAME_WORDS and not any(c.isdigit() for c in text) else None
    return None


def _is_thread(run: list[tuple[HtmlElement, HtmlElement]], least: int = THREAD) -> bool:
    """Whether alike entries with a date stamp each are readers' comments (see drop_reader_comments),
    by ``least`` different names at least."""
    text = sum(TEXT_LENGTH(entry) for entry, _ in run)
    linked = sum(TEXT_LENGTH(a) for entry, _ in run for a in entry.iter("a"))
    if sum(_words(entry) for entry, _ in run) < ENTRY_WORDS * len(run) or linked >= THREAD_LINK_SHARE * text:
        return False
    headed = sum(
        any(len(text_of(a).split()) >= HEADLINE_WORDS and a not in stamp.iterancestors() and stamp not in a.iter() for a in entry.iter("a"))
        for entry, stamp in run
    )
    names = [name for entry, stamp in run if (name := _name(entry, stamp))]
    return 2 * headed < len(run) and 2 * len(names) >= len(run) and len(set(names)) >= max(least, len(names) / 2)


def _running_text(body: HtmlElement, linked: set[HtmlElement]) -> list[int]:
    """The characters of text outside links (``linked``: the links and what they hold) written before
    each of the body's elements in document order (its text and its tail), as running totals: the
    text between two elements is a difference, whatever the number of threads measured."""
    lengths = []
    for element in body.iter():
        length = 0
        if isinstance(element.tag, str) and element.tag not in _UNREAD:
            if element not in linked:
                length += len((element.text or "").strip())
            parent = element.getparent()
            if parent is not None and parent not in linked:
                length += len((element.tail or "").strip())
        lengths.append(length)
    return list(accumulate(lengths, initial=0))


def _longer_than(block: HtmlElement, limit: float) -> bool:
    """Whether a block's text, its spaces normalized, is longer than ``limit``. Its children's texts
    are never longer together, so they are measured one by one until they pass it: the page's
    wrapper around many threads is not read whole for each."""
    seen = 0
    for child in block.iterchildren(Element):
        seen += TEXT_LENGTH(child)
        if seen > limit:
            return True
    return TEXT_LENGTH(block) > limit


def _runs(body: HtmlElement, stamps: list[HtmlElement], least: int) -> list[tuple[HtmlElement, list[tuple[HtmlElement, HtmlElement]]]]:
    """The runs of ``least`` or more alike entries (of one tag under one parent, each the highest
    block around its one stamp) that read as a thread (_is_thread), with their parent."""
    holding = Counter(a for stamp in stamps for a in stamp.iterancestors())
    entries: dict[HtmlElement, HtmlElement] = {}
    for stamp in stamps:
        node = stamp
        while (parent := node.getparent()) is not None and holding[parent] == 1:
            node = parent
        entries.setdefault(node, stamp)
    runs: defaultdict[tuple[HtmlElement, str], list[tuple[HtmlElement, HtmlElement]]] = defaultdict(list)
    for entry, stamp in entries.items():
        if entry.tag in _ENTRIES and (parent := entry.getparent()) is not None:
            runs[parent, entry.tag].append((entry, stamp))
    return [(parent, run) for (parent, _), run in runs.items() if len(run) >= least and _is_thread(run, least)]


def _written_dates(block: HtmlElement) -> list[HtmlElement]:
    """The elements of no children in ``block`` whose short text holds a year or a time of day: a
    date written as text, where a thread's entries give no <time> (one in a <time> is that stamp)."""
    return [
        element
        for element in block.iter(Element)
        if not len(element)
        and element.tag not in _UNREAD
        and len(text := (element.text or "").strip()) <= STAMP_CHARS
        and _DATE_TEXT.search(text)
        and element.tag != "time"
        and next(element.iterancestors("time"), None) is None
    ]


def _reply_region(field: HtmlElement, body: HtmlElement, around: set[HtmlElement]) -> HtmlElement:
    """The highest block around a form's field that is not the body nor around the headline (``around``)."""
    region = field
    for block in field.iterancestors():
        if block is body or block in around:
            break
        region = block
    return region


def _reply_section(parent: HtmlElement, entries_text: int, holders: set[HtmlElement]) -> HtmlElement | None:
    """The lowest block holding a thread (its entries under ``parent``) and a reply form's field
    (``holders``: the blocks around the fields), if it holds little else: the comments section, the
    form for the next one in it."""
    for block in (parent, *parent.iterancestors()):
        if block.tag in ("body", "html"):
            return None
        if block in holders:
            return None if _longer_than(block, entries_text + REPLY_EXTRA) else block
    return None


def drop_reader_comments(tree: HtmlElement, headline: HtmlElement | None) -> None:
    """Remove the readers' comments, found by their structure where no name says "comment": a run
    of THREAD or more alike blocks (of one tag under one parent), each the highest block around its
    one date stamp (a <time>), holding some text of their own outside links, few of them headed by
    a teaser's headline link, most of them opening with a name, different names (a live blog's
    entries are timed too, but signed by its few writers, or not at all); and after ARTICLE_BEFORE
    characters of text outside links from the page's headline (``headline``, its first <h1>; a live
    blog's or a list's entries start under it: they are the article). The block around the run goes
    with it when it holds little else (a heading with the count, a form's labels); a reply nested in
    a comment goes with its comment. On a page with a field to write a reply in (a <textarea>), a
    thread is also REPLY_THREAD entries of as many names whose dates are written as text
    (_written_dates, read around the form only: a walk over its elements), when the block holding
    it and the reply form holds little else: that section goes, the form with it. Before the
    page's furniture goes (extract.domfixes.drop_non_content), which takes a comment's <footer>
    with its name and date."""
    body = tree.find("body")
    if body is None:
        return
    stamps = list(body.iter("time"))
    forms = list(body.iter("textarea"))
    threads = [(parent, run, None) for parent, run in _runs(body, stamps, THREAD)] if len(stamps) >= THREAD else []
    if forms:
        seen = {parent for parent, _, _ in threads}
        # a thread's section holds the form and no headline: the dates are looked for in the highest
        # block around a form that holds no headline (around an article's own form, not the article)
        around = set(headline.iterancestors()) if headline is not None else set()
        regions = dict.fromkeys(_reply_region(field, body, around) for field in forms)
        written = list(dict.fromkeys(stamp for region in regions for stamp in _written_dates(region)))
        holders = {block for field in forms for block in field.iterancestors()}
        for parent, run in _runs(body, stamps + written, REPLY_THREAD):
            section = _reply_section(parent, sum(TEXT_LENGTH(entry) for entry, _ in run), holders)
            if section is not None and parent not in seen:
                threads.append((parent, run, section))
    if not threads:
        return
    order = {element: index for index, element in enumerate(body.iter())}  # (on the few pages with a thread)
    start = order.get(headline, 0) if headline is not None else 0
    running = _running_text(body, {inner for link in body.iter("a") for inner in link.iter()})
    for parent, run, section in threads:
        if parent.getparent() is None or (headline is not None and parent in headline.iterancestors()):
            continue
        # the text outside links written after the headline, before the thread's first entry
        if running[min(order[entry] for entry, _ in run)] - running[start + 1] < ARTICLE_BEFORE:
            continue
        if headline is not None and section is not None and section in headline.iterancestors():
            continue
        if section is None:
            entries_text = sum(TEXT_LENGTH(entry) for entry, _ in run)
            for block in (parent, *parent.iterancestors()):
                if block is body or block.tag == "html" or _longer_than(block, entries_text + SECTION_EXTRA):
                    break
                if headline is not None and block in headline.iterancestors():
                    break
                section = block
        for element in [section] if section is not None else [entry for entry, _ in run]:
            if element.getparent() is not None:
                element.drop_tree()


# Fields a reader types into (an <input> without a type is a text field); not hidden fields,
# checkboxes or buttons. (Adding type=search fields changed 3 pages of 821, as many lost as won.)
_ENTRY_TYPES = {None, "text", "email", "tel"}
# A sign-up box's heading, pitch and fine print (and an author box's name and bio) hold no more
# text, nor a quarter of the page's ...
BOX_CHARS = 1500
# ... nor a paragraph of prose, the headline or the article (a page-wide ASP.NET <form> holds them all)
_BODY_PARTS = ".//p[string-length(normalize-space(.)) >= 150] or .//h1 or .//article or .//main"
HOLDS_BODY = XPath(f"boolean({_BODY_PARTS})")
# ... nor, around a sign-up form, three paragraphs of its own: the text the form is set in (a short
# article of short paragraphs, a form between them), not the box's pitch
_HOLDS_TEXT = XPath(f"boolean({_BODY_PARTS} or count(p) >= 3)")
_HEADLINE = XPath("boolean(.//h1)")
_LINKS_NAMING = XPath(".//a[contains(., $name)]")  # the candidates, found by libxml2: pages have many links


def drop_signup_boxes(tree: HtmlElement) -> None:
    """Remove the boxes around a field the reader types into (a newsletter, SMS or membership
    sign-up, a lead form): the outermost block around the field with little text and no body."""
    body = tree.find("body")
    if body is None:
        return
    fields = [f for f in body.iter("input", "textarea") if f.tag == "textarea" or f.get("type") in _ENTRY_TYPES]
    if fields:  # the page's length only when there is a field
        judged: dict[HtmlElement, bool] = {}  # fields of one form share their blocks
        _drop(_under_a_quarter(body, [_outermost(field, body, BOX_CHARS, _HOLDS_TEXT, judged) for field in fields]))


def _outermost(
    inner: HtmlElement, body: HtmlElement, most: float, holds: XPath, judged: dict[HtmlElement, bool]
) -> HtmlElement | None:
    """The outermost block around ``inner`` below ``body`` with at most ``most`` characters of text
    and nothing that ``holds`` finds (None when its parent already has more); ``judged`` keeps the
    verdicts on blocks between calls (boxes share their ancestors)."""
    box = None
    for outer in inner.iterancestors():
        if outer is body or outer.tag == "html":
            break
        small = judged.get(outer)
        if small is None:
            small = judged[outer] = TEXT_LENGTH(outer) <= most and not holds(outer)
        if not small:
            break
        box = outer
    return box


def _under_a_quarter(body: HtmlElement, boxes: list[HtmlElement | None]) -> list[HtmlElement]:
    """The boxes holding under a quarter of the page's text: more is no widget, on a short page."""
    boxes = [box for box in dict.fromkeys(boxes) if box is not None]
    if not boxes:
        return []
    quarter = TEXT_LENGTH(body) / 4
    return [box for box in boxes if TEXT_LENGTH(box) < quarter]


def _drop(boxes: list[HtmlElement]) -> None:
    for box in boxes:
        if box.getparent() is not None:
            box.drop_tree()


def drop_author_boxes(tree: HtmlElement, author: str | None, headline: HtmlElement | None = None) -> None:
    """Remove the author boxes: the outermost block around a link whose text is the page's author
    (``author``, names joined by ", ") holding a picture (the portrait) and little text besides,
    after most of the paragraph text from the page's headline (``headline``, its <h1>) on. (Before
    it, such a block is the byline beside the lead, which it may hold: a short article's whole
    text; a banner's or a header's paragraphs above the headline are no part of the article.)"""
    body = tree.find("body")
    if not author or body is None:
        return
    boxes = []
    for name in author.split(", "):
        for link in _LINKS_NAMING(body, name=name):
            if word_key(text_of(link)) != word_key(name):
                continue
            box = _author_box(link, body)
            if box is not None and box.find(".//img") is not None:
                boxes.append(box)
    if boxes:
        text_around = _ParagraphText(body, boxes, headline)
        _drop(_under_a_quarter(body, [box for box in boxes if text_around.mostly_before(box)]))


# paragraphs of prose before a block among its siblings: two of them before an author box are the
# story it is set in (a bio's own paragraphs follow the name)
_PROSE_BEFORE = XPath(f"count(preceding-sibling::*/descendant-or-self::p[string-length(normalize-space(.)) >= {PARAGRAPH_CHARS}])")
BEFORE_BOX = 2


def _author_box(link: HtmlElement, body: HtmlElement) -> HtmlElement | None:
    """The outermost block around an author's link below ``body`` with at most BOX_CHARS of text,
    without the headline, and without BEFORE_BOX paragraphs of prose before the block below it:
    a name and a bio are a box; a box and the story's paragraphs before it are the story (a short
    one, or its last section)."""
    box = None
    for outer in link.iterancestors():
        if outer is body or outer.tag == "html" or TEXT_LENGTH(outer) > BOX_CHARS or _HEADLINE(outer):
            break
        if box is not None and _PROSE_BEFORE(box) >= BEFORE_BOX:
            break
        box = outer
    return box


class _ParagraphText:
    """The paragraph text of a page by position, measured once for all its boxes (a page may
    have thousands): in one walk, which notes the positions of the paragraphs and of the boxes,
    not of every element."""

    def __init__(self, body: HtmlElement, boxes: list[HtmlElement], start: HtmlElement | None = None) -> None:
        wanted = set(boxes)
        self.position: dict[HtmlElement, int] = {}
        paragraphs = []  # (in document order, as the positions grow)
        reading = start is None or body not in start.iterancestors()  # (paragraphs from ``start`` on)
        for i, element in enumerate(body.iter()):
            reading = reading or element is start
            if element.tag == "p" and reading:
                paragraphs.append((i, TEXT_LENGTH(element)))
            if element in wanted:
                self.position[element] = i
        self.starts = [start for start, _ in paragraphs]
        self.running = list(accumulate((length for _, length in paragraphs), initial=0))

    def mostly_before(self, box: HtmlElement) -> bool:
        """Whether more of the paragraph text outside ``box`` comes before it than after it."""
        start = self.position[box]
        end = start + sum(1 for _ in box.iterdescendants())  # the box's last element
        before = self.running[bisect_left(self.starts, start)]
        after = self.running[-1] - self.running[bisect_right(self.starts, end)]
        return before > after


def _elements(tree: HtmlElement, keys: set[str], lengths: dict[HtmlElement, int]) -> dict[str, HtmlElement]:
    """For each key, the first paragraph or short text block of the tree whose words it is: the
    outermost of nested blocks holding just that text (a paragraph in a box of its own: the box).
    ``lengths`` are the tree's paragraphs' text lengths."""
    longest = max(map(len, keys), default=0) + _SLACK  # longer blocks hold no wanted text
    # ... nor do blocks shorter than half a key's words (lower() makes "İ" two characters)
    shortest = min(map(len, keys), default=0)
    # a block's text holds its paragraphs' text: the blocks around a longer paragraph are not
    # measured (they are the page's largest, whose measuring costs most)
    around_longer: set[HtmlElement] = set()
    for paragraph, length in lengths.items():
        if length > longest:
            for outer in paragraph.iterancestors():
                if outer in around_longer:
                    break
                around_longer.add(outer)
    # a block whose words are a key holds the key's last word in its lower-cased text: a look for
    # the keys' last words passes over the blocks of other texts without splitting them into words
    # (substring tests, not a regular expression of them: compiling one a page cost 3 ms)
    lasts = {key.rpartition(" ")[2] for key in keys}
    found: dict[str, HtmlElement] = {}
    for element in tree.iter("p", "div"):
        length = lengths.get(element)
        if length is not None:
            if length > longest or 2 * length < shortest:
                continue
            text = text_of(element)
        elif element in around_longer:
            continue
        else:
            # a block's spaces normalized, its text is no longer: one as long as a key is not measured
            # again (one shorter than half the shortest key, whose words are no key, fails the test below)
            text = text_of(element)
            if len(text) > longest and TEXT_LENGTH(element) > longest:
                continue
        text = text.lower()
        if not any(last in text for last in lasts):
            continue
        key = word_key(text)
        if key in keys and key not in found:
            found[key] = element
            if len(found) == len(keys):
                break
    return found


# Inline declarations that set a paragraph apart as a box or in another size of type (a border above a
# moderation note, a larger call to action); alignment, margins and emphasis do not
_SET_APART = re.compile(r"\s*((?:border|background|font-size)[-\w]*)\s*:\s*([^;]*?)\s*(?:;|$)", re.I)


def paragraph_style(element: HtmlElement) -> tuple[str | None, frozenset[tuple[str, str]]]:
    """How a paragraph is written: its class and the inline declarations that set it apart."""
    style = element.get("style")
    declared = frozenset((name.lower(), value.lower()) for name, value in _SET_APART.findall(style)) if style else frozenset()
    return element.get("class"), declared


def drop_set_apart_tail(tree: HtmlElement, paragraphs: list[str]) -> list[str]:
    """The body without the short notes set apart at its end (see the module's docstring).

    The body's container is the element whose <p> children hold most of the page's paragraph
    text, and the class most of that text is written in is the body's paragraph style; ``tree``
    is the page the paragraphs were extracted from.
    """
    if not paragraphs or word_count(paragraphs[-1]) > NOTE_WORDS:
        return paragraphs  # the common case, decided without looking at the tree
    containers: Counter[HtmlElement] = Counter()
    styles: Counter[tuple[HtmlElement, str | None]] = Counter()
    lengths: dict[HtmlElement, int] = {}
    for p in tree.iter("p"):
        parent, length = p.getparent(), TEXT_LENGTH(p)
        lengths[p] = length
        containers[parent] += length
        styles[parent, paragraph_style(p)] += length
    if not containers:
        return paragraphs
    container = containers.most_common(1)[0][0]
    style = max(((css, count) for (parent, css), count in styles.items() if parent is container), key=lambda c: c[1])[0]
    keys = [word_key(p) for p in paragraphs[-2 * TAIL :]]  # the tail, and the paragraphs it follows
    elements = _elements(tree, set(keys), lengths)
    matched = [(elements.get(key), len(key)) for key in keys]

    def shape(element: HtmlElement) -> tuple:
        parent = element.getparent()
        return element.tag, paragraph_style(element), parent.tag, parent.get("class")

    def set_apart(index: int) -> bool:
        element = matched[index][0]
        if element is None or any(e is not None and shape(e) == shape(element) for e, _ in matched[:index]):
            return False  # one of a run of like blocks (steps, cards, items) is no note
        if element.getparent() is container:
            return element.tag == "p" and paragraph_style(element) != style
        if element.tag == "p":  # outside the container, unless in another section of a body split in blocks of its kind
            return paragraph_style(element) != style and block_kind(element.getparent()) != block_kind(container)
        if element.tag != "div":
            return False
        for outer in element.iterancestors():  # a box of its own in the container, or outside it
            if outer.getparent() is container:
                return outer.tag == "div"
        return True

    end = len(keys)
    while end > max(0, len(keys) - TAIL) and len(keys[end - 1].split()) <= NOTE_WORDS:
        if not set_apart(end - 1):
            break
        end -= 1
    if 0 < end < len(keys) and len(keys[end - 1].split()) <= NOTE_WORDS:
        # the title of the note's box (a call to action's heading) goes with it: the box opens with it
        box = matched[end][0].getparent()
        if (
            box is not None
            and box is not container
            and TEXT_LENGTH(box) <= BOX_CHARS  # a box, not the page's wrapper
            and word_key(" ".join(box.itertext())).startswith(f"{keys[end - 1]} ")
        ):
            end -= 1
    return paragraphs[: len(paragraphs) - len(keys) + end]


# A class or id token with "disclaimer", "disclosure" or "cta" as one of its parts (between "-" or "_"),
# or "footnotes" or "citations": the list of notes, not one note's marker in the text ("footnote")
_NOTICE_NAME = re.compile(r"(?:^|[-_])(?:(?:disclaimer|disclosure|cta)s?|footnotes|citations)(?:$|[-_])", re.I)
_NOTICE_SHARE = 0.25  # of the page's text: a block holding more is the article, whatever its name
_NOTICE_ARTICLE = XPath("count(.//p[string-length(normalize-space(.)) >= 150]) >= 3")
_NOTICE_MIN_WORDS = 3  # a shorter paragraph leaves only as the whole notice, not as a part of one
_CARDS = 3  # blocks of one kind with this many distinct texts are a grid of cards, not one notice


def block_kind(element: HtmlElement) -> tuple[str, frozenset[str]]:
    """What kind of block an element is: its tag and class words, less the words that number it (a
    builder's "element-4f2a9c", a grid's "col-8", "cta_4")."""
    return element.tag, frozenset(w for w in (element.get("class") or "").split() if not any(c.isdigit() for c in w))


def publisher_notices(tree: HtmlElement) -> list[str]:
    """The word keys of the page's publisher notices: blocks named as a disclaimer, a disclosure,
    a call to action or the list of footnotes or citations (see the module's notes), not three or more of one kind with different texts,
    holding under a quarter of the page's text and not three paragraphs of prose (the outermost such
    blocks: inside a larger block named alike, they are found). Read before the body is extracted,
    which changes the tree."""
    body = tree.find("body")
    if body is None:
        return []
    # one walk of the body's elements; a name without one of the parts of the notice words ("isclaimer"
    # for "Disclaimer" too) is passed over before the regular expression reads its tokens (an XPath
    # over every attribute of the document cost a fifth more)
    found = []
    for element in body.iterdescendants(Element):
        attributes = element.attrib
        if not attributes:
            continue
        for value in (attributes.get("class"), attributes.get("id")):
            if (
                value is not None
                and ("cta" in value or "isclaimer" in value or "isclosure" in value or "ootnotes" in value
                     or "itations" in value)
                and any(_NOTICE_NAME.search(t) for t in value.split())
            ):
                found.append(element)
                break
    if not found:
        return []
    total = TEXT_LENGTH(body)
    # the outermost of the blocks small enough to be a notice: a larger block named alike (a page
    # section named "cta-wrapper" around the article) leaves the notices inside it standing
    within = {e for e in found if TEXT_LENGTH(e) < _NOTICE_SHARE * total and not _NOTICE_ARTICLE(e)}
    outer = [e for e in found if e in within and not any(a in within for a in e.iterancestors())]
    texts: dict[tuple, set[str]] = defaultdict(set)  # a kind of block's distinct texts
    for e in outer:
        texts[block_kind(e)].add(word_key(text_of(e)))
    return [key for e in outer if len(texts[block_kind(e)]) < _CARDS and (key := word_key(text_of(e)))]


def drop_notices(paragraphs: list[str], notices: list[str]) -> list[str]:
    """The body without the paragraphs of the page's publisher notices (publisher_notices)."""
    if not notices:
        return paragraphs
    padded = [f" {notice} " for notice in notices]

    def in_notice(paragraph: str) -> bool:
        key = word_key(paragraph)
        if not key:
            return False
        if len(key.split()) < _NOTICE_MIN_WORDS:
            return key in notices
        return any(f" {key} " in notice for notice in padded)

    return [p for p in paragraphs if not in_notice(p)]
