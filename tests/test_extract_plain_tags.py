"""Pages without HTML5 sectioning (older CMSs, table layouts, small sites): no <nav>, <header>,
<footer> or <article> says where the furniture and the story are, so the body and the article
decision must stand on structure (where blocks sit from the headline, how much of them is links)."""

from __future__ import annotations

from pathlib import Path

from extract import extract_document

FIXTURES = Path(__file__).parent / "fixtures" / "plain"


def _extract(name: str):
    return extract_document((FIXTURES / name).read_bytes(), f"https://millbrook.example/news/{Path(name).stem}")


def test_a_short_article_between_undeclared_menus_is_an_article() -> None:
    """A short story whose page header and footer are plain blocks of many short links (a menu of
    160 three-word links, no <nav> or <footer>) is an article: those links are the page's menus,
    not teaser cards crowding out its prose."""
    doc = _extract("article_with_undeclared_menus.html")
    assert doc.error is None
    assert len(doc.paragraphs) == 3
    assert doc.paragraphs[0].startswith("The bakery on Mill Lane opened its doors again")
