"""Score our extractor against its peers on both tuning sets, side by side, in one process.

Sets (in ../shared/benchmarks): ``article-extraction`` (121 pages, truth ``articleBody``) and
``web-articles-dev`` (700 pages, truth ``main_content`` plus title, author, date and must-include /
must-exclude snippets). Scoring follows web-articles-dev's README, per page then averaged over all
pages, an empty output scoring 0 and staying in the mean: ``ws`` is F1 of the bag of whitespace
tokens, ``wx`` of lowercase ``\\w+`` tokens; ``with`` / ``without`` are the shares of snippets found
/ absent (case-insensitive). ``R<.5`` counts pages missing half their body, ``P<.8`` pages with
boilerplate kept; the reading-order table counts the output lines that are lines of the truth
but out of its order (``order_row``). CPU is this process's time per page; ``x traf`` is documents per CPU-second
against trafilatura defaults. Prints figures; it is not a test.

rs-trafilatura ships a CPython 3.12 wheel only: ``./quickstart bench [args]`` runs this from a venv
of its own on a Python 3.12 when the machine has one (``.venv-bench``), with every peer.

    python bench/extraction.py [--set NAME] [--only NAME] [--worst N] [--metadata]
    python bench/extraction.py --kinds   # precision and recall of the article decision, and the
                                         # share of bench/nonarticles.py's pages rejected
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BENCHMARKS = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"
SETS = {"article-extraction": BENCHMARKS / "article-extraction", "web-articles-dev": BENCHMARKS / "web-articles-dev"}
DEFAULT_DATA = SETS["article-extraction"]
WORD = re.compile(r"\w+")
LOW_RECALL = 0.5
LOW_PRECISION = 0.8


@dataclass
class Page:
    key: str
    url: str
    html: bytes
    truth: str
    title: str | None = None
    author: str | None = None
    date: str | None = None
    must_have: list[str] = field(default_factory=list)
    must_not: list[str] = field(default_factory=list)


@dataclass
class Output:
    """What an extractor made of a page: the body text, and the metadata when it gives any."""

    text: str
    title: str | None = None
    author: str | None = None
    date: str | None = None
    rejected: bool = False  # the extractor judged the page no article (ours: extract.pagekind)


@dataclass
class Score:
    precision: float | None  # None for an empty prediction
    recall: float
    f1: float


def whitespace_tokens(text: str) -> list[str]:
    return text.split()


def word_tokens(text: str) -> list[str]:
    return WORD.findall(text.lower())


def score(pred: Iterable, truth: Iterable) -> Score:
    """Multiset overlap of two token bags."""
    p_bag, t_bag = Counter(pred), Counter(truth)
    n_pred, n_truth = sum(p_bag.values()), sum(t_bag.values())
    if n_pred == 0:
        return Score(None, 0.0, 0.0)
    overlap = sum((p_bag & t_bag).values())
    precision = overlap / n_pred
    recall = overlap / n_truth if n_truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(precision, recall, f1)


def load_pages(data: Path) -> list[Page]:
    """A set's pages, whichever of the two ground-truth layouts it has."""
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key, item in sorted(truth.items()):
        html = gzip.decompress((data / "html" / f"{key}.html.gz").read_bytes())
        body = item.get("articleBody", item.get("main_content")) or ""
        pages.append(Page(key, item["url"], html, body, item.get("title"), item.get("author"),
                          item.get("publish_date"), item.get("with") or [], item.get("without") or []))
    return pages


def _trafilatura(**options) -> Callable[[bytes, str], Output]:
    import trafilatura

    return lambda html, url: Output(trafilatura.extract(html, url=url, **options) or "")


def _readability(html: bytes, url: str) -> Output:
    import lxml.html
    from readability import Document as ReadabilityDocument

    summary = ReadabilityDocument(html, url=url).summary(html_partial=True)
    root = lxml.html.fromstring(summary)
    blocks = root.xpath("//p|//li|//h1|//h2|//h3|//h4|//h5|//h6|//blockquote|//pre|//td")
    return Output("\n".join(b.text_content() for b in blocks) or root.text_content())


def _rs_trafilatura(html: bytes, url: str) -> Output:
    import rs_trafilatura

    result = rs_trafilatura.extract_bytes(html, url=url)
    return Output(result.main_content or "", result.title, result.author, result.date)


