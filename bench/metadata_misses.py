"""List where our metadata misses web-articles-dev's reference, with what each page offers: for a
date miss every candidate date (JSON-LD, meta tags, the URL, <time> elements, written dates with their
context), for an author miss the declared names and the marked ones. For miss analysis; not a test.

    python bench/metadata_misses.py [--date] [--author] [KEY ...]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.extraction import SETS, _normalised, load_pages  # noqa: E402
from extract import extract_document  # noqa: E402
from extract import metadata as M  # noqa: E402
from extract.htmlinput import load_tree  # noqa: E402

DATE_KEY = re.compile(r"date|time|pub|modif|updat")
AUTHOR_KEY = re.compile(r"author|creator|byl")
SHOWN = 6  # written dates listed a page


def date_candidates(tree, url: str) -> list[str]:
    objects = M._json_ld_objects(tree)
    lines = [f"ld {o.get('@type')} {k}={o[k]}" for o in objects
             for k in ("datePublished", "dateModified", "dateCreated") if k in o]
    lines += [f"meta {k}={v[:60]}" for k, v in M._meta(tree).items() if DATE_KEY.search(k)]
    lines.append(f"url {M._url_date(url)}")
    lines += [f"<time datetime={t.get('datetime')}> {' '.join(t.text_content().split())[:60]}" for t in tree.iter("time")]
    text = M._visible_text(tree)
    for match in list(M._SHOWN_DATE.finditer(text))[:SHOWN]:
        found = M._shown_date(match.group(0).replace(M._PIECE, " "), False)
        if found:
            lines.append(f"shown {found}: ...{' '.join(text[max(0, match.start() - 60):match.end() + 20].split())}")
    return lines


def author_candidates(tree) -> list[str]:
    article = M._article_object(M._json_ld_objects(tree))
    lines = [f"ld author {M._names(article.get('author'))}"]
    lines += [f"meta {k}={v[:60]}" for k, v in M._meta(tree).items() if AUTHOR_KEY.search(k)]
    lines += [f"marked {' '.join(a.text_content().split())[:60]}" for a in M._SHOWN_AUTHORS(tree)[:4]]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--date", action="store_true", help="only date misses")
    parser.add_argument("--author", action="store_true", help="only author misses")
    parser.add_argument("keys", nargs="*", help="only these pages")
    args = parser.parse_args()
    both = not (args.date or args.author)
    for page in load_pages(SETS["web-articles-dev"]):
        if args.keys and page.key not in args.keys:
            continue
        doc = extract_document(page.html, page.url)
        tree = load_tree(page.html)
        if (both or args.date) and page.date and (doc.date or "")[:10] != page.date[:10]:
            print(f"\n{page.key} DATE ours {doc.date} reference {page.date} {page.url}")
            print("\n".join(f"  {line}" for line in date_candidates(tree, page.url)))
        if (both or args.author) and page.author and _normalised(doc.author).lower() != _normalised(page.author).lower():
            print(f"\n{page.key} AUTHOR ours {doc.author!r} reference {page.author!r} {page.url}")
            print("\n".join(f"  {line}" for line in author_candidates(tree)))


if __name__ == "__main__":
    main()
