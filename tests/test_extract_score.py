"""A quick quality check on a few benchmark pages, scored the way bench/extraction.py scores them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.extraction import DEFAULT_DATA, Output, Page, Run, halves_rows, load_pages, score, whitespace_tokens  # noqa: E402

from extract import extract_document  # noqa: E402

SAMPLE = 12  # every tenth page: the whole set is the bench's job


@pytest.mark.skipif(not (DEFAULT_DATA / "ground-truth.json").exists(), reason="benchmark data not present")
def test_sample_of_benchmark_pages_scores_well() -> None:
    pages = load_pages(DEFAULT_DATA)[::10][:SAMPLE]
    f1 = [
        score(whitespace_tokens("\n".join(extract_document(p.html, p.url).paragraphs)), whitespace_tokens(p.truth)).f1
        for p in pages
    ]
    assert sum(f1) / len(f1) >= 0.95


def test_the_bench_scores_each_host_half_apart_with_no_site_in_both() -> None:
    # three hosts, sorted and alternating: a.example and c.example in half A, b.example in B
    pages = [
        Page("1", "https://a.example/one", b"", "red green blue"),
        Page("2", "https://b.example/two", b"", "red green blue"),
        Page("3", "https://c.example/three", b"", "red green blue"),
        Page("4", "https://a.example/four", b"", "red green blue"),
    ]
    outputs = [Output("red green blue"), Output("red"), Output("red green blue"), Output("")]
    rows = halves_rows(["ours"], pages, {"ours": Run(outputs, [0.0] * 4)})
    assert rows[2].split("|")[2:6] == [" A    ", "     3 ", " 0.66667 ", " 0.66667 "]
    assert rows[3].split("|")[2:6] == [" B    ", "     1 ", " 0.50000 ", " 0.50000 "]
