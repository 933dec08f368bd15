"""Site-template boilerplate: paragraphs that recur across the pages of one site."""

from __future__ import annotations

from collections.abc import Sequence

from extract.document import Document


def remove_site_boilerplate(docs: Sequence[Document]) -> list[Document]:
    return list(docs)
