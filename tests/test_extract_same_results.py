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
from extract.paragraphs import TEXT_LENGTH

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


def test_furniture_candidates_are_the_elements_the_rule_names() -> None:
    """Each element by the rule as written: a class, else an id, named as furniture; else, but the
    body, a hidden attribute, a hiding style or a tooltip's role (the hidden list: by style only)."""
    rng = random.Random(29)
    values = {
        "class": ["share-bar", "story", "promo", "Text body", "", "sr-only x"],
        "id": ["related", "main", "newsletter-box", ""],
        "style": ["display:none", "color: red", "visibility : hidden", ""],
        "hidden": [""],
        "role": ["tooltip", "note"],
        "title": ["share"],
    }
    for _ in range(300):
        def element(depth: int) -> str:
            names = rng.sample(list(values), rng.randrange(0, 4))
            attributes = "".join(f' {name}="{rng.choice(values[name])}"' for name in names)
            children = "".join(element(depth + 1) for _ in range(rng.randrange(0, 3) if depth < 3 else 0))
            return f"<div{attributes}>x{children}</div>"

        body = lxml.html.fromstring(f"<html><body{rng.choice(['', ' class=promo', ' hidden'])}>{element(0)}{element(0)}</body></html>").find("body")
        expected, by_style = [], []
        for e in body.iter():
            named = any(domfixes._is_furniture_name(e.get(name)) for name in ("class", "id") if e.get(name) is not None)
            styled = domfixes._HIDDEN_STYLE.search(e.get("style") or "") is not None
            if named or (e is not body and (styled or e.get("hidden") is not None or e.get("role") == "tooltip")):
                expected.append(e)
                if styled and not named:
                    by_style.append(e)
        assert domfixes._furniture_candidates(body) == (expected, by_style)


def test_large_blocks_are_the_blocks_a_measure_of_every_child_finds() -> None:
    """A wrapper's only child is given the wrapper's length without a measure; with text beside it
    that normalize-space keeps (a no-break space) or a comment's tail, it is measured."""
    rng = random.Random(31)
    beside = ["", " ", "\n\t", "\xa0", "x", "<!-- c -->", "<!-- c -->tail", "<b>y</b>"]

    def element(depth: int) -> str:
        if depth >= 5 or rng.random() < 0.2:
            return "<p>" + " ".join(rng.choice(["word", "longer words here", "\xa0"]) for _ in range(rng.randrange(1, 12))) + "</p>"
        children = "".join(element(depth + 1) + rng.choice(beside) for _ in range(rng.choice([1, 1, 1, 2, 3])))
        return f"<div>{rng.choice(beside)}{children}</div>"

    for _ in range(300):
        tree = lxml.html.document_fromstring(f"<html><body>{element(0)}{rng.choice(beside)}</body></html>")
        body = tree.find("body")
        least = max(1, domfixes._CONTENT_SHARE * TEXT_LENGTH(body))
        expected, frontier = {}, [body]
        while frontier:
            measured = {c: int(TEXT_LENGTH(c)) for e in frontier for c in e if isinstance(c.tag, str)}
            frontier = [c for c, length in measured.items() if length >= least]
            expected.update((c, measured[c]) for c in frontier)
        assert list(domfixes.large_blocks(tree).items()) == list(expected.items())


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


def test_a_text_s_trimmed_length_is_exact_under_its_bound() -> None:
    from trafilatura.utils import trim

    rng = random.Random(5)
    pieces = ["word", "a", "\n        ", " ", "\xa0", "\u3000", "long-word-of-text", "\t\n"]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 400)))
        bound = rng.randrange(1, 400)
        length = linkdensity._trimmed_length(text, bound)
        exact = len(trim(text))
        assert length == exact if exact < bound else length >= bound, (text, bound)


def _random_links_page(rng: random.Random) -> str:
    """Blocks of links and text whose lengths fall on both sides of the test's thresholds, with runs
    of markup whitespace that trimming removes."""
    def block(depth: int) -> str:
        parts = []
        for _ in range(rng.randrange(1, 7)):
            kind = rng.random()
            words = " ".join(rng.choice(["news", "a", "story", "of-the-day"]) for _ in range(rng.randrange(0, 40)))
            space = rng.choice(["", " ", "\n" + " " * rng.randrange(0, 300)])
            if kind < 0.4:
                parts.append(f'<a href="/{rng.randrange(99)}">{words}</a>{space}')
            elif kind < 0.6:
                parts.append(f"{words}{space}")
            elif kind < 0.7:
                parts.append(f'<img src="/i.png">{space}')
            elif depth < 4:
                tag = rng.choice(["div", "p", "ul"])
                inner = f"<li>{block(depth + 1)}</li>" if tag == "ul" else block(depth + 1)
                parts.append(f"<{tag}>{inner}</{tag}>{space}")
        return "".join(parts)

    return f"<html><body><div>{block(0)}</div></body></html>"


