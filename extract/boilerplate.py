"""Site-template boilerplate: paragraphs that recur across the pages of one site.

A single page cannot tell its site's standing banner ("Subscribe to ...") or disclaimer from
its article; the site's other pages can. A paragraph is template text when it recurs on many of
the site's distinct articles and is either short or always at the same edge of the body. A
quotation shared by two articles fails both tests and stays.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace

from extract.document import Document

MIN_PAGES = 3  # below this, recurrence proves nothing
MIN_SHARE = 0.3  # of the site's distinct articles
SHORT_WORDS = 40  # short paragraphs (banners, labels) need only recur
EDGE = 3  # paragraphs this close to the start or end of the body are "at the edge"
EDGE_SHARE = 0.8  # long paragraphs must sit at an edge this often to count as template text

_WORDS = re.compile(r"\w+")


def _key(paragraph: str) -> str:
    return " ".join(_WORDS.findall(paragraph.lower()))


def _paragraph_keys(docs: Sequence[Document]) -> list[list[str]]:
    return [[_key(p) for p in doc.paragraphs] for doc in docs]


def _article_signature(keys: list[str]) -> str:
    """Pages carrying the same article (mirrors, print and AMP copies) count once."""
    return max(keys, key=lambda k: (len(k), k), default="")


def _template_keys(keys_per_doc: list[list[str]]) -> frozenset[str]:
    """Keys of the paragraphs that are template text on this site, from each page's paragraph keys."""
    articles: dict[str, set[str]] = defaultdict(set)
    at_edge: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for keys in keys_per_doc:
        articles[_article_signature(keys)].update(k for k in keys if k)
        for index, key in enumerate(keys):
            seen[key] += 1
            at_edge[key] += index < EDGE or index >= len(keys) - EDGE
    if len(articles) < MIN_PAGES:
        return frozenset()
    frequency = Counter(key for keys in articles.values() for key in keys)
    needed = max(MIN_PAGES, math.ceil(MIN_SHARE * len(articles)))
    return frozenset(
        key
        for key, count in frequency.items()
        if count >= needed and (len(key.split()) <= SHORT_WORDS or at_edge[key] >= EDGE_SHARE * seen[key])
    )


def remove_site_boilerplate(docs: Sequence[Document]) -> list[Document]:
    """The docs (pages of one site) without their site's template paragraphs, in input order.
    The result depends only on the set of docs, not on their order."""
    keys_per_doc = _paragraph_keys(docs)
    template = _template_keys(keys_per_doc)
    if not template:
        return list(docs)
    cleaned = []
    for doc, keys in zip(docs, keys_per_doc):
        kept = tuple(p for p, key in zip(doc.paragraphs, keys) if key not in template)
        if len(kept) == len(doc.paragraphs):
            cleaned.append(doc)
        else:
            error = doc.error if kept else "only site boilerplate"
            cleaned.append(replace(doc, paragraphs=kept, error=error))
    return cleaned
