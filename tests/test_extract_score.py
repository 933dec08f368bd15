"""A quick quality check on a few benchmark pages, scored the way bench/extraction.py scores them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.extraction import DEFAULT_DATA, load_pages, score, whitespace_tokens  # noqa: E402

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
