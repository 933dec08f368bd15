"""Bad input never crashes extraction and never takes unbounded time: it gives an empty, flagged Document."""

from __future__ import annotations

import os
import time

from pathlib import Path

import lxml.html
import pytest

from extract import extract_document, htmlinput, prepare

# the timed tests measure a page, not the libraries' loading and warm-up, which a worker pays at start
prepare()

ARTICLE = (
    "<html><head><title>Night buses return</title></head><body><article><h1>Night buses return</h1>"
    + "<p>The city's night bus network resumes on Friday with six routes serving the suburbs until dawn.</p>" * 5
    + "</article></body></html>"
)


def _assert_empty(doc, seconds: float, started: float) -> None:
    assert doc.is_empty and doc.paragraphs == ()
    assert doc.error
    assert doc.text() == ""
    assert time.monotonic() - started < seconds


@pytest.mark.parametrize("data", [b"", b"   \n\t ", "", b"\x00" * 100])
def test_empty_input(data) -> None:
    started = time.monotonic()
    _assert_empty(extract_document(data), 1, started)


def test_binary_data() -> None:
    started = time.monotonic()
    data = bytes(range(256)) * 64 + os.urandom(4096)
    _assert_empty(extract_document(data, "https://example.org/file.bin"), 2, started)


def test_gzip_bytes_not_html() -> None:
    import gzip

    started = time.monotonic()
    _assert_empty(extract_document(gzip.compress(ARTICLE.encode())), 2, started)


def test_wrong_declared_charset_still_decodes() -> None:
    html = ARTICLE.replace("city's", "ville’s café").encode("utf-8")
    doc = extract_document(html, content_type="text/html; charset=iso-8859-1")
    assert "ville’s café" in doc.text()
    latin = ARTICLE.replace("city's", "città").encode("latin-1")
    doc = extract_document(latin, content_type="text/html; charset=utf-8")
    assert "città" in doc.text()


@pytest.mark.parametrize("declared", ["text/html; charset=utf-8", None])
def test_a_utf8_page_with_a_few_broken_bytes_is_still_read_as_utf8(declared) -> None:
    """A character cut where a capture was truncated, a byte of a legacy charset pasted in: the page
    is read as UTF-8 with those replaced, as browsers read it, not guessed anew as a legacy charset."""
    paragraphs = [
        "Городской совет утвердил новый бюджет на следующий год после долгого обсуждения.",
        "Большая часть средств пойдёт на ремонт дорог и школ в северных районах города.",
        "Депутаты также договорились увеличить расходы на общественный транспорт.",
        "Жители смогут обсудить план на открытых встречах в библиотеках в течение месяца.",
    ]
    html = ("<html><head><title>Совет утвердил бюджет</title></head><body><article><h1>Совет утвердил бюджет</h1>"
            + "".join(f"<p>{p}</p>" for p in paragraphs) + "</article></body></html>").encode("utf-8")
    cut = html.index("пойдёт".encode()) + 1  # the middle of its first letter
    broken = html[:cut] + b" " + html[cut + 1 :].replace(b"</article>", b"<p>\x96</p></article>")
    doc = extract_document(broken, content_type=declared)
    assert doc.paragraphs[0] == paragraphs[0]
    assert doc.paragraphs[2:4] == tuple(paragraphs[2:])


def test_a_capture_cut_inside_a_script_keeps_its_article() -> None:
    """A truncated capture that ends inside a script: a browser reads the rest as script, never
    shown; its code is not prose for the body's choice to weigh against the article's."""
    paragraphs = "".join(
        f"<p>Paragraph {i}: the ferry company will add an evening crossing on weekdays from June, "
        "when the second boat returns from its refit at the yard up the coast.</p>" for i in range(5)
    )
    code = "".join(f"  let item{i} = document.createElement('div'); item{i}.textContent = replies[{i}].text;\n" for i in range(80))
    html = ("<html><head><title>Evening ferry</title></head><body><main><article><h1>Evening ferry</h1>"
            f"{paragraphs}<section class='comments'><h2>Comments</h2><p>Load the replies.</p>"
            f"<script>function load(replies) {{\n{code}")
    doc = extract_document(html, "https://ferry.example.com/news/evening-ferry")
    assert doc.paragraphs[0].startswith("Paragraph 0:")
    assert len([p for p in doc.paragraphs if p.startswith("Paragraph")]) == 5
    assert not any("createElement" in p for p in doc.paragraphs)


