"""trafilatura's reads of a page's text in time linear in the page, for two shapes where libxml2's
were quadratic; the trees and results are the same.

- ``strip_tags`` (lxml's) moves a stripped element's text and tail in beside its neighbours as text
  nodes of their own; libxml2 merges adjacent text nodes only when a node is added, not when one is
  unlinked. Reading such a run (``.text``, ``itertext``) joins its nodes one by one, and XPath puts
  them in document order by walking their siblings: both cost the square of the run's nodes.
  trafilatura strips every ``<span>`` of the body and then reads the paragraphs' text: one
  paragraph of 8,000 spans took 2 s, 16,000 took 8 s. Here an element into which many elements are
  stripped is rebuilt in one pass from texts read before the strip, each run joined once; the tree
  is the one lxml makes (the tests compare them), and its other strips are lxml's own.
- The main pass (``main_extractor._extract``) asks whether the page's paragraphs hold enough text
  with ``//p//text()``; libxml2 adds each paragraph's text nodes to the result with a check for
  duplicates against every node found so far: 12,000 paragraphs with a link each took 1.3 s (in
  trafilatura alone too). The stand-in is trafilatura's own function compiled with that expression
  replaced by a walk giving the same texts; it stands in only while the function's code is the one
  it was written against (``_COPIED``).
"""

from __future__ import annotations

import hashlib
import inspect
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from lxml import etree
from trafilatura import core, external, htmlprocessing, main_extractor

_STOCK_STRIP_TAGS = etree.strip_tags
_PARENT = etree._Element.getparent
_TRAFILATURA_MODULES = (core, external, htmlprocessing, main_extractor)
# the main pass's test, and the same texts in one walk (paragraphs in paragraphs read once, as XPath's
# node set holds each text once)
_PARAGRAPH_TEXTS = 'subtree.xpath("//p//text()")'
_PARAGRAPH_TEXTS_WALKED = (
    '[text for p in subtree.getroottree().getroot().iter("p") if next(p.iterancestors("p"), None) is None'
    " for text in p.itertext()]"
)
_STOCK_EXTRACT = main_extractor._extract
_COPIED = "3e0e39ed3e03e8e4"
_EXTRACT_SOURCE = inspect.getsource(_STOCK_EXTRACT)
_SAME_CODE = hashlib.sha256(_EXTRACT_SOURCE.encode()).hexdigest()[:16] == _COPIED
_MANY = 256  # stripped elements in one element from which it is rebuilt: a run of fewer reads in microseconds


def _tag_names(tags: tuple) -> list:
    """strip_tags' arguments as a flat list: it also takes its tags as one sequence."""
    names: list = []
    for tag in tags:
        names.extend(tag) if isinstance(tag, (list, tuple, set, frozenset)) else names.append(tag)
    return names


def strip_tags(tree: etree._Element | etree._ElementTree, *tags) -> None:
    """``lxml.etree.strip_tags``; an element into which many elements are stripped is rebuilt here
    with each run of its text one node (a few nodes cost nothing: the cost is a run's nodes squared)."""
    names = _tag_names(tags)
    root = tree.getroot() if isinstance(tree, etree._ElementTree) else tree
    if root is not None and names and all(isinstance(name, str) for name in names):
        stripped = set(names)
        parents = Counter(map(_PARENT, root.iter(*names)))
        parents.pop(root.getparent(), None)  # the root is not stripped, even where its tag is named
        receivers: Counter = Counter()  # the elements that keep what is stripped
        for receiver, count in parents.items():
            while receiver is not root and receiver.tag in stripped:
                receiver = receiver.getparent()
            receivers[receiver] += count
        for receiver, count in receivers.items():
            if count >= _MANY:
                _strip_into(receiver, stripped)
    _STOCK_STRIP_TAGS(tree, *tags)


def _strip_into(receiver: etree._Element, stripped: set[str]) -> None:
    """Strip the ``stripped`` elements below ``receiver`` (not below the elements it keeps), joining
    each run of text once."""
    leading = [receiver.text]
    kept: list[tuple[etree._Element, list[str | None]]] = []  # each kept element and the pieces of its tail

    def flatten(element: etree._Element) -> None:
        for child in element:
            if child.tag in stripped:
                (kept[-1][1] if kept else leading).append(child.text)
                flatten(child)
                (kept[-1][1] if kept else leading).append(child.tail)
            else:
                kept.append((child, [child.tail]))

    flatten(receiver)
    for child in list(receiver):
        receiver.remove(child)
    receiver.text = _joined(leading)
    for child, tail in kept:
        child.tail = _joined(tail)
        receiver.append(child)


def _joined(pieces: list[str | None]) -> str | None:
    """A run's text as lxml leaves it: None only where no piece was there, not even an empty one."""
    text = "".join(piece for piece in pieces if piece)
    return text if text or any(piece is not None for piece in pieces) else None


def _walking_extract() -> Callable:
    """trafilatura's ``_extract``, compiled in its module's namespace (so that it sees the stand-ins
    the other context managers put there) with the paragraph-text test walked."""
    defined: dict = {}
    exec(compile(_EXTRACT_SOURCE.replace(_PARAGRAPH_TEXTS, _PARAGRAPH_TEXTS_WALKED), main_extractor.__file__, "exec"),
         main_extractor.__dict__, defined)
    return defined["_extract"]


_EXTRACT = _walking_extract() if _SAME_CODE else _STOCK_EXTRACT


@contextmanager
def linear_text_reads() -> Iterator[None]:
    """trafilatura's modules strip tags with ``strip_tags`` above, and its main pass tests the
    paragraphs' text by a walk, for the duration (elsewhere in the process, trafilatura runs its own:
    the benchmark's peers)."""
    for module in _TRAFILATURA_MODULES:
        module.strip_tags = strip_tags
    main_extractor._extract = _EXTRACT
    try:
        yield
    finally:
        for module in _TRAFILATURA_MODULES:
            module.strip_tags = _STOCK_STRIP_TAGS
        main_extractor._extract = _STOCK_EXTRACT
