"""Faster forms of our passes' tests and of trafilatura's give the results of the forms they replace."""

from __future__ import annotations

from trafilatura import htmlprocessing
from trafilatura.htmlprocessing import convert_tags, tree_cleaning
from trafilatura.settings import Extractor

from extract import linkdensity
from extract.htmlinput import load_tree

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
