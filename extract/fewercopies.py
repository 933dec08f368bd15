"""trafilatura's extraction sequence without the copies of the tree that our fast-mode calls never
read, as stand-ins for two of its functions while extract.body runs it (``fewer_copies``).

- ``core._prepare_tree`` keeps a copy of the cleaned tree for its full mode's comparison and for
  comment extraction: in fast mode without comments nothing reads it (0.2 ms a page).
- ``main_extractor.extract_content`` copies the cleaned tree before its main pass, for the recovery
  of wild text that runs when the pass finds (almost) nothing: on 4 of 739 calls over
  web-articles-dev. Here that tree is prepared again from the page when the recovery needs it, by
  the same preparation, which gives the same tree (0.2 ms a page).

- In full mode right after a fast-mode sequence on the same tree (extract.body's second opinion on a
  fast body that kept a fragment of the page), the main extractor's result is the fast sequence's:
  the full mode prepares the same tree (the fast sequence changed the page's tree by its two
  prunes only, and the full mode's prunes find nothing more to delete), and the main extractor reads
  the mode only where it recovers wild text (not then reused). The full mode compares that result
  with readability's and justext's, as ever, without running the main extractor again over a copy
  (0.1 s on a long page in full mode).

Each stands in only where the stock function's copy is unread or can be made again: in fast mode,
without comments or links, outside the precision focus; else the stock function runs. The
extract_content stand-in copies trafilatura's code around the copy and stands in only for the
code it was copied from (``_COPIED``): if an upgrade changes that code, the stock one runs; the
reuse relies on the code of the sequence and of what it calls on the page's tree (``_SEQUENCE``).
"""

from __future__ import annotations

import hashlib
import inspect
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from copy import copy, deepcopy
from importlib import import_module
from typing import NamedTuple

from lxml.etree import _Element, strip_elements
from lxml.html import HtmlElement
from trafilatura import core, main_extractor
from trafilatura.htmlprocessing import convert_tags, tree_cleaning
from trafilatura.settings import Extractor
from trafilatura.utils import SPACING_PROTECTED, text_chars_test
from trafilatura.xml import delete_element

from extract.textreads import strip_tags

_STOCK_PREPARE_TREE = core._prepare_tree
_STOCK_EXTRACT_AND_COMPARE = core._extract_and_compare
# the digest of trafilatura's extract_content, whose code _extract_content copies
_COPIED = "f0270c94ac5f30b5"
_SAME_CODE = hashlib.sha256(inspect.getsource(main_extractor.extract_content).encode()).hexdigest()[:16] == _COPIED
_STOCK_PRUNE = core.prune_unwanted_nodes
# the sequence, its main extraction and comparison, and what it calls on the page's tree besides its
# prunes (which copy it first): the reuse of a fast sequence's extraction holds for this code
_SEQUENCE = "a093a31758aff686"
_BASELINE = import_module("trafilatura.baseline")  # (the package's "baseline" is a function)
_SEQUENCE_CODE = (core.trafilatura_sequence, core._extract_and_compare, _BASELINE.baseline, _BASELINE.html2txt)
_SAME_SEQUENCE = _SAME_CODE and (
    hashlib.sha256("".join(map(inspect.getsource, _SEQUENCE_CODE)).encode()).hexdigest()[:16] == _SEQUENCE
)


class _Extracted(NamedTuple):
    """A fast sequence's main extraction: of which tree, with which options, its body and text."""

    tree: HtmlElement
    options: dict
    body: _Element
    text: str


_LAST = threading.local()  # .first: the sequence's main extraction is to come; .extracted: it, when reusable


def _copies_unread(options: Extractor) -> bool:
    return options.fast and not options.comments and not options.links and options.focus != "precision"


def _prepare_tree(tree: HtmlElement, options: Extractor, url: str | None) -> tuple[HtmlElement, HtmlElement | None]:
    """trafilatura's preparation of the tree (a cleaned copy, its tags converted), without the copy
    of the cleaned tree where nothing reads it."""
    if not _copies_unread(options):
        return _STOCK_PREPARE_TREE(tree, options, url)
    return convert_tags(tree_cleaning(copy(tree), options), options, url), None


def _extract_and_compare(
    cleaned_tree: HtmlElement, cleaned_tree_backup: HtmlElement | None, tree: HtmlElement, options: Extractor
) -> tuple[_Element, str]:
    """trafilatura's main extractor on the prepared tree (its fast mode compares no other), the tree
    prepared again from ``tree``, which nothing changes meanwhile, for the recovery of wild text."""
    if not _copies_unread(options) or not _SAME_CODE:
        return _STOCK_EXTRACT_AND_COMPARE(cleaned_tree, cleaned_tree_backup, tree, options)
    recovered: list[bool] = []
    body, text = _extract_content(cleaned_tree, options, lambda: recovered.append(True) or _prepare_tree(tree, options, None)[0])
    if getattr(_LAST, "first", False):  # the sequence's main extraction (a recall retry comes after it)
        _LAST.first = False
        _LAST.extracted = None if recovered else _Extracted(tree, _settings(options), body, text)
    return body, text


