"""trafilatura's sequence with extract.fewercopies' stand-ins (no copy of the cleaned tree in fast
mode, the tree prepared again for the recovery of wild text) gives what the stock sequence gives:
on the repository's pages, and on pages whose main pass finds too little, so that the recovery runs."""

from __future__ import annotations

from pathlib import Path

import lxml.html

import pytest
from lxml.etree import tostring
from trafilatura import core, main_extractor
from trafilatura.core import trafilatura_sequence
from trafilatura.settings import Extractor

from extract import fewercopies
from extract.htmlinput import load_tree
from extract.namematch import emulated_name_matches

FIXTURES = Path(__file__).parent / "fixtures"
FAST = Extractor(output_format="python", fast=True, comments=False)
# the main pass takes the named container's one short line; the recovery finds the loose paragraphs
SHORT_CONTAINER = b"""<html><body><div class="post"><p>A short line in the container.</p></div>
<p>Loose paragraph one, written straight into the page body with enough words to count as text.</p>
<p>Loose paragraph two, also outside the container, telling the rest of the little story here.</p>
<div><p>A third one inside a plain block, closing the page with a sentence of its own.</p></div>
</body></html>"""
NO_CONTAINER = b"""<html><body><span>Only inline text, no paragraphs at all, a line of it.</span>
<table><tr><td><p>A table cell holding a paragraph that the recovery may look at.</p></td></tr></table>
</body></html>"""
PAGES = [(path.name, path.read_bytes()) for path in sorted(FIXTURES.rglob("*.html"))]
PAGES += [("short container", SHORT_CONTAINER), ("no container", NO_CONTAINER)]


def _sequence(html: bytes, fewer: bool) -> tuple[bytes, str]:
    tree = load_tree(html)
    with emulated_name_matches():
        if fewer:
            with fewercopies.fewer_copies():
                body, text, _, _ = trafilatura_sequence(tree, FAST, "https://example.org/a")
        else:
            body, text, _, _ = trafilatura_sequence(tree, FAST, "https://example.org/a")
    return tostring(body), text


def test_the_copied_code_is_the_installed_code() -> None:
    # else the stand-in would never run, and the comparisons below compare the stock code with itself
    assert fewercopies._SAME_CODE


@pytest.mark.parametrize(("name", "html"), PAGES, ids=[name for name, _ in PAGES])
def test_the_same_body_as_the_stock_sequence(name: str, html: bytes) -> None:
    assert _sequence(html, fewer=True) == _sequence(html, fewer=False)


def test_the_recovery_runs_on_a_tree_prepared_again(monkeypatch: pytest.MonkeyPatch) -> None:
    recovered = []
    stock = main_extractor.recover_wild_text

    def spy(tree, *args, **kwargs):
        recovered.append(tostring(tree))
        return stock(tree, *args, **kwargs)

    monkeypatch.setattr(main_extractor, "recover_wild_text", spy)
    body, _ = _sequence(SHORT_CONTAINER, fewer=True)
    assert recovered and b"Loose paragraph two" in body
    with_copy = recovered.pop(0)
    _sequence(SHORT_CONTAINER, fewer=False)
    assert recovered[0] == with_copy  # the tree prepared again is the stock copy


def test_trafilatura_elsewhere_runs_as_installed() -> None:
    with fewercopies.fewer_copies():
        assert core._prepare_tree is fewercopies._prepare_tree
    assert core._prepare_tree is fewercopies._STOCK_PREPARE_TREE
    assert core._extract_and_compare is fewercopies._STOCK_EXTRACT_AND_COMPARE


FULL = Extractor(output_format="python", fast=False, comments=False)
# a fast body that is a fragment (the first section): the full mode compares it with justext's
SECTIONS = ("<html><body><article><div class='lead'><p>" + "The council agreed on a plan for the river park. " * 3
            + "</p></div><div>" + "".join(f"<div><a href='/x/{i}'>More on the park {i}</a> <p>" + "Residents spoke for and"
            " against the plan at length in the town hall meeting on Monday. " * 2 + "</p></div>" for i in range(12))
            + "</div></article></body></html>").encode()


def _fast_then_full(html: bytes, fewer: bool, again: bool = True) -> tuple[bytes, str, bytes, str]:
    """The fast sequence, then the full one on the same tree (extract.body's second opinion)."""
    tree = load_tree(html)
    url = "https://example.org/a"
    with emulated_name_matches():
        if fewer:
            with fewercopies.fewer_copies():
                fast, fast_text, _, _ = trafilatura_sequence(tree, FAST, url)
            with fewercopies.fewer_copies(again):
                full, full_text, _, _ = trafilatura_sequence(tree, FULL, url)
        else:
            fast, fast_text, _, _ = trafilatura_sequence(tree, FAST, url)
            full, full_text, _, _ = trafilatura_sequence(tree, FULL, url)
    return tostring(fast), fast_text, tostring(full), full_text


@pytest.mark.parametrize(("name", "html"), [*PAGES, ("sections", SECTIONS)], ids=[name for name, _ in PAGES] + ["sections"])
def test_the_full_mode_after_the_fast_mode_gives_the_stock_body(name: str, html: bytes) -> None:
    assert fewercopies._SAME_SEQUENCE
    assert _fast_then_full(html, fewer=True) == _fast_then_full(html, fewer=False)


def test_the_full_mode_takes_the_fast_mode_s_extraction_where_it_can(monkeypatch) -> None:
    extractions = []
    stock = core.extract_content
    monkeypatch.setattr(core, "extract_content", lambda *a: extractions.append(1) or stock(*a))
    _fast_then_full(SECTIONS, fewer=True)
    assert not extractions  # the full mode compared the fast mode's body with justext's and readability's
    _fast_then_full(SECTIONS, fewer=True, again=False)
    assert len(extractions) == 1
    _fast_then_full(SHORT_CONTAINER, fewer=True)  # the fast mode recovered wild text: the full mode extracts anew
    assert len(extractions) == 2
    # a tree the full mode's prunes change is not the one the fast mode read
    pruned = SECTIONS.replace(b"<article>", b"<article><div class='comments-area'><p>A comment.</p></div>")
    tree = load_tree(pruned)
    with emulated_name_matches():
        with fewercopies.fewer_copies():
            trafilatura_sequence(tree, FAST, "https://example.org/a")
        tree.find(".//article").insert(0, lxml.html.fragment_fromstring("<div class='comments-area'><p>Later.</p></div>"))
        with fewercopies.fewer_copies(again=True):
            trafilatura_sequence(tree, FULL, "https://example.org/a")
    assert len(extractions) == 3
    assert core.prune_unwanted_nodes is fewercopies._STOCK_PRUNE and core._extract_and_compare is fewercopies._STOCK_EXTRACT_AND_COMPARE
