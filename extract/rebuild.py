"""``newsarchive rebuild``: the corpus (``text/`` and ``corpus.jsonl``) from WARC files alone.

It runs the live run's code: ``iter_article_captures`` picks the article records from
the metadata records, ``extract_capture`` extracts each, ``write_corpus`` writes the
result, so a rebuild over the WARCs of a live archive reproduces its text files and
corpus.jsonl byte for byte.  N processes first list each WARC's articles, then extract
them in small batches (so that no process is left with a long task at the end), then
redo the corpus site by site; only near-duplicate marking and corpus.jsonl are left to
the main process.  ``manifest.json`` records what the output was made from and with.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import platform
from concurrent.futures import ProcessPoolExecutor
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from archive.atomic import write_atomic
from archive.reader import ArticleCapture, RecordError, iter_article_captures
from extract import EXTRACTOR
from extract.corpus import CORPUS_FILE, TEXT_DIR, ExtractedArticle, extract_capture, write_corpus

logger = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"
# Captures per extraction task: a few tenths of a second of work, so the processes finish
# together, and each task's result is small to send back.
BATCH = 16
# The packages whose versions decide the bytes of the output.
DEPENDENCIES = ("trafilatura", "readability-lxml", "lxml", "justext", "htmldate", "courlan", "charset-normalizer",
                "warcio", "brotli")


class RebuildError(Exception):
    """The output directory already holds a corpus, or a WARC cannot be read."""


def article_captures(warc_path: Path) -> list[ArticleCapture]:
    """The article captures of one WARC, as its metadata records name them."""
    return list(iter_article_captures(Path(warc_path)))


def extract_captures(captures: list[ArticleCapture]) -> tuple[list[ExtractedArticle], list[str]]:
    """The articles of ``captures``, and a message for each capture that could not be extracted."""
    articles, failures = [], []
    for capture in captures:
        try:
            articles.append(extract_capture(capture.source, capture.warc_path, capture.offset))
        except RecordError as exc:
            failures.append(str(exc))
    return articles, failures


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


def rebuild(warcs: list[Path], out: Path, workers: int = 1) -> list[dict]:
    """Extract every article of ``warcs`` with ``workers`` processes into ``out``; return the rows."""
    out = Path(out)
    if (out / CORPUS_FILE).exists() or (out / TEXT_DIR).exists():
        raise RebuildError(f"{out}: already holds a corpus; rebuild into a new directory")
    warcs = sorted({Path(warc).resolve() for warc in warcs}, key=lambda warc: warc.name)
    missing = [str(warc) for warc in warcs if not warc.is_file()]
    if missing:
        raise RebuildError(f"no such WARC file: {', '.join(missing)}")
    articles: list[ExtractedArticle] = []
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        captures = [capture for found in pool.map(article_captures, warcs) for capture in found]
        batches = [captures[start:start + BATCH] for start in range(0, len(captures), BATCH)]
        for found, failures in pool.map(extract_captures, batches):
            articles.extend(found)
            for failure in failures:
                logger.error("%s", failure)
        rows = write_corpus(out, articles, executor=pool)
    write_manifest(out, warcs)
    return rows
