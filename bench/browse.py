"""What a page of ``newsarchive browse`` costs in corpora of 1x, 10x, 100x rows, before and after.

One corpus grows through the store's own API (``CorpusStore.add``, as a derivation adds a batch):
articles of three sources, one in seven in German, all with the word "council", 40 a day, each
captured on the day it is published: a larger corpus is an older one, as an archive grows (so the
source page's plot of articles per day has a point more for each day).  At each size, each page
is asked of two servers over the same store: the browser of ``--before`` (a git ref, unpacked into
a scratch directory) and this checkout's; per request, the server process's CPU and bytes read
(``rchar``: SQLite's reads, cached or not).

    .venv/bin/python bench/browse.py [--sizes 200,2000,20000] [--before bc4ec36] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # before bench/: ``browse`` is the package, not this file

from corpus.store import CorpusStore, ExtractedArticle  # noqa: E402
from extract.document import Document  # noqa: E402

SOURCES = ("gazette", "courier", "herald")
PER_DAY = 40
BATCH = 500
REQUESTS = 20  # per page, after one warm-up request
FIRST_CAPTURE = datetime(2026, 1, 1, tzinfo=timezone.utc)
PAGES = {"home": "/", "search council (all)": "/?q=council", "search rare word": "/?q=w17",
         "listing by source": "/?source=gazette", "listing by language": "/?language=de",
         "listing by its first 3 days": "/?date_from=2026-01-01&date_to=2026-01-03", "source page": "/source/gazette",
         "article": "/article/00000007-0000-4000-8000-000000000000"}


RARE_AUTHORS_ARTICLES = (5, 7)  # the two articles of a rare author, whatever the corpus's size


def generated_article(number: int, rng: random.Random) -> ExtractedArticle:
    """Article ``number``: its own random words (a vocabulary of 5,000, "w0" to "w4999") after "Council"."""
    source = SOURCES[number % len(SOURCES)]
    url = f"http://{source}.example/news/{number}"
    paragraphs = tuple("Council " + " ".join(f"w{rng.randrange(5000)}" for _ in range(30)) + "." for _ in range(3))
    captured = FIRST_CAPTURE + timedelta(days=1) * number / PER_DAY
    author = "Jo Rarely" if number in RARE_AUTHORS_ARTICLES else "A. Writer"
    document = Document(url, url, f"Story {number} w{rng.randrange(5000)}", author,
                        captured.date().isoformat(), source, "de" if number % 7 == 0 else "en", paragraphs)
    return ExtractedArticle.prepared(source, url, captured.strftime("%Y-%m-%dT%H:%M:%SZ"), f"{source}.warc.gz", number,
                                     f"<urn:uuid:{number:08d}-0000-4000-8000-000000000000>", f"sha1:{number}",
                                     document=document, extractor="bench")


def english_article(number: int, rng: random.Random) -> ExtractedArticle:
    """Article ``number`` with "the" before each word of its text, as often as English prose has it (90 a text)."""
    article = generated_article(number, rng)
    paragraphs = tuple(" ".join(f"the {word}" for word in paragraph.split()) for paragraph in article.document.paragraphs)
    return ExtractedArticle.prepared(article.source, article.url, article.fetched_at, article.warc_file,
                                     article.warc_offset, article.warc_record_id, article.payload_digest,
                                     document=replace(article.document, paragraphs=paragraphs), extractor="bench")


def grow_corpus(root: Path, size: int,
                made: Callable[[int, random.Random], ExtractedArticle] = generated_article) -> None:
    """Add articles to the corpus under ``root`` until it holds ``size`` (articles 0 to size - 1, each ``made``)."""
    with CorpusStore(root) as store:
        start = store.row_count()
        rng = random.Random(start)
        for first in range(start, size, BATCH):
            store.add([made(number, rng) for number in range(first, min(first + BATCH, size))])


def _cpu_and_read(pid: int) -> tuple[float, int]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    rchar = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/io").read_text().splitlines()
                 if line.startswith("rchar:"))
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), rchar


@contextmanager
def browser(code: Path, archive: Path, port: int) -> Iterator[subprocess.Popen]:
    """The browse app of the package ``code/browse`` served over ``archive`` on 127.0.0.1:``port``."""
    program = ("import sys; from pathlib import Path; sys.path[:0] = sys.argv[1:3]; import uvicorn;"
               " from browse.app import create_app;"
               " uvicorn.run(create_app(Path(sys.argv[3]), None), host='127.0.0.1', port=int(sys.argv[4]),"
               " log_level='warning')")
    server = subprocess.Popen([sys.executable, "-c", program, str(code), str(ROOT), str(archive), str(port)],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/runs", timeout=60).read()
                break
            except OSError:
                time.sleep(0.1)
        yield server
    finally:
        server.terminate()
        server.wait(30)


def page_costs(code: Path, archive: Path, pages: dict[str, str] = PAGES) -> dict[str, tuple[float, int]]:
    """Per page (name: path): the server's CPU ms and bytes read per request."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    costs = {}
    with browser(code, archive, port) as server:
        for name, path in pages.items():
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=600).read()
            cpu, read = _cpu_and_read(server.pid)
            for _ in range(REQUESTS):
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=600).read()
            cpu_after, read_after = _cpu_and_read(server.pid)
            costs[name] = ((cpu_after - cpu) * 1000 / REQUESTS, (read_after - read) // REQUESTS)
    return costs


def unpacked_browser(ref: str, into: Path) -> Path:
    """The ``browse`` package of git ref ``ref``, unpacked under ``into``."""
    packed = subprocess.run(["git", "archive", ref, "browse"], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(packed)) as archive:
        archive.extractall(into, filter="data")
    return into


def compare(description: str, pages: dict[str, str], sizes: str, before: str,
            made: Callable[[int, random.Random], ExtractedArticle] = generated_article) -> int:
    """The command line of a bench: per corpus size, each page's cost with the browser of ``--before`` and with
    this one, side by side."""
    parser = argparse.ArgumentParser(description=description.split("\n\n")[0])
    parser.add_argument("--sizes", default=sizes)
    parser.add_argument("--before", default=before, help="git ref of the browser to compare with")
    parser.add_argument("--keep", type=Path, help="build the corpus here and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="newsarchive-browse-"))
    archive = work / "archive"
    old_browser = unpacked_browser(args.before, work / "before")
    print(f"per request: server CPU ms / KiB read, the browser of {args.before} -> this one")
    for size in map(int, args.sizes.split(",")):
        started = time.monotonic()
        grow_corpus(archive, size, made)
        print(f"\ncorpus of {size:,} rows (grown in {time.monotonic() - started:.0f} s)", flush=True)
        old, new = page_costs(old_browser, archive, pages), page_costs(ROOT, archive, pages)
        for name in pages:
            (old_cpu, old_read), (new_cpu, new_read) = old[name], new[name]
            print(f"  {name:<28} {old_cpu:7.1f} ms {old_read / 2**10:9,.0f} KiB  ->  "
                  f"{new_cpu:7.1f} ms {new_read / 2**10:9,.0f} KiB", flush=True)
    if not args.keep:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(compare(__doc__, PAGES, "200,2000,20000", "bc4ec36"))
