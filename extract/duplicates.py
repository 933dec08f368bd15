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
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass

SHINGLE_WORDS = 5
SKETCH_SIZE = 64
MIN_CONTAINMENT = 0.8
MIN_SIZE_RATIO = 1 / 3
# A sketch value shared by more texts than this is a stock phrase, not evidence of a copy.
MAX_BUCKET = 200

_WORDS = re.compile(r"\w+")


def shingles(text: str) -> frozenset[int]:
    """A 32-bit hash of each run of five consecutive words (lower case); a shorter text is one shingle.

    Each word is hashed once (crc32) and each run hashed as its five word hashes, which is
    three times faster than hashing the joined words and as stable across processes and runs.
    """
    ids = array("I", [zlib.crc32(word.encode("utf-8")) for word in _WORDS.findall(text.lower())])
    if not ids:
        return frozenset()
    if sys.byteorder == "big":
        ids.byteswap()
    data = memoryview(ids.tobytes())
    width = SHINGLE_WORDS * ids.itemsize
    return frozenset(zlib.crc32(data[start:start + width])
                     for start in range(0, max(1, len(data) - width + ids.itemsize), ids.itemsize))


@dataclass(frozen=True)
class Sketch:
    """A text's bottom-k MinHash sketch and the number of distinct shingles it summarises."""

    size: int
    values: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> Sketch:
        hashes = shingles(text)
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


def _maybe_copies(a: Sketch, b: Sketch) -> bool:
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


def _candidate_pairs(sketches: list[Sketch]) -> set[tuple[int, int]]:
    buckets: dict[int, list[int]] = defaultdict(list)
    for index, sketch in enumerate(sketches):
        for value in sketch.values:
            buckets[value].append(index)
    pairs = set()
    for members in buckets.values():
        if 1 < len(members) <= MAX_BUCKET:
            pairs.update((a, b) for i, a in enumerate(members) for b in members[i + 1:])
    return pairs


def _cluster_id(row: dict) -> str:
    return hashlib.sha256(f"{row['url']} {row['fetched_at']}".encode("utf-8")).hexdigest()[:16]


def _capture_order(row: dict) -> tuple:
    return row["fetched_at"], row["source"], row["url"]


def _distinct_texts(rows: list[dict], sketch_of: Callable[[dict], Sketch]) -> tuple[list[list[int]], list[Sketch]]:
    """The rows of each distinct text (by ``text_sha256``) and its sketch.

    Identical texts are always copies of one another, so the pair search runs over
    distinct texts: a story carried verbatim by many sites costs one sketch, and its
    copies join however many there are.  A text without shingles has nothing to compare
    and stays on its own row by row.
    """
    first: dict[str, int] = {}
    members: list[list[int]] = []
    sketches: list[Sketch] = []
    for index, row in enumerate(rows):
        text = first.get(row["text_sha256"])
        if text is None:
            text = len(members)
            members.append([])
            sketches.append(sketch_of(row))
            if sketches[text].size:
                first[row["text_sha256"]] = text
        members[text].append(index)
    return members, sketches


def assign_duplicates(rows: list[dict], sketch_of: Callable[[dict], Sketch],
                      text_of: Callable[[dict], str]) -> None:
    """Set ``dup_cluster`` and ``dup_canonical`` on every row (corpus rows: ``text_sha256`` names the text), in place.

    ``sketch_of`` gives a row's sketch (cached by the caller); ``text_of`` its text, read
    only for the texts that the sketches cannot tell apart from another.
    """
    members, sketches = _distinct_texts(rows, sketch_of)
    by_text: dict[int, frozenset[int]] = {}

    def shingles_of(text: int) -> frozenset[int]:
        if text not in by_text:
            by_text[text] = shingles(text_of(rows[members[text][0]]))
        return by_text[text]

    parent = list(range(len(members)))

    def root(text: int) -> int:
        while parent[text] != text:
            parent[text] = parent[parent[text]]
            text = parent[text]
        return text

    for a, b in sorted(_candidate_pairs(sketches)):
        if root(a) == root(b) or not _maybe_copies(sketches[a], sketches[b]):
            continue
        if are_copies(shingles_of(a), shingles_of(b)):
            parent[max(root(a), root(b))] = min(root(a), root(b))
    clusters: dict[int, list[int]] = defaultdict(list)
    for text in range(len(members)):
        clusters[root(text)].append(text)
    for texts in clusters.values():
        indexes = sorted(index for text in texts for index in members[text])
        first = min(indexes, key=lambda index: _capture_order(rows[index]))
        # Captures of one text (a page fetched again with only its markup changed) are equally
        # complete: the earliest is canonical, and no text needs reading to say so.
        best = first if len(texts) == 1 else _canonical(texts, members, rows, shingles_of)
        for index in indexes:
            rows[index]["dup_cluster"] = _cluster_id(rows[first])
            rows[index]["dup_canonical"] = index == best


def _canonical(texts: list[int], members: list[list[int]], rows: list[dict],
               shingles_of: Callable[[int], frozenset[int]]) -> int:
    """The row of the most complete copy: most shingles shared by at least half the rows, least beyond them."""
    support: Counter[int] = Counter()
    for text in texts:
        copies = len(members[text])
        for shingle in shingles_of(text):
            support[shingle] += copies
    needed = (sum(len(members[text]) for text in texts) + 1) // 2
    completeness = {}
    for text in texts:
        agreed = sum(support[shingle] >= needed for shingle in shingles_of(text))
        for index in members[text]:
            completeness[index] = -agreed, len(shingles_of(text)) - agreed, _capture_order(rows[index])
    return min(sorted(completeness), key=completeness.__getitem__)
