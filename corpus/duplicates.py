"""Near-duplicate articles: ``dup_cluster`` on every corpus row, ``dup_canonical`` on the best copy.

Method: word 5-shingles of the text, a bottom-k MinHash sketch (the 64 smallest 32-bit
hashes) per text to find and pre-screen candidate pairs, then an exact test on the two
shingle sets: the shorter text's *containment* in the longer must be at least 0.8, and
the shorter must hold at least a third of the longer's shingles.

Why not SimHash (trafilatura's ``Simhash``)?  It hashes single words, which unrelated
articles in one language largely share, and it measures symmetric resemblance, so a copy
that lost a third of its paragraphs looks about as far from the original as a different
article on the same subject.  Containment of shingles is what "the same article, with a
banner added or paragraphs lost" means, and MinHash sketches estimate resemblance and,
with the set sizes, containment.  Bottom-k needs one cheap hash per shingle (crc32), so
it stays fast in pure Python; the exact test keeps sketch noise from merging articles.

Clusters are the connected groups of the "are copies" relation between distinct texts,
kept incrementally by the corpus store (``corpus/store.py``): a new text is compared only
with the texts that share sketch values with it, found through an index of sketch values.
Every row is in exactly one cluster (a singleton gets its own id).  Within a cluster the
canonical row is the most complete version: the one holding the most shingles found in at
least half of the members (so with three or more copies a banner that only one has does
not count; with two, the larger text wins), then the one with the least text beyond
those, then the earliest capture.
"""

from __future__ import annotations

import hashlib
import heapq
import re
import sys
import zlib
from array import array
from collections import Counter
from dataclasses import dataclass

SHINGLE_WORDS = 5
ID_SIZE = 4  # bytes of a word's id
SKETCH_SIZE = 64
MIN_CONTAINMENT = 0.8
MIN_SIZE_RATIO = 1 / 3
# A full sketch (64 values) that passes ``maybe_copies`` against another text shares at least
# 7 of its values with it: the size ratio caps the screen's containment factor at 4.8, so the
# estimated resemblance must reach 0.1 of the union's 64 smallest values.  A lookup of a full
# sketch's copies may therefore skip its 3 most common values (stock phrases that thousands of
# texts share) and still find every copy: the result does not depend on which texts came first.
HOT_VALUES_SKIPPED = 3
# Which values are the most common is decided on counts that stop here: a stock phrase's value is held
# by a share of the whole corpus, and counting it all would cost each new text more as the corpus ages.
HOT_VALUE_COUNTED = 100

_WORDS = re.compile(r"\w+")


def word_ids(text: str) -> bytes:
    """A hash (crc32) of each word of ``text`` in lower case, as 4-byte little-endian values.

    The words of blocks joined by blank lines are the blocks' words one after the other, so
    a text's ids are its blocks' ids joined: a worker hashes a document's paragraphs once and
    the store joins those it keeps (``shingles_of_ids``).
    """
    ids = array("I", [zlib.crc32(word.encode("utf-8")) for word in _WORDS.findall(text.lower())])
    if sys.byteorder == "big":
        ids.byteswap()
    return ids.tobytes()


def shingles_of_ids(data: bytes) -> frozenset[int]:
    """A 32-bit hash of each run of five consecutive words, from the words' ids; a shorter text is one shingle.

    Each word is hashed once and each run hashed as its five word hashes, which is three
    times faster than hashing the joined words and as stable across processes and runs.
    """
    if not data:
        return frozenset()
    view = memoryview(data)
    width = SHINGLE_WORDS * ID_SIZE
    return frozenset(zlib.crc32(view[start:start + width])
                     for start in range(0, max(1, len(data) - width + ID_SIZE), ID_SIZE))


def shingles(text: str) -> frozenset[int]:
    """The text's word 5-shingles, hashed (see ``shingles_of_ids``)."""
    return shingles_of_ids(word_ids(text))


@dataclass(frozen=True)
class Sketch:
    """A text's bottom-k MinHash sketch and the number of distinct shingles it summarises."""

    size: int
    values: tuple[int, ...]

    @classmethod
    def of_shingles(cls, hashes: frozenset[int]) -> Sketch:
        return cls(len(hashes), tuple(sorted(heapq.nsmallest(SKETCH_SIZE, hashes))))

    def to_str(self) -> str:
        return f"{self.size}:" + ",".join(map(str, self.values))

    @classmethod
    def from_str(cls, data: str) -> Sketch:
        size, _, values = data.partition(":")
        return cls(int(size), tuple(int(value) for value in values.split(",") if value))


def estimated_resemblance(a: Sketch, b: Sketch) -> float:
    """Jaccard estimate: the share of the union's k smallest hashes that both texts have."""
    union = heapq.nsmallest(SKETCH_SIZE, set(a.values) | set(b.values))
    common = set(a.values) & set(b.values)
    return sum(value in common for value in union) / len(union) if union else 0.0


def maybe_copies(a: Sketch, b: Sketch) -> bool:
    """A loose screen on sketches; the exact test on shingles decides."""
    small, large = sorted((a.size, b.size))
    if not small or small < MIN_SIZE_RATIO * large * 0.7:
        return False
    resemblance = estimated_resemblance(a, b)
    containment = resemblance * (small + large) / ((1 + resemblance) * small)
    return containment >= MIN_CONTAINMENT * 0.6


def are_copies(a: frozenset[int], b: frozenset[int]) -> bool:
    """The exact test: the shorter text is mostly inside the longer, and not tiny beside it."""
    small, large = sorted((a, b), key=len)
    if not small or len(small) < MIN_SIZE_RATIO * len(large):
        return False
    return len(small & large) >= MIN_CONTAINMENT * len(small)


def cluster_id(first_row: dict) -> str:
    """A cluster's id: a digest of its earliest capture, so it stays put as later copies join."""
    return hashlib.sha256(f"{first_row['url']} {first_row['fetched_at']}".encode("utf-8")).hexdigest()[:16]


def capture_order(row: dict) -> tuple:
    return row["fetched_at"], row["source"], row["url"]


def canonical_row(texts: list[tuple[frozenset[int], list[dict]]]) -> dict:
    """The row of the most complete copy in a cluster, from each distinct text's shingles and rows.

    Most shingles shared by at least half the rows, then least text beyond them, then the
    earliest capture.  Captures of one text only (a page fetched again with only its markup
    changed) are equally complete: the earliest is canonical, and no text needs reading.
    """
    rows = [row for _, members in texts for row in members]
    if len(texts) == 1:
        return min(rows, key=capture_order)
    support: Counter[int] = Counter()
    for shingle_set, members in texts:
        for shingle in shingle_set:
            support[shingle] += len(members)
    needed = (len(rows) + 1) // 2
    best: tuple | None = None
    chosen = rows[0]
    for shingle_set, members in texts:
        agreed = sum(support[shingle] >= needed for shingle in shingle_set)
        for row in members:
            rank = (-agreed, len(shingle_set) - agreed, capture_order(row))
            if best is None or rank < best:
                best, chosen = rank, row
    return chosen
