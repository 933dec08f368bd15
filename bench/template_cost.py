"""What deciding a site's template costs a run as the site grows: the same 5 new articles on sites of 300 to 30,000.

A site of generated articles, one captured every few hours over five years, each ending in a
banner it always carries (template text) and every tenth one in a line of its own no span makes
template ("Photo: agency", short, on 10 % of them): the line is searched again for a span of its
own by every run that adds it (``corpus.store._Batch._own_span``). The store is grown through its
own API; then a run's batch of 5 articles is added to a copy of
it (the first of them ends in the line) and its SQLite work counted (the progress handler's ticks, of 100 virtual-machine instructions)
with the bytes the process read. The texts must hold the line and not the banner.

    .venv/bin/python bench/template_cost.py [--sizes 300,3000,30000]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import threading
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from corpus.store import CorpusStore, ExtractedArticle  # noqa: E402
from extract.document import Document  # noqa: E402

BANNER = "Support our newsroom with a subscription today."
LINE = "Photo: regional picture agency."
RUN = 5


def article(number: int, size: int) -> ExtractedArticle:
    """Article ``number`` of a site of ``size`` over five years (the run's are captured after them)."""
    rng = random.Random(number)
    url = f"http://gazette.example/news/{number}"
    own = tuple(" ".join(f"w{rng.randrange(10**6)}" for _ in range(30)) + "." for _ in range(3))
    ending = (LINE, BANNER) if number % 10 == 0 else (BANNER,)
    at = datetime(2021, 1, 1) + number * timedelta(days=5 * 365) / size
    document = Document(url, url, f"Story {number}", None, None, "gazette", "en", own + ending)
    return ExtractedArticle.prepared("gazette", url, f"{at:%Y-%m-%dT%H:%M:%SZ}", "gazette.warc.gz", number,
                                     f"<urn:uuid:{number}>", f"sha1:{number}", document=document, extractor="bench")


def bytes_read() -> int:
    with open(f"/proc/self/task/{threading.get_native_id()}/io", encoding="ascii") as io:
        return next(int(line.split()[1]) for line in io if line.startswith("rchar:"))


def measure(work: Path, size: int) -> tuple[int, int, int, int]:
    """Ticks and bytes read by the run's batch at ``size`` articles; the texts holding the line and the banner."""
    root = work / str(size)
    with CorpusStore(root) as store:
        for start in range(0, size, 500):
            store.add([article(number, size) for number in range(start, min(start + 500, size))])
    copy = work / f"{size}-run"
    shutil.copytree(root, copy)
    ticks = []
    with CorpusStore(copy) as store:
        store._db.set_progress_handler(lambda: ticks.append(1), 100)  # None: go on
        started = bytes_read()
        store.add([article(number, size) for number in range(size, size + RUN)])
        read = bytes_read() - started
        store._db.set_progress_handler(None, 100)
        texts = [(copy / row["text_path"]).read_text(encoding="utf-8") for row in store.rows()]
    shutil.rmtree(root)
    shutil.rmtree(copy)
    return len(ticks), read, sum(LINE in text for text in texts), sum(BANNER in text for text in texts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="300,3000,30000", help="articles on the site before the run")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="newsarchive-template-cost-"))
    try:
        print(f"{'articles':>8}  {'ticks':>6}  {'KiB read':>8}  texts with the line / the banner")
        for size in map(int, args.sizes.split(",")):
            ticks, read, line, banner = measure(work, size)
            print(f"{size:>8,}  {ticks:>6,}  {read / 1024:>8,.0f}  {line:,} / {banner:,}", flush=True)
    finally:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
