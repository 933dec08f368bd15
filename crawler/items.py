"""What the spider hands to the item pipeline: an article page and where it was archived."""

from __future__ import annotations

from dataclasses import dataclass

from twisted.internet.defer import Deferred


@dataclass(frozen=True)
class ArchivedArticle:
    source: str
    url: str
    archived: Deferred  # of its archive.archiver.Archived, None when not archived as a full response
