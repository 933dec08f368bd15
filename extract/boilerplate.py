"""Site-template boilerplate: paragraphs that recur across the pages of one site.

A single page cannot tell its site's standing banner ("Subscribe to ...") or disclaimer from
its article; the site's other pages can. A paragraph is template text when it recurs on two or
more of the site's distinct articles (and, where the site has more, on a share of them) and is
either short or always at the same edge of the body. Two articles suffice: a small or new site's
disclaimer is template from its second article on. A quotation shared by two articles, inside
their bodies, fails both tests and stays.

The share is taken over the articles of a span of the paragraph's own: those the site published
(first captured) from one article holding it to another (``template_span``), not over every
article the site ever had. So a banner a redesign retired stays template in the texts of its
years, however many articles come after; a new one is template from its second article on,
however many came before; and a retired one the site brings back is template from its first
article back, as the years it was on every article still show (over its whole span, the years
without it would have put it back into every text). The archive's store keeps the spans
(``corpus.store``); a batch of pages given together (``remove_site_boilerplate``) has no times,
and its span is the whole batch.

The rule is stated once, over counts (``is_template``), so that the corpus store, which keeps
the counts of an archived site incrementally, and ``remove_site_boilerplate``, which counts a
batch of pages, decide alike.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Collection, Hashable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

from extract.document import Document
from extract.paragraphs import word_key

MIN_PAGES = 2  # distinct articles: one alone shows no recurrence
MIN_SHARE = Fraction(3, 10)  # of the site's distinct articles, on sites with more than a handful (exact: 3 of 10 is 30 %)
SHORT_WORDS = 40  # short paragraphs (banners, labels) need only recur
EDGE = 3  # paragraphs this close to the start or end of the body are "at the edge"
EDGE_SHARE = 0.8  # long paragraphs must sit at an edge this often to count as template text

# A quotation: four words or more between quotation marks. Two articles quoting the same statement
# share a paragraph, yet a quotation is the articles' own text, never the site's template.
_QUOTATION = re.compile(r"[“\"«„‘](?:[^\w“”\"«»]*\w+){4}[^“”\"«»]*[”\"»’]")


def paragraph_key(paragraph: str) -> str:
    """What two paragraphs must share to be the same template text: their words, in lower case;
    "" (no key, never template) for a paragraph holding a quotation."""
    return "" if _QUOTATION.search(paragraph) else word_key(paragraph)


def article_signature(keys: list[str]) -> str:
    """Pages carrying the same article (mirrors, print and AMP copies) count once."""
    return max(keys, key=lambda k: (len(k), k), default="")


def is_at_edge(index: int, count: int) -> bool:
    return index < EDGE or index >= count - EDGE


def is_template(words: int, frequency: int, seen: int, at_edge: int, articles: int) -> bool:
    """The rule, over a paragraph key's counts on one site.

    ``frequency``: distinct articles holding it; ``seen``: times it occurs on the site's pages,
    ``at_edge`` of which near an edge of the body; ``articles``: the site's distinct articles
    within the paragraph's span.
    """
    if articles < MIN_PAGES:
        return False
    needed = max(MIN_PAGES, math.ceil(MIN_SHARE * articles))
    return frequency >= needed and has_template_shape(words, seen, at_edge)


def has_template_shape(words: int, seen: int, at_edge: int) -> bool:
    """The rule's part that no span changes: short, or nearly always at an edge of the body."""
    return words <= SHORT_WORDS or at_edge >= EDGE_SHARE * seen


@dataclass(frozen=True)
class SpanScan:
    """Where ``template_span``'s pass stands after a paragraph's articles up to ``last``, with no span found: all a
    later pass over the articles after them needs.  With MIN_PAGES two, every start up to ``last`` is a start of every
    span ending at an article holding it after ``last`` (or at ``last``, holding it again), so the lowest start count
    is all that is kept of them.  Counts are from the site's first article: the pass goes on from a scan of the
    site's articles up to ``last`` only while none is added before it."""

    last: str  # when the last article holding it was published
    holding: int  # the articles holding it up to then
    lowest: Fraction  # the lowest start count: articles holding it before a start less MIN_SHARE of the site's
    lowest_at: str  # (its start)


