"""trafilatura's link-density pruning without reading each link's text once per element around it.

``delete_by_link_density`` tests every element of a tag; each test reads the text of every link
below the element (``collect_link_info``). Nested blocks (a page's wrappers, up to the 255 levels
the parser builds) each read all their links again: 3,000 links 240 levels deep took 3 s. The
pass deletes nothing until every element is tested, so a link's text is the same in every test
of one pass: here it is read once a pass, and the links of wrappers nested around the same ones
are counted once. The stand-ins replace only the code they were written
against (``_COPIED``, digests of trafilatura's functions); if an upgrade changes it, the stock
ones run.
"""

from __future__ import annotations

import hashlib
import inspect
import threading

from lxml.html import HtmlElement
from trafilatura import htmlprocessing, main_extractor
from trafilatura.utils import trim

_STOCK_COLLECT = htmlprocessing.collect_link_info
_STOCK_DELETE = htmlprocessing.delete_by_link_density
# collect_link_info (copied below), and the two whose code the cache relies on: the pass deletes
# after its tests, and the test reads link texts only through collect_link_info
_COPIED = {
    "collect_link_info": "f19694013146ff10",
    "delete_by_link_density": "306ab5a31636cd08",
    "link_density_test": "0b3d71f252bf1963",
}
_SAME_CODE = all(
    hashlib.sha256(inspect.getsource(getattr(htmlprocessing, name)).encode()).hexdigest()[:16] == digest
    for name, digest in _COPIED.items()
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
            text = texts[link] = trim(link.text_content())
        if text:
            mylist.append(text)
    lengths = list(map(len, mylist))
    shortelems = sum(1 for length in lengths if length < 10)
    found = texts[run] = (sum(lengths), len(mylist), shortelems, mylist)
    return found


def delete_by_link_density(
    subtree: HtmlElement, tagname: str, backtracking: bool = False, favor_precision: bool = False
) -> HtmlElement:
    _PASS.texts = {}  # (the dict holds the links' proxies, so that a later findall gives the same ones)
    try:
        return _STOCK_DELETE(subtree, tagname, backtracking, favor_precision)
    finally:
        _PASS.texts = None


if _SAME_CODE:
    htmlprocessing.collect_link_info = collect_link_info
    main_extractor.delete_by_link_density = delete_by_link_density
