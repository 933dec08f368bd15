"""A pool of extraction processes fed while the crawl runs, which then writes the corpus.

Extraction runs in other processes so that crawling and extracting use both cores; the
workers read each record back from the WARC, exactly as a later rebuild does.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from extract.corpus import ExtractedArticle, extract_capture, write_corpus

logger = logging.getLogger(__name__)


class ExtractionService:
    """A pool of extraction processes shared by the crawls of one run."""

    def __init__(self, workers: int):
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"),
                                         initializer=importlib.import_module, initargs=("extract.corpus",))
        # Start the workers now, so that their imports overlap the crawl's start rather than delay
        # the first extraction.
        for _ in range(workers):
            self._pool.submit(int)
        self._jobs: list[tuple[str, Future]] = []

    def submit(self, source: str, warc_path: Path, offset: int) -> None:
        self._jobs.append((f"{warc_path.name}@{offset}", self._pool.submit(extract_capture, source, warc_path, offset)))

    def _extracted(self) -> list[ExtractedArticle]:
        """Wait for every job; log the ones that failed, return the others."""
        articles = []
        for where, future in self._jobs:
            try:
                articles.append(future.result())
            except Exception as exc:
                logger.error("extraction failed for %s: %s", where, exc)
        self._jobs.clear()
        return articles

    def write_corpus(self, archive_dir: Path) -> list[dict]:
        """Wait for the extractions, then write the corpus, its sites redone on the pool's processes."""
        try:
            return write_corpus(archive_dir, self._extracted(), executor=self._pool)
        finally:
            self._pool.shutdown()
