"""Ours and trafilatura defaults on the tuning pages as they are and with every class and id name made opaque.

Many open-web sites name nothing: CSS-module hashes (``_3xK9a``) or utility classes say neither "comment"
nor "article". Our furniture rules, the body's choice and the article decision must then stand on
structure (the headline's place, density, repetition, tag roles, aria/role/itemprop, which stay), not
on names alone. This replaces each class and id value token by an opaque token made from its md5 (the
same name gives the same token, so repetition survives; the page's references to its ids, in fragment
links, labels, aria attributes and scripts' quoted strings, follow them) and prints, per set and host half, wx and ws
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
# where a page refers to an element by its id: a link to a place on the page, a label, aria's
# references, and a script's quoted string (a streamed page's script moves pieces into place by id)
FRAGMENT_LINK = re.compile(rb"""(\bhref\s*=\s*["'])#([^"']+)""", re.IGNORECASE)
ID_REFS = re.compile(rb"""\b(for|aria-controls|aria-labelledby|aria-describedby|aria-owns)\s*=\s*("[^"]*"|'[^']*')""", re.IGNORECASE)
SCRIPT = re.compile(rb"(<script\b[^>]*>)(.*?)(</script>)", re.IGNORECASE | re.DOTALL)
QUOTED = re.compile(rb"""(["'])([^"'\s]{1,200})\1""")
PEERS = ("ours", "trafilatura defaults")


def _token(value: bytes) -> bytes:
    return b"c" + hashlib.md5(value).hexdigest()[:6].encode()


def opaque(html: bytes) -> bytes:
    """Every class and id value token made opaque; the page's references to its ids follow them, so
    that what finds an element by id (a fragment link, a label, aria-controls, a script) still does:
    a site with hashed names refers to them consistently."""
    ids = {m.group(2)[1:-1].strip() for m in NAMES.finditer(html) if m.group(1).lower() == b"id"}

    def names(match: re.Match) -> bytes:
        return match.group(1) + b'="' + b" ".join(map(_token, match.group(2)[1:-1].split())) + b'"'

    def refs(match: re.Match) -> bytes:
        values = match.group(2)[1:-1].split()
        return match.group(1) + b'="' + b" ".join(_token(v) if v in ids else v for v in values) + b'"'

    def fragment(match: re.Match) -> bytes:
        value = match.group(2)
        return match.group(1) + b"#" + (_token(value) if value in ids else value)

    def script(match: re.Match) -> bytes:
        def quoted(q: re.Match) -> bytes:
            return q.group(1) + _token(q.group(2)) + q.group(1) if q.group(2) in ids else q.group(0)

        return match.group(1) + QUOTED.sub(quoted, match.group(2)) + match.group(3)

    html = NAMES.sub(names, html)
    html = ID_REFS.sub(refs, html)
    html = FRAGMENT_LINK.sub(fragment, html)
    return SCRIPT.sub(script, html)


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
