"""Write every tuning page's extraction (text and metadata, as Document.to_dict gives it) as one JSON
line, so that a speed-only change can be shown to leave every output byte-identical: compare the
files of two trees with ``cmp``. Prints the extraction's CPU time; ``--profile FILE`` also writes a
cProfile of it (read with ``python -m pstats FILE``).

    python bench/extraction_outputs.py OUT.jsonl [--profile FILE]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.atomic import atomic_output  # noqa: E402
from bench.extraction import SETS, load_pages  # noqa: E402
from extract import extract_document  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the JSON lines file to write")
    parser.add_argument("--profile", type=Path, help="also write a cProfile of the extraction here")
    args = parser.parse_args(argv)
    pages = [(name, page) for name, data in SETS.items() for page in load_pages(data)]
    extract_document(pages[0][1].html, pages[0][1].url)  # warm-up: imports and first-use costs are no page's
    profile = cProfile.Profile() if args.profile else None
    started = time.process_time()
    if profile:
        profile.enable()
    docs = [(name, page.key, extract_document(page.html, page.url)) for name, page in pages]
    if profile:
        profile.disable()
        profile.dump_stats(args.profile)
    seconds = time.process_time() - started
    lines = (json.dumps({"set": name, "key": key, **doc.to_dict()}, ensure_ascii=False, sort_keys=True) for name, key, doc in docs)
    with atomic_output(args.out, durable=False) as out:
        out.write("".join(f"{line}\n" for line in lines).encode("utf-8"))
    print(f"{len(docs)} pages, {seconds:.2f} s CPU ({1000 * seconds / len(docs):.2f} ms a page)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
