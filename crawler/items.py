"""What the spider hands to the item pipeline: where an article's response was archived."""

from __future__ import annotations

from dataclasses import dataclass

from archive.writer import RecordLocation


@dataclass(frozen=True)
class ArchivedArticle:
    source: str
    url: str
    location: RecordLocation
