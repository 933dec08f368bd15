"""Counts said to a person, in the same words by every command and report: kept light (``status`` imports it, and
not the derivation)."""

from __future__ import annotations


def counted(count: int, noun: str) -> str:
    """``count`` and ``noun``, plural unless it is one: every count said to a person reads "1 article"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def new_texts(articles: int, versions: int, new: str = "new ") -> str:
    """Articles (URLs new to the corpus) and new versions of articles it held, apart: a corrected story is a new
    version, not a new article ("2 new articles", "1 new article, 1 new version"; ``new`` "" for "2 articles")."""
    return counted(articles, f"{new}article") + (f", {counted(versions, 'new version')}" if versions else "")


def articles_held(articles: int, rows: int) -> str:
    """A corpus's articles (URLs) and, where some have more than one, its versions (rows): "16 articles (17
    versions)"."""
    return counted(articles, "article") + (f" ({counted(rows, 'version')})" if rows != articles else "")