def test_the_link_density_test_gives_trafilatura_s_answers_on_random_blocks() -> None:
    rng = random.Random(11)
    options = Extractor()
    answers = set()
    for _ in range(150):
        tree = convert_tags(tree_cleaning(load_tree(_random_links_page(rng).encode()), options), options)
        for element in [e for tag in ("div", "list", "p", "item") for e in tree.iter(tag)]:
            for favor_precision in (False, True):
                ours = linkdensity.link_density_test(element, favor_precision)
                assert ours == linkdensity._STOCK_TEST(element, favor_precision)
                answers.add(ours)
    assert len(answers) == 4  # each of the two answers both ways


def test_the_pruning_s_link_density_passes_delete_what_trafilatura_s_delete() -> None:
    from copy import deepcopy

    from trafilatura import main_extractor
    from trafilatura.settings import TAG_CATALOG

    rng = random.Random(23)
    options = Extractor()
    changed = 0
    # the second paragraph goes in the first pass; the first, then the last, is tested against a
    # larger threshold in the second and goes too
    last_one_left = (
        f'<html><body><div><p>{"A story told at length. " * 15}</p><p>See: <a href="/a">forty characters of one link text</a></p>'
        '<p><a href="/b">short link here</a></p></div></body></html>'
    )
    for page in [last_one_left, *(_random_links_page(rng) for _ in range(300))]:
        tree = convert_tags(tree_cleaning(load_tree(page.encode()), options), options)
        ours, stock = deepcopy(tree), deepcopy(tree)
        with linkdensity.faster_link_tests():
            main_extractor.prune_unwanted_sections(ours, set(TAG_CATALOG), options)
        main_extractor.prune_unwanted_sections(stock, set(TAG_CATALOG), options)
        assert lxml.html.tostring(ours) == lxml.html.tostring(stock)
        changed += lxml.html.tostring(ours) != lxml.html.tostring(tree)
    assert changed > 100  # the passes delete on most pages


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


def _random_text(rng: random.Random, words: list[str]) -> str:
    spaces = [" ", "  ", "\n", ", ", "", "\t", "\xa0", " \r\n ", "\u2003"]
    return "".join(rng.choice(words) + rng.choice(spaces) for _ in range(rng.randrange(0, 14)))


def test_the_justext_classification_gives_justext_classes() -> None:
    from justext.core import ParagraphMaker
    from trafilatura import external

    from extract import linearjustext

    assert linearjustext._SAME_CLASSIFY and external.classify_paragraphs is linearjustext._STOCK_CLASSIFY
    with linearjustext.faster_justext():
        assert external.classify_paragraphs is linearjustext.classify_paragraphs
    assert external.classify_paragraphs is linearjustext._STOCK_CLASSIFY  # trafilatura elsewhere runs as installed
    words = ["the", "and", "of", "River", "park", "plan", "a", "42", "déjà", "İstanbul", "\xa9", "&copy", "—", "x" * 30]
    stoplist = ("the", "and", "of", "A", "İstanbul")
    rng = random.Random(7)
    classes = set()
    for _ in range(300):
        blocks = []
        for _ in range(rng.randrange(1, 12)):
            tag = rng.choice(["p", "div", "h2", "li", "select", "td"])
            inner = _random_text(rng, words)
            if rng.random() < 0.3:
                inner += f"<a href='/x'>{_random_text(rng, words)}</a>{_random_text(rng, words)}"
            if rng.random() < 0.2:
                inner += "<br><br>" + _random_text(rng, words)
            blocks.append(f"<{tag}>{inner}</{tag}>")
        page = f"<html><body>{''.join(blocks)}</body></html>"
        theirs = ParagraphMaker.make_paragraphs(lxml.html.fromstring(page))
        ours = ParagraphMaker.make_paragraphs(lxml.html.fromstring(page))
        args = (rng.choice([10, 50]), 150, 0.1, 0.2, 0.25, rng.random() < 0.5)
        linearjustext._STOCK_CLASSIFY(theirs, stoplist, *args)
        linearjustext.classify_paragraphs(ours, stoplist, *args)
        assert [(p.cf_class, p.heading) for p in ours] == [(p.cf_class, p.heading) for p in theirs], page
        classes.update(p.cf_class for p in ours)
    assert classes == {"bad", "short", "neargood", "good"}


def test_justext_s_spaces_are_normalized_as_justext_does() -> None:
    from extract import linearjustext

    rng = random.Random(3)
    pieces = ["a", "bc", " ", "  ", "\n", "\r", "\t", "\xa0", "\u2003", "\u2028", "\x1c", "\x85", "\r\n", "\x0b"]
    texts = ["", " ", "\n"] + ["".join(rng.choice(pieces) for _ in range(rng.randrange(1, 12))) for _ in range(20000)]
    for text in texts:
        assert linearjustext.normalize_whitespace(text) == linearjustext._STOCK_NORMALIZE(text), repr(text)


