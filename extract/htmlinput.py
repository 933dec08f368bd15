"""Turn raw page bytes into an lxml tree, refusing input no extractor could use, in bounded time."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import lxml.html
import webencodings
from charset_normalizer import from_bytes
from lxml import etree
from lxml.etree import ParserError, XPath

from extract.customelements import read_custom_elements

# Markup beyond this, once scripts, styles and comments are gone, is refused rather than parsed:
# extraction time grows with tree size.
MAX_MARKUP_CHARS = 3_000_000
MAX_PAGE_BYTES = 20 * 2**20  # the crawler's DOWNLOAD_MAXSIZE: no archived page is larger; a saved one is read no further
MAX_ELEMENTS = 60_000  # real article pages have a few thousand; extraction time grows with the count
SNIFF_BYTES = 65_536
MIN_DETECTION_BYTES = 16
_HTTP_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I)
# Scripts (all but JSON-LD metadata), styles and comments, cut before parsing: they are the bulk of
# most pages' markup, so parsing and every later pass get faster, and trafilatura loses the rest
# of a paragraph at an inline comment (React pages write ``When <!-- -->President``).
# Each body is matched up to its first end tag as by a lazy ``.*?``, but a run of characters at a
# time rather than one character and a failed end-tag test at a time: a fourth of the time.
# A script or style left open (the last two alternatives, tried where the first two found no end
# tag) is a capture cut inside it, a truncated record: a browser reads the rest as its content,
# never shown; libxml2 would keep it as the element's text, which every measure of a block's text
# counts as prose.
_BULK = re.compile(
    r"<script(?![^>]*ld\+json)\b[^>]*>[^<]*(?:<(?!/script\s*>)[^<]*)*</script\s*>"
    r"|<style\b[^<]*(?:<(?!/style\s*>)[^<]*)*</style\s*>"
    r"|<!--[^-]*(?:-(?!->)[^-]*)*-->"
    r"|<script(?=[\s/>])(?![^>]*ld\+json)[^>]*>.*\Z"
    r"|<style(?=[\s/>]).*\Z",
    re.I | re.S,
)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>", re.I)
# Body and html end tags: a browser puts whatever follows them into the body (HTML's "after body"
# modes); libxml2 drops it, and with it the article of a page whose template closes the document
# after its header. Without them libxml2 closes both at the end, as a browser does.
_DOCUMENT_END_TAGS = re.compile(r"</(?:body|html)\s*>", re.I)
# HTML's void elements that libxml2, written for HTML 4, does not know as void: it nests what follows
# one inside it up to its parent's end tag, and trafilatura deletes an <embed> with its contents, so
# the paragraphs after a bare <embed> were lost. A browser leaves them empty (_empty_voids).
_UNKNOWN_VOIDS = ("embed", "source", "track", "wbr", "keygen", "bgsound")
# Control bytes that text never holds: more than 1 % of them in a page's head means binary data
_CONTROL_BYTES = bytes((0, 1, 2, 3, 4, 5, 6, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23))
# The charsets browsers decode (the Encoding Standard's, as Python's codecs): the detector left to
# itself reads an English page's curly quotes as DOS code pages (cp775, cp852) or Mac Roman, and
# Italian as windows-1250 ("à" as "ŕ")
_WEB_CODECS = sorted(
    {
        found.codec_info.name
        for label in webencodings.LABELS
        if (found := webencodings.lookup(label)).name not in ("replacement", "x-user-defined")
    }
)
# charset_normalizer's "chaos" (how garbled a reading looks) within which windows-1252, HTML's
# default and the web's commonest legacy charset, is taken over the detector's first choice:
# between readings alike its ranking is noise, and most give the same text (windows-1250 and 1252
# share their curly quotes and dashes)
DEFAULT_MARGIN = 0.01
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


# lxml.html's parser asks a Python method for the class of every element proxy it makes (a few
# million calls over a site; a sixth of extraction time, trafilatura's passes included). A C-level
# lookup gives every element the same HtmlElement class; the form and input classes it loses
# are of no use to extraction.
# It is given UTF-8 bytes, not a str: libxml2 reads those without converting (a third faster).
_PARSER = etree.HTMLParser(
    collect_ids=False, remove_comments=True, remove_pis=True, default_doctype=False, encoding="utf-8"
)
_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment, pi=lxml.html.HtmlProcessingInstruction
    )
)


_ELEMENT_COUNT = XPath("count(//*)")


class BadInput(ValueError):
    """The page cannot be extracted; the message is the short reason recorded in Document.error."""


def _codec(label: str | bytes | None, in_meta: bool = False) -> str | None:
    """The Python codec of a charset label as browsers read it (the Encoding Standard, by webencodings):
    a label they do not know (EBCDIC, UTF-7) is ignored, "iso-8859-1" and "ascii" mean windows-1252,
    and a <meta>, found by reading the bytes as ASCII, cannot declare UTF-16 (HTML reads UTF-8 then)."""
    if not label:
        return None
    if isinstance(label, bytes):
        label = label.decode("ascii", "ignore")
    encoding = webencodings.lookup(label)
    if encoding is None or encoding.name in ("replacement", "x-user-defined"):
        return None
    if in_meta and encoding.name.startswith("utf-16"):
        return "utf-8"
    return encoding.codec_info.name


def _http_default(label: str) -> bool:
    """ISO-8859-1, the charset HTTP/1.1 gave text by default (RFC 2616 §3.7.1): servers send it unasked
    (Apache's AddDefaultCharset, servlet containers), whatever the page is written in."""
    try:
        return codecs.lookup(label).name == "iso8859-1"
    except LookupError:
        return False


def _declared(data: bytes, content_type: str | None) -> list[str]:
    """Charsets in order of authority: byte-order mark, HTTP header, <meta> in the page head; but the
    page's own <meta> before an HTTP header of ISO-8859-1, the server's default rather than the author's."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return [name]
    header = _HTTP_CHARSET.search(content_type) if content_type else None
    meta = _META_CHARSET.search(data[:SNIFF_BYTES])
    found = [_codec(header.group(1)) if header else None, _codec(meta.group(1), in_meta=True) if meta else None]
    if header and _http_default(header.group(1)):
        found.reverse()
    return [name for name in found if name]


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 or UTF-32 text without a byte-order mark (its ASCII characters' zero bytes look binary),
    as the charset detector recognises it, if it decodes to markup."""
    guess = from_bytes(data[:SNIFF_BYTES]).best()
    if guess is None or not guess.encoding.startswith(("utf_16", "utf_32")):
        return None
    try:
        text = data.decode(guess.encoding)
    except UnicodeDecodeError:
        return None
    return text if "<" in text and "\x00" not in text else None


def _looks_binary(data: bytes) -> bool:
    head = data[:SNIFF_BYTES]
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))  # one pass, not one per byte value
    return controls > len(head) * 0.01


