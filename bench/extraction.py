"""Score our extractor against trafilatura and readability-lxml on the article-extraction dev pages.

Our own implementation of the dataset README's rule: per document, a multiset overlap of
whitespace words and of 4-word shingles of ``\\w+`` tokens; we report mean P, mean R, F1 of the
means, mean per-document F1 and acc90 (share of documents with F1 >= 0.9). An empty prediction
gets R = F1 = 0 and is left out of mean P. Prints figures; it is not a test.

    .venv/bin/python bench/extraction.py [--only NAME] [--worst N] [--data DIR]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_DATA = Path("/work/shared/benchmarks/article-extraction")
WORD = re.compile(r"\w+")


@dataclass
class Page:
    key: str
    url: str
    html: bytes
    truth: str


@dataclass
class Score:
    precision: float | None  # None for an empty prediction, which mean P leaves out
    recall: float
    f1: float


def whitespace_tokens(text: str) -> list[str]:
    return text.split()


def shingle_tokens(text: str, n: int = 4) -> list[tuple[str, ...]]:
    words = WORD.findall(text)
    if len(words) < n:
        return [tuple(words)] if words else []
    return [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]


def score(pred: Iterable, truth: Iterable) -> Score:
    p_bag, t_bag = Counter(pred), Counter(truth)
    n_pred, n_truth = sum(p_bag.values()), sum(t_bag.values())
    if n_pred == 0:
        return Score(None, 0.0, 0.0)
    overlap = sum((p_bag & t_bag).values())
    precision = overlap / n_pred
    recall = overlap / n_truth if n_truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(precision, recall, f1)


def summarise(scores: list[Score]) -> dict[str, float]:
    precisions = [s.precision for s in scores if s.precision is not None]
    mean_p = sum(precisions) / len(precisions) if precisions else 0.0
    mean_r = sum(s.recall for s in scores) / len(scores)
    f1_of_means = 2 * mean_p * mean_r / (mean_p + mean_r) if mean_p + mean_r else 0.0
    return {
        "P": mean_p,
        "R": mean_r,
        "F1": f1_of_means,
        "docF1": sum(s.f1 for s in scores) / len(scores),
        "acc90": sum(s.f1 >= 0.9 for s in scores) / len(scores),
    }


def load_pages(data: Path) -> list[Page]:
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    return [
        Page(key, item["url"], gzip.decompress((data / "html" / f"{key}.html.gz").read_bytes()), item["articleBody"])
        for key, item in sorted(truth.items())
    ]


def _trafilatura(**options) -> Callable[[bytes, str], str]:
    import trafilatura

    return lambda html, url: trafilatura.extract(html, url=url, **options) or ""


def _readability(html: bytes, url: str) -> str:
    import lxml.html
    from readability import Document as ReadabilityDocument

    summary = ReadabilityDocument(html, url=url).summary(html_partial=True)
    root = lxml.html.fromstring(summary)
    blocks = root.xpath("//p|//li|//h1|//h2|//h3|//h4|//h5|//h6|//blockquote|//pre|//td")
    return "\n".join(b.text_content() for b in blocks) or root.text_content()


def _ours(html: bytes, url: str) -> str:
    from extract import extract_document

    return "\n\n".join(extract_document(html, url).paragraphs)


EXTRACTORS: dict[str, Callable[[bytes, str], str]] = {
    "ours": _ours,
    "trafilatura defaults": _trafilatura(),
    "trafilatura no comments": _trafilatura(include_comments=False),
    "trafilatura +precision": _trafilatura(include_comments=False, favor_precision=True),
    "trafilatura +fast": _trafilatura(include_comments=False, fast=True),
    "readability-lxml": _readability,
}


def run(name: str, extractor: Callable[[bytes, str], str], pages: list[Page], worst: int) -> str:
    extractor(pages[0].html, pages[0].url)  # warm-up: imports and lazy initialisation are not per-page cost
    started = time.process_time()
    predictions = [extractor(page.html, page.url) for page in pages]
    elapsed = time.process_time() - started
    ws = [score(whitespace_tokens(p), whitespace_tokens(page.truth)) for p, page in zip(predictions, pages)]
    sh = [score(shingle_tokens(p), shingle_tokens(page.truth)) for p, page in zip(predictions, pages)]
    w, s = summarise(ws), summarise(sh)
    if worst:
        ranked = sorted(zip(sh, pages), key=lambda pair: pair[0].f1)[:worst]
        for item, page in ranked:
            p = "-" if item.precision is None else f"{item.precision:.3f}"
            print(f"  {name}: {page.key[:12]} shF1={item.f1:.3f} P={p} R={item.recall:.3f} {page.url}")
    return (
        f"| {name:<24} | {w['F1']:.3f} | {w['P']:.3f} | {w['R']:.3f} | {w['docF1']:.3f} | {w['acc90']:.3f} "
        f"| {s['F1']:.3f} | {s['P']:.3f} | {s['R']:.3f} | {s['acc90']:.3f} | {len(pages) / elapsed:6.1f} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--only", action="append", choices=sorted(EXTRACTORS), help="run only these (repeatable)")
    parser.add_argument("--worst", type=int, default=0, help="list the N worst pages by shingle F1")
    args = parser.parse_args(argv)
    pages = load_pages(args.data)
    print(f"{len(pages)} pages; pages/s is CPU time of this one process")
    print("| extractor                | ws F1 | ws P  | ws R  | docF1 | acc90 | sh F1 | sh P  | sh R  | acc90 | pages/s |")
    print("|--------------------------|-------|-------|-------|-------|-------|-------|-------|-------|-------|---------|")
    for name in args.only or EXTRACTORS:
        print(run(name, EXTRACTORS[name], pages, args.worst), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
