"""trafilatura's link-density pruning without reading each link's text once per element around it.

``delete_by_link_density`` tests every element of a tag; each test reads the text of every link
below the element (``collect_link_info``). Nested blocks (a page's wrappers, up to the 255 levels
the parser builds) each read all their links again: 3,000 links 240 levels deep took 3 s. The
pass deletes nothing until every element is tested, so a link's text is the same in every test
of one pass: here it is read once a pass, and the links of wrappers nested around the same ones
are counted once. The main extractor's six passes over its subtree test every block twice: an
element whose subtree and following sibling no deletion changed keeps its first answer; and a text
is measured only up to the thresholds it is compared with. The stand-ins replace only the code they were written
against (``_COPIED``, digests of trafilatura's functions); if an upgrade changes it, the stock
ones run.
"""

from __future__ import annotations

import hashlib
import inspect
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from lxml.html import HtmlElement
from trafilatura import htmlprocessing, main_extractor
from trafilatura.settings import Extractor
from trafilatura.utils import LINK_FARM_RATIO, trim
from trafilatura.xml import delete_element

from extract.paragraphs import text_of

_STOCK_COLLECT = htmlprocessing.collect_link_info
_STOCK_TEST = htmlprocessing.link_density_test
_STOCK_PRUNE_SECTIONS = main_extractor.prune_unwanted_sections
# collect_link_info and delete_by_link_density (copied below), and the two whose code the caches rely
# on: the test reads link texts only through collect_link_info, and the main extractor's pruning
# changes the tree between its link-density passes by nothing else
_COPIED = (
    (htmlprocessing, "collect_link_info", "f19694013146ff10"),
    (htmlprocessing, "delete_by_link_density", "306ab5a31636cd08"),
    (htmlprocessing, "link_density_test", "0b3d71f252bf1963"),
    (main_extractor, "prune_unwanted_sections", "e6eb7afcc64d3f37"),
)
_SAME_CODE = all(
    hashlib.sha256(inspect.getsource(getattr(module, name)).encode()).hexdigest()[:16] == digest
    for module, name, digest in _COPIED
)
_PASS = threading.local()  # the link texts and link counts of the running pass (none outside a pass)


def collect_link_info(links_xpath: list[HtmlElement]) -> tuple[int, int, int, list[str]]:
    texts: dict | None = getattr(_PASS, "texts", None)
    if texts is None or not links_xpath:
        return _STOCK_COLLECT(links_xpath)
    # an element's links run in document order, so a first, a last and a count name one run:
    # the wrappers nested around the same links share one count
    run = (links_xpath[0], links_xpath[-1], len(links_xpath))
    if (found := texts.get(run)) is not None:
        return found
    mylist = []
    for link in links_xpath:
        text = texts.get(link)
        if text is None:
            text = texts[link] = trim(text_of(link))
        if text:
            mylist.append(text)
    lengths = list(map(len, mylist))
    shortelems = sum(1 for length in lengths if length < 10)
    found = texts[run] = (sum(lengths), len(mylist), shortelems, mylist)
    return found


def _trimmed_length(text: str, bound: int) -> int:
    """The length of ``trim(text)`` when under ``bound``, else a number at least ``bound``: each test
    compares it with thresholds under a bound it knows, and splitting a page wrapper's whole text
    into words (and hashing it for trim's cache) cost a fifth of the pass. A prefix's trimmed text
    is never longer than the whole's, so prefixes of growing length decide most texts early."""
    if len(text) < bound:
        return len(trim(text))  # (raw text is never shorter than trimmed)
    end = 2 * bound
    while end < len(text):
        if (length := len(" ".join(text[:end].split()))) >= bound:
            return length
        end *= 2
    return len(trim(text))


