"""Choose the article body of a page and return it as paragraphs."""

from __future__ import annotations

import re

import trafilatura
from lxml.html import HtmlElement

from extract.domfixes import merge_split_bodies, prune_furniture, strip_comments, unwrap_layout_tables
from extract.paragraphs import body_paragraphs

_WORDS = re.compile(r"\w+")


def _key(text: str) -> str:
    return " ".join(_WORDS.findall(text.lower()))


def trafilatura_paragraphs(tree: HtmlElement, url: str | None, **options: bool) -> list[str]:
    result = trafilatura.bare_extraction(tree, url=url, include_comments=False, with_metadata=False, **options)
    return body_paragraphs(result.body) if result is not None and result.body is not None else []


def drop_headline(paragraphs: list[str], title: str | None) -> list[str]:
    """The headline is the first line of the text: drop its copies at the top of the body."""
    if not title:
        return paragraphs
    headline = _key(title)
    start = 0
    while start < min(len(paragraphs), 3) and _key(paragraphs[start]) == headline:
        start += 1
    return paragraphs[start:]


def extract_body(tree: HtmlElement, url: str | None, title: str | None) -> list[str]:
    strip_comments(tree)
    merge_split_bodies(tree)
    prune_furniture(tree)
    unwrap_layout_tables(tree)
    return drop_headline(trafilatura_paragraphs(tree, url, fast=True), title)