@lru_cache(maxsize=64)
def _single_byte(name: str) -> bool:
    return len(bytes(range(128, 256)).decode(name, errors="replace")) == 128


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _mostly_decoded(data: bytes, name: str) -> str | None:
    """``data`` read in ``name`` with its broken sequences replaced, if they are fewer than the
    characters it decodes beyond ASCII: a page in another charset that declares this one has next
    to none (its bytes beyond ASCII form valid sequences only by chance), one in it has them all."""
    try:
        text = data.decode(name, errors="replace")
    except LookupError:
        return None
    replaced = text.count("\ufffd")
    broken = replaced - (data.count(b"\xef\xbf\xbd") if name == "utf-8" else 0)  # (not the page's own)
    beyond_ascii = len(text) - len(text.encode("ascii", "ignore")) - replaced
    return text if broken < beyond_ascii else None


def decode_html(data: bytes | str, content_type: str | None = None) -> str:
    """Decode with the declared charset when it really decodes the bytes, else UTF-8, else the
    charset detector's guess. A declared single-byte charset always "decodes", so bytes that are
    valid non-ASCII UTF-8 (improbable in legacy text) overrule it: such declarations are stale.
    A page that one of them decodes but for a few broken sequences (a character cut where a capture
    was truncated, a snippet in a legacy charset pasted in) is read in it, as a browser reads it,
    those replaced: the detector, asked about it, may well guess a legacy charset for the whole."""
    if isinstance(data, str):
        return data
    if not data.strip():
        raise BadInput("empty input")
    if not any(data.startswith(bom) for bom, _ in _BOMS[1:]) and _looks_binary(data):
        if text := _utf16_without_bom(data):
            return text
        raise BadInput("binary data, not HTML")
    candidates = [*_declared(data, content_type), "utf-8"]
    if _single_byte(candidates[0]) and not data.isascii() and _is_utf8(data):
        candidates.insert(0, "utf-8")
    for name in candidates:
        try:
            return data.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
    for name in candidates:
        if (text := _mostly_decoded(data, name)) is not None:
            return text
    # a detector needs evidence: with a handful of non-ASCII bytes its guess is noise, and
    # windows-1252 (the web's commonest legacy charset, and HTML's default) is the better bet
    sample = data[:SNIFF_BYTES]
    guess = _detected(sample) if sum(b > 127 for b in sample) >= MIN_DETECTION_BYTES else "cp1252"
    return data.decode(guess, errors="replace")