def _ours(html: bytes, url: str) -> Output:
    from extract import extract_document

    doc = extract_document(html, url)
    rejected = (doc.error or "").startswith("not an article")
    return Output("\n".join(doc.paragraphs), doc.title, doc.author, doc.date, rejected)


def _has_rs_trafilatura() -> bool:
    try:
        import rs_trafilatura  # noqa: F401
    except ImportError:
        return False
    return True


EXTRACTORS: dict[str, Callable[[bytes, str], Output]] = {
    "ours": _ours,
    "trafilatura defaults": _trafilatura(),
    "trafilatura precision": _trafilatura(favor_precision=True),
    "readability-lxml": _readability,
    "rs-trafilatura": _rs_trafilatura,
}
BASELINE = "trafilatura defaults"


@dataclass
class Run:
    """One extractor on one set: outputs and CPU seconds per page."""

    outputs: list[Output]
    seconds: list[float]


def run_all(extractors: dict[str, Callable[[bytes, str], Output]], pages: list[Page]) -> dict[str, Run]:
    """Every extractor on every page, interleaved page by page: on a shared machine the load then
    falls on all extractors alike, and the CPU ratios compare."""
    for extractor in extractors.values():
        extractor(pages[0].html, pages[0].url)  # warm-up: imports and lazy initialisation are not per-page cost
    runs = {name: Run([], []) for name in extractors}
    for page in pages:
        for name, extractor in extractors.items():
            started = time.process_time()
            runs[name].outputs.append(extractor(page.html, page.url))
            runs[name].seconds.append(time.process_time() - started)
    return runs


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _snippet_share(pages: list[Page], outputs: list[Output], present: bool) -> str:
    hits = [
        (snippet.lower() in out.text.lower()) == present
        for page, out in zip(pages, outputs)
        for snippet in (page.must_have if present else page.must_not)
    ]
    return f"{_mean(hits):.3f}" if hits else "  -  "


HEADER = (
    "| extractor             | ws F1 | wx F1 | ws P  | ws R  | empty | R<.5 | P<.8 | with  | w/out | ms/page | max ms | x traf |\n"
    "|-----------------------|-------|-------|-------|-------|-------|------|------|-------|-------|---------|--------|--------|"
)


def table_row(name: str, pages: list[Page], result: Run, baseline_seconds: float | None) -> str:
    ws = [score(whitespace_tokens(o.text), whitespace_tokens(p.truth)) for o, p in zip(result.outputs, pages)]
    wx = [score(word_tokens(o.text), word_tokens(p.truth)) for o, p in zip(result.outputs, pages)]
    precisions = [s.precision for s in ws if s.precision is not None]
    total = sum(result.seconds)
    relative = f"{baseline_seconds / total:5.2f}x" if baseline_seconds else "   -  "
    return (
        f"| {name:<21} | {_mean([s.f1 for s in ws]):.3f} | {_mean([s.f1 for s in wx]):.3f} "
        f"| {_mean(precisions):.3f} | {_mean([s.recall for s in ws]):.3f} "
        f"| {sum(s.precision is None for s in ws):5d} | {sum(s.recall < LOW_RECALL for s in ws):4d} "
        f"| {sum(s.precision is not None and s.precision < LOW_PRECISION for s in ws):4d} "
        f"| {_snippet_share(pages, result.outputs, True)} | {_snippet_share(pages, result.outputs, False)} "
        f"| {1000 * total / len(pages):7.1f} | {1000 * max(result.seconds):6.0f} | {relative} |"
    )


def halves_rows(names: list[str], pages: list[Page], runs: dict[str, Run]) -> list[str]:
    """Each extractor's mean ws and wx F1 on each host half, to five places: a change must hold on both
    halves (no site in both), or it fitted the sites of one."""
    halves = host_halves(pages)
    rows = ["| extractor             | half | pages | ws F1   | wx F1   |", "|-----------------------|------|-------|---------|---------|"]
    for name in names:
        for half in "AB":
            pairs = [(o, p) for o, p in zip(runs[name].outputs, pages) if halves[p.key] == half]
            ws = _mean([score(whitespace_tokens(o.text), whitespace_tokens(p.truth)).f1 for o, p in pairs])
            wx = _mean([score(word_tokens(o.text), word_tokens(p.truth)).f1 for o, p in pairs])
            rows.append(f"| {name:<21} | {half:<4} | {len(pairs):5d} | {ws:.5f} | {wx:.5f} |")
    return rows