def _first_blocks(tree, keys: set[str], lengths: dict) -> dict:
    """The blocks drop_set_apart_tail looks for, found plainly: for each key, the first paragraph or
    div in document order whose words it is, its text no longer than the longest key and _SLACK."""
    from extract.pagecues import _SLACK
    from extract.paragraphs import word_key

    longest = max(map(len, keys)) + _SLACK
    found: dict = {}
    for element in tree.iter("p", "div"):
        key = word_key(element.text_content())
        if key in keys and key not in found and TEXT_LENGTH(element) <= longest:
            found[key] = element
    return found


def test_the_set_apart_tail_finds_the_blocks_a_plain_walk_finds() -> None:
    from extract.pagecues import _elements
    from extract.paragraphs import word_key

    words = ["River", "park", "İstanbul", "plan", "a", "b", "42", "x-y", "—", "...", "déjà", "ß", "ﬁ", "end.", "y" * 40]
    rng = random.Random(11)

    def blocks(depth: int) -> str:
        parts = []
        for _ in range(rng.randrange(1, 5)):
            tag = rng.choice(["p", "div", "div", "span", "section"])
            inner = blocks(depth + 1) if depth < 4 and rng.random() < 0.5 else _random_text(rng, words)
            parts.append(f"<{tag}>{_random_text(rng, words) if rng.random() < 0.3 else ''}{inner}</{tag}>")
        return "".join(parts)

    matched = 0
    for _ in range(2000):
        tree = lxml.html.fromstring(f"<html><body>{blocks(0)}</body></html>")
        lengths = {p: TEXT_LENGTH(p) for p in tree.iter("p")}
        texts = [word_key(e.text_content()) for e in tree.iter("p", "div")] + [word_key(_random_text(rng, words))]
        keys = set(rng.sample(texts, min(len(texts), rng.randrange(1, 7))))
        found = _elements(tree, keys, lengths)
        assert found == _first_blocks(tree, keys, lengths)
        matched += len(found)
    assert matched > 2000


def _unwrap_quote_figures_plainly(tree) -> None:
    """unwrap_quote_figures as first written: each quote's first words looked for in every paragraph."""
    paragraphs = [(p, " ".join(p.text_content().split()).lower()) for p in tree.iter("p")]
    for figure in [f for f in tree.iter("figure") if next(f.iter("blockquote"), None) is not None]:
        quotes = list(figure.iter("blockquote"))
        if any(next(q.iter("a"), None) is not None for q in quotes) or next(figure.iter(*domfixes._EMBEDDED_MEDIA), None) is not None:
            continue
        words = " ".join(q.text_content() for q in quotes).split()
        if len(words) < domfixes._QUOTE_WORDS:
            continue
        head = " ".join(words[:2 * domfixes._QUOTE_WORDS]).lower()
        if any(head in text for p, text in paragraphs if figure not in p.iterancestors()):
            continue
        figure.tag = "div"
        domfixes._unname(figure)


def test_quote_figures_are_unwrapped_as_by_a_plain_search() -> None:
    words = ["the", "The", "park", "Park,", "plan", "İstanbul", "reshape", "shape", "a", "x-y", "42", "said:", "«quoted»"]
    rng = random.Random(5)

    def text(low: int, high: int) -> str:
        chosen = [rng.choice(words) if rng.random() < 0.8 else f"w{rng.randrange(50)}" for _ in range(rng.randrange(low, high))]
        return " ".join(chosen) + rng.choice(["", ".", " \n"])

    unwrapped = kept = 0
    for _ in range(1500):
        quotes = [text(1, 12) for _ in range(rng.randrange(1, 5))]
        blocks = []
        for quote in quotes:
            inner = f"<blockquote><p>{quote}</p>{'<a href=/x>x</a>' if rng.random() < 0.1 else ''}</blockquote>"
            if rng.random() < 0.2:
                inner = f"<figure class='q'>{inner}</figure>"
            blocks.append(f"<figure class='pull' id='f{len(blocks)}'>{inner}{'<video></video>' if rng.random() < 0.1 else ''}</figure>")
            # a paragraph repeating the quote (or a part of it, or more), or another text
            repeat = rng.choice([quote, quote[1:], "re" + quote + "s", "so " + quote + " then", text(1, 20), quote.upper()])
            blocks.append(f"<p>{repeat}</p>")
        page = f"<html><body><article>{''.join(rng.sample(blocks, len(blocks)))}</article></body></html>"
        ours, plain = lxml.html.fromstring(page), lxml.html.fromstring(page)
        domfixes.unwrap_quote_figures(ours)
        _unwrap_quote_figures_plainly(plain)
        assert lxml.html.tostring(ours) == lxml.html.tostring(plain), page
        unwrapped += lxml.html.tostring(ours).count(b"<figure") < page.count("<figure")
        kept += "<figure" in lxml.html.tostring(ours).decode()
    assert unwrapped > 300 and kept > 300
