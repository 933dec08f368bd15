"""Rewrites of the page tree that fix failure modes of the stock extractors before they run."""

from __future__ import annotations

from lxml.etree import Comment, ProcessingInstruction, strip_tags
from lxml.html import HtmlElement

_CLIMB = 3  # how far above a paragraph container a split wrapper may sit


def _has_paragraphs(element: HtmlElement) -> bool:
    return any(len((p.text_content() or "").strip()) > 40 for p in element.iterdescendants("p"))


def _absorb(target: HtmlElement, source: HtmlElement) -> None:
    """Move source's children into target, descending into children both share (same tag and
    class) so that the paragraph containers themselves end up as one."""
    if source.text and source.text.strip():
        last = target[-1] if len(target) else None
        if last is None:
            target.text = (target.text or "") + source.text
        else:
            last.tail = (last.tail or "") + source.text
    for child in list(source):
        css = child.get("class") if isinstance(child.tag, str) else None
        twin = next((c for c in target if css and c.tag == child.tag and c.get("class") == css), None)
        if twin is not None and _has_paragraphs(child):
            _absorb(twin, child)
        else:
            target.append(child)


def merge_split_bodies(tree: HtmlElement) -> None:
    """Join article bodies split over sibling containers of the same tag and class.

    Templates that interleave ads or widgets cut the body into siblings such as two
    ``div.article__body``; trafilatura keeps the first one only (notes, failure 2). Moving the
    later siblings' content into the first makes one container, whatever extractor runs next.
    """
    containers = {p.getparent() for p in tree.iter("p") if p.getparent() is not None}
    done: set[HtmlElement] = set()
    for container in sorted(containers, key=lambda e: e.sourceline or 0):
        node = container
        for _ in range(_CLIMB):
            if node is None or node in done or node.getparent() is None:
                break
            css = node.get("class")
            if css:
                twins = [s for s in node.itersiblings() if s.tag == node.tag and s.get("class") == css]
                twins = [s for s in twins if _has_paragraphs(s)]
                if twins:
                    for twin in twins:
                        _absorb(node, twin)
                        twin.getparent().remove(twin)
                        done.add(twin)
                    done.add(node)
                    break
            node = node.getparent()


def strip_comments(tree: HtmlElement) -> None:
    """Remove HTML comments but keep the text after them: trafilatura drops the rest of a
    paragraph at an inline comment (React pages write ``When <!-- -->President``)."""
    strip_tags(tree, Comment, ProcessingInstruction)
