"""Preloaded into a Dask worker by a test (``dask worker --preload``): the extractor caught in a
loop on the page at ``$NEWSARCHIVE_HANG_ON``, as a parser caught in a loop on one page would be."""

import os
import time

import corpus.derive

_extract = getattr(corpus.derive.extract_document, "unpatched", corpus.derive.extract_document)  # loaded twice


def _caught_in_a_loop_on_one_page(body: bytes, url: str, **options):
    while url == os.environ.get("NEWSARCHIVE_HANG_ON"):
        time.sleep(1)
    return _extract(body, url, **options)


_caught_in_a_loop_on_one_page.unpatched = _extract
corpus.derive.extract_document = _caught_in_a_loop_on_one_page
