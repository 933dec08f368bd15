"""justext's classification of paragraphs (trafilatura's full mode runs it) with each paragraph's
text made once, and its revision of the classes in linear time.

- ``classify_paragraphs``: justext's Paragraph makes its text anew (a join and a whitespace
  substitution over its pieces) each time its length, words, stop words or link density is read:
  seven times a paragraph in the classification, a seventh of a long page's full mode (0.13 s of
  10,000 short paragraphs). Here the text is made once and the same tests read it.
- ``revise_paragraph_classification``: justext finds, for each short or near-good paragraph, the
  nearest good or bad paragraph before and after it by walking there, one paragraph at a time: over
  a run of thousands of short paragraphs (a long list of tags, links or items beside a short
  article) that is a walk of the run for each of them, quadratic (5,000 list items took 3 s). Here
  each direction's nearest class is read in one pass over the paragraphs.

The classes come out the same: each stand-in replaces only the code it was written from
(``_COPIED``, digests of justext's functions and of the Paragraph it reads); if an upgrade changes
that code, the stock one runs.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Iterator
from contextlib import contextmanager

from justext import core as justext_core
from justext import paragraph as justext_paragraph
from justext import utils as justext_utils
from trafilatura import external

_STOCK = justext_core.revise_paragraph_classification
_STOCK_CLASSIFY = justext_core.classify_paragraphs
_STOCK_NORMALIZE = justext_utils.normalize_whitespace
_SPACES = justext_utils.MULTIPLE_WHITESPACE_PATTERN
_COPIED = "cdb816fa335044f0"
_SAME_CODE = hashlib.sha256(inspect.getsource(_STOCK).encode()).hexdigest()[:16] == _COPIED
# the classification, the Paragraph whose text, length, word counts and densities it reads, and
# justext's normalization of spaces in that text (which Paragraph reads from justext.utils)
_COPIED_CLASSIFY = "40a8a6954a05c7ef"
_CLASSIFY_CODE = (_STOCK_CLASSIFY, justext_core.Paragraph, _STOCK_NORMALIZE, justext_utils._replace_whitespace)
_SAME_CLASSIFY = (
    hashlib.sha256("".join(map(inspect.getsource, _CLASSIFY_CODE)).encode()).hexdigest()[:16] == _COPIED_CLASSIFY
    and _SPACES.pattern == r"\s+"
    and justext_paragraph.normalize_whitespace is _STOCK_NORMALIZE
)
_GOOD_OR_BAD = ("good", "bad")
_OR_NEARGOOD = ("good", "bad", "neargood")


def _nearest(classes: list[str], kinds: tuple[str, ...], reverse: bool) -> list[str]:
    """For each index, the class of the nearest paragraph before it (after it if ``reverse``)
    whose class is one of ``kinds``; 'bad' where there is none, as justext's _get_neighbour."""
    found = ["bad"] * len(classes)
    last = "bad"
    order = range(len(classes) - 1, -1, -1) if reverse else range(len(classes))
    for i in order:
        found[i] = last
        if classes[i] in kinds:
            last = classes[i]
    return found


def _good_follows(paragraphs: list, i: int, max_heading_distance: int) -> bool:
    """Whether a good paragraph follows paragraph i within max_heading_distance characters (as justext)."""
    j, distance = i + 1, 0
    while j < len(paragraphs) and distance <= max_heading_distance:
        if paragraphs[j].class_type == "good":
            return True
        distance += len(paragraphs[j].text)
        j += 1
    return False


def revise_paragraph_classification(paragraphs: list, max_heading_distance: int = 200) -> None:
    if not _SAME_CODE:
        return _STOCK(paragraphs, max_heading_distance)
    # good headings (as justext: each class is copied as the loop reaches its paragraph)
    for i, paragraph in enumerate(paragraphs):
        paragraph.class_type = paragraph.cf_class
        if not (paragraph.heading and paragraph.class_type == "short"):
            continue
        if _good_follows(paragraphs, i, max_heading_distance):
            paragraph.class_type = "neargood"
    # classify short: every neighbour is read before any class changes
    classes = [p.class_type for p in paragraphs]
    prev_strict, next_strict = _nearest(classes, _GOOD_OR_BAD, False), _nearest(classes, _GOOD_OR_BAD, True)
    prev_loose, next_loose = _nearest(classes, _OR_NEARGOOD, False), _nearest(classes, _OR_NEARGOOD, True)
    new_classes = {}
    for i, c in enumerate(classes):
        if c != "short":
            continue
        before, after = prev_strict[i], next_strict[i]
        if before == "good" and after == "good":
            new_classes[i] = "good"
        elif before == "bad" and after == "bad":
            new_classes[i] = "bad"
        elif (before == "bad" and prev_loose[i] == "neargood") or (after == "bad" and next_loose[i] == "neargood"):
            new_classes[i] = "good"
        else:
            new_classes[i] = "bad"
    for i, c in new_classes.items():
        paragraphs[i].class_type = c
    # revise neargood: in order, each revised paragraph is the next one's neighbour before it; those
    # after it are not revised yet (neargood, which the search ignores)
    classes = [p.class_type for p in paragraphs]
    next_strict = _nearest(classes, _GOOD_OR_BAD, True)
    before = "bad"
    for i, paragraph in enumerate(paragraphs):
        if paragraph.class_type == "neargood":
            paragraph.class_type = "bad" if (before, next_strict[i]) == ("bad", "bad") else "good"
        if paragraph.class_type in _GOOD_OR_BAD:
            before = paragraph.class_type
    # more good headings
    for i, paragraph in enumerate(paragraphs):
        if not (paragraph.heading and paragraph.class_type == "bad" and paragraph.cf_class != "bad"):
            continue
        if _good_follows(paragraphs, i, max_heading_distance):
            paragraph.class_type = "good"
    return None


