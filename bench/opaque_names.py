"""Ours and trafilatura defaults on the tuning pages as they are and with every class and id name made opaque.

Many open-web sites name nothing: CSS-module hashes (``_3xK9a``) or utility classes say neither "comment"
nor "article". Our furniture rules, the body's choice and the article decision must then stand on
structure (the headline's place, density, repetition, tag roles, aria/role/itemprop, which stay), not
on names alone. This replaces each class and id value token by an opaque token made from its md5 (the
same name gives the same token, so repetition survives) and prints, per set and host half, wx and ws
F1, empty outputs and pages judged no article, original and opaque side by side. It is a
diagnostic, not a test; keep the ORIGINAL figures from ``bench/extraction.py`` as the gate.

    python bench/opaque_names.py [--set NAME] [--worst N]
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from extraction import EXTRACTORS, SETS, host_halves, load_pages, score, whitespace_tokens, word_tokens  # noqa: E402

NAMES = re.compile(rb"""\b(class|id)\s*=\s*("[^"]*"|'[^']*')""", re.IGNORECASE)
PEERS = ("ours", "trafilatura defaults")


def opaque(html: bytes) -> bytes:
    def token(match: re.Match) -> bytes:
        values = match.group(2)[1:-1].split()
        return match.group(1) + b'="' + b" ".join(b"c" + hashlib.md5(v).hexdigest()[:6].encode() for v in values) + b'"'

    return NAMES.sub(token, html)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", choices=sorted(SETS))
    parser.add_argument("--worst", type=int, default=0, help="list ours' N largest losses from original to opaque")
    args = parser.parse_args(argv)
    print("| set                | half | extractor            | names  | ws F1  | wx F1  | empty | no article |")
    print("|--------------------|------|----------------------|--------|--------|--------|-------|------------|")
    for set_name in args.set or SETS:
        pages = load_pages(SETS[set_name])
        halves = host_halves(pages)
        rows = {}  # (extractor, names) -> [(key, ws, wx, empty, rejected)]
        for page in pages:
            for names, html in (("orig", page.html), ("opaque", opaque(page.html))):
                for name in PEERS:
                    out = EXTRACTORS[name](html, page.url)
                    rows.setdefault((name, names), []).append((
                        page.key, score(whitespace_tokens(out.text), whitespace_tokens(page.truth)).f1,
                        score(word_tokens(out.text), word_tokens(page.truth)).f1, not out.text.split(), out.rejected))
        groups = ("all", "A", "B") if set_name == "web-articles-dev" else ("all",)
        for group in groups:
            for (name, names), values in rows.items():
                part = [v for v in values if group == "all" or halves[v[0]] == group]
                n = len(part)
                print(f"| {set_name:<18} | {group:<4} | {name:<20} | {names:<6} | {sum(v[1] for v in part) / n:.4f} "
                      f"| {sum(v[2] for v in part) / n:.4f} | {sum(v[3] for v in part):5d} | {sum(v[4] for v in part):10d} |")
        if args.worst:
            loss = sorted(zip(rows[("ours", "orig")], rows[("ours", "opaque")]), key=lambda pair: pair[1][2] - pair[0][2])
            for before, after in loss[: args.worst]:
                print(f"  {set_name} {before[0]}: wx {before[2]:.3f} -> {after[2]:.3f}{' (no article)' if after[4] else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