def _in_order(lines: list[int]) -> int:
    """The length of the longest increasing run (not necessarily contiguous) of ``lines``."""
    tails: list[int] = []
    for line in lines:
        at = bisect_left(tails, line)
        tails[at:at + 1] = [line]
    return len(tails)


def order_row(name: str, pages: list[Page], outputs: list[Output]) -> str:
    """Reading order, which the token F1 scores cannot see: each output line that is one of the
    truth's lines (its lowercase ``\\w+`` words) is placed at that line, and the lines outside the
    longest run in the truth's order are out of order (a block moved after the body, a section
    read ahead of its heading's)."""
    pages_out = moved = matched = 0
    for page, out in zip(pages, outputs):
        at: dict[str, list[int]] = {}
        for i, line in enumerate(page.truth.splitlines()):
            at.setdefault(" ".join(word_tokens(line)), []).append(i)
        at.pop("", None)
        placed = [at[key].pop(0) for key in (" ".join(word_tokens(line)) for line in out.text.splitlines()) if at.get(key)]
        misplaced = len(placed) - _in_order(placed)
        pages_out += misplaced > 0
        moved += misplaced
        matched += len(placed)
    return f"| {name:<21} | {pages_out:5d} | {moved:5d} | {matched:7d} |"


def empty_outputs(name: str, pages: list[Page], runs: dict[str, Run]) -> str | None:
    """Where ``name`` gave nothing: how many of those pages it judged no article, and the pages where
    a peer found at least half the body (the issue's "no empty output where a peer finds the body")."""
    outputs = runs[name].outputs
    empty = [i for i, out in enumerate(outputs) if not out.text.split()]
    if not empty:
        return None
    found = {
        pages[i].key: peer
        for i in empty
        for peer, run in runs.items()
        if peer != name and score(whitespace_tokens(run.outputs[i].text), whitespace_tokens(pages[i].truth)).recall >= LOW_RECALL
    }
    rejected = sum(outputs[i].rejected for i in empty)
    where = ", ".join(f"{key} ({peer})" for key, peer in found.items()) or "none"
    return f"{name}: {len(empty)} empty, {rejected} of them judged no article; a peer finds half the body or more on: {where}"


def _normalised(text: str | None) -> str:
    return " ".join((text or "").split())


# Typographic punctuation as web-articles-dev's titles write it: they give "'" where every title
# of the page (its <title>, og:title, JSON-LD and <h1>) writes "’", on a page in thirty
_ASCII_PUNCTUATION = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "…": "...", "？": "?"})


def metadata_row(name: str, pages: list[Page], outputs: list[Output]) -> str:
    """Headline equal to the title (whitespace-normalised; and with typographic quotes, ellipses and
    full-width question marks read as ASCII, in both); date right to the day and author equal
    (case-insensitive), each over the pages whose truth has one."""
    titled = [(p, o) for p, o in zip(pages, outputs) if p.title]
    title = _mean([_normalised(o.title) == _normalised(p.title) for p, o in titled])
    ascii_title = _mean([
        _normalised(o.title).translate(_ASCII_PUNCTUATION) == _normalised(p.title).translate(_ASCII_PUNCTUATION)
        for p, o in titled
    ])
    dated = [(p, o) for p, o in zip(pages, outputs) if p.date]
    right = sum((o.date or "")[:10] == p.date[:10] for p, o in dated)
    authored = [(p, o) for p, o in zip(pages, outputs) if p.author]
    author = _mean([_normalised(o.author).lower() == _normalised(p.author).lower() for p, o in authored])
    date = f"{right / len(dated):.4f} ({right}/{len(dated)})" if dated else "-"
    return f"| {name:<21} | {title:.3f} | {ascii_title:.3f}        | {date:<20} | {author:.3f} ({len(authored)}) |"


def print_worst(name: str, pages: list[Page], result: Run, count: int) -> None:
    scored = [(score(word_tokens(o.text), word_tokens(p.truth)), p) for o, p in zip(result.outputs, pages)]
    for item, page in sorted(scored, key=lambda pair: pair[0].f1)[:count]:
        p = "-" if item.precision is None else f"{item.precision:.3f}"
        print(f"  {name}: {page.key} wxF1={item.f1:.3f} P={p} R={item.recall:.3f} {page.url}")


PAGEKIND_FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "pagekind"


