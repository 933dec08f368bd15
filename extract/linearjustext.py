"""justext's revision of its paragraph classes (trafilatura's full mode runs it) in linear time.

justext finds, for each short or near-good paragraph, the nearest good or bad paragraph before and
after it by walking there, one paragraph at a time: over a run of thousands of short paragraphs (a
long list of tags, links or items beside a short article) that is a walk of the run for each of
them, quadratic (5,000 list items took 3 s). Here each direction's nearest class is read in one
pass over the paragraphs, and the classes come out the same: the stand-in replaces only the code it
was written from (``_COPIED``, a digest of justext's function); if an upgrade changes that code, the
stock one runs.
"""

from __future__ import annotations

import hashlib
import inspect

from justext import core as justext_core
from trafilatura import external

_STOCK = justext_core.revise_paragraph_classification
_COPIED = "cdb816fa335044f0"
_SAME_CODE = hashlib.sha256(inspect.getsource(_STOCK).encode()).hexdigest()[:16] == _COPIED
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


external.revise_paragraph_classification = revise_paragraph_classification
