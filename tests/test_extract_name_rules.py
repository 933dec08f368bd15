"""trafilatura's rules that find elements by name (what it discards, its body containers, what its
baseline leaves out), evaluated by extract.namematch, select exactly what the XPath expressions
select: on the repository's pages and on markup written to trip them up."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest
from lxml.etree import XPath
from trafilatura import main_extractor, settings, xpaths
from trafilatura.htmlprocessing import convert_tags, tree_cleaning
from trafilatura.settings import Extractor

from extract import namematch
from extract.htmlinput import load_tree

FIXTURES = Path(__file__).parent / "fixtures"
REGEXP = {"re": xpaths.REGEXP_NS}
RULES = [
    (namematch.OVERALL_DISCARD, xpaths.OVERALL_DISCARD_XPATH),
    (namematch.REMOVE_COMMENTS_AND_LISTS, xpaths.REMOVE_COMMENTS_AND_LISTS_XPATH),
    (namematch.RAW_TREE_PRUNE, xpaths.RAW_TREE_PRUNE_XPATH),
    (namematch.TEASER_DISCARD, xpaths.TEASER_DISCARD_XPATH),
    (namematch.DISCARD_IMAGE_ELEMENTS, xpaths.DISCARD_IMAGE_ELEMENTS),
    (namematch.BODY, xpaths.BODY_XPATH),
    ([namematch.BASIC_CLEAN], [settings.BASIC_CLEAN_XPATH]),
    (namematch.AUTHOR_DISCARD, xpaths.AUTHOR_DISCARD_XPATHS),
    (namematch.AUTHOR, xpaths.AUTHOR_XPATHS),
]
# (the body containers that test no regular expression are the XPaths themselves)
PAIRS = [(ours, theirs) for rules in RULES for ours, theirs in zip(*rules, strict=True) if ours is not theirs]

# Each line trips one of XPath's conversions: @id|@class as a string is the attribute first in
# source order; a missing attribute is ''; comments are no elements; matches nest; ol/ul need a
# comment name of their own; an infinite-scroll block holding an <h1> is the page; of body
# containers (BODY_XPATH) the first comes first, among siblings or in the page; a byline's marks
# (AUTHOR_XPATHS) are looked for in the whole document whatever the context, rel='me' is a child
# element's text, and regular expressions are case-sensitive where the XPath's are.
TRICKY = """<html><body class="sidebar"><div id="page">
<div class="cookie-notice" id="main">first class</div><div id="main" class="cookie-notice">first id</div>
<span style="x" id="hidden-note">id after style</span><span id="hidden-note" style="x">id first</span>
<p class="reply-box" id="r">class first</p><p id="r" class="reply-box">id first</p>
<p id="reply-to" class="">reply id</p><p class="" id="reply-to">empty class first</p>
<section role="Navigation">role</section><section role="NAVIGATION">upper role</section>
<div data-lp-replacement-content="">empty marker</div><div data-component="xMostPopularStoriesx">x</div>
<!-- a comment class="sidebar" --><?pi class="sidebar"?>
<div class="Teaser"><list id="TeaserList"><item class="img-caption">nested</item></list></div>
<div class="related"><div class="share-bar"><p class="byline" aria-hidden="true">deep</p></div></div>
<ol class="comment-list"><li>a</li></ol><ul id="comments"><li>b</li></ul><ol class="commentary">c</ol>
<div id="disqus_thread">d</div><details class="article-comments">e</details>
<aside class="infinite-scroll"><h1>the page</h1></aside><aside class="infinite-scroll">more</aside>
<section id="mvp-post-add-box"><h1>appended</h1></section>
<div class="elementor-share-buttons">s</div><div style="display: none">hid</div>
<div style="color:red;display:none">hid</div><p class="comments-title">t</p><p class="x hidden">h</p>
<div class=" ad ">ad</div><div class="ad-slot">ad</div><div class="nav" id="content">nav</div>
<main><section class="intro"><div class="post">first of siblings</div><div class="entry">second</div>
<article itemprop="articleBody"><div id="article-body">nested</div></article></section>
<div class="FullText">any case</div><div class="story">story</div><div id="Main-Content">m</div>
<div class="my-Page-content">p</div><section role="article">r</section></main>
<div id="site-footer" class="wrap">footer by id</div><div class="wrap" id="site-footer">class first</div>
<span class="Cookie-Banner">consent</span><template><p>t</p></template><footer>f</footer>
<div class="credits"><span class="Author-Name">A. Writer</span><a rel="author">B. Writer</a><p><rel>me</rel>!</p>
<strong><rel>not me</rel></strong><author>C. Writer</author><h4 itemprop="coauthor">D.</h4><p class="">no</p>
<div data-component="xBylinex">E.</div><span id="postAuthor">F.</span><i class="screenname">G.</i><h3 class="BBL">H.</h3>
<span class="date">today</span><a id="comments-2">c</a><div data-component="Figure1">f</div>
<section class="sidebar-right">s</section><span class="Comments">upper</span></div>
</div></body></html>"""


def _trees() -> list[tuple[str, lxml.html.HtmlElement]]:
    """Each page as loaded, and as trafilatura has converted it (<list>, <item>, <head> ...)."""
    pages = [(path.name, path.read_bytes()) for path in sorted(FIXTURES.rglob("*.html"))]
    trees = []
    for name, html in [*pages, ("tricky markup", TRICKY.encode())]:
        trees.append((name, load_tree(html)))
        trees.append((name + ", converted", convert_tags(tree_cleaning(load_tree(html), Extractor()), Extractor())))
    return trees


def test_every_rule_is_emulated() -> None:
    # trafilatura's expressions are the ones emulated: else the comparisons below compare an XPath with itself
    assert all(isinstance(ours, namematch.NameMatch) for ours, _ in PAIRS)


@pytest.mark.parametrize(("name", "tree"), _trees(), ids=lambda value: value if isinstance(value, str) else "")
def test_rules_select_what_the_xpath_selects(name: str, tree: lxml.html.HtmlElement) -> None:
    for ours, theirs in PAIRS:
        for context in [tree, *tree.iterdescendants("body", "div")]:  # .//* leaves the context out
            assert ours(context) == theirs(context), theirs.path
        if not theirs.path.strip().lstrip("(").startswith(".//*["):
            continue  # a union of steps (BASIC_CLEAN): no test of one element
        single = XPath(theirs.path.strip().replace(".//*[", "self::*[", 1), namespaces=REGEXP)
        for element in tree.iter():
            assert ours.matches(element) == bool(single(element)), (theirs.path, element.attrib)


@pytest.mark.parametrize(("name", "tree"), _trees(), ids=lambda value: value if isinstance(value, str) else "")
def test_the_first_body_container_is_the_one_trafilatura_takes(name: str, tree: lxml.html.HtmlElement) -> None:
    # trafilatura takes the first element each BODY_XPATH expression selects; first_match stops there
    for ours, theirs in zip(namematch.BODY, xpaths.BODY_XPATH, strict=True):
        for context in [tree, *tree.iterdescendants("body", "div")]:
            assert namematch.first_match(ours, context) == next(iter(theirs(context)), None), theirs.path


def test_tricky_markup_exercises_every_rule() -> None:
    # the tricky page is a test only if each rule selects some of its elements and leaves others
    tree = load_tree(TRICKY.encode())
    converted = convert_tags(tree_cleaning(load_tree(TRICKY.encode()), Extractor()), Extractor())
    for ours, _ in PAIRS:
        selected = {id(e) for e in ours(tree)} | {id(e) for e in ours(converted)}
        assert selected, "a rule selects nothing of the tricky page"
    first_class, first_id = tree.find(".//div[@id='main']"), tree.findall(".//div[@id='main']")[1]
    assert namematch.OVERALL_DISCARD[0].matches(first_class) and not namematch.OVERALL_DISCARD[0].matches(first_id)


def test_an_expression_changed_by_an_upgrade_runs_as_xpath() -> None:
    # an emulation stands in only for the text it emulates, whatever its regular expressions
    template = ".//*[re:test(@class, '{}')]"

    def by_class(occurs):
        return lambda element: occurs(element.get("class") or "")

    same = namematch.name_match(XPath(".//*[re:test(@class, 'a|b')]", namespaces=REGEXP), template, (), by_class)
    changed = namematch.name_match(XPath(".//*[re:test(@id, 'a|b')]", namespaces=REGEXP), template, (), by_class)
    assert isinstance(same, namematch.NameMatch) and isinstance(changed, namematch.StockMatch)
    tree = lxml.html.fromstring('<div><p class="a">1</p><p id="b">2</p></div>')
    assert [p.text for p in same(tree)] == ["1"]
    assert [p.text for p in changed(tree)] == ["2"]


def test_trafilatura_elsewhere_runs_as_installed() -> None:
    with namematch.emulated_name_matches():
        assert main_extractor.OVERALL_DISCARD_XPATH is namematch.OVERALL_DISCARD
    assert main_extractor.OVERALL_DISCARD_XPATH is xpaths.OVERALL_DISCARD_XPATH


@pytest.mark.parametrize(("name", "tree"), _trees(), ids=lambda value: value if isinstance(value, str) else "")
def test_the_body_expressions_give_the_main_extractor_the_first_element(name: str, tree: lxml.html.HtmlElement) -> None:
    # trafilatura's main extractor reads the first element of each body expression (namematch._READS_FIRST):
    # the stand-ins it is given select that one alone
    assert any(isinstance(e, namematch.FirstOnly) for e in namematch._BODY_READ)
    for ours, theirs in zip(namematch._BODY_READ, xpaths.BODY_XPATH, strict=True):
        for context in [tree, *tree.iterdescendants("body", "div")]:
            found = ours(context)
            assert found[:1] == theirs(context)[:1], theirs.path
            assert len(found) <= 1 or not isinstance(ours, namematch.FirstOnly)
