"""The extractor itself: a page's HTML to a ``Document`` (trafilatura, readability-lxml);
a page that is no article (extract.pagekind) gives a Document without paragraphs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from justext.core import define_stoplist
from lxml.html import HtmlElement
from trafilatura.external import jt_stoplist_init

from extract.body import extract_body, unrepaired_paragraphs
from extract.document import Document
from extract.htmlinput import BadInput, cut_by_depth, load_tree, proxies_kept
from extract.metadata import Metadata, extract_metadata
from extract.pagecues import drop_notices, publisher_notices
from extract.pagekind import PageKind, declared_kind, drop_teaser_tail, gather_evidence, reconsider
from extract.unmarkedparagraphs import mark_break_paragraphs, mark_div_paragraphs, mark_preformatted_code


def _warm_up() -> None:
    """Pay the libraries' first-use costs here, when a worker imports the extractor, not on a page:
    trafilatura's justext fallback reads every language's stoplist the first time a page of no
    known language needs it (0.4 s). (Dates need none: extract.metadata reads them itself, and never
    loads dateparser, which htmldate's free-text search would compile 2-3 s of patterns for.) Then
    justext lower-cases those words into a set on its first classification (0.04 s): its cache
    keeps the set for the rest."""
    define_stoplist(jt_stoplist_init())


_warm_up()


def _read(
    tree: HtmlElement, url: str | None, reparse: Callable[[], HtmlElement]
) -> tuple[Metadata, PageKind, list[str]]:
    """The page's metadata, what kind of page it is, and its body (``reparse`` parses it anew)."""
    meta = extract_metadata(tree, url)
    kind = declared_kind(meta)
    evidence = None if kind and not kind.is_article else gather_evidence(tree, reparse, url)  # before extract_body changes the tree
    notices = publisher_notices(tree)  # (likewise)
    paragraphs = extract_body(tree, url, meta.title, meta.author, meta.article_body)
    if evidence is not None:
        kind, paragraphs = reconsider(
            evidence,
            paragraphs,
            lambda: unrepaired_paragraphs(reparse(), url, meta.title, meta.author),
            declared=kind is not None,
        )
        if kind.is_article:
            paragraphs = drop_teaser_tail(evidence, paragraphs)
    return meta, kind, drop_notices(paragraphs, notices)


def _parse(html: bytes | str, content_type: str | None = None) -> HtmlElement:
    """The page's tree, its paragraphs written as divs or between line breaks made ``<p>`` and its
    preformatted blocks code (extract.unmarkedparagraphs)."""
    tree = load_tree(html, content_type)
    mark_break_paragraphs(tree)  # (first: a div of text whose breaks it cuts holds paragraphs, no run of divs)
    mark_div_paragraphs(tree)
    mark_preformatted_code(tree)
    return tree


def _extract(tree: HtmlElement, url: str | None, reparse: Callable[[], HtmlElement]) -> Document:
    meta, kind, paragraphs = _read(tree, url, reparse)
    if not kind.is_article:
        error = f"not an article: {kind.kind}, {kind.reason}"
    else:
        error = None if paragraphs else "no article body found"
    return Document(
        url=url,
        canonical_url=meta.canonical_url,
        title=meta.title,
        author=meta.author,
        date=meta.date,
        sitename=meta.sitename,
        language=meta.language,
        paragraphs=tuple(paragraphs) if kind.is_article else (),
        error=error,
    )


def extract_document(html: bytes | str, url: str | None = None, *, content_type: str | None = None) -> Document:
    """Extract a page; never raises: unusable input gives an empty Document whose error says why."""
    try:
        tree = _parse(html, content_type)
        with proxies_kept(tree):
            doc = _extract(tree, url, lambda: _parse(html, content_type))
        if doc.is_empty and cut_by_depth():  # the reason, not the symptom ("no article", "no body")
            doc = replace(doc, error=f"markup nested too deeply (over 255 levels; the deeper part is lost): {doc.error}")
        return doc
    except BadInput as exc:
        return Document.empty(url, str(exc))
    except RecursionError:
        return Document.empty(url, "markup nested too deeply")
    except Exception as exc:  # noqa: BLE001 - a page must never stop a crawl's extraction
        return Document.empty(url, f"extraction failed: {type(exc).__name__}: {exc}"[:200])


def classify_page(html: bytes | str, url: str | None = None) -> PageKind:
    """Is this page an article? Decided from its declarations and structure, not its URL, as
    extract_document decides it."""
    try:
        tree = _parse(html)
        with proxies_kept(tree):
            return _read(tree, url, lambda: _parse(html))[1]
    except BadInput as exc:
        return PageKind("no article", str(exc))