def _settings(options: Extractor) -> dict:
    """The options but the mode, which the main extractor reads only where it recovers wild text."""
    names = (name for cls in type(options).__mro__ for name in getattr(cls, "__slots__", ()))
    return {name: getattr(options, name, None) for name in names if name != "fast"}


def _extract_content(
    cleaned_tree: HtmlElement, options: Extractor, prepared: Callable[[], HtmlElement]
) -> tuple[_Element, str]:
    """trafilatura's extract_content, the tree as it was before the main pass made by ``prepared``
    when the recovery needs it, rather than copied before every pass. (Its code otherwise.)"""
    # source order before the main pass moves elements, the backup keeps it
    order = list(cleaned_tree.iter())

    result_body, temp_text, potential_tags = main_extractor._extract(cleaned_tree, options)

    # try parsing wild <p> elements if nothing found or text too short
    if len(result_body) == 0 or len(temp_text) < options.min_extracted_size:
        backup_tree = prepared()
        # copies of what the main pass consumed are not recovered again
        consumed: set[_Element] = {
            twin for elem, twin in zip(order, backup_tree.iter(), strict=True) if elem.tag == "done"
        }
        result_body = main_extractor.recover_wild_text(backup_tree, result_body, options, potential_tags, consumed)
        temp_text = " ".join(result_body.itertext()).strip()
    # drop substantial elements repeating the previous one (overlapping-candidate / recovery artifact);
    # length-gated so short genuine repeats stay for the dedup (#778) and tree-size guards
    previous = None
    for el in list(result_body):
        current = main_extractor._elem_text(el)
        if current and current == previous and len(current) > main_extractor.MIN_DUPLICATE_LENGTH:
            delete_element(el, keep_tail=False)
        else:
            previous = current
    # filter output
    strip_elements(result_body, "done")
    strip_tags(result_body, "div")
    # an <lb> that only separated pruned blocks carries a run of whitespace (not in code or pre)
    for linebreak in result_body.iter("lb"):
        if (
            linebreak.tail
            and not text_chars_test(linebreak.tail)
            and not any(anc.tag in SPACING_PROTECTED for anc in linebreak.iterancestors())
        ):
            linebreak.tail = None
    return result_body, temp_text


def forget_extraction() -> None:
    """Let go of the fast sequence's extraction (its page's tree and body) once no full mode follows."""
    _LAST.extracted = None


def _elements(tree: HtmlElement) -> int:
    return sum(1 for _ in tree.iter())


@contextmanager
def fewer_copies(again: bool = False) -> Iterator[None]:
    """trafilatura's sequence with the stand-ins above, for the duration (any other caller's full
    mode, comments or links still get the stock functions from them). ``again``: the sequence runs
    in full mode on the tree a fast sequence has just read, unchanged since (see the module's notes)."""
    extracted = getattr(_LAST, "extracted", None) if again and _SAME_SEQUENCE else None
    _LAST.first, _LAST.extracted = True, None
    pruned: list[bool] = []

    def prune_unwanted_nodes(tree: HtmlElement, nodelist: list, with_backup: bool = False) -> HtmlElement:
        before = _elements(tree)
        tree = _STOCK_PRUNE(tree, nodelist, with_backup)
        if _elements(tree) != before:
            pruned.append(True)
        return tree

    def extract_and_compare(
        cleaned_tree: HtmlElement, cleaned_tree_backup: HtmlElement, tree: HtmlElement, options: Extractor
    ) -> tuple[_Element, str]:
        nonlocal extracted
        reused, extracted = extracted, None  # the sequence's main extraction only
        if reused is None or pruned or tree is not reused.tree or options.fast or _settings(options) != reused.options:
            return _extract_and_compare(cleaned_tree, cleaned_tree_backup, tree, options)
        # (the stock function, the main extraction's result taken from the fast sequence)
        return core.compare_extraction(cleaned_tree_backup, copy(tree), deepcopy(reused.body), reused.text, options)

    core._prepare_tree, core._extract_and_compare = _prepare_tree, _extract_and_compare
    if extracted is not None:
        core.prune_unwanted_nodes, core._extract_and_compare = prune_unwanted_nodes, extract_and_compare
    try:
        yield
    finally:
        core._prepare_tree, core._extract_and_compare = _STOCK_PREPARE_TREE, _STOCK_EXTRACT_AND_COMPARE
        core.prune_unwanted_nodes = _STOCK_PRUNE
        _LAST.first = False