def _detected(sample: bytes) -> str:
    """The charset detector's reading of an undeclared legacy page, among the charsets browsers
    decode; windows-1252 where it reads about as well as the best (DEFAULT_MARGIN)."""
    matches = from_bytes(sample, cp_isolation=_WEB_CODECS)
    best = matches.best()
    if best is None:
        return "cp1252"
    if any("cp1252" in match.could_be_from_charset and match.chaos <= best.chaos + DEFAULT_MARGIN for match in matches):
        return "cp1252"
    return best.encoding


def cut_by_depth() -> bool:
    """Whether the last page parsed nests deeper than libxml2 builds (256 levels): it drops what
    lies deeper, so an article found empty there was cut off, not missing."""
    return any("excessive depth" in entry.message.lower() for entry in _PARSER.error_log)


def load_tree(data: bytes | str, content_type: str | None = None) -> lxml.html.HtmlElement:
    """Parse a page into a tree, raising BadInput with a short reason if it is not usable HTML."""
    markup = _BULK.sub("", decode_html(data, content_type))
    if len(markup) > MAX_MARKUP_CHARS:
        raise BadInput(f"page too large ({len(markup)} characters of markup)")
    markup = _DOCUMENT_END_TAGS.sub("", _XML_DECLARATION.sub("", markup))
    if "\x00" in markup:  # (a look costs a fraction of a copy)
        markup = markup.replace("\x00", "")
    if not markup or markup.isspace():  # (strip would copy the page)
        raise BadInput("empty input")
    if "<" not in markup:
        raise BadInput("no HTML markup")
    try:
        tree = lxml.html.document_fromstring(markup.encode("utf-8", "replace"), parser=_PARSER)
    except (ParserError, ValueError) as exc:
        raise BadInput(f"unparsable HTML: {exc}") from exc
    _empty_voids(tree)
    read_custom_elements(tree, markup)
    if _most_elements(markup) <= MAX_ELEMENTS:  # (the common case: counted without a pass over the tree)
        return tree
    elements = int(_ELEMENT_COUNT(tree))
    if elements > MAX_ELEMENTS:
        raise BadInput(f"page too complex ({elements} elements)")
    return tree


@contextmanager
def proxies_kept(tree: etree._Element) -> Iterator[None]:
    """Keep the Python proxy of every element of ``tree`` for the duration. lxml makes a proxy for
    each element a walk yields and frees it once let go, so each of the dozens of walks over a page
    made them all anew (half of a bare walk's cost); kept, a walk finds them made. Elements added
    meanwhile get theirs as usual, and one removed stays in memory till the end, out of the tree."""
    elements = list(tree.iter())
    try:
        yield
    finally:
        elements.clear()


def _most_elements(markup: str) -> int:
    """The most elements libxml2 can make of ``markup``: one per start tag, a paragraph it implies
    around each text between tags, and the html, head and body it implies."""
    return 2 * markup.count("<") + 4


def _empty_voids(tree: lxml.html.HtmlElement) -> None:
    """Move what libxml2 nested in a void element out after it, where a browser puts it."""
    for void in [element for element in tree.iter(_UNKNOWN_VOIDS) if len(element) or element.text]:
        tail, children = void.tail, list(void)
        void.text, void.tail = None, void.text
        for child in reversed(children):
            void.addnext(child)  # after the void's tail, before the children moved already
        last = children[-1] if children else void
        last.tail = (last.tail or "") + (tail or "") or None
