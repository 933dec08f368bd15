"""The extraction result: metadata plus body paragraphs, and the seed-format text derived from them."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Document:
    url: str | None
    canonical_url: str | None
    title: str | None
    author: str | None
    date: str | None
    sitename: str | None
    language: str | None
    paragraphs: tuple[str, ...]
    error: str | None = None

    @property
    def is_empty(self) -> bool:
        return not self.paragraphs

    def text(self) -> str:
        """Seed format: headline, blank line, paragraphs separated by blank lines, final newline."""
        if self.is_empty:
            return ""
        blocks = ([self.title] if self.title else []) + list(self.paragraphs)
        return "\n\n".join(blocks) + "\n"

    def to_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict, which deep-copies every paragraph string: 8x slower, and a
        # run saves every document of a site.
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["paragraphs"] = list(self.paragraphs)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        values = {f.name: data.get(f.name) for f in fields(cls)}
        values["paragraphs"] = tuple(values["paragraphs"] or ())
        return cls(**values)

    @classmethod
    def empty(cls, url: str | None, error: str) -> Document:
        return cls(url, None, None, None, None, None, None, (), error)
