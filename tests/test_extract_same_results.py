"""Faster forms of our passes' tests and of trafilatura's give the results of the forms they replace."""

from __future__ import annotations

import random
import re
import subprocess
import sys

import lxml.html

from trafilatura import htmlprocessing
from trafilatura.htmlprocessing import convert_tags, tree_cleaning
from trafilatura.settings import Extractor

from extract import domfixes, linkdensity
from extract.htmlinput import load_tree

# letters of the furniture words and hidden classes, their capitals, separators, spaces of str.split
# that are not ASCII, and characters whose case folds to an ASCII letter (the Kelvin sign, the long s)
_ALPHABET = list("abcdeghiklnoprstuwy-_ ") + ["\xa0", "\t", "\u2003", "\x1c", "\u017f", "\u212a", "\u0130", "\u0131", "S", "H"]


# a furniture word (any case) that ends the token, or a part of it: before "-", "_" or a camelCase capital
_STARTS_WITH_FURNITURE = re.compile(
    rf"^(?i:(?:{'|'.join(map(re.escape, domfixes._FURNITURE_WORDS))})s?)(?:$|[-_]|(?<=[a-z])(?=[A-Z]))"
)


def _token_rule(names: str) -> bool:
    """The rule as written: a token in _HIDDEN_CLASSES (lower-cased) or starting with a furniture word
    (a part of the token: "share-bar", "ShareBar")."""
    return any(t.lower() in domfixes._HIDDEN_CLASSES or _STARTS_WITH_FURNITURE.match(t) for t in names.split())


def test_a_furniture_name_is_judged_by_the_token_rule() -> None:
    words = [*domfixes._FURNITURE_WORDS, *domfixes._HIDDEN_CLASSES, "is-hidden", "iſ-hidden", "hİdden", "SHARE"]
    rng = random.Random(17)
    names = ["", " ", "share", "shares", "share-bar", "sharebar", "reshare", "x share", "share\xa0x", "D-None", "hidden-x",
             "ShareBar", "SharesHere", "Shareholders", "SHAREHOLDERS", "sharE", "PromoSmall-title"]
    for _ in range(20000):
        parts = []
        for _ in range(rng.randrange(1, 4)):
            if rng.random() < 0.5:
                word = rng.choice(words)
                parts.append(word.upper() if rng.random() < 0.3 else word)
            parts.append("".join(rng.choice(_ALPHABET) for _ in range(rng.randrange(0, 3))))
        names.append("".join(parts))
    assert sum(map(_token_rule, names)) > 1000  # both answers are exercised
    for value in names:
        assert domfixes._is_furniture_name(value) == _token_rule(value), repr(value)


def _paragraph_text(tree) -> int:
    return sum(len(t) for p in tree.iter("p") for t in p.itertext())


def test_the_paragraph_text_is_read_until_it_passes_the_bound() -> None:
    pages = [
        "<p>short</p>",
        "<p>" + "x" * 749 + "</p>",
        "<p>" + "x" * 750 + "</p>",
        "<p>" + "x" * 300 + "<p>" + "y" * 300 + "</p><p>" + "z" * 149 + "</p>",
        "<div><p>a<b>b<p>c</p>d</b>e</p></div>" * 60,
    ]
    for page in pages:
        tree = lxml.html.fromstring(f"<html><body>{page}</body></html>")
        assert domfixes._paragraph_text_under(tree, 750) == (_paragraph_text(tree) < 750)


LINKS = """<html><body><div class="main"><p>A paragraph with <a href="/a">one link</a> and some words around it, long
enough to pass the shortcut that a single link takes.</p><div><a href="/1">One</a> <a href="/2">Two</a> <a href="/3">Three</a>
<a href="/4">Four</a> <a href="/5">Five</a></div><ul><li><a href="/x">An item that is a link only</a></li><li>Text</li></ul>
<div><img src="/i.png"><a href="/img">pictured</a></div><p><a href="/only">A whole paragraph that is one long link to some other
story of the site, which runs over a hundred characters of text in all</a></p><div>No links at all here.</div>
<p>Short <a href="/s">link</a></p><div>""" + " ".join(f'<a href="/l{i}">Link number {i} of a farm</a>' for i in range(8)) + """
</div><p><a href="/e"></a></p></div></body></html>"""


def test_the_link_density_test_gives_trafilatura_s_answers() -> None:
    assert linkdensity._SAME_CODE and htmlprocessing.link_density_test is linkdensity._STOCK_TEST
    with linkdensity.faster_link_tests():
        assert htmlprocessing.link_density_test is linkdensity.link_density_test
    assert htmlprocessing.link_density_test is linkdensity._STOCK_TEST  # trafilatura elsewhere runs as installed
    options = Extractor()
    tree = convert_tags(tree_cleaning(load_tree(LINKS.encode()), options), options)
    elements = [e for tag in ("div", "list", "p", "item") for e in tree.iter(tag)]
    answers = set()
    for favor_precision in (False, True):
        for element in elements:
            ours = linkdensity.link_density_test(element, favor_precision)
            assert ours == linkdensity._STOCK_TEST(element, favor_precision)
            answers.add(ours)
    assert len(answers) >= 3  # deleted, kept, and flagged as short with links


def test_headline_links_are_the_links_of_two_spaces_or_more() -> None:
    from lxml.etree import XPath

    from extract import pagekind

    counted = XPath(  # the count of spaces, as the expression was written before
        ".//a[string-length(normalize-space(.)) >= 12]"
        "[string-length(normalize-space(.)) - string-length(translate(normalize-space(.), ' ', '')) >= 2]"
    )
    texts = ["One two three", "  One   two  ", "Onetwothree four", "a b c", "long words here and there", "one\ttwo\nthree",
             "twelve chars", "x  y  zzzzzzzzz", "no\xa0break spaces here", "<b>nested</b> inline <i>words</i> too", ""]
    page = "".join(f'<p><a href="/{i}">{text}</a></p>' for i, text in enumerate(texts))
    tree = lxml.html.fromstring(f"<html><body>{page}<nav><a href='/n'>a link in the menu</a></nav></body></html>")
    found = pagekind._HEADLINE_LINKS(tree)
    assert found == counted(tree) and 3 <= len(found) < len(texts)


def test_the_linear_link_density_pass_is_in_place_from_import() -> None:
    """The stand-in for trafilatura's link-density pass is installed when extract is imported, so a
    worker's first page is not read by the stock pass (quadratic in a page's wrappers)."""
    check = ("import extract, extract.linkdensity as l; from trafilatura import main_extractor as m; "
             "assert m.delete_by_link_density is l.delete_by_link_density")
    assert subprocess.run([sys.executable, "-c", check], capture_output=True).returncode == 0