def link_density_test(element: HtmlElement, favor_precision: bool = False) -> tuple[bool, bool]:
    """trafilatura's test, its code but for how the element's links and images are found and how
    much of its text is measured: lxml's ``findall(".//ref")`` and ``find(".//graphic")`` are its
    ElementPath, Python generators around ``iterdescendants(tag)``, called here directly (the same
    elements in the same order; three elements of every div, list and paragraph tested this way in
    six passes a page); and the text's trimmed length is measured only up to the largest threshold
    it is compared with (_trimmed_length), which gives each comparison the same outcome."""
    links_xpath = list(element.iterdescendants("ref"))
    if not links_xpath:
        return False, False
    # preserve image containers
    if next(element.iterdescendants("graphic"), None) is not None:
        return False, False
    if element.tag == "p":
        limitlen = 60 if element.getnext() is None else 30
    elif element.getnext() is None:
        limitlen = 300
    else:
        limitlen = 100
    bound = limitlen
    # shortcut
    link_text, len_threshold = "", 10 if favor_precision else 100
    if len(links_xpath) == 1:
        link_text = trim(text_of(links_xpath[0]))
        if len(link_text) > len_threshold:
            bound = max(bound, int(len(link_text) / 0.9) + 2)  # (len(text) * 0.9 is compared below)
    farm = None
    if len(links_xpath) > 4:  # (its link info is read by each path below)
        farm = collect_link_info(links_xpath)
        bound = max(bound, int(farm[0] / LINK_FARM_RATIO) + 2)
    elemlen = _trimmed_length(text_of(element), bound)
    if len(links_xpath) == 1 and len(link_text) > len_threshold and len(link_text) > elemlen * 0.9:
        return True, False
    if elemlen < limitlen:
        linklen, elemnum, shortelems, _ = farm or collect_link_info(links_xpath)
        if elemnum == 0:
            return True, False
        return linklen > elemlen * 0.8 or (elemnum > 1 and shortelems / elemnum > 0.8), True
    if farm is not None:
        linklen, elemnum, _, _ = farm
        if linklen > elemlen * LINK_FARM_RATIO and linklen < 100 * elemnum and not htmlprocessing.is_paragraph_listing(links_xpath):
            return True, False
    return False, False


def delete_by_link_density(
    subtree: HtmlElement, tagname: str, backtracking: bool = False, favor_precision: bool = False
) -> HtmlElement:
    """trafilatura's pass (its code), the link texts read once a pass, and within the main extractor's
    pruning (``_prune_unwanted_sections``) each element's test answered from an earlier pass when
    nothing it reads has changed since: its subtree and whether a sibling follows it. Its six passes
    (divs, lists, paragraphs, twice) test every block twice and delete few: an element is forgotten
    when an element inside it is deleted (its ancestors) or the one after it (its previous sibling)."""
    known: dict | None = getattr(_PASS, "known", None)
    deletions = []
    len_threshold = 200 if favor_precision else 100
    depth_threshold = 1 if favor_precision else 3
    _PASS.texts = {}  # (the dict holds the links' proxies, so that a later findall gives the same ones)
    try:
        for elem in subtree.iter(tagname):
            answer = known.get(elem) if known is not None else None
            if answer is None:
                answer = htmlprocessing.link_density_test(elem, favor_precision)
                if known is not None:
                    known[elem] = answer
            result, short_with_links = answer
            if result or (
                backtracking
                and short_with_links
                and len(elem) >= depth_threshold
                and len(trim(text_of(elem))) < len_threshold
            ):
                parent = elem.getparent()
                if tagname == "p" and parent is not None and parent.tag in ("item", "td", "th"):
                    continue
                deletions.append(elem)
    finally:
        _PASS.texts = None
    for elem in dict.fromkeys(deletions):
        if known is not None:
            for changed in (*elem.iterancestors(), elem.getprevious()):
                known.pop(changed, None)
        delete_element(elem)
    return subtree


def _prune_unwanted_sections(tree: HtmlElement, potential_tags: set[str], options: Extractor, keep_teasers: bool = False) -> HtmlElement:
    """trafilatura's pruning of the main extractor's subtree, its link-density passes answering from
    one another (delete_by_link_density). Nothing else changes the tree between them; the passes
    after its table deletions (precision focus) test other tags, never answered from these."""
    _PASS.known = {}
    try:
        return _STOCK_PRUNE_SECTIONS(tree, potential_tags, options, keep_teasers)
    finally:
        _PASS.known = None


if _SAME_CODE:
    htmlprocessing.collect_link_info = collect_link_info
    main_extractor.delete_by_link_density = delete_by_link_density


@contextmanager
def faster_link_tests() -> Iterator[None]:
    """trafilatura's link-density passes with ``link_density_test`` above, for the duration (elsewhere
    in the process, trafilatura runs its own: the benchmark's peers); the stock one where an upgrade
    changed the code."""
    if not _SAME_CODE:
        yield
        return
    htmlprocessing.link_density_test = link_density_test
    main_extractor.prune_unwanted_sections = _prune_unwanted_sections
    try:
        yield
    finally:
        htmlprocessing.link_density_test = _STOCK_TEST
        main_extractor.prune_unwanted_sections = _STOCK_PRUNE_SECTIONS