_LAST_STOPLIST: tuple = ((), frozenset())  # the stoplist last given, and its words lower-cased


def _lower_cased(stoplist) -> frozenset:
    """justext's define_stoplist, remembered for the stoplist last given: its cache looks the
    stoplist up by value, hashing all of trafilatura's 150,000 words on every call (0.4 ms)."""
    global _LAST_STOPLIST
    last = _LAST_STOPLIST
    if last[0] is stoplist:
        return last[1]
    lowered = justext_core.define_stoplist(stoplist)
    if type(stoplist) in (tuple, frozenset):  # (immutable: the same object holds the same words)
        _LAST_STOPLIST = (stoplist, lowered)
    return lowered


def normalize_whitespace(text: str) -> str:
    """justext's normalize_whitespace: each run of spaces made one space, a line break where the
    run holds one. Without a line break in the text, every run is a space: one substitution,
    rather than a call back into Python for each run (seven runs in ten are in no paragraph's text
    yet: each piece of text justext reads is normalized as it is added)."""
    if "\n" in text or "\r" in text:
        return _STOCK_NORMALIZE(text)
    return _SPACES.sub(" ", text)


def _text(paragraph) -> str:
    """A paragraph's text, as justext's Paragraph.text makes it."""
    return normalize_whitespace("".join(paragraph.text_nodes).strip())


def classify_paragraphs(
    paragraphs: list,
    stoplist,
    length_low: int = justext_core.LENGTH_LOW_DEFAULT,
    length_high: int = justext_core.LENGTH_HIGH_DEFAULT,
    stopwords_low: float = justext_core.STOPWORDS_LOW_DEFAULT,
    stopwords_high: float = justext_core.STOPWORDS_HIGH_DEFAULT,
    max_link_density: float = justext_core.MAX_LINK_DENSITY_DEFAULT,
    no_headings: bool = justext_core.NO_HEADINGS_DEFAULT,
) -> None:
    """justext's context-free classification, each paragraph's text made once (its code otherwise)."""
    stoplist = _lower_cased(stoplist)
    for paragraph in paragraphs:
        text = _text(paragraph)
        length = len(text)
        words = text.split()
        stopword_density = sum(word.lower() in stoplist for word in words) / len(words) if words else 0
        link_density = paragraph.chars_count_in_links / length if length else 0
        paragraph.heading = bool(not no_headings and paragraph.is_heading)

        if link_density > max_link_density:
            paragraph.cf_class = "bad"
        elif ("\xa9" in text) or ("&copy" in text):
            paragraph.cf_class = "bad"
        elif "select" in paragraph.dom_path:
            paragraph.cf_class = "bad"
        elif length < length_low:
            if paragraph.chars_count_in_links > 0:
                paragraph.cf_class = "bad"
            else:
                paragraph.cf_class = "short"
        elif stopword_density >= stopwords_high:
            if length > length_high:
                paragraph.cf_class = "good"
            else:
                paragraph.cf_class = "neargood"
        elif stopword_density >= stopwords_low:
            paragraph.cf_class = "neargood"
        else:
            paragraph.cf_class = "bad"
    return None


external.revise_paragraph_classification = revise_paragraph_classification


@contextmanager
def faster_justext() -> Iterator[None]:
    """justext's classification and normalization of spaces as above, for the duration (elsewhere in
    the process, trafilatura runs justext's own: the benchmark's peers); justext's own where an
    upgrade changed the code they were written from."""
    if not _SAME_CLASSIFY:
        yield
        return
    external.classify_paragraphs, justext_paragraph.normalize_whitespace = classify_paragraphs, normalize_whitespace
    try:
        yield
    finally:
        external.classify_paragraphs, justext_paragraph.normalize_whitespace = _STOCK_CLASSIFY, _STOCK_NORMALIZE
