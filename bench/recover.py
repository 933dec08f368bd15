"""How long recovering a dead run's big ``.open`` WARC takes, and how other ways to walk it compare.

Writes one WARC of about ``--size`` bytes with our writer, as a crawl would (the benchmark's
real article pages still gzip-encoded, every fifth capture an incompressible 120 kB image and
every tenth page sent uncompressed; each a response, request and metadata record), leaves it
``.open`` with its last capture torn, then times, each with the file in the page cache and
evicted from it (``posix_fadvise(DONTNEED)``; no root needed):

  scan       ``archive.recover``'s walk of the gzip members (what decides the cut)
  warcio     warcio's ``ArchiveIterator`` over every record, with offsets (the alternative)
  recovery   ``close_abandoned_warcs``: scan, cut, fsync, rename and cdxj index (on a copy)

Prints figures; it is not a test.

    .venv/bin/python bench/recover.py [--size 1000000000] [--data DIR] [--keep DIR]
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import random
import shutil
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from warcio.archiveiterator import ArchiveIterator  # noqa: E402

from archive.archiver import ExchangeArchiver  # noqa: E402
from archive.capture import ROLE_ARTICLE, ROLE_FIELD, SOURCE_FIELD  # noqa: E402
from archive.exchange import Exchange  # noqa: E402
from archive.recover import _scan, close_abandoned_warcs  # noqa: E402
from archive.writer import OPEN_SUFFIX, RollingWarcWriter  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "benchmarks" / "article-extraction"


def write_open_warc(pages: list[bytes], size: int, warc_dir: Path) -> Path:
    """A WARC of about ``size`` bytes left ``.open``, its last capture torn half-way."""
    writer = RollingWarcWriter(warc_dir, "bench-recover", {SOURCE_FIELD: "bench"}, max_size=10 * size)
    archiver = ExchangeArchiver(writer)
    rng = random.Random(1)
    images = [rng.randbytes(120_000) for _ in range(8)]
    plain = [zlib.decompress(page, zlib.MAX_WBITS | 16) for page in pages[:16]]
    n = written = 0
    while written < size:
        if n % 5 == 4:
            body, headers = images[n % len(images)], [(b"Content-Type", b"image/jpeg")]
        elif n % 10 == 3:
            body, headers = plain[n % len(plain)], [(b"Content-Type", b"text/html; charset=utf-8")]
        else:
            body = pages[n % len(pages)]
            headers = [(b"Content-Type", b"text/html; charset=utf-8"), (b"Content-Encoding", b"gzip")]
        archived = archiver.archive(Exchange(
            uri=f"http://news{n % 8}.example/{n}/story", started=datetime.now(timezone.utc), method="GET",
            request_headers=[(b"User-Agent", b"newsarchive-bench")], request_body=b"", status=200,
            response_headers=headers, body=body, metadata={SOURCE_FIELD: "bench", ROLE_FIELD: ROLE_ARTICLE},
            ip_address="127.0.0.1", protocol="HTTP/1.1"))
        written = archived.locations[-1].offset
        n += 1
    path = warc_dir / (writer.files[-1] + OPEN_SUFFIX)
    last_capture = archiver.archive(Exchange(
        uri="http://news0.example/torn", started=datetime.now(timezone.utc), method="GET", request_headers=[],
        request_body=b"", status=200, response_headers=[], body=images[0], metadata={}))
    os.truncate(path, last_capture.locations[0].offset + 60_000)
    return path


def evict(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def timed(run: Callable[[], object], path: Path, cold: bool) -> tuple[float, float, object]:
    if cold:
        evict(path)
    start_cpu, start = time.process_time(), time.perf_counter()
    result = run()
    return time.perf_counter() - start, time.process_time() - start_cpu, result


def scan(path: Path) -> str:
    with open(path, "rb") as handle:
        found = _scan(handle.fileno(), path.stat().st_size)
    return f"{found.records:,} whole records, keep {found.keep:,} bytes"


def warcio_walk(path: Path) -> str:
    with open(path, "rb") as stream:
        records = ArchiveIterator(stream)
        count = sum(1 for _ in ((records.get_record_offset(), record.rec_type) for record in records))
    return f"{count:,} records (the torn one too: warcio reads a truncated member without complaint)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000_000)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--keep", type=Path, help="write the WARC here and keep it (default: a temporary dir)")
    args = parser.parse_args()
    logging.getLogger("newsarchive.recover").setLevel(logging.ERROR)  # the result is printed below
    importlib.import_module("archive.index")  # cdxj-indexer's 0.2 s import, once per run: not timed
    pages = [path.read_bytes() for path in sorted((args.data / "html").glob("*.html.gz"))]
    if not pages:
        sys.exit(f"no .html.gz pages in {args.data / 'html'}")
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="bench-recover-"))
    try:
        started = time.perf_counter()
        warc = write_open_warc(pages, args.size, scratch / "source" / "warc")
        size = warc.stat().st_size
        print(f"{warc.name}: {size:,} bytes, written in {time.perf_counter() - started:.1f} s")
        print(f"{'':10} {'cache':6} {'wall s':>7} {'CPU s':>6} {'MB/s':>6}  result")
        for cold in (False, True):
            for label, run in (("scan", lambda: scan(warc)), ("warcio", lambda: warcio_walk(warc))):
                wall, cpu, result = timed(run, warc, cold)
                cache = "cold" if cold else "warm"
                print(f"{label:10} {cache:6} {wall:7.2f} {cpu:6.2f} {size / wall / 1e6:6.0f}  {result}")
        for cold in (False, True):
            archive = scratch / f"archive-{'cold' if cold else 'warm'}"
            (archive / "warc").mkdir(parents=True)
            copy = archive / "warc" / warc.name
            shutil.copyfile(warc, copy)
            wall, cpu, result = timed(lambda: close_abandoned_warcs(archive), copy, cold)
            print(f"{'recovery':10} {'cold' if cold else 'warm':6} {wall:7.2f} {cpu:6.2f} {size / wall / 1e6:6.0f}  "
                  f"{result[0]}")
            shutil.rmtree(archive)
    finally:
        if args.keep is None:
            shutil.rmtree(scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