def template_span(holding: Sequence[str], articles: Sequence[str], held: int = 0, before: int = 0,
                  scan: SpanScan | None = None) -> tuple[str, str] | SpanScan | None:
    """The first span, from one article holding a paragraph to another, over whose articles it is on
    MIN_PAGES and MIN_SHARE of them; else where the search stands after them (a ``SpanScan``), or None if
    ``holding`` is empty.  ``holding``: when the articles holding it were published, ``articles``: the site's
    articles from the first of those to the last, both sorted; ``held`` and ``before``: how many of each come
    before those; ``scan``: the search's stand after the articles before them, as returned.  One pass: a span
    from time a to time b holds it on its share when, counted up to b, the articles holding it less MIN_SHARE of
    all articles reach the same count before a, so the lowest of those counts before each b is all that is kept
    (exact arithmetic, as ``is_template``)."""
    lowest = None if scan is None else (scan.lowest, scan.lowest_at)  # over the starts of every span ending here on
    waiting: list[tuple[int, Fraction, str]] = []  # later starts: articles holding it before each, its count
    taken = 0  # (the waiting starts before this one are in ``lowest``)
    for end_time in sorted(set(holding)):
        holding_to_end = held + bisect_right(holding, end_time)
        if scan is None or end_time > scan.last:
            holding_before = held + bisect_left(holding, end_time)
            waiting.append((holding_before, holding_before - MIN_SHARE * (before + bisect_left(articles, end_time)),
                            end_time))
        # the spans with MIN_PAGES articles holding it: those starting at a time with that few before it
        while taken < len(waiting) and waiting[taken][0] <= holding_to_end - MIN_PAGES:
            _, count, start_time = waiting[taken]
            taken += 1
            if lowest is None or count < lowest[0]:
                lowest = (count, start_time)
        if lowest is not None and holding_to_end - MIN_SHARE * (before + bisect_right(articles, end_time)) >= lowest[0]:
            return lowest[1], end_time
    for _, count, start_time in waiting[taken:]:
        if lowest is None or count < lowest[0]:
            lowest = (count, start_time)
    if lowest is None:
        return None
    return SpanScan(holding[-1] if holding else scan.last, held + len(holding), *lowest)


def without_template(doc: Document, keys: Sequence[Hashable], template: Collection[Hashable]) -> Document:
    """The document less its template paragraphs (``keys``: its paragraphs' keys, or their hashes as the store keeps
    them); empty if nothing else is left."""
    kept = tuple(p for p, key in zip(doc.paragraphs, keys) if key not in template)
    if len(kept) == len(doc.paragraphs):
        return doc
    return replace(doc, paragraphs=kept, error=doc.error if kept else "only site boilerplate")


def _template_keys(keys_per_doc: list[list[str]]) -> frozenset[str]:
    """Keys of the paragraphs that are template text on this site, from each page's paragraph keys."""
    articles: dict[str, set[str]] = defaultdict(set)
    at_edge: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for keys in keys_per_doc:
        articles[article_signature(keys)].update(k for k in keys if k)
        for index, key in enumerate(keys):
            seen[key] += 1
            at_edge[key] += is_at_edge(index, len(keys))
    frequency = Counter(key for keys in articles.values() for key in keys)
    return frozenset(key for key, count in frequency.items()
                     if is_template(len(key.split()), count, seen[key], at_edge[key], len(articles)))


def remove_site_boilerplate(docs: Sequence[Document]) -> list[Document]:
    """The docs (pages of one site) without their site's template paragraphs, in input order.
    The result depends only on the set of docs, not on their order."""
    keys_per_doc = [[paragraph_key(p) for p in doc.paragraphs] for doc in docs]
    template = _template_keys(keys_per_doc)
    return [without_template(doc, keys, template) for doc, keys in zip(docs, keys_per_doc)]
