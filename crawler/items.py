"""What the spider hands to the item pipeline: where an article's response was archived."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass


@dataclass(frozen=True)
class ArchivedArticle:
    source: str
    url: str
    location: Future  # of the capture's [RecordLocation, ...], resolved by the WARC writer thread
