"""trafilatura's extraction sequence without the copies of the tree that our fast-mode calls never
read, as stand-ins for two of its functions while extract.body runs it (``fewer_copies``).

- ``core._prepare_tree`` keeps a copy of the cleaned tree for its full mode's comparison and for
  comment extraction: in fast mode without comments nothing reads it (0.2 ms a page).
- ``main_extractor.extract_content`` copies the cleaned tree before its main pass, for the recovery
  of wild text that runs when the pass finds (almost) nothing: on 4 of 739 calls over
  web-articles-dev. Here that tree is prepared again from the page when the recovery needs it, by
  the same preparation, which gives the same tree (0.2 ms a page).

Each stands in only where the stock function's copy is unread or can be made again: in fast mode,
without comments or links, outside the precision focus; else the stock function runs. The
extract_content stand-in copies trafilatura's code around the copy and stands in only for the
code it was copied from (``_COPIED``): if an upgrade changes that code, the stock one runs.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from copy import copy

from lxml.etree import _Element, strip_elements, strip_tags
from lxml.html import HtmlElement
from trafilatura import core, main_extractor
from trafilatura.htmlprocessing import convert_tags, tree_cleaning
from trafilatura.settings import Extractor
from trafilatura.utils import SPACING_PROTECTED, text_chars_test
from trafilatura.xml import delete_element

_STOCK_PREPARE_TREE = core._prepare_tree
_STOCK_EXTRACT_AND_COMPARE = core._extract_and_compare
# the digest of trafilatura's extract_content, whose code _extract_content copies
_COPIED = "f0270c94ac5f30b5"
_SAME_CODE = hashlib.sha256(inspect.getsource(main_extractor.extract_content).encode()).hexdigest()[:16] == _COPIED


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
    return _extract_content(cleaned_tree, options, lambda: _prepare_tree(tree, options, None)[0])


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


@contextmanager
def fewer_copies() -> Iterator[None]:
    """trafilatura's sequence with the stand-ins above, for the duration (any other caller's full
    mode, comments or links still get the stock functions from them)."""
    core._prepare_tree, core._extract_and_compare = _prepare_tree, _extract_and_compare
    try:
        yield
    finally:
        core._prepare_tree, core._extract_and_compare = _STOCK_PREPARE_TREE, _STOCK_EXTRACT_AND_COMPARE
