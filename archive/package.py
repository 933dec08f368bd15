"""``newsarchive package``: the archive as one WACZ file, with each article as a page.

We hand py-wacz our own pages.jsonl (from corpus.jsonl: url, capture time, headline)
because its ``--detect-pages`` only keeps pages that some other page names as Referer,
which finds none in a crawler's WARCs.  Only closed WARCs go in; a crawl still writing
``.open`` files adds nothing half-written.  The package's index leaves 304s out, like the
archive's own (see ``archive/index.py``); the WARCs in it keep them.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import wacz.main
from wacz.waczindexer import WACZIndexer
from warcio.recordloader import ArcWarcRecord

import archive.warcio_brotli  # noqa: F401 - py-wacz reads br records in this venv too
from archive import WARC_DIR
from archive.atomic import atomic_path, held_temporary, remove_stale_temporaries
from archive.index import is_not_modified
from corpus.export import read_corpus

PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "Archived articles"}


class PackageError(Exception):
    """py-wacz refused to write the package; the message carries its output."""


class _ReplayWACZIndexer(WACZIndexer):
    """py-wacz's indexer, less 304s, naming the collection where ReplayWeb.page looks for its name."""

    def filter_record(self, record: ArcWarcRecord) -> bool:
        return super().filter_record(record) and not is_not_modified(record)

    def generate_datapackage(self, res: object, wacz: object) -> str:
        """py-wacz puts the title and description at the top of datapackage.json; ReplayWeb.page reads
        them from ``metadata`` (and shows the file name without a title), so they go there too.  py-wacz
        hashes what this returns for datapackage-digest.json, so the digest stays true."""
        package = json.loads(super().generate_datapackage(res, wacz))
        metadata = {key: package[key] for key in ("title", "description") if key in package}
        if metadata:
            package["metadata"] = metadata
        return json.dumps(package, indent=2)


@contextlib.contextmanager
def _without_304s() -> Iterator[None]:
    """py-wacz builds its indexer inside ``create`` with no way to pass one in, so swap the class it names."""
    wacz.main.WACZIndexer = _ReplayWACZIndexer
    try:
        yield
    finally:
        wacz.main.WACZIndexer = WACZIndexer


def pages_jsonl(archive_dir: Path) -> str:
    """One page per corpus row: its URL, its capture time (WARC-Date) and its headline."""
    lines = [json.dumps(PAGES_HEADER)]
    for row in read_corpus(archive_dir):
        page_id = row["warc_record_id"].strip("<>").removeprefix("urn:uuid:")
        lines.append(json.dumps({"id": page_id, "url": row["url"], "ts": row["fetched_at"],
                                 "title": row["title"] or row["url"]}, ensure_ascii=False))
    return "\n".join(lines) + "\n"


def package(archive_dir: Path, out: Path, title: str | None = None, description: str | None = None) -> Path:
    """Write ``out`` (a .wacz) from every closed WARC of the archive and its corpus.

    py-wacz writes a hidden temporary file beside ``out`` (``.NAME.XXXX.tmp``), renamed over ``out`` when
    complete: an interrupted or killed package leaves the previous ``out`` as it was.  The temporary files a
    killed one left (that and the pages list) are removed by the next package to the same ``out``."""
    archive_dir, out = Path(archive_dir), Path(out)
    warcs = sorted((archive_dir / WARC_DIR).glob("*.warc.gz"))
    if not warcs:
        raise PackageError(f"{archive_dir / WARC_DIR}: no closed WARC files to package")
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)
    # pages.jsonl beside the package too (not in /tmp), so what a killed package leaves is found and removed there
    with held_temporary(out, suffix=".pages.tmp") as (pages, _):
        pages.write_text(pages_jsonl(archive_dir), encoding="utf-8")
        log = io.StringIO()
        with atomic_path(out) as partial, contextlib.redirect_stdout(log), _without_304s():
            status = wacz.main.main(["create", "-o", str(partial), "-p", str(pages),
                                     "--title", title or f"newsarchive: {archive_dir.name}",
                                     *(["--desc", description] if description else []), *map(str, warcs)])
            if status:
                raise PackageError(f"wacz create failed: {log.getvalue().strip()}")
    return out
