"""``newsarchive rebuild``: the corpus (``text/`` and ``corpus.jsonl``) from WARC files alone.

A rebuild is a derivation into an empty store: the live run's code, over the given WARCs,
so a rebuild over the WARCs of a live archive reproduces its text files and corpus.jsonl
byte for byte.  ``manifest.json`` records what the output was made from and with.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from archive.atomic import write_atomic
from corpus.derive import derive_files
from corpus.export import CORPUS_FILE
from corpus.store import TEXT_DIR
from extract import EXTRACTOR

logger = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"
# The packages whose versions decide the bytes of the output.
DEPENDENCIES = ("trafilatura", "readability-lxml", "lxml", "justext", "htmldate", "courlan", "charset-normalizer",
                "warcio", "brotli")


class RebuildError(Exception):
    """The output directory already holds a corpus, or a WARC cannot be read."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in DEPENDENCIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def write_manifest(out: Path, warcs: list[Path]) -> Path:
    """``manifest.json``: sha256 of every text file and WARC, and the software versions."""
    texts = sorted((out / TEXT_DIR).rglob("*.txt"))
    manifest = {
        "extractor": EXTRACTOR,
        "versions": _versions(),
        "warcs": [{"file": warc.name, "sha256": _sha256(warc)} for warc in warcs],
        "corpus": {"file": CORPUS_FILE, "sha256": _sha256(out / CORPUS_FILE)},
        "texts": {path.relative_to(out).as_posix(): _sha256(path) for path in texts},
    }
    path = out / MANIFEST_FILE
    write_atomic(path, (json.dumps(manifest, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
    return path


def rebuild(warcs: list[Path], out: Path, workers: int = 1) -> int:
    """Derive every article of ``warcs`` with ``workers`` processes into ``out``; the number of corpus rows."""
    out = Path(out)
    if (out / CORPUS_FILE).exists() or (out / TEXT_DIR).exists():
        raise RebuildError(f"{out}: already holds a corpus; rebuild into a new directory")
    warcs = sorted({Path(warc).resolve() for warc in warcs}, key=lambda warc: warc.name)
    missing = [str(warc) for warc in warcs if not warc.is_file()]
    if missing:
        raise RebuildError(f"no such WARC file: {', '.join(missing)}")
    names = [warc.name for warc in warcs]
    if len(set(names)) != len(names):
        raise RebuildError("two WARC files share a name; corpus rows name their WARC by file name")
    report = derive_files(out, warcs, workers)
    write_manifest(out, warcs)
    return sum(report.new_rows.values())