def demo_pages() -> list[tuple[str, bytes, bool]]:
    """(url, html, is article) for every page of the demo sites that the crawler may fetch as HTML:
    articles, home pages, section pages, the about page, the not-found page."""
    import urllib.error
    import urllib.request

    from demo.site import DemoSite

    def fetch(url: str) -> bytes:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the local demo site
                return response.read()
        except urllib.error.HTTPError as exc:  # the not-found page's body is what a soft 404 looks like
            return exc.read()

    pages = []
    with DemoSite() as site:
        for name in site.base_urls:
            pages += [(url, fetch(url), True) for url in site.article_urls(name)]
            home = fetch(site.url(name, "/"))
            sections = sorted(set(re.findall(r'href="(/section/[^"]+)"', home.decode("utf-8", "replace"))))
            pages.append((site.url(name, "/"), home, False))
            pages += [(site.url(name, path), fetch(site.url(name, path)), False) for path in sections]
            pages.append((site.url(name, "/news/no-such-story"), fetch(site.url(name, "/news/no-such-story")), False))
    return pages


def host_halves(pages: list[Page]) -> dict[str, str]:
    """Each page's half of a set split by host (hosts sorted, alternating): no site in both halves."""
    from urllib.parse import urlsplit

    hosts = sorted({urlsplit(p.url).netloc for p in pages})
    half = {host: "AB"[i % 2] for i, host in enumerate(hosts)}
    return {p.key: half[urlsplit(p.url).netloc] for p in pages}


def kinds_report(mistakes_shown: int = 3) -> None:
    """Precision and recall of the article decision: the tuning sets' pages and the demo sites'
    articles are articles; the demo sites' home, section and not-found pages, the non-article
    fixtures (tests/fixtures/pagekind, pages named article_* excepted) and the pages bench/nonarticles.py
    makes from the tuning pages' templates are not. Precision per kind and variant counts the
    set's articles against that kind's pages; the web-articles-dev halves split it by host."""
    from extract.extractor import classify_page
    from bench.nonarticles import KINDS, VARIANTS, make, teasers_of

    tuning = {name: load_pages(data) for name, data in SETS.items()}
    halves = host_halves(tuning["web-articles-dev"])
    labelled: dict[str, list[tuple[str, str, bytes, bool]]] = {}
    for set_name, pages in tuning.items():
        labelled[set_name] = [(p.key, p.url, p.html, True) for p in pages]
    labelled["demo sites"] = [(url, url, html, article) for url, html, article in demo_pages()]
    labelled["fixtures"] = [
        (path.name, f"https://fixture.example/{path.stem}", path.read_bytes(), path.name.startswith("article_"))
        for path in sorted(PAGEKIND_FIXTURES.glob("*.html"))
    ]
    print("\n| pages              | articles | non-articles | precision | recall | non-articles rejected |")
    print("|--------------------|----------|--------------|-----------|--------|----------------------|")
    mistakes = []
    totals = Counter()
    articles = Counter()  # (set or half, judged an article)
    for name, pages in labelled.items():
        counts = Counter()
        for key, url, html, article in pages:
            kind = classify_page(html, url)
            counts[(article, kind.is_article)] += 1
            if name in SETS:
                articles[(name, kind.is_article)] += 1
                if name == "web-articles-dev":
                    articles[(f"half {halves[key]}", kind.is_article)] += 1
            if article != kind.is_article:
                mistakes.append(f"  {name} {key}: {'article' if article else 'non-article'} judged {kind.kind}: {kind.reason}")
        totals.update(counts)
        print(_kinds_row(name, counts))
    print(_kinds_row("all", totals))
    print("\n".join(mistakes))

    groups = [*SETS, "half A", "half B"]
    made = Counter()  # (group, variant, kind, judged an article)
    wrong: dict[tuple[str, str], list[str]] = {}
    pool = teasers_of([p for pages in tuning.values() for p in pages])
    for set_name, pages in tuning.items():
        for page in make(pages, pool):
            kind = classify_page(page.html, page.url)
            for group in (set_name, f"half {halves[page.key]}" if set_name == "web-articles-dev" else None):
                if group:
                    made[(group, page.variant, page.kind, kind.is_article)] += 1
            if kind.is_article:
                wrong.setdefault((page.variant, page.kind), []).append(f"{set_name} {page.key}: {kind.reason}")
    print("\nNon-article pages made from the tuning pages' templates (bench/nonarticles.py): rejected / made, "
          "and the precision of the decision against the set's (or half's) articles")
    print("\n| variant          | kind     | " + " | ".join(f"{g:<22}" for g in groups) + " |")
    print("|------------------|----------|" + "|".join("-" * 24 for _ in groups) + "|")
    for variant in VARIANTS:
        for kind in (*KINDS, "all"):
            cells = []
            for group in groups:
                kinds = KINDS if kind == "all" else (kind,)
                fp = sum(made[(group, variant, k, True)] for k in kinds)
                total = fp + sum(made[(group, variant, k, False)] for k in kinds)
                tp = articles[(group, True)]
                cells.append(f"{total - fp:>5}/{total:<5} P {tp / (tp + fp):.3f}" if total else "-")
            print(f"| {variant:<16} | {kind:<8} | " + " | ".join(f"{c:<22}" for c in cells) + " |")
    print("\n| set / half       | articles | recall |\n|------------------|----------|--------|")
    for group in groups:
        tp, fn = articles[(group, True)], articles[(group, False)]
        print(f"| {group:<16} | {tp + fn:8d} | {tp / (tp + fn):.3f} |")
    for (variant, kind), found in sorted(wrong.items()):
        print(f"\n{variant} / {kind}: {len(found)} judged articles; reasons: "
              + ", ".join(f"{r} ({n})" for r, n in Counter(re.sub(r"\d+", "N", f.split(": ", 1)[1]) for f in found).most_common(4)))
        print("\n".join(f"  {f}" for f in found[:mistakes_shown]))


