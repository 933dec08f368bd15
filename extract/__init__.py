"""The extraction stage: from a page's HTML to its headline, metadata and body paragraphs.

The extractor's libraries take 0.5 s to load, and trafilatura's stoplists 0.4 s more on first use,
so ``extract_document`` loads them on first use: the processes that only handle documents (the
crawler, the corpus writer) never do. A process that extracts calls ``prepare`` when it starts,
so that no page pays that cost.
"""

from __future__ import annotations

import hashlib
from importlib.metadata import version
from pathlib import Path

from extract.boilerplate import remove_site_boilerplate
from extract.document import Document

__all__ = ["Document", "extract_document", "prepare", "remove_site_boilerplate", "EXTRACTOR"]



def _code_version() -> str:
    """This package's own version: a digest of its modules.  A number bumped by hand was forgotten while
    the output changed; the digest changes with every change to the code, so each article's ``extractor``
    says which code derived it, and ``newsarchive derive`` can say that an older one derived part of a corpus."""
    digest = hashlib.sha256()
    for module in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(module.name.encode() + b"\0" + module.read_bytes())
    return digest.hexdigest()[:12]


EXTRACTOR = (f"newsarchive-extract/{_code_version()} "
             f"(trafilatura {version('trafilatura')}, readability-lxml {version('readability-lxml')})")


def extract_document(html: bytes | str, url: str | None = None, *, content_type: str | None = None) -> Document:
    """Extract a page; never raises: unusable input gives an empty Document whose error says why."""
    from extract.extractor import extract_document as extract

    return extract(html, url, content_type=content_type)


def prepare() -> None:
    """Load the extractor's libraries and pay their first-use costs now (a worker's start)."""
    import extract.extractor  # noqa: F401 - importing it warms the libraries up