@pytest.mark.parametrize("codec", ["cp1252", "cp1251"])
def test_an_undeclared_legacy_page_is_read_in_a_charset_browsers_use(codec) -> None:
    """No charset declared, bytes in a legacy one: the detector chooses among the charsets browsers
    decode, and windows-1252 where that reads as well as its first choice. Left to itself, it read
    Russian under a Latin menu as a DOS code page, and English as windows-1250 ("à" as "ŕ")."""
    sentences = {
        "cp1252": "The council’s “à la carte” plan adds night routes to the suburbs — the first change in {} years, its café owners say.",
        "cp1251": "Городской совет утвердил новый бюджет на {} год после долгого обсуждения.",
    }[codec]
    paragraphs = [sentences.format(2000 + i) for i in range(20)]
    menu = "".join(f"<li><a href='/section/{i}' class='menu-item menu-item-type-taxonomy'>Section {i}</a></li>" for i in range(50))
    html = ("<html><head><title>Night routes</title></head><body><nav><ul>" + menu + "</ul></nav>"
            "<article><h1>Night routes</h1>" + "".join(f"<p>{p}</p>" for p in paragraphs) + "</article></body></html>")
    doc = extract_document(html.encode(codec), "https://transit.example.com/news/night-routes")
    assert doc.paragraphs == tuple(paragraphs)


def test_unknown_charset_name() -> None:
    doc = extract_document(ARTICLE.encode(), content_type="text/html; charset=x-no-such-charset")
    assert "night bus network" in doc.text()


@pytest.mark.parametrize("label", ["cp037", "cp500"])
def test_a_charset_no_browser_decodes_is_ignored_as_browsers_ignore_it(label: str) -> None:
    # EBCDIC: no browser decodes it (the Encoding Standard lists what they do), so they ignore the declaration
    html = ARTICLE.replace("<head>", f"<head><meta charset='{label}'>").replace("city's", "ville’s").encode("utf-8")
    assert "ville’s night bus network" in extract_document(html).text()
    assert "night bus network" in extract_document(ARTICLE.encode(), content_type=f"text/html; charset={label}").text()


@pytest.mark.parametrize("padding", ["", " "])  # an odd and an even count of bytes
def test_a_meta_declaring_utf16_in_ascii_bytes_reads_as_utf8(padding: str) -> None:
    # a <meta> found by reading the bytes as ASCII cannot declare UTF-16: HTML reads such a page as UTF-8
    html = ARTICLE.replace("<head>", f"<head>{padding}<meta charset='utf-16'>").replace("city's", "ville’s").encode("utf-8")
    assert "ville’s night bus network" in extract_document(html).text()


def test_a_latin1_declaration_reads_as_windows_1252_as_browsers_do() -> None:
    html = ARTICLE.replace("<head>", "<head><meta charset='iso-8859-1'>").replace("city's", "city’s €5")
    assert "city’s €5 night bus network" in extract_document(html.encode("cp1252")).text()


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_decoded_not_refused_as_binary(codec: str) -> None:
    html = ARTICLE.replace("city's", "ville’s café").encode(codec)
    assert "ville’s café night bus network" in extract_document(html).text()


def test_twenty_megabyte_page_bounded_time() -> None:
    started = time.monotonic()
    filler = "<div class='row'><span>cell</span> <a href='/x'>link</a></div>\n" * 330_000
    doc = extract_document((ARTICLE.replace("</article>", "</article>" + filler)).encode())
    assert len(filler) > 20_000_000
    assert doc.is_empty and doc.error
    assert time.monotonic() - started < 20


def test_huge_script_bulk_is_stripped_not_refused() -> None:
    script = "<script>var x = '" + "a" * 20_000_000 + "';</script>"
    doc = extract_document(ARTICLE.replace("</head>", script + "</head>"))
    assert "night bus network" in doc.text()


def test_pathological_nesting() -> None:
    started = time.monotonic()
    deep = "<div>" * 100_000 + "<p>deep text</p>" + "</div>" * 100_000
    doc = extract_document(f"<html><body>{deep}</body></html>".encode())
    assert time.monotonic() - started < 20
    assert doc.error or doc.paragraphs  # no crash; whatever survives is a well-formed Document