def _kinds_row(name: str, counts: Counter) -> str:
    tp, fn, fp, tn = counts[(True, True)], counts[(True, False)], counts[(False, True)], counts[(False, False)]
    precision = f"{tp / (tp + fp):.3f}" if tp + fp else "  -  "
    recall = f"{tp / (tp + fn):.3f}" if tp + fn else "  - "
    rejected = f"{tn}/{tn + fp}" if tn + fp else "-"
    return f"| {name:<18} | {tp + fn:8d} | {tn + fp:12d} | {precision:>9} | {recall:>6} | {rejected:>20} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", choices=sorted(SETS), help="only these sets (repeatable)")
    parser.add_argument("--only", action="append", choices=sorted(EXTRACTORS), help="only these extractors")
    parser.add_argument("--worst", type=int, default=0, help="list each extractor's N worst pages by wx F1")
    parser.add_argument("--metadata", action="store_true", help="also score headline, date and author")
    parser.add_argument("--kinds", action="store_true", help="only the article decision's precision and recall")
    args = parser.parse_args(argv)
    if args.kinds:
        kinds_report()
        return 0
    names = [n for n in args.only or EXTRACTORS if n != "rs-trafilatura" or _has_rs_trafilatura()]
    if "rs-trafilatura" in (args.only or EXTRACTORS) and "rs-trafilatura" not in names:
        print("rs-trafilatura is not installed here (its wheel is for CPython 3.12): left out")
    for set_name in args.set or SETS:
        pages = load_pages(SETS[set_name])
        runs = run_all({name: EXTRACTORS[name] for name in names}, pages)
        baseline = sum(runs[BASELINE].seconds) if BASELINE in runs else None
        print(f"\n## {set_name}: {len(pages)} pages\n\n{HEADER}")
        for name in names:
            print(table_row(name, pages, runs[name], baseline))
        print("\nBy host half (hosts sorted, alternating):\n")
        print("\n".join(halves_rows(names, pages, runs)))
        print("\nReading order (output lines that are lines of the truth, out of the truth's order):\n")
        print("| extractor             | pages | lines | matched |\n|-----------------------|-------|-------|---------|")
        print("\n".join(order_row(name, pages, runs[name].outputs) for name in names))
        if "ours" in runs and (line := empty_outputs("ours", pages, runs)):
            print(f"\n{line}")
        if args.metadata and any(p.title for p in pages):
            print("\n| extractor             | title | title, ASCII | date (right/pages)   | author (pages) |")
            print("|-----------------------|-------|--------------|----------------------|----------------|")
            for name in names:
                if any(o.title for o in runs[name].outputs):
                    print(metadata_row(name, pages, runs[name].outputs))
        for name in names if args.worst else ():
            print_worst(name, pages, runs[name], args.worst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