def test_markup_free_text() -> None:
    _assert_empty(extract_document(b"just some words, no markup at all"), 1, time.monotonic())


def test_too_many_elements_refused_quickly() -> None:
    started = time.monotonic()
    links = "<li><a href='/x'>another link</a></li>" * 70_000
    doc = extract_document(f"<html><body><ul>{links}</ul></body></html>".encode())
    _assert_empty(doc, 5, started)
    assert "complex" in doc.error


_FIXTURE_PAGES = sorted((Path(__file__).parent / "fixtures").rglob("*.html"))
_IMPLIED_ELEMENTS = [
    "loose text<b>bold</b> more &amp; an entity<br>after a break",
    "<html>before the head<head><title>t</title></head>between<body>text</body></html>after",
    "</p>text</p>text</div>text<p>a<p>b<li>c<td>d<tr>e<option>f<frameset>g",
    "<head>text in the head<meta charset=utf-8>more</head>" + "x<i>" * 50,
]


@pytest.mark.parametrize("markup", [*_IMPLIED_ELEMENTS, *_FIXTURE_PAGES], ids=lambda m: m.name if isinstance(m, Path) else m[:20])
def test_the_element_limit_is_not_counted_only_where_the_markup_cannot_reach_it(markup) -> None:
    """load_tree counts a page's elements only where its markup could make more than the limit
    (_most_elements): libxml2 never makes more, the elements it implies (html, head, body, a
    paragraph around loose text) included."""
    if isinstance(markup, Path):
        markup = markup.read_text(encoding="utf-8", errors="replace")
    tree = lxml.html.document_fromstring(markup.encode("utf-8", "replace"), parser=htmlinput._PARSER)
    assert int(tree.xpath("count(//*)")) <= htmlinput._most_elements(markup)


def test_an_article_after_a_premature_end_of_document_is_kept() -> None:
    # a template that closes body and html after its header: browsers show what follows, in the body
    header = "<html><head><title>Night buses return</title></head><body><header><nav>Home</nav></header></body></html>"
    doc = extract_document(header + ARTICLE.split("<body>", 1)[1])
    assert "night bus network" in doc.text()
    assert doc.title == "Night buses return"


@pytest.mark.parametrize("void", ["<embed src='/media/bus-map.swf'>", "<source src='/media/route.mp4'>", "<track src='/media/captions.vtt'>"])
def test_the_paragraphs_after_a_void_element_libxml2_does_not_know_are_kept(void: str) -> None:
    # libxml2 nested what follows such an element inside it, and the extractor deleted it with the embed
    more = [f"<p>Route {n} runs every twenty minutes from the central station to the northern suburbs.</p>" for n in range(4)]
    doc = extract_document(ARTICLE.replace("</article>", void + "".join(more) + "</article>"))
    assert all(f"Route {n} runs every twenty minutes" in doc.text() for n in range(4))


_PARAGRAPH = "<p>The city's night bus network resumes on Friday with six routes serving the suburbs until dawn.</p>"


@pytest.mark.parametrize(
    "repeated",
    [
        f"<div class='copy'>{_PARAGRAPH * 2}</div>",  # copies of one block (merge_split_bodies judged them pair by pair)
        _PARAGRAPH + "<div><img src='/p.jpg'><a href='/authors/jane-roe'>Jane Roe</a> writes.</div>",  # author boxes
        "<button aria-controls='{i}'>More</button><div id='{i}' hidden>" + _PARAGRAPH + "</div>",  # panels
        "<div class='signup'><p>Our newsletter</p><input type='email'></div>",  # sign-up boxes
        "<div class='entry'><p>Tip</p></div>",  # small blocks with a body name (unname_fragment_containers)
        f"<div class='w-embed'>{_PARAGRAPH * 2}</div>",  # named blocks amid the body (unname_content_blocks)
    ],
)
def test_thousands_of_repeated_blocks_take_linear_time(repeated: str) -> None:
    page = ARTICLE.replace("</head>", "<meta name='author' content='Jane Roe'></head>").replace(
        "</article>", "".join(repeated.replace("{i}", f"panel{i}") for i in range(3000)) + "</article>"
    )
    started = time.monotonic()
    doc = extract_document(page)
    assert time.monotonic() - started < 5
    assert "night bus network" in doc.text()
